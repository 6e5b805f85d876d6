//! Anti-aliased drawing on a grey (or RGB) canvas under an affine page-to-pixel map.
//!
//! Everything is drawn straight at the output resolution: shapes are given in page points
//! (origin top-left, y down, as in the layout file) and each covered pixel's centre is mapped
//! back to the page with the inverse affine, stepping by a constant vector along a row, so no
//! trigonometry and no per-pixel matrix product happen in the loops. Coverage comes from the
//! distance to the shape measured on the page, divided by the pixel's footprint across the
//! shape's edge, which is what a scanner's sensor element integrates.
//!
//! All shapes of one [`Canvas::paint`] call are first merged with `max` into a coverage scratch
//! buffer and then composited once, so the overlapping segments of a polyline or the two
//! strokes of a tick do not darken each other (that matters for pencil).

use serde::{Deserialize, Serialize};

use capsurvey_scan::PageImage;

/// A 2-D affine map: `x' = a·x + b·y + c`, `y' = d·x + e·y + f`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Affine {
    /// x' per x.
    pub a: f64,
    /// x' per y.
    pub b: f64,
    /// x' offset.
    pub c: f64,
    /// y' per x.
    pub d: f64,
    /// y' per y.
    pub e: f64,
    /// y' offset.
    pub f: f64,
}

impl Affine {
    /// The identity.
    pub const IDENTITY: Affine = Affine {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 0.0,
        e: 1.0,
        f: 0.0,
    };

    /// Scaling about the origin.
    pub fn scale(sx: f64, sy: f64) -> Affine {
        Affine {
            a: sx,
            e: sy,
            ..Affine::IDENTITY
        }
    }

    /// A translation.
    pub fn translate(tx: f64, ty: f64) -> Affine {
        Affine {
            c: tx,
            f: ty,
            ..Affine::IDENTITY
        }
    }

    /// A rotation by `radians` about the origin; positive turns clockwise on a y-down page.
    pub fn rotate(radians: f64) -> Affine {
        let (s, c) = radians.sin_cos();
        Affine {
            a: c,
            b: -s,
            c: 0.0,
            d: s,
            e: c,
            f: 0.0,
        }
    }

    /// `self` first, then `next`.
    pub fn then(&self, next: &Affine) -> Affine {
        Affine {
            a: next.a * self.a + next.b * self.d,
            b: next.a * self.b + next.b * self.e,
            c: next.a * self.c + next.b * self.f + next.c,
            d: next.d * self.a + next.e * self.d,
            e: next.d * self.b + next.e * self.e,
            f: next.d * self.c + next.e * self.f + next.f,
        }
    }

    /// Applies the map to a point.
    #[inline]
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a * x + self.b * y + self.c,
            self.d * x + self.e * y + self.f,
        )
    }

    /// The inverse map (the maps used here are never singular).
    pub fn inverse(&self) -> Affine {
        let det = self.a * self.e - self.b * self.d;
        let (a, b, d, e) = (self.e / det, -self.b / det, -self.d / det, self.a / det);
        Affine {
            a,
            b,
            c: -(a * self.c + b * self.f),
            d,
            e,
            f: -(d * self.c + e * self.f),
        }
    }

    /// The coefficients as `[a, b, c, d, e, f]`.
    pub fn to_array(&self) -> [f64; 6] {
        [self.a, self.b, self.c, self.d, self.e, self.f]
    }
}

/// A shape in page points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Shape {
    /// A thick segment with round caps: all points within `r` of the segment `a`–`b`.
    Capsule {
        a: (f64, f64),
        b: (f64, f64),
        r: f64,
    },
    /// A filled rectangle, axis-aligned on the page.
    Rect { x: f64, y: f64, w: f64, h: f64 },
}

impl Shape {
    pub(crate) fn seg(a: (f64, f64), b: (f64, f64), width: f64) -> Shape {
        Shape::Capsule {
            a,
            b,
            r: width / 2.0,
        }
    }
}

