//! The page image type and the pixel conversions shared by all formats.

use std::fmt;

use crate::error::PageErrorKind;

/// The largest page accepted, in pixels (100 megapixels, e.g. A3 at 600 dpi is 70 MP). A header
/// announcing more is refused before any pixel buffer is allocated.
pub const MAX_PIXELS: u64 = 100_000_000;

/// Resolution assumed when a file does not state one (PNG without `pHYs`, JPEG without a JFIF
/// density, TIFF without `XResolution`): 200 dpi in both directions. [`PageImage::dpi_assumed`]
/// is then true.
pub const DEFAULT_DPI: f32 = 200.0;

/// The resolution recognition needs at most, dots per inch: a grey page finer than twice this
/// is averaged down ([`PageImage::reduced_for_recognition`]). Fax fine (204 × 196 dpi) is read
/// without a wrong box, and 150 dpi still gives a 5 mm answer box 30 pixels a side.
pub const RECOGNITION_DPI: f32 = 150.0;

/// Whether `dpi` is at least [`RECOGNITION_DPI`], with 1 % to spare for a resolution stated in
/// dots per centimetre (118 per cm is 299.7 dpi, meant as 300).
pub(crate) fn at_recognition_dpi(dpi: f32) -> bool {
    dpi >= RECOGNITION_DPI * 0.99
}

/// One page as 8-bit grey pixels: 0 is black, 255 is white, row-major with no padding
/// (`pixels[y * width + x]`, `pixels.len() == width * height`).
///
/// The horizontal and vertical resolutions are kept apart because fax pages do not have square
/// pixels: standard resolution is 204 × 98 dpi, fine 204 × 196 dpi.
#[derive(Clone, PartialEq)]
pub struct PageImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Horizontal resolution, pixels per inch.
    pub dpi_x: f32,
    /// Vertical resolution, pixels per inch.
    pub dpi_y: f32,
    /// Grey values, row-major, `width * height` of them.
    pub pixels: Vec<u8>,
    /// True when every pixel is 0 or 255 (the source was black and white: fax, 1-bit scans),
    /// so recognition can skip thresholding.
    pub bilevel: bool,
    /// True when the file gave no resolution and [`DEFAULT_DPI`] was assumed.
    pub dpi_assumed: bool,
}

impl PageImage {
    /// A page from its parts.
    ///
    /// # Panics
    /// If `pixels.len() != width * height`.
    pub fn new(width: u32, height: u32, dpi_x: f32, dpi_y: f32, pixels: Vec<u8>) -> PageImage {
        assert_eq!(
            pixels.len(),
            width as usize * height as usize,
            "pixel buffer does not match {width}×{height}"
        );
        let bilevel = pixels.iter().all(|&p| p == 0 || p == 255);
        PageImage {
            width,
            height,
            dpi_x,
            dpi_y,
            pixels,
            bilevel,
            dpi_assumed: false,
        }
    }

    /// An all-white page.
    pub fn blank(width: u32, height: u32, dpi_x: f32, dpi_y: f32) -> PageImage {
        let pixels = vec![255; width as usize * height as usize];
        PageImage {
            width,
            height,
            dpi_x,
            dpi_y,
            pixels,
            bilevel: true,
            dpi_assumed: false,
        }
    }

    /// Row `y` (panics if `y >= height`).
    #[inline]
    pub fn row(&self, y: u32) -> &[u8] {
        let w = self.width as usize;
        &self.pixels[y as usize * w..(y as usize + 1) * w]
    }

    /// The pixel at (`x`, `y`), or `None` outside the page.
    #[inline]
    pub fn get(&self, x: u32, y: u32) -> Option<u8> {
        if x < self.width && y < self.height {
            Some(self.pixels[y as usize * self.width as usize + x as usize])
        } else {
            None
        }
    }

    /// Horizontal pixels per millimetre.
    pub fn px_per_mm_x(&self) -> f32 {
        self.dpi_x / 25.4
    }

