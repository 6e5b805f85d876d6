//! Registration: finding the four corner marks and fitting the page-to-image transform.
//!
//! Only four corner windows of the image are looked at, downsampled to cells of about
//! 0.25 mm (≈100 dpi), so registration costs the same at 204×98 dpi as at 600 dpi:
//!
//! 1. each cell's darkness is the mean of its pixels; cells darker than half are ink;
//! 2. a 3×3 morphological opening removes what is thinner than about 0.75 mm — fax streaks,
//!    speckle, most text strokes — while a 6 mm square survives unchanged;
//! 3. connected components are candidates when their size, area, fill and quiet zone fit a
//!    mark (within the allowed skew, scale and blur); a mark cut off by the edge of the image
//!    (fax edge loss) is used too, its centre put half a mark from the edge that is left;
//! 4. every combination of at most three candidates per corner (and at most one corner
//!    missing) is fitted by least squares; the plausible fit with most marks and the smallest
//!    residual wins.

use capsurvey_layout::A4;
use capsurvey_layout::frame::{MARK_SIZE, registration_marks};

use super::transform::Transform;
use crate::PageImage;

/// Working cell size in millimetres (about 100 dpi).
const CELL_MM: f64 = 0.25;
/// Half-size of a corner search window around the expected mark centre: ±8 mm shift, the
/// displacement of a corner by ±3° skew and ±3 % scale about a point anywhere on the page,
/// and the mark's own half size.
const WINDOW_HALF_MM: f64 = 27.0;
/// Half-size of the first, quick search window: most pages lie within a few millimetres of
/// where they should, and a quarter of the area is a quarter of the work.
const QUICK_HALF_MM: f64 = 13.0;
/// Largest RMS residual of a four-mark fit, millimetres. Fax paper feed is not perfectly
/// uniform; a wrong candidate is off by several millimetres.
const MAX_RESIDUAL_MM: f64 = 1.2;

/// A mark candidate: centre in image pixels and a quality score (higher is better).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Candidate {
    pub x: f64,
    pub y: f64,
    pub score: f64,
}

/// The result of registration.
#[derive(Debug, Clone)]
pub(crate) struct Registration {
    /// Page points to image pixels, assuming the page is upright.
    pub transform: Transform,
    /// Marks used (3 or 4).
    pub marks: usize,
    /// RMS distance between the found and fitted mark centres, millimetres (0 with 3 marks,
    /// whose fit is exact).
    pub residual_mm: f64,
    /// Which corners were used (top-left, top-right, bottom-left, bottom-right).
    pub used: [bool; 4],
}

/// The resolution to work with: the stated one, or one guessed from the image size when the
/// file did not state any (an A4 page filling the image).
pub(crate) fn working_dpi(page: &PageImage) -> (f64, f64) {
    if page.dpi_assumed {
        let w_in = A4.width / 72.0;
        let h_in = A4.height / 72.0;
        (page.width as f64 / w_in, page.height as f64 / h_in)
    } else {
        (page.dpi_x as f64, page.dpi_y as f64)
    }
}

/// Finds the marks and fits the transform; `Err(n)` gives how many plausible marks were seen
/// when no fit was possible.
pub(crate) fn register(page: &PageImage) -> Result<Registration, usize> {
    let (dpi_x, dpi_y) = working_dpi(page);
    let (ppm_x, ppm_y) = (dpi_x / 25.4, dpi_y / 25.4);
    // Guess: the page centred in the image (fax images are wider than A4).
    let off_x = (page.width as f64 - A4.width / 72.0 * dpi_x) / 2.0;
    let off_y = (page.height as f64 - A4.height / 72.0 * dpi_y) / 2.0;
    let guess = Transform {
        m: [dpi_x / 72.0, 0.0, off_x, 0.0, dpi_y / 72.0, off_y],
    };
    let marks = registration_marks();
    let search = |half: f64| -> [Vec<Candidate>; 4] {
        std::array::from_fn(|i| {
            let (cx, cy) = guess.apply(marks[i].cx, marks[i].cy);
            find_in_window(page, cx, cy, half, ppm_x, ppm_y)
        })
    };
    // Quick windows first; accepted only with all four marks (a missing one may lie just
    // outside), otherwise the full windows.
    if let Some(r) = best_fit(&search(QUICK_HALF_MM), ppm_x, ppm_y)
        && r.marks == 4
    {
        return Ok(r);
    }
    let cands = search(WINDOW_HALF_MM);
    let seen = cands.iter().filter(|c| !c.is_empty()).count();
    best_fit(&cands, ppm_x, ppm_y).ok_or(seen)
}

