//! The page templates, compiled into the binary.

use minijinja::{AutoEscape, Environment, UndefinedBehavior};

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../templates/base.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("message.html", include_str!("../templates/message.html")),
    ("queue.html", include_str!("../templates/queue.html")),
    (
        "responses.html",
        include_str!("../templates/responses.html"),
    ),
    ("response.html", include_str!("../templates/response.html")),
    ("accuracy.html", include_str!("../templates/accuracy.html")),
    ("users.html", include_str!("../templates/users.html")),
];

/// The template environment: HTML auto-escaping, lenient about missing keys.
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Chainable);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not compile: {e:#}"));
    }
    env.add_filter("pct", |x: f64| format!("{x:.1}"));
    // HTML escaping as usual, except that `/` stays `/` (URLs and file names stay readable in
    // the page source; `/` is harmless in text and in quoted attributes).
    env.set_formatter(
        |out, state, value| match (state.auto_escape(), value.as_str()) {
            (AutoEscape::Html, Some(s)) if !value.is_safe() => {
                out.write_str(&crate::web::escape(s))?;
                Ok(())
            }
            _ => minijinja::escape_formatter(out, state, value),
        },
    );
    env
}

#[cfg(test)]
mod tests {
    #[test]
    fn templates_compile() {
        super::environment();
    }
}
