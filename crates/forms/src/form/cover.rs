//! The cover letter (依頼文), page 1 of every form.
//!
//! # Window envelope
//!
//! The addressee block is placed for a 長形3号 window envelope (120 × 235 mm) holding the A4
//! letter folded in three (the top third, 0–99 mm of the page, faces the window). The assumed
//! window is 90 × 45 mm with its top-left corner 20 mm from the left and 13 mm from the top of the
//! folded letter, the common size of municipal 長3 window envelopes. The letter moves a few
//! millimetres inside the envelope, so the addressee is kept 4 mm inside the window:
//! [`WINDOW_TEXT`] is x 24–106 mm, y 17–54 mm. Nothing else is printed in the window area: the
//! top-left registration mark sits left of it (x 10–16 mm), the page code and 管理No right of it.
//!
//! Everything except the addressee and the 管理No is the same for every facility of a campaign
//! and drawn once per letter kind ([`draw_letter`]); [`draw_addressee`] adds the rest.

use capsurvey_survey::Survey;
use chrono::NaiveDate;

use super::FormError;
use super::draw::{El, fit_line, fit_lines, lines, width};
use super::frame::{CONTENT_BOTTOM, CONTENT_LEFT, CONTENT_RIGHT, CONTENT_WIDTH};
use crate::campaign::Campaign;
use crate::geom::{Rect, Stroke, mm};
use crate::pdf::Page;
use crate::wareki;

/// The area inside the envelope window where the addressee is printed (x 24–106, y 17–54 mm).
pub const WINDOW_TEXT: Rect = Rect::new(mm(24.0), mm(17.0), mm(82.0), mm(37.0));

/// Which letter: the first request or the reminder to those who have not answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Letter {
    Request,
    Reminder,
}

/// Everything on the cover that depends on the campaign and survey only.
pub(crate) fn draw_letter(
    page: &mut Page,
    survey: &Survey,
    campaign: &Campaign,
    letter: Letter,
    letter_date: NaiveDate,
    total_pages: usize,
) -> Result<(), FormError> {
    // Try the body at decreasing sizes until the letter fits on the page.
    let mut last = None;
    for size in [10.5, 10.0, 9.5, 9.0] {
        let (els, bottom) = letter_els(survey, campaign, letter, letter_date, total_pages, size);
        if bottom <= CONTENT_BOTTOM {
            for e in &els {
                e.draw(page)?;
            }
            return Ok(());
        }
        last = Some(bottom);
    }
    Err(FormError::Overflow(format!(
        "the cover letter of `{}` needs {:.0} mm more than the page has: shorten `purpose` or `reminder_text` in the campaign settings",
        survey.id,
        crate::geom::pt_to_mm(last.unwrap_or(0.0) - CONTENT_BOTTOM)
    )))
}

/// How far down the letter would reach at body size `size` (for `forms check`).
pub(crate) fn letter_overflow(
    survey: &Survey,
    campaign: &Campaign,
    letter: Letter,
    total_pages: usize,
) -> Option<String> {
    let date = campaign.letter_date.unwrap_or(campaign.deadline);
    let mut page = Page::a4();
    draw_letter(&mut page, survey, campaign, letter, date, total_pages)
        .err()
        .map(|e| e.to_string())
}

