//! Importing the reply fixtures (`fixtures/replies/`, written by the `make-reply-fixtures`
//! example) on every backend: SQLite always, PostgreSQL with CAPSURVEY_TEST_POSTGRES=1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use capsurvey_store::entity::{
    answers, audit_log, facilities, imported_files, responses, review_tasks,
};
use capsurvey_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
use capsurvey_store::testing::{TestDb, each_backend};
use capsurvey_store::{
    Put, Source, SourceKind, Store, answer_history, decode_value, put_answer, register_survey,
    response_for,
};
use capsurvey_survey::{Value, parse_survey};
use capsurvey_tabular::import::{FileReport, ImportOptions, Outcome, import_files};
use capsurvey_tabular::{Catalog, Mapping};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixtures() -> PathBuf {
    root().join("fixtures/replies")
}

fn catalog() -> Arc<Catalog> {
    let mut parsed = Vec::new();
    for id in ["dental", "homecare-clinic", "visiting-nurse"] {
        let path = root().join(format!("surveys/{id}.toml"));
        parsed.push(parse_survey(id, &std::fs::read_to_string(path).unwrap()).unwrap());
    }
    Arc::new(Catalog::new(parsed))
}

/// The facilities the fixtures answer for, as the roster.
async fn load_roster(conn: &DatabaseConnection) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(fixtures().join("roster/facilities.csv")).unwrap();
    let mut out = Vec::new();
    for line in text.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        facilities::ActiveModel {
            code: Set(cells[0].into()),
            facility_type: Set(cells[1].into()),
            name: Set(cells[2].into()),
            created_at: Set(capsurvey_store::now()),
            updated_at: Set(capsurvey_store::now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
        out.push((cells[0].to_owned(), cells[1].to_owned()));
    }
    out
}

fn dental_code(roster: &[(String, String)], i: usize) -> String {
    roster
        .iter()
        .filter(|(_, t)| t == "dental")
        .nth(i)
        .unwrap()
        .0
        .clone()
}

/// Every reply file of the fixtures folder (not the subfolders), sorted.
fn top_files() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_file()
                && p.extension()
                    .is_some_and(|e| e == "csv" || e == "tsv" || e == "xlsx")
        })
        .collect();
    v.sort();
    v
}

async fn import(store: &Store, files: &[PathBuf], mapping: Option<&str>) -> Vec<FileReport> {
    let mut opts = ImportOptions::new("test");
    if let Some(m) = mapping {
        opts.read.mapping = Some(Arc::new(Mapping::read(&fixtures().join(m)).unwrap()));
    }
    import_files(store, catalog(), files, &opts, &mut |_| {}).await
}

fn report<'a>(reports: &'a [FileReport], name: &str) -> &'a FileReport {
    reports
        .iter()
        .find(|r| r.path.ends_with(name))
        .unwrap_or_else(|| panic!("no report for {name}"))
}

/// Everything an import may change, as text, for before/after comparisons.
async fn dump(conn: &DatabaseConnection) -> Vec<String> {
    let mut out = Vec::new();
    for a in answers::Entity::find()
        .order_by_asc(answers::Column::Id)
        .all(conn)
        .await
        .unwrap()
    {
        out.push(serde_json::to_string(&a).unwrap());
    }
    for t in review_tasks::Entity::find()
        .order_by_asc(review_tasks::Column::Id)
        .all(conn)
        .await
        .unwrap()
    {
        out.push(serde_json::to_string(&t).unwrap());
    }
    for r in responses::Entity::find()
        .order_by_asc(responses::Column::Id)
        .all(conn)
        .await
        .unwrap()
    {
        out.push(serde_json::to_string(&r).unwrap());
    }
    for f in imported_files::Entity::find()
        .order_by_asc(imported_files::Column::Id)
        .all(conn)
        .await
        .unwrap()
    {
        out.push(serde_json::to_string(&f).unwrap());
    }
    out.push(format!(
        "audit rows: {}",
        audit_log::Entity::find().all(conn).await.unwrap().len()
    ));
    out
}

