//! Accuracy on simulated replies to the three real surveys (`surveys/*.toml`, laid out by the
//! forms crate, filled and faxed by `capsurvey-faxsim` with their truth).
//!
//! Checked: every identified page has the right code and orientation, and at most one form page
//! in two hundred goes unidentified (to a person); no box and no field is ever decided wrongly
//! (uncertain is allowed, wrong is not); at fax fine at least 98 % of the boxes are decided
//! automatically, at fax standard at least 95 %.
//!
//! Not judged, and counted in the report: marks the fax removed entirely (the simulator's truth
//! still calls them marked: pencil lighter than the fax threshold, thin dashes at 98 lines per
//! inch), boxes of pre-printed roster values (printed text), and empty boxes read as inked where
//! a transmission error garbled the rows through them.
//!
//! `ACCURACY_REPLIES=n` changes the number of replies per survey and fax profile (default 12,
//! about 5,000 judged boxes per profile; a third of that for grey scans).
//! `SHOW_UNCERTAIN=<style>` (`Circle`, `Fill`, …) lists the uncertain boxes drawn in that style;
//! the ignored `debug_page` test (`DBG_SEED`, `DBG_PAGE`, `DBG_STD`/`DBG_GREY`, `DBG_KEY`) prints
//! one page's readings and writes crops to the temp folder.

use std::collections::BTreeMap;

use capsurvey_faxsim::{
    Expected, PageTruth, Picture, Profile, Style, random_answers, simulate_reply, write_jpeg,
};
use capsurvey_layout::{AnswerBox, BoxKind, Layout, PageCode, Rect, mm};
use capsurvey_scan::PageImage;
use capsurvey_scan::{BoxState, FieldStatus, identify, read_page};
use capsurvey_survey::{Survey, Value};

fn surveys() -> Vec<(String, Survey, Layout)> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../surveys");
    let mut out = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let parsed = capsurvey_survey::parse_survey(&name, &text)
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
        let layout = capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash);
        out.push((name, parsed.survey, layout));
    }
    out
}

/// The largest 8-connected group of dark pixels whose centres lie in `r` (page points), through
/// the truth's map: its size in pixels, and the longest extent of any group in mm.
fn largest_blob(img: &PageImage, truth: &PageTruth, r: &Rect) -> (usize, f64) {
    let m = truth.page_to_pixel;
    let det = m[0] * m[4] - m[1] * m[3];
    let inv = |u: f64, v: f64| {
        let (u, v) = (u - m[2], v - m[5]);
        ((m[4] * u - m[1] * v) / det, (-m[3] * u + m[0] * v) / det)
    };
    let corners = [
        (r.x, r.y),
        (r.x + r.w, r.y),
        (r.x, r.y + r.h),
        (r.x + r.w, r.y + r.h),
    ]
    .map(|(x, y)| (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]));
    let x0 = corners
        .iter()
        .map(|c| c.0)
        .fold(f64::MAX, f64::min)
        .floor()
        .max(0.0) as i64;
    let x1 =
        (corners.iter().map(|c| c.0).fold(f64::MIN, f64::max).ceil() as i64).min(img.width as i64);
    let y0 = corners
        .iter()
        .map(|c| c.1)
        .fold(f64::MAX, f64::min)
        .floor()
        .max(0.0) as i64;
    let y1 =
        (corners.iter().map(|c| c.1).fold(f64::MIN, f64::max).ceil() as i64).min(img.height as i64);
    if x1 <= x0 || y1 <= y0 {
        return (0, 0.0);
    }
    let (w, h) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let mut mask = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            let (px, py) = ((x0 + x as i64) as f64 + 0.5, (y0 + y as i64) as f64 + 0.5);
            let (u, v) = inv(px, py);
            let inside = u >= r.x && u < r.x + r.w && v >= r.y && v < r.y + r.h;
            mask[y * w + x] = inside
                && !on_streak(truth, px as u32, py as u32)
                && img.get(px as u32, py as u32).is_some_and(|p| p < 128);
        }
    }
    let mut best = 0;
    let mut longest = 0.0f64;
    let (mmx, mmy) = (25.4 / img.dpi_x as f64, 25.4 / img.dpi_y as f64);
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !mask[start] {
            continue;
        }
        mask[start] = false;
        stack.push(start);
        let mut n = 0;
        let (mut bx0, mut bx1, mut by0, mut by1) = (usize::MAX, 0, usize::MAX, 0);
        while let Some(i) = stack.pop() {
            n += 1;
            let (x, y) = (i % w, i / w);
            (bx0, bx1, by0, by1) = (bx0.min(x), bx1.max(x), by0.min(y), by1.max(y));
            for ny in y.saturating_sub(1)..=(y + 1).min(h - 1) {
                for nx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                    let j = ny * w + nx;
                    if mask[j] {
                        mask[j] = false;
                        stack.push(j);
                    }
                }
            }
        }
        best = best.max(n);
        longest = longest.max(((bx1 - bx0 + 1) as f64 * mmx).max((by1 - by0 + 1) as f64 * mmy));
    }
    (best, longest)
}

