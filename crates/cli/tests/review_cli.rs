//! The review commands of the CLI: `user add|list|passwd|disable`, `accuracy`, `review serve`.

use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use capsurvey_store::sea_orm::EntityTrait;
use capsurvey_store::testing::each_backend;
use capsurvey_store::*;
use capsurvey_survey::Value;

fn capsurvey(db: &str, args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_capsurvey"));
    cmd.arg("--db")
        .arg(db)
        .args(args)
        .env_remove("CAPSURVEY_PASSWORD")
        .env("CAPSURVEY_ACTOR", "tester");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run capsurvey");
    if let Some(text) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test]
async fn users_are_added_listed_and_managed_from_the_command_line() {
    each_backend(|db| async move {
        let spec = db.spec.clone();
        let o = capsurvey(
            &spec,
            &["user", "add", "kanri", "--role", "admin"],
            &[("CAPSURVEY_PASSWORD", "admin-pass-123")],
            None,
        );
        assert!(o.status.success(), "{}: {}", db.backend, text(&o));
        assert!(text(&o).contains("created user kanri (admin)"));
        let o = capsurvey(
            &spec,
            &[
                "user",
                "add",
                "tanaka",
                "--role",
                "entry",
                "--password-stdin",
            ],
            &[],
            Some("tanaka-pass-456\n"),
        );
        assert!(o.status.success(), "{}", text(&o));
        let o = capsurvey(
            &spec,
            &["user", "add", "kanri", "--role", "viewer"],
            &[("CAPSURVEY_PASSWORD", "another-pass-1")],
            None,
        );
        assert!(!o.status.success());
        assert!(text(&o).contains("already exists"), "{}", text(&o));
        let o = capsurvey(
            &spec,
            &["user", "add", "x", "--role", "boss"],
            &[("CAPSURVEY_PASSWORD", "another-pass-1")],
            None,
        );
        assert!(!o.status.success());
        assert!(text(&o).contains("admin, entry or viewer"), "{}", text(&o));
        let o = capsurvey(
            &spec,
            &["user", "add", "short", "--role", "viewer"],
            &[("CAPSURVEY_PASSWORD", "abc")],
            None,
        );
        assert!(!o.status.success());
        assert!(text(&o).contains("at least 8 characters"), "{}", text(&o));
        let o = capsurvey(
            &spec,
            &["user", "add", "noterm", "--role", "viewer"],
            &[],
            None,
        );
        assert!(!o.status.success());
        assert!(text(&o).contains("CAPSURVEY_PASSWORD"), "{}", text(&o));

        let o = capsurvey(&spec, &["user", "list"], &[], None);
        let out = text(&o);
        assert!(
            out.contains("kanri")
                && out.contains("admin")
                && out.contains("tanaka")
                && out.contains("entry"),
            "{out}"
        );
        assert!(
            !out.contains("admin-pass-123") && !out.contains("argon2"),
            "no password or hash is printed"
        );

        // The stored hash is argon2id and verifies; the password itself is nowhere.
        let u = users::user_by_name(db.store.db(), "tanaka")
            .await
            .unwrap()
            .unwrap();
        assert!(u.password_hash.starts_with("$argon2id$"));
        assert!(capsurvey_review::auth::verify_password(
            "tanaka-pass-456",
            &u.password_hash
        ));

        let o = capsurvey(
            &spec,
            &["user", "passwd", "tanaka", "--password-stdin"],
            &[],
            Some("tanaka-new-789\n"),
        );
        assert!(o.status.success(), "{}", text(&o));
        let u = users::user_by_name(db.store.db(), "tanaka")
            .await
            .unwrap()
            .unwrap();
        assert!(capsurvey_review::auth::verify_password(
            "tanaka-new-789",
            &u.password_hash
        ));
        let o = capsurvey(&spec, &["user", "disable", "tanaka"], &[], None);
        assert!(o.status.success());
        assert!(text(&capsurvey(&spec, &["user", "list"], &[], None)).contains("disabled"));
        let actions: Vec<String> = capsurvey_store::entity::audit_log::Entity::find()
            .all(db.store.db())
            .await
            .unwrap()
            .into_iter()
            .map(|r| format!("{} {}", r.actor, r.action))
            .collect();
        assert!(
            actions.contains(&"tester user.create".to_owned())
                && actions.contains(&"tester user.disable".to_owned()),
            "{actions:?}"
        );
        db
    })
    .await;
}

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

