//! Recognition on synthetic pages: registration, page code, box and field decisions, crops.
//!
//! The pages are drawn by `synth` at fax standard (204×98), fax fine (204×196) and 300 dpi,
//! skewed, scaled, shifted, turned and degraded; the hand marks are ticks, crosses, squares,
//! fills (cancel), light pencil, circles around labels and stray dots. The one rule checked
//! everywhere: no box and no field is ever decided wrongly.

mod synth;

use std::collections::HashMap;

use capsurvey_layout::{BoxKind, PageCode, Rect};
use capsurvey_scan::{
    BoxState, FieldStatus, Identified, PageImage, UnidentifiedReason, crop, encode_png, identify,
    read_page,
};
use capsurvey_survey::Value;
use synth::*;

const CODE: PageCode = PageCode {
    survey_version_id: 7,
    mailing_id: 12_345,
    page: 2,
};

fn fax_standard() -> Geometry {
    Geometry::straight(204.0, 98.0)
}
fn fax_fine() -> Geometry {
    Geometry::straight(204.0, 196.0)
}
fn scan300() -> Geometry {
    Geometry::straight(300.0, 300.0)
}

fn fax() -> Degrade {
    Degrade {
        bilevel: true,
        halftone: true,
        ..Default::default()
    }
}

fn grey() -> Degrade {
    Degrade {
        bilevel: false,
        paper: 240.0,
        noise: 6.0,
        ..Default::default()
    }
}

/// Largest distance (mm) between the found and the true transform over the page.
fn transform_error_mm(id: &Identified, g: &Geometry) -> f64 {
    let truth = g.transform();
    let mut worst: f64 = 0.0;
    for (x, y) in [
        (50.0, 50.0),
        (550.0, 60.0),
        (60.0, 800.0),
        (540.0, 790.0),
        (300.0, 420.0),
    ] {
        let (a, b) = id.transform.apply(x, y);
        let (c, d) = truth.apply(x, y);
        let e = ((a - c) / g.dpi_x * 25.4).hypot((b - d) / g.dpi_y * 25.4);
        worst = worst.max(e);
    }
    worst
}

#[test]
fn identifies_clean_pages_at_fax_and_scan_resolutions() {
    let page = layout(&survey());
    for (g, d) in [
        (fax_standard(), fax()),
        (fax_fine(), fax()),
        (scan300(), grey()),
        (scan300(), fax()),
    ] {
        let img = render(&page, &CODE, &[], &g, &d);
        let id = identify(&img).unwrap_or_else(|e| panic!("{g:?}: {e}"));
        assert_eq!(id.code, CODE);
        assert!(!id.upside_down);
        assert_eq!((id.marks, id.code_copies), (4, 2));
        let err = transform_error_mm(&id, &g);
        assert!(err < 0.3, "{g:?}: transform off by {err:.2} mm");
        assert!(id.residual_mm < 0.2, "{:?}", id.residual_mm);
        assert!(id.summary.rotation_deg.abs() < 0.1, "{:?}", id.summary);
    }
}

