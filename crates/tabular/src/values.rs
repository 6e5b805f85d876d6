//! Cell text to answer values, per field: the normalisation rules of `docs/replies-format.md`.
//!
//! Conversion first reads what the cell says (a number, option codes or labels, a mark), then
//! asks the survey model ([`Field::check`]) whether the value fits: range, known options,
//! exclusivity. Whatever does not fit becomes a [`Misfit`] carrying the reason; the caller adds
//! the raw text, file, row and column.

use std::collections::HashMap;

use capsurvey_survey::{Field, FieldKind, Question, QuestionKind, Value, ValueError};

use crate::text::{self, Mark, Number, NumberError};

/// A set of option indexes, kept in survey order without allocating (questions have at most
/// 128 options; the survey format has far fewer).
///
/// Two words rather than a `u128`, whose 16-byte alignment would make every answer larger.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Picked([u64; 2]);

impl Picked {
    pub fn one(i: usize) -> Picked {
        let mut p = Picked::default();
        p.insert(i);
        p
    }
    pub fn insert(&mut self, i: usize) {
        if i < 128 {
            self.0[i / 64] |= 1 << (i % 64);
        }
    }
    pub fn len(self) -> usize {
        (self.0[0].count_ones() + self.0[1].count_ones()) as usize
    }
    /// The indexes, lowest first.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        let [mut lo, mut hi] = self.0;
        std::iter::from_fn(move || {
            if lo != 0 {
                let i = lo.trailing_zeros() as usize;
                lo &= lo - 1;
                Some(i)
            } else if hi != 0 {
                let i = hi.trailing_zeros() as usize;
                hi &= hi - 1;
                Some(64 + i)
            } else {
                None
            }
        })
    }
}

/// A value as parsing keeps it: what [`Value`] holds, without a heap allocation per value
/// (options by index, option sets as bits, text as a range of the row's text buffer). A million
/// rows of twenty answers would otherwise cost twenty million small allocations. Materialised
/// with [`crate::Plan::value`].
///
/// Kept to 16 bytes (an [`crate::Answer`] is then 24): a million rows of twenty answers are
/// written by the parser and read by the importer, and every byte of them costs memory traffic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cell {
    /// 無回答.
    Blank,
    /// わからない.
    Unknown,
    /// はい (yes/no questions).
    Yes,
    /// いいえ.
    No,
    Int(i64),
    Decimal(f64),
    /// An option, by index.
    Choice(u64),
    /// Options, by index, when all are below 64 (bit `i` is option `i`).
    Choices(u64),
    /// Options of a question with more than 64, one of them past the 64th: the set is written
    /// in the row's text buffer (32 hex digits) at this offset.
    ChoicesWide(u64),
    /// Text: a byte range of the row's text buffer (start in the low half, end in the high).
    Text(u64),
}

impl Cell {
    pub(crate) fn text(start: usize, end: usize) -> Cell {
        Cell::Text(start as u64 | (end as u64) << 32)
    }

    /// A set of options; sets past the 64th option go into the row's text buffer.
    pub(crate) fn choices(p: Picked, buf: &mut String) -> Cell {
        match p.0 {
            [lo, 0] => Cell::Choices(lo),
            [lo, hi] => {
                use std::fmt::Write as _;
                let at = buf.len();
                let _ = write!(buf, "{lo:016x}{hi:016x}");
                Cell::ChoicesWide(at as u64)
            }
        }
    }

    /// Whether the cell refers to the row's text buffer.
    pub(crate) fn in_buffer(&self) -> bool {
        matches!(self, Cell::Text(_) | Cell::ChoicesWide(_))
    }
}

/// A set written by [`Cell::choices`].
fn wide_at(buf: &str, at: u64) -> Picked {
    let at = at as usize;
    let word = |s: usize| u64::from_str_radix(&buf[at + s..at + s + 16], 16).unwrap_or(0);
    Picked([word(0), word(16)])
}

/// Cell text quoted in a reason is cut to this many characters.
const QUOTE_CHARS: usize = 40;

/// Why a cell's value does not fit its field (the reason shown to the reviewer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit(pub String);

/// One option of a choice question, prepared for matching.
#[derive(Debug, Clone)]
pub(crate) struct OptionSpec {
    pub code: String,
    pub label: String,
    pub exclusive: bool,
}

