//! From stored answers to handout numbers. Pure: no I/O, no clock.
//!
//! Rules (also in `docs/handouts.md`):
//! - Respondents (有効回答) are facilities with at least one accepted answer holding a value.
//! - n of a field = respondents the field applies to (skip rules did not send them past it)
//!   minus those whose answer to it is still under review. Skipped respondents are 非該当 and
//!   are not in n; blank answers of the others are 無回答 and are in n.
//! - Answers under review (status `review`) are never counted: each field reports them as
//!   「確認中 k件」 beside its n, and they neither trigger skips nor show capabilities.
//! - Percentages are of the field's n, rounded half up to one decimal; multiple-answer shares
//!   total more than 100%.
//! - With `min_cell` ≥ 2, counts from 1 to `min_cell − 1` are printed 「*」. In tables whose cells
//!   add up to n, a second cell is hidden when only one is, so it cannot be worked out from n.

use std::collections::{BTreeSet, HashMap};

use capsurvey_survey::{FacilityType, Field, FieldKind, Question, QuestionKind, Survey, Value};
use chrono::NaiveDate;

use crate::fmt::{fixed_text, pct_tenths, pct_text, ratio_text, wareki};
use crate::model::*;
use crate::rules::{self, FILING_NONE, FILING_UNKNOWN, Flow, NO_ANSWER, UNKNOWN};

/// Colour index of わからない in charts.
pub const COLOR_UNKNOWN: usize = 100;
/// Colour index of 無回答 in charts.
pub const COLOR_NONE: usize = 101;

/// Choices that change what the handout shows, not what it counts.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// Counts from 1 to `min_cell − 1` are printed 「*」; 0 or 1 suppresses nothing.
    pub min_cell: u64,
    /// The day printed as the handout's date.
    pub generated_on: NaiveDate,
    /// At most this many capability columns per grid table; wider grids are split into tables of
    /// even width so each fits A4 portrait.
    pub grid_columns: usize,
}

impl ReportOptions {
    /// No suppression, dated `generated_on`, at most 18 capability columns per grid table.
    pub fn new(generated_on: NaiveDate) -> ReportOptions {
        ReportOptions {
            min_cell: 0,
            generated_on,
            grid_columns: 18,
        }
    }
}

/// A respondent with the questions that apply to them.
struct Resp<'a> {
    rec: &'a crate::model::FacilityRecord,
    applicable: Vec<bool>,
    /// Filing rows the respondent belongs to.
    filings: Vec<String>,
}

/// How one respondent stands for one field.
enum Status<'v> {
    /// A skip rule sent them past it; `answered` if they answered anyway.
    NotApplicable { answered: bool },
    /// Their answer is under review.
    Review,
    /// Applicable and blank.
    Blank,
    /// 「−」.
    Unknown,
    /// A value.
    Given(&'v Value),
}

fn is_blank(v: &Value) -> bool {
    match v {
        Value::Choices(cs) => cs.is_empty(),
        Value::Text(t) => t.trim().is_empty(),
        _ => false,
    }
}

/// One field being tabulated: the question, the key, and for a write-in the option it belongs to.
struct FieldRef<'a> {
    q: &'a Question,
    qi: usize,
    key: String,
    kind: FieldKind,
    /// The option whose write-in this is: it applies only to those who chose the option.
    parent_option: Option<&'a str>,
    label: Option<String>,
}

impl<'a> FieldRef<'a> {
    fn new(f: &Field<'a>, qi: usize) -> FieldRef<'a> {
        let is_write_in = f.part.is_some_and(|p| f.question.option(p).is_some());
        FieldRef {
            q: f.question,
            qi,
            key: f.key(),
            kind: f.kind,
            parent_option: if is_write_in { f.part } else { None },
            label: f.part_label().map(str::to_owned),
        }
    }

    fn status<'v>(&self, r: &'v Resp<'_>) -> Status<'v> {
        let rec = r.rec;
        let stored = rec.answers.get(&self.key);
        let has_answer = matches!(stored, Some(Some(v)) if !is_blank(v));
        let mut applicable = r.applicable[self.qi];
        if let Some(code) = self.parent_option {
            // A write-in applies only when its option was chosen (and that choice is settled).
            let chosen = !rec.under_review.contains(&self.q.id)
                && match rec.answers.get(&self.q.id) {
                    Some(Some(Value::Choice(c))) => c == code,
                    Some(Some(Value::Choices(cs))) => cs.iter().any(|c| c == code),
                    _ => false,
                };
            applicable &= chosen;
        }
        if !applicable {
            let answered = has_answer || rec.under_review.contains(&self.key);
            return Status::NotApplicable { answered };
        }
        if rec.under_review.contains(&self.key) {
            return Status::Review;
        }
        match stored {
            Some(Some(Value::Unknown)) => Status::Unknown,
            Some(Some(v)) if !is_blank(v) => Status::Given(v),
            _ => Status::Blank,
        }
    }
}

/// A key question's field to cross-tabulate: the field, its options, whether わからない shows.
type KeyField<'a> = (FieldRef<'a>, Vec<(String, String)>, bool);

/// Counts of one field over some respondents.
#[derive(Default)]
struct Tally {
    n: u64,
    not_applicable: u64,
    review: u64,
    answered_when_skipped: u64,
    blank: u64,
    unknown: u64,
    /// Per option (choice fields) or yes/no.
    options: Vec<u64>,
    /// Scaled numbers (count and decimal fields).
    numbers: Vec<u128>,
    /// Texts (text fields).
    texts: Vec<String>,
}

