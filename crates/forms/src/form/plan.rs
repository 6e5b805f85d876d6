//! The planner: turns a survey definition into positioned pages.
//!
//! Everything here is a pure function of the survey and the constants of this module and
//! [`super::frame`] (and the metrics of the embedded font): no facility, campaign or date goes in.
//! That is what lets recognition recompute the layout from the stored definition.
//!
//! A question is planned as a [`Block`] relative to its own top-left corner, then placed on the
//! current page if it fits, else at the top of the next one: questions are never split. A section
//! heading stays with the first question under it.

use capsurvey_layout::{AnswerBox, BoxKind, PageKind};
use capsurvey_survey::{Prefill, Question, QuestionKind, Survey, WriteIn};

use super::draw::{El, lines, printable, width};
use super::frame::{self, CONTENT_BOTTOM, CONTENT_LEFT, CONTENT_WIDTH, QUESTIONS_TOP};
use crate::geom::{Rect, Stroke, mm};

/// Side of a check box (4.5 mm).
pub const CHOICE_BOX: f64 = mm(4.5);
/// Width of a digit box (6 mm).
pub const DIGIT_WIDTH: f64 = mm(6.0);
/// Height of a digit box (7.5 mm).
pub const DIGIT_HEIGHT: f64 = mm(7.5);
/// Space between the digit boxes of one number (1 mm).
pub const DIGIT_GAP: f64 = mm(1.0);
/// Height of a short-text box (8 mm).
pub const TEXT_HEIGHT: f64 = mm(8.0);
/// Height of an option's write-in box (7.5 mm).
pub const WRITE_IN_HEIGHT: f64 = mm(7.5);
/// Height of a free-text area (36 mm), unless it shrinks to fit a page or grows to fill the last.
pub const AREA_HEIGHT: f64 = mm(36.0);
/// The smallest a free-text area shrinks to, to stay on the page (24 mm).
pub const AREA_MIN_HEIGHT: f64 = mm(24.0);
/// The largest the last free-text area grows to, to fill the last page (90 mm).
pub const AREA_MAX_HEIGHT: f64 = mm(90.0);
/// Digit boxes of an option's count write-in (連携先の医療機関数).
pub const WRITE_IN_DIGITS: u32 = 3;

/// Stroke of check boxes and digit boxes.
pub const BOX_STROKE: f64 = 0.8;
/// Stroke of text boxes and areas.
pub const TEXT_BOX_STROKE: f64 = 0.6;

const Q_SIZE: f64 = 10.0;
const Q_LINE: f64 = 14.5;
const NOTE_SIZE: f64 = 8.8;
const NOTE_LINE: f64 = 12.5;
const OPT_SIZE: f64 = 9.5;
const OPT_LINE: f64 = 13.0;
const LABEL_GAP: f64 = mm(1.5);
const COL_GAP: f64 = mm(3.0);
const ROW_GAP: f64 = mm(2.2);
const QUESTION_GAP: f64 = mm(3.5);
const BAND_PAD: f64 = 3.0;

/// A prefilled value's place: the text box it is printed in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct PrefillSlot {
    pub rect: Rect,
    pub prefill: Prefill,
}

/// One planned page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PagePlan {
    pub number: u32,
    pub kind: PageKind,
    pub els: Vec<El>,
    pub boxes: Vec<AnswerBox>,
    pub prefills: Vec<PrefillSlot>,
}

/// The whole planned form: the cover (page 1, drawn from the campaign) and the question pages.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Plan {
    pub pages: Vec<PagePlan>,
    /// Text that did not fit, characters the font lacks: reported by `forms check`.
    pub problems: Vec<String>,
}

/// Something planned relative to its own top-left corner.
#[derive(Debug, Clone, Default)]
struct Block {
    height: f64,
    /// Space after the block that may hang past the page bottom.
    gap_after: f64,
    els: Vec<El>,
    boxes: Vec<AnswerBox>,
    prefills: Vec<PrefillSlot>,
    /// Whether this is a question (its boxes get the block as `question_rect`).
    question: bool,
}

fn lrect(r: Rect) -> capsurvey_layout::Rect {
    let f = frame::round3;
    capsurvey_layout::Rect {
        x: f(r.x),
        y: f(r.y),
        w: f(r.width),
        h: f(r.height),
    }
}

