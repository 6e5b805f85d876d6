//! Deskewed crops for review, and PNG encoding.

use capsurvey_layout::Rect;
use image::ImageEncoder;
use image::codecs::png::PngEncoder;

use super::transform::{PT_PER_MM, Transform};
use crate::PageImage;

/// Cuts `rect` (page points) out of `page` as an upright image at `pixels_per_mm` in both
/// directions, whatever the scan's skew, orientation and pixel shape: each output pixel is
/// mapped through `transform` (page points to image pixels, as in [`super::Identified`]) and
/// interpolated bilinearly. Parts outside the scan are white.
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
    let px = |x: i64, y: i64| -> f64 {
        if x < 0 || y < 0 || x >= pw || y >= ph {
            255.0
        } else {
            page.pixels[(y * pw + x) as usize] as f64
        }
    };
    let mut pixels = Vec::with_capacity(w as usize * h as usize);
    for oy in 0..h {
        for ox in 0..w {
            let (x, y) = (
                rect.x + (ox as f64 + 0.5) * step,
                rect.y + (oy as f64 + 0.5) * step,
            );
            let (u, v) = transform.apply(x, y);
            // Pixel centres are at +0.5.
            let (u, v) = (u - 0.5, v - 0.5);
            let (x0, y0) = (u.floor(), v.floor());
            let (fx, fy) = (u - x0, v - y0);
            let (x0, y0) = (x0 as i64, y0 as i64);
            let top = px(x0, y0) * (1.0 - fx) + px(x0 + 1, y0) * fx;
            let bottom = px(x0, y0 + 1) * (1.0 - fx) + px(x0 + 1, y0 + 1) * fx;
            pixels.push((top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8);
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
