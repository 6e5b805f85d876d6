//! Pure parsing: bytes in, detected layout and records out. No files, no database.
//!
//! The layout is recognised from a header row among the first [`HEADER_SEARCH_ROWS`] rows (the
//! bureau's workbook has title rows above its header), never from the file name: downloaded
//! files get renamed. Columns are found by header name, not position, so a release that adds or
//! reorders columns still reads.

mod kaigo;
mod kouseikyoku;
mod local;
mod navii;

use std::collections::HashMap;

use capsurvey_jptext::normalize;
use capsurvey_survey::FacilityType;

use crate::record::{Layout, RosterRecord, RowError, SourceEncoding};
use crate::table::{Row, Table, read_tables};

/// How many rows from the top are searched for a header row.
pub const HEADER_SEARCH_ROWS: usize = 20;

/// What the caller knows that the file may not say.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// The facility type for rows whose file does not state one (`--type`).
    pub default_type: Option<FacilityType>,
}

/// A parsed roster file.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The layout recognised from the header.
    pub layout: Layout,
    /// How the file was encoded.
    pub encoding: SourceEncoding,
    /// The line (or Excel row) of the header.
    pub header_line: usize,
    /// Data rows read below the header, including the ones in `errors` (for the bureau list:
    /// filing rows, several per facility).
    pub rows_read: usize,
    /// One record per facility, in file order.
    pub records: Vec<RosterRecord>,
    /// Rows that could not be read, by line.
    pub errors: Vec<RowError>,
}

/// A file that cannot be read at all (a bad row is a [`RowError`] instead).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The bytes look like xlsx but the workbook cannot be opened.
    #[error(
        "cannot read the workbook ({0}): open it in Excel and save it again as .xlsx, or save the sheet as CSV"
    )]
    Workbook(String),
    /// No known header row.
    #[error(
        "no roster header in the first {HEADER_SEARCH_ROWS} rows (the first row reads `{first_row}`): \
         expected a ナビイ 施設票 (ID, 正式名称, 機関区分), a 介護サービス情報公表 CSV (事業所番号, 事業所名, \
         サービスの種類), a 届出受理医療機関名簿 (医療機関番号, 医療機関名称, 受理届出名称) or a local list \
         (コード, 名称); see docs/roster-format.md"
    )]
    UnknownLayout {
        /// The first non-empty row, shortened, to show what was found instead.
        first_row: String,
    },
    /// An area map given where a roster was expected.
    #[error("this is an area map (種類,キー,地区), not a roster: pass it with --area-map")]
    AreaMapNotRoster,
    /// Nothing but blank rows.
    #[error("the file is empty")]
    Empty,
    /// The layout does not state facility types and no `--type` was given.
    #[error(
        "the file does not say which kind of facility it lists ({why}): \
         pass --type dental, --type homecare-clinic or --type visiting-nurse"
    )]
    TypeUndecidable {
        /// Why the file cannot tell.
        why: String,
    },
}

/// Recognises the layout from the header row, without reading the data rows' fields.
pub fn detect(bytes: &[u8]) -> Result<(Layout, SourceEncoding), ParseError> {
    let tables = read_tables(bytes)?;
    let (layout, table, _) = find_header(&tables)?;
    Ok((layout, table.encoding))
}

/// Parses a roster file of any known layout.
pub fn parse(bytes: &[u8], opts: &ParseOptions) -> Result<Parsed, ParseError> {
    let tables = read_tables(bytes)?;
    let (layout, table, header_index) = find_header(&tables)?;
    let header = Header::new(&table.rows[header_index]);
    let data = &table.rows[header_index + 1..];
    let mut out = Out::default();
    match layout {
        Layout::Navii => navii::parse(&header, data, opts, &mut out),
        Layout::Kaigo => kaigo::parse(&header, data, opts, &mut out),
        Layout::Kouseikyoku => kouseikyoku::parse(&header, data, opts, &mut out),
        Layout::Local => local::parse(&header, data, opts, &mut out)?,
    }
    let mut errors = out.errors;
    // Undecodable rows below the header count as rows read; above it they are title rows.
    let decode_errors: Vec<RowError> = table
        .errors
        .iter()
        .filter(|e| e.line > header.line)
        .cloned()
        .collect();
    errors.extend(decode_errors.iter().cloned());
    errors.sort_by_key(|e| e.line);
    Ok(Parsed {
        layout,
        encoding: table.encoding,
        header_line: header.line,
        rows_read: data.len() + decode_errors.len(),
        records: out.records,
        errors,
    })
}

