//! Synthetic form pages for the recognition tests and the bench: a small survey, a layout in
//! the style of the forms crate (same box sizes and spacing), and a renderer that draws the
//! frame, boxes, label "text" and hand marks through any page-to-image transform, then degrades
//! the result like a fax or a scanner.
//!
//! Everything is drawn in page points and sampled per image pixel through the inverse
//! transform (3×3 supersampling), so rotation, scale, shift, 180° turns and non-square pixels
//! all come from one place.

#![allow(dead_code)]

use capsurvey_layout::frame::{code_areas, registration_marks};
use capsurvey_layout::pagecode::COLUMNS;
use capsurvey_layout::{
    A4, AnswerBox, BoxKind, CodeArea, PageCode, PageKind, PageLayout, Rect, mm,
};
use capsurvey_scan::{PageImage, Transform};
use capsurvey_survey::{QuestionKind, Survey, WriteIn};

/// A small deterministic RNG (xorshift64*), so tests need no extra crate.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [a, b).
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.f()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn chance(&mut self, p: f64) -> bool {
        self.f() < p
    }
}

/// The test survey: every kind of question the forms print.
pub const SURVEY_TOML: &str = r#"
id = "synthetic"
version = 1
title = "テスト調査"
facility_type = "dental"
reference_date = "2024-11-01"

[[sections]]
id = "s1"
title = "概要"

[[sections.questions]]
id = "q01"
kind = "single"
text = "開設主体"
options = [
    { code = "1", label = "個人" },
    { code = "2", label = "医療法人" },
    { code = "3", label = "社会福祉法人" },
    { code = "4", label = "その他の法人" },
    { code = "5", label = "その他", write_in = "text" },
]

[[sections.questions]]
id = "q02"
kind = "multiple"
text = "訪問先"
options = [
    { code = "1", label = "患者宅（居宅）" },
    { code = "2", label = "介護保険施設" },
    { code = "3", label = "病院" },
    { code = "4", label = "居住系施設" },
    { code = "5", label = "障害者施設" },
    { code = "6", label = "いずれもない", exclusive = true },
]

[[sections.questions]]
id = "q03"
kind = "yes_no"
text = "訪問歯科診療を実施していますか"
labels = ["実施している", "実施していない"]

[[sections.questions]]
id = "q04"
kind = "yes_no"
text = "対応できる内容"
items = [
    { code = "a", label = "口腔ケア" },
    { code = "b", label = "摂食嚥下" },
    { code = "c", label = "義歯の調整" },
]

[[sections.questions]]
id = "q05"
kind = "count"
text = "職員数"
unit = "人"
max = 999
items = [
    { code = "full", label = "常勤" },
    { code = "part", label = "非常勤" },
]

[[sections.questions]]
id = "q06"
kind = "single"
text = "対応時間"
options = [
    { code = "1", label = "24時間" },
    { code = "2", label = "日中のみ" },
    { code = "3", label = "平日のみ" },
    { code = "4", label = "その他" },
]

[[sections.questions]]
id = "q07"
kind = "decimal"
text = "常勤換算"
unit = "人"
max = 99.9

[[sections.questions]]
id = "q08"
kind = "short_text"
text = "ご担当者名"

[[sections.questions]]
id = "q09"
kind = "long_text"
text = "ご意見"
"#;

pub fn survey() -> Survey {
    capsurvey_survey::parse_survey("synthetic.toml", SURVEY_TOML)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .survey
}

/// Something printed on the form (besides boxes, marks and codes).
#[derive(Debug, Clone, Copy)]
pub enum Print {
    /// A rectangle outline of stroke width `w` points.
    Frame(Rect, f64),
    /// A filled rectangle of darkness `d` (0.12 = the 0.88 grey of question bands).
    Fill(Rect, f64),
    /// A line of "text": glyph-like strokes filling the rectangle.
    Text(Rect),
}

/// A synthetic page: its layout and what else is printed.
#[derive(Debug, Clone)]
pub struct SynthPage {
    pub layout: PageLayout,
    pub prints: Vec<Print>,
}

