//! A real browser: headless Chromium driven over WebDriver logs in, resolves an uncertain mark
//! with the keyboard and a write-in by typing digits, and the answers are in the store.
//!
//! Needs Debian's `chromium` and `chromium-driver` (installed by `.ci/run`). Without them this
//! test fails, it does not skip. Screenshots go to `$CARGO_TARGET_TMPDIR/review-screens/`.

#[path = "common/chrome.rs"]
mod chrome;
mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use capsurvey_store::testing::each_backend;
use capsurvey_survey::Value;
use chrome::*;
use common::*;
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, Locator};

async fn press(c: &Client, key: char) {
    let keys = KeyActions::new("keyboard".into())
        .then(KeyAction::Down { value: key })
        .then(KeyAction::Up { value: key });
    c.perform_actions(keys).await.unwrap();
}

async fn wait_for_path(c: &Client, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = c.current_url().await.unwrap();
        if url.path() == want {
            return;
        }
        if Instant::now() > deadline {
            screenshot(c, "failure.png").await;
            let body = c.source().await.unwrap_or_default();
            panic!("expected {want}, still at {url}; page: {body}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn screens() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("review-screens");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn screenshot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    let path = screens().join(name);
    std::fs::write(&path, png).unwrap();
    eprintln!("screenshot: {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_resolves_a_mark_and_a_write_in_in_chromium() {
    let chromedriver = find_program(&["chromedriver"])
        .unwrap_or_else(|| panic!("chromedriver not found; {MISSING}"));
    let chromium = find_program(&["chromium", "chromium-browser"])
        .unwrap_or_else(|| panic!("chromium not found; {MISSING}"));
    each_backend(|db| {
        let (chromedriver, chromium) = (chromedriver.clone(), chromium.clone());
        async move {
            let f = fixture(&db).await;
            let s = start(&db.store, f.data.path()).await;
            let (_driver, driver_url) = start_driver(&chromedriver).await;
            let profile = tempfile::tempdir().unwrap();
            let c = browser(&driver_url, &chromium, profile.path()).await;

            c.goto(&format!("{}/queue", s.url)).await.unwrap();
            wait_for_path(&c, "/login").await;
            screenshot(&c, &format!("login-{}.png", db.backend)).await;
            c.find(Locator::Css("input[name=name]"))
                .await
                .unwrap()
                .send_keys("tanaka")
                .await
                .unwrap();
            c.find(Locator::Css("input[name=password]"))
                .await
                .unwrap()
                .send_keys(PASSWORD)
                .await
                .unwrap();
            c.find(Locator::Css("button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_for_path(&c, "/queue").await;

            // The oldest item is the uncertain mark: crop, highlighted boxes, the guess.
            c.wait()
                .for_element(Locator::Css(".hl:not([hidden])"))
                .await
                .unwrap();
            let guess = c
                .find(Locator::Css(".guess .value"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert_eq!(guess, "2. 外来診療とあわせて実施している", "{}", db.backend);
            screenshot(&c, &format!("queue-mark-{}.png", db.backend)).await;

            // Key 1 chooses option 1 (the person disagrees with the machine) and the next item loads.
            press(&c, '1').await;
            wait_for_path(&c, &format!("/tasks/{}", f.write_in)).await;
            let input = c
                .wait()
                .for_element(Locator::Css("input[name=text]"))
                .await
                .unwrap();
            let focused = c.active_element().await.unwrap();
            assert_eq!(
                focused.attr("name").await.unwrap().as_deref(),
                Some("text"),
                "the input has the focus"
            );
            screenshot(&c, &format!("queue-write-in-{}.png", db.backend)).await;

            // Out of range first: the Japanese message, nothing stored.
            input.send_keys("120\u{E007}").await.unwrap();
            let notice = c
                .wait()
                .for_element(Locator::Css(".notice.error"))
                .await
                .unwrap();
            assert!(
                notice.text().await.unwrap().contains("範囲外"),
                "{}",
                db.backend
            );
            screenshot(&c, &format!("queue-write-in-error-{}.png", db.backend)).await;
            let input = c.find(Locator::Css("input[name=text]")).await.unwrap();
            input.clear().await.unwrap();
            input.send_keys("12\u{E007}").await.unwrap();
            wait_for_path(&c, &format!("/tasks/{}", f.value)).await;
            screenshot(&c, &format!("queue-value-{}.png", db.backend)).await;

            // The other kinds render too (looked at, not decided here).
            c.goto(&format!("{}/tasks/{}", s.url, f.conflict))
                .await
                .unwrap();
            screenshot(&c, &format!("queue-conflict-{}.png", db.backend)).await;
            c.goto(&format!("{}/tasks/{}", s.url, f.page_task))
                .await
                .unwrap();
            screenshot(&c, &format!("queue-page-{}.png", db.backend)).await;
            c.goto(&format!("{}/accuracy?survey=mini", s.url))
                .await
                .unwrap();
            screenshot(&c, &format!("accuracy-{}.png", db.backend)).await;
            c.goto(&format!("{}/responses/{}", s.url, f.response.id))
                .await
                .unwrap();
            screenshot(&c, &format!("response-{}.png", db.backend)).await;
            // Log out (the form in the header), log in as the admin, look at the accounts page.
            c.find(Locator::Css("header form button"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_for_path(&c, "/login").await;
            c.find(Locator::Css("input[name=name]"))
                .await
                .unwrap()
                .send_keys("kanri")
                .await
                .unwrap();
            c.find(Locator::Css("input[name=password]"))
                .await
                .unwrap()
                .send_keys(PASSWORD)
                .await
                .unwrap();
            c.find(Locator::Css("button[type=submit]"))
                .await
                .unwrap()
                .click()
                .await
                .unwrap();
            wait_for_path(&c, "/queue").await;
            c.goto(&format!("{}/users", s.url)).await.unwrap();
            screenshot(&c, &format!("users-{}.png", db.backend)).await;
            c.close().await.ok();

            let conn = db.store.db();
            let (q08, source, person) = accepted(conn, f.response.id, "q08").await.unwrap();
            assert_eq!(q08, Some(Value::Choice("1".into())), "{}", db.backend);
            assert_eq!(
                (source.as_str(), person.as_deref()),
                ("person", Some("tanaka"))
            );
            let (q04, _, person) = accepted(conn, f.response.id, "q04.full").await.unwrap();
            assert_eq!(q04, Some(Value::Int(12)));
            assert_eq!(person.as_deref(), Some("tanaka"));
            db
        }
    })
    .await;
}
