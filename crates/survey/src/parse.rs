//! Reading a survey definition from TOML text, with file:line:column for every problem.

use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

use crate::model::Survey;
use crate::validate::{Loc, validate};

/// A problem in a definition file, positioned for a person to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The file name as given.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file, self.line, self.column, self.message
        )
    }
}

/// A definition that could not be read or did not validate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct DefinitionError(pub Vec<Diagnostic>);

/// A parsed, valid survey and its content hash.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    /// The definition.
    pub survey: Survey,
    /// SHA-256 of the canonical JSON form: comments and formatting do not change it.
    pub content_hash: String,
}

/// Parses and validates a definition. `file` names the source in diagnostics.
pub fn parse_survey(file: &str, text: &str) -> Result<Parsed, DefinitionError> {
    let survey: Survey = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        DefinitionError(vec![Diagnostic {
            file: file.into(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }])
    })?;
    let problems = validate(&survey);
    if !problems.is_empty() {
        // The text parsed once, so it parses again for spans.
        let spans: SpanDoc = toml::from_str(text).unwrap_or_default();
        let diags = problems
            .into_iter()
            .map(|p| {
                let offset = spans.offset(&p.loc);
                let (line, column) = line_col(text, offset);
                Diagnostic {
                    file: file.into(),
                    line,
                    column,
                    message: p.message,
                }
            })
            .collect();
        return Err(DefinitionError(diags));
    }
    Ok(Parsed {
        content_hash: content_hash(&survey),
        survey,
    })
}

/// Parses and validates a definition file's bytes, as read from disk: a UTF-8 byte-order mark
/// (Windows Notepad writes one) is skipped, and bytes that are not UTF-8 (a file saved as
/// Shift_JIS, a damaged copy) are reported at their line and column instead of as a bare
/// "invalid UTF-8". `file` names the source in diagnostics.
pub fn parse_survey_bytes(file: &str, bytes: &[u8]) -> Result<Parsed, DefinitionError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => parse_survey(file, text),
        Err(e) => {
            let good = e.valid_up_to();
            // The prefix is valid UTF-8, so line and column count characters as editors do.
            let before = std::str::from_utf8(&bytes[..good]).unwrap_or_default();
            let (line, column) = line_col(before, good);
            let shown: Vec<String> = bytes[good..]
                .iter()
                .take(4)
                .map(|b| format!("{b:02X}"))
                .collect();
            Err(DefinitionError(vec![Diagnostic {
                file: file.into(),
                line,
                column,
                message: format!(
                    "the file is not UTF-8 text (bytes {} here): survey definitions must be saved \
                     as UTF-8; if it was saved as Shift_JIS (ANSI), save it again as UTF-8",
                    shown.join(" ")
                ),
            }]))
        }
    }
}

/// SHA-256 (hex) of the survey's canonical JSON serialisation.
pub fn content_hash(survey: &Survey) -> String {
    let json = serde_json::to_vec(survey).expect("a survey always serialises");
    hex::encode(Sha256::digest(&json))
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..text.floor_char_boundary(offset)];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

// Shadow structure holding only the spans of what validation can point at.
#[derive(Deserialize, Default)]
struct SpanDoc {
    id: Option<Spanned<toml::Value>>,
    #[serde(default)]
    sections: Vec<SpanSection>,
}
#[derive(Deserialize)]
struct SpanSection {
    id: Spanned<toml::Value>,
    #[serde(default)]
    questions: Vec<SpanQuestion>,
}
#[derive(Deserialize)]
struct SpanQuestion {
    id: Spanned<toml::Value>,
    #[serde(default)]
    options: Vec<SpanCode>,
    #[serde(default)]
    items: Vec<SpanCode>,
    #[serde(default)]
    skip: Vec<SpanSkip>,
}
#[derive(Deserialize)]
struct SpanCode {
    code: Spanned<toml::Value>,
}
#[derive(Deserialize)]
struct SpanSkip {
    to: Spanned<toml::Value>,
}

