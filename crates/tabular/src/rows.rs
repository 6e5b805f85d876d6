//! One record of a file to one row of answers: the facility, and a value or a misfit per field.

use capsurvey_survey::Value;

use crate::header::{Plan, Source};
use crate::read::Record;
use crate::text::{self, Mark};
use crate::values::{Cell, Misfit, Picked, ValueMap};

/// Conversions already made while reading a run of rows, per output column.
///
/// A column of a reply file holds few distinct spellings (option codes and labels, はい/いいえ,
/// small numbers), and converting one is a pure function of its text: the field, question and
/// value maps are fixed for the file. So each output keeps a small direct-mapped table from
/// cell text to what it converted to (value or misfit reason), and a repeated spelling costs
/// one hash and one comparison instead of folding, splitting and looking up options again.
/// Text fields are not memoised (their values live in each row's buffer), nor are long cells.
pub(crate) struct Memo {
    slots: Vec<Slot>,
    /// Keys longer than 16 bytes, by slot (compared in full).
    long: Vec<Vec<u8>>,
    /// Misfit reasons, by slot.
    reasons: Vec<String>,
}

/// One remembered conversion: 40 bytes, so that the tables of a file's columns stay in the
/// first-level cache.
#[derive(Clone, Copy)]
struct Slot {
    /// The key's first and last 8 (or 4) bytes: with the length, the whole key up to 16
    /// bytes.
    ends: (u64, u64),
    /// Length of the key, `u32::MAX` while empty.
    len: u32,
    /// Whether the conversion failed (the reason is in `Memo::reasons`).
    misfit: bool,
    cell: Cell,
}

/// Slots per output (a power of two).
const MEMO_WAYS: usize = 32;
/// Longer cells are converted every time: they are rarely repeated.
const MEMO_MAX_KEY: usize = 64;

/// The first and last 8 (or 4) bytes of a key (the first, middle and last byte of shorter
/// keys): with the length they determine a key of up to 16 bytes.
#[inline]
fn key_ends(b: &[u8]) -> (u64, u64) {
    let n = b.len();
    if n >= 8 {
        let a = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let z = u64::from_le_bytes(b[n - 8..].try_into().expect("8 bytes"));
        (a, z)
    } else if n >= 4 {
        let a = u32::from_le_bytes(b[..4].try_into().expect("4 bytes"));
        let z = u32::from_le_bytes(b[n - 4..].try_into().expect("4 bytes"));
        (a as u64, z as u64)
    } else if n > 0 {
        (
            b[0] as u64 | (b[n / 2] as u64) << 8 | (b[n - 1] as u64) << 16,
            0,
        )
    } else {
        (0, 0)
    }
}

impl Memo {
    pub(crate) fn new(plan: &Plan) -> Memo {
        let n = plan.outputs.len() * MEMO_WAYS;
        let empty = Slot {
            ends: (0, 0),
            len: u32::MAX,
            misfit: false,
            cell: Cell::Blank,
        };
        Memo {
            slots: vec![empty; n],
            long: vec![Vec::new(); n],
            reasons: vec![String::new(); n],
        }
    }

    /// Where the conversion of `raw` for output `out` is, or would go.
    #[inline(always)]
    fn find(&self, out: usize, raw: &str) -> Lookup<'_> {
        let b = raw.as_bytes();
        if b.len() > MEMO_MAX_KEY {
            return Lookup::Never;
        }
        let ends = key_ends(b);
        let h = (ends.0 ^ ends.1.rotate_left(29) ^ b.len() as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            >> 58;
        let i = out * MEMO_WAYS + (h as usize & (MEMO_WAYS - 1));
        let slot = &self.slots[i];
        if slot.len == b.len() as u32 && slot.ends == ends && (b.len() <= 16 || self.long[i] == b) {
            if slot.misfit {
                Lookup::Misfit(&self.reasons[i])
            } else {
                Lookup::Cell(slot.cell)
            }
        } else {
            Lookup::Miss(i)
        }
    }

