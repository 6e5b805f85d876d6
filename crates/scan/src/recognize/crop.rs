//! Deskewed crops for review, and PNG encoding.

use capsurvey_layout::Rect;
use image::ImageEncoder;
use image::codecs::png::PngEncoder;

use super::transform::{PT_PER_MM, Transform};
use crate::PageImage;

/// How output pixels of a crop map to the scan: the map is affine, so rows and columns step by
/// constant increments in 16.16 fixed point instead of transforming every output pixel (page
/// images are a million pixels, and `f64::floor` is a library call on baseline x86-64).
struct Stepping {
    w: u32,
    h: u32,
    dpi: f32,
    /// Increments of (u, v) along a row, fixed point.
    du_x: i64,
    dv_x: i64,
    /// Increments along a column and the first pixel's centre, in scan pixels.
    du_y: f64,
    dv_y: f64,
    u0: f64,
    v0: f64,
}

const ONE: f64 = 65536.0;

fn fixed(v: f64) -> i64 {
    (v * ONE).round() as i64
}

impl Stepping {
    fn new(transform: &Transform, rect: &Rect, pixels_per_mm: f64) -> Stepping {
        let ppm = if pixels_per_mm.is_finite() && pixels_per_mm > 0.0 {
            pixels_per_mm
        } else {
            8.0
        };
        let w = ((rect.w / PT_PER_MM * ppm).round().max(1.0) as u32).min(20_000);
        let h = ((rect.h / PT_PER_MM * ppm).round().max(1.0) as u32).min(20_000);
        let step = 1.0 / ppm * PT_PER_MM;
        let m = &transform.m;
        // Pixel centres are at +0.5.
        let (u0, v0) = transform.apply(rect.x + 0.5 * step, rect.y + 0.5 * step);
        Stepping {
            w,
            h,
            dpi: (ppm * 25.4) as f32,
            du_x: fixed(m[0] * step),
            dv_x: fixed(m[3] * step),
            du_y: m[1] * step,
            dv_y: m[4] * step,
            u0,
            v0,
        }
    }

    /// Fixed-point (u, v) of the first pixel of output row `oy`, shifted by `shift` scan pixels.
    fn row_start(&self, oy: u32, shift: f64) -> (i64, i64) {
        (
            fixed(self.u0 + shift + self.du_y * oy as f64),
            fixed(self.v0 + shift + self.dv_y * oy as f64),
        )
    }
}

/// Cuts `rect` (page points) out of `page` as an upright image at `pixels_per_mm` in both
/// directions, whatever the scan's skew, orientation and pixel shape: each output pixel is
/// mapped through `transform` (page points to image pixels, as in [`super::Identified`]) and
/// interpolated bilinearly (a 1-bit page: nearest pixel, and the crop is 1-bit too). Parts
/// outside the scan are white.
pub fn crop(page: &PageImage, transform: &Transform, rect: &Rect, pixels_per_mm: f64) -> PageImage {
    let s = Stepping::new(transform, rect, pixels_per_mm);
    let (w, h) = (s.w, s.h);
    let (pw, ph) = (page.width as i64, page.height as i64);
    let px = |x: i64, y: i64| -> i64 {
        if x < 0 || y < 0 || x >= pw || y >= ph {
            255
        } else {
            page.pixels[(y * pw + x) as usize] as i64
        }
    };
    if page.bilevel {
        // A 1-bit page has no grey to interpolate: the nearest pixel is as good and four times
        // cheaper.
        let mut out = nearest(page, &s);
        out.bilevel = true;
        return out;
    }
    let row = page.width as usize;
    let p = &page.pixels;
    let mut pixels = Vec::with_capacity(w as usize * h as usize);
    for oy in 0..h {
        let (mut u, mut v) = s.row_start(oy, -0.5);
        for _ in 0..w {
            let (x0, y0) = (u >> 16, v >> 16);
            let (fx, fy) = (u & 0xFFFF, v & 0xFFFF);
            let (a, b, c, d) = if x0 >= 0 && y0 >= 0 && x0 + 1 < pw && y0 + 1 < ph {
                let i = y0 as usize * row + x0 as usize;
                (
                    p[i] as i64,
                    p[i + 1] as i64,
                    p[i + row] as i64,
                    p[i + row + 1] as i64,
                )
            } else {
                (
                    px(x0, y0),
                    px(x0 + 1, y0),
                    px(x0, y0 + 1),
                    px(x0 + 1, y0 + 1),
                )
            };
            let top = (a << 16) + (b - a) * fx;
            let bottom = (c << 16) + (d - c) * fx;
            let value = (top << 16) + (bottom - top) * fy;
            pixels.push(((value + (1 << 31)) >> 32).clamp(0, 255) as u8);
            u += s.du_x;
            v += s.dv_x;
        }
    }
    PageImage::new(w, h, s.dpi, s.dpi, pixels)
}

