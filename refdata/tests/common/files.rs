//! The settlement files of a generated data set read back as rows of CONTRACT.md section 1
//! columns, each with its file and row (sections 5 and 7): CSV and Parquet as they are,
//! provider files (camt.053, camt.054, pain.002, MT940) by section 7.3, either with the
//! readers the engine uses (`sverka-formats`) or with a small reading of this test's
//! own, written from the contract for the constructs the generator writes. Both must
//! give the same rows, and the control figures each file declares must hold.

use std::collections::HashMap;
use std::path::Path;

use quick_xml::events::Event;
use quick_xml::Reader as XmlReader;

/// One transaction of a settlement file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawRow {
    /// File name (no folder).
    pub file: String,
    pub row: u64,
    /// The file's `format` (CONTRACT 5).
    pub format: String,
    /// A CSV record with another number of fields than the header.
    pub malformed: bool,
    /// A section 7 reason the transaction is no settlement (`not_a_payment`, ...).
    pub rejection: Option<String>,
    /// provider, provider_ref, instruction_id, account, amount, fee, currency, status,
    /// value_date; empty = absent.
    pub cols: [String; 9],
}

/// Which reading of provider files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// This file's own reading of CONTRACT 7.3.
    Mini,
    /// `sverka-formats`, the engine's readers.
    Formats,
}

const COLUMNS: [&str; 9] = [
    "provider",
    "provider_ref",
    "instruction_id",
    "account",
    "amount",
    "fee",
    "currency",
    "status",
    "value_date",
];

/// Statement accounts of `providers.toml` (upper case, no spaces) -> provider.
fn statement_accounts(data: &Path) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let Ok(text) = std::fs::read_to_string(data.join("providers.toml")) else {
        return out;
    };
    let mut provider = String::new();
    for line in text.lines() {
        if let Some(p) = line.strip_prefix("[providers.") {
            provider = p.trim_end_matches(']').to_string();
        } else if let Some(list) = line.strip_prefix("statement_accounts = ") {
            for a in list.trim_matches(['[', ']']).split(',') {
                out.insert(norm_account(a.trim().trim_matches('"')), provider.clone());
            }
        }
    }
    out
}

fn norm_account(a: &str) -> String {
    a.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_uppercase()
}

/// Every settlement file of the data set, sorted by name, as rows; and every failed
/// control check (`file: what declared found`).
pub fn read_settlements(data: &Path, reading: Reading) -> (Vec<RawRow>, Vec<String>) {
    let dir = data.join("settlements");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let accounts = statement_accounts(data);
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for name in names {
        let path = dir.join(&name);
        if name.ends_with(".csv") {
            rows.extend(read_csv(&path, &name));
        } else if name.ends_with(".parquet") {
            rows.extend(read_parquet(&path, &name));
        } else {
            let (r, f) = match reading {
                Reading::Mini => mini_read(&path, &name),
                Reading::Formats => formats_read(&path, &name),
            };
            for mut row in r {
                row.cols[0] = accounts
                    .get(&norm_account(&row.cols[0]))
                    .unwrap_or_else(|| panic!("{name}: no provider states account {}", row.cols[0]))
                    .clone();
                rows.push(row);
            }
            failed.extend(f.into_iter().map(|f| format!("{name}: {f}")));
        }
    }
    (rows, failed)
}

fn read_csv(path: &Path, name: &str) -> Vec<RawRow> {
    let mut bytes = std::fs::read(path).unwrap();
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        bytes.drain(..3);
    }
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(&bytes[..]);
    let header = rdr.headers().unwrap().clone();
    let idx: Vec<usize> = COLUMNS
        .iter()
        .map(|c| header.iter().position(|h| h == *c).unwrap())
        .collect();
    rdr.records()
        .enumerate()
        .map(|(i, rec)| {
            let rec = rec.unwrap();
            let malformed = rec.len() != header.len();
            RawRow {
                file: name.to_string(),
                row: i as u64 + 1,
                format: "csv".into(),
                malformed,
                rejection: None,
                cols: std::array::from_fn(|k| {
                    if malformed {
                        String::new()
                    } else {
                        rec[idx[k]].to_string()
                    }
                }),
            }
        })
        .collect()
}

