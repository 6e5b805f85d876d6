//! One page, from pixels to what is to be stored: identification, reading, review images.
//!
//! Pure: a [`PageImage`] in memory and the [`Catalog`] in, a [`ProcessedPage`] out. No files, no
//! database; the writer stores the result.

use std::time::Instant;

use capsurvey_layout::{A4, PageCode, PageKind, PageLayout, Rect};
use capsurvey_scan::{
    BoxReading, BoxState, FieldStatus, Identified, PageImage, PageReading, Transform, Unidentified,
    crop, crop_bits, crop_nearest, read_page,
};
use capsurvey_survey::{FieldKind, Survey, Value};
use image::ImageEncoder as _;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use serde::Serialize;

use crate::calibration::{CalibrationReport, measure_calibration};
use crate::catalog::{Catalog, Version};

/// Resolution of the saved page images (4 px/mm, about 100 dpi): enough to read a page on screen.
pub const PAGE_PX_PER_MM: f64 = 4.0;
/// Resolution of review crops (6 px/mm, about 150 dpi): a faint tick is still visible.
pub const CROP_PX_PER_MM: f64 = 6.0;
/// Margin around a question in its crop, millimetres.
const CROP_MARGIN_MM: f64 = 2.0;
const PT_PER_MM: f64 = 72.0 / 25.4;

/// CPU time of each stage of one page, milliseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct StageTimes {
    /// Decoding the file's compression to pixels.
    pub decode: f64,
    /// Finding the registration marks and fitting the transform.
    pub registration: f64,
    /// Reading the page code.
    pub page_code: f64,
    /// Measuring and deciding the answer boxes.
    pub boxes: f64,
    /// Page image and review crops (resampling and PNG).
    pub images: f64,
    /// Writing to the database and the data folder.
    pub store: f64,
}

impl StageTimes {
    /// Adds another page's times.
    pub fn add(&mut self, o: &StageTimes) {
        self.decode += o.decode;
        self.registration += o.registration;
        self.page_code += o.page_code;
        self.boxes += o.boxes;
        self.images += o.images;
        self.store += o.store;
    }
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// A review image: a deskewed part of the page and where its boxes are in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Crop {
    /// File name stem: the question id (fields of one question share its crop).
    pub name: String,
    /// PNG bytes.
    pub png: std::sync::Arc<Vec<u8>>,
    /// Boxes of the field, in crop pixels.
    pub boxes: Vec<CropBox>,
}

/// A box drawn over a crop.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CropBox {
    /// Left, pixels.
    pub x: i64,
    /// Top, pixels.
    pub y: i64,
    /// Width, pixels.
    pub w: i64,
    /// Height, pixels.
    pub h: i64,
    /// Option code of a choice box.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// The machine's decision for the box.
    pub state: BoxState,
}

/// What a page turned out to be.
#[derive(Debug, Clone)]
pub enum PageOutcome {
    /// The page could not be decoded.
    Failed {
        /// The decoder's message (names the file and page).
        error: String,
    },
    /// No page code could be read: kept for a person to assign.
    Unidentified {
        /// Why, in a sentence.
        reason: String,
    },
    /// A valid page code that this database does not know (another database's form, a
    /// survey version never stored here, a page number past the form's end).
    UnknownCode {
        /// The code read.
        code: PageCode,
        /// Why it cannot be used.
        reason: String,
    },
    /// The cover letter: identified, nothing to read.
    Cover {
        /// Identification.
        id: Box<Identified>,
    },
    /// The calibration page, measured.
    Calibration {
        /// What the printer and fax did.
        report: Box<CalibrationReport>,
    },
    /// A questions page, read.
    Questions {
        /// Identification.
        id: Box<Identified>,
        /// Every box and field.
        reading: PageReading,
        /// Review crops of the fields that need a person, by field key.
        crops: Vec<(String, Crop)>,
    },
}

