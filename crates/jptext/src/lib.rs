//! Japanese office text as it arrives from Excel and public open data.
//!
//! - [`decode`]: bytes to text, detecting UTF-8 (with or without BOM) and Shift_JIS as Windows
//!   writes it (CP932, which `encoding_rs::SHIFT_JIS` implements).
//! - [`normalize`]: full-width digits, letters and signs to ASCII, the many hyphens and dashes to
//!   `-`, ideographic spaces to spaces, runs of spaces collapsed; kana and kanji untouched.
//! - [`digits_only`], [`phone`], [`postal_code`]: keys for matching records from different lists.

#![warn(missing_docs)]

use encoding_rs::SHIFT_JIS;

/// The encoding a text was read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 with a byte-order mark.
    Utf8Bom,
    /// UTF-8 without one.
    Utf8,
    /// Shift_JIS as Windows and Excel write it (CP932).
    ShiftJis,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Encoding::Utf8Bom => "UTF-8 (BOM)",
            Encoding::Utf8 => "UTF-8",
            Encoding::ShiftJis => "Shift_JIS (CP932)",
        })
    }
}

/// Bytes that cannot be read as text: damaged UTF-8, or neither UTF-8 nor CP932.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    /// Byte offset of the first invalid UTF-8 sequence.
    pub utf8_error_at: usize,
    /// 1-based line of the first invalid UTF-8 sequence.
    pub utf8_error_line: usize,
    /// 1-based line of the first invalid Shift_JIS sequence (0 when the text was not tried as
    /// Shift_JIS, or decodes as Shift_JIS without an error).
    pub sjis_error_line: usize,
    /// The text is UTF-8 (a byte-order mark, or almost all of its characters are valid UTF-8)
    /// with some bytes that are not: a damaged file, or lines pasted from a Shift_JIS file.
    /// Reading it as Shift_JIS would turn every character into another (mojibake).
    pub damaged_utf8: bool,
}

impl DecodeError {
    /// The line a person should look at.
    pub fn line(&self) -> usize {
        if self.damaged_utf8 || self.sjis_error_line == 0 {
            self.utf8_error_line
        } else {
            self.sjis_error_line
        }
    }
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.damaged_utf8 {
            write!(
                f,
                "line {}: bytes that are not valid UTF-8 (at byte offset {}) in a file that is \
                 otherwise UTF-8: the file is damaged, or part of it was pasted from a Shift_JIS \
                 file; correct the line and save the file as UTF-8",
                self.utf8_error_line, self.utf8_error_at
            )
        } else {
            write!(
                f,
                "not valid UTF-8 (line {}, byte offset {}) nor Shift_JIS (line {}): save the file \
                 as UTF-8 or as Excel's \"CSV (comma delimited)\"",
                self.utf8_error_line, self.utf8_error_at, self.sjis_error_line
            )
        }
    }
}

impl std::error::Error for DecodeError {}

/// 1-based line of a byte offset.
fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Whether bytes that are not valid UTF-8 are still UTF-8 text with a few bad bytes: at least
/// four valid non-ASCII characters for every invalid sequence. Japanese CP932 text read as
/// UTF-8 is the other way round (its lead bytes 0x81–0x9F are UTF-8 continuation bytes, so
/// nearly every character is invalid), while CP932 decoding of UTF-8 Japanese usually
/// *succeeds* and gives mojibake: so this must be asked before trying CP932.
pub fn looks_like_utf8(bytes: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        valid += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    valid > 0 && valid >= 4 * invalid
}

/// Decodes bytes as UTF-8 (BOM or not) or, failing that, CP932. Never guesses silently: text that
/// is valid in neither, or UTF-8 with damaged bytes, is an error naming where it breaks.
pub fn decode(bytes: &[u8]) -> Result<(String, Encoding), DecodeError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return match std::str::from_utf8(rest) {
            Ok(s) => Ok((s.to_owned(), Encoding::Utf8Bom)),
            Err(e) => Err(DecodeError {
                utf8_error_at: e.valid_up_to() + 3,
                utf8_error_line: line_at(bytes, e.valid_up_to() + 3),
                sjis_error_line: 0,
                damaged_utf8: true,
            }),
        };
    }
    let utf8_error_at = match std::str::from_utf8(bytes) {
        Ok(s) => return Ok((s.to_owned(), Encoding::Utf8)),
        Err(e) => e.valid_up_to(),
    };
    let utf8_error_line = line_at(bytes, utf8_error_at);
    if looks_like_utf8(bytes) {
        return Err(DecodeError {
            utf8_error_at,
            utf8_error_line,
            sjis_error_line: 0,
            damaged_utf8: true,
        });
    }
    let (text, had_errors) = SHIFT_JIS.decode_without_bom_handling(bytes);
    if had_errors {
        let sjis_error_line = text
            .split('\n')
            .position(|l| l.contains('\u{FFFD}'))
            .map_or(0, |p| p + 1);
        return Err(DecodeError {
            utf8_error_at,
            utf8_error_line,
            sjis_error_line,
            damaged_utf8: false,
        });
    }
    Ok((text.into_owned(), Encoding::ShiftJis))
}

