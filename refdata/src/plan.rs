//! The planting model: what each row is, and what its truth is.
//!
//! The planner produces **units**: a household (or a small cluster of households that
//! share an account) with its instruction rows and the settlement rows providers report
//! for them. Rows are plain numbers here; [`crate::render`] turns them into text.
//!
//! Why the truth of a unit can be computed from the unit alone:
//!
//! * every beneficiary and every (provider, account) belongs to exactly one unit: ids
//!   and account numbers are fresh per unit, and account texts of different providers
//!   never coincide (see [`crate::catalog::AccountKind`]);
//! * a settlement echoes either the exact id of an instruction of its own unit, or an
//!   empty, mangled or foreign reference that equals no instruction id at all (mangled
//!   forms differ in length, case or punctuation from every generated id, foreign ones
//!   name cycle 2026-09, which is never generated);
//! * a fallback candidate pair needs the same provider and account, hence the same unit;
//! * DUPLICATE_BENEFICIARY and SHARED_ACCOUNT only look at instructions of the same
//!   beneficiary or account, hence the same unit;
//! * AMOUNT_OUTLIER depends on whole groups, but by the amount invariant of
//!   [`crate::catalog`] and the rule that a group never holds more outliers than ordinary
//!   amounts, the flag is exactly "this amount was planted as an outlier" (the generator
//!   re-checks every group's lower median at the end).
//!
//! [`resolve`] then applies CONTRACT.md sections 3 and 4 to the unit's planted rows.
//! It is the planting model's own bookkeeping over at most a handful of rows whose
//! relations were chosen on purpose; the engine is never consulted.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::catalog::{
    ordinary_amount, sibling_providers, Fee, Prog, Prov, ARREARS, COUNTRIES, CURRENCIES, CURRENT,
    PROGRAMS, PROVIDERS,
};
use crate::rates::{Rates, PER_MILLION};
use crate::text::{day, Day};

/// 2026-11-01.
pub(crate) const NOV_1: Day = day(2026, 11, 1);
/// `InstrKey::cycle` of references to instructions of another payroll (never generated).
pub(crate) const FOREIGN_CYCLE: u8 = 2;
/// Settlements later than `due_date + LATE_DAYS` are LATE (CONTRACT.md section 4).
pub(crate) const LATE_DAYS: Day = 3;
/// Fallback window in days (CONTRACT.md section 3).
pub(crate) const WINDOW_DAYS: Day = 7;
/// Most instruction or settlement rows in one unit.
const MAX_UNIT_ROWS: usize = 16;
/// Most units a re-sent row is held back by.
const MAX_RESEND_DELAY: u32 = 300;

/// An instruction id: `{country}-{programme code}-{cycle}-{seq:09}`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct InstrKey {
    pub country: u8,
    pub program: u8,
    pub cycle: u8,
    pub seq: u64,
}

/// Account number `n` in the format of `provider`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct AccountKey {
    pub provider: u8,
    pub n: u64,
}

/// Instruction status, in CONTRACT.md section 4 precedence order.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Status {
    Unpaid,
    CurrencyMismatch,
    DoublePaid,
    Returned,
    Failed,
    Paid,
    Underpaid,
    Overpaid,
}

impl Status {
    pub(crate) const ALL: [Status; 8] = [
        Status::Unpaid,
        Status::CurrencyMismatch,
        Status::DoublePaid,
        Status::Returned,
        Status::Failed,
        Status::Paid,
        Status::Underpaid,
        Status::Overpaid,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Status::Unpaid => "UNPAID",
            Status::CurrencyMismatch => "CURRENCY_MISMATCH",
            Status::DoublePaid => "DOUBLE_PAID",
            Status::Returned => "RETURNED",
            Status::Failed => "FAILED",
            Status::Paid => "PAID",
            Status::Underpaid => "UNDERPAID",
            Status::Overpaid => "OVERPAID",
        }
    }
}

/// Instruction flags as bits, in the alphabetical order they are written in.
pub(crate) mod flag {
    pub(crate) const ACCOUNT_MISMATCH: u8 = 1;
    pub(crate) const AMOUNT_OUTLIER: u8 = 2;
    pub(crate) const DUPLICATE_BENEFICIARY: u8 = 4;
    pub(crate) const FALLBACK_MATCH: u8 = 8;
    pub(crate) const LATE: u8 = 16;
    pub(crate) const PROVIDER_MISMATCH: u8 = 32;
    pub(crate) const SHARED_ACCOUNT: u8 = 64;
    pub(crate) const NAMES: [&str; 7] = [
        "ACCOUNT_MISMATCH",
        "AMOUNT_OUTLIER",
        "DUPLICATE_BENEFICIARY",
        "FALLBACK_MATCH",
        "LATE",
        "PROVIDER_MISMATCH",
        "SHARED_ACCOUNT",
    ];
    /// The settlement flag.
    pub(crate) const AMBIGUOUS: &str = "AMBIGUOUS";

    /// `;`-joined names of the set bits, alphabetical.
    pub(crate) fn push_names(buf: &mut String, bits: u8) {
        for (i, name) in NAMES.iter().enumerate() {
            if bits & (1 << i) != 0 {
                if !buf.is_empty() {
                    buf.push(';');
                }
                buf.push_str(name);
            }
        }
    }
}

/// Settlement status as reported by the provider.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SStatus {
    Settled,
    Failed,
    Returned,
}

impl SStatus {
    pub(crate) fn name(self) -> &'static str {
        match self {
            SStatus::Settled => "SETTLED",
            SStatus::Failed => "FAILED",
            SStatus::Returned => "RETURNED",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Method {
    Reference,
    Fallback,
    None,
}

impl Method {
    pub(crate) const ALL: [Method; 3] = [Method::Reference, Method::Fallback, Method::None];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Method::Reference => "REFERENCE",
            Method::Fallback => "FALLBACK",
            Method::None => "NONE",
        }
    }
}

/// How a provider damaged an echoed reference. None of these equals a generated id.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mangle {
    /// Cut to 16 characters (ids have 23).
    Truncated,
    /// `PAY/` in front.
    Prefixed,
    /// Lower case (ids are upper case).
    Lower,
    /// Dashes removed.
    NoDashes,
    /// `/1` appended.
    Suffixed,
}

/// The `instruction_id` a settlement echoes.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum RefText {
    /// Null in Parquet/Arrow, empty in CSV.
    Null,
    /// Empty string.
    Empty,
    /// Only spaces (empty after trimming).
    Blank,
    /// The id itself.
    Exact(InstrKey),
    Mangled(Mangle, InstrKey),
    /// An id of the 2026-09 payroll, which is not in the data set.
    Foreign(InstrKey),
}

/// Valid variations of an amount's text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum AmountStyle {
    Canonical,
    /// This many extra trailing zeros.
    Trailing(u8),
    /// This many leading zeros.
    Leading(u8),
    /// `-0.00` for a zero amount.
    NegZero,
}

/// Valid variations of a row's text.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct Style {
    /// Column whose value gets spaces or tabs around it, or [`Style::NO_PAD`].
    pub pad_col: u8,
    /// Which padding (see `render`).
    pub pad: u8,
    pub amount: AmountStyle,
}

impl Style {
    pub(crate) const NO_PAD: u8 = u8::MAX;
    pub(crate) const PLAIN: Style = Style {
        pad_col: Style::NO_PAD,
        pad: 0,
        amount: AmountStyle::Canonical,
    };
}

/// Reject reasons of CONTRACT.md section 2, in the order of that table.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub(crate) enum Reason {
    MalformedRow,
    MissingField,
    InvalidAmount,
    NonPositiveAmount,
    NegativeAmount,
    UnknownCurrency,
    AmountPrecision,
    InvalidDate,
    InvalidStatus,
    DuplicateInstructionId,
    DuplicateProviderRef,
    /// CONTRACT 7: a provider-file transaction that is not a settlement (here: the
    /// agency's funding credit and the bank's charges entry of a statement).
    NotAPayment,
}

impl Reason {
    pub(crate) const COUNT: usize = Reason::NotAPayment as usize + 1;
    pub(crate) const ALL: [Reason; Reason::COUNT] = [
        Reason::MalformedRow,
        Reason::MissingField,
        Reason::InvalidAmount,
        Reason::NonPositiveAmount,
        Reason::NegativeAmount,
        Reason::UnknownCurrency,
        Reason::AmountPrecision,
        Reason::InvalidDate,
        Reason::InvalidStatus,
        Reason::DuplicateInstructionId,
        Reason::DuplicateProviderRef,
        Reason::NotAPayment,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Reason::MalformedRow => "malformed_row",
            Reason::MissingField => "missing_field",
            Reason::InvalidAmount => "invalid_amount",
            Reason::NonPositiveAmount => "non_positive_amount",
            Reason::NegativeAmount => "negative_amount",
            Reason::UnknownCurrency => "unknown_currency",
            Reason::AmountPrecision => "amount_precision",
            Reason::InvalidDate => "invalid_date",
            Reason::InvalidStatus => "invalid_status",
            Reason::DuplicateInstructionId => "duplicate_instruction_id",
            Reason::DuplicateProviderRef => "duplicate_provider_ref",
            Reason::NotAPayment => "not_a_payment",
        }
    }
}

