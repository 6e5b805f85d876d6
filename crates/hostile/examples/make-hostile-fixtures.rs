//! Writes the hostile files (`fixtures/hostile/`) and the fuzz seed corpora
//! (`fuzz/corpus/<target>/`):
//!
//! ```text
//! cargo run -p capsurvey-hostile --example make-hostile-fixtures
//! ```
//!
//! Everything is deterministic. The encrypted PDF needs `qpdf` (Debian package `qpdf`); without
//! it the committed file is kept. `tests/hostile.rs` checks that a fresh run gives the committed
//! bytes, and what every file does to its reader.

use std::path::{Path, PathBuf};

use capsurvey_faxsim::ccitt::G3Options;
use capsurvey_faxsim::{
    Picture, RgbImage, TiffCompression, write_jpeg, write_pdf, write_png, write_tiff,
};
use capsurvey_hostile::{Target, corpus_dir, hostile_dir, repo_root};
use capsurvey_scan::PageImage;
use lopdf::{Dictionary, Object, Stream, dictionary};

fn main() {
    let hostile = hostile_dir();
    std::fs::create_dir_all(&hostile).unwrap();
    for (name, bytes) in hostile_files() {
        write(&hostile.join(name), &bytes);
    }
    match encrypted_pdf() {
        Ok(bytes) => write(&hostile.join("encrypted.pdf"), &bytes),
        Err(e) => eprintln!("encrypted.pdf kept as it is: {e}"),
    }
    for target in Target::ALL {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (name, bytes) in seeds(target) {
            write(&dir.join(name), &bytes);
        }
    }
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root = repo_root();
    let shown = path.strip_prefix(&root).unwrap_or(path);
    println!("{:>7} {}", bytes.len(), shown.display());
}

fn fixture(rel: &str) -> Vec<u8> {
    let path: PathBuf = repo_root().join("fixtures").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// Small pages

/// A small fax-like page: a frame, a few "text lines" and a filled box, bilevel.
fn small_page(width: u32, height: u32, dpi: (f32, f32), shift: u32) -> PageImage {
    let mut pixels = vec![255u8; (width * height) as usize];
    for y in 0..height {
        for x in 0..width {
            let border = x < 3 || y < 3 || x >= width - 3 || y >= height - 3;
            let text = (y / 6) % 3 == 1
                && !(x / 4 + y / 6 + shift).is_multiple_of(5)
                && x > 10
                && x < width - 10;
            let square = (20..32).contains(&x) && (height - 30..height - 18).contains(&y);
            if border || text || square {
                pixels[(y * width + x) as usize] = 0;
            }
        }
    }
    let mut page = PageImage::new(width, height, dpi.0, dpi.1, pixels);
    page.bilevel = true;
    page
}

/// A small grey page (a gradient with the same marks), for LZW, PNG and JPEG.
fn small_grey(width: u32, height: u32) -> PageImage {
    let bilevel = small_page(width, height, (200.0, 200.0), 1);
    let pixels = bilevel
        .pixels
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            if p == 0 {
                20
            } else {
                200 + (i as u32 % width * 50 / width) as u8
            }
        })
        .collect();
    PageImage::new(width, height, 200.0, 200.0, pixels)
}

fn at_300_dpi(page: &PageImage) -> PageImage {
    PageImage {
        dpi_x: 300.0,
        dpi_y: 300.0,
        ..page.clone()
    }
}

fn small_rgb(width: u32, height: u32) -> RgbImage {
    let grey = small_grey(width, height);
    RgbImage {
        width,
        height,
        dpi_x: 200.0,
        dpi_y: 200.0,
        pixels: grey
            .pixels
            .iter()
            .flat_map(|&g| [g, g.saturating_sub(30), 255 - g / 2])
            .collect(),
    }
}

fn g4_fax(pages: usize) -> Vec<u8> {
    let pages: Vec<PageImage> = (0..pages)
        .map(|i| small_page(160, 90, (204.0, 98.0), i as u32))
        .collect();
    let pictures: Vec<Picture> = pages.iter().map(Picture::from).collect();
    write_tiff(&pictures, TiffCompression::G4)
}

// ---------------------------------------------------------------------------------------------
// Hostile files

