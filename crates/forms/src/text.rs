//! Text measurement and line breaking with the embedded font.
//!
//! Horizontal Japanese needs no shaping: each character maps to one glyph and the
//! glyphs are set side by side with their advance widths, so the width of a text is
//! the sum of its advances and this module's numbers are exactly what the PDF shows.
//! (The writer gives the viewer the same advances in the font's `/W` array.)
//!
//! Sizes and widths are in points. Characters the font cannot draw are an error
//! ([`Error::MissingGlyphs`]), never dropped; [`substitute_missing`] offers a visible
//! replacement (〓, the traditional geta mark) for text that must print anyway.
//!
//! # Line breaking
//!
//! [`break_lines`] fills lines greedily and breaks only where Japanese typesetting
//! allows it (kinsoku shori, after JIS X 4051 and UAX #14):
//!
//! - between two Japanese characters (kanji, kana, full-width forms), except
//! - no line starts with closing brackets, 、。，．・：；！？, small kana, ー, 々,
//!   〜, ％ and the like, or their ASCII counterparts `) ] } , . : ; ! ? %`
//!   (行頭禁則);
//! - no line ends with opening brackets （「『【〔［｛〈《, `( [ {`, or with a prefix
//!   such as ￥ ＄ 〒 (行末禁則);
//! - ……, ―― and runs of digits (also full-width ones and "1,234") are never split;
//! - Latin text breaks after spaces and after a hyphen between two letters, never
//!   inside a word, unless a word alone is wider than the line (then it is cut
//!   wherever needed, as a last resort — so is Japanese text with no allowed break).
//!
//! A character that may not start a line pushes the preceding character onto the
//! next line with it (追い出し); punctuation never hangs into the margin. Spaces at a
//! soft break are dropped, `\n` (or `\r\n`) forces a break.

use std::borrow::Cow;

use crate::Error;
use crate::font::{EM_ASCENT, EM_DESCENT, font};

/// One glyph of shaped text, as the page records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Glyph {
    /// Glyph id in the embedded font (not yet remapped to the subset).
    pub id: u16,
    /// Advance in font units.
    pub advance: u16,
    /// The character it stands for, for the PDF's ToUnicode map.
    pub ch: char,
    /// A variation selector that followed `ch`, kept so copied text is exact.
    pub vs: Option<char>,
}

/// A text turned into glyphs of the embedded font, ready to measure and draw.
///
/// Shape once, then ask for the width at any size and draw it with
/// [`crate::pdf::Page::draw_shaped`]; this avoids looking characters up twice
/// when layout needs the width before placing the text (centring, right alignment).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShapedText {
    pub(crate) glyphs: Vec<Glyph>,
    /// Sum of the advances in font units.
    pub(crate) units: u32,
}

impl ShapedText {
    /// Shapes `text`; fails listing every character the font has no glyph for.
    pub fn new(text: &str) -> Result<Self, Error> {
        let mut glyphs = Vec::with_capacity(text.len() / 2);
        let mut units = 0u32;
        let mut missing = Vec::new();
        for c in clusters(text) {
            match c.glyph {
                Some(g) => {
                    units += u32::from(g.advance);
                    glyphs.push(g);
                }
                None => push_once(&mut missing, c.ch),
            }
        }
        if missing.is_empty() {
            Ok(Self { glyphs, units })
        } else {
            Err(Error::MissingGlyphs {
                chars: missing,
                text: text.to_owned(),
            })
        }
    }

    /// Advance width in points at font size `size`.
    pub fn width(&self, size: f64) -> f64 {
        font().to_points(self.units, size)
    }

    /// Number of glyphs.
    pub fn len(&self) -> usize {
        self.glyphs.len()
    }

    /// Whether there are no glyphs.
    pub fn is_empty(&self) -> bool {
        self.glyphs.is_empty()
    }

    /// The text again, as the PDF's ToUnicode map will give it back.
    pub fn text(&self) -> String {
        let mut s = String::with_capacity(self.glyphs.len() * 3);
        for g in &self.glyphs {
            s.push(g.ch);
            if let Some(vs) = g.vs {
                s.push(vs);
            }
        }
        s
    }
}

/// Shapes `text` (see [`ShapedText::new`]).
pub fn shape(text: &str) -> Result<ShapedText, Error> {
    ShapedText::new(text)
}

