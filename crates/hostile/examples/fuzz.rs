//! The stable mutation fuzzer, for as long as asked:
//!
//! ```text
//! cargo run -p capsurvey-hostile --release --example fuzz -- [TARGET…] [--mutations N] [--seed S]
//!     [--seconds T] [--replay FILE…]
//! ```
//!
//! Targets: survey, replies, roster, scan, pagecode, jptext (default: all). Each seed of
//! `fuzz/corpus/<target>/` and `fixtures/hostile/` is mutated N times (default 2000), or until
//! T seconds have passed for each target (the round running is finished). Inputs
//! that panic are saved under the temporary directory (`capsurvey-hostile-findings/`) and
//! listed; the exit status is 1 when there are any. `--replay` runs given files through the
//! targets instead (for a cargo-fuzz artifact, say).

use std::time::Duration;

use capsurvey_hostile::mutate::{Options, fuzz, run_one};
use capsurvey_hostile::{Target, seeds};

fn main() {
    let mut targets = Vec::new();
    let mut opts = Options {
        mutations_per_seed: 2000,
        watchdog: Duration::from_secs(60),
        ..Options::default()
    };
    let mut replay = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mutations" => opts.mutations_per_seed = parse(args.next()),
            "--seed" => opts.seed = parse(args.next()),
            "--seconds" => opts.time_limit = Some(Duration::from_secs(parse(args.next()))),
            "--replay" => replay.extend(args.by_ref()),
            name => match Target::from_name(name) {
                Some(t) => targets.push(t),
                None => {
                    eprintln!(
                        "unknown target `{name}`: survey, replies, roster, scan, pagecode, jptext"
                    );
                    std::process::exit(2);
                }
            },
        }
    }
    if targets.is_empty() {
        targets = Target::ALL.to_vec();
    }
    let mut failed = false;
    if !replay.is_empty() {
        for file in &replay {
            let bytes = std::fs::read(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            for &t in &targets {
                match run_one(t, &bytes) {
                    Ok(()) => println!("[{}] {file}: ok", t.name()),
                    Err(m) => {
                        failed = true;
                        println!("[{}] {file}: PANIC {m}", t.name());
                    }
                }
            }
        }
        std::process::exit(i32::from(failed));
    }
    for t in targets {
        let seeds = seeds(t);
        let s = fuzz(t, &seeds, &opts);
        println!(
            "[{}] {} inputs from {} seeds in {:.1?} ({:.0}/s); slowest {:?}; {} finding(s)",
            t.name(),
            s.execs,
            seeds.len(),
            s.elapsed,
            s.execs as f64 / s.elapsed.as_secs_f64().max(1e-9),
            s.slowest,
            s.findings.len()
        );
        for f in &s.findings {
            failed = true;
            println!("  {f}");
        }
    }
    std::process::exit(i32::from(failed));
}

fn parse<T: std::str::FromStr>(v: Option<String>) -> T {
    v.and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        eprintln!("a number is missing after an option");
        std::process::exit(2)
    })
}
