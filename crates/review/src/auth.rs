//! Accounts, passwords, sessions and CSRF.
//!
//! - Passwords are hashed with argon2id (random 16-byte salt); only the PHC string is stored and
//!   no password is ever logged.
//! - A login makes a new random 32-byte session token (never reusing one the browser sent: no
//!   session fixation). The cookie `capsurvey_session` holds the token, `HttpOnly`,
//!   `SameSite=Strict`, `Secure` when [`crate::Config::secure_cookies`] is set; the database holds
//!   only its SHA-256, with the user, the CSRF token and the expiry. Logout deletes the session.
//! - Every form carries the session's CSRF token in a hidden `csrf` field; every POST without the
//!   right one is refused with 403. The login form, which has no session yet, uses a
//!   double-submit cookie instead.
//! - Viewers may read everything and change nothing: every POST but logout is refused with 403.
//! - Failed logins are limited per login name (5 in 10 minutes).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::body::{Body, Bytes};
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use capsurvey_store::entity::users;
use capsurvey_store::users::{self as accounts, Role};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::web::{Fields, message_page};
use crate::{App, Result, ReviewError};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "capsurvey_session";
/// The cookie that protects the login form (double submit).
pub const LOGIN_COOKIE: &str = "capsurvey_login";
/// The shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 8;
/// Failed logins allowed per name within [`FAILURE_WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// The window failed logins are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(600);

/// The logged-in person of a request.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// User id.
    pub id: i64,
    /// Login name (the name in the audit log).
    pub name: String,
    /// Role.
    pub role: Role,
    /// The session's CSRF token, for the forms of the page.
    pub csrf: String,
    /// The session id (hash of the token).
    pub session: String,
}

/// Random bytes from the operating system, as hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("the operating system gives random bytes");
    hex::encode(buf)
}

/// The stored id of a session token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| ReviewError::Hash(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| ReviewError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ReviewError::Hash(e.to_string()))
}

/// Whether a password matches a stored hash.
pub fn verify_password(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks a new password: at least [`MIN_PASSWORD_LEN`] characters.
pub fn check_new_password(password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(ReviewError::Account(format!(
            "パスワードは {MIN_PASSWORD_LEN} 文字以上にしてください (the password needs at least {MIN_PASSWORD_LEN} characters)"
        )));
    }
    Ok(())
}

/// Creates an account: checks the name and password, hashes the password, audits `user.create`.
pub async fn add_user(
    store: &capsurvey_store::Store,
    name: &str,
    role: Role,
    password: &str,
    actor: &str,
) -> Result<users::Model> {
    if !accounts::valid_user_name(name) {
        return Err(ReviewError::Account(format!(
            "利用者名「{name}」は使えません: 1〜64文字、空白なし (`{name}` is not a usable login name: 1 to 64 characters, no spaces)"
        )));
    }
    check_new_password(password)?;
    let hash = hash_blocking(password.to_owned()).await?;
    accounts::create_user(store.db(), name, role, &hash, actor)
        .await
        .map_err(|e| match e {
            capsurvey_store::StoreError::Conflict(_) => ReviewError::Account(format!(
                "利用者「{name}」は既にあります (user `{name}` already exists)"
            )),
            e => e.into(),
        })
}

/// Replaces a user's password (and ends their sessions).
pub async fn change_password(
    store: &capsurvey_store::Store,
    user_id: i64,
    password: &str,
    actor: &str,
) -> Result<()> {
    check_new_password(password)?;
    let hash = hash_blocking(password.to_owned()).await?;
    accounts::set_password_hash(store.db(), user_id, &hash, actor).await?;
    Ok(())
}

async fn hash_blocking(password: String) -> Result<String> {
    tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|e| ReviewError::Hash(e.to_string()))?
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A cookie's value from the request headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn set_cookie(app: &App, name: &str, value: &str, path: &str, max_age: i64) -> HeaderValue {
    let secure = if app.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie values are hex")
}

/// The logged-in user of a request, if its session cookie names a live session.
pub async fn current_user(app: &App, headers: &HeaderMap) -> Result<Option<CurrentUser>> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let id = token_hash(token);
    Ok(accounts::session_user(app.store().db(), &id)
        .await?
        .map(|(s, u)| CurrentUser {
            id: u.id,
            role: accounts::role_of(&u),
            name: u.name,
            csrf: s.csrf_token,
            session: s.id,
        }))
}

