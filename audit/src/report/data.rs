//! The report's figures, extracted from a results folder's written outputs:
//! `summary.json` and the three Parquet files read with a column projection. Row groups
//! are scanned in parallel; only the rows shown in the exception tables are read whole.
//!
//! "Amount at risk" per finding is defined once, here ([`FINDINGS`]) and in docs/AUDIT.md.

use std::collections::BTreeMap;

use arrow_array::{Array, RecordBatch};
use hashbrown::HashMap;

use crate::read::{decimal, Pq, ReadResult, Text};

/// Rows shown per finding and currency in the exception tables.
pub const TOP: usize = 100;
/// Providers / programmes drawn per chart; the rest are summed into one "others" row.
pub const CHART_ROWS: usize = 30;

/// The statuses in the contract's precedence order.
pub const STATUSES: [&str; 8] = [
    "UNPAID",
    "CURRENCY_MISMATCH",
    "DOUBLE_PAID",
    "RETURNED",
    "FAILED",
    "PAID",
    "UNDERPAID",
    "OVERPAID",
];

/// Instruction flags, alphabetical (as written in the `flags` column).
pub const FLAGS: [&str; 7] = [
    "ACCOUNT_MISMATCH",
    "AMOUNT_OUTLIER",
    "DUPLICATE_BENEFICIARY",
    "FALLBACK_MATCH",
    "LATE",
    "PROVIDER_MISMATCH",
    "SHARED_ACCOUNT",
];

/// How a finding's amount at risk follows from its row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Risk {
    /// The instructed (or settled) amount.
    Amount,
    /// `-difference`: what is missing.
    Shortfall,
    /// `difference`: what was paid beyond the amount.
    Excess,
    /// `|difference|`.
    AbsDifference,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    Status(u8),
    Flag(u8),
    /// A SETTLED settlement nobody instructed (method NONE).
    Unexpected,
    /// A settlement with the AMBIGUOUS flag.
    Ambiguous,
}

pub struct Finding {
    pub name: &'static str,
    pub rule: Rule,
    pub risk: Risk,
    pub what: &'static str,
    pub risk_text: &'static str,
}

impl Finding {
    pub fn settlement(&self) -> bool {
        matches!(self.rule, Rule::Unexpected | Rule::Ambiguous)
    }
}

/// Every finding, in the order the report shows them.
pub const FINDINGS: [Finding; 16] = [
    Finding {
        name: "UNPAID",
        rule: Rule::Status(0),
        risk: Risk::Amount,
        what: "no settlement matched",
        risk_text: "amount",
    },
    Finding {
        name: "FAILED",
        rule: Rule::Status(4),
        risk: Risk::Amount,
        what: "only FAILED settlements matched",
        risk_text: "amount",
    },
    Finding {
        name: "RETURNED",
        rule: Rule::Status(3),
        risk: Risk::Amount,
        what: "the money came back",
        risk_text: "amount",
    },
    Finding {
        name: "CURRENCY_MISMATCH",
        rule: Rule::Status(1),
        risk: Risk::Amount,
        what: "a matched settlement is in another currency",
        risk_text: "amount",
    },
    Finding {
        name: "DOUBLE_PAID",
        rule: Rule::Status(2),
        risk: Risk::AbsDifference,
        what: "two or more SETTLED settlements",
        risk_text: "|difference|",
    },
    Finding {
        name: "OVERPAID",
        rule: Rule::Status(7),
        risk: Risk::Excess,
        what: "paid more than instructed",
        risk_text: "difference",
    },
    Finding {
        name: "UNDERPAID",
        rule: Rule::Status(6),
        risk: Risk::Shortfall,
        what: "paid less than instructed",
        risk_text: "−difference",
    },
    Finding {
        name: "UNEXPECTED",
        rule: Rule::Unexpected,
        risk: Risk::Amount,
        what: "SETTLED settlement matched to no instruction",
        risk_text: "settled amount",
    },
    Finding {
        name: "AMBIGUOUS",
        rule: Rule::Ambiguous,
        risk: Risk::Amount,
        what: "settlement with several fallback candidates, left for a person",
        risk_text: "settled amount",
    },
    Finding {
        name: "ACCOUNT_MISMATCH",
        rule: Rule::Flag(0),
        risk: Risk::Amount,
        what: "credited another account than instructed",
        risk_text: "amount",
    },
    Finding {
        name: "PROVIDER_MISMATCH",
        rule: Rule::Flag(5),
        risk: Risk::Amount,
        what: "settled by another provider",
        risk_text: "amount",
    },
    Finding {
        name: "AMOUNT_OUTLIER",
        rule: Rule::Flag(1),
        risk: Risk::Amount,
        what: "amount far above its programme's median",
        risk_text: "amount",
    },
    Finding {
        name: "DUPLICATE_BENEFICIARY",
        rule: Rule::Flag(2),
        risk: Risk::Amount,
        what: "same beneficiary twice in a programme cycle",
        risk_text: "amount",
    },
    Finding {
        name: "SHARED_ACCOUNT",
        rule: Rule::Flag(6),
        risk: Risk::Amount,
        what: "one account for many beneficiaries",
        risk_text: "amount",
    },
    Finding {
        name: "LATE",
        rule: Rule::Flag(4),
        risk: Risk::Amount,
        what: "settled after the due date plus the grace days",
        risk_text: "amount",
    },
    Finding {
        name: "FALLBACK_MATCH",
        rule: Rule::Flag(3),
        risk: Risk::Amount,
        what: "matched without the reference, by account and amount",
        risk_text: "amount",
    },
];

