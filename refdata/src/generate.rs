//! `generate`: plan units, render and write the input files, and record the truth as
//! rows are written (row numbers of rejects are only known then).
//!
//! Control flow: [`Planner::next_unit`] (pure) -> [`Emitter::unit`] (route each
//! settlement to its file, render and buffer the input rows or statements, hand them to
//! the input writer thread and truth records to the truth thread) -> after the last
//! unit: flush, write rejects, summary, settings and (for provider files)
//! `providers.toml`, check invariants, and move the finished folder into place (a data
//! set appears whole or not at all). Three threads: planning and rendering, encoding the
//! inputs (and formatting provider files), and formatting and encoding the truth.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};

use crate::catalog::{AccountKind, CURRENCIES, CYCLES, PROGRAMS, PROVIDERS};
use crate::emit::Emitter;
use crate::error::RefdataError;
use crate::layout::{agency_account, providers_toml, statement_currencies, Layout};
use crate::plan::{
    flag, IDefect, Method, Mod, Planner, Reason, SDefect, Status, Unit, UnitKind, GROUPS,
};
use crate::rates::Rates;
use crate::sink::Written;
use crate::text::{account_capacity, push_amount};
use crate::truth::write_rejects;
use crate::truth_summary::{Generator, TruthCounts, TruthFile, TruthSummary, TruthTotals};
use crate::{Format, GenerateConfig, SettlementFormat};
use sverka_engine::summary::{PerSide, Tally};

/// Most instruction rows per instruction file.
pub const MAX_ROWS_PER_PART: u64 = 5_000_000;
/// Most instructions one data set may have (id and account number spaces are sized
/// for it).
pub const MAX_INSTRUCTIONS: u64 = 100_000_000;

/// What `generate` did: counts, files, speed. `Display` prints one screen.
#[derive(Clone, Debug, Serialize)]
pub struct GenerateReport {
    pub out: PathBuf,
    pub format: Format,
    /// Format of the settlement files.
    pub settlement_format: SettlementFormat,
    pub profile: String,
    /// The `NAME=VALUE` rate settings applied over the profile.
    pub rates_set: Vec<String>,
    pub seed: u64,
    pub instructions_in: u64,
    pub instructions_accepted: u64,
    pub settlements_in: u64,
    pub settlements_accepted: u64,
    pub rejects_instructions: u64,
    pub rejects_settlements: u64,
    /// Expected instruction statuses (only those that occur).
    pub by_status: BTreeMap<String, u64>,
    /// Expected flags, instruction flags and AMBIGUOUS (only those that occur).
    pub by_flag: BTreeMap<String, u64>,
    /// Expected match methods (only those that occur).
    pub by_match: BTreeMap<String, u64>,
    /// Input files, relative to `out`, with their rows.
    pub files: Vec<GeneratedFile>,
    /// Bytes of all files written, truth included.
    pub bytes: u64,
    pub elapsed_ms: u64,
    /// Input rows (instructions and settlements) per second.
    pub rows_per_second: u64,
}

/// One input file of a data set.
#[derive(Clone, Debug, Serialize)]
pub struct GeneratedFile {
    pub side: &'static str,
    pub path: String,
    pub rows: u64,
}