/// Plans the question pages of `survey` (pages 2…; page 1 is the cover letter).
pub(crate) fn plan(survey: &Survey) -> Plan {
    let mut p = Planner {
        problems: Vec::new(),
        num_width: number_width(survey),
        area_height: AREA_HEIGHT,
    };
    let mut blocks: Vec<Planned<'_>> = Vec::new();
    blocks.push((p.title_block(survey), false, None));
    let numbers: Vec<String> = survey
        .questions()
        .enumerate()
        .map(|(i, (_, q))| q.number.clone().unwrap_or_else(|| (i + 1).to_string()))
        .collect();
    let mut qi = 0;
    for section in &survey.sections {
        blocks.push((
            p.section_block(&section.title, section.note.as_deref()),
            true,
            None,
        ));
        for q in &section.questions {
            let long = (q.kind == QuestionKind::LongText).then(|| (q, numbers[qi].clone()));
            blocks.push((p.question_block(q, &numbers[qi]), false, long));
            qi += 1;
        }
    }
    blocks.push((closing_block(), false, None));

    let mut pages: Vec<PagePlan> = vec![PagePlan {
        number: 1,
        kind: PageKind::Cover,
        els: Vec::new(),
        boxes: Vec::new(),
        prefills: Vec::new(),
    }];
    let new_page = |pages: &mut Vec<PagePlan>| {
        let number = pages.len() as u32 + 1;
        pages.push(PagePlan {
            number,
            kind: PageKind::Questions,
            els: Vec::new(),
            boxes: Vec::new(),
            prefills: Vec::new(),
        });
    };
    new_page(&mut pages);
    let mut y = QUESTIONS_TOP;
    let available = CONTENT_BOTTOM - QUESTIONS_TOP;
    let count = blocks.len();
    for i in 0..count {
        // A free-text area shrinks (to AREA_MIN_HEIGHT) rather than open a page of its own, and
        // the last one grows (to AREA_MAX_HEIGHT) into the space left on the last page.
        if let Some((q, number)) = blocks[i].2.clone() {
            let block = &blocks[i].0;
            let fixed = block.height - block.gap_after - p.area_height;
            let after: f64 = blocks[i + 1..].iter().map(|b| b.0.height).sum();
            let last_question = blocks[i + 1..]
                .iter()
                .all(|b| b.2.is_none() && !b.1 && b.0.boxes.is_empty());
            let room = CONTENT_BOTTOM - y - fixed;
            let after = after + block.gap_after;
            let area = if last_question && room - after >= AREA_MIN_HEIGHT {
                Some(
                    (room - after)
                        .min(AREA_MAX_HEIGHT)
                        .max(AREA_MIN_HEIGHT.min(room - after)),
                )
            } else if (AREA_MIN_HEIGHT..AREA_HEIGHT).contains(&room) {
                Some(room)
            } else {
                None
            };
            if let Some(h) = area {
                let saved = p.problems.len();
                p.area_height = (h * 10.0).floor() / 10.0;
                blocks[i].0 = p.question_block(q, &number);
                p.area_height = AREA_HEIGHT;
                p.problems.truncate(saved);
            }
        }
        let (block, keep, _) = &blocks[i];
        // A heading needs room for itself and the question under it.
        let mut needed = block.height;
        if *keep && let Some((next, _, _)) = blocks.get(i + 1) {
            needed += next.height - next.gap_after;
        } else {
            needed -= block.gap_after;
        }
        let page_empty = y <= QUESTIONS_TOP + 0.01;
        if y + needed > CONTENT_BOTTOM + 0.01 && !page_empty {
            new_page(&mut pages);
            y = QUESTIONS_TOP;
        }
        if block.height - block.gap_after > available + 0.01 {
            p.problems.push(format!(
                "page {}: a question is {:.0} mm tall, more than the {:.0} mm of a page: it runs off the page",
                pages.len(),
                crate::geom::pt_to_mm(block.height - block.gap_after),
                crate::geom::pt_to_mm(available)
            ));
        }
        let page = pages.last_mut().expect("a page");
        place(page, block, CONTENT_LEFT, y);
        y += block.height;
    }
    let total = pages.len();
    for page in pages.iter_mut().skip(1) {
        page_furniture(page, survey, total);
    }
    // Nothing may run past the content area's sides or into the fax margin.
    for page in &pages {
        for e in &page.els {
            if let El::Text {
                x, y, size, text, ..
            } = e
            {
                let w = width(text, *size);
                let (l, r) = (frame::HEADER_LEFT - 0.01, frame::CONTENT_RIGHT + 0.5);
                if *x < l.min(CONTENT_LEFT) - 0.01
                    || x + w > r
                    || *y < mm(8.0)
                    || y + size > crate::geom::A4_HEIGHT - mm(8.0)
                {
                    p.problems.push(format!(
                        "page {}: text runs off the printable area: {text}",
                        page.number
                    ));
                }
            }
        }
    }
    Plan {
        pages,
        problems: p.problems,
    }
}

/// 「質問は以上です。ご協力ありがとうございました。」 after the last question.
fn closing_block() -> Block {
    let mut b = Block::default();
    let t = "質問は以上です。ご協力ありがとうございました。";
    let w = width(t, 9.5);
    b.els.push(El::Text {
        x: CONTENT_WIDTH - w,
        y: mm(1.0),
        size: 9.5,
        gray: 0.0,
        text: t.into(),
    });
    b.height = mm(1.0) + 9.5;
    b
}

/// A planned block: the block, whether it keeps with the next (headings), and the free-text
/// question it is with its number (to plan its area's height again).
type Planned<'a> = (Block, bool, Option<(&'a Question, String)>);

/// Moves a block onto the page at `(x, y)`.
fn place(page: &mut PagePlan, block: &Block, x: f64, y: f64) {
    page.els.extend(block.els.iter().map(|e| e.shifted(x, y)));
    let q_rect = lrect(Rect::new(
        x,
        y,
        CONTENT_WIDTH,
        block.height - block.gap_after,
    ));
    for b in &block.boxes {
        let mut b = b.clone();
        let mv = |r: &capsurvey_layout::Rect| lrect(Rect::new(r.x + x, r.y + y, r.w, r.h));
        b.label_rect = b.label_rect.as_ref().map(mv);
        b.rect = mv(&b.rect);
        if block.question {
            b.question_rect = Some(q_rect);
        }
        page.boxes.push(b);
    }
    for s in &block.prefills {
        page.prefills.push(PrefillSlot {
            rect: Rect::new(s.rect.x + x, s.rect.y + y, s.rect.width, s.rect.height),
            prefill: s.prefill,
        });
    }
}

/// Width of the question-number column: the widest 「問23-1」 plus a gap, at least 13 mm.
fn number_width(survey: &Survey) -> f64 {
    let widest = survey
        .questions()
        .enumerate()
        .map(|(i, (_, q))| {
            width(
                &format!(
                    "問{}",
                    q.number.clone().unwrap_or_else(|| (i + 1).to_string())
                ),
                Q_SIZE,
            )
        })
        .fold(0.0, f64::max);
    (widest + mm(4.0)).max(mm(13.0))
}

/// What every question page has besides its questions: survey title in the header, the marking
/// instructions, the header rule and the page number. (The return FAX number and the facility
/// are drawn by the template in fixed slots; marks and codes by the frame.)
fn page_furniture(page: &mut PagePlan, survey: &Survey, total: usize) {
    let els = &mut page.els;
    let title = super::draw::fit_line(
        &survey.title,
        8.5,
        6.0,
        frame::HEADER_TEXT_RIGHT - frame::HEADER_LEFT,
    );
    els.push(El::Text {
        x: frame::HEADER_LEFT,
        y: frame::HEADER_TITLE_Y,
        size: title.size,
        gray: 0.25,
        text: title.text,
    });
    els.push(El::Line {
        x1: CONTENT_LEFT,
        y1: frame::HEADER_RULE_Y,
        x2: frame::CONTENT_RIGHT,
        y2: frame::HEADER_RULE_Y,
        stroke: Stroke::new(0.8),
    });
    marking_instructions(els);
    let number = format!("{}/{}", page.number, total);
    let w = width(&number, 11.0);
    els.push(El::Text {
        x: mm(105.0) - w / 2.0,
        y: frame::FOOTER_Y,
        size: 11.0,
        gray: 0.0,
        text: number,
    });
}

