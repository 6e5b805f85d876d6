//! The printed form, drawn from the layout alone.
//!
//! The layout file says where the registration marks, page codes and answer boxes are, and
//! where each option's label is; it does not hold the text. So text becomes "text-like ink":
//! rows of glyph-shaped stroke clusters of the right size and stroke weight, placed where the
//! real form prints text (labels, question text above each question, item labels left of digit
//! boxes, units, the header and footer), so that recognition meets realistic ink that is not
//! a box. Header and footer positions follow the fixed frame of `capsurvey-forms`
//! (`crates/forms/src/form/frame.rs`); they are approximate on purpose and never overlap the
//! marks or codes, whose positions come from the layout.

use std::collections::BTreeMap;

use capsurvey_layout::{BoxKind, Layout, PageKind, PageLayout, Rect, mm, pagecode};
use capsurvey_survey::Survey;

use crate::canvas::{Ink, Scene, Shape, polyline};
use crate::glyphs::{self, smooth};
use crate::rng::Rng;

/// Stroke of check boxes and digit boxes (as printed by the forms crate).
const BOX_STROKE: f64 = 0.8;
/// Stroke of text boxes and areas.
const TEXT_BOX_STROKE: f64 = 0.6;
/// Option label size.
const OPT_SIZE: f64 = 9.5;
/// Option label line pitch.
const OPT_LINE: f64 = 13.0;
/// Question text size and pitch.
const Q_SIZE: f64 = 10.0;
const Q_LINE: f64 = 14.5;
/// Stem width of the gothic face, in em.
const STEM: f64 = 0.075;

/// What to print in the page-code areas.
#[derive(Debug, Clone, Copy)]
pub(crate) enum CodeInk<'a> {
    /// The 64 modules, row by row, `true` = dark.
    Modules(&'a [bool; pagecode::BITS]),
    /// Nothing (a form printed without codes).
    None,
}

/// Text drawing: glyphs from the bank along a line.
pub(crate) struct Typesetter<'a> {
    pub rng: &'a mut Rng,
}

impl Typesetter<'_> {
    /// Glyph shapes for a line of `n` full-width characters of `size` points, em box top at
    /// `(x, y)`; `bold` widens the stems.
    pub(crate) fn line(
        &mut self,
        out: &mut Vec<Shape>,
        x: f64,
        y: f64,
        size: f64,
        n: usize,
        bold: bool,
    ) {
        let bank = glyphs::bank();
        let stem = size * if bold { STEM * 1.5 } else { STEM };
        let inner = size * 0.86;
        let mut cx = x;
        for _ in 0..n {
            // Spaces and punctuation: some cells hold little or nothing.
            let roll = self.rng.f64();
            if roll < 0.04 {
                cx += size;
                continue;
            }
            let g = self.rng.pick(bank);
            let (ox, oy) = (cx + size * 0.07, y + size * 0.07);
            let small = roll < 0.1;
            let k = if small { 0.45 } else { 1.0 };
            let oy = if small { oy + inner * 0.5 } else { oy };
            for &((u0, v0), (u1, v1)) in &g.segs {
                out.push(Shape::seg(
                    (ox + u0 * inner * k, oy + v0 * inner * k),
                    (ox + u1 * inner * k, oy + v1 * inner * k),
                    stem,
                ));
            }
            cx += size * g.advance;
        }
    }

    /// Text filling `width` points (whole glyphs only).
    pub(crate) fn fill(
        &mut self,
        scene: &mut Scene,
        x: f64,
        y: f64,
        size: f64,
        width: f64,
        bold: bool,
    ) {
        let n = (width / size).floor().max(0.0) as usize;
        let mut shapes = Vec::new();
        self.line(&mut shapes, x, y, size, n, bold);
        scene.push(shapes, Ink::PRINT);
    }
}

fn bottom(r: &Rect) -> f64 {
    r.y + r.h
}

fn right(r: &Rect) -> f64 {
    r.x + r.w
}

/// The question id of a field key (`q04.full` → `q04`).
pub(crate) fn question_of(key: &str) -> &str {
    key.split('.').next().unwrap_or(key)
}

