//! B2: 介護サービス情報公表システム open data (`jigyosho_130_all_….csv`: 訪問看護).
//!
//! Keyed by 事業所番号 (the official 10-digit 介護保険事業所番号); has phone and FAX. `No` is a
//! row number that shifts between snapshots, so it is not kept in the raw record.

use capsurvey_survey::FacilityType;

use super::{Header, Out, ParseOptions, Seen, coordinates, text};
use crate::keys::{clean_code, is_official_code};
use crate::record::{RosterRecord, SourceFields, SourceKind};
use crate::table::Row;

pub(super) fn parse(h: &Header, rows: &[Row], opts: &ParseOptions, out: &mut Out) {
    let mut seen = Seen::default();
    for row in rows {
        if let Err(e) = h.check_width(row) {
            out.errors.push(e);
            continue;
        }
        let c = &row.cells;
        let Some(name) = text(h.get(c, &["事業所名"])) else {
            out.error(row.line, "事業所名 (name) is empty; the row was skipped");
            continue;
        };
        let code = clean_code(h.get(c, &["事業所番号"]));
        if !is_official_code(&code) {
            out.error(
                row.line,
                format!("事業所番号 `{code}` of 「{name}」 is not 10 digits; the row was skipped"),
            );
            continue;
        }
        let service = h.get(c, &["サービスの種類"]);
        let facility_type = if service.contains("訪問看護") {
            FacilityType::VisitingNurse
        } else if let Some(t) = opts.default_type {
            t
        } else {
            out.error(
                row.line,
                format!(
                    "サービスの種類 `{service}` is not 訪問看護: capsurvey surveys visiting-nurse \
                     stations from this list; pass --type to import other services anyway"
                ),
            );
            continue;
        };
        if let Err(first) = seen.first(&code, row.line) {
            out.error(row.line, format!("事業所番号 {code} appears again (first on line {first}); only the first row is used"));
            continue;
        }
        let address = match (
            text(h.get(c, &["住所"])),
            text(h.get(c, &["方書（ビル名等）", "方書"])),
        ) {
            (Some(a), Some(b)) => Some(format!("{a} {b}")),
            (a, _) => a,
        };
        let (latitude, longitude) = coordinates(h.get(c, &["緯度"]), h.get(c, &["経度"]));
        out.records.push(RosterRecord {
            source: SourceKind::Kaigo,
            source_key: code.clone(),
            line: row.line,
            fields: SourceFields {
                code,
                official: true,
                facility_type,
                name,
                name_kana: text(h.get(c, &["事業所名カナ"])),
                postal_code: None,
                address,
                phone: capsurvey_jptext::phone(h.get(c, &["電話番号"])),
                fax: capsurvey_jptext::phone(h.get(c, &["FAX番号"])),
                latitude,
                longitude,
                filings: Vec::new(),
                area: None,
            },
            raw: h.raw(c, &["No"]).into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{ParseOptions, parse};
    use crate::record::Layout;
    use capsurvey_survey::FacilityType;

    pub(crate) const HEADER: [&str; 24] = [
        "都道府県コード又は市町村コード",
        "No",
        "都道府県名",
        "市区町村名",
        "事業所名",
        "事業所名カナ",
        "サービスの種類",
        "住所",
        "方書（ビル名等）",
        "緯度",
        "経度",
        "電話番号",
        "FAX番号",
        "法人番号",
        "法人の名称",
        "事業所番号",
        "利用可能曜日",
        "利用可能曜日特記事項",
        "定員",
        "URL",
        "高齢者の方と障害者の方が同時一体的に利用できるサービス",
        "介護保険の通常の指定基準を満たしている",
        "障害福祉の通常の指定基準を満たしている",
        "備考",
    ];

    fn row(no: u32, name: &str, code: &str, service: &str) -> String {
        format!(
            "139900,{no},東京都,みどり市,{name},ミドリ,{service},東京都みどり市泉２－３－４,泉ハイツ１０１,35.7,139.4,\
             ０４２－９５５－１２３４,042-955-1235,1234567890123,株式会社みどり,{code},月火水木金,,0,,,,,\r\n"
        )
    }

    #[test]
    fn visiting_nurse_rows() {
        let mut text = format!("\u{FEFF}{}\r\n", HEADER.join(","));
        text += &row(1, "みどり訪問看護ステーション", "1369900011", "訪問看護");
        text += &row(2, "いずみ訪問看護", "13699", "訪問看護");
        text += &row(3, "みどりヘルパー", "1319900099", "訪問介護");
        let p = parse(text.as_bytes(), &ParseOptions::default()).unwrap();
        assert_eq!(p.layout, Layout::Kaigo);
        assert_eq!(p.rows_read, 3);
        assert_eq!(p.records.len(), 1);
        let r = &p.records[0].fields;
        assert_eq!((r.code.as_str(), r.official), ("1369900011", true));
        assert_eq!(r.facility_type, FacilityType::VisitingNurse);
        assert_eq!(r.phone.as_deref(), Some("042-955-1234"));
        assert_eq!(r.fax.as_deref(), Some("042-955-1235"));
        assert_eq!(
            r.address.as_deref(),
            Some("東京都みどり市泉2-3-4 泉ハイツ101")
        );
        assert!(
            p.records[0].raw.get("No").is_none(),
            "row numbers are not facility data"
        );
        assert_eq!(p.errors.len(), 2);
        assert!(p.errors[0].reason.contains("not 10 digits"));
        assert!(p.errors[1].reason.contains("訪問介護"));
    }
}
