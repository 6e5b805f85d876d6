//! From box states to answers, per field.

use std::collections::BTreeMap;

use capsurvey_layout::{BoxKind, PageLayout};
use capsurvey_survey::{FieldKind, Survey, Value};

use super::{BoxReading, BoxState, FieldReading, FieldStatus};

/// Decides every field that has boxes on this page, in survey order (then any keys the survey
/// does not know, in layout order).
pub(crate) fn decide_fields(
    layout: &PageLayout,
    boxes: &[BoxReading],
    survey: &Survey,
) -> Vec<FieldReading> {
    // Boxes by key, keeping layout order within a key.
    let mut by_key: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut key_order: Vec<&str> = Vec::new();
    for (i, b) in boxes.iter().enumerate() {
        let e = by_key.entry(b.key.as_str()).or_default();
        if e.is_empty() {
            key_order.push(b.key.as_str());
        }
        e.push(i);
    }
    let mut out = Vec::new();
    let fields = survey.fields();
    for f in &fields {
        let key = f.key();
        let Some(idx) = by_key.remove(key.as_str()) else {
            continue;
        };
        let bs: Vec<&BoxReading> = idx.iter().map(|&i| &boxes[i]).collect();
        let question_rect = idx
            .iter()
            .find_map(|&i| layout.boxes.get(i).and_then(|b| b.question_rect));
        let (value, status, confidence) = match f.kind {
            FieldKind::Single | FieldKind::YesNo | FieldKind::Multiple => choice_field(f, &bs),
            FieldKind::Count | FieldKind::Decimal | FieldKind::Text => written_field(&bs),
        };
        out.push(FieldReading {
            key,
            kind: Some(f.kind),
            value,
            status,
            confidence,
            question_rect,
        });
    }
    for key in key_order {
        if let Some(idx) = by_key.remove(key) {
            out.push(FieldReading {
                key: key.to_owned(),
                kind: None,
                value: None,
                status: FieldStatus::Review {
                    reason: "the layout has boxes for a field the survey does not define".into(),
                },
                confidence: 0.0,
                question_rect: idx
                    .iter()
                    .find_map(|&i| layout.boxes.get(i).and_then(|b| b.question_rect)),
            });
        }
    }
    out
}

fn review(reason: &str) -> (Option<Value>, FieldStatus, f64) {
    (
        None,
        FieldStatus::Review {
            reason: reason.to_owned(),
        },
        0.0,
    )
}

fn choice_field(
    f: &capsurvey_survey::Field<'_>,
    bs: &[&BoxReading],
) -> (Option<Value>, FieldStatus, f64) {
    if bs
        .iter()
        .any(|b| b.kind != BoxKind::Choice || b.option.is_none())
    {
        return review("the layout's boxes do not match a choice question");
    }
    let min_conf = bs.iter().map(|b| b.confidence).fold(1.0, f64::min);
    if bs.iter().any(|b| b.state == BoxState::Uncertain) {
        return review("a box could not be read with certainty");
    }
    let marked: Vec<&str> = bs
        .iter()
        .filter(|b| b.state == BoxState::Marked)
        .filter_map(|b| b.option.as_deref())
        .collect();
    let cancelled = bs.iter().any(|b| b.state == BoxState::Cancelled);
    if marked.is_empty() {
        if cancelled {
            return review("a box was cancelled and no other marked");
        }
        return (None, FieldStatus::NoAnswer, min_conf);
    }
    let value = match f.kind {
        FieldKind::Single => {
            if marked.len() > 1 {
                return review("more than one option marked");
            }
            Value::Choice(marked[0].to_owned())
        }
        FieldKind::YesNo => {
            if marked.len() > 1 {
                return review("both yes and no marked");
            }
            match Value::from_yes_no_code(marked[0]) {
                Some(v) => v,
                None => return review("a yes/no box with an unknown option code"),
            }
        }
        _ => {
            // Survey order, not layout order.
            let mut codes: Vec<String> = marked.iter().map(|s| (*s).to_owned()).collect();
            let pos = |c: &str| {
                f.question
                    .options
                    .iter()
                    .position(|o| o.code == c)
                    .unwrap_or(usize::MAX)
            };
            codes.sort_by_key(|c| pos(c));
            Value::Choices(codes)
        }
    };
    if let Err(e) = f.check(&value) {
        return review(&format!("the marks do not make a valid answer: {e}"));
    }
    (Some(value), FieldStatus::Decided, min_conf)
}

fn written_field(bs: &[&BoxReading]) -> (Option<Value>, FieldStatus, f64) {
    let min_conf = bs.iter().map(|b| b.confidence).fold(1.0, f64::min);
    if bs.iter().all(|b| b.state == BoxState::Empty) {
        (None, FieldStatus::NoAnswer, min_conf)
    } else {
        (None, FieldStatus::NeedsKeying, min_conf)
    }
}