    /// Vertical pixels per millimetre.
    pub fn px_per_mm_y(&self) -> f32 {
        self.dpi_y / 25.4
    }

    /// The page turned clockwise by `quarter_turns` × 90° (any number; taken modulo 4). The
    /// resolutions follow the axes.
    pub fn rotated(&self, quarter_turns: u32) -> PageImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let src = &self.pixels;
        let (pixels, width, height, dpi_x, dpi_y) = match quarter_turns % 4 {
            0 => return self.clone(),
            2 => {
                let mut p = src.clone();
                p.reverse();
                (p, w, h, self.dpi_x, self.dpi_y)
            }
            turns => {
                // New size h × w. Clockwise: new(x, y) = old(y, h - 1 - x);
                // counter-clockwise: new(x, y) = old(w - 1 - y, x).
                let mut p = vec![0u8; w * h];
                for (y, out) in p.chunks_exact_mut(h.max(1)).enumerate() {
                    if turns == 1 {
                        for (x, o) in out.iter_mut().enumerate() {
                            *o = src[(h - 1 - x) * w + y];
                        }
                    } else {
                        for (x, o) in out.iter_mut().enumerate() {
                            *o = src[x * w + (w - 1 - y)];
                        }
                    }
                }
                (p, h, w, self.dpi_y, self.dpi_x)
            }
        };
        PageImage {
            width: width as u32,
            height: height as u32,
            dpi_x,
            dpi_y,
            pixels,
            bilevel: self.bilevel,
            dpi_assumed: self.dpi_assumed,
        }
    }
}

impl PageImage {
    /// The page as recognition reads it: a grey page is halved (each pixel the mean of a 2 × 2
    /// block) along each axis as often as that axis stays at [`RECOGNITION_DPI`] or finer, so
    /// a 300-dpi scan is read at 150 dpi and a 600-dpi scan at 150 dpi. Finer pixels add
    /// nothing to a decision but cost time in every later stage (registration, boxes, images).
    /// 1-bit pages are kept as they are: averaging would make them grey, and their fast path
    /// works on black and white.
    pub fn reduced_for_recognition(self) -> PageImage {
        let mut page = self;
        if page.bilevel {
            return page;
        }
        loop {
            let halve_x = at_recognition_dpi(page.dpi_x / 2.0) && page.width >= 2;
            let halve_y = at_recognition_dpi(page.dpi_y / 2.0) && page.height >= 2;
            if !halve_x && !halve_y {
                return page;
            }
            page = page.halved(halve_x, halve_y);
        }
    }

    /// Each output pixel is the rounded mean of the 1 × 2, 2 × 1 or 2 × 2 input pixels it
    /// covers; an odd last row or column is dropped.
    fn halved(&self, halve_x: bool, halve_y: bool) -> PageImage {
        let (w, h) = (self.width as usize, self.height as usize);
        let out_w = if halve_x { w / 2 } else { w };
        let out_h = if halve_y { h / 2 } else { h };
        let rows_per_out = if halve_y { 2 } else { 1 };
        let shift = u32::from(halve_x) + u32::from(halve_y);
        let round = (1u16 << shift) >> 1;
        let mut pixels = vec![0u8; out_w * out_h];
        // Column sums of the input rows that make one output row, then pairs of them: two
        // simple loops the compiler turns into vector code.
        let mut sums = vec![0u16; w];
        for (y, out) in pixels.chunks_exact_mut(out_w).enumerate() {
            let first = (y * rows_per_out) as u32;
            for (s, &p) in sums.iter_mut().zip(self.row(first)) {
                *s = u16::from(p);
            }
            if halve_y {
                for (s, &p) in sums.iter_mut().zip(self.row(first + 1)) {
                    *s += u16::from(p);
                }
            }
            if halve_x {
                for (o, pair) in out.iter_mut().zip(sums.chunks_exact(2)) {
                    *o = ((pair[0] + pair[1] + round) >> shift) as u8;
                }
            } else {
                for (o, &s) in out.iter_mut().zip(&sums) {
                    *o = ((s + round) >> shift) as u8;
                }
            }
        }
        PageImage {
            width: out_w as u32,
            height: out_h as u32,
            dpi_x: if halve_x {
                self.dpi_x / 2.0
            } else {
                self.dpi_x
            },
            dpi_y: if halve_y {
                self.dpi_y / 2.0
            } else {
                self.dpi_y
            },
            pixels,
            bilevel: false,
            dpi_assumed: self.dpi_assumed,
        }
    }
}

