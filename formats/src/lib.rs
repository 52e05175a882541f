//! Bank and provider files as their senders write them — ISO 20022 camt.053, camt.054 and
//! pain.002, SWIFT MT940 (and MT942) — read as a stream of settlement transactions by
//! exactly the mapping of CONTRACT.md section 7.3, with each statement's declared control
//! figures checked against what it holds (section 7.5).
//!
//! This crate knows nothing of Arrow, tables or validation: it turns bytes into
//! [`Txn`]s (text, as the contract's settlement columns) and [`Statement`]s, and says
//! which file-level problem stops it, naming the place. The engine's ingestion layer turns
//! the transactions into raw batches and decides, with the user's settings, what a failed
//! control check does (CONTRACT 7.5: exit 2, or recorded with `--control-totals warn`).
//!
//! Every input is hostile (PITFALLS.md 2.6, 3.9 H12): no `<!DOCTYPE`, no entity expansion,
//! caps on depth, element count and text length, streaming only; nothing here panics on
//! any input (fuzz targets in `fuzz/`, a mutation test in `tests/`).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::io::{Read, Seek};

pub mod decimal;
pub mod iso20022;
pub mod mt940;

/// What a provider file is, recognised by content (CONTRACT 7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Camt053,
    Camt054,
    Pain002,
    Mt940,
}

impl Kind {
    /// The name written in the outputs' `format` column (CONTRACT 5).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Camt053 => "camt.053",
            Kind::Camt054 => "camt.054",
            Kind::Pain002 => "pain.002",
            Kind::Mt940 => "mt940",
        }
    }
}

/// What the first bytes of a file say it is (CONTRACT 7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recognised {
    /// A provider file this crate reads.
    Provider(Kind),
    /// Not XML and not MT940: CSV, Parquet, Arrow or something else; the caller decides.
    Other,
    /// A file-level problem seen already (another XML message, UTF-16, a DOCTYPE, …).
    Refused(FormatError),
}

/// Recognises a file from its first bytes (`head`: up to [`SNIFF_BYTES`], fewer when the
/// file is shorter). XML is told by its root element (inside `AppHdr`/`BizMsgEnvlp`
/// envelopes); MT940 by a first tag line `:20:` after an optional FIN envelope and bank
/// preamble lines.
pub fn recognise(head: &[u8]) -> Recognised {
    if let Some(r) = iso20022::recognise(head) {
        return r;
    }
    if mt940::recognise(head) {
        return Recognised::Provider(Kind::Mt940);
    }
    Recognised::Other
}

/// Bytes of a file's start that [`recognise`] needs at most.
pub const SNIFF_BYTES: usize = 64 * 1024;

/// Caps on hostile input (PITFALLS.md 2.6, H5, H12).
pub mod limits {
    /// Deepest XML element nesting (a camt.053 needs about 12).
    pub const MAX_DEPTH: usize = 64;
    /// Most XML elements in one file (a camt entry with details is ~40 elements; 2M
    /// transactions need ~100M).
    pub const MAX_ELEMENTS: u64 = 1_000_000_000;
    /// Longest text of one element or one MT940 tag with its continuation lines, in bytes.
    pub const MAX_TEXT_BYTES: usize = 64 * 1024;
    /// Longest MT940 line, in bytes.
    pub const MAX_LINE_BYTES: usize = 64 * 1024;
}

/// The contract's settlement statuses a transaction may get (CONTRACT 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Settled,
    Failed,
    Returned,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Settled => "SETTLED",
            Status::Failed => "FAILED",
            Status::Returned => "RETURNED",
        }
    }
}

/// The section 7 reasons a transaction is not a settlement (CONTRACT 2, checked before
/// every other rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotSettlement {
    NotBooked,
    NotAPayment,
    NotFinal,
    BatchWithoutDetails,
}

impl NotSettlement {
    pub fn as_str(self) -> &'static str {
        match self {
            NotSettlement::NotBooked => "not_booked",
            NotSettlement::NotAPayment => "not_a_payment",
            NotSettlement::NotFinal => "not_final",
            NotSettlement::BatchWithoutDetails => "batch_without_details",
        }
    }
}

/// Why a transaction is a reject before section 2: the reason, the contract column it is
/// reported under (`status` or `amount`) and the file's original text (CONTRACT 7.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: NotSettlement,
    pub column: &'static str,
    pub value: String,
}

