//! The short fuzz run of CI: every file of `fixtures/hostile/` through every reader, then for
//! each target every seed of `fuzz/corpus/<target>/` and every hostile file, as they are and
//! mutated a fixed number of times (seed 1). No input may panic. A few seconds in all; for
//! longer runs use `cargo run -p capsurvey-hostile --release --example fuzz` or cargo-fuzz
//! (`fuzz/README.md`).
//!
//! One test, run serially: a panic on a reader's own thread is told apart from another test's
//! failure only when nothing else runs in this process.
//!
//! `CAPSURVEY_FUZZ_SCALE` multiplies the mutations per seed (default 1), `CAPSURVEY_FUZZ_SEED`
//! sets the seed.

use capsurvey_hostile::mutate::{Options, fuzz, run_one};
use capsurvey_hostile::{Target, corpus_dir, hostile_dir, read_dir_files, seeds};

fn env<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Mutations per seed: the slow targets (a scratch file and a thread per reply file) get fewer.
fn mutations(target: Target) -> usize {
    match target {
        Target::Survey => 200,
        Target::Replies => 30,
        Target::Roster => 60,
        Target::Scan => 300,
        Target::PageCode => 3000,
        Target::Jptext => 200,
    }
}

#[test]
fn fuzz_smoke() {
    let mut report = Vec::new();
    // Each reader against every other reader's bad input too.
    for (name, bytes) in read_dir_files(&hostile_dir()) {
        for target in Target::ALL {
            if let Err(panic) = run_one(target, &bytes) {
                report.push(format!(
                    "fixtures/hostile/{name} through {}: {panic}",
                    target.name()
                ));
            }
        }
    }
    let scale: usize = env("CAPSURVEY_FUZZ_SCALE").unwrap_or(1);
    for target in Target::ALL {
        assert!(
            !read_dir_files(&corpus_dir(target)).is_empty(),
            "no seeds in {}",
            corpus_dir(target).display()
        );
        let seeds = seeds(target);
        let opts = Options {
            mutations_per_seed: mutations(target) * scale,
            seed: env("CAPSURVEY_FUZZ_SEED").unwrap_or(1),
            ..Options::default()
        };
        let summary = fuzz(target, &seeds, &opts);
        eprintln!(
            "[{}] {} inputs from {} seeds in {:.1?}; slowest {:?}",
            target.name(),
            summary.execs,
            seeds.len(),
            summary.elapsed,
            summary.slowest
        );
        report.extend(summary.findings.iter().map(|f| f.to_string()));
    }
    assert!(report.is_empty(), "{}", report.join("\n\n"));
}