/// Advance width of `text` in points at font size `size`.
///
/// Fails with [`Error::MissingGlyphs`] if the font cannot draw every character.
pub fn measure(text: &str, size: f64) -> Result<f64, Error> {
    let mut units = 0u32;
    let mut missing = Vec::new();
    for c in clusters(text) {
        match c.glyph {
            Some(g) => units += u32::from(g.advance),
            None => push_once(&mut missing, c.ch),
        }
    }
    if missing.is_empty() {
        Ok(font().to_points(units, size))
    } else {
        Err(Error::MissingGlyphs {
            chars: missing,
            text: text.to_owned(),
        })
    }
}

/// Characters of `text` the font cannot draw, each once, in order of appearance.
///
/// Line breaks (`\n`, `\r`) are not reported: [`break_lines`] handles them.
pub fn missing_chars(text: &str) -> Vec<char> {
    let mut missing = Vec::new();
    for c in clusters(text) {
        if c.glyph.is_none() && c.ch != '\n' && c.ch != '\r' {
            push_once(&mut missing, c.ch);
        }
    }
    missing
}

/// Replaces every character the font cannot draw by `replacement` and says which
/// ones were replaced; borrows `text` unchanged when nothing is missing.
///
/// This is the documented fallback for text that must be printed even if a
/// character is missing, e.g. a facility name from a roster: use `'〓'` (geta mark,
/// the customary sign for an unavailable character) and log the returned list.
/// `replacement` itself must be in the font, or drawing the result still fails.
/// Line breaks are kept.
pub fn substitute_missing(text: &str, replacement: char) -> (Cow<'_, str>, Vec<char>) {
    let missing = missing_chars(text);
    if missing.is_empty() {
        return (Cow::Borrowed(text), missing);
    }
    let mut out = String::with_capacity(text.len());
    for c in clusters(text) {
        match c.glyph {
            Some(_) => out.push_str(&text[c.start..c.end]),
            None if c.ch == '\n' || c.ch == '\r' => out.push(c.ch),
            None => out.push(replacement),
        }
    }
    (Cow::Owned(out), missing)
}

/// Top of the em box above the baseline in points at `size` (0.88 em).
pub fn ascent(size: f64) -> f64 {
    EM_ASCENT * size
}

/// Bottom of the em box below the baseline in points at `size`, as a positive number (0.12 em).
pub fn descent(size: f64) -> f64 {
    -EM_DESCENT * size
}

/// One line produced by [`break_lines`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line<'a> {
    /// The line's text: a slice of the input, without the spaces dropped at a soft
    /// break and without the line break characters.
    pub text: &'a str,
    /// Advance width of `text` in points.
    pub width: f64,
}

/// Breaks `text` into lines no wider than `max_width` points at font size `size`,
/// following the kinsoku rules described in the [module documentation](self).
///
/// Every paragraph (text between `\n`s) gives at least one line, so `""` gives one
/// empty line. A line is wider than `max_width` only when a single character is.
/// Fails with [`Error::MissingGlyphs`] if the font cannot draw every character.
pub fn break_lines(text: &str, size: f64, max_width: f64) -> Result<Vec<Line<'_>>, Error> {
    let f = font();
    let missing = missing_chars(text);
    if !missing.is_empty() {
        return Err(Error::MissingGlyphs {
            chars: missing,
            text: text.to_owned(),
        });
    }
    // Compare in font units so that a line exactly as wide as the limit fits.
    let max_units = if size > 0.0 {
        max_width * f64::from(f.units_per_em()) / size + 1e-6
    } else {
        f64::INFINITY
    };
    let mut lines = Vec::new();
    let mut cells: Vec<Cell> = Vec::new();
    for para in text.split('\n') {
        let para = para.strip_suffix('\r').unwrap_or(para);
        let base = para.as_ptr() as usize - text.as_ptr() as usize;
        cells.clear();
        cells.extend(clusters(para).map(|c| Cell {
            start: base + c.start,
            end: base + c.end,
            ch: c.ch,
            advance: c.glyph.map_or(0, |g| u32::from(g.advance)),
            break_before: false,
        }));
        mark_breaks(&mut cells);
        fill_lines(text, base, para.len(), &cells, max_units, size, &mut lines);
    }
    Ok(lines)
}

/// A character (with any variation selector) during line breaking.
#[derive(Debug, Clone, Copy)]
struct Cell {
    start: usize,
    end: usize,
    ch: char,
    advance: u32,
    /// Whether a line may break between the previous cell and this one.
    break_before: bool,
}

