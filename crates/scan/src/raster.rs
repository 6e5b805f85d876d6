//! PNG and JPEG pages (one page per file), decoded by the `image` crate.
//!
//! Resolution comes from the PNG `pHYs` chunk or the JPEG JFIF header (`APP0`). Without one —
//! or with an aspect ratio only — [`DEFAULT_DPI`] (200 dpi) is assumed and
//! [`PageImage::dpi_assumed`] is set. EXIF resolutions are not read.

use std::io::Cursor;

use image::codecs::jpeg::JpegDecoder;
use image::codecs::png::PngDecoder;
use image::{DynamicImage, ImageDecoder, ImageError};

use crate::error::PageErrorKind;
use crate::jpeg;
use crate::page::{
    DEFAULT_DPI, PageImage, at_recognition_dpi, check_dimensions, luma, over_white, sane_dpi,
};

/// Decodes a whole PNG file.
pub(crate) fn decode_png(bytes: &[u8]) -> Result<PageImage, PageErrorKind> {
    let decoder = PngDecoder::new(Cursor::new(bytes)).map_err(|e| image_error(e, "PNG"))?;
    let (width, height, pixels) = decode_grey(decoder, "PNG")?;
    let bilevel = pixels.iter().all(|&p| p == 0 || p == 255);
    let dpi = png_dpi(bytes);
    Ok(page(width, height, pixels, bilevel, dpi))
}

/// Decodes a JPEG file. A scan finer than twice [`crate::RECOGNITION_DPI`] comes out reduced in the
/// DCT domain by the largest power of two that keeps it at that resolution or finer (a 300-dpi
/// scan at 150 dpi), the resolution recognition reads it at anyway; see [`crate::jpeg`].
pub(crate) fn decode_jpeg(bytes: &[u8]) -> Result<PageImage, PageErrorKind> {
    let dpi = jfif_dpi(bytes);
    if let Some((dpi_x, dpi_y)) = dpi
        && let Some(s) = jpeg_grey_scaled(bytes, dpi_x.min(dpi_y))?
    {
        let scaled = Some((dpi_x / s.factor as f32, dpi_y / s.factor as f32));
        return Ok(page(s.width, s.height, s.pixels, false, scaled));
    }
    let (width, height, pixels) = jpeg_grey(bytes)?;
    Ok(page(width, height, pixels, false, dpi))
}

