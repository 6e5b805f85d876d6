//! Shared helpers: the shipped dental survey and its real layout, external tools, sampling.

#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

use capsurvey_faxsim::{Affine, Layout, PageCode, Rng};
use capsurvey_layout::pagecode;
use capsurvey_scan::PageImage;
use capsurvey_survey::Survey;

/// The dental survey and its layout, as the forms crate makes it.
pub fn dental() -> (Survey, Layout) {
    let parsed = capsurvey_survey::parse_survey(
        "dental.toml",
        include_str!("../../../../surveys/dental.toml"),
    )
    .expect("the shipped survey parses");
    let layout = capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash);
    (parsed.survey, layout)
}

/// The code printed on page `page` of mailing 4321.
pub fn code(page: u32) -> PageCode {
    PageCode {
        survey_version_id: 7,
        mailing_id: 4321,
        page,
    }
}

/// Runs an external tool; a missing tool fails the test naming the Debian package.
pub fn run(tool: &str, package: &str, args: &[&str]) -> std::process::Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!(
                "`{tool}` is not installed: these tests need the Debian package `{package}` (apt-get install {package})"
            )
        }
        Err(e) => panic!("running {tool}: {e}"),
    }
}

/// Decodes every page of a file with the scan crate.
pub fn decode_all(name: &str, bytes: Vec<u8>) -> Vec<PageImage> {
    capsurvey_scan::open_bytes(name, bytes)
        .expect("opens")
        .map(|p| p.unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

/// Decodes a file on disk with the scan crate.
pub fn decode_path(path: &Path) -> Vec<PageImage> {
    capsurvey_scan::open(path)
        .expect("opens")
        .map(|p| p.unwrap_or_else(|e| panic!("{}: {e}", path.display())))
        .collect()
}

/// A random bilevel bitmap whose runs follow `style`: 0 = noise, 1 = short runs, 2 = long
/// runs, 3 = rows mostly copied from the row above (as on real pages).
pub fn random_bitmap(rng: &mut Rng, width: usize, height: usize, style: u32) -> Vec<u8> {
    let mut px = vec![255u8; width * height];
    for y in 0..height {
        let row = y * width;
        if style == 3 && y > 0 && rng.chance(0.8) {
            px.copy_within(row - width..row, row);
            // Shift an edge or two a little.
            for _ in 0..rng.int(0, 3) {
                let x = rng.below(width as u64) as usize;
                let len = rng.int(1, 6) as usize;
                let v = if rng.chance(0.5) { 0 } else { 255 };
                px[row + x..row + (x + len).min(width)].fill(v);
            }
            continue;
        }
        let mut x = 0;
        let mut black = rng.chance(0.3);
        while x < width {
            let run = match style {
                0 => 1,
                1 => rng.int(1, 12) as usize,
                _ => rng.int(1, 3000) as usize,
            };
            let run = if style == 0 { run } else { run.min(width - x) };
            if black || (style == 0 && rng.chance(0.5)) {
                px[row + x..row + (x + run).min(width)].fill(0);
            }
            x += run;
            black = !black;
        }
    }
    px
}

/// Whether the pixel around page point `(x, y)` is dark (3×3 mean under 128).
pub fn dark_at(img: &PageImage, to_px: &Affine, x: f64, y: f64) -> bool {
    let (px, py) = to_px.apply(x, y);
    let (cx, cy) = (px.floor() as i64, py.floor() as i64);
    let mut sum = 0u32;
    let mut n = 0u32;
    for dy in -1..=1 {
        for dx in -1..=1 {
            if let (Ok(x), Ok(y)) = (u32::try_from(cx + dx), u32::try_from(cy + dy))
                && let Some(v) = img.get(x, y)
            {
                sum += u32::from(v);
                n += 1;
            }
        }
    }
    n > 0 && sum / n < 128
}

/// Reads one copy of the page code by sampling module centres through `to_px`.
pub fn read_code(
    img: &PageImage,
    to_px: &Affine,
    area: &capsurvey_layout::CodeArea,
) -> Result<(PageCode, bool), capsurvey_layout::PageCodeError> {
    let mut modules = [false; pagecode::BITS];
    for (i, m) in modules.iter_mut().enumerate() {
        let (c, r) = (i % pagecode::COLUMNS, i / pagecode::COLUMNS);
        *m = dark_at(
            img,
            to_px,
            area.x + (c as f64 + 0.5) * area.module,
            area.y + (r as f64 + 0.5) * area.module,
        );
    }
    PageCode::from_modules(&modules)
}

/// The fraction of pixels darker than `threshold` inside a page rectangle (shrunk by `inset`
/// points).
pub fn ink_in(
    img: &PageImage,
    to_px: &Affine,
    r: &capsurvey_layout::Rect,
    inset: f64,
    threshold: u8,
) -> f64 {
    let (x0, y0, x1, y1) = (
        r.x + inset,
        r.y + inset,
        r.x + r.w - inset,
        r.y + r.h - inset,
    );
    let steps = 24;
    let mut dark = 0;
    for j in 0..steps {
        for i in 0..steps {
            let x = x0 + (x1 - x0) * (i as f64 + 0.5) / steps as f64;
            let y = y0 + (y1 - y0) * (j as f64 + 0.5) / steps as f64;
            let (px, py) = to_px.apply(x, y);
            if let Some(v) = img.get(px as u32, py as u32)
                && v < threshold
            {
                dark += 1;
            }
        }
    }
    dark as f64 / (steps * steps) as f64
}