/// The options of a choice or yes/no field as (code, label).
fn option_labels(f: &FieldRef<'_>) -> Vec<(String, String)> {
    match f.kind {
        FieldKind::YesNo => {
            let [y, n] = f.q.yes_no_labels();
            vec![("yes".into(), y.to_owned()), ("no".into(), n.to_owned())]
        }
        _ => {
            f.q.options
                .iter()
                .map(|o| (o.code.clone(), o.label.clone()))
                .collect()
        }
    }
}

/// Digits after the point a field's numbers are scaled by.
fn decimals_of(f: &FieldRef<'_>) -> u32 {
    match f.kind {
        FieldKind::Decimal => f.q.decimals.unwrap_or(1) as u32,
        _ => 0,
    }
}

fn scaled(v: &Value, decimals: u32) -> Option<u128> {
    let scale = 10f64.powi(decimals as i32);
    match v {
        Value::Int(i) => Some((*i).max(0) as u128 * 10u128.pow(decimals)),
        Value::Decimal(x) => Some((x * scale).round().max(0.0) as u128),
        _ => None,
    }
}

fn tally<'r>(
    f: &FieldRef<'_>,
    codes: &[(String, String)],
    respondents: impl Iterator<Item = &'r Resp<'r>>,
) -> Tally {
    let mut t = Tally {
        options: vec![0; codes.len()],
        ..Tally::default()
    };
    let decimals = decimals_of(f);
    for r in respondents {
        match f.status(r) {
            Status::NotApplicable { answered } => {
                t.not_applicable += 1;
                t.answered_when_skipped += answered as u64;
            }
            Status::Review => t.review += 1,
            Status::Blank => {
                t.n += 1;
                t.blank += 1;
            }
            Status::Unknown => {
                t.n += 1;
                t.unknown += 1;
            }
            Status::Given(v) => {
                t.n += 1;
                match (f.kind, v) {
                    (FieldKind::Single, Value::Choice(c)) => {
                        if let Some(i) = codes.iter().position(|(k, _)| k == c) {
                            t.options[i] += 1;
                        }
                    }
                    (FieldKind::Multiple, Value::Choices(cs)) => {
                        for c in cs {
                            if let Some(i) = codes.iter().position(|(k, _)| k == c) {
                                t.options[i] += 1;
                            }
                        }
                    }
                    (FieldKind::YesNo, Value::Bool(b)) => t.options[if *b { 0 } else { 1 }] += 1,
                    (FieldKind::Count | FieldKind::Decimal, v) => match scaled(v, decimals) {
                        Some(x) => t.numbers.push(x),
                        None => {
                            // A value of the wrong type cannot be stored through the checks;
                            // should one appear, it is no usable answer.
                            t.blank += 1;
                        }
                    },
                    (FieldKind::Text, Value::Text(s)) => t.texts.push(s.trim().to_owned()),
                    _ => t.blank += 1,
                }
            }
        }
    }
    t
}

/// Applies `--min-cell` and counts what it hid.
struct Suppressor {
    min: u64,
    hidden: u64,
}

impl Suppressor {
    fn hide(&mut self, r: &mut CountRow) {
        if !r.suppressed {
            r.suppressed = true;
            r.count_text = "*".into();
            r.pct_text = "*".into();
            r.pct_tenths = None;
            self.hidden += 1;
        }
    }

    /// `complete`: the cells add up to n (single choice, bins, cross-tab rows).
    fn apply(&mut self, rows: &mut [CountRow], n: u64, complete: bool) {
        if self.min <= 1 {
            return;
        }
        let small_row = complete && n > 0 && n < self.min;
        let mut hidden = 0;
        for r in rows.iter_mut() {
            if small_row || (r.count > 0 && r.count < self.min) {
                self.hide(r);
                hidden += 1;
            }
        }
        if complete && hidden == 1 {
            // One hidden cell could be worked out as n minus the others: hide the next smallest.
            if let Some(other) = rows
                .iter_mut()
                .filter(|r| !r.suppressed)
                .min_by_key(|r| r.count)
            {
                self.hide(other);
            }
        }
    }

    fn stat(&self, answered: u64, text: Option<String>) -> String {
        match text {
            None => "-".into(),
            Some(_) if self.min > 1 && answered < self.min => "*".into(),
            Some(t) => t,
        }
    }
}

fn count_row(code: &str, label: &str, count: u64, n: u64, kind: &str, color: usize) -> CountRow {
    CountRow {
        code: code.to_owned(),
        label: label.to_owned(),
        count,
        count_text: count.to_string(),
        pct_tenths: pct_tenths(count, n),
        pct_text: pct_text(count, n),
        suppressed: false,
        kind: kind.to_owned(),
        color,
    }
}