/// The two-line box explaining how to mark and how to cancel, with drawn examples.
fn marking_instructions(els: &mut Vec<El>) {
    let top = mm(30.5);
    let height = mm(9.5);
    let size = 8.5;
    let box_rect = Rect::new(CONTENT_LEFT, top, CONTENT_WIDTH, height);
    els.push(El::Fill {
        rect: box_rect,
        gray: 0.94,
    });
    els.push(El::Frame {
        rect: box_rect,
        stroke: Stroke::new(0.5),
    });
    // A dark tag 「記入方法」 on the left.
    let tag_w = width("記入方法", 9.0) + mm(3.0);
    els.push(El::Fill {
        rect: Rect::new(CONTENT_LEFT, top, tag_w, height),
        gray: 0.2,
    });
    els.push(El::Text {
        x: CONTENT_LEFT + mm(1.5),
        y: top + (height - 9.0) / 2.0,
        size: 9.0,
        gray: 1.0,
        text: "記入方法".into(),
    });
    let sample = mm(3.4);
    let x0 = CONTENT_LEFT + tag_w + mm(2.0);
    let line1 = top + mm(1.3);
    let line2 = top + height / 2.0 + mm(0.5);
    enum Seg<'a> {
        T(&'a str),
        Tick,
        Square,
        Filled,
    }
    let rows: [(f64, Vec<Seg>); 2] = [
        (
            line1,
            vec![
                Seg::T("あてはまる枠の中に✓または■を記入してください（例 "),
                Seg::Tick,
                Seg::Square,
                Seg::T("）。数字は1枠に1字ずつ記入してください。"),
            ],
        ),
        (
            line2,
            vec![
                Seg::T("取り消すときは枠全体を塗りつぶし（例 "),
                Seg::Filled,
                Seg::T("）、正しい枠に記入し直してください。"),
            ],
        ),
    ];
    for (y, segs) in rows {
        let mut x = x0;
        for seg in segs {
            let r = Rect::new(x + 1.0, y + (size - sample) / 2.0, sample, sample);
            match seg {
                Seg::T(t) => {
                    els.push(El::Text {
                        x,
                        y,
                        size,
                        gray: 0.0,
                        text: t.into(),
                    });
                    x += width(t, size);
                }
                Seg::Tick => {
                    els.push(El::Frame {
                        rect: r,
                        stroke: Stroke::new(0.6),
                    });
                    els.push(El::Tick { rect: r });
                    x += sample + 3.0;
                }
                Seg::Square => {
                    els.push(El::Frame {
                        rect: r,
                        stroke: Stroke::new(0.6),
                    });
                    els.push(El::Fill {
                        rect: r.inset(sample * 0.22),
                        gray: 0.0,
                    });
                    x += sample + 3.0;
                }
                Seg::Filled => {
                    els.push(El::Fill {
                        rect: r.inset(-0.6),
                        gray: 0.0,
                    });
                    x += sample + 3.0;
                }
            }
        }
    }
}

struct Planner {
    problems: Vec<String>,
    num_width: f64,
    /// Height of the next free-text area.
    area_height: f64,
}

impl Planner {
    /// Lines of `text`, noting characters the font lacks.
    fn lines(&mut self, what: &str, text: &str, size: f64, max_width: f64) -> Vec<(String, f64)> {
        if printable(text).1 {
            let missing = crate::text::missing_chars(text);
            self.problems.push(format!(
                "{what}: the form font has no glyph for {missing:?}; printed as 〓"
            ));
        }
        lines(text, size, max_width)
    }

    /// Survey title and introduction, at the top of page 2.
    fn title_block(&mut self, survey: &Survey) -> Block {
        let mut b = Block::default();
        let mut y = 0.0;
        for (line, w) in self.lines("title", &survey.title, 14.0, CONTENT_WIDTH) {
            b.els.push(El::Text {
                x: (CONTENT_WIDTH - w) / 2.0,
                y,
                size: 14.0,
                gray: 0.0,
                text: line,
            });
            y += 19.0;
        }
        y += 3.0;
        if !survey.intro.trim().is_empty() {
            let pad = mm(2.5);
            let top = y;
            y += pad;
            for (line, _) in self.lines(
                "intro",
                survey.intro.trim(),
                NOTE_SIZE,
                CONTENT_WIDTH - 2.0 * pad,
            ) {
                b.els.push(El::Text {
                    x: pad,
                    y,
                    size: NOTE_SIZE,
                    gray: 0.0,
                    text: line,
                });
                y += NOTE_LINE;
            }
            y += pad - (NOTE_LINE - NOTE_SIZE);
            b.els.push(El::Frame {
                rect: Rect::new(0.0, top, CONTENT_WIDTH, y - top),
                stroke: Stroke::new(0.5),
            });
        }
        b.gap_after = mm(4.0);
        b.height = y + b.gap_after;
        b
    }

