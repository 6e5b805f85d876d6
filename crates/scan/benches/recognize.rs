//! Time per stage of reading one fax page: decode (CCITT G4 TIFF), registration, page code,
//! boxes, review images. Run in release: `cargo bench -p capsurvey-scan --bench recognize`.
//!
//! The pages are synthetic replies (tests/synth): the frame, a page of questions with about
//! fifty boxes, random ticks, fills, circles and stray dots, skewed by up to 2°, speckled. They
//! are written as uncompressed TIFF and converted to G4 with `tiffcp` (libtiff-tools) when it is
//! installed; without it the decode stage is skipped.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/synth/mod.rs"]
mod synth;

use std::hint::black_box;
use std::process::Command;
use std::time::Instant;

use capsurvey_layout::{A4, BoxKind, PageCode, Rect};
use capsurvey_scan::{PageImage, crop_bits, identify, read_code, read_page, register};
use synth::*;

const PAGES: usize = 12;
const ROUNDS: usize = 20;

fn main() {
    let survey = survey();
    let page = layout(&survey);
    let code = PageCode {
        survey_version_id: 3,
        mailing_id: 4711,
        page: 2,
    };
    let dir = common::tempdir();
    for (name, dpi_y) in [("fax standard 204×98", 98.0), ("fax fine 204×196", 196.0)] {
        // Replies.
        let mut images: Vec<PageImage> = Vec::new();
        for seed in 0..PAGES as u64 {
            let mut rng = Rng::new(seed + 1);
            let mut hands = Vec::new();
            for b in &page.layout.boxes {
                let style = match b.kind {
                    BoxKind::Choice => [
                        None,
                        None,
                        Some(Style::Tick),
                        Some(Style::Cross),
                        Some(Style::Fill),
                        Some(Style::CircleLabel),
                    ][rng.below(6)],
                    _ => [None, Some(Style::Written)][rng.below(2)],
                };
                if let Some(s) = style {
                    hands.extend(marks_for(b, s, &mut rng));
                }
            }
            let g = Geometry {
                rotation_deg: rng.range(-2.0, 2.0),
                shift_mm: (rng.range(-4.0, 4.0), rng.range(-4.0, 4.0)),
                upside_down: seed % 4 == 3,
                ..Geometry::straight(204.0, dpi_y)
            };
            let d = Degrade {
                bilevel: true,
                halftone: true,
                speckle: 0.0005,
                seed,
                ..Default::default()
            };
            images.push(render(&page, &code, &hands, &g, &d));
        }
        // G4 files.
        let mut files: Vec<Vec<u8>> = Vec::new();
        for (i, img) in images.iter().enumerate() {
            let raw = dir.path().join(format!("{dpi_y}-{i}.tif"));
            let g4 = dir.path().join(format!("{dpi_y}-{i}-g4.tif"));
            let bl = common::Bilevel {
                width: img.width,
                height: img.height,
                black: img.pixels.iter().map(|&p| p < 128).collect(),
            };
            common::write_bilevel(&raw, &bl, false, (204, dpi_y as u32));
            let ok = Command::new("tiffcp")
                .args(["-c", "g4", common::s(&raw), common::s(&g4)])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                files.push(std::fs::read(&g4).unwrap());
            }
        }

        let n = (PAGES * ROUNDS) as f64;
        let ms = |t: Instant| t.elapsed().as_secs_f64() * 1000.0 / n;
        let decode = if files.len() == PAGES {
            let t = Instant::now();
            for _ in 0..ROUNDS {
                for f in &files {
                    for p in capsurvey_scan::open_bytes("bench.tif", f.clone()).unwrap() {
                        black_box(p.unwrap());
                    }
                }
            }
            Some(ms(t))
        } else {
            None
        };
        let t = Instant::now();
        let mut regs = Vec::new();
        for _ in 0..ROUNDS {
            regs.clear();
            for img in &images {
                regs.push(register(black_box(img)).unwrap());
            }
        }
        let reg_ms = ms(t);
        let t = Instant::now();
        let mut ids = Vec::new();
        for _ in 0..ROUNDS {
            ids.clear();
            for (img, reg) in images.iter().zip(&regs) {
                ids.push(read_code(black_box(img), reg).unwrap());
            }
        }
        let code_ms = ms(t);
        assert!(ids.iter().all(|id| id.code == code));
        let t = Instant::now();
        let mut boxes = 0;
        let mut decided = 0;
        for _ in 0..ROUNDS {
            for (img, id) in images.iter().zip(&ids) {
                let r = read_page(black_box(img), id, &page.layout, &survey);
                boxes += r.boxes.len();
                decided += r
                    .boxes
                    .iter()
                    .filter(|b| b.state != capsurvey_scan::BoxState::Uncertain)
                    .count();
            }
        }
        let box_ms = ms(t);
        // Review images as ingest makes them for a fax: the whole page at 4 px/mm and one
        // question's crop at 6 px/mm, packed to bits and encoded as PNG.
        let sheet = Rect {
            x: 0.0,
            y: 0.0,
            w: A4.width,
            h: A4.height,
        };
        let question = Rect {
            x: 40.0,
            y: 200.0,
            w: 515.0,
            h: 90.0,
        };
        let t = Instant::now();
        for _ in 0..ROUNDS {
            for (img, id) in images.iter().zip(&ids) {
                black_box(crop_bits(img, &id.transform, &sheet, 4.0).encode_png());
                black_box(crop_bits(img, &id.transform, &question, 6.0).encode_png());
            }
        }
        let image_ms = ms(t);
        // Sanity: identify is the two stages together.
        assert_eq!(identify(&images[0]).unwrap().code, code);
        println!(
            "{name}: {PAGES} pages × {ROUNDS} rounds, {} boxes per page",
            page.layout.boxes.len()
        );
        match decode {
            Some(d) => println!("  decode (G4 TIFF) {d:7.3} ms/page"),
            None => println!("  decode (G4 TIFF)   skipped: tiffcp (libtiff-tools) not installed"),
        }
        println!("  registration     {reg_ms:7.3} ms/page");
        println!("  page code        {code_ms:7.3} ms/page");
        println!(
            "  boxes            {box_ms:7.3} ms/page ({:.1}% of boxes decided)",
            100.0 * decided as f64 / boxes as f64
        );
        println!("  images           {image_ms:7.3} ms/page (page at 4 px/mm, a question at 6)");
        let total = decode.unwrap_or(0.0) + reg_ms + code_ms + box_ms + image_ms;
        println!(
            "  total            {total:7.3} ms/page = {:.0} pages/s per core",
            1000.0 / total
        );
    }
}
