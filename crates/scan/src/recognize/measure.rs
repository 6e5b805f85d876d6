//! Measuring ink in and around one answer box.
//!
//! Everything is measured in page millimetres: each image pixel in a small window around the box
//! is mapped back to the page through the inverse transform, so skew and non-square fax pixels
//! need no special cases. Only dark pixels are kept, and only inside the window.
//!
//! 1. **Local correction.** The printed frame of the box is found from ink profiles across its
//!    left/right and top/bottom sides (both sides at once, at the known distance apart), within
//!    ±[`SEARCH_MM`] of where the transform puts it. This absorbs local distortion of the fax
//!    (uneven paper feed) and lets the interior be measured close to the frame. Where the frame
//!    cannot be told from the ink inside (a box filled in), the transform position is kept and
//!    a wider margin used.
//! 2. **Zones.** The interior (the box shrunk by half the frame's measured width plus a
//!    tolerance), the ring just outside the frame, and — for choice boxes — a band around the
//!    option's label.
//! 3. **Components.** Dark pixels are grouped into 8-connected components per zone. Small ones
//!    (under [`SPECK_MM`] across) are speckle; the rest are strokes.

use capsurvey_layout::{AnswerBox, BoxKind, Rect};

use super::transform::{PT_PER_MM, Transform};
use crate::PageImage;

/// How far the frame may be from where the transform puts it, millimetres.
pub const SEARCH_MM: f64 = 0.8;
/// Components smaller than this across (millimetres) are speckle, not strokes.
pub const SPECK_MM: f64 = 0.6;
/// In digit, text and area boxes, components smaller than this across (millimetres) are
/// speckle.
pub const WRITTEN_SPECK_MM: f64 = 1.0;
/// Gap (about) across which fragments of one stroke are joined in a choice box, millimetres.
pub const BRIDGE_MM: f64 = 0.4;
/// Ink a group of joined fragments needs to count as a stroke without any stroke-sized piece.
pub const BRIDGED_STROKE_MM2: f64 = 0.15;
/// Width of the ring just outside the box frame, millimetres.
const RING_MM: f64 = 1.0;
/// The label band: from this far outside the label's rectangle…
const BAND_IN_MM: f64 = 0.4;
/// … to this far (short of the question text above the first row, 2–3 mm away).
const BAND_OUT_MM: f64 = 2.6;
/// Gap (about, mm) across which pieces of a loop are joined again.
const LOOP_BRIDGE_MM: f64 = 0.25;
/// Strokes beside a label's ends count from this far beyond its rectangle (mm).
const BESIDE_MM: f64 = 0.2;
/// Strokes in the label band count when at least this long (mm): arcs of a loop, not glyph
/// bits, dust or speckle.
const LONG_ARC_MM: f64 = 1.5;
/// Bin size of the profiles, millimetres.
const BIN_MM: f64 = 0.05;
/// Half-width of the window in which a frame side's ink is summed, millimetres.
const LINE_HALF_MM: f64 = 0.3;
/// How far inside the interior the core begins (mm; a quarter of a small box at most).
const CORE_MM: f64 = 1.0;
/// Width of the interior's outer strip checked for "filled up to the frame", millimetres.
const EDGE_MM: f64 = 0.6;
/// Margin kept from the frame when it was located (residual error), millimetres.
const TOL_LOCATED_MM: f64 = 0.2;
/// Margin kept from the frame when it was not located but placed from its neighbours.
const TOL_HINTED_MM: f64 = 0.3;
/// Margin kept from the frame when it was not located (transform error), millimetres.
const TOL_UNLOCATED_MM: f64 = 0.55;

/// Grey levels that count as ink on this page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    /// Pixels darker than this are ink (includes light pencil).
    pub weak: u8,
    /// Pixels darker than this are dark ink.
    pub strong: u8,
}

/// Everything needed to map and classify pixels of one page.
pub(crate) struct Ctx<'a> {
    pub page: &'a PageImage,
    pub fwd: Transform,
    pub inv: Transform,
    pub thr: Thresholds,
    /// Image pixels per millimetre along the page's x and y axes.
    pub ppm: (f64, f64),
    /// Area of one image pixel on the page, mm².
    pub px_area: f64,
    /// Grey page: adapt thresholds to the local paper.
    pub grey: bool,
    pub paper: f64,
    pub ink: f64,
    /// Image columns and rows that are streaks (dark over most of the page: dirt on a fax's
    /// scanner bar, a transmission error), whose pixels are not counted as ink.
    streak_cols: Vec<bool>,
    streak_rows: Vec<bool>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(page: &'a PageImage, fwd: Transform, paper: f64, ink: f64) -> Option<Self> {
        let inv = fwd.inverse()?;
        let (kx, ky) = fwd.px_per_pt();
        let det = (fwd.m[0] * fwd.m[4] - fwd.m[1] * fwd.m[3]).abs();
        let grey = !page.bilevel;
        let (paper, ink) = if grey {
            (paper.clamp(60.0, 255.0), ink.clamp(0.0, paper - 40.0))
        } else {
            (255.0, 0.0)
        };
        let (streak_cols, streak_rows) = streaks(page, thresholds(paper, ink, grey).weak);
        Some(Ctx {
            streak_cols,
            streak_rows,
            page,
            fwd,
            inv,
            thr: thresholds(paper, ink, grey),
            ppm: (kx * PT_PER_MM, ky * PT_PER_MM),
            px_area: 1.0 / (det * PT_PER_MM * PT_PER_MM),
            grey,
            paper,
            ink,
        })
    }
}

/// Finds streaks by sampling rows (for columns) and columns (for rows): a line dark
/// on more than 40 % of the page is no hand mark. Printed rules are shorter (the longest
/// vertical print is a 40 mm area), and a skewed page spreads a horizontal rule over many rows.
fn streaks(page: &PageImage, dark: u8) -> (Vec<bool>, Vec<bool>) {
    // Columns: every 16th row. Rows: 64 columns spread over the width.
    const ROW_STEP: usize = 16;
    const SAMPLE_COLS: usize = 64;
    let (w, h) = (page.width as usize, page.height as usize);
    let mut cols = vec![0u32; w];
    let mut sampled_rows = 0u32;
    for y in (0..h).step_by(ROW_STEP) {
        sampled_rows += 1;
        for (c, &p) in cols.iter_mut().zip(page.row(y as u32)) {
            *c += (p < dark) as u32;
        }
    }
    let xs: Vec<usize> = (0..SAMPLE_COLS)
        .map(|i| (2 * i + 1) * w / (2 * SAMPLE_COLS))
        .collect();
    let rows = (0..h)
        .map(|y| {
            let row = page.row(y as u32);
            let n = xs.iter().filter(|&&x| row[x] < dark).count();
            n as f64 > 0.4 * SAMPLE_COLS as f64
        })
        .collect();
    (
        cols.iter()
            .map(|&c| c as f64 > 0.4 * sampled_rows as f64)
            .collect(),
        rows,
    )
}