/// Pushes the segments of a polyline as capsules.
pub(crate) fn polyline(out: &mut Vec<Shape>, pts: &[(f64, f64)], width: f64) {
    if pts.len() == 1 {
        out.push(Shape::seg(pts[0], pts[0], width));
    }
    for w in pts.windows(2) {
        out.push(Shape::seg(w[0], w[1], width));
    }
}

/// How a drawing darkens the paper: the fraction of light absorbed per channel (R, G, B), or a
/// white-out that lightens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Ink {
    pub dark: [f32; 3],
    pub white: bool,
}

impl Ink {
    /// Neutral ink absorbing `k` (0..1) of the light.
    pub(crate) fn grey(k: f32) -> Ink {
        Ink {
            dark: [k; 3],
            white: false,
        }
    }
    /// Printer toner.
    pub(crate) const PRINT: Ink = Ink {
        dark: [0.97; 3],
        white: false,
    };
    /// Correction fluid: paints paper white.
    pub(crate) const WHITE: Ink = Ink {
        dark: [1.0; 3],
        white: true,
    };
    fn luma(&self) -> f32 {
        0.299 * self.dark[0] + 0.587 * self.dark[1] + 0.114 * self.dark[2]
    }
}

/// A list of things to paint, in page points, each with its ink.
#[derive(Debug, Clone, Default)]
pub(crate) struct Scene {
    pub ops: Vec<(Vec<Shape>, Ink)>,
}

impl Scene {
    pub(crate) fn push(&mut self, shapes: Vec<Shape>, ink: Ink) {
        if !shapes.is_empty() {
            self.ops.push((shapes, ink));
        }
    }
}

/// The drawing surface: whiteness per channel (255 = paper, 0 = full ink).
#[derive(Clone)]
pub(crate) struct Canvas {
    pub width: usize,
    pub height: usize,
    /// 1 (grey) or 3 (RGB, interleaved).
    pub channels: usize,
    pub data: Vec<u8>,
    pub to_px: Affine,
    from_px: Affine,
    /// Page displacement of one pixel step right and down.
    ex: (f64, f64),
    ey: (f64, f64),
    /// An upper bound of pixels per page point in any direction.
    max_scale: f64,
    /// The sensor element's size as a fraction of the pixel pitch, across and along the rows:
    /// a fax at standard resolution reads with a sensor row smaller than its line pitch, so
    /// thin lines stay sharp (or break up) instead of fading to grey.
    aperture: (f64, f64),
    /// Standard-resolution line merging: a pixel is as dark as the darker of two sensor rows
    /// `±merge` pixel pitches above and below its centre (fax machines OR two fine lines into
    /// one standard line so that thin horizontal lines survive). Emulated by growing every
    /// shape by that much along the pixel's vertical axis.
    merge: f64,
    scratch: Vec<u8>,
    /// One row of coverage values, reused.
    rowbuf: Vec<u8>,
}

impl Canvas {
    /// A blank canvas; `to_px` maps page points to pixel coordinates (pixel `(i, j)` covers
    /// `[i, i+1) × [j, j+1)`).
    pub(crate) fn new(width: usize, height: usize, channels: usize, to_px: Affine) -> Canvas {
        let mut c = Canvas {
            width,
            height,
            channels,
            data: vec![255; width * height * channels],
            to_px,
            from_px: Affine::IDENTITY,
            ex: (1.0, 0.0),
            ey: (0.0, 1.0),
            max_scale: 1.0,
            aperture: (1.0, 1.0),
            merge: 0.0,
            scratch: Vec::new(),
            rowbuf: Vec::new(),
        };
        c.set_transform(to_px);
        c
    }

    /// Changes the page-to-pixel map (for drawing in another frame, such as the fax header
    /// line that is not skewed with the paper).
    pub(crate) fn set_transform(&mut self, to_px: Affine) {
        let from_px = to_px.inverse();
        self.to_px = to_px;
        self.from_px = from_px;
        self.ex = (from_px.a, from_px.d);
        self.ey = (from_px.b, from_px.e);
        // The Frobenius norm bounds the largest stretch in any direction.
        self.max_scale =
            (to_px.a * to_px.a + to_px.b * to_px.b + to_px.d * to_px.d + to_px.e * to_px.e).sqrt();
    }

