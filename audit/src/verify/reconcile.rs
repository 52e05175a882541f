//! Re-derivation of a reconcile folder's `summary.json` from its row outputs: each row of
//! `instructions.parquet`, `settlements.parquet` and `rejects.parquet` is read and summed
//! here ([`Derived`]), the row-level arithmetic of instructions re-derived from their
//! matched settlements, every input row placed in exactly one output row ([`lineage`]),
//! and every figure compared with the summary, in the order the discrepancies are listed.
//! Each output is read batch by batch, in order (`Pq::for_each`).

mod decisions;
mod lineage;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use arrow_array::RecordBatch;
use hashbrown::HashMap;
use lineage::{Lineage, Source};
use serde_json::{json, Map, Value};
use sverka_engine::summary::{Counts, Delays, TotalsByCcy};
use sverka_engine::Summary;

use super::{show, to_minor, Discrepancy, VerifyReport, ROW_LIST};
use crate::manifest::{InputEntry, Manifest};
use crate::read::{date32, decimal, int64, nulls, Pq, ReadResult};
use crate::text::Text;
use crate::{fmt_minor, minor_units, MANIFEST};

const S: &str = "summary.json";
const IF: &str = "instructions.parquet";
const SF: &str = "settlements.parquet";
const RF: &str = "rejects.parquet";

/// Checks a reconcile folder's figures: the summary against the manifest, then every
/// count and total against the rows. `Err` when an output cannot be read as documented
/// (the discrepancies found before stay).
pub(super) fn check_reconcile(r: &mut VerifyReport, dir: &Path, m: &Manifest) -> ReadResult<()> {
    let s = read_summary(r, dir)?;
    let m_inputs = &m.inputs;
    if let Some(s) = &s {
        check_identity(r, m, s);
        check_control(r, s);
    }
    let open = |name: &str| Pq::open(&dir.join(name), &lineage::DICT);
    let (ins_pq, set_pq, rej_pq) = (open(IF)?, open(SF)?, open(RF)?);
    let has_decisions = m.outputs.iter().any(|o| o.name == "decisions.parquet");
    let mut lin = Lineage::new(
        &sources(s.as_ref(), m),
        ins_pq.rows() + set_pq.rows() + rej_pq.rows(),
        has_decisions,
    );
    let mut d = Derived::default();
    let mut issues = RowIssues::default();
    let ins = Instructions::read(&ins_pq, &mut d, &mut issues, &mut lin)?;
    let per = Settlements::read(&set_pq, &ins, &mut d, &mut issues, &mut lin)?;
    check_rows(&ins.rows, &per, &mut issues);
    d.rej = read_rejects(&rej_pq, &mut issues, &mut lin)?;
    let placed = lin.finish(s.as_ref().map(|s| s.engine.contract), &mut issues, r);
    let decided = decisions::check(r, dir, s.as_ref(), has_decisions, &mut issues)?;
    if !has_decisions {
        // Without decisions nothing is matched or flagged by one (CONTRACT.md section 8).
        let by_flag = |f: &str| d.by_flag.get(f).copied().unwrap_or(0);
        for (what, n) in [
            (
                "MANUAL matches",
                d.by_match.get("MANUAL").copied().unwrap_or(0),
            ),
            ("ACCEPTED flags", by_flag("ACCEPTED")),
            ("MANUAL_MATCH flags", by_flag("MANUAL_MATCH")),
        ] {
            if n > 0 {
                r.diff(SF, what, "none (the folder has no decisions.parquet)", n);
            }
        }
    }
    // A summary that is not one has no figures to compare: the rows are still checked.
    if let Some(s) = &s {
        let c = &s.counts;
        check_counts(r, c, &d, ins.rows.len());
        check_conservation(r, c, m_inputs, &d, ins.rows.len());
        check_breakdowns(r, c, &d);
        check_totals(r, s, &d);
        check_delays(r, &s.settlement_delay_by_provider, &d.delays);
    }
    let n_rows = issues.report(r);
    r.checked.push(format!(
        "summary.json: counts, totals per currency/provider/programme, rejects by reason, delays, conservation, control checks; {} instructions and {} settlements re-derived ({n_rows} row discrepancies)",
        ins.rows.len(),
        d.n_set
    ));
    r.checked.push(placed);
    r.checked.extend(decided);
    Ok(())
}

