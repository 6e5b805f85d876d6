//! The hostile files of `fixtures/hostile/` (README there), each through the reader it attacks
//! the way the CLI calls it: a clear error naming the file (and the page, line or row), no
//! panic, no time or memory blow-up. (`tests/fuzz_smoke.rs` also puts every file through every
//! other reader.)

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use capsurvey_hostile::{Target, hostile_dir, read_dir_files, shipped_surveys};
use capsurvey_scan::{PageErrorKind, ScanError};
use capsurvey_store::testing::TestDb;

#[allow(dead_code)]
#[path = "../examples/make-hostile-fixtures.rs"]
mod generator;

fn path(name: &str) -> PathBuf {
    hostile_dir().join(name)
}

fn shown(name: &str) -> String {
    path(name).display().to_string()
}

/// A page's size, or its error text.
type Page = Result<(u32, u32), String>;

/// Every page of a file.
fn pages(file: &Path) -> Result<Vec<Page>, ScanError> {
    Ok(capsurvey_scan::open(file)?
        .map(|p| p.map(|p| (p.width, p.height)).map_err(|e| e.to_string()))
        .collect())
}

fn quick<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "{what} took {:?}",
        t.elapsed()
    );
    out
}

// ---------------------------------------------------------------------------------------------
// The corpus is what the generator writes

#[test]
fn fixtures_and_seeds_match_the_generator() {
    let committed = read_dir_files(&hostile_dir());
    let mut expected = generator::hostile_files();
    if let Ok(bytes) = generator::encrypted_pdf() {
        expected.push(("encrypted.pdf".into(), bytes));
    } else {
        let old = committed
            .iter()
            .find(|(n, _)| n == "encrypted.pdf")
            .cloned();
        expected.extend(old);
    }
    expected.sort();
    let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&committed), names(&expected), "fixtures/hostile/");
    for ((name, got), (_, want)) in committed.iter().zip(&expected) {
        assert!(
            got == want,
            "fixtures/hostile/{name} differs from a fresh run of make-hostile-fixtures"
        );
    }
    for target in Target::ALL {
        let committed = read_dir_files(&capsurvey_hostile::corpus_dir(target));
        let mut expected = generator::seeds(target);
        expected.sort();
        assert_eq!(names(&committed), names(&expected), "{}", target.name());
        for ((name, got), (_, want)) in committed.iter().zip(&expected) {
            assert!(
                got == want,
                "fuzz/corpus/{}/{name} differs from a fresh run",
                target.name()
            );
            assert!(got.len() <= 12 * 1024, "{name}: seeds stay small");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Page images

#[test]
fn empty_file() {
    let err = capsurvey_scan::open(path("zero-bytes.csv")).unwrap_err();
    assert!(matches!(err, ScanError::Empty { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: the file is empty (0 bytes): the scan or fax transfer probably failed; scan or send it again",
            shown("zero-bytes.csv")
        )
    );
}

/// A reply CSV or roster dropped among the scans, in either encoding.
#[test]
fn text_given_as_a_scan() {
    for name in ["roster-unclosed-quote.csv", "reply-invalid-sjis.csv"] {
        let err = capsurvey_scan::open(path(name)).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "{}: not a TIFF, PDF, PNG or JPEG file (text, perhaps a CSV file: reply files are \
                 read by `capsurvey replies import`, facility lists by `capsurvey roster \
                 import`): save or export the scan as TIFF, PDF, PNG or JPEG",
                shown(name)
            )
        );
    }
}

#[test]
fn truncated_tiff() {
    let got = pages(&path("truncated-fax.tif")).unwrap();
    assert_eq!(got[0], Ok((160, 90)), "page 1 is whole");
    let err = got[1].as_ref().unwrap_err();
    assert!(
        err.starts_with(&format!("{}, page 2: ", shown("truncated-fax.tif"))),
        "{err}"
    );
    assert!(err.contains("truncated"), "{err}");
    assert_eq!(got.len(), 2, "{got:?}");

    let err = capsurvey_scan::open(path("truncated-header.tif")).unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, ScanError::Corrupt { format: "TIFF", .. }),
        "{msg}"
    );
    assert!(
        msg.starts_with(&format!(
            "{}: damaged or unreadable TIFF file",
            shown("truncated-header.tif")
        )),
        "{msg}"
    );
}

#[test]
fn pdf_without_images() {
    let got = pages(&path("no-images.pdf")).unwrap();
    assert_eq!(got.len(), 1);
    let err = got[0].as_ref().unwrap_err();
    assert!(
        err.starts_with(&format!(
            "{}, page 1: the PDF page contains no image",
            shown("no-images.pdf")
        )),
        "{err}"
    );
    assert!(err.contains("gs -sDEVICE=tiffg4"), "{err}");
}

