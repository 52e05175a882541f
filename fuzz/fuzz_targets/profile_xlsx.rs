//! Any bytes through a provider's XLSX report read by its profile (CONTRACT 7.4): the
//! golden case's HUMO profile (a named sheet, a header in row 4, a totals row). Zip
//! archives cut or changed anywhere reach the archive check, calamine's workbook and
//! sheet parsers and the cell conversions.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use sverka_engine::profiles::Profile;
use sverka_engine::ProviderOptions;

fn profile() -> &'static Profile {
    static P: OnceLock<Profile> = OnceLock::new();
    P.get_or_init(|| {
        let toml = include_str!("../../testdata/cases/099-v2-profile-xlsx/providers.toml");
        let mut o = ProviderOptions::default();
        sverka_engine::providers::parse(Path::new("providers.toml"), toml, &mut o)
            .expect("the case's profile");
        o.profiles.remove(0)
    })
}

fuzz_target!(|data: &[u8]| {
    let _ = profile().count_rows(data);
});
