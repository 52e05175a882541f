//! Provider profiles (CONTRACT 7.4): a provider's own CSV or XLSX report layout, described
//! once under its entry in the providers file (`[providers.CODE.settlements]`), read into
//! a checked [`Profile`]. A payroll exported by another system is described the same way
//! (`[instructions.NAME]`, sverka's extension of 7.4), every instruction column mapped
//! or given as a constant. Everything a profile says is checked here, before any file is
//! read: an unknown key, a column that is not a settlement column, a pattern that does not
//! compile or captures nothing, an encoding, date format or status this module does not
//! know. Each problem names the key and the fix.
//!
//! The value rules a reader applies (decimal commas and thousands separators undone,
//! dates rewritten to `YYYY-MM-DD`, payouts made positive) are here too, as functions of
//! one value: a value that does not fit the declared form comes back `None`, and the
//! reader hands on the original text, so section 2 rejects it as the provider wrote it.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use crate::schema::Side;

/// The columns a profile of `side` maps, in the contract's order: every settlement field
/// but `provider`, which is the profile's code; every instruction field.
fn mapped_columns(side: Side) -> impl Iterator<Item = &'static str> {
    let fields: &'static [crate::schema::Field] = match side {
        Side::Settlements => &crate::schema::SETTLEMENT_FIELDS[1..],
        _ => &crate::schema::INSTRUCTION_FIELDS,
    };
    fields.iter().map(|f| f.name)
}

/// Columns a settlement profile must map: section 1 requires them (`amount` and
/// `currency` may be constants, or empty for a `FAILED` row). An instruction profile maps
/// every column.
const REQUIRED: [&str; 5] = ["provider_ref", "amount", "currency", "status", "value_date"];

fn required(side: Side, key: &str) -> bool {
    side != Side::Settlements || REQUIRED.contains(&key)
}

/// The statuses a status word may stand for (CONTRACT section 1).
const STATUSES: [&str; 3] = ["SETTLED", "FAILED", "RETURNED"];

/// `[providers.CODE.settlements]` or `[instructions.NAME]` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProfileToml {
    files: Vec<String>,
    format: Option<String>,
    encoding: Option<String>,
    delimiter: Option<String>,
    sheet: Option<String>,
    header_row: Option<u64>,
    #[serde(default)]
    footer_rows: u64,
    decimal_separator: Option<String>,
    thousands_separator: Option<String>,
    date_format: Option<String>,
    negative_amounts: Option<String>,
    columns: BTreeMap<String, toml::Value>,
    #[serde(default)]
    status: BTreeMap<String, String>,
}

/// The kind of file a profile reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Csv,
    Xlsx,
}

/// How a date is written (CONTRACT 7.4 lists the forms); a time after it is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateFormat {
    /// `YYYY-MM-DD`
    Iso,
    /// `DD.MM.YYYY`
    DayDotMonth,
    /// `DD/MM/YYYY`
    DaySlashMonth,
    /// `MM/DD/YYYY`
    MonthSlashDay,
    /// `YYYYMMDD`
    Compact,
    /// `DD-MM-YYYY`
    DayDashMonth,
}

const DATE_FORMATS: [(&str, DateFormat); 6] = [
    ("YYYY-MM-DD", DateFormat::Iso),
    ("DD.MM.YYYY", DateFormat::DayDotMonth),
    ("DD/MM/YYYY", DateFormat::DaySlashMonth),
    ("MM/DD/YYYY", DateFormat::MonthSlashDay),
    ("YYYYMMDD", DateFormat::Compact),
    ("DD-MM-YYYY", DateFormat::DayDashMonth),
];

/// The encodings a profile may name, and the WHATWG decoder each is read with.
/// `iso-8859-1` is decoded as windows-1252, as WHATWG (and every browser) does: files
/// labelled Latin-1 are in practice windows-1252, which differs only in 0x80–0x9F.
const ENCODINGS: [(&str, &encoding_rs::Encoding); 5] = [
    ("utf-8", encoding_rs::UTF_8),
    ("utf-16", encoding_rs::UTF_16LE),
    ("windows-1251", encoding_rs::WINDOWS_1251),
    ("windows-1252", encoding_rs::WINDOWS_1252),
    ("iso-8859-1", encoding_rs::WINDOWS_1252),
];