/// Picks the best plausible combination of candidates.
fn best_fit(cands: &[Vec<Candidate>; 4], ppm_x: f64, ppm_y: f64) -> Option<Registration> {
    let marks = registration_marks();
    let options: Vec<Vec<Option<usize>>> = cands
        .iter()
        .map(|c| {
            let mut o: Vec<Option<usize>> = (0..c.len().min(3)).map(Some).collect();
            o.push(None);
            o
        })
        .collect();
    let mut best: Option<(f64, Registration)> = None;
    for &a in &options[0] {
        for &b in &options[1] {
            for &c in &options[2] {
                for &d in &options[3] {
                    let pick = [a, b, c, d];
                    let used = pick.map(|p| p.is_some());
                    let n = used.iter().filter(|&&u| u).count();
                    if n < 3 {
                        continue;
                    }
                    let mut pairs = Vec::with_capacity(4);
                    let mut quality = 0.0;
                    for (i, p) in pick.iter().enumerate() {
                        if let Some(k) = p {
                            let cand = cands[i][*k];
                            pairs.push(((marks[i].cx, marks[i].cy), (cand.x, cand.y)));
                            quality += cand.score;
                        }
                    }
                    let Some((t, res)) = Transform::fit(&pairs) else {
                        continue;
                    };
                    let rms = (res
                        .iter()
                        .map(|(u, v)| (u / ppm_x).powi(2) + (v / ppm_y).powi(2))
                        .sum::<f64>()
                        / res.len() as f64)
                        .sqrt();
                    let s = t.summary(ppm_x * 25.4, ppm_y * 25.4);
                    let plausible = (0.9..=1.1).contains(&s.scale_x)
                        && (0.9..=1.1).contains(&s.scale_y)
                        && (s.scale_x / s.scale_y - 1.0).abs() < 0.09
                        && s.rotation_deg.abs() <= 6.0
                        && s.shear_deg.abs() <= 1.5
                        && rms <= MAX_RESIDUAL_MM;
                    if !plausible {
                        continue;
                    }
                    // More marks first; then small residual, little shear, good candidates.
                    let score = n as f64 * 100.0 - rms * 10.0 - s.shear_deg.abs() * 5.0
                        + quality / n as f64;
                    if best.as_ref().is_none_or(|(b, _)| score > *b) {
                        best = Some((
                            score,
                            Registration {
                                transform: t,
                                marks: n,
                                residual_mm: if n > 3 { rms } else { 0.0 },
                                used,
                            },
                        ));
                    }
                }
            }
        }
    }
    best.map(|(_, r)| r)
}

/// A downsampled window: cell darkness 0..1 and the binary mask.
struct Window {
    /// Image pixel of the first cell's top-left corner.
    x0: usize,
    y0: usize,
    /// Cell size in pixels.
    fx: usize,
    fy: usize,
    /// Darkness of each cell, row by row.
    dark: Vec<f32>,
}

