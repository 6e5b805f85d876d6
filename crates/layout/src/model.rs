//! The layout file: pages, registration marks, page codes and answer boxes.

use serde::{Deserialize, Serialize};

/// Millimetres to PDF points.
pub const fn mm(v: f64) -> f64 {
    v * 72.0 / 25.4
}

/// A4 portrait in points.
pub const A4: Size = Size {
    width: 595.276,
    height: 841.89,
};

/// A width and height in points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Size {
    /// Width.
    pub width: f64,
    /// Height.
    pub height: f64,
}

/// A rectangle in points: `x`, `y` of the top-left corner measured from the page's top-left.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge (downwards from the top of the page).
    pub y: f64,
    /// Width.
    pub w: f64,
    /// Height.
    pub h: f64,
}

impl Rect {
    /// The centre point.
    pub fn center(&self) -> (f64, f64) {
        (self.x + self.w / 2.0, self.y + self.h / 2.0)
    }
    /// Whether two rectangles overlap (touching edges do not count).
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.x + o.w && o.x < self.x + self.w && self.y < o.y + o.h && o.y < self.y + self.h
    }
    /// Grown by `d` on every side.
    pub fn inflate(&self, d: f64) -> Rect {
        Rect {
            x: self.x - d,
            y: self.y - d,
            w: self.w + 2.0 * d,
            h: self.h + 2.0 * d,
        }
    }
}

/// Everything recognition needs to read one survey version's forms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    /// Layout format version (this is 1).
    pub format: u32,
    /// Survey id.
    pub survey_id: String,
    /// Survey version.
    pub survey_version: u32,
    /// Content hash of the definition the layout was made from.
    pub content_hash: String,
    /// Page size in points.
    pub page_size: Size,
    /// Pages in order; `number` is 1-based.
    pub pages: Vec<PageLayout>,
}

/// What a page is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PageKind {
    /// The cover letter (依頼文): identified, nothing to read.
    Cover,
    /// Questions with answer boxes.
    Questions,
    /// A calibration page.
    Calibration,
}

/// One page of the form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageLayout {
    /// 1-based page number, as printed (「2/4」) and in the page code.
    pub number: u32,
    /// What the page is for.
    pub kind: PageKind,
    /// Centres and sizes of the registration marks: top-left, top-right, bottom-left, bottom-right.
    pub registration_marks: [Mark; 4],
    /// The two printed copies of the page code.
    pub page_codes: [CodeArea; 2],
    /// Every answer box on the page.
    pub boxes: Vec<AnswerBox>,
}

/// A filled square registration mark.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    /// Centre x.
    pub cx: f64,
    /// Centre y.
    pub cy: f64,
    /// Side length.
    pub size: f64,
}

/// Where one copy of the page code is printed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CodeArea {
    /// Top-left corner of the first module.
    pub x: f64,
    /// Top of the first module row.
    pub y: f64,
    /// Side of one module.
    pub module: f64,
}

impl CodeArea {
    /// The rectangle the modules cover.
    pub fn rect(&self) -> Rect {
        Rect {
            x: self.x,
            y: self.y,
            w: self.module * crate::pagecode::COLUMNS as f64,
            h: self.module * crate::pagecode::ROWS as f64,
        }
    }
}

/// What a box holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxKind {
    /// A check box for one option (or yes/no).
    Choice,
    /// One digit box of a number.
    Digit,
    /// A line for short text.
    Text,
    /// A framed free-text area.
    Area,
}

/// One answer box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerBox {
    /// The field key (`q08`, `q04.full`, `q16.9`).
    pub key: String,
    /// For choice boxes: the option code (`yes`/`no` for yes/no questions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// For digit boxes: the position from the left, 0-based.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digit: Option<u32>,
    /// Kind.
    pub kind: BoxKind,
    /// The box itself.
    pub rect: Rect,
    /// For choice boxes: the printed option label beside the box (circles drawn around it count).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_rect: Option<Rect>,
    /// The area around the whole question, for review crops.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub question_rect: Option<Rect>,
}

impl Layout {
    /// The page with this 1-based number.
    pub fn page(&self, number: u32) -> Option<&PageLayout> {
        self.pages.iter().find(|p| p.number == number)
    }

    /// The layout as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("layouts serialise")
    }

    /// Reads a layout file's JSON.
    pub fn from_json(text: &str) -> Result<Layout, serde_json::Error> {
        serde_json::from_str(text)
    }
}