/// Grey pixels decoded at 1/`factor` of the stored size.
pub(crate) struct ScaledJpeg {
    pub factor: u32,
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

/// A JPEG at `dpi` (the coarser axis) reduced in the DCT domain by the largest factor of 8, 4
/// or 2 that keeps it at [`crate::RECOGNITION_DPI`] or finer. `None` when it is not that fine
/// or not a JPEG [`jpeg`] reads; then decode it whole with [`jpeg_grey`].
pub(crate) fn jpeg_grey_scaled(
    bytes: &[u8],
    dpi: f32,
) -> Result<Option<ScaledJpeg>, PageErrorKind> {
    let Some(d) = [8u32, 4, 2]
        .into_iter()
        .find(|&d| at_recognition_dpi(dpi / d as f32))
    else {
        return Ok(None);
    };
    let Some(parsed) = jpeg::parse(bytes) else {
        return Ok(None);
    };
    let (w, h) = parsed.stored_size();
    check_dimensions(w.into(), h.into())?;
    if !jpeg_is_complete(bytes) {
        return Ok(None);
    }
    Ok(parsed
        .decode_luma_scaled(bytes, d)
        .map(|(width, height, pixels)| ScaledJpeg {
            factor: d,
            width,
            height,
            pixels,
        }))
}

/// JPEG data to (width, height, grey pixels); also used for PDF `DCTDecode` images.
pub(crate) fn jpeg_grey(bytes: &[u8]) -> Result<(u32, u32, Vec<u8>), PageErrorKind> {
    // The JPEG decoder fills a cut-off image with grey instead of failing: check for the end.
    if !jpeg_is_complete(bytes) {
        return Err(PageErrorKind::truncated(
            "the JPEG data has no end-of-image marker",
        ));
    }
    let decoder = JpegDecoder::new(Cursor::new(bytes)).map_err(|e| image_error(e, "JPEG"))?;
    decode_grey(decoder, "JPEG")
}

fn page(
    width: u32,
    height: u32,
    pixels: Vec<u8>,
    bilevel: bool,
    dpi: Option<(f32, f32)>,
) -> PageImage {
    let (dpi_x, dpi_y) = dpi.unwrap_or((DEFAULT_DPI, DEFAULT_DPI));
    PageImage {
        width,
        height,
        dpi_x,
        dpi_y,
        pixels,
        bilevel,
        dpi_assumed: dpi.is_none(),
    }
}

fn decode_grey(
    decoder: impl ImageDecoder,
    format: &'static str,
) -> Result<(u32, u32, Vec<u8>), PageErrorKind> {
    let (width, height) = decoder.dimensions();
    check_dimensions(width.into(), height.into())?;
    let image = DynamicImage::from_decoder(decoder).map_err(|e| image_error(e, format))?;
    Ok((width, height, to_grey(image)))
}

/// Any decoded image to grey, transparent parts over white.
fn to_grey(image: DynamicImage) -> Vec<u8> {
    match image {
        DynamicImage::ImageLuma8(buf) => buf.into_raw(),
        DynamicImage::ImageLumaA8(buf) => buf
            .chunks_exact(2)
            .map(|p| over_white(p[0], p[1]))
            .collect(),
        DynamicImage::ImageRgb8(buf) => buf
            .chunks_exact(3)
            .map(|p| luma(p[0], p[1], p[2]))
            .collect(),
        DynamicImage::ImageRgba8(buf) => rgba_grey(&buf),
        other @ DynamicImage::ImageLuma16(_) => other.to_luma8().into_raw(),
        other @ DynamicImage::ImageLumaA16(_) => other
            .to_luma_alpha8()
            .chunks_exact(2)
            .map(|p| over_white(p[0], p[1]))
            .collect(),
        other => rgba_grey(&other.to_rgba8()),
    }
}

fn rgba_grey(rgba: &[u8]) -> Vec<u8> {
    rgba.chunks_exact(4)
        .map(|p| over_white(luma(p[0], p[1], p[2]), p[3]))
        .collect()
}

fn image_error(e: ImageError, format: &'static str) -> PageErrorKind {
    match e {
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PageErrorKind::truncated(format!("{format} data ends early"))
        }
        ImageError::IoError(io) => PageErrorKind::Io(io),
        ImageError::Limits(l) => PageErrorKind::corrupt(format, l),
        ImageError::Unsupported(u) => PageErrorKind::unsupported(
            format!("this kind of {format} ({u})"),
            "save the scan again as a baseline PNG or JPEG, or as a TIFF",
        ),
        other => {
            let text = other.to_string();
            if text.contains("EOF") || text.contains("end of") || text.contains("No more bytes") {
                PageErrorKind::truncated(format!("{format}: {text}"))
            } else {
                PageErrorKind::corrupt(format, text)
            }
        }
    }
}

/// Resolution from the `pHYs` chunk (only with the unit "metre").
pub(crate) fn png_dpi(bytes: &[u8]) -> Option<(f32, f32)> {
    let mut pos = 8;
    while let Some(header) = bytes.get(pos..pos + 8) {
        let len = u32::from_be_bytes(header[..4].try_into().ok()?) as usize;
        let kind = &header[4..8];
        if kind == b"IDAT" || kind == b"IEND" {
            return None;
        }
        if kind == b"pHYs" {
            let data = bytes.get(pos + 8..pos + 8 + 9)?;
            let x = u32::from_be_bytes(data[..4].try_into().ok()?);
            let y = u32::from_be_bytes(data[4..8].try_into().ok()?);
            if data[8] != 1 {
                return None;
            }
            return Some((
                sane_dpi(f64::from(x) * 0.0254)?,
                sane_dpi(f64::from(y) * 0.0254)?,
            ));
        }
        pos = pos.checked_add(12)?.checked_add(len)?;
    }
    None
}

