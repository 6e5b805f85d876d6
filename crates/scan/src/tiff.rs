//! Multi-page TIFF. The `tiff` crate walks the directories (one at a time, so only the current
//! page is in memory) and decodes LZW, PackBits, Deflate, JPEG and uncompressed pages; CCITT
//! pages (compressions 2, 3, 4 and 32771) are read strip by strip and decoded by [`crate::ccitt`].

use std::io::{Read, Seek, SeekFrom};

use tiff::ColorType;
use tiff::decoder::{Decoder, DecodingResult, Limits, ifd::Value};
use tiff::tags::Tag;

use crate::ccitt::{self, Align, Coding, Eol};
use crate::error::{PageError, PageErrorKind, ScanError};
use crate::page::{
    DEFAULT_DPI, PageImage, bit_expansion, check_dimensions, expand_bits, luma, over_white,
    sane_dpi, unpack_samples,
};

/// Anything the decoder can read from.
pub(crate) trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

const T4_OPTIONS: Tag = Tag::Unknown(292);

/// The pages of one TIFF file, decoded on demand.
pub(crate) struct TiffPages {
    file: String,
    decoder: Decoder<Box<dyn ReadSeek>>,
    /// Number of directories visited so far (the current one included).
    visited: u32,
    /// Pages yielded so far.
    page: u32,
    done: bool,
    strip: Vec<u8>,
}

impl TiffPages {
    pub(crate) fn new(file: String, reader: Box<dyn ReadSeek>) -> Result<TiffPages, ScanError> {
        let decoder = Decoder::new(reader).map_err(|e| ScanError::Corrupt {
            file: file.clone(),
            format: "TIFF",
            detail: e.to_string(),
        })?;
        let mut limits = Limits::default();
        // Page size is checked against MAX_PIXELS before decoding; allow RGB 16-bit at that size.
        limits.decoding_buffer_size = (crate::MAX_PIXELS * 6) as usize;
        limits.intermediate_buffer_size = (crate::MAX_PIXELS * 6) as usize;
        Ok(TiffPages {
            file,
            decoder: decoder.with_limits(limits),
            visited: 0,
            page: 0,
            done: false,
            strip: Vec::new(),
        })
    }

    fn error(&self, kind: PageErrorKind) -> PageError {
        PageError {
            file: self.file.clone(),
            page: self.page,
            kind,
        }
    }

    /// Moves to the next directory that is a page (reduced-resolution subfiles, i.e. thumbnails,
    /// are skipped). `Ok(false)` at the end.
    fn advance(&mut self) -> Result<bool, PageErrorKind> {
        loop {
            if self.visited > 0 {
                if !self.decoder.more_images() {
                    return Ok(false);
                }
                self.visited += 1;
                self.decoder
                    .next_image()
                    .map_err(|e| tiff_error(e, "TIFF directory"))?;
            } else {
                self.visited = 1;
            }
            let subfile: u32 = self
                .decoder
                .find_tag_unsigned(Tag::NewSubfileType)
                .ok()
                .flatten()
                .unwrap_or(0);
            if subfile & 1 == 0 {
                return Ok(true);
            }
        }
    }

    /// Reads the current directory's page: a fax page as its strips, for [`FaxPage::decode`]
    /// to decode later (on another thread, say), anything else decoded.
    fn read_page(&mut self) -> Result<Pending, PageErrorKind> {
        let (width, height) = self
            .decoder
            .dimensions()
            .map_err(|e| tiff_error(e, "TIFF"))?;
        let pixels = check_dimensions(width.into(), height.into())?;
        let compression: u16 = self.tag(Tag::Compression)?.unwrap_or(1);
        let fill_order: u16 = self.tag(Tag::FillOrder)?.unwrap_or(1);
        let (dpi_x, dpi_y, dpi_assumed) = self.resolution();
        let (pixels, bilevel) = match compression {
            2 | 3 | 4 | 32771 => {
                let page = PageImage {
                    width,
                    height,
                    dpi_x,
                    dpi_y,
                    pixels: Vec::new(),
                    bilevel: true,
                    dpi_assumed,
                };
                let fax = self.read_fax(page, pixels, compression, fill_order)?;
                return Ok(Pending::Fax(Box::new(fax)));
            }
            1 | 5 | 7 | 8 | 32773 | 32946 => {
                if fill_order == 2 && compression != 1 {
                    return Err(PageErrorKind::unsupported(
                        format!(
                            "FillOrder 2 with TIFF compression {compression} ({})",
                            compression_name(compression)
                        ),
                        "convert with `tiffcp -f msb2lsb in.tif out.tif`",
                    ));
                }
                self.decode_other(width, height, fill_order == 2)?
            }
            code => {
                return Err(PageErrorKind::UnsupportedTiffCompression {
                    code,
                    name: compression_name(code),
                });
            }
        };
        Ok(Pending::Decoded(PageImage {
            width,
            height,
            dpi_x,
            dpi_y,
            pixels,
            bilevel,
            dpi_assumed,
        }))
    }

