//! Realistic faxed and scanned survey replies, with their truth, for tests, benchmarks and
//! `capsurvey demo`.
//!
//! A page is made in four steps, all in pure Rust (no external tool at run time):
//!
//! 1. **The printed form**: drawn from the [`Layout`] alone
//!    ([`Base::Render`]: registration marks, page codes, box borders, digit boxes, rules and
//!    text-like ink where the form prints text), or taken from a rasterised real form
//!    ([`Base::Raster`], e.g. Ghostscript output of the forms crate's PDF).
//! 2. **The respondent**: [`random_answers`] gives plausible intended answers; a respondent's
//!    [`Habits`] decide how they are drawn: ticks, crosses, fills, circles around labels,
//!    pencil, cancelled boxes, stray dots, handwritten digits and text scribbles.
//! 3. **The machine**: a [`Degradation`] drawn for a [`Profile`] (fax standard or fine, scanner
//!    200/300/600 dpi grey or 200 dpi colour): skew, scale and shift, pages upside down, blur,
//!    streaks, dust, edge loss, salt-and-pepper noise, non-square pixels, 1-bit threshold, the
//!    1728-pixel fax line.
//! 4. **The file**: multi-page TIFF ([`write_tiff`]: CCITT G3 1-D/2-D, G4, RLE with this
//!    crate's own [`ccitt`] encoder; LZW; uncompressed), PDF with G4 or JPEG pages
//!    ([`write_pdf`]), PNG and JPEG ([`write_png`], [`write_jpeg`]).
//!
//! Every page comes with a [`PageTruth`] (JSON): its identity (page code, blank, foreign or
//! damaged code), the degradation and the page-to-pixel map, and per box what was drawn and
//! what a correct reader should see.
//!
//! Drawing happens directly at the output resolution: shapes in page points are rasterised
//! through the page-to-pixel affine with anti-aliasing, so a fax page takes a few milliseconds.
//! Everything is deterministic: the same seed gives the same bytes.
//!
//! ```
//! use capsurvey_faxsim::{Profile, Unidentifiable, simulate_unidentifiable, write_tiff, TiffCompression};
//!
//! let page = simulate_unidentifiable(Unidentifiable::Foreign, Profile::FaxStandard, 7);
//! assert_eq!((page.image.width, page.image.height), (1728, 1146));
//! let tiff = write_tiff(&[page.picture()], TiffCompression::G4);
//! assert!(tiff.starts_with(b"II*\0"));
//! ```

#![warn(missing_docs)]

mod answers;
mod base;
mod canvas;
pub mod ccitt;
mod degrade;
mod fill;
mod glyphs;
pub mod inbox;
mod rng;
mod sim;
mod tiff;
mod truth;
mod write;

pub use answers::{Answers, random_answers};
pub use canvas::Affine;
pub use capsurvey_layout::{Layout, PageCode};
pub use degrade::{Degradation, EdgeLoss, FAX_WIDTH, Profile, Streak, StreakKind};
pub use fill::{Habits, Pen};
pub use rng::Rng;
pub use sim::{
    Base, FormPage, SimError, SimulatedPage, Unidentifiable, render_form_page, simulate_form_page,
    simulate_form_page_with, simulate_reply, simulate_reply_pages, simulate_unidentifiable,
    simulate_unidentifiable_with,
};
pub use tiff::{TiffCompression, write_tiff};
pub use truth::{
    BoxTruth, CodeTruth, Expected, FieldTruth, Identity, OutputTruth, PageTruth, Style,
};
pub use write::{Picture, RgbImage, write_jpeg, write_pdf, write_png};
