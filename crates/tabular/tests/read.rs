//! Reading files without a database: layouts, encodings, block boundaries, row numbers.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use capsurvey_survey::{Value, parse_survey};
use capsurvey_tabular::import::read_all;
use capsurvey_tabular::{Catalog, FacilityKey, FileError, Format, ReadOptions, Row, RowProblem};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn catalog() -> Catalog {
    let mut parsed = Vec::new();
    for id in ["dental", "homecare-clinic", "visiting-nurse"] {
        let path = root().join(format!("surveys/{id}.toml"));
        parsed.push(parse_survey(id, &std::fs::read_to_string(path).unwrap()).unwrap());
    }
    Catalog::new(parsed)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::File::create(&p).unwrap().write_all(bytes).unwrap();
    p
}

fn value(file_plan: &capsurvey_tabular::Plan, row: &Row, key: &str) -> Option<Value> {
    file_plan.value_of(row, key).and_then(|v| v.ok()).flatten()
}

#[test]
fn every_fixture_layout_is_recognised() {
    let c = catalog();
    let dir = root().join("fixtures/replies");
    let cases = [
        ("dental-utf8bom-ids.csv", "dental", 3),
        ("dental-excel-sjis-labels.csv", "dental", 2),
        ("homecare-clinic-tab.tsv", "homecare-clinic", 3),
        ("visiting-nurse-option-columns.csv", "visiting-nurse", 2),
        ("visiting-nurse.xlsx", "visiting-nurse", 3),
        ("later/dental-correction.csv", "dental", 1),
    ];
    for (name, survey, rows) in cases {
        let opts = ReadOptions {
            survey: (name == "later/dental-correction.csv").then(|| "dental".to_owned()),
            ..Default::default()
        };
        let (file, got, errors) = read_all(&dir.join(name), &c, &opts).unwrap();
        assert_eq!(file.plan.index.id(), survey, "{name}");
        assert_eq!(got.len(), rows, "{name}");
        assert!(errors.is_empty(), "{name}: {errors:?}");
        assert!(
            file.plan.warnings.is_empty(),
            "{name}: {:?}",
            file.plan.warnings
        );
        for r in &got {
            for a in &r.answers {
                assert!(
                    a.problem().is_none(),
                    "{name} {}: {:?}",
                    file.plan.field_key(a.field as usize),
                    a.problem()
                );
            }
        }
        // Every field of the survey is read from the full layouts.
        if !name.contains("correction") {
            assert_eq!(
                got[0].answers.len(),
                file.plan.index.fields.len(),
                "{name}: {}",
                file.plan.layout()
            );
        }
    }
    // The Excel file: full-width codes, ○ and labels.
    let (file, rows, _) = read_all(
        &dir.join("dental-excel-sjis-labels.csv"),
        &c,
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        file.format,
        Format::Csv {
            delimiter: b',',
            crlf: true,
            ..
        }
    ));
    assert!(matches!(rows[0].facility(), FacilityKey::Code(c) if c.len() == 10 && c.is_ascii()));
    assert!(matches!(
        value(&file.plan, &rows[0], "q11a"),
        Some(Value::Bool(_))
    ));
    // The workbook: codes typed as numbers come back without `.0`.
    let (_, rows, _) = read_all(
        &dir.join("visiting-nurse.xlsx"),
        &c,
        &ReadOptions::default(),
    )
    .unwrap();
    assert!(matches!(rows[0].facility(), FacilityKey::Code(c) if !c.contains('.')));
}