/// What is wrong with an instruction row. Templates with two defects name the reason
/// CONTRACT.md section 2 gives them (the first failing rule in column order).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum IDefect {
    None,
    MissingId,
    MissingBeneficiary,
    MissingAccount,
    MissingCurrency,
    MissingDueDate,
    AmountThousands,
    AmountExponent,
    AmountDecimalComma,
    AmountTooLong,
    AmountSign,
    AmountWithCode,
    AmountNonAscii,
    AmountZero,
    AmountNegative,
    AmountNegZero,
    CurrencyLower,
    CurrencyUnknown,
    Precision,
    DateImpossible,
    DateFormat,
    /// `1 234.50` and `XYZ`: invalid_amount (amount comes first).
    AmountAndCurrency,
    /// `XYZ` and `450000.005`: unknown_currency (precision needs a known currency).
    CurrencyAndPrecision,
    /// `450000.005` and `05/11/2026`: amount_precision (checked at the currency's turn).
    PrecisionAndDate,
    /// Null beneficiary and `4.5E+05`: missing_field.
    MissingAndAmount,
    /// CSV: a record that lost its last fields (malformed_row); Parquet/Arrow: those
    /// columns null (missing_field).
    CsvShortRow,
    /// CSV: an unquoted decimal comma splits the amount into two fields
    /// (malformed_row); Parquet/Arrow: the amount `450000,00` (invalid_amount).
    CsvSplitAmount,
    /// A later copy of an accepted instruction.
    DuplicateId,
}

impl IDefect {
    pub(crate) const COUNT: usize = IDefect::DuplicateId as usize + 1;
    /// Every field defect, planted by `instruction_rejected`.
    pub(crate) const TEMPLATES: [IDefect; 26] = [
        IDefect::MissingId,
        IDefect::MissingBeneficiary,
        IDefect::MissingAccount,
        IDefect::MissingCurrency,
        IDefect::MissingDueDate,
        IDefect::AmountThousands,
        IDefect::AmountExponent,
        IDefect::AmountDecimalComma,
        IDefect::AmountTooLong,
        IDefect::AmountSign,
        IDefect::AmountWithCode,
        IDefect::AmountNonAscii,
        IDefect::AmountZero,
        IDefect::AmountNegative,
        IDefect::AmountNegZero,
        IDefect::CurrencyLower,
        IDefect::CurrencyUnknown,
        IDefect::Precision,
        IDefect::DateImpossible,
        IDefect::DateFormat,
        IDefect::AmountAndCurrency,
        IDefect::CurrencyAndPrecision,
        IDefect::PrecisionAndDate,
        IDefect::MissingAndAmount,
        IDefect::CsvShortRow,
        IDefect::CsvSplitAmount,
    ];
    /// Defects an operator would fix and re-send under the same id.
    pub(crate) const CORRECTABLE: [IDefect; 6] = [
        IDefect::AmountThousands,
        IDefect::AmountDecimalComma,
        IDefect::Precision,
        IDefect::CurrencyLower,
        IDefect::DateFormat,
        IDefect::MissingDueDate,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            IDefect::None => "none",
            IDefect::MissingId => "missing_instruction_id",
            IDefect::MissingBeneficiary => "missing_beneficiary_id",
            IDefect::MissingAccount => "blank_account",
            IDefect::MissingCurrency => "missing_currency",
            IDefect::MissingDueDate => "missing_due_date",
            IDefect::AmountThousands => "amount_thousands_separator",
            IDefect::AmountExponent => "amount_exponent",
            IDefect::AmountDecimalComma => "amount_decimal_comma",
            IDefect::AmountTooLong => "amount_16_integer_digits",
            IDefect::AmountSign => "amount_plus_sign",
            IDefect::AmountWithCode => "amount_with_currency_text",
            IDefect::AmountNonAscii => "amount_non_ascii_digits",
            IDefect::AmountZero => "amount_zero",
            IDefect::AmountNegative => "amount_negative",
            IDefect::AmountNegZero => "amount_negative_zero",
            IDefect::CurrencyLower => "currency_lower_case",
            IDefect::CurrencyUnknown => "currency_unknown",
            IDefect::Precision => "amount_precision",
            IDefect::DateImpossible => "date_impossible",
            IDefect::DateFormat => "date_other_format",
            IDefect::AmountAndCurrency => "amount_and_currency",
            IDefect::CurrencyAndPrecision => "currency_and_precision",
            IDefect::PrecisionAndDate => "precision_and_date",
            IDefect::MissingAndAmount => "missing_and_amount",
            IDefect::CsvShortRow => "short_row",
            IDefect::CsvSplitAmount => "split_amount",
            IDefect::DuplicateId => "resent_instruction",
        }
    }

    /// The reject reason, `None` for an accepted row.
    pub(crate) fn reason(self, csv: bool) -> Option<Reason> {
        use IDefect as D;
        Some(match self {
            D::None => return None,
            D::MissingId
            | D::MissingBeneficiary
            | D::MissingAccount
            | D::MissingCurrency
            | D::MissingDueDate => Reason::MissingField,
            D::MissingAndAmount => Reason::MissingField,
            D::AmountThousands
            | D::AmountExponent
            | D::AmountDecimalComma
            | D::AmountTooLong
            | D::AmountSign
            | D::AmountWithCode
            | D::AmountNonAscii
            | D::AmountAndCurrency => Reason::InvalidAmount,
            D::AmountZero | D::AmountNegative | D::AmountNegZero => Reason::NonPositiveAmount,
            D::CurrencyLower | D::CurrencyUnknown | D::CurrencyAndPrecision => {
                Reason::UnknownCurrency
            }
            D::Precision | D::PrecisionAndDate => Reason::AmountPrecision,
            D::DateImpossible | D::DateFormat => Reason::InvalidDate,
            D::CsvShortRow if csv => Reason::MalformedRow,
            D::CsvShortRow => Reason::MissingField,
            D::CsvSplitAmount if csv => Reason::MalformedRow,
            D::CsvSplitAmount => Reason::InvalidAmount,
            D::DuplicateId => Reason::DuplicateInstructionId,
        })
    }
}

/// What is wrong with a settlement row (see [`IDefect`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum SDefect {
    None,
    MissingProvider,
    MissingRef,
    MissingAmount,
    MissingStatus,
    MissingValueDate,
    AmountThousands,
    AmountExponent,
    AmountDecimalComma,
    AmountTooLong,
    FeeInvalid,
    Negative,
    CurrencyLower,
    CurrencyUnknown,
    PrecisionAmount,
    PrecisionFee,
    DateImpossible,
    DateFormat,
    StatusInvalid,
    /// `-450000.00` and `XYZ`: negative_amount.
    NegativeAndCurrency,
    /// `PAID` and `05/11/2026`: invalid_status.
    StatusAndDate,
    /// Fee `1,50` and status `OK`: invalid_amount (fee comes before status).
    FeeAndStatus,
    CsvShortRow,
    CsvSplitAmount,
    /// A later exact copy of an accepted line.
    DuplicateRef,
    /// A later line reusing an accepted line's provider ref with other content.
    ReusedRef,
}

