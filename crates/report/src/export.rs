//! Answers as a table: one row per facility that replied, for Excel and statistics tools.
//!
//! Columns: 施設コード, 施設名, 種別, 地区, 届出区分（名簿）, 回答状況, then per answer field
//! (in print order) a **code** column headed by the field key (`q08`, `q04.full`) and a **label**
//! column headed by the question (「問8 歯科訪問診療の実施状況」), and last 確認中の項目.
//!
//! - code: the option code (`3`), codes joined with `;` for multiple choice, `yes`/`no`, the
//!   number, or the text; `−` for わからない.
//! - label: the option label(s) (joined with `；`), the yes/no label, the number with its unit
//!   (`12人`), わからない; empty for text fields (the text is in the code column).
//! - A field whose answer is under review has an empty code and the label 「確認中」, and its key
//!   is listed in 確認中の項目: it is not reported as if it were settled.
//!
//! CSV is UTF-8 with a byte-order mark and CRLF line ends, so Excel on Windows opens it with the
//! Japanese intact; xlsx has a bold, filled header row that stays in view (frozen) and a second
//! sheet 「コード表」 listing every code and label.

use std::io::Write;
use std::path::Path;

use capsurvey_survey::{Field, FieldKind, Value};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook};

use crate::model::{FacilityRecord, ReportInput};
use crate::{ReportError, Result};

/// Output formats of `capsurvey export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// UTF-8 CSV with BOM and CRLF.
    Csv,
    /// Excel workbook.
    Xlsx,
}

impl std::str::FromStr for ExportFormat {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Ok(Self::Csv),
            "xlsx" => Ok(Self::Xlsx),
            _ => Err(format!("unknown format `{s}`: use csv or xlsx")),
        }
    }
}

/// One cell of the export.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number (written as a number in xlsx).
    Number(f64),
}

impl Cell {
    /// The cell as CSV text.
    pub fn as_text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.clone(),
            Cell::Number(x) => {
                if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    x.to_string()
                }
            }
        }
    }
}

/// The table written by [`write_csv`] and [`write_xlsx`].
#[derive(Debug, Clone)]
pub struct ExportTable {
    /// Column headings.
    pub headers: Vec<String>,
    /// One row per facility.
    pub rows: Vec<Vec<Cell>>,
    /// Code list: 項目キー, 問, 設問, コード, ラベル.
    pub codebook: Vec<[String; 5]>,
}

/// Label shown for answers under review.
pub const UNDER_REVIEW: &str = "確認中";

fn field_title(survey: &capsurvey_survey::Survey, f: &Field<'_>) -> String {
    let number = survey.number_of(&f.question.id).unwrap_or_default();
    match f.part_label() {
        Some(l) if f.part.is_some_and(|p| f.question.option(p).is_some()) => {
            format!("問{number} {}（「{l}」の記入）", f.question.text)
        }
        Some(l) => format!("問{number} {}（{l}）", f.question.text),
        None => format!("問{number} {}", f.question.text),
    }
}