#[test]
fn identifies_skewed_scaled_shifted_and_turned_pages() {
    let page = layout(&survey());
    // Each extreme alone (±3°, ±3 %, ±8 mm), and moderate combinations: all of them at once
    // would push a mark 10 mm from the edge off the sheet.
    // (rotation°, (scale x, scale y), shift mm)
    type Case = (f64, (f64, f64), (f64, f64));
    let cases: [Case; 8] = [
        (3.0, (1.0, 1.0), (0.0, 0.0)),
        (-3.0, (1.0, 1.0), (0.0, 0.0)),
        (0.0, (0.97, 1.03), (0.0, 0.0)),
        (0.0, (1.03, 0.97), (0.0, 0.0)),
        (0.0, (1.0, 1.0), (8.0, -8.0)),
        (0.0, (1.0, 1.0), (-8.0, 8.0)),
        (2.0, (1.02, 0.98), (4.0, 3.0)),
        (-2.0, (0.98, 1.02), (-3.0, 2.0)),
    ];
    for (dpi_x, dpi_y) in [(204.0, 98.0), (204.0, 196.0), (300.0, 300.0)] {
        for (i, &(rot, (sx, sy), shift)) in cases.iter().enumerate() {
            for upside_down in [false, true] {
                if dpi_x == 300.0 && (i + upside_down as usize).is_multiple_of(2) {
                    continue; // keep the debug-build test quick
                }
                let g = Geometry {
                    dpi_x,
                    dpi_y,
                    size: None,
                    rotation_deg: rot,
                    scale_x: sx,
                    scale_y: sy,
                    shift_mm: shift,
                    upside_down,
                };
                let d = if dpi_x == 300.0 { grey() } else { fax() };
                let img = render(&page, &CODE, &[], &g, &d);
                let id = identify(&img).unwrap_or_else(|e| panic!("{g:?}: {e}"));
                assert_eq!(id.code, CODE, "{g:?}");
                assert_eq!(id.upside_down, upside_down, "{g:?}");
                // A mark whose centre lies within 4 mm of the image edge may be cut off.
                let (w, h) = (img.width as f64, img.height as f64);
                let inside = capsurvey_layout::frame::registration_marks()
                    .iter()
                    .map(|m| g.transform().apply(m.cx, m.cy))
                    .filter(|&(x, y)| {
                        let (mx, my) = (4.0 * dpi_x / 25.4, 4.0 * dpi_y / 25.4);
                        x > mx && y > my && x < w - mx && y < h - my
                    })
                    .count();
                assert!(id.marks as usize >= inside.clamp(3, 4), "{g:?}");
                let err = transform_error_mm(&id, &g);
                assert!(err < 0.4, "{g:?}: transform off by {err:.2} mm");
                let want = if upside_down { rot + 180.0 } else { rot };
                let got = id.summary.rotation_deg;
                let diff = ((got - want + 540.0).rem_euclid(360.0) - 180.0).abs();
                assert!(diff < 0.2, "{g:?}: rotation {got}");
                assert!(
                    (id.summary.scale_x - sx).abs() < 0.005,
                    "{g:?}: {:?}",
                    id.summary
                );
                assert!(
                    (id.summary.scale_y - sy).abs() < 0.005,
                    "{g:?}: {:?}",
                    id.summary
                );
            }
        }
    }
}

/// Whites out a page-space rectangle of an image (a lost corner, a torn-off code).
fn erase(img: &mut PageImage, g: &Geometry, r: Rect) {
    let t = g.transform();
    let inv = t.inverse().unwrap();
    for y in 0..img.height {
        for x in 0..img.width {
            let (px, py) = inv.apply(x as f64 + 0.5, y as f64 + 0.5);
            if px >= r.x && px < r.x + r.w && py >= r.y && py < r.y + r.h {
                img.pixels[(y * img.width + x) as usize] = 255;
            }
        }
    }
}

#[test]
fn three_marks_speckle_streaks_and_edge_loss() {
    let page = layout(&survey());
    let mut g = fax_standard();
    g.rotation_deg = 2.0;
    g.shift_mm = (3.0, 2.0);
    let d = Degrade {
        speckle: 0.003,
        streaks: 3,
        edge_loss_mm: 4.5,
        seed: 3,
        ..fax()
    };
    let mut img = render(&page, &CODE, &[], &g, &d);
    let id = identify(&img).expect("speckle and streaks");
    assert_eq!((id.code, id.marks), (CODE, 4));
    // Lose the bottom-right mark: three are enough.
    let m = capsurvey_layout::frame::registration_marks()[3];
    erase(
        &mut img,
        &g,
        Rect {
            x: m.cx - 15.0,
            y: m.cy - 15.0,
            w: 30.0,
            h: 30.0,
        },
    );
    let id = identify(&img).expect("three marks");
    assert_eq!((id.code, id.marks), (CODE, 3));
    assert!(transform_error_mm(&id, &g) < 0.5);
    // Lose the first code copy too: the second still reads.
    erase(
        &mut img,
        &g,
        capsurvey_layout::frame::code_areas()[0].rect().inflate(2.0),
    );
    let id = identify(&img).expect("one code copy");
    assert_eq!((id.code, id.code_copies), (CODE, 1));
    // Both copies gone: marks found, code unreadable.
    erase(
        &mut img,
        &g,
        capsurvey_layout::frame::code_areas()[1].rect().inflate(2.0),
    );
    let e = identify(&img).unwrap_err();
    assert_eq!(e.reason, UnidentifiedReason::CodeUnreadable);
    assert!(e.registration.is_some());
    assert!(e.to_string().contains("page code"), "{e}");
}

