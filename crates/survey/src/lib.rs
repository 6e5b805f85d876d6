//! The capsurvey survey model.
//!
//! A survey is a versioned definition read from `surveys/*.toml` (format: `docs/survey-format.md`).
//! This crate parses and validates definitions, names every answer field, and checks answer values.
//! It does no I/O beyond parsing text it is given, and depends on no other capsurvey crate.

mod field;
mod model;
mod parse;
mod validate;

pub use field::{Field, FieldKind, LONG_TEXT_MAX_CHARS, SHORT_TEXT_MAX_CHARS, Value, ValueError};
pub use model::{
    Choice, FacilityType, Item, NO, Prefill, Question, QuestionKind, Section, Skip, Survey,
    WriteIn, YES,
};
pub use parse::{
    DefinitionError, Diagnostic, Parsed, content_hash, parse_survey, parse_survey_bytes,
};
pub use validate::{Loc, Problem, validate};