fn letter_els(
    survey: &Survey,
    c: &Campaign,
    letter: Letter,
    letter_date: NaiveDate,
    total_pages: usize,
    size: f64,
) -> (Vec<El>, f64) {
    let mut els = Vec::new();
    let line_h = size * 1.6;
    let text = |els: &mut Vec<El>, x: f64, y: f64, size: f64, t: &str| {
        els.push(El::Text {
            x,
            y,
            size,
            gray: 0.0,
            text: t.to_owned(),
        });
    };
    let right = |els: &mut Vec<El>, x_right: f64, y: f64, size: f64, t: &str| {
        let w = width(t, size);
        els.push(El::Text {
            x: x_right - w,
            y,
            size,
            gray: 0.0,
            text: t.to_owned(),
        });
    };

    // Date and sender on the right, clear of the window.
    right(
        &mut els,
        CONTENT_RIGHT,
        mm(31.0),
        10.0,
        &wareki::short(letter_date),
    );
    let sender = fit_line(&c.sender(), 10.5, 7.5, mm(70.0));
    right(&mut els, CONTENT_RIGHT, mm(47.0), sender.size, &sender.text);
    right(&mut els, CONTENT_RIGHT, mm(53.0), 8.5, "（公印省略）");

    // Title.
    let mut y = mm(64.0);
    let title = match letter {
        Letter::Request => format!("「{}」へのご協力のお願い", survey.title),
        Letter::Reminder => format!("【再依頼】「{}」へのご回答のお願い", survey.title),
    };
    // One line if it fits at 12.5 pt or more, else two or more at 14 pt.
    let one = fit_line(&title, 14.0, 12.5, CONTENT_WIDTH);
    if one.text == title {
        els.push(El::Text {
            x: CONTENT_LEFT + (CONTENT_WIDTH - one.width) / 2.0,
            y,
            size: one.size,
            gray: 0.0,
            text: title,
        });
        y += 20.0;
    } else {
        for (line, w) in lines(&title, 14.0, CONTENT_WIDTH) {
            els.push(El::Text {
                x: CONTENT_LEFT + (CONTENT_WIDTH - w) / 2.0,
                y,
                size: 14.0,
                gray: 0.0,
                text: line,
            });
            y += 20.0;
        }
    }
    y += mm(3.0);

    // Body paragraphs, each starting with a full-width space.
    let greeting = format!(
        "時下ますますご清祥のこととお喜び申し上げます。日頃より{}の保健福祉行政にご理解とご協力を賜り、厚く御礼申し上げます。",
        c.municipality.trim()
    );
    let closing = "お忙しいところ誠に恐縮ですが、調査の趣旨をご理解いただき、ご協力くださいますようお願い申し上げます。";
    let paragraphs: Vec<&str> = match letter {
        Letter::Request => vec![&greeting, c.purpose_for(&survey.id), closing],
        Letter::Reminder => vec![
            &greeting,
            c.reminder_text.as_str(),
            c.purpose_for(&survey.id),
        ],
    };
    for p in paragraphs {
        for para in p.trim().split('\n').filter(|s| !s.trim().is_empty()) {
            for (line, _) in lines(&format!("　{}", para.trim()), size, CONTENT_WIDTH) {
                text(&mut els, CONTENT_LEFT, y, size, &line);
                y += line_h;
            }
        }
    }
    y += mm(1.5);
    let w = width("記", size);
    text(
        &mut els,
        CONTENT_LEFT + (CONTENT_WIDTH - w) / 2.0,
        y,
        size,
        "記",
    );
    y += line_h + mm(1.0);

    // The items: label column and text.
    let label_w = mm(27.0);
    let item_w = CONTENT_WIDTH - label_w - mm(4.0);
    let reference = c.reference_date.unwrap_or(survey.reference_date);
    let deadline = match letter {
        Letter::Request => c.deadline,
        Letter::Reminder => c.reminder_deadline.unwrap_or(c.deadline),
    };
    let last = total_pages.max(2);
    let items: Vec<(&str, String, f64)> = vec![
        ("調査基準日", format!("{}時点の状況をご記入ください。", wareki::short(reference)), size),
        ("回答期限", format!("{}まで", wareki::long(deadline)), size + 1.5),
        (
            "回答方法",
            format!(
                "同封の調査票（{}ページのうち2〜{}ページ）にご記入のうえ、下記のFAX番号へ送信してください。この依頼文（1ページ目）の送信は不要です。",
                last, last
            ),
            size,
        ),
        (
            "ご注意",
            "FAXは拡大・縮小せず原寸（A4）のまま送信してください。各ページ四隅の黒い四角と、上下にある小さな黒い四角の列（読み取り用コード）は、汚したり切り取ったりしないでください。".to_owned(),
            size,
        ),
    ];
    for (i, (label, body, s)) in items.iter().enumerate() {
        text(
            &mut els,
            CONTENT_LEFT + mm(2.0),
            y + (s - size) / 2.0,
            size,
            &format!("{}　{}", i + 1, label),
        );
        for (line, _) in lines(body, *s, item_w) {
            text(&mut els, CONTENT_LEFT + label_w + mm(4.0), y, *s, &line);
            y += s * 1.55;
        }
        y += mm(1.0);
    }
    y += mm(2.0);

    // The return FAX number, large, in a frame.
    let fax_box = Rect::new(
        CONTENT_LEFT + mm(12.0),
        y,
        CONTENT_WIDTH - mm(24.0),
        mm(25.0),
    );
    els.push(El::Frame {
        rect: fax_box,
        stroke: Stroke::new(1.6),
    });
    let tag = "FAX送信先";
    let tag_size = 13.0;
    let number = fit_line(
        &c.return_fax,
        28.0,
        18.0,
        fax_box.width - width(tag, tag_size) - mm(16.0),
    );
    let total_w = width(tag, tag_size) + mm(6.0) + number.width;
    let x0 = fax_box.x + (fax_box.width - total_w) / 2.0;
    let row_top = fax_box.y + mm(3.5);
    text(
        &mut els,
        x0,
        row_top + (number.size - tag_size) * 0.7,
        tag_size,
        tag,
    );
    text(
        &mut els,
        x0 + width(tag, tag_size) + mm(6.0),
        row_top,
        number.size,
        &number.text,
    );
    let to = fit_line(
        &format!("{} 行", c.sender()),
        9.5,
        7.0,
        fax_box.width - mm(8.0),
    );
    text(
        &mut els,
        fax_box.x + (fax_box.width - to.width) / 2.0,
        fax_box.bottom() - mm(3.0) - to.size,
        to.size,
        &to.text,
    );
    y = fax_box.bottom() + mm(5.0);

    // Contact.
    let contact_size = size - 0.5;
    text(
        &mut els,
        CONTENT_LEFT,
        y,
        contact_size,
        "【お問い合わせ先】",
    );
    y += contact_size * 1.6;
    let mut contact = vec![format!("{}　担当：{}", c.sender(), c.contact_person.trim())];
    let mut phone = format!("電話 {}", c.phone.trim());
    if let Some(h) = c.phone_hours.as_deref().filter(|h| !h.trim().is_empty()) {
        phone.push_str(&format!("（{}）", h.trim()));
    }
    phone.push_str(&format!("　FAX {}", c.return_fax.trim()));
    contact.push(phone);
    if let Some(e) = c.email.as_deref().filter(|e| !e.trim().is_empty()) {
        contact.push(format!("e-mail {}", e.trim()));
    }
    for l in contact {
        for (line, _) in lines(&l, contact_size, CONTENT_WIDTH - mm(6.0)) {
            text(&mut els, CONTENT_LEFT + mm(4.0), y, contact_size, &line);
            y += contact_size * 1.5;
        }
    }
    right(
        &mut els,
        CONTENT_RIGHT,
        y - contact_size * 1.5,
        size,
        "以上",
    );
    (els, y)
}