/// Four edges of a rectangle as capsules of the given stroke (centred on the edge).
pub(crate) fn frame(out: &mut Vec<Shape>, r: &Rect, stroke: f64) {
    let (x0, y0, x1, y1) = (r.x, r.y, r.x + r.w, r.y + r.h);
    polyline(
        out,
        &[(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)],
        stroke,
    );
}

/// Everything printed on a form page: marks, codes, boxes, and text-like ink.
pub(crate) fn form_scene(
    layout: &Layout,
    page: &PageLayout,
    code: CodeInk<'_>,
    survey: Option<&Survey>,
    rng: &mut Rng,
) -> Scene {
    let mut scene = Scene::default();
    let size = layout.page_size;
    let mut obstacles: Vec<Rect> = Vec::new();

    // Registration marks.
    for m in &page.registration_marks {
        let r = Rect {
            x: m.cx - m.size / 2.0,
            y: m.cy - m.size / 2.0,
            w: m.size,
            h: m.size,
        };
        scene.push(
            vec![Shape::Rect {
                x: r.x,
                y: r.y,
                w: r.w,
                h: r.h,
            }],
            Ink::PRINT,
        );
        obstacles.push(r.inflate(mm(3.0)));
    }
    // Page codes.
    for area in &page.page_codes {
        if let CodeInk::Modules(modules) = code {
            let mut shapes = Vec::new();
            for (i, &dark) in modules.iter().enumerate() {
                if dark {
                    let (c, r) = (i % pagecode::COLUMNS, i / pagecode::COLUMNS);
                    shapes.push(Shape::Rect {
                        x: area.x + c as f64 * area.module,
                        y: area.y + r as f64 * area.module,
                        w: area.module,
                        h: area.module,
                    });
                }
            }
            scene.push(shapes, Ink::PRINT);
        }
        obstacles.push(area.rect().inflate(area.module));
    }

    let mut ts = Typesetter { rng };
    header_footer(&mut scene, &mut ts, page, layout, &obstacles);

    match page.kind {
        PageKind::Cover => cover_letter(&mut scene, &mut ts, size.width, &obstacles),
        PageKind::Questions => {
            // The marking instructions under the header.
            let top = mm(30.5);
            let r = Rect {
                x: mm(18.0),
                y: top,
                w: mm(174.0),
                h: mm(11.0),
            };
            if !page.boxes.iter().any(|b| b.rect.overlaps(&r)) {
                let mut shapes = Vec::new();
                frame(&mut shapes, &r, 0.5);
                scene.push(shapes, Ink::PRINT);
                for k in 0..2 {
                    let w = mm(170.0) * ts.rng.range(0.6, 1.0);
                    ts.fill(
                        &mut scene,
                        mm(20.0),
                        top + mm(1.5) + k as f64 * 12.5,
                        8.8,
                        w,
                        false,
                    );
                }
            }
        }
        PageKind::Calibration => {}
    }

    boxes_and_labels(&mut scene, &mut ts, page, survey, &obstacles);
    scene
}

