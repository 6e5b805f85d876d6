//! Shapes of writing: a stroke font for handwritten digits, printed "text-like" glyphs and
//! handwriting scribbles.
//!
//! None of this is meant to be read: printed labels only need ink of the right size, density
//! and stroke width where the form has text (so recognition sees realistic non-box ink), and
//! handwriting in text boxes only needs to look written. Digits are the exception: their shapes
//! follow how people write 0–9 in boxes, so a digit reader can be tested on them.

use std::sync::OnceLock;

use crate::rng::Rng;

/// A point in a glyph's own unit cell: x right, y down, both 0..1.
pub(crate) type P = (f64, f64);

/// Strokes (polylines) of the digits 0–9 in a cell about 0.6 wide and 1 high (x 0..1 is
/// scaled to the digit's width by the caller). Drawn the way most people in Japan write them:
/// a closed 0, a flag on 1, an open 4, a 7 without a crossbar.
fn digit_strokes(d: u8) -> Vec<Vec<P>> {
    match d {
        0 => vec![ellipse(0.5, 0.5, 0.42, 0.5, -1.6, 8)],
        1 => vec![vec![(0.25, 0.22), (0.55, 0.0), (0.55, 1.0)]],
        2 => vec![vec![
            (0.08, 0.25),
            (0.3, 0.03),
            (0.62, 0.0),
            (0.86, 0.18),
            (0.84, 0.4),
            (0.55, 0.66),
            (0.08, 1.0),
            (0.95, 0.98),
        ]],
        3 => vec![vec![
            (0.1, 0.12),
            (0.45, 0.0),
            (0.82, 0.12),
            (0.8, 0.36),
            (0.42, 0.48),
            (0.86, 0.62),
            (0.86, 0.88),
            (0.48, 1.0),
            (0.08, 0.88),
        ]],
        4 => vec![
            vec![(0.55, 0.0), (0.05, 0.68), (0.98, 0.68)],
            vec![(0.7, 0.3), (0.7, 1.0)],
        ],
        5 => vec![
            vec![
                (0.2, 0.02),
                (0.14, 0.45),
                (0.5, 0.38),
                (0.85, 0.55),
                (0.86, 0.85),
                (0.52, 1.0),
                (0.08, 0.9),
            ],
            vec![(0.2, 0.02), (0.88, 0.0)],
        ],
        6 => vec![vec![
            (0.78, 0.03),
            (0.4, 0.12),
            (0.14, 0.5),
            (0.14, 0.82),
            (0.42, 1.0),
            (0.76, 0.94),
            (0.86, 0.7),
            (0.62, 0.5),
            (0.32, 0.54),
            (0.15, 0.7),
        ]],
        7 => vec![vec![
            (0.06, 0.2),
            (0.08, 0.0),
            (0.92, 0.0),
            (0.62, 0.45),
            (0.42, 1.0),
        ]],
        8 => vec![vec![
            (0.52, 0.47),
            (0.22, 0.32),
            (0.2, 0.1),
            (0.5, 0.0),
            (0.8, 0.1),
            (0.78, 0.32),
            (0.5, 0.48),
            (0.14, 0.7),
            (0.16, 0.92),
            (0.5, 1.0),
            (0.85, 0.92),
            (0.86, 0.7),
            (0.52, 0.47),
        ]],
        _ => vec![vec![
            (0.84, 0.3),
            (0.6, 0.48),
            (0.26, 0.44),
            (0.16, 0.2),
            (0.42, 0.0),
            (0.76, 0.06),
            (0.86, 0.32),
            (0.8, 0.68),
            (0.5, 1.0),
        ]],
    }
}

fn ellipse(cx: f64, cy: f64, rx: f64, ry: f64, start: f64, n: usize) -> Vec<P> {
    (0..=n)
        .map(|i| {
            let t = start + std::f64::consts::TAU * i as f64 / n as f64;
            (cx + rx * t.cos(), cy + ry * t.sin())
        })
        .collect()
}

/// Catmull–Rom smoothing: `k` points per segment through the given points.
pub(crate) fn smooth(pts: &[P], k: usize) -> Vec<P> {
    if pts.len() < 3 || k < 2 {
        return pts.to_vec();
    }
    let n = pts.len();
    let at = |i: isize| pts[i.clamp(0, n as isize - 1) as usize];
    let mut out = Vec::with_capacity((n - 1) * k + 1);
    for i in 0..n - 1 {
        let (p0, p1, p2, p3) = (
            at(i as isize - 1),
            at(i as isize),
            at(i as isize + 1),
            at(i as isize + 2),
        );
        for j in 0..k {
            let t = j as f64 / k as f64;
            let (t2, t3) = (t * t, t * t * t);
            let f = |a: f64, b: f64, c: f64, d: f64| {
                0.5 * (2.0 * b
                    + (-a + c) * t
                    + (2.0 * a - 5.0 * b + 4.0 * c - d) * t2
                    + (-a + 3.0 * b - 3.0 * c + d) * t3)
            };
            out.push((f(p0.0, p1.0, p2.0, p3.0), f(p0.1, p1.1, p2.1, p3.1)));
        }
    }
    out.push(pts[n - 1]);
    out
}

/// A handwritten digit (`'0'..='9'`) or dash (`'-'`) as polylines in page points, filling the
/// rectangle `(x, y, w, h)` (the caller leaves margins), with the writer's jitter and slant.
pub(crate) fn handwritten(c: char, x: f64, y: f64, w: f64, h: f64, rng: &mut Rng) -> Vec<Vec<P>> {
    let strokes = match c {
        '0'..='9' => digit_strokes(c as u8 - b'0'),
        _ => {
            let yy = rng.range(0.42, 0.58);
            vec![vec![(0.0, yy), (1.0, yy + rng.jitter(0.06))]]
        }
    };
    let slant = rng.range(-0.05, 0.22);
    let wobble = rng.range(0.02, 0.06);
    strokes
        .into_iter()
        .map(|s| {
            let pts: Vec<P> = s
                .iter()
                .map(|&(u, v)| {
                    let u = u + rng.jitter(wobble) + slant * (0.5 - v);
                    let v = v + rng.jitter(wobble);
                    (x + u * w, y + v * h)
                })
                .collect();
            smooth(&pts, 4)
        })
        .collect()
}

