//! Page files: `capsurvey_scan::open_bytes`, then every page (small pages also through `identify`).
//! The checks live in `capsurvey_hostile::targets`, shared with the stable mutation run.
#![no_main]

use capsurvey_hostile::Target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    Target::Scan.run(data);
});
