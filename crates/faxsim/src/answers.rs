//! Plausible random answers to a survey: what a respondent meant to write.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use capsurvey_survey::{FieldKind, NO, QuestionKind, Survey, Value, WriteIn, YES};

use crate::rng::Rng;

/// One respondent's intended answers, by field key (`q08`, `q04.full`, `q16.9`). A key that is
/// absent was left unanswered (無回答).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(pub BTreeMap<String, Value>);

impl Answers {
    /// The intended value of a field, `None` for no answer.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Sets a field's value.
    pub fn set(&mut self, key: impl Into<String>, value: Value) {
        self.0.insert(key.into(), value);
    }
}

/// Short texts people write in free-text boxes (the simulated handwriting is illegible; these
/// are what the truth says was meant).
const TEXTS: &[&str] = &[
    "特になし",
    "人材の確保が課題",
    "連携先の病院との情報共有",
    "在宅患者の増加に対応したい",
    "夜間の対応が難しい",
    "研修会の開催を希望します",
    "ケアマネジャーとの連携",
    "北沢地区",
    "訪問車両の駐車場所",
    "家族の理解が得られにくい",
];

/// How often a field is left blank although it applies (無回答).
const NO_ANSWER: f64 = 0.05;
/// How often a number is written as 「−」 (わからない).
const UNKNOWN: f64 = 0.07;
/// How often a skipped question is answered anyway.
const IGNORE_SKIP: f64 = 0.1;

/// Random plausible answers for `survey`, the same for the same seed.
///
/// Skip rules are followed loosely (one respondent in ten answers a question they were told to
/// skip); about one field in twenty is left blank; numbers are mostly small, sometimes 0,
/// sometimes 「−」 ([`Value::Unknown`]); exclusive options (「なし」) are never combined with others;
/// write-ins are filled only when their option is chosen; questions the form pre-prints from the
/// roster (`prefill`) are left as printed. Every value passes [`capsurvey_survey::Field::check`].
pub fn random_answers(survey: &Survey, seed: u64) -> Answers {
    let mut rng = Rng::new(seed).fork("answers");
    let mut answers = Answers::default();
    // Positions of questions and of each section's first question, for skip targets.
    let mut target_pos: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, (s, q)) in survey.questions().enumerate() {
        target_pos.entry(s.id.as_str()).or_insert(i);
        target_pos.insert(q.id.as_str(), i);
    }
    let mut skip_until = 0usize;
    for (i, (_, q)) in survey.questions().enumerate() {
        if i < skip_until && !rng.chance(IGNORE_SKIP) {
            continue;
        }
        if q.prefill.is_some() {
            continue;
        }
        let mut chosen: BTreeSet<String> = BTreeSet::new();
        for field in q.fields() {
            let key = field.key();
            // Write-ins are decided with their option, below.
            if field.part.is_some()
                && q.option(field.part.unwrap_or_default()).is_some()
                && q.items.is_empty()
            {
                continue;
            }
            if rng.chance(if q.required {
                NO_ANSWER / 2.0
            } else {
                NO_ANSWER
            }) {
                continue;
            }
            let value = match field.kind {
                FieldKind::Single => {
                    let weights: Vec<f64> = q.options.iter().map(|_| rng.range(0.1, 1.0)).collect();
                    let o = &q.options[rng.weighted(&weights)];
                    chosen.insert(o.code.clone());
                    Some(Value::Choice(o.code.clone()))
                }
                FieldKind::Multiple => {
                    let exclusive: Vec<_> = q.options.iter().filter(|o| o.exclusive).collect();
                    let codes: Vec<String> = if !exclusive.is_empty() && rng.chance(0.1) {
                        vec![rng.pick(&exclusive).code.clone()]
                    } else {
                        let p = rng.range(0.15, 0.55);
                        let mut c: Vec<String> = q
                            .options
                            .iter()
                            .filter(|o| !o.exclusive && rng.chance(p))
                            .map(|o| o.code.clone())
                            .collect();
                        if c.is_empty() {
                            let plain: Vec<_> = q.options.iter().filter(|o| !o.exclusive).collect();
                            if let Some(o) =
                                plain.get(rng.below(plain.len().max(1) as u64) as usize)
                            {
                                c.push(o.code.clone());
                            }
                        }
                        c
                    };
                    chosen.extend(codes.iter().cloned());
                    Some(Value::Choices(codes))
                }
                FieldKind::YesNo => {
                    let yes = rng.chance(0.6);
                    chosen.insert(if yes { YES } else { NO }.to_string());
                    Some(Value::Bool(yes))
                }
                FieldKind::Count => Some(number(&mut rng, q.min, q.max, 0)),
                FieldKind::Decimal => Some(number(&mut rng, q.min, q.max, q.decimals.unwrap_or(1))),
                FieldKind::Text => rng
                    .chance(if q.kind == QuestionKind::LongText {
                        0.35
                    } else {
                        0.5
                    })
                    .then(|| Value::Text(rng.pick(TEXTS).to_string())),
            };
            if let Some(v) = value
                && field.check(&v).is_ok()
            {
                answers.set(key, v);
            }
        }
        // Write-ins of chosen options.
        if q.items.is_empty() {
            for o in &q.options {
                let Some(w) = o.write_in else { continue };
                if !chosen.contains(&o.code) || rng.chance(0.2) {
                    continue;
                }
                let v = match w {
                    WriteIn::Text => Value::Text(rng.pick(TEXTS).to_string()),
                    WriteIn::Count => Value::Int(rng.int(1, 30)),
                };
                answers.set(format!("{}.{}", q.id, o.code), v);
            }
        }
        for rule in &q.skip {
            if rule.when.iter().any(|w| chosen.contains(w))
                && let Some(&to) = target_pos.get(rule.to.as_str())
            {
                skip_until = skip_until.max(to);
                break;
            }
        }
    }
    answers
}

/// A count or decimal: mostly small, sometimes 0, sometimes 「−」.
fn number(rng: &mut Rng, min: Option<f64>, max: Option<f64>, decimals: u8) -> Value {
    if rng.chance(UNKNOWN) {
        return Value::Unknown;
    }
    let lo = min.unwrap_or(0.0).max(0.0);
    let hi = max.unwrap_or(999.0).max(lo);
    let x = if rng.chance(0.15) {
        lo
    } else if rng.chance(0.85) {
        // Log-uniform up to 60 or the maximum: small numbers are common.
        let top = hi.min(60.0).max(lo + 1.0);
        ((lo + 1.0) * ((top + 1.0) / (lo + 1.0)).powf(rng.f64()) - 1.0).min(hi)
    } else {
        rng.range(lo, hi)
    };
    if decimals == 0 {
        Value::Int(x.floor().clamp(lo, hi) as i64)
    } else {
        let scale = 10f64.powi(i32::from(decimals));
        let v = ((x * scale).floor() / scale).clamp(lo, hi);
        Value::Decimal(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_in_range() {
        let mut rng = Rng::new(5);
        for _ in 0..2000 {
            match number(&mut rng, Some(0.0), Some(99.0), 0) {
                Value::Int(n) => assert!((0..=99).contains(&n)),
                Value::Unknown => {}
                v => panic!("{v:?}"),
            }
            match number(&mut rng, None, Some(9.9), 1) {
                Value::Decimal(x) => {
                    assert!((0.0..=9.9).contains(&x));
                    assert!(((x * 10.0) - (x * 10.0).round()).abs() < 1e-9);
                }
                Value::Unknown => {}
                v => panic!("{v:?}"),
            }
        }
    }
}
