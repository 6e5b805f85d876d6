//! The review site over HTTP, on every backend: access control (no login, wrong role, CSRF),
//! sessions, decisions of every kind, optimistic locking, editing, files, accuracy.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use capsurvey_review::PROTECTED_ROUTES;
use capsurvey_store::entity::{audit_log, review_tasks, scanned_pages};
use capsurvey_store::sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use capsurvey_store::testing::each_backend;
use capsurvey_survey::Value;
use common::*;

fn concrete(route: &str, f: &Fixture) -> String {
    route
        .replace("/tasks/{id}", &format!("/tasks/{}", f.mark))
        .replace("/responses/{id}", &format!("/responses/{}", f.response.id))
        .replace("/users/{id}", &format!("/users/{}", f.admin_id))
        .replace("{*path}", "crops/crop-mark-q08.png")
}

async fn task_status(db: &capsurvey_store::testing::TestDb, id: i64) -> String {
    review_tasks::Entity::find_by_id(id)
        .one(db.store.db())
        .await
        .unwrap()
        .unwrap()
        .status
}

#[tokio::test]
async fn without_login_every_route_redirects_or_refuses() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        let c = client();
        for (method, route) in PROTECTED_ROUTES {
            let url = format!("{}{}", s.url, concrete(route, &f));
            let r = match *method {
                "GET" => c.get(&url).send().await.unwrap(),
                _ => c.post(&url).form(&[("csrf", "x")]).send().await.unwrap(),
            };
            if *method == "GET" {
                assert_eq!(r.status(), 303, "{}: GET {route}", db.backend);
                let loc = r.headers()["location"].to_str().unwrap();
                assert!(loc.starts_with("/login?next="), "{route} → {loc}");
            } else {
                assert_eq!(r.status(), 401, "{}: POST {route}", db.backend);
            }
        }
        // Unknown paths, and a made-up session cookie, get the same.
        let r = c
            .get(format!("{}/no/such/page", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let r = c
            .get(format!("{}/queue", s.url))
            .header("cookie", format!("capsurvey_session={}", "ab".repeat(32)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        // The login page and its assets are public, with strict headers.
        let r = c.get(format!("{}/login", s.url)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        let csp = r.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
        assert!(r.text().await.unwrap().contains("ログイン"));
        assert_eq!(
            c.get(format!("{}/static/review.js", s.url))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(task_status(&db, f.mark).await, "open");
        db
    })
    .await;
}

#[tokio::test]
async fn viewers_read_but_every_change_is_refused() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        let (c, csrf) = logged_in(&s.url, "etsuran").await;
        let (status, html) = get(&c, &format!("{}/tasks/{}", s.url, f.mark)).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("閲覧のみ"),
            "viewers are told they cannot change anything"
        );
        assert!(!html.contains("/resolve"), "no decision form for viewers");
        let (status, _) = get(&c, &format!("{}/responses/{}", s.url, f.response.id)).await;
        assert_eq!(status, 200);
        let (status, _) = get(&c, &format!("{}/accuracy", s.url)).await;
        assert_eq!(status, 200);
        for (method, route) in PROTECTED_ROUTES {
            if *method != "POST" || *route == "/logout" {
                continue;
            }
            let url = format!("{}{}", s.url, concrete(route, &f));
            let (status, _, body) = post(
                &c,
                &url,
                &[
                    ("csrf", &csrf),
                    ("lock", "0"),
                    ("pick", "guess"),
                    ("field", "q04.part"),
                    ("seen", "0"),
                    ("pick", "text"),
                    ("text", "1"),
                    ("name", "x"),
                    ("role", "admin"),
                    ("password", "xxxxxxxxxx"),
                    ("password2", "xxxxxxxxxx"),
                    ("disabled", "1"),
                ],
            )
            .await;
            assert_eq!(status, 403, "{}: viewer POST {route}", db.backend);
            assert!(body.contains("閲覧のみ"), "{route}: {body}");
        }
        assert_eq!(task_status(&db, f.mark).await, "open");
        assert!(
            accepted(db.store.db(), f.response.id, "q04.part")
                .await
                .is_none()
        );
        // Entry staff cannot manage accounts.
        let (c, csrf) = logged_in(&s.url, "tanaka").await;
        let (status, _) = get(&c, &format!("{}/users", s.url)).await;
        assert_eq!(status, 403);
        let (status, _, _) = post(
            &c,
            &format!("{}/users", s.url),
            &[
                ("csrf", &csrf),
                ("name", "intruder"),
                ("role", "admin"),
                ("password", "xxxxxxxxxx"),
                ("password2", "xxxxxxxxxx"),
            ],
        )
        .await;
        assert_eq!(status, 403);
        assert!(
            capsurvey_store::users::user_by_name(db.store.db(), "intruder")
                .await
                .unwrap()
                .is_none()
        );
        // Viewers can still log out.
        let (c, csrf) = logged_in(&s.url, "etsuran").await;
        let (status, location, _) =
            post(&c, &format!("{}/logout", s.url), &[("csrf", &csrf)]).await;
        assert_eq!((status, location.as_str()), (303, "/login"));
        db
    })
    .await;
}

