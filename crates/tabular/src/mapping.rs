//! Mapping files: how a foreign layout (a consultant's export, another system's CSV) maps onto a
//! survey. Format: `docs/replies-format.md`, section "Mapping files".
//!
//! ```toml
//! survey = "dental"          # optional, like --survey
//! header_row = 2             # optional: the header is on row 2 (a title above it)
//! sheet = "回答"             # optional: the xlsx sheet to read
//!
//! [columns]
//! "事業所ID" = "facility_code"
//! "訪問診療" = "q08"
//! "月AM" = "q12_1"
//! "備考" = "ignore"
//!
//! [values]
//! "*" = { "できる" = "yes", "できない" = "no" }
//! q08 = { "専門" = "1", "併用" = "2" }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::text;
use crate::values::ValueMap;

/// A parsed mapping file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Mapping {
    /// Where it was read from, for messages.
    pub source: String,
    /// The survey the files are for, if the mapping says.
    pub survey: Option<String>,
    /// 1-based row of the header (default 1).
    pub header_row: usize,
    /// The xlsx sheet to read (default: the first).
    pub sheet: Option<String>,
    /// Foreign column name (as written in the file) → target, as written in the mapping.
    pub columns: Vec<(String, String)>,
    /// Value spellings: `*` or a field key / question id → (folded spelling → replacement).
    pub(crate) values: HashMap<String, ValueMap>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    survey: Option<String>,
    header_row: Option<usize>,
    sheet: Option<String>,
    #[serde(default)]
    columns: BTreeMap<String, String>,
    #[serde(default)]
    values: BTreeMap<String, BTreeMap<String, String>>,
}

/// A mapping file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    /// The file could not be read.
    #[error("cannot read mapping file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Not valid TOML, or unknown keys.
    #[error("mapping file {path}: {message}")]
    Syntax {
        /// The file.
        path: String,
        /// The parser's message, with line and column.
        message: String,
    },
}

impl Mapping {
    /// Reads a mapping file.
    pub fn read(path: &Path) -> Result<Mapping, MappingError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappingError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Mapping::parse(&path.display().to_string(), &text)
    }

    /// Parses mapping text; `source` names it in messages.
    pub fn parse(source: &str, text: &str) -> Result<Mapping, MappingError> {
        let raw: Raw = toml::from_str(text).map_err(|e| MappingError::Syntax {
            path: source.to_owned(),
            message: e.to_string(),
        })?;
        if raw.header_row == Some(0) {
            return Err(MappingError::Syntax {
                path: source.to_owned(),
                message: "header_row counts from 1 (the first row of the sheet)".into(),
            });
        }
        let values = raw
            .values
            .into_iter()
            .map(|(field, spellings)| {
                let m: ValueMap = spellings
                    .into_iter()
                    .map(|(from, to)| {
                        (text::fold(&from).into_owned(), text::fold(&to).into_owned())
                    })
                    .collect();
                (field, m)
            })
            .collect();
        Ok(Mapping {
            source: source.to_owned(),
            survey: raw.survey,
            header_row: raw.header_row.unwrap_or(1),
            sheet: raw.sheet,
            columns: raw.columns.into_iter().collect(),
            values,
        })
    }

    /// The target a foreign column name maps to, compared the way headers are (width, case, spaces).
    pub(crate) fn column_target(&self, header: &str) -> Option<&str> {
        let k = text::key(header);
        self.columns
            .iter()
            .find(|(from, _)| text::key(from) == k)
            .map(|(_, to)| to.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_reports_errors_with_position() {
        let m = Mapping::parse(
            "m.toml",
            r#"
survey = "dental"
header_row = 2
[columns]
"事業所ID" = "facility_code"
[values]
"*" = { "できる" = "yes" }
q08 = { "専門" = "１" }
"#,
        )
        .unwrap();
        assert_eq!(m.survey.as_deref(), Some("dental"));
        assert_eq!(m.header_row, 2);
        assert_eq!(m.column_target("事業所ＩＤ "), Some("facility_code"));
        assert_eq!(m.values["q08"]["専門"], "1");
        let e = Mapping::parse("m.toml", "surveys = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("m.toml"), "{e}");
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