impl fmt::Debug for PageImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageImage")
            .field("width", &self.width)
            .field("height", &self.height)
            .field("dpi_x", &self.dpi_x)
            .field("dpi_y", &self.dpi_y)
            .field("bilevel", &self.bilevel)
            .field("dpi_assumed", &self.dpi_assumed)
            .finish_non_exhaustive()
    }
}

/// Refuses empty and oversized pages before anything is allocated; returns the pixel count.
pub(crate) fn check_dimensions(width: u64, height: u64) -> Result<usize, PageErrorKind> {
    if width == 0 || height == 0 {
        return Err(PageErrorKind::corrupt(
            "image",
            format!("the header gives a size of {width}×{height} pixels"),
        ));
    }
    match width.checked_mul(height) {
        Some(n) if n <= MAX_PIXELS => Ok(n as usize),
        _ => Err(PageErrorKind::TooLarge { width, height }),
    }
}

/// A plausible resolution, or `None`.
pub(crate) fn sane_dpi(dpi: f64) -> Option<f32> {
    (dpi.is_finite() && (10.0..=20_000.0).contains(&dpi)).then_some(dpi as f32)
}

/// ITU-R BT.601 luma with integer weights summing to 256.
#[inline]
pub(crate) fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((u32::from(r) * 77 + u32::from(g) * 150 + u32::from(b) * 29 + 128) >> 8) as u8
}

/// `c` composited over white with coverage `a`.
#[inline]
pub(crate) fn over_white(c: u8, a: u8) -> u8 {
    ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a)) + 127) / 255) as u8
}

/// For every byte of packed 1-bit samples (MSB first), the eight grey values.
pub(crate) fn bit_expansion(zero: u8, one: u8) -> [[u8; 8]; 256] {
    let mut table = [[0u8; 8]; 256];
    for (byte, out) in table.iter_mut().enumerate() {
        for (k, o) in out.iter_mut().enumerate() {
            *o = if byte & (0x80 >> k) != 0 { one } else { zero };
        }
    }
    table
}

/// Expands packed 1-bit rows (`stride` bytes each, MSB first) into grey values.
pub(crate) fn expand_bits(
    packed: &[u8],
    stride: usize,
    width: usize,
    height: usize,
    table: &[[u8; 8]; 256],
    out: &mut [u8],
) {
    for (src, dst) in packed
        .chunks(stride)
        .zip(out.chunks_exact_mut(width))
        .take(height)
    {
        let mut chunks = dst.chunks_exact_mut(8);
        let mut bytes = src.iter();
        for (chunk, &b) in (&mut chunks).zip(&mut bytes) {
            chunk.copy_from_slice(&table[b as usize]);
        }
        let rest = chunks.into_remainder();
        if !rest.is_empty()
            && let Some(&b) = bytes.next()
        {
            rest.copy_from_slice(&table[b as usize][..rest.len()]);
        }
    }
}

