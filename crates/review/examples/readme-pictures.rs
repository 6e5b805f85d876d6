//! Makes the README's pictures from a demo folder: a generated form page, a faxed page as it
//! arrived, the review page on an uncertain mark, and the first page of a handout.
//!
//! ```sh
//! cargo run --release -- demo --out demo-out
//! cargo run --release -p capsurvey-review --example readme-pictures -- demo-out docs/images
//! ```
//!
//! Needs pdftoppm (poppler-utils), chromium and chromium-driver, as the tests do.

#[path = "../tests/common/chrome.rs"]
mod chrome;

use std::path::{Path, PathBuf};
use std::process::Command;

use capsurvey_review::{App, Config, router};
use capsurvey_store::entity::review_tasks;
use capsurvey_store::sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use capsurvey_store::users::{Role, create_user};
use fantoccini::Locator;

fn first_file(dir: &Path, ext: &str) -> PathBuf {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|x| x.to_str()) == Some(ext))
        .collect();
    files.sort();
    files.into_iter().next().expect("a file")
}

/// A 1-bit fax page at half size (2 × 2 pixels averaged), as PNG.
fn fax_picture(fax: &Path, page: usize) -> Vec<u8> {
    let page = capsurvey_scan::open(fax)
        .unwrap()
        .nth(page)
        .unwrap()
        .unwrap();
    let (w, h) = (page.width / 2, page.height / 2);
    let mut half = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            let (x, y) = (x * 2, y * 2);
            let sum: u32 = [(x, y), (x + 1, y), (x, y + 1), (x + 1, y + 1)]
                .iter()
                .map(|&(a, b)| u32::from(page.get(a, b).unwrap_or(255)))
                .sum();
            half.push((sum / 4) as u8);
        }
    }
    let small = capsurvey_scan::PageImage::new(w, h, page.dpi_x / 2.0, page.dpi_y / 2.0, half);
    capsurvey_scan::encode_png(&small).unwrap()
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let demo = PathBuf::from(args.get(1).map_or("demo-out", String::as_str));
    let out = PathBuf::from(args.get(2).map_or("docs/images", String::as_str));
    std::fs::create_dir_all(&out).unwrap();

    // 1. A form page (page 2 of the first dental form) through a real PDF renderer.
    let form = first_file(&demo.join("forms/dental"), "pdf");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "2", "-l", "2", "-singlefile"])
        .arg(&form)
        .arg(out.join("form-page"))
        .status()
        .expect("pdftoppm (poppler-utils)");
    assert!(status.success());

    // 2. A faxed page as it arrived (fine resolution, 1-bit).
    std::fs::write(
        out.join("fax-page.png"),
        fax_picture(&demo.join("inbox/fax-0003.tif"), 1),
    )
    .unwrap();

    // 3. The review page on the oldest uncertain mark, in Chromium.
    let store = capsurvey_store::Store::open(&demo.join("capsurvey.db").display().to_string())
        .await
        .unwrap();
    let password = "readme-pictures-2026";
    let hash = capsurvey_review::auth::hash_password(password).unwrap();
    let name = format!("pictures{}", std::process::id());
    create_user(store.db(), &name, Role::Entry, &hash, "readme-pictures")
        .await
        .unwrap();
    let task = review_tasks::Entity::find()
        .filter(review_tasks::Column::Kind.eq("mark"))
        .filter(review_tasks::Column::Status.eq("open"))
        .order_by_asc(review_tasks::Column::Id)
        .one(store.db())
        .await
        .unwrap()
        .expect("the demo leaves uncertain marks");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = App::new(store.clone(), Config::new(demo.join("data")));
    tokio::spawn(async move { axum::serve(listener, router(app)).await.ok() });
    let chromedriver = chrome::find_program(&["chromedriver"]).expect("chromedriver");
    let chromium = chrome::find_program(&["chromium", "chromium-browser"]).expect("chromium");
    let (_driver, driver_url) = chrome::start_driver(&chromedriver).await;
    let profile = tempfile::tempdir().unwrap();
    let c = chrome::browser(&driver_url, &chromium, profile.path()).await;
    c.goto(&format!("{url}/login")).await.unwrap();
    let field = |css: &'static str| c.find(Locator::Css(css));
    field("input[name=name]")
        .await
        .unwrap()
        .send_keys(&name)
        .await
        .unwrap();
    field("input[name=password]")
        .await
        .unwrap()
        .send_keys(password)
        .await
        .unwrap();
    field("button[type=submit]")
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    c.goto(&format!("{url}/tasks/{}", task.id)).await.unwrap();
    c.wait()
        .for_element(Locator::Css(".hl:not([hidden])"))
        .await
        .unwrap();
    std::fs::write(out.join("review-mark.png"), c.screenshot().await.unwrap()).unwrap();

    // 4. The handout's first page.
    let handout = std::fs::canonicalize(demo.join("handouts/dental.html")).unwrap();
    c.goto(&format!("file://{}", handout.display()))
        .await
        .unwrap();
    std::fs::write(out.join("handout.png"), c.screenshot().await.unwrap()).unwrap();
    c.close().await.ok();
    println!("pictures written to {}", out.display());
}
