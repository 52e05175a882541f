//! The rows a run may issue: the accepted payroll rows, then the retry candidates of
//! `--retry-from`, each with its attempt and instruction id.

use std::collections::BTreeMap;

use arrow_array::builder::StringBuilder;
use arrow_array::{Array, StringArray};
use rayon::prelude::*;
use sverka_engine::currency::Ccy;
use sverka_engine::side::{self, Columns, Field, FileStats, InputFile, Kind, Reject, Side, Table};
use sverka_engine::{Error, Result};

use crate::ids;
use crate::retry::{self, Action, Reconciled, RetryInput};

/// An approved payroll: the instruction columns without `instruction_id` (disburse
/// derives it), plus an optional `beneficiary_name`; validated with the instruction rules,
/// in this order.
pub(crate) const PAYROLL: Side = Side::Custom(&Columns {
    name: "payroll",
    fields: &[
        Field::new("beneficiary_id", true, Kind::Text),
        Field::new("program", true, Kind::Text),
        Field::new("cycle", true, Kind::Text),
        Field::new("provider", true, Kind::Text),
        Field::new("account", true, Kind::Text),
        Field::new("amount", true, Kind::Amount),
        Field::new("currency", true, Kind::Currency),
        Field::new("due_date", true, Kind::Date),
        Field::new("beneficiary_name", false, Kind::Text),
    ],
});

/// Positions of the payroll's text columns in its [`Table`].
mod pay {
    pub const BENEFICIARY: usize = 0;
    pub const PROGRAM: usize = 1;
    pub const CYCLE: usize = 2;
    pub const PROVIDER: usize = 3;
    pub const ACCOUNT: usize = 4;
    pub const NAME: usize = 5;
}

/// What the run read: the payroll (validated) and the reconciliation to retry from.
pub(crate) struct Input {
    pub files: Vec<InputFile>,
    pub table: Table,
    pub rejects: Vec<Reject>,
    pub stats: Vec<FileStats>,
    pub retry: Option<RetryInput>,
}

impl Input {
    pub fn load(files: Vec<InputFile>, retry_from: Option<&std::path::Path>) -> Result<Input> {
        // Discover, decode, validate (the instruction rules), join; no files: no rows.
        let side::Read {
            files,
            stats,
            table,
            rejects,
        } = side::read(PAYROLL, files)?;
        let retry = retry_from.map(retry::read).transpose()?;
        Ok(Input {
            files,
            table,
            rejects,
            stats,
            retry,
        })
    }

    /// The execution date given, else the earliest due date of the accepted payroll.
    pub fn execution_date(&self, given: Option<i32>) -> Result<i32> {
        match given.or_else(|| self.table.dates().iter().min().copied()) {
            Some(d) => Ok(d),
            None => Err(Error::Usage(
                "no accepted payroll row to take the execution date from: give --execution-date YYYY-MM-DD".into(),
            )),
        }
    }

    /// The payroll files' paths as the outputs print them.
    pub fn file_paths(&self) -> Vec<String> {
        self.files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect()
    }
}

/// The reconciled rows of `--retry-from`, sorted by what they ask for.
#[derive(Default)]
pub(crate) struct RetrySort<'a> {
    pub retry: Vec<&'a Reconciled>,
    pub recovery: Vec<&'a Reconciled>,
    /// Rows needing nothing, per status.
    pub no_action: BTreeMap<String, u64>,
}

impl<'a> RetrySort<'a> {
    pub fn of(input: Option<&'a RetryInput>) -> RetrySort<'a> {
        let mut s = RetrySort::default();
        for row in input.map_or(&[][..], |r| &r.rows) {
            match retry::action(&row.status) {
                Action::Retry => s.retry.push(row),
                Action::Recover => s.recovery.push(row),
                Action::None => *s.no_action.entry(row.status.clone()).or_default() += 1,
            }
        }
        s
    }
}

/// The rows that may be issued: the accepted payroll rows, then the retry candidates.
pub(crate) struct View<'a> {
    pub pay: &'a Table,
    pub n_pay: usize,
    pub retry: Vec<&'a Reconciled>,
    /// Attempt of each row (0: a retry that cannot continue, held with the detail
    /// in `retry_hold`).
    pub attempt: Vec<u32>,
    /// Per retry row: why it cannot be retried, if so.
    pub retry_hold: Vec<Option<String>>,
    pub execution_date: i32,
}