/// The inputs whose rows the outputs must hold: the summary's, else the manifest's.
fn sources<'a>(s: Option<&'a Summary>, m: &'a Manifest) -> Vec<Source<'a>> {
    match s {
        Some(s) => s
            .inputs
            .iter()
            .map(|i| Source {
                side: &i.side,
                path: &i.path,
                rows: i.rows,
                format: Some(&i.format),
            })
            .collect(),
        None => m
            .inputs
            .iter()
            .map(|i| Source {
                side: &i.side,
                path: &i.path,
                rows: i.rows.unwrap_or(0),
                format: None,
            })
            .collect(),
    }
}

/// Every control check (CONTRACT.md 7.5) has outcome `ok` or `failed`, and a failed one
/// (recorded with `--control-totals warn`) has its warning in `warnings`: a run that went
/// on past a failed check says so where a reader looks first.
fn check_control(r: &mut VerifyReport, s: &Summary) {
    for (k, input) in s.inputs.iter().enumerate() {
        for (j, c) in input.control.iter().flatten().enumerate() {
            let field = format!("inputs[{k}].control[{j}]");
            match c.outcome.as_str() {
                "ok" => {}
                "failed" => {
                    let warned = s.warnings.iter().any(|w| {
                        w.starts_with(&format!("{}: ", input.path))
                            && w.contains(&format!("control check {} failed", c.check))
                            && w.contains(&format!("(declared {}, found {})", c.declared, c.found))
                    });
                    if !warned {
                        r.diff(
                            S,
                            format!("{field} (failed) in warnings"),
                            format!(
                                "a warning naming {}, control check {} failed, declared {}, found {}",
                                input.path, c.check, c.declared, c.found
                            ),
                            "none",
                        );
                    }
                }
                other => r.diff(S, format!("{field}.outcome"), "ok or failed", other),
            }
        }
    }
}

/// The folder's summary; `None` (and a discrepancy) when it is JSON but not a summary:
/// a tampered figure of the wrong type (a count that is not a whole number) or shape.
fn read_summary(r: &mut VerifyReport, dir: &Path) -> ReadResult<Option<Summary>> {
    let text = std::fs::read_to_string(dir.join(S)).map_err(|e| format!("{S}: {e}"))?;
    match serde_json::from_str::<Summary>(&text) {
        Ok(s) => Ok(Some(s)),
        Err(e) if e.is_data() => {
            r.diff(
                S,
                "contents",
                "a summary as schemas/summary.schema.json describes (every count a whole number)",
                format!("{} does not parse: {e}", dir.join(S).display()),
            );
            Ok(None)
        }
        Err(e) => Err(format!("{S}: not valid JSON ({e})")),
    }
}

/// The manifest and the summary describe the same run: settings, engine and inputs.
fn check_identity(r: &mut VerifyReport, m: &Manifest, s: &Summary) {
    let m_inputs = &m.inputs;
    r.same(S, "settings", &m.settings, &json!(s.settings));
    r.same(
        S,
        "engine.version",
        &json!(m.engine.version),
        &json!(s.engine.version),
    );
    if m_inputs.len() != s.inputs.len() {
        r.diff(S, "inputs (count)", m_inputs.len(), s.inputs.len());
    }
    for (k, (a, b)) in m_inputs.iter().zip(&s.inputs).enumerate() {
        for (sk, want, found) in [
            ("path", json!(a.path), json!(b.path)),
            ("rows", json!(a.rows), json!(b.rows)),
            ("sha256", json!(a.sha256), json!(b.sha256)),
            ("bytes", json!(a.size), json!(b.bytes)),
            ("side", json!(a.side), json!(b.side)),
        ] {
            r.same(S, &format!("inputs[{k}].{sk}"), &want, &found);
        }
    }
}