/// One transaction of a provider file, mapped by CONTRACT 7.3 to the settlement columns,
/// as text (empty = absent; section 2 judges every value). `provider` is not here: the
/// caller resolves it from [`Txn::own_account`] or the `CODE=PATH` it was given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Txn {
    /// 1-based position of the transaction in the file, in document order (every
    /// transaction counts, whatever its outcome): the outputs' `row`.
    pub row: u64,
    /// Index of its statement in [`FileInfo::statements`] (camt `Stmt`/`Ntfctn`, MT940
    /// statement, the pain.002 message).
    pub statement: usize,
    /// The account whose statement this is (camt `Acct/Id`, MT940 `:25:`; pain.002:
    /// `OrgnlTxRef/DbtrAcct`, the agency's account the provider debited), as written;
    /// how the provider is found (CONTRACT 7.2). Empty when the file does not say.
    pub own_account: String,
    pub instruction_id: String,
    /// Unique within the file: a repeat gets `#2`, `#3`, … (CONTRACT 7, counted over
    /// every transaction of the file).
    pub provider_ref: String,
    pub account: String,
    /// As the contract's grammar wants it (MT940's decimal comma written as a point).
    pub amount: String,
    pub fee: String,
    pub currency: String,
    /// Empty when `rejection` is set.
    pub status: Option<Status>,
    /// `YYYY-MM-DD` where the file's form could be rewritten; else the file's text.
    pub value_date: String,
    /// The file's own text of `amount` and `value_date` where it differs from the value
    /// above (MT940 `300,` for `300`; `261105` for `2026-11-05`): what a reject shows.
    pub amount_original: Option<String>,
    pub value_date_original: Option<String>,
    /// Set: the transaction is a reject with this section 7 reason.
    pub rejection: Option<Rejection>,
}

/// One control figure a file declares about itself, and what the file holds (CONTRACT 7.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What was checked, e.g. `TxsSummry/TtlNtries/NbOfNtries`, `TxsSummry/TtlDbtNtries/Sum`,
    /// `Btch/NbOfTxs (entry 4)`, `balance OPBD + CRDT - DBIT = CLBD`, `:60F: + :61: = :62F:`.
    pub what: String,
    /// Declared and found, as exact decimal text or counts.
    pub declared: String,
    pub found: String,
    pub ok: bool,
}

/// A statement (camt `Stmt`/`Ntfctn`, an MT940 statement; for pain.002 the whole
/// message) and what it declares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    /// camt `Stmt/Id`; MT940 `:20:` and `:28C:`; pain.002 `GrpHdr/MsgId`.
    pub id: String,
    /// The statement's own account as written (camt `Acct/Id/IBAN` or `Othr/Id`; MT940
    /// `:25:`); empty for pain.002.
    pub account: String,
    /// Period: camt `FrToDt` dates or the booked balances' dates; MT940 `:60F:` and `:62F:`
    /// dates; `YYYY-MM-DD`, empty when the file does not say.
    pub from: String,
    pub to: String,
    /// Transactions of this statement ([`Txn`]s with this statement index).
    pub transactions: u64,
    /// Entries (camt `Ntry`, MT940 `:61:`), which may hold several transactions.
    pub entries: u64,
    pub checks: Vec<Check>,
}

/// What a file held besides its transactions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileInfo {
    pub kind: Option<Kind>,
    /// The message's version as its namespace names it (`camt.053.001.08`), else empty.
    /// MT940: `MT940` or `MT942`.
    pub version: String,
    pub statements: Vec<Statement>,
    /// What the file says that yields no rows (CONTRACT 7.3: a pain.002 group or
    /// payment-information status without any transaction).
    pub notices: Vec<String>,
    /// Transactions in the file (the last [`Txn::row`]).
    pub transactions: u64,
}

/// A file-level problem: where in the file and what to do (exit 2 in the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormatError {
    /// `line 12`, `byte 4051`, `line 3, element Ntry/Amt`, … : enough to find it.
    pub place: String,
    pub message: String,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.place.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.place, self.message)
        }
    }
}

impl std::error::Error for FormatError {}

/// Where a reader hands each transaction, in file order. A statement's header (its
/// [`Statement`] as known when its first transaction is read: id and account) is in
/// `statements` by then; its checks are complete only in the returned [`FileInfo`].
/// An `Err` from the sink stops the reader and is returned as it is. The transaction is
/// lent, not given: a reader may fill the same one again for the next, so that its
/// strings are reused rather than allocated per transaction.
pub type TxnSink<'a> = &'a mut dyn FnMut(&Txn, &[Statement]) -> Result<(), FormatError>;

/// A file to read: readable and seekable (a reader may pass over it twice, e.g. MT940
/// to learn whether the whole file is UTF-8 before decoding any of it).
pub trait Source: Read + Seek {}
impl<T: Read + Seek> Source for T {}

