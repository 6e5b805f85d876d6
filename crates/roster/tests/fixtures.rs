//! The committed fixtures are what the generator writes, and each is recognised by its header.

mod common;
#[allow(dead_code)]
#[path = "../examples/make-roster-fixtures.rs"]
mod gen_fixtures;

use capsurvey_jptext::Encoding;
use capsurvey_roster::{Layout, ParseOptions, SourceEncoding, detect, parse};
use common::fixture;

#[test]
fn committed_fixtures_match_a_fresh_run() {
    let dir = tempfile::tempdir().unwrap();
    for path in gen_fixtures::generate(dir.path()).unwrap() {
        let name = path.file_name().unwrap().to_str().unwrap();
        let fresh = std::fs::read(&path).unwrap();
        let committed = std::fs::read(fixture(name)).unwrap_or_default();
        assert!(
            fresh == committed,
            "fixtures/roster/{name} differs from the generator's output: \
             run `cargo run -p capsurvey-roster --example make-roster-fixtures`"
        );
    }
    // And twice in a row gives the same bytes.
    let again = tempfile::tempdir().unwrap();
    for path in gen_fixtures::generate(again.path()).unwrap() {
        let name = path.file_name().unwrap();
        assert_eq!(
            std::fs::read(&path).unwrap(),
            std::fs::read(dir.path().join(name)).unwrap()
        );
    }
}

#[test]
fn each_fixture_is_recognised_by_its_header() {
    use gen_fixtures as fx;
    let utf8_bom = SourceEncoding::Text(Encoding::Utf8Bom);
    // One row per filing on the bureau lists.
    let ika_rows: usize = (0..=fx::CLINIC_NAVII)
        .filter(|&i| fx::clinic_on_bureau(i))
        .map(|i| fx::clinic_filings(i).len())
        .sum::<usize>()
        + 2;
    let shika_rows: usize = (0..fx::DENTAL_NAVII + 2)
        .filter(|&i| fx::dental_on_bureau(i))
        .map(|i| fx::dental_filings(i).len())
        .sum();
    let expected = [
        (Layout::Navii, utf8_bom, 36, 36),
        (Layout::Navii, utf8_bom, 42, 41),
        (Layout::Kaigo, utf8_bom, 32, 32),
        (Layout::Kouseikyoku, SourceEncoding::Xlsx, ika_rows, 30),
        (Layout::Kouseikyoku, SourceEncoding::Xlsx, shika_rows, 26),
        (
            Layout::Local,
            SourceEncoding::Text(Encoding::ShiftJis),
            9,
            8,
        ),
    ];
    for (name, (layout, encoding, rows, records)) in gen_fixtures::FILES.iter().zip(expected) {
        let bytes = std::fs::read(fixture(name)).unwrap();
        assert_eq!(detect(&bytes).unwrap(), (layout, encoding), "{name}");
        // Renamed, it is still the same layout: the name plays no part.
        let p = parse(&bytes, &ParseOptions::default()).unwrap();
        assert_eq!((p.rows_read, p.records.len()), (rows, records), "{name}");
    }
}
