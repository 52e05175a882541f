//! Any bytes through a provider's CSV report read by its profile (CONTRACT 7.4): the
//! golden case's UZCARD profile (Windows-1251, `;`, a title block, a totals line) and the
//! same layout declared as UTF-8 and as UTF-16 (the decoders that can meet bytes they do
//! not have).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use sverka_engine::profiles::Profile;

fn profiles() -> &'static [Profile] {
    static P: OnceLock<Vec<Profile>> = OnceLock::new();
    P.get_or_init(|| {
        let toml = include_str!("../../testdata/cases/098-v2-profile-csv/providers.toml");
        let body = toml
            .split("[providers.UZCARD.settlements]")
            .nth(1)
            .expect("the case's profile")
            .replace("[providers.UZCARD.settlements.", "[");
        ["windows-1251", "utf-8", "utf-16"]
            .iter()
            .map(|enc| {
                let b = body.replace("\"windows-1251\"", &format!("\"{enc}\""));
                Profile::parse("UZCARD", &b).expect("a valid profile")
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for p in profiles() {
        let _ = p.count_rows(data);
    }
});
