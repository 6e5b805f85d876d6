//! Recognition: which page a scan is, and what is marked on it.
//!
//! Pure functions on a [`PageImage`] in memory; no files, no database.
//!
//! 1. [`identify`] finds the four registration marks of the standard frame
//!    ([`capsurvey_layout::frame`]) in the corners, fits the page-to-image [`Transform`], and
//!    reads the [`PageCode`] (either copy, either way up). It needs no layout: every page of
//!    every survey shares the frame. It is [`register`] followed by [`read_code`].
//! 2. [`read_page`] measures every answer box of the page's [`PageLayout`] and decides each box
//!    ([`BoxState`]) and each field ([`FieldStatus`]) of the [`Survey`].
//! 3. [`crop`] cuts a deskewed region (a question, for review) and [`encode_png`] encodes it.
//!
//! **Never decide wrongly.** Every decision has a clear band; anything between is
//! [`BoxState::Uncertain`] and the field goes to review. The thresholds are the constants of
//! [`rules`].
//!
//! ## Box decisions (choice boxes)
//! Ink is measured in page millimetres inside the box (the frame excluded, after locating the
//! printed frame itself within ±0.8 mm of where the transform puts it), in a 1 mm ring just
//! outside it, and in a 0.4–2.6 mm band around the option's label. Components under 0.6 mm
//! across are speckle; larger ones are strokes. Inside a box, pieces within about 0.4 mm of
//! each other are joined (light pencil broken up by the fax); two pieces span only as far as
//! the longer one, a trail of three or more spans the whole group. Image columns and rows dark
//! over 40 % of the page (streaks) are ignored.
//! - **Cancelled**: the interior is ≥ 80 % inked, every ninth of it ≥ 50 % and its outer
//!   0.6 mm strip ≥ 60 % (filled up to the frame), and the ink goes past the frame along at
//!   least half of three sides (blacked out). Filled up to the frame but not beyond: Uncertain
//!   (a careful cancellation and a large ■ look the same).
//! - **Uncertain**: inked over 60 % but not filled in — unless the strip along the frame is
//!   at most 25 % inked or no ink goes past the frame: a large ■, which is Marked.
//! - **Marked**: ≥ 0.5 mm² of stroke ink whose longest stroke spans ≥ 1.6 mm (a ✓, ■ or ×),
//!   or a clear loop drawn around the label with the box itself clean (`circled`): one stroke
//!   (or two, one of which bends round beside the label: a loop left open) passing above and
//!   below the label along ≥ 60 % of its width and ≥ 3 mm (the loop may cut the box's corners,
//!   but leave its core, 1 mm inside the frame, clean).
//! - **Empty**: no stroke ink inside, speckle within the page's usual amount (at least
//!   0.25 mm² and 3 specks; the page's noise is measured in the registration marks' quiet
//!   zones), nothing unusual in the ring or around the label.
//! - **Uncertain** otherwise: a little ink (a dot beside a slip, what is left of a pencil
//!   mark); ink just beside the box (≥ 0.3 mm² of strokes in the ring, one ≥ 1.2 mm long);
//!   strokes of 1.5 mm or longer both above and below the label along ≥ 1 mm (a loop around
//!   the option's number, or loops around the neighbouring options); a long stroke beside an
//!   end of the label along half its height (a loop whose top and bottom the fax lost).
//!
//! Digit, text and area boxes are not read (no handwriting recognition): they are Empty,
//! Marked (written in: ≥ 0.3 mm² of strokes, components of 1 mm or more, the longest spanning
//! ≥ 2 mm, ≥ 0.15 mm² of it more than a millimetre inside the frame) or Uncertain.
//!
//! ## Field decisions
//! - single choice and yes/no: any box Uncertain → review; exactly one Marked (Cancelled ones
//!   ignored) → the value; none marked and all clearly empty → no answer (無回答); a cancelled
//!   box with no new mark, or two marked → review.
//! - multiple choice: any Uncertain → review; the marked options in survey order (checked
//!   against exclusive options); none → no answer (or review if something was cancelled).
//! - numbers and text: all boxes empty → no answer; otherwise the field needs keying from the
//!   crop.

mod code;
mod crop;
mod decide;
mod fields;
mod measure;
mod register;
mod transform;

use capsurvey_layout::{A4, BoxKind, PageCode, PageLayout, Rect};
use capsurvey_survey::{FieldKind, Survey, Value};
use serde::{Deserialize, Serialize};

use crate::PageImage;

pub use crop::{Bitmap, crop, crop_bits, crop_nearest, encode_png};
pub use transform::{PointPair, Transform, TransformSummary};

