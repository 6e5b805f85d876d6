//! HTML rendering with minijinja.
//!
//! The default templates live in `templates/` at the repository root and are compiled into the
//! binary, so a handout can be made on a machine without the repository. A user's own folder
//! (`--templates DIR`) is searched first: a file there with the same name as a default replaces
//! it, and new files can be included from the templates that use them.
//!
//! Template context: the [`Report`] fields at the top level (`survey`, `collection`, `sections`,
//! …). Functions: `stacked_bar(rows, compact=false)` and `bar(pct_tenths, color)` return inline
//! SVG; `fill(color)` returns a colour for swatches.

use std::path::{Path, PathBuf};

use minijinja::value::Serde;
use minijinja::{Environment, Error, ErrorKind, UndefinedBehavior, Value};
use serde::Deserialize;

use crate::chart::{self, Segment};
use crate::model::Report;
use crate::{ReportError, Result};

/// The entry template.
pub const ENTRY: &str = "handout.html.j2";

/// The default templates: file name and content.
pub const DEFAULT_TEMPLATES: [(&str, &str); 10] = [
    (
        "handout.html.j2",
        include_str!("../../../templates/handout.html.j2"),
    ),
    (
        "style.css.j2",
        include_str!("../../../templates/style.css.j2"),
    ),
    (
        "macros.html.j2",
        include_str!("../../../templates/macros.html.j2"),
    ),
    (
        "cover.html.j2",
        include_str!("../../../templates/cover.html.j2"),
    ),
    (
        "questions.html.j2",
        include_str!("../../../templates/questions.html.j2"),
    ),
    (
        "crosstabs.html.j2",
        include_str!("../../../templates/crosstabs.html.j2"),
    ),
    (
        "reasons.html.j2",
        include_str!("../../../templates/reasons.html.j2"),
    ),
    (
        "freetext.html.j2",
        include_str!("../../../templates/freetext.html.j2"),
    ),
    (
        "capabilities.html.j2",
        include_str!("../../../templates/capabilities.html.j2"),
    ),
    (
        "notes.html.j2",
        include_str!("../../../templates/notes.html.j2"),
    ),
];

/// What chart functions read from a row: the fields of [`crate::CountRow`] they need.
#[derive(Debug, Deserialize)]
struct ChartRow {
    pct_tenths: Option<u64>,
    color: usize,
    #[serde(default)]
    label: String,
}

fn stacked_bar(rows: Serde<Vec<ChartRow>>, compact: Option<bool>) -> Value {
    let segments: Vec<Segment> = rows
        .0
        .into_iter()
        .map(|r| Segment {
            tenths: r.pct_tenths,
            color: r.color,
            label: r.label,
        })
        .collect();
    Value::from_safe_string(chart::stacked_bar(&segments, compact.unwrap_or(false)))
}

fn bar(tenths: Option<u64>, color: Option<usize>) -> Value {
    Value::from_safe_string(chart::bar(tenths, color.unwrap_or(0)))
}

fn fill(color: usize) -> String {
    chart::fill(color).to_owned()
}

/// A template name a user folder may answer for: a plain relative path, no `..`.
fn safe_name(name: &str) -> bool {
    let p = Path::new(name);
    !p.is_absolute()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// A configured template environment.
pub struct Renderer {
    env: Environment<'static>,
}

impl Renderer {
    /// The default templates, overridden by files of the same name in `dir` if given.
    pub fn new(dir: Option<&Path>) -> Result<Renderer> {
        let dir: Option<PathBuf> = match dir {
            Some(d) if !d.is_dir() => {
                return Err(ReportError::TemplateDir {
                    path: d.display().to_string(),
                    message: "not a folder".into(),
                });
            }
            Some(d) => Some(d.to_path_buf()),
            None => None,
        };
        let mut env = Environment::new();
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()?,
        );
        // A misspelt variable in a user's template should fail loudly, not print nothing.
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_loader(move |name| {
            if let Some(d) = &dir {
                let path = d.join(name);
                if safe_name(name) && path.is_file() {
                    return std::fs::read_to_string(&path).map(Some).map_err(|e| {
                        Error::new(
                            ErrorKind::TemplateNotFound,
                            format!("cannot read {}: {e}", path.display()),
                        )
                    });
                }
            }
            Ok(DEFAULT_TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| (*text).to_owned()))
        });
        env.add_function("stacked_bar", stacked_bar);
        env.add_function("bar", bar);
        env.add_function("fill", fill);
        Ok(Renderer { env })
    }

    /// Renders a report to one self-contained HTML document.
    pub fn render(&self, report: &Report) -> Result<String> {
        let tmpl = self.env.get_template(ENTRY)?;
        Ok(tmpl.render(Value::from(Serde(report)))?)
    }
}

/// Writes the default templates into `dir`, as a starting point for a folder of one's own.
pub fn write_default_templates(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.display().to_string(),
        source,
    })?;
    for (name, text) in DEFAULT_TEMPLATES {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|source| ReportError::Write {
            path: path.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_folder_are_not_read() {
        assert!(safe_name("handout.html.j2") && safe_name("parts/x.html.j2"));
        assert!(!safe_name("../secret") && !safe_name("/etc/passwd"));
    }

    #[test]
    fn every_default_template_parses() {
        let r = Renderer::new(None).unwrap();
        for (name, _) in DEFAULT_TEMPLATES {
            r.env.get_template(name).unwrap();
        }
    }

    #[test]
    fn a_user_folder_overrides_by_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cover.html.j2"),
            "<section class=\"cover\"><h1>OWN COVER {{ survey.title }}</h1></section>",
        )
        .unwrap();
        let r = Renderer::new(Some(dir.path())).unwrap();
        let report = crate::testing::small_report();
        let html = r.render(&report).unwrap();
        assert!(html.contains("OWN COVER"));
        // The other defaults still apply.
        assert!(html.contains("集計にあたって"));
        assert!(Renderer::new(Some(&dir.path().join("missing"))).is_err());
    }
}
