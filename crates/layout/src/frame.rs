//! The standard frame every printed page shares: four registration marks and two page codes.
//!
//! These positions are fixed for every page of every survey (A4 portrait), so recognition can
//! find the marks and read the page code *before* it knows which survey a sheet belongs to. The
//! forms crate draws them; the scan crate looks for them. All values are in PDF points from the
//! page's top-left corner, rounded to 1/1000 pt like the layout file.
//!
//! - **Registration marks**: filled squares of [`MARK_SIZE`] (6 mm) whose centres are
//!   [`MARK_INSET`] (13 mm) inside the two nearest page edges, with a white quiet zone of
//!   [`MARK_QUIET`] (3 mm) around them. Fax machines lose about 4–5 mm at the edges; the marks
//!   keep 10 mm. The four marks are point-symmetric about the page centre, so an upside-down
//!   page is told apart by the page code, not the marks.
//! - **Page codes**: [`pagecode::COLUMNS`]×[`pagecode::ROWS`] modules of [`MODULE`] (2.8 mm),
//!   printed twice: top right and bottom left, exactly point-symmetric about the page centre.

use crate::model::{A4, CodeArea, Mark, mm};
use crate::pagecode;

/// Side of a registration mark (6 mm).
pub const MARK_SIZE: f64 = mm(6.0);
/// Distance of a mark's centre from the two nearest page edges (13 mm).
pub const MARK_INSET: f64 = mm(13.0);
/// White space kept around each mark (3 mm).
pub const MARK_QUIET: f64 = mm(3.0);
/// Side of one page-code module (2.8 mm).
pub const MODULE: f64 = mm(2.8);
/// Width of a page code (16 modules).
pub const CODE_WIDTH: f64 = MODULE * pagecode::COLUMNS as f64;
/// Height of a page code (4 modules).
pub const CODE_HEIGHT: f64 = MODULE * pagecode::ROWS as f64;
/// White space kept around each page code (one module).
pub const CODE_QUIET: f64 = MODULE;
/// Distance of the page codes from the nearest side edge (25.2 mm).
pub const CODE_SIDE_INSET: f64 = mm(25.2);
/// Distance of the page codes from the top (first copy) or bottom (second copy) edge (10 mm).
pub const CODE_END_INSET: f64 = mm(10.0);

/// Rounds to 1/1000 pt, the precision of the layout file and the PDF.
pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The four registration marks: top-left, top-right, bottom-left, bottom-right.
pub fn registration_marks() -> [Mark; 4] {
    let (l, r) = (MARK_INSET, A4.width - MARK_INSET);
    let (t, b) = (MARK_INSET, A4.height - MARK_INSET);
    [(l, t), (r, t), (l, b), (r, b)].map(|(cx, cy)| Mark {
        cx: round3(cx),
        cy: round3(cy),
        size: round3(MARK_SIZE),
    })
}

/// The two page-code positions: top right, then bottom left (point-symmetric).
pub fn code_areas() -> [CodeArea; 2] {
    let first = CodeArea {
        x: round3(A4.width - CODE_SIDE_INSET - CODE_WIDTH),
        y: round3(CODE_END_INSET),
        module: round3(MODULE),
    };
    let second = CodeArea {
        x: round3(CODE_SIDE_INSET),
        y: round3(A4.height - CODE_END_INSET - CODE_HEIGHT),
        module: round3(MODULE),
    };
    [first, second]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rect;

    #[test]
    fn marks_and_codes_are_point_symmetric_and_apart() {
        let marks = registration_marks();
        for (a, b) in [(0, 3), (1, 2)] {
            assert!((marks[a].cx + marks[b].cx - A4.width).abs() < 0.002);
            assert!((marks[a].cy + marks[b].cy - A4.height).abs() < 0.002);
        }
        let [a, b] = code_areas();
        let (ra, rb) = (a.rect(), b.rect());
        assert!((ra.x + ra.w + rb.x - A4.width).abs() < 0.01);
        assert!((ra.y + ra.h + rb.y - A4.height).abs() < 0.01);
        for m in marks {
            let mark = Rect {
                x: m.cx - m.size / 2.0,
                y: m.cy - m.size / 2.0,
                w: m.size,
                h: m.size,
            };
            for code in [ra, rb] {
                assert!(!mark.inflate(MARK_QUIET).overlaps(&code.inflate(CODE_QUIET)));
            }
        }
        assert_eq!(marks[0].cx, 36.85);
        assert_eq!(marks[0].size, 17.008);
        assert_eq!(a.module, 7.937);
    }
}