/// Greedy first fit over one paragraph; appends at least one line.
fn fill_lines<'a>(
    text: &'a str,
    para_start: usize,
    para_len: usize,
    cells: &[Cell],
    max_units: f64,
    size: f64,
    lines: &mut Vec<Line<'a>>,
) {
    let f = font();
    if cells.is_empty() {
        lines.push(Line {
            text: &text[para_start..para_start + para_len],
            width: 0.0,
        });
        return;
    }
    let mut start = 0;
    while start < cells.len() {
        let mut units = 0u32;
        let mut last_break = None;
        let mut end = cells.len();
        for (i, c) in cells.iter().enumerate().skip(start) {
            if i > start && c.break_before {
                last_break = Some(i);
            }
            // Trailing spaces may run past the limit: they are dropped at the break.
            if i > start && !is_space(c.ch) && f64::from(units + c.advance) > max_units {
                end = last_break.unwrap_or(i);
                break;
            }
            units += c.advance;
        }
        // Width and text without the spaces that end up at the break.
        let mut line_end = end;
        while line_end > start && is_space(cells[line_end - 1].ch) {
            line_end -= 1;
        }
        let width: u32 = cells[start..line_end].iter().map(|c| c.advance).sum();
        let (s, e) = (
            cells[start].start,
            if line_end > start {
                cells[line_end - 1].end
            } else {
                cells[start].start
            },
        );
        lines.push(Line {
            text: &text[s..e],
            width: f.to_points(width, size),
        });
        start = end;
        // Spaces at the start of a line after a soft break are dropped too.
        while start < cells.len() && is_space(cells[start].ch) {
            start += 1;
        }
    }
}

/// Decides for each cell whether a line may break before it.
fn mark_breaks(cells: &mut [Cell]) {
    for i in 1..cells.len() {
        let prev = cells[i - 1].ch;
        let cur = cells[i].ch;
        let before_prev = if i >= 2 { Some(cells[i - 2].ch) } else { None };
        cells[i].break_before = may_break(before_prev, prev, cur);
    }
}

/// Whether a line may break between `prev` and `cur` (`before_prev` precedes `prev`).
fn may_break(before_prev: Option<char>, prev: char, cur: char) -> bool {
    if is_variation_selector(cur) {
        return false;
    }
    if is_space(cur) {
        // Spaces stay at the end of the line they follow.
        return false;
    }
    if is_space(prev) {
        return !is_no_start(cur);
    }
    if is_no_start(cur) || is_no_end(prev) {
        return false;
    }
    if prev == cur && is_inseparable(cur) {
        return false;
    }
    if is_digit(cur)
        && (is_digit(prev) || (is_digit_separator(prev) && before_prev.is_some_and(is_digit)))
    {
        return false;
    }
    if is_breakable_cjk(prev) || is_breakable_cjk(cur) {
        return true;
    }
    // Latin: after a hyphen between letters ("e-|mail"), not in "03-1234-5678".
    prev == '-' && before_prev.is_some_and(char::is_alphabetic) && cur.is_alphabetic()
}

fn is_space(c: char) -> bool {
    // U+3000 (ideographic space) is deliberately not here: in Japanese text it is a
    // full-width character (e.g. paragraph indent) and kept like any other.
    c == ' '
}

fn is_variation_selector(c: char) -> bool {
    matches!(c, '\u{FE00}'..='\u{FE0F}' | '\u{E0100}'..='\u{E01EF}')
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit() || ('０'..='９').contains(&c)
}

fn is_digit_separator(c: char) -> bool {
    matches!(c, ',' | '.' | '，' | '．')
}

