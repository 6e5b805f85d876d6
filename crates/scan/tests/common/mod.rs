//! Shared test helpers: synthetic pages, a minimal TIFF writer, and the external Debian tools
//! (libtiff-tools, ghostscript, img2pdf, qpdf, poppler-utils) that produce the real-world files.
//! A missing tool fails the test loudly, naming the package to install.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use capsurvey_scan::{PageImage, PageSource};

/// Debian package that provides each external tool.
fn package_of(tool: &str) -> &'static str {
    match tool {
        "tiffcp" | "tiff2bw" | "tiffinfo" | "tiffsplit" | "tiffset" => "libtiff-tools",
        "gs" => "ghostscript",
        "img2pdf" => "img2pdf",
        "qpdf" => "qpdf",
        "pdfimages" | "pdftoppm" => "poppler-utils",
        _ => "(unknown)",
    }
}

/// Runs an external tool and panics with a clear message if it is missing or fails.
pub fn run(tool: &str, args: &[&str]) -> String {
    let output = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!(
            "external tool `{tool}` could not be run ({e}): install the Debian package `{}` (apt-get install {})",
            package_of(tool),
            package_of(tool)
        )
    });
    assert!(
        output.status.success(),
        "`{tool} {}` failed: {}\n{}",
        args.join(" "),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

// ---------------------------------------------------------------------------------------------
// Synthetic pages

/// A black-and-white page; `black[y * width + x]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Bilevel {
    pub width: u32,
    pub height: u32,
    pub black: Vec<bool>,
}

impl Bilevel {
    pub fn new(width: u32, height: u32) -> Self {
        Bilevel {
            width,
            height,
            black: vec![false; (width * height) as usize],
        }
    }

    pub fn set(&mut self, x: i64, y: i64) {
        if x >= 0 && y >= 0 && (x as u32) < self.width && (y as u32) < self.height {
            self.black[(y as u32 * self.width + x as u32) as usize] = true;
        }
    }

    pub fn rect(&mut self, x0: i64, y0: i64, x1: i64, y1: i64) {
        for y in y0..y1 {
            for x in x0..x1 {
                self.set(x, y);
            }
        }
    }

    pub fn frame(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, t: i64) {
        self.rect(x0, y0, x1, y0 + t);
        self.rect(x0, y1 - t, x1, y1);
        self.rect(x0, y0, x0 + t, y1);
        self.rect(x1 - t, y0, x1, y1);
    }

    /// A stroke of thickness `t` from (x0, y0) to (x1, y1).
    pub fn stroke(&mut self, x0: i64, y0: i64, x1: i64, y1: i64, t: i64) {
        let steps = (x1 - x0).abs().max((y1 - y0).abs()).max(1);
        for k in 0..=steps {
            let x = x0 + (x1 - x0) * k / steps;
            let y = y0 + (y1 - y0) * k / steps;
            self.rect(x, y, x + t, y + t);
        }
    }

    /// Grey pixels as the decoder produces them (0 black, 255 white).
    pub fn grey(&self) -> Vec<u8> {
        self.black
            .iter()
            .map(|&b| if b { 0 } else { 255 })
            .collect()
    }

    /// Packed rows, MSB first; `one_is_black` selects MinIsWhite (true) or MinIsBlack.
    pub fn packed(&self, one_is_black: bool) -> Vec<u8> {
        let stride = self.width.div_ceil(8) as usize;
        let mut out = vec![0u8; stride * self.height as usize];
        for y in 0..self.height as usize {
            for x in 0..self.width as usize {
                let black = self.black[y * self.width as usize + x];
                if black == one_is_black {
                    out[y * stride + x / 8] |= 0x80 >> (x % 8);
                }
            }
        }
        out
    }
}

/// Deterministic xorshift.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> i64 {
        (self.next() % n.max(1)) as i64
    }
}

/// A survey-like page: frame, corner marks, a grid of check boxes (some ticked), lines of
/// text-like strokes, a ladder of every run length, long bars, edge pixels and some noise.
pub fn synthetic_page(width: u32, height: u32, seed: u64) -> Bilevel {
    let mut p = Bilevel::new(width, height);
    let mut rng = Rng(seed | 1);
    let (w, h) = (width as i64, height as i64);
    p.frame(20, 20, w - 20, h - 20, 3);
    for (x, y) in [(30, 30), (w - 70, 30), (30, h - 70), (w - 70, h - 70)] {
        p.rect(x, y, x + 40, y + 40);
    }
    // Check boxes.
    let mut y = 100;
    for row in 0..6 {
        for col in 0..(w - 200) / 120 {
            let x = 100 + col * 120;
            p.frame(x, y, x + 40, y + 30, 2);
            if (row + col) % 3 == 0 {
                p.stroke(x + 5, y + 15, x + 15, y + 25, 3);
                p.stroke(x + 15, y + 25, x + 35, y + 3, 3);
            }
        }
        y += 50;
    }
    // Text-like strokes.
    while y < h / 2 {
        let mut x = 60;
        while x < w - 80 {
            let glyph_w = 8 + rng.below(14);
            for _ in 0..1 + rng.below(4) {
                let (ax, ay) = (x + rng.below(glyph_w as u64), y + rng.below(22));
                let (bx, by) = (x + rng.below(glyph_w as u64), y + rng.below(22));
                p.stroke(ax, ay, bx, by, 1 + rng.below(3));
            }
            x += glyph_w + 3 + if rng.below(6) == 0 { 15 } else { 0 };
        }
        y += 34;
    }
    // Every run length 1..=90 for both colours, shifted per row.
    let ladder_top = h / 2;
    for row in 0..90 {
        let mut x = row % 7;
        let mut len = 1 + row;
        let mut black = row % 2 == 0;
        while x < w {
            if black {
                p.rect(x, ladder_top + row, x + len, ladder_top + row + 1);
            }
            x += len;
            len = len % 90 + 1;
            black = !black;
        }
    }
    // Long black bars of many lengths, some touching the left or right edge.
    let mut y = ladder_top + 100;
    let mut len = 60;
    while len < w && y < h - 60 {
        let x0 = if len % 3 == 0 { 0 } else { (w - len) / 2 };
        p.rect(x0, y, x0 + len, y + 2);
        if len % 5 == 0 {
            p.rect(w - len, y + 2, w, y + 3);
        }
        len += 61;
        y += 3;
    }
    // Full black and full white lines, and the edge columns.
    if y + 10 < h {
        p.rect(0, y + 4, w, y + 6);
        p.set(0, y + 8);
        p.set(w - 1, y + 9);
    }
    // Noise.
    for _ in 0..(w * h / 2000) {
        let (x, y) = (rng.below(w as u64), rng.below(h as u64));
        p.set(x, y);
    }
    p
}

