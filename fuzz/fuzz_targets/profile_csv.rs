//! Any bytes through a provider's CSV report read by its profile (CONTRACT 7.4): the
//! golden case's UZCARD profile (Windows-1251, `;`, a title block, a totals line) and the
//! same layout declared as UTF-8 and as UTF-16 (the decoders that can meet bytes they do
//! not have).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use sverka_engine::profiles::Profile;
use sverka_engine::ProviderOptions;

fn profiles() -> &'static [Profile] {
    static P: OnceLock<Vec<Profile>> = OnceLock::new();
    P.get_or_init(|| {
        let toml = include_str!("../../testdata/cases/098-v2-profile-csv/providers.toml");
        ["windows-1251", "utf-8", "utf-16"]
            .iter()
            .map(|enc| {
                let text = toml.replace("\"windows-1251\"", &format!("\"{enc}\""));
                let mut o = ProviderOptions::default();
                sverka_engine::providers::parse(Path::new("providers.toml"), &text, &mut o)
                    .expect("a valid profile");
                o.profiles.remove(0)
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    for p in profiles() {
        let _ = p.count_rows(data);
    }
});
