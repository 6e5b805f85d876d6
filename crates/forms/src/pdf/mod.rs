//! The PDF writer, modelled on typst-pdf: one file per kind of PDF object, and
//! writing in three phases, kept apart from any form layout.
//!
//! # Phases
//!
//! 1. **Drawing** ([`page`]): layout code draws on [`Page`]s. A page only *records*
//!    operations (text as glyph ids of the full font, paths, grey levels) in
//!    top-left-origin coordinates converted to PDF space; nothing is written yet.
//!    Text is shaped and checked for missing glyphs here, so errors surface where
//!    the text is placed.
//! 2. **Font subset** ([`font`], [`subset`]): when a document is written, the glyphs of all its
//!    pages are collected in order of first use and renumbered, and the font is
//!    subset **once per document** to exactly those glyphs. This is why fonts come
//!    last: the subset's glyph ids are only known once every page is drawn. The
//!    subset's TrueType hinting is dropped to keep files small.
//! 3. **Objects**: the font objects ([`font`]: Type0, CIDFontType2, descriptor,
//!    FontFile2, ToUnicode), then the page tree with one Flate-compressed content
//!    stream per page ([`page`], encoded by [`content`] with the subset's glyph
//!    ids), then catalog and document info; lopdf serialises them.
//!
//! The same recorded pages can be written into several documents: a facility's own
//! file ([`Document::to_pdf`], many at once with [`write_all`]) and the combined
//! print file of all facilities ([`write_combined`], [`write_pages`]), each with its
//! own subset.
//!
//! # Example
//!
//! ```
//! use capsurvey_forms::{Document, Rect, TextStyle, mm};
//!
//! let mut doc = Document::new("訪問歯科診療 実態調査");
//! let page = doc.add_page();
//! page.text(mm(20.0), mm(20.0), 16.0, "訪問歯科診療の実施状況")?;
//! page.text(mm(20.0), mm(30.0), TextStyle::new(9.0).with_gray(0.4), "令和6年11月1日時点")?;
//! page.stroke_rect(Rect::new(mm(20.0), mm(40.0), mm(5.0), mm(5.0)), 0.8);
//! let pdf: Vec<u8> = doc.to_pdf()?;
//! assert!(pdf.starts_with(b"%PDF-"));
//! # Ok::<(), capsurvey_forms::Error>(())
//! ```

mod cache;
mod content;
mod font;
mod page;
mod subset;

use std::io::Write;

use lopdf::{Object, dictionary, text_string};

pub use page::{Page, TextAnchor, TextStyle};

use crate::Error;

/// What goes into the document information dictionary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentInfo {
    /// `/Title`, shown by viewers in the title bar (any Unicode text).
    pub title: String,
    /// `/Author`, if any.
    pub author: Option<String>,
    /// `/Subject`, if any.
    pub subject: Option<String>,
}

impl DocumentInfo {
    /// Information with just a title.
    pub fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            author: None,
            subject: None,
        }
    }
}

/// The value of `/Producer` in every document.
pub const PRODUCER: &str = "capsurvey";

/// A PDF document being drawn: information and pages, written with [`Document::to_pdf`].
///
/// `Document` is `Send + Sync` and writing takes `&self`, so many documents can be
/// written in parallel (see [`write_all`]); the font is shared, parsed once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Document {
    info: DocumentInfo,
    pages: Vec<Page>,
}

impl Document {
    /// An empty document with the given title.
    pub fn new(title: impl Into<String>) -> Self {
        Self::with_info(DocumentInfo::new(title))
    }

    /// An empty document with full information.
    pub fn with_info(info: DocumentInfo) -> Self {
        Self {
            info,
            pages: Vec::new(),
        }
    }

    /// The document information.
    pub fn info(&self) -> &DocumentInfo {
        &self.info
    }

    /// The document information, to change.
    pub fn info_mut(&mut self) -> &mut DocumentInfo {
        &mut self.info
    }

