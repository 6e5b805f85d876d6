//! Deciding each box from its measurements, against the page's own baselines.
//!
//! The rule throughout: never decide wrongly. Every measurement has a band where the box is
//! clearly empty, a band where it is clearly marked (or cancelled), and in between it is
//! [`BoxState::Uncertain`] and goes to review.

use capsurvey_layout::{AnswerBox, BoxKind};

use super::measure::Measure;
use super::{BoxReading, BoxState};

/// Interior ink share from which a box counts as filled in (cancelled)…
pub const CANCEL_FILL: f64 = 0.80;
/// … provided every ninth of the interior is at least this much inked.
pub const CANCEL_CELL: f64 = 0.5;
/// … and its outer 0.6 mm strip at least this much…
pub const CANCEL_EDGE: f64 = 0.6;
/// … and the ink goes past the frame along at least half of three of its four sides (a box
/// blacked out to cancel it; filled only inside its frame it might be a large ■).
pub const CANCEL_HALO: f64 = 0.5;
/// Interior ink share above which a box is no plain ✓ or ■ (but not filled either)…
pub const HEAVY_FILL: f64 = 0.60;
/// … unless the outer 0.6 mm strip of the interior is inked this much at most, or no ink
/// goes past the frame: a large ■.
pub const SQUARE_EDGE: f64 = 0.25;
/// Stroke ink (mm²) a mark needs in the interior…
pub const MARK_STROKE_MM2: f64 = 0.5;
/// … and the length (mm, larger side of its bounding box) of its longest stroke.
pub const MARK_SPAN_MM: f64 = 1.6;
/// Stroke ink (mm²) a digit or text box needs to count as written in…
pub const WRITTEN_STROKE_MM2: f64 = 0.3;
/// … and the length of its longest stroke (a 「−」 is about 3 mm; dust with fax noise stuck to
/// it reaches 1.5 mm).
pub const WRITTEN_SPAN_MM: f64 = 2.0;
/// A box whose label is clearly circled may hold stroke ink along its frame (the loop cutting
/// its corners) but no more than this (mm²) in its core.
pub const CIRCLE_CORE_MM2: f64 = 0.05;
/// Stroke ink (mm²) a written box needs away from its frame (a stroke that only reaches in
/// over the frame — a loop around a neighbouring option — is no writing).
pub const WRITTEN_CORE_MM2: f64 = 0.15;
/// Speckle (mm²) an empty box may hold, at least; more on a speckled page.
pub const EMPTY_SPECK_MM2: f64 = 0.25;
/// Speckle components an empty choice box may hold, at least.
pub const EMPTY_SPECKS: usize = 3;
/// Stroke ink just outside a box (mm², above the page's baseline) that makes an empty box
/// uncertain: a mark beside the box or a tick that missed…
pub const RING_STROKE_MM2: f64 = 0.3;
/// … when a stroke there is this long at least (mm): a dot or dust beside a box is not.
pub const RING_SPAN_MM: f64 = 1.2;
/// Share of the label's width (above the page's baseline) with one stroke both above and below
/// it from which the label counts as circled…
pub const LOOP_CLEAR: f64 = 0.6;
/// … provided that stretch is this long at least (mm).
pub const LOOP_CLEAR_MM: f64 = 3.0;
/// Length (mm, above baseline) of strokes paired above and below a label (one stroke or
/// several) that makes an empty box uncertain: a loop around the option's number, a sloppy
/// one, or loops around the options above and below.
pub const LOOP_SUSPECT_MM: f64 = 1.0;
/// Share of the label's height (above baseline) with a long stroke just beyond one of its
/// ends that makes an empty box uncertain: the sides of a loop whose top and bottom were lost.
pub const BESIDE_SUSPECT: f64 = 0.5;