/// Thousands separators a profile may name: space, no-break space, narrow no-break space
/// (Russian and French number formatting), comma, dot, apostrophe (Swiss).
const THOUSANDS: [&str; 6] = [" ", "\u{a0}", "\u{202f}", ",", ".", "'"];

/// Where a canonical column's value comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The file's column with this header.
    Header(String),
    /// The first capture group of `regex` over the file's column `column`; empty when it
    /// does not match.
    Pattern {
        column: String,
        regex: regex::Regex,
        /// The first group is the whole pattern (`(…)`): the match is the value, found
        /// without resolving groups (a third of the pattern's cost).
        whole: bool,
    },
    /// The same text on every row.
    Value(String),
    /// The first of these headers or patterns that gives a value that is not empty (an
    /// extension of 7.4: statements with two amount columns, "Paid In" and "Withdrawn";
    /// a status that a reason column overrides, such as an M-Pesa "Reversal").
    FirstOf(Vec<Source>),
}

/// A provider's checked report layout, or a payroll's.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The side whose files the profile reads.
    pub side: Side,
    /// A settlement profile's provider code (every row read through it has it); an
    /// instruction profile's name. `profile:CODE` is the format of the files it reads.
    pub code: String,
    /// The file-name globs the layout claims, as written.
    pub files: Vec<String>,
    globs: globset::GlobSet,
    pub layout: Layout,
    /// The decoder of the file's text (CSV); `utf-16` decodes by the byte-order mark.
    pub encoding: &'static encoding_rs::Encoding,
    pub delimiter: u8,
    /// The sheet of an XLSX workbook; `None`: the first.
    pub sheet: Option<String>,
    /// 1-based line (CSV) or row (XLSX) of the header.
    pub header_row: u64,
    /// Trailing rows that are not transactions.
    pub footer_rows: u64,
    pub decimal_separator: char,
    pub thousands_separator: Option<char>,
    pub date_format: DateFormat,
    /// Payouts reported as negative numbers are read as their absolute value.
    pub absolute_amounts: bool,
    /// Each mapped canonical column (in the contract's order) and where it comes from.
    pub columns: Vec<(&'static str, Source)>,
    /// The file's status words (trimmed, exact) → contract status (settlements only).
    pub status: HashMap<String, &'static str>,
}

impl Profile {
    /// Where a profile of `side` named `code` is written in the providers file.
    pub fn table(side: Side, code: &str) -> String {
        match side {
            Side::Settlements => format!("[providers.{code}.settlements]"),
            _ => format!("[instructions.{code}]"),
        }
    }