/// The decision thresholds, in one place.
pub mod rules {
    pub use super::decide::{
        BESIDE_SUSPECT, CANCEL_CELL, CANCEL_EDGE, CANCEL_FILL, CANCEL_HALO, CIRCLE_CORE_MM2,
        EMPTY_SPECK_MM2, EMPTY_SPECKS, HEAVY_FILL, LOOP_CLEAR, LOOP_CLEAR_MM, LOOP_SUSPECT_MM,
        MARK_SPAN_MM, MARK_STROKE_MM2, RING_SPAN_MM, RING_STROKE_MM2, SQUARE_EDGE,
        WRITTEN_CORE_MM2, WRITTEN_SPAN_MM, WRITTEN_STROKE_MM2,
    };
    pub use super::measure::{
        BRIDGE_MM, BRIDGED_STROKE_MM2, SEARCH_MM, SPECK_MM, WRITTEN_SPECK_MM,
    };
}

/// The registration marks found on a page and the transform they give, before the page code
/// is read (so the page is assumed upright).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registration {
    /// Page points to image pixels, for the page taken as upright.
    pub transform: Transform,
    /// How many marks were used (3 or 4).
    pub marks: u8,
    /// RMS distance between the found and the fitted mark centres, millimetres: how well the
    /// page fits an affine map. 0 with three marks, whose fit is exact.
    pub residual_mm: f64,
    /// Which corners' marks were used: top-left, top-right, bottom-left, bottom-right (of the
    /// image).
    pub corners: [bool; 4],
}

/// A page that was recognised as one of ours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identified {
    /// The page's identity.
    #[serde(with = "code_serde")]
    pub code: PageCode,
    /// The sheet went through the scanner or fax upside down.
    pub upside_down: bool,
    /// Page points (top-left origin, upright page) to image pixels.
    pub transform: Transform,
    /// The transform in words: rotation, scales, shift (for reports).
    pub summary: TransformSummary,
    /// RMS residual of the mark fit, millimetres (0 with three marks).
    pub residual_mm: f64,
    /// Registration marks used (3 or 4).
    pub marks: u8,
    /// Copies of the page code that passed their check (1 or 2).
    pub code_copies: u8,
    /// Grey level of the paper, from the code's light modules (255 on black-and-white scans).
    pub paper: f64,
    /// Grey level of printed ink, from the code's dark modules (0 on black-and-white scans).
    pub ink: f64,
}

/// Why a page could not be identified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnidentifiedReason {
    /// Fewer than three registration marks were found (or they did not fit a page).
    NoMarks,
    /// The marks were found but neither copy of the page code passed its check.
    CodeUnreadable,
    /// The two copies of the page code read as different pages.
    CodeConflict,
}

/// A page that could not be identified, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{}", self.message())]
pub struct Unidentified {
    /// Why.
    pub reason: UnidentifiedReason,
    /// Plausible registration marks seen (0–4).
    pub marks_found: u8,
    /// The registration, when the marks were found.
    pub registration: Option<Registration>,
}

impl Unidentified {
    /// A sentence for the operator.
    pub fn message(&self) -> String {
        match self.reason {
            UnidentifiedReason::NoMarks => format!(
                "the registration marks were not found ({} of 4 seen): not a capsurvey form, \
                 a page cut off or turned sideways, or a poor scan",
                self.marks_found
            ),
            UnidentifiedReason::CodeUnreadable => "the registration marks were found but the \
                page code could not be read: damaged, covered or a very poor scan"
                .to_owned(),
            UnidentifiedReason::CodeConflict => {
                "the two page codes on the page read as different pages".to_owned()
            }
        }
    }
}

/// Finds the registration marks and fits the transform (page taken as upright).
pub fn register(page: &PageImage) -> Result<Registration, Unidentified> {
    match register::register(page) {
        Ok(r) => Ok(Registration {
            transform: r.transform,
            marks: r.marks as u8,
            residual_mm: r.residual_mm,
            corners: r.used,
        }),
        Err(seen) => Err(Unidentified {
            reason: UnidentifiedReason::NoMarks,
            marks_found: seen as u8,
            registration: None,
        }),
    }
}