/// The twelve per-currency figures (CONTRACT.md section 5, plus the engine's extra counts).
#[derive(Debug, Default, Clone, Copy)]
struct Fig {
    instructed_count: u64,
    instructed_amount: i128,
    settled_count: u64,
    settled_amount: i128,
    returned_count: u64,
    returned_amount: i128,
    failed_count: u64,
    fees: i128,
    unpaid_count: u64,
    unpaid_amount: i128,
    unexpected_count: u64,
    unexpected_amount: i128,
}

impl Fig {
    fn json(&self, code: &str) -> Value {
        let m = minor_units(code).unwrap_or(0);
        let a = |v: i128| fmt_minor(v, m);
        json!({
            "instructed_count": self.instructed_count, "instructed_amount": a(self.instructed_amount),
            "settled_count": self.settled_count, "settled_amount": a(self.settled_amount),
            "returned_count": self.returned_count, "returned_amount": a(self.returned_amount),
            "failed_count": self.failed_count, "fees": a(self.fees),
            "unpaid_count": self.unpaid_count, "unpaid_amount": a(self.unpaid_amount),
            "unexpected_count": self.unexpected_count, "unexpected_amount": a(self.unexpected_amount),
        })
    }
}

type Figs = BTreeMap<String, Fig>;

/// Every figure of `summary.json` as re-derived from the rows.
#[derive(Default)]
struct Derived {
    by_ccy: Figs,
    by_provider: BTreeMap<String, Figs>,
    by_program: BTreeMap<String, Figs>,
    by_status: BTreeMap<String, u64>,
    by_flag: BTreeMap<String, u64>,
    by_match: BTreeMap<String, u64>,
    /// Provider → days from due date to value date (clamped to ±30) → SETTLED rows.
    delays: BTreeMap<String, BTreeMap<i64, u64>>,
    /// Accepted settlements.
    n_set: u64,
    /// Side → reason → rejected rows.
    rej: BTreeMap<String, BTreeMap<String, u64>>,
}

impl Derived {
    /// `add` to the figures of a row's currency, of its provider's and (when it has one)
    /// of its programme's.
    fn add(&mut self, provider: &str, program: Option<&str>, code: &str, add: impl Fn(&mut Fig)) {
        add(self.by_ccy.entry(code.to_string()).or_default());
        add(self
            .by_provider
            .entry(provider.to_string())
            .or_default()
            .entry(code.to_string())
            .or_default());
        if let Some(p) = program {
            add(self
                .by_program
                .entry(p.to_string())
                .or_default()
                .entry(code.to_string())
                .or_default());
        }
    }

    /// Counts each flag of a `flags` cell (`;`-separated).
    fn count_flags(&mut self, flags: &str) {
        for f in flags.split(';').filter(|f| !f.is_empty()) {
            *self.by_flag.entry(f.to_string()).or_default() += 1;
        }
    }

    fn rejected(&self, side: &str) -> u64 {
        self.rej.get(side).map_or(0, |m| m.values().sum::<u64>())
    }
}