/// Records and row errors as a layout parser produces them.
#[derive(Default)]
pub(crate) struct Out {
    pub records: Vec<RosterRecord>,
    pub errors: Vec<RowError>,
}

impl Out {
    pub fn error(&mut self, line: usize, reason: impl Into<String>) {
        self.errors.push(RowError {
            line,
            reason: reason.into(),
        });
    }
}

fn find_header(tables: &[Table]) -> Result<(Layout, &Table, usize), ParseError> {
    for table in tables {
        for (i, row) in table.rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
            if let Some(layout) = layout_of(&Header::new(row)) {
                return Ok((layout, table, i));
            }
        }
    }
    // `roster import dir/*.csv` easily takes the area map along: say what it is.
    let area_map_header = |r: &Row| {
        let h = Header::new(r);
        h.find(&["キー", "key"]).is_some() && h.find(&["地区", "area"]).is_some()
    };
    if tables
        .iter()
        .flat_map(|t| t.rows.iter().take(HEADER_SEARCH_ROWS))
        .any(area_map_header)
    {
        return Err(ParseError::AreaMapNotRoster);
    }
    let first = tables
        .iter()
        .flat_map(|t| t.rows.first())
        .next()
        .ok_or(ParseError::Empty)?;
    let mut first_row = first.cells.join(",");
    if first_row.chars().count() > 60 {
        first_row = first_row.chars().take(60).collect::<String>() + "…";
    }
    Err(ParseError::UnknownLayout { first_row })
}

fn layout_of(h: &Header) -> Option<Layout> {
    if h.has_all(&["ID", "正式名称", "機関区分", "所在地"]) {
        Some(Layout::Navii)
    } else if h.has_all(&["事業所番号", "事業所名", "サービスの種類", "住所"]) {
        Some(Layout::Kaigo)
    } else if h.has_all(&["医療機関番号", "医療機関名称", "受理届出名称"]) {
        Some(Layout::Kouseikyoku)
    } else if h.find(local::CODE).is_some() && h.find(local::NAME).is_some() {
        Some(Layout::Local)
    } else {
        None
    }
}

/// A header row: column names as written, and where each (normalised) name is.
pub(crate) struct Header {
    pub line: usize,
    pub names: Vec<String>,
    index: HashMap<String, usize>,
}

/// How header names are compared: width-folded (（フリガナ） = (フリガナ)), no spaces, ASCII
/// lower-case (FAX = fax), and without a BOM some editors leave in the first cell.
fn header_key(s: &str) -> String {
    normalize(s.trim_start_matches('\u{FEFF}'))
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

impl Header {
    fn new(row: &Row) -> Header {
        let mut index = HashMap::new();
        let mut names = Vec::with_capacity(row.cells.len());
        for (i, cell) in row.cells.iter().enumerate() {
            let name = cell.trim().trim_start_matches('\u{FEFF}').to_owned();
            // The first of two same-named columns wins; the raw record keeps both (as `name#2`).
            index.entry(header_key(&name)).or_insert(i);
            names.push(name);
        }
        Header {
            line: row.line,
            names,
            index,
        }
    }

    fn has_all(&self, names: &[&str]) -> bool {
        names
            .iter()
            .all(|n| self.index.contains_key(&header_key(n)))
    }

    /// The first of `aliases` present in the header.
    pub fn find(&self, aliases: &[&str]) -> Option<usize> {
        aliases
            .iter()
            .find_map(|a| self.index.get(&header_key(a)).copied())
    }

    /// The cell under a column (empty if the column or the cell is missing), trimmed.
    pub fn get<'r>(&self, cells: &'r [String], aliases: &[&str]) -> &'r str {
        self.find(aliases)
            .and_then(|i| cells.get(i))
            .map_or("", |s| s.trim())
    }

    /// A row as a JSON object (column name → text), leaving out `skip` (row sequence numbers).
    pub fn raw(
        &self,
        cells: &[String],
        skip: &[&str],
    ) -> serde_json::Map<String, serde_json::Value> {
        let skip: Vec<String> = skip.iter().map(|s| header_key(s)).collect();
        let mut map = serde_json::Map::new();
        for (i, name) in self.names.iter().enumerate() {
            if skip.contains(&header_key(name))
                || (name.is_empty() && cells.get(i).is_none_or(|c| c.is_empty()))
            {
                continue;
            }
            let mut key = if name.is_empty() {
                format!("#{}", i + 1)
            } else {
                name.clone()
            };
            let mut n = 2;
            while map.contains_key(&key) {
                key = format!("{name}#{n}");
                n += 1;
            }
            let value = cells.get(i).cloned().unwrap_or_default();
            map.insert(key, serde_json::Value::String(value));
        }
        map
    }

    /// A row error if the row does not have as many cells as the header.
    pub fn check_width(&self, row: &Row) -> Result<(), RowError> {
        if row.cells.len() == self.names.len() {
            return Ok(());
        }
        Err(RowError {
            line: row.line,
            reason: format!(
                "{} columns where the header (line {}) has {}: a comma or a quote is probably \
                 missing or extra in this row; correct it or download the file again",
                row.cells.len(),
                self.line,
                self.names.len()
            ),
        })
    }
}

