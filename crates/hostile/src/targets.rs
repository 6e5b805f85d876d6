//! One entry point per reader: bytes in, no result out. Each runs the reader the way the CLI
//! does and checks what must hold for *any* input: no panic, and every error names the file
//! (and line or page) it is about. A broken invariant panics, which is what both fuzzers look for.
//!
//! The same functions are the cargo-fuzz targets (`fuzz/fuzz_targets/*.rs`) and the stable
//! mutation run ([`crate::mutate`], `tests/fuzz_smoke.rs`, `examples/fuzz.rs`).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use capsurvey_layout::PageCode;
use capsurvey_survey::{FacilityType, Value, parse_survey, parse_survey_bytes};

/// The readers under test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// `capsurvey_survey::parse_survey_bytes` / `parse_survey`: survey definitions (TOML).
    Survey,
    /// `capsurvey_tabular::ReplyFile`: CSV/TSV and xlsx reply files.
    Replies,
    /// `capsurvey_roster::parse` and `AreaMap::parse`: roster lists and area maps.
    Roster,
    /// `capsurvey_scan::open_bytes` and its pages: TIFF, PDF, PNG, JPEG.
    Scan,
    /// `capsurvey_layout::PageCode`: the 64-module page code.
    PageCode,
    /// `capsurvey_jptext`: encoding detection and normalisation.
    Jptext,
}

impl Target {
    /// Every target, in the order the tests run them.
    pub const ALL: [Target; 6] = [
        Target::Survey,
        Target::Replies,
        Target::Roster,
        Target::Scan,
        Target::PageCode,
        Target::Jptext,
    ];

    /// The name: the cargo-fuzz target and the folder of its corpus (`fuzz/corpus/<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Target::Survey => "survey",
            Target::Replies => "replies",
            Target::Roster => "roster",
            Target::Scan => "scan",
            Target::PageCode => "pagecode",
            Target::Jptext => "jptext",
        }
    }

    /// The target of a name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.into_iter().find(|t| t.name() == name)
    }

    /// Runs one input.
    pub fn run(self, data: &[u8]) {
        install_panic_filter();
        match self {
            Target::Survey => survey(data),
            Target::Replies => replies(data),
            Target::Roster => roster(data),
            Target::Scan => scan(data),
            Target::PageCode => pagecode(data),
            Target::Jptext => jptext(data),
        }
    }

    /// Inputs larger than this are cut before running (libFuzzer's `-max_len` does the same).
    pub fn max_len(self) -> usize {
        match self {
            Target::PageCode => 64,
            Target::Scan => 64 * 1024,
            _ => 16 * 1024,
        }
    }
}

/// The file name every target gives its reader; errors must name it.
pub const NAME: &str = "fuzz-input";

/// `CAPSURVEY_FUZZ_STRICT=1`: report the known issues below too.
fn strict() -> bool {
    static STRICT: OnceLock<bool> = OnceLock::new();
    *STRICT.get_or_init(|| std::env::var("CAPSURVEY_FUZZ_STRICT").is_ok_and(|v| v == "1"))
}

thread_local! {
    static KNOWN_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Known upstream panic: calamine parses a cell reference such as `ZZZZZZZZ1` into a `u32`
/// with plain arithmetic, which panics in builds with overflow checks (debug, cargo-fuzz) and
/// wraps in release builds. The roster reader catches it; the reply reader does not (a tabular
/// issue). The filter keeps it from being reported (or, under libFuzzer, from aborting) so that
/// the fuzzers can look for other things.
fn known_upstream_panic(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let in_calamine = info
        .location()
        .is_some_and(|l| l.file().contains("calamine-") && l.file().ends_with("mod.rs"));
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    in_calamine && message.contains("overflow")
}

/// Wraps the panic hook in place (libFuzzer's, which aborts, or the stable fuzzer's, which
/// records) so that known upstream panics are only noted on the thread.
fn install_panic_filter() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !strict() && known_upstream_panic(info) {
                KNOWN_PANIC.with(|k| k.set(true));
            } else {
                previous(info);
            }
        }));
    });
}