    /// Checks a profile as written under `[providers.CODE.settlements]` or
    /// `[instructions.NAME]`; the error names the key and the fix (the caller adds the
    /// providers file).
    pub(crate) fn from_toml(side: Side, code: &str, raw: ProfileToml) -> Result<Profile, String> {
        let at = Profile::table(side, code);
        let one_of = |what: &str, got: &str, allowed: &[&str]| {
            format!(
                "{at} {what} is {got:?}; it must be one of {}",
                allowed
                    .iter()
                    .map(|a| format!("{a:?}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        if raw.files.is_empty() {
            return Err(format!(
                "{at} files is empty: list the file-name globs this layout claims, e.g. \
                 files = [\"{}-*.csv\"]",
                code.to_lowercase()
            ));
        }
        let mut globs = globset::GlobSetBuilder::new();
        for f in &raw.files {
            let glob = globset::GlobBuilder::new(f)
                .literal_separator(true)
                .build()
                .map_err(|e| format!("{at} files: {f:?} is not a glob: {e}"))?;
            globs.add(glob);
        }
        let globs = globs
            .build()
            .map_err(|e| format!("{at} files cannot be used: {e}"))?;
        let layout = match raw.format.as_deref().unwrap_or("csv") {
            "csv" => Layout::Csv,
            "xlsx" => Layout::Xlsx,
            other => return Err(one_of("format", other, &["csv", "xlsx"])),
        };
        let encoding_name = raw.encoding.as_deref().unwrap_or("utf-8");
        let encoding = ENCODINGS
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(encoding_name))
            .map(|&(_, e)| e)
            .ok_or_else(|| one_of("encoding", encoding_name, &ENCODINGS.map(|(n, _)| n)))?;
        let delimiter = match raw.delimiter.as_deref().unwrap_or(",").as_bytes() {
            [b] if b.is_ascii() && !matches!(b, b'"' | b'\r' | b'\n') => *b,
            _ => {
                return Err(format!(
                    "{at} delimiter is {:?}; it must be one ASCII character other than a quote \
                     or a line break, e.g. \";\" or \"\\t\"",
                    raw.delimiter.unwrap_or_default()
                ))
            }
        };
        if raw.sheet.is_some() && layout == Layout::Csv {
            return Err(format!(
                "{at} sheet is given for a CSV layout: remove it, or set format = \"xlsx\""
            ));
        }
        let header_row = raw.header_row.unwrap_or(1);
        if header_row == 0 {
            return Err(format!(
                "{at} header_row is 0: rows are counted from 1 (the first line is 1)"
            ));
        }
        let decimal_separator = match raw.decimal_separator.as_deref().unwrap_or(".") {
            "." => '.',
            "," => ',',
            other => return Err(one_of("decimal_separator", other, &[".", ","])),
        };
        let thousands_separator = match raw.thousands_separator.as_deref() {
            None => None,
            Some(t) if THOUSANDS.contains(&t) => t.chars().next(),
            Some(t) => return Err(one_of("thousands_separator", t, &THOUSANDS)),
        };
        if thousands_separator == Some(decimal_separator) {
            return Err(format!(
                "{at} thousands_separator and decimal_separator are both {decimal_separator:?}: \
                 one of them is wrong"
            ));
        }
        let date_name = raw.date_format.as_deref().unwrap_or("YYYY-MM-DD");
        let date_format = DATE_FORMATS
            .iter()
            .find(|(n, _)| *n == date_name)
            .map(|&(_, f)| f)
            .ok_or_else(|| one_of("date_format", date_name, &DATE_FORMATS.map(|(n, _)| n)))?;
        let absolute_amounts = match raw.negative_amounts.as_deref().unwrap_or("as-is") {
            "as-is" => false,
            "absolute" => true,
            other => return Err(one_of("negative_amounts", other, &["as-is", "absolute"])),
        };
        let columns = columns(&at, side, raw.columns)?;
        if side != Side::Settlements && !raw.status.is_empty() {
            return Err(format!(
                "{at} status: an instruction has no status; remove the status table"
            ));
        }
        let mut status = HashMap::new();
        for (word, to) in raw.status {
            let Some(&to) = STATUSES.iter().find(|s| **s == to) else {
                return Err(format!(
                    "{at} status: {word:?} is mapped to {to:?}; a settlement's status is one of \
                     SETTLED, FAILED or RETURNED"
                ));
            };
            if word.trim() != word || word.is_empty() {
                return Err(format!(
                    "{at} status: the word {word:?} is matched trimmed and exactly; write it \
                     without surrounding spaces"
                ));
            }
            status.insert(word, to);
        }
        Ok(Profile {
            side,
            code: code.to_string(),
            files: raw.files,
            globs,
            layout,
            encoding,
            delimiter,
            sheet: raw.sheet,
            header_row,
            footer_rows: raw.footer_rows,
            decimal_separator,
            thousands_separator,
            date_format,
            absolute_amounts,
            columns,
            status,
        })
    }

    /// Checks the profile written in `toml` (the body of a `[providers.CODE.settlements]`
    /// table) for provider `code`.
    pub fn parse(code: &str, toml: &str) -> Result<Profile, String> {
        Profile::parse_for(Side::Settlements, code, toml)
    }

    /// Checks the profile of `side` written in `toml` (the body of its table).
    pub fn parse_for(side: Side, code: &str, toml: &str) -> Result<Profile, String> {
        let raw: ProfileToml =
            toml::from_str(toml).map_err(|e| format!("{} {e}", Profile::table(side, code)))?;
        Profile::from_toml(side, code, raw)
    }

    /// Reads a provider's report through the profile, as `sverka reconcile` does, and
    /// gives its data rows (the rows themselves are dropped), or why the file cannot be
    /// read. For the fuzz targets and tests.
    pub fn count_rows(&self, input: &[u8]) -> Result<u64, String> {
        match self.layout {
            Layout::Csv => {
                crate::ingest::profile::read_csv(self, 0, input, &mut |r| drop(r.map(self)))
            }
            Layout::Xlsx => {
                crate::ingest::workbook::read_xlsx(self, 0, std::io::Cursor::new(input), &mut |b| {
                    drop(b)
                })
            }
        }
    }

    /// Whether the layout claims a file of this name (its last path component).
    pub fn claims(&self, file_name: &str) -> bool {
        self.globs.is_match(file_name)
    }

    /// The contract's status for a status word (trimmed, exact); `None`: a word the map
    /// does not list, which the row keeps as written (section 2: `invalid_status`).
    pub fn status_of(&self, word: &str) -> Option<&'static str> {
        self.status.get(word.trim()).copied()
    }

    /// An amount as the contract writes it (`-` sign, `.` decimal point, no grouping), or
    /// `None` when the text does not have the declared form.
    pub fn amount(&self, text: &str) -> Option<String> {
        let mut out = String::new();
        self.amount_into(text, &mut out).then_some(out)
    }

    /// [`Profile::amount`] written into `out` (cleared first): `false` when the text does
    /// not have the declared form. No allocation once `out` has grown.
    pub fn amount_into(&self, text: &str, out: &mut String) -> bool {
        out.clear();
        let t = text.trim_matches([' ', '\t']);
        let (negative, digits) = match t.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, t),
        };
        let (int, frac) = match digits.split_once(self.decimal_separator) {
            Some((i, f)) => (i, Some(f)),
            None => (digits, None),
        };
        let ascii_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if frac.is_some_and(|f| !ascii_digits(f)) {
            return false;
        }
        if negative && !self.absolute_amounts {
            out.push('-');
        }
        match self.thousands_separator {
            Some(sep) if int.contains(sep) => {
                if !ungroup_into(int, sep, out) {
                    return false;
                }
            }
            _ if ascii_digits(int) => out.push_str(int),
            _ => return false,
        }
        if let Some(f) = frac {
            out.push('.');
            out.push_str(f);
        }
        true
    }

    /// A date as `YYYY-MM-DD`, or `None` when the text does not have the declared form.
    /// Only the form is checked: whether the day exists is section 2's question.
    pub fn date(&self, text: &str) -> Option<String> {
        let mut out = String::new();
        self.date_into(text, &mut out).then_some(out)
    }

    /// [`Profile::date`] written into `out` (cleared first): `false` when the text does
    /// not have the declared form.
    pub fn date_into(&self, text: &str, out: &mut String) -> bool {
        out.clear();
        let t = text.trim_matches([' ', '\t']);
        // A time after the date (`05.11.2026 14:30`, `2026-11-05T14:30:00`) is ignored.
        let len = if self.date_format == DateFormat::Compact {
            8
        } else {
            10
        };
        let Some(head) = t.get(..len) else {
            return false;
        };
        if t.len() > len && !matches!(t.as_bytes()[len], b' ' | b'T') {
            return false;
        }
        let b = head.as_bytes();
        let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
        let at = |i: usize, c: u8| b[i] == c;
        let (y, m, d) = match self.date_format {
            DateFormat::Iso if at(4, b'-') && at(7, b'-') => (0..4, 5..7, 8..10),
            DateFormat::DayDotMonth if at(2, b'.') && at(5, b'.') => (6..10, 3..5, 0..2),
            DateFormat::DaySlashMonth if at(2, b'/') && at(5, b'/') => (6..10, 3..5, 0..2),
            DateFormat::DayDashMonth if at(2, b'-') && at(5, b'-') => (6..10, 3..5, 0..2),
            DateFormat::MonthSlashDay if at(2, b'/') && at(5, b'/') => (6..10, 0..2, 3..5),
            DateFormat::Compact => (0..4, 4..6, 6..8),
            _ => return false,
        };
        if !(digits(y.clone()) && digits(m.clone()) && digits(d.clone())) {
            return false;
        }
        out.push_str(&head[y]);
        out.push('-');
        out.push_str(&head[m]);
        out.push('-');
        out.push_str(&head[d]);
        true
    }
}

