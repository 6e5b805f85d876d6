//! A day's inbox of replies, as a survey office receives them: one TIFF per fax (standard
//! resolution G4, fine resolution G3 2-D as fax servers store it), a scanner's batch PDF of the
//! replies that came by post, a covering letter faxed with one reply, a page whose code was
//! smudged, and now and then a page fed upside down. Used by `capsurvey demo`.

use std::path::{Path, PathBuf};

use capsurvey_layout::{Layout, PageCode, PageKind};
use capsurvey_survey::Survey;

use crate::ccitt::G3Options;
use crate::{
    Base, Degradation, FormPage, Habits, PageTruth, Profile, Rng, SimulatedPage, TiffCompression,
    Unidentifiable, random_answers, simulate_form_page_with, simulate_unidentifiable, write_pdf,
    write_tiff,
};

/// How a reply arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    /// Fax at standard resolution (204 × 98 dpi), stored as G4 TIFF.
    FaxStandard,
    /// Fax at fine resolution (204 × 196 dpi), stored as G3 2-D TIFF.
    FaxFine,
    /// By post, scanned at 200 dpi grey into the day's batch PDF.
    Scan,
}

/// One facility's reply to simulate.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// The survey definition.
    pub survey: &'a Survey,
    /// Its layout.
    pub layout: &'a Layout,
    /// Stored survey version id (in the page code).
    pub survey_version_id: u32,
    /// Mailing id (in the page code).
    pub mailing_id: u32,
    /// How it comes back.
    pub channel: Channel,
    /// Seed of the respondent's answers and handwriting.
    pub seed: u64,
}

/// What was written.
#[derive(Debug, Default)]
pub struct Inbox {
    /// The files, in the order they arrived.
    pub files: Vec<PathBuf>,
    /// Pages written, all files together.
    pub pages: usize,
    /// Pages fed upside down.
    pub upside_down: usize,
    /// Pages that cannot be identified (the covering letter, the smudged code).
    pub unidentifiable: usize,
    /// The truth of every page, with its file.
    pub truth: Vec<PageTruth>,
}

fn pages_of(reply: &Reply<'_>, profile: Profile, damage_page: Option<u32>) -> Vec<SimulatedPage> {
    let answers = random_answers(reply.survey, reply.seed);
    let rng = Rng::new(reply.seed);
    let habits = Habits::random(&mut rng.fork("habits"));
    let mut out = Vec::new();
    for page in &reply.layout.pages {
        if page.kind != PageKind::Questions {
            continue;
        }
        let code = PageCode {
            survey_version_id: reply.survey_version_id,
            mailing_id: reply.mailing_id,
            page: page.number,
        };
        let form = FormPage {
            layout: reply.layout,
            page: page.number,
            code,
            base: Base::Render,
            damage_code: damage_page == Some(page.number),
        };
        let seed = rng.fork_n("page", u64::from(page.number)).next_u64();
        let deg = Degradation::sample(
            profile,
            reply.layout.page_size,
            &mut Rng::new(seed).fork("degrade"),
        );
        let mut p = simulate_form_page_with(&form, reply.survey, &answers, &habits, &deg, seed)
            .unwrap_or_else(|e| panic!("page {}: {e}", page.number));
        p.truth.page_index = out.len() as u32;
        out.push(p);
    }
    out
}

/// Writes the replies into `dir`: `fax-NNNN.tif` per fax in reply order, then `scan-batch.pdf`
/// with every scanned reply. The first fax gets a covering letter in front; the last fax has its
/// first page's code smudged beyond reading.
pub fn write_inbox(dir: &Path, replies: &[Reply<'_>]) -> std::io::Result<Inbox> {
    std::fs::create_dir_all(dir)?;
    let mut inbox = Inbox::default();
    let faxes: Vec<&Reply<'_>> = replies
        .iter()
        .filter(|r| r.channel != Channel::Scan)
        .collect();
    let record = |inbox: &mut Inbox, path: &Path, pages: &mut [SimulatedPage]| {
        for (i, p) in pages.iter_mut().enumerate() {
            p.truth.file = Some(path.display().to_string());
            p.truth.page_index = i as u32;
            inbox.upside_down += usize::from(p.truth.upside_down);
            inbox.truth.push(p.truth.clone());
        }
        inbox.pages += pages.len();
    };
    for (n, reply) in faxes.iter().enumerate() {
        let profile = match reply.channel {
            Channel::FaxFine => Profile::FaxFine,
            _ => Profile::FaxStandard,
        };
        let damage = (n + 1 == faxes.len() && n > 0).then(|| {
            reply
                .layout
                .pages
                .iter()
                .find(|p| p.kind == PageKind::Questions)
                .map_or(1, |p| p.number)
        });
        let mut pages = pages_of(reply, profile, damage);
        if damage.is_some() {
            inbox.unidentifiable += 1;
        }
        if n == 0 {
            // People fax a covering note with their reply.
            let note = simulate_unidentifiable(Unidentifiable::Foreign, profile, reply.seed);
            pages.insert(0, note);
            inbox.unidentifiable += 1;
        }
        if n == 1
            && let Some(p) = pages.last_mut()
        {
            // And feed a page the wrong way up now and then: one for sure.
            let mut deg = p.truth.degradation.clone();
            deg.upside_down = true;
            let answers = random_answers(reply.survey, reply.seed);
            let habits = Habits::random(&mut Rng::new(reply.seed).fork("habits"));
            let page = p.truth.layout_page.unwrap_or(1);
            let form = FormPage {
                layout: reply.layout,
                page,
                code: PageCode {
                    survey_version_id: reply.survey_version_id,
                    mailing_id: reply.mailing_id,
                    page,
                },
                base: Base::Render,
                damage_code: false,
            };
            *p =
                simulate_form_page_with(&form, reply.survey, &answers, &habits, &deg, p.truth.seed)
                    .expect("the same page again");
        }
        let compression = match reply.channel {
            Channel::FaxFine => TiffCompression::G3(G3Options::two_d(4)),
            _ => TiffCompression::G4,
        };
        let path = dir.join(format!("fax-{:04}.tif", n + 1));
        let pictures: Vec<_> = pages.iter().map(SimulatedPage::picture).collect();
        std::fs::write(&path, write_tiff(&pictures, compression))?;
        record(&mut inbox, &path, &mut pages);
        inbox.files.push(path);
    }
    let mut scanned: Vec<SimulatedPage> = replies
        .iter()
        .filter(|r| r.channel == Channel::Scan)
        .flat_map(|r| pages_of(r, Profile::Scan200Grey, None))
        .collect();
    if !scanned.is_empty() {
        let path = dir.join("scan-batch.pdf");
        let pictures: Vec<_> = scanned.iter().map(SimulatedPage::picture).collect();
        std::fs::write(&path, write_pdf(&pictures))?;
        record(&mut inbox, &path, &mut scanned);
        inbox.files.push(path);
    }
    Ok(inbox)
}