/// Row-level discrepancies by kind: the first `ROW_LIST` of each listed, the rest counted.
#[derive(Default)]
struct RowIssues(BTreeMap<&'static str, (u64, Vec<Discrepancy>)>);

impl RowIssues {
    fn push(&mut self, kind: &'static str, d: Discrepancy) {
        let e = self.0.entry(kind).or_default();
        e.0 += 1;
        if e.1.len() < ROW_LIST {
            e.1.push(d);
        }
    }

    /// Adds the listed discrepancies to `r`, with one line per kind for the rest; returns
    /// how many rows disagreed.
    fn report(self, r: &mut VerifyReport) -> u64 {
        let n_rows: u64 = self.0.values().map(|x| x.0).sum();
        for (kind, (n, list)) in self.0 {
            let shown = list.len() as u64;
            let file = list.first().map_or(IF.to_string(), |d| d.file.clone());
            r.discrepancies.extend(list);
            if n > shown {
                r.diff(
                    &file,
                    format!("{kind}: {} more rows", n - shown),
                    "none",
                    "see above",
                );
            }
        }
        n_rows
    }
}

/// One accepted instruction, as far as the re-derivation needs it.
struct Ins {
    program: u32,
    ccy: String,
    amount: i128,
    due: i32,
    status: String,
    paid: i128,
    count: i64,
}

/// The accepted instructions in file order, with what settlements need to find theirs.
#[derive(Default)]
struct Instructions {
    rows: Vec<Ins>,
    /// `instruction_id` → index in `rows`.
    id_of: HashMap<String, u32>,
    programs: Vec<String>,
    program_ix: HashMap<String, u32>,
}

const INS_COLUMNS: [&str; 11] = [
    "instruction_id",
    "program",
    "provider",
    "amount",
    "currency",
    "due_date",
    "status",
    "paid_amount",
    "difference",
    "settlement_count",
    "flags",
];

impl Instructions {
    /// Reads `instructions.parquet`, counting each row into `d`, checking its
    /// difference and the uniqueness of its id, and placing it in its input (`lin`).
    fn read(
        pq: &Pq,
        d: &mut Derived,
        issues: &mut RowIssues,
        lin: &mut Lineage,
    ) -> ReadResult<Instructions> {
        let mut ins = Instructions::default();
        let columns = lin.columns(pq, IF, &INS_COLUMNS);
        pq.for_each(&columns, |b, first| {
            ins.batch(b, d, issues)?;
            lin.batch(IF, first, b, Some(0), issues)
        })?;
        Ok(ins)
    }

    fn batch(
        &mut self,
        b: &RecordBatch,
        d: &mut Derived,
        issues: &mut RowIssues,
    ) -> ReadResult<()> {
        let t = |c: &str| Text::of(b, c);
        let (id, prog, prov) = (t("instruction_id")?, t("program")?, t("provider")?);
        let (ccy, st, fl) = (t("currency")?, t("status")?, t("flags")?);
        let (amt, sc) = decimal(b, "amount")?;
        let (paid, sc_p) = decimal(b, "paid_amount")?;
        let (diff, sc_d) = decimal(b, "difference")?;
        let (due, cnt) = (date32(b, "due_date")?, int64(b, "settlement_count")?);
        for i in 0..b.num_rows() {
            let row = self.rows.len() + 1;
            let code = ccy.value(i);
            let a = to_minor(amt[i], sc, code)?;
            let p = to_minor(paid[i], sc_p, code)?;
            let df = to_minor(diff[i], sc_d, code)?;
            if df != p - a {
                issues.push(
                    "difference",
                    Discrepancy {
                        file: IF.into(),
                        field: format!("row {row} difference"),
                        expected: fmt_minor(p - a, minor_units(code).unwrap_or(0)),
                        found: fmt_minor(df, minor_units(code).unwrap_or(0)),
                    },
                );
            }
            let status = st.value(i).to_string();
            *d.by_status.entry(status.clone()).or_default() += 1;
            d.count_flags(fl.value(i));
            let unpaid = status == "UNPAID";
            d.add(prov.value(i), Some(prog.value(i)), code, |f| {
                f.instructed_count += 1;
                f.instructed_amount += a;
                if unpaid {
                    f.unpaid_count += 1;
                    f.unpaid_amount += a;
                }
            });
            let program = self.program_id(prog.value(i));
            if self
                .id_of
                .insert(id.value(i).to_string(), self.rows.len() as u32)
                .is_some()
            {
                issues.push(
                    "duplicate id",
                    Discrepancy {
                        file: IF.into(),
                        field: format!("row {row} instruction_id"),
                        expected: "unique".into(),
                        found: format!("{:?} again", id.value(i)),
                    },
                );
            }
            self.rows.push(Ins {
                program,
                ccy: code.to_string(),
                amount: a,
                due: due[i],
                status,
                paid: p,
                count: cnt[i],
            });
        }
        Ok(())
    }

    /// A dense number per programme name, in order of first appearance.
    fn program_id(&mut self, name: &str) -> u32 {
        if let Some(&x) = self.program_ix.get(name) {
            return x;
        }
        self.programs.push(name.to_string());
        let id = (self.programs.len() - 1) as u32;
        self.program_ix.insert(name.to_string(), id);
        id
    }
}

/// What an instruction's matched settlements add up to.
#[derive(Default)]
struct PerIns {
    n: u64,
    n_settled: u64,
    n_returned: u64,
    other_ccy: bool,
    paid: i128,
}

const SET_COLUMNS: [&str; 9] = [
    "provider",
    "amount",
    "fee",
    "currency",
    "status",
    "value_date",
    "match_method",
    "matched_instruction_id",
    "flags",
];

/// The settlement side of the re-derivation: each row counted into `d` and added to the
/// instruction it matched.
struct Settlements<'a> {
    ins: &'a Instructions,
    per: Vec<PerIns>,
}