/// One page, ready to be stored.
#[derive(Debug, Clone)]
pub struct ProcessedPage {
    /// 0-based index in its file.
    pub index: u32,
    /// Content hash of the decoded page (none if it could not be decoded).
    pub hash: Option<String>,
    /// What it is.
    pub outcome: PageOutcome,
    /// The page as a PNG, upright and deskewed when identified (none if not decoded).
    pub image: Option<Vec<u8>>,
    /// Time spent per stage.
    pub times: StageTimes,
}

/// The identity of a decoded page: XXH3-128 over its size and pixels, in hex. The same page sent
/// again in another container (a TIFF re-saved as PDF) has the same hash; the resolution is left
/// out because containers state it with different rounding.
pub fn page_hash(page: &PageImage) -> String {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&page.width.to_le_bytes());
    h.update(&page.height.to_le_bytes());
    h.update(&page.pixels);
    format!("{:032x}", h.digest128())
}

/// Cuts `rect` (page points) out of the page, upright at `px_per_mm`, as a PNG made for speed
/// over size (one is written for every page received). A 1-bit page (a fax) gives a 1-bit PNG: a
/// fax has no grey to show, and packed bits are a fraction of the size and time. A grey page is
/// taken by the nearest pixel for the whole page's image. For review crops (`whole_page` false)
/// a faint tick must stay visible: they are interpolated when the scan is finer than the crop,
/// where the nearest pixel would skip some of the scan's, and otherwise (a 300-dpi scan is read
/// at 150 dpi, a crop is 152) taken by the nearest pixel too, which then steps less than a scan
/// pixel at a time and so keeps every stroke, at a third of the cost.
pub fn render(
    page: &PageImage,
    transform: &Transform,
    rect: &Rect,
    px_per_mm: f64,
    whole_page: bool,
) -> Vec<u8> {
    if page.bilevel {
        return crop_bits(page, transform, rect, px_per_mm).encode_png();
    }
    if whole_page {
        let image = crop_nearest(page, transform, rect, px_per_mm);
        return grey4_png(&image, paper_white_from(&image));
    }
    // Scan pixels per crop pixel along the crop's rows and down its columns.
    let step = PT_PER_MM / px_per_mm;
    let m = &transform.m;
    let scan_finer = m[0].hypot(m[3]) * step > 1.0 || m[1].hypot(m[4]) * step > 1.0;
    let image = if scan_finer {
        crop(page, transform, rect, px_per_mm)
    } else {
        crop_nearest(page, transform, rect, px_per_mm)
    };
    let mut out = Vec::new();
    PngEncoder::new_with_quality(&mut out, CompressionType::Fast, FilterType::Sub)
        .write_image(
            &image.pixels,
            image.width,
            image.height,
            image::ExtendedColorType::L8,
        )
        .expect("encoding a grey image into memory cannot fail");
    out
}

/// The grey level from which a whole-page image is shown as white paper: a little darker than
/// the paper's own level (the median of a sample: a form is mostly paper) by three times its
/// noise, at least 6 and at most 24 levels, so that light pencil (20 % of the way to black and
/// more, some 40 levels) always stays. 255 (nothing whitened) on a page that is mostly dark.
///
/// Paper whose grey lies near a boundary of the sixteen levels flickers between two of them
/// all over the page: such an image of a simulated scan was four times the size of the others
/// (340 KB against 75–90) and slower to compress. As white it compresses like any other, and
/// the page is easier to read, as scanners' background removal makes it. The review crops
/// keep every grey level.
fn paper_white_from(image: &PageImage) -> u8 {
    let mut hist = [0u32; 256];
    let mut n = 0u32;
    for row in image.pixels.chunks_exact(image.width as usize).step_by(4) {
        for &p in row.iter().step_by(4) {
            hist[usize::from(p)] += 1;
            n += 1;
        }
    }
    let level_at = |share: f64| {
        let target = (f64::from(n) * share).ceil() as u32;
        let mut seen = 0;
        (0..=255u8)
            .find(|&v| {
                seen += hist[usize::from(v)];
                seen >= target.max(1)
            })
            .unwrap_or(255)
    };
    let (median, p80) = (level_at(0.5), level_at(0.8));
    if median < 128 {
        return 255;
    }
    // For normal noise the 80th percentile lies 0.84 standard deviations above the median.
    let noise = f64::from(p80 - median) / 0.84;
    median - (3.0 * noise).round().clamp(6.0, 24.0) as u8
}

