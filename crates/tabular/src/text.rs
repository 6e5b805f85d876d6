//! Cell text: trimming and width folding, and the small vocabularies replies use for "ticked",
//! "not ticked", "don't know" and "no answer".
//!
//! Everything here is called once per cell of a million-row file, so the common case (short
//! ASCII text) must not allocate: [`fold`] returns the trimmed input unchanged when it is ASCII.

use std::borrow::Cow;

/// Whitespace a cell may be padded with: ASCII, the ideographic space and NBSP.
fn is_pad(c: char) -> bool {
    c.is_ascii_whitespace() || c == '\u{3000}' || c == '\u{00A0}' || c == '\u{FEFF}'
}

/// Trims padding (ASCII spaces, ideographic spaces, NBSP, a stray BOM).
pub fn trim(s: &str) -> &str {
    // Most cells start and end with a visible character: nothing to do.
    let b = s.as_bytes();
    if b.is_empty() || (!pad_at_start(b) && !pad_at_end(b)) {
        return s;
    }
    s.trim_matches(is_pad)
}

/// Whether the bytes start with a padding character (see [`trim`]), decided on the bytes.
fn pad_at_start(b: &[u8]) -> bool {
    match b[0] {
        c if c < 0x80 => c.is_ascii_whitespace(),
        _ => {
            b.starts_with("\u{3000}".as_bytes())
                || b.starts_with("\u{00A0}".as_bytes())
                || b.starts_with("\u{FEFF}".as_bytes())
        }
    }
}

fn pad_at_end(b: &[u8]) -> bool {
    match b[b.len() - 1] {
        c if c < 0x80 => c.is_ascii_whitespace(),
        _ => {
            b.ends_with("\u{3000}".as_bytes())
                || b.ends_with("\u{00A0}".as_bytes())
                || b.ends_with("\u{FEFF}".as_bytes())
        }
    }
}

/// Trimmed and width-folded text for matching and number parsing: full-width digits, letters and
/// signs become ASCII, dashes become `-`, runs of spaces one space (see [`capsurvey_jptext::normalize`]).
///
/// ASCII input is only trimmed, without allocating.
pub fn fold(s: &str) -> Cow<'_, str> {
    let t = trim(s);
    if !needs_fold(t) {
        Cow::Borrowed(t)
    } else {
        Cow::Owned(capsurvey_jptext::normalize(t))
    }
}

/// Whether [`capsurvey_jptext::normalize`] could change a trimmed string. Most Japanese cells
/// (names, labels, comments) have nothing to fold, and skipping the call saves two allocations
/// per cell. Decided on the UTF-8 bytes, which is several times faster than decoding chars.
fn needs_fold(t: &str) -> bool {
    // How far to step from each byte that starts a character: its length in UTF-8, or 0 for
    // the bytes that can start something to fold. Whole characters are skipped with one table
    // look-up.
    const fn table() -> [u8; 256] {
        let mut t = [1u8; 256];
        let mut c = 0xC0;
        while c < 0x100 {
            t[c] = if c < 0xE0 {
                2
            } else if c < 0xF0 {
                3
            } else {
                4
            };
            c += 1;
        }
        t[b'\t' as usize] = 0;
        t[b'\r' as usize] = 0;
        t[b'\n' as usize] = 0;
        t[b' ' as usize] = 0;
        t[0xC2] = 0;
        t[0xE2] = 0;
        t[0xE3] = 0;
        t[0xEF] = 0;
        t
    }
    static STEP: [u8; 256] = table();
    let b = t.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let step = STEP[b[i] as usize];
        if step != 0 {
            i += step as usize;
            continue;
        }
        match b[i] {
            b'\t' | b'\r' | b'\n' => return true,
            b' ' if b.get(i + 1) == Some(&b' ') => return true,
            // U+00A0 (no-break space).
            0xC2 if b.get(i + 1) == Some(&0xA0) => return true,
            // U+2010..U+2015 (dashes), U+2212 (minus).
            0xE2 if matches!(
                (b.get(i + 1), b.get(i + 2)),
                (Some(0x80), Some(0x90..=0x95)) | (Some(0x88), Some(0x92))
            ) =>
            {
                return true;
            }
            // U+3000 (ideographic space); U+30FC ー only between digits (a hyphen there, a
            // long vowel after kana).
            0xE3 => match (b.get(i + 1), b.get(i + 2)) {
                (Some(0x80), Some(0x80)) => return true,
                (Some(0x83), Some(0xBC))
                    if i > 0
                        && b[i - 1].is_ascii_digit()
                        && b.get(i + 3).is_some_and(u8::is_ascii_digit) =>
                {
                    return true;
                }
                _ => {}
            },
            // U+FE63 (small hyphen-minus).
            0xEF => match (b.get(i + 1), b.get(i + 2)) {
                // U+FF01..U+FF3F and U+FF40..U+FF5E (full-width ASCII), U+FF70 (ｰ).
                (Some(0xBC), Some(0x81..=0xBF)) | (Some(0xBD), Some(0x80..=0x9E | 0xB0)) => {
                    return true;
                }
                (Some(0xB9), Some(0xA3)) => return true,
                _ => {}
            },
            _ => {}
        }
        // On to the next character.
        i += match b[i] {
            0xC2 => 2,
            0xE2 | 0xE3 | 0xEF => 3,
            _ => 1,
        };
    }
    false
}