const BOX: f64 = 4.5;
const OPT: f64 = 9.5; // option text size, points

fn r(x: f64, y: f64, w: f64, h: f64) -> Rect {
    Rect {
        x: mm(x),
        y: mm(y),
        w: mm(w),
        h: mm(h),
    }
}

/// Lays out `survey` on one page in the style of the forms crate: 4.5 mm check boxes with the
/// label 1.5 mm to the right, 6×7.5 mm digit boxes 1 mm apart, 8 mm text boxes, a 40 mm area.
pub fn layout(survey: &Survey) -> SynthPage {
    let mut boxes = Vec::new();
    // Header text near the top-left mark and the page number near the bottom.
    let mut prints = vec![
        Print::Text(r(21.0, 9.0, 100.0, 3.0)),
        Print::Text(r(21.0, 13.5, 80.0, 3.0)),
        Print::Text(r(100.0, 277.0, 10.0, 3.9)),
        Print::Text(r(150.0, 277.0, 39.0, 3.0)),
    ];
    let left = 18.0;
    let width = 174.0;
    let text_x = left + 13.0;
    let avail = width - 13.0;
    let mut y = 43.0;
    for (_, q) in survey.questions() {
        let top = y;
        // The shaded band with the question text.
        prints.push(Print::Fill(r(left, y, width, 6.0), 0.12));
        prints.push(Print::Text(r(left + 1.5, y + 1.3, 8.0, 3.5)));
        prints.push(Print::Text(r(
            text_x,
            y + 1.3,
            (q.text.chars().count() as f64 * 3.5).min(avail - 5.0),
            3.5,
        )));
        y += 6.0 + 1.6;
        let mut qboxes: Vec<AnswerBox> = Vec::new();
        let label_w = |s: &str| s.chars().count() as f64 * OPT / 72.0 * 25.4;
        let choice = |qboxes: &mut Vec<AnswerBox>,
                      prints: &mut Vec<Print>,
                      key: &str,
                      code: &str,
                      label: &str,
                      x: f64,
                      y: f64,
                      numbered: bool| {
            let bx = r(x, y, BOX, BOX);
            prints.push(Print::Frame(bx, 0.8));
            let code_w = if numbered { 3.0 } else { 0.0 };
            let lw = code_w + label_w(label);
            let lh = OPT / 72.0 * 25.4;
            let l = r(x + BOX + 1.5, y + (BOX - lh) / 2.0, lw, lh);
            prints.push(Print::Text(l));
            qboxes.push(AnswerBox {
                key: key.into(),
                option: Some(code.into()),
                digit: None,
                kind: BoxKind::Choice,
                rect: bx,
                label_rect: Some(l),
                question_rect: None,
            });
            l
        };
        match q.kind {
            QuestionKind::Single | QuestionKind::Multiple => {
                let cols = 3;
                let col_w = (avail - 2.0 * 3.0) / cols as f64;
                let mut col = 0;
                for o in &q.options {
                    if o.write_in.is_some() && col > 0 {
                        y += BOX + 2.5;
                        col = 0;
                    }
                    let x = text_x + col as f64 * (col_w + 3.0);
                    let l = choice(
                        &mut qboxes,
                        &mut prints,
                        &q.id,
                        &o.code,
                        &o.label,
                        x,
                        y,
                        true,
                    );
                    if o.write_in == Some(WriteIn::Text) {
                        let fx = (l.x + l.w) / mm(1.0) + 3.0;
                        let tb = r(fx, y - 1.5, text_x + avail - fx, 7.5);
                        prints.push(Print::Frame(tb, 0.6));
                        qboxes.push(AnswerBox {
                            key: format!("{}.{}", q.id, o.code),
                            option: None,
                            digit: None,
                            kind: BoxKind::Text,
                            rect: tb,
                            label_rect: None,
                            question_rect: None,
                        });
                        col = cols - 1;
                    }
                    col += 1;
                    if col == cols {
                        col = 0;
                        y += BOX + 2.5;
                    }
                }
                if col > 0 {
                    y += BOX + 2.5;
                }
                y -= 2.5;
            }
            QuestionKind::YesNo => {
                let [yes, no] = q.yes_no_labels();
                let rows: Vec<(String, Option<&str>)> = if q.items.is_empty() {
                    vec![(q.id.clone(), None)]
                } else {
                    q.items
                        .iter()
                        .map(|i| (format!("{}.{}", q.id, i.code), Some(i.label.as_str())))
                        .collect()
                };
                for (key, item) in rows {
                    let mut x = text_x;
                    if item.is_some() {
                        prints.push(Print::Text(r(x, y + 0.6, 30.0, 3.35)));
                        x += 34.0;
                    }
                    let cell = BOX + 1.5 + label_w(yes).max(label_w(no)) + 5.0;
                    choice(&mut qboxes, &mut prints, &key, "yes", yes, x, y, false);
                    choice(&mut qboxes, &mut prints, &key, "no", no, x + cell, y, false);
                    y += BOX + 2.5;
                }
                y -= 2.5;
            }
            QuestionKind::Count | QuestionKind::Decimal => {
                let decimals = if q.kind == QuestionKind::Decimal {
                    1
                } else {
                    0
                };
                let ints = ((q.max.unwrap_or(999.0).floor() as u64).to_string().len()) as u32;
                let rows: Vec<(String, bool)> = if q.items.is_empty() {
                    vec![(q.id.clone(), false)]
                } else {
                    q.items
                        .iter()
                        .map(|i| (format!("{}.{}", q.id, i.code), true))
                        .collect()
                };
                for (i, (key, labelled)) in rows.iter().enumerate() {
                    let mut x = text_x + i as f64 * 60.0;
                    if *labelled {
                        prints.push(Print::Text(r(x, 2.0 + y, 12.0, 3.35)));
                        x += 14.0;
                    }
                    for d in 0..ints + decimals {
                        if decimals > 0 && d == ints {
                            x += 1.5;
                        }
                        let b = r(x, y, 6.0, 7.5);
                        prints.push(Print::Frame(b, 0.8));
                        qboxes.push(AnswerBox {
                            key: key.clone(),
                            option: None,
                            digit: Some(d),
                            kind: BoxKind::Digit,
                            rect: b,
                            label_rect: None,
                            question_rect: None,
                        });
                        x += 7.0;
                    }
                    prints.push(Print::Text(r(x + 0.5, y + 3.5, 3.35, 3.35)));
                }
                y += 7.5;
            }
            QuestionKind::ShortText => {
                let b = r(text_x, y, avail, 8.0);
                prints.push(Print::Frame(b, 0.6));
                qboxes.push(AnswerBox {
                    key: q.id.clone(),
                    option: None,
                    digit: None,
                    kind: BoxKind::Text,
                    rect: b,
                    label_rect: None,
                    question_rect: None,
                });
                y += 8.0;
            }
            QuestionKind::LongText => {
                let b = r(text_x, y, avail, 30.0);
                prints.push(Print::Frame(b, 0.6));
                qboxes.push(AnswerBox {
                    key: q.id.clone(),
                    option: None,
                    digit: None,
                    kind: BoxKind::Area,
                    rect: b,
                    label_rect: None,
                    question_rect: None,
                });
                y += 30.0;
            }
        }
        let q_rect = r(left, top, width, y - top);
        for mut b in qboxes {
            b.question_rect = Some(q_rect);
            boxes.push(b);
        }
        y += 3.5;
    }
    assert!(
        y < 269.0,
        "the synthetic survey must fit one page (ends at {y} mm)"
    );
    SynthPage {
        layout: PageLayout {
            number: 2,
            kind: PageKind::Questions,
            registration_marks: registration_marks(),
            page_codes: code_areas(),
            boxes,
        },
        prints,
    }
}