fn header_footer(
    scene: &mut Scene,
    ts: &mut Typesetter<'_>,
    page: &PageLayout,
    layout: &Layout,
    obstacles: &[Rect],
) {
    // Right end of header text: before the top-right page code.
    let code_left = page
        .page_codes
        .iter()
        .filter(|a| a.y < mm(40.0))
        .map(|a| a.x - a.module)
        .fold(mm(134.0), f64::min);
    let left = mm(21.0);
    let avail = (code_left - left - mm(2.0)).max(0.0);
    let w = avail * ts.rng.range(0.6, 0.95);
    ts.fill(scene, left, mm(9.0), 12.0, w, true);
    let w = avail * ts.rng.range(0.45, 0.7);
    ts.fill(scene, left, mm(13.5) + 2.0, 13.0, w, true);
    // Facility name and 管理No.
    let w = mm(129.0) * ts.rng.range(0.35, 0.9);
    ts.fill(scene, left, mm(24.5), 9.0, w, false);
    ts.fill(scene, mm(152.0), mm(24.5), 9.0, mm(36.0), false);
    let rule = vec![Shape::seg((mm(18.0), mm(29.0)), (mm(192.0), mm(29.0)), 0.6)];
    scene.push(rule, Ink::PRINT);
    // Footer: page number in the middle, return FAX at the right.
    let w = layout.page_size.width;
    let y = mm(277.0);
    let clear = |r: Rect| !obstacles.iter().any(|o| o.overlaps(&r));
    if clear(Rect {
        x: w / 2.0 - 15.0,
        y,
        w: 30.0,
        h: 9.0,
    }) {
        let mut s = Vec::new();
        ts.line(&mut s, w / 2.0 - 13.5, y, 9.0, 3, false);
        scene.push(s, Ink::PRINT);
    }
    let fax_w = mm(55.0);
    if clear(Rect {
        x: mm(189.0) - fax_w,
        y,
        w: fax_w,
        h: 9.0,
    }) {
        ts.fill(scene, mm(189.0) - fax_w, y, 9.0, fax_w, false);
    }
}

fn cover_letter(scene: &mut Scene, ts: &mut Typesetter<'_>, page_w: f64, obstacles: &[Rect]) {
    let clear = |r: Rect| !obstacles.iter().any(|o| o.overlaps(&r));
    // Address block (window envelope), title, then the letter.
    let mut y = mm(40.0);
    for _ in 0..4 {
        let w = mm(85.0) * ts.rng.range(0.5, 1.0);
        ts.fill(scene, mm(25.0), y, 11.0, w, false);
        y += mm(6.0);
    }
    y = mm(82.0);
    let tw = mm(110.0);
    ts.fill(scene, (page_w - tw) / 2.0, y, 15.0, tw, true);
    y += mm(14.0);
    while y < mm(255.0) {
        let para = ts.rng.int(2, 6);
        for k in 0..para {
            if y > mm(255.0) {
                break;
            }
            let indent = if k == 0 { mm(4.0) } else { 0.0 };
            let full = mm(170.0) - indent;
            let w = if k + 1 == para {
                full * ts.rng.range(0.2, 0.9)
            } else {
                full
            };
            let r = Rect {
                x: mm(20.0) + indent,
                y,
                w,
                h: 10.5,
            };
            if clear(r) {
                ts.fill(scene, r.x, y, 10.5, w, false);
            }
            y += mm(6.2);
        }
        y += mm(3.0);
    }
}

