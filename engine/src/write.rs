//! Outputs (CONTRACT.md section 5): builds the result batches, proves conservation and
//! totals on them, and writes every file into the run's output set (`outset`), published
//! only when all are whole. A run that fails leaves earlier outputs untouched.

use std::borrow::Cow;

use std::io::Write;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, Date32Array, Decimal128Array, DictionaryArray, Int32Array, Int64Array,
    RecordBatch, StringArray,
};
use arrow_buffer::{BooleanBufferBuilder, Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, Schema};
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;
use rayon::prelude::*;

use crate::classify::{flag, Classes, Status};
use crate::currency::{self, Ccy, NO_CCY};
use crate::date;
use crate::error::{Error, Result};
use crate::matching::{Matches, Method, NO_MATCH};
use crate::money::{self, POW10};
use crate::outfile::{Nudge, OutFile};
use crate::outset::OutputSet;
use crate::schema::{ins, set, Reject, SettleStatus};
use crate::table::{Table, TextCol};
use crate::validate::NO_AMOUNT;

pub const DECIMAL_PRECISION: u8 = 38;

/// Everything the row outputs are built from. Batches are built a slice at a time
/// (`ROW_GROUP_ROWS` rows) while writing, so output memory does not grow with the input.
pub struct Ctx<'a> {
    pub ins_t: &'a Table,
    pub set_t: &'a Table,
    pub m: &'a Matches,
    pub cl: &'a Classes,
    pub rejects: &'a [Reject],
    /// Display paths of the input files, per side.
    pub files: &'a [Vec<String>; 2],
    /// The format each settlement file was read as (the settlements' `format` column).
    set_formats: StringArray,
    /// The `file` columns' dictionaries (each side's display paths), made once: a coded
    /// column keeps one dictionary across its batches.
    file_dicts: [StringArray; 2],
    /// Whether some accepted settlement has no amount or no currency (a FAILED row, v2):
    /// then the settlements' `amount` and `currency` columns are nullable.
    set_nullable: bool,
    /// The one decimal scale of every amount column.
    pub scale: i8,
    /// The dictionaries of the coded output columns, indexed by the engine's codes.
    dicts: Dicts,
    factors: Vec<i128>,
    ins_schema: Arc<Schema>,
    set_schema: Arc<Schema>,
    rej_schema: Arc<Schema>,
    /// (v2) The rows' `decision_ids`, with `--decisions` (CONTRACT.md section 8).
    decision_ids: Option<&'a crate::decisions::DecisionIds>,
}

/// Largest minor units among the currencies of accepted rows (2 when there are none).
pub fn run_scale(ins_t: &Table, set_t: &Table) -> i8 {
    let table = currency::table();
    let mut seen = vec![false; table.currencies.len()];
    for &c in ins_t.currency.iter().chain(&set_t.currency) {
        if c != NO_CCY {
            seen[c as usize] = true;
        }
    }
    let max = seen
        .iter()
        .enumerate()
        .filter(|(_, &s)| s)
        .map(|(c, _)| table.minor_units(c as Ccy))
        .max();
    max.unwrap_or(2) as i8
}

fn field(name: &str, dt: DataType, nullable: bool) -> Field {
    Field::new(name, dt, nullable)
}

/// Decimal type of a column: precision 18 when every value fits (Parquet then stores it
/// as INT64, much faster to write and read than 16-byte fixed binary), else 38.
fn dec_type(values: impl rayon::iter::ParallelIterator<Item = i128>, scale: i8) -> DataType {
    let fits18 = values.all(|v| v.unsigned_abs() < POW10[18] as u128);
    DataType::Decimal128(if fits18 { 18 } else { DECIMAL_PRECISION }, scale)
}

