//! A reconcile folder as `openimis fill` needs it: per instruction id its status, flags,
//! instructed and paid amounts, and for a PAID instruction the provider reference of the
//! settlement that paid it. Read from the folder's Parquet outputs with the audit's own
//! readers; memory holds this map only (ids and references back to back in one string,
//! fixed-size entries, a hash table of entry numbers), never a settlement that paid
//! nothing.

use std::hash::BuildHasher;
use std::path::Path;

use arrow_array::RecordBatch;
use hashbrown::{DefaultHashBuilder, HashMap, HashTable};
use sverka_engine::{Error, Result};

use crate::read::{decimal, reconcile_folder, reconcile_output, Pq, ReadResult};
use crate::text::Text;
use crate::verify::to_minor;

const IF: &str = "instructions.parquet";
const SF: &str = "settlements.parquet";
const INS_COLS: [&str; 6] = [
    "instruction_id",
    "amount",
    "currency",
    "status",
    "flags",
    "paid_amount",
];
const INS_DICT: [&str; 3] = ["currency", "status", "flags"];
const SET_COLS: [&str; 4] = [
    "provider_ref",
    "status",
    "match_method",
    "matched_instruction_id",
];
const SET_DICT: [&str; 2] = ["status", "match_method"];

/// One instruction of the reconciliation, as given to [`Results::from_rows`] and as
/// [`Results::get`] returns it. Amounts are minor units of `currency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instruction<'a> {
    pub id: &'a str,
    pub status: &'a str,
    /// `;`-separated, as in instructions.parquet.
    pub flags: &'a str,
    pub currency: &'a str,
    pub amount: i128,
    pub paid: i128,
    /// The provider reference of the SETTLED settlement matched to a PAID instruction.
    pub receipt: Option<&'a str>,
}

impl Instruction<'_> {
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.split(';').any(|f| f == flag)
    }
}

/// A span of [`Results::text`].
#[derive(Debug, Clone, Copy)]
struct Span {
    at: u32,
    len: u32,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    id: Span,
    receipt: Option<Span>,
    amount: i128,
    paid: i128,
    /// Numbers into `Results::names`.
    status: u16,
    flags: u16,
    currency: u16,
}

/// The instructions of a reconciliation, by id.
#[derive(Default)]
pub struct Results {
    text: String,
    entries: Vec<Entry>,
    index: HashTable<u32>,
    hasher: DefaultHashBuilder,
    /// Statuses, flag lists and currency codes, each distinct text once.
    names: Vec<String>,
    name_of: HashMap<String, u16>,
}

impl Results {
    /// The reconcile folder `dir` (the output of `sverka reconcile`): exit 2 when it is not
    /// one; exit 1 when its outputs contradict each other (a PAID instruction without its
    /// SETTLED settlement, or with two).
    pub fn read(dir: &Path) -> Result<Results> {
        reconcile_folder(dir)?;
        let ins = reconcile_output(dir, IF, &INS_COLS, &INS_DICT)?;
        let set = reconcile_output(dir, SF, &SET_COLS, &SET_DICT)?;
        let mut r = Results::default();
        let n = ins.rows() as usize;
        r.entries.reserve(n);
        r.index.reserve(n, |_| 0);
        let in_file = |path: std::path::PathBuf| move |e: String| Error::input(path.clone(), e);
        ins.for_each(&INS_COLS, |b, _| r.fold_instructions(b))
            .map_err(in_file(dir.join(IF)))?;
        r.read_receipts(&set).map_err(in_file(dir.join(SF)))?;
        r.check_receipts().map_err(Error::Internal)?;
        Ok(r)
    }

    /// Results made from rows (tests, fuzzing, examples): the same checks as [`Results::read`].
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = Instruction<'a>>) -> ReadResult<Results> {
        let mut r = Results::default();
        for i in rows {
            r.push(&i)?;
        }
        r.check_receipts()?;
        Ok(r)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The instruction with this id, and its number (0-based, in file order).
    pub fn get(&self, id: &str) -> Option<(usize, Instruction<'_>)> {
        let h = self.hasher.hash_one(id);
        let &k = self.index.find(h, |&k| self.id(k) == id)?;
        Some((k as usize, self.instruction(k as usize)))
    }