    /// Remembers the conversion of `raw` in slot `i` (from [`Lookup::Miss`]). Conversions
    /// that refer to the row's text buffer are not remembered.
    fn put(&mut self, i: usize, raw: &str, result: &Result<Cell, Misfit>) {
        let b = raw.as_bytes();
        let cell = match result {
            Ok(cell) if cell.in_buffer() => return,
            Ok(cell) => *cell,
            Err(Misfit(reason)) => {
                self.reasons[i].clone_from(reason);
                Cell::Blank
            }
        };
        self.slots[i] = Slot {
            ends: key_ends(b),
            len: b.len() as u32,
            misfit: result.is_err(),
            cell,
        };
        if b.len() > 16 {
            self.long[i].clear();
            self.long[i].extend_from_slice(b);
        }
    }
}

/// What [`Memo::find`] found.
enum Lookup<'m> {
    /// The cell converts to this.
    Cell(Cell),
    /// The cell does not fit, for this reason.
    Misfit(&'m str),
    /// Not known yet: convert, then [`Memo::put`] into this slot.
    Miss(usize),
    /// Too long to remember.
    Never,
}

/// How a row names its facility.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FacilityKey<'a> {
    /// The facility's code (医療機関コード, 事業所番号, local code).
    Code(&'a str),
    /// The form's mailing code (管理No).
    Form(&'a str),
    /// Both: they must agree.
    Both {
        /// The facility code.
        code: &'a str,
        /// The form code.
        form: &'a str,
    },
}

impl std::fmt::Display for FacilityKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FacilityKey::Code(c) => write!(f, "facility code {c}"),
            FacilityKey::Form(c) => write!(f, "管理No {c}"),
            FacilityKey::Both { code, form } => write!(f, "facility code {code} / 管理No {form}"),
        }
    }
}

/// A value that does not fit its question, with what a reviewer needs to find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueProblem {
    /// The cell text as written (for option columns: `column=text` pairs); only its start
    /// when it is longer than [`RAW_KEPT_CHARS`] (see `raw_chars`).
    pub raw: String,
    /// When `raw` is only the start of the cell: how many characters the whole cell has. Such
    /// a cell is far longer than any answer, which says the file is damaged.
    pub raw_chars: Option<usize>,
    /// The column name(s).
    pub column: String,
    /// Why it does not fit.
    pub reason: String,
}

/// Raw text up to this many characters is kept whole in a [`ValueProblem`]: twice the longest
/// text answer (`capsurvey_survey::LONG_TEXT_MAX_CHARS`), so a reviewer sees all of a text
/// that is only somewhat too long.
pub const RAW_KEPT_CHARS: usize = 2 * capsurvey_survey::LONG_TEXT_MAX_CHARS;

/// Of a longer cell, a review task keeps this many characters: enough to recognise it, where
/// the whole could be megabytes of a damaged file.
pub const RAW_EXCERPT_CHARS: usize = 200;

/// The raw text as a [`ValueProblem`] keeps it, and the whole cell's length when cut.
fn kept_raw(raw: &str) -> (String, Option<usize>) {
    match text::cut(raw, RAW_KEPT_CHARS) {
        None => (raw.to_owned(), None),
        Some((_, chars)) => {
            let (start, _) = text::cut(raw, RAW_EXCERPT_CHARS).unwrap_or((raw, chars));
            (
                format!("{start}… (cut: {chars} characters in all)"),
                Some(chars),
            )
        }
    }
}

/// One answer of a row: the field (index into the survey's fields; see [`Plan::field_key`]) and
/// its value or the problem. The value is kept compactly; [`Plan::value`] gives it as a
/// [`Value`] (`None` for 無回答).
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Index of the field in [`crate::SurveyIndex::fields`].
    pub field: u16,
    pub(crate) cell: Result<Cell, Box<ValueProblem>>,
}

impl Answer {
    /// The problem, if the cell does not fit its question.
    pub fn problem(&self) -> Option<&ValueProblem> {
        self.cell.as_ref().err().map(|b| &**b)
    }
}