/// One answer field of a survey, with everything conversion needs precomputed.
#[derive(Debug, Clone)]
pub struct FieldSpec {
    /// The key answers are stored under (`q08`, `q04.full`, `q16.10`).
    pub key: String,
    /// Index of the question in [`crate::SurveyIndex::questions`].
    pub question: usize,
    /// The item code, or the option code whose write-in this is.
    pub part: Option<String>,
    /// What the field holds.
    pub kind: FieldKind,
    /// Whether the field is the question's `long_text` (line breaks are kept).
    long_text: bool,
    /// The question's unit (人, 台), stripped after numbers.
    unit: Option<String>,
    /// Choice questions: the options in survey order.
    pub(crate) options: Vec<OptionSpec>,
    /// Folded code or label (and `code label`) → option index.
    option_lookup: text::FastMap<String, usize>,
    /// yes_no: folded labels (yes first).
    yes_no: [String; 2],
    /// Option index by numeric code (`"1"` … `"99"`): most answers are such codes, and a table
    /// is cheaper than hashing.
    numeric_codes: Vec<Option<usize>>,
    /// Whether an option excludes the others (only then can a set of options be wrong).
    has_exclusive: bool,
    /// The accepted range of whole numbers, as `Field::check` computes it.
    int_range: (i64, Option<i64>),
    /// Text fields: the most characters an answer may have ([`Field::max_chars`]).
    max_chars: usize,
}

fn squeeze(s: &str) -> String {
    s.chars().filter(|c| *c != ' ').collect()
}

/// Foreign spellings of values from a mapping file, already folded: spelling → replacement.
pub(crate) type ValueMap = HashMap<String, String>;