/// True if an end-of-image marker follows the first start-of-scan (inside entropy-coded data
/// 0xFF is always followed by 0x00 or a restart marker, so `FF D9` can only be the real end;
/// segments before the scan, such as an EXIF thumbnail with its own end marker, are skipped).
pub(crate) fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let mut pos = 2;
    while let Some(&[0xFF, marker]) = bytes.get(pos..pos + 2) {
        match marker {
            // Fill bytes and markers without a length.
            0xFF => pos += 1,
            0x01 | 0xD0..=0xD7 => pos += 2,
            // From the end: the marker is almost always the file's last two bytes.
            0xDA => return bytes[pos..].windows(2).rev().any(|w| w == [0xFF, 0xD9]),
            _ => {
                let Some(&[hi, lo]) = bytes.get(pos + 2..pos + 4) else {
                    return false;
                };
                pos += 2 + usize::from(u16::from_be_bytes([hi, lo]));
            }
        }
    }
    false
}

/// Resolution from the JFIF `APP0` segment (units 1 = dots per inch, 2 = dots per cm).
pub(crate) fn jfif_dpi(bytes: &[u8]) -> Option<(f32, f32)> {
    let mut pos = 2;
    while let Some(&[0xFF, marker, hi, lo]) = bytes.get(pos..pos + 4) {
        // Start of scan or of a frame: the APP segments come before.
        if marker == 0xDA || (0xC0..=0xCF).contains(&marker) && marker != 0xC4 && marker != 0xCC {
            return None;
        }
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if marker == 0xE0 {
            let seg = bytes.get(pos + 4..pos + 2 + len)?;
            if seg.len() >= 12 && &seg[..5] == b"JFIF\0" {
                let x = f64::from(u16::from_be_bytes([seg[8], seg[9]]));
                let y = f64::from(u16::from_be_bytes([seg[10], seg[11]]));
                let factor = match seg[7] {
                    1 => 1.0,
                    2 => 2.54,
                    _ => return None,
                };
                return Some((sane_dpi(x * factor)?, sane_dpi(y * factor)?));
            }
        }
        pos += 2 + len;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jfif_density() {
        // SOI, APP0 JFIF 1.01, units=1, 300×150 dpi.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 16];
        jpeg.extend_from_slice(b"JFIF\0");
        jpeg.extend_from_slice(&[1, 1, 1, 0x01, 0x2C, 0, 150, 0, 0]);
        jpeg.extend_from_slice(&[0xFF, 0xDA]);
        assert_eq!(jfif_dpi(&jpeg), Some((300.0, 150.0)));
        jpeg[13] = 0; // aspect ratio only
        assert_eq!(jfif_dpi(&jpeg), None);
        assert_eq!(jfif_dpi(&[0xFF, 0xD8, 0xFF]), None);
    }

    #[test]
    fn jpeg_end_marker() {
        // SOI, APP1 holding a thumbnail's end marker, SOS, data, EOI.
        let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1, 0, 6, 0xFF, 0xD9, 0, 0];
        jpeg.extend_from_slice(&[0xFF, 0xDA, 0, 2, 0x12, 0xFF, 0x00, 0x34]);
        assert!(!jpeg_is_complete(&jpeg));
        jpeg.extend_from_slice(&[0xFF, 0xD9, 0, 0]);
        assert!(jpeg_is_complete(&jpeg));
    }

    #[test]
    fn png_density() {
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0, 0, 0, 9]);
        png.extend_from_slice(b"pHYs");
        png.extend_from_slice(&7874u32.to_be_bytes()); // 200 dpi
        png.extend_from_slice(&3937u32.to_be_bytes()); // 100 dpi
        png.push(1);
        png.extend_from_slice(&[0; 4]);
        let (x, y) = png_dpi(&png).unwrap();
        assert!((x - 200.0).abs() < 0.1 && (y - 100.0).abs() < 0.1);
        assert_eq!(png_dpi(&png[..20]), None);
    }
}