/// Where a record is in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based physical line where the record starts.
    pub line: u64,
    /// 1-based row as a spreadsheet shows it (the header is row 1 unless it is lower down);
    /// differs from `line` only after cells with line breaks.
    pub row: u64,
}

/// A byte range of a row's text buffer.
type Span = (u32, u32);

/// One data row read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Where it is.
    pub pos: Pos,
    /// The facility code and the form code, as ranges of `text`.
    codes: (Option<Span>, Option<Span>),
    /// One entry per field the file answers, in survey order.
    pub answers: Vec<Answer>,
    /// The codes and the text answers of the row, one after the other (one allocation per
    /// row rather than one per value).
    pub(crate) text: String,
}

impl Row {
    /// Whose reply it is.
    pub fn facility(&self) -> FacilityKey<'_> {
        let s = |(a, b): (u32, u32)| &self.text[a as usize..b as usize];
        match self.codes {
            (Some(c), Some(f)) => FacilityKey::Both {
                code: s(c),
                form: s(f),
            },
            (Some(c), None) => FacilityKey::Code(s(c)),
            (None, Some(f)) => FacilityKey::Form(s(f)),
            // Rows without either are errors, never rows.
            (None, None) => FacilityKey::Code(""),
        }
    }
}

impl Plan {
    /// The value of an answer of a row: `Ok(None)` is 無回答, `Err` the problem.
    pub fn value<'r>(
        &self,
        row: &'r Row,
        answer: &'r Answer,
    ) -> Result<Option<Value>, &'r ValueProblem> {
        match &answer.cell {
            Ok(c) => Ok(self.index.fields[answer.field as usize].value(c, &row.text)),
            Err(p) => Err(p),
        }
    }

    /// The value of the field with this key in a row, if the file answers it (for tests and
    /// tools; the importer goes through [`Plan::value`]).
    pub fn value_of<'r>(
        &self,
        row: &'r Row,
        key: &str,
    ) -> Option<Result<Option<Value>, &'r ValueProblem>> {
        row.answers
            .iter()
            .find(|a| self.field_key(a.field as usize) == key)
            .map(|a| self.value(row, a))
    }
}

/// Why a whole row could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowProblem {
    /// More or fewer cells than the header.
    #[error("{found} cells where the header has {expected}{hint}")]
    CellCount {
        /// Cells in the header.
        expected: usize,
        /// Cells in this row.
        found: usize,
        /// A hint (an unquoted comma, a cut-off last line).
        hint: String,
    },
    /// Neither a facility code nor a form code.
    #[error("no facility code{0}: the row cannot be matched to a facility")]
    NoFacility(String),
    /// The row names another survey in its `survey` column.
    #[error("the row is for survey `{row}` but the file is read as `{file}`")]
    OtherSurvey {
        /// The row's survey.
        row: String,
        /// The survey of the file.
        file: String,
    },
    /// The facility or form code is not in the database (or does not fit the survey).
    #[error("{0}")]
    Unmatched(String),
}

/// A row that was not read, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// Where it is.
    pub pos: Pos,
    /// Why.
    pub problem: RowProblem,
}

impl RowError {
    /// `file:line (row N): reason`, the form every row message takes.
    pub fn display_in(&self, file: &str) -> String {
        if self.pos.row == self.pos.line {
            format!("{file}:{}: {}", self.pos.line, self.problem)
        } else {
            format!(
                "{file}:{} (row {}): {}",
                self.pos.line, self.pos.row, self.problem
            )
        }
    }
}

/// What reading one record gave.
#[derive(Debug)]
pub(crate) enum Read {
    /// A row of answers.
    Row(Row),
    /// Every cell empty: not a row (Excel leaves these at the end of sheets).
    Blank,
    /// A broken row.
    Error(RowProblem),
}

