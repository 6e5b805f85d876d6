//! `capsurvey replies import` end to end: the real binary on the reply fixtures.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use capsurvey_store::entity::facilities;
use capsurvey_store::sea_orm::{ActiveModelTrait, Set};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    root()
        .join("fixtures/replies")
        .join(name)
        .display()
        .to_string()
}

fn capsurvey(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .arg("--db")
        .arg(db)
        .arg("--surveys")
        .arg(root().join("surveys"))
        .args(args)
        .output()
        .expect("run capsurvey")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// The facilities of the fixtures, as the roster (the roster import is another command).
fn load_roster(db: &Path) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = capsurvey_store::Store::open(&db.display().to_string())
            .await
            .unwrap();
        insert_roster(&store).await;
    });
}

async fn insert_roster(store: &capsurvey_store::Store) {
    let list = std::fs::read_to_string(fixture("roster/facilities.csv")).unwrap();
    for line in list.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        facilities::ActiveModel {
            code: Set(c[0].into()),
            facility_type: Set(c[1].into()),
            name: Set(c[2].into()),
            created_at: Set(capsurvey_store::now()),
            updated_at: Set(capsurvey_store::now()),
            ..Default::default()
        }
        .insert(store.db())
        .await
        .unwrap();
    }
}

#[test]
fn import_reports_rows_and_fails_for_a_truncated_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("replies.db");
    load_roster(&db);
    let files = [
        fixture("dental-utf8bom-ids.csv"),
        fixture("dental-excel-sjis-labels.csv"),
        fixture("dental-messy.csv"),
        fixture("dental-truncated.csv"),
        fixture("visiting-nurse.xlsx"),
    ];
    let mut args = vec!["replies", "import"];
    args.extend(files.iter().map(String::as_str));
    let out = capsurvey(&db, &args);
    let (stdout, stderr) = text(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a file failed entirely\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("dental-utf8bom-ids.csv: imported as dental v1"),
        "{stdout}"
    );
    assert!(stdout.contains("Shift_JIS (CP932)"), "{stdout}");
    assert!(
        stdout.contains(
            "row not imported: dental-messy.csv:7 (row 5): unknown facility code 1399999999"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("6 sent to review"), "{stdout}");
    assert!(
        stdout.contains("visiting-nurse.xlsx: imported as visiting-nurse v1"),
        "{stdout}"
    );
    assert!(
        stderr.contains("dental-truncated.csv") && stderr.contains("truncated"),
        "{stderr}"
    );
    assert!(
        stderr.contains("nothing from this file was imported"),
        "{stderr}"
    );
    assert!(
        stdout.contains("5 file(s): 4 imported, 0 skipped"),
        "{stdout}"
    );

    // Again, without the broken file: everything is skipped, nothing fails.
    let mut args = vec!["replies", "import"];
    args.extend(
        files
            .iter()
            .filter(|f| !f.contains("truncated"))
            .map(String::as_str),
    );
    let out = capsurvey(&db, &args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("dental-messy.csv: skipped, the same file was imported on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("4 file(s): 0 imported, 4 skipped"),
        "{stdout}"
    );
}

#[test]
fn survey_and_mapping_options() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("replies.db");
    load_roster(&db);
    let out = capsurvey(
        &db,
        &[
            "replies",
            "import",
            "--survey",
            "nope",
            &fixture("dental-messy.csv"),
        ],
    );
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("no survey `nope`"), "{stderr}");

    let out = capsurvey(
        &db,
        &[
            "replies",
            "import",
            "--mapping",
            &fixture("foreign/consultant-batch.mapping.toml"),
            &fixture("foreign/consultant-batch.csv"),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("imported as homecare-clinic v1"),
        "{stdout}"
    );
    assert!(stdout.contains("by mapping"), "{stdout}");

    let out = capsurvey(&db, &["replies", "import", "--help"]);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("--mapping <FILE>") && stdout.contains("docs/replies-format.md"),
        "{stdout}"
    );
}

/// What the store holds, to see that a second run changes nothing.
async fn store_counts(store: &capsurvey_store::Store) -> [u64; 4] {
    use capsurvey_store::entity::{answers, imported_files, responses, review_tasks};
    use capsurvey_store::sea_orm::{EntityTrait, PaginatorTrait};
    let db = store.db();
    [
        answers::Entity::find().count(db).await.unwrap(),
        review_tasks::Entity::find().count(db).await.unwrap(),
        responses::Entity::find().count(db).await.unwrap(),
        imported_files::Entity::find().count(db).await.unwrap(),
    ]
}

