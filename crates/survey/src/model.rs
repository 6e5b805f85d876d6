//! The survey definition types, as read from `surveys/*.toml`.
//!
//! The format is documented in `docs/survey-format.md`; every field here says what it means on paper.

use serde::{Deserialize, Serialize};

/// The three kinds of provider capsurvey surveys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FacilityType {
    /// 歯科診療所 (dental clinic).
    Dental,
    /// 在宅療養支援診療所・病院 and other clinics and hospitals doing home care.
    HomecareClinic,
    /// 訪問看護ステーション (visiting-nurse station).
    VisitingNurse,
}

impl FacilityType {
    /// All facility types, in the order reports list them.
    pub const ALL: [FacilityType; 3] = [Self::Dental, Self::HomecareClinic, Self::VisitingNurse];

    /// The identifier used on the command line and in files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Dental => "dental",
            Self::HomecareClinic => "homecare-clinic",
            Self::VisitingNurse => "visiting-nurse",
        }
    }

    /// The Japanese name printed on forms and handouts.
    pub fn label_ja(self) -> &'static str {
        match self {
            Self::Dental => "歯科診療所",
            Self::HomecareClinic => "診療所・病院",
            Self::VisitingNurse => "訪問看護ステーション",
        }
    }
}

impl std::fmt::Display for FacilityType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl std::str::FromStr for FacilityType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown facility type `{s}`: use dental, homecare-clinic or visiting-nurse"
                )
            })
    }
}

/// One versioned survey definition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Survey {
    /// Stable ASCII id (`dental`), used on the command line and in page codes.
    pub id: String,
    /// Bumped whenever the content changes after forms went out.
    pub version: u32,
    /// Title printed on the form and the handout.
    pub title: String,
    /// Which kind of facility answers this survey.
    pub facility_type: FacilityType,
    /// 調査基準日: the day counts refer to, `YYYY-MM-DD`.
    pub reference_date: chrono::NaiveDate,
    /// Introductory text printed above the first question.
    #[serde(default)]
    pub intro: String,
    /// Sections in the order they are printed.
    pub sections: Vec<Section>,
}

/// A titled group of questions; also a skip target (「未実施の方は問16へ」).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Stable ASCII id.
    pub id: String,
    /// Japanese heading.
    pub title: String,
    /// Instruction printed under the heading.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Questions in print order.
    pub questions: Vec<Question>,
}

/// How a question is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// One option (「あてはまるもの1つに✓」).
    Single,
    /// Any number of options (「あてはまるものすべてに✓」).
    Multiple,
    /// はい/いいえ (or the labels given), per item if items are present.
    YesNo,
    /// A whole number with a unit, per item if items are present.
    Count,
    /// A number with decimals, such as full-time equivalents (常勤換算).
    Decimal,
    /// One line of text, per item if items are present.
    ShortText,
    /// A framed free-text area.
    LongText,
}

impl QuestionKind {
    /// Whether answers pick from `options`.
    pub fn is_choice(self) -> bool {
        matches!(self, Self::Single | Self::Multiple)
    }
    /// Whether answers are numbers.
    pub fn is_numeric(self) -> bool {
        matches!(self, Self::Count | Self::Decimal)
    }
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Stable ASCII id (`q08`), the key answers are stored under.
    pub id: String,
    /// The number printed before the text (「問8」); defaults to the position in the survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// How it is answered.
    pub kind: QuestionKind,
    /// The question as printed.
    pub text: String,
    /// An extra instruction printed under the text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Whether a missing answer counts as 無回答 to chase (forms mark it 「必須」).
    #[serde(default)]
    pub required: bool,
    /// Choices for `single` and `multiple`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<Choice>,
    /// Sub-fields answered separately (常勤/非常勤): for `yes_no`, `count`, `decimal` and `short_text`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
    /// Unit printed after digit boxes (人, 台, 件, 回).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Smallest accepted number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Largest accepted number; also decides how many digit boxes are printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// Digits after the decimal point for `decimal` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    /// Labels for `yes_no` in place of はい/いいえ (for example あり/なし).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<[String; 2]>,
    /// Pre-printed from the roster on forms (`name`, `address`, `phone`, `fax`, `code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill: Option<Prefill>,
    /// Skip rules, checked in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip: Vec<Skip>,
    /// Capability name for handout grids and facility lists (「摂食嚥下」): set on questions whose
    /// "yes" or chosen options mean a facility can do something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
}