    fn tag<T: TryFrom<u64>>(&mut self, tag: Tag) -> Result<Option<T>, PageErrorKind> {
        self.decoder
            .find_tag_unsigned(tag)
            .map_err(|e| tiff_error(e, "TIFF tag"))
    }

    /// (dpi_x, dpi_y, assumed) from XResolution, YResolution and ResolutionUnit.
    fn resolution(&mut self) -> (f32, f32, bool) {
        let x = self
            .decoder
            .find_tag(Tag::XResolution)
            .ok()
            .flatten()
            .and_then(value_f64);
        let y = self
            .decoder
            .find_tag(Tag::YResolution)
            .ok()
            .flatten()
            .and_then(value_f64);
        let unit: u16 = self
            .decoder
            .find_tag_unsigned(Tag::ResolutionUnit)
            .ok()
            .flatten()
            .unwrap_or(2);
        let (x, y) = match (x, y) {
            (Some(x), Some(y)) => (x, y),
            (Some(x), None) => (x, x),
            (None, Some(y)) => (y, y),
            (None, None) => return (DEFAULT_DPI, DEFAULT_DPI, true),
        };
        match unit {
            2 => {}
            3 => return sane_pair(x * 2.54, y * 2.54),
            // No absolute unit: keep the aspect ratio.
            _ => {
                if x > 0.0 && y > 0.0 {
                    let dy = f64::from(DEFAULT_DPI) * y / x;
                    if let Some(dy) = sane_dpi(dy) {
                        return (DEFAULT_DPI, dy, true);
                    }
                }
                return (DEFAULT_DPI, DEFAULT_DPI, true);
            }
        }
        sane_pair(x, y)
    }

    /// CCITT pages: strips decoded by our own decoder straight into the page buffer.
    /// A fax page's tags checked and its strips read (bits put in order), not decoded; `page`
    /// has its size and resolution but no pixels yet.
    fn read_fax(
        &mut self,
        page: PageImage,
        pixel_count: usize,
        compression: u16,
        fill_order: u16,
    ) -> Result<FaxPage, PageErrorKind> {
        let height = page.height;
        let bits: u16 = self.tag(Tag::BitsPerSample)?.unwrap_or(1);
        let samples: u16 = self.tag(Tag::SamplesPerPixel)?.unwrap_or(1);
        if bits != 1 || samples != 1 {
            return Err(PageErrorKind::corrupt(
                "TIFF",
                format!("fax compression with {samples}×{bits}-bit samples"),
            ));
        }
        if self
            .decoder
            .find_tag(Tag::TileOffsets)
            .ok()
            .flatten()
            .is_some()
        {
            return Err(PageErrorKind::unsupported(
                "a tiled fax TIFF",
                "convert to strips with `tiffcp -s -c g4 in.tif out.tif`",
            ));
        }
        // PhotometricInterpretation 0 (MinIsWhite) is the fax norm: white runs are 0 bits shown
        // as white. With 1 (MinIsBlack) the same 0 bits are shown black.
        let photometric: u16 = self.tag(Tag::PhotometricInterpretation)?.unwrap_or(0);
        let (white, black) = if photometric == 1 {
            (0u8, 255u8)
        } else {
            (255u8, 0u8)
        };
        let (coding, align, eol) = match compression {
            2 => (Coding::G3OneD, Align::Byte, Eol::Exact),
            32771 => (Coding::G3OneD, Align::Word, Eol::Exact),
            3 => {
                let options: u32 = self.tag(T4_OPTIONS)?.unwrap_or(0);
                let coding = if options & 1 != 0 {
                    Coding::G3TwoD
                } else {
                    Coding::G3OneD
                };
                (coding, Align::None, Eol::SkipFill)
            }
            _ => (Coding::G4, Align::None, Eol::Exact),
        };
        let offsets = self
            .decoder
            .get_tag_u64_vec(Tag::StripOffsets)
            .map_err(|e| tiff_error(e, "TIFF"))?;
        let counts = self
            .decoder
            .get_tag_u64_vec(Tag::StripByteCounts)
            .map_err(|e| tiff_error(e, "TIFF"))?;
        let rows_per_strip: u32 = self
            .tag::<u32>(Tag::RowsPerStrip)?
            .unwrap_or(height)
            .clamp(1, height);
        let mut strips = Vec::new();
        let mut row0 = 0u32;
        for (strip, (&offset, &count)) in offsets.iter().zip(&counts).enumerate() {
            if row0 >= height {
                break;
            }
            self.read_strip(offset, count, strip)?;
            if fill_order == 2 {
                ccitt::reverse_bits(&mut self.strip);
            }
            strips.push(std::mem::take(&mut self.strip));
            row0 += rows_per_strip.min(height - row0);
        }
        Ok(FaxPage {
            page,
            pixel_count,
            coding,
            align,
            eol,
            white,
            black,
            rows_per_strip,
            strips,
        })
    }

