//! The geometric link between the printed page and a scanned image.

use serde::{Deserialize, Serialize};

/// Points per millimetre.
pub(crate) const PT_PER_MM: f64 = 72.0 / 25.4;

/// An affine map from page points (origin at the page's top-left, y down, as in the layout file)
/// to image pixels (origin at the image's top-left pixel corner, y down).
///
/// `px = m[0]·x + m[1]·y + m[2]`, `py = m[3]·x + m[4]·y + m[5]`.
///
/// Affine rather than a similarity because fax pages are not uniformly scaled: the horizontal
/// scale comes from the scanner's sensor and the vertical one from the paper feed, and pixels
/// need not be square (204×98 dpi).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Transform {
    /// The six coefficients, row by row.
    pub m: [f64; 6],
}

/// A page point and the image point it should map to.
pub type PointPair = ((f64, f64), (f64, f64));

/// A human-readable account of a [`Transform`] for reports ("transform found").
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TransformSummary {
    /// How far the page is turned in the image, degrees, counter-clockwise positive as seen on
    /// screen; about 180 for a page fed upside down.
    pub rotation_deg: f64,
    /// Horizontal scale relative to the image's stated resolution (1.0 = exact).
    pub scale_x: f64,
    /// Vertical scale relative to the image's stated resolution (1.0 = exact).
    pub scale_y: f64,
    /// Where the page's top-left corner lies in the image, millimetres from the image's
    /// left edge.
    pub shift_x_mm: f64,
    /// … and from the image's top edge.
    pub shift_y_mm: f64,
    /// Shear: how far the page's axes are from perpendicular in the image, degrees.
    pub shear_deg: f64,
}

impl Transform {
    /// The transform of an image that shows the page exactly at `dpi_x` × `dpi_y`, unrotated,
    /// with the page's top-left corner at the image's top-left corner.
    pub fn nominal(dpi_x: f64, dpi_y: f64) -> Transform {
        Transform {
            m: [dpi_x / 72.0, 0.0, 0.0, 0.0, dpi_y / 72.0, 0.0],
        }
    }

    /// Maps a page point to image pixel coordinates.
    #[inline]
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.m;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    /// The inverse map (image pixels to page points), or `None` if the transform is degenerate.
    pub fn inverse(&self) -> Option<Transform> {
        let m = &self.m;
        let det = m[0] * m[4] - m[1] * m[3];
        if det.abs() < 1e-12 || !det.is_finite() {
            return None;
        }
        let (a, b, d, e) = (m[4] / det, -m[1] / det, -m[3] / det, m[0] / det);
        Some(Transform {
            m: [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])],
        })
    }

    /// `self` after `first`: maps `p` to `self.apply(first.apply(p))`.
    pub fn compose(&self, first: &Transform) -> Transform {
        let (a, b) = (&self.m, &first.m);
        Transform {
            m: [
                a[0] * b[0] + a[1] * b[3],
                a[0] * b[1] + a[1] * b[4],
                a[0] * b[2] + a[1] * b[5] + a[2],
                a[3] * b[0] + a[4] * b[3],
                a[3] * b[1] + a[4] * b[4],
                a[3] * b[2] + a[4] * b[5] + a[5],
            ],
        }
    }

    /// The page turned by 180° within a page of `width` × `height` points, then `self`: the
    /// transform of the same image read as the other way up.
    pub fn turned(&self, width: f64, height: f64) -> Transform {
        let half_turn = Transform {
            m: [-1.0, 0.0, width, 0.0, -1.0, height],
        };
        self.compose(&half_turn)
    }

    /// Least-squares affine fit from page points to image points; needs at least three pairs
    /// not on one line. Returns the transform and the residual distances in image pixels.
    pub fn fit(pairs: &[PointPair]) -> Option<(Transform, Vec<(f64, f64)>)> {
        if pairs.len() < 3 {
            return None;
        }
        // Centre the page points for a well-conditioned 3×3 normal system.
        let n = pairs.len() as f64;
        let (mx, my) = pairs
            .iter()
            .fold((0.0, 0.0), |(sx, sy), ((x, y), _)| (sx + x / n, sy + y / n));
        let mut ata = [[0.0f64; 3]; 3];
        let mut atu = [0.0f64; 3];
        let mut atv = [0.0f64; 3];
        for &((x, y), (u, v)) in pairs {
            let row = [x - mx, y - my, 1.0];
            for i in 0..3 {
                for j in 0..3 {
                    ata[i][j] += row[i] * row[j];
                }
                atu[i] += row[i] * u;
                atv[i] += row[i] * v;
            }
        }
        let pu = solve3(ata, atu)?;
        let pv = solve3(ata, atv)?;
        // Undo the centring: c = p2 - p0·mx - p1·my.
        let t = Transform {
            m: [
                pu[0],
                pu[1],
                pu[2] - pu[0] * mx - pu[1] * my,
                pv[0],
                pv[1],
                pv[2] - pv[0] * mx - pv[1] * my,
            ],
        };
        let residuals = pairs
            .iter()
            .map(|&((x, y), (u, v))| {
                let (pu, pv) = t.apply(x, y);
                (u - pu, v - pv)
            })
            .collect();
        Some((t, residuals))
    }

    /// The transform in millimetres on both sides (page mm to image mm), given the image's
    /// resolution: `[a, b, c, d, e, f]` as in [`Transform::m`].
    fn in_mm(&self, dpi_x: f64, dpi_y: f64) -> [f64; 6] {
        let (kx, ky) = (25.4 / dpi_x, 25.4 / dpi_y);
        let m = &self.m;
        [
            m[0] * kx * PT_PER_MM,
            m[1] * kx * PT_PER_MM,
            m[2] * kx,
            m[3] * ky * PT_PER_MM,
            m[4] * ky * PT_PER_MM,
            m[5] * ky,
        ]
    }

    /// Rotation, scales, shift and shear for reports, relative to the image's stated
    /// resolution.
    pub fn summary(&self, dpi_x: f64, dpi_y: f64) -> TransformSummary {
        let [a, b, c, d, e, f] = self.in_mm(dpi_x, dpi_y);
        let rotation = d.atan2(a);
        let shear = (e.atan2(b) - rotation - std::f64::consts::FRAC_PI_2).to_degrees();
        let shear = (shear + 540.0).rem_euclid(360.0) - 180.0;
        TransformSummary {
            // Image y grows downwards, so a page turned counter-clockwise on screen has d < 0.
            rotation_deg: -rotation.to_degrees(),
            scale_x: a.hypot(d),
            scale_y: b.hypot(e),
            shift_x_mm: c,
            shift_y_mm: f,
            shear_deg: shear,
        }
    }

    /// Image pixels per page point along the page's x and y axes (local scale).
    pub(crate) fn px_per_pt(&self) -> (f64, f64) {
        let m = &self.m;
        (m[0].hypot(m[3]), m[1].hypot(m[4]))
    }
}

