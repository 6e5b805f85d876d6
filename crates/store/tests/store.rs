//! The store on every backend: migrations, survey versions, imported files, status.

use capsurvey_store::testing::each_backend;
use capsurvey_store::*;

const SURVEY: &str = r#"
id = "mini"
version = 1
title = "テスト調査"
facility_type = "dental"
reference_date = "2024-11-01"
[[sections]]
id = "a"
title = "概要"
[[sections.questions]]
id = "q1"
kind = "yes_no"
text = "訪問していますか"
"#;

#[tokio::test]
async fn survey_versions_are_immutable() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let v1 = capsurvey_survey::parse_survey("mini.toml", SURVEY).unwrap();
        let a = register_survey(conn, &v1, "test").await.unwrap();
        let b = register_survey(conn, &v1, "test").await.unwrap();
        assert_eq!(a.id, b.id, "{}", db.backend);

        let changed =
            capsurvey_survey::parse_survey("mini.toml", &SURVEY.replace("訪問して", "往診して"))
                .unwrap();
        let err = register_survey(conn, &changed, "test").await.unwrap_err();
        assert!(
            matches!(err, StoreError::VersionChanged { .. }),
            "{}: {err}",
            db.backend
        );
        assert!(err.to_string().contains("raise `version`"));

        let v2 = capsurvey_survey::parse_survey(
            "mini.toml",
            &SURVEY
                .replace("訪問して", "往診して")
                .replace("version = 1", "version = 2"),
        )
        .unwrap();
        let c = register_survey(conn, &v2, "test").await.unwrap();
        assert_ne!(c.id, a.id);
        let stored =
            stored_definition(&survey_version(conn, "mini", 1).await.unwrap().unwrap()).unwrap();
        assert_eq!(stored, v1.survey, "the old version keeps its text");
        assert_eq!(survey_versions(conn).await.unwrap().len(), 2);
        assert_eq!(audit_count(conn).await.unwrap(), 2);
        let st = status(conn).await.unwrap();
        assert_eq!(st.len(), 2);
        assert_eq!((st[0].facilities, st[0].mailed, st[0].answered), (0, 0, 0));
        db
    })
    .await;
}

#[tokio::test]
async fn imported_files_are_found_by_hash() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let hash = content_hash(b"abc");
        assert!(
            imported_file(conn, "roster", &hash)
                .await
                .unwrap()
                .is_none()
        );
        record_imported_file(conn, "roster", "a.csv", &hash, 3)
            .await
            .unwrap();
        assert!(
            imported_file(conn, "roster", &hash)
                .await
                .unwrap()
                .is_some()
        );
        assert!(
            imported_file(conn, "replies", &hash)
                .await
                .unwrap()
                .is_none()
        );
        db
    })
    .await;
}

#[tokio::test]
async fn reopening_a_file_database_keeps_data_and_migrates_once() {
    let dir = std::env::temp_dir().join(format!("capsurvey-reopen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("x.db");
    let spec = path.display().to_string();
    {
        let s = Store::open(&spec).await.unwrap();
        record_imported_file(s.db(), "roster", "a.csv", "h", 1)
            .await
            .unwrap();
    }
    let s = Store::open(&spec).await.unwrap();
    assert!(
        imported_file(s.db(), "roster", "h")
            .await
            .unwrap()
            .is_some()
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn database_urls() {
    assert_eq!(
        database_url("capsurvey.db"),
        "sqlite://capsurvey.db?mode=rwc"
    );
    assert_eq!(database_url("sqlite:x.db"), "sqlite://x.db?mode=rwc");
    assert_eq!(database_url("postgres://u@h/db"), "postgres://u@h/db");
}

/// A transaction SQLite ended by itself (an I/O error, a full disk, `RAISE(ROLLBACK)`) leaves
/// sqlx counting it open; without the pool's check the connection's later transactions became
/// savepoints inside one that never committed: reported stored, lost when the connection closed.
#[tokio::test]
async fn a_transaction_sqlite_rolled_back_itself_does_not_swallow_later_commits() {
    use capsurvey_store::sea_orm::{ConnectOptions, ConnectionTrait, TransactionTrait};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db").display().to_string();
    let mut opts = ConnectOptions::new(database_url(&path));
    // One connection, so that every transaction gets the one the failures went through (unless
    // the pool closes it).
    opts.max_connections(1);
    let store = Store::open_with(opts).await.unwrap();
    let db = store.db();
    db.execute_unprepared(
        "CREATE TABLE t (x INTEGER);
         CREATE TRIGGER whole BEFORE INSERT ON t WHEN NEW.x = -1
             BEGIN SELECT RAISE(ROLLBACK, 'the whole transaction'); END;
         CREATE TRIGGER statement BEFORE INSERT ON t WHEN NEW.x = -2
             BEGIN SELECT RAISE(ABORT, 'this statement only'); END;",
    )
    .await
    .unwrap();

    // SQLite ends this transaction itself; the rollback that follows finds none.
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("INSERT INTO t VALUES (1)")
        .await
        .unwrap();
    assert!(
        txn.execute_unprepared("INSERT INTO t VALUES (-1)")
            .await
            .is_err()
    );
    let _ = txn.rollback().await;
    // A failed statement in the next transaction, rolled back.
    let txn = db.begin().await.unwrap();
    txn.execute_unprepared("INSERT INTO t VALUES (2)")
        .await
        .unwrap();
    assert!(
        txn.execute_unprepared("INSERT INTO t VALUES (-2)")
            .await
            .is_err()
    );
    txn.rollback().await.unwrap();
    // Then one that succeeds, and another.
    for x in [3, 4] {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared(&format!("INSERT INTO t VALUES ({x})"))
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
    drop(store);

    let fresh = Store::open(&path).await.unwrap();
    let rows: Vec<i64> = fresh
        .db()
        .query_all_raw(capsurvey_store::sea_orm::Statement::from_string(
            fresh.backend(),
            "SELECT x FROM t ORDER BY x",
        ))
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get_by_index(0).unwrap())
        .collect();
    assert_eq!(rows, [3, 4], "what a second connection finds committed");
}