    /// Sets the vertical sensor aperture and line merging, as fractions of the pixel pitch
    /// (see the fields).
    pub(crate) fn set_sensor(&mut self, aperture_y: f64, merge: f64) {
        self.aperture = (1.0, aperture_y);
        self.merge = merge;
    }

    /// The geometry the rasteriser needs, copied out so that it can run while the pixels are
    /// borrowed mutably.
    fn geo(&self) -> Geo {
        let t = self.to_px;
        Geo {
            to_px: t,
            from_px: self.from_px,
            ex: self.ex,
            ey: self.ey,
            aperture: self.aperture,
            merge: self.merge,
            rx_scale: (t.a * t.a + t.b * t.b).sqrt(),
            ry_scale: (t.d * t.d + t.e * t.e).sqrt(),
            max_scale: self.max_scale,
            width: self.width,
            height: self.height,
        }
    }

    /// Paints the union of `shapes` with `ink`.
    ///
    /// Dark neutral ink (toner, black pen) is composited shape by shape straight into the
    /// canvas: where its strokes overlap it only gets a little darker, which is what ink does.
    /// Lighter or coloured ink (pencil, grey bands, blue pen) and white-out are first merged
    /// into a coverage buffer with `max`, so that overlaps do not show.
    pub(crate) fn paint(&mut self, shapes: &[Shape], ink: Ink) {
        let geo = self.geo();
        let mut buf = std::mem::take(&mut self.rowbuf);
        // One shape cannot overlap itself: it can go straight in whatever the ink.
        let direct = shapes.len() == 1 || (!ink.white && ink.dark.iter().all(|&d| d >= 0.9));
        if direct {
            let ch = self.channels;
            let darks = self.darks(ink);
            let width = self.width;
            let data = &mut self.data;
            let white = ink.white;
            let mut emit = |py: usize, xs: usize, cov: &[u8]| {
                let row = &mut data[(py * width + xs) * ch..(py * width + xs + cov.len()) * ch];
                composite_row(row, cov, ch, &darks, white);
            };
            for s in shapes {
                raster(&geo, s, (0, 0, geo.width, geo.height), &mut buf, &mut emit);
            }
            self.rowbuf = buf;
            return;
        }
        let mut bb = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for s in shapes {
            let b = geo.px_bbox(s);
            bb = (bb.0.min(b.0), bb.1.min(b.1), bb.2.max(b.2), bb.3.max(b.3));
        }
        let x0 = bb.0.floor().max(0.0) as usize;
        let y0 = bb.1.floor().max(0.0) as usize;
        let x1 = (bb.2.ceil().max(0.0) as usize).min(self.width);
        let y1 = (bb.3.ceil().max(0.0) as usize).min(self.height);
        if x0 >= x1 || y0 >= y1 {
            self.rowbuf = buf;
            return;
        }
        let bw = x1 - x0;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        scratch.resize(bw * (y1 - y0), 0);
        {
            let mut emit = |py: usize, xs: usize, cov: &[u8]| {
                let row = &mut scratch[(py - y0) * bw + (xs - x0)..][..cov.len()];
                for (s, &c) in row.iter_mut().zip(cov) {
                    *s = (*s).max(c);
                }
            };
            for s in shapes {
                raster(&geo, s, (x0, y0, x1, y1), &mut buf, &mut emit);
            }
        }
        let ch = self.channels;
        let darks = self.darks(ink);
        for (j, src) in scratch.chunks_exact(bw).enumerate() {
            let y = y0 + j;
            let row = &mut self.data[(y * self.width + x0) * ch..(y * self.width + x1) * ch];
            composite_row(row, src, ch, &darks, ink.white);
        }
        self.scratch = scratch;
        self.rowbuf = buf;
    }