/// What a request without a login gets: pages redirect to the login page, everything else 401.
pub fn unauthenticated(method: &Method, uri: &axum::http::Uri) -> Response {
    if method == Method::GET || method == Method::HEAD {
        let next = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let target = format!(
            "/login?next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        Redirect::to(&target).into_response()
    } else {
        (
            StatusCode::UNAUTHORIZED,
            "ログインしてください (login required)",
        )
            .into_response()
    }
}

/// Guards every page but the login page: a live session, and for every POST the CSRF token and a
/// role that may change data (logout excepted). The user goes into the request's extensions.
pub async fn require_login(State(app): State<App>, req: Request, next: Next) -> Response {
    let user = match current_user(&app, req.headers()).await {
        Ok(Some(u)) => u,
        Ok(None) => return unauthenticated(req.method(), req.uri()),
        Err(e) => return e.into_response(),
    };
    let mut req = if req.method() == Method::GET || req.method() == Method::HEAD {
        req
    } else {
        let (parts, body) = req.into_parts();
        let bytes = match axum::body::to_bytes(body, 1 << 20).await {
            Ok(b) => b,
            Err(_) => return (StatusCode::PAYLOAD_TOO_LARGE, "too large").into_response(),
        };
        let fields = Fields::parse(&bytes);
        let sent = fields
            .get("csrf")
            .or_else(|| {
                parts
                    .headers
                    .get("x-csrf-token")
                    .and_then(|v| v.to_str().ok())
            })
            .unwrap_or("");
        if !same_secret(sent, &user.csrf) {
            tracing::warn!(user = %user.name, path = %parts.uri.path(), "refused a POST without a valid CSRF token");
            return message_page(
                &app,
                StatusCode::FORBIDDEN,
                "送信できませんでした",
                "フォームの確認用トークンが一致しません。ページを再読み込みしてから、もう一度操作してください。",
            );
        }
        if !user.role.can_edit() && parts.uri.path() != "/logout" {
            return message_page(
                &app,
                StatusCode::FORBIDDEN,
                "変更できません",
                "閲覧のみの利用者は、データを変更できません。",
            );
        }
        Request::from_parts(parts, Body::from(bytes))
    };
    req.extensions_mut().insert(user);
    next.run(req).await
}

/// Failed logins per login name, in this process.
#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    fn key(name: &str) -> String {
        name.trim().to_lowercase()
    }

    /// Whether this name has failed too often lately.
    pub fn blocked(&self, name: &str) -> bool {
        let mut map = self.failures.lock().expect("limiter");
        let Some(q) = map.get_mut(&Self::key(name)) else {
            return false;
        };
        while q.front().is_some_and(|t| t.elapsed() > FAILURE_WINDOW) {
            q.pop_front();
        }
        q.len() >= MAX_FAILURES
    }

    /// Counts a failure.
    pub fn fail(&self, name: &str) {
        let mut map = self.failures.lock().expect("limiter");
        if map.len() > 10_000 {
            map.retain(|_, q| q.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
        }
        map.entry(Self::key(name))
            .or_default()
            .push_back(Instant::now());
    }

    /// Forgets the failures of a name after a successful login.
    pub fn clear(&self, name: &str) {
        self.failures
            .lock()
            .expect("limiter")
            .remove(&Self::key(name));
    }
}

/// Query of the login page.
#[derive(Debug, Deserialize)]
pub struct LoginQuery {
    next: Option<String>,
}

/// Only local paths are followed after login (no open redirect).
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/queue".to_owned(),
    }
}

fn login_form(
    app: &App,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    name: &str,
    error: Option<&str>,
) -> Response {
    // The browser keeps one login token until it logs in: other tabs, or a redirect of some
    // background request to this page, must not invalidate the form already shown.
    let token = match cookie(headers, LOGIN_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => t.to_owned(),
        _ => random_hex(32),
    };
    let ctx = serde_json::json!({"csrf": token, "next": next, "name": name, "error": error});
    let mut resp = match crate::web::render(app, "login.html", &ctx) {
        Ok(html) => (status, html).into_response(),
        Err(e) => return e.into_response(),
    };
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, LOGIN_COOKIE, &token, "/login", 3600),
    );
    resp
}

