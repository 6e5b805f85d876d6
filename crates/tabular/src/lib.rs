//! Reply files: facilities that answer a survey by CSV or Excel, and consultants' batches.
//!
//! The pure part reads a file into rows of answers, without a database:
//!
//! - [`ReplyFile::open`] reads the header, decides which survey the file answers ([`Catalog`]) and
//!   maps every column onto an answer field, an option of a choice question, the facility code
//!   or the form code ([`Plan`]); columns it cannot place are reported ([`Plan::warnings`]).
//! - [`ReplyFile::next_chunk`] hands out rows in file order. Each [`Row`] names its facility
//!   ([`Row::facility`]) and carries one [`Answer`] per field: a normalised
//!   [`capsurvey_survey::Value`] (`None` for 無回答) or a [`ValueProblem`] with the raw text,
//!   read with [`Plan::value`]. Values are kept compactly until asked for (option indexes, text
//!   ranges), so a million-row file does not cost twenty million small allocations. Rows that
//!   cannot be read at all are [`RowError`]s with their line. CSV files are parsed in parallel
//!   blocks with bounded memory.
//!
//! The store part ([`import`]) writes rows into the database following the answer rules of
//! `capsurvey_store::answers`: one transaction per file, files imported once by content hash.
//!
//! Column names, value spellings and mapping files are documented in `docs/replies-format.md`.

#![warn(missing_docs)]

mod header;
pub mod import;
mod mapping;
mod read;
mod rows;
pub mod text;
mod values;

pub use header::{Catalog, Column, MatchedBy, Plan, SurveyIndex, Target};
pub use mapping::{Mapping, MappingError};
pub use read::{Chunk, Format, ReadOptions, ReplyFile, is_workbook};
pub use rows::{
    Answer, FacilityKey, Pos, RAW_EXCERPT_CHARS, RAW_KEPT_CHARS, Row, RowError, RowProblem,
    ValueProblem,
};
pub use values::FieldSpec;

/// Why a whole file cannot be read. Row-level problems are [`RowError`]s instead.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    /// Neither UTF-8 nor Shift_JIS.
    #[error(
        "line {line}: the text is neither UTF-8 nor Shift_JIS (CP932): save the file as UTF-8 \
         or as Excel's \"CSV (comma delimited)\""
    )]
    Decode {
        /// 1-based line of the first bad byte.
        line: u64,
    },
    /// The file ends inside a quoted value.
    #[error(
        "line {line}: a quoted value starts here and never ends: the file looks cut off (truncated) \
         — copy it again from the sender"
    )]
    Truncated {
        /// The line where the unfinished quoted value starts.
        line: u64,
    },
    /// No header row.
    #[error("the file is empty: no header row")]
    Empty,
    /// Neither facility nor form code column.
    #[error(
        "no column identifies the facility: name one `facility_code` (施設コード, 事業所番号, \
         医療機関コード) or `form_code` (管理No), or map one in a --mapping file"
    )]
    NoFacilityColumn,
    /// No column answers a question.
    #[error("no column of the header is a question of survey `{survey}`")]
    NoQuestionColumns {
        /// The survey.
        survey: String,
    },
    /// `--survey`, the mapping or a `survey` column names a survey that does not exist.
    #[error("no survey `{id}`: known surveys are {known}")]
    UnknownSurvey {
        /// The id given.
        id: String,
        /// The ids there are.
        known: String,
    },
    /// The header fits several surveys equally well.
    #[error(
        "cannot tell which survey the file answers: its header fits {candidates} equally \
         ({columns} columns each); say which with --survey {first}"
    )]
    AmbiguousSurvey {
        /// The surveys that tie.
        candidates: String,
        /// How many columns each matched.
        columns: usize,
        /// One of them, for the hint.
        first: String,
    },
    /// The header matches no survey.
    #[error(
        "no column of the header is a question of any survey ({known}): for another layout \
         give a --mapping file, or name the survey with --survey to see which columns are unknown"
    )]
    NoSurveyMatches {
        /// The ids there are.
        known: String,
    },
    /// The mapping file does not fit the survey.
    #[error("{0}")]
    Mapping(String),
    /// A workbook that calamine cannot read, or a missing sheet.
    #[error("workbook: {0}")]
    Workbook(String),
}