/// Mark candidates in the window of half-size `half` (mm) around `(cx, cy)` (image pixels),
/// best first.
fn find_in_window(
    page: &PageImage,
    cx: f64,
    cy: f64,
    half: f64,
    ppm_x: f64,
    ppm_y: f64,
) -> Vec<Candidate> {
    let fx = ((CELL_MM * ppm_x).round() as usize).max(1);
    let fy = ((CELL_MM * ppm_y).round() as usize).max(1);
    let (cw, ch) = (fx as f64 / ppm_x, fy as f64 / ppm_y);
    let clamp = |v: f64, max: u32| v.max(0.0).min(max as f64) as usize;
    let x0 = clamp(cx - half * ppm_x, page.width);
    let x1 = clamp(cx + half * ppm_x, page.width);
    let y0 = clamp(cy - half * ppm_y, page.height);
    let y1 = clamp(cy + half * ppm_y, page.height);
    let (w, h) = ((x1 - x0) / fx, (y1 - y0) / fy);
    if w < 8 || h < 8 {
        return Vec::new();
    }
    let win = downsample(page, x0, y0, fx, fy, w, h);
    let ink: Vec<bool> = win.dark.iter().map(|&d| d > 0.5).collect();
    let opened = open3(&ink, w, h);
    let (labels, comps) = components(&opened, w, h);

    let side = MARK_SIZE / 72.0 * 25.4; // 6 mm
    let quiet_in = 0.5;
    let quiet_out = 2.5;
    // How far from each image edge (mm) a mark may be cut off by edge loss: fax machines lose
    // up to about 5 mm.
    const CUT_REACH_MM: f64 = 7.0;
    let (pw, ph) = (page.width as f64, page.height as f64);
    let mut out = Vec::new();
    for (id, c) in comps.iter().enumerate() {
        let bw = (c.x1 - c.x0 + 1) as f64 * cw;
        let bh = (c.y1 - c.y0 + 1) as f64 * ch;
        let area = c.count as f64 * cw * ch;
        let fill = c.count as f64 / ((c.x1 - c.x0 + 1) * (c.y1 - c.y0 + 1)) as f64;
        let full = |b: f64| (0.82 * side..=1.27 * side).contains(&b);
        let part = |b: f64| (0.3 * side..0.82 * side).contains(&b);
        // Distances (mm) from the component to the image edges.
        let d_left = (x0 + c.x0 * fx) as f64 / ppm_x;
        let d_top = (y0 + c.y0 * fy) as f64 / ppm_y;
        let d_right = (pw - (x0 + (c.x1 + 1) * fx) as f64) / ppm_x;
        let d_bottom = (ph - (y0 + (c.y1 + 1) * fy) as f64) / ppm_y;
        // A side is cut when the component reaches the image edge, or stops short near it.
        let touch_x = 1.5 * cw;
        let touch_y = 1.5 * ch;
        let cut_l = d_left <= touch_x || (part(bw) && d_left <= CUT_REACH_MM);
        let cut_r = d_right <= touch_x || (part(bw) && d_right <= CUT_REACH_MM);
        let cut_t = d_top <= touch_y || (part(bh) && d_top <= CUT_REACH_MM);
        let cut_b = d_bottom <= touch_y || (part(bh) && d_bottom <= CUT_REACH_MM);
        let cut_x = cut_l || cut_r;
        let cut_y = cut_t || cut_b;
        let shape_ok = match (cut_x, cut_y) {
            (false, false) => {
                full(bw)
                    && full(bh)
                    && (0.72 * side * side..=1.35 * side * side).contains(&area)
                    && fill >= 0.72
                    && (bw / bh - 1.0).abs() <= 0.2
            }
            // Cut on one axis: the other must be whole, and what is left a clean rectangle.
            (false, true) => {
                full(bw) && (part(bh) || full(bh)) && fill >= 0.85 && !(cut_t && cut_b)
            }
            (true, false) => {
                full(bh) && (part(bw) || full(bw)) && fill >= 0.85 && !(cut_l && cut_r)
            }
            (true, true) => false,
        };
        if !shape_ok {
            continue;
        }
        // Quiet zone: the ring around the bounding box must be (almost) empty.
        let rin_x = (quiet_in / cw).ceil() as isize;
        let rin_y = (quiet_in / ch).ceil() as isize;
        let rout_x = (quiet_out / cw).round() as isize;
        let rout_y = (quiet_out / ch).round() as isize;
        let (mut ring, mut ring_dark) = (0usize, 0usize);
        for y in c.y0 as isize - rout_y..=c.y1 as isize + rout_y {
            if y < 0 || y >= h as isize {
                continue;
            }
            for x in c.x0 as isize - rout_x..=c.x1 as isize + rout_x {
                if x < 0 || x >= w as isize {
                    continue;
                }
                let inner = x >= c.x0 as isize - rin_x
                    && x <= c.x1 as isize + rin_x
                    && y >= c.y0 as isize - rin_y
                    && y <= c.y1 as isize + rin_y;
                if inner {
                    continue;
                }
                ring += 1;
                let i = y as usize * w + x as usize;
                if opened[i] && labels[i] != id as u32 + 1 {
                    ring_dark += 1;
                }
            }
        }
        if ring == 0 || ring_dark as f64 / ring as f64 > 0.08 {
            continue;
        }
        // Centre: darkness-weighted centroid over the bounding box grown by one cell, so
        // partly inked edge cells pull the centre to sub-cell precision.
        let (mut sw, mut sx, mut sy) = (0.0f64, 0.0f64, 0.0f64);
        for y in c.y0.saturating_sub(1)..=(c.y1 + 1).min(h - 1) {
            for x in c.x0.saturating_sub(1)..=(c.x1 + 1).min(w - 1) {
                let d = win.dark[y * w + x] as f64;
                sw += d;
                sx += d * (x as f64 + 0.5);
                sy += d * (y as f64 + 0.5);
            }
        }
        let mut cx_cells = sx / sw;
        let mut cy_cells = sy / sw;
        // A cut mark: along the cut axis the centre lies half a mark from the edge that is
        // left.
        if cut_y {
            let e = edge(&win.dark, w, h, c, cut_b, false);
            cy_cells = if cut_b {
                e + side / 2.0 / ch
            } else {
                e - side / 2.0 / ch
            };
        }
        if cut_x {
            let e = edge(&win.dark, w, h, c, cut_r, true);
            cx_cells = if cut_r {
                e + side / 2.0 / cw
            } else {
                e - side / 2.0 / cw
            };
        }
        let px = win.x0 as f64 + cx_cells * win.fx as f64;
        let py = win.y0 as f64 + cy_cells * win.fy as f64;
        let mut score = fill - (area / (side * side) - 1.0).abs() - ring_dark as f64 / ring as f64;
        if cut_x || cut_y {
            // Whole marks first.
            score = fill - 0.5 - ring_dark as f64 / ring as f64;
        }
        out.push(Candidate {
            x: px,
            y: py,
            score,
        });
    }
    out.sort_by(|a, b| b.score.total_cmp(&a.score));
    out
}

