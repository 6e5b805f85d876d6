//! Header mapping: which column holds which answer field, the facility code, the form code.
//!
//! Every spelling a survey accepts as a column name is generated once into a dictionary
//! ([`SurveyIndex`]), with a priority: reserved names (施設コード …) over question ids over printed
//! numbers (「問8」) over Japanese labels. A spelling that two targets share at the same priority is
//! ambiguous and reported, never resolved by guessing; so is a name that matches nothing.

use std::collections::HashMap;
use std::sync::Arc;

use capsurvey_survey::{FieldKind, Parsed, Question, QuestionKind};

use crate::FileError;
use crate::mapping::Mapping;
use crate::text;
use crate::values::{FieldSpec, ValueMap};

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// The facility's code (医療機関コード, 事業所番号, or a local code).
    Facility,
    /// The form's mailing code (管理No).
    FormCode,
    /// The survey id (to tell which survey the rows answer).
    Survey,
    /// Deliberately not imported (a mapping file said `ignore`).
    Ignore,
    /// The value of one answer field (index into [`SurveyIndex::fields`]).
    Field(usize),
    /// One option of a choice question, ticked or not (field index, option index).
    Flag {
        /// The question's field.
        field: usize,
        /// The option, by position in the question.
        option: usize,
    },
}

/// How a column name was recognised (the "layout" of a file is a count of these).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// A reserved name: facility_code, 施設コード, form_code, 管理No, survey.
    Reserved,
    /// A question id or field key: `q08`, `q04.full`, `q06_1`.
    Key,
    /// The printed number: 「問8」, 「問4 常勤」.
    Number,
    /// The Japanese question text, with an item or option label.
    Label,
    /// A mapping file entry.
    Mapping,
}

impl MatchedBy {
    fn priority(self) -> u8 {
        match self {
            MatchedBy::Reserved => 4,
            MatchedBy::Key => 3,
            MatchedBy::Number => 2,
            MatchedBy::Label => 1,
            MatchedBy::Mapping => 5,
        }
    }
}

#[derive(Debug, Clone)]
enum Spelled {
    One(Target, MatchedBy),
    Ambiguous(Vec<Target>, MatchedBy),
}

/// Reserved column names (compared as [`text::key`]s).
const FACILITY_NAMES: [&str; 10] = [
    "facility_code",
    "facilitycode",
    "facility",
    "施設コード",
    "施設番号",
    "事業所番号",
    "事業所コード",
    "医療機関コード",
    "医療機関番号",
    "機関コード",
];
const FORM_NAMES: [&str; 7] = [
    "form_code",
    "formcode",
    "form",
    "管理no",
    "管理no.",
    "管理番号",
    "管理コード",
];
const SURVEY_NAMES: [&str; 6] = [
    "survey",
    "survey_id",
    "surveyid",
    "調査",
    "調査id",
    "調査票",
];

/// The reserved meaning of a column key (see [`text::key`]), if it has one.
fn reserved(key: &str) -> Option<Target> {
    if FACILITY_NAMES.contains(&key) {
        Some(Target::Facility)
    } else if FORM_NAMES.contains(&key) {
        Some(Target::FormCode)
    } else if SURVEY_NAMES.contains(&key) {
        Some(Target::Survey)
    } else {
        None
    }
}

/// Whether a column name is a reserved name of the survey column.
pub(crate) fn is_survey_name(name: &str) -> bool {
    SURVEY_NAMES.contains(&text::key(name).as_str())
}

/// Separators accepted between a question and an item or option label: 「問4 常勤」 (spaces are
/// removed before matching, so a space is the empty separator), 「問4_常勤」, 「問4・常勤」.
const SEPARATORS: [&str; 7] = ["", ".", "_", ":", "/", "・", "-"];

/// One survey, prepared for reading reply files: its fields and every accepted column name.
#[derive(Debug)]
pub struct SurveyIndex {
    /// The definition and its content hash.
    pub parsed: Parsed,
    /// The questions in print order ([`FieldSpec::question`] indexes this).
    pub questions: Vec<Question>,
    /// The answer fields in print order.
    pub fields: Vec<FieldSpec>,
    spellings: HashMap<String, Spelled>,
}