#[tokio::test]
async fn posts_without_the_right_csrf_token_are_refused() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        let (c, csrf) = logged_in(&s.url, "tanaka").await;
        let url = format!("{}/tasks/{}/resolve", s.url, f.mark);
        let (status, _, body) = post(&c, &url, &[("lock", "0"), ("pick", "guess")]).await;
        assert_eq!(status, 403, "{}: no token", db.backend);
        assert!(body.contains("トークン"));
        let (status, _, _) = post(
            &c,
            &url,
            &[("csrf", "0000"), ("lock", "0"), ("pick", "guess")],
        )
        .await;
        assert_eq!(status, 403, "wrong token");
        // Another session's token does not work either.
        let (_, other) = logged_in(&s.url, "suzuki").await;
        assert_ne!(other, csrf);
        let (status, _, _) = post(
            &c,
            &url,
            &[("csrf", &other), ("lock", "0"), ("pick", "guess")],
        )
        .await;
        assert_eq!(status, 403, "token of another session");
        assert_eq!(task_status(&db, f.mark).await, "open", "nothing changed");
        let (status, _, _) = post(&c, &format!("{}/logout", s.url), &[]).await;
        assert_eq!(status, 403, "logout needs the token too");
        // The right token works.
        let (status, location, _) = post(
            &c,
            &url,
            &[("csrf", &csrf), ("lock", "0"), ("pick", "guess")],
        )
        .await;
        assert_eq!(status, 303);
        assert!(location.starts_with("/queue/next?after="));
        assert_eq!(task_status(&db, f.mark).await, "done");
        // The login form has its own token (double-submit cookie).
        let fresh = client();
        let (status, _, _) = post(
            &fresh,
            &format!("{}/login", s.url),
            &[("name", "tanaka"), ("password", PASSWORD), ("csrf", "abc")],
        )
        .await;
        assert_eq!(status, 403);
        db
    })
    .await;
}

