//! Any bytes through recognition and the ISO 20022 readers (camt.053, camt.054, pain.002).
#![no_main]

#[path = "check.rs"]
mod check;

use libfuzzer_sys::fuzz_target;
use sverka_formats::Kind;

fuzz_target!(|data: &[u8]| {
    check::check(data, &[Kind::Camt053, Kind::Camt054, Kind::Pain002]);
});