/// The first `max` characters of `s` and how many it has in all, or `None` when it has no
/// more than `max` (counted only when the bytes could be more).
pub fn cut(s: &str, max: usize) -> Option<(&str, usize)> {
    if s.len() <= max {
        return None;
    }
    let (at, _) = s.char_indices().nth(max)?;
    Some((&s[..at], s.chars().count()))
}

/// `s`, or its first `max` characters followed by how long it was: for quoting cell text in
/// messages, where a damaged file's megabyte cell must not end up whole.
pub fn excerpt(s: &str, max: usize) -> Cow<'_, str> {
    match cut(s, max) {
        None => Cow::Borrowed(s),
        Some((start, chars)) => Cow::Owned(format!("{start}… ({chars} characters in all)")),
    }
}

/// A header or option label reduced to what matching compares: folded, ASCII lower-case, with
/// every space removed (「問 8」, 「問８」 and 「問8」 are the same column).
pub fn key(s: &str) -> String {
    let f = fold(s);
    let mut out = String::with_capacity(f.len());
    for c in f.chars() {
        if c.is_whitespace() {
            continue;
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// What a folded cell says, before its question is looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// Blank: 無回答 (or "not ticked" in an option column).
    Blank,
    /// 「−」, わからない, 不明.
    Unknown,
    /// 1, ○, ✓, はい, あり, yes, true.
    Yes,
    /// 0, ×, いいえ, なし, no, false.
    No,
    /// Anything else.
    Other,
}

/// Classifies a folded cell (see [`fold`]).
///
/// An ASCII `x` is deliberately `Other`: in Japanese forms × means "no", in western check lists
/// `[x]` means "ticked", and guessing would silently invert answers.
pub fn mark(folded: &str) -> Mark {
    // The vocabulary is short words; most cells (numbers, names, comments) are rejected here
    // without comparing against every word.
    match folded.len() {
        0 => return Mark::Blank,
        16.. => return Mark::Other,
        _ => {}
    }
    if folded.as_bytes()[0].is_ascii_digit() && folded.len() > 1 {
        return Mark::Other;
    }
    match folded {
        "" | "無回答" => Mark::Blank,
        "-" | "--" | "ー" | "わからない" | "分からない" | "不明" | "?" => {
            Mark::Unknown
        }
        "1" | "○" | "◯" | "〇" | "●" | "◎" | "✓" | "✔" | "☑" | "レ" | "はい" | "あり" | "有"
        | "有り" | "yes" | "Yes" | "YES" | "y" | "Y" | "true" | "True" | "TRUE" => Mark::Yes,
        "0" | "×" | "✕" | "✗" | "✘" | "いいえ" | "なし" | "無" | "無し" | "no" | "No" | "NO"
        | "n" | "N" | "false" | "False" | "FALSE" => Mark::No,
        _ => Mark::Other,
    }
}

/// A whole number written only with digits, ASCII or full-width (「１２」), read without
/// allocating; `None` for anything else (signs, separators, units go the slow way).
pub fn quick_int(t: &str) -> Option<i64> {
    let mut n: i64 = 0;
    let mut digits = 0;
    for c in t.chars() {
        let d = match c {
            '0'..='9' => c as u32 - '0' as u32,
            '０'..='９' => c as u32 - '０' as u32,
            _ => return None,
        };
        digits += 1;
        if digits > 18 {
            return None;
        }
        n = n * 10 + d as i64;
    }
    (digits > 0).then_some(n)
}

/// 「−」 and its look-alikes written alone: わからない, recognised before any folding.
pub fn is_dash(t: &str) -> bool {
    matches!(
        t,
        "-" | "−" | "－" | "―" | "‐" | "—" | "–" | "ー" | "ｰ" | "--"
    )
}

/// A fast hasher for the small string-keyed tables looked up once per cell (option labels,
/// field keys): SipHash's protection against crafted keys is not needed for survey labels.
#[derive(Default, Clone, Copy)]
pub struct FastHasher(u64);

impl std::hash::Hasher for FastHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // FNV-1a over 8-byte words, then a final mix.
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
            h = (h ^ w).wrapping_mul(0x0000_0100_0000_01B3).rotate_left(29);
        }
        for &b in chunks.remainder() {
            h = (h ^ b as u64).wrapping_mul(0x0000_0100_0000_01B3);
        }
        self.0 = h ^ (h >> 32);
    }
}