/// A grey image as a 4-bit grey PNG, pixels from `white_from` on shown white: sixteen levels
/// show a page whole (a light pencil mark keeps a few of them), and half the bytes halve the
/// time to compress it.
fn grey4_png(image: &PageImage, white_from: u8) -> Vec<u8> {
    let level = |p: u8| if p >= white_from { 0xFF } else { p };
    let row_bytes = image.width.div_ceil(2) as usize;
    let mut packed = vec![0u8; row_bytes * image.height as usize];
    for (src, dst) in image
        .pixels
        .chunks_exact(image.width as usize)
        .zip(packed.chunks_exact_mut(row_bytes))
    {
        // Whole pairs apart from an odd last pixel, so that the loop becomes vector instructions.
        let pairs = src.chunks_exact(2);
        if let [last] = pairs.remainder() {
            dst[row_bytes - 1] = (level(*last) & 0xF0) | 0x0F;
        }
        for (pair, out) in pairs.zip(dst.iter_mut()) {
            *out = (level(pair[0]) & 0xF0) | (level(pair[1]) >> 4);
        }
    }
    let mut out = Vec::with_capacity(packed.len() / 2);
    let mut enc = png::Encoder::new(&mut out, image.width, image.height);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::Four);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::Filter::Up);
    enc.write_header()
        .and_then(|mut w| w.write_image_data(&packed))
        .expect("encoding a 4-bit image into memory cannot fail");
    out
}

/// The whole sheet as an upright PNG at [`PAGE_PX_PER_MM`]. Without an identification the
/// image is only brought to square pixels (a fax standard page is twice as wide as tall in pixels).
fn page_image(page: &PageImage, transform: Option<&Transform>) -> Vec<u8> {
    match transform {
        Some(t) => render(page, t, &page_rect(), PAGE_PX_PER_MM, true),
        None => {
            let (dx, dy) = (page.dpi_x as f64, page.dpi_y as f64);
            let rect = Rect {
                x: 0.0,
                y: 0.0,
                w: page.width as f64 / dx * 72.0,
                h: page.height as f64 / dy * 72.0,
            };
            render(
                page,
                &Transform::nominal(dx, dy),
                &rect,
                PAGE_PX_PER_MM,
                true,
            )
        }
    }
}

fn page_rect() -> Rect {
    Rect {
        x: 0.0,
        y: 0.0,
        w: A4.width,
        h: A4.height,
    }
}

/// Where a page-point rectangle lies in an image of `origin` (page points) at `px_per_mm`.
pub fn to_pixels(r: &Rect, origin: &Rect, px_per_mm: f64) -> (i64, i64, i64, i64) {
    let k = px_per_mm / PT_PER_MM;
    (
        ((r.x - origin.x) * k).round() as i64,
        ((r.y - origin.y) * k).round() as i64,
        (r.w * k).round() as i64,
        (r.h * k).round() as i64,
    )
}