// ---------------------------------------------------------------------------------------------
// Minimal TIFF writer (little-endian, one strip) for inputs with exact, known pixels

pub struct TiffSpec<'a> {
    pub width: u32,
    pub height: u32,
    pub bits: u16,
    pub samples: u16,
    pub photometric: u16,
    pub compression: u16,
    pub data: &'a [u8],
    pub dpi: Option<(u32, u32)>,
}

pub fn write_tiff(path: &Path, spec: &TiffSpec<'_>) {
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&0u32.to_le_bytes()); // IFD offset, patched below
    let data_offset = out.len() as u32;
    out.extend_from_slice(spec.data);
    if out.len() % 2 == 1 {
        out.push(0);
    }
    // Extra values after the IFD.
    let mut entries: Vec<(u16, u16, u32, Vec<u8>)> = Vec::new(); // tag, type, count, value bytes
    let short = |v: u16| v.to_le_bytes().to_vec();
    let long = |v: u32| v.to_le_bytes().to_vec();
    entries.push((256, 4, 1, long(spec.width)));
    entries.push((257, 4, 1, long(spec.height)));
    let bps: Vec<u8> = (0..spec.samples)
        .flat_map(|_| spec.bits.to_le_bytes())
        .collect();
    entries.push((258, 3, u32::from(spec.samples), bps));
    entries.push((259, 3, 1, short(spec.compression)));
    entries.push((262, 3, 1, short(spec.photometric)));
    entries.push((273, 4, 1, long(data_offset)));
    entries.push((277, 3, 1, short(spec.samples)));
    entries.push((278, 4, 1, long(spec.height)));
    entries.push((279, 4, 1, long(spec.data.len() as u32)));
    if let Some((x, y)) = spec.dpi {
        let rational = |v: u32| [v.to_le_bytes(), 1u32.to_le_bytes()].concat();
        entries.push((282, 5, 1, rational(x)));
        entries.push((283, 5, 1, rational(y)));
        entries.push((296, 3, 1, short(2)));
    }
    let ifd_offset = out.len() as u32;
    out[4..8].copy_from_slice(&ifd_offset.to_le_bytes());
    let mut extra_offset = ifd_offset + 2 + 12 * entries.len() as u32 + 4;
    let mut extra = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, typ, count, value) in &entries {
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&typ.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        if value.len() <= 4 {
            let mut v = value.clone();
            v.resize(4, 0);
            out.extend_from_slice(&v);
        } else {
            out.extend_from_slice(&extra_offset.to_le_bytes());
            extra.extend_from_slice(value);
            extra_offset += value.len() as u32;
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&extra);
    std::fs::write(path, out).expect("write tiff");
}

/// An uncompressed 1-bit TIFF of `page`, MinIsWhite (or MinIsBlack with inverted bits).
pub fn write_bilevel(path: &Path, page: &Bilevel, min_is_black: bool, dpi: (u32, u32)) {
    let data = page.packed(!min_is_black);
    write_tiff(
        path,
        &TiffSpec {
            width: page.width,
            height: page.height,
            bits: 1,
            samples: 1,
            photometric: u16::from(min_is_black),
            compression: 1,
            data: &data,
            dpi: Some(dpi),
        },
    );
}

/// A grey test image: gradients, rectangles and strokes.
pub fn synthetic_grey(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity((width * height) as usize);
    let bilevel = synthetic_page(width, height, 7);
    for y in 0..height {
        for x in 0..width {
            let base = ((x * 255 / width.max(1)) as u8 / 2).wrapping_add((y % 64) as u8);
            let b = bilevel.black[(y * width + x) as usize];
            out.push(if b {
                base / 4
            } else {
                128u8.saturating_add(base / 2)
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Decoding helpers

pub fn open(path: &Path) -> PageSource {
    capsurvey_scan::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
}

pub fn pages(path: &Path) -> Vec<PageImage> {
    open(path)
        .map(|p| p.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

pub fn single_page(path: &Path) -> PageImage {
    let mut all = pages(path);
    assert_eq!(all.len(), 1, "{} should have one page", path.display());
    all.pop().unwrap()
}

/// Panics with the first differing pixel.
pub fn assert_same_pixels(got: &PageImage, want: &[u8], width: u32, height: u32, what: &str) {
    assert_eq!((got.width, got.height), (width, height), "{what}: size");
    if got.pixels != want {
        let i = got
            .pixels
            .iter()
            .zip(want)
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let diff = got.pixels.iter().zip(want).filter(|(a, b)| a != b).count();
        panic!(
            "{what}: {diff} pixels differ; first at x={} y={}: got {} want {}",
            i as u32 % width,
            i as u32 / width,
            got.pixels[i],
            want[i]
        );
    }
}

pub fn temp_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}