    /// Appends an empty A4 page and returns it for drawing.
    pub fn add_page(&mut self) -> &mut Page {
        self.push_page(Page::a4())
    }

    /// Appends a page drawn elsewhere and returns it.
    pub fn push_page(&mut self, page: Page) -> &mut Page {
        self.pages.push(page);
        self.pages.last_mut().expect("just pushed")
    }

    /// The pages so far.
    pub fn pages(&self) -> &[Page] {
        &self.pages
    }

    /// The pages so far, to draw on.
    pub fn pages_mut(&mut self) -> &mut [Page] {
        &mut self.pages
    }

    /// Writes the document (phases 2 and 3) and returns the PDF file's bytes.
    pub fn to_pdf(&self) -> Result<Vec<u8>, Error> {
        let mut out = Vec::with_capacity(64 * 1024);
        self.write_to(&mut out)?;
        Ok(out)
    }

    /// Writes the document (phases 2 and 3) to `out`.
    pub fn write_to(&self, out: &mut impl Write) -> Result<(), Error> {
        let pages: Vec<&Page> = self.pages.iter().collect();
        write_pages_to(&self.info, &pages, out)
    }
}

/// Writes one document per entry of `docs`, in parallel on all cores, and returns
/// the PDF bytes (or the error) for each, in the same order.
pub fn write_all(docs: &[Document]) -> Vec<Result<Vec<u8>, Error>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(docs.len());
    if threads <= 1 {
        return docs.iter().map(Document::to_pdf).collect();
    }
    let chunk = docs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().map(Document::to_pdf).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            // A panic in a worker is a bug here; pass it on rather than hide it.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

/// Writes all pages of `docs`, in order, as one document (e.g. the combined print
/// file of all facilities), with its own font subset.
pub fn write_combined(info: &DocumentInfo, docs: &[Document]) -> Result<Vec<u8>, Error> {
    let pages: Vec<&Page> = docs.iter().flat_map(|d| d.pages.iter()).collect();
    write_pages(info, &pages)
}

/// Writes the given pages, in order, as one document.
pub fn write_pages(info: &DocumentInfo, pages: &[&Page]) -> Result<Vec<u8>, Error> {
    let mut out = Vec::with_capacity(64 * 1024);
    write_pages_to(info, pages, &mut out)?;
    Ok(out)
}

/// Writes the given pages, in order, as one document to `out`: phases 2 and 3.
pub fn write_pages_to(
    info: &DocumentInfo,
    pages: &[&Page],
    out: &mut impl Write,
) -> Result<(), Error> {
    if pages.is_empty() {
        return Err(Error::NoPages);
    }

    // Phase 2: the glyphs of the whole document, then its one subset.
    let glyphs = font::GlyphSet::collect(pages);
    let subset = subset::Subset::build(&glyphs)?;

    // Phase 3: objects. Fonts first so that pages can refer to them.
    // PDF 1.7; lopdf writes a cross-reference stream (1.5+), which is compact.
    let mut pdf = lopdf::Document::with_version("1.7");
    let font_id = subset
        .as_ref()
        .map(|s| font::write_font(&mut pdf, &glyphs, s));
    let tree_id = page::write_page_tree(&mut pdf, pages, font_id, &glyphs)?;

    let catalog = pdf.add_object(dictionary! {
        "Type" => "Catalog",
        "Pages" => tree_id,
        // Lets screen readers and text extraction pick Japanese rules.
        "Lang" => Object::string_literal("ja"),
    });
    let mut info_dict = dictionary! {
        "Title" => text_string(&info.title),
        "Producer" => Object::string_literal(PRODUCER),
    };
    if let Some(author) = &info.author {
        info_dict.set("Author", text_string(author));
    }
    if let Some(subject) = &info.subject {
        info_dict.set("Subject", text_string(subject));
    }
    let info_id = pdf.add_object(info_dict);
    pdf.trailer.set("Root", catalog);
    pdf.trailer.set("Info", info_id);

    pdf.save_to(out)?;
    Ok(())
}