#[test]
fn marks_cut_by_the_image_edge_still_register() {
    // Shifted 8 mm down with 5 mm lost at the edges: the bottom marks (13 mm from the page
    // edge, so 5 mm from the image edge) are cut in half.
    let page = layout(&survey());
    for (g, d) in [
        (
            Geometry {
                shift_mm: (0.0, 8.0),
                ..fax_fine()
            },
            Degrade {
                edge_loss_mm: 5.0,
                ..fax()
            },
        ),
        (
            Geometry {
                shift_mm: (-8.0, 0.0),
                rotation_deg: 0.5,
                ..fax_standard()
            },
            Degrade {
                edge_loss_mm: 5.0,
                ..fax()
            },
        ),
        (
            Geometry {
                shift_mm: (3.0, -7.0),
                ..scan300()
            },
            Degrade {
                edge_loss_mm: 4.0,
                ..grey()
            },
        ),
    ] {
        let img = render(&page, &CODE, &[], &g, &d);
        let id = identify(&img).unwrap_or_else(|e| panic!("{g:?}: {e}"));
        assert_eq!(id.code, CODE);
        assert!(id.marks >= 3, "{g:?}");
        let err = transform_error_mm(&id, &g);
        assert!(err < 0.5, "{g:?}: transform off by {err:.2} mm");
        let reading = read_page(&img, &id, &page.layout, &survey());
        assert!(
            reading.boxes.iter().all(|b| b.state == BoxState::Empty),
            "{g:?}"
        );
    }
}

#[test]
fn a_scan_without_a_stated_resolution_is_taken_as_a4() {
    // A PNG without pHYs: the decoder assumes 200 dpi; the page is really 300 dpi A4.
    let page = layout(&survey());
    let mut img = render(&page, &CODE, &[], &scan300(), &grey());
    (img.dpi_x, img.dpi_y, img.dpi_assumed) = (200.0, 200.0, true);
    let id = identify(&img).expect("identified from the image size");
    assert_eq!(id.code, CODE);
    let (x, y) = id.transform.apply(300.0, 420.0);
    let (tx, ty) = scan300().transform().apply(300.0, 420.0);
    assert!((x - tx).hypot(y - ty) < 4.0, "{x},{y} vs {tx},{ty}");
}

#[test]
fn blank_and_foreign_pages_are_not_identified() {
    let g = fax_fine();
    let blank = PageImage::blank(1728, 2292, 204.0, 196.0);
    let e = identify(&blank).unwrap_err();
    assert_eq!((e.reason, e.marks_found), (UnidentifiedReason::NoMarks, 0));
    // A page of text and a solid block where a mark would be, but no frame.
    let page = layout(&survey());
    let mut c = Canvas::new(&g, true);
    for p in &page.prints {
        if let Print::Text(r) = p {
            c.text(*r);
        }
    }
    c.fill(
        Rect {
            x: 20.0,
            y: 20.0,
            w: 60.0,
            h: 40.0,
        },
        1.0,
    );
    let img = c.finish(&g, &fax());
    assert_eq!(
        identify(&img).unwrap_err().reason,
        UnidentifiedReason::NoMarks
    );
}

