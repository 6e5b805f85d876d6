//! The forms of the three shipped surveys, checked with real readers: qpdf, pdffonts, pdftotext,
//! Ghostscript at fax resolution (page codes read back), and pdftoppm (the layout's boxes drawn
//! over the rendered page coincide with the ink).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use capsurvey_forms::check::{Limits, check_layout, check_survey};
use capsurvey_forms::form::{Facility, FormInstance, FormKind, FormTemplate, layout};
use capsurvey_layout::{BoxKind, Layout, PageCode, PageKind};
use capsurvey_survey::QuestionKind;
use support::*;

const SURVEY_VERSION_ID: u32 = 7;
const MAILING_ID: u32 = 4242;

fn letter_date() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2024, 11, 8).unwrap()
}

fn template(id: &str) -> (capsurvey_survey::Parsed, FormTemplate) {
    let parsed = survey(id);
    let t = FormTemplate::new(
        &parsed.survey,
        &parsed.content_hash,
        &campaign(),
        letter_date(),
    )
    .unwrap();
    (parsed, t)
}

/// Writes the form of `kind` for `facility` into a file named after the test and returns its path.
fn write_form(test: &str, id: &str, kind: FormKind, facility: &Facility) -> PathBuf {
    let (_, t) = template(id);
    let doc = t
        .render(&FormInstance {
            kind,
            facility: Some(facility),
            survey_version_id: SURVEY_VERSION_ID,
            mailing_id: MAILING_ID,
            form_code: Some("D-004242"),
        })
        .unwrap();
    let path = out_dir(id).join(format!("{test}-{}.pdf", kind.as_str()));
    std::fs::write(&path, doc.to_pdf().unwrap()).unwrap();
    path
}

#[test]
fn qpdf_pdffonts_and_pdftotext_accept_every_survey() {
    let facility = facility();
    for (id, _) in SURVEYS {
        let parsed = survey(id);
        let path = write_form("readers", id, FormKind::Initial, &facility);
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size < 100_000, "{id}: {size} bytes");

        let out = run_ok("qpdf", "qpdf", &["--check", path.to_str().unwrap()]);
        assert!(
            out.contains("No syntax or stream encoding errors found"),
            "{id}: {out}"
        );

        let fonts = run_ok("pdffonts", "poppler-utils", &[path.to_str().unwrap()]);
        let rows: Vec<&str> = fonts.lines().skip(2).collect();
        assert_eq!(rows.len(), 1, "{id}: one font\n{fonts}");
        let cols: Vec<&str> = rows[0].split_whitespace().collect();
        assert!(
            cols[0].contains("+IPAexGothic"),
            "{id}: subset tag\n{fonts}"
        );
        let flags: Vec<&str> = cols
            .iter()
            .copied()
            .filter(|c| *c == "yes" || *c == "no")
            .collect();
        assert_eq!(
            flags,
            ["yes", "yes", "yes"],
            "{id}: embedded, subset, ToUnicode\n{fonts}"
        );

        let text = text_without_spaces(&path);
        for expected in [
            facility.name.as_str(),
            "0120-000-222",
            "管理NoD-004242",
            "令和6(2024)年11月29日(金)",
            "令和6年11月1日時点",
            "みどり市健康福祉部高齢福祉課",
            "御中",
            "記入方法",
            "✓または■",
        ] {
            assert!(
                text.contains(&squeeze(expected)),
                "{id}: {expected:?} not in the text"
            );
        }
        let pages = t_pages(&path);
        for p in 2..=pages {
            assert!(
                text.contains(&format!("{p}/{pages}")),
                "{id}: page number {p}/{pages}"
            );
        }
        for (_, q) in parsed.survey.questions() {
            assert!(
                text.contains(&squeeze(&q.text)),
                "{id}: question {} text {:?} not found",
                q.id,
                q.text
            );
            for o in &q.options {
                assert!(
                    text.contains(&squeeze(&o.label)),
                    "{id}: option {:?} of {}",
                    o.label,
                    q.id
                );
            }
            if let Some(i) = q.instruction() {
                assert!(text.contains(&squeeze(i)), "{id}: instruction of {}", q.id);
            }
            if let Some(n) = &q.note {
                assert!(text.contains(&squeeze(n)), "{id}: note of {}", q.id);
            }
        }
        // Pre-printed roster values.
        for v in [
            "〒100-0001みどり市中央三丁目12番5号",
            "0120-000-333",
            "0120-000-334",
        ] {
            assert!(text.contains(v), "{id}: prefill {v}");
        }
    }
}

