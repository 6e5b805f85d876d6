//! Reading the calibration page (`capsurvey forms calibration`) back: did the printer scale the
//! page, did the fax cut its edges?
//!
//! The registration marks give the scale: the transform fitted to them compares the marks'
//! distances in the image with their printed 184 × 271 mm. The filled edge squares, whose outer
//! sides are 3, 5, 7 and 10 mm from each edge, give what the fax lost on that side: a square
//! still wholly dark was kept, one partly dark was cut through, one gone was lost.

use capsurvey_forms::calibration::calibration_layout;
use capsurvey_scan::{Identified, PageImage, crop};
use serde::Serialize;

/// Largest scale error a form survives well (1.5 %).
pub const SCALE_TOLERANCE: f64 = 0.015;
/// Edge loss that still leaves the page code's and marks' quiet zones intact (5 mm).
pub const EDGE_LOSS_OK_MM: f64 = 5.0;
/// Edge loss at which the marks or the page code are cut into (7 mm).
pub const EDGE_LOSS_LIMIT_MM: f64 = 7.0;
/// Share of a square that must be dark for it to count as kept.
const KEPT: f64 = 0.8;
/// Sampling resolution of the squares.
const PX_PER_MM: f64 = 8.0;

/// What one edge lost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EdgeLoss {
    /// `top`, `bottom`, `left`, `right`.
    pub edge: String,
    /// Dark share of each square, by its distance from the edge in millimetres.
    pub squares: Vec<(u32, f64)>,
    /// Millimetres lost from this edge: an estimate when a square was cut through, else the
    /// bound given by the nearest square kept (`at_most`).
    pub lost_mm: f64,
    /// `lost_mm` is an upper bound (the nearest square was kept whole).
    pub at_most: bool,
}

/// What the calibration page says about the printer and the fax.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CalibrationReport {
    /// Horizontal scale of the page as received (1.0 = printed and sent at 100 %).
    pub scale_x: f64,
    /// Vertical scale.
    pub scale_y: f64,
    /// Rotation, degrees.
    pub rotation_deg: f64,
    /// The sheet went through upside down.
    pub upside_down: bool,
    /// Per edge.
    pub edges: Vec<EdgeLoss>,
    /// Nothing to fix.
    pub ok: bool,
    /// What to do, one sentence per finding.
    pub advice: Vec<String>,
}

/// Measures an identified calibration page.
pub fn measure_calibration(page: &PageImage, id: &Identified) -> CalibrationReport {
    let layout = calibration_layout();
    let threshold = if page.bilevel {
        128.0
    } else {
        (id.paper + id.ink) / 2.0
    };
    let mut edges = Vec::new();
    for edge in ["top", "bottom", "left", "right"] {
        let key = format!("calibration.edge.{edge}");
        let mut squares = Vec::new();
        for b in layout.pages[0].boxes.iter().filter(|b| b.key == key) {
            let d: u32 = b
                .option
                .as_deref()
                .and_then(|o| o.parse().ok())
                .unwrap_or(0);
            // Inset a little: the printed edge blurs in a fax.
            let inner = b.rect.inflate(-capsurvey_layout::mm(0.3));
            let img = crop(page, &id.transform, &inner, PX_PER_MM);
            let dark = img
                .pixels
                .iter()
                .filter(|&&p| (p as f64) < threshold)
                .count();
            squares.push((d, dark as f64 / img.pixels.len().max(1) as f64));
        }
        squares.sort_by_key(|s| s.0);
        edges.push(edge_loss(edge, squares));
    }
    let s = id.summary;
    let mut advice = Vec::new();
    if (s.scale_x - 1.0).abs() > SCALE_TOLERANCE || (s.scale_y - 1.0).abs() > SCALE_TOLERANCE {
        advice.push(format!(
            "the page came back at {:.1} % × {:.1} % of its size: the printer or the fax scales \
             pages. Print the forms at 100 % (「実際のサイズ」, not 「用紙に合わせる」/Fit to page) \
             and send at 100 %.",
            s.scale_x * 100.0,
            s.scale_y * 100.0
        ));
    }
    for e in &edges {
        if e.lost_mm >= EDGE_LOSS_LIMIT_MM && !e.at_most {
            advice.push(format!(
                "the fax cut about {:.0} mm off the {} edge: the registration marks and page \
                 codes need {:.0} mm. Check the fax's original size setting (A4) and its margins, \
                 or scan instead.",
                e.lost_mm, e.edge, EDGE_LOSS_LIMIT_MM
            ));
        } else if e.lost_mm > EDGE_LOSS_OK_MM && !e.at_most {
            advice.push(format!(
                "the fax cut about {:.0} mm off the {} edge: forms will still read, but with \
                 little to spare.",
                e.lost_mm, e.edge
            ));
        }
    }
    let ok = advice.is_empty();
    CalibrationReport {
        scale_x: s.scale_x,
        scale_y: s.scale_y,
        rotation_deg: s.rotation_deg,
        upside_down: id.upside_down,
        edges,
        ok,
        advice,
    }
}