/// Decodes bytes that [`decode`] refused, in the encoding they most likely are, with U+FFFD
/// for the bytes that are not valid in it, so that only the lines holding them are lost.
/// UTF-8 when there is a BOM or [`looks_like_utf8`]; otherwise whichever of UTF-8 and CP932
/// has fewer bad lines (UTF-8 on a tie).
pub fn decode_lossy(bytes: &[u8]) -> (String, Encoding) {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return (
            String::from_utf8_lossy(rest).into_owned(),
            Encoding::Utf8Bom,
        );
    }
    if std::str::from_utf8(bytes).is_ok() || looks_like_utf8(bytes) {
        return (String::from_utf8_lossy(bytes).into_owned(), Encoding::Utf8);
    }
    // Splitting on LF is safe in both: 0x0A is never part of a CP932 or UTF-8 multi-byte character.
    let (mut bad_utf8, mut bad_sjis) = (0, 0);
    for line in bytes.split(|&b| b == b'\n') {
        bad_utf8 += usize::from(std::str::from_utf8(line).is_err());
        bad_sjis += usize::from(SHIFT_JIS.decode_without_bom_handling(line).1);
    }
    if bad_sjis < bad_utf8 {
        (
            SHIFT_JIS.decode_without_bom_handling(bytes).0.into_owned(),
            Encoding::ShiftJis,
        )
    } else {
        (String::from_utf8_lossy(bytes).into_owned(), Encoding::Utf8)
    }
}

/// Folds the width and dash variants that Japanese office text mixes freely.
///
/// Full-width ASCII (`０-９`, `Ａ-Ｚ`, `－`, `，`, `．`, `（`) becomes ASCII; hyphen-like marks
/// (`‐ ‑ ‒ – — ― − ｰ` and the long vowel mark between digits) become `-`; ideographic and other
/// spaces become one space; the result is trimmed. Katakana's long vowel mark `ー` after kana stays.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut prev: Option<char> = None;
    let mut pending_space = false;
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        let mapped = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FF70}' | '\u{FE63}' => '-',
            // ー between digits (電話 ０３ー１２３４) is a hyphen; after kana it is a long vowel.
            'ー' if prev.is_some_and(|p| p.is_ascii_digit() || ('０'..='９').contains(&p))
                && next.is_some_and(|n| n.is_ascii_digit() || ('０'..='９').contains(&n)) =>
            {
                '-'
            }
            '\u{3000}' | '\u{00A0}' | '\t' | '\r' | '\n' => ' ',
            _ => c,
        };
        if mapped == ' ' {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(mapped);
        }
        prev = Some(c);
    }
    out
}

/// Only the ASCII digits of a normalised string: the key phone and FAX numbers match on.
pub fn digits_only(s: &str) -> String {
    normalize(s).chars().filter(char::is_ascii_digit).collect()
}

/// A phone or FAX number in the usual written form (`03-1234-5678`), or `None` if it has no digits.
///
/// Hyphens given in the source are kept (normalised); a bare digit string is returned as digits.
pub fn phone(s: &str) -> Option<String> {
    let n = normalize(s);
    let kept: String = n
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    let kept = kept.trim_matches('-').to_owned();
    if kept.chars().any(|c| c.is_ascii_digit()) {
        Some(kept)
    } else {
        None
    }
}