/// Unpacks one row of `count` samples of `bits` bits (1, 2, 4, 8 or 16, MSB first) into bytes:
/// the raw value for up to 8 bits, the high byte for 16.
pub(crate) fn unpack_samples(row: &[u8], bits: u32, count: usize, out: &mut Vec<u8>) {
    out.clear();
    match bits {
        8 => out.extend_from_slice(&row[..count.min(row.len())]),
        16 => out.extend(row.chunks_exact(2).take(count).map(|c| c[0])),
        1 | 2 | 4 => {
            let per_byte = 8 / bits as usize;
            let mask = (1u8 << bits) - 1;
            'outer: for &b in row {
                for k in 0..per_byte {
                    if out.len() == count {
                        break 'outer;
                    }
                    out.push((b >> (8 - bits as usize * (k + 1))) & mask);
                }
            }
        }
        _ => {}
    }
    out.resize(count, 0);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(w: u32, h: u32) -> PageImage {
        PageImage::new(w, h, 204.0, 98.0, (0..w * h).map(|v| v as u8).collect())
    }

    #[test]
    fn rotation_round_trips() {
        let p = page(3, 2);
        let r = p.rotated(1);
        assert_eq!((r.width, r.height, r.dpi_x, r.dpi_y), (2, 3, 98.0, 204.0));
        // Clockwise: the old bottom-left pixel (0, 1) = 3 becomes the new top-left.
        assert_eq!(r.pixels, [3, 0, 4, 1, 5, 2]);
        assert_eq!(p.rotated(3).rotated(1), p);
        assert_eq!(p.rotated(2).rotated(2), p);
        assert_eq!(p.rotated(1).rotated(1), p.rotated(2));
    }

    #[test]
    fn fine_grey_pages_are_averaged_down_to_the_recognition_resolution() {
        let grey = |w, h, dpi_x, dpi_y| {
            let mut p = PageImage::new(w, h, dpi_x, dpi_y, vec![200; (w * h) as usize]);
            p.pixels[0] = 0;
            p.pixels[1] = 255;
            p.pixels[w as usize] = 101;
            p.bilevel = false;
            p
        };
        let r = grey(5, 4, 300.0, 300.0).reduced_for_recognition();
        assert_eq!((r.width, r.height, r.dpi_x, r.dpi_y), (2, 2, 150.0, 150.0));
        // (0 + 255 + 101 + 200 + 2) / 4, rounded.
        assert_eq!(r.pixels, [139, 200, 200, 200]);
        assert!(!r.bilevel);

        let r = grey(8, 8, 600.0, 600.0).reduced_for_recognition();
        assert_eq!((r.width, r.height, r.dpi_x, r.dpi_y), (2, 2, 150.0, 150.0));
        // Only the axis fine enough is halved.
        let r = grey(4, 4, 400.0, 200.0).reduced_for_recognition();
        assert_eq!((r.width, r.height, r.dpi_x, r.dpi_y), (2, 4, 200.0, 200.0));
        assert_eq!(r.pixels[0], 128); // (0 + 255 + 1) / 2
        // Coarse enough already, or black and white: unchanged.
        let fine_fax = grey(4, 4, 204.0, 196.0);
        assert_eq!(fine_fax.clone().reduced_for_recognition(), fine_fax);
        let one_bit = PageImage::new(4, 4, 300.0, 300.0, vec![255; 16]);
        assert_eq!(one_bit.clone().reduced_for_recognition(), one_bit);
    }

    #[test]
    fn limits() {
        assert!(check_dimensions(30_000, 30_000).is_err());
        assert!(check_dimensions(0, 10).is_err());
        assert_eq!(check_dimensions(1728, 2292).unwrap(), 1728 * 2292);
        assert!(check_dimensions(u64::MAX, 2).is_err());
    }

    #[test]
    fn unpacking() {
        let mut out = Vec::new();
        unpack_samples(&[0b1011_0001], 2, 3, &mut out);
        assert_eq!(out, [2, 3, 0]);
        unpack_samples(&[0xAB, 0xCD], 16, 1, &mut out);
        assert_eq!(out, [0xAB]);
        let table = bit_expansion(0, 255);
        let mut px = [9u8; 10];
        expand_bits(&[0b1000_0001, 0b0100_0000], 2, 10, 1, &table, &mut px);
        assert_eq!(px, [255, 0, 0, 0, 0, 0, 0, 255, 0, 255]);
        assert_eq!(luma(255, 255, 255), 255);
        assert_eq!(luma(0, 0, 0), 0);
        assert_eq!(over_white(0, 0), 255);
    }
}