async fn response_of(conn: &DatabaseConnection, code: &str) -> responses::Model {
    let f = capsurvey_store::facility_by_code(conn, code)
        .await
        .unwrap()
        .unwrap();
    responses::Entity::find()
        .filter(responses::Column::FacilityId.eq(f.id))
        .one(conn)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no response for {code}"))
}

async fn accepted(conn: &DatabaseConnection, code: &str, key: &str) -> Option<Value> {
    let r = response_of(conn, code).await;
    let a = capsurvey_store::accepted_answer(conn, r.id, key)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("no accepted {key} for {code}"));
    decode_value(&a.value).unwrap()
}

#[tokio::test]
async fn import_all_then_again_changes_nothing() {
    each_backend(|db: TestDb| async move {
        let conn = db.store.db();
        let roster = load_roster(conn).await;
        let files = top_files();
        assert_eq!(files.len(), 7, "{files:?}");
        let reports = import(&db.store, &files, None).await;

        let truncated = report(&reports, "dental-truncated.csv");
        let Outcome::Failed { error } = &truncated.outcome else {
            panic!("truncated file was imported: {truncated:?}")
        };
        assert!(
            error.contains("truncated") && error.contains("line 2"),
            "{error}"
        );
        for r in &reports {
            if r.path.ends_with("dental-truncated.csv") {
                continue;
            }
            assert_eq!(r.outcome, Outcome::Imported, "{}: {:?}", r.path, r.outcome);
            assert_eq!(
                r.rows,
                r.rows_stored + r.row_errors.len() as u64,
                "{}: every row is stored or reported",
                r.path
            );
            if !r.path.ends_with("dental-messy.csv") {
                assert!(r.warnings.is_empty(), "{}: {:?}", r.path, r.warnings);
                assert!(r.row_errors.is_empty(), "{}: {:?}", r.path, r.row_errors);
                assert_eq!(r.answers.sent_to_review, 0, "{}", r.path);
                assert_eq!(r.rows, r.rows_stored);
                assert!(r.answers.inserted > 0, "{}", r.path);
            }
        }
        assert_eq!(
            report(&reports, "dental-utf8bom-ids.csv")
                .encoding
                .as_deref(),
            Some("UTF-8 (BOM)")
        );
        assert_eq!(
            report(&reports, "dental-excel-sjis-labels.csv")
                .encoding
                .as_deref(),
            Some("Shift_JIS (CP932)")
        );
        assert!(
            report(&reports, "homecare-clinic-tab.tsv")
                .format
                .as_deref()
                .unwrap()
                .contains("tab")
        );
        assert_eq!(report(&reports, "visiting-nurse.xlsx").rows_stored, 3);
        assert_eq!(
            report(&reports, "visiting-nurse-option-columns.csv").rows_stored,
            2
        );

        let messy = report(&reports, "dental-messy.csv");
        assert_eq!(
            (messy.rows, messy.rows_stored, messy.blank_rows),
            (5, 3, 1),
            "{messy:?}"
        );
        assert_eq!(messy.answers.sent_to_review, 6, "{messy:?}");
        assert_eq!(messy.row_errors.len(), 2, "{:?}", messy.row_errors);
        assert!(
            messy.row_errors[0]
                .starts_with("dental-messy.csv:6 (row 4): 3 cells where the header has 14"),
            "{:?}",
            messy.row_errors
        );
        assert!(
            messy.row_errors[1]
                .starts_with("dental-messy.csv:7 (row 5): unknown facility code 1399999999"),
            "{:?}",
            messy.row_errors
        );

        // 16 facilities answered; the truncated file left nothing behind.
        assert_eq!(responses::Entity::find().all(conn).await.unwrap().len(), 16);
        let d7 = dental_code(&roster, 7);
        let f7 = capsurvey_store::facility_by_code(conn, &d7)
            .await
            .unwrap()
            .unwrap();
        assert!(
            responses::Entity::find()
                .filter(responses::Column::FacilityId.eq(f7.id))
                .one(conn)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            imported_files::Entity::find()
                .all(conn)
                .await
                .unwrap()
                .len(),
            6
        );

        // Values from each layout, normalised.
        let d0 = dental_code(&roster, 0);
        assert_eq!(
            accepted(conn, &d0, "q08").await,
            Some(Value::Choice("1".into()))
        );
        assert_eq!(accepted(conn, &d0, "q04.full").await, Some(Value::Int(2)));
        let d3 = dental_code(&roster, 3);
        let q26 = accepted(conn, &d3, "q26").await;
        assert!(
            matches!(q26, Some(Value::Choice(_))),
            "labels become codes: {q26:?}"
        );
        let q11a = accepted(conn, &d3, "q11a").await;
        assert!(
            matches!(q11a, Some(Value::Bool(_))),
            "○/× become yes/no: {q11a:?}"
        );

        let before = dump(conn).await;
        let again = import(&db.store, &files, None).await;
        for r in &again {
            if r.path.ends_with("dental-truncated.csv") {
                assert!(r.failed());
            } else {
                assert!(
                    matches!(r.outcome, Outcome::Skipped { .. }),
                    "{}: {:?}",
                    r.path,
                    r.outcome
                );
            }
        }
        assert_eq!(
            before,
            dump(conn).await,
            "importing again changed the database ({})",
            db.backend
        );
        db
    })
    .await;
}

