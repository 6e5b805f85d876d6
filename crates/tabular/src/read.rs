//! Reading reply files: CSV (UTF-8 with or without BOM, Shift_JIS/CP932; comma, tab or
//! semicolon; CRLF or LF) and workbooks (xlsx, xls, ods via calamine).
//!
//! A CSV file is streamed in blocks of about [`ReadOptions::block_bytes`], each cut at a record
//! boundary found by a quote-aware scan (a quoted value may hold line breaks, so a plain line
//! split would cut records in two). Blocks are parsed and normalised in parallel with rayon, a
//! few at a time, and handed out in file order: memory stays bounded by the blocks in flight,
//! whatever the file size. Shift_JIS needs no care at the cuts: its trail bytes never take the
//! values of `"`, `,`, tab or line feed.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fs::File;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use capsurvey_jptext::Encoding;
use memchr::{memchr, memchr_iter, memrchr};
use rayon::prelude::*;

use crate::header::{Catalog, Plan};
use crate::mapping::Mapping;
use crate::rows::{Memo, Pos, Read, Row, RowError};
use crate::{FileError, text};

/// How to read files.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// The survey the files answer (`--survey`); detected from the header when absent.
    pub survey: Option<String>,
    /// A mapping for a foreign layout.
    pub mapping: Option<Arc<Mapping>>,
    /// Size of the blocks a CSV file is parsed in (default 512 KiB).
    pub block_bytes: Option<usize>,
}

const DEFAULT_BLOCK: usize = 1 << 19;

/// The file format, as reported in summaries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// A delimited text file.
    Csv {
        /// Its encoding.
        encoding: Encoding,
        /// `,`, tab or `;`.
        delimiter: u8,
        /// Whether lines end in CR LF (as Excel writes them).
        crlf: bool,
    },
    /// A workbook sheet.
    Workbook {
        /// The sheet read.
        sheet: String,
    },
}

impl Format {
    /// The encoding, for summaries (`xlsx` for workbooks).
    pub fn encoding(&self) -> String {
        match self {
            Format::Csv { encoding, .. } => encoding.to_string(),
            Format::Workbook { .. } => "xlsx (Unicode)".into(),
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Csv {
                encoding,
                delimiter,
                crlf,
            } => {
                let d = match delimiter {
                    b'\t' => "tab",
                    b';' => "semicolon",
                    _ => "comma",
                };
                let nl = if *crlf { "CRLF" } else { "LF" };
                write!(f, "CSV, {encoding}, {d}-separated, {nl}")
            }
            Format::Workbook { sheet } => write!(f, "workbook, sheet 「{sheet}」"),
        }
    }
}

/// A run of rows parsed together, in file order.
#[derive(Debug, Default)]
pub struct Chunk {
    /// Rows read.
    pub rows: Vec<Row>,
    /// Rows that could not be read.
    pub errors: Vec<RowError>,
    /// Records with every cell empty (skipped, not counted as rows).
    pub blank: u64,
    /// Bytes of the file this chunk covers (for progress).
    pub bytes: u64,
}

/// An opened reply file: header read, survey chosen, columns mapped; rows come from
/// [`ReplyFile::next_chunk`].
pub struct ReplyFile {
    /// The path given.
    pub path: PathBuf,
    /// File size in bytes.
    pub size: u64,
    /// Format and encoding.
    pub format: Format,
    /// The column plan.
    pub plan: Arc<Plan>,
    source: Source,
}

/// Where chunks come from: the file not yet started, or the thread parsing it ahead.
enum Source {
    Idle(Body),
    Running(std::sync::mpsc::Receiver<Result<Chunk, FileError>>),
    Done,
}

enum Body {
    Csv(CsvBody),
    Book(BookBody),
}

/// Whether a path is read as a workbook.
pub fn is_workbook(path: &Path) -> bool {
    path.extension().and_then(|e| e.to_str()).is_some_and(|e| {
        matches!(
            e.to_ascii_lowercase().as_str(),
            "xlsx" | "xlsm" | "xls" | "ods"
        )
    })
}

impl ReplyFile {
    /// Opens a file, reads its header and maps it onto a survey of `catalog`.
    pub fn open(
        path: &Path,
        catalog: &Catalog,
        opts: &ReadOptions,
    ) -> Result<ReplyFile, FileError> {
        if is_workbook(path) {
            open_book(path, catalog, opts)
        } else {
            open_csv(path, catalog, opts)
        }
    }

    /// The next chunk of rows, in file order; `None` at the end. After an error there is nothing more.
    ///
    /// The first call starts a thread that reads and parses ahead (its blocks in parallel with
    /// rayon) while the caller works on what it was given; it stays at most a wave of blocks
    /// ahead, so memory is bounded.
    pub fn next_chunk(&mut self) -> Option<Result<Chunk, FileError>> {
        if let Source::Idle(_) = self.source {
            let Source::Idle(mut body) = std::mem::replace(&mut self.source, Source::Done) else {
                unreachable!()
            };
            let plan = Arc::clone(&self.plan);
            let (tx, rx) = std::sync::mpsc::sync_channel(wave());
            std::thread::spawn(move || {
                loop {
                    let mut ready = VecDeque::new();
                    match &mut body {
                        Body::Csv(b) => b.fill(&plan, &mut ready),
                        Body::Book(b) => b.fill(&plan, &mut ready),
                    }
                    if ready.is_empty() {
                        return;
                    }
                    for chunk in ready {
                        let failed = chunk.is_err();
                        // The reader hung up (it stopped early): stop parsing.
                        if tx.send(chunk).is_err() || failed {
                            return;
                        }
                    }
                }
            });
            self.source = Source::Running(rx);
        }
        let Source::Running(rx) = &self.source else {
            return None;
        };
        match rx.recv() {
            Ok(Ok(chunk)) => Some(Ok(chunk)),
            Ok(Err(e)) => {
                self.source = Source::Done;
                Some(Err(e))
            }
            Err(_) => {
                self.source = Source::Done;
                None
            }
        }
    }
}

