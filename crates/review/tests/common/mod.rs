//! Shared by the review tests: a small survey, a facility with one task of every kind, accounts,
//! a data directory with real-looking crops, the server on a free port, and an HTTP client.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use capsurvey_review::{App, Config, auth, router};
use capsurvey_store::entity::{facilities, responses, scanned_pages};
use capsurvey_store::sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use capsurvey_store::testing::TestDb;
use capsurvey_store::users::Role;
use capsurvey_store::*;
use capsurvey_survey::Value;
use serde_json::json;

/// The password of every test account.
pub const PASSWORD: &str = "kakunin-2026-pass";

pub const SURVEY: &str = r#"
id = "mini"
version = 1
title = "訪問歯科診療 テスト調査"
facility_type = "dental"
reference_date = "2024-11-01"

[[sections]]
id = "a"
title = "実施状況"

[[sections.questions]]
id = "q08"
number = "8"
kind = "single"
text = "歯科訪問診療の実施状況"
options = [
    { code = "1", label = "訪問歯科診療を専門に行っている（外来患者が5%未満）" },
    { code = "2", label = "外来診療とあわせて実施している" },
    { code = "3", label = "直近1年間は実施していない" },
    { code = "4", label = "実施したことがない" },
]

[[sections.questions]]
id = "q04"
number = "4"
kind = "count"
text = "歯科医師数（実人数）"
unit = "人"
max = 99
items = [
    { code = "full", label = "常勤" },
    { code = "part", label = "非常勤" },
]

[[sections.questions]]
id = "q10"
number = "10"
kind = "multiple"
text = "対応可能な内容"
options = [
    { code = "1", label = "義歯の調整" },
    { code = "2", label = "口腔ケア" },
    { code = "3", label = "摂食嚥下リハビリ" },
    { code = "4", label = "抜歯" },
]

[[sections.questions]]
id = "q11"
number = "11"
kind = "yes_no"
text = "24時間の連絡体制"
labels = ["あり", "なし"]
"#;

/// Everything a test needs to find again.
pub struct Fixture {
    pub survey_version: i64,
    pub facility: facilities::Model,
    pub response: responses::Model,
    pub page: i64,
    pub unidentified_page: i64,
    pub mark: i64,
    pub write_in: i64,
    pub value: i64,
    pub conflict: i64,
    pub page_task: i64,
    pub admin_id: i64,
    pub data: tempfile::TempDir,
}

fn fixture_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A data directory with the crops and the page image the tasks name.
pub fn data_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (sub, name) in [
        ("crops", "crop-mark-q08.png"),
        ("crops", "crop-count-q04.png"),
        ("pages", "page-unidentified.png"),
    ] {
        std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        std::fs::copy(fixture_file(name), dir.path().join(sub).join(name)).unwrap();
    }
    dir
}

pub fn scan_source(r: &str, page: i64) -> Source {
    Source {
        kind: SourceKind::Scan,
        source_ref: r.into(),
        scanned_page_id: Some(page),
        imported_file_id: None,
        row_number: None,
        person: None,
    }
}

pub async fn register(conn: &DatabaseConnection) -> i64 {
    register_survey(
        conn,
        &capsurvey_survey::parse_survey("mini.toml", SURVEY).expect("test survey parses"),
        "test",
    )
    .await
    .unwrap()
    .id
}

