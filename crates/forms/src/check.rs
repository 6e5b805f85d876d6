//! `forms check`: what in a design would break recognition or reading, before it is printed.
//!
//! [`check_layout`] looks at a layout file alone: boxes too small or too close together, boxes
//! overlapping each other or the labels of other boxes, marks, codes or boxes inside the fax
//! margin, anything in the quiet zone of a mark or page code, anything off the page.
//! [`check_survey`] adds what needs the definition and the campaign: every answer field has boxes,
//! no text runs off the page, the cover letter fits, and the page count is within the
//! administrator's `max_pages`.

use capsurvey_layout::{AnswerBox, BoxKind, Layout, Rect};
use capsurvey_survey::Survey;

use crate::campaign::Campaign;
use crate::form::frame::{CODE_QUIET, MARK_QUIET};
use crate::geom::{mm, pt_to_mm};

/// The limits [`check_layout`] applies, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Smallest side of a check box (4 mm).
    pub min_choice: f64,
    /// Smallest width of a digit box (5 mm).
    pub min_digit_width: f64,
    /// Smallest height of a digit box (5 mm).
    pub min_digit_height: f64,
    /// Smallest height of a text box (6 mm).
    pub min_text_height: f64,
    /// Smallest height of a free-text area (15 mm).
    pub min_area_height: f64,
    /// Smallest distance between boxes (2 mm); the digit boxes of one number may be closer
    /// ([`Limits::min_digit_gap`]).
    pub min_gap: f64,
    /// Smallest distance between the digit boxes of one number (0.5 mm).
    pub min_digit_gap: f64,
    /// Fax margin: marks, codes and boxes must keep this far from every edge (8 mm).
    pub fax_margin: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            min_choice: mm(4.0),
            min_digit_width: mm(5.0),
            min_digit_height: mm(5.0),
            min_text_height: mm(6.0),
            min_area_height: mm(15.0),
            min_gap: mm(2.0),
            min_digit_gap: mm(0.5),
            fax_margin: mm(8.0),
        }
    }
}