/// `1 234 567` written into `out` without its separators, when every group after the
/// first has exactly three digits (a separator anywhere else is not a thousands
/// separator).
fn ungroup_into(int: &str, sep: char, out: &mut String) -> bool {
    let digits = |g: &str| g.bytes().all(|b| b.is_ascii_digit());
    let mut groups = int.split(sep);
    let Some(first) = groups.next() else {
        return false;
    };
    if first.is_empty() || first.len() > 3 || !digits(first) {
        return false;
    }
    out.push_str(first);
    for g in groups {
        if g.len() != 3 || !digits(g) {
            return false;
        }
        out.push_str(g);
    }
    true
}

/// The `columns` table: each key a column of the side, each value a header name,
/// `{ column, pattern }`, `{ value }` or `{ first_of }`.
fn columns(
    at: &str,
    side: Side,
    raw: BTreeMap<String, toml::Value>,
) -> Result<Vec<(&'static str, Source)>, String> {
    let (a, row) = match side {
        Side::Settlements => ("a", "settlement"),
        _ => ("an", "instruction"),
    };
    let mut out = Vec::new();
    for (key, value) in &raw {
        let Some(name) = mapped_columns(side).find(|c| c == key) else {
            let hint = if key == "provider" && side == Side::Settlements {
                "provider is the profile's code and is not mapped".to_string()
            } else {
                let all: Vec<&str> = mapped_columns(side).collect();
                format!("the {row} columns are {}", all.join(", "))
            };
            return Err(format!(
                "{at} columns: {key:?} is not {a} {row} column; {hint}"
            ));
        };
        let source = source(at, key, value)?;
        out.push((name, source));
    }
    if let Some(missing) = mapped_columns(side).find(|c| required(side, c) && !raw.contains_key(*c))
    {
        return Err(format!(
            "{at} columns has no {missing}: every {row} needs one; map it to the file's \
             column (e.g. {missing} = \"Header\") or give it as a constant (e.g. \
             {missing} = {{ value = '...' }})"
        ));
    }
    out.sort_by_key(|(name, _)| mapped_columns(side).position(|c| c == *name));
    Ok(out)
}