/// A text cell normalised, or `None` if it is empty.
pub(crate) fn text(s: &str) -> Option<String> {
    let n = normalize(s);
    (!n.is_empty()).then_some(n)
}

/// Latitude and longitude, or neither: ナビイ writes 0.0, 0.0 for "not known".
pub(crate) fn coordinates(lat: &str, long: &str) -> (Option<f64>, Option<f64>) {
    let parse = |s: &str| normalize(s).parse::<f64>().ok().filter(|v| v.is_finite());
    match (parse(lat), parse(long)) {
        (Some(a), Some(b)) if !(a == 0.0 && b == 0.0) => (Some(a), Some(b)),
        _ => (None, None),
    }
}

/// Reads a facility type as people write it in a 種別 column.
pub fn facility_type_from_label(label: &str) -> Option<FacilityType> {
    let l = header_key(label);
    if let Ok(t) = l.parse::<FacilityType>() {
        return Some(t);
    }
    match l.as_str() {
        "歯科" | "歯科診療所" | "歯科医院" | "在宅療養支援歯科診療所" | "歯援診" => {
            Some(FacilityType::Dental)
        }
        "医科"
        | "診療所"
        | "病院"
        | "診療所・病院"
        | "病院・診療所"
        | "クリニック"
        | "在宅療養支援診療所"
        | "在宅療養支援病院"
        | "支援診"
        | "支援病" => Some(FacilityType::HomecareClinic),
        "訪問看護" | "訪問看護ステーション" | "訪問看護事業所" => {
            Some(FacilityType::VisitingNurse)
        }
        _ => None,
    }
}

/// Remembers each key's first line, so a key seen again becomes a row error, not a silent overwrite.
#[derive(Default)]
pub(crate) struct Seen(HashMap<String, usize>);

impl Seen {
    /// `Err(first_line)` if the key was seen before.
    pub fn first(&mut self, key: &str, line: usize) -> Result<(), usize> {
        match self.0.get(key) {
            Some(&first) => Err(first),
            None => {
                self.0.insert(key.to_owned(), line);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_empty_files() {
        let err = parse(b"foo,bar\n1,2\n", &ParseOptions::default()).unwrap_err();
        assert!(matches!(err, ParseError::UnknownLayout { .. }), "{err}");
        assert!(err.to_string().contains("foo,bar"));
        assert_eq!(
            parse(b"\n,,\n", &ParseOptions::default()).unwrap_err(),
            ParseError::Empty
        );
        let err = parse(
            "# map\n種類,キー,地区\n住所,本町,中央\n".as_bytes(),
            &ParseOptions::default(),
        )
        .unwrap_err();
        assert_eq!(err, ParseError::AreaMapNotRoster);
        let err = parse(b"PK\x03\x04garbage", &ParseOptions::default()).unwrap_err();
        assert!(matches!(err, ParseError::Workbook(_)), "{err}");
    }

    #[test]
    fn type_labels() {
        assert_eq!(facility_type_from_label("歯科"), Some(FacilityType::Dental));
        assert_eq!(
            facility_type_from_label(" 訪問看護ステーション "),
            Some(FacilityType::VisitingNurse)
        );
        assert_eq!(
            facility_type_from_label("homecare-clinic"),
            Some(FacilityType::HomecareClinic)
        );
        assert_eq!(facility_type_from_label("薬局"), None);
    }

    #[test]
    fn coordinates_zero_is_unknown() {
        assert_eq!(coordinates("0.0", "0.0"), (None, None));
        assert_eq!(coordinates("35.6", "139.6"), (Some(35.6), Some(139.6)));
        assert_eq!(coordinates("", "139.6"), (None, None));
    }
}
