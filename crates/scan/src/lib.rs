//! Turns scanned or faxed survey replies into grey page images, one page at a time.
//!
//! [`open`] (or [`open_bytes`]) detects the format from the content — never the file name — and
//! returns a [`PageSource`], an iterator of `Result<PageImage, PageError>`. Pages are decoded
//! only when asked for, so a 500-page fax TIFF holds one page of pixels at a time; a damaged
//! page yields an error and the following pages are still read.
//!
//! Supported input:
//! - **TIFF**, single or multi-page: CCITT Group 4 (T.6), Group 3 one-dimensional (MH) and
//!   two-dimensional (MR, any K, with or without EOL fill bits), CCITT RLE (compressions 2 and
//!   32771), LZW, PackBits, Deflate, JPEG and uncompressed; 1-bit (MinIsWhite or MinIsBlack,
//!   FillOrder 1 or 2), 2/4/8/16-bit grey, RGB, CMYK. The CCITT decoder is this crate's own: it
//!   decodes to run boundaries and fills whole runs with slice fills.
//! - **PDF** whose pages are scanned images: the largest image of each page, compressed with
//!   CCITTFaxDecode (K < 0, = 0, > 0, honouring Columns, BlackIs1, EncodedByteAlign),
//!   DCTDecode, FlateDecode (with predictors) or uncompressed; `/Decode` and `/Rotate` applied.
//!   Encrypted PDFs are refused.
//! - **PNG** and **JPEG** (one page).
//!
//! Every error names the file, the page where there is one, and what to do about it.
//!
//! [`recognize`] then reads a decoded page: [`identify`] finds the registration marks and the
//! page code, [`read_page`] decides every answer box and field, [`crop`] cuts review images.

#![warn(missing_docs)]

mod ccitt;
mod error;
mod jpeg;
mod page;
mod pdf;
mod raster;
pub mod recognize;
mod tiff;

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek, SeekFrom};
use std::iter::FusedIterator;
use std::path::Path;

pub use error::{PageError, PageErrorKind, ScanError};
pub use page::{DEFAULT_DPI, MAX_PIXELS, PageImage, RECOGNITION_DPI};
pub use recognize::{
    Bitmap, BoxReading, BoxState, FieldReading, FieldStatus, Identified, PageReading, Registration,
    Transform, TransformSummary, Unidentified, UnidentifiedReason, crop, crop_bits, crop_nearest,
    encode_png, identify, read_code, read_page, register,
};

/// The file formats this crate reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// TIFF (classic or BigTIFF), possibly multi-page.
    Tiff,
    /// PDF.
    Pdf,
    /// PNG.
    Png,
    /// JPEG (JFIF or EXIF).
    Jpeg,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Tiff => "TIFF",
            Format::Pdf => "PDF",
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
        })
    }
}

/// Recognises a format from the first bytes of a file (at least 8; PDF allows up to 1024 bytes
/// of junk before `%PDF-`, so pass that many when you have them).
pub fn detect_format(head: &[u8]) -> Option<Format> {
    if head.starts_with(b"II*\0")
        || head.starts_with(b"MM\0*")
        || head.starts_with(b"II+\0")
        || head.starts_with(b"MM\0+")
    {
        Some(Format::Tiff)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if head[..head.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        Some(Format::Pdf)
    } else {
        None
    }
}

/// What unrecognised content looks like, for the error message.
fn describe(head: &[u8]) -> String {
    let starts = |magic: &[u8]| head.starts_with(magic);
    let what = if starts(b"GIF8") {
        "a GIF image"
    } else if starts(b"BM") {
        "a BMP image"
    } else if starts(b"RIFF") && head.get(8..12) == Some(b"WEBP") {
        "a WebP image"
    } else if starts(b"\0\0\0\x0cjP  ") || starts(&[0xFF, 0x4F, 0xFF, 0x51]) {
        "a JPEG 2000 image"
    } else if head.get(4..8) == Some(b"ftyp") {
        "a HEIF/HEIC or other ISO media file"
    } else if starts(b"PK\x03\x04") {
        "a ZIP archive, perhaps a Word or Excel file"
    } else if starts(&[0xD0, 0xCF, 0x11, 0xE0]) {
        "an old Microsoft Office file"
    } else if starts(b"P1") || starts(b"P4") || starts(b"P2") || starts(b"P5") {
        "a Netpbm image"
    } else if head.iter().all(|&b| b >= 0x20 || b"\r\n\t".contains(&b)) {
        // UTF-8 or Shift_JIS alike (the head may end inside a character): no control bytes.
        "text, perhaps a CSV file: reply files are read by `capsurvey replies import`, \
         facility lists by `capsurvey roster import`"
    } else {
        let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02X}")).collect();
        return format!("unrecognised content starting with {}", hex.join(" "));
    };
    what.to_string()
}