#[tokio::test]
async fn login_makes_a_fresh_session_and_logout_ends_it() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        // A session id planted in the browser before login is never adopted.
        let planted = "cd".repeat(32);
        let plain = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let page = plain.get(format!("{}/login", s.url)).send().await.unwrap();
        let login_cookie = page
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| v.strip_prefix("capsurvey_login="))
            .and_then(|v| v.split(';').next())
            .unwrap()
            .to_owned();
        let csrf = hidden(&page.text().await.unwrap(), "csrf").unwrap();
        let r = plain
            .post(format!("{}/login", s.url))
            .header(
                "cookie",
                format!("capsurvey_login={login_cookie}; capsurvey_session={planted}"),
            )
            .form(&[("name", "tanaka"), ("password", PASSWORD), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "{}", db.backend);
        let issued = session_cookie(&r).unwrap();
        assert_ne!(issued, planted, "session fixation");
        let r = plain
            .get(format!("{}/queue", s.url))
            .header("cookie", format!("capsurvey_session={planted}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "the planted id is not a session");

        let c = client();
        let r = login(&c, &s.url, "tanaka", PASSWORD).await;
        assert_eq!(r.status(), 303);
        let set = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect::<Vec<_>>();
        let session = set
            .iter()
            .find(|v| v.starts_with("capsurvey_session="))
            .expect("a session cookie");
        assert!(
            session.contains("HttpOnly")
                && session.contains("SameSite=Strict")
                && session.contains("Path=/"),
            "{session}"
        );
        assert!(!session.contains("Secure"), "plain-HTTP default");
        let first = session_cookie(&r).unwrap();
        assert_ne!(first, planted);
        assert_eq!(first.len(), 64);
        // The stored id is the hash of the token, not the token.
        use capsurvey_store::entity::sessions;
        let stored = sessions::Entity::find().all(db.store.db()).await.unwrap();
        assert!(stored.iter().all(|s| s.id != first));
        assert!(
            stored
                .iter()
                .any(|s| s.id == capsurvey_review::auth::token_hash(&first))
        );

        // Logging in again gives another id and ends the old session.
        let again = login(&c, &s.url, "tanaka", PASSWORD).await;
        let second = session_cookie(&again).unwrap();
        assert_ne!(first, second);
        let stale = client();
        let r = stale
            .get(format!("{}/queue", s.url))
            .header("cookie", format!("capsurvey_session={first}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "the old session is gone");

        let (status, html) = get(&c, &format!("{}/queue", s.url)).await;
        assert_eq!(status, 200);
        let csrf = hidden(&html, "csrf").unwrap();
        let (status, location, _) =
            post(&c, &format!("{}/logout", s.url), &[("csrf", &csrf)]).await;
        assert_eq!((status, location.as_str()), (303, "/login"));
        let r = stale
            .get(format!("{}/queue", s.url))
            .header("cookie", format!("capsurvey_session={second}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303, "logout deleted the session");
        let (status, _) = get(&c, &format!("{}/queue", s.url)).await;
        assert_eq!(status, 303);
        db
    })
    .await;
}

/// Everything the process logs, at every level.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = buf.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || LogWriter(writer.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).ok();
        buf
    })
    .clone()
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn wrong_passwords_give_no_session_are_never_logged_and_are_limited() {
    let logs = captured_logs();
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        let c = client();
        let wrong = "Zq-wrong-secret-7731";
        let r = login(&c, &s.url, "tanaka", wrong).await;
        assert_eq!(r.status(), 401, "{}", db.backend);
        assert!(
            session_cookie(&r).is_none(),
            "no session for a wrong password"
        );
        assert!(
            r.text()
                .await
                .unwrap()
                .contains("利用者名またはパスワードが違います")
        );
        let r = login(&c, &s.url, "nobody", wrong).await;
        assert_eq!(r.status(), 401);
        let (status, _) = get(&c, &format!("{}/queue", s.url)).await;
        assert_eq!(status, 303);
        // A good login is logged (by name), its password is not.
        assert_eq!(login(&c, &s.url, "suzuki", PASSWORD).await.status(), 303);
        // Five failures block the name for a while, even with the right password.
        for _ in 0..4 {
            assert_eq!(login(&c, &s.url, "tanaka", wrong).await.status(), 401);
        }
        let r = login(&c, &s.url, "tanaka", PASSWORD).await;
        assert_eq!(r.status(), 429);
        assert!(session_cookie(&r).is_none());
        db
    })
    .await;
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("login failed"), "failures are logged: {text}");
    assert!(
        !text.contains("Zq-wrong-secret-7731"),
        "a wrong password was logged"
    );
    assert!(!text.contains(PASSWORD), "a password was logged");
}

