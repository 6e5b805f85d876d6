//! Answer fields and values: what one answer is stored under, and what it may hold.

use serde::{Deserialize, Serialize};

use crate::model::{NO, Question, QuestionKind, WriteIn, YES};

/// One answerable field: a question, one of its items, or an option's write-in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field<'a> {
    /// The question it belongs to.
    pub question: &'a Question,
    /// The item code, or the option code whose write-in this is.
    pub part: Option<&'a str>,
    /// What the field holds.
    pub kind: FieldKind,
}

/// What kind of value a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    /// One option code.
    Single,
    /// A set of option codes.
    Multiple,
    /// yes or no.
    YesNo,
    /// A whole number.
    Count,
    /// A number with decimals.
    Decimal,
    /// Text.
    Text,
}

impl Field<'_> {
    /// The key answers are stored under: `q08`, `q04.full`, `q16.99`.
    pub fn key(&self) -> String {
        match self.part {
            Some(p) => format!("{}.{p}", self.question.id),
            None => self.question.id.clone(),
        }
    }

    /// The label of the item or option this field is for, if any.
    pub fn part_label(&self) -> Option<&str> {
        let part = self.part?;
        self.question
            .items
            .iter()
            .find(|i| i.code == part)
            .map(|i| i.label.as_str())
            .or_else(|| self.question.option(part).map(|o| o.label.as_str()))
    }

    /// The most characters a text answer of this field may hold ([`SHORT_TEXT_MAX_CHARS`] or
    /// [`LONG_TEXT_MAX_CHARS`]); `None` for fields that are not text.
    pub fn max_chars(&self) -> Option<usize> {
        match self.kind {
            FieldKind::Text
                if self.question.kind == QuestionKind::LongText && self.part.is_none() =>
            {
                Some(LONG_TEXT_MAX_CHARS)
            }
            FieldKind::Text => Some(SHORT_TEXT_MAX_CHARS),
            _ => None,
        }
    }

    /// Checks that a value fits this field: type, range, known options, exclusivity, length of
    /// text.
    pub fn check(&self, value: &Value) -> Result<(), ValueError> {
        let q = self.question;
        match (self.kind, value) {
            (_, Value::Unknown) => Ok(()),
            (FieldKind::Single, Value::Choice(c)) => self.known_option(c),
            (FieldKind::Multiple, Value::Choices(cs)) => {
                for c in cs {
                    self.known_option(c)?;
                }
                let exclusive: Vec<_> = cs
                    .iter()
                    .filter(|c| q.option(c).is_some_and(|o| o.exclusive))
                    .collect();
                if !exclusive.is_empty() && cs.len() > 1 {
                    return Err(ValueError::Exclusive(exclusive[0].clone()));
                }
                Ok(())
            }
            (FieldKind::YesNo, Value::Bool(_)) => Ok(()),
            (FieldKind::Count, Value::Int(n)) => self.in_range(*n as f64),
            (FieldKind::Decimal, Value::Int(n)) => self.in_range(*n as f64),
            (FieldKind::Decimal, Value::Decimal(x)) => {
                let decimals = q.decimals.unwrap_or(1) as i32;
                let scaled = x * 10f64.powi(decimals);
                if (scaled - scaled.round()).abs() > 1e-6 {
                    return Err(ValueError::TooManyDecimals(decimals as u8));
                }
                self.in_range(*x)
            }
            (FieldKind::Text, Value::Text(t)) => {
                let max = self.max_chars().unwrap_or(usize::MAX);
                // Characters are never more than bytes: most texts need no counting.
                if t.len() > max {
                    let chars = t.chars().count();
                    if chars > max {
                        return Err(ValueError::TooLong { chars, max });
                    }
                }
                Ok(())
            }
            (expected, got) => Err(ValueError::WrongType {
                expected,
                got: got.kind_name(),
            }),
        }
    }

    fn known_option(&self, code: &str) -> Result<(), ValueError> {
        if self.question.option(code).is_some() {
            Ok(())
        } else {
            Err(ValueError::UnknownOption(code.to_owned()))
        }
    }

    fn in_range(&self, x: f64) -> Result<(), ValueError> {
        // An option's count write-in (連携先数) has no range of its own; only the question's numbers do.
        let (min, max) = if self.question.kind.is_numeric() {
            (self.question.min.unwrap_or(0.0), self.question.max)
        } else {
            (0.0, None)
        };
        if x < min || max.is_some_and(|m| x > m) {
            return Err(ValueError::OutOfRange { value: x, min, max });
        }
        Ok(())
    }
}