    /// The ink's absorption per channel of this canvas, 0..=255.
    fn darks(&self, ink: Ink) -> [u32; 3] {
        if self.channels == 1 {
            [(ink.luma() * 255.0).round() as u32; 3]
        } else {
            ink.dark.map(|d| (d * 255.0).round() as u32)
        }
    }

    /// Paints a whole scene.
    pub(crate) fn paint_scene(&mut self, scene: &Scene) {
        for (shapes, ink) in &scene.ops {
            self.paint(shapes, *ink);
        }
    }

    /// Fills the canvas from a grey page image placed by `page_to_src` (page points to source
    /// pixel coordinates), with bilinear sampling; where the source is more than 1.5 times
    /// finer than the canvas it is first box-filtered so thin lines fade rather than vanish.
    pub(crate) fn fill_from(&mut self, src: &PageImage, page_to_src: &Affine) {
        let m = self.from_px.then(page_to_src);
        let step_x = (m.a * m.a + m.d * m.d).sqrt() * self.aperture.0;
        let step_y = (m.b * m.b + m.e * m.e).sqrt() * self.aperture.1;
        let kx = if step_x > 1.5 {
            step_x.round() as usize
        } else {
            1
        };
        let ky = if step_y > 1.5 {
            step_y.round() as usize
        } else {
            1
        };
        let filtered;
        let pixels: &[u8] = if kx > 1 || ky > 1 {
            filtered = box_filter(&src.pixels, src.width as usize, src.height as usize, kx, ky);
            &filtered
        } else {
            &src.pixels
        };
        let (sw, sh) = (src.width as i64, src.height as i64);
        const ONE: f64 = 65536.0;
        let ch = self.channels;
        let sample = |fx: i64, fy: i64| -> u8 {
            let ix = fx >> 16;
            let iy = fy >> 16;
            if ix >= 0 && iy >= 0 && ix + 1 < sw && iy + 1 < sh {
                let wx = (fx & 0xFFFF) as u32 >> 8;
                let wy = (fy & 0xFFFF) as u32 >> 8;
                let i = (iy * sw + ix) as usize;
                let p00 = u32::from(pixels[i]);
                let p01 = u32::from(pixels[i + 1]);
                let p10 = u32::from(pixels[i + sw as usize]);
                let p11 = u32::from(pixels[i + sw as usize + 1]);
                let top = p00 * (256 - wx) + p01 * wx;
                let bot = p10 * (256 - wx) + p11 * wx;
                ((top * (256 - wy) + bot * wy + 32768) >> 16) as u8
            } else {
                255
            }
        };
        // Line merging: the darker of two samples a fraction of a pixel above and below.
        let (mx, my) = (
            (m.b * self.merge * ONE) as i64,
            (m.e * self.merge * ONE) as i64,
        );
        for y in 0..self.height {
            // Source position of this row's first pixel centre, in 16.16 fixed point, shifted
            // by half a pixel so that integer parts index the top-left sample.
            let (sx, sy) = m.apply(0.5, y as f64 + 0.5);
            let mut fx = ((sx - 0.5) * ONE) as i64;
            let mut fy = ((sy - 0.5) * ONE) as i64;
            let (dx, dy) = ((m.a * ONE) as i64, (m.d * ONE) as i64);
            let row = &mut self.data[y * self.width * ch..(y + 1) * self.width * ch];
            for x in 0..self.width {
                let v = if self.merge > 0.0 {
                    sample(fx - mx, fy - my).min(sample(fx + mx, fy + my))
                } else {
                    sample(fx, fy)
                };
                for k in 0..ch {
                    row[x * ch + k] = v;
                }
                fx += dx;
                fy += dy;
            }
        }
    }
}

/// A copy of the canvas geometry for the rasteriser.
#[derive(Clone, Copy)]
struct Geo {
    to_px: Affine,
    from_px: Affine,
    ex: (f64, f64),
    ey: (f64, f64),
    aperture: (f64, f64),
    merge: f64,
    /// Pixels per point along the image's x and y axes (for any page direction).
    rx_scale: f64,
    ry_scale: f64,
    max_scale: f64,
    width: usize,
    height: usize,
}