#[tokio::test]
async fn the_second_reviewer_on_an_item_gets_a_conflict_and_nothing_is_overwritten() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        let (a, csrf_a) = logged_in(&s.url, "tanaka").await;
        let (b, csrf_b) = logged_in(&s.url, "suzuki").await;
        let task = format!("{}/tasks/{}", s.url, f.mark);
        let (_, page_a) = get(&a, &task).await;
        let (_, page_b) = get(&b, &task).await;
        let (lock_a, lock_b) = (lock_of(&page_a), lock_of(&page_b));
        assert_eq!(lock_a, lock_b);
        let (status, _, _) = post(
            &a,
            &format!("{task}/resolve"),
            &[("csrf", &csrf_a), ("lock", &lock_a), ("pick", "opt:1")],
        )
        .await;
        assert_eq!(status, 303, "{}: first decision", db.backend);
        let (status, _, body) = post(
            &b,
            &format!("{task}/resolve"),
            &[("csrf", &csrf_b), ("lock", &lock_b), ("pick", "opt:3")],
        )
        .await;
        assert_eq!(status, 409, "second decision");
        assert!(body.contains("他の担当者が先に処理しました"), "{body}");
        assert!(body.contains("tanaka"), "names who decided");
        assert!(
            body.contains("訪問歯科診療を専門に行っている"),
            "shows the other decision"
        );
        let (value, source, person) = accepted(db.store.db(), f.response.id, "q08").await.unwrap();
        assert_eq!(value, Some(Value::Choice("1".into())));
        assert_eq!(
            (source.as_str(), person.as_deref()),
            ("person", Some("tanaka"))
        );
        // The machine's reading stays beside the decision.
        let history = capsurvey_store::answer_history(db.store.db(), f.response.id, "q08")
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(history[0].source_kind, "scan");
        assert_eq!(history[0].status, "superseded");
        // The same person posting twice (a double click) also changes nothing.
        let (status, _, _) = post(
            &a,
            &format!("{task}/resolve"),
            &[("csrf", &csrf_a), ("lock", &lock_a), ("pick", "opt:4")],
        )
        .await;
        assert_eq!(status, 409);
        let resolves = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("review.resolve"))
            .count(db.store.db())
            .await
            .unwrap();
        assert_eq!(resolves, 1);
        db
    })
    .await;
}

/// The task a queue page shows in full (the current one in its list).
fn current_task(html: &str) -> i64 {
    let at = html
        .find("<li class=\"current\"><a href=\"/tasks/")
        .expect("a current task in the list");
    let rest = &html[at + "<li class=\"current\"><a href=\"/tasks/".len()..];
    rest[..rest.find('?').unwrap()].parse().unwrap()
}

/// Where a `/queue/next` redirect leads: the task id.
async fn next_task(c: &reqwest::Client, url: &str) -> i64 {
    let r = c.get(url).send().await.unwrap();
    assert_eq!(r.status(), 303, "{url}");
    let to = r.headers()["location"].to_str().unwrap().to_owned();
    let id = to.trim_start_matches("/tasks/");
    id[..id.find('?').unwrap()].parse().unwrap()
}

#[tokio::test]
async fn reviewers_are_offered_different_tasks_and_see_who_has_one_open() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        // Logging in shows the queue, which hands each person the oldest task nobody has open.
        let (a, _) = logged_in(&s.url, "tanaka").await;
        let (b, _) = logged_in(&s.url, "suzuki").await;
        let (_, queue_a) = get(&a, &format!("{}/queue", s.url)).await;
        let (_, queue_b) = get(&b, &format!("{}/queue", s.url)).await;
        let (first_a, first_b) = (current_task(&queue_a), current_task(&queue_b));
        assert_ne!(
            first_a, first_b,
            "{}: both offered the same task",
            db.backend
        );
        assert!(
            queue_a.contains("suzuki さんが確認中"),
            "the list shows others' tasks"
        );
        // "Next" passes over what the other has open.
        let after_a = next_task(&a, &format!("{}/queue/next?after={first_a}", s.url)).await;
        assert_ne!(after_a, first_b);
        assert_ne!(after_a, first_a);
        // Moving on gives up the task left: it is free for the next person at once.
        let left = review_tasks::Entity::find_by_id(first_a)
            .one(db.store.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(left.claimed_by, None, "{}", db.backend);
        let (_, queue_b) = get(&b, &format!("{}/queue", s.url)).await;
        assert_eq!(current_task(&queue_b), first_a.min(first_b));
        // Opening the other's task by its link shows it, and who has it open.
        let (status, page) = get(&a, &format!("{}/tasks/{first_b}", s.url)).await;
        assert_eq!(status, 200);
        assert!(page.contains("suzuki さんが確認中です"), "{page}");
        let (_, own) = get(&b, &format!("{}/tasks/{first_b}", s.url)).await;
        assert!(
            !own.contains("さんが確認中です"),
            "no notice on one's own task"
        );
        // A viewer claims nothing: the staff are still offered the task the viewer looks at.
        let (v, _) = logged_in(&s.url, "etsuran").await;
        let (_, viewed) = get(&v, &format!("{}/queue", s.url)).await;
        let looked = current_task(&viewed);
        let claimed = review_tasks::Entity::find_by_id(looked)
            .one(db.store.db())
            .await
            .unwrap()
            .unwrap();
        assert_ne!(claimed.claimed_by.as_deref(), Some("etsuran"));
        db
    })
    .await;
}