impl Iterator for ReplyFile {
    type Item = Result<Chunk, FileError>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_chunk()
    }
}

/// Blocks parsed at once: enough to keep every rayon thread busy, few enough to bound memory.
fn wave() -> usize {
    rayon::current_num_threads().max(1) * 2
}

// ---------------------------------------------------------------------------------------------
// CSV

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Enc {
    /// Only ASCII seen so far: UTF-8 and Shift_JIS read it alike.
    Ascii,
    Utf8,
    Sjis,
}

struct CsvBody {
    file: File,
    /// Unconsumed bytes, starting at a record boundary.
    buf: Vec<u8>,
    eof: bool,
    /// Line number of `buf[0]`.
    line: u64,
    /// Line breaks inside quoted values before `buf[0]` (row = line − these).
    embedded: u64,
    enc: Enc,
    delimiter: u8,
    block: usize,
    done: bool,
    /// Buffers of parsed blocks, reused for the next ones: a fresh half-megabyte buffer per
    /// block would be mapped and unmapped by the allocator each time, and page faults would
    /// cost more than reading.
    spare: Vec<Vec<u8>>,
}

/// A block cut at record boundaries, ready to parse.
struct Block {
    bytes: Vec<u8>,
    line: u64,
    embedded: u64,
    enc: Enc,
    /// The file's last block and it does not end with a line break.
    unterminated: bool,
    /// Line breaks in it: at most this many records, plus one.
    newlines: u64,
}

/// What a quote-aware scan of a buffer found.
#[derive(Debug, PartialEq)]
struct Scan {
    /// Just after the last line break outside quotes.
    boundary: Option<usize>,
    /// Line breaks before `boundary`.
    newlines: u64,
    /// Of those, line breaks inside quoted values.
    embedded: u64,
    /// The buffer ends inside a quoted value opened at this offset.
    open_quote: Option<usize>,
}

fn count_nl(b: &[u8]) -> u64 {
    // Short spans (one quoted value) are counted directly: the vectorised search costs more to
    // set up than it saves there.
    if b.len() < 64 {
        return b.iter().filter(|&&c| c == b'\n').count() as u64;
    }
    memchr_iter(b'\n', b).count() as u64
}

/// Finds the last record boundary. Quotes follow the csv crate's reading: a quote opens a quoted
/// value only at the start of a field, `""` inside is a literal quote.
///
/// Only the quotes are visited one by one (most records have none); line breaks are found and
/// counted by vectorised searches.
fn scan(buf: &[u8], delim: u8) -> Scan {
    // Quoted values that hold line breaks: (opening quote, closing quote, line breaks).
    let mut spans: Vec<(usize, usize, u64)> = Vec::new();
    let (mut i, mut in_q, mut open, mut inside) = (0, false, 0, 0u64);
    while let Some(k) = memchr(b'"', &buf[i..]) {
        let p = i + k;
        if in_q {
            inside += count_nl(&buf[i..p]);
            if buf.get(p + 1) == Some(&b'"') {
                i = p + 2;
                continue;
            }
            in_q = false;
            if inside > 0 {
                spans.push((open, p, inside));
            }
        } else if p == 0 || buf[p - 1] == b'\n' || buf[p - 1] == delim {
            in_q = true;
            open = p;
            inside = 0;
        }
        i = p + 1;
    }
    // The last line break outside quoted values (and before a value still open at the end).
    let mut end = if in_q { open } else { buf.len() };
    let mut k = spans.len();
    let boundary = loop {
        let Some(p) = memrchr(b'\n', &buf[..end]) else {
            break None;
        };
        while k > 0 && spans[k - 1].0 > p {
            k -= 1;
        }
        match spans[..k].last() {
            Some(&(start, close, _)) if p < close => end = start,
            _ => break Some(p + 1),
        }
    };
    Scan {
        boundary,
        newlines: boundary.map_or(0, |b| count_nl(&buf[..b])),
        embedded: spans
            .iter()
            .filter(|s| boundary.is_some_and(|b| s.1 < b))
            .map(|s| s.2)
            .sum(),
        open_quote: in_q.then_some(open),
    }
}

/// The end of the first record of `buf` (just after its line break), if complete.
fn first_record_end(buf: &[u8], delim: u8) -> Option<usize> {
    let mut i = 0;
    let mut in_q = false;
    while i < buf.len() {
        let c = buf[i];
        if in_q {
            if c == b'"' {
                if buf.get(i + 1) == Some(&b'"') {
                    i += 1;
                } else {
                    in_q = false;
                }
            }
        } else if c == b'\n' {
            return Some(i + 1);
        } else if c == b'"' && (i == 0 || buf[i - 1] == b'\n' || buf[i - 1] == delim) {
            in_q = true;
        }
        i += 1;
    }
    None
}

fn read_more(file: &mut File, buf: &mut Vec<u8>, n: usize) -> std::io::Result<bool> {
    let got = file.by_ref().take(n as u64).read_to_end(buf)?;
    Ok(got > 0)
}

fn decode_error_line(bytes: &[u8], first_line: u64, bad_at: usize) -> u64 {
    first_line + count_nl(&bytes[..bad_at.min(bytes.len())])
}

/// The first line of `bytes` that holds a non-ASCII byte: its start, and its end (after the
/// line feed) if `bytes` has one after it.
fn first_non_ascii_line(bytes: &[u8]) -> Option<(usize, Option<usize>)> {
    let at = bytes.iter().position(|b| !b.is_ascii())?;
    let from = memrchr(b'\n', &bytes[..at]).map_or(0, |p| p + 1);
    let to = memchr(b'\n', &bytes[at..]).map(|p| at + p + 1);
    Some((from, to))
}