impl SurveyIndex {
    /// Prepares a survey.
    pub fn new(parsed: Parsed) -> SurveyIndex {
        let questions: Vec<Question> = parsed.survey.questions().map(|(_, q)| q.clone()).collect();
        let mut fields = Vec::new();
        for (qi, q) in questions.iter().enumerate() {
            for f in q.fields() {
                fields.push(FieldSpec::new(&f, qi));
            }
        }
        let mut ix = SurveyIndex {
            parsed,
            questions,
            fields,
            spellings: HashMap::new(),
        };
        ix.build_spellings();
        ix
    }

    /// The survey id.
    pub fn id(&self) -> &str {
        &self.parsed.survey.id
    }

    /// The index of the field with this key.
    pub fn field_index(&self, key: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.key == key)
    }

    fn add(&mut self, spelling: String, target: Target, by: MatchedBy) {
        use std::collections::hash_map::Entry;
        match self.spellings.entry(spelling) {
            Entry::Vacant(v) => {
                v.insert(Spelled::One(target, by));
            }
            Entry::Occupied(mut o) => {
                let (old_targets, old_by) = match o.get() {
                    Spelled::One(t, b) => (vec![*t], *b),
                    Spelled::Ambiguous(ts, b) => (ts.clone(), *b),
                };
                if by.priority() > old_by.priority() {
                    o.insert(Spelled::One(target, by));
                } else if by.priority() == old_by.priority() && !old_targets.contains(&target) {
                    let mut ts = old_targets;
                    ts.push(target);
                    o.insert(Spelled::Ambiguous(ts, by));
                }
            }
        }
    }

    fn build_spellings(&mut self) {
        let mut adds: Vec<(String, Target, MatchedBy)> = Vec::new();
        for (qi, q) in self.questions.iter().enumerate() {
            let number = self
                .parsed
                .survey
                .number_of(&q.id)
                .unwrap_or_else(|| (qi + 1).to_string());
            let refs = [
                (text::key(&q.id), MatchedBy::Key),
                (text::key(&format!("問{number}")), MatchedBy::Number),
                (text::key(&format!("q{number}")), MatchedBy::Number),
                (text::key(&q.text), MatchedBy::Label),
            ];
            let field_ix: Vec<usize> = self
                .fields
                .iter()
                .enumerate()
                .filter(|(_, f)| f.question == qi)
                .map(|(i, _)| i)
                .collect();
            for (qref, by) in &refs {
                let by = *by;
                for &fi in &field_ix {
                    let f = &self.fields[fi];
                    match f.part.as_deref() {
                        None => adds.push((qref.clone(), Target::Field(fi), by)),
                        Some(part) if q.items.iter().any(|i| i.code == part) => {
                            let label = q.items.iter().find(|i| i.code == part).map(|i| &i.label);
                            let code = text::key(part);
                            adds.push((format!("{qref}.{code}"), Target::Field(fi), by));
                            adds.push((format!("{qref}_{code}"), Target::Field(fi), by));
                            if let Some(l) = label {
                                let l = text::key(l);
                                for sep in SEPARATORS {
                                    adds.push((format!("{qref}{sep}{l}"), Target::Field(fi), by));
                                }
                                adds.push((format!("{qref}({l})"), Target::Field(fi), by));
                                adds.push((format!("{qref}[{l}]"), Target::Field(fi), by));
                            }
                        }
                        Some(part) => {
                            // An option's write-in: the field key, or the option label + 「記入」.
                            let code = text::key(part);
                            adds.push((format!("{qref}.{code}"), Target::Field(fi), by));
                            if let Some(o) = q.option(part) {
                                let l = text::key(&o.label);
                                for sep in SEPARATORS {
                                    for suffix in ["(記入)", "記入", "の内容", "(内容)"] {
                                        adds.push((
                                            format!("{qref}{sep}{l}{suffix}"),
                                            Target::Field(fi),
                                            by,
                                        ));
                                    }
                                }
                            }
                        }
                    }
                }
                if q.kind.is_choice() {
                    let Some(&main) = field_ix.iter().find(|&&fi| self.fields[fi].part.is_none())
                    else {
                        continue;
                    };
                    for (oi, o) in q.options.iter().enumerate() {
                        let t = Target::Flag {
                            field: main,
                            option: oi,
                        };
                        let code = text::key(&o.code);
                        adds.push((format!("{qref}_{code}"), t, by));
                        if o.write_in.is_none() {
                            // `q06.1` is an option column only when it is not a field key.
                            adds.push((format!("{qref}.{code}"), t, by));
                        }
                        let l = text::key(&o.label);
                        for sep in SEPARATORS {
                            adds.push((format!("{qref}{sep}{l}"), t, by));
                        }
                        adds.push((format!("{qref}({l})"), t, by));
                        adds.push((format!("{qref}[{l}]"), t, by));
                    }
                }
            }
        }
        for (s, t, by) in adds {
            self.add(s, t, by);
        }
    }

    /// What a column name means in this survey: `Ok(None)` if nothing, `Err` with the
    /// candidates if it is ambiguous.
    pub fn lookup(&self, name: &str) -> Result<Option<(Target, MatchedBy)>, Vec<Target>> {
        let k = text::key(name);
        if let Some(t) = reserved(&k) {
            return Ok(Some((t, MatchedBy::Reserved)));
        }
        self.lookup_question(&k)
    }

    /// Like [`SurveyIndex::lookup`], ignoring reserved names: in the visiting-nurse survey
    /// 「事業所番号」 is both the facility column and the text of q01b, and a second such column
    /// is the question.
    fn lookup_question(&self, key: &str) -> Result<Option<(Target, MatchedBy)>, Vec<Target>> {
        match self.spellings.get(key) {
            None => Ok(None),
            Some(Spelled::One(t, by)) => Ok(Some((*t, *by))),
            Some(Spelled::Ambiguous(ts, _)) => Err(ts.clone()),
        }
    }

    /// A target for messages: `q08`, `q06 option 1 (在支歯診1)`, `facility code`.
    pub fn describe(&self, t: Target) -> String {
        match t {
            Target::Facility => "the facility code".into(),
            Target::FormCode => "the form code (管理No)".into(),
            Target::Survey => "the survey id".into(),
            Target::Ignore => "nothing (ignored)".into(),
            Target::Field(fi) => self.fields[fi].key.clone(),
            Target::Flag { field, option } => {
                let f = &self.fields[field];
                let o = &f.options[option];
                format!("{}_{} ({})", f.key, o.code, o.label)
            }
        }
    }
}