/// Opens a file and recognises its format from its content.
///
/// TIFF files are read lazily from disk; PDF, PNG and JPEG files are read into memory (still
/// compressed). Pages are decoded by iterating over the returned [`PageSource`].
pub fn open(path: impl AsRef<Path>) -> Result<PageSource, ScanError> {
    let path = path.as_ref();
    let file = path.display().to_string();
    let io = |source| ScanError::Io {
        file: file.clone(),
        source,
    };
    let mut f = File::open(path).map_err(io)?;
    let mut head = Vec::with_capacity(1024);
    (&mut f).take(1024).read_to_end(&mut head).map_err(io)?;
    let format = recognise(&file, &head)?;
    let inner = match format {
        Format::Tiff => {
            f.seek(SeekFrom::Start(0)).map_err(io)?;
            Inner::Tiff(Box::new(tiff::TiffPages::new(
                file.clone(),
                Box::new(BufReader::new(f)),
            )?))
        }
        _ => {
            let mut bytes = head;
            f.read_to_end(&mut bytes).map_err(io)?;
            return from_memory(file, format, bytes);
        }
    };
    Ok(PageSource {
        file,
        format,
        inner,
    })
}

/// Reads a file already in memory (an upload, an e-mail attachment). `name` stands for the file
/// in error messages.
pub fn open_bytes(
    name: impl Into<String>,
    bytes: impl Into<Vec<u8>>,
) -> Result<PageSource, ScanError> {
    let file = name.into();
    let bytes = bytes.into();
    let format = recognise(&file, &bytes)?;
    from_memory(file, format, bytes)
}

fn recognise(file: &str, head: &[u8]) -> Result<Format, ScanError> {
    if head.is_empty() {
        return Err(ScanError::Empty {
            file: file.to_string(),
        });
    }
    detect_format(head).ok_or_else(|| ScanError::UnknownFormat {
        file: file.to_string(),
        what: describe(head),
    })
}

fn from_memory(file: String, format: Format, bytes: Vec<u8>) -> Result<PageSource, ScanError> {
    let inner = match format {
        Format::Tiff => Inner::Tiff(Box::new(tiff::TiffPages::new(
            file.clone(),
            Box::new(Cursor::new(bytes)),
        )?)),
        Format::Pdf => Inner::Pdf(Box::new(pdf::PdfPages::open(file.clone(), &bytes)?)),
        Format::Png | Format::Jpeg => Inner::Single(Some(bytes)),
    };
    Ok(PageSource {
        file,
        format,
        inner,
    })
}

/// The pages of one file, decoded one at a time as the iterator advances.
///
/// Each item is a page or the error that page gave; after a page error the next pages are still
/// tried, unless the file's structure is broken beyond that page (then the iterator ends).
pub struct PageSource {
    file: String,
    format: Format,
    inner: Inner,
}

enum Inner {
    Tiff(Box<tiff::TiffPages>),
    Pdf(Box<pdf::PdfPages>),
    Single(Option<Vec<u8>>),
}

impl PageSource {
    /// The file name used in error messages.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The detected format.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The number of pages when it is known without decoding: always for PDF, PNG and JPEG;
    /// `None` for TIFF, whose directories are read one by one as the pages are.
    pub fn page_count(&self) -> Option<usize> {
        match &self.inner {
            Inner::Tiff(_) => None,
            Inner::Pdf(pdf) => Some(pdf.page_count()),
            Inner::Single(_) => Some(1),
        }
    }
}