/// `GET /login`.
///
/// Shown even to someone logged in: on a shared computer the next person logs in here.
pub async fn login_page(
    State(app): State<App>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let next = safe_next(q.next.as_deref());
    login_form(&app, &headers, StatusCode::OK, &next, "", None)
}

/// `POST /login`: name, password, csrf, next.
pub async fn login(State(app): State<App>, headers: HeaderMap, body: Bytes) -> Response {
    let f = Fields::parse(&body);
    let name = f.get("name").unwrap_or("").trim().to_owned();
    let password = f.get("password").unwrap_or("").to_owned();
    let next = safe_next(f.get("next"));
    let sent = f.get("csrf").unwrap_or("");
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if expected.is_empty() || !same_secret(sent, expected) {
        return message_page(
            &app,
            StatusCode::FORBIDDEN,
            "送信できませんでした",
            "ログイン画面の有効期限が切れました。ログイン画面を開き直してください。",
        );
    }
    if app.0.limiter.blocked(&name) {
        tracing::warn!(user = %name, "login refused: too many failures");
        return login_form(
            &app,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            &next,
            &name,
            Some("ログインの失敗が続いたため、しばらく（10分ほど）待ってからお試しください。"),
        );
    }
    let user = match accounts::user_by_name(app.store().db(), &name).await {
        Ok(u) => u,
        Err(e) => return ReviewError::from(e).into_response(),
    };
    // Verify even for an unknown name, so the time taken does not tell which names exist.
    let stored = user
        .as_ref()
        .filter(|u| !u.disabled)
        .map(|u| u.password_hash.clone())
        .unwrap_or_default();
    let ok = tokio::task::spawn_blocking(move || {
        let stored = if stored.is_empty() {
            dummy_hash()
        } else {
            stored
        };
        verify_password(&password, &stored)
    })
    .await
    .unwrap_or(false);
    let user = match user {
        Some(u) if ok && !u.disabled => u,
        _ => {
            app.0.limiter.fail(&name);
            tracing::warn!(user = %name, "login failed");
            return login_form(
                &app,
                &headers,
                StatusCode::UNAUTHORIZED,
                &next,
                &name,
                Some("利用者名またはパスワードが違います。"),
            );
        }
    };
    app.0.limiter.clear(&name);
    // A previous session of this browser ends; the new one gets a fresh token.
    if let Some(old) = cookie(&headers, SESSION_COOKIE) {
        accounts::delete_session(app.store().db(), &token_hash(old))
            .await
            .ok();
    }
    accounts::delete_expired_sessions(app.store().db())
        .await
        .ok();
    let token = random_hex(32);
    let hours = app.config().session_hours;
    let expires = capsurvey_store::now() + chrono::Duration::hours(hours);
    if let Err(e) = accounts::create_session(
        app.store().db(),
        &token_hash(&token),
        user.id,
        &random_hex(32),
        expires,
    )
    .await
    {
        return ReviewError::from(e).into_response();
    }
    tracing::info!(user = %user.name, "login");
    let mut resp = Redirect::to(&next).into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(&app, SESSION_COOKIE, &token, "/", hours * 3600),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(&app, LOGIN_COOKIE, "", "/login", 0),
    );
    resp
}

/// `POST /logout`: ends the session.
pub async fn logout(
    State(app): State<App>,
    axum::Extension(user): axum::Extension<CurrentUser>,
) -> Response {
    if let Err(e) = accounts::delete_session(app.store().db(), &user.session).await {
        return ReviewError::from(e).into_response();
    }
    tracing::info!(user = %user.name, "logout");
    let mut resp = Redirect::to("/login").into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, SESSION_COOKIE, "", "/", 0),
    );
    resp
}

/// An argon2id hash of a random password nobody knows, verified against for unknown names.
fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_password(&random_hex(16)).unwrap_or_default())
        .clone()
}

/// Requires the admin role.
pub fn require_admin(user: &CurrentUser) -> Result<()> {
    if user.role == Role::Admin {
        Ok(())
    } else {
        Err(ReviewError::Forbidden(
            "この画面は管理者だけが使えます。".to_owned(),
        ))
    }
}