/// The encoding of a file without a byte-order mark, from its first line with a non-ASCII
/// byte. That line is always read whole (blocks are cut between records), so the decision
/// is the same whatever the block size. UTF-8 if the line is UTF-8, or UTF-8 text with a
/// few damaged bytes ([`capsurvey_jptext::looks_like_utf8`]): a damaged line further down is
/// then refused at its own line, never read as Shift_JIS mojibake. Shift_JIS as Excel writes
/// it otherwise (its lead bytes 0x81–0x9F make nearly every Japanese character invalid UTF-8).
/// Known limit: a damaged first line with fewer than four sound Japanese characters whose
/// bytes happen to be valid Shift_JIS is read as Shift_JIS.
fn decide(line: &[u8]) -> Enc {
    if simdutf8::basic::from_utf8(line).is_ok() || capsurvey_jptext::looks_like_utf8(line) {
        Enc::Utf8
    } else {
        Enc::Sjis
    }
}

/// Decodes a block whose encoding is known.
fn decode_block(bytes: &[u8], enc: Enc, line: u64) -> Result<Cow<'_, str>, FileError> {
    match enc {
        Enc::Ascii | Enc::Utf8 => match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => Ok(Cow::Borrowed(s)),
            // The fast check says only yes or no; std finds where.
            Err(_) => Err(FileError::Decode {
                line: decode_error_line(
                    bytes,
                    line,
                    std::str::from_utf8(bytes)
                        .err()
                        .map_or(0, |e| e.valid_up_to()),
                ),
            }),
        },
        Enc::Sjis => {
            let (text, had_errors) = encoding_rs::SHIFT_JIS.decode_without_bom_handling(bytes);
            if had_errors {
                let at = text
                    .split('\n')
                    .position(|l| l.contains('\u{FFFD}'))
                    .unwrap_or(0) as u64;
                return Err(FileError::Decode { line: line + at });
            }
            Ok(text)
        }
    }
}

fn detect_delimiter(first_line: &[u8], path: &Path) -> u8 {
    if path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("tsv") || e.eq_ignore_ascii_case("tab"))
    {
        return b'\t';
    }
    let (mut comma, mut tab, mut semi, mut in_q) = (0, 0, 0, false);
    for &c in first_line {
        match c {
            b'"' => in_q = !in_q,
            b',' if !in_q => comma += 1,
            b'\t' if !in_q => tab += 1,
            b';' if !in_q => semi += 1,
            _ => {}
        }
    }
    if tab > comma && tab >= semi {
        b'\t'
    } else if semi > comma && semi > tab {
        b';'
    } else {
        b','
    }
}

