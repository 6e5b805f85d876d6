//! What the store keeps for the review site: accounts and sessions, quality sampling of what the
//! machine accepted alone, and the assignment of unidentified pages.

use capsurvey_store::entity::{facilities, mailings, review_tasks, scanned_pages};
use capsurvey_store::review::*;
use capsurvey_store::sea_orm::{ActiveModelTrait, EntityTrait, Set};
use capsurvey_store::testing::each_backend;
use capsurvey_store::users::*;
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
[[sections.questions]]
id = "q2"
kind = "count"
text = "歯科医師数"
unit = "人"
max = 99
"#;

async fn facility<C: capsurvey_store::sea_orm::ConnectionTrait>(
    conn: &C,
    code: &str,
) -> facilities::Model {
    facilities::ActiveModel {
        code: Set(code.into()),
        facility_type: Set("dental".into()),
        name: Set(format!("歯科 {code}")),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap()
}

#[tokio::test]
async fn accounts_and_sessions() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let u = create_user(conn, "tanaka", Role::Entry, "$argon2id$fake", "admin")
            .await
            .unwrap();
        assert_eq!(role_of(&u), Role::Entry);
        let again = create_user(conn, "tanaka", Role::Viewer, "$argon2id$x", "admin").await;
        assert!(
            matches!(again, Err(StoreError::Conflict(_))),
            "{}",
            db.backend
        );
        assert!(valid_user_name("鈴木") && !valid_user_name("a b") && !valid_user_name(""));
        assert_eq!("viewer".parse::<Role>().unwrap(), Role::Viewer);
        assert!("boss".parse::<Role>().is_err());
        assert!(!Role::Viewer.can_edit() && Role::Entry.can_edit());

        let later = now() + chrono::Duration::hours(1);
        create_session(conn, "hash-1", u.id, "csrf-1", later)
            .await
            .unwrap();
        let (s, user) = session_user(conn, "hash-1").await.unwrap().unwrap();
        assert_eq!(
            (s.csrf_token.as_str(), user.name.as_str()),
            ("csrf-1", "tanaka")
        );
        assert!(session_user(conn, "hash-2").await.unwrap().is_none());
        // Expired sessions are not sessions, and are removed.
        create_session(
            conn,
            "hash-old",
            u.id,
            "csrf-0",
            now() - chrono::Duration::minutes(1),
        )
        .await
        .unwrap();
        assert!(session_user(conn, "hash-old").await.unwrap().is_none());
        create_session(
            conn,
            "hash-old2",
            u.id,
            "csrf-0",
            now() - chrono::Duration::minutes(1),
        )
        .await
        .unwrap();
        assert_eq!(delete_expired_sessions(conn).await.unwrap(), 1);
        // Disabling ends sessions; a new password too.
        set_user_disabled(conn, u.id, true, "admin").await.unwrap();
        assert!(session_user(conn, "hash-1").await.unwrap().is_none());
        set_user_disabled(conn, u.id, false, "admin").await.unwrap();
        create_session(conn, "hash-3", u.id, "csrf-3", later)
            .await
            .unwrap();
        set_password_hash(conn, u.id, "$argon2id$new", "admin")
            .await
            .unwrap();
        assert!(session_user(conn, "hash-3").await.unwrap().is_none());
        set_user_role(conn, u.id, Role::Admin, "admin")
            .await
            .unwrap();
        assert_eq!(list_users(conn).await.unwrap()[0].role, "admin");
        create_session(conn, "hash-4", u.id, "csrf-4", later)
            .await
            .unwrap();
        delete_session(conn, "hash-4").await.unwrap();
        assert!(session_user(conn, "hash-4").await.unwrap().is_none());
        assert_eq!(
            audit_count(conn).await.unwrap(),
            5,
            "create, disable, enable, password, role; sessions are not audited"
        );
        db
    })
    .await;
}