/// Identifies and reads one decoded page, at the resolution recognition needs
/// ([`PageImage::reduced_for_recognition`]: a 300-dpi grey scan is read, and its images cut, at
/// 150 dpi).
pub fn process(index: u32, page: PageImage, decode_ms: f64, catalog: &Catalog) -> ProcessedPage {
    let mut times = StageTimes {
        decode: decode_ms,
        ..Default::default()
    };
    // The hash is of the page as decoded, so that it does not change with how it is read.
    let hash = Some(page_hash(&page));
    let t = Instant::now();
    let page = page.reduced_for_recognition();
    times.decode += ms(t);
    let t = Instant::now();
    let registration = capsurvey_scan::register(&page);
    times.registration = ms(t);
    let t = Instant::now();
    let identified: Result<Identified, Unidentified> = match &registration {
        Ok(reg) => capsurvey_scan::read_code(&page, reg),
        Err(e) => Err(e.clone()),
    };
    times.page_code = ms(t);
    let id = match identified {
        Ok(id) => id,
        Err(why) => {
            let t = Instant::now();
            // The marks may have been found even though the code was not: use them to straighten
            // the image the person will look at.
            let transform = why.registration.as_ref().map(|r| r.transform);
            let image = page_image(&page, transform.as_ref());
            times.images = ms(t);
            return ProcessedPage {
                index,
                hash,
                outcome: PageOutcome::Unidentified {
                    reason: why.message(),
                },
                image: Some(image),
                times,
            };
        }
    };
    let t = Instant::now();
    let image = Some(page_image(&page, Some(&id.transform)));
    times.images = ms(t);
    if id.code == capsurvey_forms::calibration::CALIBRATION_CODE {
        let t = Instant::now();
        let report = measure_calibration(&page, &id);
        times.boxes = ms(t);
        return ProcessedPage {
            index,
            hash,
            outcome: PageOutcome::Calibration {
                report: Box::new(report),
            },
            image,
            times,
        };
    }
    let (version, layout) = match lookup(catalog, &id.code) {
        Ok(found) => found,
        Err(reason) => {
            return ProcessedPage {
                index,
                hash,
                outcome: PageOutcome::UnknownCode {
                    code: id.code,
                    reason,
                },
                image,
                times,
            };
        }
    };
    if layout.kind != PageKind::Questions {
        return ProcessedPage {
            index,
            hash,
            outcome: PageOutcome::Cover { id: Box::new(id) },
            image,
            times,
        };
    }
    let t = Instant::now();
    let reading = read_page(&page, &id, layout, &version.survey);
    times.boxes = ms(t);
    let t = Instant::now();
    let crops = review_crops(&page, &id.transform, &reading, layout);
    times.images += ms(t);
    ProcessedPage {
        index,
        hash,
        outcome: PageOutcome::Questions {
            id: Box::new(id),
            reading,
            crops,
        },
        image,
        times,
    }
}

/// The survey version and page layout a code names, or why it names none here.
pub fn lookup<'a>(
    catalog: &'a Catalog,
    code: &PageCode,
) -> Result<(&'a Version, &'a PageLayout), String> {
    let Some(version) = catalog.get(code.survey_version_id as i64) else {
        return Err(format!(
            "the page code names survey version {} which this database does not have \
             (a form printed from another database?)",
            code.survey_version_id
        ));
    };
    match version.layout.page(code.page) {
        Some(layout) => Ok((version, layout)),
        None => Err(format!(
            "the page code names page {} but {} has {} pages",
            code.page,
            version.label(),
            version.layout.pages.len()
        )),
    }
}

/// Crops of the fields a person must look at: the question's area, with the field's boxes.
pub fn review_crops(
    page: &PageImage,
    transform: &Transform,
    reading: &PageReading,
    layout: &PageLayout,
) -> Vec<(String, Crop)> {
    let mut out = Vec::new();
    // Several fields of one question (items, write-ins) share one crop of the question.
    let mut made: Vec<(String, std::sync::Arc<Vec<u8>>)> = Vec::new();
    for f in &reading.fields {
        if !matches!(
            f.status,
            FieldStatus::Review { .. } | FieldStatus::NeedsKeying
        ) {
            continue;
        }
        let boxes: Vec<(&capsurvey_layout::AnswerBox, &BoxReading)> = layout
            .boxes
            .iter()
            .zip(&reading.boxes)
            .filter(|(b, _)| b.key == f.key)
            .collect();
        let Some(area) = f
            .question_rect
            .or_else(|| union(boxes.iter().map(|(b, _)| b.rect)))
        else {
            continue;
        };
        let area = area.inflate(capsurvey_layout::mm(CROP_MARGIN_MM));
        let name = f.key.split('.').next().unwrap_or(&f.key).to_owned();
        let png_bytes = match made.iter().find(|(n, _)| *n == name) {
            Some((_, bytes)) => bytes.clone(),
            None => {
                let bytes =
                    std::sync::Arc::new(render(page, transform, &area, CROP_PX_PER_MM, false));
                made.push((name.clone(), bytes.clone()));
                bytes
            }
        };
        let boxes = boxes
            .iter()
            .map(|(b, r)| {
                let (x, y, w, h) = to_pixels(&b.rect, &area, CROP_PX_PER_MM);
                CropBox {
                    x,
                    y,
                    w,
                    h,
                    option: b.option.clone(),
                    state: r.state,
                }
            })
            .collect();
        out.push((
            f.key.clone(),
            Crop {
                name,
                png: png_bytes,
                boxes,
            },
        ));
    }
    out
}