/// [`crop`] by the nearest pixel, also for a grey page: a third of the cost of interpolating,
/// for images meant to be looked at whole (the page image of every page received), not for
/// faint marks at the limit of the resolution.
pub fn crop_nearest(
    page: &PageImage,
    transform: &Transform,
    rect: &Rect,
    pixels_per_mm: f64,
) -> PageImage {
    let mut out = nearest(page, &Stepping::new(transform, rect, pixels_per_mm));
    out.bilevel = page.bilevel;
    out
}

fn nearest(page: &PageImage, s: &Stepping) -> PageImage {
    let (pw, ph) = (page.width as usize, page.height as u64);
    let mut pixels = vec![255u8; s.w as usize * s.h as usize];
    for (oy, row) in pixels.chunks_exact_mut(s.w as usize).enumerate() {
        let (mut u, mut v) = s.row_start(oy as u32, 0.0);
        let mut rest = row;
        // A skewed row crosses the scan's rows every few dozen pixels: between crossings each
        // pixel costs a shift and a load from one scan row.
        while !rest.is_empty() {
            let n = on_one_scan_row(v, s.dv_x, rest.len());
            let (run, tail) = std::mem::take(&mut rest).split_at_mut(n);
            // Negative coordinates wrap to huge ones and fall outside, as they should.
            let y = (v >> 16) as u64;
            if y < ph {
                let scan_row = &page.pixels[y as usize * pw..][..pw];
                let mut x = u;
                for out in run {
                    if let Some(&p) = scan_row.get((x >> 16) as u64 as usize) {
                        *out = p;
                    }
                    x += s.du_x;
                }
            }
            u += s.du_x * n as i64;
            v += s.dv_x * n as i64;
            rest = tail;
        }
    }
    PageImage::new(s.w, s.h, s.dpi, s.dpi, pixels)
}

/// How many of the next `at_most` pixels of a crop row, starting at fixed-point `v` and
/// stepping by `dv`, fall on the same scan row as the first (at least one).
fn on_one_scan_row(v: i64, dv: i64, at_most: usize) -> usize {
    let steps = match dv.cmp(&0) {
        std::cmp::Ordering::Equal => return at_most,
        // Up to the next row's first fixed-point value, exclusive.
        std::cmp::Ordering::Greater => ((((v >> 16) + 1) << 16) - v + dv - 1) / dv,
        // Down to this row's first value, inclusive.
        std::cmp::Ordering::Less => (v - ((v >> 16) << 16)) / -dv + 1,
    };
    usize::try_from(steps).map_or(at_most, |n| n.clamp(1, at_most))
}

/// A 1-bit image: rows of packed bits, the leftmost pixel in the highest bit, 1 for white (the
/// layout of a 1-bit grey PNG). Bits past `width` in a row's last byte are padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// Width, pixels.
    pub width: u32,
    /// Height, pixels.
    pub height: u32,
    /// Packed rows, `width.div_ceil(8)` bytes each.
    pub bits: Vec<u8>,
}

impl Bitmap {
    /// Bytes per row.
    pub fn row_bytes(&self) -> usize {
        self.width.div_ceil(8) as usize
    }

    /// Whether the pixel at (`x`, `y`) is white (`None` outside the image).
    pub fn is_white(&self, x: u32, y: u32) -> Option<bool> {
        (x < self.width && y < self.height).then(|| {
            let byte = self.bits[y as usize * self.row_bytes() + x as usize / 8];
            byte & (0x80 >> (x % 8)) != 0
        })
    }

    /// Encodes as a 1-bit grey PNG, for speed over size: every received fax page is written as
    /// one, and 1-bit rows compress well with the "up" filter alone.
    pub fn encode_png(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.bits.len() / 4);
        let mut enc = png::Encoder::new(&mut out, self.width, self.height);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        enc.set_compression(png::Compression::Fast);
        enc.set_filter(png::Filter::Up);
        enc.write_header()
            .and_then(|mut w| w.write_image_data(&self.bits))
            .expect("encoding a 1-bit image into memory cannot fail");
        out
    }
}

