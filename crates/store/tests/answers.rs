//! The answer rules: accept, unchanged, supersede within a channel, conflict across channels,
//! review for the unsure, and optimistic locking of decisions.

use capsurvey_store::entity::facilities;
use capsurvey_store::sea_orm::{ActiveModelTrait, Set};
use capsurvey_store::testing::each_backend;
use capsurvey_store::*;
use capsurvey_survey::Value;

const SURVEY: &str = r#"
id = "mini"
version = 1
title = "テスト調査"
facility_type = "dental"
reference_date = "2024-11-01"
[[sections]]
id = "a"
title = "概要"
[[sections.questions]]
id = "q1"
kind = "yes_no"
text = "訪問していますか"
"#;

async fn setup(
    conn: &capsurvey_store::sea_orm::DatabaseConnection,
) -> capsurvey_store::entity::responses::Model {
    let v = register_survey(
        conn,
        &capsurvey_survey::parse_survey("m", SURVEY).unwrap(),
        "t",
    )
    .await
    .unwrap();
    let f = facilities::ActiveModel {
        code: Set("1331234567".into()),
        facility_type: Set("dental".into()),
        name: Set("みどり歯科医院".into()),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap();
    let r = response_for(conn, v.id, f.id, None).await.unwrap();
    assert_eq!(
        response_for(conn, v.id, f.id, None).await.unwrap().id,
        r.id,
        "one response per facility and version"
    );
    r
}

fn src(kind: SourceKind, r: &str) -> Source {
    Source {
        kind,
        source_ref: r.into(),
        scanned_page_id: None,
        imported_file_id: None,
        row_number: Some(2),
        person: None,
    }
}

#[tokio::test]
async fn channels_supersede_or_conflict() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let r = setup(conn).await;
        let yes = Some(Value::Bool(true));
        let no = Some(Value::Bool(false));
        let a = put_answer(
            conn,
            &r,
            "q1",
            yes.clone(),
            None,
            &src(SourceKind::Csv, "a.csv row 2"),
            "t",
        )
        .await
        .unwrap();
        assert!(matches!(a, Put::Inserted(_)));
        let b = put_answer(
            conn,
            &r,
            "q1",
            yes.clone(),
            None,
            &src(SourceKind::Csv, "a.csv row 2"),
            "t",
        )
        .await
        .unwrap();
        assert!(matches!(b, Put::Unchanged(_)), "{}", db.backend);
        let c = put_answer(
            conn,
            &r,
            "q1",
            no.clone(),
            None,
            &src(SourceKind::Csv, "b.csv row 2"),
            "t",
        )
        .await
        .unwrap();
        let Put::Superseded { old, new } = c else {
            panic!("{c:?}")
        };
        let hist = answer_history(conn, r.id, "q1").await.unwrap();
        assert_eq!(hist.len(), 2);
        assert_eq!(
            (hist[0].id, hist[0].status.as_str(), hist[0].superseded_by),
            (old, "superseded", Some(new))
        );

        // A FAX that disagrees with the CSV: kept for review, the CSV value stays accepted.
        let d = put_answer(
            conn,
            &r,
            "q1",
            yes.clone(),
            Some(0.99),
            &src(SourceKind::Scan, "x.tif p2"),
            "t",
        )
        .await
        .unwrap();
        let Put::Conflict { answer, task } = d else {
            panic!("{d:?}")
        };
        let acc = accepted_answer(conn, r.id, "q1").await.unwrap().unwrap();
        assert_eq!(decode_value(&acc.value).unwrap(), no);
        let tasks = open_tasks(conn).await.unwrap();
        assert_eq!(tasks.len(), 1);
        assert_eq!(
            (tasks[0].id, tasks[0].kind.as_str(), tasks[0].answer_id),
            (task, "conflict", Some(answer))
        );

        // The second person on the same item loses cleanly.
        let decided = resolve_task(conn, task, 0, yes.clone(), "tanaka")
            .await
            .unwrap()
            .unwrap();
        let err = resolve_task(conn, task, 0, no.clone(), "suzuki")
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        let acc = accepted_answer(conn, r.id, "q1").await.unwrap().unwrap();
        assert_eq!((acc.id, acc.person.as_deref()), (decided, Some("tanaka")));
        assert_eq!(decode_value(&acc.value).unwrap(), yes);
        assert!(open_tasks(conn).await.unwrap().is_empty());
        let hist = answer_history(conn, r.id, "q1").await.unwrap();
        assert!(hist.iter().filter(|a| a.status == "accepted").count() == 1);
        assert!(
            hist.iter().all(|a| a.status != "review"),
            "the pending reading is closed"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn unsure_readings_wait_for_review_once() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let r = setup(conn).await;
        let task = |key: &str| NewTask {
            kind: TaskKind::Mark,
            survey_version_id: Some(r.survey_version_id),
            response_id: None,
            field_key: None,
            answer_id: None,
            scanned_page_id: None,
            payload: serde_json::json!({"guess": "yes", "confidence": 0.6}),
            dedup_key: key.into(),
        };
        let s = src(SourceKind::Scan, "x.tif p1 box q1.yes");
        let (t1, new1) = put_for_review(
            conn,
            &r,
            "q1",
            Some(Value::Bool(true)),
            Some(0.6),
            &s,
            task("mark:page1:q1"),
        )
        .await
        .unwrap();
        let (t2, new2) = put_for_review(
            conn,
            &r,
            "q1",
            Some(Value::Bool(true)),
            Some(0.6),
            &s,
            task("mark:page1:q1"),
        )
        .await
        .unwrap();
        assert!(new1 && !new2);
        assert_eq!(t1.id, t2.id);
        assert!(
            accepted_answer(conn, r.id, "q1").await.unwrap().is_none(),
            "unsure is never accepted"
        );
        resolve_task(
            conn,
            t1.id,
            t1.lock_version,
            Some(Value::Bool(false)),
            "sato",
        )
        .await
        .unwrap();
        let acc = accepted_answer(conn, r.id, "q1").await.unwrap().unwrap();
        assert_eq!(decode_value(&acc.value).unwrap(), Some(Value::Bool(false)));
        let hist = answer_history(conn, r.id, "q1").await.unwrap();
        assert_eq!(hist.len(), 2, "machine reading kept beside the decision");
        assert_eq!(hist[0].confidence, Some(0.6));
        db
    })
    .await;
}

