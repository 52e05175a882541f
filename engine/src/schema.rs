//! The input columns of each side (CONTRACT.md section 1), in the contract's table order,
//! which is also the order validation checks them in (section 2).

/// A side of input rows: the contract's two, or one whose columns the caller describes
/// (disburse's payroll), validated with the instruction rules.
#[derive(Debug, Clone, Copy)]
pub enum Side {
    Instructions,
    Settlements,
    Custom(&'static Columns),
}

/// The columns of a side the engine does not know (read through [`crate::side`]): its
/// name, as the rejects' `side` column shows it, and its fields in validation order.
#[derive(Debug)]
pub struct Columns {
    pub name: &'static str,
    pub fields: &'static [Field],
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Instructions => "instructions",
            Side::Settlements => "settlements",
            Side::Custom(c) => c.name,
        }
    }

    pub fn fields(self) -> &'static [Field] {
        match self {
            Side::Instructions => &INSTRUCTION_FIELDS,
            Side::Settlements => &SETTLEMENT_FIELDS,
            Side::Custom(c) => c.fields,
        }
    }

    /// The order of the sides: the contract's two (0 and 1, also their index in
    /// per-side arrays), then custom ones.
    #[inline]
    pub(crate) fn rank(self) -> u8 {
        match self {
            Side::Instructions => 0,
            Side::Settlements => 1,
            Side::Custom(_) => 2,
        }
    }
}

// By the name: a custom side is the same side wherever its `Columns` live.
impl PartialEq for Side {
    #[inline]
    fn eq(&self, other: &Side) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Side {}
impl PartialOrd for Side {
    fn partial_cmp(&self, other: &Side) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Side {
    #[inline]
    fn cmp(&self, other: &Side) -> std::cmp::Ordering {
        match (self, other) {
            (Side::Custom(a), Side::Custom(b)) => a.name.cmp(b.name),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}
impl std::hash::Hash for Side {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.rank().hash(h);
        if let Side::Custom(c) = self {
            c.name.hash(h);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Amount,
    Currency,
    Date,
    Status,
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    /// Every row must have a value.
    pub required: bool,
    /// Every file must have the column (implied by `required`).
    pub column: bool,
    pub kind: Kind,
}

impl Field {
    pub const fn new(name: &'static str, required: bool, kind: Kind) -> Field {
        Field {
            name,
            required,
            column: required,
            kind,
        }
    }

    /// A column every file must have, whose values may be empty (a decision file's
    /// columns, CONTRACT.md section 8).
    pub const fn in_every_file(name: &'static str, kind: Kind) -> Field {
        Field {
            name,
            required: false,
            column: true,
            kind,
        }
    }
}

const fn f(name: &'static str, required: bool, kind: Kind) -> Field {
    Field::new(name, required, kind)
}

pub const INSTRUCTION_FIELDS: [Field; 9] = [
    f("instruction_id", true, Kind::Text),
    f("beneficiary_id", true, Kind::Text),
    f("program", true, Kind::Text),
    f("cycle", true, Kind::Text),
    f("provider", true, Kind::Text),
    f("account", true, Kind::Text),
    f("amount", true, Kind::Amount),
    f("currency", true, Kind::Currency),
    f("due_date", true, Kind::Date),
];

pub const SETTLEMENT_FIELDS: [Field; 9] = [
    f("provider", true, Kind::Text),
    f("provider_ref", true, Kind::Text),
    f("instruction_id", false, Kind::Text),
    // (v2) Optional: a provider may not say which account it credited.
    f("account", false, Kind::Text),
    // Required columns; their values only unless the row is FAILED (see `validate`).
    f("amount", true, Kind::Amount),
    f("fee", false, Kind::Amount),
    f("currency", true, Kind::Currency),
    f("status", true, Kind::Status),
    f("value_date", true, Kind::Date),
];

/// Positions of the text columns inside a validated chunk, per side.
pub mod ins {
    pub const ID: usize = 0;
    pub const BENEFICIARY: usize = 1;
    pub const PROGRAM: usize = 2;
    pub const CYCLE: usize = 3;
    pub const PROVIDER: usize = 4;
    pub const ACCOUNT: usize = 5;
}

pub mod set {
    pub const PROVIDER: usize = 0;
    pub const REF: usize = 1;
    pub const INSTRUCTION_ID: usize = 2;
    pub const ACCOUNT: usize = 3;
    /// Positions among the amount columns.
    pub const AMOUNT: usize = 0;
    pub const FEE: usize = 1;
}

/// Settlement status codes (CONTRACT.md section 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SettleStatus {
    Settled = 0,
    Failed = 1,
    Returned = 2,
}

impl SettleStatus {
    pub fn parse(s: &str) -> Option<SettleStatus> {
        match s {
            "SETTLED" => Some(SettleStatus::Settled),
            "FAILED" => Some(SettleStatus::Failed),
            "RETURNED" => Some(SettleStatus::Returned),
            _ => None,
        }
    }

    pub fn from_u8(v: u8) -> SettleStatus {
        match v {
            0 => SettleStatus::Settled,
            1 => SettleStatus::Failed,
            _ => SettleStatus::Returned,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SettleStatus::Settled => "SETTLED",
            SettleStatus::Failed => "FAILED",
            SettleStatus::Returned => "RETURNED",
        }
    }
}

/// Reject reasons (CONTRACT.md section 2), in the contract's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
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
    /// (v2) Transactions of a provider file that are not settlements (section 7).
    NotBooked,
    NotAPayment,
    NotFinal,
    BatchWithoutDetails,
}

impl Reason {
    pub const ALL: [Reason; 15] = [
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
        Reason::NotBooked,
        Reason::NotAPayment,
        Reason::NotFinal,
        Reason::BatchWithoutDetails,
    ];

    pub fn as_str(self) -> &'static str {
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
            Reason::NotBooked => "not_booked",
            Reason::NotAPayment => "not_a_payment",
            Reason::NotFinal => "not_final",
            Reason::BatchWithoutDetails => "batch_without_details",
        }
    }
}

/// One rejected input row (CONTRACT.md section 5, `rejects.parquet`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    pub side: Side,
    /// Index into the side's input files.
    pub file: u32,
    /// 1-based data row within the file.
    pub row: u64,
    pub column: Option<&'static str>,
    pub reason: Reason,
    pub value: Option<String>,
}

/// Longest `value` kept in a reject (CONTRACT.md section 5).
pub const REJECT_VALUE_CHARS: usize = 200;

pub fn cut_value(s: &str) -> String {
    match s.char_indices().nth(REJECT_VALUE_CHARS) {
        Some((i, _)) => s[..i].to_string(),
        None => s.to_string(),
    }
}