impl Geo {
    /// The sensor footprint's extent along the unit direction `n` (in points).
    #[inline]
    fn extent(&self, n: (f64, f64)) -> f64 {
        (n.0 * self.ex.0 + n.1 * self.ex.1).abs() * self.aperture.0
            + (n.0 * self.ey.0 + n.1 * self.ey.1).abs() * self.aperture.1
    }

    /// How far line merging grows a shape along the unit direction `n` (in points).
    #[inline]
    fn grow(&self, n: (f64, f64)) -> f64 {
        (n.0 * self.ey.0 + n.1 * self.ey.1).abs() * self.merge
    }

    fn px_bbox(&self, s: &Shape) -> (f64, f64, f64, f64) {
        let (pts, pad) = match *s {
            Shape::Capsule { a, b, r } => ([a, b, a, b], r),
            Shape::Rect { x, y, w, h } => ([(x, y), (x + w, y), (x, y + h), (x + w, y + h)], 0.0),
        };
        let pad = pad * self.max_scale + 2.0;
        let mut bb = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for (x, y) in pts {
            let (px, py) = self.to_px.apply(x, y);
            bb = (bb.0.min(px), bb.1.min(py), bb.2.max(px), bb.3.max(py));
        }
        (bb.0 - pad, bb.1 - pad, bb.2 + pad, bb.3 + pad)
    }
}

/// Composites one row of coverage into pixels (`ch` channels each).
#[inline]
fn composite_row(row: &mut [u8], cov: &[u8], ch: usize, darks: &[u32; 3], white: bool) {
    if ch == 1 {
        let dk = darks[0];
        for (p, &c) in row.iter_mut().zip(cov) {
            let m = u32::from(c) * dk; // 0..=65025
            let w = u32::from(*p);
            let add = if white { 255 * m } else { 0 };
            *p = ((w * (65025 - m) + add + 32512) / 65025) as u8;
        }
    } else {
        for (px, &c) in row.chunks_exact_mut(ch).zip(cov) {
            if c == 0 {
                continue;
            }
            for (p, &dk) in px.iter_mut().zip(darks) {
                let m = u32::from(c) * dk;
                let w = u32::from(*p);
                let add = if white { 255 * m } else { 0 };
                *p = ((w * (65025 - m) + add + 32512) / 65025) as u8;
            }
        }
    }
}

/// `floor(x)` clamped to `lo..=hi`, without a libm call (baseline x86-64 has no rounding
/// instruction, and this runs for every row of every stroke).
#[inline]
fn floor_clamp(x: f64, lo: usize, hi: usize) -> usize {
    if x <= lo as f64 {
        return lo;
    }
    if x >= hi as f64 {
        return hi;
    }
    // Positive here, so truncation is floor.
    x as usize
}

/// `ceil(x)` clamped to `lo..=hi`.
#[inline]
fn ceil_clamp(x: f64, lo: usize, hi: usize) -> usize {
    if x <= lo as f64 {
        return lo;
    }
    if x >= hi as f64 {
        return hi;
    }
    let t = x as usize;
    if (t as f64) < x { t + 1 } else { t }
}

/// Rasterises one shape: for every pixel row it touches inside `clip` (x0, y0, x1, y1), the
/// coverage of a run of pixels is computed into `buf` and handed to `emit(row, first, cov)`.
fn raster(
    geo: &Geo,
    s: &Shape,
    clip: (usize, usize, usize, usize),
    buf: &mut Vec<u8>,
    emit: &mut dyn FnMut(usize, usize, &[u8]),
) {
    match *s {
        Shape::Capsule { a, b, r } => capsule(geo, a, b, r, clip, buf, emit),
        Shape::Rect { x, y, w, h } => rect(geo, x, y, w, h, clip, buf, emit),
    }
}

