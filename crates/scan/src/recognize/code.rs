//! Reading the page code through the registration transform.
//!
//! Each module is sampled over the middle of its square (a 5×5 grid of points spanning 60 % of
//! the module, so half a millimetre of transform error still lands inside), and the 64
//! darkness values are split into dark and light by the threshold that best separates them
//! (Otsu's criterion over the code's own values: no page-wide threshold is needed, and grey
//! scans with a tinted background read the same as fax). If the CRC fails, the sampling grid
//! is moved by fractions of a module and tried again. A copy counts only when its CRC passes.

use capsurvey_layout::frame::code_areas;
use capsurvey_layout::pagecode::{BITS, COLUMNS, ROWS};
use capsurvey_layout::{CodeArea, PageCode};

use super::transform::{PT_PER_MM, Transform};
use crate::PageImage;

/// A copy that read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CodeRead {
    pub code: PageCode,
    /// The copy read as turned by 180°.
    pub turned: bool,
    /// Mean grey of the dark and light modules: the page's ink and paper levels.
    pub ink: f64,
    pub paper: f64,
}

/// How both copies read.
#[derive(Debug, Clone)]
pub(crate) enum CodeOutcome {
    /// At least one copy read; both agree where both read.
    Read { read: CodeRead, copies: usize },
    /// Neither copy passed its check.
    Unreadable,
    /// The two copies read differently (should never happen with a capsurvey page).
    Conflict,
}

/// Offsets tried when the straight read fails, in millimetres.
const OFFSETS_MM: [(f64, f64); 9] = [
    (0.0, 0.0),
    (0.5, 0.0),
    (-0.5, 0.0),
    (0.0, 0.5),
    (0.0, -0.5),
    (0.5, 0.5),
    (-0.5, -0.5),
    (0.5, -0.5),
    (-0.5, 0.5),
];

/// Reads both copies with `t` (page points to image pixels, page assumed upright).
pub(crate) fn read_codes(page: &PageImage, t: &Transform) -> CodeOutcome {
    let reads: Vec<Option<CodeRead>> = code_areas()
        .iter()
        .map(|area| read_copy(page, t, area))
        .collect();
    match (reads[0], reads[1]) {
        (Some(a), Some(b)) => {
            if a.code == b.code && a.turned == b.turned {
                CodeOutcome::Read { read: a, copies: 2 }
            } else {
                CodeOutcome::Conflict
            }
        }
        (Some(a), None) | (None, Some(a)) => CodeOutcome::Read { read: a, copies: 1 },
        (None, None) => CodeOutcome::Unreadable,
    }
}

fn read_copy(page: &PageImage, t: &Transform, area: &CodeArea) -> Option<CodeRead> {
    for &(dx, dy) in &OFFSETS_MM {
        let values = sample(page, t, area, dx * PT_PER_MM, dy * PT_PER_MM);
        let Some((thr, ink, paper)) = split(&values) else {
            continue;
        };
        let modules: [bool; BITS] = std::array::from_fn(|i| values[i] > thr);
        if let Ok((code, turned)) = PageCode::from_modules(&modules) {
            return Some(CodeRead {
                code,
                turned,
                ink: 255.0 * (1.0 - ink),
                paper: 255.0 * (1.0 - paper),
            });
        }
    }
    None
}

/// Mean darkness (0 white … 1 black) of each module's middle, row by row.
fn sample(page: &PageImage, t: &Transform, area: &CodeArea, dx: f64, dy: f64) -> [f64; BITS] {
    const N: usize = 5;
    let (w, h) = (page.width as i64, page.height as i64);
    std::array::from_fn(|i| {
        let (r, c) = (i / COLUMNS, i % COLUMNS);
        debug_assert!(r < ROWS);
        let mut sum = 0.0;
        let mut n = 0;
        for sy in 0..N {
            for sx in 0..N {
                let fx = 0.2 + 0.6 * (sx as f64 + 0.5) / N as f64;
                let fy = 0.2 + 0.6 * (sy as f64 + 0.5) / N as f64;
                let x = area.x + (c as f64 + fx) * area.module + dx;
                let y = area.y + (r as f64 + fy) * area.module + dy;
                let (px, py) = t.apply(x, y);
                let (px, py) = (px.floor() as i64, py.floor() as i64);
                if px >= 0 && py >= 0 && px < w && py < h {
                    sum += 1.0 - page.pixels[(py * w + px) as usize] as f64 / 255.0;
                    n += 1;
                }
            }
        }
        if n == 0 { 0.0 } else { sum / n as f64 }
    })
}

/// Otsu's threshold over the 64 module values: `(threshold, dark mean, light mean)`, or `None`
/// when the values do not form two distinct groups.
fn split(values: &[f64; BITS]) -> Option<(f64, f64, f64)> {
    let mut v = *values;
    v.sort_by(f64::total_cmp);
    let total: f64 = v.iter().sum();
    let mut best = (0.0, 0usize);
    let mut low = 0.0;
    for k in 1..BITS {
        low += v[k - 1];
        let (n0, n1) = (k as f64, (BITS - k) as f64);
        let (m0, m1) = (low / n0, (total - low) / n1);
        let between = n0 * n1 * (m1 - m0) * (m1 - m0);
        if between > best.0 {
            best = (between, k);
        }
    }
    let k = best.1;
    if k == 0 {
        return None;
    }
    let light = v[..k].iter().sum::<f64>() / k as f64;
    let dark = v[k..].iter().sum::<f64>() / (BITS - k) as f64;
    // A printed code has black modules on white paper: demand a clear contrast.
    if dark - light < 0.25 {
        return None;
    }
    Some(((v[k - 1] + v[k]) / 2.0, dark, light))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn otsu_splits_the_module_values() {
        let mut v = [0.05; BITS];
        for (i, x) in v.iter_mut().enumerate() {
            if i % 3 == 0 {
                *x = 0.9 - (i as f64) * 0.001;
            }
        }
        let (thr, dark, light) = split(&v).unwrap();
        assert!(thr > 0.05 && thr < 0.84, "{thr}");
        assert!(dark > 0.8 && light < 0.1);
        // No contrast: no reading.
        assert!(split(&[0.5; BITS]).is_none());
        let mut flat = [0.4; BITS];
        flat[0] = 0.5;
        assert!(split(&flat).is_none());
    }
}