/// Is the decided state allowed for what was drawn?
fn allowed(intent: Intent, state: BoxState) -> bool {
    state == BoxState::Uncertain
        || matches!(
            (intent, state),
            (Intent::Empty, BoxState::Empty)
                | (Intent::Marked, BoxState::Marked)
                | (Intent::Cancelled, BoxState::Cancelled)
        )
}

#[derive(Default, Debug)]
struct Tally {
    boxes: usize,
    decided: usize,
    wrong: Vec<String>,
    by_style: HashMap<String, (usize, usize)>,
}

/// Marks every box of a page at random, reads it back and checks every box.
fn random_page(g: &Geometry, d: &Degrade, seed: u64, styles: &[Option<Style>], tally: &mut Tally) {
    let survey = survey();
    let page = layout(&survey);
    let mut rng = Rng::new(seed);
    let mut hands = Vec::new();
    let mut truth = Vec::new();
    for b in &page.layout.boxes {
        let style = match b.kind {
            BoxKind::Choice => styles[rng.below(styles.len())],
            BoxKind::Digit => [None, Some(Style::Written), Some(Style::StrayDot)][rng.below(3)],
            _ => [None, Some(Style::Written)][rng.below(2)],
        };
        let intent = style.map_or(Intent::Empty, intent);
        if let Some(s) = style {
            hands.extend(marks_for(b, s, &mut rng));
        }
        truth.push((intent, style));
    }
    let img = render(&page, &CODE, &hands, g, &Degrade { seed, ..*d });
    let id = identify(&img).unwrap_or_else(|e| panic!("{g:?} seed {seed}: {e}"));
    assert_eq!(id.code, CODE);
    let reading = read_page(&img, &id, &page.layout, &survey);
    for (i, (b, (intent, style))) in reading.boxes.iter().zip(&truth).enumerate() {
        tally.boxes += 1;
        let decided = b.state != BoxState::Uncertain;
        tally.decided += decided as usize;
        let e = tally
            .by_style
            .entry(format!("{:?}/{style:?}", b.kind))
            .or_default();
        e.0 += 1;
        e.1 += decided as usize;
        if !decided && std::env::var("SHOW_UNCERTAIN").is_ok() {
            println!(
                "  uncertain seed {seed} {} {:?} {style:?}: ink {:.2} overflow {:.2} loop {:?} {:?}",
                b.key, b.option, b.ink, b.overflow, b.label_loop, b.why
            );
        }
        if !allowed(*intent, b.state) {
            tally.wrong.push(format!(
                "{g:?} seed {seed} box {i} {} {:?} {style:?}: {:?} ink {:.2} overflow {:.2} loop {:?} {:?}",
                b.key, b.option, b.state, b.ink, b.overflow, b.label_loop, b.why
            ));
        }
    }
}

fn report(name: &str, t: &Tally) {
    println!(
        "{name}: {} boxes, {:.1}% decided, {} wrong",
        t.boxes,
        100.0 * t.decided as f64 / t.boxes as f64,
        t.wrong.len()
    );
    let mut v: Vec<_> = t.by_style.iter().collect();
    v.sort();
    for (k, (n, dcd)) in v {
        println!(
            "  {k:32} {n:5} {:5.1}% decided",
            100.0 * *dcd as f64 / *n as f64
        );
    }
    for w in t.wrong.iter().take(20) {
        println!("  WRONG {w}");
    }
}

const ALL: [Option<Style>; 13] = [
    None,
    None,
    None,
    None,
    Some(Style::Tick),
    Some(Style::BigTick),
    Some(Style::Cross),
    Some(Style::Square),
    Some(Style::Fill),
    Some(Style::Pencil),
    Some(Style::CircleLabel),
    Some(Style::StrayDot),
    Some(Style::Tick),
];