fn parse_cells(text: &str, delim: u8) -> Vec<String> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(text.as_bytes());
    let mut rec = csv::StringRecord::new();
    match rdr.read_record(&mut rec) {
        Ok(true) => rec.iter().map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn open_csv(path: &Path, catalog: &Catalog, opts: &ReadOptions) -> Result<ReplyFile, FileError> {
    let block = opts.block_bytes.unwrap_or(DEFAULT_BLOCK).max(64);
    let mut file = File::open(path)?;
    let size = file.metadata()?.len();
    let mut buf = Vec::with_capacity(block + 4096);
    let mut eof = !read_more(&mut file, &mut buf, block)?;
    let bom = buf.starts_with(b"\xEF\xBB\xBF");
    if bom {
        buf.drain(..3);
    }
    let first_nl = memchr(b'\n', &buf).map_or(buf.len(), |p| p + 1);
    let delimiter = detect_delimiter(&buf[..first_nl], path);
    let crlf = first_nl >= 2 && buf[first_nl - 2] == b'\r';
    let header_row = opts.mapping.as_ref().map_or(1, |m| m.header_row);
    // Skip title rows above the header, then blank lines; then take the header record.
    let mut start = 0;
    let mut skipped_rows = 0;
    let header_end = loop {
        let end = loop {
            if let Some(e) = first_record_end(&buf[start..], delimiter) {
                break Some(start + e);
            }
            if eof {
                break (start < buf.len()).then_some(buf.len());
            }
            eof = !read_more(&mut file, &mut buf, block)?;
        };
        let Some(end) = end else {
            return Err(FileError::Empty);
        };
        let record = &buf[start..end];
        let blank = record.iter().all(|c| matches!(c, b'\r' | b'\n' | b' '));
        if skipped_rows + 1 < header_row || (blank && header_row == 1) {
            skipped_rows += 1;
            start = end;
            continue;
        }
        break end;
    };
    let header_start = start;
    let encoding = if bom {
        Enc::Utf8
    } else {
        // Decided on the first line with a non-ASCII byte, read whole (see `decide`).
        loop {
            let line = first_non_ascii_line(&buf);
            match line {
                None => break Enc::Ascii,
                Some((from, to)) if to.is_some() || eof => {
                    break decide(&buf[from..to.unwrap_or(buf.len())]);
                }
                Some(_) => eof = !read_more(&mut file, &mut buf, block)?,
            }
        }
    };
    let header_text = decode_block(&buf[header_start..header_end], encoding, 1)?;
    let header: Vec<String> = parse_cells(&header_text, delimiter)
        .into_iter()
        .map(|h| text::trim(&h).to_owned())
        .collect();
    if header.iter().all(|h| h.is_empty()) {
        return Err(FileError::Empty);
    }
    // The survey column's value in the first data row, for choosing the survey: that record is
    // read whole first, so the choice does not depend on where the first block ends.
    let mapping = opts.mapping.as_deref();
    let survey_col = survey_column(&header, mapping);
    while survey_col.is_some() && !eof && first_record_end(&buf[header_end..], delimiter).is_none()
    {
        eof = !read_more(&mut file, &mut buf, block)?;
    }
    let survey_value = survey_col.and_then(|col| {
        let rest = &buf[header_end..];
        let end = first_record_end(rest, delimiter).unwrap_or(rest.len());
        let t = decode_block(&rest[..end], encoding, 1).ok()?;
        parse_cells(&t, delimiter).get(col).cloned()
    });
    let index = catalog.choose(
        &header,
        opts.survey.as_deref(),
        mapping,
        survey_value.as_deref(),
    )?;
    let plan = Plan::new(index, &header, mapping)?;
    let consumed = &buf[..header_end];
    let line = 1 + count_nl(consumed);
    let embedded = {
        let s = scan(consumed, delimiter);
        s.embedded
    };
    buf.drain(..header_end);
    let enc_reported = match (bom, encoding) {
        (true, _) => Encoding::Utf8Bom,
        (false, Enc::Sjis) => Encoding::ShiftJis,
        _ => Encoding::Utf8,
    };
    Ok(ReplyFile {
        path: path.to_owned(),
        size,
        format: Format::Csv {
            encoding: enc_reported,
            delimiter,
            crlf,
        },
        plan: Arc::new(plan),
        source: Source::Idle(Body::Csv(CsvBody {
            file,
            buf,
            eof,
            line,
            embedded,
            enc: encoding,
            delimiter,
            block,
            done: false,
            spare: Vec::new(),
        })),
    })
}

/// The column a mapping or the header names as the survey column.
fn survey_column(header: &[String], mapping: Option<&Mapping>) -> Option<usize> {
    header.iter().position(|h| {
        let name = mapping.and_then(|m| m.column_target(h)).unwrap_or(h);
        crate::header::is_survey_name(name)
    })
}

impl CsvBody {
    /// Cuts the next block at a record boundary; `Ok(None)` at the end of the file.
    fn next_block(&mut self) -> Result<Option<Block>, FileError> {
        if self.done {
            return Ok(None);
        }
        loop {
            if !self.eof && self.buf.len() < self.block {
                let want = self.block - self.buf.len();
                self.eof = !read_more(&mut self.file, &mut self.buf, want)?;
            }
            let s = scan(&self.buf, self.delimiter);
            let (cut, newlines, embedded, last) = if self.eof {
                if self.buf.is_empty() {
                    self.done = true;
                    return Ok(None);
                }
                if let Some(open) = s.open_quote {
                    self.done = true;
                    // A line above the quote that cannot be decoded is the file's first
                    // problem, as smaller blocks (decoded before this one) report it.
                    let before = &self.buf[..open];
                    decode_block(before, self.check_encoding(before)?, self.line)?;
                    return Err(FileError::Truncated {
                        line: self.line + count_nl(&self.buf[..open]),
                    });
                }
                // The rest of the file is the last block (its last line may lack a line break).
                (self.buf.len(), count_nl(&self.buf), s.embedded, true)
            } else {
                match s.boundary {
                    Some(b) => (b, s.newlines, s.embedded, false),
                    None => {
                        // One record longer than a block: read on until it ends.
                        let more = self.block;
                        self.eof = !read_more(&mut self.file, &mut self.buf, more)?;
                        continue;
                    }
                }
            };
            let mut rest = self
                .spare
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(self.block + 4096));
            rest.clear();
            rest.extend_from_slice(&self.buf[cut..]);
            self.buf.truncate(cut);
            let bytes = std::mem::replace(&mut self.buf, rest);
            self.enc = self.check_encoding(&bytes)?;
            let block = Block {
                newlines,
                unterminated: last && !bytes.ends_with(b"\n"),
                bytes,
                line: self.line,
                embedded: self.embedded,
                enc: self.enc,
            };
            self.line += newlines;
            self.embedded += embedded;
            if last {
                self.done = true;
            }
            return Ok(Some(block));
        }
    }

    /// Keeps the encoding decided when the file was opened, except that a file that was all
    /// ASCII so far is decided on its first non-ASCII line further down (a block holds whole
    /// records, so whole lines). Blocks are checked when they are decoded (in parallel), with
    /// the line of a bad byte.
    fn check_encoding(&self, bytes: &[u8]) -> Result<Enc, FileError> {
        Ok(match self.enc {
            Enc::Ascii => match first_non_ascii_line(bytes) {
                None => Enc::Ascii,
                Some((from, to)) => decide(&bytes[from..to.unwrap_or(bytes.len())]),
            },
            decided => decided,
        })
    }

    fn fill(&mut self, plan: &Arc<Plan>, ready: &mut VecDeque<Result<Chunk, FileError>>) {
        let mut blocks = Vec::new();
        let mut error = None;
        for _ in 0..wave() {
            match self.next_block() {
                Ok(Some(b)) => blocks.push(b),
                Ok(None) => break,
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        let delim = self.delimiter;
        let parsed: Vec<(Result<Chunk, FileError>, Vec<u8>)> = blocks
            .into_par_iter()
            .map(|b| parse_block(plan, b, delim))
            .collect();
        for (chunk, bytes) in parsed {
            ready.push_back(chunk);
            if bytes.capacity() <= 2 * (self.block + 4096) {
                self.spare.push(bytes);
            }
        }
        if let Some(e) = error {
            ready.push_back(Err(e));
        }
    }
}

/// Cells of a record, however the record was read.
pub(crate) trait Record {
    /// Number of cells.
    fn len(&self) -> usize;
    /// One cell ("" past the end).
    fn cell(&self, i: usize) -> &str;
}

impl Record for csv::StringRecord {
    fn len(&self) -> usize {
        csv::StringRecord::len(self)
    }
    fn cell(&self, i: usize) -> &str {
        self.get(i).unwrap_or("")
    }
}

impl Record for [String] {
    fn len(&self) -> usize {
        <[String]>::len(self)
    }
    fn cell(&self, i: usize) -> &str {
        self.get(i).map_or("", String::as_str)
    }
}

fn push(chunk: &mut Chunk, pos: Pos, read: Read) {
    match read {
        Read::Row(r) => chunk.rows.push(r),
        Read::Blank => chunk.blank += 1,
        Read::Error(problem) => chunk.errors.push(RowError { pos, problem }),
    }
}

/// Parses a block; gives its buffer back for reuse.
fn parse_block(plan: &Plan, b: Block, delim: u8) -> (Result<Chunk, FileError>, Vec<u8>) {
    let chunk = parse_text(plan, &b, delim);
    (chunk, b.bytes)
}

fn parse_text(plan: &Plan, b: &Block, delim: u8) -> Result<Chunk, FileError> {
    let text = decode_block(&b.bytes, b.enc, b.line)?;
    let mut chunk = Chunk {
        bytes: b.bytes.len() as u64,
        // At most a row per line.
        rows: Vec::with_capacity(b.newlines as usize + 1),
        ..Chunk::default()
    };
    let mut fields = Fields::new(&text, delim);
    let mut memo = Memo::new(plan);
    let (mut at, mut line, mut embedded) = (0usize, b.line, b.embedded);
    while at < text.len() {
        let inside = fields.read(&mut at);
        let pos = Pos {
            line,
            row: line - embedded,
        };
        let last_unterminated = b.unterminated && at >= text.len();
        let read = plan.read_record(pos, &fields, last_unterminated, &mut memo);
        push(&mut chunk, pos, read);
        line += 1 + inside;
        embedded += inside;
    }
    Ok(chunk)
}

/// The cells of one record, borrowed from the block's text; only values with escaped quotes
/// (`""`) or text after a closing quote are copied. The csv crate is not used here because its
/// record positions are wrong after a CR LF inside a quoted value, and rows must be reported on
/// the right line.
///
/// The structural bytes (quotes, delimiters, line feeds) are found 8 at a time ([`Marks`]);
/// fields are cut at those positions rather than by looking at every byte.
struct Fields<'t> {
    text: &'t str,
    cells: Vec<Cow<'t, str>>,
    delim: u8,
    /// Positions of `"`, the delimiter and line feeds, in order.
    marks: Marks<'t>,
}

impl<'t> Fields<'t> {
    fn new(text: &'t str, delim: u8) -> Fields<'t> {
        Fields {
            text,
            cells: Vec::with_capacity(64),
            delim,
            marks: Marks::new(text.as_bytes(), delim),
        }
    }

    /// The first structural position at or after `from`.
    #[inline]
    fn next_mark(&mut self, from: usize) -> Option<usize> {
        loop {
            match self.marks.next() {
                Some(p) if p < from => continue,
                other => return other,
            }
        }
    }

    /// The end of an unquoted stretch starting at `from`: the next delimiter or line feed
    /// (quotes there are literal), or the end of the text.
    #[inline]
    fn field_end(&mut self, mut from: usize) -> usize {
        let b = self.text.as_bytes();
        loop {
            match self.next_mark(from) {
                Some(q) if b[q] == b'"' => from = q + 1,
                Some(q) => return q,
                None => return b.len(),
            }
        }
    }

    /// Reads the record starting at `*at` (a record boundary), leaving `*at` at the next one.
    /// Returns the number of line breaks inside quoted values. Quotes are read as the csv crate
    /// reads them: a quote opens a quoted value only at the start of a field, `""` inside is
    /// one quote, and text after the closing quote is kept.
    fn read(&mut self, at: &mut usize) -> u64 {
        self.cells.clear();
        let text = self.text;
        let b = text.as_bytes();
        let n = b.len();
        let delim = self.delim;
        let mut i = *at;
        let mut inside = 0u64;
        loop {
            // One field, starting at i.
            if i < n && b[i] == b'"' {
                let mut seg = i + 1;
                let mut copied: Option<String> = None;
                let mut from = i + 1;
                let content_end;
                loop {
                    match self.next_mark(from) {
                        Some(q) if b[q] == b'"' => {
                            if b.get(q + 1) == Some(&b'"') {
                                // `""`: keep one quote, go on inside.
                                copied
                                    .get_or_insert_with(String::new)
                                    .push_str(&text[seg..=q]);
                                seg = q + 2;
                                from = q + 2;
                                continue;
                            }
                            content_end = q;
                            i = q + 1;
                            break;
                        }
                        Some(q) => {
                            // A delimiter or line feed inside the quotes is text.
                            inside += (b[q] == b'\n') as u64;
                            from = q + 1;
                        }
                        None => {
                            // Only the file's last block can end inside quotes, and that is
                            // refused before parsing; keep what there is.
                            content_end = n;
                            i = n;
                            break;
                        }
                    }
                }
                // Text between the closing quote and the delimiter is kept, as csv does.
                let tail_start = i;
                i = if i < n { self.field_end(i) } else { n };
                let tail_end = trim_cr(b, tail_start, i);
                let content = &text[seg..content_end.max(seg)];
                if copied.is_some() || tail_end > tail_start {
                    let mut s = copied.unwrap_or_default();
                    s.push_str(content);
                    s.push_str(&text[tail_start..tail_end]);
                    self.cells.push(Cow::Owned(s));
                } else {
                    self.cells.push(Cow::Borrowed(content));
                }
            } else {
                let start = i;
                i = if i < n { self.field_end(i) } else { n };
                if i < n && b[i] == delim {
                    // The common case: another field follows (no CR LF to trim here).
                    self.cells.push(Cow::Borrowed(&text[start..i]));
                    i += 1;
                    continue;
                }
                self.cells
                    .push(Cow::Borrowed(&text[start..trim_cr(b, start, i)]));
            }
            // After the field: a delimiter (another field), a line feed or the end (done).
            if i < n && b[i] == delim {
                i += 1;
                continue;
            }
            if i < n {
                i += 1;
            }
            break;
        }
        *at = i;
        inside
    }
}

/// The positions of quotes, delimiters and line feeds in a text, in order.
///
/// Cells are short (a few bytes), so a vectorised search per cell costs more to start than it
/// saves; this looks at 8 bytes at a time instead and finds every structural byte among them
/// at once (SWAR: exact zero-byte detection on the word XORed with each wanted byte).
struct Marks<'t> {
    b: &'t [u8],
    /// Offset of the word in `mask`.
    base: usize,
    /// High bit set in each byte of the current word that is structural, not yet returned.
    mask: u64,
    delim: u64,
}

const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;

/// All bits but the high one of each byte of `x` that is zero; the high bit of the others.
/// (The high bit of each byte of `!(nonzero(x) | LO7)` says whether the byte is zero, without
/// false positives: the addition cannot carry from one byte into the next.)
#[inline]
fn nonzero(x: u64) -> u64 {
    ((x & LO7) + LO7) | x
}

impl<'t> Marks<'t> {
    fn new(b: &'t [u8], delim: u8) -> Marks<'t> {
        let mut m = Marks {
            b,
            base: 0,
            mask: 0,
            delim: ONES * delim as u64,
        };
        m.mask = m.word_mask(0);
        m
    }

    #[inline]
    fn word_mask(&self, at: usize) -> u64 {
        let w = match self.b.get(at..at + 8) {
            Some(w) => u64::from_le_bytes(w.try_into().expect("8 bytes")),
            None => {
                // The tail: padded with zero bytes, which are not structural.
                let mut last = [0u8; 8];
                let rest = &self.b[at.min(self.b.len())..];
                last[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(last)
            }
        };
        // A byte is structural where it equals one of the three: where one of the XORs is zero.
        !((nonzero(w ^ (ONES * b'"' as u64))
            & nonzero(w ^ self.delim)
            & nonzero(w ^ (ONES * b'\n' as u64)))
            | LO7)
    }
}

impl Iterator for Marks<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if self.mask != 0 {
                let at = self.base + (self.mask.trailing_zeros() / 8) as usize;
                self.mask &= self.mask - 1;
                return Some(at);
            }
            self.base += 8;
            if self.base >= self.b.len() {
                return None;
            }
            self.mask = self.word_mask(self.base);
        }
    }
}

