//! The generator: determinism, bounds, truth that matches the answers and the ink, page codes
//! that read where the layout says, unidentifiable pages that do not, and real (Ghostscript)
//! form pages as the base.

mod common;

use std::collections::BTreeSet;

use capsurvey_faxsim::{
    Answers, Base, Degradation, Expected, FormPage, Habits, Identity, PageTruth, Profile, Rng,
    Style, TiffCompression, Unidentifiable, random_answers, simulate_form_page,
    simulate_form_page_with, simulate_reply, simulate_reply_pages, simulate_unidentifiable,
    write_tiff,
};
use capsurvey_layout::{BoxKind, PageKind};
use capsurvey_scan::PageImage;
use capsurvey_survey::{Survey, Value};
use common::{code, dental, ink_in, read_code};

fn affine(t: &PageTruth) -> capsurvey_faxsim::Affine {
    let [a, b, c, d, e, f] = t.page_to_pixel;
    capsurvey_faxsim::Affine { a, b, c, d, e, f }
}

#[test]
fn same_seed_same_bytes() {
    let (survey, layout) = dental();
    let answers = random_answers(&survey, 3);
    assert_eq!(answers, random_answers(&survey, 3));
    let a = simulate_reply(&layout, &survey, code, &answers, Profile::FaxStandard, 99);
    let b = simulate_reply(&layout, &survey, code, &answers, Profile::FaxStandard, 99);
    assert_eq!(a.len(), b.len());
    for ((ia, ta), (ib, tb)) in a.iter().zip(&b) {
        assert!(ia.pixels == ib.pixels, "pixels differ");
        assert_eq!(ta.to_json(), tb.to_json());
    }
    let file = |pages: &[(PageImage, PageTruth)]| {
        write_tiff(
            &pages.iter().map(|(i, _)| i.into()).collect::<Vec<_>>(),
            TiffCompression::G4,
        )
    };
    assert_eq!(file(&a), file(&b));
    let c = simulate_reply(&layout, &survey, code, &answers, Profile::FaxStandard, 100);
    assert_ne!(file(&a), file(&c));
    // Truth survives a JSON round trip.
    let back = PageTruth::from_json(&a[0].1.to_json()).unwrap();
    assert_eq!(back, a[0].1);
}

#[test]
fn degradations_stay_within_bounds() {
    let a4 = capsurvey_layout::A4;
    for profile in Profile::ALL {
        let (w, h) = profile.size_px(a4);
        let mut rng = Rng::new(profile as u64);
        let mut upside = 0;
        let n = 3000;
        for _ in 0..n {
            let d = Degradation::sample(profile, a4, &mut rng);
            assert!(d.rotation_deg.abs() <= 3.0, "{d:?}");
            assert!(
                (0.98..=1.02).contains(&d.scale_x) && (0.98..=1.02).contains(&d.scale_y),
                "{d:?}"
            );
            assert!(
                d.shift_x_mm.abs() <= 5.0 && d.shift_y_mm.abs() <= 5.0,
                "{d:?}"
            );
            assert!((0.0..=1.0).contains(&d.blur));
            let e = d.edge_loss;
            assert!(
                [e.top, e.bottom, e.left, e.right]
                    .iter()
                    .all(|v| (0.0..=5.0).contains(v))
            );
            for s in d.vertical_streaks.iter() {
                assert!(s.at < w && s.width >= 1 && s.width <= 4);
            }
            for s in d.horizontal_streaks.iter() {
                assert!(s.at < h && s.width >= 1 && s.width <= 6);
            }
            if profile.is_fax() {
                assert!((0.005..=0.02).contains(&d.noise), "{}", d.noise);
                assert!(d.threshold.is_some_and(|t| (105..=150).contains(&t)));
            } else {
                assert!(d.noise <= 0.002 && d.threshold.is_none());
                assert!((232..=250).contains(&d.paper));
            }
            upside += usize::from(d.upside_down);
        }
        let rate = upside as f64 / n as f64;
        assert!(
            (0.02..0.12).contains(&rate),
            "{profile:?}: upside down {rate}"
        );
    }
}

