//! Multi-page TIFF, written by hand: fax servers' files are simple (one strip per page, a few
//! tags), and writing the CCITT strips ourselves needs no encoder plumbing.
//!
//! Each page is its strip followed by its directory (IFD); directories chain in page order and
//! carry `NewSubfileType` = 2 (a page of a multi-page document) and `PageNumber`, as fax
//! servers write them.

use crate::ccitt::{self, Coding, G3Options};
use crate::write::Picture;

/// How the pages of a TIFF are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TiffCompression {
    /// CCITT Group 3 (compression 3) with the given options; pages are thresholded to 1-bit.
    G3(G3Options),
    /// CCITT Group 4 (compression 4); pages are thresholded to 1-bit.
    G4,
    /// CCITT RLE (compression 2); pages are thresholded to 1-bit.
    Rle,
    /// Uncompressed: 1-bit for bilevel pages, 8-bit grey or RGB otherwise.
    None,
    /// LZW (compression 5): 1-bit for bilevel pages, 8-bit grey or RGB otherwise.
    Lzw,
}

impl TiffCompression {
    /// The TIFF compression code.
    pub fn code(&self) -> u16 {
        match self {
            TiffCompression::G3(_) => 3,
            TiffCompression::G4 => 4,
            TiffCompression::Rle => 2,
            TiffCompression::None => 1,
            TiffCompression::Lzw => 5,
        }
    }
}

const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;
const ASCII: u16 = 2;

struct Entry {
    tag: u16,
    typ: u16,
    count: u32,
    data: Vec<u8>,
}

fn shorts(tag: u16, v: &[u16]) -> Entry {
    Entry {
        tag,
        typ: SHORT,
        count: v.len() as u32,
        data: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn long(tag: u16, v: u32) -> Entry {
    Entry {
        tag,
        typ: LONG,
        count: 1,
        data: v.to_le_bytes().to_vec(),
    }
}

fn rational(tag: u16, v: f32) -> Entry {
    // Resolutions such as 204, 98 or 196 are whole numbers; keep 1/100 for others.
    let (n, d) = if v.fract() == 0.0 {
        (v as u32, 1u32)
    } else {
        ((v * 100.0).round() as u32, 100)
    };
    let mut data = n.to_le_bytes().to_vec();
    data.extend(d.to_le_bytes());
    Entry {
        tag,
        typ: RATIONAL,
        count: 1,
        data,
    }
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut data = s.as_bytes().to_vec();
    data.push(0);
    Entry {
        tag,
        typ: ASCII,
        count: data.len() as u32,
        data,
    }
}

/// Packs grey pixels into 1-bit rows, MSB first, 1 = black (MinIsWhite).
pub(crate) fn pack_min_is_white(pixels: &[u8], width: usize, height: usize) -> Vec<u8> {
    let stride = width.div_ceil(8);
    let mut out = vec![0u8; stride * height];
    for (row, dst) in pixels.chunks_exact(width).zip(out.chunks_exact_mut(stride)) {
        for (x, &p) in row.iter().enumerate() {
            if p < 128 {
                dst[x / 8] |= 0x80 >> (x % 8);
            }
        }
    }
    out
}

/// Writes `pages` as one TIFF file (little-endian, one strip per page).
pub fn write_tiff(pages: &[Picture<'_>], compression: TiffCompression) -> Vec<u8> {
    let mut out: Vec<u8> = b"II*\0\0\0\0\0".to_vec();
    // Where the previous "next IFD" offset must be written.
    let mut link_at = 4usize;
    let total = pages.len() as u16;
    for (index, page) in pages.iter().enumerate() {
        let (w, h) = (page.width() as usize, page.height() as usize);
        let (dpi_x, dpi_y) = page.dpi();
        let ccitt_coding = match compression {
            TiffCompression::G3(o) => Some(Coding::G3(o)),
            TiffCompression::G4 => Some(Coding::G4),
            TiffCompression::Rle => Some(Coding::Rle),
            _ => None,
        };
        // Samples: (data, bits per sample, samples per pixel, photometric).
        let (raw, bits, spp, photometric) = match ccitt_coding {
            Some(coding) => {
                let grey = page.grey();
                (ccitt::encode(&grey, w, h, coding), 1u16, 1u16, 0u16)
            }
            None => match page {
                Picture::Rgb(rgb) => (rgb.pixels.clone(), 8, 3, 2),
                Picture::Grey(g) if g.bilevel => (pack_min_is_white(&g.pixels, w, h), 1, 1, 0),
                Picture::Grey(g) => (g.pixels.clone(), 8, 1, 1),
            },
        };
        let strip = if compression == TiffCompression::Lzw {
            weezl::encode::Encoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8)
                .encode(&raw)
                .expect("LZW encoding of a buffer cannot fail")
        } else {
            raw
        };
        let strip_offset = out.len();
        out.extend_from_slice(&strip);
        if out.len() % 2 == 1 {
            out.push(0);
        }

        let mut entries = vec![
            long(254, 2),
            long(256, w as u32),
            long(257, h as u32),
            shorts(258, &vec![bits; spp as usize]),
            shorts(259, &[compression.code()]),
            shorts(262, &[photometric]),
        ];
        if ccitt_coding.is_some() {
            entries.push(shorts(266, &[1]));
        }
        entries.extend([
            long(273, strip_offset as u32),
            shorts(277, &[spp]),
            long(278, h as u32),
            long(279, strip.len() as u32),
            rational(282, dpi_x),
            rational(283, dpi_y),
            shorts(284, &[1]),
        ]);
        match compression {
            TiffCompression::G3(o) => entries.push(long(292, o.t4_options())),
            TiffCompression::G4 => entries.push(long(293, 0)),
            _ => {}
        }
        entries.push(shorts(296, &[2]));
        entries.push(shorts(297, &[index as u16, total]));
        entries.push(ascii(305, "capsurvey-faxsim"));

        // The IFD, then the values that do not fit in four bytes.
        let ifd_at = out.len();
        out[link_at..link_at + 4].copy_from_slice(&(ifd_at as u32).to_le_bytes());
        let n = entries.len();
        let mut extra_at = ifd_at + 2 + 12 * n + 4;
        let mut extra: Vec<u8> = Vec::new();
        out.extend((n as u16).to_le_bytes());
        for e in &entries {
            out.extend(e.tag.to_le_bytes());
            out.extend(e.typ.to_le_bytes());
            out.extend(e.count.to_le_bytes());
            if e.data.len() <= 4 {
                let mut v = e.data.clone();
                v.resize(4, 0);
                out.extend(v);
            } else {
                out.extend((extra_at as u32).to_le_bytes());
                extra.extend(&e.data);
                if extra.len() % 2 == 1 {
                    extra.push(0);
                }
                extra_at = ifd_at + 2 + 12 * n + 4 + extra.len();
            }
        }
        link_at = out.len();
        out.extend([0u8; 4]);
        out.extend(extra);
    }
    out
}