/// What an empty box looks like on this particular sheet: speckle from the quiet zones around
/// the registration marks, and — since most boxes are empty — the medians over the page's boxes
/// of stray ink in rings and label bands.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Baseline {
    /// Speckle area per mm² of interior.
    pub speck_density: f64,
    /// Speckle components per mm² of interior.
    pub speck_count_density: f64,
    /// Stroke ink in a ring, mm².
    pub ring: f64,
    /// Loop score of a label band.
    pub loop_score: f64,
    /// Paired arcs around a label, mm.
    pub paired_mm: f64,
    /// Enclosing arcs around a label, mm.
    pub enclosed_mm: f64,
    /// Strokes beside a label's ends, share of its height.
    pub beside: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[(v.len() - 1) / 2]
}

impl Baseline {
    /// `noise` is the page's speckle from the marks' quiet zones (area and count per mm²).
    pub(crate) fn of(measures: &[(&AnswerBox, Measure)], noise: (f64, f64)) -> Baseline {
        let choices: Vec<_> = measures
            .iter()
            .filter(|(b, _)| b.kind == BoxKind::Choice)
            .collect();
        let labels: Vec<_> = choices.iter().filter_map(|(_, m)| m.label).collect();
        // Capped, so that a page where most labels really are circled (or most boxes have
        // something beside them, or the noise is extreme) turns uncertain rather than blind.
        Baseline {
            speck_density: noise.0.min(0.01),
            speck_count_density: noise.1.min(0.5),
            ring: median(choices.iter().map(|(_, m)| m.ring.stroke).collect()).min(0.5),
            loop_score: median(labels.iter().map(|l| l.loop_score()).collect()).min(0.25),
            paired_mm: median(labels.iter().map(|l| l.paired_mm).collect()).min(1.0),
            enclosed_mm: median(labels.iter().map(|l| l.enclosed_mm).collect()).min(1.0),
            beside: median(labels.iter().map(|l| l.beside).collect()).min(0.3),
        }
    }
}

/// Decides one box.
pub(crate) fn decide(b: &AnswerBox, m: &Measure, base: &Baseline) -> BoxReading {
    let i = &m.interior;
    let fill = i.fill();
    let speck_allow = EMPTY_SPECK_MM2.max(4.0 * base.speck_density * i.area);
    let specks_allow =
        EMPTY_SPECKS.max((3.0 * base.speck_count_density * i.area + 2.0).ceil() as usize);
    let clean = i.stroke == 0.0 && i.speck <= speck_allow && i.specks <= specks_allow;
    let empty_conf = (1.0 - 0.25 * i.speck / speck_allow).clamp(0.7, 1.0);
    let (state, confidence, why, circled) = match b.kind {
        BoxKind::Choice => choice(m, base, fill, clean, empty_conf),
        BoxKind::Digit | BoxKind::Text | BoxKind::Area => {
            if clean {
                (BoxState::Empty, empty_conf, None, false)
            } else if i.stroke >= WRITTEN_STROKE_MM2
                && i.span >= WRITTEN_SPAN_MM
                && i.core_stroke >= WRITTEN_CORE_MM2
            {
                let c = 0.75 + 0.25 * ((i.span - WRITTEN_SPAN_MM) / 2.0).clamp(0.0, 1.0);
                (BoxState::Marked, c, None, false)
            } else {
                (
                    BoxState::Uncertain,
                    0.0,
                    Some("a little ink in the box"),
                    false,
                )
            }
        }
    };
    BoxReading {
        key: b.key.clone(),
        option: b.option.clone(),
        digit: b.digit,
        kind: b.kind,
        state,
        ink: fill,
        confidence,
        overflow: if m.ring.area > 0.0 {
            (m.ring.stroke / m.ring.area).min(1.0)
        } else {
            0.0
        },
        circled,
        label_loop: m.label.map(|l| l.loop_score()),
        offset_mm: m.offset,
        frame_found: m.located,
        why: why.map(str::to_owned),
    }
}

