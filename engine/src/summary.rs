//! `summary.json` (CONTRACT.md section 5) as one serde type: the pipeline builds a
//! [`Summary`] from the run's figures and writes it with `serde_json::to_string_pretty`;
//! readers deserialise the same type. `schemas/summary.schema.json` describes the file.
//!
//! Field order is the file's key order. Amounts are decimal strings in the currency's
//! minor units, counts integers; name-to-count maps keep the engine's order ([`Tally`]),
//! maps keyed by currency, provider or programme are alphabetical (`BTreeMap`).

use std::collections::BTreeMap;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::classify::{flag, Classes, Status};
use crate::currency;
use crate::matching::{Matches, Method, NO_MATCH};
use crate::money::minor_string;
use crate::schema::{Reason, Reject, Side};
use crate::table::Table;
use crate::totals::{ByCcy, Totals};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
// Unknown keys are refused: `sverka verify` must see a key added to a summary.
#[serde(deny_unknown_fields)]
pub struct Summary {
    pub counts: Counts,
    /// Per currency code.
    pub totals: TotalsByCcy,
    /// Per provider, then currency code.
    pub totals_by_provider: BTreeMap<String, TotalsByCcy>,
    /// Per programme, then currency code.
    pub totals_by_program: BTreeMap<String, TotalsByCcy>,
    pub inputs: Vec<Input>,
    /// (v2) With `--decisions`: how many were applied, pending and refused (CONTRACT.md
    /// section 8).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decisions: Option<DecisionCounts>,
    /// File names written into the output folder, in the order written.
    pub outputs: Vec<String>,
    pub warnings: Vec<String>,
    pub engine: Engine,
    pub settings: SettingsEcho,
    /// Per provider with at least one matched SETTLED settlement.
    pub settlement_delay_by_provider: BTreeMap<String, Delays>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub instructions_in: u64,
    pub instructions_accepted: u64,
    pub settlements_in: u64,
    pub settlements_accepted: u64,
    pub rejects: PerSide<u64>,
    /// Instructions per status, in [`Status::ALL`] order; zero counts left out.
    pub by_status: Tally,
    /// Instructions per flag, and settlements with AMBIGUOUS, alphabetical; zero counts
    /// left out.
    pub by_flag: Tally,
    /// Settlements per match method (REFERENCE, FALLBACK, NONE); zero counts left out.
    pub by_match: Tally,
    /// Rejected rows per reason, in [`Reason::ALL`] order; zero counts left out.
    pub rejects_by_reason: PerSide<Tally>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerSide<T> {
    pub instructions: T,
    pub settlements: T,
}

/// Totals of one currency (or of one provider's or programme's currency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CcyTotals {
    pub instructed_count: u64,
    pub instructed_amount: String,
    pub settled_count: u64,
    pub settled_amount: String,
    pub returned_count: u64,
    pub returned_amount: String,
    pub failed_count: u64,
    pub fees: String,
    pub unpaid_count: u64,
    pub unpaid_amount: String,
    pub unexpected_count: u64,
    pub unexpected_amount: String,
}

pub type TotalsByCcy = BTreeMap<String, CcyTotals>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// `instructions`, `settlements` or (v2) `decisions`.
    pub side: String,
    pub path: String,
    /// `csv`, `parquet`, `arrow`, or (v2) `camt.053`, `camt.054`, `pain.002`, `mt940`.
    pub format: String,
    pub rows: u64,
    pub bytes: u64,
    pub sha256: String,
    /// (v2) The provider given as `CODE=PATH`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// (v2) A provider file's message version (`camt.053.001.08`, `MT940`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// (v2) A provider file's statements (camt `Stmt`/`Ntfctn`, MT940 statements, the
    /// pain.002 message).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub statements: Vec<StatementEcho>,
    /// (v2) A provider file's control checks and their outcomes (CONTRACT 7.5); present
    /// (maybe empty) for every provider file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<Vec<ControlCheck>>,
    /// (v2) What a provider file said that gave no rows (CONTRACT 7.3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<String>,
}

/// A statement of a provider file, as the report lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatementEcho {
    pub id: String,
    pub account: String,
    /// Period, `YYYY-MM-DD`; empty when the file does not say.
    pub from: String,
    pub to: String,
    pub entries: u64,
    pub transactions: u64,
}

