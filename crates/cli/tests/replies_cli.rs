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
    });
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