/// Reads a whole provider file of `kind` from `input` (positioned at its start),
/// streaming, handing each transaction to `sink`. Control checks are computed, never
/// enforced: [`FileInfo`] lists each with its outcome and the caller decides.
pub fn read(
    kind: Kind,
    input: &mut dyn Source,
    sink: TxnSink<'_>,
) -> Result<FileInfo, FormatError> {
    match kind {
        Kind::Camt053 | Kind::Camt054 | Kind::Pain002 => iso20022::read(kind, input, sink),
        Kind::Mt940 => mt940::read(input, sink),
    }
}

/// Whether `ref_value` is absent by CONTRACT 7: empty, `NOTPROVIDED`/`NONREF` in any case,
/// or a bare keyword with no value (`KREF+`, `EREF+`, `PREF`).
pub fn absent_reference(ref_value: &str) -> bool {
    let v = ref_value.trim();
    v.is_empty()
        || v.eq_ignore_ascii_case("NOTPROVIDED")
        || v.eq_ignore_ascii_case("NONREF")
        || matches!(v, "KREF+" | "EREF+" | "PREF" | "EREF" | "KREF")
}

/// Makes references unique within one file (CONTRACT 7): the second transaction with a
/// reference gets `#2`, the third `#3`, in file order.
#[derive(Debug, Default)]
pub struct RefCounter {
    /// Each reference seen, by a 128-bit fingerprint of its text: a file of 2M
    /// transactions keeps 2M of them, and whole strings took ~245 MB. Two distinct
    /// references share a fingerprint with a probability near 2M² / 2^128, far below any
    /// hardware error rate; the fingerprint is deterministic (fixed seeds), so a run's
    /// outputs never depend on it beyond that.
    /// Only the few repeated references carry a count, which keeps the set at 16 bytes
    /// a reference (the lookups into it are cache misses, the most of its cost). The
    /// fingerprint is a hash already: the sets take its bits as they are ([`Bits`]).
    seen: HashSet<u128, BuildHasherDefault<Bits>>,
    /// Times each repeated reference was seen (2 and more).
    repeated: HashMap<u128, u32, BuildHasherDefault<Bits>>,
}

/// The hash of a fingerprint: its low 64 bits, one of its two independent hashes (any
/// other key is folded in by bytes; there is none).
#[derive(Default)]
struct Bits(u64);

impl Hasher for Bits {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64;
    }
}

/// Fixed seeds of the fingerprints' two hashes. Never ahash's own constants: it mixes
/// the seeds with them, and its second set of digits of pi as seeds zeroes every key,
/// giving the hash 0 for every text.
static SEEDS: [[u64; 4]; 2] = [
    [
        0x243f_6a88_85a3_08d3,
        0x1319_8a2e_0370_7344,
        0xa409_3822_299f_31d0,
        0x082e_fa98_ec4e_6c89,
    ],
    [
        0x9216_d5d9_8979_fb1b,
        0xd131_0ba6_98df_b5ac,
        0x2ffd_72db_d01a_dfb7,
        0xb8e1_afed_6a26_7e96,
    ],
];

impl RefCounter {
    /// Makes `r` unique: a repeat gets its `#n` appended.
    pub fn unique(&mut self, r: &mut String) {
        let f = fingerprint(r);
        if self.seen.insert(f) {
            return;
        }
        let n = self.repeated.entry(f).or_insert(1);
        *n += 1;
        r.push('#');
        r.push_str(&n.to_string());
    }
}

/// Two independent 64-bit hashes of `s` (ahash with two sets of fixed seeds).
fn fingerprint(s: &str) -> u128 {
    let half = |k: &[u64; 4]| ahash::RandomState::with_seeds(k[0], k[1], k[2], k[3]).hash_one(s);
    (u128::from(half(&SEEDS[0])) << 64) | u128::from(half(&SEEDS[1]))
}

#[cfg(test)]
mod tests {
    use super::{fingerprint, RefCounter};

    #[test]
    fn fingerprints_have_two_independent_halves() {
        let f: Vec<u128> = ["a", "b", "SU26110600000001"]
            .into_iter()
            .map(fingerprint)
            .collect();
        for x in &f {
            let (high, low) = ((x >> 64) as u64, *x as u64);
            assert!(high != 0 && low != 0 && high != low, "{x:032x}");
        }
        assert!(f[0] != f[1] && f[1] != f[2] && f[0] != f[2]);
        assert!((f[0] as u64) != (f[1] as u64));
    }

    #[test]
    fn repeated_references_are_numbered_in_order() {
        let mut refs = RefCounter::default();
        let got: Vec<String> = ["a", "b", "a", "a", "b", "c"]
            .into_iter()
            .map(|r| {
                let mut r = r.to_string();
                refs.unique(&mut r);
                r
            })
            .collect();
        assert_eq!(got, ["a", "b", "a#2", "a#3", "b#2", "c"]);
    }
}
