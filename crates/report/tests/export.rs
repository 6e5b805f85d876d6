//! CSV and xlsx exports read back: BOM and CRLF, codes and labels, 確認中 marks, a frozen header.

use std::io::Read;

use calamine::{Data, Reader, Xlsx, open_workbook};
use capsurvey_report::testing::{seed_store, shipped_survey};
use capsurvey_report::{export_table, load_input, write_csv, write_xlsx};
use capsurvey_store::testing::each_backend;

#[tokio::test]
async fn csv_and_xlsx_hold_one_row_per_replying_facility() {
    each_backend(|db| async move {
        let parsed = shipped_survey("dental");
        seed_store(db.store.db(), &parsed, 90, 31).await.unwrap();
        let input = load_input(db.store.db(), "dental", None, &[])
            .await
            .unwrap();
        let table = export_table(&input);
        let dir = tempfile::tempdir().unwrap();

        // Expected from the input, facility by facility.
        let mut replied: Vec<_> = input.facilities.iter().filter(|f| f.responded).collect();
        replied.sort_by(|a, b| a.code.cmp(&b.code));
        assert_eq!(table.rows.len(), replied.len());
        let col = |name: &str| table.headers.iter().position(|h| h == name).unwrap();
        let q08 = col("q08");
        assert_eq!(table.headers[q08 + 1], "問8 歯科訪問診療の実施状況");
        let review_col = table.headers.len() - 1;
        assert_eq!(table.headers[review_col], "確認中の項目");

        // CSV.
        let csv_path = dir.path().join("dental.csv");
        write_csv(&table, &csv_path).unwrap();
        let bytes = std::fs::read(&csv_path).unwrap();
        assert!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            "CSV starts with the UTF-8 BOM"
        );
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert!(text.starts_with("施設コード,施設名,種別,地区,"));
        assert_eq!(
            text.matches("\r\n").count(),
            text.matches('\n').count(),
            "every line ends in CRLF"
        );
        let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(headers.len(), table.headers.len());
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), replied.len());
        let q08_q = parsed.survey.question("q08").unwrap();
        for (rec, fac) in records.iter().zip(&replied) {
            assert_eq!(&rec[0], fac.code);
            assert_eq!(&rec[1], fac.name);
            if fac.under_review.contains("q08") {
                assert_eq!((&rec[q08], &rec[q08 + 1]), ("", "確認中"));
                assert!(rec[review_col].split(';').any(|k| k == "q08"));
            } else {
                match fac.answers.get("q08") {
                    Some(Some(capsurvey_survey::Value::Choice(c))) => {
                        assert_eq!(&rec[q08], c);
                        assert_eq!(&rec[q08 + 1], q08_q.option(c).unwrap().label);
                    }
                    Some(Some(capsurvey_survey::Value::Unknown)) => {
                        assert_eq!(&rec[q08 + 1], "わからない")
                    }
                    _ => assert_eq!((&rec[q08], &rec[q08 + 1]), ("", "")),
                }
            }
        }
        let any_review = records.iter().any(|r| !r[review_col].is_empty());
        assert!(any_review, "the seed has answers under review");

        // xlsx.
        let xlsx_path = dir.path().join("dental.xlsx");
        write_xlsx(&table, &xlsx_path).unwrap();
        let mut wb: Xlsx<_> = open_workbook(&xlsx_path).unwrap();
        assert_eq!(wb.sheet_names(), ["回答", "コード表"]);
        let range = wb.worksheet_range("回答").unwrap();
        assert_eq!(range.height(), replied.len() + 1);
        let header: Vec<String> = range
            .rows()
            .next()
            .unwrap()
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(header, table.headers);
        // Counts are numbers, not text.
        let q04 = col("q04.full");
        let numbers = range
            .rows()
            .skip(1)
            .filter(|r| matches!(r[q04], Data::Float(_) | Data::Int(_)))
            .count();
        assert!(numbers > 0);
        for (row, fac) in range.rows().skip(1).zip(&replied) {
            assert_eq!(row[0].to_string(), fac.code);
            if let Some(Some(capsurvey_survey::Value::Int(n))) = fac.answers.get("q04.full")
                && !fac.under_review.contains("q04.full")
            {
                assert_eq!(row[q04], Data::Float(*n as f64));
            }
        }
        let codes = wb.worksheet_range("コード表").unwrap();
        assert!(
            codes
                .rows()
                .any(|r| r[0] == "q08" && r[3] == "4" && r[4] == "実施したことがない")
        );

        // The header row is frozen and bold on a fill.
        let file = std::fs::File::open(&xlsx_path).unwrap();
        let mut zip = zip::ZipArchive::new(file).unwrap();
        let mut sheet = String::new();
        zip.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut sheet)
            .unwrap();
        assert!(
            sheet.contains(
                r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            ),
            "{}",
            &sheet[..sheet.len().min(800)]
        );
        let mut styles = String::new();
        zip.by_name("xl/styles.xml")
            .unwrap()
            .read_to_string(&mut styles)
            .unwrap();
        assert!(styles.contains("<b/>") && styles.contains("FFDDE6F0"));
        db
    })
    .await;
}
