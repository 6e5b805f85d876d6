//! The one font every form uses: IPAexGothic, compiled into the binary.
//!
//! The 6 MB font file is embedded with `include_bytes!` so that no font has to be
//! installed where forms are generated, and parsed once into a lazily initialised
//! static ([`font()`]); afterwards every lookup is a table read on shared, immutable
//! data, so any number of threads can measure and write at the same time.
//!
//! Only metrics and glyph lookup live here; turning used glyphs into an embedded
//! subset is phase 2 of the PDF writer ([`crate::pdf`]).

use std::sync::LazyLock;

use ttf_parser::{Face, GlyphId, name_id};

/// The raw bytes of `fonts/ipaexg.ttf` (IPAexGothic 004.01, IPA Font License v1.0).
pub(crate) static FONT_DATA: &[u8] = include_bytes!("../fonts/ipaexg.ttf");

/// The licence of the embedded font, to ship alongside anything that redistributes it.
pub static FONT_LICENSE: &str = include_str!("../fonts/IPA_Font_License_Agreement_v1.0.txt");

/// Top of the em box above the baseline, as a fraction of the font size.
///
/// Text is placed by this nominal em box rather than by the font's hhea/OS/2
/// metrics, which disagree between fonts; the box is then exactly one font size tall.
pub const EM_ASCENT: f64 = 0.88;
/// Bottom of the em box relative to the baseline, as a fraction of the font size (negative: below).
pub const EM_DESCENT: f64 = -0.12;

static FONT: LazyLock<Font> = LazyLock::new(|| {
    // The data is a constant checked by the tests, so failing here is a build defect.
    Font::parse(FONT_DATA).expect("the embedded IPAexGothic font parses")
});

/// The embedded font, parsed on first use.
pub fn font() -> &'static Font {
    &FONT
}

/// A parsed font with the few metrics layout and the PDF writer need.
pub struct Font {
    face: Face<'static>,
    data: &'static [u8],
    units_per_em: u16,
    postscript_name: String,
    /// Font bounding box in font units: x_min, y_min, x_max, y_max.
    bbox: [i16; 4],
    cap_height: i16,
}

impl std::fmt::Debug for Font {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Font")
            .field("postscript_name", &self.postscript_name)
            .field("units_per_em", &self.units_per_em)
            .finish_non_exhaustive()
    }
}

impl Font {
    fn parse(data: &'static [u8]) -> Result<Self, ttf_parser::FaceParsingError> {
        let face = Face::parse(data, 0)?;
        let postscript_name = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == name_id::POST_SCRIPT_NAME)
            .find_map(|n| n.to_string())
            // Only [A-Za-z0-9-] is safe in a PDF font name without escaping.
            .map(|s| {
                s.chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
                    .collect()
            })
            .filter(|s: &String| !s.is_empty())
            .unwrap_or_else(|| "IPAexGothic".to_owned());
        let b = face.global_bounding_box();
        let units_per_em = face.units_per_em();
        let cap_height = face
            .capital_height()
            .unwrap_or((f64::from(units_per_em) * 0.7) as i16);
        Ok(Self {
            units_per_em,
            postscript_name,
            bbox: [b.x_min, b.y_min, b.x_max, b.y_max],
            cap_height,
            face,
            data,
        })
    }

    /// PostScript name of the font, `IPAexGothic`.
    pub fn postscript_name(&self) -> &str {
        &self.postscript_name
    }

    /// Font units per em (2048 for IPAexGothic); advances are given in these units.
    pub fn units_per_em(&self) -> u16 {
        self.units_per_em
    }

    /// Whether the font can draw `ch`.
    pub fn has_char(&self, ch: char) -> bool {
        self.glyph(ch).is_some()
    }

    /// Glyph id of `ch`, `None` if the font has none (control characters never have one).
    pub(crate) fn glyph(&self, ch: char) -> Option<u16> {
        if ch.is_control() {
            return None;
        }
        match self.face.glyph_index(ch) {
            Some(GlyphId(0)) | None => None,
            Some(GlyphId(id)) => Some(id),
        }
    }

    /// Glyph id of `ch` followed by the variation selector `vs`, if the font has that variant.
    pub(crate) fn variant_glyph(&self, ch: char, vs: char) -> Option<u16> {
        match self.face.glyph_variation_index(ch, vs) {
            Some(GlyphId(0)) | None => None,
            Some(GlyphId(id)) => Some(id),
        }
    }

    /// Horizontal advance of a glyph in font units.
    pub(crate) fn advance(&self, glyph: u16) -> u16 {
        self.face.glyph_hor_advance(GlyphId(glyph)).unwrap_or(0)
    }

    /// Advance width of `ch` in points at `size`, `None` if the font has no glyph for it.
    pub fn char_width(&self, ch: char, size: f64) -> Option<f64> {
        self.glyph(ch)
            .map(|g| self.to_points(u32::from(self.advance(g)), size))
    }

    /// Converts a length in font units to points at font size `size`.
    pub(crate) fn to_points(&self, units: u32, size: f64) -> f64 {
        f64::from(units) * size / f64::from(self.units_per_em)
    }

    /// Converts a length in font units to the 1/1000 em units PDF font dictionaries use.
    pub(crate) fn to_pdf_units(&self, units: i32) -> f64 {
        f64::from(units) * 1000.0 / f64::from(self.units_per_em)
    }

    pub(crate) fn data(&self) -> &'static [u8] {
        self.data
    }

    pub(crate) fn bbox(&self) -> [i16; 4] {
        self.bbox
    }

    pub(crate) fn cap_height(&self) -> i16 {
        self.cap_height
    }
}
