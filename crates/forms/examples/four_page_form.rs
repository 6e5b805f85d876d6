//! Writes the four-page test form and reports its size and the time per write.
//!
//! `cargo run --release -p capsurvey-forms --example four_page_form [out.pdf]`

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Instant;

use capsurvey_forms::DocumentInfo;
use capsurvey_forms::pdf::{write_all, write_combined};

fn main() {
    let t = Instant::now();
    let (doc, chars) = common::survey_form("医療法人社団さくら会 世田谷さくら歯科クリニック", 427);
    let layout = t.elapsed();
    let pdf = doc.to_pdf().expect("write");
    let runs = 200;
    let t = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(doc.to_pdf().expect("write"));
    }
    let per_write = t.elapsed() / runs;
    println!(
        "4 pages, {chars} characters: {} bytes; layout (first, incl. font parse) {layout:?}; write {per_write:?}",
        pdf.len()
    );

    let t = Instant::now();
    let docs: Vec<_> = (0..200)
        .map(|i| common::survey_form(&format!("訪問看護ステーション第{i}事業所"), i).0)
        .collect();
    let layout = t.elapsed();
    let t = Instant::now();
    let files = write_all(&docs);
    let write = t.elapsed();
    let bytes: usize = files.iter().map(|f| f.as_ref().expect("write").len()).sum();
    println!("200 facilities: layout {layout:?}, write_all {write:?}, {bytes} bytes in total");
    let t = Instant::now();
    let combined = write_combined(&DocumentInfo::new("調査票 印刷用"), &docs).expect("write");
    println!(
        "combined print file of 800 pages: {} bytes in {:?}",
        combined.len(),
        t.elapsed()
    );

    if let Some(path) = std::env::args().nth(1) {
        std::fs::write(&path, &pdf).expect("write file");
        println!("wrote {path}");
    }
}