/// The end of a field that stops at `end`, without the CR of a CR LF line end.
fn trim_cr(b: &[u8], start: usize, end: usize) -> usize {
    if end > start && b[end - 1] == b'\r' && (end == b.len() || b[end] == b'\n') {
        end - 1
    } else {
        end
    }
}

impl Record for Fields<'_> {
    fn len(&self) -> usize {
        self.cells.len()
    }
    #[inline]
    fn cell(&self, i: usize) -> &str {
        match self.cells.get(i) {
            Some(c) => c,
            None => "",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Workbooks

struct BookBody {
    rows: Arc<Vec<(u64, Vec<String>)>>,
    next: usize,
    per_row_bytes: f64,
}

const BOOK_CHUNK_ROWS: usize = 4096;

fn cell_text(d: &calamine::Data) -> String {
    match d {
        calamine::Data::Empty => String::new(),
        // A code typed into a number cell comes back as a float: 1312345678, not 1312345678.0.
        calamine::Data::Float(x) if x.fract() == 0.0 && x.abs() < 1e15 => (*x as i64).to_string(),
        calamine::Data::Bool(true) => "true".into(),
        calamine::Data::Bool(false) => "false".into(),
        other => other.to_string(),
    }
}

/// Cells a reply sheet may span from its first to its last non-empty cell (rows × columns): tens
/// of thousands of replies of a few hundred columns, far below what would exhaust memory.
const MAX_SHEET_SPAN: u64 = 20_000_000;

/// Refuses a sheet whose cells span more than [`MAX_SHEET_SPAN`] before calamine's
/// `worksheet_range` makes its dense grid of them: one cell at `XFD1048576` in a 4 KB file asks
/// for hundreds of gigabytes and aborts the process (tafia/calamine#693). Only xlsx needs this
/// (its cells are read once more, in a stream); a damaged cell reference that makes calamine
/// panic is a damaged workbook like any other.
fn check_extent<R: std::io::Read + std::io::Seek>(
    wb: &mut calamine::Sheets<R>,
    sheet: &str,
) -> Result<(), FileError> {
    let calamine::Sheets::Xlsx(book) = wb else {
        return Ok(());
    };
    let span = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut cells = book
            .worksheet_cells_reader(sheet)
            .map_err(|e| FileError::Workbook(e.to_string()))?;
        let (mut r0, mut r1, mut c0, mut c1) = (u32::MAX, 0u32, u32::MAX, 0u32);
        while let Some(cell) = cells
            .next_cell()
            .map_err(|e| FileError::Workbook(e.to_string()))?
        {
            if matches!(cell.get_value(), calamine::DataRef::Empty) {
                continue;
            }
            let (r, c) = cell.get_position();
            (r0, r1, c0, c1) = (r0.min(r), r1.max(r), c0.min(c), c1.max(c));
        }
        Ok(if r1 >= r0 && c1 >= c0 {
            Some(((u64::from(r1 - r0) + 1) * (u64::from(c1 - c0) + 1), r1, c1))
        } else {
            None
        })
    }))
    .unwrap_or_else(|_| {
        Err(FileError::Workbook(format!(
            "sheet 「{sheet}」: its worksheet XML is damaged (an impossible cell reference)"
        )))
    })?;
    match span {
        Some((cells, r1, c1)) if cells > MAX_SHEET_SPAN => Err(FileError::Workbook(format!(
            "sheet 「{sheet}」 has a cell at row {}, column {}, so its cells span {cells} \
             positions, more than the {MAX_SHEET_SPAN} any reply sheet needs: the workbook is \
             damaged (delete the stray cell, or copy the replies into a new workbook)",
            u64::from(r1) + 1,
            u64::from(c1) + 1
        ))),
        _ => Ok(()),
    }
}

