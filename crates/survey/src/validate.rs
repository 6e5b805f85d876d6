//! Checks a parsed survey for what would break forms, recognition or analysis.

use std::collections::HashSet;

use crate::model::{NO, QuestionKind, Survey, YES};

/// Where in a survey a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loc {
    /// The survey as a whole (top-level keys).
    Survey,
    /// A section, by index.
    Section(usize),
    /// A question, by section and question index.
    Question(usize, usize),
    /// An option of a question.
    Option(usize, usize, usize),
    /// An item of a question.
    Item(usize, usize, usize),
    /// A skip rule of a question.
    Skip(usize, usize, usize),
}

/// One problem found in a definition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where it is.
    pub loc: Loc,
    /// What is wrong and how to fix it.
    pub message: String,
}

fn is_ascii_id(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Validates a survey; returns every problem, in file order.
pub fn validate(survey: &Survey) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut p = |loc: Loc, message: String| out.push(Problem { loc, message });

    if !is_ascii_id(&survey.id) {
        p(
            Loc::Survey,
            format!(
                "survey id `{}` must be lower-case ASCII letters, digits, `-` or `_`",
                survey.id
            ),
        );
    }
    if survey.version == 0 {
        p(Loc::Survey, "version must be 1 or more".into());
    }
    if survey.sections.is_empty() {
        p(
            Loc::Survey,
            "a survey needs at least one [[sections]] table".into(),
        );
    }

    // Positions of every skip target, to check that skips point forward.
    let mut section_pos = std::collections::HashMap::new();
    let mut question_pos = std::collections::HashMap::new();
    let mut seen = HashSet::new();
    let mut flat = 0usize;
    for (si, s) in survey.sections.iter().enumerate() {
        if !is_ascii_id(&s.id) {
            p(
                Loc::Section(si),
                format!("section id `{}` must be lower-case ASCII", s.id),
            );
        }
        if !seen.insert(s.id.as_str()) {
            p(
                Loc::Section(si),
                format!(
                    "id `{}` is used twice: section and question ids must be unique",
                    s.id
                ),
            );
        }
        section_pos.insert(s.id.as_str(), flat);
        if s.questions.is_empty() {
            p(
                Loc::Section(si),
                format!("section `{}` has no questions", s.id),
            );
        }
        for (qi, q) in s.questions.iter().enumerate() {
            if !is_ascii_id(&q.id) || q.id.contains('.') {
                p(
                    Loc::Question(si, qi),
                    format!(
                        "question id `{}` must be lower-case ASCII letters, digits or `_`",
                        q.id
                    ),
                );
            }
            if !seen.insert(q.id.as_str()) {
                p(
                    Loc::Question(si, qi),
                    format!(
                        "id `{}` is used twice: section and question ids must be unique",
                        q.id
                    ),
                );
            }
            question_pos.insert(q.id.as_str(), flat);
            flat += 1;
        }
    }

    let mut flat = 0usize;
    for (si, s) in survey.sections.iter().enumerate() {
        for (qi, q) in s.questions.iter().enumerate() {
            let here = flat;
            flat += 1;
            let ql = Loc::Question(si, qi);
            if q.text.trim().is_empty() {
                p(ql.clone(), format!("question `{}` has no text", q.id));
            }
            if q.kind.is_choice() {
                if q.options.len() < 2 {
                    p(
                        ql.clone(),
                        format!(
                            "question `{}` is {:?} but has fewer than two options: add `options = [...]`",
                            q.id, q.kind
                        ),
                    );
                }
            } else if !q.options.is_empty() {
                p(
                    ql.clone(),
                    format!(
                        "question `{}` is {:?}: only single and multiple questions take options",
                        q.id, q.kind
                    ),
                );
            }
            let mut codes = HashSet::new();
            for (oi, o) in q.options.iter().enumerate() {
                if !is_code(&o.code) {
                    p(
                        Loc::Option(si, qi, oi),
                        format!(
                            "option code `{}` must be ASCII letters, digits, `-` or `_`",
                            o.code
                        ),
                    );
                }
                if !codes.insert(o.code.as_str()) {
                    p(
                        Loc::Option(si, qi, oi),
                        format!("option code `{}` is used twice in `{}`", o.code, q.id),
                    );
                }
                if o.exclusive && q.kind != QuestionKind::Multiple {
                    p(
                        Loc::Option(si, qi, oi),
                        "`exclusive` only makes sense in a multiple-choice question".into(),
                    );
                }
                if o.label.trim().is_empty() {
                    p(
                        Loc::Option(si, qi, oi),
                        format!("option `{}` has no label", o.code),
                    );
                }
            }
            if !q.items.is_empty()
                && !matches!(
                    q.kind,
                    QuestionKind::YesNo
                        | QuestionKind::Count
                        | QuestionKind::Decimal
                        | QuestionKind::ShortText
                )
            {
                p(
                    ql.clone(),
                    format!(
                        "question `{}`: items are for yes_no, count, decimal and short_text questions",
                        q.id
                    ),
                );
            }
            let mut items = HashSet::new();
            for (ii, it) in q.items.iter().enumerate() {
                if !is_code(&it.code) {
                    p(
                        Loc::Item(si, qi, ii),
                        format!(
                            "item code `{}` must be ASCII letters, digits, `-` or `_`",
                            it.code
                        ),
                    );
                }
                if !items.insert(it.code.as_str()) {
                    p(
                        Loc::Item(si, qi, ii),
                        format!("item code `{}` is used twice in `{}`", it.code, q.id),
                    );
                }
            }
            if q.kind.is_numeric() {
                let min = q.min.unwrap_or(0.0);
                match q.max {
                    None => p(
                        ql.clone(),
                        format!(
                            "question `{}` needs `max`: it decides how many digit boxes are printed",
                            q.id
                        ),
                    ),
                    Some(max) if max <= min => p(
                        ql.clone(),
                        format!(
                            "question `{}`: max {max} must be greater than min {min}",
                            q.id
                        ),
                    ),
                    Some(max) if max >= 1e7 => p(
                        ql.clone(),
                        format!(
                            "question `{}`: max {max} is too large for digit boxes (at most 9,999,999)",
                            q.id
                        ),
                    ),
                    _ => {}
                }
                if min < 0.0 {
                    p(
                        ql.clone(),
                        format!(
                            "question `{}`: min must not be negative (forms have no sign box)",
                            q.id
                        ),
                    );
                }
                if q.unit.is_none() {
                    p(
                        ql.clone(),
                        format!("question `{}` needs a `unit` (人, 件, 台 …)", q.id),
                    );
                }
            } else if q.min.is_some() || q.max.is_some() {
                p(
                    ql.clone(),
                    format!(
                        "question `{}`: min/max only apply to count and decimal questions",
                        q.id
                    ),
                );
            }
            if q.decimals.is_some() && q.kind != QuestionKind::Decimal {
                p(
                    ql.clone(),
                    format!(
                        "question `{}`: `decimals` only applies to decimal questions",
                        q.id
                    ),
                );
            }
            if q.decimals.is_some_and(|d| d == 0 || d > 3) {
                p(
                    ql.clone(),
                    format!("question `{}`: decimals must be 1, 2 or 3", q.id),
                );
            }
            if q.labels.is_some() && q.kind != QuestionKind::YesNo {
                p(
                    ql.clone(),
                    format!(
                        "question `{}`: `labels` only applies to yes_no questions",
                        q.id
                    ),
                );
            }
            for (ki, skip) in q.skip.iter().enumerate() {
                let sl = Loc::Skip(si, qi, ki);
                if !matches!(
                    q.kind,
                    QuestionKind::Single | QuestionKind::Multiple | QuestionKind::YesNo
                ) || !q.items.is_empty()
                {
                    p(
                        sl.clone(),
                        format!(
                            "question `{}`: skip rules need a single, multiple or item-less yes_no question",
                            q.id
                        ),
                    );
                }
                if skip.when.is_empty() {
                    p(sl.clone(), "skip rule has an empty `when`".into());
                }
                for w in &skip.when {
                    let known = if q.kind == QuestionKind::YesNo {
                        w == YES || w == NO
                    } else {
                        q.option(w).is_some()
                    };
                    if !known {
                        p(
                            sl.clone(),
                            format!(
                                "skip `when` names `{w}`, which is not an option of `{}`",
                                q.id
                            ),
                        );
                    }
                }
                let target = section_pos
                    .get(skip.to.as_str())
                    .or_else(|| question_pos.get(skip.to.as_str()));
                match target {
                    None => p(
                        sl.clone(),
                        format!(
                            "skip target `{}` is neither a section nor a question id",
                            skip.to
                        ),
                    ),
                    Some(&t) if t <= here => p(
                        sl.clone(),
                        format!(
                            "skip target `{}` is not after `{}`: skips must point forward (a backward skip makes a cycle)",
                            skip.to, q.id
                        ),
                    ),
                    _ => {}
                }
            }
        }
    }
    out
}