    /// A section heading: a black square, the title, a rule, and the note.
    fn section_block(&mut self, title: &str, note: Option<&str>) -> Block {
        let mut b = Block::default();
        let size = 11.5;
        let sq = mm(2.6);
        let mut y = mm(1.5);
        b.els.push(El::Fill {
            rect: Rect::new(0.0, y + (size - sq) / 2.0, sq, sq),
            gray: 0.0,
        });
        for (line, _) in self.lines("section title", title, size, CONTENT_WIDTH - mm(4.5)) {
            b.els.push(El::Text {
                x: mm(4.5),
                y,
                size,
                gray: 0.0,
                text: line,
            });
            y += size + 4.0;
        }
        y += 0.5;
        b.els.push(El::Line {
            x1: 0.0,
            y1: y,
            x2: CONTENT_WIDTH,
            y2: y,
            stroke: Stroke::new(1.2),
        });
        y += 4.0;
        if let Some(note) = note.filter(|n| !n.trim().is_empty()) {
            for (line, _) in self.lines("section note", note, NOTE_SIZE, CONTENT_WIDTH - mm(1.0)) {
                b.els.push(El::Text {
                    x: mm(1.0),
                    y,
                    size: NOTE_SIZE,
                    gray: 0.0,
                    text: line,
                });
                y += NOTE_LINE;
            }
            y += 1.0;
        }
        b.gap_after = mm(2.5);
        b.height = y + b.gap_after;
        b
    }

    /// One question: the shaded band with number, text, 「必須」 and the instruction; the note;
    /// then its answer boxes.
    fn question_block(&mut self, q: &Question, number: &str) -> Block {
        let what = format!("問{number}");
        if q.kind == QuestionKind::ShortText
            && q.items.is_empty()
            && q.note.is_none()
            && !q.required
        {
            return self.inline_text_block(q, &what);
        }
        if q.kind == QuestionKind::YesNo
            && q.items.is_empty()
            && q.note.is_none()
            && let Some(b) = self.inline_yes_no_block(q, &what)
        {
            return b;
        }
        let mut b = Block {
            question: true,
            ..Block::default()
        };
        let text_x = self.num_width;
        let text_w = CONTENT_WIDTH - text_x - mm(2.0);
        let q_lines = self.lines(&what, &q.text, Q_SIZE, text_w);

        // The tail on the right of the band: 「必須」 and the instruction.
        let instr = q.instruction();
        let instr_size = 8.5;
        let instr_w = instr.map_or(0.0, |i| width(i, instr_size));
        let tag_w = if q.required {
            width("必須", 8.0) + 5.0
        } else {
            0.0
        };
        let tail_w = instr_w + if q.required { tag_w + 4.0 } else { 0.0 };
        let last_w = q_lines.last().map_or(0.0, |l| l.1);
        let tail_on_last = tail_w == 0.0 || last_w + mm(4.0) + tail_w <= text_w;
        let band_lines = q_lines.len() + usize::from(!tail_on_last);
        let band_h = band_lines as f64 * Q_LINE + 2.0 * BAND_PAD - (Q_LINE - Q_SIZE);
        b.els.push(El::Fill {
            rect: Rect::new(0.0, 0.0, CONTENT_WIDTH, band_h),
            gray: 0.88,
        });
        b.els.push(El::Text {
            x: mm(1.5),
            y: BAND_PAD,
            size: Q_SIZE,
            gray: 0.0,
            text: what.clone(),
        });
        let mut y = BAND_PAD;
        for (line, _) in &q_lines {
            b.els.push(El::Text {
                x: text_x,
                y,
                size: Q_SIZE,
                gray: 0.0,
                text: line.clone(),
            });
            y += Q_LINE;
        }
        if tail_w > 0.0 {
            let ty = if tail_on_last { y - Q_LINE } else { y };
            let mut x = CONTENT_WIDTH - mm(1.5) - tail_w;
            if q.required {
                let r = Rect::new(x, ty + (Q_SIZE - 11.0) / 2.0, tag_w, 11.0);
                b.els.push(El::Fill { rect: r, gray: 0.0 });
                // On the question's baseline, so text extraction keeps the line together.
                b.els.push(El::Text {
                    x: x + 2.5,
                    y: ty + 0.88 * (Q_SIZE - 8.0),
                    size: 8.0,
                    gray: 1.0,
                    text: "必須".into(),
                });
                x += tag_w + 4.0;
            }
            if let Some(i) = instr {
                b.els.push(El::Text {
                    x,
                    y: ty + 0.88 * (Q_SIZE - instr_size),
                    size: instr_size,
                    gray: 0.0,
                    text: i.into(),
                });
            }
        }
        y = band_h + 3.5;
        if let Some(note) = q.note.as_deref().filter(|n| !n.trim().is_empty()) {
            for (line, _) in self.lines(&what, note, NOTE_SIZE, CONTENT_WIDTH - text_x) {
                b.els.push(El::Text {
                    x: text_x,
                    y,
                    size: NOTE_SIZE,
                    gray: 0.0,
                    text: line,
                });
                y += NOTE_LINE;
            }
            y += 2.0;
        }
        y += 1.0;
        let ans = self.answers(q, &what, CONTENT_WIDTH - text_x);
        for e in &ans.els {
            b.els.push(e.shifted(text_x, y));
        }
        for a in &ans.boxes {
            let mut a = a.clone();
            a.rect.x += text_x;
            a.rect.y += y;
            if let Some(l) = a.label_rect.as_mut() {
                l.x += text_x;
                l.y += y;
            }
            b.boxes.push(a);
        }
        for s in &ans.prefills {
            b.prefills.push(PrefillSlot {
                rect: Rect::new(s.rect.x + text_x, s.rect.y + y, s.rect.width, s.rect.height),
                prefill: s.prefill,
            });
        }
        y += ans.height;
        b.gap_after = QUESTION_GAP;
        b.height = y + b.gap_after;
        b
    }