type Decision = (BoxState, f64, Option<&'static str>, bool);

fn choice(m: &Measure, base: &Baseline, fill: f64, clean: bool, empty_conf: f64) -> Decision {
    let i = &m.interior;
    let (loop_excess, enclosed_excess, paired_excess, beside_excess) = match m.label {
        Some(l) => (
            (l.loop_score() - base.loop_score).max(0.0),
            (l.enclosed_mm - base.enclosed_mm).max(0.0),
            (l.paired_mm - base.paired_mm).max(0.0),
            (l.beside - base.beside).max(0.0),
        ),
        None => (0.0, 0.0, 0.0, 0.0),
    };
    let circled = loop_excess >= LOOP_CLEAR && enclosed_excess >= LOOP_CLEAR_MM;
    let ring_excess = (m.ring.stroke - base.ring).max(0.0);
    let filled = fill >= CANCEL_FILL && m.min_cell >= CANCEL_CELL && m.edge_fill >= CANCEL_EDGE;
    let beyond = m.halo.iter().filter(|&&h| h >= CANCEL_HALO).count();
    if filled && beyond < 3 {
        return (
            BoxState::Uncertain,
            0.0,
            Some("box filled in up to its frame: a cancellation or a large ■"),
            circled,
        );
    }
    if filled {
        if circled {
            return (
                BoxState::Uncertain,
                0.0,
                Some("box filled in but its label circled"),
                true,
            );
        }
        let c = 0.75 + 0.25 * ((fill - CANCEL_FILL) / 0.15).clamp(0.0, 1.0);
        return (BoxState::Cancelled, c, None, false);
    }
    // Heavily inked but not filled in: a ■. Only when nothing goes past the frame (or the
    // strip along the frame is white): ink beyond the frame may be a cancellation begun.
    let square = (m.edge_fill <= SQUARE_EDGE || beyond == 0) && i.span >= MARK_SPAN_MM;
    if fill > HEAVY_FILL && !square {
        return (
            BoxState::Uncertain,
            0.0,
            Some("box heavily inked but not filled in"),
            circled,
        );
    }
    if i.stroke >= MARK_STROKE_MM2 && i.span >= MARK_SPAN_MM {
        let s1 = ((i.stroke - MARK_STROKE_MM2) / 1.0).clamp(0.0, 1.0);
        let s2 = ((i.span - MARK_SPAN_MM) / 1.4).clamp(0.0, 1.0);
        let s3 = if fill > HEAVY_FILL {
            // A large ■: less sure than a tick.
            0.25
        } else {
            ((HEAVY_FILL - fill) / 0.2).clamp(0.0, 1.0)
        };
        let mut c = 0.6 + 0.4 * s1.min(s2).min(s3);
        if i.strong < 0.5 {
            // Light pencil: clearly a mark, but say it is faint.
            c *= 0.9;
        }
        return (BoxState::Marked, c, None, circled);
    }
    if clean {
        if circled {
            let c = 0.7 + 0.2 * ((loop_excess - LOOP_CLEAR) / 0.3).clamp(0.0, 1.0);
            // A loop around the label (and a clean box) is the mark.
            return (BoxState::Marked, c, None, true);
        }
        if paired_excess >= LOOP_SUSPECT_MM || beside_excess >= BESIDE_SUSPECT {
            return (
                BoxState::Uncertain,
                0.0,
                Some("ink around the option's label"),
                false,
            );
        }
        if ring_excess >= RING_STROKE_MM2 && m.ring.span >= RING_SPAN_MM {
            return (
                BoxState::Uncertain,
                0.0,
                Some("ink just outside the box"),
                false,
            );
        }
        let c = empty_conf - 0.1 * (ring_excess / RING_STROKE_MM2);
        return (BoxState::Empty, c.clamp(0.6, 1.0), None, false);
    }
    if circled && i.core_stroke < CIRCLE_CORE_MM2 && fill < 0.2 {
        // A loop drawn round box and label together often cuts the box's corners: ink that only
        // comes in along the frame, with the label clearly circled, is that loop.
        return (BoxState::Marked, 0.7, None, true);
    }
    (
        BoxState::Uncertain,
        0.0,
        Some("some ink in the box, too little for a mark"),
        circled,
    )
}