#[test]
fn random_marks_are_never_decided_wrongly() {
    let configs: Vec<(&str, Geometry, Degrade)> = vec![
        ("fax standard", fax_standard(), fax()),
        ("fax fine", fax_fine(), fax()),
        ("grey 300", scan300(), grey()),
        (
            "fax standard skewed",
            Geometry {
                rotation_deg: -2.5,
                scale_x: 1.02,
                scale_y: 0.98,
                shift_mm: (5.0, 6.0),
                ..fax_standard()
            },
            Degrade {
                speckle: 0.001,
                ..fax()
            },
        ),
        (
            "fax fine turned",
            Geometry {
                rotation_deg: 1.5,
                upside_down: true,
                shift_mm: (-6.0, 3.0),
                ..fax_fine()
            },
            Degrade {
                speckle: 0.001,
                streaks: 1,
                ..fax()
            },
        ),
    ];
    let mut all = Tally::default();
    for (name, g, d) in &configs {
        let mut t = Tally::default();
        for seed in 0..3 {
            random_page(g, d, seed * 31 + 1, &ALL, &mut t);
        }
        report(name, &t);
        all.boxes += t.boxes;
        all.decided += t.decided;
        all.wrong.extend(t.wrong);
    }
    report("all", &all);
    assert!(
        all.wrong.is_empty(),
        "{} boxes decided wrongly",
        all.wrong.len()
    );
    assert!(
        all.decided as f64 >= 0.85 * all.boxes as f64,
        "too few decided"
    );
}

/// The field rules on one hand-made reply.
#[test]
fn fields_are_decided_by_the_rules() {
    let survey = survey();
    let page = layout(&survey);
    let mut rng = Rng::new(5);
    let find = |key: &str, opt: Option<&str>, digit: Option<u32>| {
        page.layout
            .boxes
            .iter()
            .find(|b| b.key == key && b.option.as_deref() == opt && b.digit == digit)
            .unwrap_or_else(|| panic!("{key} {opt:?}"))
            .clone()
    };
    let mut hands = Vec::new();
    let mut mark = |key: &str, opt: Option<&str>, digit: Option<u32>, s: Style| {
        hands.extend(marks_for(&find(key, opt, digit), s, &mut rng));
    };
    mark("q01", Some("2"), None, Style::Tick);
    mark("q02", Some("1"), None, Style::Cross);
    mark("q02", Some("3"), None, Style::Square);
    mark("q03", Some("yes"), None, Style::Fill);
    mark("q03", Some("no"), None, Style::Tick);
    mark("q04.a", Some("yes"), None, Style::Tick);
    mark("q04.a", Some("no"), None, Style::Tick);
    mark("q04.c", Some("no"), None, Style::Fill);
    mark("q05.full", None, Some(2), Style::Written);
    mark("q06", Some("3"), None, Style::CircleLabel);
    mark("q08", None, None, Style::Written);
    for (g, d) in [
        (fax_standard(), fax()),
        (fax_fine(), fax()),
        (scan300(), grey()),
    ] {
        let img = render(&page, &CODE, &hands, &g, &d);
        let id = identify(&img).unwrap();
        let reading = read_page(&img, &id, &page.layout, &survey);
        let f: HashMap<&str, _> = reading.fields.iter().map(|f| (f.key.as_str(), f)).collect();
        let value = |k: &str| f[k].value.clone();
        assert_eq!(value("q01"), Some(Value::Choice("2".into())), "{g:?}");
        assert_eq!(f["q01"].status, FieldStatus::Decided);
        assert!(f["q01"].confidence > 0.5);
        assert_eq!(
            value("q02"),
            Some(Value::Choices(vec!["1".into(), "3".into()])),
            "{g:?} {:?}",
            reading
                .boxes
                .iter()
                .filter(|b| b.key == "q02")
                .collect::<Vec<_>>()
        );
        assert_eq!(
            value("q03"),
            Some(Value::Bool(false)),
            "{g:?} {:?}",
            f["q03"]
        );
        assert!(
            matches!(f["q04.a"].status, FieldStatus::Review { .. }),
            "{:?}",
            f["q04.a"]
        );
        assert_eq!(f["q04.b"].status, FieldStatus::NoAnswer);
        assert!(
            matches!(f["q04.c"].status, FieldStatus::Review { .. }),
            "{:?}",
            f["q04.c"]
        );
        assert_eq!(f["q05.full"].status, FieldStatus::NeedsKeying);
        assert_eq!(f["q05.part"].status, FieldStatus::NoAnswer);
        let q06 = &f["q06"];
        assert!(
            q06.value == Some(Value::Choice("3".into()))
                || matches!(q06.status, FieldStatus::Review { .. }),
            "{g:?} {q06:?}"
        );
        assert_eq!(f["q07"].status, FieldStatus::NoAnswer);
        assert_eq!(f["q08"].status, FieldStatus::NeedsKeying);
        assert_eq!(f["q09"].status, FieldStatus::NoAnswer);
        assert_eq!(f["q01.5"].status, FieldStatus::NoAnswer);
        assert!(f["q01"].question_rect.is_some());
        // Survey order.
        let keys: Vec<&str> = reading.fields.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys[..3], ["q01", "q01.5", "q02"]);
        println!("{g:?}: q06 {:?}", q06.status);
    }
}

