//! The conventions a handout relies on, in one place (documented in `docs/handouts.md`):
//! which questions are tabulated, which one asks for consent to be listed, which one gives the
//! filing type, which ones are "reasons", what shows a capability, and who a skip rule sends past
//! a question.
//!
//! They are conventions on the shipped definitions rather than new keys in the survey format, so
//! the format stays as it is; `crates/survey/tests/shipped_surveys.rs` already holds every shipped
//! survey to the listing convention.

use std::collections::{HashMap, HashSet};

use capsurvey_survey::{NO, Question, QuestionKind, Survey, Value, YES};

/// Area label of facilities without one.
pub const NO_AREA: &str = "地区未設定";
/// Label of the no-answer category.
pub const NO_ANSWER: &str = "無回答";
/// Label of 「−」 answers.
pub const UNKNOWN: &str = "わからない";
/// Filing row of respondents whose filing answer is missing or under review.
pub const FILING_UNKNOWN: &str = "無回答・確認中";
/// Filing row of facilities the roster lists without a filing (fallback source only).
pub const FILING_NONE: &str = "届出なし（名簿）";

/// The respondent block (職名・氏名・電話番号・e-mail): a `short_text` question with an `email`
/// item, the same convention the shipped-surveys test uses. It holds personal data and is never
/// tabulated or listed.
pub fn is_respondent_block(q: &Question) -> bool {
    q.kind == QuestionKind::ShortText && q.items.iter().any(|i| i.code == "email")
}

/// Whether a question gets a table in the handout: everything except roster values pre-printed
/// on the form (`prefill`: name, address, phone, FAX, code) and the respondent block.
pub fn is_tabulated(q: &Question) -> bool {
    q.prefill.is_none() && !is_respondent_block(q)
}

/// The question asking whether the facility may be listed (掲載): the first `single` question
/// whose text contains 「掲載」. Its **first option** means "yes, list us" (掲載してよい).
pub fn listing_question(survey: &Survey) -> Option<&Question> {
    survey
        .questions()
        .map(|(_, q)| q)
        .find(|q| q.kind == QuestionKind::Single && q.text.contains("掲載"))
}

/// Whether an answer to the listing question is consent.
pub fn is_listing_consent(q: &Question, value: &Value) -> bool {
    match (value, q.options.first()) {
        (Value::Choice(c), Some(first)) => *c == first.code,
        _ => false,
    }
}

/// The question giving the filing type (届出区分) for cross-tabs: the first **required**
/// `single` or `multiple` question whose text contains 「届出」. Without one, the filings of the
/// roster (`facilities.filings`) are used.
pub fn filing_question(survey: &Survey) -> Option<&Question> {
    survey
        .questions()
        .map(|(_, q)| q)
        .find(|q| q.required && q.kind.is_choice() && q.text.contains("届出") && is_tabulated(q))
}

/// A reasons question, ranked by share on its own page: a `multiple` question whose text
/// contains 「理由」 (「実施していない理由」, 「届出していない理由」).
pub fn is_reasons_question(q: &Question) -> bool {
    q.kind == QuestionKind::Multiple && q.text.contains("理由")
}

/// A key question, cross-tabulated by area and by filing type: a `single` or `yes_no` question
/// that is `required` or shows a capability.
pub fn is_key_question(q: &Question) -> bool {
    matches!(q.kind, QuestionKind::Single | QuestionKind::YesNo)
        && is_tabulated(q)
        && (q.required
            || q.capability.is_some()
            || q.options.iter().any(|o| o.capability.is_some()))
}

/// The capability an option shows when chosen (see `docs/survey-format.md`, Capabilities):
/// its own `capability`; else, on a `multiple` question, the question's (exclusive options show
/// none). On a `single` question only options that name a capability show one, since the others
/// mean "cannot" (体制はない, 実施していない).
pub fn option_capability<'a>(q: &'a Question, code: &str) -> Option<&'a str> {
    let opt = q.option(code)?;
    if let Some(c) = &opt.capability {
        return Some(c.as_str());
    }
    match q.kind {
        QuestionKind::Multiple if !opt.exclusive => q.capability.as_deref(),
        _ => None,
    }
}

