//! The generator: form page (drawn or given) + answers + machine = image and truth.

use capsurvey_layout::{Layout, PageCode, PageCodeError, PageKind, PageLayout, Size, mm, pagecode};
use capsurvey_scan::PageImage;
use capsurvey_survey::Survey;

use crate::answers::Answers;
use crate::base::{CodeInk, foreign_scene, form_scene};
use crate::canvas::{Affine, Canvas, Ink, Scene, Shape};
use crate::degrade::{Degradation, Profile};
use crate::fill::{Habits, fill_page, hatch};
use crate::rng::Rng;
use crate::truth::{Identity, OutputTruth, PageTruth};
use crate::write::{Picture, RgbImage};

/// Why a page could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// The layout has no page with this number.
    #[error("the layout has no page {0}")]
    NoSuchPage(u32),
    /// The page code does not fit its bits.
    #[error(transparent)]
    PageCode(#[from] PageCodeError),
}

/// Where the printed form comes from.
#[derive(Debug, Clone, Copy)]
pub enum Base<'a> {
    /// Drawn from the layout alone (marks, codes, boxes, text-like ink), in pure Rust.
    Render,
    /// A rasterised real form page (for example Ghostscript output of the forms crate's PDF),
    /// grey, its top-left pixel at the page's top-left corner, at the resolution it states.
    /// Its page code is whatever was printed: the truth records the code given with it.
    Raster(&'a PageImage),
}

/// One page of a form to simulate.
#[derive(Debug, Clone, Copy)]
pub struct FormPage<'a> {
    /// The survey version's layout.
    pub layout: &'a Layout,
    /// The layout page number (1-based).
    pub page: u32,
    /// The page code printed on it.
    pub code: PageCode,
    /// The printed form.
    pub base: Base<'a>,
    /// Smudge both copies of the page code beyond reading (an unidentifiable page).
    pub damage_code: bool,
}

/// A generated page: the image as recognition would get it from the file, the colour image for
/// colour profiles, and the truth.
#[derive(Debug, Clone)]
pub struct SimulatedPage {
    /// Grey (or 1-bit) pixels, as the scan crate decodes them.
    pub image: PageImage,
    /// The colour pixels (colour profiles only).
    pub rgb: Option<RgbImage>,
    /// What is on the page.
    pub truth: PageTruth,
}

impl SimulatedPage {
    /// The page for the writers: colour when there is colour.
    pub fn picture(&self) -> Picture<'_> {
        match &self.rgb {
            Some(rgb) => Picture::Rgb(rgb),
            None => Picture::Grey(&self.image),
        }
    }
}