/// [`crop`] of a 1-bit page (a fax) straight to packed bits: the same nearest pixels, without
/// the byte per pixel in between (review images are made for every fax page, so this is on the
/// ingest's hot path). A pixel is white when the page's is 128 or more.
pub fn crop_bits(
    page: &PageImage,
    transform: &Transform,
    rect: &Rect,
    pixels_per_mm: f64,
) -> Bitmap {
    let s = Stepping::new(transform, rect, pixels_per_mm);
    let row_bytes = s.w.div_ceil(8) as usize;
    let mut bits = vec![0u8; row_bytes * s.h as usize];
    let scan = Scan {
        pixels: &page.pixels,
        width: page.width as usize,
        height: page.height as usize,
    };
    // Where the same pixel is four rows further down, to fetch the scan ahead of use: a fine
    // fax page is 4 MB, far larger than the caches, and without it the packing waits on memory.
    let ahead = (fixed(s.du_y * 4.0), fixed(s.dv_y * 4.0));
    // Padding bits past the width are sampled too: they are ignored, and it keeps every byte
    // on the same path.
    for (oy, dst) in (0..s.h).zip(bits.chunks_exact_mut(row_bytes)) {
        pack_row(&scan, s.row_start(oy, 0.0), (s.du_x, s.dv_x), ahead, dst);
    }
    Bitmap {
        width: s.w,
        height: s.h,
        bits,
    }
}

/// A 1-bit (or grey) scan read as 1-bit: white is a byte of 128 or more, its top bit.
struct Scan<'a> {
    pixels: &'a [u8],
    width: usize,
    height: usize,
}

impl Scan<'_> {
    /// Whether the pixel under 16.16 position (`u`, `v`) is on the scan.
    #[inline(always)]
    fn has(&self, u: i64, v: i64) -> bool {
        // Negative coordinates wrap to huge ones and fall outside, as they should.
        ((u >> 16) as u64) < self.width as u64 && ((v >> 16) as u64) < self.height as u64
    }

    /// Index of the pixel under (`u`, `v`), which must be on the scan.
    #[inline(always)]
    fn index(&self, u: i64, v: i64) -> usize {
        (v >> 16) as usize * self.width + (u >> 16) as usize
    }

    /// The top bit of the pixel under (`u`, `v`), which must be on the scan.
    #[inline(always)]
    fn bit(&self, u: i64, v: i64) -> u8 {
        self.pixels[self.index(u, v)] >> 7
    }

    /// One byte of eight samples the plain way: off the scan is white.
    #[inline(always)]
    fn byte(&self, (mut u, mut v): (i64, i64), (du, dv): (i64, i64), on_scan: bool) -> u8 {
        let mut acc = 0u8;
        for _ in 0..8 {
            let white = if on_scan || self.has(u, v) {
                self.bit(u, v)
            } else {
                1
            };
            acc = (acc << 1) | white;
            u += du;
            v += dv;
        }
        acc
    }
}

/// Packs one row of a 1-bit crop: `dst.len()` bytes of nearest samples from (`u`, `v`),
/// stepping (`du`, `dv`), in 16.16 fixed point; `ahead` is the step to the same pixel some rows
/// below, which may be fetched early.
fn pack_row(scan: &Scan, at: (i64, i64), step: (i64, i64), ahead: (i64, i64), dst: &mut [u8]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("ssse3") {
        // SAFETY: the CPU has SSSE3, checked just above.
        unsafe { ssse3::pack_row(scan, at, step, ahead, dst) };
        return;
    }
    let _ = ahead;
    pack_row_plain(scan, at, step, dst);
}

/// [`pack_row`] a pixel at a time, for CPUs without SSSE3.
fn pack_row_plain(scan: &Scan, (mut u, mut v): (i64, i64), (du, dv): (i64, i64), dst: &mut [u8]) {
    for byte in dst.iter_mut() {
        // A byte's pixels lie on a straight line: both ends on the scan, all are.
        let on_scan = scan.has(u, v) && scan.has(u + 7 * du, v + 7 * dv);
        *byte = scan.byte((u, v), (du, dv), on_scan);
        u += 8 * du;
        v += 8 * dv;
    }
}