impl Question {
    /// The answer fields of this question, in print order.
    pub fn fields(&self) -> Vec<Field<'_>> {
        let base = match self.kind {
            QuestionKind::Single => FieldKind::Single,
            QuestionKind::Multiple => FieldKind::Multiple,
            QuestionKind::YesNo => FieldKind::YesNo,
            QuestionKind::Count => FieldKind::Count,
            QuestionKind::Decimal => FieldKind::Decimal,
            QuestionKind::ShortText | QuestionKind::LongText => FieldKind::Text,
        };
        let mut fields = Vec::new();
        if self.items.is_empty() {
            fields.push(Field {
                question: self,
                part: None,
                kind: base,
            });
        } else {
            fields.extend(self.items.iter().map(|i| Field {
                question: self,
                part: Some(&i.code),
                kind: base,
            }));
        }
        for o in &self.options {
            if let Some(w) = o.write_in {
                let kind = match w {
                    WriteIn::Text => FieldKind::Text,
                    WriteIn::Count => FieldKind::Count,
                };
                fields.push(Field {
                    question: self,
                    part: Some(&o.code),
                    kind,
                });
            }
        }
        fields
    }
}

/// An answer value, as stored (JSON) and exchanged between crates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Value {
    /// One option code.
    Choice(String),
    /// Option codes, in survey order.
    Choices(Vec<String>),
    /// yes (true) or no (false).
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with decimals.
    Decimal(f64),
    /// Text.
    Text(String),
    /// 「−」: the respondent does not know (わからない). Distinct from no answer, which is no value.
    Unknown,
}

impl Value {
    fn kind_name(&self) -> &'static str {
        match self {
            Value::Choice(_) => "one option",
            Value::Choices(_) => "several options",
            Value::Bool(_) => "yes/no",
            Value::Int(_) => "a whole number",
            Value::Decimal(_) => "a decimal number",
            Value::Text(_) => "text",
            Value::Unknown => "わからない",
        }
    }

    /// The value for a yes/no code (`yes` / `no`).
    pub fn from_yes_no_code(code: &str) -> Option<Value> {
        match code {
            YES => Some(Value::Bool(true)),
            NO => Some(Value::Bool(false)),
            _ => None,
        }
    }

    /// A short display form for tables and review: option codes joined with `;`.
    pub fn display(&self) -> String {
        match self {
            Value::Choice(c) => c.clone(),
            Value::Choices(cs) => cs.join(";"),
            Value::Bool(b) => if *b { YES } else { NO }.to_owned(),
            Value::Int(n) => n.to_string(),
            Value::Decimal(x) => x.to_string(),
            Value::Text(t) => t.clone(),
            Value::Unknown => "−".to_owned(),
        }
    }
}

/// The most characters a one-line text answer may hold: `short_text` items (職名, 氏名, 電話,
/// e-mail) and the write-ins of その他 options. A printed line holds about 40; 500 leaves room
/// for anything a person types into one cell, while a damaged file's runaway cell (a quote never
/// closed, megabytes of text) goes to review instead of into the results.
pub const SHORT_TEXT_MAX_CHARS: usize = 500;

/// The most characters a `long_text` answer (自由記載, 要望) may hold: about three A4 pages of
/// Japanese, more than any framed free-text area on a form takes; Excel allows 32,767 in a cell.
pub const LONG_TEXT_MAX_CHARS: usize = 4_000;

/// Why a value does not fit its field.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    /// The option code is not one of the question's.
    #[error("`{0}` is not an option of this question")]
    UnknownOption(String),
    /// An exclusive option ("none of these") was given with others.
    #[error("option `{0}` excludes the others but was given with them")]
    Exclusive(String),
    /// Outside min..max.
    #[error("{value} is outside the range {min}..{}", max.map(|m| m.to_string()).unwrap_or_else(|| "".into()))]
    OutOfRange {
        /// The value given.
        value: f64,
        /// Smallest accepted.
        min: f64,
        /// Largest accepted.
        max: Option<f64>,
    },
    /// More decimals than the question allows.
    #[error("more than {0} digits after the decimal point")]
    TooManyDecimals(u8),
    /// Text longer than the field allows ([`Field::max_chars`]).
    #[error("the text has {chars} characters, more than the {max} an answer here may have")]
    TooLong {
        /// Characters given.
        chars: usize,
        /// The most allowed.
        max: usize,
    },
    /// A value of another type.
    #[error("expected {expected:?}, got {got}")]
    WrongType {
        /// What the field holds.
        expected: FieldKind,
        /// What was given.
        got: &'static str,
    },
}