impl SDefect {
    pub(crate) const COUNT: usize = SDefect::ReusedRef as usize + 1;
    /// Every field defect, planted by `settlement_rejected`. An empty account is not one
    /// (CONTRACT v2: `account` is optional): see [`Mod::NoAccount`].
    pub(crate) const TEMPLATES: [SDefect; 23] = [
        SDefect::MissingProvider,
        SDefect::MissingRef,
        SDefect::MissingAmount,
        SDefect::MissingStatus,
        SDefect::MissingValueDate,
        SDefect::AmountThousands,
        SDefect::AmountExponent,
        SDefect::AmountDecimalComma,
        SDefect::AmountTooLong,
        SDefect::FeeInvalid,
        SDefect::Negative,
        SDefect::CurrencyLower,
        SDefect::CurrencyUnknown,
        SDefect::PrecisionAmount,
        SDefect::PrecisionFee,
        SDefect::DateImpossible,
        SDefect::DateFormat,
        SDefect::StatusInvalid,
        SDefect::NegativeAndCurrency,
        SDefect::StatusAndDate,
        SDefect::FeeAndStatus,
        SDefect::CsvShortRow,
        SDefect::CsvSplitAmount,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            SDefect::None => "none",
            SDefect::MissingProvider => "missing_provider",
            SDefect::MissingRef => "missing_provider_ref",
            SDefect::MissingAmount => "missing_amount",
            SDefect::MissingStatus => "blank_status",
            SDefect::MissingValueDate => "missing_value_date",
            SDefect::AmountThousands => "amount_thousands_separator",
            SDefect::AmountExponent => "amount_exponent",
            SDefect::AmountDecimalComma => "amount_decimal_comma",
            SDefect::AmountTooLong => "amount_16_integer_digits",
            SDefect::FeeInvalid => "fee_invalid",
            SDefect::Negative => "amount_negative",
            SDefect::CurrencyLower => "currency_lower_case",
            SDefect::CurrencyUnknown => "currency_unknown",
            SDefect::PrecisionAmount => "amount_precision",
            SDefect::PrecisionFee => "fee_precision",
            SDefect::DateImpossible => "date_impossible",
            SDefect::DateFormat => "date_other_format",
            SDefect::StatusInvalid => "status_invalid",
            SDefect::NegativeAndCurrency => "negative_and_currency",
            SDefect::StatusAndDate => "status_and_date",
            SDefect::FeeAndStatus => "fee_and_status",
            SDefect::CsvShortRow => "short_row",
            SDefect::CsvSplitAmount => "split_amount",
            SDefect::DuplicateRef => "resent_settlement",
            SDefect::ReusedRef => "reused_provider_ref",
        }
    }

    pub(crate) fn reason(self, csv: bool) -> Option<Reason> {
        use SDefect as D;
        Some(match self {
            D::None => return None,
            D::MissingProvider
            | D::MissingRef
            | D::MissingAmount
            | D::MissingStatus
            | D::MissingValueDate => Reason::MissingField,
            D::AmountThousands
            | D::AmountExponent
            | D::AmountDecimalComma
            | D::AmountTooLong
            | D::FeeInvalid => Reason::InvalidAmount,
            D::FeeAndStatus => Reason::InvalidAmount,
            D::Negative | D::NegativeAndCurrency => Reason::NegativeAmount,
            D::CurrencyLower | D::CurrencyUnknown => Reason::UnknownCurrency,
            D::PrecisionAmount | D::PrecisionFee => Reason::AmountPrecision,
            D::DateImpossible | D::DateFormat => Reason::InvalidDate,
            D::StatusInvalid | D::StatusAndDate => Reason::InvalidStatus,
            D::CsvShortRow if csv => Reason::MalformedRow,
            D::CsvShortRow => Reason::MissingField,
            D::CsvSplitAmount if csv => Reason::MalformedRow,
            D::CsvSplitAmount => Reason::InvalidAmount,
            D::DuplicateRef | D::ReusedRef => Reason::DuplicateProviderRef,
        })
    }
}

/// Expected result of an instruction row.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ITruth {
    Pending,
    Accepted {
        status: Status,
        flags: u8,
        /// In minor units of the instruction's currency; negative for a bare return.
        paid: i64,
        /// Settlements matched to it.
        n: u32,
    },
    Rejected,
}

/// Expected result of a settlement row.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum STruth {
    Pending,
    Accepted {
        method: Method,
        matched: Option<InstrKey>,
        ambiguous: bool,
    },
    Rejected,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct IRow {
    pub key: InstrKey,
    /// Beneficiary number within `key.country`.
    pub ben: u64,
    pub program: u8,
    pub provider: u8,
    pub account: AccountKey,
    pub amount: i64,
    pub currency: u8,
    pub due: Day,
    pub outlier: bool,
    pub defect: IDefect,
    /// Picks among the texts of a defect.
    pub variant: u8,
    pub style: Style,
    /// Units to hold the row back by (re-sent rows).
    pub delay: u32,
    pub truth: ITruth,
}

impl IRow {
    pub(crate) fn accepted(&self) -> bool {
        self.defect == IDefect::None
    }

    /// (programme, cycle, currency) group index for AMOUNT_OUTLIER.
    pub(crate) fn group(&self) -> usize {
        group_index(self.program, self.key.cycle, self.currency)
    }
}

pub(crate) const GROUPS: usize = PROGRAMS.len() * 2 * CURRENCIES.len();

pub(crate) fn group_index(program: u8, cycle: u8, currency: u8) -> usize {
    (usize::from(program) * 2 + usize::from(cycle)) * CURRENCIES.len() + usize::from(currency)
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct SRow {
    pub provider: u8,
    /// Sequence number of the provider's reference.
    pub ref_no: u64,
    /// Date printed inside the provider's reference.
    pub ref_day: Day,
    pub reference: RefText,
    pub account: AccountKey,
    /// The account is not said (empty): CONTRACT v2.
    pub no_account: bool,
    pub amount: i64,
    pub fee: Option<i64>,
    pub currency: u8,
    /// Neither amount nor currency is said (a FAILED line only): CONTRACT v2.
    pub no_amount: bool,
    pub status: SStatus,
    pub value: Day,
    /// Index of a narrative text, 0 for none.
    pub narrative: u8,
    pub defect: SDefect,
    pub variant: u8,
    pub style: Style,
    pub delay: u32,
    pub truth: STruth,
}

impl SRow {
    pub(crate) fn accepted(&self) -> bool {
        self.defect == SDefect::None
    }
}

/// Kinds of unit, in the order of [`Rates::unit_rates`], then the ordinary one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum UnitKind {
    Unpaid,
    Failed,
    FailedThenPaid,
    Returned,
    ReturnedOnly,
    Underpaid,
    Overpaid,
    DoublePaid,
    CurrencyMismatch,
    AccountMismatch,
    Late,
    ProviderMismatch,
    Fallback,
    FallbackNearMiss,
    UnreferencedSecondPayment,
    SettlementRejected,
    ArrearsPair,
    DuplicateBeneficiary,
    SharedAccount,
    SharedAccountNearMiss,
    FamilyAccount,
    AmbiguousInstructions,
    AmbiguousSettlements,
    InstructionRejected,
    CorrectedResent,
    UnexpectedSettlement,
    Paid,
}

impl UnitKind {
    pub(crate) const COUNT: usize = UnitKind::Paid as usize + 1;
    pub(crate) const ALL: [UnitKind; UnitKind::COUNT] = [
        UnitKind::Unpaid,
        UnitKind::Failed,
        UnitKind::FailedThenPaid,
        UnitKind::Returned,
        UnitKind::ReturnedOnly,
        UnitKind::Underpaid,
        UnitKind::Overpaid,
        UnitKind::DoublePaid,
        UnitKind::CurrencyMismatch,
        UnitKind::AccountMismatch,
        UnitKind::Late,
        UnitKind::ProviderMismatch,
        UnitKind::Fallback,
        UnitKind::FallbackNearMiss,
        UnitKind::UnreferencedSecondPayment,
        UnitKind::SettlementRejected,
        UnitKind::ArrearsPair,
        UnitKind::DuplicateBeneficiary,
        UnitKind::SharedAccount,
        UnitKind::SharedAccountNearMiss,
        UnitKind::FamilyAccount,
        UnitKind::AmbiguousInstructions,
        UnitKind::AmbiguousSettlements,
        UnitKind::InstructionRejected,
        UnitKind::CorrectedResent,
        UnitKind::UnexpectedSettlement,
        UnitKind::Paid,
    ];

    /// Most instruction rows a unit of this kind has (without a re-sent copy).
    fn max_rows(self) -> u64 {
        match self {
            UnitKind::SharedAccount => 6,
            UnitKind::SharedAccountNearMiss => 4,
            UnitKind::ArrearsPair
            | UnitKind::DuplicateBeneficiary
            | UnitKind::FamilyAccount
            | UnitKind::AmbiguousInstructions
            | UnitKind::CorrectedResent => 2,
            UnitKind::UnexpectedSettlement => 0,
            _ => 1,
        }
    }
}

/// Row-level plantings counted for the summary and for coverage.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mod {
    Outlier,
    ResentInstruction,
    ResentSettlement,
    ReusedRef,
    Padding,
    TrailingZeros,
    LeadingZeros,
    ZeroFailed,
    Narrative,
    NoAccount,
    NoAmount,
}

