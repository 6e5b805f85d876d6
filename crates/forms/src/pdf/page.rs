//! Pages: the drawing API (phase 1) and the page objects (phase 3).
//!
//! A [`Page`] records drawing operations in a compact list instead of writing PDF
//! right away, because the content stream has to name glyphs by their ids in the
//! font *subset*, which is only known once every page of the document has been
//! drawn (phase 2). Recording also lets one page go into several documents, e.g.
//! a facility's own file and the combined print file, without drawing it twice.
//!
//! Coordinates given to a page are points from its top-left corner, y downwards
//! (see [`crate::geom`]); they are converted to PDF's bottom-left origin as they are
//! recorded.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use lopdf::{Dictionary, Object, ObjectId, dictionary};

use super::content;
use super::font::GlyphSet;
use crate::Error;
use crate::font::{EM_ASCENT, font};
use crate::geom::{A4_HEIGHT, A4_WIDTH, Rect, Stroke};
use crate::text::{Glyph, ShapedText};

/// Where the `y` of a text call is, relative to the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextAnchor {
    /// `y` is the top of the em box; the baseline is `0.88 × size` below it and the
    /// box ends `size` below it. This is the default: a line of text at size `s`
    /// occupies exactly `y .. y + s`, which makes boxes and rows easy to lay out.
    #[default]
    EmTop,
    /// `y` is the baseline.
    Baseline,
}

/// Font size, grey level and vertical anchor of a text.
///
/// A plain number converts into a style: `page.text(x, y, 10.5, "…")` draws black
/// text of size 10.5 pt whose em box starts at `y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextStyle {
    /// Font size in points (the em box height).
    pub size: f64,
    /// Grey level, 0.0 = black … 1.0 = white.
    pub gray: f64,
    /// What `y` refers to.
    pub anchor: TextAnchor,
}

impl TextStyle {
    /// Black text of `size` points placed by the top of its em box.
    pub const fn new(size: f64) -> Self {
        Self {
            size,
            gray: 0.0,
            anchor: TextAnchor::EmTop,
        }
    }

    /// The same style in another grey level (0.0 = black, 1.0 = white).
    pub const fn with_gray(mut self, gray: f64) -> Self {
        self.gray = gray;
        self
    }

    /// The same style placed by the baseline instead of the em box top.
    pub const fn at_baseline(mut self) -> Self {
        self.anchor = TextAnchor::Baseline;
        self
    }
}

impl From<f64> for TextStyle {
    fn from(size: f64) -> Self {
        Self::new(size)
    }
}

/// A recorded drawing operation, in PDF coordinates (origin bottom-left).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    /// Glyphs `glyphs` of the page's glyph list, baseline starting at (x, y).
    Text {
        x: f64,
        y: f64,
        size: f64,
        gray: f64,
        glyphs: Range<usize>,
    },
    /// Path elements `elements` of the page's path list, painted once.
    Path {
        elements: Range<usize>,
        paint: Paint,
    },
}

/// How a path is painted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Paint {
    Fill(f64),
    Stroke(Stroke),
    FillStroke(f64, Stroke),
}

/// A path element in PDF coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum PathEl {
    Move(f64, f64),
    Line(f64, f64),
    Curve(f64, f64, f64, f64, f64, f64),
    /// Lower-left corner, width, height (the `re` operator).
    Rect(f64, f64, f64, f64),
    Close,
}

/// One page being drawn: records operations until the document is written.
///
/// All drawing methods take points from the page's **top-left** corner with y
/// growing downwards. Grey levels run from 0.0 (black) to 1.0 (white). Drawing is
/// infallible except for text, which fails when the font lacks a character; a NaN
/// or infinite number is reported when the page is written
/// ([`Error::NonFiniteNumber`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    width: f64,
    height: f64,
    /// A page drawn underneath this one and shared with other pages (see [`Page::over`]).
    base: Option<Arc<Page>>,
    pub(crate) ops: Vec<Op>,
    /// Glyphs of all text operations, which refer to ranges of it (one allocation per page).
    pub(crate) glyphs: Vec<Glyph>,
    /// Elements of all path operations, likewise.
    pub(crate) path: Vec<PathEl>,
}

impl Default for Page {
    fn default() -> Self {
        Self::a4()
    }
}