/// Whether a pixel lies on one of the simulated fax streaks (dirt on the scanner bar,
/// transmission errors): not the respondent's ink.
fn on_streak(truth: &PageTruth, x: u32, y: u32) -> bool {
    let d = &truth.degradation;
    d.vertical_streaks
        .iter()
        .any(|s| x >= s.at && x < s.at + s.width)
        || d.horizontal_streaks
            .iter()
            .any(|s| y >= s.at && y < s.at + s.width)
}

/// Whether a transmission error (rows repeated or garbled) crosses the box: the truth's
/// "empty" is then not what the page shows, and such a box is not judged.
fn garbled(truth: &PageTruth, b: &AnswerBox) -> bool {
    let m = truth.page_to_pixel;
    let r = b.rect;
    let ys: Vec<f64> = [
        (r.x, r.y),
        (r.x + r.w, r.y),
        (r.x, r.y + r.h),
        (r.x + r.w, r.y + r.h),
    ]
    .iter()
    .map(|&(x, y)| m[3] * x + m[4] * y + m[5])
    .collect();
    let (y0, y1) = (
        ys.iter().copied().fold(f64::MAX, f64::min),
        ys.iter().copied().fold(f64::MIN, f64::max),
    );
    truth.degradation.horizontal_streaks.iter().any(|s| {
        s.kind != capsurvey_faxsim::StreakKind::Dropout
            && (s.at as f64) < y1
            && ((s.at + s.width) as f64) > y0
    })
}

/// Whether a mark left nothing to see: pencil lighter than the fax threshold (105–150) is
/// removed entirely, and so can a thin 「−」 at 98 lines per inch; the simulator's truth still
/// calls such boxes marked. A mark counts as lost when the box's interior (for a circle, the
/// band around the label) looks like the page's empty boxes — its share of dark pixels within
/// their range (fax noise varies from box to box) plus 1 % and no group of dark pixels larger
/// than the largest in their interiors — or when no group of dark pixels in the interior is
/// as long as a stroke piece (0.6 mm in a check box, 1 mm in digit and text boxes): bits smaller
/// than that cannot be told from the dust and stray dots the truth itself calls empty.
fn lost_mark(
    img: &PageImage,
    truth: &PageTruth,
    b: &AnswerBox,
    style: Style,
    empty_share: f64,
    empty_blob: usize,
) -> bool {
    // Grey scans keep pencil; only the fax threshold loses marks.
    if !img.bilevel {
        return false;
    }
    if style == Style::Circle {
        let l = b.label_rect.expect("circles are drawn around labels");
        let share = dark_share(img, truth, &l.inflate(mm(3.0)), Some(&l.inflate(mm(0.3))));
        return share <= empty_share + 0.01;
    }
    let inner = b.rect.inflate(-mm(0.6));
    let share = dark_share(img, truth, &inner, None);
    let (blob, longest) = largest_blob(img, truth, &inner);
    let stroke_piece = if b.kind == BoxKind::Choice { 0.6 } else { 1.0 };
    (share <= empty_share + 0.01 && blob <= empty_blob) || longest < stroke_piece
}