    /// A one-line text question as a table row: number and text in a shaded cell on the left,
    /// the text box on the right (施設名, 所在地, 電話番号 …).
    fn inline_text_block(&mut self, q: &Question, what: &str) -> Block {
        let mut b = Block {
            question: true,
            ..Block::default()
        };
        let label_col = self.num_width + mm(40.0);
        let ls = self.lines(what, &q.text, Q_SIZE, label_col - self.num_width - mm(1.5));
        let text_h = (ls.len() as f64 - 1.0) * Q_LINE + Q_SIZE;
        let h = TEXT_HEIGHT.max(text_h + 2.0 * BAND_PAD);
        b.els.push(El::Fill {
            rect: Rect::new(0.0, 0.0, label_col, h),
            gray: 0.88,
        });
        let mut ty = (h - text_h) / 2.0;
        b.els.push(El::Text {
            x: mm(1.5),
            y: ty,
            size: Q_SIZE,
            gray: 0.0,
            text: what.to_owned(),
        });
        for (line, _) in ls {
            b.els.push(El::Text {
                x: self.num_width,
                y: ty,
                size: Q_SIZE,
                gray: 0.0,
                text: line,
            });
            ty += Q_LINE;
        }
        let bx = label_col + mm(2.0);
        let r = Rect::new(bx, (h - TEXT_HEIGHT) / 2.0, CONTENT_WIDTH - bx, TEXT_HEIGHT);
        b.els.push(El::Frame {
            rect: r,
            stroke: Stroke::new(TEXT_BOX_STROKE),
        });
        b.boxes
            .push(answer_box(q.id.clone(), None, None, BoxKind::Text, r, None));
        if let Some(p) = q.prefill {
            b.prefills.push(PrefillSlot {
                rect: r,
                prefill: p,
            });
        }
        b.gap_after = mm(2.5);
        b.height = h + b.gap_after;
        b
    }

    /// A short yes/no question without a note on one row: the shaded band with number, text and
    /// instruction, the two check boxes on its right. `None` if the text needs more than a line.
    fn inline_yes_no_block(&mut self, q: &Question, what: &str) -> Option<Block> {
        let [yes, no] = q.yes_no_labels();
        let cell = |l: &str| CHOICE_BOX + LABEL_GAP + width(l, OPT_SIZE) + mm(5.0);
        let choices_w = cell(yes) + cell(no) - mm(3.0);
        let band_w = CONTENT_WIDTH - choices_w - mm(3.0);
        let instr = q.instruction().unwrap_or_default();
        let instr_size = 8.5;
        let tag_w = if q.required {
            width("必須", 8.0) + 5.0 + 4.0
        } else {
            0.0
        };
        let tail_w = width(instr, instr_size) + tag_w;
        let text_w = band_w - self.num_width - tail_w - mm(4.0);
        if printable(&q.text).1 || width(&q.text, Q_SIZE) > text_w {
            return None;
        }
        let mut b = Block {
            question: true,
            ..Block::default()
        };
        let h = (Q_SIZE + 2.0 * BAND_PAD).max(CHOICE_BOX + 4.0);
        b.els.push(El::Fill {
            rect: Rect::new(0.0, 0.0, band_w, h),
            gray: 0.88,
        });
        let ty = (h - Q_SIZE) / 2.0;
        b.els.push(El::Text {
            x: mm(1.5),
            y: ty,
            size: Q_SIZE,
            gray: 0.0,
            text: what.to_owned(),
        });
        b.els.push(El::Text {
            x: self.num_width,
            y: ty,
            size: Q_SIZE,
            gray: 0.0,
            text: q.text.clone(),
        });
        let mut x = band_w - mm(1.5) - tail_w;
        if q.required {
            let r = Rect::new(x, ty + (Q_SIZE - 11.0) / 2.0, tag_w - 4.0, 11.0);
            b.els.push(El::Fill { rect: r, gray: 0.0 });
            b.els.push(El::Text {
                x: x + 2.5,
                y: ty + 0.88 * (Q_SIZE - 8.0),
                size: 8.0,
                gray: 1.0,
                text: "必須".into(),
            });
            x += tag_w;
        }
        b.els.push(El::Text {
            x,
            y: ty + 0.88 * (Q_SIZE - instr_size),
            size: instr_size,
            gray: 0.0,
            text: instr.into(),
        });
        let mut cx = band_w + mm(3.0);
        let y = (h - CHOICE_BOX) / 2.0;
        for (code, label) in [(capsurvey_survey::YES, yes), (capsurvey_survey::NO, no)] {
            let o = Opt {
                key: q.id.clone(),
                option: code.into(),
                code_label: None,
                label: label.into(),
                write_in: None,
            };
            self.choice_cell(&mut b, what, &o, cx, y, cell(label), 0.0);
            cx += cell(label);
        }
        b.gap_after = mm(2.5);
        b.height = h + b.gap_after;
        Some(b)
    }

    /// The answer area of a question, `avail` wide, relative to its top-left.
    fn answers(&mut self, q: &Question, what: &str, avail: f64) -> Block {
        match q.kind {
            QuestionKind::Single | QuestionKind::Multiple => {
                let opts: Vec<Opt> = q
                    .options
                    .iter()
                    .map(|o| Opt {
                        key: q.id.clone(),
                        option: o.code.clone(),
                        code_label: Some(format!("{}.", o.code)),
                        label: o.label.clone(),
                        write_in: o.write_in.map(|w| (format!("{}.{}", q.id, o.code), w)),
                    })
                    .collect();
                self.choice_grid(what, &opts, avail)
            }
            QuestionKind::YesNo if q.items.is_empty() => {
                let [yes, no] = q.yes_no_labels();
                let opts: Vec<Opt> = [(capsurvey_survey::YES, yes), (capsurvey_survey::NO, no)]
                    .into_iter()
                    .map(|(code, label)| Opt {
                        key: q.id.clone(),
                        option: code.into(),
                        code_label: None,
                        label: label.into(),
                        write_in: None,
                    })
                    .collect();
                self.choice_grid(what, &opts, avail)
            }
            QuestionKind::YesNo => self.yes_no_table(q, what, avail),
            QuestionKind::Count | QuestionKind::Decimal => self.numbers(q, what, avail),
            QuestionKind::ShortText => self.short_texts(q, what, avail),
            QuestionKind::LongText => {
                let mut b = Block::default();
                let r = Rect::new(0.0, 0.0, avail, self.area_height);
                b.els.push(El::Frame {
                    rect: r,
                    stroke: Stroke::new(TEXT_BOX_STROKE),
                });
                b.boxes
                    .push(answer_box(q.id.clone(), None, None, BoxKind::Area, r, None));
                b.height = self.area_height;
                b
            }
        }
    }

