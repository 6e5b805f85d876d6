//! The facility roster: who gets a survey.
//!
//! A municipality builds its mailing list from public lists and adds what it knows itself. This
//! crate reads them and merges them into the store by facility code:
//!
//! - [`mod@parse`] (pure: bytes in, records out) recognises the layout from the header row:
//!   医療情報ネット (ナビイ) 施設票 CSV, 介護サービス情報公表 CSV, the 地方厚生局's
//!   届出受理医療機関名簿 (xlsx), or the municipality's own CSV; UTF-8 (with or without BOM) or
//!   Shift_JIS (CP932). Rows it cannot read become [`RowError`]s with their line.
//! - [`mod@import`] merges the records into the store, one transaction per file, keeping every
//!   source record and auditing every change.
//! - [`area`] maps addresses or codes to the municipality's areas; [`mod@list`] reads the roster back.
//!
//! The formats and the merge rules are documented in `docs/roster-format.md`.

#![warn(missing_docs)]

pub mod area;
mod error;
pub mod import;
pub mod keys;
pub mod list;
pub mod parse;
mod record;
mod table;

pub use area::{AreaMap, AreaMapError};
pub use error::RosterError;
pub use import::{
    FileOutcome, FileReport, ImportOptions, Progress, assign_areas, import_bytes, import_file,
};
pub use list::{
    AreaOverride, ListFilter, ListRow, list, render_csv, render_table, set_area_override,
};
pub use parse::{ParseError, ParseOptions, Parsed, detect, parse};
pub use record::{Layout, RosterRecord, RowError, SourceEncoding, SourceFields, SourceKind};