/// One control check of a provider file (CONTRACT 7.5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ControlCheck {
    pub statement: String,
    pub check: String,
    pub declared: String,
    pub found: String,
    /// `ok` or `failed` (recorded with `--control-totals warn`).
    pub outcome: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Engine {
    pub name: String,
    pub version: String,
    pub contract: u32,
}

/// The settings the run used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SettingsEcho {
    pub late_days: u32,
    pub fallback_days: u32,
    pub shared_account_min: u32,
    /// Exact decimal text (`3`, `2.5`).
    pub outlier_factor: String,
    /// Version of the currency table (`schemas/iso4217.json`).
    pub currency_table: String,
    pub amount_scale: i8,
}

/// Matched SETTLED settlements per delay in days (value date − due date), from
/// `days_from` to `days_to`; delays beyond count in the end buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Delays {
    pub days_from: i32,
    pub days_to: i32,
    pub counts: Vec<u64>,
}

/// Decisions by outcome, and the pending and refused ones by reason (in the order the
/// reasons are checked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionCounts {
    pub applied: u64,
    pub pending: u64,
    pub refused: u64,
    pub by_reason: Tally,
}

/// Counts by name in a fixed order (not alphabetical), serialised as a JSON object.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally(pub Vec<(String, u64)>);

impl Tally {
    /// The pairs with a count above zero, in the order given.
    pub fn nonzero<'a>(pairs: impl IntoIterator<Item = (&'a str, u64)>) -> Tally {
        Tally(
            pairs
                .into_iter()
                .filter(|(_, n)| *n > 0)
                .map(|(k, n)| (k.to_string(), n))
                .collect(),
        )
    }

    /// The count of `name` (0 when absent).
    pub fn get(&self, name: &str) -> u64 {
        self.0.iter().find(|(k, _)| k == name).map_or(0, |p| p.1)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, u64)> {
        self.0.iter().map(|(k, n)| (k.as_str(), *n))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Tally {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, n) in &self.0 {
            m.serialize_entry(k, n)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Tally {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Tally, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tally;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of names to counts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Tally, A::Error> {
                let mut v = Vec::new();
                while let Some(pair) = a.next_entry()? {
                    v.push(pair);
                }
                Ok(Tally(v))
            }
        }
        d.deserialize_map(V)
    }
}

impl CcyTotals {
    pub fn new(t: &Totals, minor: u8) -> CcyTotals {
        let m = |v: i128| minor_string(v, minor);
        CcyTotals {
            instructed_count: t.instructed_count,
            instructed_amount: m(t.instructed_amount),
            settled_count: t.settled_count,
            settled_amount: m(t.settled_amount),
            returned_count: t.returned_count,
            returned_amount: m(t.returned_amount),
            failed_count: t.failed_count,
            fees: m(t.fees),
            unpaid_count: t.unpaid_count,
            unpaid_amount: m(t.unpaid_amount),
            unexpected_count: t.unexpected_count,
            unexpected_amount: m(t.unexpected_amount),
        }
    }
}

/// Exact totals per currency code, as decimal strings in each currency's minor units.
pub fn by_currency(m: &ByCcy) -> TotalsByCcy {
    let table = currency::table();
    m.iter()
        .map(|(code, t)| {
            let minor = table.minor_units(table.lookup(code).expect("known code"));
            (code.clone(), CcyTotals::new(t, minor))
        })
        .collect()
}

/// [`by_currency`] within each provider or programme.
pub fn by_group(m: &BTreeMap<String, ByCcy>) -> BTreeMap<String, TotalsByCcy> {
    m.iter().map(|(k, v)| (k.clone(), by_currency(v))).collect()
}

impl Summary {
    /// The text of `summary.json`: pretty JSON and a final newline.
    pub fn to_text(&self) -> String {
        let mut out = Vec::with_capacity(64 * 1024);
        let mut ser = serde_json::Serializer::with_formatter(&mut out, Layout::default());
        self.serialize(&mut ser)
            .expect("a summary has string keys only");
        out.push(b'\n');
        String::from_utf8(out).expect("serde_json writes UTF-8")
    }

    /// How many instructions have `status`, instructions carry `flag` (or settlements
    /// carry AMBIGUOUS), or rows were rejected (`rejects`).
    pub fn count_of(&self, name: &str) -> u64 {
        let c = &self.counts;
        if name == "rejects" {
            return c.rejects.instructions + c.rejects.settlements;
        }
        match c.by_status.get(name) {
            0 => c.by_flag.get(name),
            n => n,
        }
    }
}

