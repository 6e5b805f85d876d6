//! The respondent's hand: ticks, crosses, fills, circles, pencil, cancelled marks, stray dots,
//! digits and handwriting, drawn where the answers say, with the truth of every box.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use capsurvey_layout::{AnswerBox, BoxKind, PageLayout, Rect, mm};
use capsurvey_survey::{FieldKind, NO, Survey, Value, YES};

use crate::answers::Answers;
use crate::canvas::{Ink, Scene, Shape, polyline};
use crate::glyphs::{handwritten, scribble_line, smooth};
use crate::rng::Rng;
use crate::truth::{BoxTruth, Expected, FieldTruth, Style};

/// What the respondent writes with.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pen {
    /// Black ballpoint or felt pen.
    Black,
    /// Blue ballpoint.
    Blue,
    /// Pencil, drawn as grey `120..=200` (light marks that a fax threshold may lose).
    Pencil(u8),
}

/// How one respondent marks a whole form: the same person ticks the same way on every page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Habits {
    /// Pen.
    pub pen: Pen,
    /// Stroke width in mm (0.3–0.8).
    pub pen_width_mm: f64,
    /// Relative weights of tick, cross, fill (■) and circle-around-the-label marks.
    pub style_weights: [f64; 4],
    /// Size of marks relative to the box (0.8–1.25).
    pub mark_size: f64,
    /// Chance that a tick runs out of its box.
    pub overflow: f64,
    /// Chance per answered choice question of a cancelled mark (box filled, then the right one
    /// marked).
    pub cancel_rate: f64,
    /// Chance per box of a stray dot or slip nearby.
    pub stray_rate: f64,
    /// Numbers written right-aligned in their digit boxes (else left-aligned).
    pub digits_right: bool,
}

impl Habits {
    /// A random respondent: mostly tickers with a ballpoint; some fill boxes, some cross, some
    /// circle the labels as on old paper forms, some use pencil.
    pub fn random(rng: &mut Rng) -> Habits {
        let pen = match rng.weighted(&[0.55, 0.35, 0.1]) {
            0 => Pen::Black,
            1 => Pen::Blue,
            _ => Pen::Pencil(rng.int(120, 200) as u8),
        };
        let style_weights = match rng.weighted(&[0.6, 0.12, 0.13, 0.15]) {
            0 => [1.0, 0.05, 0.05, 0.02],
            1 => [0.1, 1.0, 0.05, 0.02],
            2 => [0.1, 0.05, 1.0, 0.02],
            _ => [0.15, 0.02, 0.02, 1.0],
        };
        Habits {
            pen,
            pen_width_mm: if matches!(pen, Pen::Pencil(_)) {
                rng.range(0.3, 0.45)
            } else {
                rng.range(0.3, 0.8)
            },
            style_weights,
            mark_size: rng.range(0.8, 1.25),
            overflow: rng.range(0.05, 0.5),
            cancel_rate: rng.range(0.0, 0.08),
            stray_rate: rng.range(0.0, 0.03),
            digits_right: rng.chance(0.8),
        }
    }

    fn ink(&self) -> Ink {
        match self.pen {
            Pen::Black => Ink {
                dark: [0.93, 0.93, 0.9],
                white: false,
            },
            Pen::Blue => Ink {
                dark: [0.85, 0.62, 0.22],
                white: false,
            },
            Pen::Pencil(g) => Ink::grey(1.0 - f32::from(g) / 255.0),
        }
    }
}

/// A stroke width in points, drawn from the habit.
fn pen_width(h: &Habits, rng: &mut Rng) -> f64 {
    mm((h.pen_width_mm * rng.range(0.85, 1.15)).clamp(0.3, 0.8))
}

/// Box-local coordinates (u, v in box sides, from the centre) to page points, with the mark's
/// own scale and rotation.
struct Frame {
    cx: f64,
    cy: f64,
    s: f64,
    cos: f64,
    sin: f64,
}

