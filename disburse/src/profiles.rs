//! Provider profiles and programme caps, read from a TOML file (layout documented in
//! `schemas/providers.example.toml` and docs/DISBURSE.md). Every problem in the file is
//! an exit-2 error naming the file, the key and what to write instead.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sverka_engine::currency::{self, Ccy};
use sverka_engine::{money, Error, Result};

use crate::accounts::{self, AccountKind};

/// How a provider wants its payment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The CSV layout of docs/DISBURSE.md.
    Csv,
    /// ISO 20022 pain.001.001.09 customer credit transfer initiation.
    Pain001,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Pain001 => "pain001",
        }
    }
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Pain001 => "xml",
        }
    }
}

/// A debtor account as pain.001 carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountId {
    Iban(String),
    Other(String),
}

#[derive(Debug, Clone)]
pub struct Provider {
    pub code: String,
    pub account_kind: AccountKind,
    pub country: Option<String>,
    pub format: Format,
    pub batch_size: Option<usize>,
    pub debtor_name: Option<String>,
    pub debtor_account: Option<AccountId>,
    pub debtor_agent_bic: Option<String>,
    pub creditor_agent_bic: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct Profiles {
    /// None: no --providers file; every provider gets [`Profiles::default_for`].
    pub source: Option<PathBuf>,
    pub providers: BTreeMap<String, Provider>,
    /// programme → currency → cap in minor units.
    pub caps: BTreeMap<String, BTreeMap<Ccy, i128>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileToml {
    #[serde(default)]
    providers: BTreeMap<String, ProviderToml>,
    #[serde(default)]
    programs: BTreeMap<String, ProgramToml>,
    /// reconcile's payroll layouts (`[instructions.NAME]`), checked by the engine.
    #[serde(default)]
    #[allow(dead_code)]
    instructions: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProviderToml {
    account_kind: String,
    country: Option<String>,
    format: String,
    batch_size: Option<usize>,
    debtor_name: Option<String>,
    debtor_account: Option<String>,
    debtor_agent_bic: Option<String>,
    creditor_agent_bic: Option<String>,
    /// Read by `sverka reconcile --providers` (sverka_engine::providers), not here.
    #[serde(default, rename = "statement_accounts")]
    _statement_accounts: Vec<String>,
    /// The provider's report layout (CONTRACT 7.4), read by reconcile.
    #[serde(default, rename = "settlements")]
    _settlements: Option<toml::Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProgramToml {
    #[serde(default)]
    caps: BTreeMap<String, String>,
}

/// A provider code is used in file names: the engine's rule for codes (CONTRACT 7.2).
pub use sverka_engine::providers::usable_code;

/// BICFI of ISO 9362 as the pain.001.001.09 XSD states it.
pub fn is_bic(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..4]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[4..6].iter().all(|c| c.is_ascii_uppercase())
        && b[6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

impl Profiles {
    /// The profile of a provider when no --providers file is given: CSV layout, no
    /// account check, no batch size.
    pub fn default_for(code: &str) -> Provider {
        Provider {
            code: code.to_string(),
            account_kind: AccountKind::Any,
            country: None,
            format: Format::Csv,
            batch_size: None,
            debtor_name: None,
            debtor_account: None,
            debtor_agent_bic: None,
            creditor_agent_bic: None,
        }
    }

    pub fn load(path: &Path) -> Result<Profiles> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::input(
                path,
                format!("cannot read the providers file: {e}; check --providers"),
            )
        })?;
        Profiles::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Profiles> {
        let bad = |m: String| Error::input(path, m);
        let raw: FileToml =
            toml::from_str(text).map_err(|e| bad(format!("not a valid providers file: {e}")))?;
        let mut providers = BTreeMap::new();
        for (code, p) in raw.providers {
            let key = |k: &str| format!("[providers.{code}] {k}");
            if !usable_code(&code) {
                return Err(bad(format!(
                    "provider code {code:?} must be 1 to 32 letters, digits, '_' or '-' (it names payment files)"
                )));
            }
            let account_kind = AccountKind::parse(&p.account_kind).ok_or_else(|| {
                bad(format!(
                    "{} = {:?}: write \"iban\", \"card\", \"wallet\" or \"any\"",
                    key("account_kind"),
                    p.account_kind
                ))
            })?;
            let format = match p.format.as_str() {
                "csv" => Format::Csv,
                "pain001" => Format::Pain001,
                other => {
                    return Err(bad(format!(
                        "{} = {other:?}: write \"csv\" or \"pain001\"",
                        key("format")
                    )))
                }
            };
            if let Some(c) = &p.country {
                if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                    return Err(bad(format!(
                        "{} = {c:?}: an ISO 3166 alpha-2 code such as \"UZ\"",
                        key("country")
                    )));
                }
            }
            if account_kind == AccountKind::Wallet {
                let c = p.country.as_deref().unwrap_or("");
                if accounts::e164_entry(c).is_none() {
                    return Err(bad(format!(
                        "{}: a wallet provider needs a country with a known mobile numbering plan ({})",
                        key("country"),
                        accounts::E164.iter().map(|e| e.0).collect::<Vec<_>>().join(", ")
                    )));
                }
            }
            if p.batch_size == Some(0) {
                return Err(bad(format!("{} must be at least 1", key("batch_size"))));
            }
            let text_field = |k: &str, v: &Option<String>, max: usize| -> Result<()> {
                if let Some(v) = v {
                    if v.trim().is_empty() || v.chars().count() > max {
                        return Err(bad(format!("{} must be 1 to {max} characters", key(k))));
                    }
                }
                Ok(())
            };
            text_field("debtor_name", &p.debtor_name, 140)?;
            for (k, v) in [
                ("debtor_agent_bic", &p.debtor_agent_bic),
                ("creditor_agent_bic", &p.creditor_agent_bic),
            ] {
                if let Some(b) = v {
                    if !is_bic(b) {
                        return Err(bad(format!(
                            "{} = {b:?} is not a BIC (8 or 11 characters, e.g. \"NBFAUZ2X\")",
                            key(k)
                        )));
                    }
                }
            }
            let debtor_account = match &p.debtor_account {
                None => None,
                Some(a) if accounts::check(AccountKind::Iban, None, a).is_ok() => {
                    Some(AccountId::Iban(a.clone()))
                }
                Some(a) if (1..=34).contains(&a.chars().count()) && a.trim() == a => {
                    Some(AccountId::Other(a.clone()))
                }
                Some(a) => {
                    return Err(bad(format!(
                        "{} = {a:?}: a valid IBAN or an account id of 1 to 34 characters",
                        key("debtor_account")
                    )))
                }
            };
            if format == Format::Pain001 {
                for (k, missing) in [
                    ("debtor_name", p.debtor_name.is_none()),
                    ("debtor_account", debtor_account.is_none()),
                    ("debtor_agent_bic", p.debtor_agent_bic.is_none()),
                ] {
                    if missing {
                        return Err(bad(format!(
                            "{} is required for format = \"pain001\"",
                            key(k)
                        )));
                    }
                }
            }
            providers.insert(
                code.clone(),
                Provider {
                    code,
                    account_kind,
                    country: p.country,
                    format,
                    batch_size: p.batch_size,
                    debtor_name: p.debtor_name,
                    debtor_account,
                    debtor_agent_bic: p.debtor_agent_bic,
                    creditor_agent_bic: p.creditor_agent_bic,
                },
            );
        }
        let table = currency::table();
        let mut caps = BTreeMap::new();
        for (program, prog) in raw.programs {
            for (code, cap) in prog.caps {
                let key = format!("[programs.{program}.caps] {code}");
                let ccy = table.lookup(&code).ok_or_else(|| {
                    bad(format!("{key}: {code:?} is not an active ISO 4217 code"))
                })?;
                let minor = money::parse_amount(&cap)
                    .filter(|a| a.is_positive())
                    .and_then(|a| a.to_minor(table.minor_units(ccy)))
                    .ok_or_else(|| {
                        bad(format!(
                            "{key} = {cap:?}: a positive decimal string with at most {} decimals, e.g. \"{}\"",
                            table.minor_units(ccy),
                            money::minor_string(250_000 * money::POW10[table.minor_units(ccy) as usize], table.minor_units(ccy))
                        ))
                    })?;
                caps.entry(program.clone())
                    .or_insert_with(BTreeMap::new)
                    .insert(ccy, minor);
            }
        }
        Ok(Profiles {
            source: Some(path.to_path_buf()),
            providers,
            caps,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn example_file_parses() {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/providers.example.toml");
        let prof = Profiles::load(&p).unwrap();
        assert!(!prof.providers.is_empty());
        assert!(!prof.caps.is_empty());
    }

    #[test]
    fn errors_name_the_key() {
        let p = Path::new("p.toml");
        let e = Profiles::parse(
            p,
            "[providers.X]\naccount_kind = \"cheque\"\nformat = \"csv\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("[providers.X] account_kind"), "{e}");
        let e = Profiles::parse(
            p,
            "[providers.X]\naccount_kind = \"any\"\nformat = \"pain001\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("debtor_name is required"), "{e}");
        let e = Profiles::parse(p, "[programs.P.caps]\nUZS = \"1.005\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("[programs.P.caps] UZS"), "{e}");
        let e = Profiles::parse(
            p,
            "[providers.\"a/b\"]\naccount_kind = \"any\"\nformat = \"csv\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("payment files"), "{e}");
        let e = Profiles::parse(p, "[provider.X]\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown field"), "{e}");
    }
}