/// How the sheet lies in the scanner.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub dpi_x: f64,
    pub dpi_y: f64,
    /// Image size in pixels (defaults: fax width 1728 at 204 dpi, else A4).
    pub size: Option<(u32, u32)>,
    pub rotation_deg: f64,
    pub scale_x: f64,
    pub scale_y: f64,
    pub shift_mm: (f64, f64),
    pub upside_down: bool,
}

impl Geometry {
    pub fn straight(dpi_x: f64, dpi_y: f64) -> Geometry {
        Geometry {
            dpi_x,
            dpi_y,
            size: None,
            rotation_deg: 0.0,
            scale_x: 1.0,
            scale_y: 1.0,
            shift_mm: (0.0, 0.0),
            upside_down: false,
        }
    }

    pub fn image_size(&self) -> (u32, u32) {
        self.size.unwrap_or_else(|| {
            let h = (A4.height / 72.0 * self.dpi_y).round() as u32;
            if (self.dpi_x - 204.0).abs() < 1.0 {
                (1728, h)
            } else {
                ((A4.width / 72.0 * self.dpi_x).round() as u32, h)
            }
        })
    }

    /// The true page-to-image transform (for the upright page).
    pub fn transform(&self) -> Transform {
        let (w, h) = self.image_size();
        let (s, c) = (-self.rotation_deg).to_radians().sin_cos();
        let (kx, ky) = (self.dpi_x / 72.0, self.dpi_y / 72.0);
        // Physical rotation and scale about the page centre, then pixels.
        let (a, b, d, e) = (
            c * self.scale_x,
            -s * self.scale_y,
            s * self.scale_x,
            c * self.scale_y,
        );
        let (pcx, pcy) = (A4.width / 2.0, A4.height / 2.0);
        let (icx, icy) = (
            w as f64 / 2.0 + self.shift_mm.0 * self.dpi_x / 25.4,
            h as f64 / 2.0 + self.shift_mm.1 * self.dpi_y / 25.4,
        );
        let t = Transform {
            m: [
                kx * a,
                kx * b,
                icx - kx * (a * pcx + b * pcy),
                ky * d,
                ky * e,
                icy - ky * (d * pcx + e * pcy),
            ],
        };
        if self.upside_down {
            t.turned(A4.width, A4.height)
        } else {
            t
        }
    }
}