/// Solves a 3×3 linear system by Gaussian elimination with partial pivoting.
fn solve3(mut a: [[f64; 3]; 3], mut b: [f64; 3]) -> Option<[f64; 3]> {
    for col in 0..3 {
        let pivot = (col..3).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-9 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..3 {
            let k = a[row][col] / a[col][col];
            let pivot_row = a[col];
            for (x, p) in a[row].iter_mut().zip(pivot_row).skip(col) {
                *x -= k * p;
            }
            b[row] -= k * b[col];
        }
    }
    let mut x = [0.0; 3];
    for row in (0..3).rev() {
        let s: f64 = (row + 1..3).map(|c| a[row][c] * x[c]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Transform {
        // 2° rotation, 204×98 dpi, shifted.
        let (s, c) = 2f64.to_radians().sin_cos();
        let (kx, ky) = (204.0 / 72.0, 98.0 / 72.0);
        Transform {
            m: [c * kx, s * kx, 30.0, -s * ky, c * ky, -12.0],
        }
    }

    #[test]
    fn inverse_and_compose() {
        let t = example();
        let inv = t.inverse().unwrap();
        let (u, v) = t.apply(100.0, 700.0);
        let (x, y) = inv.apply(u, v);
        assert!((x - 100.0).abs() < 1e-9 && (y - 700.0).abs() < 1e-9);
        let id = t.compose(&inv);
        assert!((id.m[0] - 1.0).abs() < 1e-12 && id.m[1].abs() < 1e-12);
        let turned = t.turned(595.276, 841.89);
        let (a, b) = turned.apply(0.0, 0.0);
        let (c, d) = t.apply(595.276, 841.89);
        assert!((a - c).abs() < 1e-9 && (b - d).abs() < 1e-9);
    }

    #[test]
    fn fit_recovers_and_summarises() {
        let t = example();
        let pts = [
            (36.85, 36.85),
            (558.4, 36.85),
            (36.85, 805.0),
            (558.4, 805.0),
        ];
        let pairs: Vec<_> = pts.iter().map(|&(x, y)| ((x, y), t.apply(x, y))).collect();
        let (fitted, res) = Transform::fit(&pairs).unwrap();
        for (a, b) in fitted.m.iter().zip(t.m) {
            assert!((a - b).abs() < 1e-6, "{fitted:?}");
        }
        assert!(res.iter().all(|r| r.0.abs() < 1e-6 && r.1.abs() < 1e-6));
        let s = fitted.summary(204.0, 98.0);
        assert!((s.rotation_deg - 2.0).abs() < 1e-6, "{s:?}");
        assert!((s.scale_x - 1.0).abs() < 1e-9 && (s.scale_y - 1.0).abs() < 1e-9);
        assert!(s.shear_deg.abs() < 1e-9);
        assert!((s.shift_x_mm - 30.0 * 25.4 / 204.0).abs() < 1e-9);
        let turned = fitted.turned(595.276, 841.89).summary(204.0, 98.0);
        assert!(
            (turned.rotation_deg.abs() - 178.0).abs() < 1e-6,
            "{turned:?}"
        );
        assert!(Transform::fit(&pairs[..2]).is_none());
        let collinear = [
            ((0.0, 0.0), (0.0, 0.0)),
            ((1.0, 1.0), (1.0, 1.0)),
            ((2.0, 2.0), (2.0, 2.0)),
        ];
        assert!(Transform::fit(&collinear).is_none());
    }
}
