//! L: the municipality's own list, a simple CSV (documented in docs/roster-format.md), usually
//! saved from Excel in Shift_JIS.
//!
//! Column names may be Japanese or English; only コード and 名称 are required. The code is the
//! official one (10 digits) where the facility has it, so the row merges onto the public lists'
//! record, or a local code starting with `L` for a facility no public list has.

use super::{Header, Out, ParseError, ParseOptions, Seen, facility_type_from_label, text};
use crate::keys::{clean_code, is_official_code};
use crate::record::{RosterRecord, SourceFields, SourceKind};
use crate::table::Row;

pub(super) const CODE: &[&str] = &["コード", "code", "施設コード"];
pub(super) const NAME: &[&str] = &["名称", "name", "施設名"];
const TYPE: &[&str] = &["種別", "type", "施設種別"];
const KANA: &[&str] = &["カナ", "フリガナ", "kana"];
const POSTAL: &[&str] = &["郵便番号", "〒", "postal_code"];
const ADDRESS: &[&str] = &["住所", "所在地", "address"];
const PHONE: &[&str] = &["電話", "電話番号", "TEL", "phone"];
const FAX: &[&str] = &["FAX", "FAX番号", "ファックス", "fax"];
const AREA: &[&str] = &["地区", "地域", "area"];

pub(super) fn parse(
    h: &Header,
    rows: &[Row],
    opts: &ParseOptions,
    out: &mut Out,
) -> Result<(), ParseError> {
    if h.find(TYPE).is_none() && opts.default_type.is_none() {
        return Err(ParseError::TypeUndecidable {
            why: format!("no 種別 (type) column in the header on line {}", h.line),
        });
    }
    let mut seen = Seen::default();
    for row in rows {
        if let Err(e) = h.check_width(row) {
            out.errors.push(e);
            continue;
        }
        let c = &row.cells;
        let code = clean_code(h.get(c, CODE));
        let Some(name) = text(h.get(c, NAME)) else {
            out.error(
                row.line,
                format!("名称 (name) is empty for code `{code}`; fill it in (the row was skipped)"),
            );
            continue;
        };
        if code.is_empty() {
            out.error(
                row.line,
                format!(
                    "コード is empty for 「{name}」: give the official code (10 digits) or a local \
                     code starting with L (the row was skipped)"
                ),
            );
            continue;
        }
        let official = is_official_code(&code);
        if !official && !code.starts_with('L') {
            out.error(
                row.line,
                format!(
                    "コード `{code}` of 「{name}」 is neither a 10-digit official code nor a local code \
                     starting with L (a 7-digit 医療機関番号 needs the 都道府県 and 点数表 digits in front)"
                ),
            );
            continue;
        }
        let label = h.get(c, TYPE);
        let facility_type = match (facility_type_from_label(label), opts.default_type) {
            (Some(t), _) => t,
            (None, Some(t)) if label.is_empty() => t,
            _ => {
                out.error(
                    row.line,
                    format!(
                        "種別 `{label}` of 「{name}」 is not one of 歯科, 診療所, 病院, 訪問看護 (or dental, \
                         homecare-clinic, visiting-nurse); correct it, or leave it empty and pass --type"
                    ),
                );
                continue;
            }
        };
        if let Err(first) = seen.first(&code, row.line) {
            out.error(row.line, format!("コード {code} appears again (first on line {first}); only the first row is used"));
            continue;
        }
        out.records.push(RosterRecord {
            source: SourceKind::Local,
            source_key: code.clone(),
            line: row.line,
            fields: SourceFields {
                code,
                official,
                facility_type,
                name,
                name_kana: text(h.get(c, KANA)),
                postal_code: capsurvey_jptext::postal_code(h.get(c, POSTAL)),
                address: text(h.get(c, ADDRESS)),
                phone: capsurvey_jptext::phone(h.get(c, PHONE)),
                fax: capsurvey_jptext::phone(h.get(c, FAX)),
                latitude: None,
                longitude: None,
                filings: Vec::new(),
                area: text(h.get(c, AREA)),
            },
            raw: h.raw(c, &[]).into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::parse::{ParseError, ParseOptions, parse};
    use crate::record::{Layout, SourceEncoding};
    use capsurvey_jptext::Encoding;
    use capsurvey_survey::FacilityType;

    fn sjis(s: &str) -> Vec<u8> {
        encoding_rs::SHIFT_JIS.encode(s).0.into_owned()
    }

    #[test]
    fn cp932_list_with_full_width_digits() {
        let bytes = sjis(
            "コード,種別,名称,住所,電話,FAX,地区\r\n\
             Ｌ００１,訪問看護,㈱みどりケア訪問看護ステーション,みどり市泉３－１,０４２－９５５－０００１,０４２－９５５－０００２,西\r\n\
             1369900011,訪問看護ステーション,いずみ訪問看護,みどり市泉1-1,042-955-0003,,\r\n\
             L003,薬局,みどり薬局,みどり市泉1-2,,,\r\n\
             1234567,歯科,ななけた歯科,みどり市泉1-3,,,\r\n\
             L004,歯科,,みどり市泉1-4,,,\r\n",
        );
        let p = parse(&bytes, &ParseOptions::default()).unwrap();
        assert_eq!(p.layout, Layout::Local);
        assert_eq!(p.encoding, SourceEncoding::Text(Encoding::ShiftJis));
        assert_eq!(p.records.len(), 2);
        let r = &p.records[0];
        assert_eq!(r.source_key, "L001");
        assert_eq!(r.fields.name, "㈱みどりケア訪問看護ステーション");
        assert_eq!(r.fields.phone.as_deref(), Some("042-955-0001"));
        assert_eq!(r.fields.area.as_deref(), Some("西"));
        assert_eq!(r.fields.facility_type, FacilityType::VisitingNurse);
        assert!(p.records[1].fields.official);
        let lines: Vec<usize> = p.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [4, 5, 6]);
    }

    #[test]
    fn english_header_and_type_from_the_command_line() {
        let bytes = b"code,name,address\nL1,Aoba Clinic,midori 1-1\n";
        let err = parse(bytes, &ParseOptions::default()).unwrap_err();
        assert!(matches!(err, ParseError::TypeUndecidable { .. }));
        assert!(err.to_string().contains("--type"), "{err}");
        let p = parse(
            bytes,
            &ParseOptions {
                default_type: Some(FacilityType::HomecareClinic),
            },
        )
        .unwrap();
        assert_eq!(
            p.records[0].fields.facility_type,
            FacilityType::HomecareClinic
        );
        assert_eq!(p.records[0].fields.name, "Aoba Clinic");
    }
}