/// Reads the page code through a registration and settles the page's orientation.
pub fn read_code(page: &PageImage, reg: &Registration) -> Result<Identified, Unidentified> {
    let fail = |reason| Unidentified {
        reason,
        marks_found: reg.marks,
        registration: Some(reg.clone()),
    };
    let (read, copies) = match code::read_codes(page, &reg.transform) {
        code::CodeOutcome::Read { read, copies } => (read, copies),
        code::CodeOutcome::Unreadable => return Err(fail(UnidentifiedReason::CodeUnreadable)),
        code::CodeOutcome::Conflict => return Err(fail(UnidentifiedReason::CodeConflict)),
    };
    // The marks are point-symmetric, so the fit of an upside-down page pairs each mark with
    // its opposite; turning the page round gives the transform of the upright page.
    let transform = if read.turned {
        reg.transform.turned(A4.width, A4.height)
    } else {
        reg.transform
    };
    let (dpi_x, dpi_y) = register::working_dpi(page);
    Ok(Identified {
        code: read.code,
        upside_down: read.turned,
        transform,
        summary: transform.summary(dpi_x, dpi_y),
        residual_mm: reg.residual_mm,
        marks: reg.marks,
        code_copies: copies as u8,
        paper: if page.bilevel { 255.0 } else { read.paper },
        ink: if page.bilevel { 0.0 } else { read.ink },
    })
}

/// Identifies a page: registration marks, transform, page code, orientation.
pub fn identify(page: &PageImage) -> Result<Identified, Unidentified> {
    read_code(page, &register(page)?)
}

/// What one box holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxState {
    /// Clearly nothing (speckle at most).
    Empty,
    /// Clearly marked (choice boxes: ✓, ■, × or the label circled); for digit, text and area
    /// boxes: something is written in.
    Marked,
    /// Filled in completely: the respondent's way of cancelling a mark (choice boxes only).
    Cancelled,
    /// Neither clearly: a person must look.
    Uncertain,
}

/// The reading of one answer box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxReading {
    /// The field key, as in the layout.
    pub key: String,
    /// The option code (choice boxes).
    pub option: Option<String>,
    /// The digit position (digit boxes).
    pub digit: Option<u32>,
    /// The kind of box.
    pub kind: BoxKind,
    /// The decision.
    pub state: BoxState,
    /// Share of the box's interior that is inked, 0..1.
    pub ink: f64,
    /// How sure the decision is, 0..1 (0 for [`BoxState::Uncertain`]).
    pub confidence: f64,
    /// Share of the ring just outside the box that is inked by strokes (a tick overflowing the
    /// box), 0..1; 0 for boxes other than choice boxes.
    pub overflow: f64,
    /// The option's label was circled (and counted as the mark when the box itself is clean).
    pub circled: bool,
    /// How much the ink around the label looks like a loop around it, 0..1 (choice boxes with
    /// a label).
    pub label_loop: Option<f64>,
    /// Local correction found from the printed frame, millimetres (x, y).
    pub offset_mm: (f64, f64),
    /// Whether the printed frame was located (if not, a wider margin was used).
    pub frame_found: bool,
    /// Why the box is uncertain (or what was unusual), for the reviewer.
    pub why: Option<String>,
}

/// What became of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum FieldStatus {
    /// Read with certainty: the value is in [`FieldReading::value`].
    Decided,
    /// Nothing marked and every box clearly empty: 無回答.
    NoAnswer,
    /// A person must decide.
    Review {
        /// Why, for the reviewer.
        reason: String,
    },
    /// Something is written (numbers, text): a person keys it from the crop.
    NeedsKeying,
}

/// The reading of one field (one answer key) on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldReading {
    /// The answer key (`q08`, `q04.full`, `q16.9`).
    pub key: String,
    /// The field's kind in the survey (`None` if the survey does not know the key).
    pub kind: Option<FieldKind>,
    /// The value, when [`FieldStatus::Decided`].
    pub value: Option<Value>,
    /// What became of it.
    pub status: FieldStatus,
    /// How sure, 0..1: the lowest confidence of the field's boxes (0 under review).
    pub confidence: f64,
    /// The question's area on the page, for a review crop.
    pub question_rect: Option<Rect>,
}

/// Everything read from one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageReading {
    /// One reading per answer box of the layout, in layout order.
    pub boxes: Vec<BoxReading>,
    /// One reading per field with boxes on the page, in survey order.
    pub fields: Vec<FieldReading>,
}

impl PageReading {
    /// Whether any field needs a person (review or keying).
    pub fn needs_person(&self) -> bool {
        self.fields.iter().any(|f| {
            matches!(
                f.status,
                FieldStatus::Review { .. } | FieldStatus::NeedsKeying
            )
        })
    }
}

