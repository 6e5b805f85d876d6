//! Bytes to rows of cell text, for CSV (any of the encodings Japanese offices use) and xlsx alike,
//! each row with the line or Excel row number a person would look for.

use std::collections::BTreeMap;
use std::io::Cursor;

use calamine::{Data, DataRef, Reader, Xlsx, XlsxError};

use crate::parse::ParseError;
use crate::record::{RowError, SourceEncoding};

/// One row of cells.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// 1-based CSV line where the record starts, or Excel row number.
    pub line: usize,
    pub cells: Vec<String>,
}

/// One sheet (xlsx) or the whole file (CSV).
#[derive(Debug, Clone)]
pub(crate) struct Table {
    pub encoding: SourceEncoding,
    pub rows: Vec<Row>,
    /// Rows that could not be decoded (left out of `rows`).
    pub errors: Vec<RowError>,
}

/// The longest cell a roster row may have, in characters. Names, addresses and notes are far
/// shorter; a longer cell is a damaged file or a quote that never closes (it swallows the lines
/// after it), and keeping it would put megabytes into every letter, form and list.
pub(crate) const MAX_CELL_CHARS: usize = 2000;

/// The first cell longer than [`MAX_CELL_CHARS`] as a row error.
fn long_cell(line: usize, cells: &[String]) -> Option<RowError> {
    cells.iter().enumerate().find_map(|(i, c)| {
        // Bytes first: a cell of fewer bytes cannot have more characters.
        let n = if c.len() > MAX_CELL_CHARS {
            c.chars().count()
        } else {
            0
        };
        (n > MAX_CELL_CHARS).then(|| RowError {
            line,
            reason: format!(
                "column {} holds {n} characters, more than the {MAX_CELL_CHARS} a roster cell may \
                 have: the file is damaged or a quote is not closed; the row was skipped",
                i + 1
            ),
        })
    })
}

/// Whether the bytes are a zip container (xlsx) rather than text.
pub(crate) fn is_xlsx(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

/// Reads every sheet of a workbook, or the one table of a CSV file.
pub(crate) fn read_tables(bytes: &[u8]) -> Result<Vec<Table>, ParseError> {
    if is_xlsx(bytes) {
        read_xlsx(bytes)
    } else {
        Ok(vec![read_csv(bytes)])
    }
}

/// Columns a roster sheet may use (the public lists have a few dozen; Excel allows 16,384).
const MAX_COLUMNS: u32 = 1024;
/// Excel's last row.
const MAX_ROWS: u32 = 1 << 20;
/// Cells of a sheet once its rows are padded to the same width (a few times the largest real
/// list): the bound on memory, whatever cell references a damaged or hostile file holds.
const MAX_SHEET_CELLS: usize = 4_000_000;

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Table>, ParseError> {
    // calamine panics on some damaged cell references (an arithmetic overflow, in builds with
    // overflow checks): that is a damaged workbook like any other.
    std::panic::catch_unwind(|| read_sheets(bytes)).unwrap_or_else(|_| {
        Err(ParseError::Workbook(
            "its worksheet XML is damaged (an impossible cell reference)".into(),
        ))
    })
}

/// Reads the sheets cell by cell into rows. Not calamine's `worksheet_range`: that makes a dense
/// grid spanning the first to the last cell reference, so one cell at `XFD1048576` (or at
/// `ZZZZZZ1`) in a 4 KB file asks for hundreds of gigabytes and aborts the process
/// (tafia/calamine#693).
fn read_sheets(bytes: &[u8]) -> Result<Vec<Table>, ParseError> {
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| ParseError::Workbook(e.to_string()))?;
    let mut tables = Vec::new();
    for name in book.sheet_names() {
        let sheet_err = |e: String| ParseError::Workbook(format!("sheet {name}: {e}"));
        let mut reader = match book.worksheet_cells_reader(&name) {
            Ok(r) => r,
            // Chart sheets and the like hold no cells.
            Err(XlsxError::NotAWorksheet(_)) => continue,
            Err(e) => return Err(sheet_err(e.to_string())),
        };
        // Row number (0-based) → (column, text), for the cells that hold something.
        let mut grid: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
        let mut width = 0u32;
        while let Some(cell) = reader.next_cell().map_err(|e| sheet_err(e.to_string()))? {
            if matches!(cell.get_value(), DataRef::Empty) {
                continue;
            }
            let (row, col) = cell.get_position();
            if col >= MAX_COLUMNS || row >= MAX_ROWS {
                return Err(sheet_err(format!(
                    "a cell at row {}, column {} is outside any roster (at most {MAX_COLUMNS} \
                     columns): the workbook is damaged",
                    u64::from(row) + 1,
                    u64::from(col) + 1
                )));
            }
            width = width.max(col + 1);
            let rows = grid.len() + usize::from(!grid.contains_key(&row));
            if rows.saturating_mul(width as usize) > MAX_SHEET_CELLS {
                return Err(sheet_err(format!(
                    "more than {MAX_SHEET_CELLS} cells: far larger than any roster"
                )));
            }
            let text = cell_text(&Data::from(cell.get_value().clone()));
            grid.entry(row).or_default().push((col, text));
        }
        // Row numbers and columns are the sheet's own, from A1: title rows above a blank row and
        // an empty first column do not shift the rows people are told about. Every row has the
        // sheet's width, as the header does.
        let mut errors = Vec::new();
        let rows = grid
            .into_iter()
            .map(|(row, cells)| {
                let mut line = vec![String::new(); width as usize];
                for (col, text) in cells {
                    line[col as usize] = text;
                }
                Row {
                    line: row as usize + 1,
                    cells: line,
                }
            })
            .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()))
            .filter(|r| match long_cell(r.line, &r.cells) {
                Some(e) => {
                    errors.push(e);
                    false
                }
                None => true,
            })
            .collect();
        tables.push(Table {
            encoding: SourceEncoding::Xlsx,
            rows,
            errors,
        });
    }
    Ok(tables)
}