/// Row counts of the sides, before (`_in`) and after validation and de-duplication.
pub(crate) struct SideRows {
    pub rows_in: u64,
    pub accepted: u64,
}

/// A provider file's statements as `summary.json` lists them.
pub(crate) fn statements(info: &crate::ingest::ProviderInfo) -> Vec<StatementEcho> {
    info.statements
        .iter()
        .map(|st| StatementEcho {
            id: st.id.clone(),
            account: st.account.clone(),
            from: st.from.clone(),
            to: st.to.clone(),
            entries: st.entries,
            transactions: st.transactions,
        })
        .collect()
}

/// A provider file's control checks, statement by statement (CONTRACT 7.5).
pub(crate) fn control(info: &crate::ingest::ProviderInfo) -> Vec<ControlCheck> {
    info.statements
        .iter()
        .flat_map(|st| {
            st.checks.iter().map(|c| ControlCheck {
                statement: st.id.clone(),
                check: c.what.clone(),
                declared: c.declared.clone(),
                found: c.found.clone(),
                outcome: if c.ok { "ok" } else { "failed" }.into(),
            })
        })
        .collect()
}

/// The `counts` section from the classes, the matches and the rejects.
pub(crate) fn counts(
    ins: SideRows,
    set: SideRows,
    rejects: &[Reject],
    m: &Matches,
    cl: &Classes,
) -> Counts {
    let mut by_status = [0u64; 8];
    for &s in &cl.status {
        by_status[s as usize] += 1;
    }
    // Rows per flag set first, then per bit: one increment a row.
    let mut by_byte = vec![0u64; flag::SETS as usize];
    for &f in &cl.flags {
        by_byte[f as usize] += 1;
    }
    let mut by_flag = [0u64; flag::NAMES.len()];
    for (f, &rows) in by_byte.iter().enumerate() {
        for (b, n) in by_flag.iter_mut().enumerate() {
            *n += ((f >> b) & 1) as u64 * rows;
        }
    }
    let ambiguous = m.ambiguous.iter().filter(|&&a| a).count() as u64;
    let mut by_match = [0u64; 4];
    for &x in &m.method {
        by_match[x as usize] += 1;
    }
    let mut flags: Vec<(&str, u64)> = flag::NAMES.into_iter().zip(by_flag).collect();
    flags.insert(2, ("AMBIGUOUS", ambiguous)); // alphabetical: after ACCOUNT_MISMATCH
    let mut reasons: BTreeMap<(Side, Reason), u64> = BTreeMap::new();
    for r in rejects {
        *reasons.entry((r.side, r.reason)).or_default() += 1;
    }
    let by_reason = |side| {
        Tally::nonzero(
            Reason::ALL
                .iter()
                .map(|&r| (r.as_str(), reasons.get(&(side, r)).copied().unwrap_or(0))),
        )
    };
    let rej_ins = rejects
        .iter()
        .filter(|r| r.side == Side::Instructions)
        .count() as u64;
    Counts {
        instructions_in: ins.rows_in,
        instructions_accepted: ins.accepted,
        settlements_in: set.rows_in,
        settlements_accepted: set.accepted,
        rejects: PerSide {
            instructions: rej_ins,
            settlements: rejects.len() as u64 - rej_ins,
        },
        by_status: Tally::nonzero(Status::ALL.map(|s| (s.as_str(), by_status[s as usize]))),
        by_flag: Tally::nonzero(flags),
        by_match: Tally::nonzero(Method::ALL.map(|x| (x.as_str(), by_match[x as usize]))),
        rejects_by_reason: PerSide {
            instructions: by_reason(Side::Instructions),
            settlements: by_reason(Side::Settlements),
        },
    }
}

/// Settlement delays are counted from −`DELAY_DAYS` to +`DELAY_DAYS` days.
pub const DELAY_DAYS: i32 = 30;