fn cells_for(f: &Field<'_>, rec: &FacilityRecord, key: &str) -> (Cell, Cell) {
    if rec.under_review.contains(key) {
        return (Cell::Empty, Cell::Text(UNDER_REVIEW.into()));
    }
    let q = f.question;
    let unit = q.unit.clone().unwrap_or_default();
    let Some(Some(v)) = rec.answers.get(key) else {
        return (Cell::Empty, Cell::Empty);
    };
    let label_of = |c: &str| {
        q.option(c)
            .map_or_else(|| c.to_owned(), |o| o.label.clone())
    };
    match v {
        Value::Unknown => (Cell::Text("−".into()), Cell::Text("わからない".into())),
        Value::Choice(c) => (Cell::Text(c.clone()), Cell::Text(label_of(c))),
        Value::Choices(cs) => (
            Cell::Text(cs.join(";")),
            Cell::Text(
                cs.iter()
                    .map(|c| label_of(c))
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
        ),
        Value::Bool(b) => {
            let [y, n] = q.yes_no_labels();
            (
                Cell::Text(v.display()),
                Cell::Text(if *b { y } else { n }.to_owned()),
            )
        }
        Value::Int(n) => {
            let unit =
                if f.kind == FieldKind::Count && f.part.is_some_and(|p| q.option(p).is_some()) {
                    String::new() // a write-in count (連携先数) has no unit of its own
                } else {
                    unit
                };
            (Cell::Number(*n as f64), Cell::Text(format!("{n}{unit}")))
        }
        Value::Decimal(x) => {
            let d = q.decimals.unwrap_or(1) as usize;
            (Cell::Number(*x), Cell::Text(format!("{x:.d$}{unit}")))
        }
        Value::Text(t) => (Cell::Text(t.clone()), Cell::Empty),
    }
}

/// Builds the export table: facilities with a response (or any answer), by code.
pub fn export_table(input: &ReportInput) -> ExportTable {
    let survey = &input.survey;
    let fields = survey.fields();
    let mut headers: Vec<String> = [
        "施設コード",
        "施設名",
        "種別",
        "地区",
        "届出区分（名簿）",
        "回答状況",
    ]
    .map(String::from)
    .to_vec();
    for f in &fields {
        headers.push(f.key());
        headers.push(field_title(survey, f));
    }
    headers.push("確認中の項目".into());

    let keys: Vec<String> = fields.iter().map(Field::key).collect();
    let mut facilities: Vec<&FacilityRecord> = input
        .facilities
        .iter()
        .filter(|f| f.responded || !f.answers.is_empty() || !f.under_review.is_empty())
        .collect();
    facilities.sort_by(|a, b| a.code.cmp(&b.code));
    let rows = facilities
        .into_iter()
        .map(|rec| {
            let status = if rec.is_respondent() {
                "有効回答"
            } else if !rec.under_review.is_empty() {
                "確認中のみ"
            } else {
                "記入なし"
            };
            let type_label = rec
                .facility_type
                .parse::<capsurvey_survey::FacilityType>()
                .map_or_else(|_| rec.facility_type.clone(), |t| t.label_ja().to_owned());
            let mut row = vec![
                Cell::Text(rec.code.clone()),
                Cell::Text(rec.name.clone()),
                Cell::Text(type_label),
                Cell::Text(rec.area_label().to_owned()),
                Cell::Text(rec.filings.join(";")),
                Cell::Text(status.into()),
            ];
            for (f, key) in fields.iter().zip(&keys) {
                let (code, label) = cells_for(f, rec, key);
                row.push(code);
                row.push(label);
            }
            let review: Vec<&str> = keys
                .iter()
                .filter(|k| rec.under_review.contains(*k))
                .map(String::as_str)
                .collect();
            row.push(if review.is_empty() {
                Cell::Empty
            } else {
                Cell::Text(review.join(";"))
            });
            row
        })
        .collect();

    let mut codebook = Vec::new();
    for f in &fields {
        let number = format!("問{}", survey.number_of(&f.question.id).unwrap_or_default());
        let key = f.key();
        let title = field_title(survey, f);
        let entry = |code: &str, label: &str| {
            [
                key.clone(),
                number.clone(),
                title.clone(),
                code.to_owned(),
                label.to_owned(),
            ]
        };
        match f.kind {
            FieldKind::Single | FieldKind::Multiple => {
                for o in &f.question.options {
                    codebook.push(entry(&o.code, &o.label));
                }
            }
            FieldKind::YesNo => {
                let [y, n] = f.question.yes_no_labels();
                codebook.push(entry("yes", y));
                codebook.push(entry("no", n));
            }
            FieldKind::Count | FieldKind::Decimal => {
                let unit = f.question.unit.clone().unwrap_or_default();
                codebook.push(entry("（数値）", &unit));
            }
            FieldKind::Text => codebook.push(entry("（文字）", "")),
        }
        codebook.push(entry("−", "わからない"));
    }
    ExportTable {
        headers,
        rows,
        codebook,
    }
}

/// Writes CSV (UTF-8 with BOM, CRLF) to any writer.
pub fn write_csv_to<W: Write>(table: &ExportTable, mut out: W) -> Result<()> {
    // Excel takes a file without BOM for the local code page (Shift_JIS) and garbles it.
    out.write_all(b"\xEF\xBB\xBF")
        .map_err(|source| ReportError::Write {
            path: "(csv)".into(),
            source,
        })?;
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    w.write_record(&table.headers)?;
    for row in &table.rows {
        w.write_record(row.iter().map(Cell::as_text))?;
    }
    w.flush().map_err(|source| ReportError::Write {
        path: "(csv)".into(),
        source,
    })?;
    Ok(())
}

/// Writes CSV to a file.
pub fn write_csv(table: &ExportTable, path: &Path) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|source| ReportError::Write {
        path: path.display().to_string(),
        source,
    })?;
    write_csv_to(table, std::io::BufWriter::new(file))
}