impl<'a> Ctx<'a> {
    pub fn new(
        ins_t: &'a Table,
        set_t: &'a Table,
        m: &'a Matches,
        cl: &'a Classes,
        rejects: &'a [Reject],
        files: &'a [Vec<String>; 2],
        set_formats: &[&str],
    ) -> Ctx<'a> {
        let scale = run_scale(ins_t, set_t);
        let table = currency::table();
        let factors: Vec<i128> = (0..table.currencies.len())
            .map(|c| POW10[(scale as u8).saturating_sub(table.minor_units(c as Ccy)) as usize])
            .collect();
        // Each row's value in the run's scale (for the column's precision).
        fn rescaled<'v>(
            minor: impl IndexedParallelIterator<Item = i128> + 'v,
            ccy: &'v [Ccy],
            factors: &'v [i128],
        ) -> impl ParallelIterator<Item = i128> + 'v {
            minor
                .zip(ccy.par_iter())
                .map(move |(x, &c)| x * factor(factors, c))
        }
        // An absent amount (NO_AMOUNT) is a null: 0 for the column's precision.
        let minor = |v: &'a [u64]| {
            v.par_iter()
                .map(|&x| if x == NO_AMOUNT { 0 } else { x as i128 })
        };
        let set_nullable = set_t
            .currency
            .par_iter()
            .zip(set_t.amounts[set::AMOUNT].par_iter())
            .any(|(&c, &a)| c == NO_CCY || a == NO_AMOUNT);
        let ins_amount = &ins_t.amounts[0];
        let ins_ccy = &ins_t.currency;
        let dt_amount = dec_type(rescaled(minor(ins_amount), ins_ccy, &factors), scale);
        let dt_paid = dec_type(
            rescaled(cl.paid.par_iter().copied(), ins_ccy, &factors),
            scale,
        );
        let diff = cl
            .paid
            .par_iter()
            .zip(ins_amount.par_iter())
            .map(|(p, &a)| p - a as i128);
        let dt_diff = dec_type(rescaled(diff, ins_ccy, &factors), scale);
        let set_ccy = &set_t.currency;
        let dt_samount = dec_type(
            rescaled(minor(&set_t.amounts[set::AMOUNT]), set_ccy, &factors),
            scale,
        );
        let dt_fee = dec_type(
            rescaled(minor(&set_t.amounts[set::FEE]), set_ccy, &factors),
            scale,
        );
        let ins_schema = Arc::new(Schema::new(vec![
            field("instruction_id", DataType::Utf8, false),
            field("beneficiary_id", DataType::Utf8, false),
            field("program", DataType::Utf8, false),
            field("cycle", DataType::Utf8, false),
            field("provider", DataType::Utf8, false),
            field("account", DataType::Utf8, false),
            field("amount", dt_amount, false),
            field("currency", DataType::Utf8, false),
            field("due_date", DataType::Date32, false),
            field("status", DataType::Utf8, false),
            field("paid_amount", dt_paid, false),
            field("difference", dt_diff, false),
            field("settlement_count", DataType::Int64, false),
            field("flags", DataType::Utf8, false),
            field("file", DataType::Utf8, false),
            field("row", DataType::Int64, false),
            field("decision_ids", DataType::Utf8, false),
        ]));
        let set_schema = Arc::new(Schema::new(vec![
            field("provider", DataType::Utf8, false),
            field("provider_ref", DataType::Utf8, false),
            field("instruction_id", DataType::Utf8, true),
            field("account", DataType::Utf8, true),
            field("amount", dt_samount, set_nullable),
            field("fee", dt_fee, false),
            field("currency", DataType::Utf8, set_nullable),
            field("status", DataType::Utf8, false),
            field("value_date", DataType::Date32, false),
            field("match_method", DataType::Utf8, false),
            field("matched_instruction_id", DataType::Utf8, true),
            field("flags", DataType::Utf8, false),
            field("file", DataType::Utf8, false),
            field("row", DataType::Int64, false),
            field("format", DataType::Utf8, false),
            field("decision_ids", DataType::Utf8, false),
        ]));
        let rej_schema = rejects_schema();
        Ctx {
            ins_t,
            set_t,
            m,
            cl,
            rejects,
            files,
            set_formats: StringArray::from_iter_values(set_formats),
            file_dicts: [
                StringArray::from_iter_values(files[0].iter()),
                StringArray::from_iter_values(files[1].iter()),
            ],
            set_nullable,
            scale,
            dicts: Dicts::new(),
            factors,
            ins_schema,
            set_schema,
            rej_schema,
            decision_ids: None,
        }
    }

    /// The rows' `decision_ids` come from `ids` (else they are empty).
    pub fn with_decisions(mut self, ids: &'a crate::decisions::DecisionIds) -> Ctx<'a> {
        self.decision_ids = Some(ids);
        self
    }

    /// An amount in currency `c`'s minor units, in the run's scale.
    pub fn scaled(&self, x: i128, c: Ccy) -> i128 {
        x * factor(&self.factors, c)
    }

    fn decimal(
        &self,
        schema: &Schema,
        name: &str,
        values: impl Iterator<Item = (i128, Ccy)>,
    ) -> ArrayRef {
        let v: Vec<i128> = values.map(|(x, c)| x * factor(&self.factors, c)).collect();
        typed_decimal(schema, name, Decimal128Array::from(v))
    }

    /// A nullable decimal column: `None` where the value is absent.
    fn decimal_opt(
        &self,
        schema: &Schema,
        name: &str,
        values: impl Iterator<Item = Option<(i128, Ccy)>>,
    ) -> ArrayRef {
        let v: Vec<Option<i128>> = values
            .map(|x| x.map(|(x, c)| x * factor(&self.factors, c)))
            .collect();
        typed_decimal(schema, name, Decimal128Array::from(v))
    }

    /// The lineage columns (CONTRACT v2 section 5) of a side's selected rows: `file` (the
    /// path as given, coded by file index), `row`, and for settlements `format`.
    fn lineage(
        &self,
        t: &Table,
        side: usize,
        r: &Selection,
    ) -> (ArrayRef, ArrayRef, Option<ArrayRef>) {
        let origin = r.pick(&t.origin);
        let parts = || origin.iter().map(|&o| crate::validate::origin_parts(o));
        let file = coded(parts().map(|(f, _)| f as i32), &self.file_dicts[side]);
        let row: ArrayRef = Arc::new(Int64Array::from_iter_values(parts().map(|(_, r)| r as i64)));
        let format = (side == 1).then(|| coded(parts().map(|(f, _)| f as i32), &self.set_formats));
        (file, row, format)
    }

    /// `decision_ids` (CONTRACT v2 section 8) of a side's selected rows: empty in every
    /// row without decisions.
    fn decision_ids(&self, side: usize, r: &Selection, n: usize) -> ArrayRef {
        match self.decision_ids {
            None => coded(std::iter::repeat_n(0, n), &self.dicts.empty),
            Some(d) => {
                let codes = if side == 0 { &d.ins } else { &d.set };
                coded(r.pick(codes).iter().copied(), &d.dict)
            }
        }
    }

    pub fn instructions(&self, r: Selection) -> Result<RecordBatch> {
        let (t, cl, d) = (self.ins_t, self.cl, &self.dicts);
        let ccy = &*r.pick(&t.currency);
        let amount = &*r.pick(&t.amounts[0]);
        let paid = &*r.pick(&cl.paid);
        let (file, row, _) = self.lineage(t, 0, &r);
        let sc = &self.ins_schema;
        batch(
            sc,
            vec![
                r.text(&t.text[ins::ID]),
                r.text(&t.text[ins::BENEFICIARY]),
                r.text(&t.text[ins::PROGRAM]),
                r.text(&t.text[ins::CYCLE]),
                r.text(&t.text[ins::PROVIDER]),
                r.text(&t.text[ins::ACCOUNT]),
                self.decimal(
                    sc,
                    "amount",
                    amount.iter().map(|&a| a as i128).zip(ccy.iter().copied()),
                ),
                coded(ccy.iter().map(|&c| c as i32), &d.currency),
                Arc::new(Date32Array::from(r.pick(&t.date).into_owned())),
                coded(r.pick(&cl.status).iter().map(|&s| s as i32), &d.status),
                self.decimal(
                    sc,
                    "paid_amount",
                    paid.iter().copied().zip(ccy.iter().copied()),
                ),
                self.decimal(
                    sc,
                    "difference",
                    paid.iter()
                        .zip(amount)
                        .map(|(p, &a)| p - a as i128)
                        .zip(ccy.iter().copied()),
                ),
                Arc::new(Int64Array::from_iter_values(
                    r.pick(&cl.settlement_count).iter().map(|&c| c as i64),
                )),
                coded(r.pick(&cl.flags).iter().map(|&f| f as i32), &d.flags),
                file,
                row,
                self.decision_ids(0, &r, paid.len()),
            ],
        )
    }

    pub fn settlements(&self, r: Selection) -> Result<RecordBatch> {
        let (t, m, d) = (self.set_t, self.m, &self.dicts);
        let ids = self.ins_t.text[ins::ID].plain();
        let own = t.text[set::INSTRUCTION_ID].plain();
        let (matched, method) = (&*r.pick(&m.instruction), &*r.pick(&m.method));
        let ccy = &*r.pick(&t.currency);
        let (file, row, format) = self.lineage(t, 1, &r);
        let sc = &self.set_schema;
        // (v2) A FAILED settlement may have no currency: the column is then plain,
        // nullable text (a coded column is required).
        let currency = if self.set_nullable {
            let table = currency::table();
            texts(ccy.len(), |j| {
                (ccy[j] != NO_CCY).then(|| table.code(ccy[j]))
            })
        } else {
            coded(ccy.iter().map(|&c| c as i32), &d.currency)
        };
        batch(
            sc,
            vec![
                r.text(&t.text[set::PROVIDER]),
                r.text(&t.text[set::REF]),
                r.text(&t.text[set::INSTRUCTION_ID]),
                r.text(&t.text[set::ACCOUNT]),
                self.decimal_opt(
                    sc,
                    "amount",
                    r.pick(&t.amounts[set::AMOUNT])
                        .iter()
                        .zip(ccy.iter())
                        .map(|(&a, &c)| (a != NO_AMOUNT).then_some((a as i128, c))),
                ),
                self.decimal(
                    sc,
                    "fee",
                    r.pick(&t.amounts[set::FEE])
                        .iter()
                        .map(|&a| a as i128)
                        .zip(ccy.iter().copied()),
                ),
                currency,
                coded(
                    r.pick(&t.status).iter().map(|&s| s as i32),
                    &d.settle_status,
                ),
                Arc::new(Date32Array::from(r.pick(&t.date).into_owned())),
                coded(method.iter().map(|&x| x as i32), &d.method),
                // A reference match's instruction id is the settlement's own (equal
                // bytes, CONTRACT.md section 3): read in row order, not gathered.
                texts(matched.len(), |j| {
                    if method[j] == Method::Reference as u8 {
                        Some(own.value(r.row(j)))
                    } else {
                        (matched[j] != NO_MATCH).then(|| ids.value(matched[j] as usize))
                    }
                }),
                coded(r.pick(&m.ambiguous).iter().map(|&a| a as i32), &d.ambiguous),
                file,
                row,
                format.expect("settlements have a format column"),
                self.decision_ids(1, &r, ccy.len()),
            ],
        )
    }

    pub fn rejects(&self, r: Selection) -> Result<RecordBatch> {
        rejects_batch(&r.pick(self.rejects), |x| {
            self.files[x.side.rank() as usize][x.file as usize].as_str()
        })
    }

    pub fn schema(&self, output: Output) -> Arc<Schema> {
        match output {
            Output::Instructions => self.ins_schema.clone(),
            Output::Settlements => self.set_schema.clone(),
            Output::Rejects => self.rej_schema.clone(),
        }
    }

    pub fn rows(&self, output: Output) -> usize {
        match output {
            Output::Instructions => self.ins_t.len(),
            Output::Settlements => self.set_t.len(),
            Output::Rejects => self.rejects.len(),
        }
    }

    pub fn batch(&self, output: Output, r: Range<usize>) -> Result<RecordBatch> {
        self.select(output, Selection::Range(r))
    }

    fn select(&self, output: Output, r: Selection) -> Result<RecordBatch> {
        match output {
            Output::Instructions => self.instructions(r),
            Output::Settlements => self.settlements(r),
            Output::Rejects => self.rejects(r),
        }
    }

    /// Whole output rows by index, in the order given, built by the code that builds the
    /// written batches (so the values are the written ones): the audit report's exception
    /// rows.
    pub fn take(&self, output: Output, rows: &[usize]) -> Result<RecordBatch> {
        let n = self.rows(output);
        if let Some(r) = rows.iter().find(|&&r| r >= n) {
            return Err(Error::Internal(format!(
                "{} row {r} asked for, {n} written",
                output.name()
            )));
        }
        self.select(output, Selection::List(rows))
    }
}

