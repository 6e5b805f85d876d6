//! Helpers for the form tests: the shipped surveys and campaign, real readers (qpdf, poppler,
//! Ghostscript), and a little raster reader (PGM/PBM) with a page-code sampler.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use capsurvey_forms::campaign::Campaign;
use capsurvey_forms::form::Facility;
use capsurvey_layout::pagecode::{self, BITS};
use capsurvey_layout::{CodeArea, PageCode};
use capsurvey_survey::Parsed;

/// The three shipped surveys: (id, definition).
pub const SURVEYS: [(&str, &str); 3] = [
    ("dental", include_str!("../../../../surveys/dental.toml")),
    (
        "homecare-clinic",
        include_str!("../../../../surveys/homecare-clinic.toml"),
    ),
    (
        "visiting-nurse",
        include_str!("../../../../surveys/visiting-nurse.toml"),
    ),
];

/// The shipped example campaign.
pub fn campaign() -> Campaign {
    Campaign::parse(
        "fixtures/campaign.toml",
        include_str!("../../../../fixtures/campaign.toml"),
    )
    .unwrap()
}

/// A parsed shipped survey.
pub fn survey(id: &str) -> Parsed {
    let (_, text) = SURVEYS.iter().find(|(i, _)| *i == id).unwrap();
    capsurvey_survey::parse_survey(id, text).unwrap()
}

/// An invented facility (みどり市 is invented too).
pub fn facility() -> Facility {
    Facility {
        code: "1319990001".into(),
        name: "医療法人社団みどり会 みどり中央クリニック".into(),
        postal_code: Some("100-0001".into()),
        address: Some("みどり市中央三丁目12番5号".into()),
        phone: Some("0120-000-333".into()),
        fax: Some("0120-000-334".into()),
    }
}