/// The capabilities a value of a question's field shows.
pub fn capabilities_shown<'a>(q: &'a Question, value: &Value) -> Vec<&'a str> {
    match (q.kind, value) {
        (QuestionKind::YesNo, Value::Bool(true)) => q.capability.as_deref().into_iter().collect(),
        (QuestionKind::Single, Value::Choice(c)) => option_capability(q, c).into_iter().collect(),
        (QuestionKind::Multiple, Value::Choices(cs)) => {
            cs.iter().filter_map(|c| option_capability(q, c)).collect()
        }
        _ => Vec::new(),
    }
}

/// A capability column: its name and where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapabilitySource {
    /// Name.
    pub name: String,
    /// 「問11（1・2）」, 「問14」, 「問23（2）」.
    pub source: String,
}

/// Capability columns in survey order (first appearance), with the questions that show them.
/// Also returns warnings for definitions that name a capability nothing can show.
pub fn capability_columns(survey: &Survey) -> (Vec<CapabilitySource>, Vec<String>) {
    let mut order: Vec<String> = Vec::new();
    let mut sources: HashMap<String, Vec<String>> = HashMap::new();
    let mut warnings = Vec::new();
    for (_, q) in survey.questions() {
        let number = survey.number_of(&q.id).unwrap_or_default();
        let mut add = |name: &str, src: String| {
            if !sources.contains_key(name) {
                order.push(name.to_owned());
            }
            let list = sources.entry(name.to_owned()).or_default();
            if !list.contains(&src) {
                list.push(src);
            }
        };
        match q.kind {
            QuestionKind::YesNo => {
                if let Some(c) = &q.capability {
                    add(c, format!("問{number}"));
                }
            }
            QuestionKind::Single | QuestionKind::Multiple => {
                let mut by_name: Vec<(String, Vec<&str>)> = Vec::new();
                for o in &q.options {
                    if let Some(c) = option_capability(q, &o.code) {
                        match by_name.iter_mut().find(|(n, _)| n == c) {
                            Some((_, codes)) => codes.push(&o.code),
                            None => by_name.push((c.to_owned(), vec![&o.code])),
                        }
                    }
                }
                if by_name.is_empty() && q.capability.is_some() {
                    warnings.push(format!(
                        "問{number}（{}）は capability を持ちますが、どの選択肢も能力を示さないため、能力一覧に反映していません（選択肢に capability を付けてください）。",
                        q.id
                    ));
                }
                let all_non_exclusive = q.options.iter().filter(|o| !o.exclusive).count();
                for (name, codes) in by_name {
                    let src = if q.kind == QuestionKind::Multiple
                        && codes.len() == all_non_exclusive
                        && codes.len() > 1
                    {
                        format!("問{number}（いずれか）")
                    } else {
                        format!("問{number}（{}）", codes.join("・"))
                    };
                    add(&name, src);
                }
            }
            _ => {
                if let Some(c) = &q.capability {
                    warnings.push(format!(
                        "問{number}（{}）の capability「{c}」は、はい/いいえ・選択肢の質問にしか使えないため、能力一覧に反映していません。",
                        q.id
                    ));
                }
            }
        }
    }
    let cols = order
        .into_iter()
        .map(|name| {
            let source = sources.remove(&name).unwrap_or_default().join("、");
            CapabilitySource { name, source }
        })
        .collect();
    (cols, warnings)
}

/// Who a survey's skip rules send past which question.
///
/// Built once per survey; [`Flow::applicable`] walks one respondent's answers.
#[derive(Debug, Clone)]
pub struct Flow<'a> {
    questions: Vec<&'a Question>,
    /// Per question index, its skip rules as (when, target index).
    rules: Vec<Vec<(&'a [String], usize)>>,
    position: HashMap<&'a str, usize>,
}