/// The rows of an output a batch is built from: a slice (the writers) or chosen rows
/// (the audit report's exception rows). One builder serves both.
#[derive(Clone)]
pub enum Selection<'a> {
    Range(Range<usize>),
    List(&'a [usize]),
}

impl Selection<'_> {
    /// The table row of the selection's `j`th row.
    fn row(&self, j: usize) -> usize {
        match self {
            Selection::Range(r) => r.start + j,
            Selection::List(rows) => rows[j],
        }
    }

    /// The selected values of a column: borrowed for a slice, gathered for a list.
    fn pick<'v, T: Clone>(&self, v: &'v [T]) -> Cow<'v, [T]> {
        match self {
            Selection::Range(r) => Cow::Borrowed(&v[r.clone()]),
            Selection::List(rows) => Cow::Owned(rows.iter().map(|&i| v[i].clone()).collect()),
        }
    }

    /// A text column's selected rows: coded for a dictionary column, else plain.
    fn text(&self, c: &TextCol) -> ArrayRef {
        match (self, c) {
            (_, TextCol::Dict { codes, values }) => {
                coded(self.pick(codes).iter().map(|&k| k as i32), values)
            }
            (Selection::Range(r), TextCol::Plain(a)) => Arc::new(a.slice(r.start, r.len())),
            (Selection::List(rows), c) => Arc::new(StringArray::from_iter(
                rows.iter().map(|&i| (!c.is_null(i)).then(|| c.value(i))),
            )),
        }
    }
}