fn thresholds(paper: f64, ink: f64, grey: bool) -> Thresholds {
    if !grey {
        return Thresholds {
            weak: 128,
            strong: 128,
        };
    }
    let span = (paper - ink).max(40.0);
    Thresholds {
        // Light pencil on a grey scan is often only 20–30 % of the way to black.
        weak: (paper - 0.22 * span).round().clamp(1.0, 254.0) as u8,
        strong: (paper - 0.5 * span).round().clamp(1.0, 254.0) as u8,
    }
}

/// A dark pixel: window-local pixel position, page position (mm from the box's top-left,
/// before correction) and whether it is dark ink (not just light).
#[derive(Debug, Clone, Copy)]
struct Dot {
    lx: u32,
    ly: u32,
    u: f32,
    v: f32,
    strong: bool,
}

/// Dark pixels of a page-space window.
struct Patch {
    /// Dark pixels, row by row, left to right.
    dots: Vec<Dot>,
}

/// The image pixels a page-space window can touch: the bounding box of its corners in the
/// image, clipped to the image, as `(x0, y0, x1, y1)` (ends exclusive).
fn pixel_bounds(ctx: &Ctx, win: &Rect) -> (usize, usize, usize, usize) {
    let corners = [
        (win.x, win.y),
        (win.x + win.w, win.y),
        (win.x, win.y + win.h),
        (win.x + win.w, win.y + win.h),
    ]
    .map(|(x, y)| ctx.fwd.apply(x, y));
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in corners {
        x0 = x0.min(x);
        y0 = y0.min(y);
        x1 = x1.max(x);
        y1 = y1.max(y);
    }
    let (pw, ph) = (ctx.page.width as f64, ctx.page.height as f64);
    (
        x0.floor().clamp(0.0, pw) as usize,
        y0.floor().clamp(0.0, ph) as usize,
        x1.ceil().clamp(0.0, pw) as usize,
        y1.ceil().clamp(0.0, ph) as usize,
    )
}

/// Collects the dark pixels whose centres fall in `win` but not in `hole` (points), with page
/// coordinates in mm relative to `origin` (points).
fn collect(ctx: &Ctx, win: &Rect, hole: Option<&Rect>, origin: (f64, f64)) -> Patch {
    let (ix0, iy0, ix1, iy1) = pixel_bounds(ctx, win);
    let (w, h) = (ix1.saturating_sub(ix0), iy1.saturating_sub(iy0));
    let mut dots = Vec::new();
    if w == 0 || h == 0 {
        return Patch { dots };
    }
    let mut weak = ctx.thr.weak;
    let mut strong = ctx.thr.strong;
    let stride = ctx.page.width as usize;
    if ctx.grey {
        // Local paper: the 80th percentile of the window (mostly blank paper even around a
        // filled box), so shading and tinted paper do not read as ink. Every other pixel of
        // every other row is plenty for a percentile and a quarter of the work (a 300-dpi
        // window is tens of thousands of pixels, and every box has one).
        let mut hist = [0u32; 256];
        let mut sampled = 0u32;
        for y in (iy0..iy1).step_by(2) {
            for &p in ctx.page.pixels[y * stride + ix0..y * stride + ix1]
                .iter()
                .step_by(2)
            {
                hist[p as usize] += 1;
                sampled += 1;
            }
        }
        let target = sampled / 5;
        let mut acc = 0;
        let mut paper = 255.0;
        for (v, &n) in hist.iter().enumerate().rev() {
            acc += n;
            if acc >= target {
                paper = v as f64;
                break;
            }
        }
        let t = thresholds(
            paper.min(ctx.paper + 10.0).max(ctx.ink + 40.0),
            ctx.ink,
            true,
        );
        weak = t.weak;
        strong = t.strong;
    }
    let inv = &ctx.inv.m;
    let (rx0, ry0) = (win.x, win.y);
    let (rx1, ry1) = (win.x + win.w, win.y + win.h);
    for y in iy0..iy1 {
        if ctx.streak_rows[y] {
            continue;
        }
        let row = &ctx.page.pixels[y * stride + ix0..y * stride + ix1];
        let cy = y as f64 + 0.5;
        // Page position of the row's first pixel centre; others follow by adding the
        // inverse's first column. Only dark pixels are mapped: most of a window is paper.
        let px0 = inv[0] * (ix0 as f64 + 0.5) + inv[1] * cy + inv[2];
        let py0 = inv[3] * (ix0 as f64 + 0.5) + inv[4] * cy + inv[5];
        // Only the stretch of the row that crosses the window, less the part surely in the
        // hole (a label's own text, most of the ink of its band), is looked at; every pixel
        // looked at is still tested exactly.
        let step = (inv[0], inv[3]);
        let (w0, w1) = row_span((px0, py0), step, win);
        let first = (w0.floor() - 1.0).clamp(0.0, row.len() as f64) as usize;
        let end = (w1.ceil() + 1.0).clamp(first as f64, row.len() as f64) as usize;
        let (skip0, skip1) = match hole {
            Some(h) => {
                let (h0, h1) = row_span((px0, py0), step, h);
                let s0 = (h0.ceil() + 1.0).clamp(first as f64, end as f64) as usize;
                (s0, (h1.floor() - 1.0).clamp(s0 as f64, end as f64) as usize)
            }
            None => (end, end),
        };
        for (start, stop) in [(first, skip0), (skip1, end)] {
            // Skip paper sixteen pixels at a time (the minimum of a chunk vectorises).
            let mut k0 = start;
            for chunk in row[start..stop].chunks(16) {
                let base = k0;
                k0 += chunk.len();
                if chunk.iter().fold(255u8, |m, &p| m.min(p)) >= weak {
                    continue;
                }
                for (j, &p) in chunk.iter().enumerate() {
                    if p >= weak {
                        continue;
                    }
                    let k = base + j;
                    let x = ix0 + k;
                    let px = px0 + k as f64 * inv[0];
                    let py = py0 + k as f64 * inv[3];
                    let in_hole =
                        |r: &Rect| px >= r.x && px < r.x + r.w && py >= r.y && py < r.y + r.h;
                    if px >= rx0
                        && px < rx1
                        && py >= ry0
                        && py < ry1
                        && !ctx.streak_cols[x]
                        && !hole.is_some_and(in_hole)
                    {
                        dots.push(Dot {
                            lx: k as u32,
                            ly: (y - iy0) as u32,
                            u: ((px - origin.0) / PT_PER_MM) as f32,
                            v: ((py - origin.1) / PT_PER_MM) as f32,
                            strong: p < strong,
                        });
                    }
                }
            }
        }
    }
    Patch { dots }
}

/// The pixels `k` (real-valued, from the row's first) of a row whose centres, at page position
/// `p0 + k * step`, fall in `r`: `(from, to)`, empty when `from >= to`.
fn row_span(p0: (f64, f64), step: (f64, f64), r: &Rect) -> (f64, f64) {
    let axis = |a: f64, b: f64, lo: f64, hi: f64| {
        if b.abs() < 1e-12 {
            if a >= lo && a < hi {
                (f64::NEG_INFINITY, f64::INFINITY)
            } else {
                (f64::INFINITY, f64::NEG_INFINITY)
            }
        } else {
            let (t0, t1) = ((lo - a) / b, (hi - a) / b);
            (t0.min(t1), t0.max(t1))
        }
    };
    let (x0, x1) = axis(p0.0, step.0, r.x, r.x + r.w);
    let (y0, y1) = axis(p0.1, step.1, r.y, r.y + r.h);
    (x0.max(y0), x1.min(y1))
}

