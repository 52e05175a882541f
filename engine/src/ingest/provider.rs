//! Provider files (CONTRACT section 7): a bank's camt.053/camt.054/pain.002 or MT940,
//! read by `sverka_formats` into transactions, turned here into raw settlement batches.
//! The provider of each transaction is the `CODE=PATH` given, else the one whose
//! `statement_accounts` lists the statement's account (7.2). A section 7 reason
//! (`not_booked`, …) is a reject before validation sees the row (section 2). The file's
//! control checks (7.5) are computed by the reader and enforced here, once the whole file
//! has been read and before any of its rows is matched.

use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use sverka_formats::{FormatError, Kind, Statement, Txn};

use super::{on_pool, Decoded, Opened, Sink, TextBatch, BATCH_ROWS};
use crate::error::{Error, Result};
use crate::schema::{Reason, Reject, Side};

/// How provider files are read: who sent a statement, and what a failed control check
/// does.
#[derive(Debug, Clone, Default)]
pub struct ProviderOptions {
    /// Statement account (without spaces, upper case) → provider code, from the
    /// providers file's `statement_accounts`.
    pub accounts: HashMap<String, String>,
    /// `--control-totals warn`: a failed check is recorded, not an error.
    pub control_warn: bool,
    /// The providers file, named in messages.
    pub providers_file: Option<std::path::PathBuf>,
    /// The providers' own report layouts (CONTRACT 7.4), by provider code.
    pub profiles: Vec<crate::profiles::Profile>,
}

impl ProviderOptions {
    /// A statement account as the providers file is searched for it.
    pub fn key(account: &str) -> String {
        account
            .chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_uppercase)
            .collect()
    }
}

/// What a provider file said about itself: the reader's [`sverka_formats::FileInfo`].
pub type ProviderInfo = sverka_formats::FileInfo;

impl TextBatch {
    /// Adds a provider file's transaction as a settlement row.
    fn push_txn(&mut self, file: u32, provider: &str, t: &Txn) {
        let status = t.status.map_or("", |s| s.as_str());
        let values = [
            provider,
            &t.provider_ref,
            &t.instruction_id,
            &t.account,
            &t.amount,
            &t.fee,
            &t.currency,
            status,
            &t.value_date,
        ];
        for (b, v) in self.cols.iter_mut().zip(values) {
            b.append_value(v);
        }
        if let Some(r) = &t.rejection {
            let reason = match r.reason {
                sverka_formats::NotSettlement::NotBooked => Reason::NotBooked,
                sverka_formats::NotSettlement::NotAPayment => Reason::NotAPayment,
                sverka_formats::NotSettlement::NotFinal => Reason::NotFinal,
                sverka_formats::NotSettlement::BatchWithoutDetails => Reason::BatchWithoutDetails,
            };
            self.pre_rejects.push((
                self.len,
                Reject {
                    side: Side::Settlements,
                    file,
                    row: t.row,
                    column: Some(r.column),
                    reason,
                    value: Some(crate::schema::cut_value(&r.value)),
                },
            ));
        }
        if let Some(o) = &t.amount_original {
            self.originals.push((self.len, "amount", o.clone()));
        }
        if let Some(o) = &t.value_date_original {
            self.originals.push((self.len, "value_date", o.clone()));
        }
        self.len += 1;
    }
}

/// Reads a provider file of `kind` and hands its transactions to the sink as raw
/// settlement batches; returns the sink's results, the transaction count, what the
/// file said about itself and the file's SHA-256.
pub(super) fn read<T: Send>(
    kind: Kind,
    input: Opened<'_>,
    opts: &ProviderOptions,
    sink: Sink<'_, T>,
) -> Result<(Decoded<T>, ProviderInfo, String)> {
    let Opened {
        index,
        file,
        handle,
        ..
    } = input;
    let path = &file.path;
    // The readers read large chunks themselves: no buffer of ours in between.
    let mut source = Hashed::new(handle);
    let mut b = TextBatch::new(crate::schema::SETTLEMENT_FIELDS.len(), BATCH_ROWS);
    let mut first_row = 1u64;
    let mut next_row = 1u64;
    // The last statement account looked up, and its provider.
    let mut last: Option<(String, &str)> = None;
    // Each batch is validated on the pool as soon as it is cut, while this thread reads on.
    let (info, out) = on_pool(sink, |hand_on| -> Result<ProviderInfo> {
        let mut on_txn = |t: &Txn,
                          statements: &[Statement]|
         -> std::result::Result<(), FormatError> {
            if t.row != next_row {
                return Err(FormatError {
                    place: format!("transaction {}", t.row),
                    message: format!("internal: transactions out of order (expected {next_row})"),
                });
            }
            next_row += 1;
            let provider = match file.provider.as_deref() {
                Some(code) => code,
                None => match &last {
                    Some((acct, code)) if *acct == t.own_account => *code,
                    _ => {
                        let code = provider_of(t, statements, opts)?;
                        last = Some((t.own_account.clone(), code));
                        code
                    }
                },
            };
            b.push_txn(index, provider, t);
            if b.len == BATCH_ROWS {
                hand_on(b.finish(index, first_row));
                first_row = next_row;
            }
            Ok(())
        };
        let info = sverka_formats::read(kind, &mut source, &mut on_txn)
            .map_err(|e| Error::input(path, format!("{} file: {e}", kind.as_str())))?;
        if b.len > 0 {
            hand_on(b.finish(index, first_row));
        }
        Ok(info)
    });
    let info = info?;
    check_controls(path, &info, opts)?;
    let hash = source
        .finish()
        .map_err(|e| Error::input(path, format!("cannot read: {e}")))?;
    Ok(((out, info.transactions), info, hash))
}

