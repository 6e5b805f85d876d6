//! The crate's error type.

use thiserror::Error;

/// Everything that can go wrong while measuring text or writing a PDF.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The embedded font has no glyph for some characters of a text.
    ///
    /// Nothing is drawn or measured in that case: a form with a silently missing
    /// character could be misread. Use [`crate::text::missing_chars`] to check a text
    /// in advance or [`crate::text::substitute_missing`] for a visible replacement.
    #[error("the font has no glyph for {} in {text:?}", format_chars(.chars))]
    MissingGlyphs {
        /// The characters without a glyph, each once, in order of appearance.
        chars: Vec<char>,
        /// The text they were found in.
        text: String,
    },
    /// A coordinate, size or width given to a [`crate::pdf::Page`] was NaN or infinite.
    ///
    /// Drawing calls stay infallible, so this is only reported when the page is written.
    #[error("page {page}: a coordinate, size or width is not a finite number")]
    NonFiniteNumber {
        /// 1-based number of the page in the written document.
        page: usize,
    },
    /// A document without pages was to be written.
    #[error("a PDF needs at least one page")]
    NoPages,
    /// The font subsetter failed (should not happen with the embedded font).
    #[error("font subsetting failed: {0}")]
    Subset(#[from] subsetter::Error),
    /// Writing the output failed.
    #[error("writing PDF: {0}")]
    Io(#[from] std::io::Error),
}

/// `'髙' (U+9AD9), '①' (U+2460)`: the code point matters when the glyph does not display.
fn format_chars(chars: &[char]) -> String {
    chars
        .iter()
        .map(|c| format!("{c:?} (U+{:04X})", u32::from(*c)))
        .collect::<Vec<_>>()
        .join(", ")
}