impl std::fmt::Display for GenerateReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let secs = self.elapsed_ms / 1000;
        let tenths = self.elapsed_ms % 1000 / 100;
        let set = if self.rates_set.is_empty() {
            String::new()
        } else {
            format!(" with {}", self.rates_set.join(" "))
        };
        let format = if SettlementFormat::from(self.format) == self.settlement_format {
            self.format.to_string()
        } else {
            format!("{}, settlements {}", self.format, self.settlement_format)
        };
        writeln!(
            f,
            "generated {} ({format}, profile {}{set}, seed {}) in {secs}.{tenths} s",
            self.out.display(),
            self.profile,
            self.seed
        )?;
        let files = |side: &str| self.files.iter().filter(|x| x.side == side).count();
        writeln!(
            f,
            "  instructions  {:>12} rows in {} file(s): {} accepted, {} rejected",
            group_digits(self.instructions_in),
            files("instructions"),
            group_digits(self.instructions_accepted),
            group_digits(self.rejects_instructions)
        )?;
        writeln!(
            f,
            "  settlements   {:>12} rows in {} file(s): {} accepted, {} rejected",
            group_digits(self.settlements_in),
            files("settlements"),
            group_digits(self.settlements_accepted),
            group_digits(self.rejects_settlements)
        )?;
        let line = |m: &BTreeMap<String, u64>| {
            m.iter()
                .map(|(k, v)| format!("{k} {}", group_digits(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        writeln!(f, "  statuses      {}", line(&self.by_status))?;
        writeln!(f, "  flags         {}", line(&self.by_flag))?;
        writeln!(f, "  matches       {}", line(&self.by_match))?;
        writeln!(
            f,
            "  written       {} MB, {} input rows/s",
            group_digits(self.bytes / 1_000_000),
            group_digits(self.rows_per_second)
        )?;
        write!(f, "  truth         {}", self.out.join("truth").display())
    }
}

pub(crate) fn group_digits(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Generates a data set with the rates of `cfg.profile`, with `cfg.rates` set over them.
pub fn generate(cfg: &GenerateConfig) -> Result<GenerateReport, RefdataError> {
    let rates = Rates::with_settings(&cfg.profile, &cfg.rates)?;
    generate_with_rates(cfg, &rates)
}

/// Generates a data set with explicit rates (`cfg.profile` and `cfg.rates` are only
/// recorded).
pub fn generate_with_rates(
    cfg: &GenerateConfig,
    rates: &Rates,
) -> Result<GenerateReport, RefdataError> {
    generate_with_part_rows(cfg, rates, MAX_ROWS_PER_PART)
}

/// As [`generate_with_rates`], with instruction files of at most `part_rows` rows
/// (tests use small parts).
#[doc(hidden)]
pub fn generate_with_part_rows(
    cfg: &GenerateConfig,
    rates: &Rates,
    part_rows: u64,
) -> Result<GenerateReport, RefdataError> {
    let started = Instant::now();
    rates.validate()?;
    if cfg.instructions > MAX_INSTRUCTIONS {
        return Err(RefdataError::BadArgument(format!(
            "{} instructions requested; at most {} are supported: lower --instructions",
            cfg.instructions, MAX_INSTRUCTIONS
        )));
    }
    if part_rows == 0 {
        return Err(RefdataError::BadArgument(
            "rows per instruction file must be positive".into(),
        ));
    }
    let tmp = prepare_out(&cfg.out)?;
    let result = write_data_set(cfg, rates, part_rows, &tmp);
    let (stats, written) = match result {
        Ok(v) => v,
        Err(e) => {
            // Leave nothing half-written behind; the error is what matters.
            let _ = fs::remove_dir_all(&tmp);
            return Err(e);
        }
    };
    publish(&tmp, &cfg.out)?;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let rows = stats.instructions_in + stats.settlements_in;
    Ok(GenerateReport {
        out: cfg.out.clone(),
        format: cfg.format,
        settlement_format: cfg.settlement_format(),
        profile: cfg.profile.clone(),
        rates_set: cfg.rates.clone(),
        seed: cfg.seed,
        instructions_in: stats.instructions_in,
        instructions_accepted: stats.instructions_accepted,
        settlements_in: stats.settlements_in,
        settlements_accepted: stats.settlements_accepted,
        rejects_instructions: stats.rejects[0],
        rejects_settlements: stats.rejects[1],
        by_status: stats.status_map(),
        by_flag: stats.flag_map(),
        by_match: stats.match_map(),
        files: stats.files.clone(),
        bytes: written,
        elapsed_ms,
        rows_per_second: rows.saturating_mul(1000) / elapsed_ms.max(1),
    })
}

const PARTIAL_MARKER: &str = ".sverka-generate-partial";

/// Checks `out` and creates the sibling folder the data set is built in.
fn prepare_out(out: &Path) -> Result<PathBuf, RefdataError> {
    if out.exists() {
        if !out.is_dir() {
            return Err(RefdataError::BadArgument(format!(
                "{}: exists and is not a folder; choose another output folder",
                out.display()
            )));
        }
        let mut entries = fs::read_dir(out).map_err(|e| RefdataError::io(out, e))?;
        if entries.next().is_some() {
            return Err(RefdataError::BadArgument(format!(
                "{}: the output folder is not empty; choose a new folder or remove this one (generate never overwrites)",
                out.display()
            )));
        }
    }
    let name = out.file_name().ok_or_else(|| {
        RefdataError::BadArgument(format!("{}: the output must name a folder", out.display()))
    })?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !parent.is_dir() {
        return Err(RefdataError::BadArgument(format!(
            "{}: the folder to create the data set in does not exist; create it first",
            parent.display()
        )));
    }
    let tmp = parent.join(format!(".{}.partial", name.to_string_lossy()));
    if tmp.exists() {
        if tmp.join(PARTIAL_MARKER).exists() {
            fs::remove_dir_all(&tmp).map_err(|e| RefdataError::io(&tmp, e))?;
        } else {
            return Err(RefdataError::BadArgument(format!(
                "{}: exists and was not made by generate; remove it or choose another output folder",
                tmp.display()
            )));
        }
    }
    for d in ["", "instructions", "settlements", "truth"] {
        let p = tmp.join(d);
        fs::create_dir_all(&p).map_err(|e| {
            RefdataError::BadArgument(format!(
                "{}: cannot create a folder here ({e}); choose an output folder you can write to",
                p.display()
            ))
        })?;
    }
    let marker = tmp.join(PARTIAL_MARKER);
    fs::write(&marker, b"").map_err(|e| RefdataError::io(&marker, e))?;
    Ok(tmp)
}

fn publish(tmp: &Path, out: &Path) -> Result<(), RefdataError> {
    let marker = tmp.join(PARTIAL_MARKER);
    fs::remove_file(&marker).map_err(|e| RefdataError::io(&marker, e))?;
    if out.exists() {
        // Checked empty in prepare_out.
        fs::remove_dir(out).map_err(|e| RefdataError::io(out, e))?;
    }
    fs::rename(tmp, out).map_err(|e| RefdataError::io(out, e))
}

fn write_data_set(
    cfg: &GenerateConfig,
    rates: &Rates,
    part_rows: u64,
    dir: &Path,
) -> Result<(Stats, u64), RefdataError> {
    let mut planner = Planner::new(cfg.seed, rates, cfg.instructions);
    let layout = Layout::new(cfg.settlement_format());
    let providers = layout.has_provider_files();
    let stats = Stats {
        groups: (0..GROUPS).map(|_| GroupStats::default()).collect(),
        ..Stats::default()
    };
    let mut em = Emitter::new(cfg.format, layout, part_rows, dir, stats)?;
    let mut unit = Unit::default();
    while planner.instr_rows < cfg.instructions {
        planner.next_unit(&mut unit);
        em.unit(planner.unit_no, &unit)?;
    }
    for (p, &used) in planner.accounts_used().iter().enumerate() {
        if used >= account_capacity(p) {
            return Err(RefdataError::internal(format!(
                "provider {} ran out of account numbers ({used})",
                PROVIDERS[p].name
            )));
        }
    }
    em.finish_inputs()?;
    em.stats.planted = planted(&planner);
    let Emitter {
        w,
        truth,
        stats,
        rejects,
        ..
    } = em;
    let mut written = w.finish()?;
    written.extend(truth.finish()?);
    written.push(write_rejects(&dir.join("truth"), rejects)?);
    stats.check()?;
    let summary = stats.summary_json(cfg, rates);
    written.push(write_json(
        &dir.join("truth").join("summary.json"),
        &summary,
    )?);
    written.push(write_json(
        &dir.join("generate.json"),
        &settings_json(cfg, rates, part_rows),
    )?);
    if providers {
        let path = dir.join("providers.toml");
        let text = providers_toml();
        fs::write(&path, &text).map_err(|e| RefdataError::io(&path, e))?;
        written.push(Written {
            bytes: text.len() as u64,
        });
    }
    let bytes = written.iter().map(|w| w.bytes).sum();
    Ok((stats, bytes))
}

fn write_json(path: &Path, v: &impl Serialize) -> Result<Written, RefdataError> {
    let mut text =
        serde_json::to_string_pretty(v).map_err(|e| RefdataError::internal(e.to_string()))?;
    text.push('\n');
    fs::write(path, &text).map_err(|e| RefdataError::io(path, e))?;
    Ok(Written {
        bytes: text.len() as u64,
    })
}

fn planted(p: &Planner) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    for k in UnitKind::ALL {
        out.push((format!("unit.{}", unit_name(k)), p.kind_count[k as usize]));
    }
    for m in Mod::ALL {
        out.push((format!("row.{}", m.name()), p.mod_count[m as usize]));
    }
    for d in IDefect::TEMPLATES {
        out.push((
            format!("instruction_defect.{}", d.name()),
            p.idefect_count[d as usize],
        ));
    }
    for d in SDefect::TEMPLATES {
        out.push((
            format!("settlement_defect.{}", d.name()),
            p.sdefect_count[d as usize],
        ));
    }
    out
}

fn unit_name(k: UnitKind) -> &'static str {
    let names = Rates::default().unit_rates();
    match k {
        UnitKind::Paid => "paid",
        _ => names[k as usize].0,
    }
}

/// Expected totals of one currency, in its minor units.
#[derive(Clone, Copy, Default)]
pub(crate) struct Totals {
    pub instructed_count: u64,
    pub instructed_amount: i128,
    pub settled_count: u64,
    pub settled_amount: i128,
    pub returned_amount: i128,
    pub fees: i128,
    pub unpaid_count: u64,
    pub unpaid_amount: i128,
    pub unexpected_count: u64,
    pub unexpected_amount: i128,
}

/// The accepted amounts of one (programme, cycle, currency) group.
#[derive(Default)]
pub(crate) struct GroupStats {
    pub hist: BTreeMap<i64, u64>,
    pub max_ordinary: Option<i64>,
    pub min_outlier: Option<i64>,
}

/// What the truth counts as rows are emitted.
#[derive(Default)]
pub(crate) struct Stats {
    pub instructions_in: u64,
    pub instructions_accepted: u64,
    pub settlements_in: u64,
    pub settlements_accepted: u64,
    pub rejects: [u64; 2],
    pub by_status: [u64; 8],
    pub by_flag: [u64; 7],
    pub ambiguous: u64,
    pub by_match: [u64; 3],
    pub by_reason: [[u64; Reason::COUNT]; 2],
    pub totals: [Totals; CURRENCIES.len()],
    pub groups: Vec<GroupStats>,
    pub files: Vec<GeneratedFile>,
    pub planted: Vec<(String, u64)>,
}

impl Stats {
    fn status_map(&self) -> BTreeMap<String, u64> {
        Status::ALL
            .iter()
            .zip(self.by_status)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| (s.name().to_string(), n))
            .collect()
    }

    fn flag_map(&self) -> BTreeMap<String, u64> {
        let mut m: BTreeMap<String, u64> = flag::NAMES
            .iter()
            .zip(self.by_flag)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| (s.to_string(), n))
            .collect();
        if self.ambiguous > 0 {
            m.insert(flag::AMBIGUOUS.to_string(), self.ambiguous);
        }
        m
    }

    fn match_map(&self) -> BTreeMap<String, u64> {
        Method::ALL
            .iter()
            .zip(self.by_match)
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| (s.name().to_string(), n))
            .collect()
    }

    /// Invariants of the truth: conservation, and AMOUNT_OUTLIER re-derived from every
    /// group's lower median over the accepted amounts actually written.
    fn check(&self) -> Result<(), RefdataError> {
        if self.instructions_in != self.instructions_accepted + self.rejects[0]
            || self.settlements_in != self.settlements_accepted + self.rejects[1]
        {
            return Err(RefdataError::internal(
                "truth rows do not add up to input rows",
            ));
        }
        for (g, st) in self.groups.iter().enumerate() {
            let k: u64 = st.hist.values().sum();
            if k == 0 {
                continue;
            }
            let target = (k - 1) / 2;
            let mut seen = 0;
            let mut median = 0;
            for (&a, &n) in &st.hist {
                if seen + n > target {
                    median = a;
                    break;
                }
                seen += n;
            }
            let threshold = 3 * i128::from(median);
            if st.max_ordinary.is_some_and(|a| i128::from(a) > threshold)
                || st.min_outlier.is_some_and(|a| i128::from(a) <= threshold)
            {
                return Err(RefdataError::internal(format!(
                    "group {g}: planted outliers disagree with the lower median {median}"
                )));
            }
        }
        Ok(())
    }

    fn summary_json(&self, cfg: &GenerateConfig, rates: &Rates) -> TruthSummary {
        let reasons = |side: usize| -> Tally {
            Tally::nonzero(
                Reason::ALL
                    .iter()
                    .zip(self.by_reason[side])
                    .map(|(r, n)| (r.name(), n)),
            )
        };
        let mut totals = BTreeMap::new();
        for (c, t) in self.totals.iter().enumerate() {
            let cur = &CURRENCIES[c];
            if t.instructed_count == 0
                && t.settled_count == 0
                && t.fees == 0
                && t.returned_amount == 0
            {
                continue;
            }
            let amt = |v: i128| {
                let mut s = String::new();
                push_amount(&mut s, v, cur.minor_units);
                s
            };
            totals.insert(
                cur.code.to_string(),
                TruthTotals {
                    instructed_count: t.instructed_count,
                    instructed_amount: amt(t.instructed_amount),
                    settled_count: t.settled_count,
                    settled_amount: amt(t.settled_amount),
                    returned_amount: amt(t.returned_amount),
                    fees: amt(t.fees),
                    unpaid_count: t.unpaid_count,
                    unpaid_amount: amt(t.unpaid_amount),
                    unexpected_count: t.unexpected_count,
                    unexpected_amount: amt(t.unexpected_amount),
                },
            );
        }
        TruthSummary {
            generator: Generator {
                name: "sverka-refdata".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            seed: cfg.seed,
            profile: cfg.profile.clone(),
            rates_set: cfg.rates.clone(),
            format: cfg.format,
            settlement_format: Some(cfg.settlement_format()),
            counts: TruthCounts {
                instructions_in: self.instructions_in,
                instructions_accepted: self.instructions_accepted,
                settlements_in: self.settlements_in,
                settlements_accepted: self.settlements_accepted,
                rejects: PerSide {
                    instructions: self.rejects[0],
                    settlements: self.rejects[1],
                },
                by_status: self.status_map(),
                by_flag: self.flag_map(),
                by_match: self.match_map(),
                by_reason: PerSide {
                    instructions: reasons(0),
                    settlements: reasons(1),
                },
            },
            totals,
            files: self
                .files
                .iter()
                .map(|f| TruthFile {
                    side: f.side.to_string(),
                    path: f.path.clone(),
                    rows: f.rows,
                })
                .collect(),
            planted: Tally(self.planted.clone()),
            rates: rates.clone(),
        }
    }
}