/// Option rows, then わからない (if any) and 無回答.
fn choice_rows(
    codes: &[(String, String)],
    t: &Tally,
    show_unknown: bool,
    multiple: bool,
    sup: &mut Suppressor,
) -> Vec<CountRow> {
    let mut rows: Vec<CountRow> = codes
        .iter()
        .zip(&t.options)
        .enumerate()
        .map(|(i, ((code, label), &c))| count_row(code, label, c, t.n, "option", i))
        .collect();
    if show_unknown {
        rows.push(count_row(
            "unknown",
            UNKNOWN,
            t.unknown,
            t.n,
            "unknown",
            COLOR_UNKNOWN,
        ));
    }
    rows.push(count_row(
        "none", NO_ANSWER, t.blank, t.n, "none", COLOR_NONE,
    ));
    sup.apply(&mut rows, t.n, !multiple);
    rows
}

const BIN_LIMITS: [u128; 5] = [1, 5, 10, 20, 50];

fn bin_labels(decimals: u32) -> [&'static str; 6] {
    if decimals == 0 {
        ["0", "1〜4", "5〜9", "10〜19", "20〜49", "50以上"]
    } else {
        [
            "0",
            "0超5未満",
            "5以上10未満",
            "10以上20未満",
            "20以上50未満",
            "50以上",
        ]
    }
}

fn number_stats(f: &FieldRef<'_>, t: &Tally, sup: &mut Suppressor) -> NumberStats {
    let decimals = decimals_of(f);
    let scale = 10u128.pow(decimals);
    let mut values = t.numbers.clone();
    values.sort_unstable();
    let m = values.len() as u64;
    let sum: u128 = values.iter().sum();
    let shown = decimals.max(1);
    let mean = ratio_text(sum, m as u128 * scale, shown);
    let median = if values.is_empty() {
        None
    } else if values.len() % 2 == 1 {
        ratio_text(values[values.len() / 2], scale, shown)
    } else {
        let mid = values.len() / 2;
        ratio_text(values[mid - 1] + values[mid], 2 * scale, shown)
    };
    let mut bins = [0u64; 6];
    for &v in &values {
        let i = if v == 0 {
            0
        } else {
            BIN_LIMITS
                .iter()
                .skip(1)
                .position(|&limit| v < limit * scale)
                .map_or(5, |i| i + 1)
        };
        bins[i] += 1;
    }
    let mut rows: Vec<CountRow> = bin_labels(decimals)
        .iter()
        .zip(bins)
        .enumerate()
        .map(|(i, (label, c))| count_row(&format!("b{i}"), label, c, t.n, "bin", i))
        .collect();
    // Always present for numbers, so tables of several items line up: 「−」 is an instruction
    // printed on every number field.
    rows.push(count_row(
        "unknown",
        UNKNOWN,
        t.unknown,
        t.n,
        "unknown",
        COLOR_UNKNOWN,
    ));
    rows.push(count_row(
        "none", NO_ANSWER, t.blank, t.n, "none", COLOR_NONE,
    ));
    sup.apply(&mut rows, t.n, true);
    let some = |x: u128| (m > 0).then(|| fixed_text(x, decimals));
    NumberStats {
        unit: f.q.unit.clone().unwrap_or_default(),
        answered: m,
        unknown: t.unknown,
        no_answer: t.blank,
        sum_text: sup.stat(m, some(sum)),
        mean_text: sup.stat(m, mean),
        median_text: sup.stat(m, median),
        min_text: sup.stat(m, some(values.first().copied().unwrap_or(0))),
        max_text: sup.stat(m, some(values.last().copied().unwrap_or(0))),
        bins: rows,
    }
}

fn kind_name(k: QuestionKind) -> (&'static str, &'static str) {
    match k {
        QuestionKind::Single => ("single", "単一回答"),
        QuestionKind::Multiple => ("multiple", "複数回答"),
        QuestionKind::YesNo => ("yes_no", "単一回答"),
        QuestionKind::Count => ("count", "数値"),
        QuestionKind::Decimal => ("decimal", "数値"),
        QuestionKind::ShortText | QuestionKind::LongText => ("text", "自由記述"),
    }
}

fn anchor_part(key: &str) -> String {
    key.replace('.', "-")
}

/// Areas in the order tables list them: the `--area` order if given, else sorted, with
/// 地区未設定 last.
fn area_order(input: &ReportInput) -> Vec<String> {
    let present: BTreeSet<&str> = input.facilities.iter().map(|f| f.area_label()).collect();
    let mut order: Vec<String> = input
        .area_filter
        .iter()
        .filter(|a| present.contains(a.as_str()))
        .cloned()
        .collect();
    let mut rest: Vec<String> = present
        .iter()
        .filter(|a| !order.iter().any(|o| o == *a) && **a != rules::NO_AREA)
        .map(|a| a.to_string())
        .collect();
    rest.sort();
    order.extend(rest);
    if present.contains(rules::NO_AREA) && !order.iter().any(|o| o == rules::NO_AREA) {
        order.push(rules::NO_AREA.to_owned());
    }
    order
}

