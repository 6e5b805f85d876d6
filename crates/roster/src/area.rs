//! The area map: which area (地区, 地域, 圏域) a facility belongs to, from its address or its code.
//!
//! A CSV file (UTF-8 or Shift_JIS), documented in docs/roster-format.md:
//!
//! ```text
//! # lines starting with # are comments
//! 種類,キー,地区
//! 住所,みどり市本町,中央
//! 住所,緑ケ丘3丁目,西
//! コード,1310012345,北
//! ```
//!
//! An address entry is a prefix of the address after normalisation (full-width digits, 丁目 →
//! `-`, prefecture dropped); it may start at the city (「みどり市本町」) or at the town (「本町」).
//! The longest matching prefix wins, so a 丁目 can belong to another area than the rest of its
//! town. A code entry names one facility and wins over every address entry.

use std::collections::HashMap;

use crate::keys::{address_prefix_form, clean_code, is_official_code};

/// An error in the area map; the map is not used at all, so no facility gets a wrong area.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {reason}")]
pub struct AreaMapError {
    /// The map file.
    pub file: String,
    /// 1-based line (0 for the file as a whole).
    pub line: usize,
    /// What is wrong and what to do.
    pub reason: String,
}

/// One address-prefix entry.
#[derive(Debug, Clone, PartialEq)]
struct PrefixEntry {
    prefix: String,
    area: String,
}

/// A parsed area map.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AreaMap {
    prefixes: Vec<PrefixEntry>,
    codes: HashMap<String, String>,
    areas: Vec<String>,
}

/// Characters after which a town name starts, so an entry may leave out the city.
const TOWN_STARTS: [char; 5] = ['市', '区', '郡', '町', '村'];

impl AreaMap {
    /// Reads a map file.
    pub fn load(path: &std::path::Path) -> Result<AreaMap, AreaMapError> {
        let file = path.display().to_string();
        let bytes = std::fs::read(path).map_err(|e| AreaMapError {
            file: file.clone(),
            line: 0,
            reason: format!("cannot read the area map: {e}"),
        })?;
        Self::parse(&bytes, &file)
    }

    /// Parses a map; `file` names it in errors.
    pub fn parse(bytes: &[u8], file: &str) -> Result<AreaMap, AreaMapError> {
        let err = |line: usize, reason: String| AreaMapError {
            file: file.to_owned(),
            line,
            reason,
        };
        let (text, _) =
            capsurvey_jptext::decode(bytes).map_err(|e| err(e.line(), e.to_string()))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let lines = crate::table::Lines::new(&text);
        let mut map = AreaMap::default();
        let mut columns: Option<(Option<usize>, usize, usize)> = None;
        for result in reader.records() {
            let record = result.map_err(|e| {
                err(
                    e.position().map_or(0, |p| lines.at(p.byte())),
                    format!("cannot read this CSV row ({e})"),
                )
            })?;
            let line = record.position().map_or(0, |p| lines.at(p.byte()));
            let cells: Vec<String> = record.iter().map(capsurvey_jptext::normalize).collect();
            if cells.iter().all(String::is_empty) {
                continue;
            }
            let Some((kind_col, key_col, area_col)) = columns else {
                let find = |names: &[&str]| {
                    cells
                        .iter()
                        .position(|c| names.iter().any(|n| c.eq_ignore_ascii_case(n)))
                };
                let key = find(&["キー", "key", "住所", "address"]);
                let area = find(&["地区", "area", "地域"]);
                match (key, area) {
                    (Some(k), Some(a)) => columns = Some((find(&["種類", "kind"]), k, a)),
                    _ => {
                        return Err(err(
                            line,
                            format!(
                                "the first row `{}` is not a header: expected 種類,キー,地区 (or kind,key,area)",
                                cells.join(",")
                            ),
                        ));
                    }
                }
                continue;
            };
            let key = cells.get(key_col).cloned().unwrap_or_default();
            let area = cells.get(area_col).cloned().unwrap_or_default();
            if key.is_empty() || area.is_empty() {
                return Err(err(
                    line,
                    "キー (key) and 地区 (area) must both be filled in".into(),
                ));
            }
            let kind = kind_col
                .and_then(|c| cells.get(c))
                .map_or("", String::as_str);
            let is_code = match kind.to_ascii_lowercase().as_str() {
                "コード" | "code" => true,
                "住所" | "address" | "prefix" => false,
                "" => looks_like_code(&key),
                other => {
                    return Err(err(
                        line,
                        format!("種類 `{other}` is neither 住所 (address) nor コード (code)"),
                    ));
                }
            };
            if !map.areas.contains(&area) {
                map.areas.push(area.clone());
            }
            if is_code {
                map.codes.insert(clean_code(&key), area);
            } else {
                let prefix = address_prefix_form(&key);
                if prefix.is_empty() {
                    return Err(err(
                        line,
                        format!("`{key}` leaves nothing to match once the prefecture is dropped"),
                    ));
                }
                map.prefixes.push(PrefixEntry { prefix, area });
            }
        }
        if columns.is_none() {
            return Err(err(0, "the area map is empty".into()));
        }
        Ok(map)
    }