fn read_parquet(path: &Path, name: &str) -> Vec<RawRow> {
    let (names, rows) = super::read_rows(path);
    let idx: Vec<usize> = COLUMNS
        .iter()
        .map(|c| names.iter().position(|h| h == *c).unwrap())
        .collect();
    rows.into_iter()
        .enumerate()
        .map(|(i, r)| RawRow {
            file: name.to_string(),
            row: i as u64 + 1,
            format: "parquet".into(),
            malformed: false,
            rejection: None,
            cols: std::array::from_fn(|k| r[idx[k]].clone().unwrap_or_default()),
        })
        .collect()
}

// --- sverka-formats ---

fn formats_read(path: &Path, name: &str) -> (Vec<RawRow>, Vec<String>) {
    let mut f = std::fs::File::open(path).unwrap();
    let head: Vec<u8> = {
        let bytes = std::fs::read(path).unwrap();
        bytes[..bytes.len().min(sverka_formats::SNIFF_BYTES)].to_vec()
    };
    let kind = match sverka_formats::recognise(&head) {
        sverka_formats::Recognised::Provider(k) => k,
        other => panic!("{name}: not recognised as a provider file: {other:?}"),
    };
    let mut rows = Vec::new();
    let mut sink = |t: &sverka_formats::Txn, _: &[sverka_formats::Statement]| {
        rows.push(RawRow {
            file: name.to_string(),
            row: t.row,
            format: kind.as_str().to_string(),
            malformed: false,
            rejection: t.rejection.as_ref().map(|r| r.reason.as_str().to_string()),
            cols: [
                t.own_account.clone(),
                t.provider_ref.clone(),
                t.instruction_id.clone(),
                t.account.clone(),
                t.amount.clone(),
                t.fee.clone(),
                t.currency.clone(),
                t.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
                t.value_date.clone(),
            ],
        });
        Ok(())
    };
    let info =
        sverka_formats::read(kind, &mut f, &mut sink).unwrap_or_else(|e| panic!("{name}: {e}"));
    let failed = info
        .statements
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        .filter(|(_, c)| !c.ok)
        .map(|(s, c)| {
            format!(
                "{} {}: declared {}, found {}",
                s.id, c.what, c.declared, c.found
            )
        })
        .collect();
    (rows, failed)
}

// --- this test's own reading of CONTRACT 7.3 ---

/// An XML element with its text and children (test files are small).
#[derive(Default, Debug)]
struct Node {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
    children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    fn path(&self, p: &str) -> Option<&Node> {
        p.split('/').try_fold(self, |n, part| n.child(part))
    }

    fn text_at(&self, p: &str) -> Option<String> {
        self.path(p).map(|n| n.text.clone())
    }