/// Every hostile file but the encrypted PDF, by name.
pub fn hostile_files() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(&str, Vec<u8>)> = Vec::new();
    out.push(("zero-bytes.csv", Vec::new()));

    // A three-page fax cut in the middle of page 2's data: page 1 reads, page 2 is damaged.
    let fax = g4_fax(3);
    let second_page_at = page_offsets(&fax)[1];
    let cut = (second_page_at + page_offsets(&fax)[2]) / 2;
    out.push(("truncated-fax.tif", fax[..cut].to_vec()));
    // Cut inside the header: nothing can be read.
    out.push(("truncated-header.tif", fax[..6].to_vec()));

    out.push(("no-images.pdf", text_only_pdf()));
    out.push(("huge-30000x30000.tif", huge_tiff()));
    out.push(("huge-30000x30000.png", huge_png()));
    out.push(("huge-30000x30000.jpg", huge_jpeg()));
    out.push(("huge-30000x30000.pdf", huge_pdf()));

    // Reply files: UTF-8 (with and without a byte-order mark) with a broken character in
    // line 4; an Excel (CP932) file with an invalid two-byte sequence in line 4.
    let utf8 = fixture("replies/dental-utf8bom-ids.csv");
    out.push((
        "reply-invalid-utf8-bom.csv",
        damage_line(&utf8, 4, b"\xE3\x81"),
    ));
    out.push((
        "reply-invalid-utf8.csv",
        damage_line(&utf8[3..], 4, b"\xE3\x81"),
    ));
    // Found by fuzzing: two faults in one file, a broken character in line 2 and a quote opened
    // in line 4 that never closes; the first one in the file is reported, whatever the block
    // size (whole-file blocks used to report the quote).
    let mut cut = damage_line(&first_lines(&utf8, 3), 2, b"\xE3\x81");
    cut.extend_from_slice("dental,1330020003,\"みどり".as_bytes());
    out.push(("reply-damaged-and-cut.csv", cut));
    let sjis = fixture("replies/dental-excel-sjis-labels.csv");
    out.push(("reply-invalid-sjis.csv", damage_line(&sjis, 4, b"\x81\x20")));
    // Roster: the city's own list as it comes (CP932) and saved as UTF-8 without a BOM, and a
    // ナビイ list (UTF-8 with BOM), one damaged line each.
    let local = fixture("roster/midori_local_roster.csv");
    out.push((
        "roster-invalid-sjis.csv",
        damage_line(&local, 5, b"\x81\x20"),
    ));
    let local_utf8 = encoding_rs::SHIFT_JIS
        .decode(&local)
        .0
        .into_owned()
        .into_bytes();
    out.push((
        "roster-invalid-utf8.csv",
        damage_line(&local_utf8, 5, b"\xE3\x81"),
    ));
    let navii = first_lines(
        &fixture("roster/03-1_dental_facility_info_20260601.csv"),
        12,
    );
    out.push((
        "roster-invalid-utf8-bom.csv",
        damage_line(&navii, 7, b"\xFF\xFE"),
    ));
    // A quote opened in line 4 that never closes: the csv reader would take the rest of the
    // file as one cell.
    let at = local_utf8
        .windows(5)
        .position(|w| w == b"\nL002")
        .expect("line L002")
        + 1;
    let cut = local_utf8[at..].iter().position(|&b| b == b',').unwrap() + at + 1;
    let mut unclosed = local_utf8[..cut].to_vec();
    unclosed.push(b'"');
    unclosed.extend_from_slice(&local_utf8[cut..]);
    out.push(("roster-unclosed-quote.csv", unclosed));
    // A workbook cut in half (a mail attachment that did not arrive whole).
    let book = fixture("replies/visiting-nurse.xlsx");
    out.push(("truncated-reply.xlsx", book[..book.len() / 2].to_vec()));

    // Workbooks with one cell reference far out: at XFD1048576, Excel's last cell (the
    // shape of tafia/calamine#693: a dense grid of 17 billion cells is asked for), and at
    // ZZZZZZZZ1, more columns than a u32 counts.
    let shika = fixture("roster/13_todokede_shika_r0711.xlsx");
    let far = r#"<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>"#;
    out.push((
        "roster-cell-at-XFD1048576.xlsx",
        patch_sheet(&shika, "</sheetData>", far),
    ));
    out.push((
        "roster-cell-reference-overflow.xlsx",
        patch_sheet(&shika, r#"<c r="A1" "#, r#"<c r="ZZZZZZZZ1" "#),
    ));
    out.push((
        "reply-cell-at-XFD1048576.xlsx",
        patch_sheet(&book, "</sheetData>", far),
    ));

    out.push(("survey-skip-cycle.toml", SKIP_CYCLE.as_bytes().to_vec()));
    // The same survey saved by a Japanese Windows editor as "ANSI" (CP932).
    let (sjis_survey, _, _) = encoding_rs::SHIFT_JIS.encode(MINI_SURVEY);
    out.push(("survey-shift-jis.toml", sjis_survey.into_owned()));
    out.into_iter().map(|(n, b)| (n.to_owned(), b)).collect()
}