impl<'a> View<'a> {
    /// The view of `pay` and the retry rows, each retry at the attempt after its
    /// original's.
    pub fn new(pay: &'a Table, retry: Vec<&'a Reconciled>, execution_date: i32) -> View<'a> {
        let n_pay = pay.len();
        let mut attempt = vec![1u32; n_pay];
        let mut retry_hold = Vec::with_capacity(retry.len());
        for r in &retry {
            let (a, hold) = next_attempt(r);
            attempt.push(a);
            retry_hold.push(hold);
        }
        View {
            pay,
            n_pay,
            retry,
            attempt,
            retry_hold,
            execution_date,
        }
    }

    pub fn len(&self) -> usize {
        self.n_pay + self.retry.len()
    }
    /// A text field: payroll column `col` for payroll rows, `retry(row)` for retries.
    fn text(&self, i: usize, col: usize, retry: fn(&Reconciled) -> &str) -> &str {
        if i < self.n_pay {
            self.pay.str(col, i)
        } else {
            retry(self.retry[i - self.n_pay])
        }
    }
    pub fn ben(&self, i: usize) -> &str {
        self.text(i, pay::BENEFICIARY, |r| &r.beneficiary_id)
    }
    pub fn program(&self, i: usize) -> &str {
        self.text(i, pay::PROGRAM, |r| &r.program)
    }
    pub fn cycle(&self, i: usize) -> &str {
        self.text(i, pay::CYCLE, |r| &r.cycle)
    }
    pub fn provider(&self, i: usize) -> &str {
        self.text(i, pay::PROVIDER, |r| &r.provider)
    }
    pub fn account(&self, i: usize) -> &str {
        self.text(i, pay::ACCOUNT, |r| &r.account)
    }
    pub fn name(&self, i: usize) -> Option<&str> {
        if i < self.n_pay {
            self.pay.opt_str(pay::NAME, i)
        } else {
            None
        }
    }
    pub fn amount(&self, i: usize) -> i128 {
        if i < self.n_pay {
            self.pay.amount(0, i) as i128
        } else {
            self.retry[i - self.n_pay].amount
        }
    }
    pub fn ccy(&self, i: usize) -> Ccy {
        if i < self.n_pay {
            self.pay.currency(i)
        } else {
            self.retry[i - self.n_pay].currency
        }
    }
    /// Requested execution date: the payroll's due date; a retry's is the run's date.
    pub fn due(&self, i: usize) -> i32 {
        if i < self.n_pay {
            self.pay.dates()[i]
        } else {
            self.execution_date
        }
    }
    pub fn original(&self, i: usize) -> Option<&str> {
        (i >= self.n_pay).then(|| self.retry[i - self.n_pay].instruction_id.as_str())
    }
}

/// The attempt a retry of `r` gets, or 0 and why it cannot be retried.
fn next_attempt(r: &Reconciled) -> (u32, Option<String>) {
    let claimed = ids::claimed_attempt(&r.instruction_id).filter(|&a| {
        ids::instruction_id(&r.program, &r.cycle, &r.beneficiary_id, a) == r.instruction_id
    });
    match claimed {
        Some(a) if a < ids::MAX_ATTEMPT => (a + 1, None),
        Some(a) => (
            0,
            Some(format!(
                "attempt {a} was the last one an id can carry; pay this beneficiary through a new payroll row"
            )),
        ),
        None => (
            0,
            Some(format!(
                "{} was not issued by sverka disburse (its id is not derived from programme, cycle and beneficiary); retry it by hand",
                r.instruction_id
            )),
        ),
    }
}

/// The instruction id of every row (null for attempt 0), built in parallel.
pub(crate) fn ids_for(view: &View) -> StringArray {
    const CH: usize = 64 * 1024;
    let n = view.len();
    let parts: Vec<StringArray> = (0..n.div_ceil(CH))
        .into_par_iter()
        .map(|c| {
            let r = c * CH..((c + 1) * CH).min(n);
            let mut b = StringBuilder::with_capacity(r.len(), r.len() * 32);
            let mut s = String::with_capacity(40);
            for i in r {
                if view.attempt[i] == 0 {
                    b.append_null();
                    continue;
                }
                s.clear();
                ids::instruction_id_into(
                    view.program(i),
                    view.cycle(i),
                    view.ben(i),
                    view.attempt[i],
                    &mut s,
                );
                b.append_value(&s);
            }
            b.finish()
        })
        .collect();
    if parts.is_empty() {
        return StringArray::new_null(0);
    }
    let refs: Vec<&dyn Array> = parts.iter().map(|p| p as _).collect();
    let a = arrow_select::concat::concat(&refs).expect("same type");
    a.as_any()
        .downcast_ref::<StringArray>()
        .expect("utf8")
        .clone()
}