fn capsule(
    geo: &Geo,
    a: (f64, f64),
    b: (f64, f64),
    r: f64,
    clip: (usize, usize, usize, usize),
    buf: &mut Vec<u8>,
    emit: &mut dyn FnMut(usize, usize, &[u8]),
) {
    let (vx, vy) = (b.0 - a.0, b.1 - a.1);
    let l2 = vx * vx + vy * vy;
    let (inv_l2, ext, grow) = if l2 > 1e-12 {
        let l = l2.sqrt();
        let n = (-vy / l, vx / l);
        (1.0 / l2, geo.extent(n), geo.grow(n))
    } else {
        // A dot: the mean of the footprint's extents along the two page axes.
        (
            0.0,
            0.5 * (geo.extent((1.0, 0.0)) + geo.extent((0.0, 1.0))),
            0.5 * (geo.grow((1.0, 0.0)) + geo.grow((0.0, 1.0))),
        )
    };
    let cap = (2.0 * r / ext).min(1.0) as f32;
    let lim = r + grow + 0.5 * ext;
    // The band the capsule covers, in pixels: the segment widened by the reach of `lim`
    // points along each image axis (plus half a pixel, as pixels are sampled at centres).
    let pa = geo.to_px.apply(a.0, a.1);
    let pb = geo.to_px.apply(b.0, b.1);
    let rx = lim * geo.rx_scale + 0.5;
    let ry = lim * geo.ry_scale + 0.5;
    let ys = floor_clamp(pa.1.min(pb.1) - ry, clip.1, clip.3);
    let ye = ceil_clamp(pa.1.max(pb.1) + ry, ys, clip.3);
    let dy_seg = pb.1 - pa.1;
    // Per-pixel work in f32 relative to `a` (small numbers): four lanes per SSE register.
    let (vxf, vyf) = (vx as f32, vy as f32);
    let (exx, exy) = (geo.ex.0 as f32, geo.ex.1 as f32);
    let (inv_l2f, rf, growf, inv_ext) = (inv_l2 as f32, r as f32, grow as f32, (1.0 / ext) as f32);
    for py in ys..ye {
        let cy = py as f64 + 0.5;
        let (xa, xb) = if dy_seg.abs() < 1e-9 {
            (pa.0.min(pb.0), pa.0.max(pb.0))
        } else {
            let t0 = ((cy - ry - pa.1) / dy_seg).clamp(0.0, 1.0);
            let t1 = ((cy + ry - pa.1) / dy_seg).clamp(0.0, 1.0);
            let xa = pa.0 + t0 * (pb.0 - pa.0);
            let xb = pa.0 + t1 * (pb.0 - pa.0);
            (xa.min(xb), xa.max(xb))
        };
        let xs = floor_clamp(xa - rx, clip.0, clip.2);
        let xe = ceil_clamp(xb + rx, xs, clip.2);
        if xs >= xe {
            continue;
        }
        let (qx, qy) = geo.from_px.apply(xs as f64 + 0.5, cy);
        let (dx0, dy0) = ((qx - a.0) as f32, (qy - a.1) as f32);
        if buf.len() < xe - xs {
            buf.resize(xe - xs, 0);
        }
        let buf = &mut buf[..xe - xs];
        for (i, cell) in buf.iter_mut().enumerate() {
            let fi = i as f32;
            let dx = dx0 + fi * exx;
            let dy = dy0 + fi * exy;
            let t = ((dx * vxf + dy * vyf) * inv_l2f).clamp(0.0, 1.0);
            let ox = dx - t * vxf;
            let oy = dy - t * vyf;
            let d = ((ox * ox + oy * oy).sqrt() - growf).max(0.0);
            let c = ((rf - d) * inv_ext + 0.5).clamp(0.0, cap);
            *cell = (c * 255.0 + 0.5) as u8;
        }
        emit(py, xs, buf);
    }
}