/// Runs `f`; a known upstream panic inside it (see [`known_upstream_panic`]) gives `None`, any
/// other panic goes on.
fn unless_known_panic<T>(f: impl FnOnce() -> T) -> Option<T> {
    KNOWN_PANIC.with(|k| k.set(false));
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => Some(v),
        Err(_) if KNOWN_PANIC.with(|k| k.replace(false)) => None,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

/// Whether the non-empty cells of some sheet of a workbook span more than `limit` cells from
/// the first to the last (rows times columns): the size of the grid calamine's
/// `worksheet_range` allocates. Read with calamine's own cell reader, so the positions are
/// exactly the ones it would use; a workbook calamine cannot open is not a hazard.
pub fn xlsx_extent_exceeds(data: &[u8], limit: u64) -> bool {
    use calamine::{DataRef, Reader, Xlsx};
    let extent = |data: &[u8]| -> u64 {
        let Ok(mut book) = Xlsx::new(std::io::Cursor::new(data)) else {
            return 0;
        };
        let mut largest = 0u64;
        for name in book.sheet_names() {
            let Ok(mut cells) = book.worksheet_cells_reader(&name) else {
                continue;
            };
            let (mut r0, mut r1, mut c0, mut c1) = (u32::MAX, 0u32, u32::MAX, 0u32);
            while let Ok(Some(cell)) = cells.next_cell() {
                if matches!(cell.get_value(), DataRef::Empty) {
                    continue;
                }
                let (r, c) = cell.get_position();
                (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
            }
            if r1 >= r0 && c1 >= c0 {
                let span = (u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1);
                largest = largest.max(span);
            }
        }
        largest
    };
    // A reference calamine cannot count (the known overflow panic) is a hazard too.
    unless_known_panic(|| extent(data)).is_none_or(|e| e > limit)
}

// ---------------------------------------------------------------------------------------------
// Survey definitions

/// Survey definitions: bytes (any encoding) and text.
pub fn survey(data: &[u8]) {
    let file = format!("{NAME}.toml");
    let result = parse_survey_bytes(&file, data);
    match std::str::from_utf8(data) {
        Ok(text) => {
            let again = parse_survey(&file, text.strip_prefix('\u{FEFF}').unwrap_or(text));
            assert_eq!(
                result.as_ref().map(|p| &p.content_hash).ok(),
                again.as_ref().map(|p| &p.content_hash).ok(),
                "bytes and text parse alike"
            );
        }
        // Past the encoding check, into the TOML parser and validation.
        Err(_) => check_survey(
            &file,
            data,
            parse_survey(&file, &String::from_utf8_lossy(data)),
        ),
    }
    check_survey(&file, data, result);
}

fn check_survey(
    file: &str,
    data: &[u8],
    result: Result<capsurvey_survey::Parsed, capsurvey_survey::DefinitionError>,
) {
    match result {
        Ok(parsed) => {
            assert!(capsurvey_survey::validate(&parsed.survey).is_empty());
            assert_eq!(
                parsed.content_hash,
                capsurvey_survey::content_hash(&parsed.survey)
            );
            for field in parsed.survey.fields() {
                let _ = field.key();
                let _ = field.part_label();
                for value in sample_values(field.question) {
                    let _ = field.check(&value);
                }
            }
            for (_, q) in parsed.survey.questions() {
                let _ = parsed.survey.number_of(&q.id);
            }
        }
        Err(e) => {
            assert!(!e.0.is_empty(), "an error without a diagnostic");
            let lines = data.split(|&b| b == b'\n').count();
            for d in &e.0 {
                assert_eq!(d.file, file, "{d}");
                assert!(d.line >= 1 && d.line <= lines && d.column >= 1, "{d}");
                assert!(!d.message.trim().is_empty(), "{d}");
            }
        }
    }
}

fn sample_values(q: &capsurvey_survey::Question) -> Vec<Value> {
    let codes: Vec<String> = q.options.iter().map(|o| o.code.clone()).collect();
    let mut out = vec![
        Value::Unknown,
        Value::Text("テスト".into()),
        Value::Int(i64::MAX),
        Value::Int(-1),
        Value::Decimal(f64::NAN),
        Value::Decimal(1e300),
        Value::Decimal(0.125),
        Value::Bool(true),
        Value::Choice("zz".into()),
        Value::Choices(codes.clone()),
        Value::Choices(Vec::new()),
    ];
    if let Some(c) = codes.first() {
        out.push(Value::Choice(c.clone()));
        out.push(Value::Choices(vec![c.clone(), c.clone()]));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reply files

fn catalog() -> &'static capsurvey_tabular::Catalog {
    static CATALOG: OnceLock<capsurvey_tabular::Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let parsed = crate::shipped_surveys()
            .into_iter()
            .map(|(name, text)| parse_survey(name, text).expect("shipped surveys parse"))
            .collect();
        capsurvey_tabular::Catalog::new(parsed)
    })
}

/// A scratch file of this process and thread, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(ext: &str, data: &[u8]) -> Scratch {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = std::env::temp_dir().join(format!("capsurvey-hostile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let path = dir.join(format!(
            "{NAME}-{}.{ext}",
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::write(&path, data).expect("scratch file");
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        // Gone once empty; made again for the next input.
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// What reading a reply file gave, in a form that can be compared between block sizes.
#[derive(Debug, PartialEq)]
enum ReplyOutcome {
    Refused(String),
    Read {
        survey: String,
        rows: Vec<String>,
        errors: Vec<String>,
        failed: Option<String>,
    },
}

fn read_replies(
    path: &std::path::Path,
    survey: Option<&str>,
    block: Option<usize>,
) -> ReplyOutcome {
    use capsurvey_tabular::{ReadOptions, ReplyFile};
    let opts = ReadOptions {
        survey: survey.map(str::to_owned),
        block_bytes: block,
        ..Default::default()
    };
    let mut file = match ReplyFile::open(path, catalog(), &opts) {
        Ok(f) => f,
        Err(e) => return ReplyOutcome::Refused(e.to_string()),
    };
    let file_name = path.display().to_string();
    let plan = std::sync::Arc::clone(&file.plan);
    let _ = plan.layout();
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut failed = None;
    while let Some(chunk) = file.next_chunk() {
        match chunk {
            Ok(chunk) => {
                for row in &chunk.rows {
                    assert!(row.pos.line >= 1 && row.pos.row >= 1, "{:?}", row.pos);
                    let mut text = format!("{}:{} {}", row.pos.line, row.pos.row, row.facility());
                    for a in &row.answers {
                        let v = plan.value(row, a);
                        text.push_str(&format!(" {}={v:?}", plan.field_key(a.field as usize)));
                    }
                    rows.push(text);
                }
                for e in &chunk.errors {
                    let msg = e.display_in(&file_name);
                    assert!(msg.starts_with(&format!("{file_name}:")), "{msg}");
                    assert!(e.pos.line >= 1, "{msg}");
                    errors.push(msg);
                }
            }
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        }
    }
    ReplyOutcome::Read {
        survey: plan.index.id().to_owned(),
        rows,
        errors,
        failed,
    }
}

/// What an import makes of an outcome: a file that fails at some point imports nothing, so the
/// rows handed out before the failure (more of them with smaller blocks) do not count.
fn import_view(o: &ReplyOutcome) -> ReplyOutcome {
    match o {
        ReplyOutcome::Read {
            survey,
            failed: Some(f),
            ..
        } => ReplyOutcome::Read {
            survey: survey.clone(),
            rows: Vec::new(),
            errors: Vec::new(),
            failed: Some(f.clone()),
        },
        ReplyOutcome::Read {
            survey,
            rows,
            errors,
            failed: None,
        } => ReplyOutcome::Read {
            survey: survey.clone(),
            rows: rows.clone(),
            errors: errors.clone(),
            failed: None,
        },
        ReplyOutcome::Refused(e) => ReplyOutcome::Refused(e.clone()),
    }
}

/// Reply files: CSV (any bytes) or xlsx (bytes starting with a zip header). CSV is read twice,
/// with the default block size (512 KiB) and with blocks of about two lines: the parallel block
/// reader must give the same rows and errors however the file is cut.
pub fn replies(data: &[u8]) {
    let is_zip = data.starts_with(b"PK");
    // Known tabular issue: workbooks are read with calamine's `worksheet_range`, which makes a
    // dense grid from the first to the last cell reference, so a 4 KB file with a cell at
    // XFD1048576 asks for hundreds of gigabytes and aborts the process (tafia/calamine#693).
    // Not something a fuzzer can survive: such inputs are skipped unless strict.
    if is_zip && !strict() && xlsx_extent_exceeds(data, 10_000_000) {
        return;
    }
    let scratch = Scratch::new(if is_zip { "xlsx" } else { "csv" }, data);
    if is_zip {
        // The reply reader does not catch calamine's overflow panic (known, see above).
        let read = |survey| unless_known_panic(|| read_replies(&scratch.0, survey, None));
        if let Some(ReplyOutcome::Refused(_)) = read(None) {
            read(Some("dental"));
        }
        return;
    }
    let detected = read_replies(&scratch.0, None, None);
    {
        // Small blocks of about two lines, the header whole in the first one: the reader takes
        // the delimiter from as much of the header line as its first block holds (the default
        // block is 512 KiB). The encoding (from the first non-ASCII line) and the survey
        // column's value (in the first data record) are read whole whatever the block size,
        // so every outcome, refusals and their reasons included, must be the same.
        let mut in_quotes = false;
        let two_lines = data
            .iter()
            .enumerate()
            .filter(|(_, b)| {
                if **b == b'"' {
                    in_quotes = !in_quotes;
                }
                **b == b'\n' && !in_quotes
            })
            .nth(1)
            .map_or(data.len(), |(i, _)| i + 1);
        let small = read_replies(&scratch.0, None, Some(two_lines.max(61)));
        assert_eq!(
            import_view(&detected),
            import_view(&small),
            "the block size changed the result"
        );
    }
    // Named survey: the rows are read even when the header matches a survey poorly.
    if matches!(detected, ReplyOutcome::Refused(_)) {
        let _ = read_replies(&scratch.0, Some("dental"), None);
    }
}

// ---------------------------------------------------------------------------------------------
// Roster lists and area maps

/// Roster lists (any layout, CSV or xlsx) and area maps.
pub fn roster(data: &[u8]) {
    use capsurvey_roster::{AreaMap, ParseOptions, detect, parse};
    let parsed = parse(data, &ParseOptions::default());
    let detected = detect(data);
    match (&parsed, &detected) {
        (Ok(p), Ok((layout, encoding))) => {
            assert_eq!((p.layout, p.encoding), (*layout, *encoding));
        }
        (Ok(p), Err(e)) => panic!("parse found {:?} where detect says {e}", p.layout),
        _ => {}
    }
    if let Ok(p) = &parsed {
        assert!(p.header_line >= 1);
        for e in &p.errors {
            assert!(e.line >= 1, "{e}");
        }
        for r in &p.records {
            assert!(r.line >= 1, "{r:?}");
        }
    }
    if let Err(capsurvey_roster::ParseError::TypeUndecidable { .. }) = parsed {
        let _ = parse(
            data,
            &ParseOptions {
                default_type: Some(FacilityType::VisitingNurse),
            },
        );
    }
    let file = format!("{NAME}.csv");
    if let Err(e) = AreaMap::parse(data, &file) {
        assert!(e.to_string().starts_with(&format!("{file}:")), "{e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Page images

/// Pages decoded per input at most (a fuzzed TIFF can chain thousands of directories).
const MAX_PAGES: usize = 16;

/// Page files: open, then every page; small pages are also put through recognition.
pub fn scan(data: &[u8]) {
    let file = format!("{NAME}.bin");
    let pages = match capsurvey_scan::open_bytes(file.clone(), data.to_vec()) {
        Ok(p) => p,
        Err(e) => {
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("{file}: ")), "{msg}");
            return;
        }
    };
    assert_eq!(pages.file(), file);
    let mut expected_page = 1u32;
    for page in pages.take(MAX_PAGES) {
        match page {
            Ok(img) => {
                assert_eq!(
                    img.pixels.len() as u64,
                    u64::from(img.width) * u64::from(img.height)
                );
                assert!(img.width > 0 && img.height > 0);
                assert!(
                    img.dpi_x > 0.0 && img.dpi_y > 0.0,
                    "{} {}",
                    img.dpi_x,
                    img.dpi_y
                );
                if img.pixels.len() <= 4_000_000
                    && let Ok(id) = capsurvey_scan::identify(&img)
                {
                    let _ = capsurvey_scan::crop(&img, &id.transform, &id_rect(), 8.0);
                }
            }
            Err(e) => {
                assert_eq!(e.file, file);
                assert!(
                    e.page >= expected_page,
                    "page {} after {expected_page}",
                    e.page
                );
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("{file}, page {}: ", e.page)),
                    "{msg}"
                );
                expected_page = e.page;
            }
        }
        expected_page += 1;
    }
}