/// The surveys a reply file may answer.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Prepared surveys, sorted by id.
    pub surveys: Vec<Arc<SurveyIndex>>,
}

impl Catalog {
    /// Prepares every survey (done once per run: it builds the column-name dictionaries).
    pub fn new(parsed: Vec<Parsed>) -> Catalog {
        let mut surveys: Vec<Arc<SurveyIndex>> = parsed
            .into_iter()
            .map(|p| Arc::new(SurveyIndex::new(p)))
            .collect();
        surveys.sort_by(|a, b| a.id().cmp(b.id()));
        Catalog { surveys }
    }

    /// The survey with this id.
    pub fn get(&self, id: &str) -> Result<Arc<SurveyIndex>, FileError> {
        self.surveys
            .iter()
            .find(|s| s.id() == id)
            .cloned()
            .ok_or_else(|| FileError::UnknownSurvey {
                id: id.to_owned(),
                known: self.ids(),
            })
    }

    fn ids(&self) -> String {
        self.surveys
            .iter()
            .map(|s| s.id().to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Decides which survey a file answers: the one named (`--survey` or the mapping), the one
    /// in its `survey` column (`survey_value`, from the first row), or the one whose questions
    /// the header matches best. A tie is an error asking for `--survey`.
    pub fn choose(
        &self,
        header: &[String],
        named: Option<&str>,
        mapping: Option<&Mapping>,
        survey_value: Option<&str>,
    ) -> Result<Arc<SurveyIndex>, FileError> {
        if let Some(id) = named.or(mapping.and_then(|m| m.survey.as_deref())) {
            return self.get(id);
        }
        if let Some(v) = survey_value {
            let v = text::key(v);
            if !v.is_empty() {
                return self.get(&v);
            }
        }
        let mut scores: Vec<(usize, &Arc<SurveyIndex>)> = self
            .surveys
            .iter()
            .map(|s| {
                let n = header
                    .iter()
                    .filter(|h| {
                        let name = mapping.and_then(|m| m.column_target(h)).unwrap_or(h);
                        matches!(
                            s.lookup(name),
                            Ok(Some((Target::Field(_) | Target::Flag { .. }, _)))
                        )
                    })
                    .count();
                (n, s)
            })
            .collect();
        scores.sort_by_key(|s| std::cmp::Reverse(s.0));
        match scores.as_slice() {
            [] => Err(FileError::NoSurveyMatches { known: self.ids() }),
            [(0, _), ..] => Err(FileError::NoSurveyMatches { known: self.ids() }),
            [(a, s), (b, _), ..] if a == b => Err(FileError::AmbiguousSurvey {
                candidates: scores
                    .iter()
                    .filter(|(n, _)| n == a)
                    .map(|(_, s)| s.id().to_owned())
                    .collect::<Vec<_>>()
                    .join(", "),
                columns: *a,
                first: s.id().to_owned(),
            }),
            [(_, s), ..] => Ok(Arc::clone(s)),
        }
    }
}

/// One column of a file and what it was found to hold.
#[derive(Debug, Clone)]
pub struct Column {
    /// The name as written in the header.
    pub name: String,
    /// What it holds; `None` for a column that is not imported (unknown or ambiguous).
    pub target: Option<Target>,
    /// How the name was recognised.
    pub matched_by: Option<MatchedBy>,
}

/// Where a field's value comes from in a row.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// One cell.
    Cell(usize),
    /// One column per option: (column, option index), in option order.
    Flags(Vec<(usize, usize)>),
}

/// One field the file answers.
#[derive(Debug, Clone)]
pub(crate) struct Output {
    pub field: usize,
    pub source: Source,
    /// Value spellings from the mapping file (field, question, then `*`), merged.
    pub values: Option<ValueMap>,
}

/// How a file's columns map onto one survey: built from the header, used for every row.
#[derive(Debug)]
pub struct Plan {
    /// The survey.
    pub index: Arc<SurveyIndex>,
    /// Every column of the header.
    pub columns: Vec<Column>,
    pub(crate) facility: Option<usize>,
    pub(crate) form: Option<usize>,
    pub(crate) survey_col: Option<usize>,
    pub(crate) outputs: Vec<Output>,
    /// Whether any output is a text field (rows then get a text buffer).
    pub(crate) has_text: bool,
    /// Columns that are not imported and why: unknown, ambiguous, repeated.
    pub warnings: Vec<String>,
}

impl Plan {
    /// Maps a header onto a survey.
    pub fn new(
        index: Arc<SurveyIndex>,
        header: &[String],
        mapping: Option<&Mapping>,
    ) -> Result<Plan, FileError> {
        let mut columns = Vec::with_capacity(header.len());
        let mut warnings = Vec::new();
        let mut seen: HashMap<Target, usize> = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let col_no = i + 1;
            let mut found = None;
            if let Some(to) = mapping.and_then(|m| m.column_target(name)) {
                let t = match text::key(to).as_str() {
                    "ignore" => Target::Ignore,
                    k if FACILITY_NAMES.contains(&k) => Target::Facility,
                    k if FORM_NAMES.contains(&k) => Target::FormCode,
                    k if SURVEY_NAMES.contains(&k) => Target::Survey,
                    _ => match index.lookup(to) {
                        Ok(Some((t, _))) => t,
                        Ok(None) | Err(_) => {
                            return Err(FileError::Mapping(format!(
                                "{}: column `{name}` maps to `{to}`, which is not a column of survey `{}` \
                                 (use a field key such as q08 or q04.full, an option column such as q06_1, \
                                 facility_code, form_code or ignore)",
                                mapping.map_or("", |m| m.source.as_str()),
                                index.id()
                            )));
                        }
                    },
                };
                found = Some((t, MatchedBy::Mapping));
            } else if text::trim(name).is_empty() {
                warnings.push(format!(
                    "column {col_no} has no name: its values are not imported"
                ));
            } else {
                match index.lookup(name) {
                    Ok(Some(hit)) => found = Some(hit),
                    Ok(None) => warnings.push(format!(
                        "column {col_no} `{name}` is not a question of survey `{}`: not imported \
                         (rename it to a field key such as q08, or map it in a --mapping file)",
                        index.id()
                    )),
                    Err(candidates) => warnings.push(format!(
                        "column {col_no} `{name}` could be any of {}: not imported (use the field key)",
                        candidates
                            .iter()
                            .map(|t| index.describe(*t))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                }
            }
            // A reserved name seen twice: the second may be the question of the same name.
            if let Some((t, MatchedBy::Reserved)) = found
                && seen.contains_key(&t)
                && let Ok(Some(q)) = index.lookup_question(&text::key(name))
            {
                found = Some(q);
            }
            if let Some((t, _)) = found
                && t != Target::Ignore
            {
                if let Some(&first) = seen.get(&t) {
                    warnings.push(format!(
                        "column {col_no} `{name}` repeats column {} `{}` ({}): only the first is imported",
                        first + 1,
                        header[first],
                        index.describe(t)
                    ));
                    found = None;
                } else {
                    seen.insert(t, i);
                }
            }
            columns.push(Column {
                name: name.clone(),
                target: found.map(|f| f.0),
                matched_by: found.map(|f| f.1),
            });
        }
        if let Some(m) = mapping {
            for (from, _) in &m.columns {
                let k = text::key(from);
                if !header.iter().any(|h| text::key(h) == k) {
                    warnings.push(format!(
                        "the mapping names column `{from}`, which this file does not have"
                    ));
                }
            }
        }
        let find = |t: Target| columns.iter().position(|c| c.target == Some(t));
        let facility = find(Target::Facility);
        let form = find(Target::FormCode);
        let survey_col = find(Target::Survey);
        if facility.is_none() && form.is_none() {
            return Err(FileError::NoFacilityColumn);
        }
        let mut outputs = Vec::new();
        for (fi, spec) in index.fields.iter().enumerate() {
            let direct = find(Target::Field(fi));
            let mut flags: Vec<(usize, usize)> = columns
                .iter()
                .enumerate()
                .filter_map(|(ci, c)| match c.target {
                    Some(Target::Flag { field, option }) if field == fi => Some((ci, option)),
                    _ => None,
                })
                .collect();
            flags.sort_by_key(|&(_, o)| o);
            let source = match (direct, flags.is_empty()) {
                (Some(c), true) => Source::Cell(c),
                (Some(c), false) => {
                    warnings.push(format!(
                        "{} is given both as one column (`{}`) and as option columns: the option columns are not imported",
                        spec.key, columns[c].name
                    ));
                    Source::Cell(c)
                }
                (None, false) => Source::Flags(flags),
                (None, true) => continue,
            };
            if let (Source::Flags(flags), FieldKind::Multiple | FieldKind::Single) =
                (&source, spec.kind)
            {
                // `q16.10` is the write-in text of option 10; its tick is `q16_10`. A file that
                // ticks options as q16.1 … q16.10 would put ○ into the write-in: say so.
                let q = &index.questions[spec.question];
                for (oi, o) in q.options.iter().enumerate() {
                    if o.write_in.is_some() && !flags.iter().any(|&(_, f)| f == oi) {
                        let key = format!("{}.{}", q.id, o.code);
                        if let Some(wi) = index.field_index(&key)
                            && let Some(c) = find(Target::Field(wi))
                        {
                            warnings.push(format!(
                                "column `{}` is the write-in text of option {} ({}), not its tick; \
                                 the tick of that option goes in a column `{}_{}`",
                                columns[c].name, o.code, o.label, q.id, o.code
                            ));
                        }
                    }
                }
            }
            let values = mapping.and_then(|m| {
                let q = &index.questions[spec.question];
                let mut merged = ValueMap::new();
                for k in ["*", q.id.as_str(), spec.key.as_str()] {
                    if let Some(v) = m.values.get(k) {
                        merged.extend(v.iter().map(|(a, b)| (a.clone(), b.clone())));
                    }
                }
                (!merged.is_empty()).then_some(merged)
            });
            outputs.push(Output {
                field: fi,
                source,
                values,
            });
        }
        if outputs.is_empty() {
            return Err(FileError::NoQuestionColumns {
                survey: index.id().to_owned(),
            });
        }
        if let Some(m) = mapping {
            for k in m.values.keys() {
                if k != "*"
                    && index.field_index(k).is_none()
                    && !index.questions.iter().any(|q| &q.id == k)
                {
                    warnings.push(format!(
                        "the mapping has values for `{k}`, which is not a question of survey `{}`",
                        index.id()
                    ));
                }
            }
        }
        let has_text = outputs
            .iter()
            .any(|o| index.fields[o.field].kind == FieldKind::Text);
        Ok(Plan {
            index,
            columns,
            facility,
            form,
            survey_col,
            outputs,
            has_text,
            warnings,
        })
    }

    /// The layout in a few words: `30 columns: 1 reserved, 24 by key, 5 option columns`.
    pub fn layout(&self) -> String {
        let mut counts: std::collections::BTreeMap<&str, usize> = Default::default();
        for c in &self.columns {
            let what = match (c.target, c.matched_by) {
                (None, _) => "not imported",
                (Some(Target::Flag { .. }), Some(MatchedBy::Mapping)) => {
                    "option columns by mapping"
                }
                (Some(Target::Flag { .. }), _) => "option columns",
                (Some(_), Some(MatchedBy::Reserved)) => "facility/form/survey",
                (Some(_), Some(MatchedBy::Key)) => "by key",
                (Some(_), Some(MatchedBy::Number)) => "by 問 number",
                (Some(_), Some(MatchedBy::Label)) => "by label",
                (Some(_), Some(MatchedBy::Mapping)) => "by mapping",
                (Some(_), None) => "other",
            };
            *counts.entry(what).or_default() += 1;
        }
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("{} columns: {}", self.columns.len(), parts.join(", "))
    }

    /// The key of a field (as answers are stored).
    pub fn field_key(&self, field: usize) -> &str {
        &self.index.fields[field].key
    }

    /// Whether the question behind a field is a choice question answered in option columns.
    pub fn is_flags(&self, field: usize) -> bool {
        self.outputs
            .iter()
            .any(|o| o.field == field && matches!(o.source, Source::Flags(_)))
    }

    /// The column name(s) a field is read from, as shown in review tasks: `q08`, or
    /// `q06_1..q06_7` for option columns.
    pub fn column_of(&self, field: usize) -> String {
        match self
            .outputs
            .iter()
            .find(|o| o.field == field)
            .map(|o| &o.source)
        {
            Some(Source::Cell(c)) => self.columns[*c].name.clone(),
            Some(Source::Flags(f)) => match (f.first(), f.last()) {
                (Some(a), Some(b)) if a.0 != b.0 => {
                    format!("{}..{}", self.columns[a.0].name, self.columns[b.0].name)
                }
                (Some(a), _) => self.columns[a.0].name.clone(),
                _ => String::new(),
            },
            None => String::new(),
        }
    }

    /// Whether the question of a field is a choice question (for messages).
    pub fn question_kind(&self, field: usize) -> QuestionKind {
        self.index.questions[self.index.fields[field].question].kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use capsurvey_survey::parse_survey;

    fn shipped(name: &str) -> Parsed {
        let path = format!("{}/../../surveys/{name}.toml", env!("CARGO_MANIFEST_DIR"));
        parse_survey(name, &std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn catalog() -> Catalog {
        Catalog::new(vec![
            shipped("dental"),
            shipped("homecare-clinic"),
            shipped("visiting-nurse"),
        ])
    }

    fn hdr(cols: &[&str]) -> Vec<String> {
        cols.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn column_names() {
        let c = catalog();
        let d = c.get("dental").unwrap();
        let f = |k: &str| Target::Field(d.field_index(k).unwrap());
        let q06 = d.field_index("q06").unwrap();
        let cases: Vec<(&str, Target)> = vec![
            ("q08", f("q08")),
            ("Ｑ０８", f("q08")),
            ("問8", f("q08")),
            ("問８", f("q08")),
            ("歯科訪問診療の実施状況", f("q08")),
            ("q04.full", f("q04.full")),
            ("q04_full", f("q04.full")),
            ("問4 常勤", f("q04.full")),
            ("問4（非常勤）", f("q04.part")),
            ("歯科医師数（実人数）・常勤", f("q04.full")),
            ("q16.10", f("q16.10")),
            ("問16 その他（記入）", f("q16.10")),
            (
                "q06.1",
                Target::Flag {
                    field: q06,
                    option: 0,
                },
            ),
            (
                "q06_1",
                Target::Flag {
                    field: q06,
                    option: 0,
                },
            ),
            (
                "q06_7",
                Target::Flag {
                    field: q06,
                    option: 6,
                },
            ),
            (
                "問6_在宅療養支援歯科診療所2",
                Target::Flag {
                    field: q06,
                    option: 1,
                },
            ),
            ("施設コード", Target::Facility),
            ("facility_code", Target::Facility),
            ("医療機関コード", Target::Facility),
            ("管理No", Target::FormCode),
            ("管理Ｎｏ．", Target::FormCode),
            ("form_code", Target::FormCode),
            ("survey", Target::Survey),
        ];
        for (name, want) in cases {
            assert_eq!(d.lookup(name).unwrap().map(|h| h.0), Some(want), "{name}");
        }
        let q16 = d.field_index("q16").unwrap();
        assert_eq!(
            d.lookup("q16_10").unwrap().unwrap().0,
            Target::Flag {
                field: q16,
                option: 9
            },
            "the tick of a write-in option is q16_10"
        );
        assert_eq!(d.lookup("回答日時").unwrap(), None);
        // 施設名 is the text of q01a.
        assert_eq!(d.lookup("施設名").unwrap().unwrap().0, f("q01a"));
        // In the visiting-nurse survey 事業所番号 is also the text of q01b: the reserved name wins.
        let v = c.get("visiting-nurse").unwrap();
        assert_eq!(v.lookup("事業所番号").unwrap().unwrap().0, Target::Facility);
        // … and a second 事業所番号 column is the question.
        let p = Plan::new(v.clone(), &hdr(&["事業所番号", "q06", "事業所番号"]), None).unwrap();
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
        assert_eq!(
            p.columns[2].target,
            Some(Target::Field(v.field_index("q01b").unwrap()))
        );
    }

    #[test]
    fn plan_reports_unknown_and_repeated_columns() {
        let c = catalog();
        let d = c.get("dental").unwrap();
        let p = Plan::new(
            d.clone(),
            &hdr(&["施設コード", "q08", "回答日時", "問8", "", "q06_1", "q06_2"]),
            None,
        )
        .unwrap();
        assert_eq!(p.facility, Some(0));
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("`回答日時` is not a question")),
            "{:?}",
            p.warnings
        );
        assert!(
            p.warnings.iter().any(|w| w.contains("repeats column 2")),
            "{:?}",
            p.warnings
        );
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("column 5 has no name")),
            "{:?}",
            p.warnings
        );
        assert_eq!(p.outputs.len(), 2);
        assert_eq!(p.column_of(d.field_index("q06").unwrap()), "q06_1..q06_2");
        assert!(p.layout().starts_with("7 columns"), "{}", p.layout());

        let e = Plan::new(d.clone(), &hdr(&["q08"]), None).unwrap_err();
        assert!(matches!(e, FileError::NoFacilityColumn));
        let e = Plan::new(d, &hdr(&["施設コード", "x"]), None).unwrap_err();
        assert!(matches!(e, FileError::NoQuestionColumns { .. }));
    }

    #[test]
    fn write_in_tick_convention_is_explained() {
        let c = catalog();
        let d = c.get("dental").unwrap();
        let mut cols = vec!["施設コード".to_string()];
        cols.extend((1..=10).map(|i| format!("q16.{i}")));
        let p = Plan::new(d, &cols, None).unwrap();
        assert!(
            p.warnings
                .iter()
                .any(|w| w.contains("`q16.10` is the write-in text") && w.contains("q16_10")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn survey_detection() {
        let c = catalog();
        // Only ids every survey has: ambiguous.
        let e = c
            .choose(&hdr(&["facility_code", "q02", "q03"]), None, None, None)
            .unwrap_err();
        assert!(e.to_string().contains("--survey"), "{e}");
        // Dental-only keys decide.
        let s = c
            .choose(
                &hdr(&["facility_code", "q04.full", "q07.unit", "q08"]),
                None,
                None,
                None,
            )
            .unwrap();
        assert_eq!(s.id(), "dental");
        // Japanese labels decide.
        let s = c
            .choose(
                &hdr(&[
                    "事業所番号",
                    "職種別の職員数（常勤換算）・保健師・助産師・看護師",
                ]),
                None,
                None,
                None,
            )
            .unwrap();
        assert_eq!(s.id(), "visiting-nurse");
        // A survey column or an explicit id wins.
        let s = c
            .choose(
                &hdr(&["facility_code", "q02"]),
                None,
                None,
                Some("homecare-clinic"),
            )
            .unwrap();
        assert_eq!(s.id(), "homecare-clinic");
        assert!(c.choose(&hdr(&["q02"]), Some("nope"), None, None).is_err());
        let e = c.choose(&hdr(&["a", "b"]), None, None, None).unwrap_err();
        assert!(matches!(e, FileError::NoSurveyMatches { .. }), "{e}");
    }

    #[test]
    fn mapping_columns_and_values() {
        let c = catalog();
        let m = Mapping::parse(
            "m.toml",
            r#"
[columns]
"事業所ID" = "facility_code"
"訪問" = "q08"
"月AM" = "q12_1"
"メモ" = "ignore"
"存在しない" = "q08"
[values]
q08 = { "専門" = "1" }
"#,
        )
        .unwrap();
        let d = c.get("dental").unwrap();
        let p = Plan::new(
            d.clone(),
            &hdr(&["事業所ID", "訪問", "月AM", "メモ"]),
            Some(&m),
        )
        .unwrap();
        assert!(
            p.warnings.iter().any(|w| w.contains("`存在しない`")),
            "{:?}",
            p.warnings
        );
        assert_eq!(p.warnings.len(), 1, "{:?}", p.warnings);
        let q08 = d.field_index("q08").unwrap();
        let out = p.outputs.iter().find(|o| o.field == q08).unwrap();
        assert_eq!(out.values.as_ref().unwrap()["専門"], "1");
        let bad = Mapping::parse("m.toml", "[columns]\n\"x\" = \"q99\"\n").unwrap();
        let e = Plan::new(d, &hdr(&["facility_code", "x"]), Some(&bad)).unwrap_err();
        assert!(e.to_string().contains("`q99`"), "{e}");
    }
}
