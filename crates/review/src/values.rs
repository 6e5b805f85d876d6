//! Fields and values as people see and type them: labels, Japanese messages, parsing input.

use capsurvey_survey::{Field, FieldKind, Survey, Value, ValueError};
use serde::Serialize;

/// The answer field of `survey` stored under `key` (`q08`, `q04.full`, `q16.9`).
pub fn find_field<'a>(survey: &'a Survey, key: &str) -> Option<Field<'a>> {
    survey.fields().into_iter().find(|f| f.key() == key)
}

/// One choice a person can pick for a field.
#[derive(Debug, Clone, Serialize)]
pub struct OptionView {
    /// The stored code (`"2"`, `"yes"`).
    pub code: String,
    /// The printed label.
    pub label: String,
    /// The key that picks it (`"1"` … `"9"`), if it is among the first nine.
    pub key: Option<String>,
}

/// The choices of a field: options of single/multiple questions, the two answers of yes/no.
pub fn options_of(field: &Field<'_>) -> Vec<OptionView> {
    let q = field.question;
    let pairs: Vec<(String, String)> = match field.kind {
        FieldKind::Single | FieldKind::Multiple => q
            .options
            .iter()
            .map(|o| (o.code.clone(), o.label.clone()))
            .collect(),
        FieldKind::YesNo => {
            let [y, n] = q.yes_no_labels();
            vec![
                (capsurvey_survey::YES.to_owned(), y.to_owned()),
                (capsurvey_survey::NO.to_owned(), n.to_owned()),
            ]
        }
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .enumerate()
        .map(|(i, (code, label))| OptionView {
            code,
            label,
            key: (i < 9).then(|| (i + 1).to_string()),
        })
        .collect()
}

/// The Japanese name of a field kind.
pub fn kind_label(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Single => "単一選択",
        FieldKind::Multiple => "複数選択",
        FieldKind::YesNo => "二択",
        FieldKind::Count => "数（整数）",
        FieldKind::Decimal => "数（小数）",
        FieldKind::Text => "文字",
    }
}

/// The stored name of a field kind (`single`, `yes_no` …).
pub fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Single => "single",
        FieldKind::Multiple => "multiple",
        FieldKind::YesNo => "yes_no",
        FieldKind::Count => "count",
        FieldKind::Decimal => "decimal",
        FieldKind::Text => "text",
    }
}

fn label_of(field: Option<&Field<'_>>, code: &str) -> String {
    match field.and_then(|f| f.question.option(code)) {
        Some(o) => format!("{code}. {}", o.label),
        None => code.to_owned(),
    }
}

/// A number without a needless `.0`.
pub fn number_text(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

/// A value as shown to people: option labels, units, 無回答 for no value.
pub fn display_value(field: Option<&Field<'_>>, value: &Option<Value>) -> String {
    let Some(v) = value else {
        return "無回答".to_owned();
    };
    // Only numeric questions have a unit; an option's count write-in (連携先数) does not.
    let unit = field
        .filter(|f| f.question.kind.is_numeric())
        .and_then(|f| f.question.unit.clone())
        .unwrap_or_default();
    match v {
        Value::Choice(c) => label_of(field, c),
        Value::Choices(cs) if cs.is_empty() => "（選択なし）".to_owned(),
        Value::Choices(cs) => cs
            .iter()
            .map(|c| label_of(field, c))
            .collect::<Vec<_>>()
            .join("、"),
        Value::Bool(b) => {
            let labels = field
                .map(|f| f.question.yes_no_labels())
                .unwrap_or(["はい", "いいえ"]);
            if *b { labels[0] } else { labels[1] }.to_owned()
        }
        Value::Int(n) => format!("{n}{unit}"),
        Value::Decimal(x) => format!("{}{unit}", number_text(*x)),
        Value::Text(t) => format!("「{t}」"),
        Value::Unknown => "−（わからない）".to_owned(),
    }
}

/// What a text input should be pre-filled with for a value.
pub fn input_text(value: &Option<Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::Int(n)) => n.to_string(),
        Some(Value::Decimal(x)) => number_text(*x),
        Some(Value::Text(t)) => t.clone(),
        Some(Value::Unknown) => "-".to_owned(),
        Some(v) => v.display(),
    }
}