fn t_pages(path: &Path) -> usize {
    let info = run_ok("pdfinfo", "poppler-utils", &[path.to_str().unwrap()]);
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn page_codes_read_back_at_fax_resolution() {
    for (id, _) in SURVEYS {
        let path = write_form("codes", id, FormKind::Initial, &facility());
        let l = layout(&survey(id).survey, "x");
        let pages = fax_pages(&path);
        assert_eq!(pages.len(), l.pages.len(), "{id}");
        for (img, page) in pages.iter().zip(&l.pages) {
            assert_eq!((img.width, img.height), (1687, 1146), "A4 at 204×98 dpi");
            let expected = PageCode {
                survey_version_id: SURVEY_VERSION_ID,
                mailing_id: MAILING_ID,
                page: page.number,
            };
            // Each copy reads on its own.
            for area in &page.page_codes {
                let read = PageCode::from_modules(&img.sample_code(area));
                assert_eq!(read, Ok((expected, false)), "{id} page {}", page.number);
            }
            // Upside down: the other copy is where the first was, turned; it still reads.
            let turned = img.rotated_180();
            assert_eq!(
                turned.read_code(&page.page_codes),
                Some((expected, true)),
                "{id} page {} turned",
                page.number
            );
            // Speckle: 4 % of the pixels flipped.
            let noisy = img.speckled(0.04, u64::from(page.number) * 7919);
            assert_eq!(
                noisy.read_code(&page.page_codes),
                Some((expected, false)),
                "{id} page {} speckled",
                page.number
            );
            // The registration marks are solid black at fax resolution.
            for m in &page.registration_marks {
                let q = m.size / 4.0;
                assert!(
                    img.mean(m.cx - q, m.cy - q, 2.0 * q, 2.0 * q) < 20.0,
                    "{id} page {} mark",
                    page.number
                );
            }
        }
    }
}

/// Darkness of a straight edge: the darkest of thin strips near the nominal line, and where it is.
fn edge_darkness(img: &Raster, vertical: bool, at: f64, from: f64, to: f64) -> (f64, f64) {
    let mut best = (255.0, 0.0);
    let mut off = -2.0;
    while off <= 2.0 {
        let m = if vertical {
            img.mean(at + off - 0.36, from, 0.72, to - from)
        } else {
            img.mean(from, at + off - 0.36, to - from, 0.72)
        };
        if m < best.0 {
            best = (m, off);
        }
        off += 0.25;
    }
    best
}

/// The layout's boxes, drawn over the rendered page, coincide with the printed boxes: dark ink
/// along all four sides (within 1 pt), white inside (on a blank form), ink in the labels.
fn assert_boxes_coincide(id: &str, l: &Layout, pages: &[Raster], blank: bool) {
    let mut checked = 0;
    for (img, page) in pages.iter().zip(&l.pages) {
        for b in &page.boxes {
            let r = &b.rect;
            let what = format!(
                "{id} page {} box {} {:?} {:?} {:?}",
                page.number, b.key, b.option, b.digit, b.kind
            );
            let sides = [
                (true, r.x, r.y + 0.2 * r.h, r.y + 0.8 * r.h),
                (true, r.x + r.w, r.y + 0.2 * r.h, r.y + 0.8 * r.h),
                (false, r.y, r.x + 0.2 * r.w, r.x + 0.8 * r.w),
                (false, r.y + r.h, r.x + 0.2 * r.w, r.x + 0.8 * r.w),
            ];
            for (vertical, at, from, to) in sides {
                let (dark, off) = edge_darkness(img, vertical, at, from, to);
                assert!(
                    dark < 110.0,
                    "{what}: side at {at:.1} is not drawn (mean {dark:.0})"
                );
                assert!(off.abs() <= 1.0, "{what}: side drawn {off} pt off");
            }
            let inner_white = img.mean(r.x + 2.0, r.y + 2.0, r.w - 4.0, r.h - 4.0);
            if blank || matches!(b.kind, BoxKind::Choice | BoxKind::Digit) {
                assert!(
                    inner_white > 245.0,
                    "{what}: inside is not white ({inner_white:.0})"
                );
            }
            if let Some(lr) = &b.label_rect {
                assert!(
                    img.mean(lr.x, lr.y, lr.w, lr.h) < 240.0,
                    "{what}: no label ink"
                );
            }
            checked += 1;
        }
    }
    assert!(checked > 50, "{id}: only {checked} boxes");
}

#[test]
fn layout_boxes_coincide_with_the_rendered_page() {
    for (id, _) in SURVEYS {
        let l = layout(&survey(id).survey, "x");
        let blank = write_form("ink", id, FormKind::Blank, &facility());
        assert_boxes_coincide(id, &l, &grey_pages(&blank, 100), true);
        let filled = write_form("ink", id, FormKind::Initial, &facility());
        assert_boxes_coincide(id, &l, &grey_pages(&filled, 100), false);
    }
}

#[test]
fn layouts_are_pure_complete_and_sound() {
    let campaign = campaign();
    for (id, _) in SURVEYS {
        let parsed = survey(id);
        let s = &parsed.survey;
        let l = layout(s, &parsed.content_hash);
        assert_eq!(l, layout(s, &parsed.content_hash), "{id}: deterministic");
        let (_, t) = template(id);
        assert_eq!(t.layout(), &l, "{id}: the template draws the layout");
        assert_eq!(
            Layout::from_json(&l.to_json()).unwrap(),
            l,
            "{id}: JSON round trip"
        );
        assert_eq!(
            (l.survey_id.as_str(), l.survey_version, l.format),
            (id, s.version, 1)
        );
        assert_eq!(l.pages[0].kind, PageKind::Cover);
        assert!(l.pages[0].boxes.is_empty());
        assert!(
            l.pages[1..]
                .iter()
                .all(|p| p.kind == PageKind::Questions && !p.boxes.is_empty())
        );
        for (i, p) in l.pages.iter().enumerate() {
            assert_eq!(p.number as usize, i + 1);
        }

        let all: Vec<_> = l.pages.iter().flat_map(|p| p.boxes.iter()).collect();
        for (_, q) in s.questions() {
            // A question is never split across pages.
            let on: BTreeSet<u32> = l
                .pages
                .iter()
                .filter(|p| {
                    p.boxes
                        .iter()
                        .any(|b| b.key == q.id || b.key.starts_with(&format!("{}.", q.id)))
                })
                .map(|p| p.number)
                .collect();
            assert_eq!(on.len(), 1, "{id}: {} is on pages {on:?}", q.id);
            match q.kind {
                QuestionKind::Single | QuestionKind::Multiple => {
                    for o in &q.options {
                        assert_eq!(
                            all.iter()
                                .filter(|b| b.key == q.id && b.option.as_deref() == Some(&o.code))
                                .count(),
                            1,
                            "{id}: {} option {}",
                            q.id,
                            o.code
                        );
                    }
                }
                QuestionKind::YesNo => {
                    let keys: Vec<String> = if q.items.is_empty() {
                        vec![q.id.clone()]
                    } else {
                        q.items
                            .iter()
                            .map(|i| format!("{}.{}", q.id, i.code))
                            .collect()
                    };
                    for k in keys {
                        for code in ["yes", "no"] {
                            assert!(
                                all.iter()
                                    .any(|b| b.key == k && b.option.as_deref() == Some(code)),
                                "{id}: {k} {code}"
                            );
                        }
                    }
                }
                QuestionKind::Count | QuestionKind::Decimal => {
                    let digits = (q.max.unwrap().floor() as u64).to_string().len()
                        + if q.kind == QuestionKind::Decimal {
                            usize::from(q.decimals.unwrap_or(1))
                        } else {
                            0
                        };
                    for f in q.fields() {
                        let n = all
                            .iter()
                            .filter(|b| b.key == f.key() && b.kind == BoxKind::Digit)
                            .count();
                        assert_eq!(n, digits, "{id}: digit boxes of {}", f.key());
                    }
                }
                _ => {}
            }
        }
        // Every answer field has at least one box, and every box belongs to a field.
        let keys: BTreeSet<String> = s.fields().iter().map(|f| f.key()).collect();
        for k in &keys {
            assert!(all.iter().any(|b| &b.key == k), "{id}: no box for {k}");
        }
        for b in &all {
            assert!(
                keys.contains(&b.key),
                "{id}: box for unknown field {}",
                b.key
            );
            assert!(
                b.question_rect.is_some(),
                "{id}: {} has no question rect",
                b.key
            );
            let qr = b.question_rect.unwrap();
            assert!(
                b.rect.x >= qr.x - 0.01
                    && b.rect.y >= qr.y - 0.01
                    && b.rect.x + b.rect.w <= qr.x + qr.w + 0.01
                    && b.rect.y + b.rect.h <= qr.y + qr.h + 0.01,
                "{id}: {} outside its question",
                b.key
            );
        }
        // No overlaps, nothing off the page or in the fax margin, sizes and gaps: check passes.
        let report = check_survey(s, &parsed.content_hash, Some(&campaign));
        assert!(report.is_ok(), "{id}: {:#?}", report.problems);
        for p in &l.pages {
            for (i, a) in p.boxes.iter().enumerate() {
                for b in &p.boxes[i + 1..] {
                    assert!(
                        !a.rect.overlaps(&b.rect),
                        "{id}: {} and {} overlap",
                        a.key,
                        b.key
                    );
                }
            }
        }
    }
}

#[test]
fn check_catches_a_bad_design() {
    // A synthetic survey: one question with 40 long options, and a campaign allowing 1 page.
    let mut toml = String::from(
        "id = \"bad\"\nversion = 1\ntitle = \"検査用\"\nfacility_type = \"dental\"\nreference_date = \"2024-11-01\"\n\
         [[sections]]\nid = \"s\"\ntitle = \"セクション\"\n[[sections.questions]]\nid = \"q01\"\nkind = \"multiple\"\n\
         text = \"四十の選択肢\"\noptions = [\n",
    );
    for i in 1..=40 {
        toml.push_str(&format!("  {{ code = \"{i}\", label = \"とても長い選択肢の説明文がここに入ります その{i}\" }},\n"));
    }
    toml.push_str("]\n");
    let parsed = capsurvey_survey::parse_survey("bad.toml", &toml).unwrap();
    let campaign_text = format!(
        "{}\n[surveys.bad]\nmax_pages = 1\n",
        include_str!("../../../fixtures/campaign.toml")
    );
    let campaign = capsurvey_forms::campaign::Campaign::parse("c.toml", &campaign_text).unwrap();
    let report = check_survey(&parsed.survey, &parsed.content_hash, Some(&campaign));
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.message.contains("more than max_pages = 1")),
        "{:#?}",
        report.problems
    );

    // A layout spoiled by hand: a small box, two boxes too close, a mark in the fax margin.
    let mut l = layout(&survey("dental").survey, "x");
    assert!(check_layout(&l, &Limits::default()).is_empty());
    let page = &mut l.pages[2];
    let first = page
        .boxes
        .iter()
        .position(|b| b.kind == BoxKind::Choice)
        .unwrap();
    page.boxes[first].rect.w = capsurvey_forms::geom::mm(3.0);
    let second = page
        .boxes
        .iter()
        .skip(first + 1)
        .position(|b| b.kind == BoxKind::Choice)
        .unwrap()
        + first
        + 1;
    let r = page.boxes[first].rect;
    page.boxes[second].rect.x = r.x + r.w + capsurvey_forms::geom::mm(1.0);
    page.boxes[second].rect.y = r.y;
    page.registration_marks[0].cx = capsurvey_forms::geom::mm(5.0);
    let problems: Vec<String> = check_layout(&l, &Limits::default())
        .iter()
        .map(|p| p.to_string())
        .collect();
    let joined = problems.join("\n");
    assert!(joined.contains("smaller than 4.0 mm"), "{joined}");
    assert!(joined.contains("closer than 2.0 mm"), "{joined}");
    assert!(
        joined.contains("top-left registration mark is within 8.0 mm"),
        "{joined}"
    );
}

