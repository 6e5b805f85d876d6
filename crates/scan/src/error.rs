//! Errors. Every message names the file (and the 1-based page where there is one) and says what
//! the operator can do about it.

use std::io;

use crate::page::MAX_PIXELS;

/// A whole file could not be opened: nothing can be read from it.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// The file could not be read from disk.
    #[error("{file}: cannot read the file: {source}")]
    Io {
        /// The file, as given.
        file: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The file has no content at all.
    #[error(
        "{file}: the file is empty (0 bytes): the scan or fax transfer probably failed; scan or send it again"
    )]
    Empty {
        /// The file, as given.
        file: String,
    },
    /// The content is none of the supported formats (detected by content, not by extension).
    #[error(
        "{file}: not a TIFF, PDF, PNG or JPEG file ({what}): save or export the scan as TIFF, PDF, PNG or JPEG"
    )]
    UnknownFormat {
        /// The file, as given.
        file: String,
        /// What the content looks like instead.
        what: String,
    },
    /// The PDF is encrypted (even when it opens without a password).
    #[error(
        "{file}: encrypted PDF is not supported: save an unencrypted copy (for example `qpdf --decrypt in.pdf out.pdf`)"
    )]
    EncryptedPdf {
        /// The file, as given.
        file: String,
    },
    /// The file's structure (TIFF header and first directory, PDF cross-reference and page tree)
    /// is damaged.
    #[error(
        "{file}: damaged or unreadable {format} file ({detail}): check that the transfer completed, or scan or send it again"
    )]
    Corrupt {
        /// The file, as given.
        file: String,
        /// "TIFF", "PDF", …
        format: &'static str,
        /// What went wrong, from the decoder.
        detail: String,
    },
}

/// One page could not be decoded. The other pages of the file may still be fine: the page
/// iterator goes on after this error unless the file's structure makes that impossible.
#[derive(Debug, thiserror::Error)]
#[error("{file}, page {page}: {kind}")]
pub struct PageError {
    /// The file, as given.
    pub file: String,
    /// The page, counted from 1.
    pub page: u32,
    /// What went wrong.
    pub kind: PageErrorKind,
}

/// What went wrong with a page.
#[derive(Debug, thiserror::Error)]
pub enum PageErrorKind {
    /// A TIFF compression scheme this crate does not decode.
    #[error(
        "unsupported TIFF compression {code} ({name}): convert with `tiffcp -c g4 in.tif out.tif` (black and white) or `tiffcp -c lzw in.tif out.tif` (grey or colour)"
    )]
    UnsupportedTiffCompression {
        /// The TIFF Compression tag value.
        code: u16,
        /// Its usual name.
        name: &'static str,
    },
    /// Some other feature this crate does not support.
    #[error("{what} is not supported: {advice}")]
    Unsupported {
        /// The feature.
        what: String,
        /// What to do instead.
        advice: &'static str,
    },
    /// The page is larger than [`MAX_PIXELS`]; refused before allocating.
    #[error(
        "the page image is {width}×{height} pixels, more than the limit of {} megapixels: scan at 200–300 dpi",
        MAX_PIXELS / 1_000_000
    )]
    TooLarge {
        /// Width in pixels, from the header.
        width: u64,
        /// Height in pixels, from the header.
        height: u64,
    },
    /// A PDF page that holds no image.
    #[error(
        "the PDF page contains no image: only scanned or faxed pages can be read; rasterise the PDF first, for example `gs -sDEVICE=tiffg4 -r204x196 -o out.tif in.pdf`"
    )]
    NoImage,
    /// The page data ends too early.
    #[error(
        "the image data is truncated ({detail}): the file is incomplete; send or scan the page again"
    )]
    Truncated {
        /// Where it ends.
        detail: String,
    },
    /// The page data is damaged.
    #[error("damaged {format} data ({detail}): send or scan the page again")]
    Corrupt {
        /// "CCITT fax", "TIFF", "PDF", "JPEG", …
        format: &'static str,
        /// What the decoder found.
        detail: String,
    },
    /// Reading the page's data from the file failed.
    #[error("cannot read the page data: {0}")]
    Io(#[source] io::Error),
}

impl PageErrorKind {
    pub(crate) fn corrupt(format: &'static str, detail: impl ToString) -> Self {
        PageErrorKind::Corrupt {
            format,
            detail: detail.to_string(),
        }
    }

    pub(crate) fn truncated(detail: impl ToString) -> Self {
        PageErrorKind::Truncated {
            detail: detail.to_string(),
        }
    }

    pub(crate) fn unsupported(what: impl ToString, advice: &'static str) -> Self {
        PageErrorKind::Unsupported {
            what: what.to_string(),
            advice,
        }
    }
}