/// Why a value does not fit, in Japanese, for the person who typed it.
pub fn value_error_ja(field: &Field<'_>, e: &ValueError) -> String {
    let unit = field.question.unit.clone().unwrap_or_default();
    match e {
        ValueError::UnknownOption(c) => format!("「{c}」はこの設問の選択肢にありません。"),
        ValueError::Exclusive(c) => format!(
            "「{}」は他の選択肢と一緒には選べません。",
            label_of(Some(field), c)
        ),
        ValueError::OutOfRange { value, min, max } => match max {
            Some(m) => format!(
                "{} は範囲外です。{}〜{}{unit} の数を入力してください。",
                number_text(*value),
                number_text(*min),
                number_text(*m)
            ),
            None => format!(
                "{} は範囲外です。{}{unit} 以上の数を入力してください。",
                number_text(*value),
                number_text(*min)
            ),
        },
        ValueError::TooManyDecimals(d) => format!("小数点以下は {d} 桁までです。"),
        ValueError::TooLong { chars, max } => {
            format!("{chars} 文字あります。{max} 文字以内で入力してください。")
        }
        ValueError::WrongType { expected, .. } => format!(
            "この欄には{}の値を入力してください。",
            kind_label(*expected)
        ),
    }
}

/// Full-width digits and signs to ASCII, dashes to `-`, surrounding spaces trimmed.
pub fn normalize_input(s: &str) -> String {
    s.trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' => '.',
            '，' | '、' => ',',
            'ー' | '−' | '－' | '‐' | '―' | '─' => '-',
            '\u{3000}' => ' ',
            c => c,
        })
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Reads what a person typed for a field and checks it against the question (type, range,
/// options). An empty input is no answer for text and an error for numbers (those have their own
/// 無回答 button); `-` or `−` is わからない.
pub fn parse_input(field: &Field<'_>, raw: &str) -> Result<Option<Value>, String> {
    let s = normalize_input(raw);
    let value = match field.kind {
        FieldKind::Text => {
            let t = raw.trim();
            if t.is_empty() {
                return Ok(None);
            }
            Value::Text(t.to_owned())
        }
        _ if s == "-" => Value::Unknown,
        FieldKind::Count | FieldKind::Decimal if s.is_empty() => {
            return Err(
                "数を入力してください。記入がなければ「無回答」、「−」ならわからないです。"
                    .to_owned(),
            );
        }
        FieldKind::Count => {
            let digits = s.replace(',', "");
            match digits.parse::<i64>() {
                Ok(n) => Value::Int(n),
                Err(_) => return Err(format!("「{}」は整数ではありません。", raw.trim())),
            }
        }
        FieldKind::Decimal => {
            let digits = s.replace(',', "");
            match digits.parse::<f64>() {
                Ok(x) if x.is_finite() => Value::Decimal(x),
                _ => return Err(format!("「{}」は数ではありません。", raw.trim())),
            }
        }
        FieldKind::Single => {
            if s.is_empty() {
                return Ok(None);
            }
            Value::Choice(pick_code(field, &s)?)
        }
        FieldKind::Multiple => {
            let mut codes = Vec::new();
            for part in s.split([',', ';', ' ']).filter(|p| !p.is_empty()) {
                codes.push(pick_code(field, part)?);
            }
            if codes.is_empty() {
                return Ok(None);
            }
            Value::Choices(in_option_order(field, codes))
        }
        FieldKind::YesNo => {
            let [y, n] = field.question.yes_no_labels();
            if s.is_empty() {
                return Ok(None);
            } else if s == capsurvey_survey::YES || s == y || s == "1" {
                Value::Bool(true)
            } else if s == capsurvey_survey::NO || s == n || s == "2" {
                Value::Bool(false)
            } else {
                return Err(format!("「{}」か「{}」を選んでください。", y, n));
            }
        }
    };
    check(field, value).map(Some)
}

/// Checks a value against its field, with the message in Japanese.
pub fn check(field: &Field<'_>, value: Value) -> Result<Value, String> {
    field
        .check(&value)
        .map(|()| value)
        .map_err(|e| value_error_ja(field, &e))
}

fn pick_code(field: &Field<'_>, s: &str) -> Result<String, String> {
    if field.question.option(s).is_some() {
        return Ok(s.to_owned());
    }
    if let Some(o) = field.question.options.iter().find(|o| o.label == s) {
        return Ok(o.code.clone());
    }
    Err(format!("「{s}」はこの設問の選択肢にありません。"))
}

/// Option codes sorted as the survey prints them, duplicates removed.
pub fn in_option_order(field: &Field<'_>, mut codes: Vec<String>) -> Vec<String> {
    let pos = |c: &String| {
        field
            .question
            .options
            .iter()
            .position(|o| &o.code == c)
            .unwrap_or(usize::MAX)
    };
    codes.sort_by_key(pos);
    codes.dedup();
    codes
}

/// The confidence band a machine reading falls in, for the accuracy report.
pub fn confidence_band(confidence: Option<f64>) -> &'static str {
    match confidence {
        None => "不明",
        Some(c) if c < 0.6 => "0.60未満",
        Some(c) if c < 0.8 => "0.60–0.80",
        Some(c) if c < 0.95 => "0.80–0.95",
        Some(_) => "0.95以上",
    }
}

