//! Deskewed crops for review, and PNG encoding.

use capsurvey_layout::Rect;
use image::ImageEncoder;
use image::codecs::png::PngEncoder;

use super::transform::{PT_PER_MM, Transform};
use crate::PageImage;

/// Cuts `rect` (page points) out of `page` as an upright image at `pixels_per_mm` in both
/// directions, whatever the scan's skew, orientation and pixel shape: each output pixel is
/// mapped through `transform` (page points to image pixels, as in [`super::Identified`]) and
/// interpolated bilinearly (a 1-bit page: nearest pixel, and the crop is 1-bit too). Parts
/// outside the scan are white.
pub fn crop(page: &PageImage, transform: &Transform, rect: &Rect, pixels_per_mm: f64) -> PageImage {
    let ppm = if pixels_per_mm.is_finite() && pixels_per_mm > 0.0 {
        pixels_per_mm
    } else {
        8.0
    };
    let w = ((rect.w / PT_PER_MM * ppm).round().max(1.0) as u32).min(20_000);
    let h = ((rect.h / PT_PER_MM * ppm).round().max(1.0) as u32).min(20_000);
    let step = 1.0 / ppm * PT_PER_MM;
    let (pw, ph) = (page.width as i64, page.height as i64);
    let px = |x: i64, y: i64| -> i64 {
        if x < 0 || y < 0 || x >= pw || y >= ph {
            255
        } else {
            page.pixels[(y * pw + x) as usize] as i64
        }
    };
    // The map is affine: step along rows and columns by constant increments in 16.16 fixed
    // point instead of transforming every output pixel (page images are a million pixels, and
    // `f64::floor` is a library call on baseline x86-64).
    const ONE: f64 = 65536.0;
    let m = &transform.m;
    let fixed = |v: f64| (v * ONE).round() as i64;
    let (du_x, dv_x) = (fixed(m[0] * step), fixed(m[3] * step));
    let (du_y, dv_y) = (m[1] * step, m[4] * step);
    // Pixel centres are at +0.5.
    let (u0, v0) = transform.apply(rect.x + 0.5 * step, rect.y + 0.5 * step);
    let (u0, v0) = (u0 - 0.5, v0 - 0.5);
    let row = page.width as usize;
    let p = &page.pixels;
    let mut pixels = Vec::with_capacity(w as usize * h as usize);
    if page.bilevel {
        // A 1-bit page has no grey to interpolate: the nearest pixel is as good and four times
        // cheaper (page images of every fax page are made this way).
        let (u0, v0) = (u0 + 0.5, v0 + 0.5);
        for oy in 0..h {
            let mut u = fixed(u0 + du_y * oy as f64);
            let mut v = fixed(v0 + dv_y * oy as f64);
            for _ in 0..w {
                let (x, y) = (u >> 16, v >> 16);
                pixels.push(if x >= 0 && y >= 0 && x < pw && y < ph {
                    p[y as usize * row + x as usize]
                } else {
                    255
                });
                u += du_x;
                v += dv_x;
            }
        }
        let dpi = (ppm * 25.4) as f32;
        let mut out = PageImage::new(w, h, dpi, dpi, pixels);
        out.bilevel = true;
        return out;
    }
    for oy in 0..h {
        let mut u = fixed(u0 + du_y * oy as f64);
        let mut v = fixed(v0 + dv_y * oy as f64);
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
            u += du_x;
            v += dv_x;
        }
    }
    let dpi = (ppm * 25.4) as f32;
    PageImage::new(w, h, dpi, dpi, pixels)
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

    #[test]
    fn stepping_matches_per_pixel_mapping() {
        let (w, h) = (300u32, 200u32);
        let pixels = (0..w * h)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let page = PageImage::new(w, h, 200.0, 100.0, pixels);
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
}