/// A `HashMap` with [`FastHasher`].
pub type FastMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FastHasher>>;

/// The separators of several answers in one cell: 「、」「,」「;」 and line breaks (full-width
/// 「，」「；」 are folded to ASCII before this is used).
pub fn is_answer_separator(c: char) -> bool {
    matches!(c, '、' | ',' | ';' | '\n' | '\r' | '，' | '；' | '､')
}

/// Splits a cell into its answers, dropping empty pieces and padding.
pub fn split_answers(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_answer_separator)
        .map(trim)
        .filter(|t| !t.is_empty())
}

/// Units written after numbers that are not part of them: the question's own unit plus the
/// counters Japanese replies add out of habit.
const COUNTERS: [&str; 7] = ["か所", "ヶ所", "ケ所", "カ所", "箇所", "名", "人"];

/// Why a cell is not a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NumberError {
    /// No number at all.
    NotANumber,
    /// Commas that are not thousands separators (`1,2`).
    BadGrouping,
}

/// A number as written: whole or with decimals.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    /// A whole number (`1,234`, `５`, `3.0` is *not* whole here: see [`Number::Decimal`]).
    Int(i64),
    /// A number with a decimal point, and the digits written after it.
    Decimal(f64),
}

/// Parses a folded cell as a number: thousands separators, a leading sign, a trailing unit
/// (`5人`, `3台`, `2か所`).
pub fn parse_number(folded: &str, unit: Option<&str>) -> Result<Number, NumberError> {
    // Fast path: plain digits, the overwhelmingly common cell.
    let b = folded.as_bytes();
    if !b.is_empty() && b.len() <= 18 && b.iter().all(u8::is_ascii_digit) {
        return Ok(Number::Int(
            folded.parse().map_err(|_| NumberError::NotANumber)?,
        ));
    }
    let mut s = folded.trim();
    if let Some(u) = unit {
        s = s.strip_suffix(u).unwrap_or(s).trim_end();
    }
    for c in COUNTERS {
        if let Some(rest) = s.strip_suffix(c) {
            s = rest.trim_end();
            break;
        }
    }
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let body = body.trim_start();
    let (int_part, frac_part) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    if int_part.is_empty() && frac_part.is_none_or(str::is_empty) {
        return Err(NumberError::NotANumber);
    }
    let digits: Cow<'_, str> = if int_part.contains(',') {
        // Only 1,234 / 12,345,678 are thousands separators; anything else (1,2) is ambiguous.
        let mut groups = int_part.split(',');
        let first = groups.next().unwrap_or("");
        let ok = !first.is_empty()
            && first.len() <= 3
            && first.bytes().all(|c| c.is_ascii_digit())
            && groups.all(|g| g.len() == 3 && g.bytes().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(NumberError::BadGrouping);
        }
        Cow::Owned(int_part.replace(',', ""))
    } else {
        Cow::Borrowed(int_part)
    };
    if !digits.bytes().all(|c| c.is_ascii_digit())
        || frac_part.is_some_and(|f| !f.bytes().all(|c| c.is_ascii_digit()))
    {
        return Err(NumberError::NotANumber);
    }
    match frac_part {
        None => {
            let n: i64 = digits.parse().map_err(|_| NumberError::NotANumber)?;
            Ok(Number::Int(if neg { -n } else { n }))
        }
        Some(f) => {
            let text = format!("{}.{}", if digits.is_empty() { "0" } else { &digits }, f);
            let x: f64 = text.parse().map_err(|_| NumberError::NotANumber)?;
            Ok(Number::Decimal(if neg { -x } else { x }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_padding() {
        for (s, t) in [
            ("  12 ", "12"),
            ("　みどり　", "みどり"),
            ("\u{FEFF}a", "a"),
            ("a\u{00A0}", "a"),
            ("みどり", "みどり"),
            ("", ""),
            (" ", ""),
            ("\r\n", ""),
        ] {
            assert_eq!(trim(s), t, "{s:?}");
        }
    }

    #[test]
    fn fold_only_allocates_for_non_ascii() {
        assert!(matches!(fold("  12 "), Cow::Borrowed("12")));
        assert_eq!(fold("　１，２３４　"), "1,234");
        assert_eq!(fold("−"), "-");
        assert_eq!(fold("ｙｅｓ"), "yes");
    }

    #[test]
    fn fold_is_normalize_or_nothing() {
        for s in [
            "みどり歯科医院",
            "訪問の依頼が増えています。研修会を希望します",
            "ステーション",
            "０３ー１２３４",
            "a  b",
            "a b",
            "一行目\n二行目",
            "全角　空白",
            "１，２３４",
            "−",
            "―",
            "ｰ",
            "○",
            "１２ー３４",
            "12ー34",
            "ケアマネジャー",
            "ＡＢＣ",
            "～",
            "﹣",
            "a\u{00A0}b",
            "‐‑‒–—―",
        ] {
            assert_eq!(fold(s), capsurvey_jptext::normalize(s), "{s}");
        }
        assert!(matches!(fold("みどり歯科医院"), Cow::Borrowed(_)));
    }

    #[test]
    fn keys_ignore_width_case_and_spaces() {
        assert_eq!(key("問 ８"), "問8");
        assert_eq!(key("Ｑ０８"), "q08");
        assert_eq!(key(" Facility_Code "), "facility_code");
        assert_eq!(key("歯科医師数（実人数）"), "歯科医師数(実人数)");
    }

    #[test]
    fn marks() {
        for y in [
            "1", "○", "◯", "〇", "✓", "✔", "はい", "あり", "yes", "TRUE", "レ",
        ] {
            assert_eq!(mark(&fold(y)), Mark::Yes, "{y}");
        }
        for n in ["0", "×", "いいえ", "なし", "no", "false", "０"] {
            assert_eq!(mark(&fold(n)), Mark::No, "{n}");
        }
        for u in ["−", "-", "－", "―", "わからない", "不明"] {
            assert_eq!(mark(&fold(u)), Mark::Unknown, "{u}");
        }
        assert_eq!(mark(&fold("　")), Mark::Blank);
        assert_eq!(mark(&fold("x")), Mark::Other, "x is ambiguous");
    }

    #[test]
    fn numbers() {
        let n = |s: &str| parse_number(&fold(s), Some("人"));
        assert_eq!(n("12"), Ok(Number::Int(12)));
        assert_eq!(n("５"), Ok(Number::Int(5)));
        assert_eq!(n("1,234"), Ok(Number::Int(1234)));
        assert_eq!(n("１，２３４"), Ok(Number::Int(1234)));
        assert_eq!(n("12,345,678"), Ok(Number::Int(12345678)));
        assert_eq!(n("3人"), Ok(Number::Int(3)));
        assert_eq!(n("３ 人"), Ok(Number::Int(3)));
        assert_eq!(n("2か所"), Ok(Number::Int(2)));
        assert_eq!(n("-3"), Ok(Number::Int(-3)));
        assert_eq!(n("＋4"), Ok(Number::Int(4)));
        assert_eq!(n("2.5"), Ok(Number::Decimal(2.5)));
        assert_eq!(n("２．５"), Ok(Number::Decimal(2.5)));
        assert_eq!(n(".5"), Ok(Number::Decimal(0.5)));
        assert_eq!(n("1,234.5"), Ok(Number::Decimal(1234.5)));
        assert_eq!(n("1,2"), Err(NumberError::BadGrouping));
        assert_eq!(n("12,34"), Err(NumberError::BadGrouping));
        assert_eq!(n("約5"), Err(NumberError::NotANumber));
        assert_eq!(n("5-6"), Err(NumberError::NotANumber));
        assert_eq!(n("."), Err(NumberError::NotANumber));
        assert_eq!(n("人"), Err(NumberError::NotANumber));
    }

    #[test]
    fn quick_paths() {
        assert_eq!(quick_int("12"), Some(12));
        assert_eq!(quick_int("１２"), Some(12));
        assert_eq!(quick_int("1,2"), None);
        assert_eq!(quick_int(""), None);
        assert_eq!(quick_int("1234567890123456789"), None);
        for d in ["-", "−", "－", "―", "ー"] {
            assert!(is_dash(d), "{d}");
            assert_eq!(mark(&fold(d)), Mark::Unknown, "{d}");
        }
        assert_eq!(mark("12"), Mark::Other);
        assert_eq!(mark("1"), Mark::Yes);
    }

    #[test]
    fn answer_separators() {
        let v: Vec<_> = split_answers("1、2,3;4\n5；６ ,").collect();
        assert_eq!(v, ["1", "2", "3", "4", "5", "６"]);
    }
}