/// Control-point distance for a quarter circle drawn as one cubic Bézier curve.
const KAPPA: f64 = 0.552_284_749_830_793_4;

impl Page {
    /// An empty page of the given size in points.
    pub fn new(width: f64, height: f64) -> Self {
        Self {
            width,
            height,
            base: None,
            ops: Vec::new(),
            glyphs: Vec::new(),
            path: Vec::new(),
        }
    }

    /// An empty page drawn on top of `base`, which is shared, not copied: what many
    /// documents have in common (a form's questions) is drawn once, and each document
    /// adds its own (a facility's name) on top. The page has the base's size.
    ///
    /// When written, the base becomes a content stream of its own, written once per
    /// document however many pages use it (a print file of a thousand forms holds
    /// each question page once) and compressed once per process for the same glyph
    /// numbering. Its glyphs are numbered before the pages' own glyphs, so every
    /// document over the same bases numbers them the same way, and the part of the
    /// font subset that holds them is compressed once too. The base's graphics state
    /// (grey, line width) does not leak into the page drawn over it.
    pub fn over(base: Arc<Page>) -> Self {
        let (width, height) = (base.width, base.height);
        Self {
            width,
            height,
            base: Some(base),
            ops: Vec::new(),
            glyphs: Vec::new(),
            path: Vec::new(),
        }
    }

    /// The shared page underneath, if the page was made with [`Page::over`].
    pub fn base(&self) -> Option<&Arc<Page>> {
        self.base.as_ref()
    }

    /// The layers drawn, bottom first: the base's layers, then this page's own operations.
    pub(crate) fn layers(&self) -> Vec<&Page> {
        let mut out = match &self.base {
            Some(b) => b.layers(),
            None => Vec::new(),
        };
        out.push(self);
        out
    }

    /// An empty A4 portrait page (595.276 × 841.89 pt).
    pub fn a4() -> Self {
        Self::new(A4_WIDTH, A4_HEIGHT)
    }

    /// Page width in points.
    pub fn width(&self) -> f64 {
        self.width
    }

    /// Page height in points.
    pub fn height(&self) -> f64 {
        self.height
    }