fn status_index(s: &str) -> Option<u8> {
    STATUSES.iter().position(|x| *x == s).map(|i| i as u8)
}

fn flag_bits(s: &str) -> u8 {
    s.split(';')
        .filter_map(|f| FLAGS.iter().position(|x| *x == f))
        .fold(0, |b, i| b | (1 << i))
}

/// A finding's count, amount at risk and best candidates, in one currency.
#[derive(Debug, Default, Clone)]
pub struct Cell {
    pub count: u64,
    pub risk: i128,
    /// (risk, row), ordered by risk descending then row: the top `TOP` at the end.
    pub top: Vec<(i128, usize)>,
}

impl Cell {
    fn push(&mut self, risk: i128, row: usize) {
        self.count += 1;
        self.risk += risk;
        self.top.push((risk, row));
        if self.top.len() >= 4 * TOP {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.top
            .sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        self.top.truncate(TOP);
    }

    fn merge(&mut self, o: Cell) {
        self.count += o.count;
        self.risk += o.risk;
        self.top.extend(o.top);
        self.trim();
    }
}

/// Counts by status and amounts by status, for one provider or programme.
#[derive(Debug, Default, Clone)]
pub struct StatusMix {
    pub count: [u64; 8],
    /// Per currency, instructed amount by status (minor units).
    pub value: BTreeMap<String, [i128; 8]>,
}

impl StatusMix {
    fn merge(&mut self, o: StatusMix) {
        for (a, b) in self.count.iter_mut().zip(o.count) {
            *a += b;
        }
        for (c, v) in o.value {
            let e = self.value.entry(c).or_insert([0; 8]);
            for (a, b) in e.iter_mut().zip(v) {
                *a += b;
            }
        }
    }
}

/// Bins of the amount distribution, on a log scale with ten steps per power of ten
/// (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k minor units), compared as integers.
pub const BINS: usize = 400;
const STEPS: [i128; 10] = [10, 12, 15, 20, 25, 30, 40, 50, 60, 80];

/// The bin of a positive amount in minor units (0 for amounts below 1 minor unit... ×10).
pub fn bin_of(minor_v: i128) -> usize {
    if minor_v < 10 {
        return 0;
    }
    let d = minor_v.ilog10(); // >= 1
    let lead = minor_v / 10i128.pow(d - 1); // 10..=99
    let sub = STEPS.iter().filter(|&&t| t <= lead).count() - 1;
    ((d as usize - 1) * 10 + sub + 1).min(BINS - 1)
}

/// Lower bound of a bin, in minor units.
pub fn bin_floor(bin: usize) -> i128 {
    if bin == 0 {
        return 0;
    }
    let d = (bin - 1) / 10;
    STEPS[(bin - 1) % 10] * 10i128.pow(d as u32)
}

#[derive(Debug, Default, Clone)]
pub struct Currency {
    pub paid: i128,
    pub not_paid: i128,
    pub not_paid_count: u64,
    pub bins: Vec<u64>,
    pub outliers: Vec<u64>,
}

/// Everything the instructions scan yields.
#[derive(Debug, Default)]
pub struct InsFigures {
    pub ccy: BTreeMap<String, Currency>,
    /// (finding index, currency) → cell.
    pub findings: BTreeMap<(usize, String), Cell>,
    pub by_provider: BTreeMap<String, StatusMix>,
    pub by_program: BTreeMap<String, StatusMix>,
}

/// Minor-unit divisor of each currency at the file's decimal scale.
fn divisor(code: &str, scale: i8) -> ReadResult<(u8, i128)> {
    let minor = crate::minor_units(code).ok_or_else(|| format!("unknown currency {code:?}"))?;
    let shift = (scale as i32) - (minor as i32);
    if !(0..=38).contains(&shift) {
        return Err(format!(
            "amount scale {scale} below the minor units of {code}"
        ));
    }
    Ok((minor, 10i128.pow(shift as u32)))
}

/// Per-batch dense ids of a text column's values (dictionary keys when encoded).
struct Keys<'a> {
    names: Vec<&'a str>,
    ids: Vec<u32>,
}