fn boxes_and_labels(
    scene: &mut Scene,
    ts: &mut Typesetter<'_>,
    page: &PageLayout,
    survey: Option<&Survey>,
    fixed: &[Rect],
) {
    let mut obstacles: Vec<Rect> = fixed.to_vec();
    for b in &page.boxes {
        obstacles.push(b.rect.inflate(mm(0.5)));
        if let Some(l) = &b.label_rect {
            obstacles.push(l.inflate(mm(0.5)));
        }
    }
    let clear = |r: &Rect, obstacles: &[Rect]| !obstacles.iter().any(|o| o.overlaps(r));

    // Box borders and option labels.
    for b in &page.boxes {
        let stroke = match b.kind {
            BoxKind::Choice | BoxKind::Digit => BOX_STROKE,
            BoxKind::Text | BoxKind::Area => TEXT_BOX_STROKE,
        };
        let mut shapes = Vec::new();
        frame(&mut shapes, &b.rect, stroke);
        scene.push(shapes, Ink::PRINT);
        if let Some(l) = &b.label_rect {
            let lines = (((l.h - OPT_SIZE) / OPT_LINE).round().max(0.0) as usize) + 1;
            for k in 0..lines {
                let w = if k + 1 == lines {
                    l.w
                } else {
                    l.w.max(OPT_SIZE)
                };
                let mut s = Vec::new();
                let n = ((w + 0.5) / OPT_SIZE).floor().max(1.0) as usize;
                ts.line(&mut s, l.x, l.y + k as f64 * OPT_LINE, OPT_SIZE, n, false);
                scene.push(s, Ink::PRINT);
            }
        }
    }

    // Group boxes by field key and by question, in print order.
    let mut keys: Vec<&str> = Vec::new();
    let mut by_key: BTreeMap<&str, Vec<&capsurvey_layout::AnswerBox>> = BTreeMap::new();
    for b in &page.boxes {
        if !by_key.contains_key(b.key.as_str()) {
            keys.push(&b.key);
        }
        by_key.entry(&b.key).or_default().push(b);
    }

    for key in &keys {
        let boxes = &by_key[key];
        // Decimal points in wide gaps between digit boxes, units after the last one.
        let digits: Vec<_> = boxes.iter().filter(|b| b.kind == BoxKind::Digit).collect();
        for w in digits.windows(2) {
            let gap = w[1].rect.x - right(&w[0].rect);
            if gap > mm(1.8) {
                let cx = right(&w[0].rect) + gap / 2.0;
                let cy = bottom(&w[0].rect) - mm(1.2);
                scene.push(vec![Shape::seg((cx, cy), (cx, cy), mm(0.9))], Ink::PRINT);
            }
        }
        if let Some(last) = digits.last() {
            let r = Rect {
                x: right(&last.rect) + mm(1.5),
                y: bottom(&last.rect) - OPT_SIZE - 1.0,
                w: OPT_SIZE,
                h: OPT_SIZE,
            };
            if clear(&r, &obstacles) {
                let mut s = Vec::new();
                ts.line(&mut s, r.x, r.y, OPT_SIZE, 1, false);
                scene.push(s, Ink::PRINT);
                obstacles.push(r);
            }
        }
        // Item labels left of the boxes (yes/no tables, numbers and text per item).
        let first = boxes
            .iter()
            .min_by(|a, b| a.rect.x.total_cmp(&b.rect.x))
            .expect("a key has boxes");
        let is_write_in = first.kind != BoxKind::Choice
            && page.boxes.iter().any(|o| {
                o.kind == BoxKind::Choice
                    && (o.rect.center().1 - first.rect.center().1).abs() < mm(6.0)
                    && o.rect.x < first.rect.x
            });
        // Free space to the left of the first box on its line, up to the nearest ink.
        let mid = first.rect.y + first.rect.h / 2.0;
        let band = Rect {
            x: mm(18.0),
            y: mid - OPT_SIZE / 2.0,
            w: (first.rect.x - mm(2.5) - mm(18.0)).max(0.0),
            h: OPT_SIZE,
        };
        let start = obstacles
            .iter()
            .filter(|o| o.overlaps(&band))
            .map(|o| right(o) + mm(2.0))
            .fold(mm(18.0), f64::max);
        let space = first.rect.x - mm(2.5) - start;
        if !is_write_in && space > mm(10.0) && first.rect.h < mm(20.0) {
            let w = space * ts.rng.range(0.45, 1.0);
            let r = Rect {
                x: start,
                y: band.y,
                w,
                h: OPT_SIZE,
            };
            if clear(&r, &obstacles) {
                ts.fill(scene, r.x, r.y, OPT_SIZE, w, false);
                obstacles.push(r);
            }
        }
        // Pre-printed roster values in their text boxes.
        if let (Some(survey), BoxKind::Text) = (survey, first.kind)
            && survey
                .question(question_of(key))
                .is_some_and(|q| q.prefill.is_some())
        {
            let r = first.rect;
            let size = 10.0f64.min(r.h * 0.8);
            let w = (r.w - mm(4.0)) * ts.rng.range(0.3, 0.8);
            ts.fill(
                scene,
                r.x + mm(2.0),
                r.y + (r.h - size) / 2.0,
                size,
                w,
                false,
            );
        }
    }

    // Question text above each question's boxes.
    let mut groups: Vec<(&str, Rect)> = Vec::new();
    for b in &page.boxes {
        let q = question_of(&b.key);
        let mut r = b.rect;
        if let Some(l) = &b.label_rect {
            r = union(&r, l);
        }
        match groups.iter_mut().find(|(id, _)| *id == q) {
            Some((_, g)) => *g = union(g, &r),
            None => groups.push((q, r)),
        }
    }
    groups.sort_by(|a, b| a.1.y.total_cmp(&b.1.y));
    let mut prev_bottom = mm(42.0);
    let full = mm(174.0);
    for (_, g) in &groups {
        let text_bottom = g.y - mm(1.5);
        let room = text_bottom - (prev_bottom + mm(1.5));
        let want = ts.rng.int(1, 3) as usize;
        let lines = want.min((room / Q_LINE).floor().max(0.0) as usize);
        let text_top = text_bottom - lines as f64 * Q_LINE;
        if text_top - prev_bottom > mm(30.0) {
            intro_block(
                scene,
                ts,
                prev_bottom + mm(3.0),
                text_top - mm(2.0),
                &obstacles,
            );
        }
        for k in 0..lines {
            let y = text_top + k as f64 * Q_LINE + (Q_LINE - Q_SIZE);
            let r = Rect {
                x: mm(18.0),
                y: y - 2.0,
                w: full,
                h: Q_SIZE + 4.0,
            };
            if !clear(&r, &obstacles) {
                continue;
            }
            if k == 0 {
                // The question's band: light grey (it vanishes in a fax threshold, as on real
                // faxes), 「問N」, the question, and the marking instruction at the right.
                scene.push(
                    vec![Shape::Rect {
                        x: r.x,
                        y: r.y,
                        w: r.w,
                        h: r.h,
                    }],
                    Ink::grey(0.12),
                );
                let mut s = Vec::new();
                ts.line(&mut s, r.x + mm(1.5), y, Q_SIZE, 2, true);
                scene.push(s, Ink::PRINT);
                let w = full * ts.rng.range(0.2, 0.55);
                ts.fill(scene, r.x + mm(1.5) + 3.0 * Q_SIZE, y, Q_SIZE, w, false);
                if ts.rng.chance(0.6) {
                    let iw = mm(ts.rng.range(30.0, 60.0));
                    ts.fill(scene, r.x + full - iw - mm(1.0), y + 1.0, 8.8, iw, false);
                }
            } else {
                let w = (full - mm(14.0)) * ts.rng.range(0.3, 1.0);
                ts.fill(scene, r.x + mm(14.0), y + 1.0, 8.8, w, false);
            }
        }
        prev_bottom = prev_bottom.max(bottom(g));
    }
}