fn source(at: &str, key: &str, value: &toml::Value) -> Result<Source, String> {
    let shape = || {
        format!(
            "{at} columns.{key} must be the file's header name (\"Amount\"), \
             {{ column = 'Purpose', pattern = '(…)' }}, {{ value = 'UZS' }} or \
             {{ first_of = ['Withdrawn', 'Paid In'] }}"
        )
    };
    match value {
        toml::Value::Table(t) if t.len() == 1 && t.contains_key("value") => t["value"]
            .as_str()
            .map(|v| Source::Value(v.to_string()))
            .ok_or_else(shape),
        toml::Value::Table(t) if t.len() == 1 && t.contains_key("first_of") => {
            first_of(at, key, &t["first_of"])
        }
        v => column_source(at, key, v)?.ok_or_else(shape),
    }
}

/// A source read from one of the file's columns: a header name, or a pattern over a
/// column; `None` when `value` is neither.
fn column_source(at: &str, key: &str, value: &toml::Value) -> Result<Option<Source>, String> {
    match value {
        toml::Value::String(h) if !h.trim().is_empty() => Ok(Some(Source::Header(h.clone()))),
        toml::Value::Table(t) if t.len() == 2 => {
            let (Some(column), Some(pattern)) = (
                t.get("column").and_then(toml::Value::as_str),
                t.get("pattern").and_then(toml::Value::as_str),
            ) else {
                return Ok(None);
            };
            let regex = regex::Regex::new(pattern).map_err(|e| {
                format!("{at} columns.{key}: the pattern {pattern:?} does not compile: {e}")
            })?;
            if regex.captures_len() < 2 {
                return Err(format!(
                    "{at} columns.{key}: the pattern {pattern:?} has no capture group; put \
                     the part to keep in parentheses, e.g. \"(UZ-\\\\d+)\""
                ));
            }
            let whole = matches!(
                regex_syntax::parse(pattern).map(regex_syntax::hir::Hir::into_kind),
                Ok(regex_syntax::hir::HirKind::Capture(c)) if c.index == 1
            );
            Ok(Some(Source::Pattern {
                column: column.to_string(),
                regex,
                whole,
            }))
        }
        _ => Ok(None),
    }
}