impl Frame {
    fn new(r: &Rect, k: f64, angle_deg: f64) -> Frame {
        let (sin, cos) = angle_deg.to_radians().sin_cos();
        let (cx, cy) = r.center();
        Frame {
            cx,
            cy,
            s: r.w.min(r.h) * k,
            cos,
            sin,
        }
    }
    /// `(u, v)` in 0..1 across the box (0.5, 0.5 = centre).
    fn at(&self, u: f64, v: f64) -> (f64, f64) {
        let (x, y) = ((u - 0.5) * self.s, (v - 0.5) * self.s);
        (
            self.cx + x * self.cos - y * self.sin,
            self.cy + x * self.sin + y * self.cos,
        )
    }
}

/// A stroke from `a` to `b` bowed sideways by `bow` (in box sides), as a smooth polyline.
fn bowed(f: &Frame, a: (f64, f64), b: (f64, f64), bow: f64) -> Vec<(f64, f64)> {
    let m = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let mid = (m.0 - dy * bow, m.1 + dx * bow);
    let pts = [f.at(a.0, a.1), f.at(mid.0, mid.1), f.at(b.0, b.1)];
    smooth(&pts, 4)
}

fn tick(r: &Rect, h: &Habits, rng: &mut Rng) -> Vec<Shape> {
    let f = Frame::new(
        r,
        h.mark_size * rng.range(0.85, 1.15),
        rng.normal_clamped(8.0, 20.0),
    );
    let over = if rng.chance(h.overflow) {
        rng.range(0.1, 0.5)
    } else {
        0.0
    };
    let p0 = (0.12 + rng.jitter(0.08), 0.5 + rng.jitter(0.1));
    let p1 = (0.42 + rng.jitter(0.08), 0.86 + rng.jitter(0.08));
    let p2 = (
        0.9 + rng.jitter(0.08) + over * 0.6,
        0.05 + rng.jitter(0.1) - over,
    );
    let w = pen_width(h, rng);
    let mut out = Vec::new();
    polyline(&mut out, &bowed(&f, p0, p1, rng.jitter(0.08)), w);
    polyline(&mut out, &bowed(&f, p1, p2, rng.jitter(0.1)), w);
    out
}

fn cross(r: &Rect, h: &Habits, rng: &mut Rng) -> Vec<Shape> {
    let f = Frame::new(r, h.mark_size * rng.range(0.8, 1.1), rng.jitter(10.0));
    let w = pen_width(h, rng);
    let mut out = Vec::new();
    let j = |rng: &mut Rng| rng.jitter(0.08);
    let (a, b) = (
        (0.12 + j(rng), 0.12 + j(rng)),
        (0.88 + j(rng), 0.88 + j(rng)),
    );
    polyline(&mut out, &bowed(&f, a, b, rng.jitter(0.06)), w);
    let (a, b) = (
        (0.88 + j(rng), 0.12 + j(rng)),
        (0.12 + j(rng), 0.88 + j(rng)),
    );
    polyline(&mut out, &bowed(&f, a, b, rng.jitter(0.06)), w);
    out
}

