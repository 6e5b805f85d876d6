//! Checks written PDFs with the real readers installed on the machine (and in CI):
//! qpdf, poppler-utils (pdffonts, pdftotext, pdfinfo, pdftoppm) and Ghostscript.
//!
//! A missing tool fails the test and names the Debian package to install.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use capsurvey_forms::{
    Document, DocumentInfo, Page, Rect, Stroke, TextStyle, mm,
    pdf::{write_all, write_combined},
    text,
};

/// Runs `tool` with `args`; panics naming the Debian `package` if the tool is missing.
fn run(tool: &str, package: &str, args: &[&str]) -> Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "`{tool}` is not installed: it is needed to check the PDF output. \
             Install the Debian package `{package}` (apt-get install {package})."
        ),
        Err(e) => panic!("cannot run `{tool}`: {e}"),
    }
}

/// Runs a tool that must succeed and returns its stdout as text.
fn run_ok(tool: &str, package: &str, args: &[&str]) -> String {
    let out = run(tool, package, args);
    assert!(
        out.status.success(),
        "`{tool} {}` failed ({}):\n{}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

const TITLE: &str = "訪問歯科診療 実態調査 調査票";
const FACILITY: &str = "医療法人社団さくら会 世田谷さくら歯科クリニック";
/// The filled black rectangle whose pixels are checked: top-left origin, points.
const BLACK_BOX: Rect = Rect::new(400.0, 600.0, 120.0, 60.0);

/// Two pages with Japanese text, numbers, lines, boxes, circles and a code grid.
fn two_page_document() -> Document {
    let mut doc = Document::with_info(DocumentInfo {
        title: TITLE.into(),
        author: Some("世田谷区 保健福祉政策部".into()),
        subject: None,
    });
    let p = doc.add_page();
    p.text(mm(20.0), mm(20.0), 18.0, "訪問歯科診療の実施状況")
        .unwrap();
    p.text(mm(20.0), mm(32.0), 12.0, FACILITY).unwrap();
    p.text(
        mm(20.0),
        mm(42.0),
        11.0,
        "管理No 0427 回答期限 令和6(2024)年11月29日(金)",
    )
    .unwrap();
    p.text(
        mm(20.0),
        mm(52.0),
        TextStyle::new(11.0).with_gray(0.3),
        "電話 03-5432-1098 〒154-0017",
    )
    .unwrap();
    p.line(mm(20.0), mm(60.0), mm(190.0), mm(60.0), 1.0);
    p.stroke_rect(
        Rect::new(mm(20.0), mm(70.0), mm(4.0), mm(4.0)),
        Stroke::new(0.8),
    );
    p.text(mm(26.0), mm(70.0) + 0.5, 11.0, "摂食嚥下").unwrap();
    p.fill_stroke_rect(Rect::new(mm(20.0), mm(80.0), mm(60.0), mm(8.0)), 0.85, 0.5);
    p.fill_circle(mm(100.0), mm(120.0), mm(4.0), 0.0);
    p.stroke_circle(
        mm(120.0),
        mm(120.0),
        mm(4.0),
        Stroke::new(0.6).dashed(1.0, 1.0),
    );
    p.fill_squares(
        mm(1.5),
        0.0,
        (0..8).map(|i| (mm(20.0) + i as f64 * mm(3.0), mm(130.0))),
    );
    p.fill_rect(BLACK_BOX, 0.0);

    let p = doc.add_page();
    p.text(
        mm(20.0),
        mm(20.0),
        TextStyle::new(14.0).at_baseline(),
        "問1 歯科医師数をご記入ください",
    )
    .unwrap();
    let mut y = mm(30.0);
    let para = "あてはまる番号を○で囲んでください（※○は1つだけ）。「訪問歯科診療」を実施している場合は、\
                1か月の訪問患者実人数（居宅・施設）をご記入ください。";
    for line in text::break_lines(para, 10.5, mm(80.0)).unwrap() {
        p.text(mm(20.0), y, 10.5, line.text).unwrap();
        y += 16.0;
    }
    p.fill_cells((mm(150.0), mm(240.0)), mm(1.0), (21, 21), 0.0, |c, r| {
        (c * 7 + r * 3) % 5 < 2
    });
    doc
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("capsurvey-forms");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn qpdf_and_ghostscript_accept_the_file() {
    let pdf = two_page_document().to_pdf().unwrap();
    let path = write_temp("two-pages.pdf", &pdf);
    let out = run_ok("qpdf", "qpdf", &["--check", path.to_str().unwrap()]);
    assert!(
        out.contains("No syntax or stream encoding errors found"),
        "{out}"
    );
    let gs = run(
        "gs",
        "ghostscript",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=nullpage",
            path.to_str().unwrap(),
        ],
    );
    let gs_text = format!(
        "{}{}",
        String::from_utf8_lossy(&gs.stdout),
        String::from_utf8_lossy(&gs.stderr)
    );
    assert!(
        gs.status.success() && !gs_text.to_lowercase().contains("error"),
        "ghostscript: {gs_text}"
    );
}

#[test]
fn pdffonts_shows_an_embedded_cid_truetype_subset() {
    let path = write_temp("fonts.pdf", &two_page_document().to_pdf().unwrap());
    let out = run_ok("pdffonts", "poppler-utils", &[path.to_str().unwrap()]);
    // name  type  encoding  emb sub uni  object ID
    let rows: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(rows.len(), 1, "exactly one font:\n{out}");
    let cols: Vec<&str> = rows[0].split_whitespace().collect();
    let name = cols[0];
    let (tag, rest) = name
        .split_once('+')
        .unwrap_or_else(|| panic!("no subset tag in {name}"));
    assert!(
        tag.len() == 6 && tag.bytes().all(|b| b.is_ascii_uppercase()),
        "tag {tag}"
    );
    assert!(rest.starts_with("IPAexGothic"), "{name}");
    assert!(rows[0].contains("CID TrueType"), "{out}");
    assert!(rows[0].contains("Identity-H"), "{out}");
    // emb, sub, uni: all yes.
    let flags: Vec<&str> = cols
        .iter()
        .copied()
        .filter(|c| *c == "yes" || *c == "no")
        .collect();
    assert_eq!(flags, ["yes", "yes", "yes"], "emb/sub/uni:\n{out}");
}

#[test]
fn pdftotext_returns_the_japanese_text_exactly() {
    let path = write_temp("text.pdf", &two_page_document().to_pdf().unwrap());
    let out = run_ok(
        "pdftotext",
        "poppler-utils",
        &["-enc", "UTF-8", path.to_str().unwrap(), "-"],
    );
    for expected in [
        "訪問歯科診療の実施状況",
        "摂食嚥下",
        FACILITY,
        "管理No 0427 回答期限 令和6(2024)年11月29日(金)",
        "電話 03-5432-1098 〒154-0017",
        "問1 歯科医師数をご記入ください",
    ] {
        assert!(out.contains(expected), "{expected:?} not in:\n{out}");
    }
    // The broken paragraph comes back line by line, without lost characters.
    let para: String = out
        .lines()
        .skip_while(|l| !l.starts_with("あてはまる"))
        .take(4)
        .collect();
    assert!(
        para.starts_with("あてはまる番号を○で囲んでください（※○は1つだけ）。"),
        "{out}"
    );
    let info = run_ok("pdfinfo", "poppler-utils", &[path.to_str().unwrap()]);
    assert!(
        info.contains(&format!("Title:           {TITLE}")),
        "{info}"
    );
    assert!(info.contains("Producer:        capsurvey"), "{info}");
    assert!(info.contains("Pages:           2"), "{info}");
    assert!(info.contains("595.276 x 841.89 pts (A4)"), "{info}");
}

/// A binary PGM (P5) image: width, height, 8-bit grey pixels.
struct Gray {
    width: usize,
    height: usize,
    pixels: Vec<u8>,
}

impl Gray {
    fn parse(data: &[u8]) -> Self {
        // Header: "P5" width height maxval, separated by whitespace, then one byte.
        let mut fields = Vec::new();
        let mut pos = 0;
        while fields.len() < 4 {
            while data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            let start = pos;
            while !data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            fields.push(std::str::from_utf8(&data[start..pos]).unwrap().to_owned());
        }
        assert_eq!(fields[0], "P5");
        assert_eq!(fields[3], "255");
        let (width, height) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        let pixels = data[pos + 1..].to_vec();
        assert_eq!(pixels.len(), width * height);
        Self {
            width,
            height,
            pixels,
        }
    }

    fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// Mean grey of the pixels in a rectangle given in points at `dpi`.
    fn mean(&self, r: Rect, dpi: f64) -> f64 {
        let px = |v: f64| (v * dpi / 72.0).round() as usize;
        let (x0, y0, x1, y1) = (px(r.x), px(r.y), px(r.right()), px(r.bottom()));
        let mut sum = 0u64;
        for y in y0..y1 {
            for x in x0..x1 {
                sum += u64::from(self.at(x, y));
            }
        }
        sum as f64 / ((x1 - x0) * (y1 - y0)) as f64
    }
}

#[test]
fn pdftoppm_shows_the_black_box_where_it_was_drawn() {
    let path = write_temp("raster.pdf", &two_page_document().to_pdf().unwrap());
    let prefix = path.with_file_name("raster-page1");
    run_ok(
        "pdftoppm",
        "poppler-utils",
        &[
            "-r",
            "100",
            "-gray",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let img = Gray::parse(&std::fs::read(prefix.with_extension("pgm")).unwrap());
    // A4 at 100 dpi.
    assert_eq!((img.width, img.height), (827, 1170)); // ceil(595.276 / 72 × 100), ceil(841.89 / 72 × 100)
    // Inside the box (1 pt in from the edges to stay clear of anti-aliasing): black.
    assert!(
        img.mean(BLACK_BOX.inset(1.0), 100.0) < 5.0,
        "box is not black"
    );
    // Its centre pixel, computed by hand: (460, 630) pt -> (639, 875) px.
    assert!(img.at(639, 875) < 5);
    // Just outside the box, and where it would be with a bottom-left origin: white.
    assert!(
        img.mean(
            Rect::new(BLACK_BOX.x - 20.0, BLACK_BOX.y, 15.0, BLACK_BOX.height),
            100.0
        ) > 250.0
    );
    let mirrored = Rect::new(
        BLACK_BOX.x,
        841.89 - BLACK_BOX.bottom(),
        BLACK_BOX.width,
        BLACK_BOX.height,
    );
    assert!(
        img.mean(mirrored.inset(1.0), 100.0) > 250.0,
        "drawn with the wrong origin"
    );
    // The title's em box (18 pt at 20 mm, 20 mm) holds dark ink; the line above it does not.
    let title = Rect::new(mm(20.0), mm(20.0), 18.0 * 11.0, 18.0);
    assert!(img.mean(title, 100.0) < 200.0, "no title ink");
    assert!(
        img.mean(
            Rect::new(mm(20.0), mm(20.0) - 12.0, 18.0 * 11.0, 10.0),
            100.0
        ) > 250.0
    );
}

#[test]
fn several_documents_and_a_combined_print_file() {
    let docs: Vec<Document> = (0..6)
        .map(|i| {
            common::survey_form(
                &format!("世田谷区訪問看護ステーション第{}事業所", i + 1),
                100 + i,
            )
            .0
        })
        .collect();
    let files = write_all(&docs);
    assert_eq!(files.len(), 6);
    for (i, file) in files.iter().enumerate() {
        let bytes = file.as_ref().unwrap();
        assert_eq!(
            bytes,
            &docs[i].to_pdf().unwrap(),
            "parallel output equals sequential output"
        );
    }
    let combined = write_combined(&DocumentInfo::new("調査票 印刷用（全事業所）"), &docs).unwrap();
    let path = write_temp("combined.pdf", &combined);
    let info = run_ok("pdfinfo", "poppler-utils", &[path.to_str().unwrap()]);
    assert!(info.contains("Pages:           24"), "{info}");
    let out = run_ok("qpdf", "qpdf", &["--check", path.to_str().unwrap()]);
    assert!(
        out.contains("No syntax or stream encoding errors found"),
        "{out}"
    );
    let text = run_ok(
        "pdftotext",
        "poppler-utils",
        &["-enc", "UTF-8", path.to_str().unwrap(), "-"],
    );
    for i in 1..=6 {
        assert!(
            text.contains(&format!("世田谷区訪問看護ステーション第{i}事業所")),
            "facility {i}"
        );
    }
    assert_eq!(
        text.matches("管理No 0105").count(),
        4,
        "four pages of the sixth facility"
    );
    let fonts = run_ok("pdffonts", "poppler-utils", &[path.to_str().unwrap()]);
    assert_eq!(
        fonts.lines().count(),
        3,
        "one font for the whole print file:\n{fonts}"
    );
}

#[test]
fn preview_png_of_the_first_page() {
    // Rendered for a human to look at; the path is printed with --nocapture.
    let (doc, _) = common::survey_form("医療法人社団さくら会 世田谷さくら歯科クリニック", 427);
    let path = write_temp("survey-form.pdf", &doc.to_pdf().unwrap());
    let prefix = path.with_file_name("survey-form-page1");
    run_ok(
        "pdftoppm",
        "poppler-utils",
        &[
            "-r",
            "100",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            path.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let png = prefix.with_extension("png");
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
    println!("preview: {}", png.display());
}

#[test]
fn text_with_a_missing_glyph_draws_nothing() {
    let mut page = Page::a4();
    let err = page.text(10.0, 10.0, 10.0, "歯科\u{E000}").unwrap_err();
    assert!(err.to_string().contains("U+E000"), "{err}");
    assert!(page.is_empty());
}
