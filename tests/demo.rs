//! The README's main command, end to end: `capsurvey demo` on a fresh folder, then its outputs
//! checked against the database it left.

use std::path::Path;
use std::process::Command;

use capsurvey_store::entity::{answers, responses, review_tasks, scanned_pages, survey_versions};
use capsurvey_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

fn count_files(dir: &Path, ext: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().and_then(|x| x.to_str()) == Some(ext))
        .count()
}

#[test]
fn demo_runs_the_whole_loop() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo-out");
    let run = Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .args(["demo", "--out"])
        .arg(&out)
        .args(["--facilities", "10"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CAPSURVEY_DB")
        .env_remove("CAPSURVEY_DATA")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("review serve"), "{stdout}");

    // Files a newcomer is pointed to.
    for s in ["dental", "homecare-clinic", "visiting-nurse"] {
        let handout = std::fs::read_to_string(out.join(format!("handouts/{s}.html"))).unwrap();
        assert!(handout.contains("回収状況"), "{s}");
        for ext in ["csv", "xlsx"] {
            assert!(
                out.join(format!("exports/{s}.{ext}")).is_file(),
                "{s}.{ext}"
            );
        }
        assert!(
            count_files(&out.join(format!("forms/{s}")), "pdf") > 10,
            "{s} forms"
        );
    }
    let faxes = count_files(&out.join("inbox"), "tif");
    assert!(faxes >= 20, "{faxes} faxes");
    assert!(out.join("inbox/scan-batch.pdf").is_file());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("scan-report.json")).unwrap())
            .unwrap();
    let files = report["files"].as_array().unwrap();
    assert_eq!(files.len(), faxes + 1);

    // The store agrees with what the demo printed and rendered.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = capsurvey_store::Store::open(&out.join("capsurvey.db").display().to_string())
            .await
            .unwrap();
        let db = store.db();
        let pages = scanned_pages::Entity::find().count(db).await.unwrap();
        assert_eq!(pages, report["totals"]["pages"].as_u64().unwrap());
        let unidentified = scanned_pages::Entity::find()
            .filter(scanned_pages::Column::Status.eq("unidentified"))
            .count(db)
            .await
            .unwrap();
        // The covering letter and the smudged code.
        assert_eq!(unidentified, 2);
        for kind in ["page", "mark", "write_in", "quality"] {
            let n = review_tasks::Entity::find()
                .filter(review_tasks::Column::Kind.eq(kind))
                .count(db)
                .await
                .unwrap();
            assert!(n > 0, "no {kind} tasks");
        }
        for source in ["scan", "csv"] {
            let n = answers::Entity::find()
                .filter(answers::Column::SourceKind.eq(source))
                .filter(answers::Column::Status.eq("accepted"))
                .count(db)
                .await
                .unwrap();
            assert!(n > 50, "only {n} accepted {source} answers");
        }
        // 有効回答数 in each handout: responses with at least one accepted value.
        for v in survey_versions::Entity::find().all(db).await.unwrap() {
            let mut answered = 0;
            for r in responses::Entity::find()
                .filter(responses::Column::SurveyVersionId.eq(v.id))
                .all(db)
                .await
                .unwrap()
            {
                let has_value = answers::Entity::find()
                    .filter(answers::Column::ResponseId.eq(r.id))
                    .filter(answers::Column::Status.eq("accepted"))
                    .filter(answers::Column::Value.is_not_null())
                    .count(db)
                    .await
                    .unwrap()
                    > 0;
                answered += usize::from(has_value);
            }
            let handout =
                std::fs::read_to_string(out.join(format!("handouts/{}.html", v.survey_id)))
                    .unwrap();
            let kpi = format!("有効回答数</div><div class=\"v\">{answered}<small>");
            assert!(handout.contains(&kpi), "{}: expected {kpi}", v.survey_id);
        }
    });
}
