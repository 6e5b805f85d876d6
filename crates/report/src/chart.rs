//! Inline SVG bar charts. No script, no external file: the handout must print the same anywhere.
//!
//! Charts draw what the tables say: widths come from the same rounded shares, and a suppressed
//! share (「*」) is never drawn to scale. Templates call these through the functions `stacked_bar`
//! and `bar` (see [`crate::render`]).

use std::fmt::Write;

use crate::aggregate::{COLOR_NONE, COLOR_UNKNOWN};

/// Qualitative colours for options, chosen to stay apart in print and for common colour
/// blindness; options beyond ten reuse them (only multiple-choice questions have that many, and
/// they use one colour).
pub const PALETTE: [&str; 10] = [
    "#2f5d8a", "#e08a3c", "#4b9a5c", "#c8504e", "#8068b0", "#93705a", "#d884b8", "#b5b53a",
    "#3fa6b5", "#5a6f9e",
];
const DARK_TEXT: [bool; 10] = [
    false, true, false, false, false, false, true, true, true, false,
];
const UNKNOWN_FILL: &str = "#bcc6d3";
const NONE_FILL: &str = "#d9d9d9";
const HIDDEN_FILL: &str = "#f0f0f0";

/// Fill colour of a colour index.
pub fn fill(color: usize) -> &'static str {
    match color {
        COLOR_UNKNOWN => UNKNOWN_FILL,
        COLOR_NONE => NONE_FILL,
        c => PALETTE[c % PALETTE.len()],
    }
}

fn text_fill(color: usize) -> &'static str {
    match color {
        COLOR_UNKNOWN | COLOR_NONE => "#222",
        c if DARK_TEXT[c % PALETTE.len()] => "#222",
        _ => "#fff",
    }
}

/// One segment of a stacked bar.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Share in tenths of a percent; `None` when suppressed.
    pub tenths: Option<u64>,
    /// Colour index.
    pub color: usize,
    /// Label, for the accessible description.
    pub label: String,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// A 100% stacked bar: one segment per option, in order, labelled with its share where it fits.
///
/// Suppressed segments are drawn together as one pale segment marked 「*」, as wide as what the
/// shown shares leave over, which the table's n reveals anyway. `compact` draws the thin version
/// used in cross-tab rows.
pub fn stacked_bar(segments: &[Segment], compact: bool) -> String {
    let (w, h, font) = if compact {
        (200.0, 18.0, 0.0)
    } else {
        (1000.0, 34.0, 15.0)
    };
    let shown: u64 = segments.iter().filter_map(|s| s.tenths).sum();
    let hidden = segments.iter().any(|s| s.tenths.is_none());
    // Shares are rounded, so they may total 999 or 1001: scale by their own total.
    let total = if hidden { shown.max(1000) } else { shown } as f64;
    let label: Vec<String> = segments
        .iter()
        .map(|s| match s.tenths {
            Some(t) => format!("{} {}.{}%", s.label, t / 10, t % 10),
            None => format!("{} *", s.label),
        })
        .collect();
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart stacked{}" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"#,
        if compact { " compact" } else { "" },
        escape(&label.join("、"))
    );
    if total <= 0.0 {
        let _ = write!(
            svg,
            r##"<rect x="0" y="0" width="{w}" height="{h}" fill="{HIDDEN_FILL}"/></svg>"##
        );
        return svg;
    }
    let mut x = 0.0;
    for s in segments {
        let Some(t) = s.tenths else { continue };
        if t == 0 {
            continue;
        }
        let sw = w * t as f64 / total;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="0" width="{sw:.1}" height="{h}" fill="{}" stroke="#fff" stroke-width="1"/>"##,
            fill(s.color)
        );
        // Compact bars sit in table rows that print the numbers; labels would be too small there.
        if !compact && sw >= 52.0 {
            let _ = write!(
                svg,
                r#"<text x="{:.1}" y="{:.1}" font-size="{font}" text-anchor="middle" fill="{}">{}.{}%</text>"#,
                x + sw / 2.0,
                h / 2.0 + font * 0.36,
                text_fill(s.color),
                t / 10,
                t % 10
            );
        }
        x += sw;
    }
    if hidden && x < w - 0.05 {
        let sw = w - x;
        let _ = write!(
            svg,
            r##"<rect x="{x:.1}" y="0" width="{sw:.1}" height="{h}" fill="{HIDDEN_FILL}" stroke="#999" stroke-width="1"/>"##
        );
        if !compact && sw >= 14.0 {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{:.1}" font-size="{font}" text-anchor="middle" fill="#444">*</text>"##,
                x + sw / 2.0,
                h / 2.0 + font * 0.36
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A single horizontal bar on a 0–100% scale, for one row of a multiple-choice, bin or ranking
/// table. Nothing is drawn for a suppressed share.
pub fn bar(tenths: Option<u64>, color: usize) -> String {
    const W: f64 = 300.0;
    const H: f64 = 16.0;
    let mut svg = String::new();
    let label = match tenths {
        Some(t) => format!("{}.{}%", t / 10, t % 10),
        None => "*".into(),
    };
    let _ = write!(
        svg,
        r##"<svg class="chart bar" viewBox="0 0 {W} {H}" role="img" aria-label="{label}"><rect x="0" y="3" width="{W}" height="10" fill="#f2f2f2"/>"##
    );
    if let Some(t) = tenths {
        let bw = W * (t.min(1000) as f64) / 1000.0;
        let _ = write!(
            svg,
            r#"<rect x="0" y="2" width="{bw:.1}" height="12" fill="{}"/>"#,
            fill(color)
        );
    }
    // Quarter marks help read shares across rows.
    for q in [75.0, 150.0, 225.0] {
        let _ = write!(
            svg,
            r##"<line x1="{q}" y1="0" x2="{q}" y2="{H}" stroke="#bbb" stroke-width="0.6" stroke-dasharray="2 2"/>"##
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(t: Option<u64>, c: usize) -> Segment {
        Segment {
            tenths: t,
            color: c,
            label: format!("o{c}"),
        }
    }

    #[test]
    fn stacked_bar_widths_follow_the_shares() {
        let svg = stacked_bar(&[seg(Some(654), 0), seg(Some(346), 1)], false);
        assert!(svg.contains(r#"width="654.0""#), "{svg}");
        assert!(svg.contains(r#"x="654.0" y="0" width="346.0""#), "{svg}");
        assert!(svg.contains(">65.4%<") && svg.contains(">34.6%<"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }

    #[test]
    fn suppressed_shares_are_not_drawn_to_scale() {
        let svg = stacked_bar(&[seg(Some(900), 0), seg(None, 1), seg(None, 2)], false);
        assert!(svg.contains(r##"fill="#f0f0f0""##));
        assert!(!svg.contains(PALETTE[1]) && !svg.contains(PALETTE[2]));
        assert!(svg.contains("o1 *"));
    }

    #[test]
    fn labels_are_escaped_and_bars_clamped() {
        let svg = stacked_bar(
            &[Segment {
                tenths: Some(1000),
                color: 0,
                label: "<a & \"b\">".into(),
            }],
            true,
        );
        assert!(svg.contains("&lt;a &amp; &quot;b&quot;&gt;"));
        let b = bar(Some(1200), 3);
        assert!(b.contains(r#"width="300.0""#));
        assert!(!bar(None, 3).contains(PALETTE[3]));
    }
}