fn collection(input: &ReportInput, areas: &[String]) -> Collection {
    let row = |label: String, it: &mut dyn Iterator<Item = &FacilityRecord>| {
        let (mut sent, mut answered) = (0u64, 0u64);
        for f in it {
            sent += f.mailed as u64;
            answered += f.is_respondent() as u64;
        }
        CollectionRow {
            label,
            sent,
            answered,
            rate_tenths: pct_tenths(answered, sent),
            rate_text: pct_text(answered, sent),
        }
    };
    let types: BTreeSet<&str> = input
        .facilities
        .iter()
        .map(|f| f.facility_type.as_str())
        .collect();
    let by_type = types
        .into_iter()
        .map(|t| {
            let label = t
                .parse::<FacilityType>()
                .map_or_else(|_| t.to_owned(), |ft| ft.label_ja().to_owned());
            row(
                label,
                &mut input.facilities.iter().filter(|f| f.facility_type == t),
            )
        })
        .collect();
    let by_area = areas
        .iter()
        .map(|a| {
            row(
                a.clone(),
                &mut input.facilities.iter().filter(|f| f.area_label() == a),
            )
        })
        .collect();
    Collection {
        total: row("合計".into(), &mut input.facilities.iter()),
        by_type,
        by_area,
        review_only: input
            .facilities
            .iter()
            .filter(|f| f.responded && !f.is_respondent() && !f.under_review.is_empty())
            .count() as u64,
        unmailed_respondents: input
            .facilities
            .iter()
            .filter(|f| f.is_respondent() && !f.mailed)
            .count() as u64,
    }
}