#[derive(Default)]
struct Stats {
    pages: usize,
    boxes: usize,
    decided: usize,
    wrong: Vec<String>,
    fields: usize,
    fields_auto: usize,
    by_style: BTreeMap<String, (usize, usize)>,
    uncertain_why: BTreeMap<String, usize>,
    /// Marks the fax removed completely (nothing left to read).
    lost: usize,
    /// Boxes of pre-printed roster values (printed text, not the respondent's).
    prefilled: usize,
    /// Boxes left empty but crossed by a transmission error.
    garbled: usize,
    /// Form pages that were not identified (why).
    unidentified: Vec<String>,
}

/// Share of dark pixels in `outer` but not in `inner` (page points), through the truth's map.
fn dark_share(img: &PageImage, truth: &PageTruth, outer: &Rect, inner: Option<&Rect>) -> f64 {
    let m = truth.page_to_pixel;
    let (mut n, mut dark) = (0usize, 0usize);
    let step = 0.5;
    let mut y = outer.y;
    while y < outer.y + outer.h {
        let mut x = outer.x;
        while x < outer.x + outer.w {
            let skip =
                inner.is_some_and(|r| x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h);
            if !skip {
                let px = (m[0] * x + m[1] * y + m[2]).floor();
                let py = (m[3] * x + m[4] * y + m[5]).floor();
                if let Some(v) = img
                    .get(px as u32, py as u32)
                    .filter(|_| px >= 0.0 && py >= 0.0 && !on_streak(truth, px as u32, py as u32))
                {
                    n += 1;
                    dark += (v < 128) as usize;
                }
            }
            x += step;
        }
        y += step;
    }
    dark as f64 / n.max(1) as f64
}

fn ok(expected: Expected, state: BoxState) -> bool {
    matches!(
        (expected, state),
        (_, BoxState::Uncertain)
            | (Expected::Marked, BoxState::Marked)
            | (Expected::Empty, BoxState::Empty)
            | (Expected::Cancelled, BoxState::Cancelled)
    )
}

/// Two values are the same answer (decimals compared numerically).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Decimal(x), Value::Decimal(y)) => (x - y).abs() < 1e-9,
        _ => a == b,
    }
}