/// A component of one zone: area (mm²), extent (mm), dark-ink share, and whether it counts
/// as a stroke (else speckle).
#[derive(Debug, Clone, Copy, Default)]
struct Blob {
    area: f64,
    extent: f64,
    strong: f64,
    stroke: bool,
    /// Components joined into this one (bridged fragments).
    pieces: usize,
    /// Area (mm²) of it in the interior's core.
    core: f64,
}

/// Groups the selected dots into 8-connected components; `zone(d)` gives each dot's zone (0 =
/// ignore); components never cross zones. Components under `speck_mm` across are speckle.
///
/// In zone `bridge` (a choice box's interior), components closer than about
/// [`BRIDGE_MM`] are then joined into one: light pencil on a black-and-white fax breaks into
/// fragments, and the fragments of one tick belong together; a group of two spans only as far
/// as its longer piece (a dot beside a short slip is no tick). A joined group counts as a stroke
/// when it spans at least `speck_mm` and either holds a stroke-sized piece or has
/// [`BRIDGED_STROKE_MM2`] of ink, so two specks that happen to lie close stay speckle.
fn blobs(
    ctx: &Ctx,
    patch: &Patch,
    zone: impl Fn(&Dot) -> u8,
    bridge: Option<u8>,
    speck_mm: f64,
    core: impl Fn(&Dot) -> bool,
) -> Vec<(u8, Blob)> {
    let zones: Vec<u8> = patch.dots.iter().map(zone).collect();
    let (ids, n) = component_ids(patch, &zones);
    // Per component: zone, pixel count, dark count, bounding box in mm.
    let mut acc = vec![(0u8, 0usize, 0usize, f32::MAX, f32::MIN, f32::MAX, f32::MIN); n];
    let mut in_core = vec![0usize; n];
    for (i, d) in patch.dots.iter().enumerate() {
        if let Some(c) = ids[i] {
            in_core[c] += core(d) as usize;
            let a = &mut acc[c];
            a.0 = zones[i];
            a.1 += 1;
            a.2 += d.strong as usize;
            a.3 = a.3.min(d.u);
            a.4 = a.4.max(d.u);
            a.5 = a.5.min(d.v);
            a.6 = a.6.max(d.v);
        }
    }
    let (pw, ph) = (1.0 / ctx.ppm.0, 1.0 / ctx.ppm.1);
    let extent = |a: &(u8, usize, usize, f32, f32, f32, f32)| {
        // The larger side of the bounding box, counting the pixels' own size.
        ((a.4 - a.3) as f64 + pw).max((a.6 - a.5) as f64 + ph)
    };
    let mut parent: Vec<usize> = (0..n).collect();
    if let Some(bz) = bridge {
        join_near(patch, &zones, &ids, bz, BRIDGE_MM, &mut parent);
    }
    // Groups of joined components.
    #[derive(Clone, Copy)]
    struct Group {
        zone: u8,
        pixels: usize,
        strong: usize,
        bbox: (f32, f32, f32, f32),
        /// Holds a stroke-sized component.
        piece: bool,
        /// Components joined that are more than noise (3 pixels or more).
        pieces: usize,
        /// Pixels in the core.
        core: usize,
        /// The extent of its largest component.
        largest: f64,
    }
    let mut groups: Vec<Option<Group>> = vec![None; n];
    for c in 0..n {
        let r = uf_root(&mut parent, c);
        let a = acc[c];
        let g = groups[r].get_or_insert(Group {
            zone: a.0,
            pixels: 0,
            strong: 0,
            bbox: (f32::MAX, f32::MIN, f32::MAX, f32::MIN),
            piece: false,
            pieces: 0,
            core: 0,
            largest: 0.0,
        });
        g.pixels += a.1;
        g.strong += a.2;
        g.bbox = (
            g.bbox.0.min(a.3),
            g.bbox.1.max(a.4),
            g.bbox.2.min(a.5),
            g.bbox.3.max(a.6),
        );
        g.piece |= extent(&a) >= speck_mm;
        // Single pixels (and pairs) are fax noise: only larger pieces make a trail.
        g.pieces += usize::from(a.1 >= 3);
        g.core += in_core[c];
        g.largest = g.largest.max(extent(&a));
    }
    groups
        .into_iter()
        .flatten()
        .map(|g| {
            let (u0, u1, v0, v1) = g.bbox;
            let whole = extent(&(g.zone, 0, 0, u0, u1, v0, v1));
            // Two pieces (a dot beside a short slip) span no more than the longer one; a trail
            // of three or more (light pencil broken by the fax) spans the whole group. Noise
            // pixels joined in do not count as pieces.
            let extent = if g.pieces >= 3 {
                whole
            } else {
                g.largest.max(whole.min(speck_mm))
            };
            let area = g.pixels as f64 * ctx.px_area;
            (
                g.zone,
                Blob {
                    area,
                    extent,
                    strong: g.strong as f64 / g.pixels as f64,
                    stroke: whole >= speck_mm && (g.piece || area >= BRIDGED_STROKE_MM2),
                    pieces: g.pieces.max(1),
                    core: g.core as f64 * ctx.px_area,
                },
            )
        })
        .collect()
}

/// Union-find root.
fn uf_root(p: &mut [usize], mut i: usize) -> usize {
    while p[i] != i {
        p[i] = p[p[i]];
        i = p[i];
    }
    i
}

/// Joins (in the union-find `parent` over components) the components of zone `zone` that come
/// within about `cell` mm of each other (they share or touch a cell of a `cell`-mm grid).
fn join_near(
    patch: &Patch,
    zones: &[u8],
    ids: &[Option<usize>],
    zone: u8,
    cell: f64,
    parent: &mut [usize],
) {
    let (mut u0, mut v0, mut u1, mut v1) = (f32::MAX, f32::MAX, f32::MIN, f32::MIN);
    for (i, d) in patch.dots.iter().enumerate() {
        if zones[i] == zone {
            u0 = u0.min(d.u);
            v0 = v0.min(d.v);
            u1 = u1.max(d.u);
            v1 = v1.max(d.v);
        }
    }
    if u0 > u1 {
        return;
    }
    let at = |a: f32, lo: f32| ((a - lo) as f64 / cell) as usize + 1;
    let (gw, gh) = (at(u1, u0) + 2, at(v1, v0) + 2);
    // Each cell remembers one component that has a dot in it.
    let mut grid = vec![u32::MAX; gw * gh];
    for (i, d) in patch.dots.iter().enumerate() {
        let Some(c) = ids[i] else { continue };
        if zones[i] != zone {
            continue;
        }
        let (cx, cy) = (at(d.u, u0), at(d.v, v0));
        for y in cy - 1..=cy + 1 {
            for x in cx - 1..=cx + 1 {
                let o = grid[y * gw + x];
                if o != u32::MAX {
                    let (a, b) = (uf_root(parent, c), uf_root(parent, o as usize));
                    if a != b {
                        parent[a] = b;
                    }
                }
            }
        }
        if grid[cy * gw + cx] == u32::MAX {
            grid[cy * gw + cx] = c as u32;
        }
    }
}

