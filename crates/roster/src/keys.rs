//! Matching keys: how two lists' spellings of one facility's name and address are made equal.
//!
//! The public lists write the same clinic differently: 「東京都みどり市本町１丁目２番３号　２階」 in
//! one, 「みどり市本町1-2-3」 in another; 「医療法人社団　若葉会　わかば歯科」 here, 「わかば歯科」
//! there. These keys are only compared, never shown.

use capsurvey_jptext::normalize;

/// Whether a code is an official 10-digit code (医療機関コード or 介護保険事業所番号).
pub fn is_official_code(code: &str) -> bool {
    code.len() == 10 && code.bytes().all(|b| b.is_ascii_digit())
}

/// A code as typed into a cell: full-width digits folded, spaces and hyphens removed
/// (「１３１－１２３４５６７」 → `1311234567`), letters upper-cased (`l001` → `L001`).
pub fn clean_code(s: &str) -> String {
    normalize(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Corporations that own facilities and that one list puts in front of the facility's name while
/// another leaves them out (「医療法人社団 若葉会 わかば歯科」 / 「わかば歯科」).
const ENTITY_PREFIXES: [&str; 10] = [
    "医療法人社団",
    "医療法人財団",
    "医療法人",
    "社会医療法人",
    "社会福祉法人",
    "一般社団法人",
    "公益社団法人",
    "一般財団法人",
    "公益財団法人",
    "特定非営利活動法人",
];

/// The key names are matched on: width-folded; company forms (㈱, (有), 株式会社 …) dropped,
/// because lists place them before, after or not at all; a leading corporation (「医療法人社団
/// 若葉会」) dropped when a space separates it from the facility's name; spaces removed.
pub fn name_key(name: &str) -> String {
    let mut n = normalize(name);
    for abbr in [
        "㈱",
        "(株)",
        "株式会社",
        "㈲",
        "(有)",
        "有限会社",
        "合同会社",
    ] {
        n = n.replace(abbr, "");
    }
    for (abbr, full) in [
        ("(医)", "医療法人"),
        ("(社福)", "社会福祉法人"),
        ("(福)", "社会福祉法人"),
    ] {
        n = n.replace(abbr, full);
    }
    let tokens: Vec<&str> = n.split(' ').filter(|t| !t.is_empty()).collect();
    let mut start = 0;
    if tokens.len() > 1 && ENTITY_PREFIXES.iter().any(|p| tokens[0].starts_with(p)) {
        start = 1;
        // 「医療法人社団 若葉会 わかば歯科」: the corporation's own name is a token of its own.
        if ENTITY_PREFIXES.contains(&tokens[0]) && tokens.len() > 2 {
            start = 2;
        }
    }
    tokens[start..]
        .concat()
        .replace(['ヶ', 'ヵ'], "ケ")
        .to_uppercase()
}

/// The 47 prefectures, so that 「府中市」 and 「都城市」 are not mistaken for a prefecture.
const PREFECTURES: [&str; 47] = [
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

/// An address in one spelling for matching and area look-up: width-folded, without spaces,
/// postal code or prefecture, kanji 丁目 numbers as digits, 丁目/番地/番/号/の after a number as
/// hyphens (「本町一丁目2番3号」 → 「本町1-2-3」), and cut after the house number so a building
/// name or floor does not stop two lists from matching.
pub fn address_key(address: &str) -> String {
    let s = address_prefix_form(address);
    match s.find(|c: char| c.is_ascii_digit()) {
        None => s,
        Some(first) => {
            let run = s[first..]
                .find(|c: char| !(c.is_ascii_digit() || c == '-'))
                .map_or(s.len(), |e| first + e);
            s[..run].trim_end_matches('-').to_owned()
        }
    }
}

/// Like [`address_key`] but not cut after the house number: what area-map prefixes are
/// compared with (a prefix may name a building or a 丁目).
pub fn address_prefix_form(address: &str) -> String {
    let mut s: String = normalize(address)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if let Some(rest) = s.strip_prefix('〒') {
        let skip = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '-'))
            .unwrap_or(rest.len());
        s = rest[skip..].to_owned();
    }
    if let Some(p) = PREFECTURES.iter().find(|p| s.starts_with(*p)) {
        s = s[p.len()..].to_owned();
    }
    let s = kanji_chome(&s).replace(['ヶ', 'ヵ'], "ケ");
    number_suffixes_to_hyphens(&s)
}

fn kanji_digit(c: char) -> Option<u32> {
    "〇一二三四五六七八九"
        .chars()
        .position(|k| k == c)
        .map(|p| p as u32)
}

/// 「一丁目」…「二十九丁目」 → 「1丁目」…「29丁目」; kanji numbers elsewhere are names (「一本松」).
fn kanji_chome(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        while i < chars.len() && (kanji_digit(chars[i]).is_some() || chars[i] == '十') {
            i += 1;
        }
        if i > start && chars[i..].starts_with(&['丁', '目']) {
            let mut value = 0;
            let mut current = 0;
            for &c in &chars[start..i] {
                if c == '十' {
                    value += if current == 0 { 10 } else { current * 10 };
                    current = 0;
                } else {
                    current = current * 10 + kanji_digit(c).unwrap_or(0);
                }
            }
            out.push_str(&(value + current).to_string());
        } else {
            out.extend(&chars[start..i]);
        }
        if i < chars.len() {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

fn number_suffixes_to_hyphens(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if out.ends_with(|p: char| p.is_ascii_digit()) {
            // Longest first: 番地の before 番地 before 番.
            if let Some(suffix) = ["丁目", "番地の", "番地", "番", "の"]
                .into_iter()
                .find(|x| rest.starts_with(x))
            {
                out.push('-');
                rest = &rest[suffix.len()..];
                continue;
            }
            if rest.starts_with('号') {
                rest = &rest['号'.len_utf8()..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_different_spellings_match() {
        let a = address_key("東京都みどり市本町１丁目２番３号　みどりビル２階");
        assert_eq!(a, "みどり市本町1-2-3");
        assert_eq!(address_key("みどり市本町1-2-3"), a);
        assert_eq!(address_key("〒199-0001 東京都みどり市本町一丁目2-3"), a);
        assert_eq!(address_key("みどり市本町１－２－３"), a);
        assert_eq!(
            address_key("みどり市緑ケ丘二十三丁目4番地の5"),
            "みどり市緑ケ丘23-4-5"
        );
        assert_eq!(address_key("みどり市緑ヶ丘23-4-5"), "みどり市緑ケ丘23-4-5");
        // Town names with kanji numbers or 番 stay.
        assert_eq!(address_key("府中市一本松町5"), "府中市一本松町5");
        assert_eq!(address_key("みどり市番場町2番"), "みどり市番場町2");
    }

    #[test]
    fn names_match_with_or_without_entity() {
        let k = name_key("わかば歯科クリニック");
        assert_eq!(name_key("医療法人社団　若葉会　わかば歯科クリニック"), k);
        assert_eq!(name_key("医療法人社団若葉会 わかば歯科クリニック"), k);
        assert_eq!(name_key("わかば 歯科クリニック"), k);
        assert_eq!(
            name_key("㈱みどりケア 訪問看護ステーション"),
            name_key("(株)みどりケア訪問看護ステーション")
        );
        assert_eq!(name_key("ＡＢＣ歯科"), "ABC歯科");
    }

    #[test]
    fn codes() {
        assert_eq!(clean_code("１３１－１２３４５６７"), "1311234567");
        assert!(is_official_code("1311234567"));
        assert!(!is_official_code("L001"));
        assert_eq!(clean_code(" l001 "), "L001");
    }
}
