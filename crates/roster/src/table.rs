//! Bytes to rows of cell text, for CSV (any of the encodings Japanese offices use) and xlsx alike,
//! each row with the line or Excel row number a person would look for.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use capsurvey_jptext::Encoding;
use encoding_rs::SHIFT_JIS;

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

fn read_xlsx(bytes: &[u8]) -> Result<Vec<Table>, ParseError> {
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| ParseError::Workbook(e.to_string()))?;
    let mut tables = Vec::new();
    for name in book.sheet_names() {
        let range = book
            .worksheet_range(&name)
            .map_err(|e| ParseError::Workbook(format!("sheet {name}: {e}")))?;
        // The range starts at the first used cell, not at A1: title rows above a blank row and
        // an empty first column must not shift the row numbers people are told about.
        let (row0, col0) = range.start().unwrap_or((0, 0));
        let rows = range
            .rows()
            .enumerate()
            .map(|(i, cells)| {
                let mut cells: Vec<String> = cells.iter().map(cell_text).collect();
                for _ in 0..col0 {
                    cells.insert(0, String::new());
                }
                Row {
                    line: row0 as usize + i + 1,
                    cells,
                }
            })
            .filter(|r| r.cells.iter().any(|c| !c.trim().is_empty()))
            .collect();
        tables.push(Table {
            encoding: SourceEncoding::Xlsx,
            rows,
            errors: Vec::new(),
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
            let (text, enc) = decode_lossy(bytes);
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
    for result in reader.records() {
        match result {
            Ok(record) => {
                let line = record.position().map_or(0, |p| lines.at(p.byte()));
                let cells: Vec<String> = record.iter().map(str::to_owned).collect();
                if cells.iter().all(|c| c.trim().is_empty()) {
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

/// Decodes in whichever encoding leaves fewer lines broken, marking bad bytes with U+FFFD.
fn decode_lossy(bytes: &[u8]) -> (String, Encoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (
            String::from_utf8_lossy(rest).into_owned(),
            Encoding::Utf8Bom,
        );
    }
    // Splitting on LF is safe in both: 0x0A is never part of a CP932 or UTF-8 multi-byte character.
    let (mut bad_utf8, mut bad_sjis) = (0, 0);
    for line in bytes.split(|&b| b == b'\n') {
        bad_utf8 += usize::from(std::str::from_utf8(line).is_err());
        bad_sjis += usize::from(SHIFT_JIS.decode_without_bom_handling(line).1);
    }
    if bad_sjis < bad_utf8 {
        (
            SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned(),
            Encoding::ShiftJis,
        )
    } else {
        (String::from_utf8_lossy(bytes).into_owned(), Encoding::Utf8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn cells_as_text() {
        assert_eq!(cell_text(&Data::Float(1234567.0)), "1234567");
        assert_eq!(cell_text(&Data::Float(35.5)), "35.5");
        assert_eq!(cell_text(&Data::String("支援診３".into())), "支援診３");
        assert_eq!(cell_text(&Data::Empty), "");
    }
}