/// A hand mark, in page points.
#[derive(Debug, Clone)]
pub enum Hand {
    /// A polyline drawn with a pen `width` points wide, `dark` 0..1 (1 = black ink); `pencil`
    /// makes the darkness vary along the stroke like graphite.
    Stroke {
        pts: Vec<(f64, f64)>,
        width: f64,
        dark: f64,
        pencil: bool,
    },
    /// A filled polygon-ish area (a rectangle with ragged scribble edges), for cancel fills and ■.
    Fill { rect: Rect, dark: f64 },
    /// A loop (rounded rectangle) outline.
    Ellipse {
        cx: f64,
        cy: f64,
        rx: f64,
        ry: f64,
        width: f64,
        dark: f64,
    },
    /// A round dot.
    Dot { x: f64, y: f64, r: f64 },
}

/// Degradations applied after drawing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Degrade {
    /// Black-and-white output (fax); else grey.
    pub bilevel: bool,
    /// Probability of a black speck per pixel (salt), and of a white one in ink (pepper).
    pub speckle: f64,
    /// Number of vertical streaks (1–2 px wide, full height).
    pub streaks: usize,
    /// Millimetres lost at the left/right/top/bottom image edges (white).
    pub edge_loss_mm: f64,
    /// Grey output: paper level and grey noise amplitude.
    pub paper: f64,
    pub noise: f64,
    /// Halftone the grey question bands (fax) instead of dropping them.
    pub halftone: bool,
    pub seed: u64,
}

/// The darkness canvas.
pub struct Canvas {
    pub w: usize,
    pub h: usize,
    pub t: Transform,
    inv: Transform,
    pub dark: Vec<f32>,
    halftone: bool,
}

impl Canvas {
    pub fn new(g: &Geometry, halftone: bool) -> Canvas {
        let (w, h) = g.image_size();
        let t = g.transform();
        Canvas {
            w: w as usize,
            h: h as usize,
            t,
            inv: t.inverse().unwrap(),
            dark: vec![0.0; w as usize * h as usize],
            halftone,
        }
    }