/// Appends a code to the row buffer; its range, or `None` if the cell is blank.
///
/// Codes are compared as written, minus width and padding: 「１３１２３４５６７８」 = 1312345678.
fn push_code(buf: &mut String, s: &str) -> Option<Span> {
    let t = text::trim(s);
    let start = buf.len();
    if t.bytes().all(|b| b.is_ascii_graphic()) {
        buf.push_str(t);
    } else {
        buf.extend(text::fold(t).chars().filter(|c| !c.is_whitespace()));
    }
    (buf.len() > start).then_some((start as u32, buf.len() as u32))
}

impl Plan {
    /// Reads one record (cells as `&str`).
    pub(crate) fn read_record<R: Record + ?Sized>(
        &self,
        pos: Pos,
        cells: &R,
        last_in_file_unterminated: bool,
        memo: &mut Memo,
    ) -> Read {
        let n = cells.len();
        if (0..n).all(|i| text::trim(cells.cell(i)).is_empty()) {
            return Read::Blank;
        }
        let expected = self.columns.len();
        if n != expected {
            // Trailing empty cells (a habit of some exporters) are harmless.
            let extra_blank =
                n > expected && (expected..n).all(|i| text::trim(cells.cell(i)).is_empty());
            if !extra_blank {
                let hint = if last_in_file_unterminated && n < expected {
                    ": the file ends in the middle of this row (cut off?)".to_owned()
                } else if n > expected {
                    ": a comma inside a value needs the value in double quotes (\"1,234\")"
                        .to_owned()
                } else {
                    String::new()
                };
                return Read::Error(RowProblem::CellCount {
                    expected,
                    found: n,
                    hint,
                });
            }
        }
        // Codes and text answers of the row go into one buffer, sized so that it rarely grows.
        let mut buf = String::with_capacity(if self.has_text { 160 } else { 32 });
        let code = self
            .facility
            .and_then(|c| push_code(&mut buf, cells.cell(c)));
        let form = self.form.and_then(|c| push_code(&mut buf, cells.cell(c)));
        match (code, form) {
            (Some(_), _) | (_, Some(_)) => {}
            (None, None) => {
                let cols: Vec<&str> = [self.facility, self.form]
                    .into_iter()
                    .flatten()
                    .map(|c| self.columns[c].name.as_str())
                    .collect();
                return Read::Error(RowProblem::NoFacility(format!(" in {}", cols.join(" or "))));
            }
        }
        if let Some(c) = self.survey_col {
            let s = text::key(cells.cell(c));
            if !s.is_empty() && s != self.index.id() {
                return Read::Error(RowProblem::OtherSurvey {
                    row: s,
                    file: self.index.id().to_owned(),
                });
            }
        }
        let mut answers = Vec::with_capacity(self.outputs.len());
        for (o, out) in self.outputs.iter().enumerate() {
            let spec = &self.index.fields[out.field];
            let question = &self.index.questions[spec.question];
            let maps: &[&ValueMap] = match &out.values {
                Some(v) => &[v][..],
                None => &[],
            };
            let value = match &out.source {
                Source::Cell(c) => {
                    let raw = cells.cell(*c);
                    // Counts in range are quicker to read than to look up; text lives in the
                    // row's buffer and is converted for every row.
                    let quick = if maps.is_empty() {
                        spec.in_range_count(raw)
                    } else {
                        None
                    };
                    let lookup = if let Some(cell) = quick {
                        Lookup::Cell(cell)
                    } else if spec.kind == capsurvey_survey::FieldKind::Text {
                        Lookup::Never
                    } else {
                        memo.find(o, raw)
                    };
                    match lookup {
                        Lookup::Cell(cell) => {
                            // The common case, straight into the row.
                            answers.push(Answer {
                                field: out.field as u16,
                                cell: Ok(cell),
                            });
                            continue;
                        }
                        Lookup::Misfit(reason) => Err(Misfit(reason.to_owned())),
                        Lookup::Miss(slot) => {
                            let result = spec.convert(question, raw, maps, &mut buf);
                            memo.put(slot, raw, &result);
                            result
                        }
                        Lookup::Never => spec.convert(question, raw, maps, &mut buf),
                    }
                }
                .map_err(|Misfit(reason)| {
                    let (raw, raw_chars) = kept_raw(cells.cell(*c));
                    Box::new(ValueProblem {
                        raw,
                        raw_chars,
                        column: self.columns[*c].name.clone(),
                        reason,
                    })
                }),
                Source::Flags(flags) => self.read_flags(out.field, flags, cells, maps, &mut buf),
            };
            answers.push(Answer {
                field: out.field as u16,
                cell: value,
            });
        }
        Read::Row(Row {
            pos,
            codes: (code, form),
            answers,
            text: buf,
        })
    }