    /// Instruction `k` (0-based, in file order).
    pub fn instruction(&self, k: usize) -> Instruction<'_> {
        let e = &self.entries[k];
        Instruction {
            id: self.span(e.id),
            status: &self.names[e.status as usize],
            flags: &self.names[e.flags as usize],
            currency: &self.names[e.currency as usize],
            amount: e.amount,
            paid: e.paid,
            receipt: e.receipt.map(|s| self.span(s)),
        }
    }

    fn id(&self, k: u32) -> &str {
        self.span(self.entries[k as usize].id)
    }

    fn span(&self, s: Span) -> &str {
        &self.text[s.at as usize..(s.at + s.len) as usize]
    }

    fn store(&mut self, s: &str) -> ReadResult<Span> {
        let at = u32::try_from(self.text.len()).ok();
        let len = u32::try_from(s.len()).ok();
        match (at, len) {
            (Some(at), Some(len)) if at.checked_add(len).is_some() => {
                self.text.push_str(s);
                Ok(Span { at, len })
            }
            _ => Err("more than 4 GiB of ids and references: too large to fill".into()),
        }
    }

    fn name(&mut self, s: &str) -> ReadResult<u16> {
        if let Some(&k) = self.name_of.get(s) {
            return Ok(k);
        }
        let k = u16::try_from(self.names.len())
            .map_err(|_| "more than 65,536 distinct statuses, flags and currencies".to_string())?;
        self.names.push(s.to_string());
        self.name_of.insert(s.to_string(), k);
        Ok(k)
    }

    fn push(&mut self, i: &Instruction) -> ReadResult<()> {
        if self.get(i.id).is_some() {
            return Err(format!("instruction_id {:?} twice", i.id));
        }
        let receipt = match i.receipt {
            Some(r) => Some(self.store(r)?),
            None => None,
        };
        let entry = Entry {
            id: self.store(i.id)?,
            receipt,
            amount: i.amount,
            paid: i.paid,
            status: self.name(i.status)?,
            flags: self.name(i.flags)?,
            currency: self.name(i.currency)?,
        };
        let k = u32::try_from(self.entries.len()).map_err(|_| "too many instructions")?;
        self.entries.push(entry);
        let Results {
            index,
            hasher,
            text,
            entries,
            ..
        } = self;
        let h = hasher.hash_one(i.id);
        index.insert_unique(h, k, |&j| {
            let s = entries[j as usize].id;
            hasher.hash_one(&text[s.at as usize..(s.at + s.len) as usize])
        });
        Ok(())
    }

    fn fold_instructions(&mut self, b: &RecordBatch) -> ReadResult<()> {
        let t = |name| Text::of(b, name);
        let (id, status, flags, currency) = (
            t("instruction_id")?,
            t("status")?,
            t("flags")?,
            t("currency")?,
        );
        let (amount, sa) = decimal(b, "amount")?;
        let (paid, sp) = decimal(b, "paid_amount")?;
        for i in 0..b.num_rows() {
            let code = currency.value(i);
            self.push(&Instruction {
                id: id.value(i),
                status: status.value(i),
                flags: flags.value(i),
                currency: code,
                amount: to_minor(amount[i], sa, code)?,
                paid: to_minor(paid[i], sp, code)?,
                receipt: None,
            })?;
        }
        Ok(())
    }

    /// Gives each PAID instruction the reference of its SETTLED settlement. By CONTRACT 4 a
    /// PAID instruction has exactly one (two or more is DOUBLE_PAID, none is FAILED or
    /// RETURNED); its FAILED attempts and RETURNED settlements paid nothing and are no
    /// receipt.
    fn read_receipts(&mut self, pq: &Pq) -> ReadResult<()> {
        pq.for_each(&SET_COLS, |b, _| {
            let t = |name| Text::of(b, name);
            let (reference, status, method, matched) = (
                t("provider_ref")?,
                t("status")?,
                t("match_method")?,
                t("matched_instruction_id")?,
            );
            for i in 0..b.num_rows() {
                if method.value(i) == "NONE" || status.value(i) != "SETTLED" {
                    continue;
                }
                self.set_receipt(matched.value(i), reference.value(i))?;
            }
            Ok(())
        })
    }

    fn set_receipt(&mut self, id: &str, reference: &str) -> ReadResult<()> {
        let Some((k, ins)) = self.get(id) else {
            return Err(format!(
                "a settlement is matched to instruction {id:?}, which is not in \
                 instructions.parquet: the folder's outputs disagree with each other"
            ));
        };
        if ins.status != "PAID" {
            return Ok(());
        }
        if let Some(first) = ins.receipt {
            return Err(format!(
                "instruction {id:?} is PAID with two SETTLED settlements ({first:?} and \
                 {reference:?}): CONTRACT 4 makes that DOUBLE_PAID; the folder's outputs \
                 disagree with each other"
            ));
        }
        let span = self.store(reference)?;
        self.entries[k].receipt = Some(span);
        Ok(())
    }

    /// Every PAID instruction has its receipt.
    fn check_receipts(&self) -> ReadResult<()> {
        let paid = self.name_of.get("PAID");
        match self
            .entries
            .iter()
            .find(|e| Some(&e.status) == paid && e.receipt.is_none())
        {
            Some(e) => Err(format!(
                "instruction {:?} is PAID, but no SETTLED settlement is matched to it: the \
                 folder's outputs disagree with each other",
                self.span(e.id)
            )),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ins<'a>(id: &'a str, status: &'a str, receipt: Option<&'a str>) -> Instruction<'a> {
        Instruction {
            id,
            status,
            flags: "",
            currency: "UZS",
            amount: 100,
            paid: if status == "PAID" { 100 } else { 0 },
            receipt,
        }
    }

    #[test]
    fn looked_up_by_id() {
        let r = Results::from_rows([ins("BEN-1", "PAID", Some("R1")), ins("007", "UNPAID", None)])
            .unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r.get("BEN-1").unwrap().1.receipt, Some("R1"));
        assert_eq!(r.get("007").unwrap(), (1, ins("007", "UNPAID", None)));
        assert!(r.get("7").is_none());
    }

    #[test]
    fn contradictions_are_refused() {
        let e = Results::from_rows([ins("A", "PAID", None)]).err().unwrap();
        assert!(e.contains("no SETTLED settlement"), "{e}");
        let e = Results::from_rows([ins("A", "UNPAID", None), ins("A", "PAID", Some("R"))])
            .err()
            .unwrap();
        assert_eq!(e, "instruction_id \"A\" twice");
        let mut r = Results::from_rows([ins("A", "PAID", Some("R1"))]).unwrap();
        let e = r.set_receipt("A", "R2").unwrap_err();
        assert!(e.contains("two SETTLED settlements"), "{e}");
        assert!(r.set_receipt("B", "R3").is_err());
    }
}