#[tokio::test]
async fn misfits_go_to_review_with_raw_row_and_column() {
    each_backend(|db: TestDb| async move {
        let conn = db.store.db();
        let roster = load_roster(conn).await;
        let reports = import(&db.store, &[fixtures().join("dental-messy.csv")], None).await;
        assert_eq!(reports[0].outcome, Outcome::Imported);
        let tasks = review_tasks::Entity::find()
            .order_by_asc(review_tasks::Column::Id)
            .all(conn)
            .await
            .unwrap();
        let payloads: Vec<(String, serde_json::Value)> = tasks
            .iter()
            .map(|t| {
                assert_eq!(t.kind, "value");
                (
                    t.field_key.clone().unwrap(),
                    serde_json::from_str(&t.payload).unwrap(),
                )
            })
            .collect();
        let find = |key: &str| {
            payloads
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, p)| p)
                .unwrap_or_else(|| panic!("no task for {key}: {payloads:?}"))
        };
        let p = find("q10.home");
        assert_eq!(p["raw"], "1,234");
        assert_eq!(p["row"], 2);
        assert_eq!(p["column"], "q10.home");
        assert_eq!(p["file"], "dental-messy.csv");
        assert!(
            p["reason"]
                .as_str()
                .unwrap()
                .contains("outside the range 0–999"),
            "{p}"
        );
        let p = find("q03");
        assert_eq!(p["raw"], "1、2");
        assert!(
            p["reason"]
                .as_str()
                .unwrap()
                .contains("two answers to a single choice"),
            "{p}"
        );
        assert_eq!(find("q08")["raw"], "5");
        assert_eq!(find("q10.facility")["raw"], "1,2");
        let p = find("q06");
        assert_eq!(p["raw"], "1;7");
        assert_eq!(p["row"], 7, "row counts records as a spreadsheet does");
        assert_eq!(p["line"], 9, "line counts the line breaks inside values");
        assert!(
            p["reason"]
                .as_str()
                .unwrap()
                .contains("excludes the others"),
            "{p}"
        );
        let p = find("q04.full");
        assert_eq!(p["raw"], "150");
        assert_eq!(tasks.len(), 6);

        // The rows' other answers are stored.
        let (d5, d6, d8) = (
            dental_code(&roster, 5),
            dental_code(&roster, 6),
            dental_code(&roster, 8),
        );
        assert_eq!(
            accepted(conn, &d5, "q03").await,
            Some(Value::Choice("2".into()))
        );
        assert_eq!(accepted(conn, &d5, "q04.full").await, Some(Value::Int(5)));
        assert_eq!(
            accepted(conn, &d5, "q06").await,
            Some(Value::Choices(vec!["2".into(), "4".into()]))
        );
        assert_eq!(
            accepted(conn, &d5, "q10.facility").await,
            Some(Value::Int(12))
        );
        assert_eq!(accepted(conn, &d5, "q11a").await, Some(Value::Bool(true)));
        assert_eq!(accepted(conn, &d5, "q18a").await, Some(Value::Bool(true)));
        assert_eq!(accepted(conn, &d6, "q04.full").await, Some(Value::Unknown));
        assert_eq!(
            accepted(conn, &d6, "q04.part").await,
            None,
            "blank is 無回答"
        );
        assert_eq!(
            accepted(conn, &d6, "q06").await,
            Some(Value::Choices(vec!["1".into(), "3".into()]))
        );
        assert_eq!(
            accepted(conn, &d6, "q12").await,
            Some(Value::Choices(vec!["1".into(), "4".into()]))
        );
        assert_eq!(
            accepted(conn, &d6, "q26").await,
            Some(Value::Choice("1".into()))
        );
        assert_eq!(
            accepted(conn, &d6, "q28").await,
            Some(Value::Text("訪問の依頼が\n増えています".into()))
        );
        assert_eq!(
            accepted(conn, &d8, "q08").await,
            Some(Value::Choice("1".into()))
        );
        assert_eq!(accepted(conn, &d8, "q11a").await, Some(Value::Unknown));
        // The misfit is kept for review, not accepted.
        let r6 = response_of(conn, &d6).await;
        let hist = answer_history(conn, r6.id, "q03").await.unwrap();
        assert_eq!(hist.len(), 1);
        assert_eq!(hist[0].status, "review");
        assert_eq!(hist[0].source_ref, "dental-messy.csv row 3 col q03");
        let a = capsurvey_store::accepted_answer(conn, r6.id, "q10.home")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(a.source_ref, "dental-messy.csv row 3 col q10.home");
        assert_eq!(a.row_number, Some(3));
        assert_eq!(a.source_kind, "csv");
        db
    })
    .await;
}