fn keys<'a>(t: &Text<'a>, n: usize) -> Keys<'a> {
    if let Some((k, values)) = t.dict() {
        return Keys {
            names: (0..values.len()).map(|i| values.value(i)).collect(),
            ids: k[..n].iter().map(|&x| x as u32).collect(),
        };
    }
    let mut map: HashMap<&str, u32> = HashMap::new();
    let mut names = Vec::new();
    let ids = (0..n)
        .map(|i| {
            let v = t.value(i);
            *map.entry(v).or_insert_with(|| {
                names.push(v);
                (names.len() - 1) as u32
            })
        })
        .collect();
    Keys { names, ids }
}

pub const INS_SCAN: [&str; 8] = [
    "provider",
    "program",
    "amount",
    "currency",
    "status",
    "paid_amount",
    "difference",
    "flags",
];
pub const INS_DICT: [&str; 5] = ["provider", "program", "currency", "status", "flags"];

fn scan_ins_batch(acc: &mut InsFigures, b: &RecordBatch, first_row: usize) -> ReadResult<()> {
    let n = b.num_rows();
    let (amount, scale) = decimal(b, "amount")?;
    let (paid, _) = decimal(b, "paid_amount")?;
    let (diff, _) = decimal(b, "difference")?;
    let ccy = keys(&Text::of(b, "currency")?, n);
    let st = keys(&Text::of(b, "status")?, n);
    let fl = keys(&Text::of(b, "flags")?, n);
    let pv = keys(&Text::of(b, "provider")?, n);
    let pg = keys(&Text::of(b, "program")?, n);
    let divs = ccy
        .names
        .iter()
        .map(|c| divisor(c, scale))
        .collect::<ReadResult<Vec<_>>>()?;
    let status_of = st
        .names
        .iter()
        .map(|s| status_index(s).ok_or_else(|| format!("unknown status {s:?}")))
        .collect::<ReadResult<Vec<u8>>>()?;
    let bits_of: Vec<u8> = fl.names.iter().map(|s| flag_bits(s)).collect();
    let nc = ccy.names.len();
    let mut cur = vec![
        Currency {
            bins: vec![0; BINS],
            outliers: vec![0; BINS],
            ..Default::default()
        };
        nc
    ];
    let mut cells: Vec<Cell> = vec![Cell::default(); FINDINGS.len() * nc];
    let mut mix_p: HashMap<u32, ([u64; 8], Vec<[i128; 8]>)> = HashMap::new();
    let mut mix_g: HashMap<u32, ([u64; 8], Vec<[i128; 8]>)> = HashMap::new();
    for i in 0..n {
        let c = ccy.ids[i] as usize;
        let d = divs[c].1;
        let (a, p, df) = (amount[i] / d, paid[i] / d, diff[i] / d);
        let s = status_of[st.ids[i] as usize];
        let bits = bits_of[fl.ids[i] as usize];
        let cu = &mut cur[c];
        cu.paid += p;
        if matches!(s, 0 | 1 | 3 | 4) {
            cu.not_paid += a;
            cu.not_paid_count += 1;
        }
        let bin = bin_of(a);
        cu.bins[bin] += 1;
        if bits & 2 != 0 {
            cu.outliers[bin] += 1;
        }
        for (k, f) in FINDINGS.iter().enumerate() {
            let hit = match f.rule {
                Rule::Status(x) => x == s,
                Rule::Flag(x) => bits & (1 << x) != 0,
                Rule::Unexpected | Rule::Ambiguous => false,
            };
            if hit {
                let risk = match f.risk {
                    Risk::Amount => a,
                    Risk::Shortfall => -df,
                    Risk::Excess => df,
                    Risk::AbsDifference => df.abs(),
                };
                cells[k * nc + c].push(risk, first_row + i);
            }
        }
        for (map, id) in [(&mut mix_p, pv.ids[i]), (&mut mix_g, pg.ids[i])] {
            let e = map.entry(id).or_insert_with(|| ([0; 8], vec![[0; 8]; nc]));
            e.0[s as usize] += 1;
            e.1[c][s as usize] += a;
        }
    }
    let mut o = InsFigures::default();
    for (c, cu) in cur.into_iter().enumerate() {
        o.ccy.insert(ccy.names[c].to_string(), cu);
    }
    for (k, cell) in cells.into_iter().enumerate() {
        if cell.count > 0 {
            o.findings
                .insert((k / nc, ccy.names[k % nc].to_string()), cell);
        }
    }
    for (map, names, dest) in [
        (mix_p, &pv.names, &mut o.by_provider),
        (mix_g, &pg.names, &mut o.by_program),
    ] {
        for (id, (count, values)) in map {
            let mut m = StatusMix {
                count,
                value: BTreeMap::new(),
            };
            for (c, v) in values.into_iter().enumerate() {
                if v.iter().any(|x| *x != 0) {
                    m.value.insert(ccy.names[c].to_string(), v);
                }
            }
            dest.entry(names[id as usize].to_string())
                .or_default()
                .merge(m);
        }
    }
    merge_ins(acc, o)
}