#[test]
fn output_formats_follow_the_profile() {
    let page = |p| simulate_unidentifiable(Unidentifiable::Blank, p, 1).image;
    let fax = page(Profile::FaxStandard);
    assert_eq!(
        (fax.width, fax.height, fax.dpi_x, fax.dpi_y),
        (1728, 1146, 204.0, 98.0)
    );
    assert!(fax.bilevel && fax.pixels.iter().all(|&p| p == 0 || p == 255));
    let fine = page(Profile::FaxFine);
    assert_eq!((fine.width, fine.height), (1728, 2292));
    let scan = page(Profile::Scan300Grey);
    assert_eq!((scan.width, scan.height, scan.bilevel), (2480, 3508, false));
    let colour = simulate_unidentifiable(Unidentifiable::Foreign, Profile::Scan200Color, 1);
    let rgb = colour.rgb.expect("colour pages keep their colour");
    assert_eq!(
        (rgb.width, rgb.height, rgb.pixels.len()),
        (1654, 2339, 1654 * 2339 * 3)
    );
    assert!(colour.truth.output.color);
}

/// The characters a number should show in its digit boxes, left to right, blanks dropped.
fn written(value: &Value, decimals: usize) -> String {
    match value {
        Value::Int(n) => n.to_string(),
        Value::Decimal(x) => format!("{:.*}", decimals, x).replace('.', ""),
        Value::Unknown => "-".into(),
        _ => String::new(),
    }
}

fn check_truth(
    survey: &Survey,
    layout: &capsurvey_layout::Layout,
    answers: &Answers,
    t: &PageTruth,
) {
    let number = t.layout_page.expect("form pages name their layout page");
    let page = layout.page(number).unwrap();
    assert_eq!(
        t.identity,
        Identity::Form {
            code: code(number).into()
        }
    );
    assert_eq!(t.boxes.len(), page.boxes.len());
    for (bt, b) in t.boxes.iter().zip(&page.boxes) {
        assert_eq!(
            (&bt.key, &bt.option, bt.digit, bt.kind),
            (&b.key, &b.option, b.digit, b.kind)
        );
    }
    let keys: BTreeSet<&str> = page.boxes.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(
        t.fields
            .iter()
            .map(|f| f.key.as_str())
            .collect::<BTreeSet<_>>(),
        keys
    );
    for f in &t.fields {
        assert_eq!(f.value.as_ref(), answers.get(&f.key), "{}", f.key);
        let boxes: Vec<_> = t.boxes.iter().filter(|b| b.key == f.key).collect();
        match boxes[0].kind {
            BoxKind::Choice => {
                let marked: BTreeSet<String> = boxes
                    .iter()
                    .filter(|b| b.expected == Expected::Marked)
                    .map(|b| b.option.clone().unwrap())
                    .collect();
                let want: BTreeSet<String> = match &f.value {
                    Some(Value::Choice(c)) => [c.clone()].into(),
                    Some(Value::Choices(cs)) => cs.iter().cloned().collect(),
                    Some(Value::Bool(b)) => [if *b { "yes" } else { "no" }.to_string()].into(),
                    _ => BTreeSet::new(),
                };
                assert_eq!(marked, want, "{}", f.key);
                for b in &boxes {
                    let cancelled = b.expected == Expected::Cancelled;
                    assert_eq!(cancelled, b.style == Style::Cancelled);
                    if cancelled {
                        assert!(!want.is_empty(), "{}: a cancel needs a final answer", f.key);
                    }
                }
            }
            BoxKind::Digit => {
                let mut cells: Vec<_> = boxes.clone();
                cells.sort_by_key(|b| b.digit);
                let shown: String = cells.iter().filter_map(|b| b.written.clone()).collect();
                let decimals = survey
                    .question(f.key.split('.').next().unwrap())
                    .and_then(|q| {
                        (q.kind == capsurvey_survey::QuestionKind::Decimal)
                            .then(|| q.decimals.unwrap_or(1))
                    })
                    .unwrap_or(0) as usize;
                let want = f
                    .value
                    .as_ref()
                    .map(|v| written(v, decimals))
                    .unwrap_or_default();
                assert_eq!(shown, want, "{}", f.key);
            }
            BoxKind::Text | BoxKind::Area => {
                for b in &boxes {
                    assert_eq!(
                        b.expected == Expected::Marked,
                        matches!(f.value, Some(Value::Text(_))),
                        "{}",
                        f.key
                    );
                }
            }
        }
    }
}