    /// Whether nothing has been drawn yet (on this page or its base).
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty() && self.base.as_ref().is_none_or(|b| b.is_empty())
    }

    /// Draws one line of text starting at `x`, with `y` as given by the style's
    /// [`TextAnchor`] (by default the top of the em box), and returns its width.
    ///
    /// The text is drawn as one run: `\n` is not a line break but a missing glyph;
    /// use [`crate::text::break_lines`] and one call per line. Fails with
    /// [`Error::MissingGlyphs`], drawing nothing, if the font lacks a character.
    pub fn text(
        &mut self,
        x: f64,
        y: f64,
        style: impl Into<TextStyle>,
        text: &str,
    ) -> Result<f64, Error> {
        let shaped = ShapedText::new(text)?;
        Ok(self.draw_shaped(x, y, style, &shaped))
    }

    /// Draws already shaped text (see [`ShapedText`]) like [`Page::text`] and returns its width.
    pub fn draw_shaped(
        &mut self,
        x: f64,
        y: f64,
        style: impl Into<TextStyle>,
        text: &ShapedText,
    ) -> f64 {
        let style = style.into();
        if text.is_empty() {
            return 0.0;
        }
        let baseline = match style.anchor {
            TextAnchor::EmTop => y + EM_ASCENT * style.size,
            TextAnchor::Baseline => y,
        };
        let start = self.glyphs.len();
        self.glyphs.extend_from_slice(&text.glyphs);
        self.ops.push(Op::Text {
            x,
            y: self.height - baseline,
            size: style.size,
            gray: style.gray,
            glyphs: start..self.glyphs.len(),
        });
        font().to_points(text.units, style.size)
    }

    /// Draws a straight line from `(x1, y1)` to `(x2, y2)`.
    ///
    /// `stroke` can be a plain width: `page.line(x1, y1, x2, y2, 0.5)`.
    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: impl Into<Stroke>) {
        let h = self.height;
        self.push_path(
            [PathEl::Move(x1, h - y1), PathEl::Line(x2, h - y2)],
            Paint::Stroke(stroke.into()),
        );
    }

    /// Draws connected straight lines through `points` (nothing for fewer than two),
    /// e.g. a check mark.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: impl Into<Stroke>) {
        if points.len() < 2 {
            return;
        }
        let h = self.height;
        let els = points.iter().enumerate().map(|(i, &(x, y))| {
            if i == 0 {
                PathEl::Move(x, h - y)
            } else {
                PathEl::Line(x, h - y)
            }
        });
        self.push_path(els, Paint::Stroke(stroke.into()));
    }

    /// Draws the outline of a rectangle. The stroke is centred on the edges.
    pub fn stroke_rect(&mut self, rect: Rect, stroke: impl Into<Stroke>) {
        let el = self.rect_el(rect);
        self.push_path([el], Paint::Stroke(stroke.into()));
    }

    /// Fills a rectangle with a grey level (0.0 = black).
    pub fn fill_rect(&mut self, rect: Rect, gray: f64) {
        let el = self.rect_el(rect);
        self.push_path([el], Paint::Fill(gray));
    }

    /// Fills a rectangle and strokes its outline, e.g. a shaded table header cell.
    pub fn fill_stroke_rect(&mut self, rect: Rect, gray: f64, stroke: impl Into<Stroke>) {
        let el = self.rect_el(rect);
        self.push_path([el], Paint::FillStroke(gray, stroke.into()));
    }

    /// Fills a circle of radius `r` around `(cx, cy)`, e.g. a registration mark.
    pub fn fill_circle(&mut self, cx: f64, cy: f64, r: f64, gray: f64) {
        let els = self.circle_els(cx, cy, r);
        self.push_path(els, Paint::Fill(gray));
    }

    /// Draws the outline of a circle of radius `r` around `(cx, cy)`.
    pub fn stroke_circle(&mut self, cx: f64, cy: f64, r: f64, stroke: impl Into<Stroke>) {
        let els = self.circle_els(cx, cy, r);
        self.push_path(els, Paint::Stroke(stroke.into()));
    }

    /// Fills many squares of side `side`, given by their top-left corners, as one
    /// path: one fill operation however many squares, so no seams appear between
    /// touching squares and the content stream stays small.
    pub fn fill_squares(
        &mut self,
        side: f64,
        gray: f64,
        top_lefts: impl IntoIterator<Item = (f64, f64)>,
    ) {
        let h = self.height;
        self.push_path(
            top_lefts
                .into_iter()
                .map(|(x, y)| PathEl::Rect(x, h - y - side, side, side)),
            Paint::Fill(gray),
        );
    }

    /// Fills the dark cells of a grid of `(columns, rows)` square cells of side
    /// `cell`, whose top-left corner is `(x, y)` — a QR code or a code of printed
    /// binary squares. `dark(column, row)` says which cells to fill.
    ///
    /// Horizontally adjacent dark cells are merged into one rectangle, so touching
    /// cells print as one solid area and a typical code needs a few hundred
    /// rectangles rather than one per module.
    pub fn fill_cells(
        &mut self,
        (x, y): (f64, f64),
        cell: f64,
        (columns, rows): (usize, usize),
        gray: f64,
        mut dark: impl FnMut(usize, usize) -> bool,
    ) {
        let h = self.height;
        let start = self.path.len();
        for row in 0..rows {
            let mut col = 0;
            while col < columns {
                if !dark(col, row) {
                    col += 1;
                    continue;
                }
                let first = col;
                while col < columns && dark(col, row) {
                    col += 1;
                }
                let top = y + row as f64 * cell;
                self.path.push(PathEl::Rect(
                    x + first as f64 * cell,
                    h - top - cell,
                    (col - first) as f64 * cell,
                    cell,
                ));
            }
        }
        if self.path.len() > start {
            self.ops.push(Op::Path {
                elements: start..self.path.len(),
                paint: Paint::Fill(gray),
            });
        }
    }

    fn rect_el(&self, r: Rect) -> PathEl {
        // `re` wants the lower-left corner; normalise negative sizes on the way.
        let r = Rect::from_corners(r.x, r.y, r.x + r.width, r.y + r.height);
        PathEl::Rect(r.x, self.height - r.y - r.height, r.width, r.height)
    }

    fn circle_els(&self, cx: f64, cy: f64, r: f64) -> [PathEl; 6] {
        let (cx, cy) = (cx, self.height - cy);
        let k = KAPPA * r;
        [
            PathEl::Move(cx + r, cy),
            PathEl::Curve(cx + r, cy + k, cx + k, cy + r, cx, cy + r),
            PathEl::Curve(cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            PathEl::Curve(cx - r, cy - k, cx - k, cy - r, cx, cy - r),
            PathEl::Curve(cx + k, cy - r, cx + r, cy - k, cx + r, cy),
            PathEl::Close,
        ]
    }

    fn push_path(&mut self, els: impl IntoIterator<Item = PathEl>, paint: Paint) {
        let start = self.path.len();
        self.path.extend(els);
        if self.path.len() > start {
            self.ops.push(Op::Path {
                elements: start..self.path.len(),
                paint,
            });
        }
    }
}

