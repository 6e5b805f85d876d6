//! The review site: the web pages where data-entry staff finish what the machine could not.
//!
//! `capsurvey review serve` runs [`serve`]: an axum server whose pages are rendered with
//! minijinja templates compiled into the binary (Japanese interface, plain HTML with a little
//! vanilla JavaScript for keyboard shortcuts, no build step, no external resources).
//!
//! - **Accounts** ([`auth`]): argon2 password hashes, sessions in the database (so several
//!   servers on one PostgreSQL share them), HttpOnly SameSite=Strict cookies, a CSRF token in
//!   every form, roles admin / entry / viewer (viewers cannot change anything).
//! - **Queue**: open review tasks oldest first, filtered by survey and kind; each kind shows what
//!   a person needs (the crop with the box highlighted and the machine's guess, the raw CSV text,
//!   the page image, the two conflicting values). Decisions go through
//!   [`capsurvey_store::resolve_task`] with optimistic locking: the second person on the same item
//!   gets 「他の担当者が先に処理しました」 and nothing is overwritten.
//! - **Responses**: per facility, page images beside every answer, each editable, with history.
//! - **Accuracy** ([`accuracy`]): how often the machine's guess was right, per field kind and
//!   confidence band, and items per hour per reviewer.
//!
//! Conventions for task payloads, the data directory and security are in `docs/review.md`.

#![warn(missing_docs)]

pub mod accuracy;
mod admin;
pub mod auth;
mod files;
mod queue;
mod responses;
mod templates;
pub mod values;
mod web;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::{get, post};
use capsurvey_store::{Store, StoreError};
use capsurvey_survey::Survey;

/// The address the server binds to unless told otherwise: this machine only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// The name of the data directory created beside an SQLite database.
pub const DATA_DIR_NAME: &str = "capsurvey-data";

/// Errors of the review site.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A template failed to render (a bug).
    #[error("template error: {0}")]
    Template(#[from] minijinja::Error),
    /// The address could not be bound, or another I/O failure.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The error.
        source: std::io::Error,
    },
    /// A password could not be hashed.
    #[error("password hashing failed: {0}")]
    Hash(String),
    /// Something asked for is not there.
    #[error("{0}")]
    NotFound(String),
    /// The request is not allowed for this user.
    #[error("{0}")]
    Forbidden(String),
    /// The request does not make sense (shown to the user, in Japanese).
    #[error("{0}")]
    BadRequest(String),
    /// An account cannot be created or changed as asked.
    #[error("{0}")]
    Account(String),
}

/// Result with a [`ReviewError`].
pub type Result<T> = std::result::Result<T, ReviewError>;

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen; [`DEFAULT_BIND`] unless told otherwise.
    pub bind: SocketAddr,
    /// The data directory: crops and page images named in task payloads are relative to it.
    pub data_dir: PathBuf,
    /// Mark cookies `Secure`: set this when the site is served over HTTPS (behind a proxy).
    pub secure_cookies: bool,
    /// How long a login lasts.
    pub session_hours: i64,
}

impl Config {
    /// Defaults: localhost:8080, the given data directory, plain-HTTP cookies, 12-hour sessions.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            bind: DEFAULT_BIND.parse().expect("valid default address"),
            data_dir: data_dir.into(),
            secure_cookies: false,
            session_hours: 12,
        }
    }
}

/// The data directory used when `--data` is not given: `capsurvey-data/` beside an SQLite
/// database file, or in the working directory for PostgreSQL.
pub fn default_data_dir(db_spec: &str) -> PathBuf {
    if db_spec.starts_with("postgres://") || db_spec.starts_with("postgresql://") {
        return PathBuf::from(DATA_DIR_NAME);
    }
    let path = db_spec
        .strip_prefix("sqlite:")
        .map(|p| p.trim_start_matches("//"))
        .unwrap_or(db_spec);
    let path = path.split('?').next().unwrap_or(path);
    match Path::new(path).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(DATA_DIR_NAME),
        _ => PathBuf::from(DATA_DIR_NAME),
    }
}

/// The shared state of the server: the store, the templates, the configuration.
#[derive(Clone)]
pub struct App(Arc<Inner>);

struct Inner {
    store: Store,
    config: Config,
    templates: minijinja::Environment<'static>,
    limiter: auth::LoginLimiter,
    definitions: Mutex<HashMap<i64, Arc<Survey>>>,
}

