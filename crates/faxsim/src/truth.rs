//! What was really on a generated page, as JSON next to the image.

use serde::{Deserialize, Serialize};

use capsurvey_layout::{BoxKind, PageCode};
use capsurvey_survey::Value;

use crate::degrade::Degradation;
use crate::fill::Habits;

/// A page code in the truth file (the layout crate's [`PageCode`] has no serde form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeTruth {
    /// The stored survey version's id.
    pub survey_version_id: u32,
    /// The mailing's id.
    pub mailing_id: u32,
    /// 1-based page number.
    pub page: u32,
}

impl From<PageCode> for CodeTruth {
    fn from(c: PageCode) -> CodeTruth {
        CodeTruth {
            survey_version_id: c.survey_version_id,
            mailing_id: c.mailing_id,
            page: c.page,
        }
    }
}

impl From<CodeTruth> for PageCode {
    fn from(c: CodeTruth) -> PageCode {
        PageCode {
            survey_version_id: c.survey_version_id,
            mailing_id: c.mailing_id,
            page: c.page,
        }
    }
}

/// What the page is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Identity {
    /// A page of a capsurvey form whose code is printed intact.
    Form {
        /// The printed code.
        code: CodeTruth,
    },
    /// A form page whose two code copies are both smudged beyond reading: recognition must
    /// not identify it from the code (the printed code is given for reference).
    DamagedCode {
        /// The code that was printed before the damage.
        code: CodeTruth,
    },
    /// An empty sheet.
    Blank,
    /// Some other document (a cover note, a letter): text, no marks, no code.
    Foreign,
}

impl Identity {
    /// The code recognition should read, if any.
    pub fn readable_code(&self) -> Option<PageCode> {
        match self {
            Identity::Form { code } => Some((*code).into()),
            _ => None,
        }
    }
}

/// How a box was drawn on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Style {
    /// ✓ in the box.
    Tick,
    /// × in the box.
    Cross,
    /// ■: the box filled by hand (not quite solid).
    Fill,
    /// A loop drawn around the option's label (sometimes with its box) instead of a mark in
    /// the box.
    Circle,
    /// A light pencil tick (grey 120–200; a fax threshold may lose parts of it).
    Pencil,
    /// Blacked out completely (over a first tick) to cancel it; another box holds the answer.
    Cancelled,
    /// Nothing drawn.
    Empty,
    /// A stray dot or pen slip near (sometimes a tiny dot inside) an otherwise empty box.
    Stray,
    /// A handwritten digit or 「−」 in a digit box.
    Digit,
    /// Handwriting in a text box or area.
    Scribble,
}

/// How a correct reader should see a box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expected {
    /// Chosen (choice boxes; circles count), or holding a digit or text.
    Marked,
    /// Not chosen, empty (stray dots included).
    Empty,
    /// Cancelled by the respondent.
    Cancelled,
}

/// The truth of one answer box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoxTruth {
    /// Field key.
    pub key: String,
    /// Option code (choice boxes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// Digit position (digit boxes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit: Option<u32>,
    /// Box kind.
    pub kind: BoxKind,
    /// What was drawn.
    pub style: Style,
    /// What a reader should see.
    pub expected: Expected,
    /// The character written in a digit box (`0`–`9` or `-`), or the text meant by a scribble.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
}

/// The intended value of one field on the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldTruth {
    /// Field key.
    pub key: String,
    /// The value meant; `None` = no answer (無回答).
    pub value: Option<Value>,
}

/// The image's format.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OutputTruth {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Horizontal resolution.
    pub dpi_x: f32,
    /// Vertical resolution.
    pub dpi_y: f32,
    /// 1-bit (fax).
    pub bilevel: bool,
    /// Colour.
    pub color: bool,
}

/// Everything known about one generated page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageTruth {
    /// The file the page was written to, when it has been (set by the writer's caller).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 0-based position of the page in its file (or in the generated reply).
    pub page_index: u32,
    /// What the page is.
    pub identity: Identity,
    /// The layout page number it was drawn from (form pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout_page: Option<u32>,
    /// Fed upside down (also in `degradation`; here for quick filtering).
    pub upside_down: bool,
    /// The degradation applied.
    pub degradation: Degradation,
    /// The map from page points (layout coordinates) to pixels of the output image, as
    /// `[a, b, c, d, e, f]` with `x' = a·x + b·y + c`, `y' = d·x + e·y + f`.
    pub page_to_pixel: [f64; 6],
    /// The image format.
    pub output: OutputTruth,
    /// The respondent's habits (form pages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub habits: Option<Habits>,
    /// Every answer box of the page, in layout order.
    pub boxes: Vec<BoxTruth>,
    /// Every field with boxes on the page, with its intended value.
    pub fields: Vec<FieldTruth>,
    /// The seed the page was generated from.
    pub seed: u64,
}

impl PageTruth {
    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("truth serialises")
    }

    /// Reads a truth file.
    pub fn from_json(text: &str) -> Result<PageTruth, serde_json::Error> {
        serde_json::from_str(text)
    }
}
