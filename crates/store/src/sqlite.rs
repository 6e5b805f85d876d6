//! SQLite connection settings, applied to every pooled connection, and the pool's check that a
//! connection handed back is really out of its transaction.
//!
//! Why the check: when a statement or a `COMMIT` fails with an I/O error (a full disk, a file size
//! limit) or a trigger's `RAISE(ROLLBACK)`, SQLite rolls the whole transaction back by itself.
//! sqlx's `ROLLBACK` then fails ("no transaction is active") and its count of open transactions
//! stays at one, so the next transaction on that connection becomes a `SAVEPOINT`. If that one
//! fails without SQLite ending it, sqlx's `ROLLBACK TO SAVEPOINT` leaves the transaction open,
//! and from then on every "commit" is a `RELEASE` of an inner savepoint: reported as stored,
//! never committed, and rolled back when the connection closes. A connection that comes back
//! with sqlx counting a transaction open is closed instead of reused.

use std::time::Duration;

use sea_orm::ConnectOptions;
use sea_orm::sqlx::Connection;
use sea_orm::sqlx::pool::PoolConnectionMetadata;
use sea_orm::sqlx::sqlite::{SqliteConnection, SqliteJournalMode};

/// How long a writer waits for another one before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Sets WAL (the review server reads while an import writes) and the busy timeout (the second
/// writer waits instead of failing) on every connection, and the release check described above.
/// An in-memory database lives in its one connection, so there the check is left out: closing
/// that connection would lose everything.
pub(crate) fn configure(opts: &mut ConnectOptions, in_memory: bool) {
    opts.map_sqlx_sqlite_opts(|o| {
        o.journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
    });
    if in_memory {
        opts.max_connections(1);
        return;
    }
    opts.map_sqlx_sqlite_pool_opts(|pool| {
        pool.after_release(|conn, _: PoolConnectionMetadata| {
            Box::pin(async move {
                let idle = out_of_transaction(conn).await?;
                if !idle {
                    tracing::warn!(
                        "an SQLite connection came back from a transaction that did not end cleanly \
                         (after a failed write); it is closed, not reused"
                    );
                }
                Ok(idle)
            })
        })
    });
}

/// Whether sqlx counts no transaction open on `conn`. Every transaction here goes through sqlx's
/// transaction manager (no code of ours sends `BEGIN`), whose count only stays above zero when a
/// `COMMIT`, `ROLLBACK` or `ROLLBACK TO` failed or left SQLite's transaction open: so at zero,
/// SQLite has none open either.
async fn out_of_transaction(conn: &mut SqliteConnection) -> Result<bool, sea_orm::sqlx::Error> {
    // Locking the handle waits for the commands queued before it, such as the rollback of a
    // transaction dropped unfinished, so the count is read after them.
    drop(conn.lock_handle().await?);
    Ok(!conn.is_in_transaction())
}