impl App {
    /// Prepares the server state.
    pub fn new(store: Store, config: Config) -> App {
        App(Arc::new(Inner {
            store,
            config,
            templates: templates::environment(),
            limiter: auth::LoginLimiter::default(),
            definitions: Mutex::new(HashMap::new()),
        }))
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.0.store
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// The definition of a stored survey version (cached: versions never change).
    pub(crate) async fn definition(&self, survey_version_id: i64) -> Result<Arc<Survey>> {
        if let Some(s) = self
            .0
            .definitions
            .lock()
            .expect("definition cache")
            .get(&survey_version_id)
        {
            return Ok(s.clone());
        }
        use capsurvey_store::sea_orm::EntityTrait;
        let v = capsurvey_store::entity::survey_versions::Entity::find_by_id(survey_version_id)
            .one(self.store().db())
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| ReviewError::NotFound(format!("調査版 {survey_version_id}")))?;
        let s = Arc::new(capsurvey_store::stored_definition(&v)?);
        self.0
            .definitions
            .lock()
            .expect("definition cache")
            .insert(survey_version_id, s.clone());
        Ok(s)
    }
}

/// Every route of the site. Only `/login`, `/static/*` and `/favicon.ico` answer without a session.
pub fn router(app: App) -> Router {
    let protected = Router::new()
        .route("/", get(queue::home))
        .route("/logout", post(auth::logout))
        .route("/queue", get(queue::queue_page))
        .route("/queue/next", get(queue::next))
        .route("/tasks/{id}", get(queue::task_page))
        .route("/tasks/{id}/resolve", post(queue::resolve))
        .route("/tasks/{id}/assign", post(queue::assign))
        .route("/responses", get(responses::list))
        .route("/responses/{id}", get(responses::show))
        .route("/responses/{id}/answers", post(responses::edit))
        .route("/facilities/search", get(files::facility_search))
        .route("/files/{*path}", get(files::file))
        .route("/accuracy", get(accuracy::page))
        .route("/users", get(admin::users_page).post(admin::add_user))
        .route("/users/{id}/disabled", post(admin::set_disabled))
        .route("/users/{id}/role", post(admin::set_role))
        .route("/users/{id}/password", post(admin::set_password))
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            auth::require_login,
        ));
    Router::new()
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/static/review.css", get(web::css))
        .route("/static/review.js", get(web::js))
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .merge(protected)
        .fallback(web::not_found_or_login)
        .layer(axum::middleware::map_response(web::security_headers))
        .with_state(app)
}

/// Every path pattern that needs a login, with its method: the access-control tests walk these.
pub const PROTECTED_ROUTES: &[(&str, &str)] = &[
    ("GET", "/"),
    ("POST", "/logout"),
    ("GET", "/queue"),
    ("GET", "/queue/next"),
    ("GET", "/tasks/{id}"),
    ("POST", "/tasks/{id}/resolve"),
    ("POST", "/tasks/{id}/assign"),
    ("GET", "/responses"),
    ("GET", "/responses/{id}"),
    ("POST", "/responses/{id}/answers"),
    ("GET", "/facilities/search"),
    ("GET", "/files/{*path}"),
    ("GET", "/accuracy"),
    ("GET", "/users"),
    ("POST", "/users"),
    ("POST", "/users/{id}/disabled"),
    ("POST", "/users/{id}/role"),
    ("POST", "/users/{id}/password"),
];

/// Serves the site on an already bound listener until Ctrl-C or, on Unix, SIGTERM (how a
/// service manager stops it); requests under way are finished first.
pub async fn serve_on(listener: tokio::net::TcpListener, app: App) -> Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(stop_requested())
        .await
        .map_err(|source| ReviewError::Io {
            context: "review server".into(),
            source,
        })
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT), or SIGTERM on Unix.
async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    tokio::signal::ctrl_c().await.ok();
}

/// Binds `config.bind` and serves the site until Ctrl-C or SIGTERM.
pub async fn serve(store: Store, config: Config) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| ReviewError::Io {
            context: format!("cannot listen on {}", config.bind),
            source,
        })?;
    if !config.bind.ip().is_loopback() && !config.secure_cookies {
        tracing::warn!(
            "listening on {} without --secure-cookies: serve the site to other machines only behind an HTTPS proxy",
            config.bind
        );
    }
    tracing::info!("review site on http://{}", config.bind);
    serve_on(listener, App::new(store, config)).await
}