/// The loss of one edge from the dark shares of its squares (nearest the edge first).
fn edge_loss(edge: &str, squares: Vec<(u32, f64)>) -> EdgeLoss {
    let side = capsurvey_forms::calibration::EDGE_SQUARE / (72.0 / 25.4);
    // The farthest square not kept whole tells how far the cut reaches: it runs from d to
    // d + side millimetres from the edge, and its dark share is what is left of it.
    let (lost_mm, at_most) = match squares.iter().rev().find(|(_, share)| *share < KEPT) {
        None => (squares.first().map_or(0.0, |s| s.0 as f64), true),
        Some(&(d, share)) if share > 0.05 => (d as f64 + (1.0 - share) * side, false),
        Some(&(d, _)) => {
            // Gone entirely: the cut reaches past its inner side, but not into the next square
            // that was kept.
            let next_kept = squares.iter().find(|(dd, s)| *dd > d && *s >= KEPT);
            let reach = d as f64 + side;
            (
                next_kept.map_or(reach, |&(dn, _)| reach.min(dn as f64)),
                false,
            )
        }
    };
    EdgeLoss {
        edge: edge.to_owned(),
        squares,
        lost_mm,
        at_most,
    }
}

impl CalibrationReport {
    /// A few lines for the terminal.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "scale {:.1} % × {:.1} %, rotation {:.1}°{}\n",
            self.scale_x * 100.0,
            self.scale_y * 100.0,
            self.rotation_deg,
            if self.upside_down {
                " (fed upside down)"
            } else {
                ""
            }
        );
        for e in &self.edges {
            if e.at_most {
                s += &format!("  {:<6} lost less than {:.0} mm\n", e.edge, e.lost_mm);
            } else {
                s += &format!("  {:<6} lost about {:.1} mm\n", e.edge, e.lost_mm);
            }
        }
        if self.ok {
            s += "  OK: printer and fax keep the form's size and margins.\n";
        }
        for a in &self.advice {
            s += &format!("  fix: {a}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_from_square_shares() {
        let kept = edge_loss("top", vec![(3, 1.0), (5, 1.0), (7, 1.0), (10, 1.0)]);
        assert_eq!((kept.lost_mm, kept.at_most), (3.0, true));
        // The 3 mm square is half gone: the cut is 1.5 mm into it.
        let cut = edge_loss("top", vec![(3, 0.5), (5, 1.0), (7, 1.0), (10, 1.0)]);
        assert!(!cut.at_most);
        assert!((cut.lost_mm - 4.5).abs() < 0.01, "{}", cut.lost_mm);
        // The first two are gone and the third is whole: at least 5 + 3 mm... bounded by 7.
        let gone = edge_loss("left", vec![(3, 0.0), (5, 0.0), (7, 1.0), (10, 1.0)]);
        assert!(!gone.at_most);
        assert!(
            gone.lost_mm >= 6.0 && gone.lost_mm <= 8.0,
            "{}",
            gone.lost_mm
        );
        let all = edge_loss("left", vec![(3, 0.0), (5, 0.0), (7, 0.0), (10, 0.0)]);
        assert_eq!(all.lost_mm, 13.0);
    }
}