/// What was measured in one zone.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct ZoneInk {
    /// Area of the zone, mm².
    pub area: f64,
    /// Ink in strokes (components at least [`SPECK_MM`] across, [`WRITTEN_SPECK_MM`] in
    /// digit, text and area boxes), mm².
    pub stroke: f64,
    /// Ink in speckle, mm².
    pub speck: f64,
    /// Number of speckle components.
    pub specks: usize,
    /// Largest stroke extent, mm.
    pub span: f64,
    /// Stroke ink in the interior's core (without its outer millimetre), mm²: writing lies
    /// there; a stroke that only comes in over the frame does not.
    pub core_stroke: f64,
    /// Share of the stroke ink that is dark (not light pencil).
    pub strong: f64,
}

impl ZoneInk {
    fn add(&mut self, b: &Blob) {
        if b.stroke {
            let total = self.stroke + b.area;
            self.strong = (self.strong * self.stroke + b.strong * b.area) / total;
            self.stroke = total;
            self.span = self.span.max(b.extent);
            self.core_stroke += b.core;
        } else {
            self.speck += b.area;
            self.specks += b.pieces;
        }
    }

    /// All ink as a share of the zone.
    pub fn fill(&self) -> f64 {
        if self.area <= 0.0 {
            0.0
        } else {
            ((self.stroke + self.speck) / self.area).min(1.0)
        }
    }
}

/// Where to put a box whose frame cannot be seen (filled in): the local correction and frame
/// width of the located boxes around it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hint {
    pub offset: (f64, f64),
    pub frame: (f64, f64),
}

/// The measurements of one box, before any decision.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measure {
    /// The frame was located (local correction applied).
    pub located: bool,
    /// Local correction, mm.
    pub offset: (f64, f64),
    /// Measured frame width, mm (x sides, y sides).
    pub frame: (f64, f64),
    /// Interior ink.
    pub interior: ZoneInk,
    /// Lowest ink share of the interior's 3×3 cells (for "filled in completely").
    pub min_cell: f64,
    /// Ink share of the interior's outer 0.6 mm (a ■ leaves it white, a fill does not).
    pub edge_fill: f64,
    /// Ink just outside the frame (choice boxes only).
    pub ring: ZoneInk,
    /// Share of each side (left, right, top, bottom) with ink in the 0.4 mm just beyond the
    /// frame line: a box blacked out to cancel it is inked past its frame, a ■ drawn inside
    /// is not (choice boxes only).
    pub halo: [f64; 4],
    /// The label band (choice boxes with a label).
    pub label: Option<LabelInk>,
}

/// Ink around an option's label.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct LabelInk {
    /// Share of the label's width with a long stroke above it (within the band).
    pub top: f64,
    /// … below it.
    pub bottom: f64,
    /// Length (mm) of the label's width with long strokes both above and below it.
    pub paired_mm: f64,
    /// Length (mm) of the label's width with one stroke both above and below it.
    pub enclosed_mm: f64,
    /// The same as a share of the label's width: 1 for a loop around the whole label.
    pub enclosed: f64,
    /// Share of the label's height with a long stroke just beyond its left or right end
    /// (whichever is more).
    pub beside: f64,
}

impl LabelInk {
    /// How much this looks like a loop around the label, 0..1.
    pub fn loop_score(&self) -> f64 {
        self.enclosed
    }
}

/// Speckle on this page, from the white quiet zones around the four registration marks
/// (printed blank, so whatever is dark there is noise): `(speckle area per mm², speckle
/// components per mm²)`.
pub(crate) fn noise(ctx: &Ctx) -> (f64, f64) {
    let (mut area, mut ink, mut count) = (0.0, 0.0, 0usize);
    for m in capsurvey_layout::frame::registration_marks() {
        let half = m.size / 2.0;
        let mark = Rect {
            x: m.cx - half,
            y: m.cy - half,
            w: m.size,
            h: m.size,
        };
        let quiet = capsurvey_layout::frame::MARK_QUIET - 0.3 * PT_PER_MM;
        let win = mark.inflate(quiet);
        let inner = mark.inflate(0.6 * PT_PER_MM);
        // Only zones wholly on the image count (fax edge loss whitens the rest).
        let (x0, y0) = ctx.fwd.apply(win.x, win.y);
        let (x1, y1) = ctx.fwd.apply(win.x + win.w, win.y + win.h);
        let on_image = |x: f64, y: f64| {
            x >= 0.0 && y >= 0.0 && x < ctx.page.width as f64 && y < ctx.page.height as f64
        };
        if !on_image(x0, y0) || !on_image(x1, y1) {
            continue;
        }
        let patch = collect(ctx, &win, Some(&inner), (win.x, win.y));
        for (_, b) in blobs(ctx, &patch, |_| 1, None, SPECK_MM, |_| false) {
            if !b.stroke {
                ink += b.area;
                count += 1;
            }
        }
        area += (win.w * win.h - inner.w * inner.h) / (PT_PER_MM * PT_PER_MM);
    }
    if area <= 0.0 {
        (0.0, 0.0)
    } else {
        (ink / area, count as f64 / area)
    }
}

