//! Files: PDF with one image per page, PNG and JPEG (TIFF is in [`crate::tiff`]).

use std::io::Cursor;

use lopdf::{Dictionary, Object, Stream, dictionary};

use capsurvey_scan::PageImage;

use crate::ccitt::{self, Coding};

/// A colour page: RGB bytes, row-major, no padding.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbImage {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Horizontal resolution.
    pub dpi_x: f32,
    /// Vertical resolution.
    pub dpi_y: f32,
    /// `width * height * 3` bytes.
    pub pixels: Vec<u8>,
}

/// A page to write: grey (or 1-bit, when the image is bilevel) or colour.
#[derive(Debug, Clone, Copy)]
pub enum Picture<'a> {
    /// Grey; written as 1-bit where the format allows when `bilevel` is set.
    Grey(&'a PageImage),
    /// Colour.
    Rgb(&'a RgbImage),
}

impl<'a> From<&'a PageImage> for Picture<'a> {
    fn from(p: &'a PageImage) -> Self {
        Picture::Grey(p)
    }
}

impl<'a> From<&'a RgbImage> for Picture<'a> {
    fn from(p: &'a RgbImage) -> Self {
        Picture::Rgb(p)
    }
}

impl Picture<'_> {
    /// Width in pixels.
    pub fn width(&self) -> u32 {
        match self {
            Picture::Grey(g) => g.width,
            Picture::Rgb(c) => c.width,
        }
    }
    /// Height in pixels.
    pub fn height(&self) -> u32 {
        match self {
            Picture::Grey(g) => g.height,
            Picture::Rgb(c) => c.height,
        }
    }
    /// Resolution.
    pub fn dpi(&self) -> (f32, f32) {
        match self {
            Picture::Grey(g) => (g.dpi_x, g.dpi_y),
            Picture::Rgb(c) => (c.dpi_x, c.dpi_y),
        }
    }
    /// Whether the page is black and white only.
    pub fn bilevel(&self) -> bool {
        matches!(self, Picture::Grey(g) if g.bilevel)
    }
    /// Grey values (luma for colour).
    pub fn grey(&self) -> std::borrow::Cow<'_, [u8]> {
        match self {
            Picture::Grey(g) => std::borrow::Cow::Borrowed(&g.pixels),
            Picture::Rgb(c) => std::borrow::Cow::Owned(
                c.pixels
                    .chunks_exact(3)
                    .map(|p| {
                        ((u32::from(p[0]) * 77
                            + u32::from(p[1]) * 150
                            + u32::from(p[2]) * 29
                            + 128)
                            >> 8) as u8
                    })
                    .collect(),
            ),
        }
    }
}

/// PNG with the resolution in `pHYs` (so 204 × 98 dpi pages keep their aspect): 1-bit for
/// bilevel pages, 8-bit grey or RGB otherwise.
pub fn write_png(page: Picture<'_>) -> Vec<u8> {
    let (w, h) = (page.width(), page.height());
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        let (dx, dy) = page.dpi();
        enc.set_pixel_dims(Some(png::PixelDimensions {
            xppu: (f64::from(dx) / 0.0254).round() as u32,
            yppu: (f64::from(dy) / 0.0254).round() as u32,
            unit: png::Unit::Meter,
        }));
        let data = match page {
            Picture::Grey(g) if g.bilevel => {
                enc.set_color(png::ColorType::Grayscale);
                enc.set_depth(png::BitDepth::One);
                // PNG 1-bit grey: 1 is white.
                let mut packed = crate::tiff::pack_min_is_white(&g.pixels, w as usize, h as usize);
                packed.iter_mut().for_each(|b| *b = !*b);
                packed
            }
            Picture::Grey(g) => {
                enc.set_color(png::ColorType::Grayscale);
                enc.set_depth(png::BitDepth::Eight);
                g.pixels.clone()
            }
            Picture::Rgb(c) => {
                enc.set_color(png::ColorType::Rgb);
                enc.set_depth(png::BitDepth::Eight);
                c.pixels.clone()
            }
        };
        let mut writer = enc.write_header().expect("PNG header to memory");
        writer.write_image_data(&data).expect("PNG data to memory");
        writer.finish().expect("PNG end to memory");
    }
    out
}

