//! Survey forms: the layout of a survey version, and its PDF pages for each facility.
//!
//! - [`layout`] computes the layout file of a survey version: a pure function of the definition
//!   (and fixed constants), so recognition can recompute it from the stored definition.
//! - [`FormTemplate`] draws everything that is the same for every facility of a campaign once:
//!   the question pages, the cover letters, the return FAX number.
//! - [`FormTemplate::render`] adds what differs per facility (addressee, facility name, 管理No,
//!   pre-printed roster values, page codes) to copies of those pages, giving a [`Document`].
//!
//! Variable text only goes into fixed areas: it is shrunk, then cut with 「…」, to fit; it never
//! moves a box.
//!
//! ```
//! use capsurvey_forms::campaign::Campaign;
//! use capsurvey_forms::form::{Facility, FormInstance, FormKind, FormTemplate, layout};
//!
//! let parsed = capsurvey_survey::parse_survey("dental.toml", include_str!("../../../../surveys/dental.toml")).unwrap();
//! let campaign = Campaign::parse("campaign.toml", include_str!("../../../../fixtures/campaign.toml")).unwrap();
//! let layout = layout(&parsed.survey, &parsed.content_hash);
//! assert_eq!(layout.pages[0].kind, capsurvey_layout::PageKind::Cover);
//!
//! let date = chrono::NaiveDate::from_ymd_opt(2024, 11, 8).unwrap();
//! let template = FormTemplate::new(&parsed.survey, &parsed.content_hash, &campaign, date).unwrap();
//! let facility = Facility { code: "1312345678".into(), name: "みどり中央歯科クリニック".into(), ..Default::default() };
//! let doc = template
//!     .render(&FormInstance { kind: FormKind::Initial, facility: Some(&facility), survey_version_id: 1, mailing_id: 17, form_code: Some("D-000017") })
//!     .unwrap();
//! assert_eq!(doc.pages().len(), layout.pages.len());
//! let pdf = doc.to_pdf().unwrap();
//! assert!(pdf.len() < 100_000);
//! ```

pub(crate) mod cover;
pub(crate) mod draw;
pub mod frame;
pub(crate) mod plan;

use std::sync::Arc;

use capsurvey_layout::{Layout, PageCode, PageCodeError, PageLayout};
use capsurvey_survey::{Prefill, Survey};
use chrono::NaiveDate;

use crate::campaign::Campaign;
use crate::geom::{A4_WIDTH, mm};
use crate::pdf::{Document, DocumentInfo, Page};
use draw::{El, fit_line, width};

pub use cover::WINDOW_TEXT;
pub use plan::{
    AREA_HEIGHT, BOX_STROKE, CHOICE_BOX, DIGIT_GAP, DIGIT_HEIGHT, DIGIT_WIDTH, TEXT_BOX_STROKE,
    TEXT_HEIGHT, WRITE_IN_DIGITS, WRITE_IN_HEIGHT,
};

/// The layout file format this crate writes.
pub const LAYOUT_FORMAT: u32 = 1;

/// Why a form could not be made.
#[derive(Debug, thiserror::Error)]
pub enum FormError {
    /// Writing the PDF failed.
    #[error(transparent)]
    Pdf(#[from] crate::Error),
    /// Text of the campaign settings does not fit its area.
    #[error("{0}")]
    Overflow(String),
    /// A survey version or mailing id too large for the page code.
    #[error(transparent)]
    PageCode(#[from] PageCodeError),
}

/// The roster data printed on a facility's form.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facility {
    /// Official code (医療機関コード / 事業所番号) or local code.
    pub code: String,
    /// Name, printed in the window, the header of every page and the 施設名 box.
    pub name: String,
    /// Postal code, `154-0017` (with or without 〒).
    pub postal_code: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Telephone.
    pub phone: Option<String>,
    /// FAX.
    pub fax: Option<String>,
}

impl Facility {
    /// The value a `prefill` question pre-prints, if the roster has it.
    pub fn prefill(&self, p: Prefill) -> Option<String> {
        let non_empty = |s: &Option<String>| {
            s.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        match p {
            Prefill::Code => Some(self.code.clone()).filter(|c| !c.trim().is_empty()),
            Prefill::Name => Some(self.name.clone()).filter(|c| !c.trim().is_empty()),
            Prefill::Address => {
                let addr = non_empty(&self.address)?;
                Some(match non_empty(&self.postal_code) {
                    Some(pc) => format!("〒{} {addr}", pc.trim_start_matches('〒')),
                    None => addr,
                })
            }
            Prefill::Phone => non_empty(&self.phone),
            Prefill::Fax => non_empty(&self.fax),
        }
    }
}

/// Which kind of form: it decides the cover letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormKind {
    /// The first request, to a facility.
    Initial,
    /// A reminder to a facility that has not answered, with the reminder letter.
    Reminder,
    /// A form with no facility pre-printed (mailing id 0 in the page code).
    Blank,
}

impl FormKind {
    /// The name stored in `mailings.kind`: `initial`, `reminder` or `blank`.
    pub fn as_str(self) -> &'static str {
        match self {
            FormKind::Initial => "initial",
            FormKind::Reminder => "reminder",
            FormKind::Blank => "blank",
        }
    }
}