/// Settlement delay (value_date − due_date of the matched instruction, in days) of every
/// matched SETTLED settlement, by the settlement's provider, for the audit report's chart.
/// Delays beyond ±[`DELAY_DAYS`] count in the end buckets.
pub(crate) fn settlement_delays(
    ins_t: &Table,
    set_t: &Table,
    m: &Matches,
) -> BTreeMap<String, Delays> {
    use crate::schema::{set as scol, SettleStatus};
    use arrow_array::Array;
    use rayon::prelude::*;
    let width = (2 * DELAY_DAYS + 1) as usize;
    // One row of `width` day counts per provider code, summed over 64K-row chunks.
    let codes = set_t.codes(scol::PROVIDER);
    let names = set_t.text[scol::PROVIDER].dict_values();
    let cells = names.len() * width;
    let counts: Vec<u64> = (0..set_t.len().div_ceil(1 << 16))
        .into_par_iter()
        .map(|c| {
            let mut h = vec![0u64; cells];
            for s in c << 16..((c + 1) << 16).min(set_t.len()) {
                let i = m.instruction[s];
                if i != NO_MATCH && set_t.status[s] == SettleStatus::Settled as u8 {
                    let d = (set_t.date[s] - ins_t.date[i as usize]).clamp(-DELAY_DAYS, DELAY_DAYS);
                    h[codes[s] as usize * width + (d + DELAY_DAYS) as usize] += 1;
                }
            }
            h
        })
        .reduce(
            || vec![0; cells],
            |mut a, b| {
                a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
                a
            },
        );
    // A provider is listed when at least one of its settlements counted.
    counts
        .chunks(width)
        .enumerate()
        .filter(|(_, v)| v.iter().any(|&x| x > 0))
        .map(|(code, v)| {
            let d = Delays {
                days_from: -DELAY_DAYS,
                days_to: DELAY_DAYS,
                counts: v.to_vec(),
            };
            (names.value(code).to_string(), d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tally_keeps_its_order_both_ways() {
        let t = Tally::nonzero([("UNPAID", 2), ("PAID", 0), ("FAILED", 1)]);
        let text = serde_json::to_string(&t).unwrap();
        assert_eq!(text, r#"{"UNPAID":2,"FAILED":1}"#);
        assert_eq!(serde_json::from_str::<Tally>(&text).unwrap(), t);
        assert_eq!(t.get("FAILED"), 1);
        assert_eq!(t.get("PAID"), 0);
    }
}

/// An input file as `summary.json` lists it.
pub(crate) fn input_of(f: &crate::ingest::InputFile, st: &crate::ingest::FileStats) -> Input {
    Input {
        side: f.side.as_str().into(),
        path: f.path.display().to_string(),
        format: st.format_name.clone(),
        rows: st.rows,
        bytes: st.bytes,
        sha256: st.sha256.clone(),
        provider: f.provider.clone(),
        version: st.provider.as_ref().map(|p| p.version.clone()),
        statements: st.provider.as_ref().map_or_else(Vec::new, statements),
        control: st.provider.as_ref().map(control),
        notices: st
            .provider
            .as_ref()
            .map_or_else(Vec::new, |p| p.notices.clone()),
    }
}

/// The layout of `summary.json`: indented, except that an object or array nested five
/// deep (a provider file's statement or control check: summary, `inputs`, an input,
/// `control`, a check) stands on one line. A month's bank files can declare hundreds of
/// thousands of checks, and one line each keeps the file readable and a third smaller.
#[derive(Default)]
struct Layout {
    pretty: serde_json::ser::PrettyFormatter<'static>,
    /// Containers open.
    depth: usize,
}

/// Depth from which containers are written on one line.
const ONE_LINE_DEPTH: usize = 5;

/// Calls the pretty formatter's method, or the compact one's inside a container at
/// [`ONE_LINE_DEPTH`] or deeper.
macro_rules! by_depth {
    ($self:ident, $method:ident ( $($arg:expr),* )) => {
        if $self.depth >= ONE_LINE_DEPTH {
            serde_json::ser::CompactFormatter.$method($($arg),*)
        } else {
            $self.pretty.$method($($arg),*)
        }
    };
}

impl serde_json::ser::Formatter for Layout {
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        by_depth!(self, begin_array(w))
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let r = by_depth!(self, end_array(w));
        self.depth -= 1;
        r
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        by_depth!(self, begin_array_value(w, first))
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        by_depth!(self, end_array_value(w))
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.depth += 1;
        by_depth!(self, begin_object(w))
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        let r = by_depth!(self, end_object(w));
        self.depth -= 1;
        r
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        by_depth!(self, begin_object_key(w, first))
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        by_depth!(self, begin_object_value(w))
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        by_depth!(self, end_object_value(w))
    }
}