fn id_rect() -> capsurvey_layout::Rect {
    capsurvey_layout::Rect {
        x: 10.0,
        y: 10.0,
        w: 50.0,
        h: 20.0,
    }
}

// ---------------------------------------------------------------------------------------------
// Page codes

/// Page codes: the first 8 bytes as a code word, the first 64 bits as modules, and three
/// numbers to encode.
pub fn pagecode(data: &[u8]) {
    let mut w = [0u8; 8];
    let n = data.len().min(8);
    w[..n].copy_from_slice(&data[..n]);
    let word = u64::from_be_bytes(w);
    if let Ok(code) = PageCode::decode(word) {
        assert_eq!(code.encode(), Ok(word), "{code:?}");
    }
    let modules: [bool; capsurvey_layout::pagecode::BITS] =
        std::array::from_fn(|i| word >> (63 - i) & 1 == 1);
    if let Ok((code, turned)) = PageCode::from_modules(&modules) {
        let mut printed = code.modules().expect("a decoded code encodes");
        if turned {
            printed.reverse();
        }
        assert_eq!(printed, modules, "{code:?}");
    }
    let mut numbers = [0u32; 3];
    for (i, chunk) in data
        .get(8..)
        .unwrap_or_default()
        .chunks(4)
        .take(3)
        .enumerate()
    {
        let mut b = [0u8; 4];
        b[..chunk.len()].copy_from_slice(chunk);
        numbers[i] = u32::from_le_bytes(b);
    }
    let code = PageCode {
        survey_version_id: numbers[0],
        mailing_id: numbers[1],
        page: numbers[2],
    };
    match code.encode() {
        Ok(word) => {
            assert_eq!(PageCode::decode(word), Ok(code));
            let m = code.modules().unwrap();
            assert_eq!(PageCode::from_modules(&m), Ok((code, false)));
        }
        Err(e) => assert!(e.to_string().contains("does not fit"), "{e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Japanese text

/// Encoding detection and the normalisations keys are made with.
pub fn jptext(data: &[u8]) {
    use capsurvey_jptext::{Encoding, decode, digits_only, normalize, phone, postal_code};
    match decode(data) {
        Ok((text, enc)) => {
            if enc != Encoding::ShiftJis {
                assert!(std::str::from_utf8(data).is_ok() || data.starts_with(b"\xEF\xBB\xBF"));
            }
            let n = normalize(&text);
            assert_eq!(normalize(&n), n, "normalize is idempotent");
            let d = digits_only(&n);
            assert!(d.bytes().all(|b| b.is_ascii_digit()));
            if let Some(p) = phone(&text) {
                assert!(p.bytes().all(|b| b.is_ascii_digit() || b == b'-'), "{p}");
            }
            if let Some(p) = postal_code(&text) {
                assert!(!p.is_empty());
            }
        }
        Err(e) => {
            assert!(e.utf8_error_at <= data.len(), "{e:?}");
            let msg = e.to_string();
            assert!(msg.contains("UTF-8"), "{msg}");
        }
    }
}
