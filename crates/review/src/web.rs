//! What every page shares: form parsing, rendering, errors, headers, static assets, times.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use capsurvey_store::StoreError;
use serde::Serialize;

use crate::auth::CurrentUser;
use crate::{App, Result, ReviewError};

/// The fields of a posted form, in order (repeated names such as checkboxes kept).
#[derive(Debug, Default)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &[u8]) -> Fields {
        Fields(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value of a field.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a field.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// Renders a template with a context.
pub fn render<S: Serialize>(app: &App, name: &str, ctx: &S) -> Result<Html<String>> {
    let t = app.0.templates.get_template(name)?;
    Ok(Html(t.render(minijinja::Value::from(
        minijinja::value::Serde(ctx),
    ))?))
}

/// The context every logged-in page gets: who, their role, the CSRF token, the open-task count.
pub async fn base(app: &App, user: &CurrentUser, nav: &str) -> Result<serde_json::Value> {
    use capsurvey_store::entity::review_tasks;
    use capsurvey_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let open = review_tasks::Entity::find()
        .filter(review_tasks::Column::Status.eq("open"))
        .count(app.store().db())
        .await
        .map_err(StoreError::from)?;
    Ok(serde_json::json!({
        "user": {
            "name": user.name,
            "role": user.role.as_str(),
            "role_label": user.role.label_ja(),
            "can_edit": user.role.can_edit(),
            "admin": user.role == capsurvey_store::users::Role::Admin,
        },
        "csrf": user.csrf,
        "nav": nav,
        "open_count": open,
    }))
}

/// Merges page-specific keys into the base context.
pub fn with(mut base: serde_json::Value, extra: serde_json::Value) -> serde_json::Value {
    if let (serde_json::Value::Object(b), serde_json::Value::Object(e)) = (&mut base, extra) {
        b.extend(e);
    }
    base
}

/// A simple page with a title and a message.
pub fn message_page(app: &App, status: StatusCode, title: &str, message: &str) -> Response {
    let ctx = serde_json::json!({"title": title, "message": message});
    match render(app, "message.html", &ctx) {
        Ok(html) => (status, html).into_response(),
        Err(_) => (status, format!("{title}: {message}")).into_response(),
    }
}

impl IntoResponse for ReviewError {
    fn into_response(self) -> Response {
        let (status, title) = match &self {
            ReviewError::NotFound(_) => (StatusCode::NOT_FOUND, "見つかりません"),
            ReviewError::Forbidden(_) => (StatusCode::FORBIDDEN, "この操作はできません"),
            ReviewError::BadRequest(_) | ReviewError::Account(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "入力を確認してください")
            }
            ReviewError::Store(StoreError::NotFound(_)) => {
                (StatusCode::NOT_FOUND, "見つかりません")
            }
            ReviewError::Store(StoreError::Conflict(_)) => {
                (StatusCode::CONFLICT, "他の担当者が先に処理しました")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "エラーが発生しました"),
        };
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            tracing::error!("{self}");
        }
        let body = format!(
            "<!doctype html><html lang=\"ja\"><head><meta charset=\"utf-8\"><title>{t}</title>\
             <link rel=\"stylesheet\" href=\"/static/review.css\"></head><body class=\"message\">\
             <main class=\"narrow\"><h1>{t}</h1><p>{m}</p><p><a href=\"/queue\">確認待ちへ戻る</a></p></main></body></html>",
            t = escape(title),
            m = escape(&self.to_string())
        );
        (status, Html(body)).into_response()
    }
}

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Unknown paths of logged-in users.
pub async fn not_found() -> Response {
    ReviewError::NotFound("このページはありません。".into()).into_response()
}

/// Unknown paths: a login first, then 404 (so nothing is told to strangers).
pub async fn not_found_or_login(State(app): State<App>, req: Request) -> Response {
    match crate::auth::current_user(&app, req.headers()).await {
        Ok(Some(_)) => not_found().await,
        Ok(None) => crate::auth::unauthenticated(req.method(), req.uri()),
        Err(e) => e.into_response(),
    }
}

/// `GET /static/review.css`.
pub async fn css() -> Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../static/review.css"),
    )
}

/// `GET /static/review.js`.
pub async fn js() -> Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../static/review.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}

/// Headers on every response: a strict content security policy (no inline script, nothing from
/// elsewhere), no framing, no sniffing, and no caching of pages.
pub async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; img-src 'self'; style-src 'self'; script-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Japan time, as staff read it: `2026-11-21 14:03`.
pub fn jst(t: &chrono::DateTime<chrono::Utc>) -> String {
    let offset = chrono::FixedOffset::east_opt(9 * 3600).expect("valid offset");
    t.with_timezone(&offset)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The URL of a file in the data directory (each path segment percent-encoded).
pub fn file_url(path: &str) -> String {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect()
        })
        .collect();
    format!("/files/{}", segments.join("/"))
}

/// Query-string encoding of one value.
pub fn qs(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