/// Measures one box. `others` are the rectangles (boxes and labels) of the page near it, which
/// the ring and label band must not count as ink.
pub(crate) fn measure(ctx: &Ctx, b: &AnswerBox, others: &[Rect], hint: Option<&Hint>) -> Measure {
    let r = b.rect;
    let (wmm, hmm) = (r.w / PT_PER_MM, r.h / PT_PER_MM);
    let choice = b.kind == BoxKind::Choice;
    let reach = SEARCH_MM + if choice { RING_MM + 0.6 } else { 0.3 };
    let win = r.inflate(reach * PT_PER_MM);
    let patch = collect(ctx, &win, None, (r.x, r.y));

    let (dx, tx, ok_x) = locate(ctx, &patch, wmm, hmm, true);
    let (dy, ty, ok_y) = locate(ctx, &patch, wmm, hmm, false);
    let located = ok_x && ok_y;
    let (dx, dy, tx, ty, tol) = match (located, hint) {
        (true, _) => (dx, dy, tx, ty, TOL_LOCATED_MM),
        // A filled-in box hides its frame: take the position from its neighbours.
        (false, Some(h)) => (h.offset.0, h.offset.1, h.frame.0, h.frame.1, TOL_HINTED_MM),
        (false, None) => (0.0, 0.0, 0.35, 0.35, TOL_UNLOCATED_MM),
    };
    let (pxw, pxh) = (1.0 / ctx.ppm.0, 1.0 / ctx.ppm.1);
    let sx = tx / 2.0 + tol + 0.5 * pxw;
    let sy = ty / 2.0 + tol + 0.5 * pxh;
    let (iu0, iu1) = (dx + sx, dx + wmm - sx);
    let (iv0, iv1) = (dy + sy, dy + hmm - sy);
    let (ou0, ou1) = (dx - sx, dx + wmm + sx);
    let (ov0, ov1) = (dy - sy, dy + hmm + sy);
    let others_mm: Vec<[f64; 4]> = others
        .iter()
        .map(|o| {
            let o = o.inflate(0.3 * PT_PER_MM);
            [
                (o.x - r.x) / PT_PER_MM + dx,
                (o.y - r.y) / PT_PER_MM + dy,
                (o.x + o.w - r.x) / PT_PER_MM + dx,
                (o.y + o.h - r.y) / PT_PER_MM + dy,
            ]
        })
        .collect();
    let in_others = |u: f64, v: f64| {
        others_mm
            .iter()
            .any(|o| u >= o[0] && u < o[2] && v >= o[1] && v < o[3])
    };

    let mut interior = ZoneInk {
        area: ((iu1 - iu0).max(0.0)) * ((iv1 - iv0).max(0.0)),
        ..Default::default()
    };
    let mut ring = ZoneInk::default();
    if choice {
        let full = (ou1 - ou0 + 2.0 * RING_MM) * (ov1 - ov0 + 2.0 * RING_MM);
        ring.area = full - (ou1 - ou0) * (ov1 - ov0);
    }
    // 3×3 cells of the interior, for "filled completely".
    let mut cells = [0.0f64; 9];
    let (cw, ch) = ((iu1 - iu0) / 3.0, (iv1 - iv0) / 3.0);
    let zone = |d: &Dot| -> u8 {
        let (u, v) = (d.u as f64, d.v as f64);
        if u >= iu0 && u < iu1 && v >= iv0 && v < iv1 {
            1
        } else if choice
            && u >= ou0 - RING_MM
            && u < ou1 + RING_MM
            && v >= ov0 - RING_MM
            && v < ov1 + RING_MM
            && !(u >= ou0 && u < ou1 && v >= ov0 && v < ov1)
            && !in_others(u, v)
        {
            2
        } else {
            0
        }
    };
    let e = EDGE_MM
        .min((iu1 - iu0) / 3.0)
        .min((iv1 - iv0) / 3.0)
        .max(0.0);
    // The core: the interior without its outer millimetre (a quarter of a small box).
    let k = CORE_MM
        .min((iu1 - iu0) / 4.0)
        .min((iv1 - iv0) / 4.0)
        .max(0.0);
    let core = |d: &Dot| {
        let (u, v) = (d.u as f64, d.v as f64);
        u >= iu0 + k && u < iu1 - k && v >= iv0 + k && v < iv1 - k
    };
    let mut edge_ink = 0.0;
    for d in &patch.dots {
        let (u, v) = (d.u as f64, d.v as f64);
        if u >= iu0 && u < iu1 && v >= iv0 && v < iv1 && cw > 0.0 && ch > 0.0 {
            let cx = (((u - iu0) / cw) as usize).min(2);
            let cy = (((v - iv0) / ch) as usize).min(2);
            cells[cy * 3 + cx] += ctx.px_area;
            if u < iu0 + e || u >= iu1 - e || v < iv0 + e || v >= iv1 - e {
                edge_ink += ctx.px_area;
            }
        }
    }

    let edge_area = interior.area - ((iu1 - iu0 - 2.0 * e) * (iv1 - iv0 - 2.0 * e)).max(0.0);
    let edge_fill = if edge_area > 0.0 {
        (edge_ink / edge_area).min(1.0)
    } else {
        0.0
    };
    // Only choice boxes join fragments: on the large areas of text boxes, bridged fax noise
    // would form strokes of its own. (Handwriting is made of strokes of several millimetres;
    // noise there clumps into bits of up to a millimetre now and then.)
    let bridge = choice.then_some(1);
    let speck_mm = if choice { SPECK_MM } else { WRITTEN_SPECK_MM };
    for (z, blob) in blobs(ctx, &patch, zone, bridge, speck_mm, core) {
        match z {
            1 => interior.add(&blob),
            _ => ring.add(&blob),
        }
    }
    let halo = if choice {
        halo(ctx, &patch, (dx, dy), (wmm, hmm), (tx, ty))
    } else {
        [0.0; 4]
    };
    let cell_area = cw * ch;
    let min_cell = if cell_area > 0.0 {
        cells.iter().fold(f64::MAX, |m, &c| m.min(c / cell_area))
    } else {
        0.0
    };
    let label = match (choice, &b.label_rect) {
        (true, Some(l)) => Some(measure_label(ctx, b, l, (dx, dy), others)),
        _ => None,
    };
    Measure {
        located,
        offset: (dx, dy),
        frame: (tx, ty),
        interior,
        min_cell: min_cell.min(1.0),
        edge_fill,
        ring,
        halo,
        label,
    }
}

/// Ink coverage of the four bands just beyond the frame line (left, right, top, bottom).
fn halo(
    ctx: &Ctx,
    patch: &Patch,
    off: (f64, f64),
    size: (f64, f64),
    frame: (f64, f64),
) -> [f64; 4] {
    const BIN: f64 = 0.25;
    const DEPTH: f64 = 0.4;
    let (pxw, pxh) = (1.0 / ctx.ppm.0, 1.0 / ctx.ppm.1);
    // Beyond the frame line's outer edge (half its width and half a pixel of blur), plus 0.05.
    let ex = frame.0 / 2.0 + 0.5 * pxw + 0.05;
    let ey = frame.1 / 2.0 + 0.5 * pxh + 0.05;
    let (w, h) = size;
    let nx = ((w / BIN).ceil() as usize).max(1);
    let ny = ((h / BIN).ceil() as usize).max(1);
    let mut sides = [
        vec![false; ny],
        vec![false; ny],
        vec![false; nx],
        vec![false; nx],
    ];
    for d in &patch.dots {
        let (u, v) = (d.u as f64 - off.0, d.v as f64 - off.1);
        if (0.0..h).contains(&v) {
            let k = ((v / BIN) as usize).min(ny - 1);
            if u < -ex && u >= -ex - DEPTH {
                sides[0][k] = true;
            } else if u > w + ex && u <= w + ex + DEPTH {
                sides[1][k] = true;
            }
        }
        if (0.0..w).contains(&u) {
            let k = ((u / BIN) as usize).min(nx - 1);
            if v < -ey && v >= -ey - DEPTH {
                sides[2][k] = true;
            } else if v > h + ey && v <= h + ey + DEPTH {
                sides[3][k] = true;
            }
        }
    }
    sides.map(|s| s.iter().filter(|&&b| b).count() as f64 / s.len() as f64)
}