impl PageSource {
    /// The next page taken from the file but, where that is the costly part, not decoded yet:
    /// [`EncodedPage::decode`] finishes it, on another thread if the caller likes, while this
    /// source moves on. Fax pages in TIFF defer their CCITT decoding; other pages come decoded.
    /// `next()` is `next_encoded()` followed by `decode()`.
    pub fn next_encoded(&mut self) -> Option<Result<EncodedPage, PageError>> {
        match &mut self.inner {
            Inner::Tiff(pages) => {
                let (page, pending) = pages.next_pending()?;
                Some(pending.map(|pending| EncodedPage {
                    file: self.file.clone(),
                    page,
                    pending,
                }))
            }
            _ => Some(self.next()?.map(|image| EncodedPage {
                file: self.file.clone(),
                page: 0,
                pending: tiff::Pending::Decoded(image),
            })),
        }
    }
}

/// A page read from its file whose decoding may still be to do (see
/// [`PageSource::next_encoded`]).
pub struct EncodedPage {
    file: String,
    page: u32,
    pending: tiff::Pending,
}

impl EncodedPage {
    /// The decoded page, or the error its data gives (naming the file and page).
    pub fn decode(self) -> Result<PageImage, PageError> {
        let (file, page) = (self.file, self.page);
        self.pending
            .decode()
            .map_err(|kind| PageError { file, page, kind })
    }
}

impl fmt::Debug for EncodedPage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncodedPage")
            .field("file", &self.file)
            .field("page", &self.page)
            .finish_non_exhaustive()
    }
}

impl Iterator for PageSource {
    type Item = Result<PageImage, PageError>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Inner::Tiff(pages) => pages.next(),
            Inner::Pdf(pages) => pages.next(),
            Inner::Single(bytes) => {
                let bytes = bytes.take()?;
                let page = match self.format {
                    Format::Png => raster::decode_png(&bytes),
                    _ => raster::decode_jpeg(&bytes),
                };
                Some(page.map_err(|kind| PageError {
                    file: self.file.clone(),
                    page: 1,
                    kind,
                }))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            Inner::Tiff(_) => (0, None),
            Inner::Pdf(pages) => pages.size_hint(),
            Inner::Single(bytes) => {
                let n = usize::from(bytes.is_some());
                (n, Some(n))
            }
        }
    }
}

impl FusedIterator for PageSource {}

impl fmt::Debug for PageSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PageSource")
            .field("file", &self.file)
            .field("format", &self.format)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_content() {
        assert_eq!(detect_format(b"II*\0\x08\0\0\0"), Some(Format::Tiff));
        assert_eq!(detect_format(b"MM\0*\0\0\0\x08"), Some(Format::Tiff));
        assert_eq!(detect_format(b"\x89PNG\r\n\x1a\n"), Some(Format::Png));
        assert_eq!(detect_format(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(Format::Jpeg));
        assert_eq!(detect_format(b"junk\n%PDF-1.4"), Some(Format::Pdf));
        assert_eq!(detect_format(b"GIF89a"), None);
        assert_eq!(describe(b"GIF89a"), "a GIF image");
        assert!(describe(b"hello").starts_with("text, perhaps a CSV file"));
        // Shift_JIS, and UTF-8 cut inside a character, are text too.
        assert!(describe(b"\x83\x52\x81\x5B\x83\x68,").starts_with("text"));
        assert!(describe(&"コード".as_bytes()[..8]).starts_with("text"));
        assert!(describe(b"\x83\x52\x00\x01").starts_with("unrecognised content"));
        assert!(describe(&[0, 1, 2]).starts_with("unrecognised content starting with 00 01 02"));
    }

    #[test]
    fn sources_can_move_between_threads() {
        fn send<T: Send>() {}
        send::<PageSource>();
        send::<PageImage>();
        send::<PageError>();
        send::<ScanError>();
    }

    #[test]
    fn empty_and_unknown_bytes() {
        let err = open_bytes("upload.tif", Vec::new()).unwrap_err();
        assert!(matches!(err, ScanError::Empty { .. }), "{err}");
        assert!(err.to_string().starts_with("upload.tif: the file is empty"));
        let err = open_bytes("reply.docx", b"PK\x03\x04rest".to_vec()).unwrap_err();
        assert!(err.to_string().contains("Word or Excel"), "{err}");
    }
}