/// [`pack_row`] eight pixels at a time. The eight samples of a byte lie within 16 bytes of
/// each other on at most two scan rows (a fax page's image and crops step 1.3–2 scan pixels,
/// and a skew of a few degrees crosses a row every dozen or so), so a load, a byte shuffle and
/// a mask per row make the byte, instead of eight loads and shifts. Review images are made for
/// every fax page: packing them was a sixth of the ingest's CPU.
#[cfg(target_arch = "x86_64")]
mod ssse3 {
    use std::arch::x86_64::{
        __m128i, _MM_HINT_T0, _mm_add_epi32, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8,
        _mm_packs_epi32, _mm_packus_epi16, _mm_prefetch, _mm_set1_epi32, _mm_setr_epi32,
        _mm_setzero_si128, _mm_shuffle_epi8, _mm_srli_epi32,
    };

    use super::Scan;

    /// Steps of the byte's eight pixels from its first, last pixel first (the mask puts byte 0
    /// in bit 0, and a byte's first pixel is its top bit), as two vectors of four.
    #[target_feature(enable = "ssse3")]
    fn offsets(d: i32) -> (__m128i, __m128i) {
        (
            _mm_setr_epi32(7 * d, 6 * d, 5 * d, 4 * d),
            _mm_setr_epi32(3 * d, 2 * d, d, 0),
        )
    }

    /// The eight 16.16 positions `start + offsets`, shifted to whole pixels and packed to
    /// bytes, last pixel first.
    #[target_feature(enable = "ssse3")]
    fn whole(start: i64, (hi, lo): (__m128i, __m128i)) -> __m128i {
        let start = _mm_set1_epi32(start as i32);
        let hi = _mm_srli_epi32::<16>(_mm_add_epi32(start, hi));
        let lo = _mm_srli_epi32::<16>(_mm_add_epi32(start, lo));
        let words = _mm_packs_epi32(hi, lo);
        _mm_packus_epi16(words, words)
    }

    /// The top bits of the bytes of `bytes` (16 of them) at the first eight positions of
    /// `index`, the first position in bit 0.
    #[target_feature(enable = "ssse3")]
    #[inline]
    fn gather(bytes: &[u8], index: __m128i) -> u8 {
        assert_eq!(bytes.len(), 16);
        // SAFETY: `bytes` holds the 16 bytes loaded (asserted just above).
        let bytes = unsafe { _mm_loadu_si128(bytes.as_ptr().cast()) };
        _mm_movemask_epi8(_mm_shuffle_epi8(bytes, index)) as u8
    }

    /// [`Scan::byte`] kept out of line: inlined, the compiler gives each of its eight pixels
    /// a position of its own that it steps along with every byte (spilled to the stack), three
    /// times the work of the shuffle path it sits beside.
    #[cold]
    #[inline(never)]
    fn plain_byte(scan: &Scan, at: (i64, i64), step: (i64, i64), on_scan: bool) -> u8 {
        scan.byte(at, step, on_scan)
    }