impl<'a> Flow<'a> {
    /// Indexes a survey's questions and skip targets.
    pub fn new(survey: &'a Survey) -> Flow<'a> {
        let questions: Vec<&Question> = survey.questions().map(|(_, q)| q).collect();
        let mut target: HashMap<&str, usize> = HashMap::new();
        let mut i = 0;
        for s in &survey.sections {
            target.insert(s.id.as_str(), i);
            for q in &s.questions {
                target.insert(q.id.as_str(), i);
                i += 1;
            }
        }
        let position = questions
            .iter()
            .enumerate()
            .map(|(i, q)| (q.id.as_str(), i))
            .collect();
        let rules = questions
            .iter()
            .map(|q| {
                q.skip
                    .iter()
                    .filter_map(|r| target.get(r.to.as_str()).map(|&t| (r.when.as_slice(), t)))
                    .collect()
            })
            .collect();
        Flow {
            questions,
            rules,
            position,
        }
    }

    /// The questions in print order.
    pub fn questions(&self) -> &[&'a Question] {
        &self.questions
    }

    /// Print-order index of a question.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        self.position.get(id).copied()
    }

    /// Per question (print order), whether it applies to a respondent with these answers.
    ///
    /// A question is not applicable (非該当) when an earlier applicable question's accepted answer
    /// matches a skip rule whose target lies beyond it. An answer under review, missing, or
    /// 「−」 triggers no skip: the respondent is taken to have been asked the following questions,
    /// so they count in n (as 無回答 if blank).
    pub fn applicable(
        &self,
        answers: &HashMap<String, Option<Value>>,
        under_review: &HashSet<String>,
    ) -> Vec<bool> {
        let mut out = vec![true; self.questions.len()];
        let mut resume_at = 0usize;
        for (i, q) in self.questions.iter().enumerate() {
            if i < resume_at {
                out[i] = false;
                continue;
            }
            if self.rules[i].is_empty() || under_review.contains(&q.id) {
                continue;
            }
            let Some(Some(value)) = answers.get(&q.id) else {
                continue;
            };
            if let Some(&(_, target)) = self.rules[i].iter().find(|(when, _)| matches(value, when))
            {
                resume_at = resume_at.max(target);
            }
        }
        out
    }
}