/// The three row outputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    Instructions,
    Settlements,
    Rejects,
}

impl Output {
    pub const ALL: [Output; 3] = [Output::Instructions, Output::Settlements, Output::Rejects];

    pub fn name(self) -> &'static str {
        match self {
            Output::Instructions => "instructions",
            Output::Settlements => "settlements",
            Output::Rejects => "rejects",
        }
    }
}

/// The schema of `rejects.parquet` (CONTRACT.md section 4), shared by reconcile and
/// disburse.
pub fn rejects_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        field("side", DataType::Utf8, false),
        field("file", DataType::Utf8, false),
        field("row", DataType::Int64, false),
        field("column", DataType::Utf8, true),
        field("reason", DataType::Utf8, false),
        field("value", DataType::Utf8, true),
    ]))
}

/// Reject rows as a `rejects.parquet` batch; `file` names each row's input file.
pub fn rejects_batch<'a>(
    rej: &'a [Reject],
    file: impl Fn(&'a Reject) -> &'a str,
) -> Result<RecordBatch> {
    RecordBatch::try_new(
        rejects_schema(),
        vec![
            texts(rej.len(), |j| Some(rej[j].side.as_str())),
            Arc::new(StringArray::from_iter_values(rej.iter().map(file))),
            Arc::new(Int64Array::from_iter_values(
                rej.iter().map(|x| x.row as i64),
            )),
            texts(rej.len(), |j| rej[j].column),
            texts(rej.len(), |j| Some(rej[j].reason.as_str())),
            texts(rej.len(), |j| rej[j].value.as_deref()),
        ],
    )
    .map_err(|e| Error::Internal(format!("rejects batch: {e}")))
}

/// The dictionaries of the coded output columns (see [`coded`]), indexed by the codes the
/// engine keeps: currency, instruction status, flag set, settlement status, match method,
/// AMBIGUOUS or not.
struct Dicts {
    currency: StringArray,
    status: StringArray,
    flags: StringArray,
    settle_status: StringArray,
    method: StringArray,
    ambiguous: StringArray,
    /// The one value of a column that is empty in every row.
    empty: StringArray,
}