#[tokio::test]
async fn every_kind_of_task_is_decided_and_audited() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let conn = db.store.db();
        let s = start(&db.store, f.data.path()).await;
        let (c, csrf) = logged_in(&s.url, "tanaka").await;

        // The queue shows the oldest item in full: the mark, its crop, the guess, the keys.
        let (status, html) = get(&c, &format!("{}/queue", s.url)).await;
        assert_eq!(status, 200);
        assert!(html.contains("不確かなマーク") && html.contains("問8"));
        assert!(html.contains("/files/crops/crop-mark-q08.png"));
        assert!(
            html.contains("機械の判定")
                && html.contains("外来診療とあわせて実施している")
                && html.contains("0.62")
        );
        assert!(html.contains("data-key=\"Enter Space\""));
        assert!(html.contains(&format!("action=\"/tasks/{}/resolve", f.mark)));
        // Filters.
        let (_, html) = get(&c, &format!("{}/queue?kind=conflict", s.url)).await;
        assert!(
            html.contains(&format!("/tasks/{}/resolve", f.conflict))
                && !html.contains(&format!("/tasks/{}/resolve", f.mark))
        );
        let (_, html) = get(&c, &format!("{}/queue?survey=other", s.url)).await;
        assert!(html.contains("確認待ちはありません"));

        // Mark: the machine's guess accepted with one key (pick=guess).
        let (status, location, _) = post(
            &c,
            &format!("{}/tasks/{}/resolve", s.url, f.mark),
            &[("csrf", &csrf), ("lock", "0"), ("pick", "guess")],
        )
        .await;
        assert_eq!(status, 303);
        let next = c.get(format!("{}{location}", s.url)).send().await.unwrap();
        assert_eq!(
            next.headers()["location"].to_str().unwrap(),
            format!("/tasks/{}?survey=&kind=", f.write_in),
            "the next item loads"
        );
        assert_eq!(
            accepted(conn, f.response.id, "q08").await.unwrap().0,
            Some(Value::Choice("2".into()))
        );

        // Write-in: checked against the question's range, in Japanese.
        let url = format!("{}/tasks/{}/resolve", s.url, f.write_in);
        let (status, _, body) = post(
            &c,
            &url,
            &[
                ("csrf", &csrf),
                ("lock", "0"),
                ("pick", "text"),
                ("text", "120"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(
            body.contains("120 は範囲外です。0〜99人 の数を入力してください。"),
            "{body}"
        );
        let (status, _, body) = post(
            &c,
            &url,
            &[
                ("csrf", &csrf),
                ("lock", "0"),
                ("pick", "text"),
                ("text", "十二"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(body.contains("整数ではありません"));
        assert_eq!(task_status(&db, f.write_in).await, "open");
        let (status, _, _) = post(
            &c,
            &url,
            &[
                ("csrf", &csrf),
                ("lock", "0"),
                ("pick", "text"),
                ("text", "１２"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(
            accepted(conn, f.response.id, "q04.full").await.unwrap().0,
            Some(Value::Int(12))
        );

        // CSV value: the raw text and the question are shown; the person picks あり.
        let (_, html) = get(&c, &format!("{}/tasks/{}", s.url, f.value)).await;
        assert!(
            html.contains("CSVに書かれていた値")
                && html.contains("○")
                && html.contains("replies.csv")
                && html.contains("24時間の連絡体制")
        );
        let (status, _, _) = post(
            &c,
            &format!("{}/tasks/{}/resolve", s.url, f.value),
            &[("csrf", &csrf), ("lock", "0"), ("pick", "opt:yes")],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(
            accepted(conn, f.response.id, "q11").await.unwrap().0,
            Some(Value::Bool(true))
        );

        // Conflict: both values shown; the incoming one wins.
        let (_, html) = get(&c, &format!("{}/tasks/{}", s.url, f.conflict)).await;
        assert!(
            html.contains("これまでの値")
                && html.contains("1. 義歯の調整、2. 口腔ケア")
                && html.contains("replies.csv row 4")
        );
        let (status, _, _) = post(
            &c,
            &format!("{}/tasks/{}/resolve", s.url, f.conflict),
            &[("csrf", &csrf), ("lock", "0"), ("pick", "incoming")],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(
            accepted(conn, f.response.id, "q10").await.unwrap().0,
            Some(Value::Choices(vec!["1".into()]))
        );

        // Unidentified page: facility, survey, page.
        let (_, html) = get(&c, &format!("{}/tasks/{}", s.url, f.page_task)).await;
        assert!(
            html.contains("識別できないページ")
                && html.contains("/files/pages/page-unidentified.png")
                && html.contains("data-facility-search")
        );
        let search = c
            .get(format!("{}/facilities/search?q=みどり", s.url))
            .send()
            .await
            .unwrap();
        let found: serde_json::Value = serde_json::from_str(&search.text().await.unwrap()).unwrap();
        assert_eq!(found[0]["code"], "1331234567");
        let assign = format!("{}/tasks/{}/assign", s.url, f.page_task);
        let (status, _, body) = post(
            &c,
            &assign,
            &[
                ("csrf", &csrf),
                ("lock", "0"),
                ("pick", "assign"),
                ("facility", "9999999999"),
                ("survey_version", &f.survey_version.to_string()),
                ("page", "2"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(body.contains("名簿にありません"));
        let (status, _, _) = post(
            &c,
            &assign,
            &[
                ("csrf", &csrf),
                ("lock", "0"),
                ("pick", "assign"),
                ("facility", "1331234567"),
                ("survey_version", &f.survey_version.to_string()),
                ("page", "２"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let p = scanned_pages::Entity::find_by_id(f.unidentified_page)
            .one(conn)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (p.status.as_str(), p.survey_version_id, p.page_number),
            ("assigned", Some(f.survey_version), Some(2))
        );
        let a = capsurvey_store::review::page_assignment(conn, f.unidentified_page)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (a.facility_id, a.response_id),
            (f.facility.id, f.response.id)
        );
        assert_eq!(
            capsurvey_store::review::pages_awaiting_reread(conn)
                .await
                .unwrap()
                .len(),
            1
        );

        // Nothing is left, and every decision is audited by name.
        let (_, html) = get(&c, &format!("{}/queue", s.url)).await;
        assert!(html.contains("確認待ちはありません"));
        let rows = audit_log::Entity::find()
            .filter(audit_log::Column::Actor.eq("tanaka"))
            .all(conn)
            .await
            .unwrap();
        let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
        assert_eq!(
            actions.iter().filter(|a| **a == "review.resolve").count(),
            5,
            "{actions:?}"
        );
        assert!(actions.contains(&"page.assign"));
        let mark_row = rows
            .iter()
            .find(|r| r.action == "review.resolve" && r.entity_id == Some(f.mark))
            .unwrap();
        assert!(
            mark_row.detail.contains("confidence") && mark_row.detail.contains("0.62"),
            "the machine's reading is kept: {}",
            mark_row.detail
        );

        // A done task shows who decided what.
        let (_, html) = get(&c, &format!("{}/tasks/{}", s.url, f.mark)).await;
        assert!(html.contains("処理済み") && html.contains("tanaka"));

        // Accuracy: one mark reviewed, the guess was right.
        let report = capsurvey_review::accuracy::accuracy_report(conn, "mini")
            .await
            .unwrap();
        assert_eq!((report.observed, report.right), (1, 1), "{report:?}");
        assert_eq!(report.rows[0].kind, "single");
        assert_eq!(report.rows[0].band, "0.60–0.80");
        assert_eq!(report.reviewers[0].name, "tanaka");
        assert_eq!(report.reviewers[0].items, 5);
        let (status, html) = get(&c, &format!("{}/accuracy?survey=mini", s.url)).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("読み取り精度") && html.contains("100.0%") && html.contains("tanaka")
        );
        db
    })
    .await;
}

#[tokio::test]
async fn responses_show_pages_and_history_and_edits_are_locked_optimistically() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let conn = db.store.db();
        let s = start(&db.store, f.data.path()).await;
        let (a, csrf_a) = logged_in(&s.url, "tanaka").await;
        let (b, csrf_b) = logged_in(&s.url, "suzuki").await;
        let (status, html) = get(&a, &format!("{}/responses", s.url)).await;
        assert_eq!(status, 200);
        assert!(html.contains("みどり歯科医院") && html.contains("1331234567"));
        let page = format!("{}/responses/{}", s.url, f.response.id);
        let (status, html) = get(&a, &page).await;
        assert_eq!(status, 200);
        assert!(
            html.contains("/files/pages/page-unidentified.png"),
            "page images beside the answers"
        );
        assert!(
            html.contains("1. 義歯の調整、2. 口腔ケア") && html.contains("fax-20261120.tif p2 q10")
        );
        assert!(html.contains("履歴") && html.contains("確認待ち"));

        let edit = format!("{page}/answers");
        let (status, _, body) = post(
            &a,
            &edit,
            &[
                ("csrf", &csrf_a),
                ("field", "q04.part"),
                ("seen", "0"),
                ("pick", "text"),
                ("text", "100"),
            ],
        )
        .await;
        assert_eq!(status, 422, "{}", db.backend);
        assert!(body.contains("範囲外"));
        let (status, location, _) = post(
            &a,
            &edit,
            &[
                ("csrf", &csrf_a),
                ("field", "q04.part"),
                ("seen", "0"),
                ("pick", "text"),
                ("text", "3"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        assert!(location.contains("saved=q04.part"));
        let (v, source, person) = accepted(conn, f.response.id, "q04.part").await.unwrap();
        assert_eq!(
            (v, source.as_str(), person.as_deref()),
            (Some(Value::Int(3)), "person", Some("tanaka"))
        );
        // suzuki still has the page from before tanaka's edit: refused, nothing overwritten.
        let (status, _, body) = post(
            &b,
            &edit,
            &[
                ("csrf", &csrf_b),
                ("field", "q04.part"),
                ("seen", "0"),
                ("pick", "text"),
                ("text", "5"),
            ],
        )
        .await;
        assert_eq!(status, 409);
        assert!(body.contains("他の担当者が先に処理しました"));
        assert_eq!(
            accepted(conn, f.response.id, "q04.part").await.unwrap().0,
            Some(Value::Int(3))
        );
        // Editing an answer the machine read keeps the machine's reading in the history.
        let current = capsurvey_store::accepted_answer(conn, f.response.id, "q10")
            .await
            .unwrap()
            .unwrap();
        let (status, _, _) = post(
            &b,
            &edit,
            &[
                ("csrf", &csrf_b),
                ("field", "q10"),
                ("seen", &current.id.to_string()),
                ("pick", "opts"),
                ("opt", "4"),
                ("opt", "2"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(
            accepted(conn, f.response.id, "q10").await.unwrap().0,
            Some(Value::Choices(vec!["2".into(), "4".into()]))
        );
        let (_, html) = get(&a, &page).await;
        assert!(html.contains("置き換え済み") && html.contains("edit by suzuki"));
        let edits = audit_log::Entity::find()
            .filter(audit_log::Column::Action.eq("answer.edit"))
            .count(conn)
            .await
            .unwrap();
        assert_eq!(edits, 2);
        db
    })
    .await;
}

#[tokio::test]
async fn files_are_served_only_from_inside_the_data_directory() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        let (c, _) = logged_in(&s.url, "etsuran").await;
        let r = c
            .get(format!("{}/files/crops/crop-mark-q08.png", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "image/png");
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), b"secret").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(outside.path(), f.data.path().join("crops/link.png")).unwrap();
        for path in [
            "/files/../Cargo.toml",
            "/files/%2e%2e/%2e%2e/etc/passwd",
            "/files/crops/%2e%2e/%2e%2e/etc/hostname",
            "/files//etc/passwd",
            "/files/crops/link.png",
            "/files/crops/missing.png",
            "/files/crops",
            "/files/..%2F..%2Fetc%2Fpasswd",
            "/files/crops%2F..%2F..%2Fetc%2Fhostname",
            "/files/%2Fetc%2Fpasswd",
        ] {
            let r = c.get(format!("{}{path}", s.url)).send().await.unwrap();
            assert!(
                r.status() == 404 || r.status() == 400,
                "{path}: {}",
                r.status()
            );
            assert!(!r.text().await.unwrap().contains("secret"));
        }
        db
    })
    .await;
}

#[tokio::test]
async fn admins_manage_accounts_in_the_site() {
    each_backend(|db| async move {
        let f = fixture(&db).await;
        let s = start(&db.store, f.data.path()).await;
        let (c, csrf) = logged_in(&s.url, "kanri").await;
        let (status, html) = get(&c, &format!("{}/users", s.url)).await;
        assert_eq!(status, 200);
        assert!(html.contains("tanaka") && html.contains("入力担当"));
        let (status, _, body) = post(
            &c,
            &format!("{}/users", s.url),
            &[
                ("csrf", &csrf),
                ("name", "sato"),
                ("role", "entry"),
                ("password", "short"),
                ("password2", "short"),
            ],
        )
        .await;
        assert_eq!(status, 422);
        assert!(body.contains("8 文字以上"));
        let (status, _, _) = post(
            &c,
            &format!("{}/users", s.url),
            &[
                ("csrf", &csrf),
                ("name", "sato"),
                ("role", "entry"),
                ("password", "sato-password-1"),
                ("password2", "sato-password-1"),
            ],
        )
        .await;
        assert_eq!(status, 303);
        let sato = capsurvey_store::users::user_by_name(db.store.db(), "sato")
            .await
            .unwrap()
            .unwrap();
        let c2 = client();
        assert_eq!(
            login(&c2, &s.url, "sato", "sato-password-1").await.status(),
            303
        );
        // Disabling ends the session at once.
        let (status, _, _) = post(
            &c,
            &format!("{}/users/{}/disabled", s.url, sato.id),
            &[("csrf", &csrf), ("disabled", "1")],
        )
        .await;
        assert_eq!(status, 303);
        assert_eq!(get(&c2, &format!("{}/queue", s.url)).await.0, 303);
        assert_eq!(
            login(&client(), &s.url, "sato", "sato-password-1")
                .await
                .status(),
            401
        );
        db
    })
    .await;
}

/// The list the access-control tests walk is the router's own list of protected routes.
#[test]
fn protected_route_list_matches_the_router() {
    let src = include_str!("../src/lib.rs");
    let start = src.find("let protected = Router::new()").unwrap();
    let end = start + src[start..].find(".route_layer(").unwrap();
    let mut found = Vec::new();
    for line in src[start..end].lines().filter(|l| l.contains(".route(\"")) {
        let path = line.split('"').nth(1).unwrap();
        for (m, call) in [("GET", "get("), ("POST", "post(")] {
            if line.contains(call) {
                found.push((m.to_owned(), path.to_owned()));
            }
        }
    }
    let mut listed: Vec<(String, String)> = PROTECTED_ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    found.sort();
    listed.sort();
    assert_eq!(found, listed);
}
