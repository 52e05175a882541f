//! Settlements of one provider file (camt.053, camt.054, pain.002, MT940) gathered into
//! statements on the generator thread, so that the truth knows each transaction's
//! position (CONTRACT 7.3: `row` is the transaction's 1-based position in the file) and
//! the writer thread only has to format them.
//!
//! A statement is cut every [`STATEMENT_TXNS`] transactions, so memory stays bounded by
//! that many rows per open file whatever the month's size. MT940 keeps one statement per
//! currency (a statement has one currency, `:60F:`); the others have one stream. In
//! camt.053, some same-day payments are booked as one batch entry (`Btch`, several
//! `TxDtls`). A statement with payments opens with the agency's funding credit, and a
//! camt.053 statement with fees closes with the bank's charges entry: neither is a
//! settlement (CONTRACT 7.3, `not_a_payment`), both keep the balances real.

use crate::catalog::PROVIDERS;
use crate::layout::FileKind;
use crate::plan::{SDefect, SRow, SStatus};
use crate::text::Day;

/// Transactions per statement (camt `Stmt`/`Ntfctn`, MT940 statement, pain.002
/// `OrgnlPmtInfAndSts`).
pub(crate) const STATEMENT_TXNS: usize = 5_000;
/// Most transactions in one camt.053 batch entry.
const MAX_BATCH: usize = 6;

/// One entry of a statement, in document order.
#[derive(Clone, Debug)]
pub(crate) enum Entry {
    /// The agency's transfer into the account that covers the statement's payments and
    /// charges (camt.053, MT940): a credit that is not a return.
    Funding,
    /// A booking of settlements: one transaction, or (camt.053) a batch of several
    /// same-day payments; in pain.002 always one `TxInfAndSts`.
    Booking(Vec<SRow>),
    /// The bank's charges: the statement's fees in one debit (camt.053 only).
    Charges,
}

/// A statement handed to the writer thread.
#[derive(Clone, Debug)]
pub(crate) struct Chunk {
    /// Currency of the statement (index into the catalogue's currencies).
    pub currency: u8,
    pub entries: Vec<Entry>,
}

impl Chunk {
    /// The statement's fees in minor units of its currency: what the charges entry books.
    pub(crate) fn fees(&self) -> i128 {
        self.bookings()
            .filter(|r| r.status == SStatus::Settled && r.currency == self.currency)
            .map(|r| i128::from(r.fee.unwrap_or(0)))
            .sum()
    }

    /// The settlement rows, in document order.
    pub(crate) fn bookings(&self) -> impl Iterator<Item = &SRow> {
        self.entries.iter().flat_map(|e| match e {
            Entry::Booking(rows) => rows.as_slice(),
            _ => &[],
        })
    }
}

/// One statement being filled.
struct Stream {
    currency: u8,
    entries: Vec<Entry>,
    txns: usize,
    /// Open batches of this statement: (value day, entry index).
    batches: Vec<(Day, usize)>,
}

/// The statements of one provider file being filled.
pub(crate) struct DocFile {
    kind: FileKind,
    streams: Vec<Stream>,
}

impl DocFile {
    pub(crate) fn new(kind: FileKind) -> DocFile {
        DocFile {
            kind,
            streams: Vec::new(),
        }
    }

    /// Adds a settlement; returns a statement when one is full.
    pub(crate) fn push(&mut self, r: &SRow) -> Option<Chunk> {
        let provider_currency = PROVIDERS[usize::from(r.provider)].currency as u8;
        // MT940 states one currency per statement; the others carry a foreign amount
        // inside an entry of the account's currency (camt AmtDtls, pain.002 InstdAmt).
        let currency = if self.kind == FileKind::Mt940 && !r.no_amount {
            r.currency
        } else {
            provider_currency
        };
        let k = match self.streams.iter().position(|s| s.currency == currency) {
            Some(k) => k,
            None => {
                self.streams.push(Stream {
                    currency,
                    entries: Vec::new(),
                    txns: 0,
                    batches: Vec::new(),
                });
                self.streams.len() - 1
            }
        };
        let batching = self.kind == FileKind::Camt053;
        let s = &mut self.streams[k];
        s.add(r, batching && batchable(r, provider_currency));
        if s.txns >= STATEMENT_TXNS {
            let s = self.streams.swap_remove(k);
            return Some(self.close(s));
        }
        None
    }

    /// The statements not yet handed out (at the end of the file).
    pub(crate) fn drain(&mut self) -> Vec<Chunk> {
        let streams = std::mem::take(&mut self.streams);
        streams
            .into_iter()
            .filter(|s| s.txns > 0)
            .map(|s| self.close(s))
            .collect()
    }