    /// Check boxes in a grid of equal columns (4, 3, 2 or 1), filled row by row in option
    /// order: the column count giving the lowest grid wins, each label line beyond the first counting
    /// as a line more and labels of three lines or more being avoided, and more columns winning ties (columns then line up across
    /// questions). An option with a write-in takes a row of its own, with its text box or digit
    /// boxes after the label.
    fn choice_grid(&mut self, what: &str, opts: &[Opt], avail: f64) -> Block {
        let saved = self.problems.len();
        let mut best: Option<(f64, usize)> = None;
        for cols in [4usize, 3, 2, 1] {
            let (b, penalty) = self.choice_grid_with(what, opts, avail, cols);
            let score = b.height + penalty;
            if best.is_none_or(|(s, _)| score < s - 0.01) {
                best = Some((score, cols));
            }
        }
        self.problems.truncate(saved);
        let cols = best.map_or(1, |b| b.1);
        self.choice_grid_with(what, opts, avail, cols).0
    }

    /// The grid with `cols` columns, and a penalty for labels that had to wrap.
    fn choice_grid_with(
        &mut self,
        what: &str,
        opts: &[Opt],
        avail: f64,
        cols: usize,
    ) -> (Block, f64) {
        let code_w = opts
            .iter()
            .filter_map(|o| o.code_label.as_deref())
            .map(|c| width(c, OPT_SIZE) + 3.0)
            .fold(0.0, f64::max);
        let col_w = (avail - (cols as f64 - 1.0) * COL_GAP) / cols as f64;

        let mut b = Block::default();
        let mut penalty = 0.0;
        let mut y = 0.0;
        let mut col = 0;
        let mut row_h: f64 = 0.0;
        for o in opts {
            if o.write_in.is_some() && col > 0 {
                y += row_h + ROW_GAP;
                col = 0;
                row_h = 0.0;
            }
            let x = col as f64 * (col_w + COL_GAP);
            let h = match &o.write_in {
                None => self.choice_cell(&mut b, what, o, x, y, col_w, code_w),
                Some((key, kind)) => {
                    self.write_in_row(&mut b, what, o, key, *kind, y, avail, code_w)
                }
            };
            // Extra label lines: each costs about a line, and a label of three lines or more
            // reads badly enough to rule the column count out.
            let base = if o.write_in.is_some() {
                WRITE_IN_HEIGHT.max(DIGIT_HEIGHT)
            } else {
                CHOICE_BOX
            };
            let extra = ((h - base) / OPT_LINE).ceil().max(0.0) as usize;
            penalty += extra as f64 * 10.0 + if extra >= 2 { 100.0 } else { 0.0 };
            row_h = row_h.max(h);
            col += 1;
            if col == cols || o.write_in.is_some() {
                y += row_h + ROW_GAP;
                col = 0;
                row_h = 0.0;
            }
        }
        if col > 0 {
            y += row_h + ROW_GAP;
        }
        b.height = (y - ROW_GAP).max(0.0);
        (b, penalty)
    }

    /// One check box with its label in a cell `w` wide; returns the cell's height.
    #[allow(clippy::too_many_arguments)]
    fn choice_cell(
        &mut self,
        b: &mut Block,
        what: &str,
        o: &Opt,
        x: f64,
        y: f64,
        w: f64,
        code_w: f64,
    ) -> f64 {
        let line_h = CHOICE_BOX;
        let mid = y + line_h / 2.0;
        let bx = Rect::new(x, mid - CHOICE_BOX / 2.0, CHOICE_BOX, CHOICE_BOX);
        b.els.push(El::Frame {
            rect: bx,
            stroke: Stroke::new(BOX_STROKE),
        });
        let lx = x + CHOICE_BOX + LABEL_GAP;
        let text_top = mid - OPT_SIZE / 2.0;
        if let Some(c) = &o.code_label {
            b.els.push(El::Text {
                x: lx,
                y: text_top,
                size: OPT_SIZE,
                gray: 0.0,
                text: c.clone(),
            });
        }
        let tx = lx + code_w;
        let ls = self.lines(what, &o.label, OPT_SIZE, (x + w - tx).max(OPT_SIZE));
        let mut ty = text_top;
        let mut max_w: f64 = 0.0;
        for (line, lw) in &ls {
            b.els.push(El::Text {
                x: tx,
                y: ty,
                size: OPT_SIZE,
                gray: 0.0,
                text: line.clone(),
            });
            max_w = max_w.max(*lw);
            ty += OPT_LINE;
        }
        let label = Rect::new(
            lx,
            text_top,
            code_w + max_w,
            ty - OPT_LINE + OPT_SIZE - text_top,
        );
        b.boxes.push(answer_box(
            o.key.clone(),
            Some(o.option.clone()),
            None,
            BoxKind::Choice,
            bx,
            Some(label),
        ));
        (label.bottom() - y).max(line_h)
    }