    /// One value from option columns: the ticked options; わからない if only 「−」s; 無回答 if
    /// nothing is ticked.
    fn read_flags<R: Record + ?Sized>(
        &self,
        field: usize,
        flags: &[(usize, usize)],
        cells: &R,
        maps: &[&ValueMap],
        buf: &mut String,
    ) -> Result<Cell, Box<ValueProblem>> {
        let spec = &self.index.fields[field];
        let question = &self.index.questions[spec.question];
        let mut ticked: Vec<(usize, usize)> = Vec::new();
        let mut unknown = false;
        let problem = |reason: String, cols: &[usize]| {
            let (raw, raw_chars) = kept_raw(
                &cols
                    .iter()
                    .map(|&c| format!("{}={}", self.columns[c].name, cells.cell(c)))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            Box::new(ValueProblem {
                raw,
                raw_chars,
                column: cols
                    .iter()
                    .map(|&c| self.columns[c].name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                reason,
            })
        };
        for &(col, option) in flags {
            match spec.flag(option, cells.cell(col), maps) {
                Ok(Mark::Yes) => ticked.push((col, option)),
                Ok(Mark::Unknown) => unknown = true,
                Ok(_) => {}
                Err(Misfit(reason)) => return Err(problem(reason, &[col])),
            }
        }
        if ticked.is_empty() {
            return Ok(if unknown { Cell::Unknown } else { Cell::Blank });
        }
        let cols: Vec<usize> = ticked.iter().map(|t| t.0).collect();
        let cell = match spec.kind {
            capsurvey_survey::FieldKind::Single => {
                if ticked.len() > 1 {
                    return Err(problem(
                        "two answers to a single choice: only one option may be ticked".into(),
                        &cols,
                    ));
                }
                Cell::Choice(ticked[0].1 as u64)
            }
            _ => {
                let mut picked = Picked::default();
                for t in &ticked {
                    picked.insert(t.1);
                }
                Cell::choices(picked, buf)
            }
        };
        spec.check(question, cell, buf)
            .map_err(|Misfit(reason)| problem(reason, &cols))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_known_by_their_ends_and_length() {
        // Every string of up to 16 bytes over a small alphabet: no two share (length, ends).
        let mut seen = std::collections::HashMap::new();
        let alphabet = [b'1', b'2', b','];
        let mut keys: Vec<Vec<u8>> = vec![Vec::new()];
        let mut at = 0;
        while at < keys.len() {
            let k = keys[at].clone();
            at += 1;
            if k.len() < 9 {
                for c in alphabet {
                    let mut n = k.clone();
                    n.push(c);
                    keys.push(n);
                }
            }
        }
        // Longer ones: a 9-byte stem padded to 10..=16 bytes in every way of its last bytes.
        for n in 10..=16 {
            for c in alphabet {
                let mut k = b"12,21,,12".to_vec();
                k.resize(n, b'1');
                k[n - 1] = c;
                keys.push(k);
            }
        }
        for k in keys {
            if let Some(other) = seen.insert((k.len(), key_ends(&k)), k.clone()) {
                panic!(
                    "{:?} and {:?}",
                    String::from_utf8_lossy(&other),
                    String::from_utf8_lossy(&k)
                );
            }
        }
    }
}
