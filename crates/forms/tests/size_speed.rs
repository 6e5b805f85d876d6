//! The size and speed budget: a 4-page form with about 2,000 Japanese characters
//! must stay well under 100 KB and take milliseconds to write.

mod common;

use std::time::Instant;

use capsurvey_forms::pdf::write_pages;
use capsurvey_forms::{DocumentInfo, Page};

#[test]
fn four_page_form_is_small_and_fast() {
    let (doc, chars) = common::survey_form("医療法人社団さくら会 世田谷さくら歯科クリニック", 427);
    assert_eq!(doc.pages().len(), 4);
    assert!(chars >= 1_800, "only {chars} characters");
    let pdf = doc.to_pdf().unwrap();
    // Repeat to time the steady state (font already parsed).
    let runs = 20;
    let t = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(doc.to_pdf().unwrap());
    }
    let per_doc = t.elapsed() / runs;
    eprintln!(
        "4-page form: {chars} characters, {} bytes, {per_doc:?} per write",
        pdf.len()
    );
    assert!(pdf.len() < 100_000, "{} bytes", pdf.len());
    // Generous for a debug build of this crate (dependencies are optimised in dev).
    assert!(per_doc.as_millis() < 200, "{per_doc:?}");
}

#[test]
fn pages_can_be_written_as_a_subset_of_a_document() {
    let (doc, _) = common::survey_form("テスト診療所", 1);
    let pages: Vec<&Page> = doc.pages().iter().take(2).collect();
    let two = write_pages(&DocumentInfo::new("2ページ"), &pages).unwrap();
    let four = doc.to_pdf().unwrap();
    assert!(two.len() < four.len());
    assert!(matches!(
        write_pages(&DocumentInfo::default(), &[]),
        Err(capsurvey_forms::Error::NoPages)
    ));
}
