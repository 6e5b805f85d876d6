//! Phase 2: the font subset that goes into `/FontFile2`, built once per document.
//!
//! `subsetter` keeps exactly the glyphs of the [`GlyphSet`] (plus `.notdef` and any
//! components of composite glyphs), renumbered in order of first use. Its output
//! still carries the TrueType hinting, which in IPAexGothic is almost half of the
//! outline data (63 KB of 139 KB for the ~400 glyphs of a four-page form) and which
//! printers, Ghostscript and PDF viewers rendering at print or fax resolution do
//! not need. [`strip_hinting`] therefore rewrites the subset without glyph
//! instructions, `cvt `, `fpgm` and `prep`, and with a `post` table without glyph
//! names; the outlines and metrics are untouched. This keeps a typical form PDF
//! well under 100 KB. (Embedding a modified subset is what the IPA Font Licence,
//! Art. 2.5, allows for fonts used only within a document.)

use std::borrow::Cow;

use super::font::GlyphSet;
use crate::Error;
use crate::font::font;

/// The subset font program.
pub(crate) struct Subset {
    pub data: Vec<u8>,
}

impl Subset {
    /// Subsets the embedded font to `glyphs`; `None` if no text is drawn.
    pub fn build(glyphs: &GlyphSet) -> Result<Option<Self>, Error> {
        if glyphs.is_empty() {
            return Ok(None);
        }
        let full = subsetter::subset(font().data(), 0, glyphs.remapper())?;
        // If the subset could not be parsed again (never with the embedded font),
        // the hinted subset is still a correct font, only larger.
        let data = strip_hinting(&full).unwrap_or(full);
        Ok(Some(Self { data }))
    }
}

impl Subset {
    /// Where in the font file the outlines of glyphs `0..count` lie: `(start, end)` byte
    /// offsets within the `glyf` table. `None` if the font cannot be read that way.
    pub fn glyf_prefix(&self, count: usize) -> Option<(usize, usize)> {
        let font = &self.data;
        let n = usize::from(u16_at(font, 4)?);
        let mut glyf = None;
        let mut loca = None;
        let mut head = None;
        for i in 0..n {
            let rec = 12 + 16 * i;
            let tag = font.get(rec..rec + 4)?;
            let (off, len) = (
                u32_at(font, rec + 8)? as usize,
                u32_at(font, rec + 12)? as usize,
            );
            match tag {
                b"glyf" => glyf = Some((off, len)),
                b"loca" => loca = Some(off),
                b"head" => head = Some(off),
                _ => {}
            }
        }
        let (glyf, glyf_len) = glyf?;
        let long = u16_at(font, head? + 50)? == 1;
        let loca = loca?;
        let end = if long {
            u32_at(font, loca + 4 * count)? as usize
        } else {
            2 * usize::from(u16_at(font, loca + 2 * count)?)
        };
        (end <= glyf_len).then_some((glyf, glyf + end))
    }
}

/// Tables that only serve hinting.
const HINTING_TABLES: [&[u8; 4]; 3] = [b"cvt ", b"fpgm", b"prep"];

