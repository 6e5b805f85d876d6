//! `capsurvey scan …` over the real binary: forms generated through the CLI, replies simulated
//! from them, ingested twice; the calibration page printed, "faxed" through pdftoppm, scaled and
//! cut, and measured.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use capsurvey_faxsim::inbox::{Channel, Reply, write_inbox};
use capsurvey_faxsim::{Picture, TiffCompression, write_tiff};
use capsurvey_scan::PageImage;
use capsurvey_store::testing::each_backend;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn capsurvey(spec: &str, cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .current_dir(cwd)
        .env_remove("CAPSURVEY_DB")
        .env_remove("CAPSURVEY_DATA")
        .args(["--db", spec, "--data"])
        .arg(cwd.join("data"))
        .args(args)
        .output()
        .expect("run capsurvey")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn ok(out: &Output) -> String {
    let t = text(out);
    assert!(out.status.success(), "{t}");
    t
}

/// The dental roster imported and its forms generated (into `cwd/forms`), through the CLI.
fn roster_and_forms(spec: &str, cwd: &Path) {
    let roster = repo().join("fixtures/roster/03-1_dental_facility_info_20260601.csv");
    ok(&capsurvey(
        spec,
        cwd,
        &["roster", "import", roster.to_str().unwrap()],
    ));
    let campaign = repo().join("fixtures/campaign.toml");
    ok(&capsurvey(
        spec,
        cwd,
        &[
            "forms",
            "generate",
            "--survey",
            "dental",
            "--campaign",
            campaign.to_str().unwrap(),
            "--out",
            "forms",
        ],
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn ingest_twice_report_missing_and_status() {
    each_backend(|db| async move {
        let tmp = tempfile::tempdir().unwrap();
        let cwd = tmp.path();
        roster_and_forms(&db.spec, cwd);
        // Replies to the first four mailings, from the definition and mailings stored.
        let versions = capsurvey_store::survey_versions(db.store.db())
            .await
            .unwrap();
        let v = &versions[0];
        let survey = capsurvey_store::stored_definition(v).unwrap();
        let layout = capsurvey_forms::form::layout(&survey, &v.content_hash);
        let mailings = capsurvey_store::mailings_of(db.store.db(), v.id)
            .await
            .unwrap();
        let replies: Vec<Reply> = mailings
            .iter()
            .take(4)
            .enumerate()
            .map(|(i, m)| Reply {
                survey: &survey,
                layout: &layout,
                survey_version_id: v.id as u32,
                mailing_id: m.id as u32,
                channel: [
                    Channel::FaxStandard,
                    Channel::FaxFine,
                    Channel::Scan,
                    Channel::FaxFine,
                ][i],
                seed: m.id as u64,
            })
            .collect();
        let inbox = write_inbox(&cwd.join("inbox"), &replies).unwrap();
        let first = capsurvey(
            &db.spec,
            cwd,
            &["scan", "ingest", "inbox", "--report", "r.json"],
        );
        let t = ok(&first);
        let b = db.backend;
        assert!(
            t.contains("4 file(s) (4 read, 0 skipped, 0 failed)"),
            "{b}: {t}"
        );
        assert!(t.contains("2 unidentified"), "{b}: {t}");
        assert!(t.contains("forms with pages still missing"), "{b}: {t}");
        assert!(t.contains("next: capsurvey review serve"), "{b}: {t}");
        let report: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(cwd.join("r.json")).unwrap()).unwrap();
        assert_eq!(
            report["totals"]["pages"].as_u64().unwrap() as usize,
            inbox.pages
        );
        let page = &report["files"][1]["pages"][0];
        assert!(page["boxes"].as_array().unwrap().len() > 5, "{page}");
        assert!(page["transform"]["rotation_deg"].is_number(), "{page}");

        // Again: every file skipped, exit 0, nothing new.
        let t = ok(&capsurvey(&db.spec, cwd, &["scan", "ingest", "inbox"]));
        assert!(
            t.contains("4 file(s) (0 read, 4 skipped, 0 failed)"),
            "{b}: {t}"
        );
        let t = ok(&capsurvey(&db.spec, cwd, &["scan", "missing"]));
        assert!(t.contains("missing"), "{b}: {t}");
        let t = ok(&capsurvey(&db.spec, cwd, &["status"]));
        assert!(t.contains("could not be identified"), "{b}: {t}");

        // A file that is not an image: named, and the exit status says so.
        std::fs::write(cwd.join("notes.pdf"), "not a pdf").unwrap();
        let bad = capsurvey(&db.spec, cwd, &["scan", "ingest", "notes.pdf"]);
        assert!(!bad.status.success());
        assert!(text(&bad).contains("notes.pdf"), "{}", text(&bad));
        db
    })
    .await;
}

/// Staff back the database up by copying `capsurvey.db`: once a command has ended, the file
/// alone must hold everything, with no write-ahead log left beside it holding the latest writes.
#[tokio::test(flavor = "multi_thread")]
async fn after_a_command_the_database_file_alone_holds_everything() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let db = cwd.join("capsurvey.db");
    let spec = db.to_str().unwrap();
    roster_and_forms(spec, cwd);
    for leftover in ["capsurvey.db-wal", "capsurvey.db-shm"] {
        assert!(!cwd.join(leftover).exists(), "{leftover} left behind");
    }
    let copy = cwd.join("backup");
    std::fs::create_dir(&copy).unwrap();
    std::fs::copy(&db, copy.join("capsurvey.db")).unwrap();
    let store = capsurvey_store::Store::open(copy.join("capsurvey.db").to_str().unwrap())
        .await
        .unwrap();
    let versions = capsurvey_store::survey_versions(store.db()).await.unwrap();
    let mailings = capsurvey_store::mailings_of(store.db(), versions[0].id)
        .await
        .unwrap();
    assert_eq!(mailings.len(), 36, "the copy's mailings");
}

/// The review server run as a service is stopped with SIGTERM: it ends cleanly (exit 0) and
/// closes the database like any other command.
#[test]
fn the_review_server_stops_cleanly_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let cwd = tmp.path();
    let spec = cwd.join("capsurvey.db").display().to_string();
    // A command first, so that the database exists with its schema when the server opens it.
    ok(&capsurvey(&spec, cwd, &["status"]));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bind = format!("127.0.0.1:{port}");
    let mut server = Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .current_dir(cwd)
        .env_remove("CAPSURVEY_DB")
        .env_remove("CAPSURVEY_DATA")
        .args(["--db", &spec, "review", "serve", "--bind", &bind])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(&bind).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the server did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // SAFETY: kill only sends a signal to the child started above.
    assert_eq!(unsafe { libc::kill(server.id() as i32, libc::SIGTERM) }, 0);
    let stopped = std::time::Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().unwrap() {
            break status;
        }
        if stopped.elapsed() > std::time::Duration::from_secs(30) {
            server.kill().ok();
            panic!("the server did not stop on SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "exit status after SIGTERM: {status}");
    assert!(
        !cwd.join("capsurvey.db-wal").exists(),
        "write-ahead log left behind"
    );
}

/// The calibration page as a fax machine would see it: rendered by pdftoppm at 204 × 196 dpi.
fn rendered_calibration(dir: &Path, render_dpi: u32) -> PageImage {
    let pdf = dir.join("calibration.pdf");
    if !pdf.exists() {
        ok(&Command::new(env!("CARGO_BIN_EXE_capsurvey"))
            .args(["forms", "calibration", "--out"])
            .arg(&pdf)
            .output()
            .unwrap());
    }
    let stem = dir.join(format!("cal-{render_dpi}"));
    let status = Command::new("pdftoppm")
        .args(["-gray", "-png", "-singlefile", "-r"])
        .arg(render_dpi.to_string())
        .arg(&pdf)
        .arg(&stem)
        .status()
        .expect("pdftoppm (poppler-utils) is installed by .ci/run");
    assert!(status.success());
    let mut page = capsurvey_scan::open(stem.with_extension("png"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    // As the fax sends it: 1-bit at the fax's resolution, whatever was rendered.
    page.dpi_x = 204.0;
    page.dpi_y = 204.0;
    for p in &mut page.pixels {
        *p = if *p < 128 { 0 } else { 255 };
    }
    page.bilevel = true;
    page
}

fn fax(dir: &Path, name: &str, page: &PageImage) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        write_tiff(&[Picture::from(page)], TiffCompression::G4),
    )
    .unwrap();
    path
}

#[test]
fn calibration_page_tells_scaling_and_cut_edges() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let exact = fax(dir, "exact.tif", &rendered_calibration(dir, 204));
    let t = ok(&Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .args(["scan", "calibration"])
        .arg(&exact)
        .output()
        .unwrap());
    assert!(t.contains("OK"), "{t}");

    // A printer that fits the page to its printable area: 96 %.
    let shrunk = fax(dir, "shrunk.tif", &rendered_calibration(dir, 196));
    let out = Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .args(["scan", "calibration"])
        .arg(&shrunk)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("96."), "{t}");
    assert!(t.contains("用紙に合わせる"), "{t}");

    // A fax that loses the top 6 mm of the page.
    let mut cut = rendered_calibration(dir, 204);
    let rows = (6.0 / 25.4 * 204.0) as usize;
    let w = cut.width as usize;
    cut.pixels.drain(..rows * w);
    cut.height -= rows as u32;
    let cut = fax(dir, "cut.tif", &cut);
    let out = Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .args(["scan", "calibration"])
        .arg(&cut)
        .output()
        .unwrap();
    let t = text(&out);
    assert!(t.contains("top"), "{t}");
    assert!(t.contains("cut about 6 mm off the top"), "{t}");
}
