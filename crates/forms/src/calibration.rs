//! The calibration page: printed, faxed (or scanned) back and read, it tells the administrator
//! whether their printer scaled the page (「用紙に合わせる」) or their fax cut the edges, before
//! hundreds of forms go out.
//!
//! The page carries
//!
//! - the four registration marks and both page codes of every form, at the same places; the page
//!   code is the reserved **calibration code**: survey version id 0, mailing id 0, page 1
//!   (survey version ids in the store start at 1, so no form page has it);
//! - rows of filled 3 mm squares near the middle of each edge, whose outer side is 3, 5, 7 and
//!   10 mm from that edge ([`EDGE_DISTANCES_MM`]); they are the boxes of the calibration layout
//!   ([`calibration_layout`]), keyed `calibration.edge.top` (`.bottom`, `.left`, `.right`) with
//!   the distance in millimetres as option code;
//! - a 130 × 130 mm grid of 10 mm squares with millimetre rulers, to check the scale by eye;
//! - instructions: print it as usual, fax it from the machine the replies will come from.
//!
//! What the scan side measures (documented in `docs/layout-format.md`): the distances between the
//! mark centres against their nominal 184 mm and 271 mm at the image's resolution give the
//! horizontal and vertical scale (a printer that fits A4 to its printable area prints at about
//! 94–97 %); how much of each edge square is still dark gives how many millimetres the fax lost
//! on that side; the page code must read in at least one copy.

use capsurvey_layout::{AnswerBox, BoxKind, Layout, PageCode, PageKind, PageLayout};

use crate::campaign::Campaign;
use crate::form::FormError;
use crate::form::draw::{El, width};
use crate::form::frame::{self, round3};
use crate::geom::{A4_HEIGHT, A4_WIDTH, Rect, Stroke, mm};
use crate::pdf::{Document, DocumentInfo, Page};

/// The survey version id of the calibration code (no stored version has it).
pub const CALIBRATION_SURVEY_VERSION_ID: u32 = 0;
/// The calibration code printed on the page.
pub const CALIBRATION_CODE: PageCode = PageCode {
    survey_version_id: CALIBRATION_SURVEY_VERSION_ID,
    mailing_id: 0,
    page: 1,
};
/// Distances of the edge squares' outer sides from their edge, in millimetres.
pub const EDGE_DISTANCES_MM: [u32; 4] = [3, 5, 7, 10];
/// Side of an edge square (3 mm).
pub const EDGE_SQUARE: f64 = mm(3.0);
/// Survey id written into the calibration layout.
pub const CALIBRATION_SURVEY_ID: &str = "calibration";

/// The edges, in the order of the layout's boxes.
const EDGES: [&str; 4] = ["top", "bottom", "left", "right"];

/// Spacing of the squares along their edge (8 mm).
const SQUARE_PITCH: f64 = mm(8.0);

/// The squares of one edge: (distance in mm, square, label position and text).
fn edge_squares(edge: &str) -> Vec<(u32, Rect, f64, f64)> {
    let n = EDGE_DISTANCES_MM.len() as f64;
    EDGE_DISTANCES_MM
        .iter()
        .enumerate()
        .map(|(i, &d)| {
            let along =
                |mid: f64| mid + (i as f64 - (n - 1.0) / 2.0) * SQUARE_PITCH - EDGE_SQUARE / 2.0;
            let dist = mm(f64::from(d));
            let (r, lx, ly) = match edge {
                "top" => {
                    let r = Rect::new(along(A4_WIDTH / 2.0), dist, EDGE_SQUARE, EDGE_SQUARE);
                    (r, r.x, mm(15.0))
                }
                "bottom" => {
                    let r = Rect::new(
                        along(A4_WIDTH / 2.0),
                        A4_HEIGHT - dist - EDGE_SQUARE,
                        EDGE_SQUARE,
                        EDGE_SQUARE,
                    );
                    (r, r.x, A4_HEIGHT - mm(15.0) - 8.0)
                }
                "left" => {
                    let r = Rect::new(dist, along(A4_HEIGHT / 2.0), EDGE_SQUARE, EDGE_SQUARE);
                    (r, mm(15.0), r.y)
                }
                _ => {
                    let r = Rect::new(
                        A4_WIDTH - dist - EDGE_SQUARE,
                        along(A4_HEIGHT / 2.0),
                        EDGE_SQUARE,
                        EDGE_SQUARE,
                    );
                    (r, A4_WIDTH - mm(15.0) - width(&d.to_string(), 8.0), r.y)
                }
            };
            (d, r, lx, ly)
        })
        .collect()
}