/// One settlement row, its amounts in minor units (0 when absent).
struct SetRow<'a> {
    provider: &'a str,
    /// `None`: a FAILED row without a currency (v2), counted in no currency's totals.
    code: Option<&'a str>,
    status: &'a str,
    method: &'a str,
    amount: i128,
    fee: i128,
    value_date: i32,
}

impl<'a> Settlements<'a> {
    /// Reads `settlements.parquet`; the result is indexed as `ins.rows`.
    fn read(
        pq: &Pq,
        ins: &'a Instructions,
        d: &mut Derived,
        issues: &mut RowIssues,
        lin: &mut Lineage,
    ) -> ReadResult<Vec<PerIns>> {
        let mut s = Settlements {
            ins,
            per: (0..ins.rows.len()).map(|_| PerIns::default()).collect(),
        };
        let columns = lin.columns(pq, SF, &SET_COLUMNS);
        pq.for_each(&columns, |b, first| {
            s.batch(b, d, issues)?;
            lin.batch(SF, first, b, Some(1), issues)
        })?;
        Ok(s.per)
    }

    fn batch(
        &mut self,
        b: &RecordBatch,
        d: &mut Derived,
        issues: &mut RowIssues,
    ) -> ReadResult<()> {
        let t = |c: &str| Text::of(b, c);
        let (prov, ccy, st) = (t("provider")?, t("currency")?, t("status")?);
        let (mm, mi, fl) = (
            t("match_method")?,
            t("matched_instruction_id")?,
            t("flags")?,
        );
        let (amt, sc) = decimal(b, "amount")?;
        let no_amount = nulls(b, "amount")?;
        let (fee, sc_f) = decimal(b, "fee")?;
        let vd = date32(b, "value_date")?;
        for i in 0..b.num_rows() {
            d.n_set += 1;
            let code = ccy.get(i);
            let has_amount = no_amount.is_none_or(|n| n.is_valid(i));
            let s = SetRow {
                provider: prov.value(i),
                code,
                status: st.value(i),
                method: mm.value(i),
                amount: match code {
                    Some(c) if has_amount => to_minor(amt[i], sc, c)?,
                    _ => 0,
                },
                fee: match code {
                    Some(c) => to_minor(fee[i], sc_f, c)?,
                    None => 0,
                },
                value_date: vd[i],
            };
            absent_values(d.n_set, &s, has_amount, fee[i], issues);
            *d.by_match.entry(s.method.to_string()).or_default() += 1;
            d.count_flags(fl.value(i));
            let target = self.target(d.n_set, mi.get(i), s.method, issues);
            let program =
                target.map(|k| self.ins.programs[self.ins.rows[k].program as usize].as_str());
            // (v2) A settlement without a currency counts in no currency's totals.
            if let Some(c) = code {
                d.add(s.provider, program, c, |g| add_settlement(g, &s));
            }
            if let Some(k) = target {
                self.matched(k, &s, d);
            }
        }
        Ok(())
    }