#[tokio::test]
async fn a_deterministic_share_of_machine_answers_is_sampled_once() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let v = register_survey(conn, &capsurvey_survey::parse_survey("m", SURVEY).unwrap(), "t").await.unwrap();
        let page = scanned_pages::ActiveModel {
            content_hash: Set("p".into()),
            imported_file_id: Set(None),
            source_file: Set("fax.tif".into()),
            page_index: Set(0),
            survey_version_id: Set(Some(v.id)),
            mailing_id: Set(None),
            page_number: Set(Some(1)),
            status: Set("identified".into()),
            image_path: Set(Some("pages/p.png".into())),
            transform: Set(None),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
        let mut ids = Vec::new();
        for i in 0..40 {
            let f = facility(conn, &format!("13300{i:05}")).await;
            let r = response_for(conn, v.id, f.id, None).await.unwrap();
            let src = Source {
                kind: SourceKind::Scan,
                source_ref: format!("fax.tif p1 q1 #{i}"),
                scanned_page_id: Some(page.id),
                imported_file_id: None,
                row_number: None,
                person: None,
            };
            for (key, value) in [("q1", Value::Bool(i % 2 == 0)), ("q2", Value::Int(i))] {
                if let Put::Inserted(id) = put_answer(conn, &r, key, Some(value), Some(0.99), &src, "scan").await.unwrap() {
                    ids.push(id);
                }
            }
            // CSV answers are not the machine's: never sampled.
            let csv = Source { kind: SourceKind::Csv, scanned_page_id: None, ..src.clone() };
            let r2 = response_for(conn, v.id, f.id, None).await.unwrap();
            put_answer(conn, &r2, "q3", Some(Value::Int(1)), None, &csv, "csv").await.unwrap();
        }
        assert_eq!(ids.len(), 80);
        assert!(sample_quality_checks(conn, v.id, 0.0).await.unwrap().is_empty());
        let half: Vec<i64> = ids.iter().copied().filter(|id| in_quality_sample(*id, 0.5)).collect();
        assert!((20..=60).contains(&half.len()), "about half: {}", half.len());
        let tenth: Vec<i64> = ids.iter().copied().filter(|id| in_quality_sample(*id, 0.1)).collect();
        assert!(tenth.iter().all(|id| half.contains(id)), "a larger share contains a smaller one");

        let tasks = sample_quality_checks(conn, v.id, 0.5).await.unwrap();
        let mut sampled: Vec<i64> = tasks.iter().map(|t| t.answer_id.unwrap()).collect();
        sampled.sort();
        assert_eq!(sampled, half, "{}", db.backend);
        assert!(sample_quality_checks(conn, v.id, 0.5).await.unwrap().is_empty(), "never twice");
        let t = &tasks[0];
        assert_eq!(t.kind, "quality");
        let payload: serde_json::Value = serde_json::from_str(&t.payload).unwrap();
        assert_eq!(payload["image"], "pages/p.png");
        assert_eq!(payload["confidence"], 0.99);
        assert!(payload.get("guess").is_some());

        // All of them, with evidence from the scan side.
        let rest = sample_quality_checks_with(conn, v.id, 1.0, |a| {
            Ok::<_, capsurvey_store::StoreError>(Some(serde_json::json!({"crop": format!("crops/{}.png", a.id), "box": {"x": 1, "y": 2, "w": 3, "h": 4}})))
        })
        .await
        .unwrap();
        assert_eq!(rest.len(), 80 - half.len());
        let p: serde_json::Value = serde_json::from_str(&rest[0].payload).unwrap();
        assert_eq!(p["crop"], format!("crops/{}.png", rest[0].answer_id.unwrap()));

        // Confirming the machine's value changes no answer; correcting it supersedes it.
        let a = capsurvey_store::entity::answers::Entity::find_by_id(t.answer_id.unwrap()).one(conn).await.unwrap().unwrap();
        let value = decode_value(&a.value).unwrap();
        resolve_task(conn, t.id, 0, value.clone(), "tanaka").await.unwrap();
        let still = accepted_answer(conn, a.response_id, &a.field_key).await.unwrap().unwrap();
        assert_eq!((still.id, still.source_kind.as_str()), (a.id, "scan"));
        let open = review_tasks::Entity::find_by_id(rest[0].id).one(conn).await.unwrap().unwrap();
        let b = capsurvey_store::entity::answers::Entity::find_by_id(open.answer_id.unwrap()).one(conn).await.unwrap().unwrap();
        let other = match decode_value(&b.value).unwrap() {
            Some(Value::Bool(x)) => Value::Bool(!x),
            Some(Value::Int(n)) => Value::Int(n + 1),
            v => panic!("{v:?}"),
        };
        resolve_task(conn, open.id, 0, Some(other.clone()), "tanaka").await.unwrap();
        let now_accepted = accepted_answer(conn, b.response_id, &b.field_key).await.unwrap().unwrap();
        assert_eq!(now_accepted.source_kind, "person");
        assert_eq!(decode_value(&now_accepted.value).unwrap(), Some(other));
        db
    })
    .await;
}