    fn attr(&self, name: &str) -> String {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
}

fn parse_xml(text: &str) -> Node {
    let mut r = XmlReader::from_str(text);
    let mut stack = vec![Node::default()];
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) => stack.push(Node {
                name: String::from_utf8(e.local_name().as_ref().to_vec()).unwrap(),
                attrs: e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.local_name().as_ref().to_vec()).unwrap(),
                            a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect(),
                ..Node::default()
            }),
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Text(t) => stack
                .last_mut()
                .unwrap()
                .text
                .push_str(&t.decode().unwrap()),
            Event::GeneralRef(g) => {
                let c = match g.resolve_char_ref().unwrap() {
                    Some(c) => c.to_string(),
                    None => {
                        let name = g.decode().unwrap();
                        quick_xml::escape::resolve_predefined_entity(&name)
                            .unwrap()
                            .to_string()
                    }
                };
                stack.last_mut().unwrap().text.push_str(&c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    stack.pop().unwrap()
}

fn mini_read(path: &Path, name: &str) -> (Vec<RawRow>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    if text.starts_with(":20:") {
        return mini_mt940(&text, name);
    }
    let doc = parse_xml(&text);
    let doc = doc.child("Document").unwrap();
    if let Some(m) = doc.child("BkToCstmrStmt") {
        mini_camt(m, "Stmt", "camt.053", name)
    } else if let Some(m) = doc.child("BkToCstmrDbtCdtNtfctn") {
        mini_camt(m, "Ntfctn", "camt.054", name)
    } else if let Some(m) = doc.child("CstmrPmtStsRpt") {
        (mini_pain(m, name), Vec::new())
    } else {
        panic!("{name}: unknown message")
    }
}

fn absent(v: &str) -> bool {
    let v = v.trim();
    v.is_empty() || v.eq_ignore_ascii_case("NOTPROVIDED") || v.eq_ignore_ascii_case("NONREF")
}

fn account_of(n: Option<&Node>) -> Option<String> {
    let n = n?;
    n.text_at("Id/IBAN").or_else(|| n.text_at("Id/Othr/Id"))
}

/// Exact decimal text to minor units at scale 5 (control figures only; generated texts
/// of control figures are valid).
fn units(s: &str) -> i128 {
    let (i, f) = s.split_once('.').unwrap_or((s, ""));
    let f = format!("{f:0<5}");
    (i.to_string() + &f[..5]).parse().unwrap()
}

fn mini_camt(msg: &Node, element: &str, format: &str, name: &str) -> (Vec<RawRow>, Vec<String>) {
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    for st in msg.all(element) {
        let own = account_of(st.child("Acct")).unwrap();
        let (mut n, mut sum, mut nc, mut credits, mut nd, mut debits) = (0, 0, 0, 0, 0, 0);
        for (e, ntry) in st.all("Ntry").enumerate() {
            let amt = units(&ntry.text_at("Amt").unwrap());
            let credit = ntry.text_at("CdtDbtInd").unwrap() == "CRDT";
            n += 1;
            sum += amt;
            if credit {
                nc += 1;
                credits += amt;
            } else {
                nd += 1;
                debits += amt;
            }
            camt_entry(ntry, (&own, st, e + 1), (format, name), &mut rows);
        }
        let check =
            |failed: &mut Vec<String>, what: &str, declared: Option<String>, found: i128| {
                if let Some(d) = declared {
                    let d = if what.starts_with("Nb") {
                        d.parse::<i128>().unwrap()
                    } else {
                        units(&d)
                    };
                    if d != found {
                        failed.push(format!("{what}: declared {d}, found {found}"));
                    }
                }
            };
        let s = st.child("TxsSummry").unwrap();
        check(
            &mut failed,
            "NbOfNtries",
            s.text_at("TtlNtries/NbOfNtries"),
            n,
        );
        check(&mut failed, "Sum", s.text_at("TtlNtries/Sum"), sum);
        check(
            &mut failed,
            "NbOfCdt",
            s.text_at("TtlCdtNtries/NbOfNtries"),
            nc,
        );
        check(
            &mut failed,
            "SumCdt",
            s.text_at("TtlCdtNtries/Sum"),
            credits,
        );
        check(
            &mut failed,
            "NbOfDbt",
            s.text_at("TtlDbtNtries/NbOfNtries"),
            nd,
        );
        check(&mut failed, "SumDbt", s.text_at("TtlDbtNtries/Sum"), debits);
        let bal = |code: &str| {
            st.all("Bal")
                .find(|b| b.text_at("Tp/CdOrPrtry/Cd").as_deref() == Some(code))
                .map(|b| {
                    let v = units(&b.text_at("Amt").unwrap());
                    if b.text_at("CdtDbtInd").unwrap() == "DBIT" {
                        -v
                    } else {
                        v
                    }
                })
        };
        if let (Some(o), Some(c)) = (bal("OPBD"), bal("CLBD")) {
            if o + credits - debits != c {
                failed.push(format!("balance: {o} + {credits} - {debits} != {c}"));
            }
        }
    }
    (rows, failed)
}

/// The transactions of one camt entry (CONTRACT 7.3).
fn camt_entry(
    ntry: &Node,
    (own, st, e): (&str, &Node, usize),
    (format, name): (&str, &str),
    rows: &mut Vec<RawRow>,
) {
    let credit = ntry.text_at("CdtDbtInd").unwrap() == "CRDT";
    let txs: Vec<&Node> = ntry
        .child("NtryDtls")
        .map(|d| d.all("TxDtls").collect())
        .unwrap_or_default();
    let k_all = txs.len().max(1);
    let booked = ntry
        .text_at("Sts/Cd")
        .or_else(|| ntry.text_at("Sts"))
        .unwrap()
        == "BOOK";
    assert!(booked, "{name}: only booked entries are written");
    let value = ntry
        .text_at("ValDt/Dt")
        .or_else(|| ntry.text_at("BookgDt/Dt"))
        .unwrap_or_default();
    let entry_sub = ntry
        .text_at("BkTxCd/Domn/Fmly/SubFmlyCd")
        .unwrap_or_default();
    for k in 0..k_all {
        let tx = txs.get(k).copied();
        let sub = tx
            .and_then(|t| t.text_at("BkTxCd/Domn/Fmly/SubFmlyCd"))
            .unwrap_or(entry_sub.clone());
        let ret = tx.is_some_and(|t| t.child("RtrInf").is_some()) || sub == "RRTN";
        let fee_code = ["CHRG", "COMM", "FEES", "TAXE", "INTR"].contains(&sub.as_str());
        let (status, rejection) = match (credit, ret) {
            (false, false) if !fee_code => ("SETTLED", None),
            (true, true) => ("RETURNED", None),
            _ => ("", Some("not_a_payment".to_string())),
        };
        let e2e = tx.and_then(|t| {
            t.text_at("Refs/EndToEndId")
                .filter(|v| !absent(v))
                .or_else(|| t.text_at("Refs/InstrId").filter(|v| !absent(v)))
        });
        let reference = tx
            .and_then(|t| t.text_at("Refs/AcctSvcrRef"))
            .or_else(|| {
                ntry.text_at("AcctSvcrRef").map(|r| {
                    if k_all > 1 {
                        format!("{r}/{}", k + 1)
                    } else {
                        r
                    }
                })
            })
            .unwrap_or_else(|| format!("{}/{e}/{}", st.text_at("Id").unwrap(), k + 1));
        let parties = tx.and_then(|t| t.child("RltdPties"));
        let order = if credit {
            ["DbtrAcct", "CdtrAcct"]
        } else {
            ["CdtrAcct", "DbtrAcct"]
        };
        let account = order
            .iter()
            .filter_map(|a| account_of(parties.and_then(|p| p.child(a))))
            .find(|a| norm_account(a) != norm_account(own))
            .unwrap_or_default();
        let amt = tx
            .and_then(|t| t.path("AmtDtls/TxAmt/Amt").or_else(|| t.child("Amt")))
            .or(if k_all == 1 { ntry.child("Amt") } else { None });
        let fee = tx
            .and_then(|t| t.text_at("Chrgs/TtlChrgsAndTaxAmt"))
            .unwrap_or_default();
        rows.push(RawRow {
            file: name.to_string(),
            row: rows.len() as u64 + 1,
            format: format.to_string(),
            malformed: false,
            rejection,
            cols: [
                own.to_string(),
                reference,
                e2e.unwrap_or_default(),
                account,
                amt.map(|a| a.text.clone()).unwrap_or_default(),
                fee,
                amt.map(|a| a.attr("Ccy")).unwrap_or_default(),
                status.to_string(),
                value.clone(),
            ],
        });
    }
}

fn mini_pain(msg: &Node, name: &str) -> Vec<RawRow> {
    let mut rows = Vec::new();
    for pmt in msg.all("OrgnlPmtInfAndSts") {
        for tx in pmt.all("TxInfAndSts") {
            let sts = tx.text_at("TxSts").unwrap();
            let (status, rejection) = match sts.as_str() {
                "RJCT" => ("FAILED", None),
                "ACSC" | "ACCC" | "ACWC" => ("SETTLED", None),
                _ => ("", Some("not_final".to_string())),
            };
            let o = tx.child("OrgnlTxRef").unwrap();
            let amt = o.path("Amt/InstdAmt");
            let value = o
                .text_at("IntrBkSttlmDt")
                .or_else(|| o.text_at("ReqdExctnDt/Dt"))
                .unwrap();
            rows.push(RawRow {
                file: name.to_string(),
                row: rows.len() as u64 + 1,
                format: "pain.002".into(),
                malformed: false,
                rejection,
                cols: [
                    account_of(o.child("DbtrAcct")).unwrap(),
                    tx.text_at("StsId").unwrap(),
                    tx.text_at("OrgnlEndToEndId")
                        .filter(|v| !absent(v))
                        .unwrap_or_default(),
                    account_of(o.child("CdtrAcct")).unwrap_or_default(),
                    amt.map(|a| a.text.clone()).unwrap_or_default(),
                    String::new(),
                    amt.map(|a| a.attr("Ccy")).unwrap_or_default(),
                    status.to_string(),
                    value,
                ],
            });
        }
    }
    rows
}

/// MT940 amount `12,5` → `12.5`, `300,` → `300`.
fn mt_amount(a: &str) -> String {
    let (i, f) = a.split_once(',').unwrap();
    if f.is_empty() {
        i.to_string()
    } else {
        format!("{i}.{f}")
    }
}

/// Signed minor units at scale 5 of an MT940 amount.
fn mt_units(a: &str) -> i128 {
    units(&mt_amount(a))
}

/// A balance line `C261101UZS123,45`: signed amount and currency.
fn mt_balance(v: &str) -> (i128, String) {
    let sign = if v.starts_with('D') { -1 } else { 1 };
    (sign * mt_units(&v[10..]), v[7..10].to_string())
}

fn mini_mt940(text: &str, name: &str) -> (Vec<RawRow>, Vec<String>) {
    // Tags with their continuation lines.
    let mut tags: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(':') {
            if let Some((tag, v)) = rest.split_once(':') {
                tags.push((tag.to_string(), vec![v.to_string()]));
                continue;
            }
        }
        tags.last_mut().unwrap().1.push(line.to_string());
    }
    let mut rows = Vec::new();
    let mut failed = Vec::new();
    let (mut own, mut currency, mut balance) = (String::new(), String::new(), 0i128);
    let mut k = 0;
    while k < tags.len() {
        let (tag, lines) = &tags[k];
        match tag.as_str() {
            "25" => own = lines[0].clone(),
            "60F" => (balance, currency) = mt_balance(&lines[0]),
            "62F" => {
                let (closing, _) = mt_balance(&lines[0]);
                if closing != balance {
                    failed.push(format!(":62F: declared {closing}, found {balance}"));
                }
            }
            "61" => {
                let info = tags
                    .get(k + 1)
                    .filter(|(t, _)| t == "86")
                    .map(|(_, l)| l.concat())
                    .unwrap_or_default();
                let (row, signed) = mt_transaction(lines, &info, (&own, &currency), name);
                balance += signed;
                rows.push(RawRow {
                    row: rows.len() as u64 + 1,
                    ..row
                });
            }
            _ => {}
        }
        k += 1;
    }
    (rows, failed)
}

