//! End to end: the real binary imports the roster fixtures into a temporary SQLite database,
//! twice, then lists the roster and shows the status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/roster")
}

const FILES: [&str; 6] = [
    "03-1_dental_facility_info_20260601.csv",
    "02-1_clinic_facility_info_20260601.csv",
    "jigyosho_130_midori_20260630.csv",
    "13_todokede_ika_r0711.xlsx",
    "13_todokede_shika_r0711.xlsx",
    "midori_local_roster.csv",
];

fn capsurvey(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .arg("--db")
        .arg(db)
        .args(["--actor", "e2e"])
        .args(args)
        .env_remove("CAPSURVEY_DB")
        .env_remove("RUST_LOG")
        .output()
        .expect("run capsurvey")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn import_twice_list_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let map = fixtures().join("area-map.csv");
    let mut args: Vec<String> = vec!["roster".into(), "import".into()];
    args.extend(
        FILES
            .iter()
            .map(|f| fixtures().join(f).display().to_string()),
    );
    args.extend(["--area-map".into(), map.display().to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();

    let out = capsurvey(&db, &args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("医療情報ネット (ナビイ) 施設票, UTF-8 (BOM)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("地方厚生局 届出受理医療機関名簿, xlsx"),
        "{stdout}"
    );
    assert!(
        stdout.contains("municipality list (local CSV), Shift_JIS (CP932)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("02-1_clinic_facility_info_20260601.csv:12: 12 columns"),
        "{stdout}"
    );
    assert!(
        stdout.contains("midori_local_roster.csv:10: 名称 (name) is empty"),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("rows read 36, facilities 36: created 36, updated 0, unchanged 0, errors 0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("areas: 0 facilities re-assigned"),
        "areas are assigned during the import: {stdout}"
    );

    let out = capsurvey(&db, &args);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout.matches("already imported on").count(),
        FILES.len(),
        "{stdout}"
    );
    assert!(!stdout.contains("created"), "{stdout}");

    let out = capsurvey(&db, &["roster", "list"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("㈱みどりケア訪問看護ステーション"),
        "{stdout}"
    );
    assert!(stdout.contains("髙橋デンタルオフィス"));
    assert!(stdout.ends_with("116 facilities\n"), "{stdout}");

    let out = capsurvey(
        &db,
        &["roster", "list", "--type", "dental", "--format", "csv"],
    );
    let (stdout, _) = text(&out);
    assert_eq!(stdout.lines().count(), 1 + 39, "{stdout}");
    assert!(stdout.starts_with("code,type,name,area,area_override,phone,fax,address\n"));

    let out = capsurvey(&db, &["roster", "set-area", "L003", "中央"]);
    assert!(out.status.success(), "{:?}", text(&out));
    let (stdout, _) = text(&capsurvey(
        &db,
        &[
            "roster",
            "list",
            "--area",
            "中央",
            "--type",
            "visiting-nurse",
        ],
    ));
    assert!(
        stdout.contains("L003") && stdout.contains("中央*"),
        "{stdout}"
    );
    let out = capsurvey(&db, &["roster", "set-area", "L003", "--clear"]);
    assert!(out.status.success(), "{:?}", text(&out));
    assert!(
        text(&out).0.contains("area from the map: 西"),
        "{:?}",
        text(&out)
    );

    let out = capsurvey(&db, &["status"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("facilities on the roster: 116"), "{stdout}");
}

#[test]
fn a_file_that_is_not_a_roster_fails_and_the_others_import() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("roster.db");
    let notes = dir.path().join("notes.csv");
    std::fs::write(&notes, "件名,本文\nあ,い\n").unwrap();
    let kaigo = fixtures().join(FILES[2]);
    let out = capsurvey(
        &db,
        &[
            "roster",
            "import",
            notes.to_str().unwrap(),
            kaigo.to_str().unwrap(),
        ],
    );
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("notes.csv: no roster header"), "{stderr}");
    assert!(stdout.contains("created 32"), "{stdout}");
    let out = capsurvey(&db, &["roster", "set-area", "0000000000", "北"]);
    assert!(!out.status.success());
    assert!(
        text(&out)
            .1
            .contains("no facility has the code `0000000000`"),
        "{:?}",
        text(&out)
    );
}