/// Phase 3: writes the page tree with one content stream per page and returns the
/// id of the `/Pages` node.
pub(crate) fn write_page_tree(
    pdf: &mut lopdf::Document,
    pages: &[&Page],
    font: Option<ObjectId>,
    glyphs: &GlyphSet,
) -> Result<ObjectId, Error> {
    let tree_id = pdf.new_object_id();
    // One resource dictionary shared by every page: there is only one font.
    let mut fonts = Dictionary::new();
    if let Some(font) = font {
        fonts.set(content::FONT_NAME, font);
    }
    let resources = pdf.add_object(dictionary! { "Font" => fonts });

    let mut kids = Vec::with_capacity(pages.len());
    // Shared layers (bases) already written in this document, by address.
    let mut shared: HashMap<*const Page, ObjectId> = HashMap::new();
    for (i, page) in pages.iter().enumerate() {
        let layers = page.layers();
        let mut contents = Vec::with_capacity(layers.len());
        for (n, layer) in layers.iter().enumerate() {
            let is_base = n + 1 < layers.len();
            let key: *const Page = *layer;
            if is_base && let Some(&id) = shared.get(&key) {
                contents.push(Object::Reference(id));
                continue;
            }
            let encoded = content::encode(layer, glyphs);
            if !encoded.finite {
                return Err(Error::NonFiniteNumber { page: i + 1 });
            }
            let id = if is_base {
                // Saved and restored, so the page's own operations start from the defaults.
                let mut bytes = Vec::with_capacity(encoded.bytes.len() + 4);
                bytes.extend_from_slice(b"q\n");
                bytes.extend_from_slice(&encoded.bytes);
                bytes.extend_from_slice(b"Q\n");
                let compressed = super::cache::deflate_shared(&bytes);
                let id = pdf.add_object(content::compressed_stream(
                    Dictionary::new(),
                    compressed.as_ref().clone(),
                ));
                shared.insert(key, id);
                id
            } else {
                pdf.add_object(content::flate_stream(Dictionary::new(), &encoded.bytes))
            };
            contents.push(Object::Reference(id));
        }
        let contents = if contents.len() == 1 {
            contents.pop().expect("one")
        } else {
            Object::Array(contents)
        };
        let media_box: Vec<Object> = vec![0.into(), 0.into(), real(page.width), real(page.height)];
        let page_id = pdf.add_object(dictionary! {
            "Type" => "Page",
            "Parent" => tree_id,
            "MediaBox" => media_box,
            "Resources" => resources,
            "Contents" => contents,
        });
        kids.push(Object::Reference(page_id));
    }
    let count = kids.len() as i64;
    pdf.objects.insert(
        tree_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    Ok(tree_id)
}

/// A number for a PDF dictionary: an integer where it is one, else a real.
pub(crate) fn real(v: f64) -> Object {
    if v.fract() == 0.0 && v.abs() < 1e9 {
        Object::Integer(v as i64)
    } else {
        Object::Real(v as f32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_over_a_shared_base() {
        let mut base = Page::new(100.0, 200.0);
        assert!(base.is_empty());
        base.text(10.0, 10.0, 10.0, "共通").unwrap();
        let base = Arc::new(base);
        let mut page = Page::over(Arc::clone(&base));
        assert!(!page.is_empty(), "the base has content");
        assert_eq!((page.width(), page.height()), (100.0, 200.0));
        page.text(10.0, 30.0, 10.0, "個別").unwrap();
        let layers = page.layers();
        assert_eq!(layers.len(), 2);
        assert!(std::ptr::eq(layers[0], Arc::as_ptr(&base)));
        assert_eq!(page.glyphs.len(), 2, "the base's glyphs are not copied");
    }
}