/// A postal code as `NNN-NNNN`, from `〒１５４－００１７`, `1540017` and the like.
pub fn postal_code(s: &str) -> Option<String> {
    let d = digits_only(s);
    (d.len() == 7).then(|| format!("{}-{}", &d[..3], &d[3..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_encodings() {
        let text = "事業所名,電話\n訪問看護ステーション㈱髙橋,03-1234-5678\n";
        let (sjis, _, _) = SHIFT_JIS.encode(text);
        assert_eq!(
            decode(&sjis).unwrap(),
            (text.to_owned(), Encoding::ShiftJis)
        );
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode(&bom).unwrap(), (text.to_owned(), Encoding::Utf8Bom));
        assert_eq!(decode(text.as_bytes()).unwrap().1, Encoding::Utf8);
    }

    #[test]
    fn cp932_specials_decode_like_excel() {
        // ① ～ № and NEC/IBM extensions as Excel writes them.
        let bytes = [0x87, 0x40, 0x81, 0x60, 0x87, 0x82, 0xED, 0x40];
        let (s, enc) = decode(&bytes).unwrap();
        assert_eq!(enc, Encoding::ShiftJis);
        assert_eq!(s.chars().count(), 4);
        assert!(s.starts_with('①'));
    }

    #[test]
    fn invalid_bytes_are_an_error_with_position() {
        let err = decode(b"ok\nline2 \x82\n\xFF\xFF").unwrap_err();
        assert_eq!(err.sjis_error_line, 2);
        assert!(err.to_string().contains("UTF-8"));
    }

    /// A UTF-8 file with one broken byte decodes as CP932 without an error, into mojibake:
    /// it must be refused as damaged UTF-8 at its line instead.
    #[test]
    fn damaged_utf8_is_not_read_as_shift_jis() {
        let mut bytes = "code,name\n1330020000,医療法人社団　緑風会　みどり歯科医院\n"
            .as_bytes()
            .to_vec();
        bytes.extend_from_slice(b"1330020001,\xE3\x81\n");
        bytes
            .extend_from_slice("1330020002,さくら歯科医院\n1330020003,ひかり歯科医院\n".as_bytes());
        assert!(
            !SHIFT_JIS.decode_without_bom_handling(&bytes).1,
            "valid CP932"
        );
        let err = decode(&bytes).unwrap_err();
        assert!(err.damaged_utf8);
        assert_eq!((err.line(), err.utf8_error_line), (3, 3));
        assert!(
            err.to_string()
                .starts_with("line 3: bytes that are not valid UTF-8"),
            "{err}"
        );
        let (text, enc) = decode_lossy(&bytes);
        assert_eq!(enc, Encoding::Utf8);
        assert!(text.contains("さくら歯科医院") && text.contains('\u{FFFD}'));

        // With a BOM too.
        let err = decode(b"\xEF\xBB\xBFa\nb\xFF\n").unwrap_err();
        assert!(err.damaged_utf8 && err.line() == 2, "{err:?}");
    }

    /// CP932 text stays CP932, also when it is damaged.
    #[test]
    fn shift_jis_is_not_taken_for_damaged_utf8() {
        let text = "事業所名,電話\n訪問看護ステーション㈱髙橋,03-1234-5678\nｶﾌﾞｼｷｶﾞｲｼｬ\n";
        let (sjis, _, _) = SHIFT_JIS.encode(text);
        assert!(!looks_like_utf8(&sjis));
        let mut damaged = sjis.to_vec();
        damaged.extend_from_slice(b"\x81\x20\n");
        let err = decode(&damaged).unwrap_err();
        assert!(!err.damaged_utf8);
        assert_eq!(err.line(), 4);
        let (lossy, enc) = decode_lossy(&damaged);
        assert_eq!(enc, Encoding::ShiftJis);
        assert!(lossy.starts_with(text));
    }

    #[test]
    fn normalizes_width_dashes_spaces() {
        assert_eq!(
            normalize("東京都世田谷区太子堂１－２－３　４階"),
            "東京都世田谷区太子堂1-2-3 4階"
        );
        assert_eq!(normalize("０３ー１２３４ー５６７８"), "03-1234-5678");
        assert_eq!(normalize("ステーション"), "ステーション");
        assert_eq!(normalize("  Ａ　ｂ\t\tc "), "A b c");
        assert_eq!(normalize("１，２３４"), "1,234");
        assert_eq!(normalize("−"), "-");
    }

    #[test]
    fn keys_for_matching() {
        assert_eq!(digits_only("０３（１２３４）５６７８"), "0312345678");
        assert_eq!(
            phone("TEL：０３－１２３４－５６７８").as_deref(),
            Some("03-1234-5678")
        );
        assert_eq!(phone("なし"), None);
        assert_eq!(
            postal_code("〒１５４－００１７").as_deref(),
            Some("154-0017")
        );
        assert_eq!(postal_code("154"), None);
    }
}