#[test]
fn truth_matches_the_answers() {
    let (survey, layout) = dental();
    let mut styles = BTreeSet::new();
    for seed in 0..5u64 {
        let answers = random_answers(&survey, seed);
        let profile =
            [Profile::FaxStandard, Profile::FaxFine, Profile::Scan200Grey][seed as usize % 3];
        let pages = simulate_reply(&layout, &survey, code, &answers, profile, seed);
        let questions = layout
            .pages
            .iter()
            .filter(|p| p.kind == PageKind::Questions)
            .count();
        assert!(pages.len() >= questions);
        for (i, (img, t)) in pages.iter().enumerate() {
            assert_eq!(t.page_index, i as u32);
            assert_eq!((img.width, img.height), (t.output.width, t.output.height));
            let deg = Degradation::page_to_pixel(&t.degradation, layout.page_size);
            assert_eq!(deg.to_array(), t.page_to_pixel);
            assert_eq!(t.upside_down, t.degradation.upside_down);
            check_truth(&survey, &layout, &answers, t);
            styles.extend(t.boxes.iter().map(|b| b.style));
        }
    }
    for s in [Style::Empty, Style::Digit] {
        assert!(styles.contains(&s), "{s:?} never drawn: {styles:?}");
    }
}

#[test]
fn ink_is_where_the_truth_says() {
    let (survey, layout) = dental();
    let mut seen = BTreeSet::new();
    let mut rng = Rng::new(8);
    for seed in 0..8u64 {
        let answers = random_answers(&survey, seed + 50);
        let mut habits = Habits::random(&mut rng);
        // Every session style at least once, with a pen a 128 threshold sees.
        habits.style_weights = [
            [1.0, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 0.0, 1.0],
        ][seed as usize % 4];
        habits.cancel_rate = 0.3;
        habits.stray_rate = 0.1;
        if seed == 7 {
            habits.pen = capsurvey_faxsim::Pen::Pencil(150);
        } else if matches!(habits.pen, capsurvey_faxsim::Pen::Pencil(_)) {
            habits.pen = capsurvey_faxsim::Pen::Black;
        }
        let number = 3 + (seed as u32 % 3);
        let form = FormPage {
            layout: &layout,
            page: number,
            code: code(number),
            base: Base::Render,
            damage_code: false,
        };
        let mut deg = Degradation::none(Profile::Scan200Grey);
        deg.rotation_deg = 1.5;
        let p = simulate_form_page_with(&form, &survey, &answers, &habits, &deg, seed).unwrap();
        let to_px = affine(&p.truth);
        let page = layout.page(number).unwrap();
        for (bt, b) in p.truth.boxes.iter().zip(&page.boxes) {
            if bt.kind == BoxKind::Area || bt.kind == BoxKind::Text {
                continue;
            }
            seen.insert(bt.style);
            let inside = |thr: u8| ink_in(&p.image, &to_px, &b.rect, 2.0, thr);
            // Pencil sessions write everything light.
            let pen = if seed == 7 { 230 } else { 128 };
            match bt.style {
                Style::Tick | Style::Cross | Style::Digit => {
                    assert!(inside(pen) > 0.02, "{bt:?}: {}", inside(pen))
                }
                Style::Fill => assert!(inside(pen) > 0.3, "{bt:?}"),
                Style::Cancelled => assert!(inside(pen) > 0.85, "{bt:?}: {}", inside(pen)),
                Style::Pencil => assert!(inside(230) > 0.02, "{bt:?}"),
                // A loop around the label may cut through its box: only empty boxes are empty.
                Style::Empty => assert!(inside(230) < 0.005, "{bt:?}: {}", inside(230)),
                _ => {}
            }
        }
    }
    for s in [
        Style::Tick,
        Style::Cross,
        Style::Fill,
        Style::Circle,
        Style::Cancelled,
        Style::Pencil,
        Style::Digit,
    ] {
        assert!(seen.contains(&s), "{s:?} not exercised: {seen:?}");
    }
}