#[tokio::test]
async fn newer_csv_supersedes_with_history() {
    each_backend(|db: TestDb| async move {
        let conn = db.store.db();
        let roster = load_roster(conn).await;
        let d0 = dental_code(&roster, 0);
        let first = import(
            &db.store,
            &[fixtures().join("dental-utf8bom-ids.csv")],
            None,
        )
        .await;
        assert_eq!(first[0].outcome, Outcome::Imported);
        let second = import(
            &db.store,
            &[fixtures().join("later/dental-correction.csv")],
            None,
        )
        .await;
        let r = &second[0];
        assert_eq!(r.outcome, Outcome::Imported, "{r:?}");
        assert!(r.answers.superseded >= 2, "{r:?}");
        assert_eq!(r.answers.conflicts, 0);
        assert_eq!(
            r.answers.superseded + r.answers.unchanged,
            5,
            "the five answers of the correction: {r:?}"
        );
        assert_eq!(
            accepted(conn, &d0, "q08").await,
            Some(Value::Choice("2".into()))
        );
        assert_eq!(accepted(conn, &d0, "q04.full").await, Some(Value::Int(3)));
        let resp = response_of(conn, &d0).await;
        let hist = answer_history(conn, resp.id, "q08").await.unwrap();
        assert_eq!(hist.len(), 2);
        assert_eq!(hist[0].status, "superseded");
        assert_eq!(hist[0].superseded_by, Some(hist[1].id));
        assert_eq!(hist[1].status, "accepted");
        assert!(
            hist[1]
                .source_ref
                .starts_with("dental-correction.csv row 2"),
            "{}",
            hist[1].source_ref
        );
        let audits = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("answer.supersede"))
            .all(conn)
            .await
            .unwrap();
        assert_eq!(audits.len() as u64, r.answers.superseded);
        db
    })
    .await;
}

