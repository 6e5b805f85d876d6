//! The display list the planner produces, and text helpers shared by planner and renderer.
//!
//! The planner never draws: it records [`El`]ements with their final positions, which the
//! template then draws onto pages. The layout file is read off the same plan, so what is drawn
//! and what the layout says can only differ by a bug in [`El::draw`].

use std::borrow::Cow;

use crate::Error;
use crate::geom::{Rect, Stroke};
use crate::pdf::{Page, TextStyle};
use crate::text;

/// The sign printed for a character the font lacks (geta mark).
pub(crate) const GETA: char = '〓';

/// One drawing element, positioned on the page (points from the top-left, y down).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum El {
    /// One line of text; `y` is the top of the em box.
    Text {
        x: f64,
        y: f64,
        size: f64,
        gray: f64,
        text: String,
    },
    /// A straight line.
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: Stroke,
    },
    /// A rectangle outline.
    Frame { rect: Rect, stroke: Stroke },
    /// A filled rectangle.
    Fill { rect: Rect, gray: f64 },
    /// A filled circle (the decimal point between digit boxes).
    Dot { cx: f64, cy: f64, r: f64 },
    /// A check mark drawn inside `rect` (the marking example).
    Tick { rect: Rect },
}

impl El {
    /// The element moved by `(dx, dy)`.
    pub(crate) fn shifted(&self, dx: f64, dy: f64) -> El {
        let mv = |r: &Rect| Rect::new(r.x + dx, r.y + dy, r.width, r.height);
        match self {
            El::Text {
                x,
                y,
                size,
                gray,
                text,
            } => El::Text {
                x: x + dx,
                y: y + dy,
                size: *size,
                gray: *gray,
                text: text.clone(),
            },
            El::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => El::Line {
                x1: x1 + dx,
                y1: y1 + dy,
                x2: x2 + dx,
                y2: y2 + dy,
                stroke: *stroke,
            },
            El::Frame { rect, stroke } => El::Frame {
                rect: mv(rect),
                stroke: *stroke,
            },
            El::Fill { rect, gray } => El::Fill {
                rect: mv(rect),
                gray: *gray,
            },
            El::Dot { cx, cy, r } => El::Dot {
                cx: cx + dx,
                cy: cy + dy,
                r: *r,
            },
            El::Tick { rect } => El::Tick { rect: mv(rect) },
        }
    }

    /// Draws the element.
    pub(crate) fn draw(&self, page: &mut Page) -> Result<(), Error> {
        match self {
            El::Text {
                x,
                y,
                size,
                gray,
                text,
            } => {
                page.text(*x, *y, TextStyle::new(*size).with_gray(*gray), text)?;
            }
            El::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
            } => page.line(*x1, *y1, *x2, *y2, *stroke),
            El::Frame { rect, stroke } => page.stroke_rect(*rect, *stroke),
            El::Fill { rect, gray } => page.fill_rect(*rect, *gray),
            El::Dot { cx, cy, r } => page.fill_circle(*cx, *cy, *r, 0.0),
            El::Tick { rect } => {
                let p = |fx: f64, fy: f64| (rect.x + fx * rect.width, rect.y + fy * rect.height);
                page.polyline(
                    &[p(0.18, 0.5), p(0.42, 0.78), p(0.85, 0.15)],
                    Stroke::new(rect.width * 0.13),
                );
            }
        }
        Ok(())
    }
}

/// `text` with every character the font lacks replaced by 〓, and whether any was.
pub(crate) fn printable(text: &str) -> (Cow<'_, str>, bool) {
    let (t, missing) = text::substitute_missing(text, GETA);
    (t, !missing.is_empty())
}

/// Width of `text` at `size` (characters the font lacks count as 〓).
pub(crate) fn width(text: &str, size: f64) -> f64 {
    let (t, _) = printable(text);
    text::measure(&t, size).unwrap_or(0.0)
}

