//! Roster lists and area maps: `capsurvey_roster::parse`, `detect`, `AreaMap::parse`.
//! The checks live in `capsurvey_hostile::targets`, shared with the stable mutation run.
#![no_main]

use capsurvey_hostile::Target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    Target::Roster.run(data);
});
