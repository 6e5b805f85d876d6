//! Page geometry: units and rectangles in PDF points, origin at the page's top-left.
//!
//! All public coordinates of this crate are in points (1/72 inch) measured from the
//! **top-left** corner of the page with y growing **downwards**, the way the form layout
//! thinks. The conversion to PDF's bottom-left origin happens once, when a drawing
//! operation is recorded (see [`crate::pdf::Page`]).

/// Width of an A4 page in points (210 mm).
pub const A4_WIDTH: f64 = 595.276;
/// Height of an A4 page in points (297 mm).
pub const A4_HEIGHT: f64 = 841.89;

/// Converts millimetres to points.
///
/// ```
/// assert!((capsurvey_forms::mm(25.4) - 72.0).abs() < 1e-9);
/// ```
pub const fn mm(millimetres: f64) -> f64 {
    millimetres * 72.0 / 25.4
}

/// Converts points to millimetres.
pub const fn pt_to_mm(points: f64) -> f64 {
    points * 25.4 / 72.0
}

/// An axis-aligned rectangle: top-left corner `(x, y)` and size, in points, y downwards.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Rect {
    /// Left edge.
    pub x: f64,
    /// Top edge (distance from the top of the page).
    pub y: f64,
    /// Width (to the right).
    pub width: f64,
    /// Height (downwards).
    pub height: f64,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub const fn new(x: f64, y: f64, width: f64, height: f64) -> Self {
        Self {
            x,
            y,
            width,
            height,
        }
    }

    /// The rectangle spanning two corners, in any order.
    pub fn from_corners(x1: f64, y1: f64, x2: f64, y2: f64) -> Self {
        Self::new(x1.min(x2), y1.min(y2), (x2 - x1).abs(), (y2 - y1).abs())
    }

    /// Right edge.
    pub fn right(&self) -> f64 {
        self.x + self.width
    }

    /// Bottom edge.
    pub fn bottom(&self) -> f64 {
        self.y + self.height
    }

    /// Centre point `(x, y)`.
    pub fn center(&self) -> (f64, f64) {
        (self.x + self.width / 2.0, self.y + self.height / 2.0)
    }

    /// The rectangle shrunk by `d` on every side (grown if `d` is negative).
    pub fn inset(&self, d: f64) -> Self {
        Self::new(
            self.x + d,
            self.y + d,
            self.width - 2.0 * d,
            self.height - 2.0 * d,
        )
    }
}

/// How lines are stroked: width in points, grey level, optional dash pattern.
///
/// `Stroke::from(0.5)` (or just `0.5` where `impl Into<Stroke>` is taken) is a solid
/// black line 0.5 pt wide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stroke {
    /// Line width in points.
    pub width: f64,
    /// Grey level, 0.0 = black … 1.0 = white (PDF DeviceGray).
    pub gray: f64,
    /// Dash pattern, `None` for a solid line.
    pub dash: Option<Dash>,
}

impl Stroke {
    /// A solid black stroke of the given width.
    pub const fn new(width: f64) -> Self {
        Self {
            width,
            gray: 0.0,
            dash: None,
        }
    }

    /// The same stroke in another grey level (0.0 = black, 1.0 = white).
    pub const fn with_gray(mut self, gray: f64) -> Self {
        self.gray = gray;
        self
    }

    /// The same stroke dashed: `on` points drawn, `off` points skipped, repeating.
    pub const fn dashed(mut self, on: f64, off: f64) -> Self {
        self.dash = Some(Dash { on, off });
        self
    }
}

impl From<f64> for Stroke {
    fn from(width: f64) -> Self {
        Self::new(width)
    }
}

/// A simple on/off dash pattern in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dash {
    /// Length of each drawn segment.
    pub on: f64,
    /// Length of each gap.
    pub off: f64,
}