#[test]
fn page_codes_read_where_the_layout_puts_them() {
    let (survey, layout) = dental();
    let answers = random_answers(&survey, 1);
    let mut read = 0;
    let mut total = 0;
    for profile in [Profile::FaxStandard, Profile::FaxFine, Profile::Scan300Grey] {
        for seed in 0..5u64 {
            let habits = Habits::random(&mut Rng::new(seed));
            for number in [2, 4] {
                let form = FormPage {
                    layout: &layout,
                    page: number,
                    code: code(number),
                    base: Base::Render,
                    damage_code: false,
                };
                let p = simulate_form_page(
                    &form,
                    &survey,
                    &answers,
                    &habits,
                    profile,
                    seed * 7 + u64::from(number),
                )
                .unwrap();
                let to_px = affine(&p.truth);
                let page = layout.page(number).unwrap();
                let copies: Vec<_> = page
                    .page_codes
                    .iter()
                    .map(|a| read_code(&p.image, &to_px, a))
                    .collect();
                total += 1;
                if copies
                    .iter()
                    .any(|c| c.as_ref().ok() == Some(&(code(number), false)))
                {
                    read += 1;
                }
                // No copy ever misreads as another code.
                for c in copies.iter().flatten() {
                    assert_eq!(c.0, code(number));
                }
            }
        }
    }
    assert!(read * 10 >= total * 9, "{read} of {total} pages read");
}

#[test]
fn an_upside_down_page_puts_the_turned_second_copy_where_the_first_is_expected() {
    let (survey, layout) = dental();
    let answers = random_answers(&survey, 2);
    let habits = Habits::random(&mut Rng::new(2));
    let form = FormPage {
        layout: &layout,
        page: 2,
        code: code(2),
        base: Base::Render,
        damage_code: false,
    };
    let mut deg = Degradation::none(Profile::FaxFine);
    deg.upside_down = true;
    let p = simulate_form_page_with(&form, &survey, &answers, &habits, &deg, 5).unwrap();
    assert!(p.truth.upside_down);
    let mut upright = deg.clone();
    upright.upside_down = false;
    let naive = upright.page_to_pixel(layout.page_size);
    let first = layout.page(2).unwrap().page_codes[0];
    assert_eq!(
        read_code(&p.image, &naive, &first).unwrap(),
        (code(2), true)
    );
}

