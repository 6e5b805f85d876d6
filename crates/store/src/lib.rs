//! The capsurvey store: one database (an SQLite file by default, PostgreSQL for several users)
//! behind sea-orm, with its migrations and the operations every import shares.
//!
//! Invariants kept here:
//! - a survey version, once stored, never changes (a changed definition needs a new version);
//! - the same file (by content hash) is imported once per kind;
//! - every change goes through a transaction and leaves an audit-log row.

#![warn(missing_docs)]

pub mod answers;
pub mod entity;
pub mod mailings;
mod migration;
pub mod ops;
pub mod pages;
pub mod review;
mod sqlite;
pub mod testing;
pub mod users;

use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbBackend};
use sea_orm_migration::MigratorTrait;

pub use answers::*;
pub use mailings::*;
pub use migration::Migrator;
pub use ops::*;
pub use pages::*;
pub use sea_orm;

/// The database used when neither `--db` nor `CAPSURVEY_DB` says otherwise.
pub const DEFAULT_DB: &str = "capsurvey.db";

/// Errors of the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened.
    #[error("cannot open database {url}: {source}")]
    Open {
        /// The URL tried (without password).
        url: String,
        /// What the driver said.
        source: sea_orm::DbErr,
    },
    /// A query failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// A stored survey version was changed in its file without a new version number.
    #[error(
        "survey `{survey}` version {version} is already in use with different content \
         (stored hash {stored}, file hash {file}): raise `version` in the definition to make a new version"
    )]
    VersionChanged {
        /// Survey id.
        survey: String,
        /// Version number.
        version: u32,
        /// Hash in the database.
        stored: String,
        /// Hash of the file.
        file: String,
    },
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Stored JSON could not be read.
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// Someone else changed the record first (optimistic locking).
    #[error("{0}")]
    Conflict(String),
}

/// What to do about a failed write, to append to its error message (empty when `error` is
/// about something else): a full disk (ENOSPC; EFBIG from a file size limit; SQLite's "database
/// or disk is full"; PostgreSQL's disk_full), a disk SQLite could not write, or a database that
/// cannot be written at all.
pub fn write_failure_hint(error: &str) -> &'static str {
    const FULL: [&str; 6] = [
        "No space left",
        "os error 28",
        "File too large",
        "os error 27",
        "disk is full",
        "(code: 13)",
    ];
    if error.contains("readonly") || error.contains("read-only") {
        " (the database cannot be written: check the file's permissions, the disk, or the \
         PostgreSQL user's rights)"
    } else if FULL.iter().any(|m| error.contains(m)) {
        " (the disk is full: free space and run the same command again)"
    } else if error.contains("disk I/O error") {
        // SQLite says this when a write fails for another reason than ENOSPC, EFBIG included.
        " (the disk could not be written: if the disk is full, free space and run the same \
         command again; otherwise check the disk)"
    } else {
        ""
    }
}

/// Result with a [`StoreError`].
pub type Result<T> = std::result::Result<T, StoreError>;

/// An open database with an up-to-date schema.
#[derive(Clone, Debug)]
pub struct Store {
    db: DatabaseConnection,
}

/// Turns what a person types (`capsurvey.db`, `sqlite:x.db`, `postgres://…`) into a database URL.
pub fn database_url(spec: &str) -> String {
    if spec.starts_with("postgres://") || spec.starts_with("postgresql://") {
        spec.to_owned()
    } else if let Some(rest) = spec.strip_prefix("sqlite:") {
        let path = rest.trim_start_matches("//");
        if path.contains('?') || path == ":memory:" {
            spec.to_owned()
        } else {
            format!("sqlite://{path}?mode=rwc")
        }
    } else {
        format!("sqlite://{spec}?mode=rwc")
    }
}

fn redact(url: &str) -> String {
    // postgres://user:secret@host → postgres://user:***@host
    match (url.find("://"), url.find('@')) {
        (Some(s), Some(at)) if url[s + 3..at].contains(':') => {
            let colon = s + 3 + url[s + 3..at].find(':').unwrap_or(0);
            format!("{}:***{}", &url[..colon], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Store {
    /// Opens (creating an SQLite file if needed) and migrates the database named by `spec`.
    pub async fn open(spec: &str) -> Result<Store> {
        Self::open_with(ConnectOptions::new(database_url(spec))).await
    }

    /// Opens with explicit connection options (tests use this to pick a PostgreSQL schema).
    pub async fn open_with(mut opts: ConnectOptions) -> Result<Store> {
        let url = opts.get_url().to_owned();
        opts.sqlx_logging(false);
        if url.starts_with("sqlite:") {
            // An in-memory database gets one connection: each pooled one would have its own.
            sqlite::configure(&mut opts, url.contains(":memory:"));
        }
        let db = Database::connect(opts)
            .await
            .map_err(|source| StoreError::Open {
                url: redact(&url),
                source,
            })?;
        Migrator::up(&db, None).await?;
        Ok(Store { db })
    }

    /// The underlying connection, for crates that run their own queries.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Closes every connection. On SQLite the last one to close folds the write-ahead log into
    /// the database file and deletes it.
    pub async fn close(self) -> Result<()> {
        Ok(self.db.close().await?)
    }

    /// Which database engine this is.
    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }
}
