//! The committed reply fixtures are what the generator writes: regenerate them with
//! `cargo run -p capsurvey-tabular --example make-reply-fixtures` after changing it.

#[path = "../examples/make-reply-fixtures.rs"]
mod make_reply_fixtures;

use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn committed_fixtures_match_the_generator() {
    let committed = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/replies");
    let fresh = tempfile::tempdir().unwrap();
    make_reply_fixtures::generate(fresh.path());
    let names = files(fresh.path());
    assert_eq!(names, files(&committed), "the same files");
    for name in names {
        let a = std::fs::read(fresh.path().join(&name)).unwrap();
        let b = std::fs::read(committed.join(&name)).unwrap();
        assert!(
            a == b,
            "fixtures/replies/{} differs from the generator's output: run \
             `cargo run -p capsurvey-tabular --example make-reply-fixtures`",
            name.display()
        );
    }
}