fn open_book(path: &Path, catalog: &Catalog, opts: &ReadOptions) -> Result<ReplyFile, FileError> {
    use calamine::Reader as _;
    let size = std::fs::metadata(path)?.len();
    let mut wb =
        calamine::open_workbook_auto(path).map_err(|e| FileError::Workbook(e.to_string()))?;
    let names = wb.sheet_names();
    let mapping = opts.mapping.as_deref();
    let sheet = match mapping.and_then(|m| m.sheet.clone()) {
        Some(s) if names.contains(&s) => s,
        Some(s) => {
            return Err(FileError::Workbook(format!(
                "no sheet 「{s}」 (sheets: {})",
                names.join(", ")
            )));
        }
        None => names
            .first()
            .cloned()
            .ok_or_else(|| FileError::Workbook("the workbook has no sheets".into()))?,
    };
    check_extent(&mut wb, &sheet)?;
    let range = wb
        .worksheet_range(&sheet)
        .map_err(|e| FileError::Workbook(e.to_string()))?;
    let first_row = range.start().map_or(0, |(r, _)| r as u64);
    let mut all: Vec<(u64, Vec<String>)> = range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            (
                first_row + i as u64 + 1,
                cells.iter().map(cell_text).collect(),
            )
        })
        .collect();
    let explicit = mapping.map(|m| m.header_row).filter(|&h| h > 1);
    let header_at = match explicit {
        Some(h) => all.iter().position(|(r, _)| *r == h as u64),
        None => all
            .iter()
            .position(|(_, c)| c.iter().any(|s| !text::trim(s).is_empty())),
    }
    .ok_or(FileError::Empty)?;
    let header: Vec<String> = all[header_at]
        .1
        .iter()
        .map(|h| text::trim(h).to_owned())
        .collect();
    // Trailing unnamed, empty columns are just the sheet's used range.
    let width = header
        .iter()
        .rposition(|h| !h.is_empty())
        .map_or(0, |p| p + 1);
    let header = header[..width].to_vec();
    all.drain(..=header_at);
    let survey_value = survey_column(&header, mapping)
        .and_then(|col| all.first().and_then(|(_, r)| r.get(col).cloned()));
    let index = catalog.choose(
        &header,
        opts.survey.as_deref(),
        mapping,
        survey_value.as_deref(),
    )?;
    let plan = Plan::new(index, &header, mapping)?;
    let n = all.len().max(1);
    Ok(ReplyFile {
        path: path.to_owned(),
        size,
        format: Format::Workbook { sheet },
        plan: Arc::new(plan),
        source: Source::Idle(Body::Book(BookBody {
            rows: Arc::new(all),
            next: 0,
            per_row_bytes: size as f64 / n as f64,
        })),
    })
}