fn run(profile: Profile, replies: u64, stats: &mut Stats) {
    for (si, (name, survey, layout)) in surveys().iter().enumerate() {
        for r in 0..replies {
            let seed = 1000 * si as u64 + r + 1;
            let answers = random_answers(survey, seed);
            let code = |page| PageCode {
                survey_version_id: 10 + si as u32,
                mailing_id: 500 + r as u32,
                page,
            };
            for (img, truth) in simulate_reply(layout, survey, code, &answers, profile, seed) {
                let want = truth.identity.readable_code().expect("form pages only");
                // Read as scan ingest reads: a grey scan as the scanner sends it, JPEG at
                // quality 85, decoded (a 300-dpi scan at 150 dpi) and reduced. The truth's
                // checks of what was drawn look at the page as simulated.
                let seen = if img.bilevel {
                    img.clone()
                } else {
                    let jpeg = write_jpeg(Picture::Grey(&img), 85);
                    capsurvey_scan::open_bytes("scan.jpg", jpeg)
                        .unwrap()
                        .next()
                        .unwrap()
                        .unwrap()
                }
                .reduced_for_recognition();
                let id = match identify(&seen) {
                    Ok(id) => id,
                    Err(e) => {
                        // Not identified goes to a person: allowed now and then, never a wrong
                        // identity.
                        stats.unidentified.push(format!(
                            "{name} seed {seed} {profile:?} page {:?}: {e}",
                            truth.layout_page
                        ));
                        continue;
                    }
                };
                assert_eq!(id.code, want, "{name} reply {r} {profile:?}");
                assert_eq!(
                    id.upside_down, truth.upside_down,
                    "{name} reply {r} {profile:?}"
                );
                stats.pages += 1;
                let page = layout.page(id.code.page).expect("layout page");
                let reading = read_page(&seen, &id, page, survey);
                assert_eq!(reading.boxes.len(), truth.boxes.len());
                let mut unjudged_fields = std::collections::BTreeSet::new();
                // The page's noise, at most: dark share and largest dark group in the interiors
                // of the boxes left empty, per kind of box (larger boxes hold larger clumps).
                let group = |k: BoxKind| match k {
                    BoxKind::Choice => 0,
                    BoxKind::Digit => 1,
                    BoxKind::Text | BoxKind::Area => 2,
                };
                let mut noise = [(0.0f64, 0usize, false); 3];
                for (t, b) in truth.boxes.iter().zip(&page.boxes) {
                    if t.style == Style::Empty {
                        let inner = b.rect.inflate(-mm(0.6));
                        let n = &mut noise[group(b.kind)];
                        n.0 = n.0.max(dark_share(&img, &truth, &inner, None));
                        n.1 = n.1.max(largest_blob(&img, &truth, &inner).0);
                        n.2 = true;
                    }
                }
                for ((b, t), lb) in reading.boxes.iter().zip(&truth.boxes).zip(&page.boxes) {
                    assert_eq!((&b.key, &b.option, b.digit), (&t.key, &t.option, t.digit));
                    let prefilled = survey
                        .question(b.key.split('.').next().unwrap())
                        .is_some_and(|q| q.prefill.is_some());
                    if prefilled {
                        stats.prefilled += 1;
                        unjudged_fields.insert(b.key.clone());
                        continue;
                    }
                    let (empty_share, empty_blob, seen) = noise[group(lb.kind)];
                    let (empty_share, empty_blob) = if seen {
                        (empty_share, empty_blob)
                    } else {
                        (noise[0].0, noise[0].1)
                    };
                    if t.expected == Expected::Empty
                        && b.state != BoxState::Empty
                        && garbled(&truth, lb)
                    {
                        stats.garbled += 1;
                        unjudged_fields.insert(b.key.clone());
                        continue;
                    }
                    if t.expected != Expected::Empty
                        && lost_mark(&img, &truth, lb, t.style, empty_share, empty_blob)
                    {
                        stats.lost += 1;
                        unjudged_fields.insert(b.key.clone());
                        continue;
                    }
                    stats.boxes += 1;
                    let decided = b.state != BoxState::Uncertain;
                    stats.decided += decided as usize;
                    let e = stats
                        .by_style
                        .entry(format!("{:?}/{:?}", t.kind, t.style))
                        .or_default();
                    e.0 += 1;
                    e.1 += decided as usize;
                    if !decided
                        && std::env::var("SHOW_UNCERTAIN")
                            .is_ok_and(|v| v == format!("{:?}", t.style))
                    {
                        println!(
                            "  UNCERTAIN {name} seed {seed} {profile:?} p{} {} {:?}: {:?}",
                            id.code.page, b.key, b.option, b.why
                        );
                    }
                    if let Some(why) = &b.why
                        && !decided
                    {
                        *stats
                            .uncertain_why
                            .entry(format!("{:?}/{:?}: {why}", t.kind, t.style))
                            .or_default() += 1;
                    }
                    if !ok(t.expected, b.state) {
                        stats.wrong.push(format!(
                            "{name} seed {seed} {profile:?} p{} {} {:?} {:?}: drawn {:?}, expected {:?}, read {:?} (ink {:.2}, overflow {:.2}, loop {:?})",
                            id.code.page, b.key, b.option, b.digit, t.style, t.expected, b.state, b.ink, b.overflow, b.label_loop
                        ));
                    }
                }
                let truth_fields: BTreeMap<&str, &Option<Value>> = truth
                    .fields
                    .iter()
                    .map(|f| (f.key.as_str(), &f.value))
                    .collect();
                for f in &reading.fields {
                    if unjudged_fields.contains(&f.key) {
                        continue;
                    }
                    stats.fields += 1;
                    let Some(want) = truth_fields.get(f.key.as_str()) else {
                        continue;
                    };
                    match &f.status {
                        FieldStatus::Decided => {
                            stats.fields_auto += 1;
                            let got = f.value.as_ref().unwrap();
                            if !want.as_ref().is_some_and(|w| same(w, got)) {
                                stats.wrong.push(format!(
                                    "{name} seed {seed} {profile:?} field {}: read {got:?}, meant {want:?}",
                                    f.key
                                ));
                            }
                        }
                        FieldStatus::NoAnswer => {
                            stats.fields_auto += 1;
                            if want.is_some() {
                                stats.wrong.push(format!(
                                    "{name} seed {seed} {profile:?} field {}: read no answer, meant {want:?}",
                                    f.key
                                ));
                            }
                        }
                        FieldStatus::NeedsKeying | FieldStatus::Review { .. } => {}
                    }
                }
            }
        }
    }
}