/// Characters that may not start a line (行頭禁則).
fn is_no_start(c: char) -> bool {
    matches!(
        c,
        // Japanese punctuation and closing brackets.
        '、' | '。' | '，' | '．' | '・' | '：' | '；' | '？' | '！' | '‼' | '⁇' | '⁈' | '⁉'
        | '）' | '〕' | '］' | '｝' | '〉' | '》' | '」' | '』' | '】' | '〙' | '〗' | '〟'
        | '’' | '”' | '｠' | '»'
        // Iteration marks, prolonged sound mark, hyphens and wave dashes.
        | 'ヽ' | 'ヾ' | 'ゝ' | 'ゞ' | '々' | '〻' | 'ー' | '‐' | '゠' | '–' | '〜' | '～'
        | '゛' | '゜'
        // Small kana.
        | 'ぁ' | 'ぃ' | 'ぅ' | 'ぇ' | 'ぉ' | 'っ' | 'ゃ' | 'ゅ' | 'ょ' | 'ゎ' | 'ゕ' | 'ゖ'
        | 'ァ' | 'ィ' | 'ゥ' | 'ェ' | 'ォ' | 'ッ' | 'ャ' | 'ュ' | 'ョ' | 'ヮ' | 'ヵ' | 'ヶ'
        | 'ㇰ'..='ㇿ'
        // Half-width forms.
        | '｡' | '､' | '｣' | '･' | 'ｰ' | 'ﾞ' | 'ﾟ' | 'ｧ'..='ｯ'
        // Latin closing punctuation and postfixes.
        | ')' | ']' | '}' | ',' | '.' | ':' | ';' | '!' | '?' | '%' | '％' | '‰' | '℃' | '°'
        | '′' | '″'
    )
}

/// Characters that may not end a line (行末禁則).
fn is_no_end(c: char) -> bool {
    matches!(
        c,
        '（' | '〔' | '［' | '｛' | '〈' | '《' | '「' | '『' | '【' | '〘' | '〖' | '〝' | '‘' | '“'
            | '｟' | '«' | '｢' | '(' | '[' | '{'
            // Prefixes that belong to the number after them.
            | '￥' | '＄' | '¥' | '$' | '£' | '€' | '＃' | '#' | '№' | '〒'
    )
}

/// Characters that are not split when doubled (…… ――).
fn is_inseparable(c: char) -> bool {
    matches!(c, '…' | '‥' | '―' | '—')
}

/// Characters between which and their neighbours a line may break (ideographic, UAX #14 ID-like).
fn is_breakable_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{2E80}'..='\u{2FFF}'      // radicals, ideographic description
        | '\u{3000}'..='\u{303F}'    // CJK symbols and punctuation
        | '\u{3040}'..='\u{30FF}'    // hiragana, katakana
        | '\u{3100}'..='\u{31FF}'    // bopomofo, kanbun, katakana extensions
        | '\u{3200}'..='\u{4DBF}'    // enclosed CJK, compatibility, extension A
        | '\u{4E00}'..='\u{9FFF}'    // unified ideographs
        | '\u{F900}'..='\u{FAFF}'    // compatibility ideographs
        | '\u{FE30}'..='\u{FE4F}'    // CJK compatibility forms
        | '\u{FF00}'..='\u{FFEF}'    // full-width and half-width forms
        | '\u{20000}'..='\u{3FFFF}'  // supplementary ideographs
        // Symbols used full-width in Japanese forms: ※ arrows ○ ● □ ■ ✓ etc.
        | '\u{203B}'
        | '\u{2190}'..='\u{21FF}'
        | '\u{2460}'..='\u{27BF}'
    )
}

fn push_once(list: &mut Vec<char>, c: char) {
    if !list.contains(&c) {
        list.push(c);
    }
}

/// A character, possibly with a following variation selector, and its glyph.
struct Cluster {
    start: usize,
    end: usize,
    ch: char,
    glyph: Option<Glyph>,
}