impl Dicts {
    fn new() -> Dicts {
        let table = currency::table();
        Dicts {
            currency: StringArray::from_iter_values(
                (0..table.currencies.len()).map(|c| table.code(c as Ccy)),
            ),
            status: StringArray::from_iter_values(Status::ALL.iter().map(|s| s.as_str())),
            flags: StringArray::from_iter_values((0..flag::SETS).map(flag::text)),
            settle_status: StringArray::from_iter_values(
                (0..3u8).map(|s| SettleStatus::from_u8(s).as_str()),
            ),
            method: StringArray::from_iter_values((0..4u8).map(|x| Method::from_u8(x).as_str())),
            ambiguous: StringArray::from(vec!["", "AMBIGUOUS"]),
            empty: StringArray::from(vec![""]),
        }
    }
}

/// A required text column as keys into `values` (`Dictionary(Int32, Utf8)`): the batch
/// shares the dictionary instead of copying a string per row, and the Parquet writer
/// encodes the keys as they are (`parquet_out`). The file's column is still `Utf8`.
/// `values` with the precision and scale `schema` declares for column `name`.
fn typed_decimal(schema: &Schema, name: &str, values: Decimal128Array) -> ArrayRef {
    let DataType::Decimal128(p, s) = *schema.field_with_name(name).expect("column").data_type()
    else {
        unreachable!("decimal column")
    };
    Arc::new(
        values
            .with_precision_and_scale(p, s)
            .expect("valid precision and scale"),
    )
}

/// The factor from a currency's minor units to the run's scale (1 for no currency: its
/// amounts are absent or 0).
fn factor(factors: &[i128], c: Ccy) -> i128 {
    factors.get(c as usize).copied().unwrap_or(1)
}

pub(crate) fn coded(keys: impl Iterator<Item = i32>, values: &StringArray) -> ArrayRef {
    dictionary(Int32Array::from_iter_values(keys), values)
}

/// A coded column: `keys` (a null key is a null row) into `values`.
pub(crate) fn dictionary(keys: Int32Array, values: &StringArray) -> ArrayRef {
    Arc::new(
        DictionaryArray::<Int32Type>::try_new(keys, Arc::new(values.clone()))
            .expect("the engine's codes index their dictionary"),
    )
}

/// A batch of an output: `schema`'s fields, typed as the columns are (coded columns are
/// dictionaries in the batch, text in the file).
pub(crate) fn batch(schema: &Schema, columns: Vec<ArrayRef>) -> Result<RecordBatch> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .zip(&columns)
        .map(|(f, c)| f.as_ref().clone().with_data_type(c.data_type().clone()))
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::Internal(format!("output batch: {e}")))
}

/// A text column of a batch, plain (`Utf8`) or coded (`Dictionary(Int32, Utf8)`): how the
/// engine's verifier, the CSV writer and the audit report read output text, whichever
/// form a batch has (written batches, or Parquet read back).
pub enum Text<'a> {
    Plain(&'a StringArray),
    Dict {
        keys: &'a [i32],
        nulls: Option<&'a NullBuffer>,
        values: &'a StringArray,
    },
}

impl<'a> Text<'a> {
    /// Column `name` of a batch as text; the error says what is wrong.
    pub fn of(b: &'a RecordBatch, name: &str) -> std::result::Result<Text<'a>, String> {
        let i = b
            .schema()
            .index_of(name)
            .map_err(|_| format!("no column {name:?}"))?;
        let a = b.column(i);
        Text::of_array(a.as_ref())
            .ok_or_else(|| format!("column {name}: text expected, found {}", a.data_type()))
    }

    /// An array as text, or None when it is neither `Utf8` nor `Dictionary(Int32, Utf8)`.
    pub fn of_array(a: &'a dyn Array) -> Option<Text<'a>> {
        match a.data_type() {
            DataType::Utf8 => Some(Text::Plain(a.as_string::<i32>())),
            DataType::Dictionary(k, v) if **k == DataType::Int32 && **v == DataType::Utf8 => {
                let d = a.as_dictionary::<Int32Type>();
                Some(Text::Dict {
                    keys: d.keys().values(),
                    nulls: d.nulls(),
                    values: d.values().as_string::<i32>(),
                })
            }
            _ => None,
        }
    }

    #[inline]
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Text::Plain(a) => (!a.is_null(i)).then(|| a.value(i)),
            Text::Dict {
                keys,
                nulls,
                values,
            } => {
                if nulls.is_some_and(|n| n.is_null(i)) {
                    None
                } else {
                    Some(values.value(keys[i] as usize))
                }
            }
        }
    }