impl SpanDoc {
    fn offset(&self, loc: &Loc) -> usize {
        let q = |s: usize, q: usize| self.sections.get(s).and_then(|s| s.questions.get(q));
        let span = match *loc {
            Loc::Survey => self.id.as_ref().map(|i| i.span()),
            Loc::Section(s) => self.sections.get(s).map(|s| s.id.span()),
            Loc::Question(s, qi) => q(s, qi).map(|q| q.id.span()),
            Loc::Option(s, qi, o) => q(s, qi)
                .and_then(|q| q.options.get(o))
                .map(|o| o.code.span()),
            Loc::Item(s, qi, i) => q(s, qi).and_then(|q| q.items.get(i)).map(|i| i.code.span()),
            Loc::Skip(s, qi, k) => q(s, qi).and_then(|q| q.skip.get(k)).map(|k| k.to.span()),
        };
        span.map_or(0, |s| s.start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "mini"
version = 1
title = "テスト"
facility_type = "dental"
reference_date = "2024-11-01"

[[sections]]
id = "a"
title = "実施状況"

[[sections.questions]]
id = "q1"
kind = "single"
text = "実施していますか"
options = [{ code = "1", label = "はい" }, { code = "2", label = "いいえ" }]
skip = [{ when = ["2"], to = "b" }]

[[sections]]
id = "b"
title = "未実施"

[[sections.questions]]
id = "q2"
kind = "count"
text = "人数"
unit = "人"
max = 99
"#;

    #[test]
    fn minimal_survey_parses_and_hash_ignores_formatting() {
        let a = parse_survey("mini.toml", MINIMAL).unwrap();
        let b = parse_survey("mini.toml", &format!("# comment\n{MINIMAL}\n\n")).unwrap();
        assert_eq!(a.content_hash, b.content_hash);
        let c = parse_survey("mini.toml", &MINIMAL.replace("人数", "職員数")).unwrap();
        assert_ne!(a.content_hash, c.content_hash);
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let broken = MINIMAL.replace("kind = \"count\"", "kind = count");
        let err = parse_survey("mini.toml", &broken).unwrap_err();
        let d = &err.0[0];
        assert_eq!((d.file.as_str(), d.line), ("mini.toml", 25), "{err}");
        assert!(d.column > 1);
    }

    #[test]
    fn unknown_kind_is_explained() {
        let broken = MINIMAL.replace("kind = \"count\"", "kind = \"number\"");
        let err = parse_survey("mini.toml", &broken).unwrap_err().to_string();
        assert!(err.contains("mini.toml:25:"), "{err}");
        assert!(err.contains("count"), "{err}");
    }

    #[test]
    fn backward_skip_is_a_cycle_with_position() {
        let broken = MINIMAL.replace("to = \"b\"", "to = \"a\"");
        let err = parse_survey("mini.toml", &broken).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(err.0[0].line, 17, "{err}");
        assert!(err.0[0].message.contains("forward"), "{err}");
    }

    #[test]
    fn duplicate_ids_and_missing_options_are_reported_where_they_are() {
        let broken = MINIMAL.replace("id = \"q2\"", "id = \"q1\"").replace(
            "options = [{ code = \"1\", label = \"はい\" }, { code = \"2\", label = \"いいえ\" }]",
            "options = [{ code = \"1\", label = \"はい\" }, { code = \"1\", label = \"いいえ\" }]",
        );
        let err = parse_survey("mini.toml", &broken).unwrap_err();
        let lines: Vec<_> = err.0.iter().map(|d| d.line).collect();
        assert!(lines.contains(&16) && lines.contains(&24), "{err}");
    }

    #[test]
    fn bytes_with_a_bom_or_not_utf8() {
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(MINIMAL.as_bytes());
        let a = parse_survey_bytes("mini.toml", &bom).unwrap();
        assert_eq!(a, parse_survey("mini.toml", MINIMAL).unwrap());
        // 「テスト」 in Shift_JIS on line 4 (the text starts with a line break).
        let sjis = MINIMAL.replace("テスト", "").into_bytes();
        let at = MINIMAL.find("テスト").unwrap();
        let mut bytes = sjis[..at].to_vec();
        bytes.extend_from_slice(b"\x83\x65\x83\x58\x83\x67");
        bytes.extend_from_slice(&sjis[at..]);
        let err = parse_survey_bytes("mini.toml", &bytes).unwrap_err();
        assert_eq!(err.0.len(), 1);
        assert_eq!(
            err.to_string(),
            "mini.toml:4:10: the file is not UTF-8 text (bytes 83 65 83 58 here): survey \
             definitions must be saved as UTF-8; if it was saved as Shift_JIS (ANSI), save it \
             again as UTF-8"
        );
    }

    #[test]
    fn ranges_must_be_sane() {
        let broken = MINIMAL.replace("max = 99", "max = 0");
        assert!(
            parse_survey("m", &broken)
                .unwrap_err()
                .to_string()
                .contains("greater than min")
        );
        let broken = MINIMAL.replace("max = 99\n", "");
        assert!(
            parse_survey("m", &broken)
                .unwrap_err()
                .to_string()
                .contains("needs `max`")
        );
    }
}
