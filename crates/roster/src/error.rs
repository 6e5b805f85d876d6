//! Errors of the roster library. Each names the file (and line, where there is one) and says what
//! to do; bad rows are not errors but [`crate::RowError`]s in the report.

use crate::area::AreaMapError;
use crate::parse::ParseError;
use capsurvey_store::StoreError;

/// Why a roster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RosterError {
    /// The file could not be read from disk.
    #[error("cannot read {file}: {error}")]
    Read {
        /// The file.
        file: String,
        /// What the system said.
        error: std::io::Error,
    },
    /// The file is not a roster capsurvey can read.
    #[error("{file}: {error}")]
    Parse {
        /// The file.
        file: String,
        /// Why.
        error: ParseError,
    },
    /// The database failed while importing a file; its transaction was rolled back.
    #[error(
        "{file}: database error, nothing from this file was written ({error}); fix the cause and import it again"
    )]
    Store {
        /// The file.
        file: String,
        /// What the store said.
        error: StoreError,
    },
    /// The import was stopped before the end; its transaction was rolled back.
    #[error(
        "{file}: import interrupted at line {line}; nothing from this file was written, import it again"
    )]
    Interrupted {
        /// The file.
        file: String,
        /// The line of the record being imported when it stopped.
        line: usize,
    },
    /// The area map cannot be used.
    #[error("area map {0}")]
    AreaMap(AreaMapError),
    /// No facility has this code.
    #[error("no facility has the code `{code}`: `capsurvey roster list` shows the codes")]
    UnknownFacility {
        /// The code asked for.
        code: String,
    },
    /// A database error outside a file import.
    #[error("database error: {0}")]
    Db(String),
}

impl From<StoreError> for RosterError {
    fn from(e: StoreError) -> Self {
        RosterError::Db(e.to_string())
    }
}

impl From<sea_orm::DbErr> for RosterError {
    fn from(e: sea_orm::DbErr) -> Self {
        RosterError::Db(e.to_string())
    }
}

impl From<AreaMapError> for RosterError {
    fn from(e: AreaMapError) -> Self {
        RosterError::AreaMap(e)
    }
}