    /// The value of row `i` ("" when null).
    #[inline]
    pub fn value(&self, i: usize) -> &'a str {
        self.get(i).unwrap_or("")
    }

    /// Rows of the column.
    pub fn len(&self) -> usize {
        match self {
            Text::Plain(a) => a.len(),
            Text::Dict { keys, .. } => keys.len(),
        }
    }

    /// A coded column's rows as dense numbers of the values they use, with those values in
    /// order of first use: a dictionary may hold others (every currency the engine knows,
    /// say), which must not be looked up. Keys are read as they are (a null row's key
    /// too). None for plain text.
    pub fn used_values(&self) -> Option<(Vec<u32>, Vec<&'a str>)> {
        let (keys, values) = self.dict()?;
        let mut id_of = vec![u32::MAX; values.len()];
        let mut names = Vec::new();
        let ids = keys
            .iter()
            .map(|&k| {
                let id = &mut id_of[k as usize];
                if *id == u32::MAX {
                    *id = names.len() as u32;
                    names.push(values.value(k as usize));
                }
                *id
            })
            .collect();
        Some((ids, names))
    }

    /// `f` of each row's value ("" when null), in row order; for a coded column without
    /// nulls, called once per value used (the self-check reads status and currency columns
    /// this way instead of comparing a string per row).
    pub fn map_rows<T: Copy>(&self, mut f: impl FnMut(&'a str) -> T) -> Vec<T> {
        match self {
            Text::Dict { nulls: None, .. } => {
                let (ids, names) = self.used_values().expect("a coded column");
                let per_value: Vec<T> = names.into_iter().map(f).collect();
                ids.iter().map(|&i| per_value[i as usize]).collect()
            }
            _ => (0..self.len()).map(|i| f(self.value(i))).collect(),
        }
    }

    /// Dictionary: (per-row key, distinct values); plain: None.
    pub fn dict(&self) -> Option<(&'a [i32], &'a StringArray)> {
        match self {
            Text::Dict { keys, values, .. } => Some((keys, values)),
            Text::Plain(_) => None,
        }
    }
}

/// A text column of `n` values (`value(j)`, None: null), its buffers allocated at their
/// exact size: the value of most output columns is a short name looked up per row.
fn texts<'a>(n: usize, value: impl Fn(usize) -> Option<&'a str>) -> ArrayRef {
    let mut bytes = 0usize;
    let mut nulls = 0usize;
    for x in 0..n {
        match value(x) {
            Some(v) => bytes += v.len(),
            None => nulls += 1,
        }
    }
    let mut data = Vec::with_capacity(bytes);
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0i32);
    let mut valid = (nulls > 0).then(|| BooleanBufferBuilder::new(n));
    for x in 0..n {
        let v = value(x);
        if let Some(b) = valid.as_mut() {
            b.append(v.is_some());
        }
        data.extend_from_slice(v.unwrap_or("").as_bytes());
        offsets.push(data.len() as i32);
    }
    // Output batches are at most WRITE_BATCH_ROWS rows of short values: far below 2 GiB.
    Arc::new(
        StringArray::try_new(
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Buffer::from_vec(data),
            valid.map(|mut b| NullBuffer::new(b.finish())),
        )
        .expect("offsets are monotone over whole UTF-8 values"),
    )
}

/// Writes one output (Parquet, and CSV when asked) slice by slice, handing every
/// written batch and the output row index of its first row to `seen` (the verifier, the
/// audit report). Returns the pending files.
pub fn write_output(
    set: &OutputSet,
    ctx: &Ctx,
    output: Output,
    csv: bool,
    seen: &mut (dyn FnMut(usize, &RecordBatch) -> Result<()> + Send),
) -> Result<Vec<Pending>> {
    let name = output.name();
    let csv_error = |e: std::io::Error| Error::Output {
        path: set.dir().join(format!("{name}.csv")),
        message: e.to_string(),
    };
    // On an error the files stay in the staging folder, which the set removes.
    let mut pending = Vec::new();
    let mut pq = ParquetOut::create(set, &format!("{name}.parquet"), ctx.schema(output))?;
    let mut csv_out = if csv {
        let (p, w) = Pending::create_out(set, &format!("{name}.csv"))?;
        pending.push(p);
        Some(w)
    } else {
        None
    };
    let n = ctx.rows(output);
    let mut off = 0;
    loop {
        let len = WRITE_BATCH_ROWS.min(n - off);
        let batch = ctx.batch(output, off..off + len)?;
        // The observers (verifier, audit report) read the batch while it is encoded:
        // both only read it, and once the other output is written this keeps the
        // second core busy with what would otherwise run alone.
        let (observed, encoded) = rayon::join(
            || seen(off, &batch),
            || -> Result<()> {
                if let Some(w) = csv_out.as_mut() {
                    let bytes = csv_bytes(&batch, off == 0)?;
                    w.write_all(&bytes).map_err(csv_error)?;
                }
                pq.write(&batch)
            },
        );
        observed?;
        encoded?;
        off += len;
        if off >= n {
            break;
        }
    }
    pending.push(pq.finish()?);
    if let Some(w) = csv_out {
        let (_, digest) = w.finish().map_err(csv_error)?;
        // The CSV's pending entry was pushed first.
        pending[0].digest = Some(digest);
    }
    for p in &mut pending {
        p.rows = Some(n as u64);
    }
    Ok(pending)
}

// ---------------------------------------------------------------------------------------
// Files

pub use crate::outset::Pending;

impl Pending {
    /// A large output of `set`, written by an [`OutFile`].
    pub fn create_out(set: &OutputSet, name: &str) -> Result<(Pending, OutFile)> {
        let (pending, file) = set.create(name)?;
        let out = OutFile::new(file, &pending.tmp).map_err(|e| Error::Output {
            path: pending.tmp.clone(),
            message: e.to_string(),
        })?;
        Ok((pending, out))
    }
}