#[test]
fn unidentifiable_pages_do_not_read() {
    let (survey, layout) = dental();
    let answers = random_answers(&survey, 4);
    let habits = Habits::random(&mut Rng::new(4));
    let page = layout.page(3).unwrap();
    for seed in 0..6u64 {
        let form = FormPage {
            layout: &layout,
            page: 3,
            code: code(3),
            base: Base::Render,
            damage_code: true,
        };
        let profile = if seed % 2 == 0 {
            Profile::FaxStandard
        } else {
            Profile::Scan200Grey
        };
        for p in [
            simulate_form_page(&form, &survey, &answers, &habits, profile, seed).unwrap(),
            simulate_form_page_with(
                &form,
                &survey,
                &answers,
                &habits,
                &Degradation::none(Profile::Scan300Grey),
                seed,
            )
            .unwrap(),
        ] {
            assert_eq!(
                p.truth.identity,
                Identity::DamagedCode {
                    code: code(3).into()
                }
            );
            let to_px = affine(&p.truth);
            for area in &page.page_codes {
                assert!(
                    read_code(&p.image, &to_px, area).is_err(),
                    "seed {seed}: a smudged code read"
                );
            }
        }
        for kind in [Unidentifiable::Blank, Unidentifiable::Foreign] {
            let p = simulate_unidentifiable(kind, profile, seed);
            assert!(p.truth.boxes.is_empty() && p.truth.identity.readable_code().is_none());
            let to_px = affine(&p.truth);
            for area in &page.page_codes {
                assert!(read_code(&p.image, &to_px, area).is_err());
            }
            let ink = p.image.pixels.iter().filter(|&&v| v < 128).count() as f64
                / p.image.pixels.len() as f64;
            match kind {
                // Blank: only noise and dust (the fax noise is at most 2 %).
                Unidentifiable::Blank => assert!(ink < 0.025, "{ink}"),
                Unidentifiable::Foreign => assert!(ink > 0.01, "{ink}"),
            }
        }
    }
}

#[test]
fn random_answers_are_valid_and_varied() {
    let surveys = [
        include_str!("../../../surveys/dental.toml"),
        include_str!("../../../surveys/homecare-clinic.toml"),
        include_str!("../../../surveys/visiting-nurse.toml"),
    ];
    for text in surveys {
        let survey = capsurvey_survey::parse_survey("s.toml", text)
            .unwrap()
            .survey;
        let fields = survey.fields();
        let (mut unknown, mut missing, mut total) = (0, 0, 0);
        for seed in 0..200 {
            let answers = random_answers(&survey, seed);
            for (key, value) in &answers.0 {
                let field = fields
                    .iter()
                    .find(|f| &f.key() == key)
                    .unwrap_or_else(|| panic!("unknown key {key}"));
                field
                    .check(value)
                    .unwrap_or_else(|e| panic!("{key} = {value:?}: {e}"));
                unknown += usize::from(*value == Value::Unknown);
                // A write-in only with its option chosen.
                if let Some(part) = field.part
                    && field.question.option(part).is_some()
                {
                    let chosen = match answers.get(&field.question.id) {
                        Some(Value::Choice(c)) => c == part,
                        Some(Value::Choices(cs)) => cs.iter().any(|c| c == part),
                        _ => false,
                    };
                    assert!(chosen, "{key} written without its option");
                }
            }
            total += fields.len();
            missing += fields
                .iter()
                .filter(|f| answers.get(&f.key()).is_none())
                .count();
        }
        assert!(unknown > 0, "{}: never 「−」", survey.id);
        assert!(
            missing > 0 && missing < total,
            "{}: {missing} of {total} missing",
            survey.id
        );
    }
}

#[test]
fn reply_pages_keep_colour() {
    let (survey, layout) = dental();
    let answers = random_answers(&survey, 6);
    let pages = simulate_reply_pages(&layout, &survey, code, &answers, Profile::Scan200Color, 6);
    let p = &pages[0];
    let rgb = p.rgb.as_ref().unwrap();
    // Blue pen or grey print: some pixels are clearly not grey unless the respondent used
    // black or pencil; the luma matches the grey image either way.
    let luma = |c: &[u8]| {
        ((u32::from(c[0]) * 77 + u32::from(c[1]) * 150 + u32::from(c[2]) * 29 + 128) >> 8) as u8
    };
    assert!(
        rgb.pixels
            .chunks_exact(3)
            .zip(&p.image.pixels)
            .all(|(c, &g)| luma(c) == g)
    );
}

