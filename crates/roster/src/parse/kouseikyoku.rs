//! B3: 地方厚生局 届出受理医療機関名簿 (one xlsx per prefecture; header in Excel row 4).
//!
//! One row per filing, so a clinic appears many times: rows are gathered per 医療機関コード
//! (都道府県コード 2 + 点数表 1 (医科 1, 歯科 3) + 医療機関番号 7) into one record whose
//! filings are the 受理記号 of all its rows. Filing codes are kept as the bureau writes them
//! (width-folded), not checked against a fixed list: the set changes between fee revisions.

use std::collections::HashMap;

use capsurvey_jptext::{digits_only, normalize};
use capsurvey_survey::FacilityType;

use super::{Header, Out, ParseOptions, text};
use crate::record::{RosterRecord, SourceFields, SourceKind};
use crate::table::Row;

pub(super) fn parse(h: &Header, rows: &[Row], opts: &ParseOptions, out: &mut Out) {
    let mut by_code: HashMap<String, usize> = HashMap::new();
    for row in rows {
        if let Err(e) = h.check_width(row) {
            out.errors.push(e);
            continue;
        }
        let c = &row.cells;
        let number_cell = h.get(c, &["医療機関番号"]);
        if number_cell == "医療機関番号" {
            // The header repeated at the top of each printed page.
            continue;
        }
        let Some(name) = text(h.get(c, &["医療機関名称"])) else {
            out.error(
                row.line,
                "医療機関名称 (name) is empty; the row was skipped",
            );
            continue;
        };
        let number = digits_only(number_cell);
        let pref = digits_only(h.get(c, &["都道府県コード"]));
        if number.is_empty() || number.len() > 7 || pref.is_empty() || pref.len() > 2 {
            out.error(
                row.line,
                format!(
                    "医療機関番号 `{number_cell}` / 都道府県コード `{}` of 「{name}」 do not make a \
                     医療機関コード (7 and 2 digits); the row was skipped",
                    h.get(c, &["都道府県コード"])
                ),
            );
            continue;
        }
        let section = normalize(h.get(c, &["区分"]));
        let facility_type = match section.as_str() {
            "医科" => FacilityType::HomecareClinic,
            "歯科" => FacilityType::Dental,
            _ => match opts.default_type {
                Some(t @ (FacilityType::HomecareClinic | FacilityType::Dental)) => t,
                _ => {
                    out.error(
                        row.line,
                        format!(
                            "区分 `{section}` is neither 医科 nor 歯科; pass --type dental or \
                             --type homecare-clinic if the whole file is one of them"
                        ),
                    );
                    continue;
                }
            },
        };
        let table = if facility_type == FacilityType::Dental {
            '3'
        } else {
            '1'
        };
        let code = format!("{pref:0>2}{table}{number:0>7}");
        let filing =
            filing_code(h.get(c, &["受理記号"])).or_else(|| text(h.get(c, &["受理届出名称"])));
        let raw_row = serde_json::Value::Object(h.raw(c, &["項番"]));
        if let Some(&i) = by_code.get(&code) {
            let rec = &mut out.records[i];
            if let Some(f) = filing
                && !rec.fields.filings.contains(&f)
            {
                rec.fields.filings.push(f);
                rec.fields.filings.sort();
            }
            if let Some(rows) = rec.raw.get_mut("rows").and_then(|r| r.as_array_mut()) {
                rows.push(raw_row);
            }
            continue;
        }
        by_code.insert(code.clone(), out.records.len());
        out.records.push(RosterRecord {
            source: SourceKind::Kouseikyoku,
            source_key: code.clone(),
            line: row.line,
            fields: SourceFields {
                code,
                official: true,
                facility_type,
                name,
                name_kana: None,
                postal_code: capsurvey_jptext::postal_code(h.get(c, &["郵便番号"])),
                address: text(h.get(c, &["住所"])),
                phone: capsurvey_jptext::phone(h.get(c, &["電話番号"])),
                fax: capsurvey_jptext::phone(h.get(c, &["FAX番号"])),
                latitude: None,
                longitude: None,
                filings: filing.into_iter().collect(),
                area: None,
            },
            raw: serde_json::json!({ "rows": [raw_row] }),
        });
    }
}

/// 「（支援診３）」 → `支援診3`.
fn filing_code(s: &str) -> Option<String> {
    let n = normalize(s);
    let n = n.trim_start_matches('(').trim_end_matches(')').trim();
    (!n.is_empty()).then(|| n.to_owned())
}

#[cfg(test)]
mod tests {
    use crate::parse::{ParseOptions, parse};
    use crate::record::{Layout, SourceEncoding};
    use crate::table::{Row, Table};
    use capsurvey_survey::FacilityType;

    /// The sheet as CSV (the same reader serves both; xlsx reading is tested with the fixtures).
    fn sheet(rows: &[&str]) -> Vec<u8> {
        let mut s = String::from("届出受理医療機関名簿（医科）\n［令和 7年11月 1日現在］\n\n");
        s += "項番,都道府県コード,都道府県名,区分,医療機関番号,併設医療機関番号,医療機関記号番号,\
              医療機関名称,郵便番号,住所,電話番号,FAX番号,病床数,受理届出名称,受理記号,受理番号,\
              算定開始年月日,個別有効開始年月日,備考（見出し）,備考（データ）,市町村コード,市町村名,種別コード,種別\n";
        for r in rows {
            s += r;
            s += "\n";
        }
        s.into_bytes()
    }