/// Breaks `text` into lines no wider than `max_width` (missing characters as 〓).
pub(crate) fn lines(text: &str, size: f64, max_width: f64) -> Vec<(String, f64)> {
    let (t, _) = printable(text);
    match text::break_lines(&t, size, max_width) {
        Ok(lines) => lines
            .into_iter()
            .map(|l| (l.text.to_owned(), l.width))
            .collect(),
        Err(_) => vec![(t.into_owned(), 0.0)],
    }
}

/// How a variable text was fitted into its area.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fitted {
    /// The text to draw (possibly shortened, ending in …).
    pub text: String,
    /// The font size to draw it at.
    pub size: f64,
    /// Its width at that size.
    pub width: f64,
}

/// Fits one line of variable text (a facility name) into `max_width`: shrinks it from `size`
/// down to `min_size`, then cuts it with 「…」. Never wider than `max_width`.
pub(crate) fn fit_line(text: &str, size: f64, min_size: f64, max_width: f64) -> Fitted {
    let (t, _) = printable(text.trim());
    let t = t.replace(['\n', '\r', '\t'], " ");
    let w = text::measure(&t, size).unwrap_or(0.0);
    if w <= max_width {
        return Fitted {
            text: t,
            size,
            width: w,
        };
    }
    let shrunk = (size * max_width / w).max(min_size);
    let w2 = text::measure(&t, shrunk).unwrap_or(0.0);
    if w2 <= max_width + 1e-6 {
        return Fitted {
            text: t,
            size: shrunk,
            width: w2,
        };
    }
    let chars: Vec<char> = t.chars().collect();
    let mut n = chars.len();
    while n > 0 {
        n -= 1;
        let cut: String = chars[..n].iter().collect::<String>() + "…";
        let w3 = text::measure(&cut, min_size).unwrap_or(0.0);
        if w3 <= max_width {
            return Fitted {
                text: cut,
                size: min_size,
                width: w3,
            };
        }
    }
    Fitted {
        text: String::new(),
        size: min_size,
        width: 0.0,
    }
}

/// Fits variable text into at most `max_lines` lines of `max_width`, shrinking from `size` to
/// `min_size`; the last line is cut with 「…」 if it still does not fit. Returns the lines and
/// the size used.
pub(crate) fn fit_lines(
    text: &str,
    size: f64,
    min_size: f64,
    max_width: f64,
    max_lines: usize,
) -> (Vec<String>, f64) {
    let mut s = size;
    loop {
        let ls = lines(text.trim(), s, max_width);
        if ls.len() <= max_lines {
            return (ls.into_iter().map(|l| l.0).collect(), s);
        }
        if s - 0.5 < min_size {
            let mut out: Vec<String> = ls.iter().take(max_lines).map(|l| l.0.clone()).collect();
            let rest: String = ls[max_lines - 1..].iter().map(|l| l.0.as_str()).collect();
            if let Some(last) = out.last_mut() {
                *last = fit_line(&rest, s, s, max_width).text;
            }
            return (out, s);
        }
        s -= 0.5;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_shrink_then_cut() {
        let f = fit_line("さくら歯科", 10.0, 7.0, 200.0);
        assert_eq!((f.text.as_str(), f.size), ("さくら歯科", 10.0));
        let f = fit_line(
            "医療法人社団さくら会 世田谷さくら歯科クリニック",
            10.0,
            7.0,
            200.0,
        );
        assert!(f.size < 10.0 && f.size >= 7.0 && f.width <= 200.0, "{f:?}");
        let f = fit_line(&"長".repeat(100), 10.0, 7.0, 200.0);
        assert!(f.text.ends_with('…') && f.width <= 200.0, "{f:?}");
        let f = fit_line("髙橋\u{E000}歯科", 10.0, 7.0, 200.0);
        assert!(f.text.contains(GETA), "{f:?}");
    }

    #[test]
    fn multi_line_fit() {
        let (ls, s) = fit_lines(&"東京都みどり市中央一丁目".repeat(3), 10.0, 8.0, 150.0, 2);
        assert!(ls.len() <= 2 && s >= 8.0, "{ls:?}");
    }
}
