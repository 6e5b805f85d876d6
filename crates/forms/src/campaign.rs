//! Campaign settings: who sends the forms, where replies go, and by when.
//!
//! One TOML file per survey campaign (documented in `docs/campaign-settings.md`; the shipped
//! example is `fixtures/campaign.toml`, for the invented みどり市). Nothing of this is in code: the
//! cover letter, the return FAX number printed on every page and the deadline all come from here.
//!
//! The settings only change text inside fixed areas of the form; they never move a box, so the
//! layout file stays a function of the survey definition alone.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer};

/// The parsed campaign settings file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Campaign {
    /// The municipality sending the survey: 「みどり市」.
    pub municipality: String,
    /// The department and section in charge: 「健康福祉部 高齢福祉課」.
    pub section: String,
    /// The contact person or team: 「在宅医療・介護連携係 山田」.
    pub contact_person: String,
    /// The contact telephone number: 「0120-000-111」.
    pub phone: String,
    /// Office hours for the telephone, printed after the number (「平日8時30分〜17時15分」).
    #[serde(default)]
    pub phone_hours: Option<String>,
    /// The FAX number replies are sent to, printed large on the letter and on every page.
    pub return_fax: String,
    /// A contact e-mail address, if any.
    #[serde(default)]
    pub email: Option<String>,
    /// The reply deadline (回答期限); printed as 「令和7(2025)年1月31日(金)」.
    #[serde(deserialize_with = "date")]
    pub deadline: NaiveDate,
    /// The deadline printed on reminder letters; the main deadline if absent.
    #[serde(default, deserialize_with = "opt_date")]
    pub reminder_deadline: Option<NaiveDate>,
    /// The date printed on the letter (発信日); the day of generation if absent.
    #[serde(default, deserialize_with = "opt_date")]
    pub letter_date: Option<NaiveDate>,
    /// Overrides the survey's reference date (調査基準日) on the letter.
    #[serde(default, deserialize_with = "opt_date")]
    pub reference_date: Option<NaiveDate>,
    /// The purpose paragraph of the cover letter (「この調査は…」).
    pub purpose: String,
    /// The body of the reminder letter (「先日…ご回答を確認できておりません…」).
    pub reminder_text: String,
    /// Per-survey settings, by survey id.
    #[serde(default)]
    pub surveys: BTreeMap<String, SurveySettings>,
}

/// Settings for one survey of the campaign (`[surveys.dental]`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SurveySettings {
    /// The most pages a facility's form may have, cover letter included; `forms check` reports
    /// a layout with more.
    #[serde(default)]
    pub max_pages: Option<u32>,
    /// A purpose paragraph for this survey only, in place of the campaign's.
    #[serde(default)]
    pub purpose: Option<String>,
}

/// Why a settings file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    /// The file could not be read.
    #[error("cannot read campaign settings {path}: {source}")]
    Read {
        /// The path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is invalid or has wrong or unknown keys.
    #[error("{file}:{message}")]
    Parse {
        /// The file name.
        file: String,
        /// `LINE:COLUMN: ` and what is wrong.
        message: String,
    },
    /// A value is empty or cannot be printed.
    #[error("{file}: {}", .problems.join("; "))]
    Invalid {
        /// The file name.
        file: String,
        /// Each problem.
        problems: Vec<String>,
    },
}

impl Campaign {
    /// Reads and checks a settings file.
    pub fn load(path: &Path) -> Result<Campaign, CampaignError> {
        let text = std::fs::read_to_string(path).map_err(|source| CampaignError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&path.display().to_string(), &text)
    }

    /// Parses and checks settings text; `file` names it in messages.
    pub fn parse(file: &str, text: &str) -> Result<Campaign, CampaignError> {
        let campaign: Campaign = toml::from_str(text).map_err(|e| {
            let pos = e
                .span()
                .map(|s| {
                    let before = &text[..s.start.min(text.len())];
                    let line = before.matches('\n').count() + 1;
                    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
                    format!("{line}:{col}: ")
                })
                .unwrap_or_else(|| " ".to_owned());
            CampaignError::Parse {
                file: file.to_owned(),
                message: format!("{pos}{}", e.message().trim()),
            }
        })?;
        let problems = campaign.problems();
        if problems.is_empty() {
            Ok(campaign)
        } else {
            Err(CampaignError::Invalid {
                file: file.to_owned(),
                problems,
            })
        }
    }