/// Writes an xlsx workbook: sheet 「回答」 with a frozen, styled header row, and 「コード表」.
pub fn write_xlsx(table: &ExportTable, path: &Path) -> Result<()> {
    let mut wb = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDE6F0))
        .set_border(FormatBorder::Thin)
        .set_text_wrap()
        .set_align(FormatAlign::Top);
    let ws = wb.add_worksheet();
    ws.set_name("回答")?;
    for (c, h) in table.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, h, &header)?;
    }
    ws.set_row_height(0, 48)?;
    for (r, row) in table.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            match cell {
                Cell::Empty => {}
                Cell::Text(t) => {
                    ws.write_string(r, c as u16, t)?;
                }
                Cell::Number(x) => {
                    ws.write_number(r, c as u16, *x)?;
                }
            }
        }
    }
    let last_col = table.headers.len().saturating_sub(1) as u16;
    ws.set_freeze_panes(1, 0)?;
    ws.autofilter(0, 0, table.rows.len() as u32, last_col)?;
    ws.set_column_width(0, 14)?;
    ws.set_column_width(1, 28)?;
    for c in 2..=last_col {
        ws.set_column_width(c, 12)?;
    }

    let cb = wb.add_worksheet();
    cb.set_name("コード表")?;
    for (c, h) in ["項目キー", "問", "設問", "コード", "ラベル"]
        .iter()
        .enumerate()
    {
        cb.write_string_with_format(0, c as u16, *h, &header)?;
    }
    for (r, entry) in table.codebook.iter().enumerate() {
        for (c, v) in entry.iter().enumerate() {
            cb.write_string(r as u32 + 1, c as u16, v)?;
        }
    }
    cb.set_freeze_panes(1, 0)?;
    cb.set_column_width(0, 14)?;
    cb.set_column_width(2, 60)?;
    cb.set_column_width(4, 40)?;
    wb.save(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_starts_with_a_bom_and_uses_crlf() {
        let table = ExportTable {
            headers: vec!["施設コード".into(), "q08".into()],
            rows: vec![vec![Cell::Text("131".into()), Cell::Number(3.0)]],
            codebook: vec![],
        };
        let mut out = Vec::new();
        write_csv_to(&table, &mut out).unwrap();
        assert!(out.starts_with(b"\xEF\xBB\xBF"));
        let text = String::from_utf8(out[3..].to_vec()).unwrap();
        assert_eq!(text, "施設コード,q08\r\n131,3\r\n");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("CSV".parse::<ExportFormat>(), Ok(ExportFormat::Csv));
        assert_eq!("xlsx".parse::<ExportFormat>(), Ok(ExportFormat::Xlsx));
        assert!("pdf".parse::<ExportFormat>().is_err());
        assert_eq!(Cell::Number(2.5).as_text(), "2.5");
        assert_eq!(Cell::Number(12.0).as_text(), "12");
    }
}