    /// The instruction a settlement (row `row`) matched, checking that it exists and
    /// that the match method says whether there is one.
    fn target(
        &self,
        row: u64,
        matched: Option<&str>,
        method: &str,
        issues: &mut RowIssues,
    ) -> Option<usize> {
        let target = match matched {
            Some(id) => match self.ins.id_of.get(id) {
                Some(&k) => Some(k as usize),
                None => {
                    issues.push(
                        "matched id",
                        Discrepancy {
                            file: SF.into(),
                            field: format!("row {row} matched_instruction_id"),
                            expected: "an instruction in instructions.parquet".into(),
                            found: format!("{id:?}"),
                        },
                    );
                    None
                }
            },
            None => None,
        };
        if (method == "NONE") != matched.is_none() {
            issues.push(
                "match method",
                Discrepancy {
                    file: SF.into(),
                    field: format!("row {row} match_method"),
                    expected: if matched.is_none() {
                        "NONE".into()
                    } else {
                        "REFERENCE, FALLBACK or MANUAL".to_string()
                    },
                    found: method.to_string(),
                },
            );
        }
        target
    }

    /// Adds a settlement to instruction `k`'s tally, and a SETTLED one's delay to its
    /// provider's histogram.
    fn matched(&mut self, k: usize, s: &SetRow, d: &mut Derived) {
        let it = &self.ins.rows[k];
        let p = &mut self.per[k];
        p.n += 1;
        // (v2) A settlement without a currency is no mismatch (CONTRACT.md 4, rule 2).
        let same = s.code.is_none_or(|c| c == it.ccy);
        if !same {
            p.other_ccy = true;
        }
        match s.status {
            "SETTLED" => {
                p.n_settled += 1;
                if same {
                    p.paid += s.amount;
                }
                let days = (s.value_date as i64 - it.due as i64).clamp(-30, 30);
                *d.delays
                    .entry(s.provider.to_string())
                    .or_default()
                    .entry(days)
                    .or_default() += 1;
            }
            "RETURNED" => {
                p.n_returned += 1;
                if same {
                    p.paid -= s.amount;
                }
            }
            _ => {}
        }
    }
}

/// (v2) Only a FAILED settlement may lack its amount or currency (CONTRACT.md 1), and one
/// without a currency has no amount and no fee (a value needs its currency).
fn absent_values(row: u64, s: &SetRow, has_amount: bool, raw_fee: i128, issues: &mut RowIssues) {
    let mut wrong = |field: &str, expected: &str, found: String| {
        issues.push(
            "absent value",
            Discrepancy {
                file: SF.into(),
                field: format!("row {row} {field}"),
                expected: expected.into(),
                found,
            },
        )
    };
    if (!has_amount || s.code.is_none()) && s.status != "FAILED" {
        let what = if has_amount { "currency" } else { "amount" };
        wrong(
            "status",
            &format!("FAILED (the row has no {what})"),
            s.status.to_string(),
        );
    }
    if s.code.is_none() && has_amount {
        wrong("amount", "null (the row has no currency)", "a value".into());
    }
    if s.code.is_none() && raw_fee != 0 {
        wrong(
            "fee",
            "0 (the row has no currency)",
            format!("{raw_fee} (file units)"),
        );
    }
}

/// A settlement's contribution to the per-currency figures.
fn add_settlement(g: &mut Fig, s: &SetRow) {
    g.fees += s.fee;
    match s.status {
        "SETTLED" => {
            g.settled_count += 1;
            g.settled_amount += s.amount;
            if s.method == "NONE" {
                g.unexpected_count += 1;
                g.unexpected_amount += s.amount;
            }
        }
        "RETURNED" => {
            g.returned_count += 1;
            g.returned_amount += s.amount;
        }
        _ => g.failed_count += 1,
    }
}

