//! The report's figures, extracted from the written row outputs by one per-batch scan per
//! output ([`scan_ins_batch`], [`scan_set_batch`], [`scan_rej_batch`]), fed from two
//! sources: a run's own batches as they are written (`Observer` in the parent module), or
//! a results folder's Parquet files read back with a column projection, row groups in
//! parallel (`sverka report DIR`). Merging never depends on where batches end (sums, maps
//! keyed by text, top-k under a total order), so both give the same figures.
//!
//! "Amount at risk" per finding is defined once, here ([`FINDINGS`]) and in docs/AUDIT.md.

use std::collections::BTreeMap;

use arrow_array::{Array, GenericStringArray, OffsetSizeTrait, RecordBatch};
use hashbrown::HashMap;

use crate::read::{decimal, nulls, Pq, ReadResult};
use crate::text::Text;

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

/// Instruction flags that are findings, alphabetical (as written in the `flags` column).
/// (v2) ACCEPTED and MANUAL_MATCH (CONTRACT.md section 8) record a decision, not a
/// finding: an ACCEPTED row stays in its status's table, its flags column saying so.
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

/// The findings whose rule passes `hit`, as bits (bit k: `FINDINGS[k]`).
fn findings_where(hit: impl Fn(Rule) -> bool) -> u32 {
    FINDINGS
        .iter()
        .enumerate()
        .filter(|(_, f)| hit(f.rule))
        .fold(0, |m, (k, _)| m | 1 << k)
}

pub(crate) fn status_index(s: &str) -> Option<u8> {
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

    /// Keeps the best `TOP` candidates, ordered. A total order: the result does not
    /// depend on how the rows were split into batches.
    pub(crate) fn trim(&mut self) {
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

/// 10^k for every k an `i64` holds.
const POW10_I64: [i64; 19] = {
    let mut t = [1i64; 19];
    let mut k = 1;
    while k < 19 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// The bin of a positive amount in minor units (0 for amounts below 1 minor unit... ×10).
pub fn bin_of(minor_v: i128) -> usize {
    if minor_v < 10 {
        return 0;
    }
    let (d, sub) = match i64::try_from(minor_v) {
        // Every real amount: the steps of its decade compared without a division.
        Ok(v) => {
            let d = v.ilog10(); // >= 1
            let unit = POW10_I64[d as usize - 1];
            let sub = STEPS
                .iter()
                .filter(|&&t| (t as i64).saturating_mul(unit) <= v)
                .count();
            (d, sub - 1)
        }
        Err(_) => {
            let d = minor_v.ilog10();
            let lead = minor_v / 10i128.pow(d - 1); // 10..=99
            (d, STEPS.iter().filter(|&&t| t <= lead).count() - 1)
        }
    };
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

/// Decimal digits between the file's decimal scale and a currency's minor units.
pub(crate) fn shift(code: &str, scale: i8) -> ReadResult<u32> {
    let minor = crate::minor_units(code).ok_or_else(|| format!("unknown currency {code:?}"))?;
    let shift = (scale as i32) - (minor as i32);
    if !(0..=38).contains(&shift) {
        return Err(format!(
            "amount scale {scale} below the minor units of {code}"
        ));
    }
    Ok(shift as u32)
}

/// `v / 10^shift` (truncating, as `i128` division): a decimal at the file's scale in minor
/// units. Values that fit `i64` (all real amounts) divide by a constant, which is a
/// multiplication: this runs for every row a run writes.
#[inline]
pub(crate) fn minor(v: i128, shift: u32) -> i128 {
    match (shift, i64::try_from(v)) {
        (0, _) => v,
        (1, Ok(x)) => (x / 10) as i128,
        (2, Ok(x)) => (x / 100) as i128,
        (3, Ok(x)) => (x / 1_000) as i128,
        (4, Ok(x)) => (x / 10_000) as i128,
        _ => v / 10i128.pow(shift),
    }
}

/// Per-batch dense ids of a text column's values (dictionary keys when encoded); a null
/// row is named "".
pub(crate) struct Keys<'a> {
    pub(crate) names: Vec<&'a str>,
    pub(crate) ids: Vec<u32>,
}

pub(crate) fn keys<'a>(t: &Text<'a>, n: usize) -> Keys<'a> {
    if let Some((ids, names)) = t.used_values() {
        return Keys { names, ids };
    }
    let mut names = Vec::new();
    let mut map: HashMap<&'a str, u32> = HashMap::new();
    let mut id_of = |v: &'a str| {
        *map.entry(v).or_insert_with(|| {
            names.push(v);
            (names.len() - 1) as u32
        })
    };
    let ids = match t {
        Text::Utf8(a) if a.null_count() == 0 => cached_ids(a, n, id_of),
        Text::LargeUtf8(a) if a.null_count() == 0 => cached_ids(a, n, id_of),
        _ => (0..n).map(|i| id_of(t.value(i))).collect(),
    };
    Keys { names, ids }
}