pub async fn facility(conn: &DatabaseConnection, code: &str, name: &str) -> facilities::Model {
    facilities::ActiveModel {
        code: Set(code.into()),
        facility_type: Set("dental".into()),
        name: Set(name.into()),
        address: Set(Some("東京都世田谷区太子堂１－２－３".into())),
        created_at: Set(now()),
        updated_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap()
}

pub async fn page(conn: &DatabaseConnection, hash: &str, status: &str, sv: Option<i64>) -> i64 {
    scanned_pages::ActiveModel {
        content_hash: Set(hash.into()),
        imported_file_id: Set(None),
        source_file: Set("fax-20261120.tif".into()),
        page_index: Set(1),
        survey_version_id: Set(sv),
        mailing_id: Set(None),
        page_number: Set(sv.map(|_| 2)),
        status: Set(status.into()),
        image_path: Set(Some("pages/page-unidentified.png".into())),
        transform: Set(None),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .unwrap()
    .id
}

/// An uncertain mark of q08 on a response: the machine guesses `guess` at 0.62.
pub async fn mark_task(
    conn: &DatabaseConnection,
    response: &responses::Model,
    page: i64,
    n: usize,
) -> i64 {
    let guess = Value::Choice("2".into());
    let (t, _) = put_for_review(
        conn,
        response,
        "q08",
        Some(guess.clone()),
        Some(0.62),
        &scan_source("fax-20261120.tif p2 q08", page),
        NewTask {
            kind: TaskKind::Mark,
            survey_version_id: Some(response.survey_version_id),
            response_id: None,
            field_key: None,
            answer_id: None,
            scanned_page_id: Some(page),
            payload: json!({
                "guess": guess,
                "confidence": 0.62,
                "crop": "crops/crop-mark-q08.png",
                "box": {"x": 34, "y": 130, "w": 42, "h": 42},
                "boxes": [{"x": 494, "y": 130, "w": 42, "h": 42}],
                "options": [["1", "訪問歯科診療を専門に行っている"], ["2", "外来診療とあわせて実施している"], ["3", "直近1年間は実施していない"], ["4", "実施したことがない"]],
            }),
            dedup_key: format!("mark:{}:{n}", response.id),
        },
    )
    .await
    .unwrap();
    t.id
}

/// A digit-box write-in of q04.full (no machine guess).
pub async fn write_in_task(
    conn: &DatabaseConnection,
    response: &responses::Model,
    page: i64,
) -> i64 {
    let (t, _) = put_for_review(
        conn,
        response,
        "q04.full",
        None,
        None,
        &scan_source("fax-20261120.tif p2 q04.full", page),
        NewTask {
            kind: TaskKind::WriteIn,
            survey_version_id: Some(response.survey_version_id),
            response_id: None,
            field_key: None,
            answer_id: None,
            scanned_page_id: Some(page),
            payload: json!({
                "crop": "crops/crop-count-q04.png",
                "box": {"x": 116, "y": 60, "w": 104, "h": 66},
                "field": "q04.full",
                "kind": "count",
            }),
            dedup_key: format!("write_in:{}:q04.full", response.id),
        },
    )
    .await
    .unwrap();
    t.id
}

/// The fax read 1 and 2 for q10, row `row` of a CSV only 1: the conflict task between them.
pub async fn conflict_task(
    conn: &DatabaseConnection,
    r: &responses::Model,
    page_id: i64,
    row: i64,
) -> i64 {
    put_answer(
        conn,
        r,
        "q10",
        Some(Value::Choices(vec!["1".into(), "2".into()])),
        Some(0.97),
        &scan_source("fax-20261120.tif p2 q10", page_id),
        "scan",
    )
    .await
    .unwrap();
    let csv = Source {
        kind: SourceKind::Csv,
        source_ref: format!("replies.csv row {row} col q10"),
        scanned_page_id: None,
        imported_file_id: None,
        row_number: Some(row),
        person: None,
    };
    match put_answer(
        conn,
        r,
        "q10",
        Some(Value::Choices(vec!["1".into()])),
        None,
        &csv,
        "csv",
    )
    .await
    .unwrap()
    {
        Put::Conflict { task, .. } => task,
        other => panic!("expected a conflict, got {other:?}"),
    }
}

/// The survey, a facility with a response, one task of every kind, and accounts:
/// `kanri` (admin), `tanaka` and `suzuki` (entry), `etsuran` (viewer).
pub async fn fixture(db: &TestDb) -> Fixture {
    let conn = db.store.db();
    let sv = register(conn).await;
    let f = facility(conn, "1331234567", "みどり歯科医院").await;
    let r = response_for(conn, sv, f.id, None).await.unwrap();
    let page_id = page(conn, "page-a", "identified", Some(sv)).await;
    let unidentified = page(conn, "page-b", "unidentified", None).await;

    let mark = mark_task(conn, &r, page_id, 0).await;
    let write_in = write_in_task(conn, &r, page_id).await;

    let csv = Source {
        kind: SourceKind::Csv,
        source_ref: "replies.csv row 3 col q11".into(),
        scanned_page_id: None,
        imported_file_id: None,
        row_number: Some(3),
        person: None,
    };
    let (value, _) = put_for_review(
        conn,
        &r,
        "q11",
        None,
        None,
        &csv,
        NewTask {
            kind: TaskKind::Value,
            survey_version_id: Some(sv),
            response_id: None,
            field_key: None,
            answer_id: None,
            scanned_page_id: None,
            payload: json!({
                "raw": "○",
                "file": "replies.csv",
                "row": 3,
                "column": "q11 24時間の連絡体制",
                "reason": "「○」は「あり」「なし」のどちらでもありません",
            }),
            dedup_key: format!("value:{}:q11", r.id),
        },
    )
    .await
    .unwrap();

    let conflict = conflict_task(conn, &r, page_id, 4).await;

    let (page_task, _) = open_task(
        conn,
        NewTask {
            kind: TaskKind::Page,
            survey_version_id: None,
            response_id: None,
            field_key: None,
            answer_id: None,
            scanned_page_id: Some(unidentified),
            payload: json!({"image": "pages/page-unidentified.png", "file": "fax-20261120.tif", "page_index": 1}),
            dedup_key: format!("page:{unidentified}"),
        },
    )
    .await
    .unwrap();

    let admin = auth::add_user(&db.store, "kanri", Role::Admin, PASSWORD, "test")
        .await
        .unwrap();
    for (name, role) in [
        ("tanaka", Role::Entry),
        ("suzuki", Role::Entry),
        ("etsuran", Role::Viewer),
    ] {
        auth::add_user(&db.store, name, role, PASSWORD, "test")
            .await
            .unwrap();
    }
    Fixture {
        survey_version: sv,
        facility: f,
        response: r,
        page: page_id,
        unidentified_page: unidentified,
        mark,
        write_in,
        value: value.id,
        conflict,
        page_task: page_task.id,
        admin_id: admin.id,
        data: data_dir(),
    }
}

/// The site, served on a free local port for as long as the test runs.
pub struct Server {
    pub url: String,
}

pub async fn start(store: &Store, data: &Path) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = App::new(store.clone(), Config::new(data));
    tokio::spawn(async move {
        axum::serve(listener, router(app)).await.ok();
    });
    Server {
        url: format!("http://{addr}"),
    }
}

/// A browser-like client: keeps cookies, does not follow redirects (tests look at them).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The value of the first hidden `name` field of a page.
pub fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')? + start;
    Some(html[start..end].to_owned())
}

