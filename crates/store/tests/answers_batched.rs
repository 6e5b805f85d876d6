//! Writing many answers at once: the batched functions follow the same rules as `put_answer` and
//! `put_for_review` called one value at a time, on both databases.

use capsurvey_store::entity::{answers, facilities, responses, review_tasks};
use capsurvey_store::sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set,
};
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

/// Responses of `n` facilities to the survey.
async fn responses(conn: &DatabaseConnection, n: usize) -> Vec<responses::Model> {
    let v = register_survey(
        conn,
        &capsurvey_survey::parse_survey("m", SURVEY).unwrap(),
        "t",
    )
    .await
    .unwrap();
    let mut out = Vec::new();
    for i in 0..n {
        let f = facilities::ActiveModel {
            code: Set(format!("13{i:08}")),
            facility_type: Set("dental".into()),
            name: Set(format!("歯科{i}")),
            created_at: Set(now()),
            updated_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
        out.push(response_for(conn, v.id, f.id, None).await.unwrap());
    }
    out
}

fn src(kind: SourceKind, r: &str, page: Option<i64>) -> Source {
    Source {
        kind,
        source_ref: r.into(),
        scanned_page_id: page,
        imported_file_id: None,
        row_number: Some(2),
        person: (kind == SourceKind::Person).then(|| "sato".into()),
    }
}

async fn pages(conn: &DatabaseConnection) {
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
}

#[tokio::test]
async fn decide_on_loaded_answers_is_what_put_answer_does() {
    each_backend(|db| async move {
        let conn = db.store.db();
        pages(conn).await;
        let r = &responses(conn, 1).await[0];
        let yes = Some(Value::Bool(true));
        let no = Some(Value::Bool(false));
        let steps = [
            (yes.clone(), src(SourceKind::Csv, "a.csv", None)),
            (yes.clone(), src(SourceKind::Csv, "b.csv", None)),
            (no.clone(), src(SourceKind::Csv, "c.csv", None)),
            (yes.clone(), src(SourceKind::Scan, "fax p1", Some(1))),
            (None, src(SourceKind::Scan, "fax p1", Some(1))),
            (yes.clone(), src(SourceKind::Person, "review", None)),
            (yes.clone(), src(SourceKind::Scan, "fax p1", Some(1))),
            (no.clone(), src(SourceKind::Scan, "fax p2", Some(2))),
            (None, src(SourceKind::Csv, "d.csv", None)),
            (None, src(SourceKind::Csv, "e.csv", None)),
            (no.clone(), src(SourceKind::Person, "review", None)),
        ];
        for (i, (value, s)) in steps.into_iter().enumerate() {
            let accepted = accepted_answers_of(conn, &[r.id]).await.unwrap();
            let current = accepted.get(&(r.id, "q1".to_owned()));
            let one = accepted_answer(conn, r.id, "q1").await.unwrap();
            assert_eq!(current, one.as_ref().map(Accepted::from).as_ref());
            let decision = decide(current, encode_value(&value).as_deref(), &s);
            let put = put_answer(conn, r, "q1", value, None, &s, "t")
                .await
                .unwrap();
            let agree = match (decision, put) {
                (Decision::Insert, Put::Inserted(_)) => true,
                (Decision::Unchanged(a), Put::Unchanged(b)) => a == b,
                (Decision::Supersede(a), Put::Superseded { old, .. }) => a == old,
                (Decision::Conflict(_), Put::Conflict { .. }) => true,
                _ => false,
            };
            assert!(agree, "{}: step {i}: {decision:?} but {put:?}", db.backend);
        }
        db
    })
    .await;
}

#[tokio::test]
async fn first_answers_in_bulk_are_stored_as_put_answer_stores_them() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let rs = responses(conn, 2).await;
        let s = src(SourceKind::Csv, "a.csv row 2", None);
        // More than one statement's worth, over two responses.
        let n = 5200;
        let keys: Vec<String> = (0..n).map(|i| format!("f{i:04}")).collect();
        let values: Vec<Option<Value>> = (0..n as i64)
            .map(|i| match i % 3 {
                0 => None,
                1 => Some(Value::Int(i)),
                _ => Some(Value::Text(format!("テキスト{i}"))),
            })
            .collect();
        let first: Vec<FirstAnswer<'_>> = (0..n)
            .map(|i| FirstAnswer {
                response_id: rs[i % 2].id,
                field_key: &keys[i],
                value: encode_value(&values[i]),
                confidence: None,
                src: s.clone(),
            })
            .collect();
        insert_first_answers(conn, first.clone()).await.unwrap();
        let stored = answers::Entity::find()
            .order_by_asc(answers::Column::Id)
            .all(conn)
            .await
            .unwrap();
        assert_eq!(stored.len(), n);
        let ids: Vec<i64> = stored.iter().map(|a| a.id).collect();
        for (a, f) in stored.iter().zip(&first) {
            assert_eq!(
                (a.response_id, a.field_key.as_str(), &a.value),
                (f.response_id, f.field_key, &f.value)
            );
            assert_eq!(
                (
                    a.status.as_str(),
                    a.source_kind.as_str(),
                    a.source_ref.as_str()
                ),
                ("accepted", "csv", "a.csv row 2")
            );
            assert_eq!((a.row_number, a.superseded_by), (Some(2), None));
        }
        let accepted = accepted_answers_of(conn, &[rs[0].id, rs[1].id])
            .await
            .unwrap();
        assert_eq!(accepted.len(), n);
        // put_answer sees them as the accepted values.
        for i in [0, 1, 2, 2600, n - 1] {
            let put = put_answer(conn, &rs[i % 2], &keys[i], values[i].clone(), None, &s, "t")
                .await
                .unwrap();
            assert_eq!(put, Put::Unchanged(ids[i]), "{}", db.backend);
        }
        db
    })
    .await;
}

