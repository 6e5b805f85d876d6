//! Fresh databases for tests: an SQLite file always, and a PostgreSQL schema of its own when
//! `CAPSURVEY_TEST_POSTGRES` is set (to `1` for `postgres://postgres@127.0.0.1:5432/test`, or to a URL).
//!
//! Each call gets its own database or schema, so tests run in parallel.

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::{ConnectOptions, ConnectionTrait, Database};

use crate::Store;

/// The PostgreSQL server tests use, if they should use one.
pub fn postgres_url() -> Option<String> {
    let v = std::env::var("CAPSURVEY_TEST_POSTGRES").ok()?;
    match v.as_str() {
        "" | "0" | "false" => None,
        url if url.starts_with("postgres") => Some(url.to_owned()),
        _ => Some("postgres://postgres@127.0.0.1:5432/test".to_owned()),
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "capsurvey_t_{}_{}_{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A database made for one test; the SQLite file is removed when dropped.
pub struct TestDb {
    /// The migrated store.
    pub store: Store,
    /// `sqlite` or `postgres`, for assertion messages.
    pub backend: &'static str,
    /// The `--db` argument that opens the same database from the CLI.
    pub spec: String,
    sqlite_file: Option<PathBuf>,
    pg_schema: Option<(String, String)>,
}

impl TestDb {
    /// A new SQLite file in the temporary directory.
    pub async fn sqlite() -> TestDb {
        let path = std::env::temp_dir().join(format!("{}.db", unique_name()));
        let spec = path.display().to_string();
        let store = Store::open(&spec).await.expect("open test sqlite");
        TestDb {
            store,
            backend: "sqlite",
            spec,
            sqlite_file: Some(path),
            pg_schema: None,
        }
    }

    /// A new schema on the test PostgreSQL server.
    pub async fn postgres(base: &str) -> TestDb {
        let schema = unique_name();
        let admin = Database::connect(base)
            .await
            .expect("connect to test PostgreSQL (is it running?)");
        admin
            .execute_unprepared(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        admin.close().await.ok();
        let mut opts = ConnectOptions::new(base.to_owned());
        opts.set_schema_search_path(schema.clone());
        let store = Store::open_with(opts)
            .await
            .expect("open test postgres schema");
        let sep = if base.contains('?') { '&' } else { '?' };
        let spec = format!("{base}{sep}options=-c%20search_path%3D{schema}");
        TestDb {
            store,
            backend: "postgres",
            spec,
            sqlite_file: None,
            pg_schema: Some((base.to_owned(), schema)),
        }
    }

    /// Drops the PostgreSQL schema (SQLite files go on drop).
    pub async fn cleanup(mut self) {
        if let Some((base, schema)) = self.pg_schema.take()
            && let Ok(admin) = Database::connect(&base).await
        {
            admin
                .execute_unprepared(&format!("DROP SCHEMA {schema} CASCADE"))
                .await
                .ok();
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(path) = &self.sqlite_file {
            for suffix in ["", "-wal", "-shm"] {
                std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
            }
        }
    }
}

/// Fresh databases for every backend this run tests.
pub async fn backends() -> Vec<TestDb> {
    let mut dbs = vec![TestDb::sqlite().await];
    if let Some(url) = postgres_url() {
        dbs.push(TestDb::postgres(&url).await);
    }
    dbs
}

/// Runs `test` once per backend, each on a fresh database.
pub async fn each_backend<F, Fut>(test: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = TestDb>,
{
    for db in backends().await {
        let db = test(db).await;
        db.cleanup().await;
    }
}
