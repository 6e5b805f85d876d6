//! B1: 医療情報ネット (ナビイ) 施設票 (`0N-1_…_facility_info_YYYYMMDD.csv`).
//!
//! No phone, FAX or postal code; the ID is ナビイ's own, not the 医療機関コード, so a facility
//! first seen here gets the provisional code `N` + ID until a list with the official code
//! (the bureau's) is merged onto it by name and address.

use capsurvey_survey::FacilityType;

use super::{Header, Out, ParseOptions, Seen, coordinates, text};
use crate::keys::clean_code;
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
        let id = clean_code(h.get(c, &["ID"]));
        let Some(name) = text(h.get(c, &["正式名称"])) else {
            out.error(row.line, "正式名称 (name) is empty; the row was skipped");
            continue;
        };
        if id.is_empty() {
            out.error(
                row.line,
                format!("ID is empty for 「{name}」; the row was skipped"),
            );
            continue;
        }
        let kind = h.get(c, &["機関区分"]);
        let facility_type = match capsurvey_jptext::normalize(kind).as_str() {
            // 1 hospital, 2 clinic: both are asked the home-care clinic survey.
            "1" | "2" => FacilityType::HomecareClinic,
            "3" => FacilityType::Dental,
            _ => match opts.default_type {
                Some(t) => t,
                None => {
                    out.error(
                        row.line,
                        format!(
                            "機関区分 `{kind}` is not 1 (hospital), 2 (clinic) or 3 (dental): \
                             pass --type to import these rows as one kind of facility"
                        ),
                    );
                    continue;
                }
            },
        };
        if let Err(first) = seen.first(&id, row.line) {
            out.error(
                row.line,
                format!(
                    "ID {id} appears again (first on line {first}); only the first row is used"
                ),
            );
            continue;
        }
        let (latitude, longitude) = coordinates(
            h.get(c, &["所在地座標（緯度）", "緯度"]),
            h.get(c, &["所在地座標（経度）", "経度"]),
        );
        out.records.push(RosterRecord {
            source: SourceKind::Navii,
            source_key: id.clone(),
            line: row.line,
            fields: SourceFields {
                code: format!("N{id}"),
                official: false,
                facility_type,
                name,
                name_kana: text(h.get(c, &["正式名称（フリガナ）"])),
                postal_code: None,
                address: text(h.get(c, &["所在地"])),
                phone: None,
                fax: None,
                latitude,
                longitude,
                filings: Vec::new(),
                area: None,
            },
            raw: h.raw(c, &[]).into(),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::parse::{ParseOptions, parse};
    use crate::record::{Layout, SourceEncoding};
    use capsurvey_jptext::Encoding;
    use capsurvey_survey::FacilityType;

    const HEADER: &str = "\"ID\",\"正式名称\",\"正式名称（フリガナ）\",\"略称\",\"機関区分\",\"都道府県コード\",\
\"市区町村コード\",\"所在地\",\"所在地座標（緯度）\",\"所在地座標（経度）\"\r\n";

    fn file(rows: &str) -> Vec<u8> {
        let mut b = b"\xEF\xBB\xBF".to_vec();
        b.extend_from_slice(HEADER.as_bytes());
        b.extend_from_slice(rows.as_bytes());
        b
    }

    #[test]
    fn dental_rows() {
        let bytes = file(
            "\"1390000000011\",\"みどり歯科医院\",\"ミドリシカイイン\",\"\",\"3\",\"13\",\"990\",\
             \"東京都みどり市本町１－２－３\",35.7001,139.4002\r\n\
             \"1390000000012\",\"さくら歯科\",\"サクラシカ\",\"\",\"3\",\"13\",\"990\",\"東京都みどり市栄町２－１\",0.0,0.0\r\n",
        );
        let p = parse(&bytes, &ParseOptions::default()).unwrap();
        assert_eq!(p.layout, Layout::Navii);
        assert_eq!(p.encoding, SourceEncoding::Text(Encoding::Utf8Bom));
        assert_eq!((p.header_line, p.rows_read, p.errors.len()), (1, 2, 0));
        let r = &p.records[0];
        assert_eq!(r.source_key, "1390000000011");
        assert_eq!(r.line, 2);
        assert_eq!(r.fields.code, "N1390000000011");
        assert!(!r.fields.official);
        assert_eq!(r.fields.facility_type, FacilityType::Dental);
        assert_eq!(r.fields.address.as_deref(), Some("東京都みどり市本町1-2-3"));
        assert_eq!(
            (r.fields.latitude, r.fields.longitude),
            (Some(35.7001), Some(139.4002))
        );
        assert_eq!(r.raw["正式名称"], "みどり歯科医院");
        assert_eq!(p.records[1].fields.latitude, None, "0.0, 0.0 means unknown");
    }

    #[test]
    fn bad_rows_are_reported_and_skipped() {
        let bytes = file(
            "\"1\",\"あおば診療所\",\"\",\"\",\"2\",\"13\",\"990\",\"みどり市北野1-1\",35.1,139.1\r\n\
             \"2\",\"短い行\",\"\",\"2\",\"13\"\r\n\
             \"3\",\"\",\"\",\"\",\"1\",\"13\",\"990\",\"みどり市北野1-2\",35.1,139.1\r\n\
             \"4\",\"みどり薬局\",\"\",\"\",\"5\",\"13\",\"990\",\"みどり市北野1-3\",35.1,139.1\r\n\
             \"1\",\"あおば診療所\",\"\",\"\",\"2\",\"13\",\"990\",\"みどり市北野1-1\",35.1,139.1\r\n",
        );
        let p = parse(&bytes, &ParseOptions::default()).unwrap();
        assert_eq!(p.records.len(), 1);
        assert_eq!(
            p.records[0].fields.facility_type,
            FacilityType::HomecareClinic
        );
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [3, 4, 5, 6]);
        assert!(
            p.errors[0]
                .reason
                .contains("5 columns where the header (line 1) has 10")
        );
        assert!(p.errors[2].reason.contains("--type"));
        assert!(p.errors[3].reason.contains("first on line 2"));
        // --type decides what 機関区分 does not.
        let p = parse(
            &bytes,
            &ParseOptions {
                default_type: Some(FacilityType::HomecareClinic),
            },
        )
        .unwrap();
        assert_eq!(p.records.len(), 2);
    }
}