/// Ghostscript renders the forms crate's real PDF; that raster is the base.
#[test]
fn a_ghostscript_raster_of_the_real_form_as_base() {
    use capsurvey_forms::campaign::Campaign;
    use capsurvey_forms::form::{Facility, FormInstance, FormKind, FormTemplate};

    let parsed =
        capsurvey_survey::parse_survey("dental.toml", include_str!("../../../surveys/dental.toml"))
            .unwrap();
    let campaign = Campaign::parse(
        "campaign.toml",
        include_str!("../../../fixtures/campaign.toml"),
    )
    .unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2024, 11, 8).unwrap();
    let template =
        FormTemplate::new(&parsed.survey, &parsed.content_hash, &campaign, date).unwrap();
    let facility = Facility {
        code: "1312345678".into(),
        name: "みどり中央歯科クリニック".into(),
        ..Default::default()
    };
    let c = code(3);
    let doc = template
        .render(&FormInstance {
            kind: FormKind::Initial,
            facility: Some(&facility),
            survey_version_id: c.survey_version_id,
            mailing_id: c.mailing_id,
            form_code: Some("D-004321"),
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("form.pdf");
    std::fs::write(&pdf, doc.to_pdf().unwrap()).unwrap();
    let png = dir.path().join("p3.png");
    let out = common::run(
        "gs",
        "ghostscript",
        &[
            "-q",
            "-dNOPAUSE",
            "-dBATCH",
            "-dSAFER",
            "-sDEVICE=pnggray",
            "-r200",
            "-dFirstPage=3",
            "-dLastPage=3",
            &format!("-sOutputFile={}", png.display()),
            pdf.to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "gs: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut raster = common::decode_path(&png).remove(0);
    raster.dpi_x = 200.0;
    raster.dpi_y = 200.0;
    let layout = template.layout();
    let answers = random_answers(&parsed.survey, 9);
    let mut habits = Habits::random(&mut Rng::new(9));
    habits.style_weights = [1.0, 0.0, 0.0, 0.0];
    habits.pen = capsurvey_faxsim::Pen::Black;
    let form = FormPage {
        layout,
        page: 3,
        code: c,
        base: Base::Raster(&raster),
        damage_code: false,
    };
    let page = layout.page(3).unwrap();
    for profile in [Profile::FaxStandard, Profile::FaxFine, Profile::Scan300Grey] {
        let p = simulate_form_page(&form, &parsed.survey, &answers, &habits, profile, 17).unwrap();
        let to_px = affine(&p.truth);
        let readable = page
            .page_codes
            .iter()
            .filter(|a| read_code(&p.image, &to_px, a).is_ok_and(|r| r.0 == c))
            .count();
        assert!(readable >= 1, "{profile:?}: the printed code does not read");
        // The printed boxes are where the layout says: their borders are dark.
        let clean = simulate_form_page_with(
            &form,
            &parsed.survey,
            &answers,
            &habits,
            &Degradation::none(profile),
            17,
        )
        .unwrap();
        let to_px = affine(&clean.truth);
        for b in page.boxes.iter().filter(|b| b.kind == BoxKind::Choice) {
            let (x, y) = (b.rect.x + b.rect.w / 2.0, b.rect.y);
            let (px, py) = to_px.apply(x, y);
            let darkest = (-1..=1)
                .filter_map(|d| clean.image.get(px as u32, (py as i64 + d) as u32))
                .min()
                .unwrap();
            assert!(
                darkest < 128,
                "{profile:?}: no border at the top of {} ({darkest})",
                b.key
            );
        }
        for (bt, b) in clean.truth.boxes.iter().zip(&page.boxes) {
            if bt.style == Style::Tick {
                assert!(
                    ink_in(&clean.image, &to_px, &b.rect, 2.0, 128) > 0.02,
                    "{bt:?}"
                );
            }
        }
    }
}
