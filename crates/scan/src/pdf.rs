//! PDF files whose pages are scanned images. Per page the largest image XObject (also inside
//! form XObjects) is decoded: CCITTFaxDecode by [`crate::ccitt`], DCTDecode by the JPEG
//! decoder, anything lopdf can undo (Flate with predictors, LZW, RunLength, ASCII filters) as
//! raw samples in DeviceGray, DeviceRGB, DeviceCMYK, ICCBased, Indexed or as an image mask.
//!
//! The resolution is the image size against the page's MediaBox (the image is assumed to fill
//! the page); `/Rotate` is applied to the pixels. lopdf keeps the whole (still compressed) file
//! in memory; pixels exist for one page at a time.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use crate::ccitt::{self, Align, Coding, Eol};
use crate::error::{PageError, PageErrorKind, ScanError};
use crate::page::{
    DEFAULT_DPI, PageImage, bit_expansion, check_dimensions, expand_bits, luma, sane_dpi,
    unpack_samples,
};
use crate::raster;
use crate::tiff::cmyk_grey;

/// The pages of one PDF.
pub(crate) struct PdfPages {
    file: String,
    doc: Document,
    pages: Vec<ObjectId>,
    next: usize,
}

impl PdfPages {
    pub(crate) fn open(file: String, bytes: &[u8]) -> Result<PdfPages, ScanError> {
        let doc = match Document::load_mem(bytes) {
            Ok(doc) => doc,
            Err(_) if contains(bytes, b"/Encrypt") => return Err(ScanError::EncryptedPdf { file }),
            Err(e) => {
                return Err(ScanError::Corrupt {
                    file,
                    format: "PDF",
                    detail: e.to_string(),
                });
            }
        };
        if doc.trailer.get(b"Encrypt").is_ok() || doc.encryption_state.is_some() {
            return Err(ScanError::EncryptedPdf { file });
        }
        let pages: Vec<ObjectId> = doc.get_pages().into_values().collect();
        if pages.is_empty() {
            return Err(ScanError::Corrupt {
                file,
                format: "PDF",
                detail: "no pages found".into(),
            });
        }
        Ok(PdfPages {
            file,
            doc,
            pages,
            next: 0,
        })
    }

    pub(crate) fn page_count(&self) -> usize {
        self.pages.len()
    }

    fn decode_page(&self, page_id: ObjectId) -> Result<PageImage, PageErrorKind> {
        let doc = &self.doc;
        let stream = largest_image(doc, page_id).ok_or(PageErrorKind::NoImage)?;
        let page = doc
            .get_dictionary(page_id)
            .map_err(|e| PageErrorKind::corrupt("PDF", e))?;
        let page_pt = media_box(doc, page);
        let (width, height, pixels, bilevel) = decode_image(doc, stream, page_pt)?;
        let (dpi_x, dpi_y, dpi_assumed) = match image_dpi(width, height, page_pt) {
            Some((x, y)) => (x, y, false),
            None => (DEFAULT_DPI, DEFAULT_DPI, true),
        };
        let image = PageImage {
            width,
            height,
            dpi_x,
            dpi_y,
            pixels,
            bilevel,
            dpi_assumed,
        };
        let rotate = inherited(doc, page, b"Rotate")
            .and_then(number)
            .unwrap_or(0.0) as i64;
        let quarter_turns = (rotate.rem_euclid(360) / 90) as u32;
        Ok(if quarter_turns == 0 {
            image
        } else {
            image.rotated(quarter_turns)
        })
    }
}

impl Iterator for PdfPages {
    type Item = Result<PageImage, PageError>;

    fn next(&mut self) -> Option<Self::Item> {
        let &id = self.pages.get(self.next)?;
        self.next += 1;
        let page = self.next as u32;
        Some(self.decode_page(id).map_err(|kind| PageError {
            file: self.file.clone(),
            page,
            kind,
        }))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.pages.len() - self.next;
        (left, Some(left))
    }
}

// ---------------------------------------------------------------------------------------------
// Object helpers

static NULL: Object = Object::Null;