/// Finds the frame's left and right sides (`across_x`) or top and bottom sides from an ink
/// profile: `(offset mm, side width mm, found)`.
fn locate(ctx: &Ctx, patch: &Patch, wmm: f64, hmm: f64, across_x: bool) -> (f64, f64, bool) {
    // Along x, the profile of u over the middle of the box's height (so the top and bottom
    // sides do not count), and vice versa.
    let (len, other) = if across_x { (wmm, hmm) } else { (hmm, wmm) };
    let lo = -SEARCH_MM - LINE_HALF_MM - 0.1;
    let n = ((len + 2.0 * (SEARCH_MM + LINE_HALF_MM + 0.1)) / BIN_MM).ceil() as usize + 1;
    // Dark ink places the frame; all ink (with the light blur around the line on a grey scan,
    // which the interior must keep clear of too) gives its width.
    let mut prof = vec![0.0f64; n];
    let mut prof_all = vec![0.0f64; n];
    let band = (0.15 * other, 0.85 * other);
    for d in &patch.dots {
        let (a, b) = if across_x {
            (d.u as f64, d.v as f64)
        } else {
            (d.v as f64, d.u as f64)
        };
        if b < band.0 || b >= band.1 {
            continue;
        }
        // Truncation is the floor for the bins kept (`f64::floor` is a library call on
        // baseline x86-64, and this runs for every dot, twice).
        let t = (a - lo) / BIN_MM;
        if t >= 0.0 && (t as usize) < n {
            prof_all[t as usize] += ctx.px_area;
            if d.strong {
                prof[t as usize] += ctx.px_area;
            }
        }
    }
    // Prefix sums for window totals.
    let prefix = |p: &[f64]| {
        let mut pre = vec![0.0f64; n + 1];
        for i in 0..n {
            pre[i + 1] = pre[i] + p[i];
        }
        pre
    };
    let (pre, pre_all) = (prefix(&prof), prefix(&prof_all));
    let window = |pre: &[f64], a: f64, b: f64| -> f64 {
        let i0 = (((a - lo) / BIN_MM).round().max(0.0) as usize).min(n);
        let i1 = (((b - lo) / BIN_MM).round().max(0.0) as usize).min(n);
        if i1 > i0 { pre[i1] - pre[i0] } else { 0.0 }
    };
    let sum = |a: f64, b: f64| window(&pre, a, b);
    let band_len = band.1 - band.0;
    let steps = (SEARCH_MM / BIN_MM).round() as i64;
    let mut best = (f64::MIN, 0.0);
    for k in -steps..=steps {
        let off = k as f64 * BIN_MM;
        // Prefer the transform's own position on ties.
        let s = sum(off - LINE_HALF_MM, off + LINE_HALF_MM)
            + sum(len + off - LINE_HALF_MM, len + off + LINE_HALF_MM)
            - 1e-9 * k.abs() as f64;
        if s > best.0 {
            best = (s, off);
        }
    }
    // The windows are wider than the line, so neighbouring offsets tie; the ink's centroid in
    // the two windows puts the frame to a fraction of a bin.
    let centroid = |a: f64, b: f64| -> Option<f64> {
        let i0 = (((a - lo) / BIN_MM).round().max(0.0) as usize).min(n);
        let i1 = (((b - lo) / BIN_MM).round().max(0.0) as usize).min(n);
        let (mut w, mut m) = (0.0, 0.0);
        for (i, p) in prof.iter().enumerate().take(i1).skip(i0) {
            w += p;
            m += p * (lo + (i as f64 + 0.5) * BIN_MM);
        }
        (w > 0.0).then(|| m / w)
    };
    let coarse = best.1;
    let off = match (
        centroid(coarse - LINE_HALF_MM, coarse + LINE_HALF_MM),
        centroid(len + coarse - LINE_HALF_MM, len + coarse + LINE_HALF_MM),
    ) {
        (Some(a), Some(b)) => ((a + b - len) / 2.0).clamp(-SEARCH_MM, SEARCH_MM),
        _ => coarse,
    };
    let line_area = best.0.max(0.0);
    // Each side's width: its ink area over the length it was summed along.
    let all_area = window(&pre_all, off - LINE_HALF_MM, off + LINE_HALF_MM)
        + window(&pre_all, len + off - LINE_HALF_MM, len + off + LINE_HALF_MM);
    let width = (all_area / 2.0 / band_len).clamp(0.1, 0.8);
    // The frame must stand out as a thin line: much denser than the strips just inside and
    // just outside it. A box filled in has no such contrast (then the transform position is
    // kept); a ■ or a tick inside leaves the strips next to the frame mostly white.
    let line_density = line_area / (4.0 * LINE_HALF_MM * band_len);
    let flank = |a: f64| sum(a - 0.75, a - 0.35) + sum(a + 0.35, a + 0.75);
    let flank_density = (flank(off) + flank(len + off)) / (4.0 * 0.4 * band_len);
    let found = line_density >= 0.15 && line_density >= 2.0 * flank_density + 0.05;
    (off, width, found)
}

