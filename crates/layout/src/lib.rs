//! The contract between the printed form and recognition.
//!
//! - [`Layout`]: where everything is on every page of one survey version, in PDF points from the
//!   page's top-left corner (the layout file, `docs/layout-format.md`). The forms crate writes it;
//!   the scan crate reads it; anyone else can too.
//! - [`PageCode`]: the machine-readable page identity printed twice on every page, with its
//!   check bits ([`pagecode`]).
//!
//! This crate depends on nothing of capsurvey's but is the only thing forms and scan share.

#![warn(missing_docs)]

pub mod frame;
mod model;
pub mod pagecode;

pub use model::*;
pub use pagecode::{PageCode, PageCodeError};