/// Filing rows of each respondent: the filing question's options, else the roster's filings.
fn filing_rows(survey: &Survey, resp: &mut [Resp<'_>], flow: &Flow<'_>) -> (String, bool) {
    match rules::filing_question(survey) {
        Some(q) => {
            let qi = flow.index_of(&q.id).expect("question of the survey");
            for r in resp.iter_mut() {
                let rec = r.rec;
                let value = if rec.under_review.contains(&q.id) || !r.applicable[qi] {
                    None
                } else {
                    rec.answers.get(&q.id).and_then(|v| v.as_ref())
                };
                let labels: Vec<String> = match value {
                    Some(Value::Choice(c)) => {
                        q.option(c).map(|o| o.label.clone()).into_iter().collect()
                    }
                    Some(Value::Choices(cs)) => cs
                        .iter()
                        .filter_map(|c| q.option(c).map(|o| o.label.clone()))
                        .collect(),
                    _ => Vec::new(),
                };
                r.filings = if labels.is_empty() {
                    vec![FILING_UNKNOWN.to_owned()]
                } else {
                    labels
                };
            }
            let number = survey.number_of(&q.id).unwrap_or_default();
            (
                format!("問{number} {}", q.text),
                q.kind == QuestionKind::Multiple,
            )
        }
        None => {
            let mut overlaps = false;
            for r in resp.iter_mut() {
                r.filings = if r.rec.filings.is_empty() {
                    vec![FILING_NONE.to_owned()]
                } else {
                    r.rec.filings.clone()
                };
                overlaps |= r.filings.len() > 1;
            }
            ("名簿（厚生局の届出受理名簿）の届出区分".into(), overlaps)
        }
    }
}

/// Turns the stored answers into the handout's numbers.
pub fn aggregate(input: &ReportInput, opts: &ReportOptions) -> Report {
    let survey = &input.survey;
    let flow = Flow::new(survey);
    let mut sup = Suppressor {
        min: opts.min_cell,
        hidden: 0,
    };
    let mut warnings = Vec::new();

    let mut resp: Vec<Resp<'_>> = input
        .facilities
        .iter()
        .filter(|f| f.is_respondent())
        .map(|rec| Resp {
            rec,
            applicable: flow.applicable(&rec.answers, &rec.under_review),
            filings: Vec::new(),
        })
        .collect();
    let (filing_source, filing_overlaps) = filing_rows(survey, &mut resp, &flow);
    let areas = area_order(input);

    // Per-question tables, free text, and the fields cross-tabs and rankings reuse.
    let mut sections = Vec::new();
    let mut free_text: Vec<FreeTextBlock> = Vec::new();
    let mut reasons = Vec::new();
    let mut key_fields: Vec<KeyField<'_>> = Vec::new();
    let (mut review_total, mut skipped_total) = (0u64, 0u64);
    for section in &survey.sections {
        let mut questions = Vec::new();
        for q in section.questions.iter().filter(|q| rules::is_tabulated(q)) {
            let qi = flow.index_of(&q.id).expect("question of the survey");
            let number = survey.number_of(&q.id).unwrap_or_default();
            let (kind, kind_label) = kind_name(q.kind);
            let anchor = format!("q-{}", q.id);
            let mut parts = Vec::new();
            for field in q.fields() {
                let f = FieldRef::new(&field, qi);
                // Text write-ins (「その他（　）」) are listed with the free text, not as parts.
                let text_write_in = f.parent_option.is_some() && f.kind == FieldKind::Text;
                let codes = option_labels(&f);
                let t = tally(&f, &codes, resp.iter());
                review_total += t.review;
                skipped_total += t.answered_when_skipped;
                let mut part = Part {
                    key: f.key.clone(),
                    anchor: format!("r-{}", anchor_part(&f.key)),
                    label: f.label.clone(),
                    n: t.n,
                    not_applicable: t.not_applicable,
                    under_review: t.review,
                    answered_when_skipped: t.answered_when_skipped,
                    choice: None,
                    number: None,
                    text: None,
                };
                match f.kind {
                    FieldKind::Single | FieldKind::Multiple | FieldKind::YesNo => {
                        let multiple = f.kind == FieldKind::Multiple;
                        let rows = choice_rows(&codes, &t, t.unknown > 0, multiple, &mut sup);
                        if rules::is_reasons_question(q) {
                            reasons.push(ranking(q, &number, &anchor, t.n, &rows));
                        }
                        part.choice = Some(ChoiceTable { multiple, rows });
                        if rules::is_key_question(q) {
                            key_fields.push((f, codes, t.unknown > 0));
                        }
                    }
                    FieldKind::Count | FieldKind::Decimal => {
                        part.number = Some(number_stats(&f, &t, &mut sup));
                    }
                    FieldKind::Text => {
                        // 自由回答一覧 lists opinions (long text) and 「その他（　）」 write-ins. Short
                        // answers such as 営業時間 describe one facility and mean nothing without
                        // its name, so they are only counted.
                        let listed = q.kind == QuestionKind::LongText || f.parent_option.is_some();
                        let listed_in = (listed && !t.texts.is_empty()).then(|| {
                            let title = match &f.label {
                                Some(l) if f.parent_option.is_some() => {
                                    format!("{}（「{l}」の記入内容）", q.text)
                                }
                                Some(l) => format!("{}（{l}）", q.text),
                                None => q.text.clone(),
                            };
                            free_text.push(FreeTextBlock {
                                anchor: format!("t-{}", anchor_part(&f.key)),
                                number: number.clone(),
                                title,
                                entries: t.texts.clone(),
                            });
                            free_text.len() - 1
                        });
                        part.text = Some(TextSummary {
                            written: t.texts.len() as u64,
                            no_answer: t.blank,
                            listed_in,
                        });
                    }
                }
                if !text_write_in {
                    parts.push(part);
                }
            }
            questions.push(QuestionReport {
                id: q.id.clone(),
                anchor,
                number,
                text: q.text.clone(),
                kind: kind.into(),
                kind_label: kind_label.into(),
                parts,
            });
        }
        if !questions.is_empty() {
            sections.push(SectionReport {
                id: section.id.clone(),
                title: section.title.clone(),
                questions,
            });
        }
    }

    // Cross-tabs of the key questions.
    let filing_labels: Vec<String> = {
        let mut seen: Vec<String> = Vec::new();
        if let Some(q) = rules::filing_question(survey) {
            seen.extend(q.options.iter().map(|o| o.label.clone()));
            seen.push(FILING_UNKNOWN.to_owned());
            seen.retain(|l| resp.iter().any(|r| r.filings.contains(l)));
        } else {
            let all: BTreeSet<&String> = resp.iter().flat_map(|r| r.filings.iter()).collect();
            seen.extend(all.into_iter().filter(|l| *l != FILING_NONE).cloned());
            if resp
                .iter()
                .any(|r| r.filings.iter().any(|l| l == FILING_NONE))
            {
                seen.push(FILING_NONE.to_owned());
            }
        }
        seen
    };
    let filing_q = rules::filing_question(survey).map(|q| q.id.clone());
    let area_groups: Vec<Group> = areas
        .iter()
        .map(|a| {
            let members = (0..resp.len())
                .filter(|&i| resp[i].rec.area_label() == a)
                .collect();
            (a.clone(), members)
        })
        .collect();
    let filing_groups: Vec<Group> = filing_labels
        .iter()
        .map(|l| {
            let members = (0..resp.len())
                .filter(|&i| resp[i].filings.contains(l))
                .collect();
            (l.clone(), members)
        })
        .collect();
    let mut by_area = Vec::new();
    let mut by_filing = Vec::new();
    for (f, codes, show_unknown) in &key_fields {
        let x = CrossSpec {
            survey,
            f,
            codes,
            show_unknown: *show_unknown,
        };
        by_area.push(x.build("area", "地区", &area_groups, &resp, &mut sup));
        if filing_q.as_deref() != Some(f.q.id.as_str()) {
            by_filing.push(x.build("filing", "届出区分", &filing_groups, &resp, &mut sup));
        }
    }

    let capabilities = capabilities(survey, &flow, &resp, &areas, opts, &mut sup, &mut warnings);
    if rules::listing_question(survey).is_none() {
        warnings.push(
            "掲載の可否を尋ねる質問（本文に「掲載」を含む単一回答の質問）がないため、施設一覧は作成していません。"
                .into(),
        );
    }

    Report {
        survey: SurveyInfo {
            id: survey.id.clone(),
            version: survey.version,
            title: survey.title.clone(),
            facility_type: survey.facility_type.as_str().into(),
            facility_type_label: survey.facility_type.label_ja().into(),
            reference_date: survey.reference_date.to_string(),
            reference_date_ja: wareki(survey.reference_date),
        },
        generated_on: wareki(opts.generated_on),
        area_filter: input.area_filter.clone(),
        min_cell: if opts.min_cell > 1 { opts.min_cell } else { 0 },
        collection: collection(input, &areas),
        sections,
        crosstabs: CrossTabs {
            by_area,
            by_filing,
            filing_source,
            filing_overlaps,
        },
        reasons,
        free_text,
        capabilities,
        notes: Notes {
            under_review_answers: review_total,
            answered_when_skipped: skipped_total,
            suppressed_cells: sup.hidden,
        },
        warnings,
    }
}

fn ranking(q: &Question, number: &str, anchor: &str, n: u64, rows: &[CountRow]) -> Ranking {
    let mut options: Vec<&CountRow> = rows.iter().filter(|r| r.kind == "option").collect();
    // Stable sort keeps print order among equal counts.
    options.sort_by_key(|r| std::cmp::Reverse(r.count));
    let mut ranked = Vec::with_capacity(options.len());
    let mut rank = 0;
    let mut last = None;
    for (i, r) in options.into_iter().enumerate() {
        if last != Some(r.count) {
            rank = i as u64 + 1;
            last = Some(r.count);
        }
        ranked.push(RankRow {
            rank,
            row: r.clone(),
        });
    }
    Ranking {
        question_anchor: anchor.to_owned(),
        number: number.to_owned(),
        text: q.text.clone(),
        n,
        rows: ranked,
    }
}

/// A row group of a cross-tab: its label and the indices of its respondents.
type Group = (String, Vec<usize>);

/// One key field to cross-tabulate.
struct CrossSpec<'s, 'f> {
    survey: &'s Survey,
    f: &'f FieldRef<'s>,
    codes: &'f [(String, String)],
    show_unknown: bool,
}

impl CrossSpec<'_, '_> {
    fn build(
        &self,
        dim_id: &str,
        dimension: &str,
        groups: &[Group],
        resp: &[Resp<'_>],
        sup: &mut Suppressor,
    ) -> CrossTab {
        let (f, codes, show_unknown) = (self.f, self.codes, self.show_unknown);
        let number = self.survey.number_of(&f.q.id).unwrap_or_default();
        let mut columns: Vec<CrossColumn> = codes
            .iter()
            .enumerate()
            .map(|(i, (_, l))| CrossColumn {
                label: l.clone(),
                color: i,
            })
            .collect();
        if show_unknown {
            columns.push(CrossColumn {
                label: UNKNOWN.into(),
                color: COLOR_UNKNOWN,
            });
        }
        columns.push(CrossColumn {
            label: NO_ANSWER.into(),
            color: COLOR_NONE,
        });
        let mut rows = Vec::with_capacity(groups.len() + 1);
        for (label, members) in groups {
            let t = tally(f, codes, members.iter().map(|&i| &resp[i]));
            rows.push(CrossRow {
                label: label.clone(),
                n: t.n,
                cells: choice_rows(codes, &t, show_unknown, false, sup),
                total: false,
            });
        }
        let t = tally(f, codes, resp.iter());
        rows.push(CrossRow {
            label: "全体".into(),
            n: t.n,
            cells: choice_rows(codes, &t, show_unknown, false, sup),
            total: true,
        });
        let text = match &f.label {
            Some(l) => format!("{}（{l}）", f.q.text),
            None => f.q.text.clone(),
        };
        CrossTab {
            anchor: format!("x-{dim_id}-{}", anchor_part(&f.key)),
            question_anchor: format!("q-{}", f.q.id),
            number,
            text,
            dimension: dimension.to_owned(),
            columns,
            rows,
        }
    }
}

/// The contact a listing prints: the respondent's correction (a pre-printed field they
/// answered) if any, else the roster's.
fn contact(
    survey: &Survey,
    rec: &FacilityRecord,
    what: capsurvey_survey::Prefill,
    roster: &Option<String>,
) -> String {
    let corrected = survey
        .questions()
        .map(|(_, q)| q)
        .filter(|q| q.prefill == Some(what) && q.items.is_empty())
        .filter(|q| !rec.under_review.contains(&q.id))
        .find_map(|q| match rec.answers.get(&q.id) {
            Some(Some(Value::Text(t))) if !t.trim().is_empty() => Some(t.trim().to_owned()),
            _ => None,
        });
    corrected.or_else(|| roster.clone()).unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
fn capabilities(
    survey: &Survey,
    flow: &Flow<'_>,
    resp: &[Resp<'_>],
    areas: &[String],
    opts: &ReportOptions,
    sup: &mut Suppressor,
    warnings: &mut Vec<String>,
) -> Capabilities {
    let (sources, mut warn) = rules::capability_columns(survey);
    warnings.append(&mut warn);
    let col_index: HashMap<&str, usize> = sources
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.as_str(), i))
        .collect();
    let cap_questions: Vec<(usize, &Question)> = flow
        .questions()
        .iter()
        .enumerate()
        .filter(|(_, q)| {
            matches!(
                q.kind,
                QuestionKind::YesNo | QuestionKind::Single | QuestionKind::Multiple
            ) && rules::is_tabulated(q)
        })
        .map(|(i, q)| (i, *q))
        .collect();

    let can_show =
        |q: &Question| q.capability.is_some() || q.options.iter().any(|o| o.capability.is_some());
    let mut under_review = 0u64;
    let marks: Vec<Vec<bool>> = resp
        .iter()
        .map(|r| {
            let mut m = vec![false; sources.len()];
            for &(qi, q) in &cap_questions {
                if !r.applicable[qi] || !can_show(q) {
                    continue;
                }
                for field in q.fields() {
                    if field.part.is_some_and(|p| q.option(p).is_some()) {
                        continue; // write-ins show nothing
                    }
                    let key = field.key();
                    if r.rec.under_review.contains(&key) {
                        // Not marked until a person decides.
                        under_review += 1;
                        continue;
                    }
                    let Some(Some(v)) = r.rec.answers.get(&key) else {
                        continue;
                    };
                    for name in rules::capabilities_shown(q, v) {
                        if let Some(&i) = col_index.get(name) {
                            m[i] = true;
                        }
                    }
                }
            }
            m
        })
        .collect();

    let listing = rules::listing_question(survey);
    let mut listing_under_review = 0;
    let listed: Vec<bool> = resp
        .iter()
        .map(|r| {
            let Some(q) = listing else { return false };
            let qi = flow.index_of(&q.id).expect("question of the survey");
            if r.rec.under_review.contains(&q.id) {
                listing_under_review += 1;
                return false;
            }
            r.applicable[qi]
                && matches!(r.rec.answers.get(&q.id), Some(Some(v)) if rules::is_listing_consent(q, v))
        })
        .collect();

    let area_rank: HashMap<&str, usize> = areas
        .iter()
        .enumerate()
        .map(|(i, a)| (a.as_str(), i))
        .collect();
    let mut order: Vec<usize> = (0..resp.len()).filter(|&i| listed[i]).collect();
    order.sort_by(|&a, &b| {
        let key = |i: usize| {
            let rec = resp[i].rec;
            (
                area_rank
                    .get(rec.area_label())
                    .copied()
                    .unwrap_or(usize::MAX),
                rec.name_kana.clone().unwrap_or_else(|| rec.name.clone()),
                rec.code.clone(),
            )
        };
        key(a).cmp(&key(b))
    });
    use capsurvey_survey::Prefill;
    let rows: Vec<GridRow> = order
        .iter()
        .map(|&i| {
            let rec = resp[i].rec;
            GridRow {
                code: rec.code.clone(),
                name: rec.name.clone(),
                area: rec.area_label().to_owned(),
                address: contact(survey, rec, Prefill::Address, &rec.address),
                phone: contact(survey, rec, Prefill::Phone, &rec.phone),
                fax: contact(survey, rec, Prefill::Fax, &rec.fax),
                marks: marks[i].clone(),
            }
        })
        .collect();
    let lists = sources
        .iter()
        .enumerate()
        .map(|(c, s)| CapabilityList {
            anchor: format!("c-{c}"),
            name: s.name.clone(),
            rows: rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.marks[c])
                .map(|(i, _)| i)
                .collect(),
        })
        .collect::<Vec<_>>();
    let total = resp.len() as u64;
    let columns: Vec<CapabilityColumn> = sources
        .iter()
        .enumerate()
        .map(|(c, s)| {
            let with = marks.iter().filter(|m| m[c]).count() as u64;
            CapabilityColumn {
                name: s.name.clone(),
                source: s.source.clone(),
                respondents: with,
                pct_text: pct_text(with, total),
                listed: lists[c].rows.len() as u64,
            }
        })
        .collect();
    // As many tables as needed, with the columns shared out evenly (17 → 9 + 8, not 14 + 3).
    let max = opts.grid_columns.max(1);
    let tables = columns.len().div_ceil(max).max(1);
    let per_table = columns.len().div_ceil(tables).max(1);
    let column_groups = (0..columns.len())
        .collect::<Vec<_>>()
        .chunks(per_table)
        .map(<[usize]>::to_vec)
        .collect();

    let by_area = (!columns.is_empty()).then(|| {
        let mut row = |label: String, members: Vec<usize>, total_row: bool| {
            let n = members.len() as u64;
            let mut cells: Vec<CountRow> = columns
                .iter()
                .enumerate()
                .map(|(c, col)| {
                    let k = members.iter().filter(|&&i| marks[i][c]).count() as u64;
                    count_row(&format!("c{c}"), &col.name, k, n, "option", c)
                })
                .collect();
            sup.apply(&mut cells, n, false);
            CrossRow {
                label,
                n,
                cells,
                total: total_row,
            }
        };
        let mut rows: Vec<CrossRow> = areas
            .iter()
            .map(|a| {
                let members = (0..resp.len())
                    .filter(|&i| resp[i].rec.area_label() == a)
                    .collect();
                row(a.clone(), members, false)
            })
            .collect();
        rows.push(row("全体".into(), (0..resp.len()).collect(), true));
        CrossTab {
            anchor: "x-area-capabilities".into(),
            question_anchor: "capabilities".into(),
            number: String::new(),
            text: "対応可能な内容（回答施設に占める割合）".into(),
            dimension: "地区".into(),
            columns: columns
                .iter()
                .enumerate()
                .map(|(i, c)| CrossColumn {
                    label: c.name.clone(),
                    color: i,
                })
                .collect(),
            rows,
        }
    });

    let listed_count = rows.len() as u64;
    Capabilities {
        listing_question: listing
            .map(|q| format!("問{}", survey.number_of(&q.id).unwrap_or_default())),
        listed: listed_count,
        not_listed: total - listed_count,
        listing_under_review,
        columns,
        column_groups,
        rows,
        lists,
        by_area,
        under_review,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn survey() -> Survey {
        let path = format!(
            "{}/../../surveys/homecare-clinic.toml",
            env!("CARGO_MANIFEST_DIR")
        );
        let text = std::fs::read_to_string(&path).unwrap();
        capsurvey_survey::parse_survey(&path, &text).unwrap().survey
    }

    fn fac(
        code: &str,
        area: &str,
        answers: &[(&str, Option<Value>)],
        review: &[&str],
    ) -> FacilityRecord {
        FacilityRecord {
            code: code.into(),
            name: format!("施設{code}"),
            facility_type: "homecare-clinic".into(),
            area: Some(area.into()),
            mailed: true,
            responded: true,
            answers: answers
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            under_review: review.iter().map(|s| s.to_string()).collect::<HashSet<_>>(),
            ..FacilityRecord::default()
        }
    }

    fn c(code: &str) -> Option<Value> {
        Some(Value::Choice(code.into()))
    }

    fn part<'r>(r: &'r Report, key: &str) -> &'r Part {
        r.sections
            .iter()
            .flat_map(|s| &s.questions)
            .flat_map(|q| &q.parts)
            .find(|p| p.key == key)
            .unwrap()
    }

    #[test]
    fn n_excludes_skipped_and_review_and_counts_blanks() {
        let input = ReportInput {
            survey: survey(),
            area_filter: vec![],
            facilities: vec![
                // Skips 問8 (q07 = 2), answers q08 anyway: 非該当, counted as answered-when-skipped.
                fac(
                    "1",
                    "北沢",
                    &[("q07", c("2")), ("q08.home", Some(Value::Int(3)))],
                    &[],
                ),
                fac(
                    "2",
                    "北沢",
                    &[("q07", c("1")), ("q08.home", Some(Value::Int(12)))],
                    &[],
                ),
                fac(
                    "3",
                    "玉川",
                    &[("q07", c("1")), ("q08.home", Some(Value::Unknown))],
                    &[],
                ),
                // q07 under review: no skip, q08 blank → 無回答.
                fac("4", "玉川", &[("q07", c("2")), ("q11", c("1"))], &["q07"]),
                fac(
                    "5",
                    "砧",
                    &[("q07", None), ("q08.home", Some(Value::Int(0)))],
                    &["q08.home"],
                ),
                // Not a respondent: every accepted answer is blank.
                fac("6", "砧", &[("q07", None)], &[]),
            ],
        };
        let r = aggregate(
            &input,
            &ReportOptions::new(NaiveDate::from_ymd_opt(2025, 1, 10).unwrap()),
        );
        assert_eq!(r.collection.total.sent, 6);
        assert_eq!(r.collection.total.answered, 5);
        assert_eq!(r.collection.total.rate_text, "83.3");

        let q07 = part(&r, "q07");
        assert_eq!((q07.n, q07.under_review, q07.not_applicable), (4, 1, 0));
        let rows = &q07.choice.as_ref().unwrap().rows;
        assert_eq!(
            rows.iter().map(|r| r.count).collect::<Vec<_>>(),
            [2, 1, 0, 1]
        );
        assert_eq!(rows[0].pct_text, "50.0");
        assert_eq!(rows.last().unwrap().label, "無回答");

        let q08 = part(&r, "q08.home");
        assert_eq!(
            (
                q08.n,
                q08.not_applicable,
                q08.under_review,
                q08.answered_when_skipped
            ),
            (3, 1, 1, 1)
        );
        let s = q08.number.as_ref().unwrap();
        assert_eq!((s.answered, s.unknown, s.no_answer), (1, 1, 1));
        assert_eq!(
            (
                s.sum_text.as_str(),
                s.mean_text.as_str(),
                s.median_text.as_str()
            ),
            ("12", "12.0", "12.0")
        );
        assert_eq!(s.bins[3].count, 1); // 10〜19
        assert_eq!(r.notes.answered_when_skipped, 1);
    }

    #[test]
    fn suppression_hides_small_cells_and_one_more() {
        let mut facilities = Vec::new();
        for i in 0..12 {
            let code = if i < 9 {
                "1"
            } else if i < 11 {
                "2"
            } else {
                "3"
            };
            facilities.push(fac(&i.to_string(), "北沢", &[("q11", c(code))], &[]));
        }
        let input = ReportInput {
            survey: survey(),
            area_filter: vec![],
            facilities,
        };
        let mut opts = ReportOptions::new(NaiveDate::from_ymd_opt(2025, 1, 10).unwrap());
        opts.min_cell = 3;
        let r = aggregate(&input, &opts);
        let rows = &part(&r, "q11").choice.as_ref().unwrap().rows;
        // 9 / 2 / 1 / 無回答 0: 2 and 1 are small; nothing else needed.
        let shown: Vec<&str> = rows.iter().map(|r| r.count_text.as_str()).collect();
        assert_eq!(shown, ["9", "*", "*", "0"]);
        assert!(rows[1].pct_tenths.is_none() && rows[1].pct_text == "*");
        assert!(r.notes.suppressed_cells >= 2);
    }

    #[test]
    fn one_small_cell_takes_the_next_smallest_with_it() {
        let mut sup = Suppressor { min: 5, hidden: 0 };
        let mut rows = vec![
            count_row("1", "a", 20, 30, "option", 0),
            count_row("2", "b", 7, 30, "option", 1),
            count_row("3", "c", 3, 30, "option", 2),
        ];
        sup.apply(&mut rows, 30, true);
        let shown: Vec<&str> = rows.iter().map(|r| r.count_text.as_str()).collect();
        assert_eq!(shown, ["20", "*", "*"]);
        // In a multiple-choice table cells do not add up to n: only the small one goes.
        let mut rows = vec![
            count_row("1", "a", 20, 30, "option", 0),
            count_row("2", "b", 7, 30, "option", 1),
            count_row("3", "c", 3, 30, "option", 2),
        ];
        sup.apply(&mut rows, 30, false);
        let shown: Vec<&str> = rows.iter().map(|r| r.count_text.as_str()).collect();
        assert_eq!(shown, ["20", "7", "*"]);
    }
}
