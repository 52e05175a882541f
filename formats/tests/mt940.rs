//! MT940/MT942 reader against CONTRACT 7.1, 7.3 and 7.5: hand-written golden files for
//! every mapping rule and reject reason, real files of eleven banks' statements (see
//! testdata/formats/PROVENANCE.md) with their rows written by hand from the file and the
//! contract, control totals, hostile input and a mutation test.

use std::io::Cursor;
use std::path::PathBuf;

use sverka_formats::decimal::Dec;
use sverka_formats::{
    Check, FileInfo, FormatError, Kind, NotSettlement, Recognised, Rejection, Statement, Status,
    Txn, SNIFF_BYTES,
};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/formats/mt940")
}

fn data(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn read_bytes(bytes: &[u8]) -> Result<(Vec<Txn>, FileInfo), FormatError> {
    let mut txns = Vec::new();
    let mut source = Cursor::new(bytes);
    let info = sverka_formats::read(
        Kind::Mt940,
        &mut source,
        &mut |t: &Txn, statements: &[Statement]| {
            // The statement's header is known by the time its transactions arrive.
            let s = &statements[t.statement];
            assert_eq!(s.account, t.own_account, "row {}", t.row);
            txns.push(t.clone());
            Ok(())
        },
    )?;
    Ok((txns, info))
}

/// Reads a test file, which must be recognised as MT940 by its first bytes.
fn read_file(name: &str) -> (Vec<Txn>, FileInfo) {
    let bytes = data(name);
    let head = &bytes[..bytes.len().min(SNIFF_BYTES)];
    assert_eq!(
        sverka_formats::recognise(head),
        Recognised::Provider(Kind::Mt940),
        "{name}"
    );
    let (txns, info) = read_bytes(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(info.kind, Some(Kind::Mt940));
    assert_eq!(info.transactions, txns.len() as u64);
    let per_statement: u64 = info.statements.iter().map(|s| s.transactions).sum();
    assert_eq!(per_statement, info.transactions, "{name}");
    (txns, info)
}

/// One expected transaction, written from the file and CONTRACT 7.3:
/// `row statement | instruction_id | provider_ref | account | amount [<as written>] |
/// currency | outcome | value_date [<as written>]`, where outcome is a status or
/// `reason column value`.
fn txn(own_account: &str, spec: &str) -> Txn {
    let f: Vec<&str> = spec.split('|').map(str::trim).collect();
    assert_eq!(f.len(), 8, "{spec}");
    let (row, statement) = f[0].split_once(' ').expect("row and statement");
    let with_original = |s: &str| match s.split_once(" <") {
        Some((v, o)) => (v.to_string(), Some(o.trim_end_matches('>').to_string())),
        None => (s.to_string(), None),
    };
    let (amount, amount_original) = with_original(f[4]);
    let (value_date, value_date_original) = with_original(f[7]);
    let (status, rejection) = match f[6] {
        "SETTLED" => (Some(Status::Settled), None),
        "RETURNED" => (Some(Status::Returned), None),
        "FAILED" => (Some(Status::Failed), None),
        other => {
            let mut p = other.splitn(3, ' ');
            let reason = match p.next() {
                Some("not_a_payment") => NotSettlement::NotAPayment,
                Some("batch_without_details") => NotSettlement::BatchWithoutDetails,
                r => panic!("reason {r:?}"),
            };
            let column = match p.next() {
                Some("status") => "status",
                Some("amount") => "amount",
                c => panic!("column {c:?}"),
            };
            let value = p.next().unwrap_or("").to_string();
            (
                None,
                Some(Rejection {
                    reason,
                    column,
                    value,
                }),
            )
        }
    };
    Txn {
        row: row.parse().expect("row"),
        statement: statement.parse().expect("statement"),
        own_account: own_account.to_string(),
        instruction_id: f[1].to_string(),
        provider_ref: f[2].to_string(),
        account: f[3].to_string(),
        amount,
        fee: String::new(),
        currency: f[5].to_string(),
        status,
        value_date,
        amount_original,
        value_date_original,
        rejection,
    }
}

fn rows(own_account: &str, specs: &[&str]) -> Vec<Txn> {
    specs.iter().map(|s| txn(own_account, s)).collect()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn same_rows(got: &[Txn], want: &[Txn]) {
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g, w, "row {}", w.row);
    }
    assert_eq!(got.len(), want.len());
}

fn check(what: &str, declared: &str, found: &str, ok: bool) -> Check {
    Check {
        what: what.into(),
        declared: declared.into(),
        found: found.into(),
        ok,
    }
}

/// The balance check and the currency check of an MT940 statement.
fn balance(open: &str, close: &str, declared: &str, found: &str, ccy: &str) -> Vec<Check> {
    vec![
        check(
            &format!("{open} + :61: = {close}"),
            declared,
            found,
            match (Dec::parse(declared), Dec::parse(found)) {
                (Some(d), Some(f)) => d.eq_value(f),
                _ => false,
            },
        ),
        check(&format!("currency {open} = {close}"), ccy, ccy, true),
    ]
}

fn ids(info: &FileInfo) -> Vec<(&str, &str, &str, &str, u64)> {
    info.statements
        .iter()
        .map(|s| {
            (
                s.id.as_str(),
                s.account.as_str(),
                s.from.as_str(),
                s.to.as_str(),
                s.entries,
            )
        })
        .collect()
}

// ---------------------------------------------------------------- golden rules

#[test]
fn status_by_mark_and_return_markers() {
    let (got, info) = read_file("rules-status.sta");
    let own = "DE89370400440532013000";
    let want = rows(
        own,
        &[
            // D → SETTLED; the customer reference is the instruction id.
            "1 0 | INS-1 | BANK1 | | 300 <300,> | EUR | SETTLED | 2026-11-02 <261102>",
            // D with /RTRN/ (a direct debit taken back) → not_a_payment.
            "2 0 | E2E-2 | BANK2 | | 12.5 <12,5> | EUR | not_a_payment status D | 2026-11-03 <261103>",
            // D with type NDDT → not_a_payment, value mark and GVC.
            "3 0 | E2E-3 | BANK3 | DE02120300000000202051 | 8 <8,> | EUR | not_a_payment status D 105 | 2026-11-03 <261103>",
            // RD → RETURNED.
            "4 0 | INS-4 | BANK4 | | 50.00 <50,00> | EUR | RETURNED | 2026-11-04 <261104>",
            // C with GVC 159 → RETURNED; ?31 wrapped over two lines.
            "5 0 | E2E-5 | BANK5 | DE02120300000000202051 | 75 <75,> | EUR | RETURNED | 2026-11-04 <261104>",
            // C with ?00 RETOURE → RETURNED.
            "6 0 | E2E-6 | BANK6 | | 20 <20,> | EUR | RETURNED | 2026-11-04 <261104>",
            // Any other C → not_a_payment with its GVC.
            "7 0 | E2E-7 | BANK7 | | 30 <30,> | EUR | not_a_payment status C 166 | 2026-11-05 <261105>",
            // RC → not_a_payment; NONREF is absent.
            "8 0 | | BANK8 | | 10 <10,> | EUR | not_a_payment status RC | 2026-11-05 <261105>",
            "9 0 | | BANK9 | | 40 <40,> | EUR | not_a_payment status C | 2026-11-05 <261105>",
            // C with /RTRN/ → RETURNED; account from /CNTP/.
            "10 0 | E2E-10 | BANK10 | NL91ABNA0417164300 | 60 <60,> | EUR | RETURNED | 2026-11-05 <261105>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        ids(&info),
        [("STATUS 1/1", own, "2026-11-01", "2026-11-05", 10)]
    );
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "944.50", "944.50", "EUR")
    );
    assert_eq!(info.version, "MT940");
}