    /// Paints `shape` (a darkness function of a page point, `None` outside) over the page-space
    /// box `area`, 3×3 supersampled.
    pub fn paint(&mut self, area: Rect, shape: impl Fn(f64, f64) -> Option<f64>) {
        let corners = [
            (area.x, area.y),
            (area.x + area.w, area.y),
            (area.x, area.y + area.h),
            (area.x + area.w, area.y + area.h),
        ]
        .map(|(x, y)| self.t.apply(x, y));
        let x0 = corners
            .iter()
            .map(|c| c.0)
            .fold(f64::MAX, f64::min)
            .floor()
            .max(0.0) as usize;
        let x1 = (corners
            .iter()
            .map(|c| c.0)
            .fold(f64::MIN, f64::max)
            .ceil()
            .max(0.0) as usize)
            .min(self.w);
        let y0 = corners
            .iter()
            .map(|c| c.1)
            .fold(f64::MAX, f64::min)
            .floor()
            .max(0.0) as usize;
        let y1 = (corners
            .iter()
            .map(|c| c.1)
            .fold(f64::MIN, f64::max)
            .ceil()
            .max(0.0) as usize)
            .min(self.h);
        for py in y0..y1 {
            for px in x0..x1 {
                let mut sum = 0.0;
                for sy in 0..3 {
                    for sx in 0..3 {
                        let (x, y) = self.inv.apply(
                            px as f64 + (sx as f64 + 0.5) / 3.0,
                            py as f64 + (sy as f64 + 0.5) / 3.0,
                        );
                        if let Some(d) = shape(x, y) {
                            sum += d;
                        }
                    }
                }
                let c = (sum / 9.0) as f32;
                if c > 0.0 {
                    let v = &mut self.dark[py * self.w + px];
                    *v = 1.0 - (1.0 - *v) * (1.0 - c);
                }
            }
        }
    }

    pub fn fill(&mut self, rect: Rect, d: f64) {
        if d < 0.3 && self.halftone {
            // Fax: a grey fill becomes a sparse dot pattern (one pixel in eight).
            let (t, inv) = (self.t, self.inv);
            let corners = [
                (rect.x, rect.y),
                (rect.x + rect.w, rect.y + rect.h),
                (rect.x + rect.w, rect.y),
                (rect.x, rect.y + rect.h),
            ]
            .map(|(x, y)| t.apply(x, y));
            let x0 = corners
                .iter()
                .map(|c| c.0)
                .fold(f64::MAX, f64::min)
                .max(0.0) as usize;
            let x1 = (corners
                .iter()
                .map(|c| c.0)
                .fold(f64::MIN, f64::max)
                .max(0.0) as usize)
                .min(self.w);
            let y0 = corners
                .iter()
                .map(|c| c.1)
                .fold(f64::MAX, f64::min)
                .max(0.0) as usize;
            let y1 = (corners
                .iter()
                .map(|c| c.1)
                .fold(f64::MIN, f64::max)
                .max(0.0) as usize)
                .min(self.h);
            for py in y0..y1 {
                for px in x0..x1 {
                    let (x, y) = inv.apply(px as f64 + 0.5, py as f64 + 0.5);
                    if x >= rect.x
                        && x < rect.x + rect.w
                        && y >= rect.y
                        && y < rect.y + rect.h
                        && (px + 3 * py) % 8 == 0
                    {
                        self.dark[py * self.w + px] = 1.0;
                    }
                }
            }
            return;
        }
        self.paint(rect, |x, y| {
            (x >= rect.x && x < rect.x + rect.w && y >= rect.y && y < rect.y + rect.h).then_some(d)
        });
    }

