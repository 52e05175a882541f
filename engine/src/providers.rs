//! The providers file as `sverka reconcile --providers` reads it: each provider's
//! `statement_accounts` (CONTRACT 7.2), which say who sent a bank statement. The same
//! file carries `sverka disburse`'s payment-file keys, which are accepted here and read by
//! disburse; any other key is an error naming it (a typo must not silently drop an
//! account). Each provider may describe its own report layout (CONTRACT 7.4,
//! [`crate::profiles`]). Every problem is exit 2 naming the file, the key and the fix.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::ingest::ProviderOptions;
use crate::profiles::Profile;
use crate::schema::Side;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    providers: BTreeMap<String, ProviderToml>,
    /// disburse's programme caps.
    #[serde(default)]
    #[allow(dead_code)]
    programs: Option<toml::Table>,
    /// Payroll layouts of other systems (`[instructions.NAME]`, [`crate::profiles`]).
    #[serde(default)]
    instructions: BTreeMap<String, crate::profiles::ProfileToml>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct ProviderToml {
    #[serde(default)]
    statement_accounts: Vec<String>,
    /// The provider's own report layout (CONTRACT 7.4).
    settlements: Option<crate::profiles::ProfileToml>,
    // disburse's keys (docs/DISBURSE.md), checked by disburse.
    account_kind: Option<toml::Value>,
    country: Option<toml::Value>,
    format: Option<toml::Value>,
    batch_size: Option<toml::Value>,
    debtor_name: Option<toml::Value>,
    debtor_account: Option<toml::Value>,
    debtor_agent_bic: Option<toml::Value>,
    creditor_agent_bic: Option<toml::Value>,
}

/// A provider code as CONTRACT 7.2 allows it: 1 to 32 letters, digits, `_` or `-`.
pub fn usable_code(code: &str) -> bool {
    (1..=32).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Reads the statement accounts of a providers file into `opts`.
pub fn load(path: &Path, opts: &mut ProviderOptions) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::input(
            path,
            format!("cannot read the providers file: {e}; check --providers"),
        )
    })?;
    parse(path, &text, opts)
}

pub fn parse(path: &Path, text: &str, opts: &mut ProviderOptions) -> Result<()> {
    let bad = |m: String| Error::input(path, m);
    let raw: FileToml =
        toml::from_str(text).map_err(|e| bad(format!("not a valid providers file: {e}")))?;
    let mut accounts: HashMap<String, String> = HashMap::new();
    let mut profiles = Vec::new();
    for (code, p) in raw.providers {
        if !usable_code(&code) {
            return Err(bad(format!(
                "provider code {code:?} must be 1 to 32 letters, digits, '_' or '-'"
            )));
        }
        if let Some(profile) = p.settlements {
            profiles.push(Profile::from_toml(Side::Settlements, &code, profile).map_err(bad)?);
        }
        for a in &p.statement_accounts {
            let key = ProviderOptions::key(a);
            if key.is_empty() {
                return Err(bad(format!(
                    "[providers.{code}] statement_accounts has an empty account; remove it"
                )));
            }
            if let Some(other) = accounts.insert(key, code.clone()) {
                return Err(bad(format!(
                    "account {a:?} is in the statement_accounts of both {other} and {code}; \
                     a statement's account must name one provider"
                )));
            }
        }
    }
    for (name, profile) in raw.instructions {
        if !usable_code(&name) {
            return Err(bad(format!(
                "[instructions.{name}]: a layout's name must be 1 to 32 letters, digits, '_' \
                 or '-' (it names the format of the files it reads, profile:NAME)"
            )));
        }
        profiles.push(Profile::from_toml(Side::Instructions, &name, profile).map_err(bad)?);
    }
    opts.accounts = accounts;
    opts.profiles = profiles;
    opts.providers_file = Some(path.to_path_buf());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<ProviderOptions> {
        let mut o = ProviderOptions::default();
        parse(Path::new("p.toml"), text, &mut o).map(|()| o)
    }

    #[test]
    fn accounts_are_found_without_spaces_in_upper_case() {
        let o = parsed(
            "[providers.HAMKOR]\naccount_kind = \"any\"\nformat = \"csv\"\nstatement_accounts = [\"de89 3704 0044 0532 0130 00\"]\n[providers.PAYME]\nstatement_accounts = [\"20210000900100001001\"]\n",
        )
        .unwrap();
        assert_eq!(o.accounts["DE89370400440532013000"], "HAMKOR");
        assert_eq!(o.accounts["20210000900100001001"], "PAYME");
    }

    #[test]
    fn the_example_file_reads_for_reconcile_too() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/providers.example.toml");
        let mut o = ProviderOptions::default();
        load(&p, &mut o).unwrap();
        assert_eq!(o.accounts["20210000900100001001"], "HAMKOR");
        let codes: Vec<&str> = o.profiles.iter().map(|p| p.code.as_str()).collect();
        assert_eq!(codes, ["HUMO", "MPESA_KE", "UZCARD"]);
        let uzcard = &o.profiles[2];
        assert!(uzcard.claims("uzcard-2026-11.csv"));
        assert_eq!(uzcard.status_of("Возврат"), Some("RETURNED"));
        assert_eq!(o.profiles[0].layout, crate::profiles::Layout::Xlsx);
    }

    #[test]
    fn a_typo_or_a_shared_account_is_an_error_naming_it() {
        let e = parsed("[providers.X]\nstatement_acounts = [\"1\"]\n").unwrap_err();
        assert!(e.to_string().contains("statement_acounts"), "{e}");
        let e = parsed(
            "[providers.A]\nstatement_accounts = [\"1\"]\n[providers.B]\nstatement_accounts = [\" 1 \"]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("both A and B"), "{e}");
        let e = parsed("[providers.A.settlements]\nfiles = [\"a*.csv\"]\nencoding = \"koi8-r\"\n[providers.A.settlements.columns]\n").unwrap_err();
        assert!(
            e.to_string().contains("p.toml")
                && e.to_string().contains("[providers.A.settlements] encoding"),
            "{e}"
        );
    }
}