/// One printed glyph: segments in the em square (0..1), drawn with stems of about 0.07 em.
#[derive(Debug, Clone)]
pub(crate) struct Glyph {
    pub segs: Vec<(P, P)>,
    /// Advance width in em (CJK glyphs are 1, kana and digits narrower in proportional fonts
    /// but the forms use full-width text: mostly 1).
    pub advance: f64,
}

/// A fixed bank of kanji- and kana-like glyphs, made once from a fixed seed.
pub(crate) fn bank() -> &'static [Glyph] {
    static BANK: OnceLock<Vec<Glyph>> = OnceLock::new();
    BANK.get_or_init(|| {
        let mut rng = Rng::new(0x006b_616e_6a69);
        (0..96).map(|i| make_glyph(&mut rng, i % 4 == 3)).collect()
    })
}

fn make_glyph(rng: &mut Rng, kana: bool) -> Glyph {
    let mut segs = Vec::new();
    let m = 0.1;
    if kana {
        // Two or three curved strokes.
        for _ in 0..rng.int(2, 3) {
            let mut pts = Vec::new();
            let mut p = (rng.range(m, 1.0 - m), rng.range(m, 0.5));
            pts.push(p);
            for _ in 0..3 {
                p = (
                    (p.0 + rng.jitter(0.35)).clamp(m, 1.0 - m),
                    (p.1 + rng.range(0.05, 0.3)).clamp(m, 1.0 - m),
                );
                pts.push(p);
            }
            let sm = smooth(&pts, 3);
            segs.extend(sm.windows(2).map(|w| (w[0], w[1])));
        }
        return Glyph { segs, advance: 1.0 };
    }
    // Kanji-like: horizontal and vertical strokes, a box, sweeps.
    let n = rng.int(5, 11);
    for _ in 0..n {
        match rng.weighted(&[4.0, 3.0, 1.0, 1.5, 1.0]) {
            0 => {
                let y = rng.range(m, 1.0 - m);
                let x0 = rng.range(m, 0.45);
                let x1 = rng.range(0.55, 1.0 - m);
                segs.push(((x0, y), (x1, y - 0.02)));
            }
            1 => {
                let x = rng.range(m, 1.0 - m);
                let y0 = rng.range(m, 0.4);
                let y1 = rng.range(0.6, 1.0 - m);
                segs.push(((x, y0), (x, y1)));
            }
            2 => {
                let (x0, y0) = (rng.range(m, 0.4), rng.range(m, 0.5));
                let (x1, y1) = (
                    rng.range(0.6, 1.0 - m),
                    (y0 + rng.range(0.2, 0.45)).min(0.9),
                );
                segs.push(((x0, y0), (x1, y0)));
                segs.push(((x1, y0), (x1, y1)));
                segs.push(((x1, y1), (x0, y1)));
                segs.push(((x0, y1), (x0, y0)));
            }
            3 => {
                let (x0, y0) = (rng.range(0.3, 0.7), rng.range(m, 0.5));
                let (x1, y1) = (x0 + rng.range(-0.45, 0.45), rng.range(0.6, 1.0 - m));
                segs.push(((x0, y0), (x1.clamp(m, 1.0 - m), y1)));
            }
            _ => {
                let (x0, y0) = (rng.range(m, 0.8), rng.range(m, 0.8));
                segs.push(((x0, y0), (x0 + 0.08, y0 + 0.1)));
            }
        }
    }
    Glyph { segs, advance: 1.0 }
}

/// Handwriting in a line: a run of cursive "characters" of height `h` starting at `(x, y)`
/// (top-left), at most `max_w` long. Returns polylines in page points.
pub(crate) fn scribble_line(x: f64, y: f64, h: f64, max_w: f64, rng: &mut Rng) -> Vec<Vec<P>> {
    let mut out = Vec::new();
    let mut cx = x;
    let adv = h * rng.range(0.75, 1.0);
    let base_slope = rng.jitter(0.03);
    while cx + adv <= x + max_w {
        let mut pts = Vec::new();
        let k = rng.int(3, 6);
        for _ in 0..k {
            let u = rng.range(0.05, 0.9);
            let v = rng.range(0.05, 0.95);
            pts.push((cx + u * adv, y + v * h + (cx - x) * base_slope));
        }
        out.push(smooth(&pts, 3));
        if rng.chance(0.3) {
            // A second stroke for kanji-like density.
            let v = rng.range(0.2, 0.8);
            out.push(vec![
                (cx + 0.1 * adv, y + v * h + (cx - x) * base_slope),
                (
                    cx + 0.8 * adv,
                    y + (v + rng.jitter(0.1)) * h + (cx - x) * base_slope,
                ),
            ]);
        }
        cx += adv * rng.range(0.95, 1.15);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_stay_near_their_cell() {
        let mut rng = Rng::new(3);
        for c in "0123456789-".chars() {
            for s in handwritten(c, 10.0, 20.0, 6.0, 10.0, &mut rng) {
                for (x, y) in s {
                    assert!(
                        (7.0..=19.0).contains(&x) && (17.0..=33.0).contains(&y),
                        "{c}"
                    );
                }
            }
        }
        assert_eq!(bank().len(), 96);
    }
}