/// What fills a large space above the first question: the survey title, a framed paragraph of
/// explanations and a section heading with its rule.
fn intro_block(
    scene: &mut Scene,
    ts: &mut Typesetter<'_>,
    top: f64,
    bottom: f64,
    obstacles: &[Rect],
) {
    let area = Rect {
        x: mm(18.0),
        y: top,
        w: mm(174.0),
        h: bottom - top,
    };
    if obstacles.iter().any(|o| o.overlaps(&area)) {
        return;
    }
    let mut y = top;
    let tw = mm(ts.rng.range(90.0, 130.0));
    ts.fill(scene, (mm(210.0) - tw) / 2.0, y, 14.0, tw, true);
    y += mm(9.0);
    let para_bottom = bottom - mm(10.0);
    if para_bottom - y > mm(10.0) {
        let mut s = Vec::new();
        frame(
            &mut s,
            &Rect {
                x: area.x,
                y,
                w: area.w,
                h: para_bottom - y,
            },
            0.5,
        );
        scene.push(s, Ink::PRINT);
        let mut ly = y + mm(2.0);
        while ly + 8.8 < para_bottom - mm(1.5) {
            let w = (area.w - mm(4.0))
                * if ts.rng.chance(0.3) {
                    ts.rng.range(0.3, 0.9)
                } else {
                    1.0
                };
            ts.fill(scene, area.x + mm(2.0), ly, 8.8, w, false);
            ly += 12.5;
        }
    }
    // Section heading: ■ and a title, a rule under it.
    let hy = bottom - mm(7.5);
    let mut s = vec![Shape::Rect {
        x: area.x,
        y: hy + 1.5,
        w: 8.0,
        h: 8.0,
    }];
    let n = ts.rng.int(3, 8) as usize;
    ts.line(&mut s, area.x + 12.0, hy, 11.0, n, true);
    s.push(Shape::seg(
        (area.x, hy + 14.0),
        (area.x + area.w, hy + 14.0),
        0.8,
    ));
    scene.push(s, Ink::PRINT);
}