/// Zigzag hatching of `area` at `angle`, lines `spacing` apart, as one polyline.
pub(crate) fn hatch(
    area: &Rect,
    angle_deg: f64,
    spacing: f64,
    width: f64,
    rng: &mut Rng,
) -> Vec<Shape> {
    let (sin, cos) = angle_deg.to_radians().sin_cos();
    let (dx, dy) = (cos, sin);
    let (nx, ny) = (-sin, cos);
    let corners = [
        (area.x, area.y),
        (area.x + area.w, area.y),
        (area.x, area.y + area.h),
        (area.x + area.w, area.y + area.h),
    ];
    let proj = |p: (f64, f64)| p.0 * nx + p.1 * ny;
    let lo = corners.iter().map(|&p| proj(p)).fold(f64::MAX, f64::min);
    let hi = corners.iter().map(|&p| proj(p)).fold(f64::MIN, f64::max);
    let mut pts = Vec::new();
    let mut t = lo + spacing * 0.5;
    let mut flip = false;
    while t < hi {
        // The line {n·p = t}: clip its parameter range to the rectangle (Liang–Barsky).
        let (px, py) = (nx * t, ny * t);
        let (mut s0, mut s1) = (f64::MIN, f64::MAX);
        for (p, d, lo, hi) in [
            (px, dx, area.x, area.x + area.w),
            (py, dy, area.y, area.y + area.h),
        ] {
            if d.abs() < 1e-9 {
                if p < lo || p > hi {
                    s0 = 1.0;
                    s1 = 0.0;
                }
            } else {
                let (a, b) = ((lo - p) / d, (hi - p) / d);
                s0 = s0.max(a.min(b));
                s1 = s1.min(a.max(b));
            }
        }
        if s0 < s1 {
            let a = (
                px + dx * s0 + rng.jitter(0.4),
                py + dy * s0 + rng.jitter(0.4),
            );
            let b = (
                px + dx * s1 + rng.jitter(0.4),
                py + dy * s1 + rng.jitter(0.4),
            );
            if flip {
                pts.push(b);
                pts.push(a);
            } else {
                pts.push(a);
                pts.push(b);
            }
            flip = !flip;
        }
        t += spacing * rng.range(0.85, 1.15);
    }
    let mut out = Vec::new();
    polyline(&mut out, &pts, width);
    out
}

/// ■: the box filled by hand, most of it covered but not solid.
fn fill_mark(r: &Rect, h: &Habits, rng: &mut Rng) -> Vec<Shape> {
    let w = pen_width(h, rng).max(mm(0.45));
    let inset = r.w * rng.range(0.02, 0.15);
    let area = r.inflate(-inset);
    let coverage = rng.range(0.6, 0.9);
    hatch(&area, rng.range(-60.0, 60.0), w / coverage, w, rng)
}

/// Cancellation: the box blacked out completely, a little beyond its edges.
fn cancel_mark(r: &Rect, h: &Habits, rng: &mut Rng) -> Vec<Shape> {
    let w = pen_width(h, rng).max(mm(0.5));
    let area = r.inflate(mm(rng.range(0.2, 0.8)));
    let mut out = hatch(&area, rng.range(-50.0, 50.0), w * 0.6, w, rng);
    out.extend(hatch(&area, rng.range(60.0, 120.0), w * 0.7, w, rng));
    out
}

/// A loop drawn around the option's label (and sometimes its box), not quite closed.
fn circle(label: &Rect, bx: &Rect, h: &Habits, rng: &mut Rng) -> Vec<Shape> {
    let target = if rng.chance(0.3) {
        let x = label.x.min(bx.x);
        let y = label.y.min(bx.y);
        Rect {
            x,
            y,
            w: (label.x + label.w).max(bx.x + bx.w) - x,
            h: (label.y + label.h).max(bx.y + bx.h) - y,
        }
    } else {
        *label
    };
    let (cx, cy) = target.center();
    let (cx, cy) = (cx + rng.jitter(mm(0.5)), cy + rng.jitter(mm(0.4)));
    // A rounded-rectangle loop (superellipse), as people draw around a line of text: a plain
    // ellipse around a long label would cut its corners (and the box).
    let rx = target.w / 2.0 + mm(rng.range(0.6, 2.0));
    let ry = target.h / 2.0 + mm(rng.range(1.2, 2.4));
    let power = 2.0 / rng.range(2.5, 4.0);
    let start = rng.range(0.0, std::f64::consts::TAU);
    let sweep = std::f64::consts::TAU + rng.range(-0.35, 0.6);
    let drift = rng.jitter(0.05);
    let (wob, phase) = (rng.range(0.0, 0.04), rng.range(0.0, 6.3));
    let tilt = rng.jitter(0.03);
    let n = 64;
    let pts: Vec<(f64, f64)> = (0..=n)
        .map(|i| {
            let t = i as f64 / n as f64;
            let a = start + sweep * t;
            let k = 1.0 + drift * t + wob * (2.0 * a + phase).sin();
            let (c, s) = (a.cos(), a.sin());
            let (x, y) = (
                rx * k * c.signum() * c.abs().powf(power),
                ry * k * s.signum() * s.abs().powf(power),
            );
            (cx + x - y * tilt, cy + y + x * tilt)
        })
        .collect();
    let mut out = Vec::new();
    polyline(&mut out, &pts, pen_width(h, rng));
    out
}

