//! The embedded font as PDF objects: glyph collection and subsetting (phase 2) and
//! the composite font objects (phase 3).
//!
//! Japanese needs a composite font, which lopdf does not write, so the objects are
//! built here by hand:
//!
//! ```text
//! Type0 font  /Encoding /Identity-H        2-byte codes = CIDs
//! ├─ /DescendantFonts [CIDFontType2]       /CIDToGIDMap /Identity: CID = glyph id in the subset
//! │   ├─ /W                                advance widths, 1/1000 em, where ≠ /DW 1000
//! │   └─ /FontDescriptor ─ /FontFile2      the TrueType subset (Flate)
//! └─ /ToUnicode                            CMap: CID → text, for copying and searching
//! ```
//!
//! The subset holds exactly the glyphs the document's pages use (plus `.notdef` and
//! any components of composite glyphs, which the subsetter adds after them). Glyph
//! ids are renumbered in order of first use, so the pages can only be encoded once
//! the set is complete: hence the phases.

use lopdf::{Dictionary, Object, ObjectId, dictionary};
use subsetter::GlyphRemapper;

use super::content::{compressed_stream, flate_stream};
use super::page::Page;
use super::subset::Subset;
use crate::font::{EM_ASCENT, EM_DESCENT, font};

/// Phase 2: the glyphs a document uses, renumbered for its subset.
#[derive(Debug, Default)]
pub(crate) struct GlyphSet {
    remapper: GlyphRemapper,
    /// Glyph ids `0..shared` (`.notdef` and the glyphs of shared layers) are numbered the same
    /// in every document over the same shared layers (see [`super::Page::over`]).
    pub shared: usize,
    /// Text of each new glyph id (index = new id; 0 is `.notdef`).
    unicode: Vec<(char, Option<char>)>,
    /// Advance of each new glyph id, in font units.
    advances: Vec<u16>,
}

impl GlyphSet {
    /// Collects the glyphs of all pages in order of first use: first those of the shared
    /// layers (bases) of all pages, then the pages' own, so that every document over the
    /// same bases numbers the bases' glyphs alike.
    pub fn collect(pages: &[&Page]) -> Self {
        let mut set = Self {
            remapper: GlyphRemapper::new(),
            shared: 1,
            unicode: vec![('\0', None)],
            advances: vec![0],
        };
        let mut seen: Vec<*const Page> = Vec::new();
        for page in pages {
            let layers = page.layers();
            for layer in &layers[..layers.len() - 1] {
                let key: *const Page = *layer;
                if !seen.contains(&key) {
                    seen.push(key);
                    set.add(layer);
                }
            }
        }
        set.shared = set.unicode.len();
        for page in pages {
            set.add(page);
        }
        set
    }

    fn add(&mut self, page: &Page) {
        for g in &page.glyphs {
            let new = self.remapper.remap(g.id);
            if usize::from(new) == self.unicode.len() {
                // First use. If two characters share a glyph, the first one is what
                // the ToUnicode map returns for both.
                self.unicode.push((g.ch, g.vs));
                self.advances.push(g.advance);
            }
        }
    }

    /// The renumbering, for the subsetter.
    pub fn remapper(&self) -> &GlyphRemapper {
        &self.remapper
    }

    /// Whether no text is drawn at all (then no font is written).
    pub fn is_empty(&self) -> bool {
        self.unicode.len() <= 1
    }

    /// The glyph's id in the subset.
    pub fn new_id(&self, old: u16) -> u16 {
        // Every drawn glyph was collected; `.notdef` would show a wrong page as boxes.
        self.remapper.get(old).unwrap_or(0)
    }