/// One `:61:` and its `:86:`: the row and its signed effect on the balance.
fn mt_transaction(
    lines: &[String],
    info: &str,
    (own, currency): (&str, &str),
    name: &str,
) -> (RawRow, i128) {
    let l = &lines[0];
    let date = &l[..6];
    let mut rest = &l[6..];
    if rest.as_bytes()[0].is_ascii_digit() {
        rest = &rest[4..];
    }
    let mark = if rest.starts_with("RD") || rest.starts_with("RC") {
        &rest[..2]
    } else {
        &rest[..1]
    };
    rest = &rest[mark.len()..];
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap();
    let amount = &rest[..end];
    rest = &rest[end + 4..];
    let (_cust, bank) = rest.split_once("//").unwrap();
    let german = info.len() >= 3 && info.as_bytes()[..3].iter().all(u8::is_ascii_digit);
    let (e2e, account, is_return) = if german {
        german_86(info)
    } else {
        dutch_86(info)
    };
    let supplementary = lines.get(1).cloned().unwrap_or_default();
    let account = if !account.is_empty() {
        account
    } else if iban_check_digits_hold(supplementary.trim()) {
        supplementary.trim().to_string()
    } else {
        String::new()
    };
    let (status, rejection) = match mark {
        "D" if !is_return => ("SETTLED", None),
        "RD" => ("RETURNED", None),
        "C" if is_return => ("RETURNED", None),
        _ => ("", Some("not_a_payment".to_string())),
    };
    let v = mt_units(amount);
    let signed = if matches!(mark, "C" | "RD") { v } else { -v };
    let value = mt_date(date);
    let row = RawRow {
        file: name.to_string(),
        row: 0,
        format: "mt940".into(),
        malformed: false,
        rejection,
        cols: [
            own.to_string(),
            bank.to_string(),
            e2e,
            account,
            mt_amount(amount),
            String::new(),
            currency.to_string(),
            status.to_string(),
            value,
        ],
    };
    (row, signed)
}