    fn read_strip(&mut self, offset: u64, count: u64, strip: usize) -> Result<(), PageErrorKind> {
        self.strip.clear();
        let reader = self.decoder.inner();
        reader
            .seek(SeekFrom::Start(offset))
            .map_err(PageErrorKind::Io)?;
        // `take` + `read_to_end` grows the buffer with the data actually present, so a bogus
        // byte count cannot make us allocate gigabytes up front.
        reader
            .take(count)
            .read_to_end(&mut self.strip)
            .map_err(PageErrorKind::Io)?;
        if (self.strip.len() as u64) < count {
            return Err(PageErrorKind::truncated(format!(
                "strip {} should have {count} bytes, the file holds {}",
                strip + 1,
                self.strip.len()
            )));
        }
        Ok(())
    }

    /// Everything the `tiff` crate decodes, converted to grey.
    fn decode_other(
        &mut self,
        width: u32,
        height: u32,
        reverse: bool,
    ) -> Result<(Vec<u8>, bool), PageErrorKind> {
        let color = self
            .decoder
            .colortype()
            .map_err(|e| tiff_error(e, "TIFF"))?;
        let data = self
            .decoder
            .read_image()
            .map_err(|e| tiff_error(e, "TIFF"))?;
        let (w, h) = (width as usize, height as usize);
        let advice = "convert to black and white or grey, for example `tiffcp -c g4` or `tiff2bw`";
        let unsupported =
            || PageErrorKind::unsupported(format!("TIFF colour type {color:?}"), advice);
        // The tiff crate already inverts WhiteIsZero: samples here are 0 = black.
        let (bits, channels) = match color {
            ColorType::Gray(b) => (b, 1),
            ColorType::GrayA(b) => (b, 2),
            ColorType::RGB(b) | ColorType::YCbCr(b) | ColorType::Lab(b) => (b, 3),
            ColorType::RGBA(b) | ColorType::CMYK(b) => (b, 4),
            ColorType::Multiband {
                bit_depth,
                num_samples,
            } => (bit_depth, num_samples as usize),
            _ => return Err(unsupported()),
        };
        let mut bytes = match data {
            DecodingResult::U8(v) => v,
            DecodingResult::U16(v) => v.iter().map(|s| (s >> 8) as u8).collect(),
            _ => return Err(unsupported()),
        };
        let bits = if bits == 16 { 8 } else { u32::from(bits) };
        if !matches!(bits, 1 | 2 | 4 | 8) || channels == 0 {
            return Err(unsupported());
        }
        let stride = (w * channels * bits as usize).div_ceil(8);
        if bytes.len() < stride * h {
            return Err(PageErrorKind::truncated(format!(
                "{} of {} bytes of pixel data",
                bytes.len(),
                stride * h
            )));
        }
        if reverse {
            ccitt::reverse_bits(&mut bytes);
        }
        let mut out = vec![0u8; w * h];
        if bits == 1 && channels == 1 {
            expand_bits(&bytes, stride, w, h, &bit_expansion(0, 255), &mut out);
            return Ok((out, true));
        }
        let mut samples = Vec::with_capacity(w * channels);
        let scale = 255 / ((1u32 << bits) - 1);
        for (src, dst) in bytes.chunks(stride).zip(out.chunks_exact_mut(w)) {
            unpack_samples(src, bits, w * channels, &mut samples);
            if scale != 1 {
                for s in samples.iter_mut() {
                    *s = (u32::from(*s) * scale) as u8;
                }
            }
            let px = samples.chunks_exact(channels);
            match color {
                ColorType::Gray(_) => dst.copy_from_slice(&samples[..w]),
                ColorType::GrayA(_) => dst
                    .iter_mut()
                    .zip(px)
                    .for_each(|(d, s)| *d = over_white(s[0], s[1])),
                ColorType::Multiband { .. } => dst.iter_mut().zip(px).for_each(|(d, s)| *d = s[0]),
                ColorType::RGB(_) => dst
                    .iter_mut()
                    .zip(px)
                    .for_each(|(d, s)| *d = luma(s[0], s[1], s[2])),
                // JPEG-compressed TIFF comes out as YCbCr: Y is the grey value. Lab: L.
                ColorType::YCbCr(_) | ColorType::Lab(_) => {
                    dst.iter_mut().zip(px).for_each(|(d, s)| *d = s[0])
                }
                ColorType::RGBA(_) => dst
                    .iter_mut()
                    .zip(px)
                    .for_each(|(d, s)| *d = over_white(luma(s[0], s[1], s[2]), s[3])),
                ColorType::CMYK(_) => dst
                    .iter_mut()
                    .zip(px)
                    .for_each(|(d, s)| *d = cmyk_grey(s[0], s[1], s[2], s[3])),
                _ => return Err(unsupported()),
            }
        }
        Ok((out, false))
    }
}