/// Row level: paid, settlement_count and status from the matched settlements (§4).
fn check_rows(ins: &[Ins], per: &[PerIns], issues: &mut RowIssues) {
    for (k, (it, p)) in ins.iter().zip(per).enumerate() {
        let row = k + 1;
        let m = minor_units(&it.ccy).unwrap_or(0);
        if it.paid != p.paid {
            issues.push(
                "paid_amount",
                Discrepancy {
                    file: IF.into(),
                    field: format!("row {row} paid_amount"),
                    expected: fmt_minor(p.paid, m),
                    found: fmt_minor(it.paid, m),
                },
            );
        }
        if it.count != p.n as i64 {
            issues.push(
                "settlement_count",
                Discrepancy {
                    file: IF.into(),
                    field: format!("row {row} settlement_count"),
                    expected: p.n.to_string(),
                    found: it.count.to_string(),
                },
            );
        }
        let status = status_of(it, p);
        if it.status != status {
            issues.push(
                "status",
                Discrepancy {
                    file: IF.into(),
                    field: format!("row {row} status"),
                    expected: status.into(),
                    found: it.status.clone(),
                },
            );
        }
    }
}

/// An instruction's status from its matched settlements, in the contract's precedence.
fn status_of(it: &Ins, p: &PerIns) -> &'static str {
    if p.n == 0 {
        "UNPAID"
    } else if p.other_ccy {
        "CURRENCY_MISMATCH"
    } else if p.n_settled >= 2 {
        "DOUBLE_PAID"
    } else if p.n_settled == 0 && p.n_returned > 0 {
        "RETURNED"
    } else if p.n_settled == 0 {
        "FAILED"
    } else if p.paid == 0 && p.n_returned > 0 {
        "RETURNED"
    } else if p.paid == it.amount {
        "PAID"
    } else if p.paid < it.amount {
        "UNDERPAID"
    } else {
        "OVERPAID"
    }
}

/// Rejected rows by side and reason, each placed in its input (`lin`).
fn read_rejects(
    pq: &Pq,
    issues: &mut RowIssues,
    lin: &mut Lineage,
) -> ReadResult<BTreeMap<String, BTreeMap<String, u64>>> {
    let mut rej: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let columns = lin.columns(pq, RF, &["side", "reason"]);
    pq.for_each(&columns, |b, first| {
        let side = Text::of(b, "side")?;
        let reason = Text::of(b, "reason")?;
        for i in 0..b.num_rows() {
            *rej.entry(side.value(i).to_string())
                .or_default()
                .entry(reason.value(i).to_string())
                .or_default() += 1;
        }
        lin.batch(RF, first, b, None, issues)
    })?;
    Ok(rej)
}

fn count_map(m: &BTreeMap<String, u64>) -> Value {
    Value::Object(m.iter().map(|(k, v)| (k.clone(), json!(v))).collect())
}

/// Accepted and rejected rows per side (`c`: the summary's `counts`).
fn check_counts(r: &mut VerifyReport, c: &Counts, d: &Derived, n_ins: usize) {
    for (field, derived, found) in [
        (
            "instructions_accepted",
            n_ins as u64,
            c.instructions_accepted,
        ),
        ("settlements_accepted", d.n_set, c.settlements_accepted),
        (
            "rejects.instructions",
            d.rejected("instructions"),
            c.rejects.instructions,
        ),
        (
            "rejects.settlements",
            d.rejected("settlements"),
            c.rejects.settlements,
        ),
    ] {
        r.same(
            S,
            &format!("counts.{field}"),
            &json!(derived),
            &json!(found),
        );
    }
}

/// Conservation: rows read = accepted + rejected, and rows read = the inputs' rows.
fn check_conservation(
    r: &mut VerifyReport,
    c: &Counts,
    m_inputs: &[InputEntry],
    d: &Derived,
    n_ins: usize,
) {
    for (side, accepted, rows_in) in [
        ("instructions", n_ins as u64, c.instructions_in),
        ("settlements", d.n_set, c.settlements_in),
    ] {
        let derived = accepted + d.rejected(side);
        r.same(
            S,
            &format!("counts.{side}_in (accepted + rejected)"),
            &json!(derived),
            &json!(rows_in),
        );
        let read: u64 = m_inputs
            .iter()
            .filter(|i| i.side == side)
            .filter_map(|i| i.rows)
            .sum();
        r.same(
            MANIFEST,
            &format!("inputs rows of {side} (accepted + rejected)"),
            &json!(derived),
            &json!(read),
        );
    }
}