/// One problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The page, if the problem is on one.
    pub page: Option<u32>,
    /// What is wrong, for a person.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.page {
            Some(p) => write!(f, "page {p}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// What [`check_survey`] found.
#[derive(Debug, Clone)]
pub struct Report {
    /// The layout checked.
    pub layout: Layout,
    /// The most pages allowed, if the campaign sets it.
    pub max_pages: Option<u32>,
    /// Everything that would break recognition or reading; empty if the design is fine.
    pub problems: Vec<Problem>,
}

impl Report {
    /// Whether nothing was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

fn describe(b: &AnswerBox) -> String {
    match (&b.option, b.digit) {
        (Some(o), _) => format!("{} option {o}", b.key),
        (None, Some(d)) => format!("{} digit {}", b.key, d + 1),
        _ => b.key.clone(),
    }
}

fn mmf(v: f64) -> String {
    format!("{:.1} mm", pt_to_mm(v))
}

/// Distance between two rectangles (0 if they touch or overlap).
fn distance(a: &Rect, b: &Rect) -> f64 {
    let dx = (a.x.max(b.x) - (a.x + a.w).min(b.x + b.w)).max(0.0);
    let dy = (a.y.max(b.y) - (a.y + a.h).min(b.y + b.h)).max(0.0);
    dx.hypot(dy)
}

/// Checks a layout against `limits`; see the [module documentation](self).
pub fn check_layout(layout: &Layout, limits: &Limits) -> Vec<Problem> {
    let mut out = Vec::new();
    let (pw, ph) = (layout.page_size.width, layout.page_size.height);
    let m = limits.fax_margin;
    let in_margin = |r: &Rect| {
        r.x < m - 1e-6 || r.y < m - 1e-6 || r.x + r.w > pw - m + 1e-6 || r.y + r.h > ph - m + 1e-6
    };
    for page in &layout.pages {
        let mut push = |message: String| {
            out.push(Problem {
                page: Some(page.number),
                message,
            })
        };
        let marks: Vec<Rect> = page
            .registration_marks
            .iter()
            .map(|k| Rect {
                x: k.cx - k.size / 2.0,
                y: k.cy - k.size / 2.0,
                w: k.size,
                h: k.size,
            })
            .collect();
        let names = ["top-left", "top-right", "bottom-left", "bottom-right"];
        for (r, name) in marks.iter().zip(names) {
            if in_margin(r) {
                push(format!(
                    "the {name} registration mark is within {} of the page edge (fax machines lose the edges)",
                    mmf(m)
                ));
            }
        }
        let codes: Vec<Rect> = page.page_codes.iter().map(|c| c.rect()).collect();
        for (i, r) in codes.iter().enumerate() {
            if in_margin(r) {
                push(format!(
                    "page code copy {} is within {} of the page edge",
                    i + 1,
                    mmf(m)
                ));
            }
            for (mark, name) in marks.iter().zip(names) {
                if r.inflate(CODE_QUIET).overlaps(&mark.inflate(MARK_QUIET)) {
                    push(format!(
                        "page code copy {} is in the quiet zone of the {name} mark",
                        i + 1
                    ));
                }
            }
        }
        if codes.len() == 2 && codes[0].inflate(CODE_QUIET).overlaps(&codes[1]) {
            push("the two page codes touch".into());
        }
        for b in &page.boxes {
            let r = &b.rect;
            let d = describe(b);
            match b.kind {
                BoxKind::Choice
                    if r.w < limits.min_choice - 1e-6 || r.h < limits.min_choice - 1e-6 =>
                {
                    push(format!(
                        "check box {d} is {}×{}, smaller than {}",
                        mmf(r.w),
                        mmf(r.h),
                        mmf(limits.min_choice)
                    ))
                }
                BoxKind::Digit
                    if r.w < limits.min_digit_width - 1e-6
                        || r.h < limits.min_digit_height - 1e-6 =>
                {
                    push(format!(
                        "digit box {d} is {}×{}, smaller than {}×{}",
                        mmf(r.w),
                        mmf(r.h),
                        mmf(limits.min_digit_width),
                        mmf(limits.min_digit_height)
                    ))
                }
                BoxKind::Text if r.h < limits.min_text_height - 1e-6 => push(format!(
                    "text box {d} is {} high, less than {}",
                    mmf(r.h),
                    mmf(limits.min_text_height)
                )),
                BoxKind::Area if r.h < limits.min_area_height - 1e-6 => push(format!(
                    "free-text area {d} is {} high, less than {}",
                    mmf(r.h),
                    mmf(limits.min_area_height)
                )),
                _ => {}
            }
            if r.x < 0.0 || r.y < 0.0 || r.x + r.w > pw || r.y + r.h > ph {
                push(format!("box {d} is (partly) off the page"));
            } else if in_margin(r) {
                push(format!("box {d} is within {} of the page edge", mmf(m)));
            }
            for (mark, name) in marks.iter().zip(names) {
                if r.overlaps(&mark.inflate(MARK_QUIET)) {
                    push(format!(
                        "box {d} is in the quiet zone of the {name} registration mark"
                    ));
                }
            }
            for (i, code) in codes.iter().enumerate() {
                if r.overlaps(&code.inflate(CODE_QUIET)) {
                    push(format!(
                        "box {d} is in the quiet zone of page code copy {}",
                        i + 1
                    ));
                }
            }
        }
        for (i, a) in page.boxes.iter().enumerate() {
            for b in &page.boxes[i + 1..] {
                let comb = a.kind == BoxKind::Digit && b.kind == BoxKind::Digit && a.key == b.key;
                let min = if comb {
                    limits.min_digit_gap
                } else {
                    limits.min_gap
                };
                if a.rect.overlaps(&b.rect) {
                    push(format!("boxes {} and {} overlap", describe(a), describe(b)));
                } else {
                    let dist = distance(&a.rect, &b.rect);
                    if dist < min - 1e-6 {
                        push(format!(
                            "boxes {} and {} are {} apart, closer than {}",
                            describe(a),
                            describe(b),
                            mmf(dist),
                            mmf(min)
                        ));
                    }
                }
                for (x, y) in [(a, b), (b, a)] {
                    if let Some(l) = &x.label_rect
                        && l.overlaps(&y.rect)
                    {
                        push(format!(
                            "the label of {} overlaps box {}",
                            describe(x),
                            describe(y)
                        ));
                    }
                }
            }
        }
    }
    out
}

/// Checks a survey's design: its layout ([`check_layout`] with default limits), every answer field
/// has a box, text fits, and — with campaign settings — the cover letter fits and the form has no
/// more pages than `max_pages`.
pub fn check_survey(survey: &Survey, content_hash: &str, campaign: Option<&Campaign>) -> Report {
    let layout = crate::form::layout(survey, content_hash);
    let mut problems: Vec<Problem> = crate::form::plan_problems(survey)
        .into_iter()
        .map(|message| Problem {
            page: None,
            message,
        })
        .collect();
    problems.extend(check_layout(&layout, &Limits::default()));
    for field in survey.fields() {
        let key = field.key();
        if !layout
            .pages
            .iter()
            .any(|p| p.boxes.iter().any(|b| b.key == key))
        {
            problems.push(Problem {
                page: None,
                message: format!("answer field {key} has no box on the form"),
            });
        }
    }
    let pages = layout.pages.len();
    let mut max_pages = None;
    if let Some(c) = campaign {
        max_pages = c.survey(&survey.id).max_pages;
        if let Some(max) = max_pages
            && pages as u32 > max
        {
            problems.push(Problem {
                page: None,
                message: format!("the form has {pages} pages (cover letter included), more than max_pages = {max} in the campaign settings"),
            });
        }
        for letter in [
            crate::form::cover::Letter::Request,
            crate::form::cover::Letter::Reminder,
        ] {
            if let Some(message) = crate::form::cover::letter_overflow(survey, c, letter, pages) {
                problems.push(Problem {
                    page: Some(1),
                    message,
                });
            }
        }
    }
    Report {
        layout,
        max_pages,
        problems,
    }
}