fn settings_json(cfg: &GenerateConfig, rates: &Rates, part_rows: u64) -> Value {
    let providers: Vec<Value> = PROVIDERS
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let kind = match p.account {
                AccountKind::Iban { .. } => "iban",
                AccountKind::Card { .. } => "card",
                AccountKind::Wallet { .. } => "wallet",
            };
            let agency: Vec<String> = statement_currencies(i as u8)
                .iter()
                .map(|&c| agency_account(i as u8, c))
                .collect();
            json!({"name": p.name, "currency": CURRENCIES[p.currency].code, "account": kind,
                   "statement_accounts": agency})
        })
        .collect();
    json!({
        "generator": {"name": "sverka-refdata", "version": env!("CARGO_PKG_VERSION")},
        "seed": cfg.seed,
        "profile": cfg.profile,
        "rates_set": cfg.rates,
        "format": cfg.format,
        "settlement_format": cfg.settlement_format(),
        "instructions": cfg.instructions,
        "rows_per_instruction_file": part_rows,
        "cycle": CYCLES[1],
        "arrears_cycle": CYCLES[0],
        "late_days": crate::plan::LATE_DAYS,
        "fallback_window_days": crate::plan::WINDOW_DAYS,
        "currencies": CURRENCIES.iter().map(|c| json!({"code": c.code, "minor_units": c.minor_units})).collect::<Vec<_>>(),
        "programs": PROGRAMS.iter().map(|p| json!({"name": p.name, "code": p.code})).collect::<Vec<_>>(),
        "providers": providers,
        "rates": rates,
    })
}