/// The name of the manifest every output folder gets (docs/AUDIT.md).
pub const MANIFEST: &str = "manifest.json";

fn out_err(path: &Path) -> impl Fn(parquet::errors::ParquetError) -> Error {
    let path = path.to_path_buf();
    move |e| Error::Output {
        path: path.clone(),
        message: e.to_string(),
    }
}

/// Columns whose values are mostly unique: dictionary encoding only costs time there.
const UNIQUE_COLUMNS: [&str; 6] = [
    "instruction_id",
    "beneficiary_id",
    "account",
    "provider_ref",
    "matched_instruction_id",
    "value",
];

/// Rows per Parquet row group.
pub const ROW_GROUP_ROWS: usize = 1 << 20;
/// Rows per batch handed to the writers: small enough that a batch's buffers are reused
/// from the allocator's cache instead of being faulted in afresh (BENCHMARKS.md).
pub const WRITE_BATCH_ROWS: usize = 1 << 16;

/// A Parquet file being written under its temporary name.
struct ParquetOut {
    pending: Pending,
    writer: crate::parquet_out::Writer<OutFile>,
    /// Asks for an `fdatasync` after each row group, so that the one before the commit
    /// waits for the last group only, not for the whole file with a core idle.
    nudge: Nudge,
}

impl ParquetOut {
    fn create(set: &OutputSet, name: &str, schema: Arc<Schema>) -> Result<ParquetOut> {
        let (pending, file) = Pending::create_out(set, name)?;
        let mut props = WriterProperties::builder()
            // LZ4_RAW: cheaper to write than Snappy or ZSTD, for a few percent more bytes (BENCHMARKS.md).
            .set_compression(Compression::LZ4_RAW)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_created_by(format!("sverka {}", env!("CARGO_PKG_VERSION")));
        for f in schema.fields() {
            let col = ColumnPath::from(f.name().as_str());
            if UNIQUE_COLUMNS.contains(&f.name().as_str()) {
                props = props.set_column_dictionary_enabled(col.clone(), false);
            }
            // Min/max of long text costs more than the rest of the write together
            // (BENCHMARKS.md); numbers and dates keep them.
            let stats = if f.data_type() == &DataType::Utf8 {
                EnabledStatistics::None
            } else {
                EnabledStatistics::Chunk
            };
            props = props.set_column_statistics_enabled(col, stats);
        }
        let nudge = file.nudge();
        let writer =
            crate::parquet_out::Writer::try_new(file, schema, props.build(), ROW_GROUP_ROWS)
                .map_err(out_err(&pending.tmp))?;
        Ok(ParquetOut {
            pending,
            writer,
            nudge,
        })
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let before = self.writer.row_groups();
        self.writer
            .write(batch)
            .map_err(out_err(&self.pending.tmp))?;
        if self.writer.row_groups() > before {
            // A row group has gone to the file.
            self.nudge.sync_soon();
        }
        Ok(())
    }

    fn finish(self) -> Result<Pending> {
        let ParquetOut {
            mut pending,
            writer,
            nudge: _,
        } = self;
        let err = |m: String| Error::Output {
            path: pending.tmp.clone(),
            message: m,
        };
        let file = writer.into_inner().map_err(|e| err(e.to_string()))?;
        let (_, digest) = file.finish().map_err(|e| err(e.to_string()))?;
        pending.digest = Some(digest);
        Ok(pending)
    }
}

/// A text cell made safe for spreadsheets (OWASP CSV injection; PITFALLS.md H8): a
/// leading `=`, `+`, `-`, `@`, tab, CR or NUL gets a `'` before it. Public so that every
/// CSV sverka writes for people (the audit's worksheet too) guards cells the same way.
pub fn safe_text(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(FORMULA_STARTS) {
        format!("'{s}").into()
    } else {
        s.into()
    }
}

/// The first characters [`safe_text`] guards with a `'`.
pub(crate) const FORMULA_STARTS: [char; 7] = ['=', '+', '-', '@', '\t', '\r', '\0'];