/// The sub-cell position (in cells) of a component's uncut edge: its top edge when `low` (the
/// bottom is cut), else its bottom edge; left/right when `across_x`. Measured over the middle
/// half of the edge from the darkness of the cells crossing it.
fn edge(dark: &[f32], w: usize, h: usize, c: &Comp, low: bool, across_x: bool) -> f64 {
    let (lo, hi) = if across_x { (c.y0, c.y1) } else { (c.x0, c.x1) };
    let (a, b) = (lo + (hi - lo) / 4, hi - (hi - lo) / 4);
    let at = |along: usize, across: isize| -> f64 {
        let (x, y) = if across_x {
            (across, along as isize)
        } else {
            (along as isize, across)
        };
        if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
            0.0
        } else {
            dark[y as usize * w + x as usize].clamp(0.0, 1.0) as f64
        }
    };
    let (first, last) = if across_x {
        (c.x0 as isize, c.x1 as isize)
    } else {
        (c.y0 as isize, c.y1 as isize)
    };
    let n = (b - a + 1) as f64;
    if low {
        // Rows first-1 ..= first+2: white above the edge, ink below; e = (first+3) - Σ.
        let sum: f64 = (a..=b)
            .map(|t| (first - 1..=first + 2).map(|k| at(t, k)).sum::<f64>())
            .sum::<f64>()
            / n;
        (first + 3) as f64 - sum
    } else {
        // Rows last-2 ..= last+1: ink above the edge, white below; e = (last-2) + Σ.
        let sum: f64 = (a..=b)
            .map(|t| (last - 2..=last + 1).map(|k| at(t, k)).sum::<f64>())
            .sum::<f64>()
            / n;
        (last - 2) as f64 + sum
    }
}