    const A: &str = "1,13,東京都,医科,0012345,,12-3456-7,あおば内科クリニック,〒199-0011,みどり市北野１－２－３,042-911-0001,042-911-0002,0,在宅療養支援診療所,（支援診３）,第1号,令和 6年 7月 1日,,,,990,みどり市,,";

    #[test]
    fn filings_gather_per_facility() {
        let b = A.replacen("1,13,", "2,13,", 1).replace(
            "在宅療養支援診療所,（支援診３）",
            "在宅時医学総合管理料,在医総管",
        );
        let dental = "3,13,東京都,歯科,12346,,,みどり歯科,199-0012,みどり市本町1-1,042-911-0003,,0,在宅療養支援歯科診療所２,歯援診２,第2号,令和 6年 6月 1日,,,,990,みどり市,,";
        let bytes = sheet(&[A, &b, A, dental]);
        let p = parse(&bytes, &ParseOptions::default()).unwrap();
        assert_eq!(p.layout, Layout::Kouseikyoku);
        assert_eq!(p.header_line, 4);
        assert_eq!(p.rows_read, 4);
        assert_eq!(p.errors, []);
        assert_eq!(p.records.len(), 2);
        let clinic = &p.records[0];
        assert_eq!(clinic.source_key, "1310012345");
        assert_eq!(clinic.line, 5);
        assert_eq!(clinic.fields.facility_type, FacilityType::HomecareClinic);
        assert_eq!(clinic.fields.filings, ["在医総管", "支援診3"]);
        assert_eq!(clinic.fields.postal_code.as_deref(), Some("199-0011"));
        assert_eq!(clinic.fields.address.as_deref(), Some("みどり市北野1-2-3"));
        assert_eq!(clinic.raw["rows"].as_array().unwrap().len(), 3);
        assert!(clinic.raw["rows"][0].get("項番").is_none());
        let dental = &p.records[1];
        assert_eq!(dental.source_key, "1330012346");
        assert_eq!(dental.fields.facility_type, FacilityType::Dental);
        assert_eq!(dental.fields.filings, ["歯援診2"]);
    }

    #[test]
    fn xlsx_with_title_rows_numbers_and_a_page_header() {
        use rust_xlsxwriter::Workbook;
        let mut book = Workbook::new();
        let sheet = book.add_worksheet();
        sheet
            .write_string(0, 0, "届出受理医療機関名簿（歯科）")
            .unwrap();
        sheet
            .write_string(1, 0, "［令和 7年11月 1日現在］")
            .unwrap();
        let header = [
            "項番",
            "都道府県コード",
            "区分",
            "医療機関番号",
            "医療機関名称",
            "郵便番号",
            "住所",
            "電話番号",
            "FAX番号",
            "受理届出名称",
            "受理記号",
        ];
        for (c, h) in header.iter().enumerate() {
            sheet.write_string(3, c as u16, *h).unwrap();
            // A printed page repeats the header further down.
            sheet.write_string(6, c as u16, *h).unwrap();
        }
        for (r, symbol) in [(4, "歯援診１"), (5, "外安全１"), (7, "口管強")] {
            sheet.write_number(r, 0, f64::from(r)).unwrap();
            sheet.write_number(r, 1, 13.0).unwrap();
            sheet.write_string(r, 2, "歯科").unwrap();
            // The number stored as a number loses its leading zeros; the code pads them back.
            sheet.write_number(r, 3, 20001.0).unwrap();
            sheet.write_string(r, 4, "みどり歯科医院").unwrap();
            sheet.write_number(r, 5, 1999901.0).unwrap();
            sheet.write_string(r, 6, "みどり市本町1-1").unwrap();
            sheet.write_string(r, 7, "042-911-0001").unwrap();
            sheet.write_string(r, 9, "x").unwrap();
            sheet.write_string(r, 10, format!("（{symbol}）")).unwrap();
        }
        sheet.write_string(8, 4, "名称だけの行").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let p = parse(&bytes, &ParseOptions::default()).unwrap();
        assert_eq!(
            (p.layout, p.encoding, p.header_line),
            (Layout::Kouseikyoku, SourceEncoding::Xlsx, 4)
        );
        assert_eq!(p.records.len(), 1);
        let r = &p.records[0];
        assert_eq!((r.source_key.as_str(), r.line), ("1330020001", 5));
        assert_eq!(r.fields.postal_code.as_deref(), Some("199-9901"));
        assert_eq!(r.fields.filings, ["口管強", "外安全1", "歯援診1"]);
        assert_eq!(p.errors.len(), 1);
        assert_eq!(p.errors[0].line, 9, "Excel row numbers: {:?}", p.errors);
    }

    #[test]
    fn header_found_below_title_rows_in_any_table() {
        let t = Table {
            encoding: SourceEncoding::Xlsx,
            rows: vec![Row {
                line: 1,
                cells: vec!["届出受理医療機関名簿".into()],
            }],
            errors: vec![],
        };
        assert!(super::super::find_header(&[t]).is_err());
    }
}