#[test]
fn encrypted_pdf() {
    let err = capsurvey_scan::open(path("encrypted.pdf")).unwrap_err();
    assert!(matches!(err, ScanError::EncryptedPdf { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "{}: encrypted PDF is not supported: save an unencrypted copy (for example `qpdf --decrypt in.pdf out.pdf`)",
            shown("encrypted.pdf")
        )
    );
}

/// 30,000 × 30,000 pixels would be 900 MB of grey: refused from the header, before allocating.
#[test]
fn absurd_dimensions_in_every_format() {
    for name in [
        "huge-30000x30000.tif",
        "huge-30000x30000.png",
        "huge-30000x30000.jpg",
        "huge-30000x30000.pdf",
    ] {
        let err = quick(name, || {
            capsurvey_scan::open(path(name))
                .unwrap()
                .next()
                .unwrap()
                .unwrap_err()
        });
        assert!(
            matches!(
                err.kind,
                PageErrorKind::TooLarge {
                    width: 30_000,
                    height: 30_000
                }
            ),
            "{name}: {err}"
        );
        assert_eq!(
            err.to_string(),
            format!(
                "{}, page 1: the page image is 30000×30000 pixels, more than the limit of 100 megapixels: scan at 200–300 dpi",
                shown(name)
            )
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Survey definitions

fn survey_error(name: &str) -> String {
    let bytes = std::fs::read(path(name)).unwrap();
    capsurvey_survey::parse_survey_bytes(&shown(name), &bytes)
        .unwrap_err()
        .to_string()
}

#[test]
fn survey_with_a_skip_cycle() {
    let err = survey_error("survey-skip-cycle.toml");
    assert_eq!(
        err,
        format!(
            "{}:34:32: skip target `a` is not after `q3`: skips must point forward (a backward skip makes a cycle)",
            shown("survey-skip-cycle.toml")
        )
    );
}

#[test]
fn survey_saved_as_shift_jis() {
    let err = survey_error("survey-shift-jis.toml");
    assert_eq!(
        err,
        format!(
            "{}:3:10: the file is not UTF-8 text (bytes 83 65 83 58 here): survey definitions must be saved as UTF-8; if it was saved as Shift_JIS (ANSI), save it again as UTF-8",
            shown("survey-shift-jis.toml")
        )
    );
}

#[test]
fn empty_survey_file() {
    let err = survey_error("zero-bytes.csv");
    assert!(
        err.starts_with(&format!("{}:1:1: ", shown("zero-bytes.csv"))),
        "{err}"
    );
    assert!(err.contains("missing field `id`"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Reply files (through the importer, as `capsurvey replies import` runs it)

fn catalog() -> Arc<capsurvey_tabular::Catalog> {
    let parsed = shipped_surveys()
        .into_iter()
        .map(|(n, t)| capsurvey_survey::parse_survey(n, t).unwrap())
        .collect();
    Arc::new(capsurvey_tabular::Catalog::new(parsed))
}

async fn import_replies(files: &[PathBuf]) -> Vec<capsurvey_tabular::import::FileReport> {
    use capsurvey_tabular::import::{ImportOptions, import_files};
    let db = TestDb::sqlite().await;
    let reports = import_files(
        &db.store,
        catalog(),
        files,
        &ImportOptions::new("test"),
        &mut |_| {},
    )
    .await;
    db.cleanup().await;
    reports
}

#[tokio::test]
async fn reply_files_refused_with_file_and_line() {
    use capsurvey_tabular::import::Outcome;
    let cases = [
        ("zero-bytes.csv", "the file is empty: no header row"),
        (
            "reply-invalid-utf8-bom.csv",
            "line 4: the text is neither UTF-8 nor Shift_JIS (CP932)",
        ),
        (
            "reply-invalid-sjis.csv",
            "line 4: the text is neither UTF-8 nor Shift_JIS (CP932)",
        ),
        ("truncated-reply.xlsx", "workbook: "),
        (
            "reply-cell-at-XFD1048576.xlsx",
            "workbook: sheet 「回答」 has a cell at row 1048576, column 16384",
        ),
    ];
    let files: Vec<PathBuf> = cases.iter().map(|(n, _)| path(n)).collect();
    let reports = import_replies(&files).await;
    for ((name, want), report) in cases.iter().zip(&reports) {
        assert_eq!(report.path, shown(name));
        let Outcome::Failed { error } = &report.outcome else {
            panic!("{name}: {:?}", report.outcome);
        };
        assert!(error.starts_with(want), "{name}: {error}");
    }
}

// ---------------------------------------------------------------------------------------------
// Roster lists (through import_bytes, as `capsurvey roster import` runs it)

async fn import_roster(
    name: &str,
    bytes: &[u8],
) -> Result<capsurvey_roster::FileOutcome, capsurvey_roster::RosterError> {
    let db = TestDb::sqlite().await;
    let opts = capsurvey_roster::ImportOptions {
        default_type: None,
        area_map: None,
        actor: "test",
    };
    let out = capsurvey_roster::import_bytes(db.store.db(), name, bytes, &opts, &mut |_| {
        ControlFlow::Continue(())
    })
    .await;
    db.cleanup().await;
    out
}

fn roster_report(out: capsurvey_roster::FileOutcome) -> capsurvey_roster::FileReport {
    match out {
        capsurvey_roster::FileOutcome::Imported(r) => r,
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn roster_files() {
    let name = shown("zero-bytes.csv");
    let err = import_roster(&name, b"").await.unwrap_err();
    assert_eq!(err.to_string(), format!("{name}: the file is empty"));

    let name = shown("truncated-reply.xlsx");
    let bytes = std::fs::read(path("truncated-reply.xlsx")).unwrap();
    let err = import_roster(&name, &bytes).await.unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("{name}: cannot read the workbook (")),
        "{err}"
    );

    // A damaged line spoils only itself: the other rows are imported (and UTF-8 with a broken
    // character is not mistaken for Shift_JIS, which would garble every name).
    for (file, line) in [
        ("roster-invalid-sjis.csv", 5),
        ("roster-invalid-utf8.csv", 5),
        ("roster-invalid-utf8-bom.csv", 7),
    ] {
        let name = shown(file);
        let bytes = std::fs::read(path(file)).unwrap();
        let report = roster_report(import_roster(&name, &bytes).await.unwrap());
        assert_eq!(report.path, name);
        let bad: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        assert!(
            bad.iter()
                .any(|e| e.starts_with(&format!("line {line}: bytes that are not valid"))),
            "{file}: {bad:?}"
        );
        assert!(report.records > 0, "{file}");
    }

    // A quote that never closes: reported at its line instead of swallowing the rest.
    let name = shown("roster-unclosed-quote.csv");
    let bytes = std::fs::read(path("roster-unclosed-quote.csv")).unwrap();
    let report = roster_report(import_roster(&name, &bytes).await.unwrap());
    let bad: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        bad.iter().any(|e| e.starts_with(
            "line 6: a quoted value starts in this row and never ends, so the 4 lines after it \
             were not read"
        )),
        "{bad:?}"
    );
    assert_eq!(report.records, 4, "the rows above it are read");
}

/// One cell far from A1 made calamine's dense `worksheet_range` ask for hundreds of gigabytes
/// and abort the process (tafia/calamine#693); a cell reference longer than a `u32` panics
/// inside calamine in debug builds. The roster reads cell by cell within limits instead.
#[tokio::test]
async fn roster_workbooks_with_impossible_cells() {
    for (file, why) in [
        (
            "roster-cell-at-XFD1048576.xlsx",
            "a cell at row 1048576, column 16384 is outside any roster (at most 1024 columns): \
             the workbook is damaged",
        ),
        // Debug builds: calamine's overflow panic, caught; release builds: the wrapped column.
        ("roster-cell-reference-overflow.xlsx", ""),
    ] {
        let name = shown(file);
        let bytes = std::fs::read(path(file)).unwrap();
        let t = Instant::now();
        let err = import_roster(&name, &bytes).await.unwrap_err().to_string();
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert!(
            err.starts_with(&format!("{name}: cannot read the workbook (")),
            "{err}"
        );
        assert!(
            err.contains(why)
                && (err.contains("outside any roster")
                    || err.contains("impossible cell reference")),
            "{err}"
        );
    }
}

/// The fuzz targets recognise such a workbook (the reply reader refuses it since it checks the
/// extent first; the skip stays so that a regression there cannot abort the whole test run).
#[test]
fn reply_workbook_with_a_far_cell_is_recognised_as_a_hazard() {
    use capsurvey_hostile::targets::xlsx_extent_exceeds;
    let bytes = std::fs::read(path("reply-cell-at-XFD1048576.xlsx")).unwrap();
    assert!(xlsx_extent_exceeds(&bytes, 10_000_000));
    let fine =
        std::fs::read(capsurvey_hostile::corpus_dir(Target::Replies).join("visiting-nurse.xlsx"))
            .unwrap();
    assert!(!xlsx_extent_exceeds(&fine, 10_000_000));
}

// ---------------------------------------------------------------------------------------------
// A 10 MB cell (made here rather than committed)

fn huge_cell() -> String {
    "あ".repeat(10 * 1024 * 1024 / 3)
}

fn temp_file(name: &str, bytes: &[u8]) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!(
        "capsurvey-hostile-test-{}-{name}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, bytes).unwrap();
    (dir, file)
}

/// A 10 MB cell is read quickly and without a panic, and only that cell is a problem.
#[test]
fn huge_cell_in_a_reply_file_is_read_without_blowing_up() {
    let (dir, file) = huge_cell_reply("read");
    let (f, rows, errors) = quick("10 MB cell", || {
        capsurvey_tabular::import::read_all(&file, &catalog(), &Default::default()).unwrap()
    });
    assert_eq!((rows.len(), errors.len()), (3, 0));
    assert!(f.plan.value_of(&rows[0], "q02.name").is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

/// The value goes to review as too long, naming the row and the column, with only the start of
/// the text; the rest of the row and the other rows are read.
#[test]
fn huge_cell_in_a_reply_file_is_a_value_problem() {
    let (dir, file) = huge_cell_reply("problem");
    let (f, rows, _) =
        capsurvey_tabular::import::read_all(&file, &catalog(), &Default::default()).unwrap();
    let problem = match f.plan.value_of(&rows[0], "q02.name").unwrap() {
        Err(p) => p,
        Ok(v) => panic!(
            "taken as an answer of {} bytes",
            v.map_or(0, |v| v.display().len())
        ),
    };
    assert!(problem.column.contains("q02.name"), "{problem:?}");
    assert!(
        problem.raw.len() < 1000,
        "the review task keeps a shortened copy"
    );
    assert!(problem.raw.starts_with("あああ"), "{}", problem.raw);
    assert_eq!(problem.raw_chars, Some(3_495_253));
    assert!(
        problem
            .reason
            .starts_with("the text has 3495253 characters, more than the 500"),
        "{}",
        problem.reason
    );
    // Only that cell: the row's other answers and the other rows are values.
    let misfits: Vec<_> = rows
        .iter()
        .flat_map(|r| r.answers.iter().filter_map(|a| a.problem()))
        .collect();
    assert_eq!(misfits, [problem]);
    assert!(matches!(
        f.plan.value_of(&rows[0], "q02.phone"),
        Some(Ok(Some(_)))
    ));
    std::fs::remove_dir_all(dir).unwrap();
}

/// A reply file with a 10 MB `q02.name`; `test` keeps the files of tests running at the same
/// time apart.
fn huge_cell_reply(test: &str) -> (PathBuf, PathBuf) {
    let fixture = std::fs::read_to_string(
        capsurvey_hostile::repo_root().join("fixtures/replies/dental-utf8bom-ids.csv"),
    )
    .unwrap();
    let text = fixture.replacen("佐藤 太郎", &huge_cell(), 1);
    temp_file(&format!("huge-cell-{test}.csv"), text.as_bytes())
}

/// A file with a broken character in line 2 and a quote that never closes in line 4 is refused
/// for the first of them, whatever the block size (found by fuzzing).
#[test]
fn the_first_fault_of_a_reply_file_is_reported_whatever_the_block_size() {
    use capsurvey_tabular::ReadOptions;
    for block in [None, Some(64), Some(300), Some(700)] {
        let opts = ReadOptions {
            block_bytes: block,
            ..Default::default()
        };
        let err = capsurvey_tabular::import::read_all(
            &path("reply-damaged-and-cut.csv"),
            &catalog(),
            &opts,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(
            err.starts_with("line 2: the text is neither UTF-8 nor Shift_JIS"),
            "block {block:?}: {err}"
        );
    }
}

/// A UTF-8 file (no byte-order mark) with a broken character in line 4 must be refused at
/// line 4, whatever the block size, and never be read as Shift_JIS.
#[test]
fn damaged_utf8_reply_is_refused_at_its_line() {
    use capsurvey_tabular::ReadOptions;
    for block in [None, Some(64), Some(256), Some(1000), Some(4096)] {
        let opts = ReadOptions {
            block_bytes: block,
            ..Default::default()
        };
        let err =
            capsurvey_tabular::import::read_all(&path("reply-invalid-utf8.csv"), &catalog(), &opts)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
        assert!(err.starts_with("line 4: "), "block {block:?}: {err}");
    }
}

#[tokio::test]
async fn huge_cell_in_a_roster_is_a_row_error() {
    let text = format!(
        "コード,種別,名称,住所\nL001,歯科,{},みどり市本町1-1\nL002,歯科,さくら歯科,みどり市本町1-2\n",
        huge_cell()
    );
    let t = Instant::now();
    let report = roster_report(
        import_roster("huge-cell.csv", text.as_bytes())
            .await
            .unwrap(),
    );
    assert!(t.elapsed() < Duration::from_secs(10), "{:?}", t.elapsed());
    assert_eq!(report.path, "huge-cell.csv");
    let errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        errors,
        [
            "line 2: column 3 holds 3495253 characters, more than the 2000 a roster cell may have: \
          the file is damaged or a quote is not closed; the row was skipped"
        ]
    );
    assert_eq!(report.records, 1);
}
