//! `capsurvey forms …` end to end: a temporary SQLite database with facilities inserted through
//! the store, forms generated into a temporary folder, mailings checked in the database.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use capsurvey_store::entity::{facilities, mailings, responses};
use capsurvey_store::sea_orm::{ActiveModelTrait, EntityTrait, Set};
use capsurvey_store::testing::TestDb;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn campaign() -> PathBuf {
    repo().join("fixtures/campaign.toml")
}

/// Runs the CLI against the test database from a neutral working directory.
fn capsurvey(db: &TestDb, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .current_dir(cwd)
        .env_remove("CAPSURVEY_DB")
        .args([
            "--db",
            &db.spec,
            "--surveys",
            repo().join("surveys").to_str().unwrap(),
        ])
        .args(args)
        .output()
        .expect("run capsurvey")
}

fn ok(out: &Output) -> String {
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "capsurvey failed: {text}");
    text
}

/// Five dental clinics (two areas, one area set by hand, one without area) and one station.
async fn roster(db: &TestDb) {
    let now = chrono::Utc::now();
    let rows = [
        (
            "1310000005",
            "dental",
            "みどり東歯科医院",
            Some("東地区"),
            None,
        ),
        (
            "1310000001",
            "dental",
            "みどり中央歯科クリニック",
            Some("中央地区"),
            None,
        ),
        (
            "1310000003",
            "dental",
            "医療法人社団さくら会 さくら歯科",
            Some("東地区"),
            Some("中央地区"),
        ),
        ("1310000002", "dental", "ひかり歯科", Some("東地区"), None),
        ("1310000004", "dental", "あおば歯科/分院", None, None),
        (
            "1360000001",
            "visiting-nurse",
            "みどり訪問看護ステーション",
            Some("中央地区"),
            None,
        ),
    ];
    for (code, ty, name, area, area_override) in rows {
        facilities::ActiveModel {
            code: Set(code.into()),
            facility_type: Set(ty.into()),
            name: Set(name.into()),
            postal_code: Set(Some("100-0001".into())),
            address: Set(Some("みどり市中央一丁目1番1号".into())),
            phone: Set(Some("0120-000-333".into())),
            area: Set(area.map(Into::into)),
            area_override: Set(area_override.map(Into::into)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(db.store.db())
        .await
        .unwrap();
    }
}

async fn all_mailings(db: &TestDb) -> Vec<mailings::Model> {
    let mut m = mailings::Entity::find().all(db.store.db()).await.unwrap();
    m.sort_by_key(|m| m.id);
    m
}

async fn facility_codes(db: &TestDb, ids: &[Option<i64>]) -> Vec<String> {
    let all = facilities::Entity::find().all(db.store.db()).await.unwrap();
    ids.iter()
        .map(|id| {
            all.iter()
                .find(|f| Some(f.id) == *id)
                .map(|f| f.code.clone())
                .unwrap_or_default()
        })
        .collect()
}

fn pages(pdf: &Path) -> usize {
    let out = Command::new("pdfinfo")
        .arg(pdf)
        .output()
        .expect("pdfinfo (poppler-utils)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

fn files(dir: &Path) -> Vec<String> {
    let mut f: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    f.sort();
    f
}

#[tokio::test]
async fn generate_records_mailings_and_writes_forms() {
    let db = TestDb::sqlite().await;
    roster(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let campaign = campaign();
    let text = ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            campaign.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert!(text.contains("5 initial form(s)"), "{text}");

    // Mailings: one per dental clinic, one batch, in mailing order (area, then code; no area last).
    let m = all_mailings(&db).await;
    assert_eq!(m.len(), 5);
    assert!(
        m.iter()
            .all(|x| x.kind == "initial" && x.batch == m[0].batch)
    );
    assert!(m[0].batch.ends_with("-dental"), "{}", m[0].batch);
    let codes = facility_codes(&db, &m.iter().map(|x| x.facility_id).collect::<Vec<_>>()).await;
    // 中央地区: 1310000001, 1310000003 (override); 東地区: 1310000002, 1310000005; none: 1310000004.
    assert_eq!(
        codes,
        [
            "1310000001",
            "1310000003",
            "1310000002",
            "1310000005",
            "1310000004"
        ]
    );
    for x in &m {
        assert_eq!(x.form_code, format!("D-{:06}", x.id));
    }

    // Files: layout, print file, one PDF per facility named with code, name and form code.
    let names = files(&out);
    assert!(
        names.contains(&"layout_dental_v1.json".to_owned()),
        "{names:?}"
    );
    let print = names
        .iter()
        .find(|n| n.starts_with("print_dental_"))
        .expect("print file");
    assert_eq!(
        names.iter().filter(|n| n.starts_with("13100")).count(),
        5,
        "{names:?}"
    );
    assert!(
        names.contains(&format!(
            "1310000004_あおば歯科_分院_{}.pdf",
            m[4].form_code
        )),
        "{names:?}"
    );
    let one = out.join(format!(
        "1310000001_みどり中央歯科クリニック_{}.pdf",
        m[0].form_code
    ));
    let per_form = pages(&one);
    assert!(per_form >= 4);
    assert_eq!(
        pages(&out.join(print)),
        5 * per_form,
        "the print file holds every form"
    );
    let qpdf = Command::new("qpdf")
        .arg("--check")
        .arg(&one)
        .output()
        .expect("qpdf");
    assert!(qpdf.status.success());
    let text = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&one)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("みどり中央歯科クリニック"));
    assert!(text.contains(&format!("管理No {}", m[0].form_code)));

    // The layout file is what the forms crate computes from the definition.
    let layout = capsurvey_layout::Layout::from_json(
        &std::fs::read_to_string(out.join("layout_dental_v1.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(layout.pages.len(), per_form);

    // Each run is a new batch.
    ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            campaign.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    let m2 = all_mailings(&db).await;
    assert_eq!(m2.len(), 10);
    assert_eq!(m2[5].batch, format!("{}-2", m[0].batch));
    // A batch name given twice is refused, and nothing is stored.
    let args = [
        "forms",
        "generate",
        "--survey",
        "dental",
        "--campaign",
        campaign.to_str().unwrap(),
        "--batch",
        "autumn",
        "--out",
    ];
    let mut a = args.to_vec();
    a.push(out.to_str().unwrap());
    ok(&capsurvey(&db, tmp.path(), &a));
    let again = capsurvey(&db, tmp.path(), &a);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert_eq!(all_mailings(&db).await.len(), 15);

    // Filters: by facility code and by area (the hand-set area wins).
    let out2 = tmp.path().join("filtered");
    ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            campaign.to_str().unwrap(),
            "--area",
            "中央地区",
            "--out",
            out2.to_str().unwrap(),
        ],
    ));
    let m3 = all_mailings(&db).await;
    let codes = facility_codes(
        &db,
        &m3[15..].iter().map(|x| x.facility_id).collect::<Vec<_>>(),
    )
    .await;
    assert_eq!(codes, ["1310000001", "1310000003"]);
    ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            campaign.to_str().unwrap(),
            "--facility",
            "1310000002",
            "--out",
            out2.to_str().unwrap(),
        ],
    ));
    let m4 = all_mailings(&db).await;
    assert_eq!(
        facility_codes(&db, &[m4.last().unwrap().facility_id]).await,
        ["1310000002"]
    );
    let bad = capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            campaign.to_str().unwrap(),
            "--facility",
            "999",
            "--out",
            out2.to_str().unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("no dental facility with code 999"));
}