/// The workbook with the first `from` in its first worksheet replaced by `to`, zipped again
/// (deflate, fixed timestamps: the same bytes every run).
fn patch_sheet(xlsx: &[u8], from: &str, to: &str) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i).unwrap();
        let name = entry.name().unwrap().to_string();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        if name == "xl/worksheets/sheet1.xml" {
            let xml = String::from_utf8(data).unwrap();
            assert!(xml.contains(from), "{from} not in {name}");
            data = xml.replacen(from, to, 1).into_bytes();
        }
        out.start_file(name, opts).unwrap();
        out.write_all(&data).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Byte offsets where each page's data starts (the strips, from StripOffsets, tag 273).
fn page_offsets(tiff: &[u8]) -> Vec<usize> {
    let u16_at = |o: usize| u16::from_le_bytes([tiff[o], tiff[o + 1]]) as usize;
    let u32_at = |o: usize| u32::from_le_bytes(tiff[o..o + 4].try_into().unwrap()) as usize;
    let mut out = Vec::new();
    let mut ifd = u32_at(4);
    while ifd != 0 {
        let n = u16_at(ifd);
        for i in 0..n {
            let e = ifd + 2 + 12 * i;
            if u16_at(e) == 273 {
                out.push(u32_at(e + 8));
            }
        }
        ifd = u32_at(ifd + 2 + 12 * n);
    }
    out
}