#[test]
fn blank_and_reminder_forms() {
    let facility = facility();
    let blank = write_form("blank", "dental", FormKind::Blank, &facility);
    let text = text_without_spaces(&blank);
    assert!(
        !text.contains(&squeeze(&facility.name)),
        "a blank form shows no facility"
    );
    assert!(text.contains("管理No（新規）"));
    let img = &fax_pages(&blank)[1];
    let l = layout(&survey("dental").survey, "x");
    let code = img.read_code(&l.pages[1].page_codes).unwrap().0;
    assert_eq!(
        code,
        PageCode {
            survey_version_id: SURVEY_VERSION_ID,
            mailing_id: 0,
            page: 2
        },
        "blank forms have mailing 0"
    );

    let reminder = write_form("reminder", "dental", FormKind::Reminder, &facility);
    let text = text_without_spaces(&reminder);
    assert!(text.contains("【再依頼】"));
    assert!(
        text.contains("令和6(2024)年12月13日(金)"),
        "the reminder deadline"
    );
    assert!(text.contains("ご回答を確認できておりません"));
}

#[test]
fn long_names_are_shrunk_or_cut_and_never_move_boxes() {
    let long = Facility {
        name: "医療法人社団".to_owned()
            + &"みどりの丘ほっとけあ".repeat(8)
            + "訪問看護ステーション",
        address: Some("みどり市".to_owned() + &"中央三丁目十二番地五号".repeat(6)),
        ..facility()
    };
    let path = write_form("long", "visiting-nurse", FormKind::Initial, &long);
    let text = text_without_spaces(&path);
    assert!(text.contains('…'), "cut with …");
    let l = layout(&survey("visiting-nurse").survey, "x");
    assert_boxes_coincide("visiting-nurse", &l, &grey_pages(&path, 100), false);
}