fn report(profile: Profile, s: &Stats) -> f64 {
    let rate = s.decided as f64 / s.boxes.max(1) as f64;
    println!(
        "{profile:?}: {} of {} form pages identified",
        s.pages,
        s.pages + s.unidentified.len()
    );
    for u in &s.unidentified {
        println!("  NOT IDENTIFIED {u}");
    }
    // At most one form page in two hundred may go unidentified (to a person), never wrongly.
    assert!(
        s.unidentified.len() * 200 <= s.pages + s.unidentified.len(),
        "{} pages not identified",
        s.unidentified.len()
    );
    println!(
        "{profile:?}: {} pages, {} boxes, {:.2}% decided, {} wrong; {} fields, {:.1}% decided or no answer \
         ({} marks lost entirely in the fax, {} pre-printed boxes and {} empty boxes crossed by \
         transmission errors and read as inked not judged)",
        s.pages,
        s.boxes,
        100.0 * rate,
        s.wrong.len(),
        s.fields,
        100.0 * s.fields_auto as f64 / s.fields.max(1) as f64,
        s.lost,
        s.prefilled,
        s.garbled
    );
    for (k, (n, d)) in &s.by_style {
        println!(
            "  {k:28} {n:6} {:6.2}% decided",
            100.0 * *d as f64 / *n as f64
        );
    }
    let mut why: Vec<_> = s.uncertain_why.iter().collect();
    why.sort_by(|a, b| b.1.cmp(a.1));
    for (k, n) in why.iter().take(12) {
        println!("  uncertain {n:5} {k}");
    }
    for w in s.wrong.iter().take(30) {
        println!("  WRONG {w}");
    }
    rate
}