/// Roster fields a form can pre-print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prefill {
    /// Official facility code.
    Code,
    /// Facility name.
    Name,
    /// Address.
    Address,
    /// Telephone.
    Phone,
    /// FAX.
    Fax,
}

/// One option of a choice question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Choice {
    /// Stable code stored as the answer (`"1"`, `"none"`).
    pub code: String,
    /// Japanese label.
    pub label: String,
    /// A write-in attached to this option (「その他（　）」, 「連携先数（　）か所」).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_in: Option<WriteIn>,
    /// "None of these": excludes every other option of a `multiple` question.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub exclusive: bool,
    /// The capability choosing this option shows (「24時間往診」, 「人工呼吸器」), for handout grids
    /// and facility lists. Overrides the question's `capability` for this option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capability: Option<String>,
}

/// What is written beside an option.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteIn {
    /// Free text.
    Text,
    /// A whole number (digit boxes).
    Count,
}

/// A sub-field of a question (常勤 / 非常勤).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Stable ASCII code, the second half of the answer key (`q04.full`).
    pub code: String,
    /// Japanese label.
    pub label: String,
}

/// 「問8で3または4と答えた方は、問16へ」.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Skip {
    /// Option codes (or `yes`/`no`) that trigger the skip.
    pub when: Vec<String>,
    /// Section or question id to go to; must come later in the survey.
    pub to: String,
}

/// Option codes of `yes_no` questions.
pub const YES: &str = "yes";
/// Option codes of `yes_no` questions.
pub const NO: &str = "no";

impl Survey {
    /// All questions in print order, with the section they belong to.
    pub fn questions(&self) -> impl Iterator<Item = (&Section, &Question)> {
        self.sections
            .iter()
            .flat_map(|s| s.questions.iter().map(move |q| (s, q)))
    }

    /// The question with this id.
    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().map(|(_, q)| q).find(|q| q.id == id)
    }

    /// The printed number of a question: its `number`, else its 1-based position.
    pub fn number_of(&self, id: &str) -> Option<String> {
        self.questions()
            .enumerate()
            .find(|(_, (_, q))| q.id == id)
            .map(|(i, (_, q))| q.number.clone().unwrap_or_else(|| (i + 1).to_string()))
    }

    /// Every answer field of the survey in print order.
    pub fn fields(&self) -> Vec<crate::Field<'_>> {
        self.questions().flat_map(|(_, q)| q.fields()).collect()
    }
}

impl Question {
    /// Labels of a `yes_no` question's two answers.
    pub fn yes_no_labels(&self) -> [&str; 2] {
        match &self.labels {
            Some([y, n]) => [y.as_str(), n.as_str()],
            None => ["はい", "いいえ"],
        }
    }

    /// The option with this code.
    pub fn option(&self, code: &str) -> Option<&Choice> {
        self.options.iter().find(|o| o.code == code)
    }

    /// Instruction printed after the question text.
    pub fn instruction(&self) -> Option<&'static str> {
        match self.kind {
            QuestionKind::Single | QuestionKind::YesNo => Some("※あてはまるもの1つに✓"),
            QuestionKind::Multiple => Some("※あてはまるものすべてに✓（いくつでも）"),
            QuestionKind::Count | QuestionKind::Decimal => {
                Some("※該当なしは「0」、わからない場合は「−」を記入")
            }
            QuestionKind::ShortText | QuestionKind::LongText => None,
        }
    }
}
