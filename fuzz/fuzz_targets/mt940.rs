//! Any bytes through recognition and the MT940/MT942 reader.
#![no_main]

#[path = "check.rs"]
mod check;

use libfuzzer_sys::fuzz_target;
use sverka_formats::Kind;

fuzz_target!(|data: &[u8]| {
    check::check(data, &[Kind::Mt940]);
});