/// The bands in display order.
pub const BANDS: [&str; 5] = ["0.60未満", "0.60–0.80", "0.80–0.95", "0.95以上", "不明"];

#[cfg(test)]
mod tests {
    use super::*;

    const SURVEY: &str = r#"
id = "t"
version = 1
title = "t"
facility_type = "dental"
reference_date = "2024-11-01"
[[sections]]
id = "a"
title = "a"
[[sections.questions]]
id = "q1"
kind = "count"
text = "人数"
unit = "人"
max = 99
[[sections.questions]]
id = "q2"
kind = "decimal"
text = "常勤換算"
unit = "人"
max = 99.9
[[sections.questions]]
id = "q3"
kind = "multiple"
text = "内容"
options = [
    { code = "1", label = "義歯" },
    { code = "2", label = "口腔ケア" },
    { code = "9", label = "なし", exclusive = true },
]
[[sections.questions]]
id = "q4"
kind = "yes_no"
text = "24時間"
labels = ["あり", "なし"]
"#;

    fn survey() -> Survey {
        capsurvey_survey::parse_survey("t.toml", SURVEY)
            .unwrap()
            .survey
    }

    #[test]
    fn typed_numbers_are_read_and_checked_in_japanese() {
        let s = survey();
        let count = find_field(&s, "q1").unwrap();
        assert_eq!(parse_input(&count, " １２ "), Ok(Some(Value::Int(12))));
        assert_eq!(parse_input(&count, "−"), Ok(Some(Value::Unknown)));
        assert_eq!(
            parse_input(&count, "120"),
            Err("120 は範囲外です。0〜99人 の数を入力してください。".into())
        );
        assert!(parse_input(&count, "").unwrap_err().contains("無回答"));
        assert!(
            parse_input(&count, "1.5")
                .unwrap_err()
                .contains("整数ではありません")
        );
        let dec = find_field(&s, "q2").unwrap();
        assert_eq!(parse_input(&dec, "2.5"), Ok(Some(Value::Decimal(2.5))));
        assert!(parse_input(&dec, "2.55").unwrap_err().contains("1 桁まで"));
    }

    #[test]
    fn choices_are_read_by_code_or_label_in_survey_order() {
        let s = survey();
        let multi = find_field(&s, "q3").unwrap();
        assert_eq!(
            parse_input(&multi, "口腔ケア, 1"),
            Ok(Some(Value::Choices(vec!["1".into(), "2".into()])))
        );
        assert!(
            parse_input(&multi, "1,9")
                .unwrap_err()
                .contains("一緒には選べません")
        );
        assert!(
            parse_input(&multi, "7")
                .unwrap_err()
                .contains("選択肢にありません")
        );
        let yn = find_field(&s, "q4").unwrap();
        assert_eq!(parse_input(&yn, "なし"), Ok(Some(Value::Bool(false))));
        assert_eq!(display_value(Some(&yn), &Some(Value::Bool(true))), "あり");
        assert_eq!(
            display_value(
                Some(&multi),
                &Some(Value::Choices(vec!["1".into(), "2".into()]))
            ),
            "1. 義歯、2. 口腔ケア"
        );
        assert_eq!(display_value(None, &None), "無回答");
        let count = find_field(&s, "q1").unwrap();
        assert_eq!(display_value(Some(&count), &Some(Value::Int(3))), "3人");
        assert_eq!(options_of(&yn)[1].key.as_deref(), Some("2"));
    }

    #[test]
    fn bands() {
        assert_eq!(confidence_band(Some(0.3)), "0.60未満");
        assert_eq!(confidence_band(Some(0.6)), "0.60–0.80");
        assert_eq!(confidence_band(Some(0.94)), "0.80–0.95");
        assert_eq!(confidence_band(Some(0.95)), "0.95以上");
        assert_eq!(confidence_band(None), "不明");
    }
}
