//! What parsing produces: one [`RosterRecord`] per facility and source, and [`RowError`]s for the
//! rows that could not be read.

use capsurvey_survey::FacilityType;
use serde::{Deserialize, Serialize};

/// Which list a record comes from; stored as `facility_sources.source_kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// 医療情報ネット (ナビイ) facility CSV.
    Navii,
    /// 介護サービス情報公表システム open data (jigyosho_130 …).
    Kaigo,
    /// 地方厚生局 届出受理医療機関名簿.
    Kouseikyoku,
    /// The municipality's own list.
    Local,
}

impl SourceKind {
    /// All kinds, lowest precedence first.
    pub const ALL: [SourceKind; 4] = [Self::Navii, Self::Kaigo, Self::Kouseikyoku, Self::Local];

    /// The identifier stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Navii => "navii",
            Self::Kaigo => "kaigo",
            Self::Kouseikyoku => "kouseikyoku",
            Self::Local => "local",
        }
    }

    /// Reads a stored identifier back.
    pub fn parse(s: &str) -> Option<SourceKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Precedence when sources disagree (higher wins): the municipality's own list knows its
    /// facilities best, the bureau list is what the facility itself filed (with phone and FAX),
    /// the care-service list is self-reported, and ナビイ has no contact fields at all.
    pub fn precedence(self) -> u8 {
        match self {
            Self::Navii => 1,
            Self::Kaigo => 2,
            Self::Kouseikyoku => 3,
            Self::Local => 4,
        }
    }
}

impl std::fmt::Display for SourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// The file layouts the importer recognises (from the header row, never the file name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// B1: 医療情報ネット (ナビイ) 施設票 CSV (hospital, clinic or dental).
    Navii,
    /// B2: 介護サービス情報公表システム CSV (jigyosho_130: 訪問看護).
    Kaigo,
    /// B3: 地方厚生局 届出受理医療機関名簿 (xlsx, or the same sheet saved as CSV).
    Kouseikyoku,
    /// L: the municipality's own CSV (docs/roster-format.md).
    Local,
}

impl Layout {
    /// The source kind records of this layout are stored under.
    pub fn source_kind(self) -> SourceKind {
        match self {
            Self::Navii => SourceKind::Navii,
            Self::Kaigo => SourceKind::Kaigo,
            Self::Kouseikyoku => SourceKind::Kouseikyoku,
            Self::Local => SourceKind::Local,
        }
    }

    /// A name a person recognises, for the import summary.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Navii => "医療情報ネット (ナビイ) 施設票",
            Self::Kaigo => "介護サービス情報公表 事業所CSV",
            Self::Kouseikyoku => "地方厚生局 届出受理医療機関名簿",
            Self::Local => "municipality list (local CSV)",
        }
    }
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

/// How the file's text was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceEncoding {
    /// A text (CSV) file in this encoding.
    Text(capsurvey_jptext::Encoding),
    /// An Excel workbook (text inside is always Unicode).
    Xlsx,
}

impl std::fmt::Display for SourceEncoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text(e) => e.fmt(f),
            Self::Xlsx => f.write_str("xlsx"),
        }
    }
}

/// The facility data one source record gives, normalised; what merging combines.
///
/// Stored (with the raw columns) in `facility_sources.record`, so a facility can be recomputed
/// from all its sources whatever order the files came in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceFields {
    /// The code the facility gets if this record creates it: the official code (医療機関コード,
    /// 事業所番号: 10 digits) where the source has one, else a provisional one (`N` + ナビイ ID,
    /// or the local list's own `L…` code).
    pub code: String,
    /// Whether `code` is an official 10-digit code, which replaces a provisional one on merge.
    pub official: bool,
    /// Facility type, from the file or `--type`.
    pub facility_type: FacilityType,
    /// Name, normalised (full-width ASCII folded, spaces collapsed).
    pub name: String,
    /// Name in katakana, if the source has it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_kana: Option<String>,
    /// Postal code `NNN-NNNN`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// Address, normalised (building name included where the source gives one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Phone as written (`042-912-3456`), normalised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// FAX, like `phone`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fax: Option<String>,
    /// Latitude (never the 0.0 that ナビイ writes for "unknown").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// Longitude, like `latitude`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// Filing codes (受理記号: 支援診3, 歯援診2 …), normalised, sorted, without duplicates.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filings: Vec<String>,
    /// The area (地区) the local list states for the facility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
}

/// One facility as one source file describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RosterRecord {
    /// The list it comes from.
    pub source: SourceKind,
    /// The facility's key in that list (ナビイ ID, 事業所番号, 10-digit 医療機関コード, local code).
    pub source_key: String,
    /// 1-based line (CSV) or Excel row (xlsx) where the record starts; for the bureau list, the
    /// facility's first filing row.
    pub line: usize,
    /// What is merged into the facility.
    pub fields: SourceFields,
    /// The raw columns (header → cell text), kept as the source said it. Row sequence numbers
    /// (No, 項番) are left out: they shift between releases without anything changing.
    pub raw: serde_json::Value,
}

/// A row that could not be read; the rest of the file is imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based line (CSV) or Excel row (xlsx).
    pub line: usize,
    /// What is wrong and what to do about it.
    pub reason: String,
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}