#[tokio::test]
async fn a_second_fax_copy_that_disagrees_is_a_conflict() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let r = setup(conn).await;
        let page = |id| Source {
            scanned_page_id: Some(id),
            ..src(SourceKind::Scan, "fax")
        };
        // Pages must exist for the foreign key.
        for hash in ["p1", "p2"] {
            capsurvey_store::entity::scanned_pages::ActiveModel {
                content_hash: Set(hash.into()),
                source_file: Set("x.tif".into()),
                page_index: Set(0),
                status: Set("identified".into()),
                created_at: Set(now()),
                ..Default::default()
            }
            .insert(conn)
            .await
            .unwrap();
        }
        let yes = Some(Value::Bool(true));
        put_answer(conn, &r, "q1", yes.clone(), Some(0.99), &page(1), "t")
            .await
            .unwrap();
        let same = put_answer(conn, &r, "q1", yes, Some(0.99), &page(2), "t")
            .await
            .unwrap();
        assert!(
            matches!(same, Put::Unchanged(_)),
            "an agreeing copy changes nothing"
        );
        let other = put_answer(
            conn,
            &r,
            "q1",
            Some(Value::Bool(false)),
            Some(0.99),
            &page(2),
            "t",
        )
        .await
        .unwrap();
        assert!(
            matches!(other, Put::Conflict { .. }),
            "{}: {other:?}",
            db.backend
        );
        db
    })
    .await;
}