    /// An option with a write-in, on a row of its own; returns the row's height.
    #[allow(clippy::too_many_arguments)]
    fn write_in_row(
        &mut self,
        b: &mut Block,
        what: &str,
        o: &Opt,
        key: &str,
        kind: WriteIn,
        y: f64,
        avail: f64,
        code_w: f64,
    ) -> f64 {
        let field_h = match kind {
            WriteIn::Text => WRITE_IN_HEIGHT,
            WriteIn::Count => DIGIT_HEIGHT,
        };
        let field_w_min = match kind {
            WriteIn::Text => mm(55.0),
            WriteIn::Count => digits_width(WRITE_IN_DIGITS, 0),
        };
        let mid = y + field_h / 2.0;
        let bx = Rect::new(0.0, mid - CHOICE_BOX / 2.0, CHOICE_BOX, CHOICE_BOX);
        b.els.push(El::Frame {
            rect: bx,
            stroke: Stroke::new(BOX_STROKE),
        });
        let lx = CHOICE_BOX + LABEL_GAP;
        let text_top = mid - OPT_SIZE / 2.0;
        if let Some(c) = &o.code_label {
            b.els.push(El::Text {
                x: lx,
                y: text_top,
                size: OPT_SIZE,
                gray: 0.0,
                text: c.clone(),
            });
        }
        let tx = lx + code_w;
        // The label and the field share the line when there is room, else the field goes below.
        let one_line = width(&o.label, OPT_SIZE);
        let same_line = tx + one_line + mm(3.0) + field_w_min <= avail;
        let label_w = if same_line { one_line } else { avail - tx };
        let ls = self.lines(what, &o.label, OPT_SIZE, label_w.max(OPT_SIZE));
        let mut ty = text_top;
        let mut max_w: f64 = 0.0;
        for (line, lw) in &ls {
            b.els.push(El::Text {
                x: tx,
                y: ty,
                size: OPT_SIZE,
                gray: 0.0,
                text: line.clone(),
            });
            max_w = max_w.max(*lw);
            ty += OPT_LINE;
        }
        let label = Rect::new(
            lx,
            text_top,
            code_w + max_w,
            ty - OPT_LINE + OPT_SIZE - text_top,
        );
        b.boxes.push(answer_box(
            o.key.clone(),
            Some(o.option.clone()),
            None,
            BoxKind::Choice,
            bx,
            Some(label),
        ));
        let (fx, fy) = if same_line {
            (label.right() + mm(3.0), y)
        } else {
            (tx, label.bottom() + mm(2.0))
        };
        match kind {
            WriteIn::Text => {
                let r = Rect::new(fx, fy, avail - fx, WRITE_IN_HEIGHT);
                b.els.push(El::Frame {
                    rect: r,
                    stroke: Stroke::new(TEXT_BOX_STROKE),
                });
                b.boxes
                    .push(answer_box(key.into(), None, None, BoxKind::Text, r, None));
            }
            WriteIn::Count => {
                digit_boxes(b, key, fx, fy, WRITE_IN_DIGITS, 0);
            }
        }
        (fy + field_h - y).max(label.bottom() - y)
    }

    /// Yes/no per item: the item label, then the two answers, one row per item.
    fn yes_no_table(&mut self, q: &Question, what: &str, avail: f64) -> Block {
        let [yes, no] = q.yes_no_labels();
        let cell_w = [yes, no]
            .iter()
            .map(|l| CHOICE_BOX + LABEL_GAP + width(l, OPT_SIZE))
            .fold(0.0, f64::max)
            + mm(5.0);
        let label_w = q
            .items
            .iter()
            .map(|i| width(&i.label, OPT_SIZE))
            .fold(0.0, f64::max)
            .min(avail - 2.0 * cell_w - mm(4.0))
            .max(mm(20.0));
        let mut b = Block::default();
        let mut y = 0.0;
        for item in &q.items {
            let key = format!("{}.{}", q.id, item.code);
            let ls = self.lines(what, &item.label, OPT_SIZE, label_w);
            let mut ty = y + (CHOICE_BOX - OPT_SIZE) / 2.0;
            for (line, _) in &ls {
                b.els.push(El::Text {
                    x: 0.0,
                    y: ty,
                    size: OPT_SIZE,
                    gray: 0.0,
                    text: line.clone(),
                });
                ty += OPT_LINE;
            }
            let mut h = ty - OPT_LINE + OPT_SIZE - y;
            for (i, (code, label)) in [(capsurvey_survey::YES, yes), (capsurvey_survey::NO, no)]
                .into_iter()
                .enumerate()
            {
                let o = Opt {
                    key: key.clone(),
                    option: code.into(),
                    code_label: None,
                    label: label.into(),
                    write_in: None,
                };
                let x = label_w + mm(4.0) + i as f64 * cell_w;
                h = h.max(self.choice_cell(&mut b, what, &o, x, y, cell_w - mm(3.0), 0.0));
            }
            y += h + ROW_GAP;
        }
        b.height = (y - ROW_GAP).max(0.0);
        b
    }

    /// Digit boxes with the unit, per item, in up to three columns.
    fn numbers(&mut self, q: &Question, what: &str, avail: f64) -> Block {
        let (int_digits, decimals) = digit_counts(q);
        let boxes_w = digits_width(int_digits, decimals);
        let unit = q.unit.clone().unwrap_or_default();
        let unit_w = if unit.is_empty() {
            0.0
        } else {
            width(&unit, OPT_SIZE) + mm(1.5)
        };
        let entries: Vec<(String, Option<String>)> = if q.items.is_empty() {
            vec![(q.id.clone(), None)]
        } else {
            q.items
                .iter()
                .map(|i| (format!("{}.{}", q.id, i.code), Some(i.label.clone())))
                .collect()
        };
        let label_w = entries
            .iter()
            .filter_map(|e| e.1.as_deref())
            .map(|l| width(l, OPT_SIZE))
            .fold(0.0, f64::max);
        let label_gap = if label_w > 0.0 { mm(2.5) } else { 0.0 };
        let entry_w = |lw: f64| lw + label_gap + boxes_w + unit_w;
        let cols = [3usize, 2]
            .into_iter()
            .filter(|&n| n <= entries.len())
            .find(|&n| {
                let col_w = (avail - (n as f64 - 1.0) * mm(6.0)) / n as f64;
                entry_w(label_w) <= col_w
            })
            .unwrap_or(1);
        let col_w = (avail - (cols as f64 - 1.0) * mm(6.0)) / cols as f64;
        // Labels wrap if even one column is too narrow for them.
        let label_col = label_w.min(col_w - label_gap - boxes_w - unit_w).max(0.0);
        let mut b = Block::default();
        let mut y = 0.0;
        for row in entries.chunks(cols) {
            let mut row_h = DIGIT_HEIGHT;
            for (i, (key, label)) in row.iter().enumerate() {
                let x = i as f64 * (col_w + mm(6.0));
                let mid = y + DIGIT_HEIGHT / 2.0;
                if let Some(label) = label {
                    let ls = self.lines(what, label, OPT_SIZE, label_col.max(OPT_SIZE));
                    let block_h = (ls.len() as f64 - 1.0) * OPT_LINE + OPT_SIZE;
                    let mut ty = mid - block_h / 2.0;
                    if ty < y {
                        ty = y;
                    }
                    for (line, _) in &ls {
                        b.els.push(El::Text {
                            x,
                            y: ty,
                            size: OPT_SIZE,
                            gray: 0.0,
                            text: line.clone(),
                        });
                        ty += OPT_LINE;
                    }
                    row_h = row_h.max(ty - OPT_LINE + OPT_SIZE - y);
                }
                let bx = x + label_col + label_gap;
                digit_boxes(&mut b, key, bx, y, int_digits, decimals);
                if !unit.is_empty() {
                    b.els.push(El::Text {
                        x: bx + boxes_w + mm(1.5),
                        y: y + DIGIT_HEIGHT - OPT_SIZE - 1.0,
                        size: OPT_SIZE,
                        gray: 0.0,
                        text: unit.clone(),
                    });
                }
            }
            y += row_h + ROW_GAP;
        }
        b.height = (y - ROW_GAP).max(0.0);
        b
    }