/// The session cookie a response sets, if any.
pub fn session_cookie(resp: &reqwest::Response) -> Option<String> {
    resp.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| {
            let v = v.strip_prefix("capsurvey_session=")?;
            let value = v.split(';').next().unwrap_or("");
            (!value.is_empty()).then(|| value.to_owned())
        })
}

/// Logs in through the login form; returns the POST's response.
pub async fn login(
    c: &reqwest::Client,
    url: &str,
    name: &str,
    password: &str,
) -> reqwest::Response {
    let page = c.get(format!("{url}/login")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let csrf = hidden(&html, "csrf").expect("login form has a csrf field");
    c.post(format!("{url}/login"))
        .form(&[
            ("name", name),
            ("password", password),
            ("csrf", &csrf),
            ("next", "/queue"),
        ])
        .send()
        .await
        .unwrap()
}

/// A logged-in client and the CSRF token of its session.
pub async fn logged_in(url: &str, name: &str) -> (reqwest::Client, String) {
    let c = client();
    let resp = login(&c, url, name, PASSWORD).await;
    assert_eq!(resp.status(), 303, "login of {name}");
    let html = c
        .get(format!("{url}/queue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = hidden(&html, "csrf").expect("pages carry the csrf token");
    (c, csrf)
}

/// GET a page and return its status and body.
pub async fn get(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// POST a form and return its status, Location and body.
pub async fn post(c: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> (u16, String, String) {
    let r = c.post(url).form(form).send().await.unwrap();
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, location, r.text().await.unwrap())
}

/// The lock version shown in a task page's form.
pub fn lock_of(html: &str) -> String {
    hidden(html, "lock").expect("the task form carries the lock version")
}

/// The accepted value of a field.
pub async fn accepted(
    conn: &DatabaseConnection,
    response: i64,
    key: &str,
) -> Option<(Option<Value>, String, Option<String>)> {
    accepted_answer(conn, response, key)
        .await
        .unwrap()
        .map(|a| (decode_value(&a.value).unwrap(), a.source_kind, a.person))
}
