//! The input columns of each side (CONTRACT.md section 1), in the contract's table order,
//! which is also the order validation checks them in (section 2).

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Side {
    Instructions,
    Settlements,
    /// An approved payroll read by `sverka disburse`: the instruction columns without
    /// `instruction_id` (disburse derives it), plus an optional `beneficiary_name`.
    Payroll,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Instructions => "instructions",
            Side::Settlements => "settlements",
            Side::Payroll => "payroll",
        }
    }

    pub fn fields(self) -> &'static [Field] {
        match self {
            Side::Instructions => &INSTRUCTION_FIELDS,
            Side::Settlements => &SETTLEMENT_FIELDS,
            Side::Payroll => &PAYROLL_FIELDS,
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
    pub required: bool,
    pub kind: Kind,
}

const fn f(name: &'static str, required: bool, kind: Kind) -> Field {
    Field {
        name,
        required,
        kind,
    }
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
    f("account", true, Kind::Text),
    f("amount", true, Kind::Amount),
    f("fee", false, Kind::Amount),
    f("currency", true, Kind::Currency),
    f("status", true, Kind::Status),
    f("value_date", true, Kind::Date),
];

/// The payroll of `sverka disburse`: validated with the instruction rules, in this order.
pub const PAYROLL_FIELDS: [Field; 9] = [
    f("beneficiary_id", true, Kind::Text),
    f("program", true, Kind::Text),
    f("cycle", true, Kind::Text),
    f("provider", true, Kind::Text),
    f("account", true, Kind::Text),
    f("amount", true, Kind::Amount),
    f("currency", true, Kind::Currency),
    f("due_date", true, Kind::Date),
    f("beneficiary_name", false, Kind::Text),
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

pub mod pay {
    pub const BENEFICIARY: usize = 0;
    pub const PROGRAM: usize = 1;
    pub const CYCLE: usize = 2;
    pub const PROVIDER: usize = 3;
    pub const ACCOUNT: usize = 4;
    pub const NAME: usize = 5;
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
}

impl Reason {
    pub const ALL: [Reason; 11] = [
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