/// Reads every answer box of `layout` on an identified page and decides the fields of
/// `survey` they belong to.
///
/// `layout` must be the layout of the page `id.code` names (the caller looks it up from the
/// survey version and page number).
pub fn read_page(
    page: &PageImage,
    id: &Identified,
    layout: &PageLayout,
    survey: &Survey,
) -> PageReading {
    let Some(ctx) = measure::Ctx::new(page, id.transform, id.paper, id.ink) else {
        // A degenerate transform cannot come out of identify; be safe anyway.
        let boxes = layout
            .boxes
            .iter()
            .map(|b| uncertain(b, "the page's transform is degenerate"))
            .collect::<Vec<_>>();
        let fields = fields::decide_fields(layout, &boxes, survey);
        return PageReading { boxes, fields };
    };
    let mut measures: Vec<_> = layout
        .boxes
        .iter()
        .enumerate()
        .map(|(i, b)| (b, measure::measure(&ctx, b, &neighbours(layout, i), None)))
        .collect();
    // Boxes whose frame was hidden (filled in) are measured again, placed like the located
    // boxes around them.
    for i in 0..measures.len() {
        if measures[i].1.located {
            continue;
        }
        if let Some(hint) = hint_for(layout, &measures, i) {
            let m = measure::measure(&ctx, &layout.boxes[i], &neighbours(layout, i), Some(&hint));
            measures[i].1 = m;
        }
    }
    let base = decide::Baseline::of(&measures, measure::noise(&ctx));
    let boxes: Vec<BoxReading> = measures
        .iter()
        .map(|(b, m)| decide::decide(b, m, &base))
        .collect();
    let fields = fields::decide_fields(layout, &boxes, survey);
    PageReading { boxes, fields }
}

/// The local correction and frame width of the located boxes of the same kind nearest to box
/// `i` (medians of up to six within 40 mm).
fn hint_for(
    layout: &PageLayout,
    measures: &[(&capsurvey_layout::AnswerBox, measure::Measure)],
    i: usize,
) -> Option<measure::Hint> {
    let b = &layout.boxes[i];
    let (cx, cy) = b.rect.center();
    let mut near: Vec<(f64, &measure::Measure)> = measures
        .iter()
        .filter(|(o, m)| m.located && o.kind == b.kind)
        .map(|(o, m)| {
            let (ox, oy) = o.rect.center();
            ((ox - cx).hypot(oy - cy), m)
        })
        .filter(|(d, _)| *d <= capsurvey_layout::mm(40.0))
        .collect();
    if near.is_empty() {
        return None;
    }
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    near.truncate(6);
    let med = |f: &dyn Fn(&measure::Measure) -> f64| {
        let mut v: Vec<f64> = near.iter().map(|(_, m)| f(m)).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    Some(measure::Hint {
        offset: (med(&|m| m.offset.0), med(&|m| m.offset.1)),
        frame: (med(&|m| m.frame.0), med(&|m| m.frame.1)),
    })
}

/// Rectangles printed near box `i` (other boxes, all labels) that its ring and label band must
/// not count as ink.
fn neighbours(layout: &PageLayout, i: usize) -> Vec<Rect> {
    let b = &layout.boxes[i];
    let reach = capsurvey_layout::mm(4.0);
    let mut area = b.rect.inflate(reach);
    if let Some(l) = &b.label_rect {
        let l = l.inflate(reach);
        let (x0, y0) = (area.x.min(l.x), area.y.min(l.y));
        let (x1, y1) = (
            (area.x + area.w).max(l.x + l.w),
            (area.y + area.h).max(l.y + l.h),
        );
        area = Rect {
            x: x0,
            y: y0,
            w: x1 - x0,
            h: y1 - y0,
        };
    }
    let mut out = Vec::new();
    for (j, o) in layout.boxes.iter().enumerate() {
        if j != i && o.rect.overlaps(&area) {
            out.push(o.rect);
        }
        if let Some(l) = &o.label_rect
            && l.overlaps(&area)
        {
            out.push(*l);
        }
    }
    out
}

fn uncertain(b: &capsurvey_layout::AnswerBox, why: &str) -> BoxReading {
    BoxReading {
        key: b.key.clone(),
        option: b.option.clone(),
        digit: b.digit,
        kind: b.kind,
        state: BoxState::Uncertain,
        ink: 0.0,
        confidence: 0.0,
        overflow: 0.0,
        circled: false,
        label_loop: None,
        offset_mm: (0.0, 0.0),
        frame_found: false,
        why: Some(why.to_owned()),
    }
}

/// `PageCode` has no serde support of its own (the layout crate keeps it plain).
mod code_serde {
    use capsurvey_layout::PageCode;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Repr {
        survey_version_id: u32,
        mailing_id: u32,
        page: u32,
    }

    pub fn serialize<S: Serializer>(c: &PageCode, s: S) -> Result<S::Ok, S::Error> {
        Repr {
            survey_version_id: c.survey_version_id,
            mailing_id: c.mailing_id,
            page: c.page,
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PageCode, D::Error> {
        let r = Repr::deserialize(d)?;
        Ok(PageCode {
            survey_version_id: r.survey_version_id,
            mailing_id: r.mailing_id,
            page: r.page,
        })
    }
}