#[test]
fn crops_are_deskewed_and_encode_as_png() {
    let survey = survey();
    let page = layout(&survey);
    let q = page.layout.boxes[0].question_rect.unwrap();
    let straight = fax_fine();
    let turned = Geometry {
        rotation_deg: 2.5,
        upside_down: true,
        shift_mm: (4.0, -3.0),
        ..fax_fine()
    };
    let a = render(&page, &CODE, &[], &straight, &grey());
    let b = render(&page, &CODE, &[], &turned, &grey());
    let ia = identify(&a).unwrap();
    let ib = identify(&b).unwrap();
    let ca = crop(&a, &ia.transform, &q, 8.0);
    let cb = crop(&b, &ib.transform, &q, 8.0);
    assert_eq!((ca.width, ca.height), (cb.width, cb.height));
    assert_eq!(ca.width, (q.w / 72.0 * 25.4 * 8.0).round() as u32);
    let diff: f64 = ca
        .pixels
        .iter()
        .zip(&cb.pixels)
        .map(|(x, y)| (*x as f64 - *y as f64).abs())
        .sum::<f64>()
        / ca.pixels.len() as f64;
    let ink: f64 =
        ca.pixels.iter().map(|&p| 255.0 - p as f64).sum::<f64>() / ca.pixels.len() as f64;
    assert!(ink > 5.0, "the crop shows the question");
    assert!(diff < ink * 0.6, "crops differ by {diff:.1} (ink {ink:.1})");
    let png = encode_png(&ca).unwrap();
    let back = image::load_from_memory(&png).unwrap().to_luma8();
    assert_eq!(back.as_raw(), &ca.pixels);
}

#[test]
fn reports_serialise() {
    let page = layout(&survey());
    let img = render(&page, &CODE, &[], &fax_standard(), &fax());
    let id = identify(&img).unwrap();
    let json = serde_json::to_string(&id).unwrap();
    assert!(
        json.contains("\"rotation_deg\"") && json.contains("\"mailing_id\":12345"),
        "{json}"
    );
    let back: Identified = serde_json::from_str(&json).unwrap();
    assert_eq!((back.code, back.marks), (id.code, id.marks));
    assert!(
        back.transform
            .m
            .iter()
            .zip(id.transform.m)
            .all(|(a, b)| (a - b).abs() < 1e-9)
    );
    let reading = read_page(&img, &id, &page.layout, &survey());
    let json = serde_json::to_string(&reading).unwrap();
    assert!(json.contains("\"status\":\"no_answer\""), "{json}");
}