/// Mean darkness (0 white … 1 black) of `fx`×`fy` pixel cells.
fn downsample(
    page: &PageImage,
    x0: usize,
    y0: usize,
    fx: usize,
    fy: usize,
    w: usize,
    h: usize,
) -> Window {
    let stride = page.width as usize;
    let mut sums = vec![0u32; w * h];
    for cy in 0..h {
        let row_sums = &mut sums[cy * w..(cy + 1) * w];
        for dy in 0..fy {
            let y = y0 + cy * fy + dy;
            let row = &page.pixels[y * stride + x0..y * stride + x0 + w * fx];
            for (s, cell) in row_sums.iter_mut().zip(row.chunks_exact(fx)) {
                *s += cell.iter().map(|&p| 255 - p as u32).sum::<u32>();
            }
        }
    }
    let norm = 1.0 / (255.0 * (fx * fy) as f32);
    Window {
        x0,
        y0,
        fx,
        fy,
        dark: sums.iter().map(|&s| s as f32 * norm).collect(),
    }
}

/// 3×3 opening (erosion then dilation) of a binary image, done separably by rows and
/// columns.
fn open3(img: &[bool], w: usize, h: usize) -> Vec<bool> {
    // One pass along rows: `and` erodes (a pixel stays if both neighbours are set), `or`
    // dilates. Image borders count as set for erosion and unset for dilation.
    fn along_rows(src: &[bool], w: usize, erode: bool) -> Vec<bool> {
        let mut out = vec![false; src.len()];
        for (row, o) in src.chunks_exact(w).zip(out.chunks_exact_mut(w)) {
            for x in 0..w {
                let l = if x > 0 { row[x - 1] } else { erode };
                let r = if x + 1 < w { row[x + 1] } else { erode };
                o[x] = if erode {
                    row[x] && l && r
                } else {
                    row[x] || l || r
                };
            }
        }
        out
    }
    fn along_cols(src: &[bool], w: usize, h: usize, erode: bool) -> Vec<bool> {
        let mut out = vec![false; src.len()];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let u = if y > 0 { src[i - w] } else { erode };
                let d = if y + 1 < h { src[i + w] } else { erode };
                out[i] = if erode {
                    src[i] && u && d
                } else {
                    src[i] || u || d
                };
            }
        }
        out
    }
    let eroded = along_cols(&along_rows(img, w, true), w, h, true);
    along_cols(&along_rows(&eroded, w, false), w, h, false)
}

/// A connected component's pixel count and bounding box.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Comp {
    pub count: usize,
    pub x0: usize,
    pub y0: usize,
    pub x1: usize,
    pub y1: usize,
}

/// 8-connected components; labels are 1-based (0 = background).
pub(crate) fn components(img: &[bool], w: usize, h: usize) -> (Vec<u32>, Vec<Comp>) {
    let mut labels = vec![0u32; w * h];
    let mut comps = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !img[start] || labels[start] != 0 {
            continue;
        }
        let id = comps.len() as u32 + 1;
        let (sx, sy) = (start % w, start / w);
        let mut c = Comp {
            count: 0,
            x0: sx,
            y0: sy,
            x1: sx,
            y1: sy,
        };
        labels[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            let (x, y) = (i % w, i / w);
            c.count += 1;
            c.x0 = c.x0.min(x);
            c.x1 = c.x1.max(x);
            c.y0 = c.y0.min(y);
            c.y1 = c.y1.max(y);
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if img[j] && labels[j] == 0 {
                        labels[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        comps.push(c);
    }
    (labels, comps)
}