enum BaseSource<'a> {
    Scene(&'a Scene),
    Raster(&'a PageImage),
    Nothing,
}

/// Draws the base and the scenes through the degradation into the output image.
fn render(
    size: Size,
    base: BaseSource<'_>,
    scenes: &[&Scene],
    deg: &Degradation,
    rng: &Rng,
) -> (PageImage, Option<RgbImage>, Affine) {
    let profile = deg.profile;
    let (w, h) = profile.size_px(size);
    let to_px = deg.page_to_pixel(size);
    let channels = if profile.is_color() { 3 } else { 1 };
    let mut canvas = Canvas::new(w as usize, h as usize, channels, to_px);
    let (dpi_x, dpi_y) = profile.dpi();
    if profile.is_fax() && dpi_y < 150.0 {
        // At standard resolution a fax machine reads two fine-mode sensor rows (1/196 in) per
        // line and sends their OR, so thin horizontal lines survive (a little heavier) instead
        // of fading to grey or vanishing between lines.
        canvas.set_sensor(0.5, 0.25);
    }
    match base {
        BaseSource::Scene(s) => canvas.paint_scene(s),
        BaseSource::Raster(img) => canvas.fill_from(
            img,
            &Affine::scale(f64::from(img.dpi_x) / 72.0, f64::from(img.dpi_y) / 72.0),
        ),
        BaseSource::Nothing => {}
    }
    for s in scenes {
        canvas.paint_scene(s);
    }
    let dust = deg.dust_scene(size, &mut rng.fork("dust"));
    canvas.paint_scene(&dust);
    let (grey, rgb) = deg.finish(&mut canvas, size, &mut rng.fork("finish"));
    let image = PageImage {
        width: w,
        height: h,
        dpi_x,
        dpi_y,
        pixels: grey,
        bilevel: deg.threshold.is_some(),
        dpi_assumed: false,
    };
    let rgb = rgb.map(|pixels| RgbImage {
        width: w,
        height: h,
        dpi_x,
        dpi_y,
        pixels,
    });
    (image, rgb, to_px)
}

fn output_truth(image: &PageImage, color: bool) -> OutputTruth {
    OutputTruth {
        width: image.width,
        height: image.height,
        dpi_x: image.dpi_x,
        dpi_y: image.dpi_y,
        bilevel: image.bilevel,
        color,
    }
}

/// Simulates one filled form page through a random degradation of `profile`.
pub fn simulate_form_page(
    form: &FormPage<'_>,
    survey: &Survey,
    answers: &Answers,
    habits: &Habits,
    profile: Profile,
    seed: u64,
) -> Result<SimulatedPage, SimError> {
    let deg = Degradation::sample(
        profile,
        form.layout.page_size,
        &mut Rng::new(seed).fork("degrade"),
    );
    simulate_form_page_with(form, survey, answers, habits, &deg, seed)
}

/// Simulates one filled form page through the given degradation (use
/// [`Degradation::none`] for a clean page).
pub fn simulate_form_page_with(
    form: &FormPage<'_>,
    survey: &Survey,
    answers: &Answers,
    habits: &Habits,
    degradation: &Degradation,
    seed: u64,
) -> Result<SimulatedPage, SimError> {
    let layout = form.layout;
    let page = layout
        .page(form.page)
        .ok_or(SimError::NoSuchPage(form.page))?;
    let modules = form.code.modules()?;
    let rng = Rng::new(seed);
    let base_scene;
    let base = match form.base {
        Base::Render => {
            base_scene = form_scene(
                layout,
                page,
                CodeInk::Modules(&modules),
                Some(survey),
                &mut rng.fork("base"),
            );
            BaseSource::Scene(&base_scene)
        }
        Base::Raster(img) => BaseSource::Raster(img),
    };
    let (marks, boxes, fields) = fill_page(page, survey, answers, habits, &mut rng.fork("marks"));
    let smudge = if form.damage_code {
        smudge_codes(page, &modules, &mut rng.fork("smudge"))
    } else {
        Scene::default()
    };
    let (image, rgb, to_px) = render(
        layout.page_size,
        base,
        &[&marks, &smudge],
        degradation,
        &rng,
    );
    let identity = if form.damage_code {
        Identity::DamagedCode {
            code: form.code.into(),
        }
    } else {
        Identity::Form {
            code: form.code.into(),
        }
    };
    let truth = PageTruth {
        file: None,
        page_index: 0,
        identity,
        layout_page: Some(form.page),
        upside_down: degradation.upside_down,
        degradation: degradation.clone(),
        page_to_pixel: to_px.to_array(),
        output: output_truth(&image, rgb.is_some()),
        habits: Some(habits.clone()),
        boxes,
        fields,
        seed,
    };
    Ok(SimulatedPage { image, rgb, truth })
}

/// Pages that are not (readable) form pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unidentifiable {
    /// An empty sheet (a blank back side, a test page).
    Blank,
    /// Another document: a cover note or letter with text and perhaps a table, no marks.
    Foreign,
}

/// Simulates a blank or foreign page through a random degradation of `profile`, on A4.
pub fn simulate_unidentifiable(kind: Unidentifiable, profile: Profile, seed: u64) -> SimulatedPage {
    let deg = Degradation::sample(
        profile,
        capsurvey_layout::A4,
        &mut Rng::new(seed).fork("degrade"),
    );
    simulate_unidentifiable_with(kind, &deg, seed)
}

/// Simulates a blank or foreign A4 page through the given degradation.
pub fn simulate_unidentifiable_with(
    kind: Unidentifiable,
    degradation: &Degradation,
    seed: u64,
) -> SimulatedPage {
    let size = capsurvey_layout::A4;
    let rng = Rng::new(seed);
    let deg = degradation.clone();
    let scene;
    let (base, identity) = match kind {
        Unidentifiable::Blank => (BaseSource::Nothing, Identity::Blank),
        Unidentifiable::Foreign => {
            scene = foreign_scene(size.width, size.height, &mut rng.fork("foreign"));
            (BaseSource::Scene(&scene), Identity::Foreign)
        }
    };
    let (image, rgb, to_px) = render(size, base, &[], &deg, &rng);
    let truth = PageTruth {
        file: None,
        page_index: 0,
        identity,
        layout_page: None,
        upside_down: deg.upside_down,
        degradation: deg,
        page_to_pixel: to_px.to_array(),
        output: output_truth(&image, rgb.is_some()),
        habits: None,
        boxes: Vec::new(),
        fields: Vec::new(),
        seed,
    };
    SimulatedPage { image, rgb, truth }
}