#[tokio::test]
async fn fax_then_different_csv_is_a_conflict() {
    each_backend(|db: TestDb| async move {
        let conn = db.store.db();
        let roster = load_roster(conn).await;
        let d0 = dental_code(&roster, 0);
        let dental = catalog().get("dental").unwrap();
        let version = register_survey(conn, &dental.parsed, "test").await.unwrap();
        let f = capsurvey_store::facility_by_code(conn, &d0)
            .await
            .unwrap()
            .unwrap();
        let resp = response_for(conn, version.id, f.id, None).await.unwrap();
        let scan = |r: &str| Source {
            kind: SourceKind::Scan,
            source_ref: r.into(),
            scanned_page_id: None,
            imported_file_id: None,
            row_number: None,
            person: None,
        };
        let put = put_answer(
            conn,
            &resp,
            "q08",
            Some(Value::Choice("3".into())),
            Some(0.99),
            &scan("fax.tif p2"),
            "t",
        )
        .await
        .unwrap();
        assert!(matches!(put, Put::Inserted(_)));
        // The same value by FAX and CSV agrees.
        put_answer(
            conn,
            &resp,
            "q04.full",
            Some(Value::Int(2)),
            None,
            &scan("fax.tif p1"),
            "t",
        )
        .await
        .unwrap();
        // The FAX has a value where the CSV row will be blank (q03.3, その他 not chosen).
        put_answer(
            conn,
            &resp,
            "q03.3",
            Some(Value::Text("組合".into())),
            None,
            &scan("fax.tif p1"),
            "t",
        )
        .await
        .unwrap();

        let reports = import(
            &db.store,
            &[fixtures().join("dental-utf8bom-ids.csv")],
            None,
        )
        .await;
        let r = &reports[0];
        assert_eq!(r.outcome, Outcome::Imported);
        assert_eq!(r.answers.conflicts, 1, "{r:?}");
        assert_eq!(r.answers.blank_kept_other, 1, "{r:?}");
        assert!(r.answers.unchanged >= 1, "{r:?}");
        // The FAX value stays accepted; the CSV value waits beside it with a conflict task.
        assert_eq!(
            accepted(conn, &d0, "q08").await,
            Some(Value::Choice("3".into()))
        );
        assert_eq!(
            accepted(conn, &d0, "q03.3").await,
            Some(Value::Text("組合".into()))
        );
        let hist = answer_history(conn, resp.id, "q08").await.unwrap();
        assert_eq!(hist.len(), 2);
        assert_eq!(
            (hist[1].status.as_str(), hist[1].source_kind.as_str()),
            ("review", "csv")
        );
        let tasks = review_tasks::Entity::find()
            .filter(review_tasks::Column::Kind.eq("conflict"))
            .all(conn)
            .await
            .unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].field_key.as_deref(), Some("q08"));
        assert!(
            tasks[0].payload.contains("fax.tif p2")
                && tasks[0]
                    .payload
                    .contains("dental-utf8bom-ids.csv row 2 col q08")
        );
        db
    })
    .await;
}