    /// A 6-letter subset tag derived from the glyph set, so the same glyphs always
    /// give the same name and different subsets (e.g. in two documents a viewer
    /// opens together) do not clash.
    fn tag(&self) -> String {
        // FNV-1a: stable across Rust versions, unlike `DefaultHasher`.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for g in self.remapper.remapped_gids() {
            for b in g.to_le_bytes() {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        (0..6)
            .map(|_| {
                let c = char::from(b'A' + (h % 26) as u8);
                h /= 26;
                c
            })
            .collect()
    }
}

/// Phase 3: writes the Type0 font with its descendant, descriptor, font file and
/// ToUnicode map; returns the Type0 font's id.
pub(crate) fn write_font(
    pdf: &mut lopdf::Document,
    glyphs: &GlyphSet,
    subset: &Subset,
) -> ObjectId {
    let f = font();
    let base_font = format!("{}+{}", glyphs.tag(), f.postscript_name());

    let mut file_dict = Dictionary::new();
    // /Length1: the uncompressed length, required for FontFile2.
    file_dict.set("Length1", subset.data.len() as i64);
    // The glyph outlines of the shared layers are the same bytes in every document over them:
    // that part of the font file is compressed once (see super::cache).
    let font_file = match subset.glyf_prefix(glyphs.shared) {
        Some((start, end)) => {
            let z = super::cache::deflate_segments(&subset.data, &[start, end], &[false, true]);
            pdf.add_object(compressed_stream(file_dict, z))
        }
        None => pdf.add_object(flate_stream(file_dict, &subset.data)),
    };

    let [x0, y0, x1, y1] = f.bbox();
    let bbox: Vec<Object> = [x0, y0, x1, y1]
        .iter()
        .map(|&v| Object::Integer(f.to_pdf_units(i32::from(v)).round() as i64))
        .collect();
    let descriptor = pdf.add_object(dictionary! {
        "Type" => "FontDescriptor",
        "FontName" => Object::Name(base_font.clone().into_bytes()),
        // Symbolic: the glyphs are not in the standard Latin set.
        "Flags" => 4,
        "FontBBox" => bbox,
        "ItalicAngle" => 0,
        // The em box the layout places text by, not hhea/OS/2 (see crate::font).
        "Ascent" => (EM_ASCENT * 1000.0).round() as i64,
        "Descent" => (EM_DESCENT * 1000.0).round() as i64,
        "CapHeight" => f.to_pdf_units(i32::from(f.cap_height())).round() as i64,
        // Not in the font; 80 is the usual value for a regular weight.
        "StemV" => 80,
        "FontFile2" => font_file,
    });

    let cid_font = pdf.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "CIDFontType2",
        "BaseFont" => Object::Name(base_font.clone().into_bytes()),
        "CIDSystemInfo" => dictionary! {
            "Registry" => Object::string_literal("Adobe"),
            "Ordering" => Object::string_literal("Identity"),
            "Supplement" => 0,
        },
        "FontDescriptor" => descriptor,
        "DW" => DEFAULT_WIDTH,
        "W" => widths(glyphs),
        "CIDToGIDMap" => "Identity",
    });

    let to_unicode = pdf.add_object(flate_stream(Dictionary::new(), &to_unicode_cmap(glyphs)));

    pdf.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type0",
        // PDF 32000 9.7.6.1: CIDFont name, hyphen, CMap name.
        "BaseFont" => Object::Name(format!("{base_font}-Identity-H").into_bytes()),
        "Encoding" => "Identity-H",
        "DescendantFonts" => vec![Object::Reference(cid_font)],
        "ToUnicode" => to_unicode,
    })
}

/// `/DW`: full-width Japanese glyphs are one em, so most glyphs need no `/W` entry.
const DEFAULT_WIDTH: i64 = 1000;

/// The `/W` array: `first [w1 w2 …]` for each run of consecutive ids whose width
/// differs from `/DW`. Widths are exact (not rounded to integers) so the viewer
/// places glyphs where [`crate::text::measure`] expects them.
fn widths(glyphs: &GlyphSet) -> Vec<Object> {
    let f = font();
    let mut out = Vec::new();
    let mut run: Vec<Object> = Vec::new();
    let mut run_start = 0usize;
    for (id, &adv) in glyphs.advances.iter().enumerate().skip(1) {
        let w = f.to_pdf_units(i32::from(adv));
        if (w - DEFAULT_WIDTH as f64).abs() < 1e-9 {
            if !run.is_empty() {
                out.push(Object::Integer(run_start as i64));
                out.push(Object::Array(std::mem::take(&mut run)));
            }
            continue;
        }
        if run.is_empty() {
            run_start = id;
        }
        run.push(super::page::real((w * 100.0).round() / 100.0));
    }
    if !run.is_empty() {
        out.push(Object::Integer(run_start as i64));
        out.push(Object::Array(run));
    }
    out
}

/// The ToUnicode CMap: every used CID to its text in UTF-16BE.
fn to_unicode_cmap(glyphs: &GlyphSet) -> Vec<u8> {
    use std::fmt::Write;
    let mut s = String::with_capacity(400 + glyphs.unicode.len() * 24);
    s.push_str(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
         /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
         /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
         1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    let entries = &glyphs.unicode[1..];
    // At most 100 entries per bfchar block (PDF 32000 9.10.3 / CMap syntax limit).
    for (chunk_no, chunk) in entries.chunks(100).enumerate() {
        let _ = writeln!(s, "{} beginbfchar", chunk.len());
        for (i, &(ch, vs)) in chunk.iter().enumerate() {
            let cid = 1 + chunk_no * 100 + i;
            let _ = write!(s, "<{cid:04X}> <");
            let mut units = [0u16; 4];
            let mut n = ch.encode_utf16(&mut units[..2]).len();
            if let Some(vs) = vs {
                n += vs.encode_utf16(&mut units[n..]).len();
            }
            for unit in &units[..n] {
                let _ = write!(s, "{unit:04X}");
            }
            s.push_str(">\n");
        }
        s.push_str("endbfchar\n");
    }
    s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    s.into_bytes()
}