    /// See [`super::pack_row`]; the caller makes sure the CPU has SSSE3.
    ///
    /// # Safety
    /// The CPU must have SSSE3.
    #[target_feature(enable = "ssse3")]
    pub(super) unsafe fn pack_row(
        scan: &Scan,
        (u, v): (i64, i64),
        (du, dv): (i64, i64),
        ahead: (i64, i64),
        dst: &mut [u8],
    ) {
        // Eight pixels within 16 bytes and at most one row change; else the plain way.
        let fits = du.abs() * 7 < 15 << 16 && dv.abs() * 7 < 1 << 16;
        let (lo, hi) = if fits {
            inner_bytes(scan, (u, v), (du, dv), dst.len())
        } else {
            (0, 0)
        };
        let at = |k: usize| (u + 8 * k as i64 * du, v + 8 * k as i64 * dv);
        let plain = |k: usize| {
            let (u, v) = at(k);
            let on_scan = scan.has(u, v) && scan.has(u + 7 * du, v + 7 * dv);
            plain_byte(scan, (u, v), (du, dv), on_scan)
        };
        for (k, byte) in dst[..lo].iter_mut().enumerate() {
            *byte = plain(k);
        }
        for (k, byte) in dst.iter_mut().enumerate().skip(hi.max(lo)) {
            *byte = plain(k);
        }
        if lo >= hi {
            return;
        }
        let (du32, dv32) = (du as i32, dv as i32);
        let (cols, rows) = (offsets(du32), offsets(dv32));
        // From a byte's first pixel to its leftmost, upper and lower one (steps are negative
        // on a page upside down).
        let (left, top, bottom) = ((7 * du).min(0), (7 * dv).min(0), (7 * dv).max(0));
        let (mut u, mut v) = at(lo);
        for (k, byte) in dst[lo..hi].iter_mut().enumerate() {
            // A hint only: it reads nothing and cannot fault, even off the scan. Once for the
            // four bytes that share about a cache line.
            if k % 4 == 0 {
                let (ua, va) = ((u + ahead.0) >> 16, (v + ahead.1) >> 16);
                let i = va.wrapping_mul(scan.width as i64).wrapping_add(ua);
                _mm_prefetch::<_MM_HINT_T0>(
                    scan.pixels.as_ptr().wrapping_offset(i as isize).cast(),
                );
            }
            let x = ((u + left) >> 16) as usize;
            let (y, y_last) = (((v + top) >> 16) as usize, ((v + bottom) >> 16) as usize);
            // Column of each pixel within the 16 bytes from `x`.
            let index = whole(u - ((x as i64) << 16), cols);
            let row_at = |row: usize| &scan.pixels[row * scan.width + x..][..16];
            let upper = gather(row_at(y), index);
            *byte = if y_last == y {
                upper
            } else {
                // Pixels on row `y` take its bits, the others the next row's.
                let row = whole(v - ((y as i64) << 16), rows);
                let on_upper = _mm_movemask_epi8(_mm_cmpeq_epi8(row, _mm_setzero_si128())) as u8;
                (upper & on_upper) | (gather(row_at(y + 1), index) & !on_upper)
            };
            u += 8 * du;
            v += 8 * dv;
        }
    }

    /// The bytes `lo..hi` of a row of `len` from (`u`, `v`) whose eight pixels are all on the
    /// scan, with the 16 bytes from the leftmost on its row: an interval, since each condition
    /// bounds a position that is linear in the byte's index. The steps must fit the shuffle
    /// (`7 |du| < 15` and `7 |dv| < 1` pixels), which makes the rightmost pixel and the lower
    /// row follow.
    fn inner_bytes(
        scan: &Scan,
        (u, v): (i64, i64),
        (du, dv): (i64, i64),
        len: usize,
    ) -> (usize, usize) {
        let (w, h) = ((scan.width as i64) << 16, (scan.height as i64) << 16);
        let spans = [
            // The leftmost pixel's column, 0 ..= width - 16.
            span(u + (7 * du).min(0), 8 * du, 0, w - (15 << 16)),
            // The upper and lower pixels' rows.
            span(v + (7 * dv).min(0), 8 * dv, 0, h),
            span(v + (7 * dv).max(0), 8 * dv, 0, h),
        ];
        let lo = spans.iter().map(|s| s.0).fold(0, i64::max);
        let hi = spans.iter().map(|s| s.1).fold(len as i64, i64::min);
        (
            lo.clamp(0, len as i64) as usize,
            hi.clamp(0, len as i64) as usize,
        )
    }

    /// The indices `k` with `lo <= a + k * d < hi`, as a half-open range (empty when its start
    /// is not below its end).
    fn span(a: i64, d: i64, lo: i64, hi: i64) -> (i64, i64) {
        let floor = |x: i64, d: i64| x.div_euclid(d);
        let ceil = |x: i64, d: i64| -(-x).div_euclid(d);
        match d.signum() {
            0 if lo <= a && a < hi => (i64::MIN, i64::MAX),
            0 => (0, 0),
            1 => (ceil(lo - a, d), ceil(hi - a, d)),
            _ => (floor(a - hi, -d) + 1, floor(a - lo, -d) + 1),
        }
    }
}

