//! Several staff at once (the multi-user deployment is PostgreSQL; SQLite is run too): different
//! tasks and the same task resolved concurrently lose no update and fail only with the expected
//! conflict. Two servers share one database, as two processes would.

mod common;

use std::collections::HashMap;

use capsurvey_store::entity::{answers, review_tasks};
use capsurvey_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use capsurvey_store::testing::each_backend;
use capsurvey_store::users::Role;
use capsurvey_store::*;
use capsurvey_survey::Value;
use common::*;

const STAFF: usize = 6;
const FACILITIES: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_reviewers_at_once_lose_nothing() {
    each_backend(|db| async move {
        let conn = db.store.db();
        let sv = register(conn).await;
        let data = data_dir();
        let mut tasks = Vec::new();
        for i in 0..FACILITIES {
            let f = facility(conn, &format!("13300000{i:02}"), &format!("テスト歯科{i}")).await;
            let r = response_for(conn, sv, f.id, None).await.unwrap();
            let p = page(conn, &format!("p{i}"), "identified", Some(sv)).await;
            tasks.push((mark_task(conn, &r, p, 0).await, r.id, "q08"));
            tasks.push((write_in_task(conn, &r, p).await, r.id, "q04.full"));
        }
        let names: Vec<String> = (0..STAFF).map(|i| format!("staff{i}")).collect();
        for n in &names {
            capsurvey_review::auth::add_user(&db.store, n, Role::Entry, PASSWORD, "test")
                .await
                .unwrap();
        }
        // Two servers on the same database.
        let servers = [
            start(&db.store, data.path()).await,
            start(&db.store, data.path()).await,
        ];
        let mut clients = Vec::new();
        for (i, n) in names.iter().enumerate() {
            let url = servers[i % 2].url.clone();
            let (c, csrf) = logged_in(&url, n).await;
            clients.push((c, csrf, url, n.clone()));
        }
        // The contested task: everybody opens it, then everybody decides at once.
        let contested = tasks[0].0;
        let everybody_has_it_open = std::sync::Arc::new(tokio::sync::Barrier::new(STAFF));
        let mut handles = Vec::new();
        for (i, (c, csrf, url, name)) in clients.iter().cloned().enumerate() {
            // Each person also has their own tasks (i, i+STAFF, …), decided concurrently.
            let own: Vec<(i64, i64, &'static str)> = tasks
                .iter()
                .skip(1)
                .enumerate()
                .filter(|(k, _)| k % STAFF == i)
                .map(|(_, t)| *t)
                .collect();
            let barrier = everybody_has_it_open.clone();
            handles.push(tokio::spawn(async move {
                let mut outcomes = Vec::new();
                let (_, html) = get(&c, &format!("{url}/tasks/{contested}")).await;
                let lock = lock_of(&html);
                barrier.wait().await;
                let pick = format!("opt:{}", 1 + i % 4);
                let (status, _, body) = post(
                    &c,
                    &format!("{url}/tasks/{contested}/resolve"),
                    &[("csrf", &csrf), ("lock", &lock), ("pick", &pick)],
                )
                .await;
                outcomes.push((
                    contested,
                    status,
                    body.contains("他の担当者が先に処理しました"),
                    pick,
                ));
                for (task, _, key) in own {
                    let (_, html) = get(&c, &format!("{url}/tasks/{task}")).await;
                    let lock = lock_of(&html);
                    let form: Vec<(&str, String)> = if key == "q08" {
                        vec![("pick", "guess".into())]
                    } else {
                        vec![("pick", "text".into()), ("text", format!("{}", 10 + i))]
                    };
                    let mut fields = vec![("csrf", csrf.clone()), ("lock", lock)];
                    fields.extend(form);
                    let borrowed: Vec<(&str, &str)> =
                        fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let (status, _, _) =
                        post(&c, &format!("{url}/tasks/{task}/resolve"), &borrowed).await;
                    outcomes.push((task, status, false, name.clone()));
                }
                outcomes
            }));
        }
        let mut contested_wins = Vec::new();
        let mut decided = HashMap::new();
        for h in handles {
            for (task, status, conflict_message, pick) in h.await.unwrap() {
                if task == contested {
                    match status {
                        303 => contested_wins.push(pick),
                        409 => assert!(conflict_message, "a 409 says who was first"),
                        other => panic!("{}: contested task answered {other}", db.backend),
                    }
                } else {
                    assert_eq!(status, 303, "{}: task {task} by {pick}", db.backend);
                    decided.insert(task, pick);
                }
            }
        }
        assert_eq!(
            contested_wins.len(),
            1,
            "{}: exactly one decision wins: {contested_wins:?}",
            db.backend
        );
        assert_eq!(decided.len(), tasks.len() - 1);

        // The store agrees: every task done once, one accepted answer per field, the winner's value.
        let all = review_tasks::Entity::find().all(conn).await.unwrap();
        assert!(
            all.iter()
                .all(|t| t.status == "done" && t.lock_version == 1),
            "{}",
            db.backend
        );
        for (task, response, key) in &tasks {
            let accepted: Vec<_> = answers::Entity::find()
                .filter(answers::Column::ResponseId.eq(*response))
                .filter(answers::Column::FieldKey.eq(*key))
                .filter(answers::Column::Status.eq("accepted"))
                .all(conn)
                .await
                .unwrap();
            assert_eq!(
                accepted.len(),
                1,
                "{}: {key} of response {response}",
                db.backend
            );
            let value = decode_value(&accepted[0].value).unwrap();
            let t = all.iter().find(|t| t.id == *task).unwrap();
            if *task == contested {
                let code = contested_wins[0].trim_start_matches("opt:").to_owned();
                assert_eq!(value, Some(Value::Choice(code)));
            } else if *key == "q08" {
                assert_eq!(value, Some(Value::Choice("2".into())));
            } else {
                let n: i64 = t
                    .resolved_by
                    .as_ref()
                    .unwrap()
                    .trim_start_matches("staff")
                    .parse()
                    .unwrap();
                assert_eq!(value, Some(Value::Int(10 + n)), "the decider's own value");
            }
            assert_eq!(accepted[0].person, t.resolved_by);
        }
        let resolves = capsurvey_store::entity::audit_log::Entity::find()
            .filter(capsurvey_store::entity::audit_log::Column::Action.eq("review.resolve"))
            .all(conn)
            .await
            .unwrap();
        assert_eq!(resolves.len(), tasks.len(), "one audit row per decision");
        db
    })
    .await;
}