#[test]
fn batch_markers_reject_the_amount_as_written() {
    let (got, info) = read_file("rules-batch.sta");
    let own = "NL91ABNA0417164300";
    let want = rows(
        own,
        &[
            // GVC 191; `KREF+` alone is absent.
            "1 0 | | B191 | | 1500.00 <1500,00> | EUR | batch_without_details amount 1500,00 | 2026-11-02 <261102>",
            // ?00 SAMMLER; no bank reference: account/opening date/:28C:/position.
            "2 0 | | NL91ABNA0417164300/2026-11-01/7/2/2 | | 2500 <2500,> | EUR | batch_without_details amount 2500, | 2026-11-02 <261102>",
            // /PREF/; `PREF` as customer reference is absent.
            "3 0 | | NL91ABNA0417164300/2026-11-01/7/2/3 | | 990 <990,> | EUR | batch_without_details amount 990, | 2026-11-02 <261102>",
            // A batch marker wins over the mark.
            "4 0 | | B4 | | 5 <5,> | EUR | batch_without_details amount 5, | 2026-11-02 <261102>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "5015", "5015.00", "EUR")
    );
}

#[test]
fn references_and_accounts() {
    let (got, info) = read_file("rules-references.sta");
    let own = "DE89370400440532013000";
    let want = rows(
        own,
        &[
            // EREF+ continues into ?21; ?31 as written (spaces and all).
            "1 0 | PAYROLL-2026-11-000123 | REF-A | DE89 3704 0044 0532 0130 00 | 100 <100,> | EUR | SETTLED | 2026-11-02 <261102>",
            // ... but not into a keyword subfield; a repeated bank reference gets #2.
            "2 0 | E2E-B | REF-A#2 | | 2 <2,> | EUR | SETTLED | 2026-11-02 <261102>",
            // At most 35 characters.
            "3 0 | ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678 | REF-A#3 | | 3 <3,> | EUR | SETTLED | 2026-11-02 <261102>",
            // EREF+NOTPROVIDED is absent: the customer reference; bank NONREF: A/D/N/n.
            "4 0 | CUST-4 | DE89370400440532013000/2026-11-01/3/4 | | 4 <4,> | EUR | SETTLED | 2026-11-02 <261102>",
            // Dutch /EREF/ and /IBAN/.
            "5 0 | E2E-5 | B5 | NL91ABNA0417164300 | 5 <5,> | EUR | SETTLED | 2026-11-02 <261102>",
            // Supplementary details that are a valid IBAN …
            "6 0 | | B6 | GB82WEST12345698765432 | 6 <6,> | EUR | SETTLED | 2026-11-02 <261102>",
            // … and one with wrong check digits; NOTPROVIDED is absent.
            "7 0 | | B7 | | 7 <7,> | EUR | SETTLED | 2026-11-02 <261102>",
            // /EREF/ split over two lines, joined without a separator.
            "8 0 | E2E-8 | B8 | NL91ABNA0417164300 | 8 <8,> | EUR | SETTLED | 2026-11-02 <261102>",
            // A bare EREF+ is absent.
            "9 0 | CUST-9 | B9 | | 9 <9,> | EUR | SETTLED | 2026-11-02 <261102>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "-244", "-244", "EUR")
    );
}

#[test]
fn dates_and_amounts() {
    let (got, info) = read_file("rules-dates-amounts.sta");
    let own = "GB82WEST12345698765432";
    let want = rows(
        own,
        &[
            // An impossible date stays as written (section 2 rejects it as invalid_date).
            "1 0 | A1 | D1 | | 000000000025.00 <000000000025,00> | GBP | SETTLED | 261332 <261332>",
            // No comma: as written; YY 80-99 → 19YY.
            "2 0 | A2 | D2 | | 1500 | GBP | SETTLED | 1999-12-31 <991231>",
            "3 0 | A3 | D3 | | 0.01 <0,01> | GBP | SETTLED | 1980-01-01 <800101>",
            // Funds code R; YY 00-79 → 20YY.
            "4 0 | A4 | D4 | | 77.7 <77,7> | GBP | SETTLED | 2079-01-01 <790101>",
            "5 0 | A5 | D5 | | 1 <1,> | GBP | SETTLED | 2000-02-29 <000229>",
            "6 0 | A6 | D6 | | 2 <2,> | GBP | SETTLED | 250229 <250229>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "-1605.71", "-1605.71", "GBP")
    );
}

#[test]
fn a_file_not_utf8_is_read_as_latin1() {
    let (got, info) = read_file("latin1.sta");
    let own = "DE89370400440532013000";
    let want = rows(
        own,
        &[
            "1 0 | M\u{dc}LLER-KD | B1 | | 10 <10,> | EUR | SETTLED | 2026-11-02 <261102>",
            "2 0 | GR\u{d6}SSE-\u{c4}NDERUNG | B2 | DE02120300000000202051 | 20 <20,> | EUR | SETTLED | 2026-11-02 <261102>",
        ],
    );
    same_rows(&got, &want);
    assert!(info.statements[0].checks.iter().all(|c| c.ok));
}

/// The decision is for the whole file: UTF-8 `é` at the start is read as `Ã©` when a
/// byte far beyond the first chunk is not UTF-8.
#[test]
fn the_encoding_is_decided_for_the_whole_file() {
    let mut text = String::from(":20:X\n:25:A\n:60F:C261101EUR0,\n:61:261102D1,NTRF\u{e9}1//B1\n");
    while text.len() < 600_000 {
        text.push_str(":86:");
        text.push_str(&"x".repeat(60));
        text.push('\n');
    }
    let utf8 = read_bytes(text.as_bytes()).unwrap().0;
    assert_eq!(utf8[0].instruction_id, "\u{e9}1");
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b":86:\xe9\n:62F:D261102EUR1,\n");
    let latin1 = read_bytes(&bytes).unwrap().0;
    assert_eq!(latin1[0].instruction_id, "\u{c3}\u{a9}1");
}

#[test]
fn envelope_preamble_and_line_endings() {
    let (got, info) = read_file("envelope-preamble-endings.sta");
    let own = "NL91ABNA0417164300EUR";
    let want = rows(
        own,
        &[
            // Second line /TRCD/ (not an IBAN); a :86: line starting `-2014` is text.
            "1 0 | E2E-ENV-1 | E1 | NL91ABNA0417164300 | 10.00 <10,00> | EUR | SETTLED | 2026-11-02 <261102>",
            // A :NS: between :61: and :86: leaves the :86: to its :61:.
            "2 0 | E2E-ENV-2 | E2 | | 20.00 <20,00> | EUR | SETTLED | 2026-11-02 <261102>",
            // After `-}{1:…}{4:` on one line, lone CR line ends.
            "3 1 | | E3 | | 5 <5,> | EUR | SETTLED | 2026-11-03 <261103>",
            // After `-}{5:…}` and preamble lines again.
            "4 2 | E2E-ENV-4 | E4 | | 15 <15,> | EUR | SETTLED | 2026-11-04 <261104>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        ids(&info),
        [
            ("ENV-1 1", own, "2026-11-01", "2026-11-02", 2),
            ("ENV-2 2", own, "2026-11-02", "2026-11-03", 1),
            ("ENV-3 3", own, "2026-11-03", "2026-11-04", 1),
        ]
    );
    assert!(info.statements.iter().flat_map(|s| &s.checks).all(|c| c.ok));
}

// ---------------------------------------------------------------- control totals

#[test]
fn control_totals_of_mt940() {
    let (got, info) = read_file("control.sta");
    let own = "NL91ABNA0417164300";
    let want = rows(
        own,
        &[
            "1 0 | | C1 | | 30 <30,> | EUR | SETTLED | 2026-11-02 <261102>",
            "2 0 | | C2 | | 5.5 <5,5> | EUR | not_a_payment status C | 2026-11-02 <261102>",
            "3 1 | | C3 | | 10 <10,> | EUR | SETTLED | 2026-11-03 <261103>",
            "4 2 | | C4 | | 1 <1,> | EUR | not_a_payment status RC | 2026-11-04 <261104>",
            "5 2 | | C5 | | 2 <2,> | EUR | RETURNED | 2026-11-04 <261104>",
            "6 4 | | C6 | | 20 <20,> | EUR | SETTLED | 2026-11-05 <261105>",
        ],
    );
    same_rows(&got, &want);
    let checks: Vec<Vec<Check>> = info.statements.iter().map(|s| s.checks.clone()).collect();
    assert_eq!(
        checks,
        [
            balance(":60F:", ":62F:", "75.5", "75.50", "EUR"),
            vec![
                check(":60F: + :61: = :62F:", "66.50", "65.50", false),
                check("currency :60F: = :62F:", "EUR", "EUR", true),
            ],
            // RC subtracts, RD adds; debit balances are negative.
            balance(":60M:", ":62M:", "-9", "-9", "EUR"),
            vec![
                check(":60F: + :61: = :62F:", "0", "0", true),
                check("currency :60F: = :62F:", "USD", "EUR", false),
            ],
            // No closing balance: the file may be truncated.
            vec![check(
                ":60F: + :61: = :62F:",
                "no closing balance",
                "30",
                false
            )],
        ]
    );
}

#[test]
fn control_totals_of_mt942() {
    let (got, info) = read_file("mt942.sta");
    let own = "DE89370400440532013000";
    let want = rows(
        own,
        &[
            "1 0 | | I1 | | 100 <100,> | EUR | SETTLED | 2026-11-02 <261102>",
            "2 0 | | I2 | | 7 <7,> | EUR | not_a_payment status C | 2026-11-02 <261102>",
            "3 0 | | I3 | | 3 <3,> | EUR | RETURNED | 2026-11-02 <261102>",
            "4 0 | | I4 | | 0.5 <0,5> | EUR | SETTLED | 2026-11-02 <261102>",
            "5 1 | | I5 | | 4 <4,> | EUR | not_a_payment status RC | 2026-11-02 <261102>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(info.version, "MT942");
    assert_eq!(
        info.statements[0].checks,
        [
            check(":90D: number of entries (D, RC)", "2", "2", true),
            check(":90D: sum of entries (D, RC)", "100.50", "100.5", true),
            check("currency :34F: = :90D:", "EUR", "EUR", true),
            check(":90C: number of entries (C, RD)", "2", "2", true),
            check(":90C: sum of entries (C, RD)", "10", "10", true),
            check("currency :34F: = :90C:", "EUR", "EUR", true),
        ]
    );
    assert_eq!(
        info.statements[1].checks,
        [
            check(":90D: number of entries (D, RC)", "2", "1", false),
            check(":90D: sum of entries (D, RC)", "4", "4", true),
            check("currency :34F: = :90D:", "USD", "EUR", false),
            check(":90C: number of entries (C, RD)", "0", "0", true),
            check(":90C: sum of entries (C, RD)", "0", "0", true),
            check("currency :34F: = :90C:", "EUR", "EUR", true),
        ]
    );
}

// ---------------------------------------------------------------- real files

#[test]
fn real_abnamro() {
    let (got, info) = read_file("real-abnamro.sta");
    let own = "517852257";
    let want = rows(
        own,
        &[
            "1 0 | | 517852257/2011-05-22/19321/1/1 | | 9 <9,> | EUR | SETTLED | 2011-05-24 <110524>",
            "2 0 | | 517852257/2011-05-22/19321/1/2 | | 11.59 <11,59> | EUR | SETTLED | 2011-05-21 <110521>",
            "3 0 | | 517852257/2011-05-22/19321/1/3 | | 11.63 <11,63> | EUR | SETTLED | 2011-05-23 <110523>",
            "4 0 | | 517852257/2011-05-22/19321/1/4 | | 11.8 <11,8> | EUR | SETTLED | 2011-05-22 <110522>",
            "5 0 | | 517852257/2011-05-22/19321/1/5 | | 13.45 <13,45> | EUR | SETTLED | 2011-05-21 <110521>",
            "6 0 | | 517852257/2011-05-22/19321/1/6 | | 15.49 <15,49> | EUR | SETTLED | 2011-05-21 <110521>",
            "7 0 | | 517852257/2011-05-22/19321/1/7 | | 107 <107,> | EUR | SETTLED | 2011-05-21 <110521>",
            "8 0 | | 517852257/2011-05-22/19321/1/8 | | 141.48 <141,48> | EUR | SETTLED | 2011-05-22 <110522>",
            "9 1 | | 517852257/2011-05-23/19322/1/1 | | 9.49 <9,49> | EUR | SETTLED | 2011-05-24 <110524>",
            "10 1 | | 517852257/2011-05-23/19322/1/2 | | 15 <15,> | EUR | SETTLED | 2011-05-24 <110524>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        ids(&info),
        [
            (
                "ABN AMRO BANK NV 19321/1",
                own,
                "2011-05-22",
                "2011-05-23",
                8
            ),
            (
                "ABN AMRO BANK NV 19322/1",
                own,
                "2011-05-23",
                "2011-05-24",
                2
            ),
        ]
    );
    // The published sample's balances do not add up (anonymised amounts).
    assert_eq!(
        info.statements[0].checks[0],
        check(":60F: + :61: = :62F:", "876.84", "2914.84", false)
    );
    assert_eq!(
        info.statements[1].checks[0],
        check(":60M: + :61: = :62M:", "1849.75", "2852.35", false)
    );
}

#[test]
fn real_sparkasse_sepa_snippet() {
    let (got, info) = read_file("real-sparkasse-sepa-snippet.sta");
    let mut want = rows(
        "50880050/0194787400888",
        &[
            "1 0 | EndToEndId TFNR 22 004 00001 | 0724710333343453 | DE14508800500194785000 | 50990.05 <50990,05> | EUR | not_a_payment status C 166 | 2007-09-07 <070907>",
            "2 0 | TFNR 0300300004 | 0724710324647450 | DE03508800500194791600 | 154551.93 <154551,93> | EUR | not_a_payment status C 166 | 2007-09-07 <070907>",
            "3 0 | TFNR 0500500004 | 0724710324661090 | DE14508800500194785000 | 154551.93 <154551,93> | EUR | not_a_payment status C 166 | 2007-09-07 <070907>",
            "4 0 | | 536D80EFEC56ACF8 | | 1500.00 <1500,00> | EUR | batch_without_details amount 1500,00 | 2007-09-04 <070904>",
        ],
    );
    want.extend(rows(
        "50880050/0194791600888",
        &[
            // D marking a return → not_a_payment.
            "5 1 | TFNR 40001 00005 | 0724710345316116 | | 0.08 <0,08> | EUR | not_a_payment status D 159 | 2007-09-04 <070904>",
            "6 1 | TFNR 44001 00001 | 0724710351063401 | | 335.33 <335,33> | EUR | RETURNED | 2007-09-04 <070904>",
            "7 1 | TFNR 40001 00002 | 0724710345316110 | | 15000 <15000,> | EUR | RETURNED | 2007-09-04 <070904>",
            "8 1 | EndToEndIdTFNR2000100001 | 0724710290659857 | DE42100100100043921105 | 15000.05 <15000,05> | EUR | not_a_payment status C 166 | 2007-09-04 <070904>",
            "9 1 | | 0724710290624796 | DE42100100100043921105 | 125004.88 <125004,88> | EUR | not_a_payment status C 166 | 2007-09-04 <070904>",
            "10 1 | TFNR 44001 00002 | R724710351063405 | | 915311.55 <915311,55> | EUR | RETURNED | 2007-09-04 <070904>",
            "11 1 | | 50880050/0194791600888/2007-09-03/00004/00001/7 | | 3572569.03 <3572569,03> | EUR | batch_without_details amount 3572569,03 | 2007-09-04 <070904>",
        ],
    ));
    same_rows(&got, &want);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "1125250.4", "1125250.40", "EUR")
    );
    // The snippet was edited (row 5 is `DR0,08` where the full file has `CR300,`).
    assert_eq!(
        info.statements[1].checks[0],
        check(":60F: + :61: = :62F:", "-4472049.09", "-4472349.17", false)
    );
}

#[test]
fn real_sparkasse_full_file_selection_counts_and_sums() {
    let (got, info) = read_file("real-sparkasse-sepa-mt9401.sta");
    let s0 = "50880050/0194774600888/2007-09-03/00004/00001";
    let mut want = rows(
        "50880050/0194774600888",
        &[
            "1 0 | TFNR 40005 00005 | 0724710345313905 | | 300 <300,> | EUR | RETURNED | 2007-09-04 <070904>",
            "2 0 | TFNR 44003 00001 | 0724710351061491 | | 335.33 <335,33> | EUR | RETURNED | 2007-09-04 <070904>",
            "3 0 | TFNR 40005 00002 | 0724710345313900 | | 15000 <15000,> | EUR | RETURNED | 2007-09-04 <070904>",
            &format!("4 0 | | {s0}/4 | | 66295.08 <66295,08> | EUR | batch_without_details amount 66295,08 | 2007-09-04 <070904>"),
            "5 0 | TFNR 44003 00002 | R724710351061495 | | 915311.55 <915311,55> | EUR | RETURNED | 2007-09-04 <070904>",
            // RC with funds code R, `?00SAMMLER/STORNO`.
            &format!("6 0 | | {s0}/6 | | 204.88 <204,88> | EUR | batch_without_details amount 204,88 | 2007-09-04 <070904>"),
            &format!("7 0 | | {s0}/7 | | 999946.95 <999946,95> | EUR | batch_without_details amount 999946,95 | 2007-09-04 <070904>"),
        ],
    );
    want.extend(rows(
        "50880050/0194777100888",
        &[
            "8 1 | EndToEndIdTFNR2000400001 | 0724710290621954 | DE42100100100043921105 | 15000.05 <15000,05> | EUR | not_a_payment status C 166 | 2007-09-04 <070904>",
            "9 1 | | BD7CFA74485E7E69 | | 500250 <500250,> | EUR | batch_without_details amount 500250, | 2007-09-04 <070904>",
        ],
    ));
    same_rows(&got[..9], &want);
    assert_eq!(got.len(), 97);
    assert_eq!(info.statements.len(), 26);
    // Every statement's balances add up in this file (continued statements too).
    assert!(info.statements.iter().all(|s| s.checks.len() == 2));
    assert!(info.statements.iter().flat_map(|s| &s.checks).all(|c| c.ok));
    assert_eq!(
        info.statements[7].checks[0].what, ":60M: + :61: = :62F:",
        "T089414006000002 continues T089414006000001"
    );
    let count = |f: &dyn Fn(&Txn) -> bool| got.iter().filter(|t| f(t)).count();
    assert_eq!(count(&|t| t.status == Some(Status::Settled)), 29);
    assert_eq!(count(&|t| t.status == Some(Status::Returned)), 17);
    let reason =
        |r: NotSettlement| move |t: &Txn| t.rejection.as_ref().map(|x| x.reason) == Some(r);
    assert_eq!(count(&reason(NotSettlement::BatchWithoutDetails)), 28);
    assert_eq!(count(&reason(NotSettlement::NotAPayment)), 23);
    assert_eq!(
        count(&|t| t.rejection.as_ref().is_some_and(|r| r.value == "RC 116")),
        1
    );
}

#[test]
fn real_ing_structured_return_and_batch() {
    let (got, info) = read_file("real-ing-ibp-structured.sta");
    let want = rows(
        "0654321789",
        &[
            // /RTRN/ on a D: a direct debit taken back.
            "1 0 | EV45451REP170112T1106 | 0654321789/2012-01-27/21/1 | | 1.45 <1,45> | EUR | not_a_payment status D | 2012-01-30 <120130>",
            // `/ERE` + `F/…` joined across lines.
            "2 0 | EV1551551REP180112T1544 | 0654321789/2012-01-27/21/2 | | 2.56 <2,56> | EUR | SETTLED | 2012-01-30 <120130>",
            "3 0 | | 0654321789/2012-01-27/21/3 | | 2.57 <2,57> | EUR | batch_without_details amount 2,57 | 2012-01-30 <120130>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        ids(&info),
        [("ING 21", "0654321789", "2012-01-27", "2012-01-30", 3)]
    );
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "19.52", "19.52", "EUR")
    );
}

#[test]
fn real_ing_two_fin_messages_reuse_a_reference() {
    let (got, info) = read_file("real-ing-ming-multiple-messages.sta");
    let want = rows(
        "NL20INGB0001234567EUR",
        &[
            "1 0 | E2E2014030100899040 | 00000000000001 | NL08INGB0000001234 | 15.00 <15,00> | EUR | SETTLED | 2014-01-03 <140103>",
            "2 1 | E2E2014030100899040 | 00000000000001#2 | NL08INGB0000001234 | 15.00 <15,00> | EUR | SETTLED | 2014-01-03 <140103>",
        ],
    );
    same_rows(&got, &want);
    let own = "NL20INGB0001234567EUR";
    assert_eq!(
        ids(&info),
        [
            ("P140104000009999 3", own, "2014-01-02", "2014-01-03", 1),
            ("P140104000009999 4", own, "2014-01-02", "2014-01-03", 1),
        ]
    );
    for s in &info.statements {
        assert_eq!(
            s.checks[0],
            check(":60F: + :61: = :62F:", "4882.15", "985.00", false)
        );
    }
}

#[test]
fn real_ing_iban_statement() {
    let (got, info) = read_file("real-ing-mt940-iban.sta");
    let own = "NL68INGB0000012345EUR";
    let want = rows(
        own,
        &[
            "1 0 | | 14237654096217 | NL57ABNA0876543211 | 192.36 <192,36> | EUR | SETTLED | 2014-08-25 <140825>",
            "3 0 | | 14237653554593 | NL57ABNA0876543211 | 20.00 <20,00> | EUR | not_a_payment status C | 2014-08-25 <140825>",
            "8 0 | | 14237649141335 | 0007654332 | 100.00 <100,00> | EUR | not_a_payment status C | 2014-08-25 <140825>",
            "9 0 | 02164810730000043 | 12345678909876 | NL75INGB0000012345 | 73.62 <73,62> | EUR | not_a_payment status D | 2014-08-25 <140825>",
            "10 0 | | 14233000355610 | | 20.00 <20,00> | EUR | SETTLED | 2014-08-22 <140822>",
            "12 0 | 1850426746401070 | 14232632703135 | NL86INGB0002445588 | 5241.00 <5241,00> | EUR | SETTLED | 2014-08-20 <140820>",
            "17 0 | | 14232632616815 | 0007654332 | 3000.00 <3000,00> | EUR | SETTLED | 2014-08-20 <140820>",
            "19 0 | | 14230622959923 | NL50RABO0222222222 | 14520.00 <14520,00> | EUR | not_a_payment status C | 2014-08-18 <140818>",
            "21 0 | | 14230621014831 | NL57ABNA0876543211 | 16.70 <16,70> | EUR | SETTLED | 2014-08-18 <140818>",
        ],
    );
    for w in &want {
        assert_eq!(&got[w.row as usize - 1], w, "row {}", w.row);
    }
    assert_eq!(got.len(), 21);
    let settled: Vec<&Txn> = got
        .iter()
        .filter(|t| t.status == Some(Status::Settled))
        .collect();
    assert_eq!(settled.len(), 17);
    // The file's own `:86:/SUM/18/3/14830,45/…`: 18 debits, less the NDDT one.
    let cents: i64 = settled
        .iter()
        .map(|t| t.amount.replace('.', "").parse::<i64>().unwrap())
        .sum();
    assert_eq!(cents, 1_475_683);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "246.45", "246.45", "EUR")
    );
}

#[test]
fn real_raiffeisen_latin1_funds_code_and_no_reference() {
    let (got, info) = read_file("real-raiffeisen-latin1.sta");
    let own = "UBRTHUHB/123456789150ABCDEF002/HUF";
    let p = "UBRTHUHB/123456789150ABCDEF002/HUF/2018-04-17/0072";
    let specs = [
        format!("1 0 | | {p}/1 | | 2066637.00 <2066637,00> | HUF | not_a_payment status C | 2018-04-17 <180417>"),
        format!("2 0 | | {p}/2 | | 14790.00 <14790,00> | HUF | SETTLED | 2018-04-17 <180417>"),
        format!("3 0 | | {p}/3 | | 3051800.00 <3051800,00> | HUF | SETTLED | 2018-04-17 <180417>"),
        format!("4 0 | | {p}/4 | | 3892.77 <3892,77> | HUF | SETTLED | 2018-04-17 <180417>"),
        format!("5 0 | | {p}/5 | | 789.24 <789,24> | HUF | SETTLED | 2018-04-17 <180417>"),
        format!("6 0 | | {p}/6 | | 1578.49 <1578,49> | HUF | SETTLED | 2018-04-17 <180417>"),
        format!("7 0 | | {p}/7 | | 6000.00 <6000,00> | HUF | SETTLED | 2018-04-17 <180417>"),
    ];
    same_rows(&got, &rows(own, &strs(&specs)));
    assert_eq!(
        ids(&info),
        [("STARTUMS 0072", own, "2018-04-17", "2018-04-17", 7)]
    );
    assert_eq!(
        info.statements[0].checks[0],
        check(":60F: + :61: = :62F:", "25281687.60", "24158423.60", false)
    );
}

#[test]
fn real_mbank_mt942() {
    let (got, info) = read_file("real-mbank-mt942.sta");
    let own = "PL29114010810000267002001002";
    let want = rows(
        own,
        &[
            "1 0 | | MB170119012058 | | 0.01 <0,01> | PLN | not_a_payment status C | 2017-01-19 <170119>",
            "2 0 | | MB170119012085 | | 0.01 <0,01> | PLN | not_a_payment status C | 2017-01-19 <170119>",
            "3 0 | | MB170119012121 | | 0.01 <0,01> | PLN | not_a_payment status C | 2017-01-19 <170119>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(info.version, "MT942");
    assert_eq!(ids(&info), [("ST170119CYC/0001 1/1", own, "", "", 3)]);
    assert_eq!(
        info.statements[0].checks,
        [
            check(":90D: number of entries (D, RC)", "0", "0", true),
            check(":90D: sum of entries (D, RC)", "0.00", "0", true),
            check("currency :34F: = :90D:", "PLN", "PLN", true),
            check(":90C: number of entries (C, RD)", "3", "3", true),
            check(":90C: sum of entries (C, RD)", "0.03", "0.03", true),
            check("currency :34F: = :90C:", "PLN", "PLN", true),
        ]
    );
}

#[test]
fn real_triodos_angle_bracket_text_is_unstructured() {
    let (got, info) = read_file("real-triodos.sta");
    let a = "TRIODOSBANK/0666666666/2012-11-23/1";
    let b = "TRIODOSBANK/0999999999/2012-11-23/1";
    let first = [
        format!("1 0 | | {a}/1 | | 10.00 <10,00> | EUR | SETTLED | 2012-11-23 <121123>"),
        format!("2 0 | | {a}/2 | | 250.00 <250,00> | EUR | SETTLED | 2012-11-23 <121123>"),
        format!("3 0 | | {a}/3 | | 150.00 <150,00> | EUR | not_a_payment status C | 2012-11-23 <121123>"),
        format!("4 0 | | {a}/4 | | 40.00 <40,00> | EUR | SETTLED | 2012-11-23 <121123>"),
    ];
    let second = [
        format!("5 1 | | {b}/1 | | 8.95 <8,95> | EUR | SETTLED | 2012-11-23 <121123>"),
        format!("6 1 | | {b}/2 | | 25.25 <25,25> | EUR | SETTLED | 2012-11-23 <121123>"),
        format!("7 1 | | {b}/3 | | 150.00 <150,00> | EUR | not_a_payment status C | 2012-11-23 <121123>"),
        format!("8 1 | | {b}/4 | | 56.78 <56,78> | EUR | SETTLED | 2012-11-23 <121123>"),
    ];
    let mut want = rows("TRIODOSBANK/0666666666", &strs(&first));
    want.extend(rows("TRIODOSBANK/0999999999", &strs(&second)));
    same_rows(&got, &want);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "850.00", "850.00", "EUR")
    );
    assert_eq!(
        info.statements[1].checks,
        balance(":60F:", ":62F:", "1009.14", "1009.14", "EUR")
    );
    assert_eq!(info.statements[1].id, "1352294232659/2 1");
}

#[test]
fn real_rabobank_without_message_ends() {
    let (got, info) = read_file("real-rabobank-iban.sta");
    let own = "NL71RABO0123456789";
    let want = rows(
        own,
        &[
            // `NL70ABNA0987654321` in the supplementary details fails its check digits.
            "1 0 | 01-01-2013 12:00 0030000987654321 | NL71RABO0123456789/2013-01-01/0/1 | | 000000000025.00 <000000000025,00> | EUR | SETTLED | 2013-01-01 <130101>",
            "2 0 | | NL71RABO0123456789/2013-01-01/0/2 | | 000000000010.00 <000000000010,00> | EUR | SETTLED | 2013-01-02 <130102>",
            "3 1 | 08-01-2013 12:00 0030000987654321 | NL71RABO0123456789/2013-01-08/0/1 | | 000000000025.00 <000000000025,00> | EUR | SETTLED | 2013-01-08 <130108>",
            "4 1 | | NL71RABO0123456789/2013-01-08/0/2 | | 000000000010.00 <000000000010,00> | EUR | SETTLED | 2013-01-09 <130109>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62F:", "965.00", "965.00", "EUR")
    );
    assert_eq!(
        info.statements[1].checks,
        balance(":60F:", ":62F:", "930.00", "930.00", "EUR")
    );
    assert_eq!(info.statements[1].id, "940S130101 0");
}

#[test]
fn real_rabobank_supplementary_ibans() {
    let (got, info) = read_file("real-rabobank-structured.sta");
    let a = "NL50RABO0123456789/2013-04-02/0";
    let b = "NL50RABO0123456789/2013-04-03/0";
    let specs = [
        format!("1 0 | 02-04-2013 22:56 1120000153447185 | {a}/1 | NL96RBOS0523149468 | 000000000127.50 <000000000127,50> | EUR | SETTLED | 2013-04-03 <130403>"),
        format!("2 0 | | {a}/2 | | 000000000169.90 <000000000169,90> | EUR | not_a_payment status C | 2013-04-03 <130403>"),
        format!("3 0 | | {a}/3 | NL02INGB0002447973 | 000000000173.50 <000000000173,50> | EUR | not_a_payment status C | 2013-11-25 <131125>"),
        format!("4 0 | | {a}/4 | | 000000000171.66 <000000000171,66> | EUR | not_a_payment status C | 2013-12-06 <131206>"),
        format!("5 1 | | {b}/1 | | 000000000585.60 <000000000585,60> | EUR | SETTLED | 2013-04-04 <130404>"),
        format!("6 1 | | {b}/2 | | 000000001640.76 <000000001640,76> | EUR | not_a_payment status C | 2013-04-04 <130404>"),
        format!("7 1 | | {b}/3 | | 000000000674.73 <000000000674,73> | EUR | SETTLED | 2013-04-04 <130404>"),
        // No second line: the next line is the :86:.
        format!("8 1 | | {b}/4 | | 000000000130.29 <000000000130,29> | EUR | SETTLED | 2013-04-01 <130401>"),
        format!("9 1 | | {b}/5 | | 000000002050.95 <000000002050,95> | EUR | not_a_payment status C | 2013-04-04 <130404>"),
        format!("10 1 | 1134027115 | {b}/6 | NL82RBOS0602069890 | 000000001923.90 <000000001923,90> | EUR | not_a_payment status C | 2013-04-04 <130404>"),
        format!("11 1 | | {b}/7 | | 000000013431.00 <000000013431,00> | EUR | not_a_payment status C | 2013-04-04 <130404>"),
        format!("12 1 | | {b}/8 | NL54INGB0006752576 | 000000000384.75 <000000000384,75> | EUR | not_a_payment status C | 2013-09-20 <130920>"),
    ];
    same_rows(&got, &rows("NL50RABO0123456789", &strs(&specs)));
    assert_eq!(
        info.statements[0].checks[0],
        check(":60F: + :61: = :62F:", "1190.35", "1535.51", false)
    );
    assert_eq!(
        info.statements[1].checks[0],
        check(":60F: + :61: = :62F:", "18846.34", "19231.09", false)
    );
}

#[test]
fn real_deutsche_bank() {
    let (got, info) = read_file("real-deutsche-bank.sta");
    let want = rows(
        "233025/40069462",
        &[
            // EREF+NOTPROVIDED and a NONREF customer reference: no instruction id.
            "1 0 | | 8848037917407749 | DE422938944551657098369 | 3.99 <3,99> | EUR | not_a_payment status C 166 | 2014-03-25 <140325>",
            // `?2A` is not a subfield: EREF runs on to 35 characters.
            "2 0 | D979899680037A3DFA78E4?2A5315095381 | 96550046549608644 | DE04400694620000233025 | 0.01 <0,01> | EUR | not_a_payment status C 171 | 2014-03-28 <140328>",
        ],
    );
    same_rows(&got, &want);
    assert_eq!(
        info.statements[0].checks,
        balance(":60F:", ":62M:", "5.87", "4.00", "EUR")
            .into_iter()
            .map(|mut c| {
                c.ok = c.what.starts_with("currency");
                c
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(info.statements[0].id, "DEUTDEFFXXXX 00059/001");
}

// ---------------------------------------------------------------- hostile input

fn error_of(bytes: &[u8]) -> FormatError {
    match read_bytes(bytes) {
        Ok((t, _)) => panic!("read {} transactions from a bad file", t.len()),
        Err(e) => e,
    }
}

#[test]
fn files_without_a_statement_are_errors() {
    let none = "no statement (:20: tag) in the file: it is empty or not MT940";
    for bytes in [
        &b""[..],
        b"\n\n\r\n",
        b"{1:F01BANKDEFFAXXX0000000000}{2:O940BANKDEFFXXXXN}{4:\r\n-}\r\n",
        b"garbage\x00\x01\x02\xff\xfe",
    ] {
        let e = error_of(bytes);
        assert_eq!((e.place.as_str(), e.message.as_str()), ("", none));
    }
    assert!(!sverka_formats::mt940::recognise(
        b"{1:F01BANKDEFFAXXX0000000000}{2:O940BANKDEFFXXXXN}{4:\r\n-}\r\n"
    ));
    let e = error_of(b":25:X\n:61:1811261126CR30,00NTRF\n");
    assert_eq!(e.place, "line 1");
    assert_eq!(
        e.message,
        "the first tag is :25:, not :20:: the file does not start with a statement (is it \
         cut at the start?)"
    );
}

#[test]
fn binary_data_is_refused_without_panic() {
    let mut rng = Rng(7);
    for len in [1, 10, 1_000, 300_000] {
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        assert!(!sverka_formats::mt940::recognise(&bytes));
        assert!(read_bytes(&bytes).is_err());
    }
}

#[test]
fn a_statement_line_that_does_not_parse_is_an_error_naming_its_line() {
    let e =
        error_of(b":20:X\n:25:A\n:60F:C261101EUR0,\n:61:1811261126CR\n30,00N062NONREF\n:86:166\n");
    assert_eq!(e.place, "line 4");
    assert_eq!(
        e.message,
        "an amount expected at character 12: the :61: statement line `1811261126CR` cannot \
         be read: it should be YYMMDD[MMDD], C, D, RC or RD, [funds code], amount with a \
         decimal comma, type (NTRF), reference[//bank reference]; the file is damaged or \
         not MT940 (ask the bank for a corrected copy)"
    );
    let e = error_of(b":20:X\n:60F:C2611EUR1,\n");
    assert_eq!(e.place, "line 2");
    assert!(
        e.message
            .starts_with("the :60F: balance `C2611EUR1,` cannot be read"),
        "{e}"
    );
    let e = error_of(b":20:X\n:34F:1\n");
    assert!(e.message.starts_with("the :34F: floor limit `1`"), "{e}");
    let e = error_of(b":20:X\n:90D:EUR1,\n");
    assert!(e.message.starts_with("the :90D: total `EUR1,`"), "{e}");
}

#[test]
fn caps_on_lines_tags_and_junk() {
    let mut huge = b":20:".to_vec();
    huge.resize(70_000, b'A');
    let e = error_of(&huge);
    assert_eq!(e.place, "line 1");
    assert!(
        e.message.starts_with("the line is longer than 65536 bytes"),
        "{e}"
    );

    let mut long = b":20:X\n:60F:C261101EUR0,\n:61:261102D1,NTRFX\n:86:a\n".to_vec();
    for _ in 0..70 {
        long.extend_from_slice(&[b'x'; 1000]);
        long.push(b'\n');
    }
    let e = error_of(&long);
    assert_eq!(e.place, "line 70");
    assert!(
        e.message
            .starts_with("the :86: tag of line 4 is longer than 65536 bytes"),
        "{e}"
    );

    let statements = ":20:X\n".repeat(100_001);
    let e = error_of(statements.as_bytes());
    assert_eq!(e.place, "line 100001");
    assert!(e.message.starts_with("more than 100000 statements"), "{e}");

    let junk = "junk\n".repeat(1001);
    let e = error_of(junk.as_bytes());
    assert_eq!(e.place, "line 1001");
}

#[test]
fn a_sink_error_stops_the_reader() {
    let bytes = data("rules-status.sta");
    let mut seen = 0;
    let r = sverka_formats::read(
        Kind::Mt940,
        &mut Cursor::new(bytes),
        &mut |_t: &Txn, _s: &[Statement]| {
            seen += 1;
            Err(FormatError {
                place: "here".into(),
                message: "stop".into(),
            })
        },
    );
    assert_eq!(r.unwrap_err().message, "stop");
    assert_eq!(seen, 1);
}

#[test]
fn recognition() {
    let yes = |b: &[u8]| sverka_formats::mt940::recognise(b);
    assert!(yes(b"\xEF\xBB\xBF:20:X\r\n"));
    assert!(yes(b"\x01\r\n:20:ST170201CYC/1\r\n"));
    assert!(!yes(b"provider,provider_ref,amount\nP,R,1\n"));
    assert!(!yes(b"<?xml version=\"1.0\"?><Document/>"));
    assert!(!yes(b"PAR1\x00\x00"));
    assert!(!yes(b":61:1811261126CR\n"));
    // A head cut inside the first tag is not enough.
    assert!(!yes(b"{1:F01X}{2:O940X}{4:\n:2"));
}

/// A tiny deterministic generator (splitmix64) for the mutation test.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    const BYTES: &[u8] = b":\n\r?/-}{0123456789CDRN,+>\xc3\xe9\x00 ";
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(v.len() + 1);
        match rng.below(6) {
            0 if at < v.len() => v[at] = BYTES[rng.below(BYTES.len())],
            1 if at < v.len() => v[at] = rng.next() as u8,
            2 => {
                let end = (at + rng.below(40)).min(v.len());
                v.drain(at..end);
            }
            3 => {
                let end = (at + rng.below(200)).min(v.len());
                let copy = v[at..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, copy);
            }
            4 => v.truncate(at),
            _ => {
                let b = BYTES[rng.below(BYTES.len())];
                v.insert(at, b);
            }
        }
    }
    v
}

#[test]
fn mutations_of_every_test_file_never_panic() {
    let mut files: Vec<_> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut rng = Rng(0x05EE_D940);
    let mut read_ok = 0;
    let mut runs = 0;
    for path in &files {
        let original = std::fs::read(path).unwrap();
        // Fewer rounds for the big file: its statements are all alike.
        let rounds = if original.len() > 10_000 { 150 } else { 400 };
        for _ in 0..rounds {
            let m = mutate(&mut rng, &original);
            let _ = sverka_formats::recognise(&m);
            let r = read_bytes(&m);
            if let Ok((txns, info)) = r {
                read_ok += 1;
                assert_eq!(txns.len() as u64, info.transactions);
            }
            runs += 1;
        }
        // Every cut of a small file: truncated transfers.
        if original.len() < 2_000 {
            for n in 0..original.len() {
                let _ = read_bytes(&original[..n]);
            }
        }
    }
    assert!(runs > 5_000, "{runs}");
    assert!(
        read_ok > runs / 4,
        "most mutations still read: {read_ok} of {runs}"
    );
}

// ---------------------------------------------------------------- size

/// A statement of `n` transactions in the shape of a real one.
fn synthetic(n: usize, first: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * 150 + 200);
    out.extend_from_slice(
        b"{1:F01BANKDEFFAXXX0000000000}{2:O940BANKDEFFXXXXN}{4:\r\n:20:BIG\r\n\
          :25:DE89370400440532013000\r\n:28C:1/1\r\n:60F:C261101EUR0,00\r\n",
    );
    for i in first..first + n {
        let amount = 100 + i % 900;
        out.extend_from_slice(
            format!(
                ":61:2611021102D{amount},{:02}NTRFNONREF//B{i:09}\r\n\
                 :86:116?00SEPA-UEBERWEISUNG?20EREF+PAY-2026-11-{i:08}?21SVWZ+Nov\r\n\
                 ?30COBADEFFXXX?31DE89370400440532013000?32BENEFICIARY {i}\r\n",
                i % 100
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(b":62F:C261102EUR0,00\r\n-}\r\n");
    out
}

#[test]
fn a_large_statement_streams_with_unique_references() {
    let bytes = synthetic(20_000, 0);
    let (txns, info) = read_bytes(&bytes).unwrap();
    assert_eq!(txns.len(), 20_000);
    assert_eq!(txns[19_999].instruction_id, "PAY-2026-11-00019999");
    assert_eq!(txns[19_999].provider_ref, "B000019999");
    assert_eq!(info.statements[0].entries, 20_000);
    assert!(!info.statements[0].checks[0].ok);
}

/// Throughput on 2M transactions (about 300 MB), from a file on disk:
/// `cargo test --release -p sverka-formats --test mt940 -- --ignored --nocapture`.
#[test]
#[ignore]
#[allow(clippy::float_arithmetic)] // a rate for people to read, not money
fn throughput_of_two_million_transactions() {
    use std::io::Write;
    let path = std::env::temp_dir().join(format!("sverka-mt940-{}.sta", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        // 20 statements of 100,000 transactions, every reference distinct.
        for k in 0..20 {
            f.write_all(&synthetic(100_000, k * 100_000)).unwrap();
        }
    }
    let size = std::fs::metadata(&path).unwrap().len();
    let start = std::time::Instant::now();
    let mut file = std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let mut n = 0u64;
    let info = sverka_formats::read(Kind::Mt940, &mut file, &mut |_t: &Txn, _s: &[Statement]| {
        n += 1;
        Ok(())
    })
    .unwrap();
    let secs = start.elapsed().as_secs_f64();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(n, 2_000_000);
    assert_eq!(info.transactions, 2_000_000);
    println!(
        "{n} transactions, {:.0} MB in {secs:.2} s: {:.0} MB/s, {:.0} transactions/s",
        size as f64 / 1e6,
        size as f64 / 1e6 / secs,
        n as f64 / secs
    );
}
