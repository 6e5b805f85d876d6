//! The committed fixtures in `fixtures/scan` decode with the scan crate and agree with their
//! truth files (regenerate them with `cargo run -p capsurvey-faxsim --example make-scan-fixtures`).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use capsurvey_faxsim::{Affine, Identity, PageTruth};
use common::{decode_path, dental, read_code};

#[test]
fn fixtures_match_their_truth() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/scan");
    let (_, layout) = dental();
    let mut truths: BTreeMap<String, Vec<PageTruth>> = BTreeMap::new();
    let mut size = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures/scan exists") {
        let path = entry.unwrap().path();
        size += std::fs::metadata(&path).unwrap().len();
        if path.extension().is_some_and(|e| e == "json") {
            let t = PageTruth::from_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
            truths
                .entry(t.file.clone().expect("fixture truth names its file"))
                .or_default()
                .push(t);
        }
    }
    assert!(size < 1_000_000, "fixtures/scan holds {size} bytes");
    assert!(truths.len() >= 5, "{truths:?}");
    for (file, mut pages) in truths {
        pages.sort_by_key(|t| t.page_index);
        let images = decode_path(&dir.join(&file));
        assert_eq!(images.len(), pages.len(), "{file}");
        for (img, t) in images.iter().zip(&pages) {
            assert_eq!(
                (img.width, img.height),
                (t.output.width, t.output.height),
                "{file}"
            );
            assert!(
                (img.dpi_x - t.output.dpi_x).abs() < 0.1
                    && (img.dpi_y - t.output.dpi_y).abs() < 0.1,
                "{file}"
            );
            let [a, b, c, d, e, f] = t.page_to_pixel;
            let to_px = Affine { a, b, c, d, e, f };
            let areas = layout.pages[0].page_codes;
            let read: Vec<_> = areas
                .iter()
                .filter_map(|area| read_code(img, &to_px, area).ok())
                .collect();
            match &t.identity {
                Identity::Form { code } => {
                    assert!(
                        read.iter().any(|(c, _)| *c == (*code).into()),
                        "{file} page {}: code unreadable",
                        t.page_index
                    )
                }
                _ => assert!(
                    read.is_empty(),
                    "{file} page {}: a code reads",
                    t.page_index
                ),
            }
        }
    }
}