/// ISO 13616 check digits: the rearranged IBAN as a number is 1 modulo 97.
fn iban_check_digits_hold(s: &str) -> bool {
    if s.len() < 5 || !s.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let mut rem = 0u32;
    for c in s[4..].bytes().chain(s[..4].bytes()) {
        rem = if c.is_ascii_digit() {
            (rem * 10 + u32::from(c - b'0')) % 97
        } else {
            (rem * 100 + u32::from(c.to_ascii_uppercase() - b'A') + 10) % 97
        };
    }
    rem == 1
}

/// `YYMMDD` as `YYYY-MM-DD` when it is a real date (YY 00-79: 20YY), else as written
/// (section 2 then rejects it with the file's text).
fn mt_date(d: &str) -> String {
    let n = |r: std::ops::Range<usize>| d[r].parse::<u32>().unwrap();
    let (y, m, dd) = (n(0..2), n(2..4), n(4..6));
    let year = if y < 80 { 2000 + y } else { 1900 + y };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if (1..=12).contains(&m) && dd >= 1 && dd <= days[m as usize - 1] {
        format!("{year}-{:02}-{dd:02}", m)
    } else {
        d.to_string()
    }
}

/// German `:86:`: (end-to-end id, counterparty account, marks a return).
fn german_86(info: &str) -> (String, String, bool) {
    let gvc = &info[..3];
    let mut subs: Vec<(String, String)> = Vec::new();
    for part in info[3..].split('?').skip(1) {
        subs.push((part[..2].to_string(), part[2..].to_string()));
    }
    let mut e2e = String::new();
    let mut in_eref = false;
    for (code, v) in &subs {
        let n: u32 = code.parse().unwrap();
        if (20..=29).contains(&n) {
            if let Some(x) = v.strip_prefix("EREF+") {
                e2e = x.to_string();
                in_eref = true;
            } else if in_eref {
                let b = v.as_bytes();
                let keyword = b.len() >= 5
                    && b[..4].iter().all(u8::is_ascii_uppercase)
                    && (b[4] == b'+' || b[4] == b':');
                if keyword {
                    in_eref = false;
                } else {
                    e2e.push_str(v);
                }
            }
        } else {
            in_eref = false;
        }
    }
    let sub = |c: &str| subs.iter().find(|(k, _)| k == c).map(|(_, v)| v.clone());
    let e2e = if absent(&e2e) || e2e.trim() == "EREF+" {
        String::new()
    } else {
        e2e
    };
    let ret = gvc == "159" || sub("00").is_some_and(|t| t.starts_with("RETOURE"));
    (e2e, sub("31").unwrap_or_default(), ret)
}

/// Dutch `:86:`: (end-to-end id, counterparty account, marks a return).
fn dutch_86(info: &str) -> (String, String, bool) {
    let field = |code: &str| -> Option<String> {
        let at = info.find(&format!("/{code}/"))?;
        let rest = &info[at + code.len() + 2..];
        Some(rest.split('/').next().unwrap_or("").to_string())
    };
    let e2e = field("EREF").filter(|v| !absent(v)).unwrap_or_default();
    let account = field("CNTP").unwrap_or_default();
    (e2e, account, info.contains("/RTRN/"))
}