    /// Text boxes, per item in two columns when the labels are short.
    fn short_texts(&mut self, q: &Question, what: &str, avail: f64) -> Block {
        let mut b = Block::default();
        if q.items.is_empty() {
            let r = Rect::new(0.0, 0.0, avail, TEXT_HEIGHT);
            b.els.push(El::Frame {
                rect: r,
                stroke: Stroke::new(TEXT_BOX_STROKE),
            });
            b.boxes
                .push(answer_box(q.id.clone(), None, None, BoxKind::Text, r, None));
            if let Some(p) = q.prefill {
                b.prefills.push(PrefillSlot {
                    rect: r,
                    prefill: p,
                });
            }
            b.height = TEXT_HEIGHT;
            return b;
        }
        let label_w = q
            .items
            .iter()
            .map(|i| width(&i.label, OPT_SIZE))
            .fold(0.0, f64::max);
        let two_w = (avail - mm(6.0)) / 2.0;
        let cols = if label_w <= two_w * 0.3 { 2 } else { 1 };
        let col_w = if cols == 2 { two_w } else { avail };
        let label_col = label_w.min(col_w * 0.45);
        let mut y = 0.0;
        for row in q.items.chunks(cols) {
            let mut row_h = TEXT_HEIGHT;
            for (i, item) in row.iter().enumerate() {
                let x = i as f64 * (col_w + mm(6.0));
                let ls = self.lines(what, &item.label, OPT_SIZE, label_col.max(OPT_SIZE));
                let block_h = (ls.len() as f64 - 1.0) * OPT_LINE + OPT_SIZE;
                let mut ty = (y + TEXT_HEIGHT / 2.0 - block_h / 2.0).max(y);
                for (line, _) in &ls {
                    b.els.push(El::Text {
                        x,
                        y: ty,
                        size: OPT_SIZE,
                        gray: 0.0,
                        text: line.clone(),
                    });
                    ty += OPT_LINE;
                }
                row_h = row_h.max(ty - OPT_LINE + OPT_SIZE - y);
                let bx = x + label_col + mm(2.5);
                let r = Rect::new(bx, y, x + col_w - bx, TEXT_HEIGHT);
                b.els.push(El::Frame {
                    rect: r,
                    stroke: Stroke::new(TEXT_BOX_STROKE),
                });
                b.boxes.push(answer_box(
                    format!("{}.{}", q.id, item.code),
                    None,
                    None,
                    BoxKind::Text,
                    r,
                    None,
                ));
            }
            y += row_h + ROW_GAP;
        }
        b.height = (y - ROW_GAP).max(0.0);
        b
    }
}

/// A check box to plan: the field key, option code and label.
struct Opt {
    key: String,
    option: String,
    /// 「1.」, printed before the label (none for yes/no).
    code_label: Option<String>,
    label: String,
    /// The write-in's field key and kind.
    write_in: Option<(String, WriteIn)>,
}

fn answer_box(
    key: String,
    option: Option<String>,
    digit: Option<u32>,
    kind: BoxKind,
    rect: Rect,
    label: Option<Rect>,
) -> AnswerBox {
    AnswerBox {
        key,
        option,
        digit,
        kind,
        rect: lrect(rect),
        label_rect: label.map(lrect),
        question_rect: None,
    }
}

/// Digits before and after the decimal point for a numeric question: as many as `max` needs.
pub(crate) fn digit_counts(q: &Question) -> (u32, u32) {
    let max = q.max.unwrap_or(999.0).max(0.0);
    let int_digits = (max.floor() as u64).to_string().len() as u32;
    let decimals = if q.kind == QuestionKind::Decimal {
        u32::from(q.decimals.unwrap_or(1))
    } else {
        0
    };
    (int_digits.max(1), decimals)
}

/// Width of a row of digit boxes with a decimal point after `int_digits`.
pub(crate) fn digits_width(int_digits: u32, decimals: u32) -> f64 {
    let n = int_digits + decimals;
    let point = if decimals > 0 { mm(2.5) } else { 0.0 };
    n as f64 * DIGIT_WIDTH + (n.saturating_sub(1)) as f64 * DIGIT_GAP + point
}

/// Plans the digit boxes of one number at `(x, y)`: digit index 0 is the leftmost box.
fn digit_boxes(b: &mut Block, key: &str, x: f64, y: f64, int_digits: u32, decimals: u32) {
    let mut bx = x;
    for i in 0..int_digits + decimals {
        if decimals > 0 && i == int_digits {
            // The printed decimal point sits in a wider gap, on the baseline.
            let prev_right = bx - DIGIT_GAP;
            b.els.push(El::Dot {
                cx: prev_right + (DIGIT_GAP + mm(2.5)) / 2.0,
                cy: y + DIGIT_HEIGHT - mm(1.2),
                r: mm(0.45),
            });
            bx += mm(2.5);
        }
        let r = Rect::new(bx, y, DIGIT_WIDTH, DIGIT_HEIGHT);
        b.els.push(El::Frame {
            rect: r,
            stroke: Stroke::new(BOX_STROKE),
        });
        b.boxes.push(answer_box(
            key.into(),
            None,
            Some(i),
            BoxKind::Digit,
            r,
            None,
        ));
        bx += DIGIT_WIDTH + DIGIT_GAP;
    }
}