#[tokio::test]
async fn assigning_an_unidentified_page() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let v = register_survey(
            conn,
            &capsurvey_survey::parse_survey("m", SURVEY).unwrap(),
            "t",
        )
        .await
        .unwrap();
        let f = facility(conn, "1330000001").await;
        let g = facility(conn, "1330000002").await;
        let m = mailings::ActiveModel {
            survey_version_id: Set(v.id),
            facility_id: Set(Some(f.id)),
            batch: Set("2026-11".into()),
            kind: Set("initial".into()),
            form_code: Set("0042".into()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
        let mut pages = Vec::new();
        for h in ["a", "b"] {
            pages.push(
                scanned_pages::ActiveModel {
                    content_hash: Set(h.into()),
                    imported_file_id: Set(None),
                    source_file: Set("fax.tif".into()),
                    page_index: Set(0),
                    survey_version_id: Set(None),
                    mailing_id: Set(None),
                    page_number: Set(None),
                    status: Set("unidentified".into()),
                    image_path: Set(None),
                    transform: Set(None),
                    created_at: Set(now()),
                    ..Default::default()
                }
                .insert(conn)
                .await
                .unwrap()
                .id,
            );
        }
        assert!(page_assignment(conn, pages[0]).await.unwrap().is_none());
        // A facility that was mailed the survey: the page gets the mailing.
        let a = assign_page(conn, pages[0], v.id, f.id, 2, "tanaka")
            .await
            .unwrap();
        assert_eq!(a.mailing_id, Some(m.id));
        let p = scanned_pages::Entity::find_by_id(pages[0])
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                p.status.as_str(),
                p.survey_version_id,
                p.mailing_id,
                p.page_number
            ),
            ("assigned", Some(v.id), Some(m.id), Some(2))
        );
        // One that was not (a blank form): the facility is still known from the assignment.
        let b = assign_page(conn, pages[1], v.id, g.id, 1, "tanaka")
            .await
            .unwrap();
        assert_eq!(b.mailing_id, None);
        assert_eq!(
            page_assignment(conn, pages[1]).await.unwrap(),
            Some(b.clone()),
            "{}",
            db.backend
        );
        assert_eq!(pages_awaiting_reread(conn).await.unwrap().len(), 2);
        let r = response_for(conn, v.id, g.id, None).await.unwrap();
        assert_eq!(r.id, b.response_id);
        db
    })
    .await;
}

#[tokio::test]
async fn one_person_at_a_time_claims_an_open_task_until_the_claim_lapses() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let task = review_tasks::ActiveModel {
            kind: Set("mark".into()),
            payload: Set("{}".into()),
            status: Set("open".into()),
            lock_version: Set(0),
            dedup_key: Set("claim-test".into()),
            created_at: Set(now()),
            ..Default::default()
        }
        .insert(conn)
        .await
        .unwrap();
        let t0 = now();
        assert!(claim_task(conn, task.id, "tanaka", t0).await.unwrap());
        // Someone else cannot take it while the claim lives; its holder renews it.
        let soon = t0 + chrono::Duration::minutes(CLAIM_MINUTES - 1);
        assert!(
            !claim_task(conn, task.id, "suzuki", soon).await.unwrap(),
            "{}",
            db.backend
        );
        assert!(claim_task(conn, task.id, "tanaka", soon).await.unwrap());
        let renewed = review_tasks::Entity::find_by_id(task.id)
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(renewed.claimed_by.as_deref(), Some("tanaka"));
        // A lapsed claim is free for the next person.
        let later = soon + chrono::Duration::minutes(CLAIM_MINUTES + 1);
        assert!(claim_task(conn, task.id, "suzuki", later).await.unwrap());
        // A decided task is claimed by nobody.
        let mut done: review_tasks::ActiveModel = renewed.into();
        done.status = Set("done".into());
        done.update(conn).await.unwrap();
        let much_later = later + chrono::Duration::hours(1);
        assert!(
            !claim_task(conn, task.id, "tanaka", much_later)
                .await
                .unwrap()
        );
        assert!(
            !claim_task(conn, task.id + 1000, "tanaka", later)
                .await
                .unwrap()
        );
        db
    })
    .await;
}