/// One form to render.
#[derive(Debug, Clone, Copy)]
pub struct FormInstance<'a> {
    /// Which letter goes on top.
    pub kind: FormKind,
    /// The facility, `None` for a blank form.
    pub facility: Option<&'a Facility>,
    /// The stored survey version's id (page code).
    pub survey_version_id: u32,
    /// The mailing's id (page code); 0 for a blank form.
    pub mailing_id: u32,
    /// The 管理No printed at the top right of every page (the mailing's form code).
    pub form_code: Option<&'a str>,
}

/// The layout of a survey version: page size, marks, page codes and every answer box.
///
/// A pure function of the definition and the constants of this crate: the same survey gives
/// the same layout on every machine, so recognition can recompute it from the stored definition.
/// Page 1 is the cover letter ([`capsurvey_layout::PageKind::Cover`], no boxes).
pub fn layout(survey: &Survey, content_hash: &str) -> Layout {
    to_layout(&plan::plan(survey), survey, content_hash)
}

/// Problems the planner found: text that runs off the page, characters the font lacks.
pub fn plan_problems(survey: &Survey) -> Vec<String> {
    plan::plan(survey).problems
}

fn to_layout(plan: &plan::Plan, survey: &Survey, content_hash: &str) -> Layout {
    Layout {
        format: LAYOUT_FORMAT,
        survey_id: survey.id.clone(),
        survey_version: survey.version,
        content_hash: content_hash.to_owned(),
        page_size: capsurvey_layout::A4,
        pages: plan
            .pages
            .iter()
            .map(|p| PageLayout {
                number: p.number,
                kind: p.kind,
                registration_marks: frame::registration_marks(),
                page_codes: frame::code_areas(),
                boxes: p.boxes.clone(),
            })
            .collect(),
    }
}

/// The pages of one survey and campaign, drawn once; [`FormTemplate::render`] makes each
/// facility's form from copies.
#[derive(Debug, Clone)]
pub struct FormTemplate {
    title: String,
    sender: String,
    layout: Layout,
    cover_request: Arc<Page>,
    cover_reminder: Arc<Page>,
    questions: Vec<Arc<Page>>,
    prefills: Vec<(usize, plan::PrefillSlot)>,
}

impl FormTemplate {
    /// Plans the survey and draws the pages every facility shares. `letter_date` is printed on
    /// the letter when the campaign sets none.
    ///
    /// Fails if the campaign's letter text does not fit the cover page.
    pub fn new(
        survey: &Survey,
        content_hash: &str,
        campaign: &Campaign,
        letter_date: NaiveDate,
    ) -> Result<Self, FormError> {
        let plan = plan::plan(survey);
        let layout = to_layout(&plan, survey, content_hash);
        let total = plan.pages.len();
        let date = campaign.letter_date.unwrap_or(letter_date);
        let mut covers = Vec::new();
        for letter in [cover::Letter::Request, cover::Letter::Reminder] {
            let mut page = Page::a4();
            frame::draw_marks(&mut page);
            cover::draw_letter(&mut page, survey, campaign, letter, date, total)?;
            footer(&mut page, 1, total, campaign)?;
            covers.push(Arc::new(page));
        }
        let mut questions = Vec::new();
        let mut prefills = Vec::new();
        for (i, p) in plan.pages.iter().enumerate().skip(1) {
            let mut page = Page::a4();
            frame::draw_marks(&mut page);
            for e in &p.els {
                e.draw(&mut page)?;
            }
            header_fax(&mut page, campaign)?;
            footer_fax(&mut page, campaign)?;
            questions.push(Arc::new(page));
            prefills.extend(p.prefills.iter().map(|s| (i, *s)));
        }
        let [cover_request, cover_reminder]: [Arc<Page>; 2] =
            covers.try_into().expect("two covers");
        Ok(Self {
            title: survey.title.clone(),
            sender: campaign.sender(),
            layout,
            cover_request,
            cover_reminder,
            questions,
            prefills,
        })
    }

    /// The layout of the survey version (the same as [`layout`]).
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Pages per form, cover letter included.
    pub fn page_count(&self) -> usize {
        self.questions.len() + 1
    }

