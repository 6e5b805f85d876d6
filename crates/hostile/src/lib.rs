//! Bad input for every reader of capsurvey.
//!
//! - [`targets`]: one entry point per reader (survey definitions, reply files, roster lists,
//!   page images, page codes, Japanese text). Each takes any bytes and panics only when the
//!   reader panics or breaks a promise (an error that does not name the file, a result that
//!   depends on the block size, …).
//! - [`mutate`]: a deterministic mutation fuzzer on stable Rust that feeds the targets with the
//!   seed corpora in `fuzz/corpus/<target>/` and the hostile files in `fixtures/hostile/`,
//!   catching panics per input. `tests/fuzz_smoke.rs` runs it for a few seconds inside
//!   `cargo test --workspace`; `examples/fuzz.rs` runs it for as long as asked.
//! - The cargo-fuzz targets in `fuzz/` (a workspace of their own) call the same functions under
//!   libFuzzer: `cargo +stable fuzz run <target> -s none` (see `fuzz/README.md`).
//! - `examples/make-hostile-fixtures.rs` writes `fixtures/hostile/` and the seed corpora;
//!   `tests/hostile.rs` checks the error every hostile file gives.

#![warn(missing_docs)]

pub mod mutate;
pub mod targets;

use std::path::{Path, PathBuf};

pub use targets::Target;

/// The repository root (where `fixtures/` and `fuzz/` are).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The seed corpus folder of a target: `fuzz/corpus/<name>/`.
pub fn corpus_dir(target: Target) -> PathBuf {
    repo_root().join("fuzz/corpus").join(target.name())
}

/// The committed hostile files: `fixtures/hostile/`.
pub fn hostile_dir() -> PathBuf {
    repo_root().join("fixtures/hostile")
}

/// The files of a folder (not recursive), sorted by name, with their bytes. A missing folder
/// gives nothing.
pub fn read_dir_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (!name.starts_with('.') && name != "README.md")
                .then(|| std::fs::read(e.path()).ok().map(|b| (name, b)))
                .flatten()
        })
        .collect();
    out.sort();
    out
}

/// The seeds of a target: its corpus folder, then every hostile file (each reader must cope
/// with the others' bad input too).
pub fn seeds(target: Target) -> Vec<(String, Vec<u8>)> {
    let mut out = read_dir_files(&corpus_dir(target));
    out.extend(
        read_dir_files(&hostile_dir())
            .into_iter()
            .map(|(n, b)| (format!("hostile/{n}"), b)),
    );
    out
}

/// The shipped survey definitions, compiled in (the reply reader needs a catalogue).
pub fn shipped_surveys() -> [(&'static str, &'static str); 3] {
    [
        ("dental", include_str!("../../../surveys/dental.toml")),
        (
            "homecare-clinic",
            include_str!("../../../surveys/homecare-clinic.toml"),
        ),
        (
            "visiting-nurse",
            include_str!("../../../surveys/visiting-nurse.toml"),
        ),
    ]
}
