//! What aggregation reads ([`ReportInput`]) and what it produces ([`Report`]).
//!
//! The report holds numbers *and* the text a template prints for them (`count_text`, `pct_text`),
//! so that suppression (「*」) and rounding are decided once, here, and a user's own template
//! cannot print a suppressed number by accident.

use std::collections::{HashMap, HashSet};

use capsurvey_survey::{Survey, Value};
use serde::Serialize;

/// Everything aggregation needs: the definition and one record per facility.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// The survey definition of the stored version the answers belong to.
    pub survey: Survey,
    /// The areas the handout is restricted to (`--area`), in the order given; empty for all.
    pub area_filter: Vec<String>,
    /// Facilities that were sent a form or replied, in a stable order (by code).
    pub facilities: Vec<FacilityRecord>,
}

/// One facility with its answers.
#[derive(Debug, Clone, Default)]
pub struct FacilityRecord {
    /// Official or local code.
    pub code: String,
    /// Name on the roster.
    pub name: String,
    /// Reading of the name, for sorting lists the way Japanese readers expect.
    pub name_kana: Option<String>,
    /// `dental`, `homecare-clinic`, `visiting-nurse` (as stored).
    pub facility_type: String,
    /// The area that counts: the hand-set override if any, else the mapped area.
    pub area: Option<String>,
    /// Filing codes from the bureau list (支援診１ …).
    pub filings: Vec<String>,
    /// Address on the roster.
    pub address: Option<String>,
    /// Telephone on the roster.
    pub phone: Option<String>,
    /// FAX on the roster.
    pub fax: Option<String>,
    /// Whether a form of this survey version was sent to the facility.
    pub mailed: bool,
    /// Whether the facility has a response record for this version (even an empty one).
    pub responded: bool,
    /// Accepted answers: field key → value; `None` is a stored 無回答.
    pub answers: HashMap<String, Option<Value>>,
    /// Field keys with an answer still under review (status `review`).
    pub under_review: HashSet<String>,
}

impl FacilityRecord {
    /// A facility counts as having answered (有効回答) when at least one accepted answer holds a
    /// value. A form returned blank, or one whose every answer is still under review, does not.
    pub fn is_respondent(&self) -> bool {
        self.answers.values().any(|v| v.is_some())
    }

    /// The area label used in tables.
    pub fn area_label(&self) -> &str {
        self.area.as_deref().unwrap_or(crate::rules::NO_AREA)
    }
}

/// A whole handout's content.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Which survey and version.
    pub survey: SurveyInfo,
    /// The day the handout was made, in 和暦.
    pub generated_on: String,
    /// `--area` restriction, empty for all areas.
    pub area_filter: Vec<String>,
    /// `--min-cell`: counts from 1 to this minus 1 are shown as 「*」; 0 when nothing is suppressed.
    pub min_cell: u64,
    /// 回収状況.
    pub collection: Collection,
    /// Per-question results, grouped by the survey's sections.
    pub sections: Vec<SectionReport>,
    /// Cross-tabs of the key questions.
    pub crosstabs: CrossTabs,
    /// Reasons questions, options ranked by share.
    pub reasons: Vec<Ranking>,
    /// Free-text answers, per question.
    pub free_text: Vec<FreeTextBlock>,
    /// Capability grid and per-capability lists.
    pub capabilities: Capabilities,
    /// Figures for the notes page.
    pub notes: Notes,
    /// Problems in the definition that affect the handout (shown on the notes page).
    pub warnings: Vec<String>,
}

/// The survey a report is about.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyInfo {
    /// Survey id.
    pub id: String,
    /// Stored version.
    pub version: u32,
    /// Title.
    pub title: String,
    /// Facility type id.
    pub facility_type: String,
    /// Facility type in Japanese.
    pub facility_type_label: String,
    /// Reference date, `YYYY-MM-DD`.
    pub reference_date: String,
    /// Reference date in 和暦 (令和6年11月1日).
    pub reference_date_ja: String,
}

/// 回収状況: sent, answered and rate.
#[derive(Debug, Clone, Serialize)]
pub struct Collection {
    /// All facilities.
    pub total: CollectionRow,
    /// Per facility type.
    pub by_type: Vec<CollectionRow>,
    /// Per area.
    pub by_area: Vec<CollectionRow>,
    /// Replies whose every answer is still under review: not counted as answered.
    pub review_only: u64,
    /// Respondents without a recorded mailing (blank forms): counted as answered.
    pub unmailed_respondents: u64,
}

/// One row of the collection table.
#[derive(Debug, Clone, Serialize)]
pub struct CollectionRow {
    /// Type or area.
    pub label: String,
    /// 発送数: facilities sent a form of this version.
    pub sent: u64,
    /// 有効回答数: respondents.
    pub answered: u64,
    /// 有効回答率 in tenths of a percent.
    pub rate_tenths: Option<u64>,
    /// 有効回答率 as printed (`26.1`), `-` without mailings.
    pub rate_text: String,
}