impl Mod {
    pub(crate) const COUNT: usize = Mod::NoAmount as usize + 1;
    pub(crate) const ALL: [Mod; Mod::COUNT] = [
        Mod::Outlier,
        Mod::ResentInstruction,
        Mod::ResentSettlement,
        Mod::ReusedRef,
        Mod::Padding,
        Mod::TrailingZeros,
        Mod::LeadingZeros,
        Mod::ZeroFailed,
        Mod::Narrative,
        Mod::NoAccount,
        Mod::NoAmount,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Mod::Outlier => "amount_outlier",
            Mod::ResentInstruction => "resent_instruction",
            Mod::ResentSettlement => "resent_settlement",
            Mod::ReusedRef => "reused_provider_ref",
            Mod::Padding => "padding",
            Mod::TrailingZeros => "trailing_zeros",
            Mod::LeadingZeros => "leading_zeros",
            Mod::ZeroFailed => "zero_amount_failed",
            Mod::Narrative => "narrative_text",
            Mod::NoAccount => "settlement_without_account",
            Mod::NoAmount => "failed_without_amount",
        }
    }

    fn rate(self, r: &Rates) -> u32 {
        match self {
            Mod::Outlier => r.amount_outlier,
            Mod::ResentInstruction => r.resent_instruction,
            Mod::ResentSettlement => r.resent_settlement,
            Mod::ReusedRef => r.reused_provider_ref,
            Mod::Padding => r.padding,
            Mod::TrailingZeros => r.trailing_zeros,
            Mod::LeadingZeros => r.leading_zeros,
            Mod::ZeroFailed => r.zero_amount_failed,
            Mod::Narrative => r.narrative_text,
            Mod::NoAccount => r.settlement_without_account,
            Mod::NoAmount => r.failed_without_amount,
        }
    }
}

/// One unit's rows.
#[derive(Default)]
pub(crate) struct Unit {
    pub kind: Option<UnitKind>,
    pub instrs: Vec<IRow>,
    pub setts: Vec<SRow>,
}

impl Unit {
    fn clear(&mut self) {
        self.kind = None;
        self.instrs.clear();
        self.setts.clear();
    }
}

/// A household: who is paid, through whom, to which account.
#[derive(Clone, Copy)]
struct Household {
    country: u8,
    ben: u64,
    provider: u8,
    account: AccountKey,
}

/// Number of distinct narrative texts (see `render`).
pub(crate) const NARRATIVES: u8 = 6;

/// Draws units from the rates. Deterministic in the seed; knows nothing of formats.
pub(crate) struct Planner {
    rng: ChaCha8Rng,
    rates: Rates,
    unit_table: Vec<(UnitKind, u32)>,
    providers_of_country: Vec<Vec<(Prov, u32)>>,
    target: u64,
    /// Instruction rows planned so far (including held-back ones).
    pub instr_rows: u64,
    /// Units planned so far.
    pub unit_no: u64,
    seq: u64,
    foreign_seq: u64,
    ben_seq: [u64; COUNTRIES.len()],
    acct_seq: [u64; PROVIDERS.len()],
    ref_seq: [u64; PROVIDERS.len()],
    /// Per (programme, cycle, currency): accepted ordinary amounts, accepted outliers.
    groups: [(u64, u64); GROUPS],
    pub kind_count: [u64; UnitKind::COUNT],
    pub idefect_count: [u64; IDefect::COUNT],
    pub sdefect_count: [u64; SDefect::COUNT],
    pub mod_count: [u64; Mod::COUNT],
}

impl Planner {
    pub(crate) fn new(seed: u64, rates: &Rates, target: u64) -> Planner {
        let unit_table = rates
            .unit_rates()
            .iter()
            .zip(UnitKind::ALL)
            .map(|(&(_, rate), kind)| (kind, rate))
            .collect();
        let providers_of_country = (0..COUNTRIES.len())
            .map(|c| {
                (0..PROVIDERS.len())
                    .filter(|&p| PROVIDERS[p].country == c)
                    .map(|p| (p, PROVIDERS[p].weight))
                    .collect()
            })
            .collect();
        Planner {
            rng: ChaCha8Rng::seed_from_u64(seed),
            rates: rates.clone(),
            unit_table,
            providers_of_country,
            target,
            instr_rows: 0,
            unit_no: 0,
            seq: 0,
            foreign_seq: 0,
            ben_seq: [0; COUNTRIES.len()],
            acct_seq: [0; PROVIDERS.len()],
            ref_seq: [0; PROVIDERS.len()],
            groups: [(0, 0); GROUPS],
            kind_count: [0; UnitKind::COUNT],
            idefect_count: [0; IDefect::COUNT],
            sdefect_count: [0; SDefect::COUNT],
            mod_count: [0; Mod::COUNT],
        }
    }

    /// Account numbers used so far per provider (for capacity checks).
    pub(crate) fn accounts_used(&self) -> &[u64] {
        &self.acct_seq
    }

    /// Plans the next unit into `u`: builds it, resolves its truth and counts it.
    pub(crate) fn next_unit(&mut self, u: &mut Unit) {
        self.unit_no += 1;
        let remaining = self.target.saturating_sub(self.instr_rows);
        let kind = self.pick_kind(remaining);
        u.clear();
        self.build(kind, u, remaining);
        if u.instrs.len() as u64 > remaining {
            u.clear();
            self.build(UnitKind::Paid, u, remaining);
        }
        resolve(&mut u.instrs, &mut u.setts);
        self.commit(u);
    }