#[tokio::test]
async fn blank_and_reminder_batches() {
    let db = TestDb::sqlite().await;
    roster(&db).await;
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let campaign = campaign();
    let c = campaign.to_str().unwrap();
    let o = out.to_str().unwrap();

    // Before any initial mailing, a reminder has nobody to go to.
    let none = capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            c,
            "--reminder",
            "--out",
            o,
        ],
    );
    assert!(!none.status.success());

    ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            c,
            "--out",
            o,
        ],
    ));
    let first = all_mailings(&db).await;
    // One clinic answers.
    let now = chrono::Utc::now();
    responses::ActiveModel {
        survey_version_id: Set(first[0].survey_version_id),
        facility_id: Set(first[0].facility_id.unwrap()),
        mailing_id: Set(Some(first[0].id)),
        status: Set("complete".into()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(db.store.db())
    .await
    .unwrap();

    let text = ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            c,
            "--reminder",
            "--out",
            o,
        ],
    ));
    assert!(text.contains("4 reminder form(s)"), "{text}");
    let all = all_mailings(&db).await;
    let reminders: Vec<_> = all.iter().filter(|m| m.kind == "reminder").collect();
    assert_eq!(reminders.len(), 4);
    assert!(
        reminders
            .iter()
            .all(|m| m.facility_id != first[0].facility_id),
        "the clinic that answered gets no reminder"
    );
    assert!(reminders[0].batch.ends_with("-dental-reminder"));
    let pdf = files(&out)
        .into_iter()
        .find(|n| n.ends_with(&format!("{}.pdf", reminders[0].form_code)))
        .unwrap();
    let text = Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(out.join(pdf))
        .arg("-")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&text.stdout).contains("【再依頼】"));

    // A blank form: one mailing without facility, one PDF.
    let text = ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            c,
            "--blank",
            "--out",
            o,
        ],
    ));
    assert!(text.contains("1 blank form(s)"), "{text}");
    let blank: Vec<_> = all_mailings(&db)
        .await
        .into_iter()
        .filter(|m| m.kind == "blank")
        .collect();
    assert_eq!(blank.len(), 1);
    assert_eq!(blank[0].facility_id, None);
    assert!(out.join("blank_dental_v1.pdf").is_file());

    // Visiting-nurse forms go to the station only.
    let text = ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "generate",
            "--survey",
            "visiting-nurse",
            "--campaign",
            c,
            "--out",
            o,
        ],
    ));
    assert!(text.contains("1 initial form(s)"), "{text}");
    assert!(
        all_mailings(&db)
            .await
            .last()
            .unwrap()
            .form_code
            .starts_with("N-")
    );
}