/// A cell as the text a person sees: whole numbers without `.0` (codes and postal codes are
/// often stored as numbers), dates as `YYYY-MM-DD`.
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty | Data::Error(_) => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => {
            // Excel serial day 0 is 1899-12-30 (with the 1900 leap-year bug folded in).
            let days = dt.as_f64().floor() as i64;
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|d| d.checked_add_signed(chrono::TimeDelta::days(days)))
                .map_or_else(|| dt.as_f64().to_string(), |d| d.to_string())
        }
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
    }
}

/// Decodes and splits a CSV file. Bytes that are not valid in the file's encoding spoil only
/// the rows they are in: those rows become errors, the rest is read.
fn read_csv(bytes: &[u8]) -> Table {
    let (text, encoding, damaged) = match capsurvey_jptext::decode(bytes) {
        Ok((text, enc)) => (text, enc, false),
        Err(_) => {
            let (text, enc) = capsurvey_jptext::decode_lossy(bytes);
            (text, enc, true)
        }
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let lines = Lines::new(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    // The last record: its line, where it starts, and whether a cell spans lines.
    let mut last = None;
    for result in reader.records() {
        match result {
            Ok(record) => {
                let start = record.position().map_or(0, |p| p.byte() as usize);
                let line = record.position().map_or(0, |p| lines.at(p.byte()));
                let cells: Vec<String> = record.iter().map(str::to_owned).collect();
                last = Some((line, start, cells.iter().any(|c| c.contains('\n'))));
                if cells.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                if let Some(e) = long_cell(line, &cells) {
                    errors.push(e);
                    continue;
                }
                if damaged && cells.iter().any(|c| c.contains('\u{FFFD}')) {
                    errors.push(RowError {
                        line,
                        reason: format!(
                            "bytes that are not valid {encoding}; the row was skipped: correct it, \
                             and save the file as CSV UTF-8 or Excel's CSV (Shift_JIS)"
                        ),
                    });
                    continue;
                }
                rows.push(Row { line, cells });
            }
            Err(e) => errors.push(RowError {
                line: e.position().map_or(0, |p| lines.at(p.byte())),
                reason: format!("cannot read this CSV row ({e}); check its quotes"),
            }),
        }
    }
    // A quote that never closes makes the rest of the file one cell of the last record (the
    // csv reader takes it without complaint): quotes are balanced in any well-formed record.
    if let Some((line, start, multiline)) = last {
        let tail = text.get(start..).unwrap_or_default();
        if multiline && tail.bytes().filter(|&b| b == b'"').count() % 2 == 1 {
            rows.retain(|r: &Row| r.line != line);
            errors.retain(|e: &RowError| e.line != line);
            let swallowed = tail.trim_matches(['\r', '\n']).matches('\n').count();
            errors.push(RowError {
                line,
                reason: format!(
                    "a quoted value starts in this row and never ends, so the {swallowed} lines \
                     after it were not read: the file looks cut off, or a closing quote is \
                     missing; correct it and import the file again"
                ),
            });
        }
    }
    Table {
        encoding: SourceEncoding::Text(encoding),
        rows,
        errors,
    }
}

/// Line numbers for csv records. csv reports a record's position before the line end it still
/// has to skip (after a CRLF record), so the line is worked out from the byte offset instead:
/// skip line ends, then count the LFs before the record.
pub(crate) struct Lines<'t> {
    text: &'t str,
    newlines: Vec<usize>,
}

impl<'t> Lines<'t> {
    pub fn new(text: &'t str) -> Self {
        Lines {
            text,
            newlines: text.match_indices('\n').map(|(i, _)| i).collect(),
        }
    }

    /// The 1-based line of the record csv says starts at `byte`.
    pub fn at(&self, byte: u64) -> usize {
        let byte = (byte as usize).min(self.text.len());
        let start = self.text.as_bytes()[byte..]
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .map_or(self.text.len(), |p| byte + p);
        self.newlines.partition_point(|&n| n < start) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capsurvey_jptext::Encoding;
    use encoding_rs::SHIFT_JIS;

    #[test]
    fn csv_lines_and_blank_rows() {
        let t = read_csv("a,b\r\n\r\n\"x\ny\",2\r\n,\r\nc,3\r\n".as_bytes());
        assert_eq!(t.encoding, SourceEncoding::Text(Encoding::Utf8));
        let lines: Vec<usize> = t.rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 6]);
        assert_eq!(t.rows[1].cells, ["x\ny", "2"]);
    }

    #[test]
    fn a_bad_line_spoils_only_its_row() {
        let mut bytes = SHIFT_JIS
            .encode("コード,名称\nL001,みどり歯科\nL002,")
            .0
            .into_owned();
        bytes.extend_from_slice(b"\x82\xFF\n");
        bytes.extend_from_slice(&SHIFT_JIS.encode("L003,さくら歯科\n").0);
        let t = read_csv(&bytes);
        assert_eq!(t.encoding, SourceEncoding::Text(Encoding::ShiftJis));
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[2].cells, ["L003", "さくら歯科"]);
        assert_eq!(t.errors.len(), 1);
        assert_eq!(t.errors[0].line, 3);
        assert!(
            t.errors[0].reason.contains("Shift_JIS"),
            "{}",
            t.errors[0].reason
        );
    }

    /// UTF-8 with one broken character decodes as Shift_JIS without an error, into mojibake;
    /// it is read as UTF-8 and only the broken line is lost.
    #[test]
    fn damaged_utf8_is_not_read_as_shift_jis() {
        let mut bytes =
            "コード,種別,名称\nL001,歯科,医療法人社団　緑風会　みどり歯科医院\nL002,歯科,"
                .as_bytes()
                .to_vec();
        bytes.extend_from_slice(b"\xE3\x81\n");
        bytes.extend_from_slice("L003,歯科,さくら歯科医院\n".as_bytes());
        let t = read_csv(&bytes);
        assert_eq!(t.encoding, SourceEncoding::Text(Encoding::Utf8));
        assert_eq!(t.rows.len(), 3);
        assert_eq!(t.rows[2].cells[2], "さくら歯科医院");
        assert_eq!(t.errors.len(), 1);
        assert_eq!(t.errors[0].line, 3);
    }

    #[test]
    fn an_absurdly_long_cell_is_a_row_error() {
        let text = format!(
            "コード,種別,名称\nL001,歯科,{}\nL002,歯科,さくら歯科\n",
            "あ".repeat(MAX_CELL_CHARS + 1)
        );
        let t = read_csv(text.as_bytes());
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.rows[1].cells[0], "L002");
        assert_eq!(t.errors.len(), 1);
        assert_eq!(t.errors[0].line, 2);
        assert!(
            t.errors[0]
                .reason
                .starts_with("column 3 holds 2001 characters"),
            "{}",
            t.errors[0].reason
        );
        // At the limit it is read.
        let text = format!("コード,名称\nL001,{}\n", "あ".repeat(MAX_CELL_CHARS));
        assert!(read_csv(text.as_bytes()).errors.is_empty());
    }

    #[test]
    fn a_quote_that_never_closes_is_reported() {
        let t = read_csv(
            "コード,名称\nL001,みどり歯科\nL002,\"さくら歯科\nL003,ひかり歯科\nL004,x\n".as_bytes(),
        );
        assert_eq!(t.rows.len(), 2, "{:?}", t.rows);
        assert_eq!(t.errors.len(), 1);
        assert_eq!(t.errors[0].line, 3);
        assert!(
            t.errors[0]
                .reason
                .contains("never ends, so the 2 lines after it were not read"),
            "{}",
            t.errors[0].reason
        );
        // A quoted value with line breaks that does close is fine.
        let t = read_csv("コード,名称\nL001,\"み\nどり\"\n".as_bytes());
        assert!(t.errors.is_empty());
        assert_eq!(t.rows[1].cells[1], "み\nどり");
    }

    #[test]
    fn cells_as_text() {
        assert_eq!(cell_text(&Data::Float(1234567.0)), "1234567");
        assert_eq!(cell_text(&Data::Float(35.5)), "35.5");
        assert_eq!(cell_text(&Data::String("支援診３".into())), "支援診３");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