    // --- random helpers ---

    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        self.rng.random_range(lo..=hi)
    }

    fn below(&mut self, n: u32) -> u32 {
        self.rng.random_range(0..n)
    }

    fn weighted(&mut self, weights: impl Iterator<Item = u32> + Clone) -> usize {
        let total: u32 = weights.clone().sum();
        let mut r = self.below(total);
        for (i, w) in weights.enumerate() {
            if r < w {
                return i;
            }
            r -= w;
        }
        unreachable!("weights sum to total")
    }

    /// Coverage mode: once a tenth of the rows is planned, every enabled planting that
    /// has not occurred yet is forced at its next chance, so that small data sets still
    /// hold every finding and reject reason.
    fn forcing(&self) -> bool {
        self.target > 0 && self.instr_rows * 10 >= self.target
    }

    fn want(&mut self, m: Mod) -> bool {
        let rate = m.rate(&self.rates);
        if rate == 0 {
            return false;
        }
        if self.forcing() && self.mod_count[m as usize] == 0 {
            return true;
        }
        self.rng.random_range(0..PER_MILLION) < rate
    }

    fn kind_missing(&self, k: UnitKind) -> bool {
        self.kind_count[k as usize] == 0
            || match k {
                UnitKind::InstructionRejected => IDefect::TEMPLATES
                    .iter()
                    .any(|&d| self.idefect_count[d as usize] == 0),
                UnitKind::SettlementRejected => SDefect::TEMPLATES
                    .iter()
                    .any(|&d| self.sdefect_count[d as usize] == 0),
                _ => false,
            }
    }

    fn pick_kind(&mut self, remaining: u64) -> UnitKind {
        if self.forcing() {
            for i in 0..self.unit_table.len() {
                let (k, rate) = self.unit_table[i];
                // +1: room for a re-sent copy the forced modifiers may add.
                if rate > 0 && self.kind_missing(k) && k.max_rows() < remaining {
                    return k;
                }
            }
        }
        let r = self.rng.random_range(0..PER_MILLION);
        let mut acc = 0u32;
        for &(k, rate) in &self.unit_table {
            acc += rate;
            if r < acc {
                return k;
            }
        }
        UnitKind::Paid
    }

    fn pick_idefect(&mut self, from: &[IDefect]) -> IDefect {
        if self.forcing() {
            if let Some(&d) = from.iter().find(|&&d| self.idefect_count[d as usize] == 0) {
                return d;
            }
        }
        from[self.below(from.len() as u32) as usize]
    }

    fn pick_sdefect(&mut self) -> SDefect {
        let from = &SDefect::TEMPLATES;
        if self.forcing() {
            if let Some(&d) = from.iter().find(|&&d| self.sdefect_count[d as usize] == 0) {
                return d;
            }
        }
        from[self.below(from.len() as u32) as usize]
    }

    // --- model helpers ---

    fn country(&mut self) -> u8 {
        self.weighted(COUNTRIES.iter().map(|c| c.weight)) as u8
    }

    fn provider_in(&mut self, country: u8) -> Prov {
        let list = std::mem::take(&mut self.providers_of_country[usize::from(country)]);
        let i = self.weighted(list.iter().map(|&(_, w)| w));
        let p = list[i].0;
        self.providers_of_country[usize::from(country)] = list;
        p
    }

    fn program(&mut self) -> Prog {
        self.weighted(PROGRAMS.iter().map(|p| p.weight))
    }

    fn household_size(&mut self, program: Prog) -> u32 {
        self.weighted(PROGRAMS[program].household.iter().copied()) as u32 + 1
    }

    fn fresh_ben(&mut self, country: u8) -> u64 {
        self.ben_seq[usize::from(country)] += 1;
        self.ben_seq[usize::from(country)]
    }

    fn fresh_account(&mut self, provider: Prov) -> AccountKey {
        self.acct_seq[provider] += 1;
        AccountKey {
            provider: provider as u8,
            n: self.acct_seq[provider],
        }
    }

    fn next_ref(&mut self, provider: Prov) -> u64 {
        self.ref_seq[provider] += 1;
        self.ref_seq[provider]
    }

    fn household(&mut self) -> Household {
        let country = self.country();
        let provider = self.provider_in(country);
        Household {
            country,
            ben: self.fresh_ben(country),
            provider: provider as u8,
            account: self.fresh_account(provider),
        }
    }

    /// Another beneficiary on the same account.
    fn cohabitant(&mut self, h: &Household) -> Household {
        Household {
            ben: self.fresh_ben(h.country),
            ..*h
        }
    }

    fn due(&mut self, program: Prog, cycle: u8) -> Day {
        if cycle == ARREARS {
            NOV_1 + self.range(1, 3) as Day
        } else {
            let t = PROGRAMS[program].tranches[self.below(2) as usize];
            day(2026, 11, t) + self.range(0, 2) as Day
        }
    }

    fn instr(&mut self, h: &Household, program: Prog, cycle: u8, size: u32) -> IRow {
        self.seq += 1;
        let currency = PROVIDERS[usize::from(h.provider)].currency;
        IRow {
            key: InstrKey {
                country: h.country,
                program: program as u8,
                cycle,
                seq: self.seq,
            },
            ben: h.ben,
            program: program as u8,
            provider: h.provider,
            account: h.account,
            amount: ordinary_amount(program, currency, size),
            currency: currency as u8,
            due: self.due(program, cycle),
            outlier: false,
            defect: IDefect::None,
            variant: 0,
            style: Style::PLAIN,
            delay: 0,
            truth: ITruth::Pending,
        }
    }

    fn random_instr(&mut self, h: &Household) -> IRow {
        let program = self.program();
        let cycle = if self.below(100) < 3 {
            ARREARS
        } else {
            CURRENT
        };
        let size = self.household_size(program);
        self.instr(h, program, cycle, size)
    }

    /// Ten times the amount, when the group can take another outlier without its lower
    /// median becoming an outlier itself (outliers <= ordinary amounts, see module doc).
    fn maybe_outlier(&mut self, i: &mut IRow) {
        let (ordinary, outliers) = self.groups[i.group()];
        if (outliers + 1) * 2 <= ordinary && self.want(Mod::Outlier) {
            i.amount *= 10;
            i.outlier = true;
        }
    }

    fn on_time(&mut self, due: Day) -> Day {
        const OFFSETS: [(Day, u32); 6] = [(-2, 1), (-1, 2), (0, 6), (1, 6), (2, 3), (3, 2)];
        let k = self.weighted(OFFSETS.iter().map(|&(_, w)| w));
        due + OFFSETS[k].0
    }

    fn fee(&self, provider: Prov, status: SStatus, amount: i64) -> Option<i64> {
        if status != SStatus::Settled {
            return None;
        }
        match PROVIDERS[provider].fee {
            Fee::None => None,
            Fee::Fixed(f) => Some(f),
            Fee::PerMille(pm) => Some(amount * pm / 1000),
        }
    }

    /// A settlement of `i` by its own provider, echoing its id exactly.
    fn settle(&mut self, i: &IRow, status: SStatus, amount: i64, value: Day) -> SRow {
        let p = usize::from(i.provider);
        SRow {
            provider: i.provider,
            ref_no: self.next_ref(p),
            ref_day: value,
            reference: RefText::Exact(i.key),
            account: i.account,
            no_account: false,
            amount,
            fee: self.fee(p, status, amount),
            currency: i.currency,
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

    fn failed_amount(&mut self, amount: i64) -> i64 {
        if self.want(Mod::ZeroFailed) {
            0
        } else {
            amount
        }
    }

    /// An empty or mangled echo of `key`.
    fn unreferenced(&mut self, key: InstrKey) -> RefText {
        match self.below(8) {
            0 => RefText::Null,
            1 => RefText::Empty,
            2 => RefText::Blank,
            3 => RefText::Mangled(Mangle::Truncated, key),
            4 => RefText::Mangled(Mangle::Prefixed, key),
            5 => RefText::Mangled(Mangle::Lower, key),
            6 => RefText::Mangled(Mangle::NoDashes, key),
            _ => RefText::Mangled(Mangle::Suffixed, key),
        }
    }

    fn step(&self, currency: u8) -> i64 {
        CURRENCIES[usize::from(currency)].step
    }

    /// Up to 5% of `amount` in whole steps, at least one step.
    fn small_difference(&mut self, amount: i64, currency: u8) -> i64 {
        let step = self.step(currency);
        let most = (amount / step / 20).max(1);
        step * self.range(1, most)
    }

    // --- units ---

    fn build(&mut self, kind: UnitKind, u: &mut Unit, remaining: u64) {
        u.kind = Some(kind);
        match kind {
            UnitKind::ArrearsPair => self.arrears_pair(u),
            UnitKind::DuplicateBeneficiary => self.duplicate_beneficiary(u),
            UnitKind::SharedAccount => self.shared_account(u),
            UnitKind::SharedAccountNearMiss => self.shared_account_near_miss(u),
            UnitKind::FamilyAccount => self.family_account(u),
            UnitKind::AmbiguousInstructions => self.ambiguous_instructions(u),
            UnitKind::AmbiguousSettlements => self.ambiguous_settlements(u),
            UnitKind::InstructionRejected => self.instruction_rejected(u),
            UnitKind::CorrectedResent => self.corrected_resent(u),
            UnitKind::UnexpectedSettlement => self.unexpected(u),
            _ => self.single(kind, u),
        }
        self.decorate(u, remaining);
    }

    // A table of the single-instruction kinds, one arm each, kept together so the kinds
    // read side by side; splitting it would also risk reordering the random draws, which
    // fixes the generated bytes.
    fn single(&mut self, kind: UnitKind, u: &mut Unit) {
        let h = self.household();
        let mut i = self.random_instr(&h);
        self.maybe_outlier(&mut i);
        let (amt, due, cur) = (i.amount, i.due, i.currency);
        let s = &mut u.setts;
        match kind {
            UnitKind::Paid => {
                let v = self.on_time(due);
                s.push(self.settle(&i, SStatus::Settled, amt, v));
            }
            UnitKind::Unpaid => {}
            UnitKind::Failed => {
                let v = due + self.range(0, 2) as Day;
                let a = self.failed_amount(amt);
                s.push(self.settle(&i, SStatus::Failed, a, v));
            }
            UnitKind::FailedThenPaid => {
                let v1 = due + self.range(0, 1) as Day;
                let a = self.failed_amount(amt);
                s.push(self.settle(&i, SStatus::Failed, a, v1));
                let v2 = v1 + self.range(1, 2) as Day;
                s.push(self.settle(&i, SStatus::Settled, amt, v2));
            }
            UnitKind::Returned => {
                let v1 = self.on_time(due);
                s.push(self.settle(&i, SStatus::Settled, amt, v1));
                let v2 = v1 + self.range(2, 12) as Day;
                s.push(self.settle(&i, SStatus::Returned, amt, v2));
            }
            UnitKind::ReturnedOnly => {
                let v = due + self.range(1, 10) as Day;
                s.push(self.settle(&i, SStatus::Returned, amt, v));
            }
            UnitKind::Underpaid => {
                let d = self.small_difference(amt, cur);
                let v = self.on_time(due);
                s.push(self.settle(&i, SStatus::Settled, amt - d, v));
            }
            UnitKind::Overpaid => {
                let d = if self.below(2) == 0 {
                    PROGRAMS[usize::from(i.program)].base[usize::from(cur)] / 4
                } else {
                    self.small_difference(amt, cur)
                };
                let v = self.on_time(due);
                s.push(self.settle(&i, SStatus::Settled, amt + d, v));
            }
            UnitKind::DoublePaid => {
                let v1 = self.on_time(due);
                s.push(self.settle(&i, SStatus::Settled, amt, v1));
                let v2 = v1 + self.range(0, 5) as Day;
                s.push(self.settle(&i, SStatus::Settled, amt, v2));
            }
            UnitKind::CurrencyMismatch => {
                // Booked in another currency at about the day's rate.
                let c = &CURRENCIES[usize::from(cur)];
                let other = c.mismatch;
                let to = CURRENCIES[other].minor_units;
                let converted = (i128::from(amt) * c.rate.0 * 10i128.pow(to)
                    / (c.rate.1 * 10i128.pow(c.minor_units)))
                .max(1);
                let v = self.on_time(due);
                let mut x = self.settle(&i, SStatus::Settled, converted as i64, v);
                x.currency = other as u8;
                x.fee = None;
                s.push(x);
            }
            UnitKind::AccountMismatch => {
                let v = self.on_time(due);
                let mut x = self.settle(&i, SStatus::Settled, amt, v);
                x.account = self.fresh_account(usize::from(i.provider));
                s.push(x);
            }
            UnitKind::Late => {
                let off = if self.below(4) == 0 {
                    LATE_DAYS + 1
                } else {
                    self.range(5, 20) as Day
                };
                s.push(self.settle(&i, SStatus::Settled, amt, due + off));
            }
            UnitKind::ProviderMismatch => {
                let siblings: Vec<Prov> = sibling_providers(usize::from(i.provider)).collect();
                let other = siblings[self.below(siblings.len() as u32) as usize];
                let v = self.on_time(due);
                let mut x = self.settle(&i, SStatus::Settled, amt, v);
                x.provider = other as u8;
                x.ref_no = self.next_ref(other);
                x.fee = self.fee(other, SStatus::Settled, amt);
                s.push(x);
            }
            UnitKind::Fallback => {
                let off = match self.below(10) {
                    0 => -WINDOW_DAYS,
                    1 => WINDOW_DAYS,
                    _ => self.range(-3, 5) as Day,
                };
                let status = if self.below(10) == 0 {
                    SStatus::Failed
                } else {
                    SStatus::Settled
                };
                let mut x = self.settle(&i, status, amt, due + off);
                x.reference = self.unreferenced(i.key);
                s.push(x);
            }
            UnitKind::FallbackNearMiss => {
                let v = self.on_time(due);
                let mut x = self.settle(&i, SStatus::Settled, amt, v);
                x.reference = self.unreferenced(i.key);
                match self.below(4) {
                    0 => x.value = due + WINDOW_DAYS + self.range(1, 5) as Day,
                    1 => x.value = due - WINDOW_DAYS - self.range(1, 3) as Day,
                    2 => x.amount -= self.step(cur) * self.range(1, 3),
                    _ => x.account = self.fresh_account(usize::from(i.provider)),
                }
                x.ref_day = x.value;
                s.push(x);
            }
            UnitKind::UnreferencedSecondPayment => {
                let v1 = self.on_time(due);
                s.push(self.settle(&i, SStatus::Settled, amt, v1));
                let v2 = v1 + self.range(1, 4) as Day;
                let mut x = self.settle(&i, SStatus::Settled, amt, v2);
                x.reference = self.unreferenced(i.key);
                s.push(x);
            }
            UnitKind::SettlementRejected => {
                let v = self.on_time(due);
                let mut x = self.settle(&i, SStatus::Settled, amt, v);
                x.defect = self.pick_sdefect();
                x.variant = self.below(256) as u8;
                s.push(x);
                if self.below(2) == 0 {
                    // Re-sent corrected under a new reference.
                    let v2 = v + self.range(0, 3) as Day;
                    s.push(self.settle(&i, SStatus::Settled, amt, v2));
                }
            }
            _ => unreachable!("not a single-instruction kind: {kind:?}"),
        }
        u.instrs.push(i);
    }

    fn pay_on_time(&mut self, i: &IRow, u: &mut Unit) {
        let v = self.on_time(i.due);
        let s = self.settle(i, SStatus::Settled, i.amount, v);
        u.setts.push(s);
    }

    fn arrears_pair(&mut self, u: &mut Unit) {
        let h = self.household();
        let program = self.program();
        let size = self.household_size(program);
        let a = self.instr(&h, program, ARREARS, size);
        let size2 = if self.below(10) < 7 {
            size
        } else {
            self.household_size(program)
        };
        let b = self.instr(&h, program, CURRENT, size2);
        self.pay_on_time(&a, u);
        self.pay_on_time(&b, u);
        u.instrs.extend([a, b]);
    }

    fn duplicate_beneficiary(&mut self, u: &mut Unit) {
        let h = self.household();
        let program = self.program();
        let size = self.household_size(program);
        let a = self.instr(&h, program, CURRENT, size);
        let size2 = if self.below(10) < 7 {
            size
        } else {
            self.household_size(program)
        };
        let mut b = self.instr(&h, program, CURRENT, size2);
        if self.below(2) == 0 {
            b.due = a.due;
        }
        self.pay_on_time(&a, u);
        if self.below(10) < 6 {
            self.pay_on_time(&b, u);
        }
        u.instrs.extend([a, b]);
    }

    fn shared_account(&mut self, u: &mut Unit) {
        let holder = self.household();
        let k = self.range(4, 6);
        for j in 0..k {
            let h = if j == 0 {
                holder
            } else {
                self.cohabitant(&holder)
            };
            let i = self.random_instr(&h);
            if self.below(10) != 0 {
                self.pay_on_time(&i, u);
            }
            u.instrs.push(i);
        }
    }

    fn shared_account_near_miss(&mut self, u: &mut Unit) {
        let holder = self.household();
        let mut first_program = 0;
        for j in 0..3 {
            let h = if j == 0 {
                holder
            } else {
                self.cohabitant(&holder)
            };
            let i = self.random_instr(&h);
            if j == 0 {
                first_program = usize::from(i.program);
            }
            self.pay_on_time(&i, u);
            u.instrs.push(i);
        }
        match self.below(3) {
            0 => {}
            1 => {
                // A fourth beneficiary whose instruction is rejected does not count.
                let h = self.cohabitant(&holder);
                let mut i = self.random_instr(&h);
                i.defect = self.pick_idefect(&[
                    IDefect::DateImpossible,
                    IDefect::AmountExponent,
                    IDefect::CurrencyLower,
                ]);
                i.variant = self.below(256) as u8;
                u.instrs.push(i);
            }
            _ => {
                // The first beneficiary again, in another programme: 4 instructions, 3
                // distinct beneficiaries, no duplicate either.
                let program = (first_program + 1 + self.below(3) as usize) % PROGRAMS.len();
                let size = self.household_size(program);
                let i = self.instr(&holder, program, CURRENT, size);
                self.pay_on_time(&i, u);
                u.instrs.push(i);
            }
        }
    }

    fn family_account(&mut self, u: &mut Unit) {
        let h1 = self.household();
        let h2 = self.cohabitant(&h1);
        let program = self.program();
        match self.below(3) {
            0 => {
                // Told apart by amount: both paid without reference.
                let (s1, s2) = (self.household_size(program), self.household_size(program));
                let a = self.instr(&h1, program, CURRENT, s1);
                let mut b = self.instr(&h2, program, CURRENT, s2);
                let mut size = 1;
                while b.amount == a.amount {
                    b.amount = ordinary_amount(program, usize::from(b.currency), size);
                    size += 1;
                }
                for i in [&a, &b] {
                    let v = self.on_time(i.due);
                    let mut s = self.settle(i, SStatus::Settled, i.amount, v);
                    s.reference = self.unreferenced(i.key);
                    u.setts.push(s);
                }
                u.instrs.extend([a, b]);
            }
            1 => {
                // Told apart by date: arrears early in the month, current cycle late.
                let size = self.household_size(program);
                let a = self.instr(&h1, program, ARREARS, size);
                let mut b = self.instr(&h2, program, CURRENT, size);
                b.due = day(2026, 11, 17) + self.range(0, 5) as Day;
                let va = a.due + self.range(0, 2) as Day;
                let vb = b.due + self.range(-2, 2) as Day;
                for (i, v) in [(&a, va), (&b, vb)] {
                    let mut s = self.settle(i, SStatus::Settled, i.amount, v);
                    s.reference = self.unreferenced(i.key);
                    u.setts.push(s);
                }
                u.instrs.extend([a, b]);
            }
            _ => {
                // Same amount and dates, but the first is matched by reference, which
                // takes it out of the fallback: the unreferenced line goes to the second.
                let size = self.household_size(program);
                let a = self.instr(&h1, program, CURRENT, size);
                let mut b = self.instr(&h2, program, CURRENT, size);
                b.due = a.due;
                self.pay_on_time(&a, u);
                let v = self.on_time(b.due);
                let mut s = self.settle(&b, SStatus::Settled, b.amount, v);
                s.reference = self.unreferenced(b.key);
                u.setts.push(s);
                u.instrs.extend([a, b]);
            }
        }
    }

    fn ambiguous_instructions(&mut self, u: &mut Unit) {
        let h1 = self.household();
        let h2 = if self.below(2) == 0 {
            h1
        } else {
            self.cohabitant(&h1)
        };
        let program = self.program();
        let size = self.household_size(program);
        let a = self.instr(&h1, program, CURRENT, size);
        let mut b = self.instr(&h2, program, CURRENT, size);
        b.due = a.due + self.range(0, 3) as Day;
        let v = a.due + self.range(0, 2) as Day;
        let mut s = self.settle(&a, SStatus::Settled, a.amount, v);
        let echoed = if self.below(2) == 0 { a.key } else { b.key };
        s.reference = self.unreferenced(echoed);
        u.setts.push(s);
        u.instrs.extend([a, b]);
    }

    fn ambiguous_settlements(&mut self, u: &mut Unit) {
        let h = self.household();
        let i = self.random_instr(&h);
        let v1 = self.on_time(i.due);
        let mut s1 = self.settle(&i, SStatus::Settled, i.amount, v1);
        s1.reference = self.unreferenced(i.key);
        let v2 = v1 + self.range(0, 3) as Day;
        let status = if self.below(4) == 0 {
            SStatus::Failed
        } else {
            SStatus::Settled
        };
        let mut s2 = self.settle(&i, status, i.amount, v2);
        s2.reference = self.unreferenced(i.key);
        u.setts.extend([s1, s2]);
        u.instrs.push(i);
    }

    fn instruction_rejected(&mut self, u: &mut Unit) {
        let h = self.household();
        let mut i = self.random_instr(&h);
        i.defect = self.pick_idefect(&IDefect::TEMPLATES);
        i.variant = self.below(256) as u8;
        if self.below(10) < 4 {
            // The provider paid it anyway; a rejected instruction matches nothing.
            self.pay_on_time(&i, u);
        }
        u.instrs.push(i);
    }

    fn corrected_resent(&mut self, u: &mut Unit) {
        let h = self.household();
        let mut bad = self.random_instr(&h);
        let mut good = bad;
        bad.defect = self.pick_idefect(&IDefect::CORRECTABLE);
        bad.variant = self.below(256) as u8;
        good.delay = self.range(1, i64::from(MAX_RESEND_DELAY)) as u32;
        self.pay_on_time(&good, u);
        u.instrs.extend([bad, good]);
    }

    fn unexpected(&mut self, u: &mut Unit) {
        let country = self.country();
        let provider = self.provider_in(country);
        let account = self.fresh_account(provider);
        let program = self.program();
        let size = self.household_size(program);
        let currency = PROVIDERS[provider].currency;
        let status = match self.below(10) {
            0 => SStatus::Failed,
            1 => SStatus::Returned,
            _ => SStatus::Settled,
        };
        let value = NOV_1 + self.range(0, 29) as Day;
        let reference = match self.below(3) {
            0 => RefText::Null,
            1 => RefText::Empty,
            _ => {
                self.foreign_seq += 1;
                RefText::Foreign(InstrKey {
                    country,
                    program: program as u8,
                    cycle: FOREIGN_CYCLE,
                    seq: self.foreign_seq,
                })
            }
        };
        let amount = ordinary_amount(program, currency, size);
        u.setts.push(SRow {
            provider: provider as u8,
            ref_no: self.next_ref(provider),
            ref_day: value,
            reference,
            account,
            no_account: false,
            amount,
            fee: self.fee(provider, status, amount),
            currency: currency as u8,
            no_amount: false,
            status,
            value,
            narrative: 0,
            defect: SDefect::None,
            variant: 0,
            style: Style::PLAIN,
            delay: 0,
            truth: STruth::Pending,
        });
    }

    /// Valid text variations and re-sent copies.
    fn decorate(&mut self, u: &mut Unit, remaining: u64) {
        for k in 0..u.instrs.len() {
            let style = self.style(9);
            u.instrs[k].style = style;
        }
        for k in 0..u.setts.len() {
            let mut style = self.style(10);
            let s = &u.setts[k];
            if s.status == SStatus::Failed && s.amount == 0 && self.below(2) == 0 {
                style.amount = AmountStyle::NegZero;
            }
            let narrative = if self.want(Mod::Narrative) {
                1 + self.below(u32::from(NARRATIVES)) as u8
            } else {
                0
            };
            // CONTRACT v2 plantings; resolve() applies what they change (no fallback
            // candidacy, no mismatch flags or status from an absent value).
            let accepted = u.setts[k].accepted();
            let no_account = accepted && self.want(Mod::NoAccount);
            let failed = u.setts[k].status == SStatus::Failed;
            let no_amount = accepted && failed && self.want(Mod::NoAmount);
            let s = &mut u.setts[k];
            s.style = style;
            s.narrative = narrative;
            s.no_account = no_account;
            if no_amount {
                s.no_amount = true;
                s.fee = None;
                s.style.amount = AmountStyle::Canonical;
            }
        }
        // An accepted, not held-back instruction sent again later.
        if (u.instrs.len() as u64) < remaining && self.want(Mod::ResentInstruction) {
            if let Some(orig) = u
                .instrs
                .iter()
                .find(|i| i.accepted() && i.delay == 0)
                .copied()
            {
                let mut copy = orig;
                copy.defect = IDefect::DuplicateId;
                copy.outlier = false;
                copy.delay = self.range(1, i64::from(MAX_RESEND_DELAY)) as u32;
                if self.below(10) < 3 {
                    // Re-sent with another household size: still the same id.
                    let size = self.household_size(usize::from(copy.program));
                    copy.amount = ordinary_amount(
                        usize::from(copy.program),
                        usize::from(copy.currency),
                        size,
                    );
                }
                u.instrs.push(copy);
            }
        }
        // An accepted settlement line sent again, or its ref reused.
        let resend = self.want(Mod::ResentSettlement);
        let reuse = !resend && self.want(Mod::ReusedRef);
        if resend || reuse {
            if let Some(orig) = u.setts.iter().find(|s| s.accepted()).copied() {
                let mut copy = orig;
                copy.delay = self.range(1, i64::from(MAX_RESEND_DELAY)) as u32;
                if resend {
                    copy.defect = SDefect::DuplicateRef;
                } else {
                    copy.defect = SDefect::ReusedRef;
                    copy.amount += self.step(copy.currency);
                    copy.value += 1;
                }
                u.setts.push(copy);
            }
        }
    }

    fn style(&mut self, columns: u32) -> Style {
        let mut st = Style::PLAIN;
        if self.want(Mod::Padding) {
            st.pad_col = self.below(columns) as u8;
            st.pad = self.below(4) as u8;
        }
        if self.want(Mod::TrailingZeros) {
            st.amount = AmountStyle::Trailing(1 + self.below(2) as u8);
        } else if self.want(Mod::LeadingZeros) {
            st.amount = AmountStyle::Leading(1 + self.below(3) as u8);
        }
        st
    }

    fn commit(&mut self, u: &Unit) {
        if let Some(k) = u.kind {
            self.kind_count[k as usize] += 1;
        }
        for i in &u.instrs {
            if i.defect != IDefect::None {
                self.idefect_count[i.defect as usize] += 1;
            }
            if i.defect == IDefect::DuplicateId {
                self.mod_count[Mod::ResentInstruction as usize] += 1;
            }
            if i.accepted() {
                let g = &mut self.groups[i.group()];
                if i.outlier {
                    g.1 += 1;
                    self.mod_count[Mod::Outlier as usize] += 1;
                } else {
                    g.0 += 1;
                }
            }
            self.count_style(&i.style);
        }
        for s in &u.setts {
            if s.defect != SDefect::None {
                self.sdefect_count[s.defect as usize] += 1;
            }
            match s.defect {
                SDefect::DuplicateRef => self.mod_count[Mod::ResentSettlement as usize] += 1,
                SDefect::ReusedRef => self.mod_count[Mod::ReusedRef as usize] += 1,
                _ => {}
            }
            if s.status == SStatus::Failed && s.amount == 0 && !s.no_amount {
                self.mod_count[Mod::ZeroFailed as usize] += 1;
            }
            if s.no_account {
                self.mod_count[Mod::NoAccount as usize] += 1;
            }
            if s.no_amount {
                self.mod_count[Mod::NoAmount as usize] += 1;
            }
            if s.narrative != 0 {
                self.mod_count[Mod::Narrative as usize] += 1;
            }
            self.count_style(&s.style);
        }
        self.instr_rows += u.instrs.len() as u64;
    }

    fn count_style(&mut self, st: &Style) {
        if st.pad_col != Style::NO_PAD {
            self.mod_count[Mod::Padding as usize] += 1;
        }
        match st.amount {
            AmountStyle::Trailing(_) => self.mod_count[Mod::TrailingZeros as usize] += 1,
            AmountStyle::Leading(_) => self.mod_count[Mod::LeadingZeros as usize] += 1,
            _ => {}
        }
    }
}

/// CONTRACT.md sections 3 and 4 over one unit's rows (see the module documentation for
/// why a unit is closed under matching). Sets every row's truth.
pub(crate) fn resolve(instrs: &mut [IRow], setts: &mut [SRow]) {
    let ni = instrs.len();
    let ns = setts.len();
    assert!(
        ni <= MAX_UNIT_ROWS && ns <= MAX_UNIT_ROWS,
        "unit too large: {ni} instructions, {ns} settlements"
    );
    let mut m = Matches {
        method: [Method::None; MAX_UNIT_ROWS],
        matched: [None; MAX_UNIT_ROWS],
        ambiguous: [false; MAX_UNIT_ROWS],
    };
    let ref_matched = m.by_reference(instrs, setts);
    m.by_fallback(instrs, setts, &ref_matched);
    for i in 0..ni {
        let truth = instruction_truth(instrs, i, setts, &m);
        instrs[i].truth = truth;
    }
    for (s, sr) in setts.iter_mut().enumerate() {
        sr.truth = if sr.accepted() {
            STruth::Accepted {
                method: m.method[s],
                matched: m.matched[s].map(|i| instrs[i].key),
                ambiguous: m.ambiguous[s],
            }
        } else {
            STruth::Rejected
        };
    }
}

/// Each settlement's match within a unit (indices into the unit's rows).
struct Matches {
    method: [Method; MAX_UNIT_ROWS],
    matched: [Option<usize>; MAX_UNIT_ROWS],
    ambiguous: [bool; MAX_UNIT_ROWS],
}

impl Matches {
    /// Step 1, the reference match to an accepted instruction of the same id. Returns
    /// which instructions were matched so.
    fn by_reference(&mut self, instrs: &[IRow], setts: &[SRow]) -> [bool; MAX_UNIT_ROWS] {
        let mut ref_matched = [false; MAX_UNIT_ROWS];
        for (s, sr) in setts.iter().enumerate() {
            if !sr.accepted() {
                continue;
            }
            if let RefText::Exact(k) = sr.reference {
                let mut hits =
                    (0..instrs.len()).filter(|&i| instrs[i].accepted() && instrs[i].key == k);
                if let Some(i) = hits.next() {
                    debug_assert!(
                        hits.next().is_none(),
                        "two accepted instructions share an id"
                    );
                    self.method[s] = Method::Reference;
                    self.matched[s] = Some(i);
                    ref_matched[i] = true;
                }
            }
        }
        ref_matched
    }

    /// Step 2, the fallback among the rest: unique candidate on both sides.
    fn by_fallback(&mut self, instrs: &[IRow], setts: &[SRow], ref_matched: &[bool]) {
        let (ni, ns) = (instrs.len(), setts.len());
        let method = &self.method;
        let candidate = |s: usize, i: usize| -> bool {
            let (sr, ir) = (&setts[s], &instrs[i]);
            sr.accepted()
                && method[s] == Method::None
                && !sr.no_account
                && !sr.no_amount
                && ir.accepted()
                && !ref_matched[i]
                && sr.provider == ir.provider
                && sr.account == ir.account
                && sr.currency == ir.currency
                && sr.amount == ir.amount
                && (sr.value - ir.due).abs() <= WINDOW_DAYS
        };
        let mut s_count = [0usize; MAX_UNIT_ROWS];
        let mut s_first = [0usize; MAX_UNIT_ROWS];
        let mut i_count = [0usize; MAX_UNIT_ROWS];
        for s in 0..ns {
            for (i, count) in i_count.iter_mut().enumerate().take(ni) {
                if candidate(s, i) {
                    if s_count[s] == 0 {
                        s_first[s] = i;
                    }
                    s_count[s] += 1;
                    *count += 1;
                }
            }
        }
        for s in 0..ns {
            if s_count[s] == 1 && i_count[s_first[s]] == 1 {
                self.method[s] = Method::Fallback;
                self.matched[s] = Some(s_first[s]);
            } else {
                self.ambiguous[s] = s_count[s] > 0;
            }
        }
    }
}

/// Steps 3 and 4, instruction `i`'s status and flags.
fn instruction_truth(instrs: &[IRow], i: usize, setts: &[SRow], m: &Matches) -> ITruth {
    let ir = &instrs[i];
    if !ir.accepted() {
        return ITruth::Rejected;
    }
    let got = Settled::of(ir, i, setts, m);
    ITruth::Accepted {
        status: got.status(ir.amount),
        flags: got.flags | instruction_flags(instrs, i),
        paid: got.paid,
        n: got.n,
    }
}

/// The settlements matched to one instruction, summed, and the flags they raise.
struct Settled {
    n: u32,
    n_settled: u32,
    n_returned: u32,
    paid: i64,
    other_currency: bool,
    flags: u8,
}

impl Settled {
    fn of(ir: &IRow, i: usize, setts: &[SRow], m: &Matches) -> Settled {
        let mut got = Settled {
            n: 0,
            n_settled: 0,
            n_returned: 0,
            paid: 0,
            other_currency: false,
            flags: 0,
        };
        for s in (0..setts.len()).filter(|&s| m.matched[s] == Some(i)) {
            let sr = &setts[s];
            got.n += 1;
            // v2: a settlement without a currency is no mismatch.
            if !sr.no_amount && sr.currency != ir.currency {
                got.other_currency = true;
            }
            match sr.status {
                SStatus::Settled => {
                    got.n_settled += 1;
                    if sr.currency == ir.currency {
                        got.paid += sr.amount;
                    }
                    // v2: an empty account is no mismatch.
                    if !sr.no_account && sr.account != ir.account {
                        got.flags |= flag::ACCOUNT_MISMATCH;
                    }
                    if sr.value > ir.due + LATE_DAYS {
                        got.flags |= flag::LATE;
                    }
                }
                SStatus::Returned => {
                    got.n_returned += 1;
                    if sr.currency == ir.currency {
                        got.paid -= sr.amount;
                    }
                }
                SStatus::Failed => {}
            }
            if sr.provider != ir.provider {
                got.flags |= flag::PROVIDER_MISMATCH;
            }
            if m.method[s] == Method::Fallback {
                got.flags |= flag::FALLBACK_MATCH;
            }
        }
        got
    }

    /// The status of an instruction of `amount` (CONTRACT.md 3).
    fn status(&self, amount: i64) -> Status {
        if self.n == 0 {
            Status::Unpaid
        } else if self.other_currency {
            Status::CurrencyMismatch
        } else if self.n_settled >= 2 {
            Status::DoublePaid
        } else if self.n_settled == 0 && self.n_returned > 0 {
            Status::Returned
        } else if self.n_settled == 0 {
            Status::Failed
        } else if self.paid == 0 && self.n_returned > 0 {
            Status::Returned
        } else if self.paid == amount {
            Status::Paid
        } else if self.paid < amount {
            Status::Underpaid
        } else {
            Status::Overpaid
        }
    }
}

/// The flags instruction `i` raises by itself or with its unit's other instructions.
fn instruction_flags(instrs: &[IRow], i: usize) -> u8 {
    let ir = &instrs[i];
    let mut flags = 0u8;
    if ir.outlier {
        flags |= flag::AMOUNT_OUTLIER;
    }
    let same_ben = |j: &IRow| j.accepted() && j.key.country == ir.key.country && j.ben == ir.ben;
    if instrs.iter().enumerate().any(|(j, jr)| {
        j != i && same_ben(jr) && jr.program == ir.program && jr.key.cycle == ir.key.cycle
    }) {
        flags |= flag::DUPLICATE_BENEFICIARY;
    }
    let on_account =
        |j: &IRow| j.accepted() && j.provider == ir.provider && j.account == ir.account;
    let distinct_bens = (0..instrs.len())
        .filter(|&j| on_account(&instrs[j]))
        .filter(|&j| {
            !(0..j).any(|k| {
                on_account(&instrs[k])
                    && instrs[k].key.country == instrs[j].key.country
                    && instrs[k].ben == instrs[j].ben
            })
        })
        .count();
    if distinct_bens >= 4 {
        flags |= flag::SHARED_ACCOUNT;
    }
    flags
}