fn merge_ins(a: &mut InsFigures, b: InsFigures) -> ReadResult<()> {
    for (k, v) in b.ccy {
        let e = a.ccy.entry(k).or_insert_with(|| Currency {
            bins: vec![0; BINS],
            outliers: vec![0; BINS],
            ..Default::default()
        });
        e.paid += v.paid;
        e.not_paid += v.not_paid;
        e.not_paid_count += v.not_paid_count;
        for (x, y) in e.bins.iter_mut().zip(v.bins) {
            *x += y;
        }
        for (x, y) in e.outliers.iter_mut().zip(v.outliers) {
            *x += y;
        }
    }
    for (k, v) in b.findings {
        a.findings.entry(k).or_default().merge(v);
    }
    for (k, v) in b.by_provider {
        a.by_provider.entry(k).or_default().merge(v);
    }
    for (k, v) in b.by_program {
        a.by_program.entry(k).or_default().merge(v);
    }
    Ok(())
}

pub fn scan_instructions(pq: &Pq) -> ReadResult<InsFigures> {
    pq.scan(
        &INS_SCAN,
        InsFigures::default,
        scan_ins_batch,
        |mut a, b| {
            merge_ins(&mut a, b)?;
            Ok(a)
        },
    )
}

pub const SET_SCAN: [&str; 5] = ["amount", "currency", "status", "match_method", "flags"];
pub const SET_DICT: [&str; 5] = ["provider", "currency", "status", "match_method", "flags"];

