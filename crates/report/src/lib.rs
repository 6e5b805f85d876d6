//! Briefing handouts (報告会資料) and data exports for capsurvey.
//!
//! Three steps, kept apart so each can be tested on its own:
//!
//! 1. [`load`] reads what a handout needs from the store: the survey definition of one stored
//!    version, every facility that was sent a form or replied, and per facility its accepted
//!    answers and the fields still under review ([`ReportInput`]).
//! 2. [`aggregate`] turns that input into a [`Report`]: collection status, per-question counts and
//!    percentages, count statistics, cross-tabs, reasons ranked, free text, the capability grid.
//!    It is pure (no I/O), so its numbers can be checked against an independent recomputation.
//! 3. [`render`] fills minijinja templates (`templates/` in the repository, compiled in, or a
//!    folder of the user's own) with the report and returns one self-contained HTML file.
//!
//! [`export`] writes the same input as one row per facility to CSV or xlsx.
//!
//! The rules for n, 無回答 and 非該当, rounding and suppression are in `docs/handouts.md`; the
//! conventions that pick the listing, filing and reasons questions are in [`rules`].

#![warn(missing_docs)]

pub mod aggregate;
pub mod chart;
pub mod export;
pub mod fmt;
pub mod load;
pub mod model;
pub mod render;
pub mod rules;
pub mod testing;

pub use aggregate::{ReportOptions, aggregate};
pub use export::{ExportFormat, export_table, write_csv, write_xlsx};
pub use load::load_input;
pub use model::*;
pub use render::Renderer;

/// Errors of loading, rendering and exporting.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The store failed or holds something unreadable.
    #[error(transparent)]
    Store(#[from] capsurvey_store::StoreError),
    /// A database query failed.
    #[error("database error: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// The survey or version asked for is not stored.
    #[error("{0}")]
    NotFound(String),
    /// A template could not be read, parsed or rendered.
    #[error("template error: {0:#}")]
    Template(#[from] minijinja::Error),
    /// The template folder given does not exist or cannot be read.
    #[error("template folder {path}: {message}")]
    TemplateDir {
        /// The folder given.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing CSV failed.
    #[error("CSV: {0}")]
    Csv(#[from] csv::Error),
    /// Writing xlsx failed.
    #[error("xlsx: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// Result with a [`ReportError`].
pub type Result<T> = std::result::Result<T, ReportError>;
