//! Times page generation per profile (build with `--release` for meaningful numbers).
//!
//! `cargo run --release -p capsurvey-faxsim --example timing [PAGES] [PROFILE]` (a profile name
//! such as `FaxStandard` limits the run to it).

use std::time::Instant;

use capsurvey_faxsim::{PageCode, Profile, random_answers, simulate_reply};

fn main() {
    let pages: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let only = std::env::args().nth(2);
    let parsed =
        capsurvey_survey::parse_survey("dental.toml", include_str!("../../../surveys/dental.toml"))
            .expect("survey");
    let layout = capsurvey_forms::form::layout(&parsed.survey, &parsed.content_hash);
    let code = |page| PageCode {
        survey_version_id: 1,
        mailing_id: 1,
        page,
    };
    for profile in [
        Profile::FaxStandard,
        Profile::FaxFine,
        Profile::Scan200Grey,
        Profile::Scan300Grey,
        Profile::Scan200Color,
    ] {
        if only.as_ref().is_some_and(|o| *o != format!("{profile:?}")) {
            continue;
        }
        let start = Instant::now();
        let mut n = 0;
        let mut seed = 0;
        while n < pages {
            let answers = random_answers(&parsed.survey, seed);
            n += simulate_reply(&layout, &parsed.survey, code, &answers, profile, seed).len();
            seed += 1;
        }
        let per_page = start.elapsed().as_secs_f64() * 1000.0 / n as f64;
        println!("{profile:?}: {per_page:.1} ms per page ({n} pages)");
    }
}