/// The ids of a plain text column without nulls, short values through a [`ShortCache`].
fn cached_ids<'a, O: OffsetSizeTrait>(
    a: &'a GenericStringArray<O>,
    n: usize,
    mut id_of: impl FnMut(&'a str) -> u32,
) -> Vec<u32> {
    let (offsets, data) = (a.value_offsets(), a.value_data());
    let mut cache = ShortCache::new();
    (0..n)
        .map(|i| {
            let (s, e) = (offsets[i].as_usize(), offsets[i + 1].as_usize());
            cache.id(&data[s..], e - s, || id_of(a.value(i)))
        })
        .collect()
}

/// Slots of a [`ShortCache`] (as bits): few collisions for the tens of distinct values of
/// a low-cardinality column.
const CACHE_BITS: u32 = 8;

/// A direct-mapped cache of the ids of short values, in front of the hash map of plain
/// text columns (a run's own batches): a value of up to 16 bytes is identified exactly
/// by its length and its bytes read as one integer, so a hit costs a multiplication and a
/// comparison, no hashing of text. Measured at 2M rows (BENCHMARKS.md): keys() over
/// currency, status, flags, provider and programme about twice as fast as the hash map
/// alone; comparing with the previous value or a short linear table was slower than both
/// (these columns change from row to row).
struct ShortCache {
    /// (value bytes, length, id); length `usize::MAX` marks an empty slot.
    slots: Vec<(u128, usize, u32)>,
}

impl ShortCache {
    fn new() -> ShortCache {
        ShortCache {
            slots: vec![(0, usize::MAX, 0); 1 << CACHE_BITS],
        }
    }