fn replies() -> u64 {
    std::env::var("ACCURACY_REPLIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12)
}

#[test]
fn fax_fine_accuracy() {
    let mut s = Stats::default();
    run(Profile::FaxFine, replies(), &mut s);
    let rate = report(Profile::FaxFine, &s);
    assert!(s.boxes >= 5000 || replies() < 12, "only {} boxes", s.boxes);
    assert!(s.wrong.is_empty(), "{} wrong decisions", s.wrong.len());
    assert!(rate >= 0.98, "{:.2}% decided at fax fine", 100.0 * rate);
}

#[test]
fn fax_standard_accuracy() {
    let mut s = Stats::default();
    run(Profile::FaxStandard, replies(), &mut s);
    let rate = report(Profile::FaxStandard, &s);
    assert!(s.boxes >= 5000 || replies() < 12, "only {} boxes", s.boxes);
    assert!(s.wrong.is_empty(), "{} wrong decisions", s.wrong.len());
    assert!(rate >= 0.95, "{:.2}% decided at fax standard", 100.0 * rate);
}

#[test]
fn grey_scan_accuracy() {
    let mut s = Stats::default();
    run(Profile::Scan300Grey, replies().div_ceil(3), &mut s);
    let rate = report(Profile::Scan300Grey, &s);
    assert!(s.wrong.is_empty(), "{} wrong decisions", s.wrong.len());
    assert!(rate >= 0.95, "{:.2}% decided on grey scans", 100.0 * rate);
}

#[test]
fn choice_boxes_are_counted_separately() {
    // A guard that the test data has what it must: choice, digit and text boxes.
    let kinds: std::collections::BTreeSet<_> = surveys()
        .iter()
        .flat_map(|(_, _, l)| {
            l.pages
                .iter()
                .flat_map(|p| p.boxes.iter().map(|b| format!("{:?}", b.kind)))
        })
        .collect();
    for k in [
        BoxKind::Choice,
        BoxKind::Digit,
        BoxKind::Text,
        BoxKind::Area,
    ] {
        assert!(kinds.contains(&format!("{k:?}")), "{k:?}");
    }
}

#[test]
#[ignore = "debugging aid: writes the page and crops of it to the temp folder"]
fn debug_page() {
    let which: u64 = std::env::var("DBG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1001);
    let page_no: u32 = std::env::var("DBG_PAGE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let profile = if std::env::var("DBG_STD").is_ok() {
        Profile::FaxStandard
    } else if std::env::var("DBG_GREY").is_ok() {
        Profile::Scan300Grey
    } else {
        Profile::FaxFine
    };
    let si = (which / 1000) as usize;
    let (_, survey, layout) = &surveys()[si];
    let answers = random_answers(survey, which);
    let code = |page| PageCode {
        survey_version_id: 10 + si as u32,
        mailing_id: 500,
        page,
    };
    for (img, truth) in simulate_reply(layout, survey, code, &answers, profile, which) {
        if truth.layout_page != Some(page_no) {
            continue;
        }
        println!("{:?}", truth.degradation);
        std::fs::write(
            std::env::temp_dir().join("page.png"),
            capsurvey_scan::encode_png(&img).unwrap(),
        )
        .unwrap();
        let id = identify(&img).unwrap();
        println!("{:?} truth t={:?}", id.summary, truth.page_to_pixel);
        println!("found t={:?}", id.transform.m);
        let page = layout.page(page_no).unwrap();
        let reading = read_page(&img, &id, page, survey);
        let mut done = std::collections::BTreeSet::new();
        for (b, (t, lb)) in reading
            .boxes
            .iter()
            .zip(truth.boxes.iter().zip(&page.boxes))
        {
            let share = dark_share(&img, &truth, &lb.rect.inflate(-mm(0.6)), None);
            println!(
                "{} {:?} {:?} {:?} drawn {:?} -> {:?} ink {:.3} (dark {share:.3}) frame {} off {:?} {:?}",
                b.key,
                b.option,
                b.digit,
                b.kind,
                t.style,
                b.state,
                b.ink,
                b.frame_found,
                b.offset_mm,
                b.why
            );
            if std::env::var("DBG_KEY")
                .is_ok_and(|k| k == format!("{}{}", b.key, b.option.clone().unwrap_or_default()))
            {
                let scale = if lb.rect.w > mm(100.0) {
                    6.0
                } else if lb.rect.w > mm(20.0) {
                    12.0
                } else {
                    25.0
                };
                let c = capsurvey_scan::crop(&img, &id.transform, &lb.rect.inflate(mm(2.0)), scale);
                std::fs::write(
                    std::env::temp_dir().join("box.png"),
                    capsurvey_scan::encode_png(&c).unwrap(),
                )
                .unwrap();
            }
            if let Some(q) = lb.question_rect
                && done.insert(format!("{q:?}"))
            {
                let c = capsurvey_scan::crop(&img, &id.transform, &q, 8.0);
                std::fs::write(
                    std::env::temp_dir().join(format!("q-{}.png", b.key)),
                    capsurvey_scan::encode_png(&c).unwrap(),
                )
                .unwrap();
            }
        }
    }
}