/// JPEG (baseline, JFIF density in dots per inch) at `quality` 1–100.
pub fn write_jpeg(page: Picture<'_>, quality: u8) -> Vec<u8> {
    use image::codecs::jpeg::{JpegEncoder, PixelDensity, PixelDensityUnit};
    let mut out = Vec::new();
    let mut enc = JpegEncoder::new_with_quality(Cursor::new(&mut out), quality.clamp(1, 100));
    let (dx, dy) = page.dpi();
    enc.set_pixel_density(PixelDensity {
        density: (dx.round() as u16, dy.round() as u16),
        unit: PixelDensityUnit::Inches,
    });
    let (w, h) = (page.width(), page.height());
    match page {
        Picture::Grey(g) => enc.encode(&g.pixels, w, h, image::ExtendedColorType::L8),
        Picture::Rgb(c) => enc.encode(&c.pixels, w, h, image::ExtendedColorType::Rgb8),
    }
    .expect("JPEG to memory");
    out
}

/// PDF with one image filling each page: bilevel pages as CCITT G4 (`K -1`, `BlackIs1 false`),
/// grey and colour pages as JPEG (`DCTDecode`). The MediaBox is the image size at its
/// resolution, so a reader recovers the dpi: A4 for scans; fax pages are 1728 pixels = 215 mm
/// wide, as fax machines send them.
pub fn write_pdf(pages: &[Picture<'_>]) -> Vec<u8> {
    let mut doc = lopdf::Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut kids = Vec::new();
    for page in pages {
        let (w, h) = (page.width(), page.height());
        let (dx, dy) = page.dpi();
        let (pw, ph) = (
            f64::from(w) * 72.0 / f64::from(dx),
            f64::from(h) * 72.0 / f64::from(dy),
        );
        let mut dict = dictionary! {
            "Type" => "XObject",
            "Subtype" => "Image",
            "Width" => i64::from(w),
            "Height" => i64::from(h),
        };
        let data = if page.bilevel() {
            let grey = page.grey();
            dict.set("BitsPerComponent", 1);
            dict.set("ColorSpace", "DeviceGray");
            dict.set("Filter", "CCITTFaxDecode");
            dict.set(
                "DecodeParms",
                dictionary! {
                    "K" => -1,
                    "Columns" => i64::from(w),
                    "Rows" => i64::from(h),
                    "BlackIs1" => false,
                },
            );
            ccitt::encode(&grey, w as usize, h as usize, Coding::G4)
        } else {
            dict.set("BitsPerComponent", 8);
            dict.set(
                "ColorSpace",
                if matches!(page, Picture::Rgb(_)) {
                    "DeviceRGB"
                } else {
                    "DeviceGray"
                },
            );
            dict.set("Filter", "DCTDecode");
            write_jpeg(*page, 85)
        };
        let image_id = doc.add_object(Stream::new(dict, data).with_compression(false));
        let content = format!("q {pw:.3} 0 0 {ph:.3} 0 0 cm /Im0 Do Q\n");
        let content_id = doc.add_object(
            Stream::new(Dictionary::new(), content.into_bytes()).with_compression(false),
        );
        let page_id = doc.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => pages_id,
            "MediaBox" => vec![0.into(), 0.into(), Object::Real(pw as f32), Object::Real(ph as f32)],
            "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
            "Contents" => content_id,
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages",
            "Kids" => kids,
            "Count" => count,
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let info =
        doc.add_object(dictionary! { "Producer" => Object::string_literal("capsurvey-faxsim") });
    doc.trailer.set("Info", info);
    let mut out = Vec::new();
    doc.save_to(&mut out).expect("PDF to memory");
    out
}