/// Writes `bad` over the bytes in the middle of 1-based line `line`.
fn damage_line(text: &[u8], line: usize, bad: &[u8]) -> Vec<u8> {
    let mut starts = vec![0];
    starts.extend(
        text.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    let (from, to) = (starts[line - 1], starts[line] - 1);
    // After the first comma of the line, so the code column stays readable.
    let at = from + text[from..to].iter().position(|&b| b == b',').unwrap() + 1;
    let mut out = text.to_vec();
    out.splice(at..at, bad.iter().copied());
    out
}

fn first_lines(text: &[u8], n: usize) -> Vec<u8> {
    let end = text
        .iter()
        .enumerate()
        .filter(|(_, b)| **b == b'\n')
        .nth(n - 1)
        .map_or(text.len(), |(i, _)| i + 1);
    text[..end].to_vec()
}

const MINI_SURVEY: &str = r#"id = "mini"
version = 1
title = "テスト"
facility_type = "dental"
reference_date = "2024-11-01"

[[sections]]
id = "a"
title = "実施状況"

[[sections.questions]]
id = "q1"
kind = "single"
text = "実施していますか"
options = [{ code = "1", label = "はい" }, { code = "2", label = "いいえ" }]
skip = [{ when = ["2"], to = "b" }]

[[sections]]
id = "b"
title = "未実施"

[[sections.questions]]
id = "q2"
kind = "count"
text = "人数"
unit = "人"
max = 99
"#;

/// Question q3 skips back to section `a`: answering 2 would loop forever.
const SKIP_CYCLE: &str = r#"# A skip rule that points backwards: q1 → b, then q3 → a again.
id = "cycle"
version = 1
title = "テスト"
facility_type = "dental"
reference_date = "2024-11-01"

[[sections]]
id = "a"
title = "実施状況"

[[sections.questions]]
id = "q1"
kind = "single"
text = "実施していますか"
options = [{ code = "1", label = "はい" }, { code = "2", label = "いいえ" }]
skip = [{ when = ["2"], to = "b" }]

[[sections]]
id = "b"
title = "未実施"

[[sections.questions]]
id = "q2"
kind = "count"
text = "人数"
unit = "人"
max = 99

[[sections.questions]]
id = "q3"
kind = "yes_no"
text = "もう一度答えますか"
skip = [{ when = ["yes"], to = "a" }]
"#;

fn pdf_bytes(mut doc: lopdf::Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

fn one_page_pdf(resources: Dictionary, content: &[u8], objects: Vec<Object>) -> lopdf::Document {
    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    for o in objects {
        doc.add_object(o);
    }
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.to_vec()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => resources,
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc
}

/// A letter typed in a word processor and "printed" to PDF: text, no image.
fn text_only_pdf() -> Vec<u8> {
    let font = dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    };
    let resources = dictionary! { "Font" => dictionary! { "F1" => font } };
    pdf_bytes(one_page_pdf(
        resources,
        b"BT /F1 24 Tf 72 760 Td (Reply typed instead of filled in) Tj ET",
        Vec::new(),
    ))
}

/// A page whose image claims 30,000 x 30,000 pixels (a few bytes of G4 data).
fn huge_pdf() -> Vec<u8> {
    let mut doc = lopdf::Document::with_version("1.5");
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => 30_000,
            "Height" => 30_000,
            "BitsPerComponent" => 1,
            "ColorSpace" => "DeviceGray",
            "Filter" => "CCITTFaxDecode",
            "DecodeParms" => dictionary! { "K" => -1, "Columns" => 30_000, "Rows" => 30_000 },
        },
        vec![0x00, 0x10, 0x01, 0x00, 0x10, 0x01],
    );
    let image_id = doc.add_object(image);
    let resources = dictionary! { "XObject" => dictionary! { "Im1" => image_id } };
    let pages_id = doc.new_object_id();
    let content_id = doc.add_object(Stream::new(
        dictionary! {},
        b"q 595 0 0 842 0 0 cm /Im1 Do Q".to_vec(),
    ));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page",
        "Parent" => pages_id,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        "Resources" => resources,
        "Contents" => content_id,
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => vec![page_id.into()],
            "Count" => 1,
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    pdf_bytes(doc)
}

