//! Decisions (CONTRACT.md section 8) re-derived from `decisions.parquet` and the rows:
//! the summary's counts by outcome and reason; every applied decision approved by someone
//! other than its maker; every MANUAL match, `MANUAL_MATCH` and `ACCEPTED` flag backed by
//! an applied decision naming that row, and every applied MATCH or UNMATCH seen in its
//! settlement's method; every row's `decision_ids` exactly the applied decisions that
//! name it (for an instruction, also those whose settlement it had without decisions).

use std::collections::BTreeMap;
use std::path::Path;

use hashbrown::{HashMap, HashSet};
use serde_json::json;
use sverka_engine::Summary;

use super::{RowIssues, IF, S, SF};
use crate::read::{int64, Pq, ReadResult};
use crate::text::Text;
use crate::verify::{Discrepancy, VerifyReport};

const DF: &str = "decisions.parquet";

/// An applied decision, as `decisions.parquet` lists it.
struct Applied {
    order: usize,
    id: String,
    action: String,
    instruction: String,
    /// The instruction its settlement was matched to without decisions.
    before: String,
}

#[derive(Default)]
struct Read {
    applied: Vec<Applied>,
    /// provider \x1f provider_ref → index in `applied` (MATCH, UNMATCH).
    by_settlement: HashMap<String, usize>,
    by_outcome: BTreeMap<String, u64>,
    by_reason: BTreeMap<String, u64>,
    rows: u64,
}

fn key(provider: &str, provider_ref: &str) -> String {
    format!("{provider}\x1f{provider_ref}")
}

fn issue(file: &str, field: String, expected: impl ToString, found: impl ToString) -> Discrepancy {
    Discrepancy {
        file: file.into(),
        field,
        expected: expected.to_string(),
        found: found.to_string(),
    }
}

/// Checks a folder's decisions; returns the line for "checked", or `None` when the
/// folder has none (then no row may carry a MANUAL match or a decision flag).
pub(super) fn check(
    r: &mut VerifyReport,
    dir: &Path,
    s: Option<&Summary>,
    listed: bool,
    issues: &mut RowIssues,
) -> ReadResult<Option<String>> {
    if !listed {
        if s.is_some_and(|s| s.decisions.is_some()) {
            r.diff(
                S,
                "decisions",
                "no decisions (no decisions.parquet)",
                "counts",
            );
        }
        return Ok(None);
    }
    let d = read(
        &Pq::open(&dir.join(DF), &["action", "outcome", "reason"])?,
        issues,
    )?;
    if let Some(s) = s {
        check_counts(r, s, &d);
    }
    let manual = settlements(dir, &d, issues)?;
    instructions(dir, &d, &manual, issues)?;
    Ok(Some(format!(
        "decisions: {} re-counted by outcome and reason; {} applied, each backing the rows it names",
        d.rows,
        d.applied.len()
    )))
}

fn read(pq: &Pq, issues: &mut RowIssues) -> ReadResult<Read> {
    let cols = [
        "decision_id",
        "action",
        "provider",
        "provider_ref",
        "instruction_id",
        "decided_by",
        "approved_by",
        "outcome",
        "reason",
        "settlement_instruction_before",
        "row",
    ];
    let mut d = Read::default();
    pq.for_each(&cols, |b, first| {
        let t = |n: &str| Text::of(b, n);
        let (id, action, prov, pref) = (t(cols[0])?, t(cols[1])?, t(cols[2])?, t(cols[3])?);
        let (ins, maker, checker) = (t(cols[4])?, t(cols[5])?, t(cols[6])?);
        let (outcome, reason, before) = (t(cols[7])?, t(cols[8])?, t(cols[9])?);
        int64(b, "row")?;
        for i in 0..b.num_rows() {
            let order = first + i;
            d.rows += 1;
            *d.by_outcome.entry(outcome.value(i).into()).or_default() += 1;
            if let Some(x) = reason.get(i) {
                *d.by_reason.entry(x.into()).or_default() += 1;
            }
            if outcome.value(i) != "APPLIED" {
                continue;
            }
            if checker.value(i).is_empty() || checker.value(i) == maker.value(i) {
                issues.push(
                    "decision applied without a second person's approval",
                    issue(
                        DF,
                        format!("row {} ({}) approved_by", order + 1, id.value(i)),
                        "a name other than decided_by",
                        format!("{:?}", checker.value(i)),
                    ),
                );
            }
            let k = d.applied.len();
            if matches!(action.value(i), "MATCH" | "UNMATCH") {
                let sk = key(prov.value(i), pref.value(i));
                if d.by_settlement.insert(sk, k).is_some() {
                    issues.push(
                        "two applied decisions on one settlement",
                        issue(
                            DF,
                            format!("row {} ({})", order + 1, id.value(i)),
                            "one applied decision per settlement",
                            format!("another on {} / {}", prov.value(i), pref.value(i)),
                        ),
                    );
                }
            }
            d.applied.push(Applied {
                order,
                id: id.value(i).into(),
                action: action.value(i).into(),
                instruction: ins.value(i).into(),
                before: before.value(i).into(),
            });
        }
        Ok(())
    })?;
    Ok(d)
}