#[test]
fn block_boundaries_do_not_change_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("facility_code,q08,q06,q04.full,q28\r\n");
    let mut expected_lines = Vec::new();
    let mut line: u64 = 2;
    for i in 0..3000 {
        expected_lines.push(line);
        let comment = match i % 7 {
            0 => "\"一行目\r\n二行目, \"\"引用\"\"\"".to_owned(),
            3 => "\"改行\n二つ\n目\"".to_owned(),
            _ => format!("コメント{i}"),
        };
        line += 1 + comment.matches('\n').count() as u64;
        text.push_str(&format!(
            "13301{i:05},{},\"{};{}\",{},{comment}\r\n",
            1 + i % 4,
            1 + i % 3,
            4 + i % 2,
            i % 50
        ));
    }
    let p = write(dir.path(), "big.csv", text.as_bytes());
    let c = catalog();
    let base = ReadOptions {
        survey: Some("dental".into()),
        ..Default::default()
    };
    let (_, whole, e1) = read_all(&p, &c, &base).unwrap();
    assert!(e1.is_empty(), "{e1:?}");
    assert_eq!(whole.len(), 3000);
    let lines: Vec<u64> = whole.iter().map(|r| r.pos.line).collect();
    assert_eq!(lines, expected_lines);
    // Rows count records as a spreadsheet shows them: header row 1, then one row per record.
    let rows: Vec<u64> = whole.iter().map(|r| r.pos.row).collect();
    assert_eq!(rows, (2..3002).collect::<Vec<u64>>());
    for block in [97, 256, 1000, 4096] {
        let small = ReadOptions {
            block_bytes: Some(block),
            ..base.clone()
        };
        let (file, parts, e2) = read_all(&p, &c, &small).unwrap();
        assert!(e2.is_empty());
        assert_eq!(parts, whole, "block size {block}");
        let r = &parts[0];
        assert_eq!(
            value(&file.plan, r, "q28"),
            Some(Value::Text("一行目\n二行目, \"引用\"".into()))
        );
    }
}

#[test]
fn ascii_first_then_shift_jis_further_down() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("facility_code,q08,q01a\r\n");
    for i in 0..200 {
        text.push_str(&format!("13301{i:05},1,clinic{i}\r\n"));
    }
    text.push_str("1330199999,2,みどり歯科医院㈱\r\n");
    let (bytes, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    let p = write(dir.path(), "late-sjis.csv", &bytes);
    let c = catalog();
    let opts = ReadOptions {
        survey: Some("dental".into()),
        block_bytes: Some(512),
        ..Default::default()
    };
    let (file, rows, errors) = read_all(&p, &c, &opts).unwrap();
    assert!(errors.is_empty());
    assert_eq!(rows.len(), 201);
    assert_eq!(
        value(&file.plan, &rows[200], "q01a"),
        Some(Value::Text("みどり歯科医院㈱".into()))
    );
}

#[test]
fn broken_rows_truncation_and_bad_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let c = catalog();
    let opts = ReadOptions {
        survey: Some("dental".into()),
        ..Default::default()
    };
    // The last line lacks cells and a line break: the file was cut.
    let p = write(
        dir.path(),
        "cut.csv",
        b"facility_code,q08,q26\n1330100011,1,1\n1330100012,2",
    );
    let (_, rows, errors) = read_all(&p, &c, &opts).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].pos.line, 3);
    assert!(
        errors[0]
            .display_in("cut.csv")
            .contains("cut.csv:3: 2 cells where the header has 3: the file ends in the middle"),
        "{}",
        errors[0].display_in("cut.csv")
    );
    // An unquoted comma gives an extra cell; trailing empty cells are fine.
    let p = write(
        dir.path(),
        "commas.csv",
        b"facility_code,q08,q10.home\n1330100011,1,1,234\n1330100012,2,5,,\n,,\n",
    );
    let (_, rows, errors) = read_all(&p, &c, &opts).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(matches!(
        &errors[0].problem,
        RowProblem::CellCount { found: 4, .. }
    ));
    assert!(errors[0].problem.to_string().contains("double quotes"));
    // No facility code.
    let p = write(dir.path(), "nocode.csv", b"facility_code,q08\n,1\n");
    let (_, _, errors) = read_all(&p, &c, &opts).unwrap();
    assert!(
        matches!(&errors[0].problem, RowProblem::NoFacility(_)),
        "{errors:?}"
    );
    // A quoted value that never ends.
    let p = write(
        dir.path(),
        "trunc.csv",
        b"facility_code,q08,q28\n1330100011,1,ok\n1330100012,2,\"cut\nhere",
    );
    let e = read_all(&p, &c, &opts).err().unwrap();
    assert!(matches!(e, FileError::Truncated { line: 3 }), "{e}");
    // Bytes that are neither UTF-8 nor Shift_JIS.
    let p = write(
        dir.path(),
        "bad.csv",
        b"facility_code,q08\n1330100011,\x82\xFF\n",
    );
    let e = read_all(&p, &c, &opts).err().unwrap();
    assert!(matches!(e, FileError::Decode { .. }), "{e}");
    // A survey column naming another survey.
    let p = write(
        dir.path(),
        "mixed.csv",
        b"survey,facility_code,q08\ndental,1330100011,1\nvisiting-nurse,1360100011,1\n",
    );
    let (_, rows, errors) = read_all(&p, &c, &ReadOptions::default()).unwrap();
    assert_eq!(rows.len(), 1);
    assert!(matches!(&errors[0].problem, RowProblem::OtherSurvey { .. }));
}