fn union(a: &Rect, b: &Rect) -> Rect {
    let x = a.x.min(b.x);
    let y = a.y.min(b.y);
    Rect {
        x,
        y,
        w: right(a).max(right(b)) - x,
        h: bottom(a).max(bottom(b)) - y,
    }
}

/// A document that is not a capsurvey form: a letter or notice with a heading, paragraphs,
/// sometimes a ruled table and a stamp; no registration marks, no codes, no boxes.
pub(crate) fn foreign_scene(width: f64, height: f64, rng: &mut Rng) -> Scene {
    let mut scene = Scene::default();
    let mut ts = Typesetter { rng };
    let left = mm(ts.rng.range(20.0, 30.0));
    let text_w = width - 2.0 * left;
    let mut y = mm(ts.rng.range(18.0, 30.0));
    // Date at the right, heading in the middle.
    ts.fill(
        &mut scene,
        width - left - mm(40.0),
        y,
        10.0,
        mm(40.0),
        false,
    );
    y += mm(12.0);
    let hw = mm(ts.rng.range(60.0, 120.0));
    ts.fill(&mut scene, (width - hw) / 2.0, y, 16.0, hw, true);
    y += mm(16.0);
    let table_at = if ts.rng.chance(0.5) {
        Some(mm(ts.rng.range(120.0, 180.0)))
    } else {
        None
    };
    while y < height - mm(30.0) {
        if let Some(t) = table_at
            && y >= t
            && y < t + mm(10.0)
        {
            let rows = ts.rng.int(4, 9) as usize;
            let cols = ts.rng.int(2, 5) as usize;
            let rh = mm(8.0);
            let mut s = Vec::new();
            for r in 0..=rows {
                let yy = y + r as f64 * rh;
                s.push(Shape::seg((left, yy), (left + text_w, yy), 0.7));
            }
            for c in 0..=cols {
                let xx = left + text_w * c as f64 / cols as f64;
                s.push(Shape::seg((xx, y), (xx, y + rows as f64 * rh), 0.7));
            }
            scene.push(s, Ink::PRINT);
            for r in 0..rows {
                for c in 0..cols {
                    let cw = text_w / cols as f64;
                    let w = (cw - mm(4.0)) * ts.rng.range(0.2, 0.9);
                    ts.fill(
                        &mut scene,
                        left + c as f64 * cw + mm(2.0),
                        y + r as f64 * rh + mm(1.5),
                        9.0,
                        w,
                        false,
                    );
                }
            }
            y += rows as f64 * rh + mm(8.0);
            continue;
        }
        let para = ts.rng.int(1, 5);
        for k in 0..para {
            let w = if k + 1 == para {
                text_w * ts.rng.range(0.15, 0.9)
            } else {
                text_w
            };
            ts.fill(&mut scene, left, y, 10.5, w, false);
            y += mm(6.5);
        }
        y += mm(4.0);
    }
    // A seal stamp (印) now and then: a red-ish circle with strokes inside.
    if ts.rng.chance(0.4) {
        let (cx, cy, r) = (width - left - mm(12.0), mm(40.0), mm(7.0));
        let mut s = Vec::new();
        let ring: Vec<(f64, f64)> = (0..=32)
            .map(|i| {
                let t = std::f64::consts::TAU * i as f64 / 32.0;
                (cx + r * t.cos(), cy + r * t.sin())
            })
            .collect();
        polyline(&mut s, &smooth(&ring, 2), 1.2);
        ts.line(&mut s, cx - r * 0.6, cy - r * 0.6, r * 1.2, 1, true);
        scene.push(
            s,
            Ink {
                dark: [0.15, 0.75, 0.7],
                white: false,
            },
        );
    }
    scene
}