    /// The id of the `len` bytes at the start of `rest` (the column's value buffer from the
    /// value on); `miss` gives it when the cache does not hold it.
    #[inline]
    fn id(&mut self, rest: &[u8], len: usize, miss: impl FnOnce() -> u32) -> u32 {
        if len > 16 {
            return miss();
        }
        let word = match rest.get(..16) {
            Some(b) => {
                let w = u128::from_le_bytes(b.try_into().expect("16 bytes"));
                if len == 16 {
                    w
                } else {
                    w & ((1u128 << (8 * len)) - 1)
                }
            }
            None => {
                // The buffer's last bytes: copy what there is.
                let mut b = [0u8; 16];
                b[..len].copy_from_slice(&rest[..len]);
                u128::from_le_bytes(b)
            }
        };
        let h = ((word as u64) ^ ((word >> 64) as u64) ^ len as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            >> (64 - CACHE_BITS);
        let slot = &mut self.slots[h as usize];
        if slot.0 == word && slot.1 == len {
            return slot.2;
        }
        let id = miss();
        *slot = (word, len, id);
        id
    }
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

/// Adds one batch of `instructions.parquet` rows (`first_row` = the row index of its first
/// row) to `acc`. Shared by the folder scan and a run's own batches.
pub fn scan_ins_batch(acc: &mut InsFigures, b: &RecordBatch, first_row: usize) -> ReadResult<()> {
    let n = b.num_rows();
    let (amount, scale) = decimal(b, "amount")?;
    let (paid, _) = decimal(b, "paid_amount")?;
    let (diff, _) = decimal(b, "difference")?;
    let ccy = keys(&Text::of(b, "currency")?, n);
    let st = keys(&Text::of(b, "status")?, n);
    let fl = keys(&Text::of(b, "flags")?, n);
    let pv = keys(&Text::of(b, "provider")?, n);
    let pg = keys(&Text::of(b, "program")?, n);
    let shifts = ccy
        .names
        .iter()
        .map(|c| shift(c, scale))
        .collect::<ReadResult<Vec<u32>>>()?;
    let status_of = st
        .names
        .iter()
        .map(|s| status_index(s).ok_or_else(|| format!("unknown status {s:?}")))
        .collect::<ReadResult<Vec<u8>>>()?;
    let bits_of: Vec<u8> = fl.names.iter().map(|s| flag_bits(s)).collect();
    // The findings a status, or a set of flags, puts a row in (bit k: FINDINGS[k]).
    let status_hits: Vec<u32> = status_of
        .iter()
        .map(|&s| findings_where(|r| r == Rule::Status(s)))
        .collect();
    let flag_hits: Vec<u32> = bits_of
        .iter()
        .map(|&b| findings_where(|r| matches!(r, Rule::Flag(x) if b & (1 << x) != 0)))
        .collect();
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
    // Per provider / programme id: counts by status, amounts by currency and status.
    type Mix = Option<([u64; 8], Vec<[i128; 8]>)>;
    let mut mix_p: Vec<Mix> = vec![None; pv.names.len()];
    let mut mix_g: Vec<Mix> = vec![None; pg.names.len()];
    for i in 0..n {
        let c = ccy.ids[i] as usize;
        let sh = shifts[c];
        let (a, p) = (minor(amount[i], sh), minor(paid[i], sh));
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
        let mut hits = status_hits[st.ids[i] as usize] | flag_hits[fl.ids[i] as usize];
        while hits != 0 {
            let k = hits.trailing_zeros() as usize;
            hits &= hits - 1;
            let df = || minor(diff[i], sh);
            let risk = match FINDINGS[k].risk {
                Risk::Amount => a,
                Risk::Shortfall => -df(),
                Risk::Excess => df(),
                Risk::AbsDifference => df().abs(),
            };
            cells[k * nc + c].push(risk, first_row + i);
        }
        for (map, id) in [(&mut mix_p, pv.ids[i]), (&mut mix_g, pg.ids[i])] {
            let e = map[id as usize].get_or_insert_with(|| ([0; 8], vec![[0; 8]; nc]));
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
        for (id, (count, values)) in map
            .into_iter()
            .enumerate()
            .filter_map(|(id, e)| Some((id, e?)))
        {
            let mut m = StatusMix {
                count,
                value: BTreeMap::new(),
            };
            for (c, v) in values.into_iter().enumerate() {
                if v.iter().any(|x| *x != 0) {
                    m.value.insert(ccy.names[c].to_string(), v);
                }
            }
            dest.entry(names[id].to_string()).or_default().merge(m);
        }
    }
    merge_ins(acc, o)
}

pub fn merge_ins(a: &mut InsFigures, b: InsFigures) -> ReadResult<()> {
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

fn finding(rule: Rule) -> usize {
    FINDINGS
        .iter()
        .position(|f| f.rule == rule)
        .expect("listed")
}

/// Adds one batch of `settlements.parquet` rows to `acc` (see [`scan_ins_batch`]).
pub fn scan_set_batch(acc: &mut SetFigures, b: &RecordBatch, first_row: usize) -> ReadResult<()> {
    let (unexpected, ambiguous) = (finding(Rule::Unexpected), finding(Rule::Ambiguous));
    let n = b.num_rows();
    let (amount, scale) = decimal(b, "amount")?;
    let no_amount = nulls(b, "amount")?;
    let ccy = keys(&Text::of(b, "currency")?, n);
    let st = Text::of(b, "status")?;
    let mm = Text::of(b, "match_method")?;
    let fl = Text::of(b, "flags")?;
    // (v2) A FAILED settlement may have no currency (read as ""): no shift, no finding.
    let shifts = ccy
        .names
        .iter()
        .map(|c| (!c.is_empty()).then(|| shift(c, scale)).transpose())
        .collect::<ReadResult<Vec<Option<u32>>>>()?;
    for (i, &raw) in amount.iter().enumerate().take(n) {
        let c = ccy.ids[i] as usize;
        // Without an amount or a currency a row is FAILED: neither UNEXPECTED (SETTLED)
        // nor AMBIGUOUS (a fallback candidate has both).
        let Some(sh) = shifts[c] else {
            continue;
        };
        if no_amount.is_some_and(|x| x.is_null(i)) {
            continue;
        }
        let a = minor(raw, sh);
        let code = ccy.names[c];
        if st.value(i) == "SETTLED" && mm.value(i) == "NONE" {
            acc.entry((unexpected, code.to_string()))
                .or_default()
                .push(a, first_row + i);
        }
        if fl.value(i).split(';').any(|f| f == "AMBIGUOUS") {
            acc.entry((ambiguous, code.to_string()))
                .or_default()
                .push(a, first_row + i);
        }
    }
    Ok(())
}

pub fn merge_set(a: &mut SetFigures, b: SetFigures) {
    for (k, v) in b {
        a.entry(k).or_default().merge(v);
    }
}

pub fn scan_settlements(pq: &Pq) -> ReadResult<SetFigures> {
    pq.scan(&SET_SCAN, SetFigures::new, scan_set_batch, |mut a, b| {
        merge_set(&mut a, b);
        Ok(a)
    })
}

/// Rejects counted by (side, file, reason).
pub type RejectCounts = BTreeMap<(String, String, String), u64>;

/// Adds one batch of `rejects.parquet` rows to `acc` (see [`scan_ins_batch`]).
pub fn scan_rej_batch(
    acc: &mut RejectCounts,
    b: &RecordBatch,
    _first_row: usize,
) -> ReadResult<()> {
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
}

pub fn merge_rej(a: &mut RejectCounts, b: RejectCounts) {
    for (k, v) in b {
        *a.entry(k).or_default() += v;
    }
}

pub fn scan_rejects(pq: &Pq) -> ReadResult<RejectCounts> {
    pq.scan(&REJ_SCAN, RejectCounts::new, scan_rej_batch, |mut a, b| {
        merge_rej(&mut a, b);
        Ok(a)
    })
}

pub const REJ_SCAN: [&str; 3] = ["side", "file", "reason"];
pub const REJ_DICT: [&str; 4] = ["side", "file", "reason", "column"];

/// Everything the report computes from the row outputs (the rest comes from
/// `summary.json`). Merging is independent of how rows are split into batches: sums,
/// maps keyed by text, and top-k lists under a total order.
#[derive(Debug, Default)]
pub struct Figures {
    pub ins: InsFigures,
    pub set: SetFigures,
    pub rej: RejectCounts,
    /// `decisions.parquet`'s rows gathered (a run with decisions).
    pub decisions: Option<super::decisions::Gathered>,
}

impl Figures {
    /// Scans the three Parquet files of a results folder at once.
    pub fn scan(ins: &Pq, set: &Pq, rej: &Pq) -> ReadResult<Figures> {
        let ((ins, set), rej) = rayon::join(
            || rayon::join(|| scan_instructions(ins), || scan_settlements(set)),
            || scan_rejects(rej),
        );
        Ok(Figures {
            ins: ins?,
            set: set?,
            rej: rej?,
            decisions: None,
        })
    }
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
    fn fast_paths_agree_with_i128_arithmetic() {
        let reference = |v: i128| -> usize {
            if v < 10 {
                return 0;
            }
            let d = v.ilog10();
            let lead = v / 10i128.pow(d - 1);
            ((d as usize - 1) * 10 + STEPS.iter().filter(|&&t| t <= lead).count()).min(BINS - 1)
        };
        let mut values = vec![0, 1, 9, i64::MAX as i128, i64::MAX as i128 + 1, i128::MAX];
        for d in 0..37u32 {
            for t in STEPS {
                let v = t * 10i128.pow(d);
                values.extend([v - 1, v, v + 1, v + v / 3]);
            }
        }
        for v in values {
            assert_eq!(bin_of(v), reference(v), "bin of {v}");
            for sh in 0..6 {
                for x in [v, -v] {
                    assert_eq!(minor(x, sh), x / 10i128.pow(sh), "{x} / 10^{sh}");
                }
            }
        }
    }

    #[test]
    fn short_values_are_cached_exactly() {
        // Every length from 0 to 20 (beyond the cache's 16 bytes), values of one length
        // differing only in their last byte, and short values at the very end of the
        // buffer (fewer than 16 bytes left to read), in a slice too (offsets not from 0).
        let mut values: Vec<String> = Vec::new();
        for len in 0..=20usize {
            for last in [b'a', b'b', b'c'] {
                let mut v = "x".repeat(len.saturating_sub(1));
                if len > 0 {
                    v.push(last as char);
                }
                values.push(v);
            }
        }
        let cycle: Vec<&str> = values.iter().map(|s| s.as_str()).collect();
        // 11 is prime to the 63 values: every value follows every other.
        let rows: Vec<&str> = (0..2000).map(|i| cycle[(i * 11) % cycle.len()]).collect();
        let rows: Vec<&str> = rows
            .into_iter()
            .chain(["", "a", "ab", "ac", "ab", "a"])
            .collect();
        let a = arrow_array::StringArray::from_iter_values(&rows);
        for array in [a.clone(), a.slice(3, rows.len() - 3)] {
            let k = keys(&Text::Utf8(&array), array.len());
            let distinct: std::collections::BTreeSet<&str> = k.names.iter().copied().collect();
            assert_eq!(distinct.len(), k.names.len(), "a value named twice");
            let input: std::collections::BTreeSet<&str> =
                (0..array.len()).map(|i| array.value(i)).collect();
            assert_eq!(distinct, input, "every value named");
            for i in 0..array.len() {
                assert_eq!(k.names[k.ids[i] as usize], array.value(i), "row {i}");
            }
        }
    }

    #[test]
    fn keys_name_each_value_once_in_every_text_encoding() {
        use arrow_array::types::Int32Type;
        use arrow_array::{ArrayRef, DictionaryArray, LargeStringArray, StringViewArray};
        use std::sync::Arc;
        let long = "a programme name longer than sixteen bytes";
        for rows in [
            vec![
                Some("UZS"),
                Some("KES"),
                Some(long),
                Some("UZS"),
                Some(""),
                Some(long),
            ],
            vec![Some("UZS"), None, Some(""), Some("UZS"), None, Some(long)],
        ] {
            let arrays: [ArrayRef; 4] = [
                Arc::new(arrow_array::StringArray::from(rows.clone())),
                Arc::new(LargeStringArray::from(rows.clone())),
                Arc::new(StringViewArray::from(rows.clone())),
                Arc::new(rows.iter().copied().collect::<DictionaryArray<Int32Type>>()),
            ];
            for a in &arrays {
                let k = keys(&Text::of_array(a.as_ref()).unwrap(), a.len());
                let distinct: std::collections::BTreeSet<&str> = k.names.iter().copied().collect();
                assert_eq!(distinct.len(), k.names.len(), "{}", a.data_type());
                for (i, want) in rows.iter().enumerate() {
                    let got = k.names[k.ids[i] as usize];
                    assert_eq!(got, want.unwrap_or(""), "{} row {i}", a.data_type());
                }
            }
        }
    }

    #[test]
    fn plain_keys_name_every_value_once() {
        // Distinct values, repeated and interleaved.
        let values: Vec<String> = (0..48).map(|i| format!("P{}", i % 40)).collect();
        let a = arrow_array::StringArray::from_iter_values(values.iter().chain(&values));
        let k = keys(&Text::Utf8(&a), a.len());
        assert_eq!(k.names.len(), 40);
        let distinct: std::collections::BTreeSet<&str> = k.names.iter().copied().collect();
        assert_eq!(distinct.len(), 40);
        for i in 0..a.len() {
            assert_eq!(k.names[k.ids[i] as usize], a.value(i));
        }
    }

    #[test]
    fn top_rows_do_not_depend_on_batches() {
        // Ties in risk are ordered by row: any split of the rows gives the same cell.
        let rows: Vec<(i128, usize)> = (0..1000).map(|r| ((r * 37 % 11) as i128, r)).collect();
        let whole = {
            let mut c = Cell::default();
            rows.iter().for_each(|&(k, r)| c.push(k, r));
            c.trim();
            c
        };
        for split in [1, 7, 64, 999] {
            let mut acc = Cell::default();
            for part in rows.chunks(split).rev() {
                let mut c = Cell::default();
                part.iter().for_each(|&(k, r)| c.push(k, r));
                acc.merge(c);
            }
            acc.trim();
            assert_eq!(
                (acc.count, acc.risk, &acc.top),
                (whole.count, whole.risk, &whole.top)
            );
        }
        assert_eq!(whole.top.len(), TOP);
        assert_eq!(whole.top[0], (10, 8));
    }

    #[test]
    fn flag_text_to_bits() {
        assert_eq!(flag_bits(""), 0);
        assert_eq!(flag_bits("ACCOUNT_MISMATCH;LATE"), 1 | 16);
    }
}