#[tokio::test]
async fn check_calibration_layout_and_missing_campaign() {
    let db = TestDb::sqlite().await;
    let tmp = tempfile::tempdir().unwrap();
    let campaign = campaign();
    for survey in ["dental", "homecare-clinic", "visiting-nurse"] {
        let text = ok(&capsurvey(
            &db,
            tmp.path(),
            &[
                "forms",
                "check",
                "--survey",
                survey,
                "--campaign",
                campaign.to_str().unwrap(),
            ],
        ));
        assert!(text.contains("ok: nothing found"), "{text}");
    }
    // A campaign allowing fewer pages than the form has: reported, non-zero exit.
    let strict = tmp.path().join("strict.toml");
    let text = std::fs::read_to_string(&campaign).unwrap().replace(
        "[surveys.dental]\nmax_pages = 8",
        "[surveys.dental]\nmax_pages = 2",
    );
    std::fs::write(&strict, text).unwrap();
    let bad = capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "check",
            "--survey",
            "dental",
            "--campaign",
            strict.to_str().unwrap(),
        ],
    );
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("max_pages = 2"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );

    let cal = tmp.path().join("cal/calibration.pdf");
    ok(&capsurvey(
        &db,
        tmp.path(),
        &["forms", "calibration", "--out", cal.to_str().unwrap()],
    ));
    assert_eq!(pages(&cal), 1);

    let lf = tmp.path().join("layout.json");
    ok(&capsurvey(
        &db,
        tmp.path(),
        &[
            "forms",
            "layout",
            "--survey",
            "homecare-clinic",
            "--out",
            lf.to_str().unwrap(),
        ],
    ));
    let layout =
        capsurvey_layout::Layout::from_json(&std::fs::read_to_string(&lf).unwrap()).unwrap();
    let text = std::fs::read_to_string(repo().join("surveys/homecare-clinic.toml")).unwrap();
    let parsed = capsurvey_survey::parse_survey("homecare-clinic.toml", &text).unwrap();
    assert_eq!(
        layout,
        capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash)
    );

    // No --campaign and no fixtures/campaign.toml in the working directory: a clear error.
    let missing = capsurvey(&db, tmp.path(), &["forms", "check", "--survey", "dental"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--campaign"));
}