/// Counts by status, flag, match method and reject reason.
fn check_breakdowns(r: &mut VerifyReport, c: &Counts, d: &Derived) {
    for (field, derived, found) in [
        ("by_status", &d.by_status, &c.by_status),
        ("by_flag", &d.by_flag, &c.by_flag),
        ("by_match", &d.by_match, &c.by_match),
    ] {
        // A JSON object compares whatever its key order; shown in the file's order.
        r.same(
            S,
            &format!("counts.{field}"),
            &count_map(derived),
            &json!(found),
        );
    }
    let by_reason = &c.rejects_by_reason;
    for (side, found) in [
        ("instructions", &by_reason.instructions),
        ("settlements", &by_reason.settlements),
    ] {
        let derived = d.rej.get(side).map(count_map).unwrap_or_else(|| json!({}));
        let found = &json!(found);
        // Same figures whatever the key order.
        let as_map = |v: &Value| -> BTreeMap<String, Value> {
            v.as_object()
                .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                .unwrap_or_default()
        };
        if as_map(&derived) != as_map(found) {
            r.diff(
                S,
                format!("counts.rejects_by_reason.{side}"),
                show(&derived),
                show(found),
            );
        }
    }
}

/// Totals per currency, and per currency of each provider and programme.
fn check_totals(r: &mut VerifyReport, s: &Summary, d: &Derived) {
    compare_figs(r, "totals", &d.by_ccy, &s.totals);
    for (key, nested, found) in [
        ("totals_by_provider", &d.by_provider, &s.totals_by_provider),
        ("totals_by_program", &d.by_program, &s.totals_by_program),
    ] {
        for name in nested.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
            let (empty, none) = (Figs::new(), TotalsByCcy::new());
            compare_figs(
                r,
                &format!("{key}.{name}"),
                nested.get(name).unwrap_or(&empty),
                found.get(name).unwrap_or(&none),
            );
        }
    }
}

/// Field by field, in the fields' alphabetical order.
fn compare_figs(r: &mut VerifyReport, prefix: &str, derived: &Figs, found: &TotalsByCcy) {
    let found = match serde_json::to_value(found) {
        Ok(Value::Object(o)) => o,
        _ => Map::new(),
    };
    for code in derived.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
        let d = derived
            .get(code)
            .map(|f| f.json(code))
            .unwrap_or(Value::Null);
        let f = found.get(code).cloned().unwrap_or(Value::Null);
        match (d.as_object(), f.as_object()) {
            (Some(dm), Some(fm)) => {
                for k in dm.keys().chain(fm.keys()).collect::<BTreeSet<_>>() {
                    let a = dm.get(k).cloned().unwrap_or(Value::Null);
                    let b = fm.get(k).cloned().unwrap_or(Value::Null);
                    r.same(S, &format!("{prefix}.{code}.{k}"), &a, &b);
                }
            }
            _ => r.same(S, &format!("{prefix}.{code}"), &d, &f),
        }
    }
}

/// The settlement delay histogram of each provider, over the summary's day range.
fn check_delays(
    r: &mut VerifyReport,
    found: &BTreeMap<String, Delays>,
    delays: &BTreeMap<String, BTreeMap<i64, u64>>,
) {
    for name in delays.keys().chain(found.keys()).collect::<BTreeSet<_>>() {
        let from = found.get(name).map_or(-30, |h| h.days_from as i64);
        let derived: Vec<u64> = (from..=-from)
            .map(|d| {
                delays
                    .get(name)
                    .and_then(|h| h.get(&d))
                    .copied()
                    .unwrap_or(0)
            })
            .collect();
        let got = found.get(name).map_or(Value::Null, |h| json!(h.counts));
        r.same(
            S,
            &format!("settlement_delay_by_provider.{name}.counts"),
            &json!(derived),
            &got,
        );
    }
}