/// Ink in the band around an option's label.
fn measure_label(
    ctx: &Ctx,
    b: &AnswerBox,
    label: &Rect,
    offset: (f64, f64),
    others: &[Rect],
) -> LabelInk {
    let win = label.inflate(BAND_OUT_MM * PT_PER_MM);
    let win = Rect {
        x: win.x + offset.0 * PT_PER_MM,
        y: win.y + offset.1 * PT_PER_MM,
        ..win
    };
    // The label's own text is never counted: leave it out from the start. (Only the label
    // itself: a loop drawn close around it must stay one stroke.)
    let hole = Rect {
        x: label.x + offset.0 * PT_PER_MM,
        y: label.y + offset.1 * PT_PER_MM,
        ..*label
    };
    let patch = collect(ctx, &win, Some(&hole), (label.x, label.y));
    let (lw, lh) = (label.w / PT_PER_MM, label.h / PT_PER_MM);
    let (dx, dy) = offset;
    let rel = |o: &Rect, grow: f64| -> [f64; 4] {
        let o = o.inflate(grow * PT_PER_MM);
        [
            (o.x - label.x) / PT_PER_MM + dx,
            (o.y - label.y) / PT_PER_MM + dy,
            (o.x + o.w - label.x) / PT_PER_MM + dx,
            (o.y + o.h - label.y) / PT_PER_MM + dy,
        ]
    };
    let mut excluded: Vec<[f64; 4]> = others
        .iter()
        .filter(|o| *o != label)
        .map(|o| rel(o, 0.3))
        .collect();
    excluded.push(rel(&b.rect, 0.6));
    let inside = |u: f64, v: f64, o: &[f64; 4]| u >= o[0] && u < o[2] && v >= o[1] && v < o[3];
    let zone = |d: &Dot| -> u8 {
        let (u, v) = (d.u as f64, d.v as f64);
        if excluded.iter().any(|o| inside(u, v, o)) {
            0
        } else {
            1
        }
    };
    // Components first, then which parts of the band the stroke pixels cover.
    let zones: Vec<u8> = patch.dots.iter().map(&zone).collect();
    let (ids, n) = component_ids(&patch, &zones);
    // Pieces of one stroke cut apart by a streak, a dropped fax line or noise belong together.
    let mut parent: Vec<usize> = (0..n).collect();
    join_near(&patch, &zones, &ids, 1, LOOP_BRIDGE_MM, &mut parent);
    let ids: Vec<Option<usize>> = ids
        .iter()
        .map(|c| c.map(|c| uf_root(&mut parent, c)))
        .collect();
    let comp = (ids, n);
    let mut extent = vec![(f32::MAX, f32::MIN, f32::MAX, f32::MIN); comp.1];
    for (i, d) in patch.dots.iter().enumerate() {
        if let Some(c) = comp.0[i] {
            let e = &mut extent[c];
            e.0 = e.0.min(d.u);
            e.1 = e.1.max(d.u);
            e.2 = e.2.min(d.v);
            e.3 = e.3.max(d.v);
        }
    }
    // Strokes only: a loop drawn around a label leaves long arcs in the band; speckle, dust
    // and stray bits of neighbouring print do not.
    let long: Vec<bool> = extent
        .iter()
        .map(|e| ((e.1 - e.0) as f64).max((e.3 - e.2) as f64) >= LONG_ARC_MM)
        .collect();
    // Which stretches of the label's width have an arc above it, and which below. Printed text
    // of the question above the first row, or of the next question below the last, reaches one
    // side only; a loop drawn around the label (or around its number) reaches both. A loop is
    // one stroke, or two when it was not closed: the label is enclosed where one component
    // covers both sides, or where an arc above and an arc below pair up and one of them bends
    // round beside the label. Arcs of loops around the options above and below only pair up:
    // they stay above or below this label.
    const BIN: f64 = 0.25;
    let nx = ((lw / BIN).ceil() as usize).max(1);
    let ny = ((lh / BIN).ceil() as usize).max(1);
    let (mut left, mut right) = (vec![false; ny], vec![false; ny]);
    let mut slot = vec![usize::MAX; comp.1];
    // Per long component: bins covered above, bins covered below, lowest and highest v.
    let mut sides: Vec<(Vec<bool>, Vec<bool>, f64, f64)> = Vec::new();
    let (mut top, mut bottom) = (vec![false; nx], vec![false; nx]);
    for (i, d) in patch.dots.iter().enumerate() {
        let Some(c) = comp.0[i] else { continue };
        if !long[c] {
            continue;
        }
        let (u, v) = (d.u as f64 - dx, d.v as f64 - dy);
        if slot[c] == usize::MAX {
            slot[c] = sides.len();
            sides.push((vec![false; nx], vec![false; nx], f64::MAX, f64::MIN));
        }
        let own = &mut sides[slot[c]];
        own.2 = own.2.min(v);
        own.3 = own.3.max(v);
        // Beside the label's ends, within its rows: the two sides of a loop whose top and
        // bottom a fax at 98 lines per inch lost (thin horizontal strokes drop out). Such a
        // loop hugs the text; 0.2 mm keeps clear of the label's own characters.
        if (0.0..lh).contains(&v) && !(-BESIDE_MM..lw + BESIDE_MM).contains(&u) {
            let k = ((v / BIN) as usize).min(ny - 1);
            if u < 0.0 {
                left[k] = true;
            } else {
                right[k] = true;
            }
        }
        // Within BAND_IN of the label may be its own text (transform error): connectivity only.
        if !(0.0..lw).contains(&u) || (-BAND_IN_MM..lh + BAND_IN_MM).contains(&v) {
            continue;
        }
        let k = ((u / BIN) as usize).min(nx - 1);
        if v < 0.0 {
            top[k] = true;
            own.0[k] = true;
        } else {
            bottom[k] = true;
            own.1[k] = true;
        }
    }
    let mut enclosed = vec![false; nx];
    for (t, b, _, _) in &sides {
        for k in 0..nx {
            enclosed[k] |= t[k] && b[k];
        }
    }
    // A loop left open (or broken by the fax) is two arcs, at least one of which bends round
    // beside the label, down (or up) to the label's middle rows. A loop around the option
    // above or below may come within a fraction of a millimetre of this label, but never
    // alongside it.
    let (mid_lo, mid_hi) = (lh * 0.25, lh * 0.75);
    for (t, _, _, t_max) in &sides {
        for (_, b, b_min, _) in &sides {
            if *t_max >= mid_lo || *b_min <= mid_hi {
                for k in 0..nx {
                    enclosed[k] |= t[k] && b[k];
                }
            }
        }
    }
    let count = |v: &[bool]| v.iter().filter(|&&b| b).count() as f64;
    let both: Vec<bool> = top.iter().zip(&bottom).map(|(a, b)| *a && *b).collect();
    LabelInk {
        top: count(&top) / nx as f64,
        bottom: count(&bottom) / nx as f64,
        paired_mm: count(&both) * BIN,
        enclosed_mm: count(&enclosed) * BIN,
        enclosed: count(&enclosed) / nx as f64,
        beside: (count(&left) / ny as f64).max(count(&right) / ny as f64),
    }
}