    /// The area for a facility: its code's entry, else the longest address prefix.
    pub fn area_for(&self, code: &str, address: Option<&str>) -> Option<&str> {
        self.by_code(code)
            .or_else(|| address.and_then(|a| self.by_address(a)))
    }

    /// The area given for a facility code.
    pub fn by_code(&self, code: &str) -> Option<&str> {
        self.codes.get(code).map(String::as_str)
    }

    /// The area of the longest address prefix that matches (at the start or where a town starts).
    pub fn by_address(&self, address: &str) -> Option<&str> {
        let a = address_prefix_form(address);
        let starts: Vec<usize> = std::iter::once(0)
            .chain(
                a.char_indices()
                    .filter(|(_, c)| TOWN_STARTS.contains(c))
                    .map(|(i, c)| i + c.len_utf8()),
            )
            .collect();
        // "Longest" is how far into the address an entry reaches: 「緑ケ丘3丁目」 from the town
        // start beats 「みどり市緑ケ丘」 from the city although it is the shorter text.
        let mut best: Option<(usize, &PrefixEntry)> = None;
        for e in &self.prefixes {
            let reach = starts
                .iter()
                .filter(|&&s| a[s..].starts_with(&e.prefix))
                .map(|&s| s + e.prefix.len())
                .max();
            if let Some(r) = reach
                && best.is_none_or(|(b, _)| r > b)
            {
                best = Some((r, e));
            }
        }
        best.map(|(_, e)| e.area.as_str())
    }

    /// The area names, in the order the map first mentions them.
    pub fn areas(&self) -> &[String] {
        &self.areas
    }
}

/// Keys that are facility codes when the map has no 種類 column: official codes, `L…` and `N…`.
fn looks_like_code(key: &str) -> bool {
    let c = clean_code(key);
    is_official_code(&c)
        || ((c.starts_with('L') || c.starts_with('N'))
            && c.len() > 1
            && c[1..].bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAP: &str = "# みどり市\n種類,キー,地区\n住所,みどり市本町,中央\n住所,北野,北\n住所,みどり市緑ケ丘,南\n\
                       住所,緑ヶ丘３丁目,西\nコード,1310012345,東\n";

    #[test]
    fn longest_prefix_and_codes() {
        let m = AreaMap::parse(MAP.as_bytes(), "map.csv").unwrap();
        assert_eq!(m.by_address("東京都みどり市本町１－２－３"), Some("中央"));
        assert_eq!(
            m.by_address("みどり市北野2-1"),
            Some("北"),
            "town names match without the city"
        );
        assert_eq!(m.by_address("みどり市緑ヶ丘1丁目2番"), Some("南"));
        assert_eq!(
            m.by_address("みどり市緑ケ丘三丁目4-5"),
            Some("西"),
            "the longer prefix wins"
        );
        assert_eq!(m.by_address("ひかり市本町1-1"), None);
        assert_eq!(
            m.area_for("1310012345", Some("みどり市本町1-1")),
            Some("東")
        );
        assert_eq!(m.areas(), ["中央", "北", "南", "西", "東"]);
    }

    #[test]
    fn kind_column_is_optional_and_errors_name_the_line() {
        let m = AreaMap::parse("キー,地区\nみどり市泉,西\nL001,東\n".as_bytes(), "m.csv").unwrap();
        assert_eq!(m.by_code("L001"), Some("東"));
        assert_eq!(m.by_address("みどり市泉1-1"), Some("西"));
        let e = AreaMap::parse("種類,キー,地区\r\n住所,みどり市泉,\r\n".as_bytes(), "m.csv")
            .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("m.csv", 2));
        let e = AreaMap::parse(
            "# note\r\n# more\r\n種類,キー,地区\r\n住所,,西\r\n".as_bytes(),
            "m.csv",
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "comment lines count");
        let e = AreaMap::parse("foo,bar\n".as_bytes(), "m.csv").unwrap_err();
        assert!(e.to_string().starts_with("m.csv:1:"), "{e}");
    }
}