#[allow(clippy::too_many_arguments)]
fn rect(
    geo: &Geo,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    clip: (usize, usize, usize, usize),
    buf: &mut Vec<u8>,
    emit: &mut dyn FnMut(usize, usize, &[u8]),
) {
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let ext_x = geo.extent((1.0, 0.0));
    let ext_y = geo.extent((0.0, 1.0));
    let (hw, hh) = (
        w / 2.0 + geo.grow((1.0, 0.0)),
        h / 2.0 + geo.grow((0.0, 1.0)),
    );
    // The rectangle grown by half a footprint is a parallelogram in pixels; each row is
    // limited to where it crosses it.
    let (mx, my) = (hw + 0.5 * ext_x, hh + 0.5 * ext_y);
    let quad = [
        (cx - mx, cy - my),
        (cx + mx, cy - my),
        (cx + mx, cy + my),
        (cx - mx, cy + my),
    ]
    .map(|(px, py)| geo.to_px.apply(px, py));
    let top = quad.iter().map(|p| p.1).fold(f64::MAX, f64::min);
    let bottom = quad.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let ys = floor_clamp(top - 1.0, clip.1, clip.3);
    let ye = ceil_clamp(bottom + 1.0, ys, clip.3);
    let (exx, exy) = (geo.ex.0 as f32, geo.ex.1 as f32);
    let (hwf, hhf) = (hw as f32, hh as f32);
    let (inv_x, inv_y) = ((1.0 / ext_x) as f32, (1.0 / ext_y) as f32);
    for py in ys..ye {
        let yc = py as f64 + 0.5;
        // x range of the quad's edges within one pixel of this row's centre.
        let (mut lo, mut hi) = (f64::MAX, f64::MIN);
        for k in 0..4 {
            let (p, q) = (quad[k], quad[(k + 1) % 4]);
            let (y0, y1) = (yc - 1.0, yc + 1.0);
            let (pmin, pmax) = (p.1.min(q.1), p.1.max(q.1));
            if pmax < y0 || pmin > y1 {
                continue;
            }
            let dy = q.1 - p.1;
            let (t0, t1) = if dy.abs() < 1e-12 {
                (0.0, 1.0)
            } else {
                let ta = ((y0 - p.1) / dy).clamp(0.0, 1.0);
                let tb = ((y1 - p.1) / dy).clamp(0.0, 1.0);
                (ta.min(tb), ta.max(tb))
            };
            for t in [t0, t1] {
                let xx = p.0 + t * (q.0 - p.0);
                lo = lo.min(xx);
                hi = hi.max(xx);
            }
        }
        // A row entirely inside (no edge near it) spans the quad's width there.
        if lo > hi {
            let (l, r) = quad
                .iter()
                .fold((f64::MAX, f64::MIN), |(l, r), p| (l.min(p.0), r.max(p.0)));
            lo = l;
            hi = r;
        }
        let xs = floor_clamp(lo - 1.0, clip.0, clip.2);
        let xe = ceil_clamp(hi + 1.0, xs, clip.2);
        if xs >= xe {
            continue;
        }
        let (qx, qy) = geo.from_px.apply(xs as f64 + 0.5, yc);
        let (dx0, dy0) = ((qx - cx) as f32, (qy - cy) as f32);
        if buf.len() < xe - xs {
            buf.resize(xe - xs, 0);
        }
        let buf = &mut buf[..xe - xs];
        for (i, cell) in buf.iter_mut().enumerate() {
            let fi = i as f32;
            let dx = (dx0 + fi * exx).abs() - hwf;
            let dy = (dy0 + fi * exy).abs() - hhf;
            let c = if dx > dy {
                0.5 - dx * inv_x
            } else {
                0.5 - dy * inv_y
            };
            *cell = (c.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
        }
        emit(py, xs, buf);
    }
}

/// A separable box filter of `kx` × `ky` pixels (running sums, O(1) per pixel).
pub(crate) fn box_filter(src: &[u8], w: usize, h: usize, kx: usize, ky: usize) -> Vec<u8> {
    let mut tmp = vec![0u8; w * h];
    for (s, d) in src.chunks_exact(w).zip(tmp.chunks_exact_mut(w)) {
        running_mean(s, d, kx);
    }
    let mut out = vec![0u8; w * h];
    let mut col = vec![0u8; h];
    let mut res = vec![0u8; h];
    for x in 0..w {
        for y in 0..h {
            col[y] = tmp[y * w + x];
        }
        running_mean(&col, &mut res, ky);
        for y in 0..h {
            out[y * w + x] = res[y];
        }
    }
    out
}

/// `dst[i]` = mean of the `k` samples of `src` centred on `i` (edges repeat).
fn running_mean(src: &[u8], dst: &mut [u8], k: usize) {
    let n = src.len();
    if k <= 1 || n == 0 {
        dst.copy_from_slice(src);
        return;
    }
    let before = (k - 1) / 2;
    let at = |i: isize| u32::from(src[i.clamp(0, n as isize - 1) as usize]);
    let mut sum: u32 = (0..k as isize).map(|j| at(j - before as isize)).sum();
    for (i, d) in dst.iter_mut().enumerate().take(n) {
        *d = ((sum + k as u32 / 2) / k as u32) as u8;
        sum += at(i as isize + k as isize - before as isize);
        sum -= at(i as isize - before as isize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_inverse_and_composition() {
        let m = Affine::rotate(0.3)
            .then(&Affine::scale(2.0, 0.5))
            .then(&Affine::translate(3.0, -1.0));
        let (x, y) = m.apply(5.0, 7.0);
        let (bx, by) = m.inverse().apply(x, y);
        assert!((bx - 5.0).abs() < 1e-9 && (by - 7.0).abs() < 1e-9);
    }

    #[test]
    fn coverage_is_about_the_shape_area() {
        // 1 px = 1 pt; a 10-pt-wide bar 100 pt long covers about 1000 pixels.
        let mut c = Canvas::new(200, 50, 1, Affine::IDENTITY);
        c.paint(
            &[Shape::seg((50.0, 25.0), (150.0, 25.0), 10.0)],
            Ink::grey(1.0),
        );
        let ink: f64 = c.data.iter().map(|&v| (255 - v) as f64 / 255.0).sum();
        let want = 100.0 * 10.0 + std::f64::consts::PI * 25.0;
        assert!((ink - want).abs() < want * 0.02, "{ink} vs {want}");
        // A rotated, anisotropic map: a 20×20 square on a 2:1 grid covers 20×40 pixels.
        let m = Affine::scale(2.0, 1.0);
        let mut c = Canvas::new(100, 50, 1, m);
        c.paint(
            &[Shape::Rect {
                x: 10.0,
                y: 10.0,
                w: 20.0,
                h: 20.0,
            }],
            Ink::grey(1.0),
        );
        let ink: f64 = c.data.iter().map(|&v| (255 - v) as f64 / 255.0).sum();
        assert!((ink - 800.0).abs() < 16.0, "{ink}");
    }

    #[test]
    fn overlapping_shapes_do_not_double_darken() {
        let mut c = Canvas::new(40, 40, 1, Affine::IDENTITY);
        let s = Shape::seg((5.0, 20.0), (35.0, 20.0), 6.0);
        c.paint(&[s, s, s], Ink::grey(0.5));
        // Half the light, once: 127.5 rounds either way.
        assert!(
            (127..=128).contains(&c.data[20 * 40 + 20]),
            "{}",
            c.data[20 * 40 + 20]
        );
    }

    #[test]
    fn resampling_keeps_lines() {
        // A 300 dpi source with a 2-px horizontal line, sampled at 98 dpi vertically.
        let (w, h) = (300usize, 300usize);
        let mut px = vec![255u8; w * h];
        for y in 150..152 {
            px[y * w..(y + 1) * w].fill(0);
        }
        let src = PageImage::new(w as u32, h as u32, 300.0, 300.0, px);
        let to_px = Affine::scale(204.0 / 72.0, 98.0 / 72.0);
        let mut c = Canvas::new(204, 98, 1, to_px);
        c.fill_from(&src, &Affine::scale(300.0 / 72.0, 300.0 / 72.0));
        let darkest = (0..98).map(|y| c.data[y * 204 + 100]).min().unwrap();
        assert!(darkest < 160, "{darkest}");
    }
}