/// Whether a value triggers a skip rule listing `when`.
fn matches(value: &Value, when: &[String]) -> bool {
    match value {
        Value::Choice(c) => when.iter().any(|w| w == c),
        Value::Choices(cs) => cs.iter().any(|c| when.iter().any(|w| w == c)),
        Value::Bool(b) => {
            let code = if *b { YES } else { NO };
            when.iter().any(|w| w == code)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn survey(name: &str) -> Survey {
        let path = format!("{}/../../surveys/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        capsurvey_survey::parse_survey(&path, &text).unwrap().survey
    }

    fn answers(pairs: &[(&str, Value)]) -> HashMap<String, Option<Value>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Some(v.clone())))
            .collect()
    }

    #[test]
    fn conventions_find_the_shipped_questions() {
        let d = survey("dental");
        let h = survey("homecare-clinic");
        let v = survey("visiting-nurse");
        assert_eq!(listing_question(&d).unwrap().id, "q26");
        assert_eq!(listing_question(&h).unwrap().id, "q30a");
        assert_eq!(listing_question(&v).unwrap().id, "q26a");
        assert_eq!(filing_question(&d).unwrap().id, "q06");
        assert_eq!(filing_question(&h).unwrap().id, "q03");
        assert_eq!(filing_question(&v).unwrap().id, "q12");
        let reasons = |s: &Survey| -> Vec<String> {
            s.questions()
                .filter(|(_, q)| is_reasons_question(q))
                .map(|(_, q)| q.id.clone())
                .collect()
        };
        assert_eq!(reasons(&d), ["q16"]);
        assert_eq!(reasons(&h), ["q04"]);
        let q30a = h.question("q30a").unwrap();
        assert!(is_listing_consent(q30a, &Value::Choice("1".into())));
        assert!(!is_listing_consent(q30a, &Value::Choice("2".into())));
        assert!(!is_tabulated(h.question("q01b").unwrap()));
        assert!(!is_tabulated(h.question("q01e").unwrap()));
        assert!(is_tabulated(h.question("q22b").unwrap()));
    }

    #[test]
    fn capabilities_follow_option_and_question_names() {
        let h = survey("homecare-clinic");
        let q11 = h.question("q11").unwrap();
        assert_eq!(
            capabilities_shown(q11, &Value::Choice("2".into())),
            ["24時間往診"]
        );
        assert!(capabilities_shown(q11, &Value::Choice("3".into())).is_empty());
        let q07 = h.question("q07").unwrap();
        assert!(capabilities_shown(q07, &Value::Choice("3".into())).is_empty());
        let q14 = h.question("q14").unwrap();
        assert_eq!(capabilities_shown(q14, &Value::Bool(true)), ["看取り"]);
        assert!(capabilities_shown(q14, &Value::Bool(false)).is_empty());
        let q23 = h.question("q23").unwrap();
        assert_eq!(
            capabilities_shown(q23, &Value::Choices(vec!["2".into(), "4".into()])),
            ["人工呼吸器"]
        );
        let q24 = h.question("q24").unwrap();
        assert_eq!(
            capabilities_shown(q24, &Value::Choices(vec!["1".into()])),
            ["在宅での検査"]
        );
        assert!(capabilities_shown(q24, &Value::Choices(vec!["5".into()])).is_empty());

        let (cols, warnings) = capability_columns(&h);
        assert!(warnings.is_empty(), "{warnings:?}");
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            &names[..4],
            ["訪問診療", "往診", "24時間往診", "24時間訪問看護"]
        );
        assert!(names.contains(&"人工呼吸器") && names.contains(&"新規受入"));
        let c = cols.iter().find(|c| c.name == "24時間往診").unwrap();
        assert_eq!(c.source, "問11（1・2）");
        let c = cols.iter().find(|c| c.name == "在宅での検査").unwrap();
        assert_eq!(c.source, "問24（いずれか）");
        // The same capability from two questions is one column (dental 問8 and 問9).
        let (dcols, _) = capability_columns(&survey("dental"));
        let c = dcols.iter().find(|c| c.name == "訪問歯科診療").unwrap();
        assert_eq!(c.source, "問8（1・2）、問9（いずれか）");
    }

    #[test]
    fn skip_rules_make_later_questions_not_applicable() {
        let d = survey("dental");
        let flow = Flow::new(&d);
        let idx = |id: &str| flow.index_of(id).unwrap();
        let none = HashSet::new();

        // Not visiting: 問9–15 and 問17–22 do not apply; 問16 and 問23-1 do.
        let a = flow.applicable(
            &answers(&[
                ("q08", Value::Choice("4".into())),
                ("q16", Value::Choices(vec!["1".into()])),
            ]),
            &none,
        );
        assert!(!a[idx("q09")] && !a[idx("q15")] && !a[idx("q17")] && !a[idx("q22")]);
        assert!(a[idx("q16")] && a[idx("q23a")] && a[idx("q28")]);

        // Visiting and 問15 answered: 問16 does not apply.
        let a = flow.applicable(
            &answers(&[
                ("q08", Value::Choice("1".into())),
                ("q15", Value::Choice("1".into())),
            ]),
            &none,
        );
        assert!(a[idx("q09")] && !a[idx("q16")] && a[idx("q17")]);

        // 問8 under review or blank: nothing is skipped.
        let review: HashSet<String> = ["q08".to_string()].into();
        let a = flow.applicable(&answers(&[("q08", Value::Choice("4".into()))]), &review);
        assert!(a.iter().all(|x| *x));
        let a = flow.applicable(&HashMap::new(), &none);
        assert!(a.iter().all(|x| *x));

        // A skipped question's own skip rule does not fire (問15 is past when 問8 is 3).
        let a = flow.applicable(
            &answers(&[
                ("q08", Value::Choice("3".into())),
                ("q15", Value::Choice("1".into())),
            ]),
            &none,
        );
        assert!(a[idx("q16")]);

        // yes_no: 問11-1 「実施していない」 skips 問11-2.
        let a = flow.applicable(&answers(&[("q11a", Value::Bool(false))]), &none);
        assert!(!a[idx("q11b")] && a[idx("q12")]);
    }
}