impl FieldSpec {
    pub(crate) fn new(field: &Field<'_>, question: usize) -> FieldSpec {
        let q = field.question;
        let choice = matches!(field.kind, FieldKind::Single | FieldKind::Multiple);
        let options: Vec<OptionSpec> = if choice {
            q.options
                .iter()
                .map(|o| OptionSpec {
                    code: o.code.clone(),
                    label: o.label.clone(),
                    exclusive: o.exclusive,
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut option_lookup = text::FastMap::default();
        // Labels first, codes last: a code always wins over a label that happens to equal it.
        // Keys are folded and without spaces (see `option_of`).
        for (i, o) in options.iter().enumerate() {
            let label = squeeze(&text::fold(&o.label));
            for sep in ["", ".", ":", ")", "_", "-"] {
                option_lookup.insert(format!("{}{sep}{label}", o.code), i);
            }
            option_lookup.insert(label, i);
        }
        for (i, o) in options.iter().enumerate() {
            option_lookup.insert(text::fold(&o.code).into_owned(), i);
        }
        let mut numeric_codes = vec![None; 100];
        for (i, o) in options.iter().enumerate() {
            if let Ok(n) = o.code.parse::<usize>()
                && n < 100
                && o.code == n.to_string()
            {
                numeric_codes[n] = Some(i);
            }
        }
        let has_exclusive = options.iter().any(|o| o.exclusive);
        // Whole-number bounds, rounded inwards; only used to accept quickly, Field::check
        // still judges everything outside them.
        let int_range = if q.kind.is_numeric() {
            (
                q.min.unwrap_or(0.0).ceil() as i64,
                q.max.map(|m| m.floor() as i64),
            )
        } else {
            (0, None)
        };
        let [y, n] = q.yes_no_labels();
        FieldSpec {
            key: field.key(),
            question,
            part: field.part.map(str::to_owned),
            kind: field.kind,
            long_text: q.kind == QuestionKind::LongText && field.part.is_none(),
            unit: q.unit.clone(),
            options,
            option_lookup,
            yes_no: [text::fold(y).into_owned(), text::fold(n).into_owned()],
            numeric_codes,
            has_exclusive,
            int_range,
            max_chars: field.max_chars().unwrap_or(usize::MAX),
        }
    }

    /// The survey-model field, for [`Field::check`].
    pub fn field<'q>(&'q self, question: &'q Question) -> Field<'q> {
        Field {
            question,
            part: self.part.as_deref(),
            kind: self.kind,
        }
    }

    /// The option index a folded answer names, through the value map first.
    fn option_of(&self, folded: &str, values: &[&ValueMap]) -> Option<usize> {
        // A number that is not a code may still be a label: fall through then.
        if values.is_empty()
            && folded.len() <= 2
            && !folded.starts_with('0')
            && let Some(n) = text::quick_int(folded)
            && let Some(Some(i)) = self.numeric_codes.get(n as usize)
        {
            return Some(*i);
        }
        for m in values {
            if let Some(code) = m.get(folded) {
                return self.option_lookup.get(code.as_str()).copied();
            }
        }
        if let Some(&i) = self.option_lookup.get(folded) {
            return Some(i);
        }
        // 「1. 個人」, 「その他 」: compare without spaces, but never squeeze bare numbers
        // together (「1 2」 must not become option 12).
        if folded.contains(' ') && folded.chars().any(|c| !c.is_ascii_digit() && c != ' ') {
            return self.option_lookup.get(squeeze(folded).as_str()).copied();
        }
        None
    }

    /// The one exclusive option (「いずれも…ない」), if the question has exactly one.
    fn exclusive_option(&self) -> Option<usize> {
        let mut it = self.options.iter().enumerate().filter(|(_, o)| o.exclusive);
        match (it.next(), it.next()) {
            (Some((i, _)), None) => Some(i),
            _ => None,
        }
    }

    fn options_hint(&self) -> String {
        let list: Vec<String> = self
            .options
            .iter()
            .map(|o| format!("{} {}", o.code, o.label))
            .collect();
        format!("options: {}", list.join(" / "))
    }

    /// Converts one cell; text goes into `buf`, the row's text buffer.
    pub(crate) fn convert(
        &self,
        question: &Question,
        raw: &str,
        values: &[&ValueMap],
        buf: &mut String,
    ) -> Result<Cell, Misfit> {
        // Quick paths for what most cells hold, without folding or mapping.
        let t = text::trim(raw);
        if t.is_empty() {
            return Ok(Cell::Blank);
        }
        if values.is_empty() {
            if let Some(cell) = self.in_range_count(t) {
                return Ok(cell);
            }
            if let (FieldKind::Count | FieldKind::Decimal, Some(n)) =
                (self.kind, text::quick_int(t))
            {
                let v = match self.kind {
                    FieldKind::Count => Cell::Int(n),
                    _ => Cell::Decimal(n as f64),
                };
                return self.check(question, v, buf);
            }
            if text::is_dash(t) {
                return Ok(Cell::Unknown);
            }
        }
        let folded = text::fold(t);
        // A mapping file may respell a whole cell (「できる」 → yes).
        let mapped = values.iter().find_map(|m| m.get(folded.as_ref()));
        let folded: &str = mapped.map_or(folded.as_ref(), String::as_str);
        let cell = match text::mark(folded) {
            Mark::Blank => return Ok(Cell::Blank),
            Mark::Unknown => return Ok(Cell::Unknown),
            _ => match self.kind {
                FieldKind::Count => self.count(folded)?,
                FieldKind::Decimal => self.decimal(folded)?,
                FieldKind::YesNo => self.yes_no(folded)?,
                FieldKind::Single => self.single(raw, folded, values)?,
                FieldKind::Multiple => Cell::choices(self.multiple(raw, folded, values)?, buf),
                FieldKind::Text => {
                    let start = buf.len();
                    if self.long_text {
                        // Free text keeps its line breaks; only Windows' CR goes.
                        let t = text::trim(raw);
                        if t.contains('\r') {
                            buf.push_str(&t.replace("\r\n", "\n"));
                        } else {
                            buf.push_str(t);
                        }
                    } else {
                        buf.push_str(folded);
                    }
                    // The length the survey model allows (`Field::check`), counted here on the
                    // text as stored, without copying it into a `Value` first.
                    if let Some((_, chars)) = text::cut(&buf[start..], self.max_chars) {
                        buf.truncate(start);
                        return Err(self.too_long(chars));
                    }
                    Cell::text(start, buf.len())
                }
            },
        };
        self.check(question, cell, buf)
    }

    /// The misfit of a text longer than the field allows.
    fn too_long(&self, chars: usize) -> Misfit {
        let e = ValueError::TooLong {
            chars,
            max: self.max_chars,
        };
        Misfit(if chars > 2 * self.max_chars {
            format!(
                "{e}: far more than anyone writes, so the file is probably damaged (a quote \
                 never closed, or something pasted into the cell); check the row in the file"
            )
        } else {
            format!("{e}: shorten it")
        })
    }

    /// A count written with digits only, within its range: the commonest cell of all, read
    /// without further ado (what [`FieldSpec::convert`] makes of it, when no value map applies).
    #[inline]
    pub(crate) fn in_range_count(&self, t: &str) -> Option<Cell> {
        if self.kind != FieldKind::Count {
            return None;
        }
        let n = text::quick_int(t)?;
        (n >= self.int_range.0 && self.int_range.1.is_none_or(|m| n <= m)).then_some(Cell::Int(n))
    }

    /// The value a cell stands for (`buf` is its row's text buffer).
    pub(crate) fn value(&self, cell: &Cell, buf: &str) -> Option<Value> {
        Some(match cell {
            Cell::Blank => return None,
            Cell::Unknown => Value::Unknown,
            Cell::Yes => Value::Bool(true),
            Cell::No => Value::Bool(false),
            Cell::Int(n) => Value::Int(*n),
            Cell::Decimal(x) => Value::Decimal(*x),
            Cell::Choice(i) => Value::Choice(self.options[*i as usize].code.clone()),
            Cell::Choices(lo) => self.choices_value(Picked([*lo, 0])),
            Cell::ChoicesWide(at) => self.choices_value(wide_at(buf, *at)),
            Cell::Text(r) => Value::Text(buf[(*r as u32) as usize..(*r >> 32) as usize].to_owned()),
        })
    }

    /// Asks the survey model whether the value fits, and words the answer for a reviewer
    /// (`buf` is the row's text buffer).
    #[inline]
    pub(crate) fn check(&self, question: &Question, cell: Cell, buf: &str) -> Result<Cell, Misfit> {
        // Options come from the question's own list, so they exist; only ranges, decimals and
        // exclusive options can make a value unfit, and Field::check decides those.
        let value = match &cell {
            Cell::Int(n) if self.kind == FieldKind::Count => {
                if *n >= self.int_range.0 && self.int_range.1.is_none_or(|m| *n <= m) {
                    return Ok(cell);
                }
                Value::Int(*n)
            }
            Cell::Int(n) => Value::Int(*n),
            Cell::Decimal(x) => Value::Decimal(*x),
            Cell::Choices(lo) if self.has_exclusive && lo.count_ones() > 1 => {
                self.choices_value(Picked([*lo, 0]))
            }
            Cell::ChoicesWide(at) if self.has_exclusive && wide_at(buf, *at).len() > 1 => {
                self.choices_value(wide_at(buf, *at))
            }
            _ => return Ok(cell),
        };
        match self.field(question).check(&value) {
            Ok(()) => Ok(cell),
            Err(e) => Err(Misfit(match e {
                ValueError::OutOfRange { value, min, max } => match max {
                    Some(max) => format!("{value} is outside the range {min}–{max}"),
                    None => format!("{value} is below the minimum {min}"),
                },
                ValueError::Exclusive(code) => {
                    let label = self
                        .options
                        .iter()
                        .find(|o| o.code == code)
                        .map_or("", |o| o.label.as_str());
                    format!("option {code} ({label}) excludes the others but was given with them")
                }
                ValueError::UnknownOption(code) => {
                    format!("`{code}` is not an option ({})", self.options_hint())
                }
                other => other.to_string(),
            })),
        }
    }

    fn number(&self, folded: &str) -> Result<Number, Misfit> {
        match text::parse_number(folded, self.unit.as_deref()) {
            Ok(n) => Ok(n),
            // 該当なし is written 0 on the forms; a typed 「なし」 says the same.
            Err(_) if matches!(folded, "なし" | "該当なし" | "無し") => Ok(Number::Int(0)),
            Err(NumberError::BadGrouping) => Err(Misfit(
                "not a number: a comma inside a number is read as a thousands separator (1,234)"
                    .into(),
            )),
            Err(NumberError::NotANumber) => Err(Misfit(match self.kind {
                FieldKind::Decimal => "not a number".into(),
                _ => "not a whole number".into(),
            })),
        }
    }

    fn count(&self, folded: &str) -> Result<Cell, Misfit> {
        match self.number(folded)? {
            Number::Int(n) => Ok(Cell::Int(n)),
            // Excel sometimes writes 3 as 3.0; 2.5 persons is a mistake to show.
            Number::Decimal(x) if x.fract() == 0.0 && x.abs() < 1e15 => Ok(Cell::Int(x as i64)),
            Number::Decimal(_) => Err(Misfit("not a whole number".into())),
        }
    }

    fn decimal(&self, folded: &str) -> Result<Cell, Misfit> {
        // Always stored as a decimal, so that 2 and 2.0 from different channels compare equal.
        Ok(Cell::Decimal(match self.number(folded)? {
            Number::Int(n) => n as f64,
            Number::Decimal(x) => x,
        }))
    }

    fn yes_no(&self, folded: &str) -> Result<Cell, Misfit> {
        match text::mark(folded) {
            Mark::Yes => return Ok(Cell::Yes),
            Mark::No => return Ok(Cell::No),
            _ => {}
        }
        if folded == self.yes_no[0] || folded.eq_ignore_ascii_case(capsurvey_survey::YES) {
            return Ok(Cell::Yes);
        }
        if folded == self.yes_no[1] || folded.eq_ignore_ascii_case(capsurvey_survey::NO) {
            return Ok(Cell::No);
        }
        // The printed order: answer 1 is yes, answer 2 is no.
        match folded {
            "2" => Ok(Cell::No),
            _ => Err(Misfit(format!(
                "not an answer to a yes/no question (write {} / {}, はい / いいえ, ○ / ×, 1 / 2)",
                self.yes_no[0], self.yes_no[1]
            ))),
        }
    }

    /// The options a cell with one or several answers names, as a set of option indexes.
    fn choices(&self, raw: &str, folded: &str, values: &[&ValueMap]) -> Result<Picked, Misfit> {
        // The whole cell first: a label may itself contain 「、」.
        if let Some(i) = self.option_of(folded, values) {
            return Ok(Picked::one(i));
        }
        let mut out = Picked::default();
        let mut unknown = Vec::new();
        for token in text::split_answers(raw) {
            let t = text::fold(token);
            match self.option_of(&t, values) {
                Some(i) => out.insert(i),
                // Quoted in the reason: a damaged cell's megabytes must not be.
                None => unknown.push(text::excerpt(&t, QUOTE_CHARS).into_owned()),
            }
        }
        if !unknown.is_empty() {
            // ○ or × alone: a tick copied from a form, not an option.
            let marks = unknown.iter().all(|u| {
                matches!(text::mark(u), Mark::Yes | Mark::No)
                    && !u.bytes().all(|b| b.is_ascii_digit())
            });
            return Err(Misfit(if marks && out.len() == 0 {
                format!(
                    "a mark ({}) does not say which option; give option codes or labels ({})",
                    unknown.join(", "),
                    self.options_hint()
                )
            } else {
                format!(
                    "{} not an option ({})",
                    unknown
                        .iter()
                        .map(|u| format!("`{u}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                        + if unknown.len() == 1 { " is" } else { " are" },
                    self.options_hint()
                )
            }));
        }
        Ok(out)
    }

    fn single(&self, raw: &str, folded: &str, values: &[&ValueMap]) -> Result<Cell, Misfit> {
        let picked = self.choices(raw, folded, values)?;
        if picked.len() == 1 {
            return Ok(Cell::Choice(picked.iter().next().unwrap_or(0) as u64));
        }
        let many: Vec<usize> = picked.iter().collect();
        match many.as_slice() {
            [] => Err(Misfit("no option given".into())),
            many => Err(Misfit(format!(
                "two answers to a single choice ({}): only one option may be chosen",
                many.iter()
                    .map(|&i| self.options[i].code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn multiple(&self, raw: &str, folded: &str, values: &[&ValueMap]) -> Result<Picked, Misfit> {
        let picked = match self.choices(raw, folded, values) {
            Ok(p) => p,
            // 「なし」 for a question with one "none of these" option is that option.
            Err(_) if text::mark(folded) == Mark::No || folded == "該当なし" => {
                match self.exclusive_option() {
                    Some(i) => Picked::one(i),
                    None => {
                        return Err(Misfit(format!(
                            "「{}」: this question has no \"none\" option; leave it blank for no answer",
                            text::excerpt(folded, QUOTE_CHARS)
                        )));
                    }
                }
            }
            Err(e) => return Err(e),
        };
        Ok(picked)
    }

    /// Option indexes to a value: codes in survey order, each once.
    pub(crate) fn choices_value(&self, picked: Picked) -> Value {
        let mut codes = Vec::with_capacity(picked.len());
        codes.extend(picked.iter().map(|i| self.options[i].code.clone()));
        Value::Choices(codes)
    }

    /// Reads one option column of a choice question: ticked, not ticked, unknown.
    pub(crate) fn flag(
        &self,
        option: usize,
        raw: &str,
        values: &[&ValueMap],
    ) -> Result<Mark, Misfit> {
        let folded = text::fold(raw);
        let folded: &str = values
            .iter()
            .find_map(|m| m.get(folded.as_ref()))
            .map_or(folded.as_ref(), String::as_str);
        match text::mark(folded) {
            Mark::Other => {
                // The option's own code or label in its column also means "ticked".
                if self.option_of(folded, values) == Some(option) {
                    Ok(Mark::Yes)
                } else {
                    Err(Misfit(
                        "not a tick: an option column holds 1, ○ or ✓ when ticked and is blank (or 0, ×) when not"
                            .into(),
                    ))
                }
            }
            m => Ok(m),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capsurvey_survey::parse_survey;

    const SURVEY: &str = r#"
id = "t"
version = 1
title = "テスト"
facility_type = "dental"
reference_date = "2024-11-01"
[[sections]]
id = "s"
title = "概要"
[[sections.questions]]
id = "q1"
kind = "count"
text = "人数"
unit = "人"
max = 999
[[sections.questions]]
id = "q2"
kind = "decimal"
text = "常勤換算"
unit = "人"
max = 99.9
[[sections.questions]]
id = "q3"
kind = "yes_no"
text = "対応"
labels = ["対応可", "対応不可"]
[[sections.questions]]
id = "q4"
kind = "single"
text = "開設主体"
options = [
  { code = "1", label = "個人" },
  { code = "2", label = "医療法人" },
  { code = "3", label = "電話を受け、訪問も行う" },
  { code = "4", label = "その他", write_in = "text" },
]
[[sections.questions]]
id = "q5"
kind = "multiple"
text = "届出"
options = [
  { code = "1", label = "在支診1" },
  { code = "2", label = "在支診2" },
  { code = "3", label = "いずれもなし", exclusive = true },
]
[[sections.questions]]
id = "q6"
kind = "short_text"
text = "電話"
[[sections.questions]]
id = "q7"
kind = "long_text"
text = "ご意見"
"#;

    fn conv(key: &str, raw: &str) -> Result<Option<Value>, Misfit> {
        conv_with(key, raw, &[])
    }

    fn conv_with(key: &str, raw: &str, maps: &[&ValueMap]) -> Result<Option<Value>, Misfit> {
        let p = parse_survey("t", SURVEY).unwrap();
        let qs: Vec<_> = p.survey.questions().map(|(_, q)| q.clone()).collect();
        let fields = p.survey.fields();
        let f = fields.iter().find(|f| f.key() == key).unwrap();
        let qi = qs.iter().position(|q| q.id == f.question.id).unwrap();
        let spec = FieldSpec::new(f, qi);
        let mut buf = String::new();
        spec.convert(&qs[qi], raw, maps, &mut buf)
            .map(|c| spec.value(&c, &buf))
    }

    fn ok(v: Value) -> Result<Option<Value>, Misfit> {
        Ok(Some(v))
    }

    #[test]
    fn counts() {
        assert_eq!(conv("q1", "12"), ok(Value::Int(12)));
        assert_eq!(conv("q1", "５"), ok(Value::Int(5)));
        assert_eq!(conv("q1", "１２３"), ok(Value::Int(123)));
        assert_eq!(conv("q1", "12人"), ok(Value::Int(12)));
        assert_eq!(conv("q1", "3.0"), ok(Value::Int(3)));
        assert_eq!(conv("q1", "0"), ok(Value::Int(0)));
        assert_eq!(conv("q1", "なし"), ok(Value::Int(0)));
        assert_eq!(conv("q1", "−"), ok(Value::Unknown));
        assert_eq!(conv("q1", "ー"), ok(Value::Unknown));
        assert_eq!(conv("q1", "わからない"), ok(Value::Unknown));
        assert_eq!(conv("q1", ""), Ok(None));
        assert_eq!(conv("q1", "　"), Ok(None));
        let e = conv("q1", "1,234").unwrap_err();
        assert!(e.0.contains("outside the range 0–999"), "{e:?}");
        assert!(conv("q1", "-3").unwrap_err().0.contains("outside"));
        assert!(conv("q1", "2.5").unwrap_err().0.contains("whole"));
        assert!(conv("q1", "約5").unwrap_err().0.contains("whole"));
        assert!(conv("q1", "1,2").unwrap_err().0.contains("thousands"));
    }

    #[test]
    fn decimals() {
        assert_eq!(conv("q2", "2.5"), ok(Value::Decimal(2.5)));
        assert_eq!(conv("q2", "２．５"), ok(Value::Decimal(2.5)));
        assert_eq!(conv("q2", "3"), ok(Value::Decimal(3.0)));
        assert!(conv("q2", "2.55").unwrap_err().0.contains("decimal point"));
        assert!(conv("q2", "100").unwrap_err().0.contains("outside"));
    }

    #[test]
    fn yes_no() {
        for y in ["はい", "あり", "○", "✓", "1", "対応可", "yes", "ＹＥＳ"] {
            assert_eq!(conv("q3", y), ok(Value::Bool(true)), "{y}");
        }
        for n in ["いいえ", "なし", "×", "0", "2", "対応不可", "no"] {
            assert_eq!(conv("q3", n), ok(Value::Bool(false)), "{n}");
        }
        assert_eq!(conv("q3", "−"), ok(Value::Unknown));
        assert!(conv("q3", "たぶん").unwrap_err().0.contains("yes/no"));
        assert!(conv("q3", "x").is_err(), "ascii x is ambiguous");
    }

    #[test]
    fn single_choice() {
        assert_eq!(conv("q4", "2"), ok(Value::Choice("2".into())));
        assert_eq!(conv("q4", "２"), ok(Value::Choice("2".into())));
        assert_eq!(conv("q4", "医療法人"), ok(Value::Choice("2".into())));
        assert_eq!(conv("q4", "2.医療法人"), ok(Value::Choice("2".into())));
        assert_eq!(conv("q4", "2 医療法人"), ok(Value::Choice("2".into())));
        assert_eq!(
            conv("q4", "電話を受け、訪問も行う"),
            ok(Value::Choice("3".into())),
            "a label containing 、 is one answer"
        );
        let e = conv("q4", "1、2").unwrap_err();
        assert!(e.0.contains("two answers to a single choice"), "{e:?}");
        let e = conv("q4", "個人;医療法人").unwrap_err();
        assert!(e.0.contains("two answers"), "{e:?}");
        let e = conv("q4", "7").unwrap_err();
        assert!(e.0.contains("`7` is not an option"), "{e:?}");
        let e = conv("q4", "○").unwrap_err();
        assert!(e.0.contains("does not say which option"), "{e:?}");
        assert_eq!(conv("q4", "1、1"), ok(Value::Choice("1".into())));
    }

    #[test]
    fn multiple_choice() {
        let v = |c: &[&str]| ok(Value::Choices(c.iter().map(|s| s.to_string()).collect()));
        assert_eq!(conv("q5", "1"), v(&["1"]));
        assert_eq!(conv("q5", "2、1"), v(&["1", "2"]));
        assert_eq!(conv("q5", "1,2"), v(&["1", "2"]));
        assert_eq!(conv("q5", "1;2"), v(&["1", "2"]));
        assert_eq!(conv("q5", "1\n2"), v(&["1", "2"]));
        assert_eq!(conv("q5", "１，２"), v(&["1", "2"]));
        assert_eq!(conv("q5", "在支診2、在支診1"), v(&["1", "2"]));
        assert_eq!(conv("q5", "なし"), v(&["3"]));
        assert_eq!(conv("q5", "−"), ok(Value::Unknown));
        let e = conv("q5", "1、3").unwrap_err();
        assert!(e.0.contains("excludes the others"), "{e:?}");
        let e = conv("q5", "1、9、z").unwrap_err();
        assert!(e.0.contains("`9`, `z` are not an option"), "{e:?}");
    }

    #[test]
    fn text() {
        assert_eq!(
            conv("q6", " ０３－１２３４－５６７８ "),
            ok(Value::Text("03-1234-5678".into()))
        );
        assert_eq!(conv("q6", "−"), ok(Value::Unknown));
        assert_eq!(
            conv("q7", "一行目\r\n二行目 "),
            ok(Value::Text("一行目\n二行目".into()))
        );
        assert_eq!(
            conv("q4.4", "歯科医師会"),
            ok(Value::Text("歯科医師会".into()))
        );
    }

    #[test]
    fn option_sets_past_the_64th_option() {
        // Sets of options below 64 are kept inline, others boxed: both give the same values.
        let options: Vec<String> = (1..=70)
            .map(|i| {
                let exclusive = if i == 70 { ", exclusive = true" } else { "" };
                format!("{{ code = \"{i}\", label = \"選択肢{i}\"{exclusive} }}")
            })
            .collect();
        let survey = format!(
            "id = \"w\"\nversion = 1\ntitle = \"t\"\nfacility_type = \"dental\"\n\
             reference_date = \"2024-11-01\"\n[[sections]]\nid = \"s\"\ntitle = \"s\"\n\
             [[sections.questions]]\nid = \"q1\"\nkind = \"multiple\"\ntext = \"多い\"\n\
             options = [{}]\n",
            options.join(", ")
        );
        let p = parse_survey("w", &survey).unwrap();
        let qs: Vec<_> = p.survey.questions().map(|(_, q)| q.clone()).collect();
        let fields = p.survey.fields();
        let spec = FieldSpec::new(&fields[0], 0);
        let mut buf = String::new();
        let conv = |raw: &str| {
            let mut buf = String::new();
            spec.convert(&qs[0], raw, &[], &mut buf)
                .map(|c| spec.value(&c, &buf))
        };
        let v = |c: &[&str]| {
            Ok(Some(Value::Choices(
                c.iter().map(|s| s.to_string()).collect(),
            )))
        };
        assert_eq!(conv("64、2"), v(&["2", "64"]));
        assert!(matches!(
            spec.convert(&qs[0], "64、2", &[], &mut buf),
            Ok(Cell::Choices(_))
        ));
        assert_eq!(conv("65、2"), v(&["2", "65"]));
        assert!(matches!(
            spec.convert(&qs[0], "65、2", &[], &mut buf),
            Ok(Cell::ChoicesWide(_))
        ));
        assert!(buf.len() >= 32, "the set is in the row's buffer");
        assert_eq!(conv("69;68;1"), v(&["1", "68", "69"]));
        let e = conv("70、1").unwrap_err();
        assert!(e.0.contains("excludes the others"), "{e:?}");
        let e = conv("70、66").unwrap_err();
        assert!(e.0.contains("excludes the others"), "{e:?}");
        assert_eq!(conv("70"), v(&["70"]));
    }

    #[test]
    fn answers_stay_small() {
        assert_eq!(std::mem::size_of::<Cell>(), 16);
        assert_eq!(std::mem::size_of::<crate::Answer>(), 24);
    }

    #[test]
    fn mapped_values() {
        let mut m = ValueMap::new();
        m.insert("できる".into(), "yes".into());
        m.insert("専門".into(), "2".into());
        assert_eq!(conv_with("q3", "できる", &[&m]), ok(Value::Bool(true)));
        assert_eq!(
            conv_with("q4", "専門", &[&m]),
            ok(Value::Choice("2".into()))
        );
        assert_eq!(
            conv_with("q5", "専門、1", &[&m]),
            ok(Value::Choices(vec!["1".into(), "2".into()]))
        );
    }
}