/// A file that hashes its bytes (SHA-256) the first time each is read in order, so
/// that a reader's one pass also gives the file's hash. A reader that seeks back reads
/// what is hashed already; whatever no read reached is hashed by [`Hashed::finish`].
struct Hashed<R> {
    inner: R,
    pos: u64,
    /// Bytes `0..hashed` have gone into the hash.
    hashed: u64,
    hasher: sha2::Sha256,
}

impl<R: Read + Seek> Hashed<R> {
    fn new(inner: R) -> Self {
        use sha2::Digest;
        Hashed {
            inner,
            pos: 0,
            hashed: 0,
            hasher: sha2::Sha256::new(),
        }
    }

    /// Hashes the bytes no read reached and gives the file's SHA-256 in hex.
    fn finish(mut self) -> std::io::Result<String> {
        use sha2::Digest;
        self.seek(SeekFrom::Start(self.hashed))?;
        let mut buf = vec![0u8; 64 * 1024];
        while self.read(&mut buf)? > 0 {}
        Ok(hex::encode(self.hasher.finalize()))
    }
}

impl<R: Read> Read for Hashed<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        use sha2::Digest;
        let n = self.inner.read(out)?;
        let end = self.pos + n as u64;
        if self.pos <= self.hashed && end > self.hashed {
            let from = (self.hashed - self.pos) as usize;
            self.hasher.update(&out[from..n]);
            self.hashed = end;
        }
        self.pos = end;
        Ok(n)
    }
}

impl<R: Seek> Seek for Hashed<R> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

/// The provider of a transaction found by its statement's account (CONTRACT 7.2).
fn provider_of<'o>(
    t: &Txn,
    statements: &[Statement],
    opts: &'o ProviderOptions,
) -> std::result::Result<&'o str, FormatError> {
    let statement = statements
        .get(t.statement)
        .map(|s| s.id.as_str())
        .unwrap_or("");
    if t.own_account.trim().is_empty() {
        return Err(FormatError {
            place: format!("statement {statement:?}"),
            message: "the file names no account of its own, so its provider cannot be found; \
                      give the file as CODE=PATH (e.g. UZCARD=statement.xml)"
                .into(),
        });
    }
    opts.accounts
        .get(&ProviderOptions::key(&t.own_account))
        .map(String::as_str)
        .ok_or_else(|| {
            let file = opts.providers_file.as_ref().map_or_else(
                || "a providers file given with --providers".to_string(),
                |p| p.display().to_string(),
            );
            FormatError {
                place: format!("statement {statement:?}"),
                message: format!(
                    "account {:?} is in no provider's statement_accounts; add it to the provider's \
                     statement_accounts in {file}, or give the file as CODE=PATH (e.g. UZCARD=statement.xml)",
                    t.own_account
                ),
            }
        })
}

/// Enforces the file's control checks (CONTRACT 7.5): the first failed one stops the run,
/// unless `--control-totals warn`.
fn check_controls(path: &Path, info: &ProviderInfo, opts: &ProviderOptions) -> Result<()> {
    if opts.control_warn {
        return Ok(());
    }
    for st in &info.statements {
        if let Some(c) = st.checks.iter().find(|c| !c.ok) {
            return Err(Error::input(
                path,
                format!(
                    "statement {:?}: control check {} failed: declared {}, found {}; the file may be \
                     truncated or altered: ask the sender for a new copy (or run with \
                     --control-totals warn to record it and go on)",
                    st.id, c.what, c.declared, c.found
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    #[test]
    fn a_hashed_source_gives_the_files_hash_whatever_the_reader_did() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let want = hex::encode(sha2::Sha256::digest(&data));
        // Read all of it in odd pieces.
        let mut h = Hashed::new(std::io::Cursor::new(&data));
        let mut buf = [0u8; 777];
        while h.read(&mut buf).unwrap() > 0 {}
        assert_eq!(h.finish().unwrap(), want);
        // Stopped half way, went back to the start (an error's line count), read a bit.
        let mut h = Hashed::new(std::io::Cursor::new(&data));
        h.read_exact(&mut [0u8; 100_000]).unwrap();
        h.seek(SeekFrom::Start(0)).unwrap();
        h.read_exact(&mut [0u8; 150_000]).unwrap();
        assert_eq!(h.finish().unwrap(), want);
        // Skipped ahead, read nothing at all.
        let mut h = Hashed::new(std::io::Cursor::new(&data));
        h.seek(SeekFrom::Start(150_000)).unwrap();
        h.read_exact(&mut [0u8; 10]).unwrap();
        assert_eq!(h.finish().unwrap(), want);
        assert_eq!(
            Hashed::new(std::io::Cursor::new(&data)).finish().unwrap(),
            want
        );
    }
}