    /// Draws one facility's (or a blank) form.
    pub fn render(&self, form: &FormInstance<'_>) -> Result<Document, FormError> {
        let facility = if form.kind == FormKind::Blank {
            None
        } else {
            form.facility
        };
        let mailing_id = if form.kind == FormKind::Blank {
            0
        } else {
            form.mailing_id
        };
        let title = match facility {
            Some(f) => format!("{} {}", self.title, f.name.trim()),
            None => format!("{}（白紙様式）", self.title),
        };
        let mut doc = Document::with_info(DocumentInfo {
            title,
            author: Some(self.sender.clone()),
            subject: form.form_code.map(|c| format!("管理No {c}")),
        });
        let control = match (facility, form.form_code) {
            (Some(_), Some(code)) => format!("管理No {code}"),
            _ => "管理No（新規）".to_owned(),
        };
        let code = |page: u32| {
            PageCode {
                survey_version_id: form.survey_version_id,
                mailing_id,
                page,
            }
            .modules()
        };

        // Each page is drawn over the shared template page: nothing of it is copied.
        let mut cover = Page::over(Arc::clone(match form.kind {
            FormKind::Reminder => &self.cover_reminder,
            _ => &self.cover_request,
        }));
        match facility {
            Some(f) => cover::draw_addressee(
                &mut cover,
                f.postal_code.as_deref(),
                f.address.as_deref(),
                &f.name,
                form.form_code,
            )?,
            None => cover::draw_blank_addressee(&mut cover)?,
        }
        control_no(&mut cover, &control)?;
        frame::draw_codes(&mut cover, &code(1)?);
        doc.push_page(cover);

        for (i, template) in self.questions.iter().enumerate() {
            let number = i + 2;
            let mut page = Page::over(Arc::clone(template));
            if let Some(f) = facility {
                let mut id = f.name.trim().to_owned();
                if !f.code.trim().is_empty() {
                    id.push_str(&format!("（{}）", f.code.trim()));
                }
                let fitted = fit_line(&id, 9.5, 6.0, frame::HEADER_NAME_RIGHT - frame::HEADER_LEFT);
                El::Text {
                    x: frame::HEADER_LEFT,
                    y: frame::HEADER_ID_Y,
                    size: fitted.size,
                    gray: 0.0,
                    text: fitted.text,
                }
                .draw(&mut page)?;
                for (_, slot) in self.prefills.iter().filter(|(p, _)| *p == i + 1) {
                    if let Some(value) = f.prefill(slot.prefill) {
                        let r = slot.rect;
                        let fitted = fit_line(&value, 10.0, 6.0, r.width - mm(4.0));
                        El::Text {
                            x: r.x + mm(2.0),
                            y: r.y + (r.height - fitted.size) / 2.0,
                            size: fitted.size,
                            gray: 0.0,
                            text: fitted.text,
                        }
                        .draw(&mut page)?;
                    }
                }
            }
            control_no(&mut page, &control)?;
            frame::draw_codes(&mut page, &code(number as u32)?);
            doc.push_page(page);
        }
        Ok(doc)
    }
}

/// The 管理No, right-aligned under the top-right page code.
fn control_no(page: &mut Page, text: &str) -> Result<(), FormError> {
    let size = 9.5;
    let right = A4_WIDTH - frame::CODE_SIDE_INSET;
    let f = fit_line(text, size, 6.0, right - frame::HEADER_NAME_RIGHT - mm(3.0));
    El::Text {
        x: right - f.width,
        y: frame::HEADER_ID_Y,
        size: f.size,
        gray: 0.0,
        text: f.text,
    }
    .draw(page)?;
    Ok(())
}

/// 「返信先FAX 0120-…」 in the header of a question page.
fn header_fax(page: &mut Page, c: &Campaign) -> Result<(), FormError> {
    let label = "返信先FAX";
    let lw = width(label, 9.0);
    let number = fit_line(
        &c.return_fax,
        14.0,
        9.0,
        frame::HEADER_TEXT_RIGHT - frame::HEADER_LEFT - lw - mm(3.0),
    );
    let y = frame::HEADER_FAX_Y;
    El::Text {
        x: frame::HEADER_LEFT,
        y: y + (number.size - 9.0) * 0.88,
        size: 9.0,
        gray: 0.0,
        text: label.into(),
    }
    .draw(page)?;
    El::Text {
        x: frame::HEADER_LEFT + lw + mm(2.0),
        y,
        size: number.size,
        gray: 0.0,
        text: number.text,
    }
    .draw(page)?;
    Ok(())
}

/// 「返信先FAX 0120-…」 in the footer, right-aligned.
fn footer_fax(page: &mut Page, c: &Campaign) -> Result<(), FormError> {
    let f = fit_line(
        &format!("返信先FAX {}", c.return_fax.trim()),
        9.5,
        7.0,
        mm(70.0),
    );
    El::Text {
        x: frame::FOOTER_RIGHT - f.width,
        y: frame::FOOTER_Y + 1.0,
        size: f.size,
        gray: 0.0,
        text: f.text,
    }
    .draw(page)?;
    Ok(())
}

/// Page number and FAX in the footer of the cover.
fn footer(page: &mut Page, number: usize, total: usize, c: &Campaign) -> Result<(), FormError> {
    let n = format!("{number}/{total}");
    let w = width(&n, 11.0);
    El::Text {
        x: mm(105.0) - w / 2.0,
        y: frame::FOOTER_Y,
        size: 11.0,
        gray: 0.0,
        text: n,
    }
    .draw(page)?;
    footer_fax(page, c)
}