/// Splits text into clusters of one character plus an optional variation selector.
///
/// A selector the font knows picks the variant glyph; an unknown one falls back to
/// the base glyph but is kept for ToUnicode, so copied text is never changed.
fn clusters(text: &str) -> impl Iterator<Item = Cluster> + '_ {
    let f = font();
    let mut it = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, ch) = it.next()?;
        let mut end = start + ch.len_utf8();
        let vs = match it.peek() {
            Some(&(_, v)) if is_variation_selector(v) && !is_variation_selector(ch) => {
                it.next();
                end += v.len_utf8();
                Some(v)
            }
            _ => None,
        };
        let id = if is_variation_selector(ch) {
            None
        } else {
            vs.and_then(|v| f.variant_glyph(ch, v))
                .or_else(|| f.glyph(ch))
        };
        let glyph = id.map(|id| Glyph {
            id,
            advance: f.advance(id),
            ch,
            vs,
        });
        Some(Cluster {
            start,
            end,
            ch,
            glyph,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts<'a>(lines: &[Line<'a>]) -> Vec<&'a str> {
        lines.iter().map(|l| l.text).collect()
    }

    /// Width of one full-width character at size 10: the line limit in "characters".
    const Z: f64 = 10.0;

    #[test]
    fn full_width_characters_are_one_em() {
        assert_eq!(measure("訪", 10.0).unwrap(), 10.0);
        assert_eq!(measure("訪問歯科診療", 12.0).unwrap(), 72.0);
        assert_eq!(measure("、。「」", 10.0).unwrap(), 40.0);
        assert_eq!(measure("", 10.0).unwrap(), 0.0);
        // Half-width digits are proportional here but narrower than a full-width one.
        let w = measure("1234", 10.0).unwrap();
        assert!(w > 15.0 && w < 30.0, "{w}");
        assert_eq!(shape("訪問歯科").unwrap().width(9.0), 36.0);
        assert_eq!(shape("摂食嚥下").unwrap().text(), "摂食嚥下");
    }

    #[test]
    fn measurement_scales_linearly() {
        let a = measure("Home care 在宅 2024", 10.0).unwrap();
        let b = measure("Home care 在宅 2024", 20.0).unwrap();
        assert!((2.0 * a - b).abs() < 1e-9);
    }

    #[test]
    fn missing_glyphs_are_reported_not_dropped() {
        // U+E000 (private use) and a control character have no glyph.
        let err = measure("歯科\u{E000}診療\u{7}", 10.0).unwrap_err();
        match err {
            Error::MissingGlyphs { chars, text } => {
                assert_eq!(chars, vec!['\u{E000}', '\u{7}']);
                assert_eq!(text, "歯科\u{E000}診療\u{7}");
            }
            e => panic!("unexpected {e}"),
        }
        assert!(shape("\u{E000}").is_err());
        assert!(break_lines("あ\u{E000}", 10.0, 100.0).is_err());
        assert_eq!(missing_chars("訪問\n歯科"), Vec::<char>::new());
        let (s, m) = substitute_missing("A\u{E000}B\u{E000}", '〓');
        assert_eq!(s, "A〓B〓");
        assert_eq!(m, vec!['\u{E000}']);
        assert!(matches!(
            substitute_missing("訪問", '〓').0,
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn variation_selector_is_kept() {
        // 葛 + VS17 (IVS): drawn with the variant if the font has it, copied back exactly.
        let s = shape("葛\u{E0100}城").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s.text(), "葛\u{E0100}城");
    }

    #[test]
    fn japanese_breaks_anywhere_when_no_rule_applies() {
        let lines = break_lines("訪問歯科診療の実施状況", 10.0, 4.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["訪問歯科", "診療の実", "施状況"]);
        assert_eq!(lines[0].width, 40.0);
        assert_eq!(lines[2].width, 30.0);
    }

    #[test]
    fn no_line_starts_with_closing_punctuation() {
        // 「。」 would start line 2: the character before it moves down with it.
        let lines = break_lines("歯科診療。摂食", 10.0, 4.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["歯科診", "療。摂食"]);
        let lines = break_lines("あいう、えお", 10.0, 3.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["あい", "う、え", "お"]);
        let lines = break_lines("摂食嚥下」です", 10.0, 4.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["摂食嚥", "下」です"]);
        let lines = break_lines("ポータブルユニット", 10.0, 4.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["ポータブ", "ルユニッ", "ト"]);
        let lines = break_lines("ポータブル", 10.0, 1.5 * Z).unwrap();
        // Too narrow for any allowed break: cut as a last resort rather than overflow.
        assert_eq!(texts(&lines), ["ポ", "ー", "タ", "ブ", "ル"]);
        // Small kana never start a line: "きゃっ" stays whole even though it is too
        // wide, since there is no allowed break inside it (last resort: cut).
        let lines = break_lines("きゃっきゃ", 10.0, 3.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["きゃっ", "きゃ"]);
        let lines = break_lines("がっこうのきゃく", 10.0, 3.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["がっこ", "うの", "きゃく"]);
        let lines = break_lines("実施（有・無）あり", 10.0, 6.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["実施（有・", "無）あり"]);
    }

    #[test]
    fn no_line_ends_with_opening_bracket() {
        let lines = break_lines("あいう「摂食嚥下」", 10.0, 4.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["あいう", "「摂食嚥", "下」"]);
        let lines = break_lines("あいう（えお）", 10.0, 4.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["あいう", "（えお）"]);
        let lines = break_lines("住所〒154-0001", 10.0, 3.0 * Z).unwrap();
        assert!(lines.iter().all(|l| !l.text.ends_with('〒')), "{lines:?}");
    }

    #[test]
    fn no_rule_violation_on_long_survey_text() {
        let text = "あてはまる番号を○で囲んでください（※○は1つだけ）。「訪問歯科診療」を実施している場合、\
                    1か月の訪問患者実人数（居宅・施設）をご記入ください。該当なしは「0」、わからない場合は「－」とご記入ください。";
        // From 5 characters on every line has an allowed break; narrower ones need the
        // last-resort cut for runs like 「0」、 that have none.
        for chars in 5..30 {
            let lines = break_lines(text, 10.0, chars as f64 * Z).unwrap();
            assert_eq!(
                lines.iter().map(|l| l.text).collect::<String>(),
                text.replace(' ', "")
            );
            for (i, l) in lines.iter().enumerate() {
                assert!(l.width <= chars as f64 * Z + 1e-9, "{chars}: {l:?}");
                if i > 0 {
                    assert!(!l.text.starts_with(is_no_start), "{chars}: {lines:?}");
                }
                if i + 1 < lines.len() {
                    assert!(!l.text.ends_with(is_no_end), "{chars}: {lines:?}");
                }
            }
        }
    }

    #[test]
    fn latin_words_stay_whole() {
        let w = measure("visiting dental", 10.0).unwrap();
        let lines = break_lines("visiting dental care survey", 10.0, w + 1.0).unwrap();
        assert_eq!(texts(&lines), ["visiting dental", "care survey"]);
        // The width does not include the space dropped at the break.
        assert!((lines[0].width - w).abs() < 1e-9);
        // Phone numbers and numbers are not split at hyphens or commas.
        let w = measure("03-1234-5678", 10.0).unwrap();
        let lines = break_lines("電話03-1234-5678", 10.0, w + 5.0).unwrap();
        assert_eq!(texts(&lines), ["電話", "03-1234-5678"]);
        let lines = break_lines("合計１，２３４人", 10.0, 5.0 * Z).unwrap();
        assert_eq!(texts(&lines), ["合計", "１，２３４", "人"]);
        // A hyphen between letters is a break opportunity.
        let w = measure("multi-disciplinary", 10.0).unwrap();
        let lines = break_lines("multi-disciplinary", 10.0, w - 1.0).unwrap();
        assert_eq!(texts(&lines), ["multi-", "disciplinary"]);
    }

    #[test]
    fn overlong_words_are_cut() {
        let lines = break_lines("abcdefghijklmnopqrstuvwxyz", 10.0, 30.0).unwrap();
        assert!(lines.len() > 1);
        assert_eq!(
            lines.iter().map(|l| l.text).collect::<String>(),
            "abcdefghijklmnopqrstuvwxyz"
        );
        assert!(lines.iter().all(|l| l.width <= 30.0));
        // A single character wider than the line still makes progress.
        let lines = break_lines("訪問", 10.0, 5.0).unwrap();
        assert_eq!(texts(&lines), ["訪", "問"]);
    }

    #[test]
    fn mixed_japanese_and_latin() {
        let lines = break_lines("令和6年11月1日時点の状況", 10.0, 6.0 * Z).unwrap();
        let joined: String = lines.iter().map(|l| l.text).collect();
        assert_eq!(joined, "令和6年11月1日時点の状況");
        // Numbers such as "11" are never split.
        for pair in lines.windows(2) {
            assert!(
                !(pair[0].text.ends_with(is_digit) && pair[1].text.starts_with(is_digit)),
                "{lines:?}"
            );
        }
    }

    #[test]
    fn hard_breaks_and_empty_paragraphs() {
        let lines = break_lines("施設名\n\n住所\r\n電話", 10.0, 100.0).unwrap();
        assert_eq!(texts(&lines), ["施設名", "", "住所", "電話"]);
        assert_eq!(break_lines("", 10.0, 100.0).unwrap().len(), 1);
        // Leading spaces of a paragraph are kept, spaces at soft breaks dropped.
        let lines = break_lines("  ab cd", 10.0, measure("  ab", 10.0).unwrap() + 0.1).unwrap();
        assert_eq!(texts(&lines), ["  ab", "cd"]);
    }
}