fn task(r: &responses::Model, key: &str) -> NewTask {
    NewTask {
        kind: TaskKind::Value,
        survey_version_id: Some(r.survey_version_id),
        response_id: None,
        field_key: None,
        answer_id: None,
        scanned_page_id: None,
        payload: serde_json::json!({"raw": key}),
        dedup_key: key.into(),
    }
}

#[tokio::test]
async fn reviews_in_bulk_are_what_put_for_review_does_one_by_one() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let rs = responses(conn, 2).await;
        let s = src(SourceKind::Csv, "a.csv row 3", None);
        // Keys repeat, within the list and with one queued before.
        let keys: Vec<String> = (0..300)
            .map(|i| format!("k{}", if i % 5 == 4 { i - 1 } else { i }))
            .chain(["before".to_owned(), "k7".to_owned()])
            .collect();
        let guess = |i: usize| i.is_multiple_of(2).then_some(Value::Int(i as i64));
        let mut one_by_one = Vec::new();
        put_for_review(conn, &rs[0], "q1", None, None, &s, task(&rs[0], "a:before"))
            .await
            .unwrap();
        for (i, k) in keys.iter().enumerate() {
            let (t, new) = put_for_review(
                conn,
                &rs[0],
                "q1",
                guess(i),
                Some(0.5),
                &s,
                task(&rs[0], &format!("a:{k}")),
            )
            .await
            .unwrap();
            one_by_one.push((t.dedup_key, new));
        }
        put_for_review(conn, &rs[1], "q1", None, None, &s, task(&rs[1], "b:before"))
            .await
            .unwrap();
        let items: Vec<ForReview<'_>> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| ForReview {
                response: &rs[1],
                field_key: "q1",
                guess: guess(i),
                confidence: Some(0.5),
                src: &s,
                task: task(&rs[1], &format!("b:{k}")),
            })
            .collect();
        let batched = put_for_review_many(conn, items).await.unwrap();
        assert_eq!(batched.len(), one_by_one.len());
        for ((t, new), (key, new1)) in batched.iter().zip(&one_by_one) {
            assert_eq!(&t.dedup_key[2..], &key[2..]);
            assert_eq!(new, new1, "{}: {}", db.backend, t.dedup_key);
        }
        // The same rows either way: one review answer per new task, pointing at each other.
        for (r, prefix) in [(&rs[0], "a:"), (&rs[1], "b:")] {
            let stored = answers::Entity::find()
                .filter(answers::Column::ResponseId.eq(r.id))
                .order_by_asc(answers::Column::Id)
                .all(conn)
                .await
                .unwrap();
            let tasks = review_tasks::Entity::find()
                .filter(review_tasks::Column::ResponseId.eq(r.id))
                .order_by_asc(review_tasks::Column::Id)
                .all(conn)
                .await
                .unwrap();
            assert_eq!(stored.len(), tasks.len());
            assert_eq!(tasks.len(), 1 + 300 - 300 / 5);
            for (a, t) in stored.iter().zip(&tasks) {
                assert!(t.dedup_key.starts_with(prefix));
                assert_eq!(t.answer_id, Some(a.id));
                assert_eq!(t.field_key.as_deref(), Some("q1"));
                assert_eq!((t.kind.as_str(), t.status.as_str()), ("value", "open"));
                assert_eq!(a.status, "review");
            }
            let values: Vec<&Option<String>> = stored.iter().map(|a| &a.value).collect();
            assert_eq!(values.len(), tasks.len());
        }
        let a: Vec<Option<String>> = answers::Entity::find()
            .filter(answers::Column::ResponseId.eq(rs[0].id))
            .order_by_asc(answers::Column::Id)
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.value)
            .collect();
        let b: Vec<Option<String>> = answers::Entity::find()
            .filter(answers::Column::ResponseId.eq(rs[1].id))
            .order_by_asc(answers::Column::Id)
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.value)
            .collect();
        assert_eq!(a, b, "the same guesses stored in the same order");

        // More than one statement's worth: every new task points at its own value.
        let s = src(SourceKind::Csv, "big.csv", None);
        let keys: Vec<String> = (0..5300).map(|i| format!("c:{}", i - i % 4 / 3)).collect();
        let items: Vec<ForReview<'_>> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| ForReview {
                response: &rs[0],
                field_key: "q1",
                guess: Some(Value::Int(i as i64)),
                confidence: None,
                src: &s,
                task: task(&rs[0], k),
            })
            .collect();
        let done = put_for_review_many(conn, items).await.unwrap();
        let stored: std::collections::HashMap<i64, answers::Model> = answers::Entity::find()
            .all(conn)
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.id, a))
            .collect();
        let mut new = 0;
        for (i, (t, is_new)) in done.iter().enumerate() {
            assert_eq!(t.dedup_key, keys[i]);
            assert_eq!(*is_new, i % 4 != 3, "{i}");
            let a = &stored[&t.answer_id.unwrap()];
            let first = if *is_new { i } else { i - 1 };
            assert_eq!(
                a.value,
                encode_value(&Some(Value::Int(first as i64))),
                "{i}"
            );
            new += *is_new as usize;
        }
        assert_eq!(new, 5300 - 5300 / 4);
        db
    })
    .await;
}
