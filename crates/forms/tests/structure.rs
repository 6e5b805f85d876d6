//! Reads written PDFs back with lopdf and ttf-parser to check the font objects:
//! the subset holds exactly the used glyphs, /W and ToUnicode match them.

use std::collections::BTreeSet;

use capsurvey_forms::{Document, font::font, text};
use lopdf::{Dictionary, Object};

fn deref<'a>(pdf: &'a lopdf::Document, o: &'a Object) -> &'a Object {
    match o {
        Object::Reference(id) => pdf.get_object(*id).unwrap(),
        o => o,
    }
}

fn dict<'a>(pdf: &'a lopdf::Document, d: &'a Dictionary, key: &str) -> &'a Dictionary {
    deref(pdf, d.get(key.as_bytes()).unwrap())
        .as_dict()
        .unwrap()
}

const LINES: [&str; 3] = [
    "訪問歯科診療の実施状況",
    "「摂食嚥下」の対応 No.0427",
    "訪問看護ステーション 03-1234-5678",
];

#[test]
fn subset_width_and_to_unicode_match_the_used_glyphs() {
    let mut doc = Document::new("構造");
    doc.add_page().text(50.0, 50.0, 12.0, LINES[0]).unwrap();
    doc.pages_mut()[0].text(50.0, 80.0, 12.0, LINES[1]).unwrap();
    doc.add_page().text(50.0, 50.0, 12.0, LINES[2]).unwrap();
    let bytes = doc.to_pdf().unwrap();
    let pdf = lopdf::Document::load_mem(&bytes).unwrap();

    let distinct: BTreeSet<char> = LINES.concat().chars().collect();
    let pages = pdf.get_pages();
    assert_eq!(pages.len(), 2);
    let page = pdf.get_dictionary(pages[&1]).unwrap();
    let resources = dict(&pdf, page, "Resources");
    let fonts = dict(&pdf, resources, "Font");
    let type0 = deref(&pdf, fonts.get(b"F0").unwrap()).as_dict().unwrap();
    assert_eq!(type0.get(b"Subtype").unwrap().as_name().unwrap(), b"Type0");
    assert_eq!(
        type0.get(b"Encoding").unwrap().as_name().unwrap(),
        b"Identity-H"
    );
    let cid = deref(
        &pdf,
        &type0.get(b"DescendantFonts").unwrap().as_array().unwrap()[0],
    )
    .as_dict()
    .unwrap();
    assert_eq!(
        cid.get(b"Subtype").unwrap().as_name().unwrap(),
        b"CIDFontType2"
    );
    assert_eq!(
        cid.get(b"CIDToGIDMap").unwrap().as_name().unwrap(),
        b"Identity"
    );

    // The font file: .notdef plus one glyph per distinct character, nothing else.
    let descriptor = dict(&pdf, cid, "FontDescriptor");
    let file = deref(&pdf, descriptor.get(b"FontFile2").unwrap())
        .as_stream()
        .unwrap();
    let data = file.decompressed_content().unwrap();
    assert_eq!(
        file.dict.get(b"Length1").unwrap().as_i64().unwrap() as usize,
        data.len()
    );
    let face = ttf_parser::Face::parse(&data, 0).unwrap();
    assert_eq!(usize::from(face.number_of_glyphs()), distinct.len() + 1);

    // ToUnicode: one entry per glyph, mapping back to exactly the distinct characters.
    let cmap = deref(&pdf, type0.get(b"ToUnicode").unwrap())
        .as_stream()
        .unwrap();
    let cmap = String::from_utf8(cmap.decompressed_content().unwrap()).unwrap();
    let mapped: BTreeSet<char> = cmap
        .lines()
        .skip_while(|l| !l.ends_with("beginbfchar"))
        .filter_map(|l| l.strip_prefix('<'))
        .filter(|l| l.len() == 4 + 3 + 4 + 1) // "<cid> <utf16>" for BMP characters
        .map(|l| char::from_u32(u32::from_str_radix(&l[7..11], 16).unwrap()).unwrap())
        .collect();
    assert_eq!(mapped, distinct);

    // /W: the half-width glyphs are listed with the advance text::measure uses.
    let w = cid.get(b"W").unwrap().as_array().unwrap();
    let listed: usize = w
        .iter()
        .filter_map(|o| o.as_array().ok())
        .map(Vec::len)
        .sum();
    let narrow = distinct
        .iter()
        .filter(|c| (font().char_width(**c, 1000.0).unwrap() - 1000.0).abs() > 1e-6)
        .count();
    assert_eq!(listed, narrow);
    let zero = font().char_width('0', 1000.0).unwrap();
    let all: Vec<f64> = w
        .iter()
        .filter_map(|o| o.as_array().ok())
        .flatten()
        .map(|o| {
            o.as_float()
                .map(f64::from)
                .or_else(|_| o.as_i64().map(|i| i as f64))
                .unwrap()
        })
        .collect();
    assert!(
        all.iter().any(|v| (v - zero).abs() < 0.01),
        "{all:?} lacks {zero}"
    );
    assert!((text::measure("0", 1000.0).unwrap() - zero).abs() < 1e-9);
}

#[test]
fn a_document_without_text_has_no_font() {
    let mut doc = Document::new("lines only");
    doc.add_page().line(10.0, 10.0, 100.0, 10.0, 1.0);
    let pdf = lopdf::Document::load_mem(&doc.to_pdf().unwrap()).unwrap();
    assert!(
        pdf.objects
            .values()
            .all(|o| o.as_dict().map_or(true, |d| !d.has(b"FontFile2")))
    );
}