impl BookBody {
    fn fill(&mut self, plan: &Arc<Plan>, ready: &mut VecDeque<Result<Chunk, FileError>>) {
        let start = self.next;
        let end = (start + wave() * BOOK_CHUNK_ROWS).min(self.rows.len());
        if start >= end {
            return;
        }
        self.next = end;
        let width = plan.columns.len();
        let per_row = self.per_row_bytes;
        let chunks: Vec<Result<Chunk, FileError>> = self.rows[start..end]
            .par_chunks(BOOK_CHUNK_ROWS)
            .map(|rows| {
                let mut chunk = Chunk {
                    bytes: (rows.len() as f64 * per_row) as u64,
                    ..Chunk::default()
                };
                let mut memo = Memo::new(plan);
                for (r, cells) in rows {
                    let pos = Pos { line: *r, row: *r };
                    // Cells right of the header are only an error if they hold something.
                    let cells = if cells.len() > width
                        && cells[width..].iter().all(|c| text::trim(c).is_empty())
                    {
                        &cells[..width]
                    } else {
                        &cells[..]
                    };
                    let read = if cells.len() < width {
                        let mut padded = cells.to_vec();
                        padded.resize(width, String::new());
                        plan.read_record(pos, padded.as_slice(), false, &mut memo)
                    } else {
                        plan.read_record(pos, cells, false, &mut memo)
                    };
                    push(&mut chunk, pos, read);
                }
                Ok(chunk)
            })
            .collect();
        ready.extend(chunks);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The straightforward scan, visiting every quote and line break, to check [`scan`] against.
    /// Finds the last record boundary. Quotes follow the csv crate's reading: a quote opens a quoted
    /// value only at the start of a field, `""` inside is a literal quote.
    fn scan_reference(buf: &[u8], delim: u8) -> Scan {
        if memchr(b'"', buf).is_none() {
            let boundary = memrchr(b'\n', buf).map(|p| p + 1);
            return Scan {
                boundary,
                newlines: boundary.map_or(0, |b| count_nl(&buf[..b])),
                embedded: 0,
                open_quote: None,
            };
        }
        let (mut i, mut in_q, mut open) = (0, false, 0);
        let (mut boundary, mut embedded, mut embedded_at_boundary) = (None, 0, 0);
        while i < buf.len() {
            if in_q {
                match memchr(b'"', &buf[i..]) {
                    // Still inside quotes at the end: no boundary after `open`.
                    None => break,
                    Some(k) => {
                        let p = i + k;
                        embedded += count_nl(&buf[i..p]);
                        if buf.get(p + 1) == Some(&b'"') {
                            i = p + 2;
                        } else {
                            in_q = false;
                            i = p + 1;
                        }
                    }
                }
            } else {
                match memchr::memchr2(b'"', b'\n', &buf[i..]) {
                    None => break,
                    Some(k) => {
                        let p = i + k;
                        if buf[p] == b'\n' {
                            boundary = Some(p + 1);
                            embedded_at_boundary = embedded;
                        } else if p == 0 || buf[p - 1] == b'\n' || buf[p - 1] == delim {
                            in_q = true;
                            open = p;
                        }
                        i = p + 1;
                    }
                }
            }
        }
        Scan {
            boundary,
            newlines: boundary.map_or(0, |b| count_nl(&buf[..b])),
            embedded: embedded_at_boundary,
            open_quote: in_q.then_some(open),
        }
    }

    #[test]
    fn marks_are_every_quote_delimiter_and_line_feed() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 70) as usize;
            let mut b = Vec::with_capacity(n);
            let mut y = x;
            for _ in 0..n {
                y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                // Bytes next to the structural ones too (!, #, +, -, 0x0A ± 1, high bytes).
                b.push(b"\",\n\t;!#+-\x09\x0b\x80\xff\x00a\x22"[(y >> 59) as usize % 16]);
            }
            for delim in [b',', b'\t', b';'] {
                let want: Vec<usize> = (0..b.len())
                    .filter(|&i| matches!(b[i], b'"' | b'\n') || b[i] == delim)
                    .collect();
                let got: Vec<usize> = Marks::new(&b, delim).collect();
                assert_eq!(got, want, "{b:?}");
            }
        }
    }

    #[test]
    fn scan_agrees_with_the_straightforward_scan() {
        // Random texts of quotes, delimiters, line breaks and letters.
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 40) as usize;
            let mut b = Vec::with_capacity(n);
            let mut y = x;
            for _ in 0..n {
                y = y.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                b.push(b"\"\",\n\naab\r;"[(y >> 60) as usize % 10]);
            }
            for delim in [b',', b';'] {
                assert_eq!(
                    scan(&b, delim),
                    scan_reference(&b, delim),
                    "{:?}",
                    String::from_utf8_lossy(&b)
                );
            }
        }
    }

    #[test]
    fn scan_finds_boundaries_outside_quotes() {
        let b = b"a,b\n\"x\ny\",2\nc,\"d";
        let s = scan(b, b',');
        assert_eq!(s.boundary, Some(12));
        assert_eq!(s.newlines, 3);
        assert_eq!(s.embedded, 1);
        assert_eq!(s.open_quote, Some(14));
        // A quote inside an unquoted value is a literal (5" floppy), as the csv crate reads it.
        let s = scan(b"a,5\"x\nb,c\n", b',');
        assert_eq!((s.boundary, s.open_quote), (Some(10), None));
        // Escaped quotes stay inside.
        let s = scan(b"\"a\"\"\nb\",c\nd", b',');
        assert_eq!((s.boundary, s.embedded, s.open_quote), (Some(10), 1, None));
        // No quotes at all: the fast path.
        let s = scan(b"a\nb\nc", b',');
        assert_eq!((s.boundary, s.newlines), (Some(4), 2));
    }

    fn fields(text: &str) -> Vec<Vec<String>> {
        let mut f = Fields::new(text, b',');
        let mut at = 0;
        let mut out = Vec::new();
        while at < text.len() {
            f.read(&mut at);
            out.push((0..f.len()).map(|i| f.cell(i).to_owned()).collect());
        }
        out
    }

    #[test]
    fn fields_are_read_as_the_csv_crate_reads_them() {
        let text = "a,\"b,c\",\"x\"\"y\"\r\n\"1\r\n2\",5\"in,\"q\"tail\n\n,\r\nlast,\"\"";
        assert_eq!(
            fields(text),
            vec![
                vec!["a", "b,c", "x\"y"],
                vec!["1\r\n2", "5\"in", "qtail"],
                vec![""],
                vec!["", ""],
                vec!["last", ""],
            ]
        );
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let theirs: Vec<Vec<String>> = rdr
            .records()
            .map(|r| r.unwrap().iter().map(str::to_owned).collect())
            .collect();
        let ours: Vec<Vec<String>> = fields(text)
            .into_iter()
            .filter(|r| r != &vec![String::new()])
            .collect();
        assert_eq!(ours, theirs, "blank lines aside, the same cells");
    }

    #[test]
    fn remembered_conversions_are_what_converting_again_gives() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let parsed = capsurvey_survey::parse_survey(
            "dental",
            &std::fs::read_to_string(root.join("surveys/dental.toml")).unwrap(),
        )
        .unwrap();
        let catalog = Catalog::new(vec![parsed]);
        let header: Vec<String> = "facility_code,q01a,q03,q04.full,q04.part,q05.full,q06,q07.unit,\
            q08,q09,q10.home,q11a,q12,q18a,q19,q26,q28"
            .split(',')
            .map(str::to_owned)
            .collect();
        let index = catalog.choose(&header, Some("dental"), None, None).unwrap();
        let plan = Plan::new(index, &header, None).unwrap();
        // Spellings that collide in the short key unless it is exact, long ones compared in
        // full, misfits (whose reasons are remembered too) and text fields.
        let values = [
            "1",
            "2",
            "１",
            "12",
            "21",
            "1,2",
            "1;2",
            "1、2",
            "1,234",
            "−",
            "",
            " ",
            "はい",
            "いいえ",
            "○",
            "×",
            "11",
            "111",
            "医療法人",
            "在宅療養支援歯科診療所1",
            "在宅療養支援歯科診療所2",
            "AAAAAAAAxBBBBBBBB",
            "AAAAAAAAyBBBBBBBB",
            "1;3;5;7;9;11;13;15;17;19;21;23;25;27;29;31;33",
            "1;3;5;7;9;11;13;15;17;19;21;23;25;27;29;31;35",
            "なし",
            "該当なし",
            "7",
            "99",
        ];
        let mut text = String::new();
        for r in 0..400 {
            text.push_str(&format!("13{r:08}"));
            for c in 1..header.len() {
                let mix =
                    (r as u64 * 0x9E37_79B9 + c as u64 * 0x85EB_CA6B).wrapping_mul(0x2545_F491);
                let v = values[(mix >> 16) as usize % values.len()];
                if v.contains(',') {
                    text.push_str(&format!(",\"{v}\""));
                } else {
                    text.push(',');
                    text.push_str(v);
                }
            }
            text.push('\n');
        }
        let mut fields = Fields::new(&text, b',');
        let mut shared = Memo::new(&plan);
        let mut at = 0;
        let mut line = 2;
        let mut misfits = 0;
        while at < text.len() {
            fields.read(&mut at);
            let pos = Pos { line, row: line };
            let once = plan.read_record(pos, &fields, false, &mut Memo::new(&plan));
            let again = plan.read_record(pos, &fields, false, &mut shared);
            assert_eq!(format!("{once:?}"), format!("{again:?}"), "line {line}");
            if let Read::Row(r) = &again {
                misfits += r.answers.iter().filter(|a| a.problem().is_some()).count();
            }
            line += 1;
        }
        assert!(misfits > 100, "{misfits}");
    }

    #[test]
    fn first_record_and_delimiters() {
        assert_eq!(first_record_end(b"\"a\nb\",c\nd\n", b','), Some(8));
        assert_eq!(first_record_end(b"abc", b','), None);
        let p = Path::new("x.csv");
        assert_eq!(detect_delimiter(b"a,b,c\n", p), b',');
        assert_eq!(detect_delimiter(b"a\tb\t\"c,d\"\n", p), b'\t');
        assert_eq!(detect_delimiter(b"a;b;c\n", p), b';');
        assert_eq!(detect_delimiter(b"a,b", Path::new("x.tsv")), b'\t');
    }
}