#[test]
fn survey_must_be_clear() {
    let dir = tempfile::tempdir().unwrap();
    let c = catalog();
    let p = write(
        dir.path(),
        "ambiguous.csv",
        b"facility_code,q02,q03\n1330100011,1,1\n",
    );
    let e = read_all(&p, &c, &ReadOptions::default()).err().unwrap();
    assert!(e.to_string().contains("--survey"), "{e}");
    let p = write(dir.path(), "nothing.csv", b"id,answer\n1,2\n");
    let e = read_all(&p, &c, &ReadOptions::default()).err().unwrap();
    assert!(matches!(e, FileError::NoSurveyMatches { .. }), "{e}");
    let p = write(dir.path(), "nofacility.csv", b"name,q08\nx,1\n");
    let e = read_all(
        &p,
        &c,
        &ReadOptions {
            survey: Some("dental".into()),
            ..Default::default()
        },
    )
    .err()
    .unwrap();
    assert!(matches!(e, FileError::NoFacilityColumn), "{e}");
}

#[test]
fn mapping_header_row_and_values() {
    let dir = tempfile::tempdir().unwrap();
    let c = catalog();
    let p = write(
        dir.path(),
        "titled.csv",
        "令和6年 調査回答一覧\n\n事業所ID,訪問,備考\n1330100011,専門,メモ\n".as_bytes(),
    );
    let m = capsurvey_tabular::Mapping::parse(
        "m.toml",
        "survey = \"dental\"\nheader_row = 3\n[columns]\n\"事業所ID\" = \"facility_code\"\n\"訪問\" = \"問8\"\n\"備考\" = \"ignore\"\n[values]\nq08 = { \"専門\" = \"1\" }\n",
    )
    .unwrap();
    let opts = ReadOptions {
        mapping: Some(Arc::new(m)),
        ..Default::default()
    };
    let (file, rows, errors) = read_all(&p, &c, &opts).unwrap();
    assert!(
        errors.is_empty() && file.plan.warnings.is_empty(),
        "{errors:?} {:?}",
        file.plan.warnings
    );
    assert_eq!(rows[0].pos.line, 4);
    assert_eq!(
        value(&file.plan, &rows[0], "q08"),
        Some(Value::Choice("1".into()))
    );
}

/// A lone CR is text inside a field (line feeds end records), so a quote right after it is a
/// literal quote, not the start of a quoted value, for the block scanner as for the field
/// reader: rows and their line numbers do not depend on the block size (found by fuzzing).
#[test]
fn a_quote_after_a_lone_cr_is_text_whatever_the_block_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("facility_code,q08,q01a\n");
    for i in 0..40 {
        text.push_str(&format!("13301{i:05},1,clinic{i}\n"));
    }
    // The quote after the CR opens nothing; the value on the next line is quoted properly.
    text.push_str("1330100100,1,a\r\"b\n1330100101,1,\"two\nlines\"\n1330100102,2,last\n");
    let p = write(dir.path(), "lone-cr.csv", text.as_bytes());
    let c = catalog();
    let base = ReadOptions {
        survey: Some("dental".into()),
        ..Default::default()
    };
    let (file, whole, errors) = read_all(&p, &c, &base).unwrap();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(whole.len(), 43);
    // (A short text keeps its line break as a space.)
    assert_eq!(
        value(&file.plan, &whole[41], "q01a"),
        Some(Value::Text("two lines".into()))
    );
    let lines: Vec<u64> = whole[40..].iter().map(|r| r.pos.line).collect();
    assert_eq!(lines, [42, 43, 45]);
    for block in [64, 97, 256, 1000] {
        let small = ReadOptions {
            block_bytes: Some(block),
            ..base.clone()
        };
        let (_, parts, e2) = read_all(&p, &c, &small).unwrap();
        assert!(e2.is_empty(), "block size {block}: {e2:?}");
        assert_eq!(parts, whole, "block size {block}");
    }
}