#[tokio::test]
async fn accuracy_is_reported_from_reviewed_items() {
    use capsurvey_store::entity::facilities;
    use capsurvey_store::sea_orm::{ActiveModelTrait, Set};
    each_backend(|db| async move {
        let conn = db.store.db();
        let v = register_survey(conn, &capsurvey_survey::parse_survey("m", SURVEY).unwrap(), "t").await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..3 {
            let f = facilities::ActiveModel {
                code: Set(format!("133000000{i}")),
                facility_type: Set("dental".into()),
                name: Set(format!("歯科{i}")),
                created_at: Set(now()),
                updated_at: Set(now()),
                ..Default::default()
            }
            .insert(conn)
            .await
            .unwrap();
            let r = response_for(conn, v.id, f.id, None).await.unwrap();
            let src = Source {
                kind: SourceKind::Scan,
                source_ref: format!("fax p1 q1 #{i}"),
                scanned_page_id: None,
                imported_file_id: None,
                row_number: None,
                person: None,
            };
            let guess = Value::Bool(true);
            let (t, _) = put_for_review(
                conn,
                &r,
                "q1",
                Some(guess.clone()),
                Some(0.5 + 0.2 * i as f64),
                &src,
                NewTask {
                    kind: TaskKind::Mark,
                    survey_version_id: Some(v.id),
                    response_id: None,
                    field_key: None,
                    answer_id: None,
                    scanned_page_id: None,
                    payload: serde_json::json!({"guess": guess, "confidence": 0.5 + 0.2 * i as f64}),
                    dedup_key: format!("m{i}"),
                },
            )
            .await
            .unwrap();
            tasks.push(t.id);
        }
        resolve_task(conn, tasks[0], 0, Some(Value::Bool(true)), "tanaka").await.unwrap();
        resolve_task(conn, tasks[1], 0, Some(Value::Bool(false)), "tanaka").await.unwrap();
        let o = capsurvey(&db.spec, &["accuracy", "--survey", "mini"], &[], None);
        let out = text(&o);
        assert!(o.status.success(), "{}: {out}", db.backend);
        assert!(out.contains("2 reviewed item(s) with a machine guess, 1 right (50.0%)"), "{out}");
        assert!(out.contains("yes_no") && out.contains("<0.60") && out.contains("0.60–0.80"), "{out}");
        assert!(out.contains("tanaka"), "{out}");
        let o = capsurvey(&db.spec, &["accuracy", "--survey", "mini", "--json"], &[], None);
        let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(json["observed"], 2);
        let o = capsurvey(&db.spec, &["accuracy", "--survey", "nope"], &[], None);
        assert!(!o.status.success());
        assert!(text(&o).contains("no stored version"));
        db
    })
    .await;
}

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

#[test]
fn review_serve_answers_on_the_given_address() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_capsurvey"))
        .arg("--db")
        .arg(&db)
        .args(["review", "serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let page = loop {
        if let Some(p) = http_get(port, "/login") {
            break p;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("review serve did not answer on port {port}");
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let queue = http_get(port, "/queue").unwrap_or_default();
    child.kill().ok();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        page.starts_with("HTTP/1.1 200") && page.contains("ログイン"),
        "{page}"
    );
    assert!(
        queue.starts_with("HTTP/1.1 303") && queue.contains("location: /login"),
        "{queue}"
    );
    assert!(err.contains("no accounts yet"), "{err}");
    assert!(
        dir.path().join("capsurvey-data").is_dir(),
        "the data directory is made beside the database"
    );
}