/// The addressee in the envelope window: postal code, address, facility name with 御中, and the
/// 管理No in small type (so a returned envelope can be matched too).
pub(crate) fn draw_addressee(
    page: &mut Page,
    postal_code: Option<&str>,
    address: Option<&str>,
    name: &str,
    form_code: Option<&str>,
) -> Result<(), FormError> {
    let r = WINDOW_TEXT;
    let mut y = r.y + mm(1.0);
    let x = r.x;
    if let Some(pc) = postal_code.filter(|p| !p.trim().is_empty()) {
        let pc = pc.trim().trim_start_matches('〒');
        El::Text {
            x,
            y,
            size: 10.5,
            gray: 0.0,
            text: format!("〒{pc}"),
        }
        .draw(page)?;
    }
    y += 15.0;
    if let Some(a) = address.filter(|a| !a.trim().is_empty()) {
        let (ls, s) = fit_lines(a, 10.0, 7.5, r.width, 2);
        for l in ls {
            El::Text {
                x,
                y,
                size: s,
                gray: 0.0,
                text: l,
            }
            .draw(page)?;
            y += s * 1.35;
        }
    } else {
        y += 13.5;
    }
    y = y.max(r.y + mm(13.0)) + mm(1.5);
    // Name and 御中: the name may take two lines, 御中 goes at the end of the last.
    let onchu = "御中";
    let onchu_w = width(onchu, 11.0) + mm(2.0);
    let (ls, s) = name_lines(name, r.width - onchu_w);
    let n = ls.len();
    for (i, l) in ls.into_iter().enumerate() {
        let w = width(&l, s);
        El::Text {
            x,
            y,
            size: s,
            gray: 0.0,
            text: l,
        }
        .draw(page)?;
        if i + 1 == n {
            El::Text {
                x: (x + w + mm(2.0)).min(r.right() - onchu_w + mm(2.0)),
                y: y + (s - 11.0) * 0.8,
                size: 11.0,
                gray: 0.0,
                text: onchu.into(),
            }
            .draw(page)?;
        }
        y += s * 1.35;
    }
    if let Some(code) = form_code {
        El::Text {
            x,
            y: r.bottom() - 8.0,
            size: 8.0,
            gray: 0.0,
            text: format!("管理No {code}"),
        }
        .draw(page)?;
    }
    Ok(())
}

/// The window of a blank form: 「ご担当者様」, where a person writes the name if it is posted.
pub(crate) fn draw_blank_addressee(page: &mut Page) -> Result<(), FormError> {
    let r = WINDOW_TEXT;
    El::Text {
        x: r.x,
        y: r.y + mm(15.0),
        size: 12.5,
        gray: 0.0,
        text: "医療機関・事業所　ご担当者様".into(),
    }
    .draw(page)?;
    Ok(())
}

/// The facility name in at most two lines: one line if it fits at 12.5 pt; else broken at a
/// space (法人名 / 施設名) when both halves fit, else wherever line breaking allows; shrunk, then
/// cut with 「…」, as a last resort.
fn name_lines(name: &str, max_width: f64) -> (Vec<String>, f64) {
    let name = name.trim();
    for size in [12.5, 12.0, 11.5, 11.0, 10.5] {
        if width(name, size) <= max_width {
            return (vec![name.to_owned()], size);
        }
        // Prefer the last space that leaves both parts fitting.
        let spaces: Vec<usize> = name
            .char_indices()
            .filter(|(_, c)| *c == ' ' || *c == '\u{3000}')
            .map(|(i, _)| i)
            .collect();
        for &i in spaces.iter().rev() {
            let (a, b) = (name[..i].trim(), name[i..].trim());
            if !a.is_empty()
                && !b.is_empty()
                && width(a, size) <= max_width
                && width(b, size) <= max_width
            {
                return (vec![a.to_owned(), b.to_owned()], size);
            }
        }
    }
    fit_lines(name, 12.5, 8.0, max_width, 2)
}