/// Component index of every selected dot (`zones[i] != 0`; 8-connected, never across zones),
/// and the number of components.
fn component_ids(patch: &Patch, zones: &[u8]) -> (Vec<Option<usize>>, usize) {
    // The dots come row by row, left to right, so one pass links each dot to its left
    // neighbour and to the three above it (found by a pointer that only moves forward), with
    // union-find; no grid over the window is needed.
    let dots = &patch.dots;
    let n = dots.len();
    let mut parent: Vec<u32> = (0..n as u32).collect();
    fn root(p: &mut [u32], mut i: u32) -> u32 {
        while p[i as usize] != i {
            p[i as usize] = p[p[i as usize] as usize];
            i = p[i as usize];
        }
        i
    }
    let union = |p: &mut [u32], a: usize, b: usize| {
        let (ra, rb) = (root(p, a as u32), root(p, b as u32));
        if ra != rb {
            p[ra.max(rb) as usize] = ra.min(rb);
        }
    };
    // [scan, prev_end): the previous row's dots not yet passed; [row_start, i): this row's.
    let (mut scan, mut prev_end, mut row_start) = (0usize, 0usize, 0usize);
    for i in 0..n {
        let d = dots[i];
        if i > 0 && dots[i - 1].ly != d.ly {
            // The previous row only counts if it is the row just above.
            scan = if dots[i - 1].ly + 1 == d.ly {
                row_start
            } else {
                i
            };
            prev_end = i;
            row_start = i;
        }
        if zones[i] == 0 {
            continue;
        }
        if i > row_start && dots[i - 1].lx + 1 == d.lx && zones[i - 1] == zones[i] {
            union(&mut parent, i, i - 1);
        }
        while scan < prev_end && dots[scan].lx + 1 < d.lx {
            scan += 1;
        }
        let mut j = scan;
        while j < prev_end && dots[j].lx <= d.lx + 1 {
            if zones[j] == zones[i] {
                union(&mut parent, i, j);
            }
            j += 1;
        }
    }
    let mut ids = vec![None; n];
    let mut label = vec![u32::MAX; n];
    let mut count = 0;
    for i in 0..n {
        if zones[i] == 0 {
            continue;
        }
        let r = root(&mut parent, i as u32) as usize;
        if label[r] == u32::MAX {
            label[r] = count as u32;
            count += 1;
        }
        ids[i] = Some(label[r] as usize);
    }
    (ids, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(lx: u32, ly: u32) -> Dot {
        Dot {
            lx,
            ly,
            u: lx as f32,
            v: ly as f32,
            strong: true,
        }
    }

    /// [`collect`] the plain way: every pixel of the window's bounding box mapped and tested.
    fn collect_every_pixel(ctx: &Ctx, win: &Rect, hole: Option<&Rect>) -> Vec<(u32, u32)> {
        let (ix0, iy0, ix1, iy1) = pixel_bounds(ctx, win);
        let inv = &ctx.inv.m;
        let inside =
            |r: &Rect, x: f64, y: f64| x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
        let mut out = Vec::new();
        for y in iy0..iy1 {
            let cy = y as f64 + 0.5;
            let px0 = inv[0] * (ix0 as f64 + 0.5) + inv[1] * cy + inv[2];
            let py0 = inv[3] * (ix0 as f64 + 0.5) + inv[4] * cy + inv[5];
            for k in 0..ix1 - ix0 {
                let (px, py) = (px0 + k as f64 * inv[0], py0 + k as f64 * inv[3]);
                if ctx.page.pixels[y * ctx.page.width as usize + ix0 + k] < ctx.thr.weak
                    && !ctx.streak_rows[y]
                    && !ctx.streak_cols[ix0 + k]
                    && inside(win, px, py)
                    && !hole.is_some_and(|h| inside(h, px, py))
                {
                    out.push((k as u32, (y - iy0) as u32));
                }
            }
        }
        out
    }

    /// Looking only at the stretch of each row inside the window and outside the hole keeps
    /// exactly the pixels of looking at every one: pages turned and skewed both ways, windows
    /// and holes of all sizes, partly off the page.
    #[test]
    fn collect_keeps_exactly_the_dark_pixels_of_the_window_outside_the_hole() {
        let (w, h) = (420u32, 300u32);
        let pixels = (0..w * h)
            .map(|i| {
                if i.wrapping_mul(2_654_435_761) >> 30 == 0 {
                    0
                } else {
                    255
                }
            })
            .collect();
        let mut page = PageImage::new(w, h, 204.0, 196.0, pixels);
        page.bilevel = true;
        let mut seed = 11u64;
        let mut next = |lo: f64, hi: f64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            lo + (hi - lo) * ((seed >> 11) as f64 / (1u64 << 53) as f64)
        };
        // Dots kept without a hole and with one, over all cases.
        let mut kept = [0usize; 2];
        for case in 0..300 {
            let angle = next(-0.06, 0.06)
                + if case % 3 == 0 {
                    std::f64::consts::PI
                } else {
                    0.0
                };
            let (kx, ky) = (2.83 * next(0.97, 1.03), 2.72 * next(0.97, 1.03));
            let (c, s) = (angle.cos(), angle.sin());
            let (ox, oy) = if case % 3 == 0 {
                (380.0, 280.0)
            } else {
                (next(-20.0, 20.0), next(-20.0, 20.0))
            };
            let fwd = Transform {
                m: [kx * c, -ky * s, ox, kx * s, ky * c, oy],
            };
            let ctx = Ctx::new(&page, fwd, 255.0, 0.0).unwrap();
            let win = Rect {
                x: next(-10.0, 120.0),
                y: next(-10.0, 90.0),
                w: next(1.0, 60.0),
                h: next(1.0, 30.0),
            };
            let hole = Rect {
                x: win.x + next(-5.0, win.w),
                y: win.y + next(-5.0, win.h),
                w: next(0.5, 50.0),
                h: next(0.5, 20.0),
            };
            for hole in [None, Some(&hole)] {
                let fast: Vec<(u32, u32)> = collect(&ctx, &win, hole, (win.x, win.y))
                    .dots
                    .iter()
                    .map(|d| (d.lx, d.ly))
                    .collect();
                let plain = collect_every_pixel(&ctx, &win, hole);
                assert_eq!(fast, plain, "case {case}, hole {hole:?}");
                kept[usize::from(hole.is_some())] += plain.len();
            }
        }
        // Many pixels are kept, and the holes take a good share of them.
        assert!(kept[0] > 100_000 && kept[1] < kept[0] * 9 / 10, "{kept:?}");
    }

    /// Dots of a small picture, row by row (`#` = dark).
    fn patch(rows: &[&str]) -> Patch {
        let mut dots = Vec::new();
        for (y, r) in rows.iter().enumerate() {
            for (x, c) in r.chars().enumerate() {
                if c == '#' {
                    dots.push(dot(x as u32, y as u32));
                }
            }
        }
        Patch { dots }
    }

    #[test]
    fn components_are_eight_connected_and_respect_zones() {
        let p = patch(&[
            "##...#", //
            ".#..#.", //
            "...#..", //
            "#.....", //
            "#..###",
        ]);
        let zones = vec![1u8; p.dots.len()];
        let (ids, n) = component_ids(&p, &zones);
        // {(0,0),(1,0),(1,1)}, the diagonal {(5,0),(4,1),(3,2)}, {(0,3),(0,4)}, {(3..5,4)}.
        // Dots in order: (0,0) (1,0) (5,0) | (1,1) (4,1) | (3,2) | (0,3) | (0,4) (3,4) (4,4) (5,4).
        assert_eq!(n, 4);
        assert_eq!((ids[0], ids[1]), (ids[3], ids[3]));
        assert_eq!((ids[2], ids[4]), (ids[5], ids[5]));
        assert_ne!(ids[0], ids[2]);
        assert_eq!(ids[6], ids[7]);
        assert_eq!((ids[8], ids[9]), (ids[10], ids[10]));
        // Splitting the diagonal by zone.
        let mut zones = zones;
        zones[4] = 2;
        let (_, n) = component_ids(&p, &zones);
        assert_eq!(n, 6);
        // Dots in zone 0 are left out.
        let zones: Vec<u8> = (0..p.dots.len()).map(|i| u8::from(i < 3)).collect();
        let (ids, n) = component_ids(&p, &zones);
        assert_eq!((n, ids[3]), (2, None));
    }

    #[test]
    fn a_ring_is_one_component() {
        let p = patch(&[
            "...#####...", //
            ".##.....##.", //
            "#.........#", //
            "#.........#", //
            ".#.......#.", //
            "..#######..",
        ]);
        let zones = vec![1u8; p.dots.len()];
        let (_, n) = component_ids(&p, &zones);
        assert_eq!(n, 1);
    }

    #[test]
    fn a_gap_of_rows_separates_components() {
        let p = patch(&["#", ".", "#"]);
        let (_, n) = component_ids(&p, &[1, 1]);
        assert_eq!(n, 2);
    }

    #[test]
    fn streaks_are_found_and_print_is_not() {
        let (w, h) = (200u32, 300u32);
        let mut px = vec![255u8; (w * h) as usize];
        for y in 0..h {
            px[(y * w + 50) as usize] = 0; // a streak
        }
        for y in 10..60 {
            px[(y * w + 120) as usize] = 0; // a printed vertical line
        }
        for x in 0..w {
            px[(150 * w + x) as usize] = 0; // a transmission error
        }
        let page = PageImage::new(w, h, 200.0, 200.0, px);
        let (cols, rows) = streaks(&page, 128);
        assert!(cols[50] && !cols[120] && !cols[51]);
        assert!(rows[150] && !rows[20]);
    }
}