/// A page as read from the file: decoded, or a fax page whose decoding is still to do.
pub(crate) enum Pending {
    Decoded(PageImage),
    Fax(Box<FaxPage>),
}

impl Pending {
    pub(crate) fn decode(self) -> Result<PageImage, PageErrorKind> {
        match self {
            Pending::Decoded(page) => Ok(page),
            Pending::Fax(fax) => fax.decode(),
        }
    }
}

/// A fax page's strips with what decoding them needs: the costly part of reading a fax TIFF
/// (CCITT codes to pixels), kept apart so that it can run outside the file's sequential reading.
pub(crate) struct FaxPage {
    /// Size and resolution, without pixels yet.
    page: PageImage,
    pixel_count: usize,
    coding: Coding,
    align: Align,
    eol: Eol,
    white: u8,
    black: u8,
    rows_per_strip: u32,
    /// Each strip's bytes, bits in MSB-first order.
    strips: Vec<Vec<u8>>,
}

impl FaxPage {
    fn decode(self) -> Result<PageImage, PageErrorKind> {
        let mut page = self.page;
        let (width, height) = (page.width, page.height);
        let w = width as usize;
        let mut pixels = vec![self.white; self.pixel_count];
        let mut row0 = 0u32;
        for (strip, data) in self.strips.iter().enumerate() {
            let rows = self.rows_per_strip.min(height - row0);
            let out = &mut pixels[row0 as usize * w..(row0 + rows) as usize * w];
            let mut rows_out = out.chunks_exact_mut(w);
            let params = ccitt::Params {
                coding: self.coding,
                columns: width,
                rows,
                align: self.align,
                eol: self.eol,
            };
            let decoded = ccitt::decode(data, &params, |changes| {
                if let Some(row) = rows_out.next() {
                    ccitt::fill_row(changes, row, self.black);
                }
            })
            .map_err(|e| fax_error(e, strip, row0))?;
            if decoded < rows {
                return Err(PageErrorKind::truncated(format!(
                    "strip {} holds {decoded} of its {rows} lines; the page stops at line {}",
                    strip + 1,
                    row0 + decoded
                )));
            }
            row0 += rows;
        }
        if row0 < height {
            return Err(PageErrorKind::corrupt(
                "TIFF",
                format!("the strips cover {row0} of {height} lines"),
            ));
        }
        page.pixels = pixels;
        Ok(page)
    }
}