    pub fn frame(&mut self, rect: Rect, width: f64) {
        let hw = width / 2.0;
        for side in [
            Rect {
                x: rect.x - hw,
                y: rect.y - hw,
                w: rect.w + width,
                h: width,
            },
            Rect {
                x: rect.x - hw,
                y: rect.y + rect.h - hw,
                w: rect.w + width,
                h: width,
            },
            Rect {
                x: rect.x - hw,
                y: rect.y - hw,
                w: width,
                h: rect.h + width,
            },
            Rect {
                x: rect.x + rect.w - hw,
                y: rect.y - hw,
                w: width,
                h: rect.h + width,
            },
        ] {
            self.fill(side, 1.0);
        }
    }

    pub fn segment(
        &mut self,
        a: (f64, f64),
        b: (f64, f64),
        width: f64,
        dark: f64,
        pencil: Option<u64>,
    ) {
        let hw = width / 2.0;
        let area = Rect {
            x: a.0.min(b.0) - hw - 1.0,
            y: a.1.min(b.1) - hw - 1.0,
            w: (a.0 - b.0).abs() + width + 2.0,
            h: (a.1 - b.1).abs() + width + 2.0,
        };
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len2 = (dx * dx + dy * dy).max(1e-9);
        self.paint(area, |x, y| {
            let t = (((x - a.0) * dx + (y - a.1) * dy) / len2).clamp(0.0, 1.0);
            let (qx, qy) = (a.0 + t * dx - x, a.1 + t * dy - y);
            if qx * qx + qy * qy > hw * hw {
                return None;
            }
            Some(match pencil {
                // Graphite: darkness varies in 0.35 mm cells.
                Some(seed) => {
                    let cx = (x / mm(0.35)).floor() as i64;
                    let cy = (y / mm(0.35)).floor() as i64;
                    let mut h = (cx as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
                        ^ (cy as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F)
                        ^ seed;
                    h ^= h >> 29;
                    h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    h ^= h >> 32;
                    let n = (h % 1000) as f64 / 1000.0;
                    (dark * (0.45 + 1.1 * n)).min(1.0)
                }
                None => dark,
            })
        });
    }

    pub fn hand(&mut self, m: &Hand, seed: u64) {
        match m {
            Hand::Stroke {
                pts,
                width,
                dark,
                pencil,
            } => {
                for w in pts.windows(2) {
                    self.segment(w[0], w[1], *width, *dark, pencil.then_some(seed));
                }
            }
            Hand::Fill { rect, dark } => self.fill(*rect, *dark),
            Hand::Ellipse {
                cx,
                cy,
                rx,
                ry,
                width,
                dark,
            } => {
                let n = 48;
                let pts: Vec<(f64, f64)> = (0..=n)
                    .map(|i| {
                        let a = i as f64 / n as f64 * std::f64::consts::TAU;
                        (cx + rx * a.cos(), cy + ry * a.sin())
                    })
                    .collect();
                for w in pts.windows(2) {
                    self.segment(w[0], w[1], *width, *dark, None);
                }
            }
            Hand::Dot { x, y, r } => {
                let (x, y, r) = (*x, *y, *r);
                self.paint(
                    Rect {
                        x: x - r - 1.0,
                        y: y - r - 1.0,
                        w: 2.0 * r + 2.0,
                        h: 2.0 * r + 2.0,
                    },
                    |px, py| ((px - x).powi(2) + (py - y).powi(2) <= r * r).then_some(1.0),
                );
            }
        }
    }

    /// Glyph-like strokes filling a text line (deterministic per position).
    pub fn text(&mut self, rect: Rect) {
        let em = rect.h;
        let n = (rect.w / em).floor().max(1.0) as usize;
        let mut rng = Rng::new((rect.x * 1000.0 + rect.y) as u64);
        for i in 0..n {
            let gx = rect.x + i as f64 * em;
            let g = Rect {
                x: gx + em * 0.1,
                y: rect.y + em * 0.1,
                w: em * 0.8,
                h: em * 0.8,
            };
            for _ in 0..3 {
                let a = (g.x + rng.f() * g.w, g.y + rng.f() * g.h);
                let b = (g.x + rng.f() * g.w, g.y + rng.f() * g.h);
                self.segment(a, b, 0.7, 1.0, None);
            }
        }
    }

    /// The page image.
    pub fn finish(&self, g: &Geometry, d: &Degrade) -> PageImage {
        let mut rng = Rng::new(d.seed ^ 0xABCDEF);
        let mut px = vec![255u8; self.w * self.h];
        let paper = if d.paper > 0.0 { d.paper } else { 245.0 };
        for (i, &k) in self.dark.iter().enumerate() {
            let k = k as f64;
            px[i] = if d.bilevel {
                if k >= 0.5 { 0 } else { 255 }
            } else {
                let noise = if d.noise > 0.0 {
                    rng.range(-d.noise, d.noise)
                } else {
                    0.0
                };
                (paper - k * (paper - 25.0) + noise)
                    .round()
                    .clamp(0.0, 255.0) as u8
            };
        }
        if d.speckle > 0.0 {
            let n = (self.w * self.h) as f64 * d.speckle;
            for _ in 0..n as usize {
                let i = rng.below(self.w * self.h);
                px[i] = if px[i] < 128 { 255 } else { 0 };
            }
        }
        for _ in 0..d.streaks {
            let x = rng.below(self.w);
            let wide = 1 + rng.below(2);
            for y in 0..self.h {
                for k in 0..wide {
                    if x + k < self.w {
                        px[y * self.w + x + k] = 0;
                    }
                }
            }
        }
        if d.edge_loss_mm > 0.0 {
            let ex = (d.edge_loss_mm * g.dpi_x / 25.4) as usize;
            let ey = (d.edge_loss_mm * g.dpi_y / 25.4) as usize;
            for y in 0..self.h {
                for x in 0..self.w {
                    if x < ex || x + ex >= self.w || y < ey || y + ey >= self.h {
                        px[y * self.w + x] = 255;
                    }
                }
            }
        }
        let mut page = PageImage::new(
            self.w as u32,
            self.h as u32,
            g.dpi_x as f32,
            g.dpi_y as f32,
            px,
        );
        if !d.bilevel {
            page.bilevel = false;
        }
        page
    }
}

/// Draws the frame (marks, codes), the printed form and the hand marks.
pub fn render(
    page: &SynthPage,
    code: &PageCode,
    hands: &[Hand],
    g: &Geometry,
    d: &Degrade,
) -> PageImage {
    let mut c = Canvas::new(g, d.halftone && d.bilevel);
    for m in registration_marks() {
        c.fill(
            Rect {
                x: m.cx - m.size / 2.0,
                y: m.cy - m.size / 2.0,
                w: m.size,
                h: m.size,
            },
            1.0,
        );
    }
    let modules = code.modules().unwrap();
    for area in code_areas() {
        draw_code(&mut c, &area, &modules);
    }
    for p in &page.prints {
        match *p {
            Print::Frame(r, w) => c.frame(r, w),
            Print::Fill(r, d) => c.fill(r, d),
            Print::Text(r) => c.text(r),
        }
    }
    for (i, h) in hands.iter().enumerate() {
        c.hand(h, d.seed.wrapping_add(i as u64 * 7919));
    }
    c.finish(g, d)
}

pub fn draw_code(c: &mut Canvas, area: &CodeArea, modules: &[bool; 64]) {
    for (i, &dark) in modules.iter().enumerate() {
        if dark {
            let (row, col) = (i / COLUMNS, i % COLUMNS);
            c.fill(
                Rect {
                    x: area.x + col as f64 * area.module,
                    y: area.y + row as f64 * area.module,
                    w: area.module,
                    h: area.module,
                },
                1.0,
            );
        }
    }
}

/// What a hand mark on a box is meant to be (the truth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Intent {
    Empty,
    Marked,
    Cancelled,
}

