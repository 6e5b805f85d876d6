//! Survey definitions: `capsurvey_survey::parse_survey_bytes` (and `parse_survey` on UTF-8).
//! The checks live in `capsurvey_hostile::targets`, shared with the stable mutation run.
#![no_main]

use capsurvey_hostile::Target;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    Target::Survey.run(data);
});