/// Damaged reply files in a batch (issue 9): a 10 MB cell goes to review as too long, named by
/// file, row and column, with only the start of its text; a UTF-8 file with a broken character
/// is refused at its line (not read as Shift_JIS); the rest of the batch is imported, and
/// running the same import again changes nothing.
#[tokio::test]
async fn damaged_reply_files_are_reported_and_the_batch_goes_on() {
    use capsurvey_store::entity::review_tasks;
    use capsurvey_store::sea_orm::EntityTrait;
    capsurvey_store::testing::each_backend(|db| async move {
        insert_roster(&db.store).await;
        let dir = tempfile::tempdir().unwrap();
        let huge = dir.path().join("huge-cell.csv");
        let csv = std::fs::read_to_string(fixture("dental-utf8bom-ids.csv")).unwrap();
        std::fs::write(&huge, csv.replacen("佐藤 太郎", &"あ".repeat(3_495_253), 1)).unwrap();
        let huge = huge.display().to_string();
        let broken = root()
            .join("fixtures/hostile/reply-invalid-utf8.csv")
            .display()
            .to_string();
        let good = fixture("dental-excel-sjis-labels.csv");
        let run = || {
            Command::new(env!("CARGO_BIN_EXE_capsurvey"))
                .arg("--db")
                .arg(&db.spec)
                .arg("--surveys")
                .arg(root().join("surveys"))
                .args(["replies", "import", &huge, &broken, &good])
                .env_remove("CAPSURVEY_DB")
                .output()
                .expect("run capsurvey")
        };
        let started = std::time::Instant::now();
        let out = run();
        // A sanity bound, not a benchmark: reading the 10 MB cell takes well under a second.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(60),
            "{:?}",
            started.elapsed()
        );
        let (stdout, stderr) = text(&out);
        let backend = db.backend;
        assert_eq!(out.status.code(), Some(1), "{backend}\n{stdout}\n{stderr}");
        assert!(
            stderr.contains(&format!(
                "error: {broken}: line 4: the text is neither UTF-8 nor Shift_JIS (CP932)"
            )),
            "{backend}: {stderr}"
        );
        assert!(
            stdout.contains(&format!("{huge}: imported as dental v1")),
            "{backend}: {stdout}"
        );
        assert!(
            stdout.contains(
                "  damaged cell: huge-cell.csv:2, column q02.name: the text has 3495253 \
                 characters, more than the 500 an answer here may have"
            ),
            "{backend}: {stdout}"
        );
        assert!(
            stdout.contains("dental-excel-sjis-labels.csv: imported as dental v1"),
            "{backend}: {stdout}"
        );
        assert!(
            stdout.contains("3 file(s): 2 imported, 0 skipped as already imported, 1 failed"),
            "{backend}: {stdout}"
        );
        // The review task: file, row and column, and a shortened copy of the text.
        let tasks = review_tasks::Entity::find()
            .all(db.store.db())
            .await
            .unwrap();
        let long: Vec<serde_json::Value> = tasks
            .iter()
            .filter(|t| t.field_key.as_deref() == Some("q02.name"))
            .map(|t| serde_json::from_str(&t.payload).unwrap())
            .collect();
        assert_eq!(long.len(), 1, "{backend}: {long:?}");
        let p = &long[0];
        assert_eq!(
            (&p["file"], &p["row"], &p["column"]),
            (&"huge-cell.csv".into(), &2.into(), &"q02.name".into()),
            "{backend}: {p}"
        );
        let raw = p["raw"].as_str().unwrap();
        assert!(
            raw.len() < 1000 && raw.starts_with("あああ") && raw.contains("3495253 characters"),
            "{backend}: {raw}"
        );
        let before = store_counts(&db.store).await;

        let out = run();
        let (stdout, stderr) = text(&out);
        assert_eq!(out.status.code(), Some(1), "{backend}\n{stdout}\n{stderr}");
        assert!(
            stdout.contains("3 file(s): 0 imported, 2 skipped as already imported, 1 failed"),
            "{backend}: {stdout}"
        );
        assert!(stderr.contains("line 4: "), "{backend}: {stderr}");
        assert_eq!(store_counts(&db.store).await, before, "{backend}");
        db
    })
    .await;
}