/// (finding index, currency) → cell, for the settlement findings.
pub type SetFigures = BTreeMap<(usize, String), Cell>;

pub fn scan_settlements(pq: &Pq) -> ReadResult<SetFigures> {
    let unexpected = FINDINGS
        .iter()
        .position(|f| f.rule == Rule::Unexpected)
        .expect("listed");
    let ambiguous = FINDINGS
        .iter()
        .position(|f| f.rule == Rule::Ambiguous)
        .expect("listed");
    pq.scan(
        &SET_SCAN,
        SetFigures::new,
        |acc, b, first| {
            let n = b.num_rows();
            let (amount, scale) = decimal(b, "amount")?;
            let ccy = keys(&Text::of(b, "currency")?, n);
            let st = Text::of(b, "status")?;
            let mm = Text::of(b, "match_method")?;
            let fl = Text::of(b, "flags")?;
            let divs = ccy
                .names
                .iter()
                .map(|c| divisor(c, scale))
                .collect::<ReadResult<Vec<_>>>()?;
            for (i, &raw) in amount.iter().enumerate().take(n) {
                let c = ccy.ids[i] as usize;
                let a = raw / divs[c].1;
                let code = ccy.names[c];
                if st.value(i) == "SETTLED" && mm.value(i) == "NONE" {
                    acc.entry((unexpected, code.to_string()))
                        .or_default()
                        .push(a, first + i);
                }
                if fl.value(i).split(';').any(|f| f == "AMBIGUOUS") {
                    acc.entry((ambiguous, code.to_string()))
                        .or_default()
                        .push(a, first + i);
                }
            }
            Ok(())
        },
        |mut a, b| {
            for (k, v) in b {
                a.entry(k).or_default().merge(v);
            }
            Ok(a)
        },
    )
}

/// Rejects counted by (side, file, reason).
pub type RejectCounts = BTreeMap<(String, String, String), u64>;

pub fn scan_rejects(pq: &Pq) -> ReadResult<RejectCounts> {
    pq.scan(
        &["side", "file", "reason"],
        RejectCounts::new,
        |acc, b, _| {
            let n = b.num_rows();
            let side = keys(&Text::of(b, "side")?, n);
            let file = keys(&Text::of(b, "file")?, n);
            let reason = keys(&Text::of(b, "reason")?, n);
            let mut local: HashMap<(u32, u32, u32), u64> = HashMap::new();
            for i in 0..n {
                *local
                    .entry((side.ids[i], file.ids[i], reason.ids[i]))
                    .or_default() += 1;
            }
            for ((s, f, r), c) in local {
                *acc.entry((
                    side.names[s as usize].to_string(),
                    file.names[f as usize].to_string(),
                    reason.names[r as usize].to_string(),
                ))
                .or_default() += c;
            }
            Ok(())
        },
        |mut a, b| {
            for (k, v) in b {
                *a.entry(k).or_default() += v;
            }
            Ok(a)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_are_exact_log_steps() {
        assert_eq!(bin_of(9), 0);
        assert_eq!(bin_of(10), 1);
        assert_eq!(bin_of(11), 1);
        assert_eq!(bin_of(12), 2);
        assert_eq!(bin_of(99), 10);
        assert_eq!(bin_of(100), 11);
        assert_eq!(bin_of(90_000_000), 70);
        for b in 1..60 {
            let v = bin_floor(b);
            assert_eq!(bin_of(v), b, "{v}");
            assert_eq!(bin_of(v - 1), b - 1, "{v}");
        }
    }

    #[test]
    fn flag_text_to_bits() {
        assert_eq!(flag_bits(""), 0);
        assert_eq!(flag_bits("ACCOUNT_MISMATCH;LATE"), 1 | 16);
    }
}