/// The summary's `decisions` and the decision inputs' rows against `decisions.parquet`.
fn check_counts(r: &mut VerifyReport, s: &Summary, d: &Read) {
    let Some(c) = &s.decisions else {
        r.diff(
            S,
            "decisions",
            "counts (the folder has decisions.parquet)",
            "none",
        );
        return;
    };
    let n = |o: &str| d.by_outcome.get(o).copied().unwrap_or(0);
    for (field, listed, found) in [
        ("applied", c.applied, n("APPLIED")),
        ("pending", c.pending, n("PENDING")),
        ("refused", c.refused, n("REFUSED")),
    ] {
        r.same(
            S,
            &format!("decisions.{field}"),
            &json!(found),
            &json!(listed),
        );
    }
    let listed: BTreeMap<String, u64> = c.by_reason.0.iter().cloned().collect();
    r.same(
        S,
        "decisions.by_reason",
        &json!(d.by_reason),
        &json!(listed),
    );
    let read: u64 = s
        .inputs
        .iter()
        .filter(|i| i.side == "decisions")
        .map(|i| i.rows)
        .sum();
    r.same(
        S,
        "inputs rows of decisions (decisions.parquet rows)",
        &json!(d.rows),
        &json!(read),
    );
}

/// The settlements' methods and `decision_ids` against the applied decisions; returns
/// the instructions with a MANUAL match.
fn settlements(dir: &Path, d: &Read, issues: &mut RowIssues) -> ReadResult<HashSet<String>> {
    let pq = Pq::open(&dir.join(SF), &["match_method"])?;
    let cols = [
        "provider",
        "provider_ref",
        "match_method",
        "matched_instruction_id",
        "decision_ids",
    ];
    let mut manual = HashSet::new();
    pq.for_each(&cols, |b, first| {
        let t = |n: &str| Text::of(b, n);
        let (prov, pref, method, matched, ids) = (
            t(cols[0])?,
            t(cols[1])?,
            t(cols[2])?,
            t(cols[3])?,
            t(cols[4])?,
        );
        for i in 0..b.num_rows() {
            let row = first + i + 1;
            let decided = d
                .by_settlement
                .get(&key(prov.value(i), pref.value(i)))
                .map(|&k| &d.applied[k]);
            let (m, to) = (method.value(i), matched.value(i));
            if m == "MANUAL" {
                manual.insert(to.to_string());
            }
            let expected = match decided {
                Some(a) if a.action == "MATCH" => format!("MANUAL to {}", a.instruction),
                Some(_) => "NONE".into(),
                None if m == "MANUAL" => "an applied MATCH decision naming it".into(),
                None => String::new(),
            };
            let found = if m == "NONE" || m == "MANUAL" && decided.is_none() {
                m.to_string()
            } else {
                format!("{m} to {to}")
            };
            if !expected.is_empty() && expected != found {
                issues.push(
                    "settlement against its decision",
                    issue(SF, format!("row {row} match_method"), &expected, found),
                );
            }
            let want = decided.map_or("", |a| a.id.as_str());
            if ids.value(i) != want {
                issues.push(
                    "decision_ids",
                    issue(SF, format!("row {row} decision_ids"), want, ids.value(i)),
                );
            }
        }
        Ok(())
    })?;
    Ok(manual)
}

/// The instructions' decision flags and `decision_ids` against the applied decisions.
fn instructions(
    dir: &Path,
    d: &Read,
    manual: &HashSet<String>,
    issues: &mut RowIssues,
) -> ReadResult<()> {
    // Instruction id → the applied decisions naming it, in input order.
    let mut named: HashMap<&str, Vec<(usize, &str)>> = HashMap::new();
    let mut accepted: HashSet<&str> = HashSet::new();
    for a in &d.applied {
        if a.action == "ACCEPT" {
            accepted.insert(&a.instruction);
        }
        let names: &[&str] = match a.action.as_str() {
            "MATCH" => &[&a.instruction, &a.before],
            "UNMATCH" => &[&a.before],
            _ => &[&a.instruction],
        };
        for &n in names.iter().filter(|n| !n.is_empty()) {
            named.entry(n).or_default().push((a.order, &a.id));
        }
    }
    let pq = Pq::open(&dir.join(IF), &["flags"])?;
    let cols = ["instruction_id", "flags", "decision_ids"];
    pq.for_each(&cols, |b, first| {
        let (id, flags, ids) = (
            Text::of(b, cols[0])?,
            Text::of(b, cols[1])?,
            Text::of(b, cols[2])?,
        );
        for i in 0..b.num_rows() {
            let row = first + i + 1;
            let f: Vec<&str> = flags.value(i).split(';').collect();
            for (flag, backed) in [
                ("ACCEPTED", accepted.contains(id.value(i))),
                ("MANUAL_MATCH", manual.contains(id.value(i))),
            ] {
                if f.contains(&flag) != backed {
                    issues.push(
                        "instruction flag against the decisions",
                        issue(
                            IF,
                            format!("row {row} flags {flag}"),
                            if backed {
                                "set"
                            } else {
                                "absent (no applied decision)"
                            },
                            flags.value(i),
                        ),
                    );
                }
            }
            let mut want = named.get(id.value(i)).cloned().unwrap_or_default();
            want.sort_unstable();
            want.dedup();
            let want: Vec<&str> = want.into_iter().map(|(_, x)| x).collect();
            if ids.value(i) != want.join(";") {
                issues.push(
                    "decision_ids",
                    issue(
                        IF,
                        format!("row {row} decision_ids"),
                        want.join(";"),
                        ids.value(i),
                    ),
                );
            }
        }
        Ok(())
    })
}