/// Encodes a page image as an 8-bit grey PNG (for review screens).
pub fn encode_png(image: &PageImage) -> Result<Vec<u8>, image::ImageError> {
    let mut out = Vec::new();
    PngEncoder::new(&mut out).write_image(
        &image.pixels,
        image.width,
        image.height,
        image::ExtendedColorType::L8,
    )?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain definition: every output pixel mapped and interpolated on its own.
    fn reference(page: &PageImage, t: &Transform, rect: &Rect, ppm: f64) -> Vec<u8> {
        let w = (rect.w / PT_PER_MM * ppm).round().max(1.0) as u32;
        let h = (rect.h / PT_PER_MM * ppm).round().max(1.0) as u32;
        let step = PT_PER_MM / ppm;
        let get = |x: i64, y: i64| {
            page.get(x as u32, y as u32)
                .filter(|_| x >= 0 && y >= 0)
                .map_or(255.0, f64::from)
        };
        let mut out = Vec::new();
        for oy in 0..h {
            for ox in 0..w {
                let (u, v) = t.apply(
                    rect.x + (ox as f64 + 0.5) * step,
                    rect.y + (oy as f64 + 0.5) * step,
                );
                let (u, v) = (u - 0.5, v - 0.5);
                let (x0, y0) = (u.floor(), v.floor());
                let (fx, fy) = (u - x0, v - y0);
                let (x0, y0) = (x0 as i64, y0 as i64);
                let top = get(x0, y0) * (1.0 - fx) + get(x0 + 1, y0) * fx;
                let bottom = get(x0, y0 + 1) * (1.0 - fx) + get(x0 + 1, y0 + 1) * fx;
                out.push((top * (1.0 - fy) + bottom * fy).round() as u8);
            }
        }
        out
    }

    /// The shuffle path against the plain one over rows of every kind: steps both ways, fine
    /// and coarse, skew crossing rows up and down, rows running off every side of the scan and
    /// ending within 16 bytes of its right edge.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn shuffled_rows_are_the_plain_rows() {
        if !std::arch::is_x86_feature_detected!("ssse3") {
            return;
        }
        let (width, height) = (97usize, 61usize);
        let pixels: Vec<u8> = (0..width * height)
            .map(|i| (i as u32).wrapping_mul(2_654_435_761).to_be_bytes()[0])
            .collect();
        let scan = Scan {
            pixels: &pixels,
            width,
            height,
        };
        let mut seed = 7u64;
        let mut next = |range: i64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((seed >> 33) as i64).rem_euclid(2 * range + 1) - range
        };
        for case in 0..20_000 {
            // Rows long enough to run from off the scan across it and off again.
            let len = 1 + case % 40;
            let (mut shuffled, mut plain) = (vec![0u8; len], vec![0u8; len]);
            // Steps up to 2.5 pixels across (the shuffle's limit is about 2.1) and a few
            // degrees of skew; starts from off the scan on one side to off it on the other.
            let step = (next(5 << 15), next(1 << 13));
            let at = (
                next(width as i64 * 65_536) + (width as i64) * 32_768,
                next(height as i64 * 40_000) + (height as i64) * 32_768,
            );
            let ahead = (next(1 << 18), next(1 << 18));
            // SAFETY: SSSE3 checked above.
            unsafe { ssse3::pack_row(&scan, at, step, ahead, &mut shuffled) };
            pack_row_plain(&scan, at, step, &mut plain);
            assert_eq!(shuffled, plain, "case {case}: from {at:?} by {step:?}");
        }
    }

    /// A 300 × 200 page of hashed grey, so that every pixel differs from its neighbours.
    fn hashed_page(dpi_x: f32, dpi_y: f32) -> PageImage {
        let (w, h) = (300u32, 200u32);
        let pixels = (0..w * h)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        PageImage::new(w, h, dpi_x, dpi_y, pixels)
    }

    #[test]
    fn stepping_matches_per_pixel_mapping() {
        let page = hashed_page(200.0, 100.0);
        // Rotated by about 2°, non-square pixels, and a rectangle running off the image.
        let t = Transform {
            m: [2.776, -0.05, 3.0, 0.048, 1.388, -2.0],
        };
        let rect = Rect {
            x: -5.0,
            y: 10.0,
            w: 120.0,
            h: 160.0,
        };
        let fast = crop(&page, &t, &rect, 6.0);
        let slow = reference(&page, &t, &rect, 6.0);
        assert_eq!(fast.pixels.len(), slow.len());
        let worst = fast
            .pixels
            .iter()
            .zip(&slow)
            .map(|(a, b)| (*a as i32 - *b as i32).abs())
            .max()
            .unwrap();
        assert!(worst <= 1, "differs by {worst}");
    }

    #[test]
    fn nearest_crops_take_the_pixel_under_each_centre() {
        let page = hashed_page(150.0, 150.0);
        let (w, h) = (page.width, page.height);
        let mut state = 0x1234_5678u32;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            f64::from(state) / f64::from(u32::MAX)
        };
        for round in 0..300 {
            // Turned either way up to 4° (none every tenth time), upside down every third time,
            // scaled, shifted, often running off the page.
            let turn = if round % 10 == 0 {
                0.0
            } else {
                (next() - 0.5) * 8.0
            };
            let a = turn.to_radians()
                + if round % 3 == 0 {
                    std::f64::consts::PI
                } else {
                    0.0
                };
            let k = 150.0 / 72.0 * (0.9 + 0.2 * next());
            let t = Transform {
                m: [
                    k * a.cos(),
                    -k * a.sin(),
                    (next() - 0.3) * 400.0,
                    k * a.sin(),
                    k * a.cos(),
                    (next() - 0.3) * 300.0,
                ],
            };
            let rect = Rect {
                x: (next() - 0.2) * 100.0,
                y: (next() - 0.2) * 100.0,
                w: 5.0 + next() * 150.0,
                h: 5.0 + next() * 100.0,
            };
            let ppm = 4.0 + next() * 4.0;
            let got = crop_nearest(&page, &t, &rect, ppm);
            // The same stepping, one pixel at a time.
            let s = Stepping::new(&t, &rect, ppm);
            let mut want = Vec::new();
            for oy in 0..s.h {
                let (mut u, mut v) = s.row_start(oy, 0.0);
                for _ in 0..s.w {
                    let (x, y) = (u >> 16, v >> 16);
                    let inside = (0..i64::from(w)).contains(&x) && (0..i64::from(h)).contains(&y);
                    want.push(if inside {
                        page.pixels[(y * i64::from(w) + x) as usize]
                    } else {
                        255
                    });
                    u += s.du_x;
                    v += s.dv_x;
                }
            }
            assert!(got.pixels == want, "round {round}");
        }
    }

    #[test]
    fn packed_crops_are_the_nearest_pixels_of_a_fax_page() {
        let (w, h) = (301u32, 203u32);
        let pixels = (0..w * h)
            .map(|i: u32| {
                if (i.wrapping_mul(2_654_435_761) >> 31) == 0 {
                    0
                } else {
                    255
                }
            })
            .collect();
        let mut page = PageImage::new(w, h, 204.0, 98.0, pixels);
        page.bilevel = true;
        let t = Transform {
            m: [2.776, -0.05, 3.0, 0.048, 1.388, -2.0],
        };
        // Skewed the other way (rows change upwards along a row), and upside down.
        let other_way = Transform {
            m: [2.776, 0.05, 3.0, -0.048, 1.388, 2.0],
        };
        let turned = t.turned(105.0, 120.0);
        // Running off the image on the left, and a width that is no multiple of 8.
        let rect = Rect {
            x: -5.0,
            y: 10.0,
            w: 119.0,
            h: 160.0,
        };
        // And one wholly on the image (rows take the path without bounds per pixel).
        let inner = Rect {
            x: 10.0,
            y: 10.0,
            w: 85.0,
            h: 100.0,
        };
        for (t, rect) in [t, other_way, turned]
            .into_iter()
            .flat_map(|t| [(t, rect), (t, inner)])
        {
            let bytes = crop(&page, &t, &rect, 6.0);
            let bits = crop_bits(&page, &t, &rect, 6.0);
            assert_eq!((bits.width, bits.height), (bytes.width, bytes.height));
            assert_ne!(bits.width % 8, 0);
            for y in 0..bytes.height {
                for x in 0..bytes.width {
                    let white = bytes.get(x, y).unwrap() >= 128;
                    assert_eq!(
                        bits.is_white(x, y),
                        Some(white),
                        "({x}, {y}) of {rect:?} by {t:?}"
                    );
                }
            }
        }
        let bytes = crop(&page, &t, &rect, 6.0);
        let bits = crop_bits(&page, &t, &rect, 6.0);
        // Both colours occur, and the PNG decodes to the same pixels.
        assert!(bytes.pixels.contains(&0) && bytes.pixels.contains(&255));
        let decoded = image::load_from_memory(&bits.encode_png())
            .unwrap()
            .to_luma8();
        assert_eq!(decoded.as_raw(), &bytes.pixels);
    }
}