    /// The finished statement: funding first, charges last, where the kind has them.
    fn close(&self, s: Stream) -> Chunk {
        let mut chunk = Chunk {
            currency: s.currency,
            entries: Vec::with_capacity(s.entries.len() + 2),
        };
        let pays = s.entries.iter().any(|e| match e {
            Entry::Booking(rows) => rows.iter().any(|r| r.status == SStatus::Settled),
            _ => false,
        });
        let funded = matches!(self.kind, FileKind::Camt053 | FileKind::Mt940);
        if funded && pays {
            chunk.entries.push(Entry::Funding);
        }
        chunk.entries.extend(s.entries);
        if self.kind == FileKind::Camt053 && chunk.fees() > 0 {
            chunk.entries.push(Entry::Charges);
        }
        chunk
    }
}

impl Stream {
    fn add(&mut self, r: &SRow, batchable: bool) {
        self.txns += 1;
        if batchable {
            if let Some(b) = self.batches.iter().position(|&(d, _)| d == r.value) {
                let at = self.batches[b].1;
                if let Some(Entry::Booking(rows)) = self.entries.get_mut(at) {
                    rows.push(*r);
                    if rows.len() >= MAX_BATCH {
                        self.batches.swap_remove(b);
                    }
                    return;
                }
            }
            if starts_batch(r) {
                self.batches.push((r.value, self.entries.len()));
            }
        }
        self.entries.push(Entry::Booking(vec![*r]));
    }
}

/// A payment that may share a batch entry: accepted, settled in the account's currency
/// (a batch's total is one sum in one currency, and its members' texts must be valid for
/// the `Btch/TtlAmt` check to hold).
fn batchable(r: &SRow, provider_currency: u8) -> bool {
    r.status == SStatus::Settled
        && r.defect == SDefect::None
        && r.currency == provider_currency
        && !r.no_amount
}

/// About one batchable payment in eleven opens a batch that later same-day payments of
/// the statement join: a fixed function of the reference, so no random draw of the
/// planner depends on the format.
fn starts_batch(r: &SRow) -> bool {
    r.ref_no.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58 < 6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{AccountKey, RefText, STruth, Style};

    fn row(ref_no: u64, value: Day, status: SStatus) -> SRow {
        SRow {
            provider: 0,
            ref_no,
            ref_day: value,
            reference: RefText::Empty,
            account: AccountKey { provider: 0, n: 1 },
            no_account: false,
            amount: 100,
            fee: Some(1),
            currency: 0,
            no_amount: false,
            status,
            value,
            narrative: 0,
            defect: SDefect::None,
            variant: 0,
            style: Style::PLAIN,
            delay: 0,
            truth: STruth::Pending,
        }
    }

    #[test]
    fn statements_are_cut_and_framed() {
        let mut f = DocFile::new(FileKind::Camt053);
        let mut chunks = Vec::new();
        for k in 0..STATEMENT_TXNS as u64 + 10 {
            let status = if k % 50 == 0 {
                SStatus::Returned
            } else {
                SStatus::Settled
            };
            chunks.extend(f.push(&row(k, 20_400 + (k % 3) as Day, status)));
        }
        assert_eq!(chunks.len(), 1);
        chunks.extend(f.drain());
        assert_eq!(chunks.len(), 2);
        for c in &chunks {
            assert!(matches!(c.entries.first(), Some(Entry::Funding)));
            assert!(matches!(c.entries.last(), Some(Entry::Charges)));
            for e in &c.entries {
                if let Entry::Booking(rows) = e {
                    // A batch: same day, settled, at most MAX_BATCH.
                    assert!(rows.len() <= MAX_BATCH);
                    assert!(rows.iter().all(|r| r.value == rows[0].value));
                    if rows.len() > 1 {
                        assert!(rows.iter().all(|r| r.status == SStatus::Settled));
                    }
                }
            }
        }
        assert_eq!(chunks[0].bookings().count(), STATEMENT_TXNS);
        assert_eq!(chunks[1].bookings().count(), 10);
        assert!(chunks[0]
            .entries
            .iter()
            .any(|e| matches!(e, Entry::Booking(r) if r.len() > 1)));
        // A pain.002 has neither funding nor charges, and no batches.
        let mut p = DocFile::new(FileKind::Pain002);
        p.push(&row(1, 20_400, SStatus::Failed));
        let c = p.drain();
        assert_eq!(c.len(), 1);
        assert!(matches!(&c[0].entries[..], [Entry::Booking(r)] if r.len() == 1));
    }
}
