//! capsurvey's printed survey forms: their layout, their PDF pages, and the PDF writer below.
//!
//! The form layer:
//!
//! - [`form`]: the layout of a survey version ([`form::layout`], a pure function of the
//!   definition: the layout file recognition reads, `docs/layout-format.md`), and the forms
//!   themselves ([`form::FormTemplate`]: cover letter and question pages, per facility);
//! - [`campaign`]: the campaign settings file (sender, return FAX, deadline;
//!   `docs/campaign-settings.md`);
//! - [`check`]: what in a design would break recognition or reading (`capsurvey forms check`);
//! - [`calibration`]: the calibration page (printer scaling, fax edge loss);
//! - [`wareki`]: dates in 和暦 (「令和7(2025)年1月31日(金)」).
//!
//! The PDF layer knows fonts, text, lines and boxes, not questions:
//!
//! - [`font`]: the embedded IPAexGothic font, parsed once and shared;
//! - [`text`]: text measurement and Japanese line breaking (kinsoku);
//! - [`geom`]: points, millimetres, rectangles and strokes, origin top-left;
//! - [`pdf`]: pages with a drawing API and the phased PDF writer
//!   (Type0/CIDFontType2 font with a per-document subset, Flate content streams).
//!
//! Coordinates are PDF points (1/72 in) from the page's **top-left** corner, y down.
//! Text is placed by its em box (top 0.88 em above the baseline, bottom 0.12 em below)
//! unless asked to use the baseline; see [`pdf::TextAnchor`].
//!
//! ```
//! use capsurvey_forms::{Document, Rect, mm, text};
//!
//! let mut doc = Document::new("調査票");
//! let page = doc.add_page();
//! let (x, mut y, size, width) = (mm(20.0), mm(20.0), 10.5, mm(80.0));
//! for line in text::break_lines("あてはまる番号を○で囲んでください（※○は1つだけ）。", size, width)? {
//!     page.text(x, y, size, line.text)?;
//!     y += size * 1.5;
//! }
//! page.fill_rect(Rect::new(mm(190.0), mm(10.0), mm(5.0), mm(5.0)), 0.0);
//! let bytes = doc.to_pdf()?;
//! # assert!(bytes.len() > 1000);
//! # Ok::<(), capsurvey_forms::Error>(())
//! ```

#![warn(missing_docs)]

pub mod calibration;
pub mod campaign;
pub mod check;
mod error;
pub mod font;
pub mod form;
pub mod geom;
pub mod pdf;
pub mod text;
pub mod wareki;

pub use error::Error;
pub use geom::{A4_HEIGHT, A4_WIDTH, Dash, Rect, Stroke, mm};
pub use pdf::{Document, DocumentInfo, Page, TextAnchor, TextStyle};
pub use text::ShapedText;