/// A folder for the files of one test.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("capsurvey-forms-tests")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `tool`; panics naming the Debian package if it is missing.
pub fn run(tool: &str, package: &str, args: &[&str]) -> Output {
    match Command::new(tool).args(args).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{tool}` is not installed: install the Debian package `{package}`")
        }
        Err(e) => panic!("cannot run `{tool}`: {e}"),
    }
}

/// Runs a tool that must succeed; returns stdout.
pub fn run_ok(tool: &str, package: &str, args: &[&str]) -> String {
    let out = run(tool, package, args);
    assert!(
        out.status.success(),
        "`{tool} {}` failed: {}{}",
        args.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// An image with one byte per pixel (0 black … 255 white).
#[derive(Clone)]
pub struct Raster {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<u8>,
    /// Horizontal and vertical resolution the page was rendered at.
    pub dpi_x: f64,
    pub dpi_y: f64,
}

impl Raster {
    /// Reads a binary PGM (P5, 8-bit) or PBM (P4, 1-bit, 1 = black).
    pub fn parse(data: &[u8], dpi_x: f64, dpi_y: f64) -> Self {
        let mut fields = Vec::new();
        let mut pos = 0;
        let want = if data.starts_with(b"P4") { 3 } else { 4 };
        while fields.len() < want {
            while data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            if data[pos] == b'#' {
                while data[pos] != b'\n' {
                    pos += 1;
                }
                continue;
            }
            let start = pos;
            while !data[pos].is_ascii_whitespace() {
                pos += 1;
            }
            fields.push(std::str::from_utf8(&data[start..pos]).unwrap().to_owned());
        }
        let (width, height): (usize, usize) =
            (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        let body = &data[pos + 1..];
        let pixels = match fields[0].as_str() {
            "P5" => body[..width * height].to_vec(),
            "P4" => {
                let stride = width.div_ceil(8);
                let mut px = Vec::with_capacity(width * height);
                for y in 0..height {
                    for x in 0..width {
                        let bit = body[y * stride + x / 8] >> (7 - x % 8) & 1;
                        px.push(if bit == 1 { 0 } else { 255 });
                    }
                }
                px
            }
            other => panic!("unsupported image {other}"),
        };
        Self {
            width,
            height,
            pixels,
            dpi_x,
            dpi_y,
        }
    }

    pub fn at(&self, x: usize, y: usize) -> u8 {
        self.pixels[y * self.width + x]
    }

    /// Pixel column and row of a point given in PDF points.
    pub fn px(&self, x: f64, y: f64) -> (f64, f64) {
        (x * self.dpi_x / 72.0, y * self.dpi_y / 72.0)
    }

    /// Mean grey of the pixels whose centres lie in a rectangle given in points.
    pub fn mean(&self, x: f64, y: f64, w: f64, h: f64) -> f64 {
        let (x0, y0) = self.px(x, y);
        let (x1, y1) = self.px(x + w, y + h);
        let (x0, y0) = (x0.round().max(0.0) as usize, y0.round().max(0.0) as usize);
        let (x1, y1) = (
            (x1.round() as usize).min(self.width),
            (y1.round() as usize).min(self.height),
        );
        let (mut sum, mut n) = (0u64, 0u64);
        for yy in y0..y1.max(y0 + 1).min(self.height) {
            for xx in x0..x1.max(x0 + 1).min(self.width) {
                sum += u64::from(self.at(xx, yy));
                n += 1;
            }
        }
        sum as f64 / n.max(1) as f64
    }

    /// The page turned by 180°.
    pub fn rotated_180(&self) -> Self {
        let mut r = self.clone();
        r.pixels.reverse();
        r
    }

    /// Flips `fraction` of the pixels (salt and pepper), with a fixed pseudo-random sequence.
    pub fn speckled(&self, fraction: f64, seed: u64) -> Self {
        let mut r = self.clone();
        let mut s = seed | 1;
        let threshold = (fraction * u32::MAX as f64) as u64;
        for p in &mut r.pixels {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            if (s & 0xFFFF_FFFF) < threshold {
                *p = 255 - *p;
            }
        }
        r
    }

    /// Samples the 64 modules of a page code: the mean of the middle half of each module, dark
    /// below 50 %. Upright pages only (no skew correction: that is the scan side's job).
    pub fn sample_code(&self, area: &CodeArea) -> [bool; BITS] {
        std::array::from_fn(|i| {
            let (row, col) = (i / pagecode::COLUMNS, i % pagecode::COLUMNS);
            let m = area.module;
            let (x, y) = (
                area.x + col as f64 * m + m / 4.0,
                area.y + row as f64 * m + m / 4.0,
            );
            self.mean(x, y, m / 2.0, m / 2.0) < 128.0
        })
    }

    /// Reads the page code from either copy (the first that passes its check).
    pub fn read_code(&self, areas: &[CodeArea; 2]) -> Option<(PageCode, bool)> {
        areas
            .iter()
            .find_map(|a| PageCode::from_modules(&self.sample_code(a)).ok())
    }
}

/// Renders every page with Ghostscript at fax standard resolution (204×98 dpi, 1-bit).
pub fn fax_pages(pdf: &Path) -> Vec<Raster> {
    let prefix = pdf.with_extension("fax");
    run_ok(
        "gs",
        "ghostscript",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=pbmraw",
            "-r204x98",
            &format!("-sOutputFile={}-%d.pbm", prefix.display()),
            pdf.to_str().unwrap(),
        ],
    );
    let mut out = Vec::new();
    for i in 1.. {
        let f = PathBuf::from(format!("{}-{i}.pbm", prefix.display()));
        let Ok(data) = std::fs::read(&f) else { break };
        std::fs::remove_file(&f).ok();
        out.push(Raster::parse(&data, 204.0, 98.0));
    }
    out
}

/// Renders all pages with pdftoppm in grey at `dpi`; returns them in order.
pub fn grey_pages(pdf: &Path, dpi: u32) -> Vec<Raster> {
    let prefix = pdf.with_extension(format!("r{dpi}"));
    run_ok(
        "pdftoppm",
        "poppler-utils",
        &[
            "-r",
            &dpi.to_string(),
            "-gray",
            pdf.to_str().unwrap(),
            prefix.to_str().unwrap(),
        ],
    );
    let dir = prefix.parent().unwrap();
    let stem = prefix.file_name().unwrap().to_str().unwrap().to_owned();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = p.file_name().unwrap().to_str().unwrap();
            n.starts_with(&format!("{stem}-")) && n.ends_with(".pgm")
        })
        .collect();
    files.sort_by_key(|p| {
        let n = p.file_stem().unwrap().to_str().unwrap();
        n.rsplit('-').next().unwrap().parse::<usize>().unwrap()
    });
    files
        .iter()
        .map(|f| Raster::parse(&std::fs::read(f).unwrap(), f64::from(dpi), f64::from(dpi)))
        .collect()
}

/// `pdftotext` output with all white space removed (text wraps differently from the source).
pub fn text_without_spaces(pdf: &Path) -> String {
    run_ok(
        "pdftotext",
        "poppler-utils",
        &["-enc", "UTF-8", pdf.to_str().unwrap(), "-"],
    )
    .chars()
    .filter(|c| !c.is_whitespace())
    .collect()
}

/// `s` without white space.
pub fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace()).collect()
}
