//! Any bytes through a provider's XLSX report read by its profile (CONTRACT 7.4): the
//! golden case's HUMO profile (a named sheet, a header in row 4, a totals row). Zip
//! archives cut or changed anywhere reach the archive check, calamine's workbook and
//! sheet parsers and the cell conversions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use sverka_engine::profiles::Profile;

fn profile() -> &'static Profile {
    static P: OnceLock<Profile> = OnceLock::new();
    P.get_or_init(|| {
        let toml = include_str!("../../testdata/cases/099-v2-profile-xlsx/providers.toml");
        let body = toml
            .split("[providers.HUMO.settlements]")
            .nth(1)
            .expect("the case's profile")
            .replace("[providers.HUMO.settlements.", "[");
        Profile::parse("HUMO", &body).expect("a valid profile")
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = profile().count_rows(data);
});