/// Ink or correction fluid over the same module region of both code copies, chosen so that
/// neither copy (read either way up) nor any module-by-module combination of the two decodes.
pub(crate) fn smudge_codes(
    page: &PageLayout,
    modules: &[bool; pagecode::BITS],
    rng: &mut Rng,
) -> Scene {
    let (cols, rows) = (pagecode::COLUMNS, pagecode::ROWS);
    let mut scene = Scene::default();
    for attempt in 0..64 {
        let cw = rng.int(4, 8) as usize + attempt / 8;
        let rh = rng.int(2, 4) as usize;
        let c0 = rng.below((cols - cw.min(cols) + 1) as u64) as usize;
        let r0 = rng.below((rows - rh + 1) as u64) as usize;
        let ink = rng.chance(0.6);
        let mut m = *modules;
        for r in r0..r0 + rh {
            for c in c0..(c0 + cw).min(cols) {
                m[r * cols + c] = ink;
            }
        }
        if PageCode::from_modules(&m).is_ok() {
            continue;
        }
        for area in &page.page_codes {
            let region = capsurvey_layout::Rect {
                x: area.x + c0 as f64 * area.module,
                y: area.y + r0 as f64 * area.module,
                w: (cw.min(cols - c0)) as f64 * area.module,
                h: rh as f64 * area.module,
            };
            if ink {
                // A thick marker scribble, solid over the region and a little beyond.
                let w = mm(1.2);
                let shapes = hatch(
                    &region.inflate(mm(0.4)),
                    rng.range(-40.0, 40.0),
                    w * 0.5,
                    w,
                    rng,
                );
                scene.push(shapes, Ink::grey(0.95));
            } else {
                let r = region.inflate(mm(0.3));
                scene.push(
                    vec![Shape::Rect {
                        x: r.x,
                        y: r.y,
                        w: r.w,
                        h: r.h,
                    }],
                    Ink::WHITE,
                );
                // The tape's edge casts a faint line.
                let mut edge = Vec::new();
                crate::base::frame(&mut edge, &r, 0.3);
                scene.push(edge, Ink::grey(0.35));
            }
        }
        return scene;
    }
    scene
}

/// Simulates a whole reply: every question page of the layout (and the cover letter now and
/// then, as people fax it back too), filled with `answers` by one respondent, through
/// `profile`. Returns each page's image and truth; `page_index` is the position in the reply.
pub fn simulate_reply(
    layout: &Layout,
    survey: &Survey,
    page_code_for_page: impl Fn(u32) -> PageCode,
    answers: &Answers,
    profile: Profile,
    seed: u64,
) -> Vec<(PageImage, PageTruth)> {
    simulate_reply_pages(layout, survey, page_code_for_page, answers, profile, seed)
        .into_iter()
        .map(|p| (p.image, p.truth))
        .collect()
}

/// [`simulate_reply`], keeping colour images.
pub fn simulate_reply_pages(
    layout: &Layout,
    survey: &Survey,
    page_code_for_page: impl Fn(u32) -> PageCode,
    answers: &Answers,
    profile: Profile,
    seed: u64,
) -> Vec<SimulatedPage> {
    let rng = Rng::new(seed);
    let habits = Habits::random(&mut rng.fork("habits"));
    let mut choose = rng.fork("pages");
    let mut out = Vec::new();
    for page in &layout.pages {
        let include = match page.kind {
            PageKind::Questions => true,
            PageKind::Cover => choose.chance(0.15),
            PageKind::Calibration => false,
        };
        if !include {
            continue;
        }
        let form = FormPage {
            layout,
            page: page.number,
            code: page_code_for_page(page.number),
            base: Base::Render,
            damage_code: false,
        };
        let page_seed = rng.fork_n("page", u64::from(page.number)).next_u64();
        // The page code comes from the caller; one that does not fit its bits is a caller bug.
        let mut p = simulate_form_page(&form, survey, answers, &habits, profile, page_seed)
            .unwrap_or_else(|e| panic!("page {}: {e}", page.number));
        p.truth.page_index = out.len() as u32;
        out.push(p);
    }
    out
}

/// The printed form page alone, upright and clean, as grey pixels at any resolution (what a
/// perfect scanner would see): registration marks, codes (if given), boxes and text-like ink.
pub fn render_form_page(
    layout: &Layout,
    page: u32,
    code: Option<PageCode>,
    survey: Option<&Survey>,
    dpi_x: f32,
    dpi_y: f32,
    seed: u64,
) -> Result<PageImage, SimError> {
    let p = layout.page(page).ok_or(SimError::NoSuchPage(page))?;
    let modules = code.map(|c| c.modules()).transpose()?;
    let ink = match &modules {
        Some(m) => CodeInk::Modules(m),
        None => CodeInk::None,
    };
    let scene = form_scene(layout, p, ink, survey, &mut Rng::new(seed).fork("base"));
    let size = layout.page_size;
    let (sx, sy) = (f64::from(dpi_x) / 72.0, f64::from(dpi_y) / 72.0);
    let (w, h) = (
        (size.width * sx).round() as usize,
        (size.height * sy).round() as usize,
    );
    let mut canvas = Canvas::new(w, h, 1, Affine::scale(sx, sy));
    canvas.paint_scene(&scene);
    Ok(PageImage::new(
        w as u32,
        h as u32,
        dpi_x,
        dpi_y,
        canvas.data,
    ))
}