/// Styles of marks the tests draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Style {
    Tick,
    BigTick,
    Cross,
    Square,
    Fill,
    Pencil,
    CircleLabel,
    StrayDot,
    Written,
}

/// Hand marks for a box in a given style, with jitter.
pub fn marks_for(b: &AnswerBox, style: Style, rng: &mut Rng) -> Vec<Hand> {
    let r = b.rect;
    let j = |rng: &mut Rng| rng.range(-0.06, 0.06);
    let pen = mm(rng.range(0.3, 0.6));
    let p = |fx: f64, fy: f64| (r.x + fx * r.w, r.y + fy * r.h);
    match style {
        Style::Tick => vec![Hand::Stroke {
            pts: vec![
                p(0.18 + j(rng), 0.5 + j(rng)),
                p(0.42 + j(rng), 0.8 + j(rng)),
                p(0.85 + j(rng), 0.15 + j(rng)),
            ],
            width: pen,
            dark: 1.0,
            pencil: false,
        }],
        Style::BigTick => vec![Hand::Stroke {
            pts: vec![
                p(0.1 + j(rng), 0.45 + j(rng)),
                p(0.4 + j(rng), 0.85 + j(rng)),
                p(1.3 + j(rng), -0.5 + j(rng)),
            ],
            width: pen,
            dark: 1.0,
            pencil: false,
        }],
        Style::Cross => vec![
            Hand::Stroke {
                pts: vec![p(0.2 + j(rng), 0.2 + j(rng)), p(0.8 + j(rng), 0.8 + j(rng))],
                width: pen,
                dark: 1.0,
                pencil: false,
            },
            Hand::Stroke {
                pts: vec![p(0.8 + j(rng), 0.2 + j(rng)), p(0.2 + j(rng), 0.8 + j(rng))],
                width: pen,
                dark: 1.0,
                pencil: false,
            },
        ],
        Style::Square => {
            let s = rng.range(0.4, 0.55);
            vec![Hand::Fill {
                rect: Rect {
                    x: r.x + r.w * (1.0 - s) / 2.0,
                    y: r.y + r.h * (1.0 - s) / 2.0,
                    w: r.w * s,
                    h: r.h * s,
                },
                dark: 1.0,
            }]
        }
        Style::Fill => vec![Hand::Fill {
            rect: r.inflate(mm(rng.range(0.1, 0.5))),
            dark: 1.0,
        }],
        Style::Pencil => vec![Hand::Stroke {
            pts: vec![
                p(0.18 + j(rng), 0.5 + j(rng)),
                p(0.42 + j(rng), 0.8 + j(rng)),
                p(0.85 + j(rng), 0.15 + j(rng)),
            ],
            width: mm(0.45),
            dark: rng.range(0.4, 0.55),
            pencil: true,
        }],
        Style::CircleLabel => {
            let l = b.label_rect.unwrap();
            vec![Hand::Ellipse {
                cx: l.x + l.w / 2.0,
                cy: l.y + l.h / 2.0,
                rx: l.w / 2.0 + mm(rng.range(1.0, 1.8)),
                ry: l.h / 2.0 + mm(rng.range(1.2, 1.8)),
                width: pen,
                dark: 1.0,
            }]
        }
        Style::StrayDot => vec![Hand::Dot {
            x: r.x + rng.range(0.3, 0.7) * r.w,
            y: r.y + rng.range(0.3, 0.7) * r.h,
            r: mm(rng.range(0.08, 0.2)),
        }],
        Style::Written => {
            // A digit-like stroke: "1", "7" or "−".
            match rng.below(3) {
                0 => vec![Hand::Stroke {
                    pts: vec![p(0.5, 0.2), p(0.5, 0.8)],
                    width: pen,
                    dark: 1.0,
                    pencil: false,
                }],
                1 => vec![Hand::Stroke {
                    pts: vec![p(0.25, 0.2), p(0.75, 0.2), p(0.45, 0.8)],
                    width: pen,
                    dark: 1.0,
                    pencil: false,
                }],
                _ => vec![Hand::Stroke {
                    pts: vec![p(0.25, 0.5), p(0.75, 0.5)],
                    width: pen,
                    dark: 1.0,
                    pencil: false,
                }],
            }
        }
    }
}

/// The intended state for a style.
pub fn intent(style: Style) -> Intent {
    match style {
        Style::Fill => Intent::Cancelled,
        Style::StrayDot => Intent::Empty,
        _ => Intent::Marked,
    }
}