#[test]
fn calibration_page_reads_back() {
    use capsurvey_forms::calibration::{
        CALIBRATION_CODE, calibration_document, calibration_layout,
    };
    let doc = calibration_document(Some(&campaign())).unwrap();
    let path = out_dir("calibration").join("calibration.pdf");
    std::fs::write(&path, doc.to_pdf().unwrap()).unwrap();
    let out = run_ok("qpdf", "qpdf", &["--check", path.to_str().unwrap()]);
    assert!(out.contains("No syntax or stream encoding errors found"));
    let text = text_without_spaces(&path);
    assert!(text.contains("この用紙を通常どおり印刷してFAXで返送してください"));
    let l = calibration_layout();
    assert_eq!(l.pages[0].kind, PageKind::Calibration);
    let fax = &fax_pages(&path)[0];
    assert_eq!(
        fax.read_code(&l.pages[0].page_codes),
        Some((CALIBRATION_CODE, false))
    );
    let grey = &grey_pages(&path, 100)[0];
    assert_eq!(l.pages[0].boxes.len(), 16);
    for b in &l.pages[0].boxes {
        let r = &b.rect;
        assert!(
            grey.mean(r.x + 1.0, r.y + 1.0, r.w - 2.0, r.h - 2.0) < 30.0,
            "{} {:?}",
            b.key,
            b.option
        );
        let d: f64 = b.option.as_deref().unwrap().parse().unwrap();
        let dist = match b.key.as_str() {
            "calibration.edge.top" => r.y,
            "calibration.edge.bottom" => 841.89 - r.y - r.h,
            "calibration.edge.left" => r.x,
            _ => 595.276 - r.x - r.w,
        };
        assert!(
            (dist - capsurvey_forms::geom::mm(d)).abs() < 0.01,
            "{}: {dist}",
            b.key
        );
    }
}