    /// Empty required values and characters the embedded font cannot print.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        let required = [
            ("municipality", &self.municipality),
            ("section", &self.section),
            ("contact_person", &self.contact_person),
            ("phone", &self.phone),
            ("return_fax", &self.return_fax),
            ("purpose", &self.purpose),
            ("reminder_text", &self.reminder_text),
        ];
        for (key, value) in required {
            if value.trim().is_empty() {
                out.push(format!("`{key}` must not be empty"));
            }
        }
        let mut texts: Vec<(String, &str)> = required
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_str()))
            .collect();
        if let Some(e) = &self.email {
            texts.push(("email".into(), e));
        }
        if let Some(h) = &self.phone_hours {
            texts.push(("phone_hours".into(), h));
        }
        for (id, s) in &self.surveys {
            if let Some(p) = &s.purpose {
                texts.push((format!("surveys.{id}.purpose"), p));
            }
            if s.max_pages == Some(0) {
                out.push(format!("`surveys.{id}.max_pages` must be at least 1"));
            }
        }
        for (key, value) in texts {
            let missing = crate::text::missing_chars(value);
            if !missing.is_empty() {
                let list: Vec<String> = missing
                    .iter()
                    .map(|c| format!("{c} (U+{:04X})", u32::from(*c)))
                    .collect();
                out.push(format!(
                    "`{key}` has characters the form font cannot print: {}",
                    list.join(", ")
                ));
            }
        }
        if let Some(r) = self.reminder_deadline
            && r < self.deadline
        {
            out.push("`reminder_deadline` is before `deadline`".into());
        }
        out
    }

    /// The settings of one survey (defaults when the file has none).
    pub fn survey(&self, survey_id: &str) -> SurveySettings {
        self.surveys.get(survey_id).cloned().unwrap_or_default()
    }

    /// The purpose paragraph for a survey: its own, else the campaign's.
    pub fn purpose_for(&self, survey_id: &str) -> &str {
        self.surveys
            .get(survey_id)
            .and_then(|s| s.purpose.as_deref())
            .unwrap_or(&self.purpose)
    }

    /// The sender as printed: 「みどり市 健康福祉部 高齢福祉課」.
    pub fn sender(&self) -> String {
        format!("{} {}", self.municipality.trim(), self.section.trim())
    }
}

/// A date written either as a quoted string `"2025-01-31"` or as a bare TOML date `2025-01-31`.
#[derive(Deserialize)]
#[serde(untagged)]
enum DateRepr {
    Text(String),
    Toml(toml::value::Datetime),
}

fn parse_date<E: serde::de::Error>(repr: DateRepr) -> Result<NaiveDate, E> {
    let text = match repr {
        DateRepr::Text(s) => s,
        DateRepr::Toml(dt) => match (dt.date, dt.time) {
            (Some(d), None) => format!("{:04}-{:02}-{:02}", d.year, d.month, d.day),
            _ => {
                return Err(E::custom(
                    "expected a date without time, such as 2025-01-31",
                ));
            }
        },
    };
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        E::custom(format!(
            "`{text}` is not a date: write YYYY-MM-DD, such as 2025-01-31"
        ))
    })
}

fn date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    parse_date(DateRepr::deserialize(d)?)
}

fn opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    Option::<DateRepr>::deserialize(d)?
        .map(parse_date)
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
municipality = "みどり市"
section = "健康福祉部 高齢福祉課"
contact_person = "山田"
phone = "0120-000-111"
return_fax = "0120-000-222"
deadline = "2025-01-31"
purpose = "目的"
reminder_text = "再依頼"
"#;

    #[test]
    fn minimal_file_parses() {
        let c = Campaign::parse("c.toml", MINIMAL).unwrap();
        assert_eq!(c.deadline, NaiveDate::from_ymd_opt(2025, 1, 31).unwrap());
        assert_eq!(c.sender(), "みどり市 健康福祉部 高齢福祉課");
        assert_eq!(c.survey("dental").max_pages, None);
        assert_eq!(c.purpose_for("dental"), "目的");
    }

    #[test]
    fn bare_toml_dates_and_survey_sections() {
        let text = format!(
            "{MINIMAL}letter_date = 2025-01-10\n[surveys.dental]\nmax_pages = 5\npurpose = \"歯科\"\n"
        );
        let c = Campaign::parse("c.toml", &text).unwrap();
        assert_eq!(c.letter_date, NaiveDate::from_ymd_opt(2025, 1, 10));
        assert_eq!(c.survey("dental").max_pages, Some(5));
        assert_eq!(c.purpose_for("dental"), "歯科");
    }

    #[test]
    fn problems_are_reported_with_positions() {
        let e = Campaign::parse(
            "c.toml",
            &MINIMAL.replace("deadline = \"2025-01-31\"", "deadline = \"31.1.2025\""),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("c.toml:7:") && e.contains("YYYY-MM-DD"), "{e}");
        let e = Campaign::parse("c.toml", &format!("{MINIMAL}fax = \"1\"\n"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field `fax`"), "{e}");
        let e = Campaign::parse("c.toml", &MINIMAL.replace("\"山田\"", "\"  \""))
            .unwrap_err()
            .to_string();
        assert!(e.contains("contact_person"), "{e}");
        let e = Campaign::parse("c.toml", &MINIMAL.replace("目的", "目的\u{E000}"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("U+E000"), "{e}");
    }
}