/// A one-page G4 fax TIFF whose directory says 30,000 x 30,000 pixels.
fn huge_tiff() -> Vec<u8> {
    let data = [0x00u8, 0x10, 0x01, 0x00, 0x10, 0x01, 0, 0];
    let entries: [(u16, u16, u32, u32); 9] = [
        (256, 4, 1, 30_000),            // ImageWidth
        (257, 4, 1, 30_000),            // ImageLength
        (258, 3, 1, 1),                 // BitsPerSample
        (259, 3, 1, 4),                 // Compression: G4
        (262, 3, 1, 0),                 // Photometric: MinIsWhite
        (273, 4, 1, 8),                 // StripOffsets
        (277, 3, 1, 1),                 // SamplesPerPixel
        (278, 4, 1, 30_000),            // RowsPerStrip
        (279, 4, 1, data.len() as u32), // StripByteCounts
    ];
    let mut out = b"II*\0".to_vec();
    let ifd = 8 + data.len() as u32;
    out.extend_from_slice(&ifd.to_le_bytes());
    out.extend_from_slice(&data);
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, count, value) in entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if typ == 3 {
            out.extend_from_slice(&(value as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        } else {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A PNG whose header says 30,000 x 30,000 grey pixels; its data is a few bytes.
fn huge_png() -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&30_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit grey, deflate, no interlace
    png_chunk(&mut out, b"IHDR", &ihdr);
    // An empty stored deflate block in a zlib wrapper.
    png_chunk(
        &mut out,
        b"IDAT",
        &[0x78, 0x01, 0x01, 0x00, 0x00, 0xFF, 0xFF, 0, 0, 0, 1],
    );
    png_chunk(&mut out, b"IEND", &[]);
    out
}

/// A real (small) JPEG whose frame header was changed to say 30,000 x 30,000 pixels.
fn huge_jpeg() -> Vec<u8> {
    let mut jpeg = write_jpeg(Picture::from(&small_grey(16, 16)), 50);
    let sof = jpeg.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    jpeg[sof + 5..sof + 7].copy_from_slice(&30_000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&30_000u16.to_be_bytes());
    jpeg
}

/// A real encrypted PDF (AES-128, empty user password: it opens without asking), made by qpdf
/// from a small G4 fax PDF, with qpdf's fixed test IV and ID so that the bytes are reproducible.
pub fn encrypted_pdf() -> Result<Vec<u8>, String> {
    let dir = std::env::temp_dir().join(format!("make-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let plain = dir.join("plain.pdf");
    let page = small_page(160, 90, (204.0, 98.0), 0);
    std::fs::write(&plain, write_pdf(&[Picture::from(&page)])).map_err(|e| e.to_string())?;
    let out = dir.join("encrypted.pdf");
    let status = std::process::Command::new("qpdf")
        .args([
            "--static-id",
            "--static-aes-iv",
            "--encrypt",
            "",
            "owner",
            "128",
            "--use-aes=y",
            "--",
        ])
        .arg(&plain)
        .arg(&out)
        .status()
        .map_err(|e| format!("qpdf: {e}"))?;
    if !status.success() {
        return Err(format!("qpdf failed: {status}"));
    }
    let bytes = std::fs::read(&out).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(bytes)
}

// ---------------------------------------------------------------------------------------------
// Seed corpora

/// The seed corpus of a target, by file name.
pub fn seeds(target: Target) -> Vec<(String, Vec<u8>)> {
    let s = |name: &str, bytes: Vec<u8>| (name.to_owned(), bytes);
    match target {
        Target::Survey => {
            let dental = std::fs::read_to_string(repo_root().join("surveys/dental.toml")).unwrap();
            vec![
                s("mini.toml", MINI_SURVEY.as_bytes().to_vec()),
                s("every-kind.toml", EVERY_KIND.as_bytes().to_vec()),
                s("dental-head.toml", cut_at_section(&dental, 6000).into_bytes()),
            ]
        }
        Target::Replies => [
            "replies/dental-utf8bom-ids.csv",
            "replies/dental-excel-sjis-labels.csv",
            "replies/dental-messy.csv",
            "replies/homecare-clinic-tab.tsv",
            "replies/visiting-nurse-option-columns.csv",
            "replies/later/dental-correction.csv",
            "replies/foreign/consultant-batch.csv",
            "replies/visiting-nurse.xlsx",
        ]
        .iter()
        .map(|f| s(f.rsplit('/').next().unwrap(), fixture(f)))
        .collect(),
        Target::Roster => vec![
            s("midori_local_roster.csv", fixture("roster/midori_local_roster.csv")),
            s("area-map.csv", fixture("roster/area-map.csv")),
            s(
                "navii-dental-head.csv",
                first_lines(&fixture("roster/03-1_dental_facility_info_20260601.csv"), 6),
            ),
            s(
                "navii-clinic-head.csv",
                first_lines(&fixture("roster/02-1_clinic_facility_info_20260601.csv"), 6),
            ),
            s(
                "kaigo-head.csv",
                first_lines(&fixture("roster/jigyosho_130_midori_20260630.csv"), 8),
            ),
            s("todokede-shika.xlsx", fixture("roster/13_todokede_shika_r0711.xlsx")),
        ],
        Target::Scan => {
            let fax = |i| small_page(160, 90, (204.0, 98.0), i);
            let pages = [fax(0), fax(1)];
            let pics: Vec<Picture> = pages.iter().map(Picture::from).collect();
            let grey = small_grey(96, 64);
            let rgb = small_rgb(40, 30);
            vec![
                s("fax-g4.tif", write_tiff(&pics, TiffCompression::G4)),
                s("fax-g3-1d.tif", write_tiff(&pics[..1], TiffCompression::G3(G3Options::ONE_D))),
                s("fax-g3-2d.tif", write_tiff(&pics[..1], TiffCompression::G3(G3Options::two_d(4)))),
                s("fax-rle.tif", write_tiff(&pics[..1], TiffCompression::Rle)),
                s("bilevel-none.tif", write_tiff(&pics[..1], TiffCompression::None)),
                s("grey-lzw.tif", write_tiff(&[Picture::from(&grey)], TiffCompression::Lzw)),
                s("rgb-none.tif", write_tiff(&[Picture::from(&rgb)], TiffCompression::None)),
                s("fax-g4.pdf", write_pdf(&pics)),
                s("grey-jpeg.pdf", write_pdf(&[Picture::from(&grey)])),
                s("fax.png", write_png(Picture::from(&pages[0]))),
                s("grey.png", write_png(Picture::from(&grey))),
                s("grey.jpg", write_jpeg(Picture::from(&grey), 60)),
                s("rgb.jpg", write_jpeg(Picture::from(&rgb), 60)),
                // At 300 dpi a JPEG is decoded at half scale by the scan crate's own decoder.
                s("grey-300dpi.jpg", write_jpeg(Picture::from(&at_300_dpi(&grey)), 60)),
                s("rgb-300dpi.jpg", write_jpeg(Picture::Rgb(&RgbImage { dpi_x: 300.0, dpi_y: 300.0, ..rgb.clone() }), 60)),
            ]
        }
        Target::PageCode => {
            let code = |v, m, p| capsurvey_layout::PageCode {
                survey_version_id: v,
                mailing_id: m,
                page: p,
            };
            let mut out = Vec::new();
            for (i, c) in [code(1, 0, 1), code(3, 123_456, 4), code(4095, 0xFF_FFFF, 255)]
                .into_iter()
                .enumerate()
            {
                let mut bytes = c.encode().unwrap().to_be_bytes().to_vec();
                for n in [c.survey_version_id, c.mailing_id, c.page] {
                    bytes.extend_from_slice(&n.to_le_bytes());
                }
                out.push(s(&format!("code-{i}"), bytes));
            }
            out
        }
        Target::Jptext => vec![
            s("utf8.txt", "事業所名,電話\n訪問看護ステーション㈱髙橋,０３ー１２３４ー５６７８\n〒１５４－００１７\n".as_bytes().to_vec()),
            s("utf8-bom.txt", [b"\xEF\xBB\xBF".as_slice(), "ｶﾌﾞｼｷｶﾞｲｼｬ　テスト　03-1234-5678".as_bytes()].concat()),
            s("sjis.txt", first_lines(&fixture("roster/midori_local_roster.csv"), 4)),
        ],
    }
}

/// The text up to the last `[[sections]]` before `limit` bytes: a valid, shorter survey.
fn cut_at_section(text: &str, limit: usize) -> String {
    let cut = text[..text.floor_char_boundary(limit)]
        .rfind("\n[[sections]]")
        .unwrap_or(text.len());
    text[..cut + 1].to_owned()
}

/// One question of every kind and most keys, valid.
const EVERY_KIND: &str = r#"id = "every-kind"
version = 2
title = "全種類"
facility_type = "visiting-nurse"
reference_date = "2024-11-01"
intro = """
説明文。\
続き。"""

[[sections]]
id = "a"
title = "基本"
note = "全員"

[[sections.questions]]
id = "q1"
number = "1"
kind = "yes_no"
text = "実施していますか"
labels = ["実施している", "実施していない"]
required = true
skip = [{ when = ["no"], to = "c" }]

[[sections.questions]]
id = "q2"
kind = "multiple"
text = "対応できるもの"
options = [
  { code = "1", label = "点滴" },
  { code = "2", label = "その他", write_in = "text" },
  { code = "3", label = "連携先", write_in = "count" },
  { code = "9", label = "いずれもなし", exclusive = true },
]

[[sections]]
id = "b"
title = "体制"

[[sections.questions]]
id = "q3"
kind = "count"
text = "職員数"
unit = "人"
max = 999
items = [{ code = "full", label = "常勤" }, { code = "part", label = "非常勤" }]

[[sections.questions]]
id = "q4"
kind = "decimal"
text = "常勤換算"
unit = "人"
min = 0
max = 99.9
decimals = 1

[[sections.questions]]
id = "q5"
kind = "short_text"
text = "担当者"
items = [{ code = "name", label = "氏名" }, { code = "phone", label = "電話" }]

[[sections]]
id = "c"
title = "ご意見"

[[sections.questions]]
id = "q6"
kind = "long_text"
text = "ご意見"

[[sections.questions]]
id = "q7"
kind = "single"
text = "掲載に同意しますか"
options = [{ code = "1", label = "同意する" }, { code = "2", label = "同意しない" }]
"#;