/// The CSV copy of a batch: amounts as decimal text with the row's currency minor units,
/// dates as YYYY-MM-DD, text cells escaped against formula injection.
pub fn csv_bytes(batch: &RecordBatch, header: bool) -> Result<Vec<u8>> {
    let schema = batch.schema();
    let ccy_col = schema.index_of("currency").ok();
    let table = currency::table();
    const CH: usize = 64 * 1024;
    let n = batch.num_rows();
    let chunks: Vec<Result<Vec<u8>>> = (0..n.div_ceil(CH).max(1))
        .into_par_iter()
        .map(|c| {
            let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
            let wr = |e: csv::Error| Error::Internal(format!("csv: {e}"));
            if c == 0 && header {
                w.write_record(schema.fields().iter().map(|f| f.name().as_str()))
                    .map_err(wr)?;
            }
            let mut cells: Vec<String> = vec![String::new(); schema.fields().len()];
            // Each column's text reader, made once per chunk rather than once per cell.
            let text: Vec<Option<Text>> = batch
                .columns()
                .iter()
                .map(|col| Text::of_array(col.as_ref()))
                .collect();
            let ccy = ccy_col.and_then(|k| Some((text[k].as_ref()?, batch.column(k))));
            for i in c * CH..((c + 1) * CH).min(n) {
                // A row without a currency (v2) has no amounts to format either.
                let minor = ccy.filter(|(_, col)| !col.is_null(i)).map(|(t, _)| {
                    table.minor_units(table.lookup(t.value(i)).expect("accepted code"))
                });
                for (k, col) in batch.columns().iter().enumerate() {
                    let cell = &mut cells[k];
                    cell.clear();
                    if col.is_null(i) {
                        continue;
                    }
                    match col.data_type() {
                        DataType::Utf8 | DataType::Dictionary(..) => {
                            let v = text[k]
                                .as_ref()
                                .ok_or_else(|| {
                                    Error::Internal(format!(
                                        "csv: unexpected type {}",
                                        col.data_type()
                                    ))
                                })?
                                .value(i);
                            cell.push_str(&safe_text(v));
                        }
                        DataType::Decimal128(_, s) => {
                            let v = col
                                .as_any()
                                .downcast_ref::<Decimal128Array>()
                                .expect("dec")
                                .value(i);
                            // Only a row without a currency (v2) has none: its fee, 0.
                            let minor = minor.unwrap_or(0);
                            money::format_minor(
                                v / POW10[(*s as u8 - minor) as usize],
                                minor,
                                cell,
                            );
                        }
                        DataType::Date32 => {
                            let v = col
                                .as_any()
                                .downcast_ref::<Date32Array>()
                                .expect("date")
                                .value(i);
                            date::format_date(v, cell);
                        }
                        DataType::Int64 => {
                            let v = col
                                .as_any()
                                .downcast_ref::<Int64Array>()
                                .expect("i64")
                                .value(i);
                            cell.push_str(&v.to_string());
                        }
                        other => {
                            return Err(Error::Internal(format!("csv: unexpected type {other}")))
                        }
                    }
                }
                w.write_record(&cells).map_err(wr)?;
            }
            w.into_inner()
                .map_err(|e| Error::Internal(format!("csv: {e}")))
        })
        .collect();
    let mut out = Vec::new();
    for c in chunks {
        out.extend_from_slice(&c?);
    }
    Ok(out)
}

/// A small output (`decisions`: one row per decision) written whole from one batch:
/// `NAME.parquet` of the file schema `schema`, and with `csv` the spreadsheet-safe
/// `NAME.csv`. Its plain text columns are LZ4_RAW pages without statistics
/// (`parquet_out`'s unique text columns); the batch's dictionary columns (its coded
/// columns, text in `schema`) are encoded from their keys.
pub fn write_small(
    set: &OutputSet,
    name: &str,
    schema: Arc<Schema>,
    batch: &RecordBatch,
    csv: bool,
) -> Result<Vec<Pending>> {
    let mut props = WriterProperties::builder()
        .set_compression(Compression::LZ4_RAW)
        .set_dictionary_enabled(false)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .set_created_by(format!("sverka {}", env!("CARGO_PKG_VERSION")));
    for f in schema.fields() {
        if f.data_type() == &DataType::Utf8 {
            props = props.set_column_statistics_enabled(
                ColumnPath::from(f.name().as_str()),
                EnabledStatistics::None,
            );
        }
    }
    let parquet_name = format!("{name}.parquet");
    let err = |e: parquet::errors::ParquetError| Error::Output {
        path: parquet_name.clone().into(),
        message: e.to_string(),
    };
    let mut bytes = Vec::new();
    let mut w =
        crate::parquet_out::Writer::try_new(&mut bytes, schema, props.build(), ROW_GROUP_ROWS)
            .map_err(err)?;
    w.write(batch).map_err(err)?;
    w.into_inner().map_err(err)?;
    let rows = Some(batch.num_rows() as u64);
    let mut out = vec![Pending {
        rows,
        ..set.write_bytes(&parquet_name, &bytes)?
    }];
    if csv {
        out.push(Pending {
            rows,
            ..set.write_bytes(&format!("{name}.csv"), &csv_bytes(batch, true)?)?
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn map_rows_reads_coded_and_plain_text_alike() {
        let values = StringArray::from(vec!["KWD", "UZS", "UGX"]);
        let codes = coded([1, 1, 2, 1].into_iter(), &values);
        let plain: ArrayRef = Arc::new(StringArray::from(vec!["UZS", "UZS", "UGX", "UZS"]));
        for a in [&codes, &plain] {
            let t = Text::of_array(a.as_ref()).expect("text");
            // `f` sees each used value once when coded ("KWD" is unused), in first use.
            let mut seen = Vec::new();
            let got = t.map_rows(|s| {
                if !seen.contains(&s) {
                    seen.push(s);
                }
                s.len() + seen.len()
            });
            assert_eq!(seen, ["UZS", "UGX"]);
            assert_eq!(got[0], 4);
            assert_eq!(got[2], 5);
        }
    }
}