/// A stray dot or pen slip near a box: outside it mostly, sometimes a tiny dot inside.
fn stray(r: &Rect, rng: &mut Rng) -> Vec<Shape> {
    let (cx, cy) = r.center();
    if rng.chance(0.3) {
        let p = (cx + rng.jitter(r.w * 0.25), cy + rng.jitter(r.h * 0.25));
        return vec![Shape::seg(p, p, mm(rng.range(0.2, 0.35)))];
    }
    let side = rng.below(4);
    let d = r.w / 2.0 + mm(rng.range(0.8, 3.0));
    let along = rng.jitter(r.w * 0.6);
    let p = match side {
        0 => (cx + along, cy - d),
        1 => (cx + d, cy + along),
        2 => (cx + along, cy + d),
        _ => (cx - d, cy + along),
    };
    if rng.chance(0.25) {
        let q = (p.0 + mm(rng.jitter(2.0)), p.1 + mm(rng.jitter(1.0)));
        vec![Shape::seg(p, q, mm(rng.range(0.25, 0.4)))]
    } else {
        vec![Shape::seg(p, p, mm(rng.range(0.3, 0.7)))]
    }
}

/// The characters written in each digit box of a number (`None` = empty box).
pub(crate) fn digit_cells(
    value: &Value,
    n: usize,
    decimals: usize,
    right: bool,
) -> Vec<Option<char>> {
    let mut cells = vec![None; n];
    let int_n = n.saturating_sub(decimals);
    let place_int = |cells: &mut Vec<Option<char>>, s: &str, right: bool| {
        let chars: Vec<char> = s.chars().collect();
        let k = chars.len().min(int_n);
        let chars = &chars[chars.len() - k..];
        let start = if right { int_n - k } else { 0 };
        for (i, &c) in chars.iter().enumerate() {
            cells[start + i] = Some(c);
        }
    };
    match value {
        Value::Int(v) => place_int(&mut cells, &v.to_string(), right || decimals > 0),
        Value::Decimal(x) => {
            let s = format!("{:.*}", decimals, x);
            let (ip, fp) = s.split_once('.').unwrap_or((&s, ""));
            place_int(&mut cells, ip, true);
            for (i, c) in fp.chars().take(decimals).enumerate() {
                cells[int_n + i] = Some(c);
            }
        }
        Value::Unknown => {
            let at = if right || decimals > 0 {
                int_n.max(1) - 1
            } else {
                0
            };
            cells[at] = Some('-');
        }
        _ => {}
    }
    cells
}