/// Follows references (a few levels; a dangling one is Null).
fn resolve<'a>(doc: &'a Document, mut obj: &'a Object) -> &'a Object {
    for _ in 0..16 {
        match obj {
            Object::Reference(id) => obj = doc.objects.get(id).unwrap_or(&NULL),
            _ => return obj,
        }
    }
    &NULL
}

fn get<'a>(doc: &'a Document, dict: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    dict.get(key)
        .ok()
        .map(|o| resolve(doc, o))
        .filter(|o| !matches!(o, Object::Null))
}

fn number(obj: &Object) -> Option<f64> {
    match obj {
        Object::Integer(i) => Some(*i as f64),
        Object::Real(r) => Some(f64::from(*r)),
        _ => None,
    }
}

fn int(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<i64> {
    get(doc, dict, key).and_then(number).map(|n| n as i64)
}

fn flag(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<bool> {
    match get(doc, dict, key)? {
        Object::Boolean(b) => Some(*b),
        _ => None,
    }
}

fn name(obj: &Object) -> Option<&[u8]> {
    match obj {
        Object::Name(n) => Some(n),
        _ => None,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A page attribute, looked up through the `/Parent` chain.
fn inherited<'a>(doc: &'a Document, mut page: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    for _ in 0..64 {
        if let Some(v) = get(doc, page, key) {
            return Some(v);
        }
        match get(doc, page, b"Parent") {
            Some(Object::Dictionary(parent)) => page = parent,
            _ => return None,
        }
    }
    None
}

/// Page size in points (times UserUnit).
fn media_box(doc: &Document, page: &Dictionary) -> Option<(f64, f64)> {
    let Object::Array(rect) = inherited(doc, page, b"MediaBox")? else {
        return None;
    };
    let v: Vec<f64> = rect
        .iter()
        .filter_map(|o| number(resolve(doc, o)))
        .collect();
    let [x0, y0, x1, y1] = v[..] else { return None };
    let unit = get(doc, page, b"UserUnit").and_then(number).unwrap_or(1.0);
    let (w, h) = ((x1 - x0).abs() * unit, (y1 - y0).abs() * unit);
    (w > 0.0 && h > 0.0).then_some((w, h))
}

// ---------------------------------------------------------------------------------------------
// Finding the image

fn largest_image(doc: &Document, page_id: ObjectId) -> Option<&Stream> {
    let (direct, ids) = doc.get_page_resources(page_id).ok()?;
    let mut found = Vec::new();
    let mut budget = 1000;
    if let Some(resources) = direct {
        collect_images(doc, resources, 0, &mut budget, &mut found);
    }
    for id in ids {
        if let Ok(Object::Dictionary(resources)) = doc.get_object(id) {
            collect_images(doc, resources, 0, &mut budget, &mut found);
        }
    }
    found.into_iter().max_by_key(|s| {
        let w = int(doc, &s.dict, b"Width").unwrap_or(0).max(0);
        let h = int(doc, &s.dict, b"Height").unwrap_or(0).max(0);
        w.saturating_mul(h)
    })
}

fn collect_images<'a>(
    doc: &'a Document,
    resources: &'a Dictionary,
    depth: u32,
    budget: &mut u32,
    found: &mut Vec<&'a Stream>,
) {
    let Some(Object::Dictionary(xobjects)) = get(doc, resources, b"XObject") else {
        return;
    };
    for (_, value) in xobjects.iter() {
        if *budget == 0 {
            return;
        }
        *budget -= 1;
        let Object::Stream(stream) = resolve(doc, value) else {
            continue;
        };
        match get(doc, &stream.dict, b"Subtype").and_then(name) {
            Some(b"Image") => found.push(stream),
            Some(b"Form") if depth < 4 => {
                if let Some(Object::Dictionary(inner)) = get(doc, &stream.dict, b"Resources") {
                    collect_images(doc, inner, depth + 1, budget, found);
                }
            }
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Decoding the image

/// Colour spaces, reduced to what turning them grey needs.
enum Space {
    Gray,
    Rgb,
    Cmyk,
    /// Palette already converted to grey, one entry per index.
    Indexed(Vec<u8>),
}

impl Space {
    fn components(&self) -> usize {
        match self {
            Space::Gray | Space::Indexed(_) => 1,
            Space::Rgb => 3,
            Space::Cmyk => 4,
        }
    }
}

fn parse_space(doc: &Document, obj: &Object, depth: u32) -> Result<Space, PageErrorKind> {
    let unsupported = |what: &[u8]| {
        PageErrorKind::unsupported(
            format!("PDF colour space {}", String::from_utf8_lossy(what)),
            "scan again in black and white, grey or colour (RGB)",
        )
    };
    match resolve(doc, obj) {
        Object::Name(n) => match n.as_slice() {
            b"DeviceGray" | b"G" | b"CalGray" => Ok(Space::Gray),
            b"DeviceRGB" | b"RGB" | b"CalRGB" => Ok(Space::Rgb),
            b"DeviceCMYK" | b"CMYK" => Ok(Space::Cmyk),
            other => Err(unsupported(other)),
        },
        Object::Array(items) if depth < 4 => {
            let family = items
                .first()
                .map(|o| resolve(doc, o))
                .and_then(name)
                .unwrap_or(b"?");
            match family {
                b"CalGray" => Ok(Space::Gray),
                b"CalRGB" => Ok(Space::Rgb),
                b"ICCBased" => {
                    let n = match items.get(1).map(|o| resolve(doc, o)) {
                        Some(Object::Stream(s)) => int(doc, &s.dict, b"N"),
                        _ => None,
                    };
                    match n {
                        Some(1) => Ok(Space::Gray),
                        Some(3) => Ok(Space::Rgb),
                        Some(4) => Ok(Space::Cmyk),
                        _ => Err(unsupported(
                            b"ICCBased with an unusual number of components",
                        )),
                    }
                }
                b"Indexed" | b"I" => {
                    let base = parse_space(doc, items.get(1).unwrap_or(&NULL), depth + 1)?;
                    let hival = items
                        .get(2)
                        .map(|o| resolve(doc, o))
                        .and_then(number)
                        .unwrap_or(0.0);
                    let hival = (hival.clamp(0.0, 255.0)) as usize;
                    let table: Vec<u8> = match items.get(3).map(|o| resolve(doc, o)) {
                        Some(Object::String(s, _)) => s.clone(),
                        Some(Object::Stream(s)) => s
                            .decompressed_content_with_limit(4 * 256)
                            .map_err(|e| PageErrorKind::corrupt("PDF", e))?,
                        _ => {
                            return Err(PageErrorKind::corrupt(
                                "PDF",
                                "Indexed colour space without a palette",
                            ));
                        }
                    };
                    let n = base.components();
                    let grey = (0..=hival)
                        .map(|i| {
                            let c = table.get(i * n..i * n + n).unwrap_or(&[0, 0, 0, 0][..n]);
                            match base {
                                Space::Rgb => luma(c[0], c[1], c[2]),
                                Space::Cmyk => cmyk_grey(c[0], c[1], c[2], c[3]),
                                _ => c[0],
                            }
                        })
                        .collect();
                    Ok(Space::Indexed(grey))
                }
                other => Err(unsupported(other)),
            }
        }
        _ => Err(PageErrorKind::corrupt("PDF", "invalid image colour space")),
    }
}

/// Maps every sample value of one component (`bits` ≤ 8) to 0..=255 through the Decode range.
fn component_lut(space: &Space, bits: u32, decode: Option<(f64, f64)>) -> [u8; 256] {
    let max = f64::from((1u32 << bits) - 1);
    let mut lut = [0u8; 256];
    for (s, out) in lut.iter_mut().enumerate().take(1 << bits) {
        let s = s as f64;
        *out = match space {
            Space::Indexed(palette) => {
                let (dmin, dmax) = decode.unwrap_or((0.0, max));
                let index = (dmin + s * (dmax - dmin) / max).round().clamp(0.0, 255.0) as usize;
                palette.get(index).or(palette.last()).copied().unwrap_or(0)
            }
            _ => {
                let (dmin, dmax) = decode.unwrap_or((0.0, 1.0));
                ((dmin + s * (dmax - dmin) / max).clamp(0.0, 1.0) * 255.0).round() as u8
            }
        };
    }
    lut
}

/// The resolution of an image of `width` × `height` pixels filling a page of `page_pt`.
fn image_dpi(width: u32, height: u32, page_pt: Option<(f64, f64)>) -> Option<(f32, f32)> {
    let (w_pt, h_pt) = page_pt?;
    Some((
        sane_dpi(f64::from(width) * 72.0 / w_pt)?,
        sane_dpi(f64::from(height) * 72.0 / h_pt)?,
    ))
}

/// Image stream → (width, height, grey pixels, bilevel). A JPEG image finer than twice the
/// recognition resolution on a page of `page_pt` comes out reduced (see
/// [`raster::jpeg_grey_scaled`]); the caller finds its resolution from its size.
fn decode_image(
    doc: &Document,
    stream: &Stream,
    page_pt: Option<(f64, f64)>,
) -> Result<(u32, u32, Vec<u8>, bool), PageErrorKind> {
    let dict = &stream.dict;
    let width = int(doc, dict, b"Width").unwrap_or(0);
    let height = int(doc, dict, b"Height").unwrap_or(0);
    if width <= 0 || height <= 0 || width > i64::from(u32::MAX) || height > i64::from(u32::MAX) {
        return Err(PageErrorKind::corrupt(
            "PDF",
            format!("image size {width}×{height}"),
        ));
    }
    let count = check_dimensions(width as u64, height as u64)?;
    let (width, height) = (width as u32, height as u32);

    let filters: Vec<&[u8]> = match get(doc, dict, b"Filter") {
        None => Vec::new(),
        Some(Object::Name(n)) => vec![n.as_slice()],
        Some(Object::Array(items)) => items.iter().filter_map(|o| name(resolve(doc, o))).collect(),
        Some(_) => return Err(PageErrorKind::corrupt("PDF", "invalid image /Filter")),
    };
    let parms = decode_parms(doc, dict, filters.len());
    let is_mask = flag(doc, dict, b"ImageMask").unwrap_or(false);
    let space = if is_mask {
        Space::Gray
    } else {
        match get(doc, dict, b"ColorSpace") {
            Some(cs) => parse_space(doc, cs, 0)?,
            None => Space::Gray,
        }
    };
    let decode: Vec<f64> = match get(doc, dict, b"Decode") {
        Some(Object::Array(items)) => items
            .iter()
            .filter_map(|o| number(resolve(doc, o)))
            .collect(),
        _ => Vec::new(),
    };
    let range = |c: usize| match decode.get(2 * c..2 * c + 2) {
        Some(&[a, b]) => Some((a, b)),
        _ => None,
    };

    let last = filters.last().copied();
    if matches!(
        last,
        Some(b"CCITTFaxDecode" | b"CCF" | b"DCTDecode" | b"DCT")
    ) && filters.len() > 1
    {
        return Err(PageErrorKind::unsupported(
            "a PDF image with CCITT or JPEG data behind another filter",
            "re-save the PDF with a tool that writes plain image streams, e.g. `img2pdf`",
        ));
    }
    match last {
        Some(b"CCITTFaxDecode" | b"CCF") => {
            let p = parms.last().and_then(|p| *p);
            let lut = component_lut(&space, 1, range(0));
            let (pixels, bilevel) =
                decode_ccitt(doc, &stream.content, p, width, height, count, &lut)?;
            Ok((width, height, pixels, bilevel))
        }
        Some(b"DCTDecode" | b"DCT") => {
            let dpi = image_dpi(width, height, page_pt).map(|(x, y)| x.min(y));
            // Luma is the grey of a grey or RGB image; other spaces are converted in full.
            let scaled = match (dpi, &space) {
                (Some(dpi), Space::Gray | Space::Rgb) => {
                    raster::jpeg_grey_scaled(&stream.content, dpi)?
                }
                _ => None,
            };
            let (w, h, mut pixels) = match scaled {
                Some(s) => (s.width, s.height, s.pixels),
                None => raster::jpeg_grey(&stream.content)?,
            };
            if space.components() == 1 && matches!(range(0), Some((a, b)) if a > b) {
                pixels.iter_mut().for_each(|p| *p = 255 - *p);
            }
            Ok((w, h, pixels, false))
        }
        Some(b"JPXDecode") => Err(PageErrorKind::unsupported(
            "JPEG 2000 (JPXDecode) in PDF",
            "scan to PDF with JPEG or black-and-white (CCITT) compression, or to TIFF",
        )),
        Some(b"JBIG2Decode") => Err(PageErrorKind::unsupported(
            "JBIG2 in PDF",
            "scan to PDF with CCITT G4 compression, or to TIFF G4; or convert with `gs -sDEVICE=tiffg4 -r204x196 -o out.tif in.pdf`",
        )),
        _ => {
            let bits = if is_mask {
                1
            } else {
                int(doc, dict, b"BitsPerComponent").unwrap_or(8) as u32
            };
            if !matches!(bits, 1 | 2 | 4 | 8 | 16) {
                return Err(PageErrorKind::corrupt(
                    "PDF",
                    format!("{bits} bits per component"),
                ));
            }
            let data = raw_samples(stream, parms, width, height, bits, space.components())?;
            let luts: Vec<[u8; 256]> = (0..space.components())
                .map(|c| component_lut(&space, bits.min(8), range(c)))
                .collect();
            let (pixels, bilevel) = samples_to_grey(&data, width, height, bits, &space, &luts)?;
            Ok((width, height, pixels, bilevel))
        }
    }
}

/// The DecodeParms dictionary of each filter (dict, array, or a reference to either).
fn decode_parms<'a>(
    doc: &'a Document,
    dict: &'a Dictionary,
    filters: usize,
) -> Vec<Option<&'a Dictionary>> {
    let as_dict = |o: &'a Object| match resolve(doc, o) {
        Object::Dictionary(d) => Some(d),
        _ => None,
    };
    let mut out = match get(doc, dict, b"DecodeParms").or_else(|| get(doc, dict, b"DP")) {
        Some(Object::Dictionary(d)) => vec![Some(d)],
        Some(Object::Array(items)) => items.iter().map(as_dict).collect(),
        _ => Vec::new(),
    };
    out.resize(filters.max(out.len()), None);
    out
}

fn decode_ccitt(
    doc: &Document,
    data: &[u8],
    parms: Option<&Dictionary>,
    width: u32,
    height: u32,
    count: usize,
    lut: &[u8; 256],
) -> Result<(Vec<u8>, bool), PageErrorKind> {
    let empty = Dictionary::new();
    let p = parms.unwrap_or(&empty);
    let k = int(doc, p, b"K").unwrap_or(0);
    let columns = int(doc, p, b"Columns").unwrap_or(1728);
    let black_is_1 = flag(doc, p, b"BlackIs1").unwrap_or(false);
    let byte_align = flag(doc, p, b"EncodedByteAlign").unwrap_or(false);
    let end_of_line = flag(doc, p, b"EndOfLine").unwrap_or(false);
    if columns != i64::from(width) {
        return Err(PageErrorKind::corrupt(
            "PDF",
            format!("CCITT Columns {columns} differ from image Width {width}"),
        ));
    }
    let coding = match k {
        k if k < 0 => Coding::G4,
        0 => Coding::G3OneD,
        _ => Coding::G3TwoD,
    };
    let (align, eol) = match (byte_align, end_of_line, coding) {
        (true, false, _) | (true, _, Coding::G4) => (Align::Byte, Eol::Exact),
        (_, _, Coding::G4) => (Align::None, Eol::Exact),
        _ => (Align::None, Eol::SkipFill),
    };
    // The filter emits 1 for white runs unless BlackIs1; the colour space and Decode map that.
    let white_sample = usize::from(!black_is_1);
    let (white, black) = (lut[white_sample], lut[1 - white_sample]);
    let mut pixels = vec![white; count];
    let mut rows = pixels.chunks_exact_mut(width as usize);
    let params = ccitt::Params {
        coding,
        columns: width,
        rows: height,
        align,
        eol,
    };
    // Fewer lines than /Height (the data ends with EOFB/RTC) leave the rest white, as viewers do.
    ccitt::decode(data, &params, |changes| {
        if let Some(row) = rows.next() {
            ccitt::fill_row(changes, row, black);
        }
    })
    .map_err(|e| match e {
        ccitt::CcittError::Truncated { .. } => PageErrorKind::truncated(e),
        ccitt::CcittError::Corrupt { .. } => PageErrorKind::corrupt("CCITT fax", e),
    })?;
    let bilevel = matches!((white, black), (0, 255) | (255, 0));
    Ok((pixels, bilevel))
}

/// Undoes Flate/LZW/… (with predictors), bounded by the expected size.
fn raw_samples(
    stream: &Stream,
    parms: Vec<Option<&Dictionary>>,
    width: u32,
    height: u32,
    bits: u32,
    components: usize,
) -> Result<Vec<u8>, PageErrorKind> {
    let stride = (width as usize * components * bits as usize).div_ceil(8);
    let expected = stride * height as usize;
    // lopdf reads DecodeParms only when written directly; give it resolved copies.
    let resolved;
    let stream = if stream.dict.get(b"DecodeParms").is_ok() {
        let mut copy = stream.clone();
        let direct: Vec<Object> = parms
            .iter()
            .map(|p| p.map_or(Object::Null, |d| Object::Dictionary(d.clone())))
            .collect();
        copy.dict.set("DecodeParms", Object::Array(direct));
        resolved = copy;
        &resolved
    } else {
        stream
    };
    let data = stream
        .decompressed_content_with_limit(expected + expected / 2 + 4096)
        .map_err(|e| {
            let text = e.to_string();
            if text.contains("Unimplemented") || text.contains("not implemented") {
                PageErrorKind::unsupported(
                    format!("this PDF image filter ({text})"),
                    "convert the PDF with `gs -sDEVICE=tiffg4 -r204x196 -o out.tif in.pdf`",
                )
            } else {
                PageErrorKind::corrupt("PDF image", text)
            }
        })?;
    if data.len() < expected {
        return Err(PageErrorKind::truncated(format!(
            "{} of {expected} bytes of image data",
            data.len()
        )));
    }
    Ok(data)
}

fn samples_to_grey(
    data: &[u8],
    width: u32,
    height: u32,
    bits: u32,
    space: &Space,
    luts: &[[u8; 256]],
) -> Result<(Vec<u8>, bool), PageErrorKind> {
    let (w, h) = (width as usize, height as usize);
    let n = space.components();
    let stride = (w * n * bits as usize).div_ceil(8);
    let mut out = vec![0u8; w * h];
    if n == 1 && bits == 1 {
        let (zero, one) = (luts[0][0], luts[0][1]);
        expand_bits(data, stride, w, h, &bit_expansion(zero, one), &mut out);
        return Ok((out, matches!((zero, one), (0, 255) | (255, 0))));
    }
    let mut samples = Vec::with_capacity(w * n);
    for (src, dst) in data.chunks(stride).zip(out.chunks_exact_mut(w)) {
        unpack_samples(src, bits, w * n, &mut samples);
        let px = samples.chunks_exact(n);
        match space {
            Space::Gray | Space::Indexed(_) => dst
                .iter_mut()
                .zip(&samples)
                .for_each(|(d, &s)| *d = luts[0][s as usize]),
            Space::Rgb => dst.iter_mut().zip(px).for_each(|(d, s)| {
                *d = luma(
                    luts[0][s[0] as usize],
                    luts[1][s[1] as usize],
                    luts[2][s[2] as usize],
                );
            }),
            Space::Cmyk => dst.iter_mut().zip(px).for_each(|(d, s)| {
                *d = cmyk_grey(
                    luts[0][s[0] as usize],
                    luts[1][s[1] as usize],
                    luts[2][s[2] as usize],
                    luts[3][s[3] as usize],
                );
            }),
        }
    }
    Ok((out, false))
}