impl TiffPages {
    /// The next page, read but (a fax page) not decoded, with its 1-based number.
    pub(crate) fn next_pending(&mut self) -> Option<(u32, Result<Pending, PageError>)> {
        if self.done {
            return None;
        }
        self.page += 1;
        match self.advance() {
            Ok(true) => {}
            Ok(false) => {
                self.done = true;
                return None;
            }
            Err(kind) => {
                // A broken directory: the tiff crate stops the chain if it cannot read it.
                if !self.decoder.more_images() {
                    self.done = true;
                }
                return Some((self.page, Err(self.error(kind))));
            }
        }
        Some((self.page, self.read_page().map_err(|kind| self.error(kind))))
    }
}

impl Iterator for TiffPages {
    type Item = Result<PageImage, PageError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (_, pending) = self.next_pending()?;
        Some(pending.and_then(|p| p.decode().map_err(|kind| self.error(kind))))
    }
}

/// Grey from CMYK samples (no colour management: scans are rarely CMYK).
pub(crate) fn cmyk_grey(c: u8, m: u8, y: u8, k: u8) -> u8 {
    let ink = (u32::from(c) * 77 + u32::from(m) * 150 + u32::from(y) * 29) / 256 + u32::from(k);
    255 - ink.min(255) as u8
}

fn sane_pair(x: f64, y: f64) -> (f32, f32, bool) {
    match (sane_dpi(x), sane_dpi(y)) {
        (Some(x), Some(y)) => (x, y, false),
        _ => (DEFAULT_DPI, DEFAULT_DPI, true),
    }
}

#[allow(deprecated)]
fn value_f64(v: Value) -> Option<f64> {
    match v {
        Value::Rational(n, d) if d != 0 => Some(f64::from(n) / f64::from(d)),
        Value::RationalBig(n, d) if d != 0 => Some(n as f64 / d as f64),
        Value::SRational(n, d) if d != 0 => Some(f64::from(n) / f64::from(d)),
        Value::Float(f) => Some(f64::from(f)),
        Value::Double(f) => Some(f),
        Value::Short(s) => Some(f64::from(s)),
        Value::Unsigned(u) => Some(f64::from(u)),
        Value::List(list) => list.into_iter().next().and_then(value_f64),
        _ => None,
    }
}

fn tiff_error(e: tiff::TiffError, what: &'static str) -> PageErrorKind {
    match e {
        tiff::TiffError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            PageErrorKind::truncated(format!("{what} data ends early"))
        }
        tiff::TiffError::IoError(io) => PageErrorKind::Io(io),
        tiff::TiffError::LimitsExceeded => {
            PageErrorKind::corrupt(what, "sizes beyond the decoder's limits")
        }
        tiff::TiffError::UnsupportedError(u) => PageErrorKind::unsupported(
            format!("TIFF feature ({u})"),
            "convert with `tiffcp -c g4 in.tif out.tif` (black and white) or `tiffcp -c lzw` (grey)",
        ),
        other => PageErrorKind::corrupt(what, other),
    }
}

fn fax_error(e: ccitt::CcittError, strip: usize, row0: u32) -> PageErrorKind {
    match e {
        ccitt::CcittError::Truncated { row } => PageErrorKind::truncated(format!(
            "fax data of strip {} ends in the middle of line {}",
            strip + 1,
            row0 + row + 1
        )),
        ccitt::CcittError::Corrupt { row, what } => {
            PageErrorKind::corrupt("CCITT fax", format!("{what} in line {}", row0 + row + 1))
        }
    }
}

/// Usual names of TIFF compression codes, for messages.
pub(crate) fn compression_name(code: u16) -> &'static str {
    match code {
        1 => "uncompressed",
        2 => "CCITT RLE",
        3 => "CCITT Group 3 fax",
        4 => "CCITT Group 4 fax",
        5 => "LZW",
        6 => "old-style JPEG-in-TIFF",
        7 => "JPEG-in-TIFF",
        8 | 32946 => "Deflate",
        9 | 10 => "JBIG",
        32771 => "CCITT RLE word-aligned",
        32773 => "PackBits",
        34661 => "JBIG",
        34676 | 34677 => "SGILog",
        34712 => "JPEG 2000",
        34887..=34889 => "LERC",
        34925 => "LZMA",
        50000 => "Zstandard",
        50001 => "WebP",
        50002 => "JPEG XL",
        _ => "unknown",
    }
}