/// A survey section and its tabulated questions.
#[derive(Debug, Clone, Serialize)]
pub struct SectionReport {
    /// Section id.
    pub id: String,
    /// Heading.
    pub title: String,
    /// Questions in print order (the respondent block and pre-printed roster fields are left out).
    pub questions: Vec<QuestionReport>,
}

/// Results of one question.
#[derive(Debug, Clone, Serialize)]
pub struct QuestionReport {
    /// Question id.
    pub id: String,
    /// HTML anchor (`q-q08`).
    pub anchor: String,
    /// Printed number (`8`, `18-1`).
    pub number: String,
    /// Question text.
    pub text: String,
    /// `single`, `multiple`, `yes_no`, `count`, `decimal`, `text`.
    pub kind: String,
    /// 単一回答, 複数回答 …
    pub kind_label: String,
    /// One part per answer field: the question itself, or each item; write-ins of counts follow.
    pub parts: Vec<Part>,
}

/// Results of one answer field.
#[derive(Debug, Clone, Serialize)]
pub struct Part {
    /// Field key (`q04.full`).
    pub key: String,
    /// HTML id prefix for the rows (`r-q04-full`).
    pub anchor: String,
    /// Item or write-in label, if the field is one.
    pub label: Option<String>,
    /// n: respondents the field applies to, minus those whose answer is under review.
    pub n: u64,
    /// 非該当: respondents a skip rule sent past the question.
    pub not_applicable: u64,
    /// 確認中: answers still under review, left out of n and every count.
    pub under_review: u64,
    /// Answers given although a skip rule sent the respondent past the question (not counted).
    pub answered_when_skipped: u64,
    /// Counts per option (choice and yes/no fields).
    pub choice: Option<ChoiceTable>,
    /// Statistics (count and decimal fields).
    pub number: Option<NumberStats>,
    /// How many wrote something (text fields; the texts are in [`Report::free_text`]).
    pub text: Option<TextSummary>,
}

/// Counts per option.
#[derive(Debug, Clone, Serialize)]
pub struct ChoiceTable {
    /// Several options may be chosen: percentages are of n and total more than 100%.
    pub multiple: bool,
    /// Options in print order, then わからない (if any) and 無回答.
    pub rows: Vec<CountRow>,
}

/// One counted category: an option, a bin, わからない or 無回答.
#[derive(Debug, Clone, Serialize)]
pub struct CountRow {
    /// Option code, bin index, `unknown` or `none`; also the last part of the row's HTML id.
    pub code: String,
    /// Printed label.
    pub label: String,
    /// The count (also when suppressed: templates print `count_text`).
    pub count: u64,
    /// The count as printed: the number, or 「*」 when suppressed.
    pub count_text: String,
    /// Share of n in tenths of a percent; `None` when suppressed or n is 0.
    pub pct_tenths: Option<u64>,
    /// Share as printed: `65.4`, 「*」, or `-` when n is 0.
    pub pct_text: String,
    /// Whether the cell is suppressed (`--min-cell`).
    pub suppressed: bool,
    /// `option`, `bin`, `unknown`, `none`.
    pub kind: String,
    /// Colour index for charts (`none` and `unknown` have their own greys).
    pub color: usize,
}

/// Statistics of a count or decimal field.
#[derive(Debug, Clone, Serialize)]
pub struct NumberStats {
    /// Unit (人, 件).
    pub unit: String,
    /// Respondents who wrote a number.
    pub answered: u64,
    /// Respondents who wrote 「−」 (わからない).
    pub unknown: u64,
    /// Respondents who left it blank.
    pub no_answer: u64,
    /// Sum as printed (「*」 when suppressed).
    pub sum_text: String,
    /// Mean as printed.
    pub mean_text: String,
    /// Median as printed.
    pub median_text: String,
    /// Smallest as printed.
    pub min_text: String,
    /// Largest as printed.
    pub max_text: String,
    /// Bins 0 / 1–4 / 5–9 / 10–19 / 20–49 / 50+, then わからない and 無回答; shares of n.
    pub bins: Vec<CountRow>,
}

/// How many wrote something in a text field.
#[derive(Debug, Clone, Serialize)]
pub struct TextSummary {
    /// Respondents who wrote something.
    pub written: u64,
    /// Respondents who left it blank.
    pub no_answer: u64,
    /// Index into [`Report::free_text`] of the block listing the texts, if listed.
    pub listed_in: Option<usize>,
}

/// Cross-tabs by area and by filing type.
#[derive(Debug, Clone, Serialize)]
pub struct CrossTabs {
    /// Per key question, rows = areas.
    pub by_area: Vec<CrossTab>,
    /// Per key question, rows = filing types.
    pub by_filing: Vec<CrossTab>,
    /// Where the filing type comes from (「問3 在宅療養支援診療所…の届出」 or the roster).
    pub filing_source: String,
    /// A facility can be in several filing rows (the filing question is multiple choice or the
    /// roster lists several filings).
    pub filing_overlaps: bool,
}