/// `{ first_of = ["Withdrawn", "Paid In"] }`: two or more header names or patterns.
fn first_of(at: &str, key: &str, v: &toml::Value) -> Result<Source, String> {
    let wrong = || {
        format!(
            "{at} columns.{key}: first_of lists two or more of the file's header names or \
             {{ column, pattern }} tables, the first one not empty on a row giving the value, \
             e.g. first_of = ['Withdrawn', 'Paid In']"
        )
    };
    let items = v.as_array().filter(|a| a.len() >= 2).ok_or_else(wrong)?;
    let sources = items
        .iter()
        .map(|item| column_source(at, key, item)?.ok_or_else(wrong))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Source::FirstOf(sources))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(extra: &str) -> Result<Profile, String> {
        let text = format!(
            "files = [\"uzcard-*.csv\"]\n{extra}\n[columns]\nprovider_ref = \"Transaction ID\"\n\
             instruction_id = {{ column = \"Purpose\", pattern = \"(UZ-[A-Z]{{2}}-\\\\d+)\" }}\n\
             amount = \"Amount\"\ncurrency = {{ value = \"UZS\" }}\nstatus = \"Status\"\n\
             value_date = \"Date\"\n[status]\n\"Успешно\" = \"SETTLED\"\n"
        );
        let raw: ProfileToml = toml::from_str(&text).map_err(|e| e.to_string())?;
        Profile::from_toml(Side::Settlements, "UZCARD", raw)
    }

    #[test]
    fn a_profile_as_the_contract_writes_it() {
        let p = profile(
            "encoding = \"windows-1251\"\ndelimiter = \";\"\nheader_row = 3\nfooter_rows = 1\n\
             decimal_separator = \",\"\nthousands_separator = \" \"\ndate_format = \"DD.MM.YYYY\"\n\
             negative_amounts = \"absolute\"",
        )
        .unwrap();
        assert_eq!(p.encoding, encoding_rs::WINDOWS_1251);
        assert_eq!((p.delimiter, p.header_row, p.footer_rows), (b';', 3, 1));
        assert!(p.claims("uzcard-2026-11.csv") && !p.claims("humo-2026-11.csv"));
        assert!(
            !p.claims("x/uzcard-2026-11.csv"),
            "a glob matches the file name"
        );
        let names: Vec<&str> = p.columns.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "provider_ref",
                "instruction_id",
                "amount",
                "currency",
                "status",
                "value_date"
            ]
        );
        assert_eq!(p.status_of(" Успешно "), Some("SETTLED"));
        assert_eq!(p.status_of("успешно"), None);
        assert_eq!(p.amount("-1 234 567,50").as_deref(), Some("1234567.50"));
        assert_eq!(p.amount("300").as_deref(), Some("300"));
        assert_eq!(p.amount("1 23,00"), None);
        assert_eq!(p.amount("1.234,50"), None);
        assert_eq!(p.amount("12,5e3"), None);
        assert_eq!(p.date("05.11.2026").as_deref(), Some("2026-11-05"));
        assert_eq!(p.date("05.11.2026 14:30").as_deref(), Some("2026-11-05"));
        assert_eq!(p.date("2026-11-05"), None);
        assert_eq!(p.date("5.11.2026"), None);
    }

    #[test]
    fn defaults_and_each_date_form() {
        let p = profile("").unwrap();
        assert_eq!(p.encoding, encoding_rs::UTF_8);
        assert_eq!(
            (p.layout, p.delimiter, p.header_row),
            (Layout::Csv, b',', 1)
        );
        assert_eq!(p.amount("-12.50").as_deref(), Some("-12.50"));
        assert_eq!(
            p.amount("1,234.50"),
            None,
            "no thousands separator declared"
        );
        assert_eq!(p.date("2026-11-05T10:00:00").as_deref(), Some("2026-11-05"));
        for (form, text) in [
            ("DD/MM/YYYY", "05/11/2026"),
            ("MM/DD/YYYY", "11/05/2026"),
            ("YYYYMMDD", "20261105"),
            ("DD-MM-YYYY", "05-11-2026"),
        ] {
            let p = profile(&format!("date_format = \"{form}\"")).unwrap();
            assert_eq!(p.date(text).as_deref(), Some("2026-11-05"), "{form}");
        }
        let p = profile("thousands_separator = \",\"").unwrap();
        assert_eq!(p.amount("1,234,567.5").as_deref(), Some("1234567.5"));
        assert_eq!(p.amount("1,2345.5"), None);
    }

    #[test]
    fn a_wrong_profile_names_its_key_and_the_fix() {
        for (extra, says) in [
            ("encodng = \"utf-8\"", "unknown field `encodng`"),
            (
                "encoding = \"koi8-r\"",
                "encoding is \"koi8-r\"; it must be one of",
            ),
            ("date_format = \"DD.MM.YY\"", "date_format is \"DD.MM.YY\""),
            ("format = \"xls\"", "format is \"xls\""),
            ("delimiter = \";;\"", "delimiter is \";;\""),
            ("header_row = 0", "header_row is 0"),
            ("decimal_separator = \"'\"", "decimal_separator is \"'\""),
            (
                "decimal_separator = \",\"\nthousands_separator = \",\"",
                "are both ','",
            ),
            ("negative_amounts = \"abs\"", "negative_amounts is \"abs\""),
            ("sheet = \"Report\"", "sheet is given for a CSV layout"),
        ] {
            let e = profile(extra).unwrap_err();
            assert!(e.contains(says), "{extra}: {e}");
        }
        let bad = |columns: &str, status: &str| {
            let text = format!("files = [\"a*.csv\"]\n[columns]\n{columns}\n[status]\n{status}\n");
            let raw: ProfileToml = toml::from_str(&text).unwrap();
            Profile::from_toml(Side::Settlements, "HUMO", raw).unwrap_err()
        };
        let full = "provider_ref = \"Id\"\namount = \"A\"\ncurrency = \"C\"\nstatus = \"S\"\n\
                    value_date = \"D\"";
        let e = bad(&format!("{full}\nprovider = \"P\""), "");
        assert!(e.contains("provider is the profile's code"), "{e}");
        let e = bad(&format!("{full}\nammount = \"X\""), "");
        assert!(e.contains("\"ammount\" is not a settlement column"), "{e}");
        let e = bad(
            "provider_ref = \"Id\"\namount = \"A\"\ncurrency = \"C\"\nstatus = \"S\"",
            "",
        );
        assert!(e.contains("columns has no value_date"), "{e}");
        let e = bad(
            &format!("{full}\ninstruction_id = {{ column = \"P\", pattern = \"(UZ-\" }}"),
            "",
        );
        assert!(e.contains("does not compile"), "{e}");
        let e = bad(
            &format!("{full}\ninstruction_id = {{ column = \"P\", pattern = \"UZ-\\\\d+\" }}"),
            "",
        );
        assert!(e.contains("has no capture group"), "{e}");
        let e = bad(&format!("{full}\nfee = {{ header = \"F\" }}"), "");
        assert!(e.contains("columns.fee must be"), "{e}");
        let e = bad(&format!("{full}\nfee = {{ first_of = [\"F\"] }}"), "");
        assert!(e.contains("first_of lists two or more"), "{e}");
        let e = bad(
            &format!("{full}\nfee = {{ first_of = [\"F\", {{ value = \"0\" }}] }}"),
            "",
        );
        assert!(e.contains("first_of lists two or more"), "{e}");
        let e = bad(
            &format!(
                "{full}\nfee = {{ first_of = [\"F\", {{ column = \"G\", pattern = \"x\" }}] }}"
            ),
            "",
        );
        assert!(e.contains("has no capture group"), "{e}");
        let e = bad(full, "\"OK\" = \"PAID\"");
        assert!(e.contains("\"OK\" is mapped to \"PAID\""), "{e}");
        let raw: ProfileToml = toml::from_str(&format!("files = []\n[columns]\n{full}\n")).unwrap();
        let e = Profile::from_toml(Side::Settlements, "HUMO", raw).unwrap_err();
        assert!(e.contains("files is empty"), "{e}");
    }

    #[test]
    fn an_instruction_profile_maps_every_column() {
        let columns = "instruction_id = \"Ref\"\nbeneficiary_id = \"HH\"\n\
                       program = { value = \"CASH_TRANSFER\" }\ncycle = { value = \"2026-12\" }\n\
                       provider = { value = \"MPESA_KE\" }\naccount = \"Phone\"\namount = \"Amount\"\n\
                       currency = { value = \"KES\" }\ndue_date = \"Date\"\n";
        let body = |extra: &str, columns: &str| {
            format!("files = [\"payroll-*.csv\"]\n{extra}\n[columns]\n{columns}")
        };
        let p = Profile::parse_for(Side::Instructions, "NSNP", &body("", columns)).unwrap();
        assert_eq!(p.side, Side::Instructions);
        assert_eq!(p.columns.len(), 9);
        assert_eq!(p.columns[4].0, "provider", "in the contract's order");
        let e = Profile::parse_for(
            Side::Instructions,
            "NSNP",
            &body("", &columns.replace("due_date = \"Date\"\n", "")),
        )
        .unwrap_err();
        assert!(
            e.contains("[instructions.NSNP] columns has no due_date: every instruction"),
            "{e}"
        );
        let e = Profile::parse_for(
            Side::Instructions,
            "NSNP",
            &format!("{}[status]\n\"Paid\" = \"SETTLED\"\n", body("", columns)),
        )
        .unwrap_err();
        assert!(e.contains("an instruction has no status"), "{e}");
        let e = Profile::parse_for(
            Side::Instructions,
            "NSNP",
            &body("", &format!("{columns}status = \"S\"\n")),
        )
        .unwrap_err();
        assert!(e.contains("\"status\" is not an instruction column"), "{e}");
    }

    #[test]
    fn a_pattern_that_is_one_group_is_found_without_its_groups() {
        let whole = |pattern: &str| {
            let v = toml::Value::Table(toml::toml! { column = "P" pattern = "x" });
            let mut t = v.as_table().unwrap().clone();
            t.insert("pattern".into(), toml::Value::String(pattern.into()));
            match column_source("", "k", &toml::Value::Table(t)) {
                Ok(Some(Source::Pattern { whole, .. })) => whole,
                _ => panic!("{pattern}"),
            }
        };
        assert!(whole("(UZ-[A-Z]{2}-\\d{4})"));
        assert!(whole("(?i)(uz-\\d+)"));
        assert!(!whole("Пособие (.*) за"));
        assert!(!whole("(a)|(b)"));
        assert!(!whole("(a)(b)"));
    }
}