/// The layout of the calibration page: marks, codes, and the edge squares as boxes.
pub fn calibration_layout() -> Layout {
    let mut boxes = Vec::new();
    for edge in EDGES {
        for (d, r, lx, ly) in edge_squares(edge) {
            let label = capsurvey_layout::Rect {
                x: round3(lx),
                y: round3(ly),
                w: round3(width(&d.to_string(), 8.0)),
                h: 8.0,
            };
            boxes.push(AnswerBox {
                key: format!("calibration.edge.{edge}"),
                option: Some(d.to_string()),
                digit: None,
                kind: BoxKind::Choice,
                rect: capsurvey_layout::Rect {
                    x: round3(r.x),
                    y: round3(r.y),
                    w: round3(r.width),
                    h: round3(r.height),
                },
                label_rect: Some(label),
                question_rect: None,
            });
        }
    }
    Layout {
        format: crate::form::LAYOUT_FORMAT,
        survey_id: CALIBRATION_SURVEY_ID.into(),
        survey_version: 1,
        content_hash: "calibration-v1".into(),
        page_size: capsurvey_layout::A4,
        pages: vec![PageLayout {
            number: 1,
            kind: PageKind::Calibration,
            registration_marks: frame::registration_marks(),
            page_codes: frame::code_areas(),
            boxes,
        }],
    }
}

/// The calibration page as a one-page document. With campaign settings, the return FAX number
/// and the sender are printed too.
pub fn calibration_document(campaign: Option<&Campaign>) -> Result<Document, FormError> {
    let mut doc = Document::with_info(DocumentInfo {
        title: "印刷・FAX確認用紙".into(),
        author: campaign.map(Campaign::sender),
        subject: Some("capsurvey calibration page".into()),
    });
    let page = doc.add_page();
    frame::draw_marks(page);
    frame::draw_codes(page, &CALIBRATION_CODE.modules()?);
    for edge in EDGES {
        for (d, r, lx, ly) in edge_squares(edge) {
            page.fill_rect(r, 0.0);
            El::Text {
                x: lx,
                y: ly,
                size: 8.0,
                gray: 0.0,
                text: d.to_string(),
            }
            .draw(page)?;
        }
    }
    let l = frame::CONTENT_LEFT + mm(4.0);
    let text = |page: &mut Page, x: f64, y: f64, size: f64, t: &str| {
        El::Text {
            x,
            y,
            size,
            gray: 0.0,
            text: t.into(),
        }
        .draw(page)
    };
    text(
        page,
        A4_WIDTH - frame::CODE_SIDE_INSET - width("確認用紙", 9.5),
        frame::HEADER_ID_Y,
        9.5,
        "確認用紙",
    )?;
    let title = "印刷・FAX確認用紙";
    text(
        page,
        (A4_WIDTH - width(title, 18.0)) / 2.0,
        mm(30.0),
        18.0,
        title,
    )?;
    let lead = "この用紙を通常どおり印刷してFAXで返送してください";
    text(
        page,
        (A4_WIDTH - width(lead, 12.0)) / 2.0,
        mm(40.0),
        12.0,
        lead,
    )?;
    let mut y = mm(49.0);
    let steps = [
        "調査票を送る前に、プリンターでの拡大・縮小や、FAXで用紙の端が欠けないかを確かめるための用紙です。",
        "1. 調査票を印刷するときと同じプリンター・同じ設定で、この用紙を印刷してください。",
        "2. 印刷した用紙を、回答の受信に使うFAX機あてに、普段と同じ画質（普通・標準）で送信してください。",
        "3. 受信した画像を capsurvey に取り込むと、拡大・縮小の有無と、FAXで欠けた端の幅を確認できます。",
        "四隅の黒い四角、上下のコード、四辺の小さな黒い四角（数字は用紙の端からの距離mm）は確認に使います。",
        "書き込んだり切り取ったりしないでください。下の方眼は10mm間隔です。",
    ];
    for s in steps {
        for (line, _) in crate::form::draw::lines(s, 9.5, mm(165.0)) {
            text(page, l, y, 9.5, &line)?;
            y += 14.0;
        }
    }
    if let Some(c) = campaign {
        y += 4.0;
        text(
            page,
            l,
            y,
            11.0,
            &format!("FAX送信先　{}（{}）", c.return_fax.trim(), c.sender()),
        )?;
    }

    // The grid with millimetre rulers on its top and left sides.
    let (gx, gy, size) = (mm(40.0), mm(112.0), mm(130.0));
    let thin = Stroke::new(0.4);
    for i in 0..=13 {
        let o = mm(10.0 * f64::from(i));
        page.line(gx + o, gy, gx + o, gy + size, thin);
        page.line(gx, gy + o, gx + size, gy + o, thin);
        let n = (10 * i).to_string();
        text(page, gx + o - width(&n, 7.0) / 2.0, gy - mm(6.0), 7.0, &n)?;
        text(page, gx - mm(6.0) - width(&n, 7.0), gy + o - 3.5, 7.0, &n)?;
    }
    for i in 0..=130 {
        let o = mm(f64::from(i));
        let len = if i % 10 == 0 {
            mm(3.0)
        } else if i % 5 == 0 {
            mm(2.0)
        } else {
            mm(1.2)
        };
        page.line(gx + o, gy, gx + o, gy - len, Stroke::new(0.3));
        page.line(gx, gy + o, gx - len, gy + o, Stroke::new(0.3));
    }
    page.stroke_rect(Rect::new(gx, gy, size, size), Stroke::new(0.8));
    let note = "capsurvey 確認用紙（調査票ではありません）";
    text(
        page,
        (A4_WIDTH - width(note, 8.0)) / 2.0,
        gy + size + mm(6.0),
        8.0,
        note,
    )?;
    Ok(doc)
}