/// One cross-tab: rows = areas or filing types, columns = the question's options.
#[derive(Debug, Clone, Serialize)]
pub struct CrossTab {
    /// HTML id (`x-area-q08`).
    pub anchor: String,
    /// Anchor of the question's own results.
    pub question_anchor: String,
    /// Printed number.
    pub number: String,
    /// Question text (with the item label for an item).
    pub text: String,
    /// 地区, 届出区分.
    pub dimension: String,
    /// Column headings.
    pub columns: Vec<CrossColumn>,
    /// One row per area or filing type, then the total (`total = true`).
    pub rows: Vec<CrossRow>,
}

/// A cross-tab column.
#[derive(Debug, Clone, Serialize)]
pub struct CrossColumn {
    /// Heading.
    pub label: String,
    /// Colour index for charts.
    pub color: usize,
}

/// A cross-tab row.
#[derive(Debug, Clone, Serialize)]
pub struct CrossRow {
    /// Area or filing type.
    pub label: String,
    /// Row n.
    pub n: u64,
    /// Cells in column order.
    pub cells: Vec<CountRow>,
    /// The total row.
    pub total: bool,
}

/// A reasons question with its options ranked.
#[derive(Debug, Clone, Serialize)]
pub struct Ranking {
    /// Anchor of the question's own results.
    pub question_anchor: String,
    /// Printed number.
    pub number: String,
    /// Question text.
    pub text: String,
    /// n of the question.
    pub n: u64,
    /// Options, most chosen first.
    pub rows: Vec<RankRow>,
}

/// One ranked option.
#[derive(Debug, Clone, Serialize)]
pub struct RankRow {
    /// 1, 2, 2, 4 … (ties share a rank).
    pub rank: u64,
    /// The option's counts.
    pub row: CountRow,
}

/// Free-text answers to one field.
#[derive(Debug, Clone, Serialize)]
pub struct FreeTextBlock {
    /// HTML id.
    pub anchor: String,
    /// Printed number.
    pub number: String,
    /// Question text, with the item or option label for items and write-ins.
    pub title: String,
    /// The texts, in facility-code order, without facility names.
    pub entries: Vec<String>,
}

/// Capability grid and lists.
#[derive(Debug, Clone, Serialize)]
pub struct Capabilities {
    /// The listing-consent question (「問30-1」), if the survey has one.
    pub listing_question: Option<String>,
    /// Respondents who agreed to be listed.
    pub listed: u64,
    /// Respondents who did not agree, did not answer, or whose answer is under review.
    pub not_listed: u64,
    /// Of those, answers still under review.
    pub listing_under_review: u64,
    /// Grid columns, in survey order.
    pub columns: Vec<CapabilityColumn>,
    /// Column indices per grid table: wide grids are split so each fits the page width.
    pub column_groups: Vec<Vec<usize>>,
    /// Listed facilities, by area then reading.
    pub rows: Vec<GridRow>,
    /// Per capability, the indices into `rows` of facilities showing it.
    pub lists: Vec<CapabilityList>,
    /// Share of all respondents (listed or not) with each capability, by area.
    pub by_area: Option<CrossTab>,
    /// Capability answers still under review: not marked ○ until decided.
    pub under_review: u64,
}

/// One capability.
#[derive(Debug, Clone, Serialize)]
pub struct CapabilityColumn {
    /// Name (「24時間往診」).
    pub name: String,
    /// Which questions and options show it (「問11（1・2）」).
    pub source: String,
    /// Respondents (listed or not) showing it.
    pub respondents: u64,
    /// Share of all respondents, as printed.
    pub pct_text: String,
    /// Listed facilities showing it.
    pub listed: u64,
}

/// A listed facility in the grid.
#[derive(Debug, Clone, Serialize)]
pub struct GridRow {
    /// Facility code.
    pub code: String,
    /// Name.
    pub name: String,
    /// Area.
    pub area: String,
    /// Address: the respondent's correction if given, else the roster's.
    pub address: String,
    /// Telephone, likewise.
    pub phone: String,
    /// FAX, likewise.
    pub fax: String,
    /// One flag per capability column.
    pub marks: Vec<bool>,
}

/// Facilities showing one capability.
#[derive(Debug, Clone, Serialize)]
pub struct CapabilityList {
    /// HTML id.
    pub anchor: String,
    /// Capability name.
    pub name: String,
    /// Indices into [`Capabilities::rows`].
    pub rows: Vec<usize>,
}

/// Figures for the notes page.
#[derive(Debug, Clone, Serialize)]
pub struct Notes {
    /// Answers under review in all tabulated fields (each left out of its field's n).
    pub under_review_answers: u64,
    /// Answers to questions a skip rule sent the respondent past (not counted).
    pub answered_when_skipped: u64,
    /// Cells shown as 「*」.
    pub suppressed_cells: u64,
}