#[tokio::test]
async fn foreign_layout_with_mapping() {
    each_backend(|db: TestDb| async move {
        let conn = db.store.db();
        let roster = load_roster(conn).await;
        let reports = import(
            &db.store,
            &[fixtures().join("foreign/consultant-batch.csv")],
            Some("foreign/consultant-batch.mapping.toml"),
        )
        .await;
        let r = &reports[0];
        assert_eq!(r.outcome, Outcome::Imported, "{r:?}");
        assert_eq!(r.survey.as_deref(), Some("homecare-clinic v1"));
        assert_eq!((r.rows, r.rows_stored), (2, 2), "{r:?}");
        assert!(r.warnings.is_empty(), "{:?}", r.warnings);
        assert_eq!(r.answers.sent_to_review, 0, "{r:?}");
        let c3 = roster
            .iter()
            .filter(|(_, t)| t == "homecare-clinic")
            .nth(3)
            .unwrap()
            .0
            .clone();
        let q07 = accepted(conn, &c3, "q07").await;
        assert!(
            matches!(&q07, Some(Value::Choice(c)) if c == "1" || c == "3"),
            "{q07:?}"
        );
        assert_eq!(accepted(conn, &c3, "q03.2").await, Some(Value::Int(3)));
        assert!(matches!(
            accepted(conn, &c3, "q14").await,
            Some(Value::Bool(_))
        ));
        // Without the mapping the layout is not guessed.
        let plain = import(
            &db.store,
            &[fixtures().join("foreign/consultant-batch.csv")],
            None,
        )
        .await;
        assert!(plain[0].failed(), "{:?}", plain[0]);
        db
    })
    .await;
}

#[tokio::test]
async fn a_file_that_fails_leaves_nothing_and_others_go_on() {
    each_backend(|db: TestDb| async move {
        let conn = db.store.db();
        load_roster(conn).await;
        let files = [
            fixtures().join("dental-truncated.csv"),
            fixtures().join("does-not-exist.csv"),
            fixtures().join("dental-utf8bom-ids.csv"),
        ];
        let reports = import(&db.store, &files, None).await;
        assert!(reports[0].failed());
        assert!(reports[1].failed());
        let Outcome::Failed { error } = &reports[1].outcome else {
            unreachable!()
        };
        assert!(error.contains("cannot read"), "{error}");
        assert_eq!(reports[2].outcome, Outcome::Imported);
        assert_eq!(
            imported_files::Entity::find()
                .all(conn)
                .await
                .unwrap()
                .len(),
            1
        );
        db
    })
    .await;
}

#[tokio::test]
async fn a_facility_twice_in_one_file_is_read_in_order_whatever_the_batches() {
    // Rows of one file are written in batches; the second row of a facility must see what the
    // first stored, whether they share a batch or not (a block of a few bytes makes every row a
    // batch of its own), and a misfit given twice is queued once.
    for block in [None, Some(64)] {
        each_backend(|db: TestDb| async move {
            let conn = db.store.db();
            let roster = load_roster(conn).await;
            let (a, b) = (dental_code(&roster, 0), dental_code(&roster, 1));
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("twice.csv");
            std::fs::write(
                &path,
                format!(
                    "facility_code,q01a,q03,q04.full,q04.part\n\
                     {a},{name},1,5,2000\n{b},{name},2,3,\n{a},{name},2,5,2000\n",
                    name = "みどり歯科医院".repeat(4)
                ),
            )
            .unwrap();
            let mut opts = ImportOptions::new("test");
            opts.read.block_bytes = block;
            let reports = import_files(&db.store, catalog(), &[path], &opts, &mut |_| {}).await;
            let r = &reports[0];
            assert_eq!(r.outcome, Outcome::Imported, "{r:?}");
            assert_eq!(r.rows_stored, 3);
            let c = r.answers;
            assert_eq!(
                (c.inserted, c.superseded, c.unchanged, c.sent_to_review),
                (7, 1, 2, 2),
                "{block:?} {}: {c:?}",
                db.backend
            );
            assert_eq!(
                accepted(conn, &a, "q03").await,
                Some(Value::Choice("2".into()))
            );
            let resp = response_of(conn, &a).await;
            let hist = answer_history(conn, resp.id, "q03").await.unwrap();
            assert_eq!(
                hist.iter().map(|h| h.status.as_str()).collect::<Vec<_>>(),
                ["superseded", "accepted"]
            );
            let tasks = review_tasks::Entity::find().all(conn).await.unwrap();
            assert_eq!(tasks.len(), 1, "the same misfit of the same facility, once");
            db
        })
        .await;
    }
}