fn union(rects: impl Iterator<Item = Rect>) -> Option<Rect> {
    rects.reduce(|a, b| {
        let (x0, y0) = (a.x.min(b.x), a.y.min(b.y));
        let (x1, y1) = ((a.x + a.w).max(b.x + b.w), (a.y + a.h).max(b.y + b.h));
        Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        }
    })
}

/// Ink share above which an uncertain choice box counts as marked in the machine's guess.
const GUESS_INK: f64 = 0.04;

/// The machine's best guess for a field it could not decide, shown to the reviewer and compared
/// with the person's decision for the accuracy figures: the boxes that are marked, or uncertain
/// with some ink in them, ignoring cancelled ones. `None` when that is nothing, or not a valid
/// answer (two options of a single choice).
pub fn guess(survey: &Survey, key: &str, boxes: &[BoxReading]) -> Option<Value> {
    let field = survey.fields().into_iter().find(|f| f.key() == key)?;
    let marked: Vec<&str> = boxes
        .iter()
        .filter(|b| b.key == key)
        .filter(|b| {
            b.state == BoxState::Marked || (b.state == BoxState::Uncertain && b.ink >= GUESS_INK)
        })
        .filter_map(|b| b.option.as_deref())
        .collect();
    let value = match field.kind {
        FieldKind::Single if marked.len() == 1 => Value::Choice(marked[0].to_owned()),
        FieldKind::YesNo if marked.len() == 1 => Value::from_yes_no_code(marked[0])?,
        FieldKind::Multiple if !marked.is_empty() => {
            let pos = |c: &str| {
                field
                    .question
                    .options
                    .iter()
                    .position(|o| o.code == c)
                    .unwrap_or(usize::MAX)
            };
            let mut codes: Vec<String> = marked.iter().map(|s| (*s).to_owned()).collect();
            codes.sort_by_key(|c| pos(c));
            Value::Choices(codes)
        }
        _ => return None,
    };
    field.check(&value).ok().map(|()| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_hash_depends_on_pixels_and_size() {
        let a = PageImage::blank(100, 50, 204.0, 98.0);
        let mut b = a.clone();
        assert_eq!(page_hash(&a), page_hash(&b));
        b.pixels[7] = 0;
        assert_ne!(page_hash(&a), page_hash(&b));
        let c = PageImage::blank(50, 100, 204.0, 98.0);
        assert_ne!(page_hash(&a), page_hash(&c));
        assert_eq!(page_hash(&a).len(), 32);
    }

    #[test]
    fn unidentified_pages_still_get_a_square_image() {
        // A fax standard page with nothing on it: 1728 × 1143 pixels at 204 × 98 dpi.
        let blank = PageImage::blank(1728, 1143, 204.0, 98.0);
        let p = process(0, blank, 0.0, &Catalog::default());
        assert!(matches!(p.outcome, PageOutcome::Unidentified { .. }));
        let png = p.image.expect("an image");
        let img = image::load_from_memory(&png).unwrap();
        // 215 mm × 296 mm at 4 px/mm.
        assert!((img.width() as i64 - 860).abs() <= 2, "{}", img.width());
        assert!((img.height() as i64 - 1186).abs() <= 4, "{}", img.height());
    }

    #[test]
    fn pixel_rects_are_relative_to_the_crop() {
        let origin = Rect {
            x: 72.0,
            y: 144.0,
            w: 100.0,
            h: 100.0,
        };
        let r = Rect {
            x: 72.0 + 72.0 / 25.4 * 10.0,
            y: 144.0,
            w: 72.0 / 25.4 * 5.0,
            h: 72.0 / 25.4 * 5.0,
        };
        assert_eq!(to_pixels(&r, &origin, 6.0), (60, 0, 30, 30));
    }

    #[test]
    fn review_crops_interpolate_only_scans_finer_than_the_crop() {
        let area = Rect {
            x: 100.0,
            y: 200.0,
            w: 150.0,
            h: 40.0,
        };
        for (dpi, interpolated) in [(150.0, false), (152.0, false), (200.0, true), (300.0, true)] {
            // Noise, so that interpolating and taking the nearest pixel differ everywhere.
            let (w, h) = (dpi as u32 * 4, dpi as u32 * 5);
            let mut state = 0x9E37_79B9u32;
            let pixels = (0..w * h)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            let page = PageImage::new(w, h, dpi, dpi, pixels);
            // Turned by 2° and 1 % small, as a scanned page is.
            let (k, a) = (f64::from(dpi) / 72.0 * 0.99, 2f64.to_radians());
            let t = Transform {
                m: [
                    k * a.cos(),
                    -k * a.sin(),
                    30.0,
                    k * a.sin(),
                    k * a.cos(),
                    20.0,
                ],
            };
            let png = render(&page, &t, &area, CROP_PX_PER_MM, false);
            let got = image::load_from_memory(&png)
                .unwrap()
                .into_luma8()
                .into_raw();
            let nearest = crop_nearest(&page, &t, &area, CROP_PX_PER_MM).pixels;
            let bilinear = crop(&page, &t, &area, CROP_PX_PER_MM).pixels;
            assert_ne!(nearest, bilinear);
            let want = if interpolated { bilinear } else { nearest };
            assert!(
                got == want,
                "{dpi} dpi: interpolated should be {interpolated}"
            );
        }
    }

    #[test]
    fn grey_page_images_keep_the_top_four_bits_of_every_pixel() {
        for width in [1u32, 6, 7] {
            let pixels: Vec<u8> = (0..width * 3).map(|i| (i * 37 % 256) as u8).collect();
            let image = PageImage::new(width, 3, 100.0, 100.0, pixels.clone());
            let decoded = image::load_from_memory(&grey4_png(&image, 255))
                .unwrap()
                .into_luma8();
            assert_eq!(decoded.dimensions(), (width, 3));
            // A 4-bit level l reads back as l * 17.
            let want: Vec<u8> = pixels.iter().map(|p| (p >> 4) * 17).collect();
            assert_eq!(decoded.into_raw(), want, "width {width}");
        }
    }

    #[test]
    fn paper_noise_turns_white_and_pencil_and_ink_stay() {
        // Paper at 228 with noise of ±6 (about 3.5 levels standard deviation), a tenth of the
        // page light pencil (40 levels darker), a tenth ink.
        let mut state = 1u32;
        let pixels: Vec<u8> = (0..200 * 200)
            .map(|i| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                let noise = ((state >> 16) % 13) as i32 - 6;
                match i % 10 {
                    0 => 188,
                    1 => 30,
                    _ => (228 + noise) as u8,
                }
            })
            .collect();
        let image = PageImage::new(200, 200, 100.0, 100.0, pixels.clone());
        let white_from = paper_white_from(&image);
        assert!((204..=215).contains(&white_from), "{white_from}");
        let decoded = image::load_from_memory(&grey4_png(&image, white_from))
            .unwrap()
            .into_luma8()
            .into_raw();
        for (i, (&p, &d)) in pixels.iter().zip(&decoded).enumerate() {
            match i % 10 {
                0 | 1 => assert_eq!(d, (p >> 4) * 17, "pixel {i}"),
                _ => assert_eq!(d, 255, "pixel {i} ({p})"),
            }
        }
        // A mostly dark picture is left alone.
        let dark = PageImage::new(10, 10, 100.0, 100.0, vec![60; 100]);
        assert_eq!(paper_white_from(&dark), 255);
    }
}