/// Rewrites a TrueType font without hinting (see the module docs); `None` if the
/// font is not the well-formed TrueType `subsetter` writes.
pub(crate) fn strip_hinting(font: &[u8]) -> Option<Vec<u8>> {
    let tables = read_directory(font)?;
    let get = |tag: &[u8; 4]| tables.iter().find(|t| &t.0 == tag).map(|t| t.1);
    let (head, maxp, loca, glyf) = (get(b"head")?, get(b"maxp")?, get(b"loca")?, get(b"glyf")?);

    let num_glyphs = usize::from(u16_at(maxp, 4)?);
    let long_loca = u16_at(head, 50)? == 1;
    let offset = |i: usize| -> Option<usize> {
        if long_loca {
            u32_at(loca, 4 * i).map(|v| v as usize)
        } else {
            u16_at(loca, 2 * i).map(|v| 2 * usize::from(v))
        }
    };

    let mut new_glyf = Vec::with_capacity(glyf.len());
    let mut offsets = Vec::with_capacity(num_glyphs + 1);
    for g in 0..num_glyphs {
        offsets.push(new_glyf.len());
        let data = glyf.get(offset(g)?..offset(g + 1)?)?;
        if !data.is_empty() {
            strip_glyph(data, &mut new_glyf)?;
            // Short loca stores offsets / 2, so every glyph starts at an even offset.
            if new_glyf.len() % 2 == 1 {
                new_glyf.push(0);
            }
        }
    }
    offsets.push(new_glyf.len());

    let short = new_glyf.len() / 2 <= usize::from(u16::MAX);
    let mut new_loca = Vec::with_capacity(offsets.len() * if short { 2 } else { 4 });
    for &o in &offsets {
        if short {
            new_loca.extend_from_slice(&((o / 2) as u16).to_be_bytes());
        } else {
            new_loca.extend_from_slice(&(o as u32).to_be_bytes());
        }
    }

    let mut new_head = head.to_vec();
    new_head
        .get_mut(50..52)?
        .copy_from_slice(&u16::from(!short).to_be_bytes());
    let mut new_maxp = maxp.to_vec();
    if let Some(max_size_of_instructions) = new_maxp.get_mut(26..28) {
        max_size_of_instructions.fill(0);
    }

    let mut out: Vec<([u8; 4], Cow<'_, [u8]>)> = Vec::with_capacity(tables.len());
    for &(tag, data) in &tables {
        let data = match &tag {
            t if HINTING_TABLES.contains(&t) => continue,
            b"head" => Cow::Owned(std::mem::take(&mut new_head)),
            b"maxp" => Cow::Owned(std::mem::take(&mut new_maxp)),
            b"loca" => Cow::Owned(std::mem::take(&mut new_loca)),
            b"glyf" => Cow::Owned(std::mem::take(&mut new_glyf)),
            // Version 3.0: the same header without glyph names, which PDF never uses.
            b"post" if data.len() >= 32 => {
                let mut post = data[..32].to_vec();
                post[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
                Cow::Owned(post)
            }
            _ => Cow::Borrowed(data),
        };
        out.push((tag, data));
    }
    Some(assemble(out))
}

/// Copies one glyph description to `out` without its instructions.
fn strip_glyph(data: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let contours = i16::from_be_bytes(data.get(..2)?.try_into().ok()?);
    if contours >= 0 {
        // Header (10 bytes), endPtsOfContours, instructionLength, instructions, flags and points.
        let len_at = 10 + 2 * contours as usize;
        let ins_len = usize::from(u16_at(data, len_at)?);
        let rest = data.get(len_at + 2 + ins_len..)?;
        out.extend_from_slice(&data[..len_at]);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(rest);
        return Some(());
    }
    // Composite: components, then instructions if a component has WE_HAVE_INSTRUCTIONS.
    const ARGS_ARE_WORDS: u16 = 0x0001;
    const HAVE_SCALE: u16 = 0x0008;
    const MORE_COMPONENTS: u16 = 0x0020;
    const HAVE_XY_SCALE: u16 = 0x0040;
    const HAVE_2X2: u16 = 0x0080;
    const HAVE_INSTRUCTIONS: u16 = 0x0100;
    let start = out.len();
    let mut pos = 10;
    let mut flag_positions = Vec::new();
    loop {
        let flags = u16_at(data, pos)?;
        let args = if flags & ARGS_ARE_WORDS != 0 { 4 } else { 2 };
        let transform = if flags & HAVE_SCALE != 0 {
            2
        } else if flags & HAVE_XY_SCALE != 0 {
            4
        } else if flags & HAVE_2X2 != 0 {
            8
        } else {
            0
        };
        flag_positions.push(pos);
        pos += 4 + args + transform;
        data.get(..pos)?;
        if flags & MORE_COMPONENTS == 0 {
            break;
        }
    }
    out.extend_from_slice(&data[..pos]);
    for p in flag_positions {
        let flags = u16_at(out, start + p)? & !HAVE_INSTRUCTIONS;
        out[start + p..start + p + 2].copy_from_slice(&flags.to_be_bytes());
    }
    Some(())
}

/// The table directory: (tag, data) in file order.
fn read_directory(font: &[u8]) -> Option<Vec<([u8; 4], &[u8])>> {
    if u32_at(font, 0)? != 0x0001_0000 {
        return None;
    }
    let count = usize::from(u16_at(font, 4)?);
    (0..count)
        .map(|i| {
            let rec = 12 + 16 * i;
            let tag: [u8; 4] = font.get(rec..rec + 4)?.try_into().ok()?;
            let (off, len) = (
                u32_at(font, rec + 8)? as usize,
                u32_at(font, rec + 12)? as usize,
            );
            Some((tag, font.get(off..off.checked_add(len)?)?))
        })
        .collect()
}

/// Writes an sfnt from its tables, with checksums and `head.checkSumAdjustment`.
fn assemble(mut tables: Vec<([u8; 4], Cow<'_, [u8]>)>) -> Vec<u8> {
    tables.sort_by_key(|t| t.0);
    let n = tables.len() as u16;
    let entry_selector = 15 - n.max(1).leading_zeros() as u16;
    let search_range = 16u16 << entry_selector;
    let total: usize = tables.iter().map(|t| t.1.len().next_multiple_of(4)).sum();
    let mut out = Vec::with_capacity(12 + 16 * tables.len() + total);
    out.extend_from_slice(&0x0001_0000u32.to_be_bytes());
    for v in [n, search_range, entry_selector, n * 16 - search_range] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * tables.len();
    let mut head_at = None;
    for (tag, data) in &tables {
        out.extend_from_slice(tag);
        // head's checksum is taken with checkSumAdjustment zero, as it is before the fix-up.
        out.extend_from_slice(&checksum(data).to_be_bytes());
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        if tag == b"head" {
            head_at = Some(offset);
        }
        offset += data.len().next_multiple_of(4);
    }
    for (tag, data) in &tables {
        let at = out.len();
        out.extend_from_slice(data);
        if tag == b"head" && data.len() >= 12 {
            out[at + 8..at + 12].fill(0);
        }
        out.resize(out.len().next_multiple_of(4), 0);
    }
    if let Some(at) = head_at.filter(|&at| out.len() >= at + 12) {
        let adjustment = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[at + 8..at + 12].copy_from_slice(&adjustment.to_be_bytes());
    }
    out
}

/// The sfnt checksum: sum of big-endian u32 words, the last one zero-padded.
fn checksum(data: &[u8]) -> u32 {
    let mut chunks = data.chunks_exact(4);
    let mut sum = chunks.by_ref().fold(0u32, |s, c| {
        s.wrapping_add(u32::from_be_bytes(c.try_into().expect("4 bytes")))
    });
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut last = [0u8; 4];
        last[..rest.len()].copy_from_slice(rest);
        sum = sum.wrapping_add(u32::from_be_bytes(last));
    }
    sum
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ttf_parser::{Face, GlyphId, OutlineBuilder};

    /// Records an outline as text, to compare two fonts' glyphs.
    #[derive(Default)]
    struct Path(String);

    impl OutlineBuilder for Path {
        fn move_to(&mut self, x: f32, y: f32) {
            self.0 += &format!("M{x},{y} ");
        }
        fn line_to(&mut self, x: f32, y: f32) {
            self.0 += &format!("L{x},{y} ");
        }
        fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
            self.0 += &format!("Q{x1},{y1},{x},{y} ");
        }
        fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
            self.0 += &format!("C{x1},{y1},{x2},{y2},{x},{y} ");
        }
        fn close(&mut self) {
            self.0 += "Z ";
        }
    }

    fn outline(face: &Face<'_>, id: u16) -> String {
        let mut p = Path::default();
        face.outline_glyph(GlyphId(id), &mut p);
        p.0
    }

    #[test]
    fn stripped_subset_keeps_outlines_and_metrics() {
        let original = Face::parse(font().data(), 0).unwrap();
        let text = "訪問歯科診療の実施状況「摂食嚥下」管理No 0427、令和6年。ABCxyz";
        let mut remapper = subsetter::GlyphRemapper::new();
        let olds: Vec<u16> = text
            .chars()
            .map(|c| original.glyph_index(c).unwrap().0)
            .collect();
        for &o in &olds {
            remapper.remap(o);
        }
        let hinted = subsetter::subset(font().data(), 0, &remapper).unwrap();
        let stripped = strip_hinting(&hinted).unwrap();
        assert!(
            stripped.len() * 10 < hinted.len() * 8,
            "{} vs {}",
            stripped.len(),
            hinted.len()
        );

        let face = Face::parse(&stripped, 0).unwrap();
        assert_eq!(face.number_of_glyphs(), remapper.num_gids());
        for &o in &olds {
            let new = remapper.get(o).unwrap();
            assert_eq!(outline(&original, o), outline(&face, new), "glyph {o}");
            assert_eq!(
                original.glyph_hor_advance(GlyphId(o)),
                face.glyph_hor_advance(GlyphId(new))
            );
        }
        let tags: Vec<[u8; 4]> = read_directory(&stripped)
            .unwrap()
            .iter()
            .map(|t| t.0)
            .collect();
        assert!(
            !tags.iter().any(|t| HINTING_TABLES.contains(&t)),
            "{tags:?}"
        );
        // The whole-font checksum is the magic number, as the sfnt spec requires.
        assert_eq!(checksum(&stripped), 0xB1B0_AFBA);
    }

    #[test]
    fn composite_glyph_loses_its_instruction_flag() {
        // flags ARGS_ARE_WORDS | HAVE_INSTRUCTIONS, glyph 3, two word args; then 2 instruction bytes.
        let mut glyph = vec![0xFF, 0xFF, 0, 0, 0, 0, 0, 10, 0, 10];
        glyph.extend_from_slice(&[0x01, 0x01, 0, 3, 0, 1, 0, 2]);
        glyph.extend_from_slice(&[0, 2, 0xB0, 0x00]);
        let mut out = Vec::new();
        strip_glyph(&glyph, &mut out).unwrap();
        assert_eq!(out.len(), 18);
        assert_eq!(u16_at(&out, 10), Some(0x0001));
    }
}