#[test]
fn print_file_shares_the_question_pages() {
    use capsurvey_forms::pdf::{DocumentInfo, write_combined};
    let (_, t) = template("homecare-clinic");
    let facilities: Vec<Facility> = (0..20)
        .map(|i| Facility {
            code: format!("13{i:08}"),
            name: format!("みどり第{i}クリニック"),
            ..facility()
        })
        .collect();
    let codes: Vec<String> = (0..20).map(|i| format!("H-{:06}", i + 1)).collect();
    let docs: Vec<_> = facilities
        .iter()
        .zip(&codes)
        .enumerate()
        .map(|(i, (f, c))| {
            t.render(&FormInstance {
                kind: FormKind::Initial,
                facility: Some(f),
                survey_version_id: 3,
                mailing_id: i as u32 + 1,
                form_code: Some(c),
            })
            .unwrap()
        })
        .collect();
    let one = docs[0].to_pdf().unwrap();
    // Two forms over the same template: their shared streams and font prefix are identical.
    assert!(docs[1].to_pdf().unwrap().len().abs_diff(one.len()) < 2_000);
    let combined = write_combined(&DocumentInfo::new("印刷用"), &docs).unwrap();
    assert!(
        combined.len() < 3 * one.len(),
        "print file of 20 forms: {} bytes, one form {}",
        combined.len(),
        one.len()
    );
    let path = out_dir("print").join("print.pdf");
    std::fs::write(&path, &combined).unwrap();
    let out = run_ok("qpdf", "qpdf", &["--check", path.to_str().unwrap()]);
    assert!(out.contains("No syntax or stream encoding errors found"));
    assert_eq!(t_pages(&path), 20 * t.page_count());
    let text = text_without_spaces(&path);
    for f in &facilities {
        assert!(text.contains(&f.name), "{}", f.name);
    }
    // The last form's pages carry its own code.
    let l = t.layout();
    let pages = fax_pages(&path);
    let last = &pages[pages.len() - 1];
    assert_eq!(
        last.read_code(&l.pages.last().unwrap().page_codes),
        Some((
            PageCode {
                survey_version_id: 3,
                mailing_id: 20,
                page: t.page_count() as u32
            },
            false
        ))
    );
}
