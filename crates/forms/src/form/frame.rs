//! The frame every page shares: registration marks, the two page codes, header and footer.
//!
//! All of it is fixed by constants, the same on every page of every survey, so recognition can
//! find the marks and codes before it knows which form it is reading. The positions of marks and
//! codes are defined in [`capsurvey_layout::frame`] (the contract); this module adds the areas
//! of the page that only the forms use (content, header, footer) and draws the frame.
//!
//! - **Registration marks**: filled black squares of [`MARK_SIZE`] (6 mm) whose centres are
//!   [`MARK_INSET`] (13 mm) inside the page edges, with a white quiet zone of [`MARK_QUIET`]
//!   (3 mm) around them. Fax machines lose about 4–5 mm at the edges; the marks keep 10 mm.
//! - **Page codes**: 16×4 modules of [`MODULE`] (2.8 mm: about 22×11 pixels at fax standard
//!   resolution, 204×98 dpi), printed twice: at the top right and at the bottom left, exactly
//!   point-symmetric about the page centre. On a page fed upside down the bottom-left copy lands
//!   where the top-right one was (turned by 180°, which [`capsurvey_layout::PageCode::from_modules`]
//!   reads), so the predicted position always holds a copy. One module of quiet zone at least.

use capsurvey_layout::pagecode;

use crate::geom::{Rect, mm};
use crate::pdf::Page;

// The frame constants are part of the contract with recognition, so they live in the layout
// crate; they are re-exported here for the drawing code.
pub use capsurvey_layout::frame::{
    CODE_END_INSET, CODE_HEIGHT, CODE_QUIET, CODE_SIDE_INSET, CODE_WIDTH, MARK_INSET, MARK_QUIET,
    MARK_SIZE, MODULE, code_areas, registration_marks, round3,
};

/// Left edge of the content area (18 mm).
pub const CONTENT_LEFT: f64 = mm(18.0);
/// Right edge of the content area (192 mm).
pub const CONTENT_RIGHT: f64 = mm(192.0);
/// Width of the content area (174 mm).
pub const CONTENT_WIDTH: f64 = CONTENT_RIGHT - CONTENT_LEFT;
/// Top of the question area on question pages, below header and marking instructions.
pub const QUESTIONS_TOP: f64 = mm(43.0);
/// Bottom of the content area on every page.
pub const CONTENT_BOTTOM: f64 = mm(269.0);

/// Left end of the header text (after the top-left mark's quiet zone).
pub const HEADER_LEFT: f64 = mm(21.0);
/// Right end of the header text left of the top-right page code.
pub const HEADER_TEXT_RIGHT: f64 = mm(134.0);
/// Top of the survey title line in the header.
pub const HEADER_TITLE_Y: f64 = mm(9.0);
/// Top of the return-FAX line in the header.
pub const HEADER_FAX_Y: f64 = mm(13.5);
/// Top of the facility / 管理No line under the header.
pub const HEADER_ID_Y: f64 = mm(24.5);
/// Right end of the facility name in the header (the 管理No follows).
pub const HEADER_NAME_RIGHT: f64 = mm(150.0);
/// Where the header rule is drawn.
pub const HEADER_RULE_Y: f64 = mm(29.0);
/// Top of the footer line (page number, return FAX).
pub const FOOTER_Y: f64 = mm(277.0);
/// Right end of the footer FAX text (before the bottom-right mark's quiet zone).
pub const FOOTER_RIGHT: f64 = mm(189.0);

/// Draws the four registration marks.
pub(crate) fn draw_marks(page: &mut Page) {
    for m in registration_marks() {
        page.fill_rect(
            Rect::new(m.cx - m.size / 2.0, m.cy - m.size / 2.0, m.size, m.size),
            0.0,
        );
    }
}

/// Draws both copies of a page code given as 64 modules (row by row, `true` = dark).
pub(crate) fn draw_codes(page: &mut Page, modules: &[bool; pagecode::BITS]) {
    for area in code_areas() {
        page.fill_cells(
            (area.x, area.y),
            area.module,
            (pagecode::COLUMNS, pagecode::ROWS),
            0.0,
            |c, r| modules[r * pagecode::COLUMNS + c],
        );
    }
}