/// Draws a page's answers. Returns the marks and the truth of every box and field on the page.
pub(crate) fn fill_page(
    page: &PageLayout,
    survey: &Survey,
    answers: &Answers,
    habits: &Habits,
    rng: &mut Rng,
) -> (Scene, Vec<BoxTruth>, Vec<FieldTruth>) {
    let mut scene = Scene::default();
    let ink = habits.ink();
    // Field kinds and decimals by key.
    let mut kinds: BTreeMap<String, (FieldKind, usize)> = BTreeMap::new();
    for f in survey.fields() {
        let decimals = if f.kind == FieldKind::Decimal {
            usize::from(f.question.decimals.unwrap_or(1))
        } else {
            0
        };
        kinds.insert(f.key(), (f.kind, decimals));
    }
    let mut order: Vec<&str> = Vec::new();
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, b) in page.boxes.iter().enumerate() {
        if !by_key.contains_key(b.key.as_str()) {
            order.push(&b.key);
        }
        by_key.entry(&b.key).or_default().push(i);
    }
    let mut truth: Vec<Option<BoxTruth>> = vec![None; page.boxes.len()];
    let mut fields = Vec::new();
    let empty = |b: &AnswerBox| BoxTruth {
        key: b.key.clone(),
        option: b.option.clone(),
        digit: b.digit,
        kind: b.kind,
        style: Style::Empty,
        expected: Expected::Empty,
        written: None,
    };

    for key in order {
        let idx = &by_key[key];
        let value = answers.get(key);
        fields.push(FieldTruth {
            key: key.to_string(),
            value: value.cloned(),
        });
        let mut rng = rng.fork(key);
        let rng = &mut rng;
        let first = &page.boxes[idx[0]];
        match first.kind {
            BoxKind::Choice => {
                let selected: Vec<String> = match value {
                    Some(Value::Choice(c)) => vec![c.clone()],
                    Some(Value::Choices(cs)) => cs.clone(),
                    Some(Value::Bool(b)) => vec![if *b { YES } else { NO }.to_string()],
                    _ => Vec::new(),
                };
                let is_selected =
                    |b: &AnswerBox| b.option.as_ref().is_some_and(|o| selected.contains(o));
                // A cancelled box: one the respondent marked first, then blacked out.
                let unselected: Vec<usize> = idx
                    .iter()
                    .copied()
                    .filter(|&i| !is_selected(&page.boxes[i]))
                    .collect();
                let cancelled = (!selected.is_empty()
                    && !unselected.is_empty()
                    && rng.chance(habits.cancel_rate))
                .then(|| *rng.pick(&unselected));
                for &i in idx {
                    let b = &page.boxes[i];
                    let mut t = empty(b);
                    if Some(i) == cancelled {
                        let mut s = tick(&b.rect, habits, rng);
                        s.extend(cancel_mark(&b.rect, habits, rng));
                        scene.push(s, ink);
                        t.style = Style::Cancelled;
                        t.expected = Expected::Cancelled;
                    } else if is_selected(b) {
                        let pencil_mark = matches!(habits.pen, Pen::Pencil(_)) || rng.chance(0.03);
                        let (style, shapes) = if pencil_mark {
                            let h = Habits {
                                pen_width_mm: habits.pen_width_mm.min(0.45),
                                ..habits.clone()
                            };
                            (Style::Pencil, tick(&b.rect, &h, rng))
                        } else {
                            match rng.weighted(&habits.style_weights) {
                                0 => (Style::Tick, tick(&b.rect, habits, rng)),
                                1 => (Style::Cross, cross(&b.rect, habits, rng)),
                                2 => (Style::Fill, fill_mark(&b.rect, habits, rng)),
                                _ => match &b.label_rect {
                                    Some(l) => (Style::Circle, circle(l, &b.rect, habits, rng)),
                                    None => (Style::Tick, tick(&b.rect, habits, rng)),
                                },
                            }
                        };
                        let mark_ink = match (style, habits.pen) {
                            (Style::Pencil, Pen::Pencil(_)) => ink,
                            (Style::Pencil, _) => {
                                Ink::grey(1.0 - rng.range(120.0, 200.0) as f32 / 255.0)
                            }
                            _ => ink,
                        };
                        scene.push(shapes, mark_ink);
                        t.style = style;
                        t.expected = Expected::Marked;
                    } else if rng.chance(habits.stray_rate) {
                        scene.push(stray(&b.rect, rng), ink);
                        t.style = Style::Stray;
                    }
                    truth[i] = Some(t);
                }
            }
            BoxKind::Digit => {
                let mut cells_idx: Vec<usize> = idx.clone();
                cells_idx.sort_by_key(|&i| page.boxes[i].digit.unwrap_or(0));
                let (_, decimals) = kinds.get(key).copied().unwrap_or((FieldKind::Count, 0));
                let cells = value
                    .map(|v| digit_cells(v, cells_idx.len(), decimals, habits.digits_right))
                    .unwrap_or_else(|| vec![None; cells_idx.len()]);
                let size = rng.range(0.55, 0.85);
                for (&i, c) in cells_idx.iter().zip(cells) {
                    let b = &page.boxes[i];
                    let mut t = empty(b);
                    if let Some(c) = c {
                        let r = b.rect;
                        let hgt = r.h * size * rng.range(0.92, 1.08);
                        let wid = (hgt * rng.range(0.55, 0.7)).min(r.w * 0.9);
                        let x = r.x + (r.w - wid) / 2.0 + rng.jitter(r.w * 0.08);
                        let y = r.y + (r.h - hgt) / 2.0 + rng.jitter(r.h * 0.08);
                        let w = pen_width(habits, rng);
                        let mut s = Vec::new();
                        for stroke in handwritten(c, x, y, wid, hgt, rng) {
                            polyline(&mut s, &stroke, w);
                        }
                        scene.push(s, ink);
                        t.style = Style::Digit;
                        t.expected = Expected::Marked;
                        t.written = Some(c.to_string());
                    } else if rng.chance(habits.stray_rate) {
                        scene.push(stray(&b.rect, rng), ink);
                        t.style = Style::Stray;
                    }
                    truth[i] = Some(t);
                }
            }
            BoxKind::Text | BoxKind::Area => {
                for &i in idx {
                    let b = &page.boxes[i];
                    let mut t = empty(b);
                    if let Some(Value::Text(text)) = value {
                        let r = b.rect;
                        let w = pen_width(habits, rng).min(mm(0.5));
                        let line_h = if b.kind == BoxKind::Area {
                            mm(rng.range(4.5, 6.0))
                        } else {
                            r.h * rng.range(0.5, 0.7)
                        };
                        let pitch = line_h * rng.range(1.3, 1.6);
                        let chars = text.chars().count().max(2) as f64;
                        let mut left = chars * line_h * 0.9;
                        let mut y = r.y
                            + if b.kind == BoxKind::Area {
                                mm(2.0)
                            } else {
                                (r.h - line_h) / 2.0
                            };
                        let mut s = Vec::new();
                        while left > 0.0 && y + line_h <= r.y + r.h + mm(0.5) {
                            let avail = r.w - mm(3.0);
                            let len = left.min(avail);
                            for stroke in scribble_line(r.x + mm(1.5), y, line_h, len, rng) {
                                polyline(&mut s, &stroke, w);
                            }
                            left -= avail;
                            y += pitch;
                        }
                        scene.push(s, ink);
                        t.style = Style::Scribble;
                        t.expected = Expected::Marked;
                        t.written = Some(text.clone());
                    }
                    truth[i] = Some(t);
                }
            }
        }
    }
    let boxes = truth
        .into_iter()
        .zip(&page.boxes)
        .map(|(t, b)| t.unwrap_or_else(|| empty(b)))
        .collect();
    (scene, boxes, fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_placed_in_cells() {
        assert_eq!(
            digit_cells(&Value::Int(7), 3, 0, true),
            [None, None, Some('7')]
        );
        assert_eq!(
            digit_cells(&Value::Int(42), 3, 0, false),
            [Some('4'), Some('2'), None]
        );
        assert_eq!(
            digit_cells(&Value::Decimal(2.5), 3, 1, false),
            [None, Some('2'), Some('5')]
        );
        assert_eq!(
            digit_cells(&Value::Decimal(12.0), 3, 1, true),
            [Some('1'), Some('2'), Some('0')]
        );
        assert_eq!(
            digit_cells(&Value::Unknown, 3, 0, true),
            [None, None, Some('-')]
        );
        assert_eq!(
            digit_cells(&Value::Unknown, 3, 0, false),
            [Some('-'), None, None]
        );
        assert_eq!(digit_cells(&Value::Int(0), 2, 0, true), [None, Some('0')]);
    }

    #[test]
    fn hatching_covers_the_area() {
        let mut rng = Rng::new(1);
        let r = Rect {
            x: 0.0,
            y: 0.0,
            w: 20.0,
            h: 20.0,
        };
        for angle in [0.0, 45.0, 90.0, -30.0] {
            let shapes = hatch(&r, angle, 2.0, 2.0, &mut rng);
            assert!(shapes.len() > 15, "{angle}: {}", shapes.len());
        }
    }
}
