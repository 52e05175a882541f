//! ISO 20022 camt.053, camt.054 and pain.002 against CONTRACT 7.1, 7.3 and 7.5: one small
//! hand-written file per rule under `testdata/formats/{camt053,camt054,pain002}/rule-*`,
//! real published files (`real-*`, see testdata/formats/PROVENANCE.md) with every row
//! written out by hand from the file and the contract, hostile inputs (PITFALLS 2.6,
//! H5, H12), and a mutation test that no input makes the reader panic.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use sverka_formats::{
    read, recognise, Check, FileInfo, FormatError, Kind, NotSettlement, Recognised, Rejection,
    Statement, Status, Txn, SNIFF_BYTES,
};

use NotSettlement::{BatchWithoutDetails, NotAPayment, NotBooked, NotFinal};
use Status::{Failed, Returned, Settled};

fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/formats")
        .join(rel)
}

/// Recognises `bytes` by their head, as the CLI does.
fn recognised(bytes: &[u8]) -> Recognised {
    recognise(&bytes[..bytes.len().min(SNIFF_BYTES)])
}

/// Reads `bytes` as `kind`, collecting the rows.
fn read_as(kind: Kind, bytes: &[u8]) -> Result<(Vec<Txn>, FileInfo), FormatError> {
    let mut rows = Vec::new();
    let mut sink = |t: &Txn, _: &[Statement]| {
        rows.push(t.clone());
        Ok(())
    };
    let info = read(kind, &mut Cursor::new(bytes), &mut sink)?;
    Ok((rows, info))
}

/// Recognises and reads a test file that must be good.
fn read_file(rel: &str) -> (Vec<Txn>, FileInfo) {
    let bytes = std::fs::read(testdata(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let kind = match recognised(&bytes) {
        Recognised::Provider(k) => k,
        other => panic!("{rel}: recognised as {other:?}"),
    };
    read_as(kind, &bytes).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// An expected row, written compactly; `..base` fills what a file's rows share.
#[derive(Clone, Copy, Default)]
struct E {
    row: u64,
    st: usize,
    own: &'static str,
    instr: &'static str,
    pref: &'static str,
    acct: &'static str,
    amt: &'static str,
    fee: &'static str,
    ccy: &'static str,
    ok: Option<Status>,
    rej: Option<(NotSettlement, &'static str)>,
    vd: &'static str,
    vd_orig: Option<&'static str>,
}

impl E {
    fn txn(self) -> Txn {
        Txn {
            row: self.row,
            statement: self.st,
            own_account: self.own.into(),
            instruction_id: self.instr.into(),
            provider_ref: self.pref.into(),
            account: self.acct.into(),
            amount: self.amt.into(),
            fee: self.fee.into(),
            currency: self.ccy.into(),
            status: self.ok,
            value_date: self.vd.into(),
            amount_original: None,
            value_date_original: self.vd_orig.map(String::from),
            rejection: self.rej.map(|(reason, value)| Rejection {
                reason,
                column: match reason {
                    BatchWithoutDetails => "amount",
                    _ => "status",
                },
                value: value.into(),
            }),
        }
    }
}

fn assert_rows(rel: &str, got: &[Txn], want: &[E]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(*g, w.txn(), "{rel}: row {} differs", i + 1);
    }
    assert_eq!(got.len(), want.len(), "{rel}: number of rows");
}

fn check(what: &str, declared: &str, found: &str, ok: bool) -> Check {
    Check {
        what: what.into(),
        declared: declared.into(),
        found: found.into(),
        ok,
    }
}

const OWN: &str = "DE89370400440532013000";

/// Rows of a camt rule file: own account, EUR, booked 2026-11-05, statement 0.
fn camt_base() -> E {
    E {
        own: OWN,
        ccy: "EUR",
        vd: "2026-11-05",
        ..E::default()
    }
}

// ---------------------------------------------------------------------------------------
// camt rules (CONTRACT 7.3)
// ---------------------------------------------------------------------------------------

#[test]
fn direction_and_bank_transaction_code_decide_settled_or_not_a_payment() {
    let rel = "camt053/rule-direction.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        ok: Some(Settled),
        ..camt_base()
    };
    let nap = |v| Some((NotAPayment, v));
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "DIR-1", amt: "150.00", ..b },
        E { row: 2, pref: "DIR-2", amt: "5000.00", ok: None, rej: nap("CRDT PMNT/RCDT/ESCT"), ..b },
        E { row: 3, pref: "DIR-3", amt: "1.00", ok: None, rej: nap("DBIT ACMT/MDOP/CHRG"), ..b },
        E { row: 4, pref: "DIR-4", amt: "2.00", ok: None, rej: nap("DBIT ACMT/MDOP/COMM"), ..b },
        E { row: 5, pref: "DIR-5", amt: "3.00", ok: None, rej: nap("DBIT ACMT/MDOP/FEES"), ..b },
        E { row: 6, pref: "DIR-6", amt: "4.00", ok: None, rej: nap("DBIT ACMT/MDOP/TAXE"), ..b },
        E { row: 7, pref: "DIR-7", amt: "5.00", ok: None, rej: nap("DBIT ACMT/MDOP/INTR"), ..b },
        // A proprietary code has no sub-family: a debit with it is a payment.
        E { row: 8, pref: "DIR-8", amt: "60.00", ..b },
        E { row: 9, pref: "DIR-9", amt: "70.00", ok: None, rej: nap("CRDT NTRF+166"), ..b },
        // No CdtDbtInd: neither direction, so not a payment; the value is the code alone.
        E { row: 10, pref: "DIR-10", amt: "80.00", ok: None, rej: nap("PMNT/ICDT/ESCT"), ..b },
        E { row: 11, pref: "DIR-11", amt: "90.00", ok: None, rej: nap("CRDT"), ..b },
        // The transaction's own BkTxCd wins over the entry's; without one, the entry's.
        E { row: 12, pref: "DIR-12/1", amt: "100.00", ..b },
        E { row: 13, pref: "DIR-12/2", amt: "20.00", ok: None, rej: nap("DBIT ACMT/MDOP/CHRG"), ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.kind, Some(Kind::Camt053));
    assert_eq!(info.version, "camt.053.001.08");
    assert_eq!(info.transactions, 13);
    assert_eq!(info.statements.len(), 1);
    assert_eq!(info.statements[0].entries, 12);
    assert_eq!(info.statements[0].transactions, 13);
}

#[test]
fn returns_are_rtrinf_rrtn_or_reversal_and_only_credit_returns_are_returned() {
    let rel = "camt053/rule-returned.xml";
    let (rows, _) = read_file(rel);
    let b = E {
        vd: "2026-11-07",
        ok: Some(Returned),
        ..camt_base()
    };
    let nap = |v| Some((NotAPayment, v));
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "RET-1", instr: "PAY-2026-11-0007", amt: "100.00", ..b },
        E { row: 2, pref: "RET-2", instr: "INSTR-8", amt: "200.00", ..b },
        E { row: 3, pref: "RET-3", amt: "300.00", ..b },
        E { row: 4, pref: "RET-4", amt: "400.00", ..b },
        // The transaction's own code (not RRTN) wins over the entry's RRTN.
        E { row: 5, pref: "RET-5", amt: "500.00", ok: None, rej: nap("CRDT PMNT/RCDT/ESCT"), ..b },
        E { row: 6, pref: "RET-6", amt: "600.00", ok: None, rej: nap("DBIT PMNT/RCDT/ESCT"), ..b },
        E { row: 7, pref: "RET-7", amt: "700.00", ok: None, rej: nap("DBIT PMNT/IDDT/UPDD"), ..b },
    ];
    assert_rows(rel, &rows, &want);
}

#[test]
fn every_transaction_of_an_entry_not_booked_is_not_booked() {
    let rel = "camt053/rule-not-booked.xml";
    let (rows, info) = read_file(rel);
    let b = camt_base();
    let nb = |v| Some((NotBooked, v));
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "P1", pref: "NB-1/1", amt: "100.00", rej: nb("PDNG"), ..b },
        E { row: 2, instr: "P2", pref: "NB-1/2", amt: "200.00", rej: nb("PDNG"), ..b },
        E { row: 3, pref: "NB-2", amt: "50.00", rej: nb("INFO"), ..b },
        E { row: 4, pref: "NB-3", amt: "10.00", rej: nb(""), ..b },
        E { row: 5, pref: "NB-4", amt: "20.00", ok: Some(Settled), ..b },
        // A pending batch without details: not booked comes first.
        E { row: 6, pref: "NB-5", amt: "500.00", rej: nb("PDNG"), ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "camt.053.001.02");
}

#[test]
fn instruction_id_is_end_to_end_id_else_instr_id_and_notprovided_is_absent() {
    let rel = "camt053/rule-instruction-id.xml";
    let (rows, _) = read_file(rel);
    let b = E {
        amt: "10.00",
        ok: Some(Settled),
        ..camt_base()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "PAY-1", pref: "II-1/1", ..b },
        E { row: 2, instr: "I-2", pref: "II-1/2", ..b },
        E { row: 3, instr: "I-3", pref: "II-1/3", ..b },
        E { row: 4, instr: "", pref: "II-1/4", ..b },
        E { row: 5, instr: "", pref: "II-1/5", ..b },
    ];
    assert_rows(rel, &rows, &want);
}

#[test]
fn provider_ref_falls_back_to_entry_ref_with_k_then_s_e_k_and_repeats_get_a_suffix() {
    let rel = "camt053/rule-provider-ref.xml";
    let (rows, _) = read_file(rel);
    let b = E {
        ok: Some(Settled),
        ..camt_base()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "BANK-TX-1", amt: "10.00", ..b },
        E { row: 2, pref: "E-2", instr: "PAY-2", amt: "20.00", ..b },
        E { row: 3, pref: "E-3/1", amt: "10.00", ..b },
        E { row: 4, pref: "E-3/2", amt: "20.00", ..b },
        E { row: 5, pref: "STMT-7/4/1", amt: "15.00", ..b },
        E { row: 6, pref: "STMT-7/4/2", amt: "25.00", ..b },
        E { row: 7, pref: "STMT-7/5/1", amt: "50.00", ..b },
        E { row: 8, pref: "BANK-TX-1#2", amt: "60.00", ..b },
        E { row: 9, pref: "E-2#2", amt: "70.00", ..b },
        E { row: 10, pref: "E-8/1", amt: "30.00", ..b },
        E { row: 11, pref: "BANK-TX-1#3", amt: "50.00", ..b },
    ];
    assert_rows(rel, &rows, &want);
}

#[test]
fn account_is_the_counterparty_by_direction_never_the_statement_account() {
    let rel = "camt053/rule-account.xml";
    let (rows, _) = read_file(rel);
    let b = E {
        ok: Some(Settled),
        ..camt_base()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "AC-1", amt: "10.00", acct: "DE02120300000000202051", ..b },
        E { row: 2, pref: "AC-2", amt: "20.00", acct: "DE02500105170137075030", ..b },
        E { row: 3, pref: "AC-3", amt: "30.00", acct: "DE02100500000054540402", ok: Some(Returned), ..b },
        E { row: 4, pref: "AC-4", amt: "40.00", acct: "8600000012345678", ..b },
        E { row: 5, pref: "AC-5", amt: "50.00", instr: "PAY-5", acct: "", ..b },
        E { row: 6, pref: "AC-6", amt: "60.00", acct: "", ok: Some(Returned), ..b },
    ];
    assert_rows(rel, &rows, &want);
}

#[test]
fn amount_is_tx_amt_else_tx_amount_else_entry_amount_for_a_single_transaction() {
    let rel = "camt053/rule-amount.xml";
    let (rows, _) = read_file(rel);
    let b = E {
        ok: Some(Settled),
        ..camt_base()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "AM-1", amt: "108.50", ccy: "USD", ..b },
        E { row: 2, pref: "AM-2", amt: "200.00", ..b },
        E { row: 3, pref: "AM-3", instr: "PAY-3", amt: "300.00", ..b },
        E { row: 4, pref: "AM-4/1", instr: "PAY-4A", amt: "", ccy: "", ..b },
        E { row: 5, pref: "AM-4/2", instr: "PAY-4B", amt: "", ccy: "", ..b },
        E { row: 6, pref: "AM-5", amt: "500", ccy: "UZS", ..b },
        E { row: 7, pref: "AM-6", amt: "60.00", ..b },
    ];
    assert_rows(rel, &rows, &want);
}

#[test]
fn fee_is_the_transactions_total_charges_in_the_rows_currency() {
    let rel = "camt053/rule-fee.xml";
    let (rows, _) = read_file(rel);
    let b = E {
        amt: "100.00",
        ok: Some(Settled),
        ..camt_base()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "FE-1", fee: "1.50", ..b },
        E { row: 2, pref: "FE-2", ..b },
        E { row: 3, pref: "FE-3", ..b },
        E { row: 4, pref: "FE-4", amt: "100.80", fee: "0.80", ..b },
        E { row: 5, pref: "FE-5", ..b },
        E { row: 6, pref: "FE-6", fee: "0.70", ..b },
    ];
    assert_rows(rel, &rows, &want);
}

#[test]
fn value_date_is_the_value_date_else_the_booking_date() {
    let rel = "camt053/rule-value-date.xml";
    let (rows, _) = read_file(rel);
    let b = E {
        ok: Some(Settled),
        ..camt_base()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "VD-1", amt: "1.00", ..b },
        E { row: 2, pref: "VD-2", amt: "2.00", vd_orig: Some("2026-11-05T10:30:00+01:00"), ..b },
        E { row: 3, pref: "VD-3", amt: "3.00", vd: "2026-11-04", ..b },
        E { row: 4, pref: "VD-4", amt: "4.00", vd: "2026-11-03", vd_orig: Some("2026-11-03T23:00:00Z"), ..b },
        E { row: 5, pref: "VD-5", amt: "5.00", vd_orig: Some("2026-11-05+01:00"), ..b },
        E { row: 6, pref: "VD-6", amt: "6.00", vd: "05.11.2026", ..b },
        E { row: 7, pref: "VD-7", amt: "7.00", vd: "", ..b },
        // A date-time in a date element: as written, for section 2's invalid_date.
        E { row: 8, pref: "VD-8", amt: "8.00", vd: "2026-11-05T10:00:00", ..b },
    ];
    assert_rows(rel, &rows, &want);
}

#[test]
fn a_batch_without_details_is_one_reject_and_a_detailed_batch_is_checked() {
    let rel = "camt053/rule-batch.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        ok: Some(Settled),
        ..camt_base()
    };
    let batch = Some((
        BatchWithoutDetails,
        "PmtInfId=PAYROLL-11 NbOfTxs=3 TtlAmt=900.00",
    ));
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "BT-1", amt: "900.00", ok: None, rej: batch, ..b },
        E { row: 2, pref: "BT-2", amt: "100.00", ..b },
        E { row: 3, pref: "BT-3/1", instr: "PAY-12-1", amt: "100.00", ..b },
        E { row: 4, pref: "BT-3/2", instr: "PAY-12-2", amt: "200.00", ..b },
        E { row: 5, pref: "BT-3/3", instr: "PAY-12-3", amt: "300", ..b },
        E { row: 6, pref: "BT-4/1", instr: "PAY-13-1", amt: "100.00", ..b },
        E { row: 7, pref: "BT-4/2", instr: "PAY-13-2", amt: "150.00", ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(
        info.statements[0].checks,
        [
            check("Btch/NbOfTxs (entry 3)", "3", "3", true),
            check("Btch/TtlAmt (entry 3)", "600.00", "600.00", true),
            check("Btch/NbOfTxs (entry 4)", "3", "2", false),
            check("Btch/TtlAmt (entry 4)", "250.00", "250.00", true),
        ]
    );
}

#[test]
fn rows_count_across_statements_and_each_statement_names_its_account() {
    let rel = "camt053/rule-statements-rows.xml";
    let (rows, info) = read_file(rel);
    let a = E {
        ok: Some(Settled),
        ..camt_base()
    };
    let b = E {
        st: 1,
        own: "40702810900000000001",
        ccy: "UZS",
        ..a
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "PAY-A1", pref: "A/1/1", amt: "10.00", ..a },
        E { row: 2, pref: "A/2/1", amt: "20.00", ..a },
        E { row: 3, instr: "PAY-B1", pref: "B/1/1", amt: "500000.00", ..b },
        E { row: 4, instr: "PAY-B2", pref: "B/1/2", amt: "1000000.00", ..b },
    ];
    assert_rows(rel, &rows, &want);
    let statement = |id: &str, account: &str, entries, transactions| Statement {
        id: id.into(),
        account: account.into(),
        entries,
        transactions,
        ..Statement::default()
    };
    assert_eq!(
        info.statements,
        [
            statement("A", OWN, 2, 2),
            statement("B", "40702810900000000001", 1, 2)
        ]
    );
    assert_eq!(info.transactions, 4);
}

#[test]
fn the_sink_sees_each_statement_header_with_its_first_transaction() {
    let bytes = std::fs::read(testdata("camt053/rule-statements-rows.xml")).unwrap();
    let mut seen = Vec::new();
    let mut sink = |t: &Txn, s: &[Statement]| {
        seen.push((
            t.row,
            s[t.statement].id.clone(),
            s[t.statement].account.clone(),
        ));
        Ok(())
    };
    read(Kind::Camt053, &mut Cursor::new(&bytes), &mut sink).unwrap();
    assert_eq!(seen[0], (1, "A".into(), OWN.into()));
    assert_eq!(seen[2], (3, "B".into(), "40702810900000000001".into()));
}

#[test]
fn an_error_from_the_sink_stops_the_read_and_is_returned_as_it_is() {
    let bytes = std::fs::read(testdata("camt053/rule-direction.xml")).unwrap();
    let mut calls = 0;
    let mut sink = |_: &Txn, _: &[Statement]| {
        calls += 1;
        Err(FormatError {
            place: "sink".into(),
            message: "stop".into(),
        })
    };
    let err = read(Kind::Camt053, &mut Cursor::new(&bytes), &mut sink).unwrap_err();
    assert_eq!((err.place.as_str(), err.message.as_str()), ("sink", "stop"));
    assert_eq!(calls, 1);
}

// ---------------------------------------------------------------------------------------
// camt control figures (CONTRACT 7.5)
// ---------------------------------------------------------------------------------------

#[test]
fn txs_summary_figures_are_each_checked_against_the_entries() {
    let rel = "camt053/rule-txs-summary.xml";
    let (rows, info) = read_file(rel);
    assert_eq!(rows.len(), 5);
    assert_eq!(
        info.statements[0].checks,
        [
            check("TxsSummry/TtlNtries/NbOfNtries", "3", "3", true),
            check("TxsSummry/TtlNtries/Sum", "600.00", "600.00", true),
            check("TxsSummry/TtlCdtNtries/NbOfNtries", "1", "1", true),
            check("TxsSummry/TtlCdtNtries/Sum", "100.00", "100.00", true),
            check("TxsSummry/TtlDbtNtries/NbOfNtries", "2", "2", true),
            check("TxsSummry/TtlDbtNtries/Sum", "500.00", "500.00", true),
        ]
    );
    assert_eq!(
        info.statements[1].checks,
        [
            check("TxsSummry/TtlNtries/NbOfNtries", "3", "2", false),
            check("TxsSummry/TtlNtries/Sum", "300", "300.00", true),
            check("TxsSummry/TtlDbtNtries/Sum", "3OO.00", "300.00", false),
        ]
    );
}

#[test]
fn the_balance_holds_under_either_convention_and_fails_when_neither_does() {
    let (_, info) = read_file("camt053/rule-balance.xml");
    let s = &info.statements;
    let opbd = "balance OPBD + CRDT - DBIT = CLBD";
    assert_eq!(s[0].checks, [check(opbd, "1300.00", "1300.00", true)]);
    assert_eq!(s[1].checks, [check(opbd, "1500.00", "1500.00", true)]);
    assert_eq!(
        s[2].checks,
        [check(
            "balance PRCD + CRDT - DBIT = CLBD",
            "50.00",
            "50.00",
            true
        )]
    );
    assert_eq!(
        s[3].checks,
        [check(
            opbd,
            "60.00",
            "70.00 (all booked entries) or 90.00 (booked entries with value date on or before \
             2026-11-06)",
            false
        )]
    );
    assert_eq!(s[4].checks, []);
    assert_eq!(s[5].checks, [check(opbd, "50.00", "50.00", true)]);
    // The period: the balances' dates where FrToDt is missing.
    assert_eq!(
        (s[0].from.as_str(), s[0].to.as_str()),
        ("2026-11-04", "2026-11-05")
    );
    assert_eq!(
        (s[2].from.as_str(), s[2].to.as_str()),
        ("2026-11-04", "2026-11-05")
    );
    assert_eq!((s[4].from.as_str(), s[4].to.as_str()), ("2026-11-04", ""));
}

// ---------------------------------------------------------------------------------------
// camt.054 and envelopes
// ---------------------------------------------------------------------------------------

#[test]
fn a_camt054_notification_is_read_as_statements_are() {
    let rel = "camt054/rule-notification.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        amt: "100.00",
        ok: Some(Settled),
        ..camt_base()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "PAY-2026-11-0001", pref: "NTF-1/1", acct: "DE02120300000000202051", ..b },
        E { row: 2, instr: "PAY-2026-11-0002", pref: "NTF-1/2", acct: "DE02500105170137075030", fee: "0.50", ..b },
        E { row: 3, instr: "PAY-2026-11-0003", pref: "NTF-1/3", acct: "DE02100500000054540402", ..b },
        E { row: 4, st: 1, instr: "PAY-2026-11-0003", pref: "NTF-2", acct: "DE02100500000054540402", ok: Some(Returned), vd: "2026-11-09", ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.kind, Some(Kind::Camt054));
    assert_eq!(info.version, "camt.054.001.08");
    assert_eq!(
        info.statements[0].checks,
        [
            check("Btch/NbOfTxs (entry 1)", "3", "3", true),
            check("Btch/TtlAmt (entry 1)", "300.00", "300.00", true),
        ]
    );
    assert_eq!(info.statements[1].checks, []);
    assert_eq!(info.statements[1].id, "N-2");
}

#[test]
fn an_enveloped_document_with_prefixed_names_is_read_by_local_name() {
    let rel = "camt054/rule-envelope-prefix.xml";
    let (rows, info) = read_file(rel);
    let want = [E {
        row: 1,
        instr: "PAY-&-42",
        pref: "EV-1",
        acct: "DE02120300000000202051",
        amt: "42.00",
        ok: Some(Settled),
        ..camt_base()
    }];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "camt.054.001.08");
    assert_eq!(info.statements[0].id, "EV");
}

// ---------------------------------------------------------------------------------------
// pain.002 (CONTRACT 7.3)
// ---------------------------------------------------------------------------------------

#[test]
fn pain002_status_is_tx_status_else_payment_information_status_else_group_status() {
    let rel = "pain002/rule-status.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        vd: "2026-11-06",
        vd_orig: Some("2026-11-06T09:15:00"),
        ..E::default()
    };
    let nf = |v| Some((NotFinal, v));
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "PAY-1", pref: "PS-MSG/1", ok: Some(Failed), ..b },
        E { row: 2, instr: "PAY-2", pref: "PS-MSG/2", ok: Some(Settled), ..b },
        E { row: 3, instr: "PAY-3", pref: "PS-MSG/3", ok: Some(Settled), ..b },
        E { row: 4, instr: "PAY-4", pref: "PS-MSG/4", ok: Some(Settled), ..b },
        E { row: 5, instr: "PAY-5", pref: "PS-MSG/5", rej: nf("ACTC"), ..b },
        E { row: 6, instr: "PAY-6", pref: "PS-MSG/6", rej: nf("PDNG"), ..b },
        E { row: 7, instr: "PAY-7", pref: "PS-MSG/7", rej: nf("PART"), ..b },
        E { row: 8, instr: "PAY-8", pref: "PS-MSG/8", ok: Some(Failed), ..b },
        E { row: 9, instr: "PAY-9", pref: "PS-MSG/9", ok: Some(Settled), ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.kind, Some(Kind::Pain002));
    assert_eq!(info.version, "pain.002.001.10");
    assert_eq!(info.statements.len(), 1);
    assert_eq!(info.statements[0].id, "PS-MSG");
    assert_eq!(info.statements[0].checks, []);
    assert_eq!(info.notices, Vec::<String>::new());
}

#[test]
fn pain002_columns_and_no_control_checks() {
    let rel = "pain002/rule-columns.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        ok: Some(Failed),
        ..E::default()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, own: OWN, instr: "PAY-1", pref: "STS-1", acct: "8600123412341234", amt: "450000.00", ccy: "UZS", ok: Some(Settled), vd: "2026-11-05", ..b },
        E { row: 2, own: "20208000900000000001", instr: "I-2", pref: "PC-MSG/2", acct: "DE02120300000000202051", vd: "2026-11-04", ..b },
        E { row: 3, pref: "STS-1#2", vd: "2026-11-04", vd_orig: Some("2026-11-04T08:00:00"), ..b },
        E { row: 4, instr: "I-4", pref: "PC-MSG/4", vd: "2026-11-03", ..b },
        E { row: 5, instr: "PAY-5", pref: "PC-MSG/5", vd: "2026-11-06", vd_orig: Some("2026-11-06T09:15:00+05:00"), ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.statements[0].checks, []);
    assert_eq!(info.statements[0].account, "");
}

#[test]
fn pain002_statuses_without_transactions_are_notices() {
    let rel = "pain002/rule-notices.xml";
    let (rows, info) = read_file(rel);
    let want = [E {
        row: 1,
        instr: "PAY-B1",
        pref: "PN-MSG/1",
        ok: Some(Settled),
        vd: "2026-11-06",
        vd_orig: Some("2026-11-06T09:15:00"),
        ..E::default()
    }];
    assert_rows(rel, &rows, &want);
    assert_eq!(
        info.notices,
        [
            "payment information PMT-A status RJCT (reason AM04) without transaction details: no rows",
            "payment information PMT-C (group status PART) without transaction details: no rows",
        ]
    );

    let (rows, info) = read_file("pain002/rule-empty-report.xml");
    assert!(rows.is_empty());
    assert_eq!(
        info.notices,
        ["the report holds no status and no transaction: no rows"]
    );

    let (rows, _) = read_file("pain002/rule-no-status.xml");
    assert_eq!(
        rows[0]
            .rejection
            .as_ref()
            .map(|r| (r.reason, r.value.as_str())),
        Some((NotFinal, ""))
    );
}

#[test]
fn pain002_version_2_has_the_message_element_named_after_the_message() {
    let rel = "pain002/rule-v02.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        ccy: "USD",
        vd: "2012-03-02",
        ..E::default()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "V2-1", pref: "UNDP-STS-0042/1", amt: "75.00", ok: Some(Failed), ..b },
        E { row: 2, instr: "V2-2", pref: "UNDP-STS-0042/2", amt: "80.00", rej: Some((NotFinal, "ACCP")), ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "pain.002.001.02");
}

// ---------------------------------------------------------------------------------------
// Real published files (testdata/formats/PROVENANCE.md), every row written by hand
// ---------------------------------------------------------------------------------------

/// PostFinance camt.053.001.04 (Swiss): four credits (not payments) and a debit; the
/// reference 07582000303KBMSU repeats; the balance holds only counting entries valued on
/// or before the CLBD date (one credit is valued the next day).
#[test]
fn real_postfinance_camt053_v04() {
    let rel = "camt053/real-postfinance-v04.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        own: "CH2909000000250094239",
        ccy: "CHF",
        vd: "2020-11-24",
        ..E::default()
    };
    let nap = |v| Some((NotAPayment, v));
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "0758103031480900", amt: "4.50", rej: nap("CRDT PMNT/IDDT/PMDD"), ..b },
        E { row: 2, pref: "0758103031480977", amt: "77.70", ok: Some(Settled), ..b },
        E { row: 3, pref: "07582000303F0C7U", amt: "1500.00", rej: nap("CRDT PMNT/RCDT/AUTT"), ..b },
        E { row: 4, pref: "07582000303KBMSU", amt: "1537.00", rej: nap("CRDT PMNT/RCDT/VCOM"), vd: "2020-11-25", ..b },
        E { row: 5, pref: "07582000303KBMSU#2", amt: "1692.22", rej: nap("CRDT PMNT/RCDT/VCOM"), ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "camt.053.001.04");
    let s = &info.statements[0];
    assert_eq!(s.id, "20201124375204229003973");
    assert_eq!(
        (s.from.as_str(), s.to.as_str()),
        ("2020-06-24", "2020-06-24")
    );
    // 211993.19 + 4.50 - 77.70 + 1500.00 + 1692.22 = 215112.21 without the 1537.00
    // valued 2020-11-25, after the CLBD date 2020-11-24.
    assert_eq!(
        s.checks,
        [check(
            "balance OPBD + CRDT - DBIT = CLBD",
            "215112.21",
            "215112.21",
            true
        )]
    );
}

/// Nordea camt.053.001.02 (Finland): amounts only in AmtDtls/TxAmt (PITFALLS B2),
/// NOTPROVIDED end-to-end ids, and a sweep (CAMT/ACCB/SWEP) debit that the contract's rule
/// counts as a payment.
#[test]
fn real_nordea_camt053_v02() {
    let rel = "camt053/real-nordea-v02.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        own: "FI8529501800030574",
        ccy: "EUR",
        vd: "2019-05-08",
        ok: Some(Settled),
        ..E::default()
    };
    let nap = |v| Some((NotAPayment, v));
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "20190501-E00005", pref: "1905082588CEAA0001", amt: "10000.00", ok: None, rej: nap("CRDT PMNT/RCDT/ESCT"), ..b },
        E { row: 2, pref: "1905082588SM12345678", amt: "100.50", ok: None, rej: nap("CRDT PMNT/RCDT/XBCT"), ..b },
        E { row: 3, instr: "20190508-E123456", pref: "1905082588CEAG0003", amt: "700.50", ..b },
        E { row: 4, pref: "1905092588CEAG0004", amt: "300.00", ..b },
        E { row: 5, pref: "1905082588CVCC1111", amt: "400.00", ..b },
        E { row: 6, pref: "1905082588AU123456", amt: "100.00", ..b },
    ];
    assert_rows(rel, &rows, &want);
    // 200.50 + 10000.00 + 100.50 - 700.50 - 300.00 - 400.00 - 100.00 = 8800.50
    assert_eq!(
        info.statements[0].checks,
        [check(
            "balance OPBD + CRDT - DBIT = CLBD",
            "8800.50",
            "8800.50",
            true
        )]
    );
}

/// ING Netherlands camt.053.001.02 excerpt (viafintech/camt_parser fixture): a payroll
/// batch booked as one debit without details, two credits; the TxsSummry and balances
/// describe the full statement, so every control check fails on this excerpt.
#[test]
fn real_ing_camt053_batch_v02() {
    let rel = "camt053/real-ing-batch-v02.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        own: "NL18INGB00012345678",
        ccy: "EUR",
        ..E::default()
    };
    let nap = |v| Some((NotAPayment, v));
    #[rustfmt::skip]
    let want = [
        E { row: 1, pref: "68047a4871ab34285b5555555502010c", amt: "4753.74", rej: Some(( BatchWithoutDetails, "PmtInfId=O0OpeAYTkhjerKu3eE9asw NbOfTxs=3", )), vd: "2019-05-21", ..b },
        E { row: 2, instr: "GBSXX21170607391766562", pref: "s8ecaaf0f96f492f603167c748a0b1c6", acct: "NL86INGB00066666666", amt: "2688.00", rej: nap("CRDT PMNT/RCDT/ESCT"), vd: "2019-06-13", ..b },
        E { row: 3, pref: "d36e51a0ff7e4561b11c2b1c5d79d9ea", acct: "NL11INGB0001234567", amt: "5000.00", rej: nap("CRDT PMNT/RCDT/ESCT"), vd: "2019-06-18", ..b },
    ];
    assert_rows(rel, &rows, &want);
    let s = &info.statements[0];
    assert_eq!(
        (s.from.as_str(), s.to.as_str()),
        ("2019-01-01", "2019-06-23")
    );
    assert_eq!(
        s.checks,
        [
            check("TxsSummry/TtlNtries/NbOfNtries", "35", "3", false),
            check("TxsSummry/TtlNtries/Sum", "41136.40", "12441.74", false),
            check("TxsSummry/TtlCdtNtries/NbOfNtries", "9", "2", false),
            check("TxsSummry/TtlCdtNtries/Sum", "28422.40", "7688.00", false),
            check("TxsSummry/TtlDbtNtries/NbOfNtries", "26", "1", false),
            check("TxsSummry/TtlDbtNtries/Sum", "12714.00", "4753.74", false),
            // 7329.80 + 2688.00 + 5000.00 - 4753.74
            check(
                "balance OPBD + CRDT - DBIT = CLBD",
                "23038.20",
                "10264.06",
                false
            ),
        ]
    );
}

/// genkgo/camt fixture, camt.053.001.08: `<Sts><Cd>` (PITFALLS B1), the account as
/// Othr/Id, a zero amount in another currency than the entry's.
#[test]
fn real_genkgo_camt053_v08() {
    let rel = "camt053/real-genkgo-v08.xml";
    let (rows, info) = read_file(rel);
    let want = [E {
        row: 1,
        own: "NL26VAYB8060476890",
        instr: "MUELL/FINP/RA12345",
        pref: "AAAASESS-FP-CN_98765/01",
        acct: "NL56AGDH9619008421",
        amt: "0",
        ccy: "SEK",
        rej: Some((NotAPayment, "CRDT PMNT/RCDT/BOOK")),
        vd: "2015-01-02",
        ..E::default()
    }];
    assert_rows(rel, &rows, &want);
    // OPBD 18.15 CRDT + 8.85 (valued 2015-01-02, after the CLBD date) against a CLBD of
    // 27.00 DBIT: the fixture's figures do not balance under either convention.
    assert_eq!(
        info.statements[0].checks,
        [check(
            "balance OPBD + CRDT - DBIT = CLBD",
            "-27.00",
            "27.00 (all booked entries) or 18.15 (booked entries with value date on or before \
             2014-12-30)",
            false
        )]
    );
}

/// prowide-iso20022 fixture, camt.053.001.07 in an AppHdr inside a `<message>` wrapper
/// (PITFALLS B3): a statement without entries.
#[test]
fn real_prowide_camt053_in_an_application_header_envelope() {
    let (rows, info) = read_file("camt053/real-prowide-apphdr-v07.xml");
    assert!(rows.is_empty());
    assert_eq!(info.version, "camt.053.001.07");
    assert_eq!(
        info.statements,
        [Statement {
            id: "SDFSDF".into(),
            account: "2345234534".into(),
            ..Statement::default()
        }]
    );
}

/// PostFinance camt.054.001.04 returns notification: a credit with RtrInf and RRTN is a
/// RETURNED row naming the beneficiary's account (DbtrAcct of a credit).
#[test]
fn real_postfinance_camt054_returns() {
    let rel = "camt054/real-postfinance-returns-v04.xml";
    let (rows, info) = read_file(rel);
    let want = [E {
        row: 1,
        own: "CH2909000000250094239",
        instr: "EndToEndId-004-01-01",
        pref: "180327CH02P92DYD",
        acct: "CH8709000000929471495",
        amt: "400.00",
        ccy: "CHF",
        ok: Some(Returned),
        vd: "2019-05-20",
        ..E::default()
    }];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "camt.054.001.04");
    assert_eq!(
        info.statements[0].checks,
        [check("Btch/NbOfTxs (entry 1)", "1", "1", true)]
    );
}

/// PostFinance camt.054.001.04 debit notification: one settled payment.
#[test]
fn real_postfinance_camt054_debit() {
    let rel = "camt054/real-postfinance-debit-v04.xml";
    let (rows, info) = read_file(rel);
    let want = [E {
        row: 1,
        own: "CH2909000000250094239",
        instr: "20190424001255000100006",
        pref: "25-1120172999-2",
        amt: "913.00",
        ccy: "CHF",
        ok: Some(Settled),
        vd: "2019-04-25",
        ..E::default()
    }];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.statements[0].checks, []);
    assert_eq!(info.statements[0].id, "20190424375204222704047");
}

/// genkgo/camt fixture, camt.054.001.08: one debit entry with three TxDtls (the direction is
/// the entry's, whatever each TxDtls says); its Btch declares 2 transactions of 6.3.
#[test]
fn real_genkgo_camt054_batch_v08() {
    let rel = "camt054/real-genkgo-batch-v08.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        own: "CH2801234000123456789",
        ccy: "CHF",
        ok: Some(Settled),
        vd: "2007-10-18",
        ..E::default()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "UXC06170000006PI00001EE00001", pref: "ACSR160617103200001/1", acct: "CH4112345003131313131", amt: "3.1", ..b },
        E { row: 2, instr: "UXC06170000006PI00001EE00002", pref: "ACSR160617103200001/2", acct: "CH7212345003232323232", amt: "3.2", ..b },
        E { row: 3, instr: "UXC06170000006PI00001EE00002", pref: "ACSR160617103200001/3", acct: "CH7212345003232323232", amt: "3.2", ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(
        info.statements[0].checks,
        [
            check("Btch/NbOfTxs (entry 1)", "2", "3", false),
            check("Btch/TtlAmt (entry 1)", "6.3", "9.5", false),
        ]
    );
}

/// Nordea pain.002.001.03: two rejected transactions under a rejected payment information,
/// without StsId, amounts or accounts (PITFALLS B9).
#[test]
fn real_nordea_pain002_transaction_rejects() {
    let rel = "pain002/real-nordea-txn-reject.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        ok: Some(Failed),
        vd: "2015-07-28",
        vd_orig: Some("2015-07-28T10:40:14Z"),
        ..E::default()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "ENDTOENDID-950-TEST2-2807-02", pref: "XML990920150728124014189/1", ..b },
        E { row: 2, instr: "ENDTOENDID-950-TEST2-2807-01", pref: "XML990920150728124014189/2", ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "pain.002.001.03");
    assert_eq!(info.notices, Vec::<String>::new());
}

/// Nordea pain.002.001.03: a payment information rejected as a whole, no transactions.
#[test]
fn real_nordea_pain002_payment_reject_is_a_notice() {
    let (rows, info) = read_file("pain002/real-nordea-payment-reject.xml");
    assert!(rows.is_empty());
    assert_eq!(
        info.notices,
        [
            "payment information PMTINFID-COM-SCE25-1707-01 status RJCT (reason NARR) without \
          transaction details: no rows"
        ]
    );
}

/// Goldman Sachs pain.002.001.03: an accepted (ACCP) transaction is not final; its
/// AcctSvcrRef names the report, so the reference is M/n (CONTRACT 7.3).
#[test]
fn real_goldman_pain002_accepted_is_not_final() {
    let rel = "pain002/real-goldman-accepted.xml";
    let (rows, _) = read_file(rel);
    let want = [E {
        row: 1,
        instr: "GSDGFKfLURaHb",
        pref: "1036XXX/1",
        amt: "10.00",
        ccy: "USD",
        rej: Some((NotFinal, "ACCP")),
        vd: "2020-08-20",
        vd_orig: Some("2020-08-20T15:25:48"),
        ..E::default()
    }];
    assert_rows(rel, &rows, &want);
}

/// Cross River pain.002.001.03: `Xmlns` (capital X) declares no namespace, so there is no
/// version; three rejected transactions, two with the same instruction id.
#[test]
fn real_cross_river_pain002_without_a_namespace() {
    let rel = "pain002/real-crossriver-txn-rejected.xml";
    let (rows, info) = read_file(rel);
    let b = E {
        ok: Some(Failed),
        vd: "2020-10-26",
        vd_orig: Some("2020-10-26T11:49:33.620Z"),
        ..E::default()
    };
    #[rustfmt::skip]
    let want = [
        E { row: 1, instr: "sanity-10-1-12-1-21", pref: "abcdefg0123456789/1", ..b },
        E { row: 2, instr: "example01234567", pref: "abcdefg0123456789/2", ..b },
        E { row: 3, instr: "example012345678", pref: "abcdefg0123456789/3", ..b },
    ];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "");
}

/// PostFinance pain.002.001.03.ch.02 (Swiss namespace): a rejected transaction valued by
/// its interbank settlement date; and two reports without transactions.
#[test]
fn real_postfinance_pain002() {
    let rel = "pain002/real-postfinance-pmt-reject.xml";
    let (rows, info) = read_file(rel);
    let want = [E {
        row: 1,
        instr: "EndToEndId-006-01-01",
        pref: "20180326375204011678275/1",
        ok: Some(Failed),
        vd: "2018-03-27",
        ..E::default()
    }];
    assert_rows(rel, &rows, &want);
    assert_eq!(info.version, "pain.002.001.03.ch.02");

    let (rows, info) = read_file("pain002/real-postfinance-group-reject.xml");
    assert!(rows.is_empty());
    assert_eq!(
        info.notices,
        ["group status RJCT (reason AM10) without transaction details: no rows"]
    );

    let (rows, info) = read_file("pain002/real-postfinance-pmt-accepted.xml");
    assert!(rows.is_empty());
    assert_eq!(
        info.notices,
        ["payment information PmtInfId-CHDD-1 status ACCP without transaction details: no rows"]
    );
}

// ---------------------------------------------------------------------------------------
// Recognising (CONTRACT 7.1)
// ---------------------------------------------------------------------------------------

fn refusal(bytes: &[u8]) -> FormatError {
    match recognised(bytes) {
        Recognised::Refused(e) => e,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

fn hostile(name: &str) -> Vec<u8> {
    std::fs::read(testdata(&format!("hostile-xml/{name}"))).unwrap()
}

#[test]
fn each_message_is_recognised_by_its_element_in_any_envelope_or_version() {
    let kind = |rel: &str| recognised(&std::fs::read(testdata(rel)).unwrap());
    use Recognised::Provider;
    assert_eq!(kind("camt053/real-nordea-v02.xml"), Provider(Kind::Camt053));
    assert_eq!(
        kind("camt053/real-prowide-apphdr-v07.xml"),
        Provider(Kind::Camt053)
    );
    assert_eq!(
        kind("camt054/rule-envelope-prefix.xml"),
        Provider(Kind::Camt054)
    );
    assert_eq!(kind("pain002/rule-v02.xml"), Provider(Kind::Pain002));
    assert_eq!(
        kind("pain002/real-crossriver-txn-rejected.xml"),
        Provider(Kind::Pain002)
    );
    // A UTF-8 byte-order mark and blank lines before the declaration are fine.
    let mut bom = b"\xEF\xBB\xBF\n  ".to_vec();
    bom.extend(std::fs::read(testdata("camt053/rule-amount.xml")).unwrap());
    assert_eq!(recognised(&bom), Provider(Kind::Camt053));
    assert_eq!(read_as(Kind::Camt053, &bom).unwrap().0.len(), 7);
    // Version 1 named its message element BkToCstmrStmtV01.
    let v1 = br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.01"><BkToCstmrStmtV01/></Document>"#;
    assert_eq!(recognised(v1), Provider(Kind::Camt053));
}

#[test]
fn what_is_not_xml_is_left_to_the_other_readers() {
    use sverka_formats::iso20022;
    assert_eq!(iso20022::recognise(b"instruction_id,amount\nA,1\n"), None);
    assert_eq!(iso20022::recognise(b":20:STMT\n:25:DE89\n"), None);
    assert_eq!(iso20022::recognise(b""), None);
    assert_eq!(iso20022::recognise(b"\xEF\xBB\xBF   "), None);
    // A UTF-16 CSV (a provider profile may declare one) is not XML.
    let csv16: Vec<u8> = b"\xFF\xFE"
        .iter()
        .copied()
        .chain("id;amount\r\n".encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    assert_eq!(iso20022::recognise(&csv16), None);
}

#[test]
fn other_iso20022_messages_are_refused_by_name() {
    let e = refusal(&hostile("camt052-report.xml"));
    assert!(
        e.message.starts_with(
            "an ISO 20022 BkToCstmrAcctRpt (camt.052.001.08) message, not a statement sverka reads"
        ),
        "{e}"
    );
    assert!(e.message.contains("camt.053 (BkToCstmrStmt)"), "{e}");
    let e = refusal(&hostile("pain001-initiation.xml"));
    assert!(
        e.message
            .starts_with("an ISO 20022 CstmrCdtTrfInitn (pain.001.001.09) message"),
        "{e}"
    );
    let e = refusal(&hostile("not-iso.xml"));
    assert!(
        e.message
            .starts_with("an XML file (root element <payments>) that holds no ISO 20022 message"),
        "{e}"
    );
    // Read anyway (the caller named the kind), the same refusal comes with its place.
    let e = read_as(Kind::Camt053, &hostile("camt052-report.xml")).unwrap_err();
    assert_eq!(
        e.place,
        "line 3 (byte 107), element Document/BkToCstmrAcctRpt"
    );
    // A file of another kind than the one asked for.
    let bytes = std::fs::read(testdata("camt054/rule-notification.xml")).unwrap();
    let e = read_as(Kind::Camt053, &bytes).unwrap_err();
    assert_eq!(
        e.message,
        "the file holds a camt.054 message where a camt.053 was expected"
    );
}

#[test]
fn utf16_other_encodings_and_doctype_are_refused_naming_them() {
    let e = refusal(&hostile("utf16le-bom.xml"));
    assert!(
        e.message
            .starts_with("the file is XML in UTF-16LE: ISO 20022 XML is UTF-8"),
        "{e}"
    );
    let e = refusal(&hostile("utf16be-no-bom.xml"));
    assert!(e.message.starts_with("the file is XML in UTF-16BE"), "{e}");
    let e = refusal(&hostile("latin1-declared.xml"));
    assert!(
        e.message.starts_with(
            "the XML declaration says encoding=\"ISO-8859-1\": ISO 20022 XML is UTF-8"
        ),
        "{e}"
    );
    for name in ["billion-laughs.xml", "xxe-system-entity.xml"] {
        let e = refusal(&hostile(name));
        assert!(
            e.message
                .starts_with("the file has a <!DOCTYPE> declaration"),
            "{name}: {e}"
        );
        let e = read_as(Kind::Camt053, &hostile(name)).unwrap_err();
        assert!(
            e.message
                .starts_with("the file has a <!DOCTYPE> declaration"),
            "{name}: {e}"
        );
    }
}

#[test]
fn a_head_that_ends_before_the_message_is_judged_by_what_it_has_seen() {
    // An application header longer than the head: its MsgDefIdr says what follows.
    let mut long = String::from("<BizMsgEnvlp><AppHdr><MsgDefIdr>camt.053.001.08</MsgDefIdr>");
    while long.len() < SNIFF_BYTES + 1000 {
        long.push_str("<Rltd><BizMsgIdr>X</BizMsgIdr></Rltd>");
    }
    long.push_str("</AppHdr><Document><BkToCstmrStmt/></Document></BizMsgEnvlp>");
    assert_eq!(
        recognised(long.as_bytes()),
        Recognised::Provider(Kind::Camt053)
    );
    // Nothing to go by: refused, saying what was looked for.
    let mut comment = String::from("<root><!-- ");
    comment.push_str(&"x".repeat(SNIFF_BYTES));
    comment.push_str(" --><Document/></root>");
    let e = refusal(comment.as_bytes());
    assert!(
        e.message
            .contains("no ISO 20022 message element in its first 64 KiB"),
        "{e}"
    );
    // The whole file ends before its message element.
    let e = refusal(br#"<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">"#);
    assert!(
        e.message
            .contains("ends inside <Document> before any ISO 20022 message element"),
        "{e}"
    );
    let e = refusal(br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>"#);
    assert!(e.message.contains("holds no ISO 20022 message"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Hostile and damaged files (PITFALLS 2.6, H5, H12)
// ---------------------------------------------------------------------------------------

fn read_error(kind: Kind, bytes: &[u8]) -> FormatError {
    match read_as(kind, bytes) {
        Ok((rows, _)) => panic!("read {} rows, expected an error", rows.len()),
        Err(e) => e,
    }
}

#[test]
fn a_doctype_is_refused_wherever_it_is() {
    let mut late = String::from("<!-- ");
    late.push_str(&"x".repeat(70_000));
    late.push_str(" -->\n<!DOCTYPE Document [<!ENTITY a \"b\">]>\n<Document/>");
    let e = read_error(Kind::Camt053, late.as_bytes());
    assert!(
        e.message
            .starts_with("the file has a <!DOCTYPE> declaration"),
        "{e}"
    );
    assert_eq!(e.place, "line 2 (byte 70010)");
}

#[test]
fn only_the_five_xml_entities_and_character_references_are_resolved() {
    let e = read_error(Kind::Camt053, &hostile("undefined-entity.xml"));
    assert_eq!(
        e.place,
        "line 4 (byte 143), element Document/BkToCstmrStmt/GrpHdr/MsgId"
    );
    assert!(
        e.message
            .starts_with("the entity &nbsp; is not one of XML's five"),
        "{e}"
    );
    // Character references are text: `&#x41;` is `A`.
    let bytes = std::fs::read(testdata("camt053/rule-amount.xml")).unwrap();
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("PAY-3", "PAY-&#x33;&#51;&lt;");
    let (rows, _) = read_as(Kind::Camt053, text.as_bytes()).unwrap();
    assert_eq!(rows[2].instruction_id, "PAY-33<");
    let bad = text.replace("PAY-&#x33;", "PAY-&#0;");
    let e = read_error(Kind::Camt053, bad.as_bytes());
    assert!(
        e.message.contains("not a character reference XML allows"),
        "{e}"
    );
}

#[test]
fn bytes_that_are_not_utf8_are_refused_naming_their_offset() {
    let e = read_error(Kind::Camt053, &hostile("invalid-utf8.xml"));
    assert_eq!(
        e.place,
        "line 2 (byte 135), element Document/BkToCstmrStmt/GrpHdr/MsgId"
    );
    assert!(e.message.starts_with("this byte is not UTF-8"), "{e}");
    // In an element name, and cut at the very end of the file.
    let e = read_error(
        Kind::Camt053,
        b"<Document><BkToCstmrStmt><Gr\xFFpHdr/></BkToCstmrStmt></Document>",
    );
    assert!(e.place.contains("(byte 28)"), "{e}");
    let e = read_error(
        Kind::Camt053,
        b"<Document><BkToCstmrStmt><GrpHdr><MsgId>AB\xE2\x82",
    );
    assert!(e.message.starts_with("this byte is not UTF-8"), "{e}");
    assert!(e.place.contains("(byte 42)"), "{e}");
    // Past the first windows, behind a long comment and after a window's last `<`.
    for pad in [0, 1, 2, 3] {
        let mut bytes = b"<Document><BkToCstmrStmt><GrpHdr><!--".to_vec();
        bytes.resize(bytes.len() + 300_000 + pad, b'c');
        bytes.extend_from_slice(b"--><MsgId>A");
        let at = bytes.len();
        bytes.extend_from_slice(b"\xE2\x28</MsgId></GrpHdr></BkToCstmrStmt></Document>");
        let e = read_error(Kind::Camt053, &bytes);
        assert!(e.message.starts_with("this byte is not UTF-8"), "{e}");
        assert!(e.place.contains(&format!("(byte {at})")), "{e}");
    }
}

#[test]
fn a_truncated_file_is_an_error_naming_where_it_ends() {
    let e = read_error(Kind::Camt053, &hostile("truncated-inside-entry.xml"));
    assert_eq!(
        e.place,
        "line 19 (byte 1005), element Document/BkToCstmrStmt/Stmt[1]/Ntry[2]"
    );
    assert_eq!(
        e.message,
        "the file ends inside <Ntry> at byte 1005: it may be truncated"
    );
    let e = read_error(Kind::Camt053, &hostile("truncated-inside-tag.xml"));
    assert!(e.message.starts_with("the file ends inside a tag"), "{e}");
    assert!(
        e.place
            .ends_with("element Document/BkToCstmrStmt/Stmt[1]/Ntry[2]"),
        "{e}"
    );
    let e = read_error(Kind::Camt053, &hostile("mismatched-end-tag.xml"));
    assert_eq!(e.message, "</AcctSvcrRf> closes <AcctSvcrRef>: the XML is not well-formed (damaged or cut and joined)");
    // Whitespace after an end tag's name is XML; the name is shown without it.
    let text =
        String::from_utf8(std::fs::read(testdata("camt053/rule-amount.xml")).unwrap()).unwrap();
    let spaced = text.replace("</Amt>", "</Amt \n\t>");
    assert_ne!(spaced, text);
    assert_eq!(
        read_as(Kind::Camt053, spaced.as_bytes()).unwrap().0,
        read_as(Kind::Camt053, text.as_bytes()).unwrap().0
    );
    let e = read_error(
        Kind::Camt053,
        text.replacen("</Amt>", "</Amnt >", 1).as_bytes(),
    );
    assert_eq!(
        e.message,
        "</Amnt> closes <Amt>: the XML is not well-formed (damaged or cut and joined)"
    );
    // No message element at all.
    let e = read_error(
        Kind::Camt053,
        br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"/>"#,
    );
    assert!(e.message.contains("holds no ISO 20022 message"), "{e}");
}

#[test]
fn content_after_the_root_element_is_an_error_not_ignored() {
    let e = read_error(Kind::Camt054, &hostile("garbage-after-root.xml"));
    assert!(
        e.message
            .starts_with("another element <Document> after the end of the root element"),
        "{e}"
    );
    let e = read_error(Kind::Camt054, &hostile("text-after-root.xml"));
    assert!(
        e.message
            .starts_with("text after the end of the root element"),
        "{e}"
    );
    let e = read_error(Kind::Camt053, &hostile("two-messages.xml"));
    assert!(e.message.starts_with("a second message in one file"), "{e}");
    assert_eq!(
        e.place,
        "line 7 (byte 276), element BizMsgEnvlp/Document[2]/BkToCstmrStmt"
    );
    // Whitespace and comments after the root are fine.
    let mut ok = std::fs::read(testdata("camt054/rule-notification.xml")).unwrap();
    ok.extend_from_slice(b"\n<!-- signed -->\n\n");
    assert_eq!(read_as(Kind::Camt054, &ok).unwrap().0.len(), 4);
}

/// The reader parses the file in windows of 256 KiB that end before a `<`; an item that
/// holds a `<` itself (a comment, CDATA) may be cut by a window's end and is parsed again
/// with the next. Padding moves every tag, text and reference of a real file across a
/// window's end in turn: what is read never changes.
#[test]
fn window_ends_anywhere_in_the_file_change_nothing() {
    let bytes = std::fs::read(testdata("camt053/rule-amount.xml")).unwrap();
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("PAY-3", "PAY-&amp;3&#x41;");
    let (want, want_info) = read_as(Kind::Camt053, text.as_bytes()).unwrap();
    assert_eq!(want[2].instruction_id, "PAY-&3A");
    // Between elements, where whitespace is nobody's text.
    let at = text.find("</GrpHdr>").unwrap() + "</GrpHdr>".len();
    let window = 256 * 1024;
    for (filler, step) in [(" ", 1), ("<!-- a<b -->", 7), ("<![CDATA[<]]>", 7)] {
        for shift in (0..text.len() - at).step_by(step) {
            // The first window ends within the padding plus `shift` bytes of the file.
            let room = window - at - shift;
            let pad = match filler {
                " " => " ".repeat(room),
                f => format!(
                    "{}<!--{}-->",
                    f.repeat(room / f.len() / 2),
                    "<".repeat(room / 2)
                ),
            };
            let moved = format!("{}{pad}{}", &text[..at], &text[at..]);
            let got = read_as(Kind::Camt053, moved.as_bytes());
            let (rows, info) = got.unwrap_or_else(|e| panic!("{filler:?} shift {shift}: {e}"));
            assert_eq!(rows.len(), want.len(), "{filler:?} shift {shift}");
            for (a, b) in rows.iter().zip(&want) {
                assert_eq!(
                    (&a.instruction_id, &a.amount, &a.currency, &a.provider_ref),
                    (&b.instruction_id, &b.amount, &b.currency, &b.provider_ref),
                    "{filler:?} shift {shift}"
                );
            }
            assert_eq!(info.statements.len(), want_info.statements.len());
        }
    }
}

#[test]
fn deep_nesting_long_texts_and_long_items_are_capped() {
    let head =
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><Stmt>"#;
    let deep = format!("{head}{}", "<x>".repeat(100_000));
    let e = read_error(Kind::Camt053, deep.as_bytes());
    assert!(
        e.message
            .starts_with("elements are nested deeper than 64 levels"),
        "{e}"
    );
    assert_eq!(
        recognised(deep.as_bytes()),
        Recognised::Provider(Kind::Camt053)
    );
    // 100,000-deep with no message element: the head alone decides, without recursion.
    let e = refusal("<a>".repeat(100_000).as_bytes());
    assert!(e.message.contains("root element <a>"), "{e}");

    let long_text = format!(
        "{head}<Id>{}</Id></Stmt></BkToCstmrStmt></Document>",
        "A".repeat(100_000)
    );
    let e = read_error(Kind::Camt053, long_text.as_bytes());
    assert!(
        e.message
            .starts_with("the text of this element is longer than 64 KiB"),
        "{e}"
    );
    assert!(
        e.place
            .ends_with("element Document/BkToCstmrStmt/Stmt[1]/Id"),
        "{e}"
    );
    // The same length made of many references is still one text.
    let refs = format!(
        "{head}<Id>{}</Id></Stmt></BkToCstmrStmt></Document>",
        "&amp;".repeat(70_000)
    );
    let e = read_error(Kind::Camt053, refs.as_bytes());
    assert!(
        e.message
            .starts_with("the text of this element is longer than 64 KiB"),
        "{e}"
    );

    let comment = format!(
        "{head}<!--{}--></Stmt></BkToCstmrStmt></Document>",
        "c".repeat(3 << 20)
    );
    let e = read_error(Kind::Camt053, comment.as_bytes());
    assert!(
        e.message
            .starts_with("one XML item (a tag, a text, a comment) runs over 1024 KiB"),
        "{e}"
    );
    let attribute = format!(
        r#"{head}<Ntry><Amt Ccy="{}">1</Amt></Ntry>"#,
        "E".repeat(3 << 20)
    );
    let e = read_error(Kind::Camt053, attribute.as_bytes());
    assert!(e.message.starts_with("one XML item"), "{e}");
}

// ---------------------------------------------------------------------------------------
// Mutation: no byte sequence makes the reader panic, and what it reads stays consistent
// ---------------------------------------------------------------------------------------

/// xorshift64*: a tiny deterministic generator, so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const BYTES: &[u8] = b"<>&/\";#!?=x \n\xFF\xC3\xA9\x00";
const SNIPPETS: &[&str] = &[
    "<!DOCTYPE a [<!ENTITY b \"c\">]>",
    "&b;",
    "&#0;",
    "&#x1F600;",
    "<![CDATA[<Ntry>]]>",
    "<Ntry>",
    "</Ntry>",
    "<TxDtls>",
    "</TxDtls>",
    "<NtryDtls><Btch><NbOfTxs>7</NbOfTxs></Btch></NtryDtls>",
    "<Stmt><Id>X</Id>",
    "<TxInfAndSts><TxSts>RJCT</TxSts></TxInfAndSts>",
    "<?pi x?>",
    "<!--",
    "\u{FEFF}",
    "<Amt Ccy=\"EUR\">1</Amt>",
    "<Amt Ccy=\"&lt;\">99999999999999999999999.5</Amt>",
    "<Sts>BOOK</Sts>",
    "<CdtDbtInd>CRDT</CdtDbtInd>",
    "<RtrInf/>",
    "<ns:Ntry xmlns:ns=\"x\">",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..1 + rng.below(3) {
        let at = rng.below(v.len() + 1);
        match rng.below(7) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            1 => v.insert(at, BYTES[rng.below(BYTES.len())]),
            2 => {
                let end = (at + 1 + rng.below(16)).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let end = (at + 1 + rng.below(64)).min(v.len());
                let piece = v[at.min(end)..end].to_vec();
                let to = rng.below(v.len() + 1);
                v.splice(to..to, piece);
            }
            4 => v.truncate(at),
            5 => {
                let s = SNIPPETS[rng.below(SNIPPETS.len())].as_bytes();
                v.splice(at..at, s.iter().copied());
            }
            _ => {
                // Swap a code for another where one is written.
                let text = String::from_utf8_lossy(&v).into_owned();
                let pairs = [
                    ("DBIT", "CRDT"),
                    ("BOOK", "PDNG"),
                    ("Ntry>", "TxDtls>"),
                    ("RJCT", "ACSC"),
                ];
                let (a, b) = pairs[rng.below(pairs.len())];
                if text.contains(a) {
                    v = text.replacen(a, b, 1).into_bytes();
                }
            }
        }
    }
    v
}

/// What any successful read must satisfy: rows numbered 1..n in order, counted per
/// statement and in total, references unique.
fn assert_consistent(rows: &[Txn], info: &FileInfo) {
    let mut refs = std::collections::HashSet::new();
    for (i, t) in rows.iter().enumerate() {
        assert_eq!(t.row, i as u64 + 1);
        assert!(t.statement < info.statements.len());
        assert!(
            refs.insert(t.provider_ref.clone()),
            "repeated reference {}",
            t.provider_ref
        );
        assert_eq!(t.status.is_some(), t.rejection.is_none());
    }
    assert_eq!(info.transactions, rows.len() as u64);
    let per_statement: u64 = info.statements.iter().map(|s| s.transactions).sum();
    assert_eq!(per_statement, rows.len() as u64);
}

#[test]
fn thousands_of_mutations_never_panic() {
    let mut files = Vec::new();
    for dir in ["camt053", "camt054", "pain002", "hostile-xml"] {
        for e in std::fs::read_dir(testdata(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "xml") {
                files.push(std::fs::read(&p).unwrap());
            }
        }
    }
    assert!(files.len() >= 40, "{} files", files.len());
    let mut rng = Rng(0x5EED_CA47_0053_0054);
    let mut read_ok = 0;
    let rounds = 1000;
    for original in &files {
        for _ in 0..rounds {
            let bytes = mutate(&mut rng, original);
            let _ = recognised(&bytes);
            for kind in [Kind::Camt053, Kind::Camt054, Kind::Pain002] {
                if let Ok((rows, info)) = read_as(kind, &bytes) {
                    assert_consistent(&rows, &info);
                    read_ok += 1;
                }
            }
        }
    }
    // The mutations leave many files readable: the test exercises the mapping, not only
    // the XML errors.
    assert!(
        read_ok > files.len() * rounds / 10,
        "{read_ok} reads succeeded"
    );
}

// ---------------------------------------------------------------------------------------
// Throughput and memory on a synthetic payroll (ignored: run with --release --ignored)
// ---------------------------------------------------------------------------------------

/// A camt.053 of one payroll debit entry with `n` TxDtls, written as it is read, so a
/// 1.5 GB file needs no disk.
struct Payroll {
    n: u64,
    next: u64,
    buf: Vec<u8>,
    at: usize,
    done: bool,
}

impl Payroll {
    fn new(n: u64) -> Self {
        let head = format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08">
  <BkToCstmrStmt>
    <GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-11-06T06:00:00</CreDtTm></GrpHdr>
    <Stmt>
      <Id>BENCH-STMT</Id>
      <Acct><Id><IBAN>UZ0000000000AGENCY000001</IBAN></Id></Acct>
      <Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="UZS">{open}.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-04</Dt></Dt></Bal>
      <Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="UZS">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-05</Dt></Dt></Bal>
      <TxsSummry><TtlNtries><NbOfNtries>1</NbOfNtries><Sum>{open}.00</Sum></TtlNtries></TxsSummry>
      <Ntry>
        <Amt Ccy="UZS">{open}.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><Dt>2026-11-05</Dt></BookgDt><ValDt><Dt>2026-11-05</Dt></ValDt>
        <AcctSvcrRef>PAYROLL-2026-11</AcctSvcrRef>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <Btch><PmtInfId>PAYROLL-2026-11</PmtInfId><NbOfTxs>{n}</NbOfTxs><TtlAmt Ccy="UZS">{open}.00</TtlAmt></Btch>
"#,
            open = n * 450_000
        );
        Payroll {
            n,
            next: 0,
            buf: head.into_bytes(),
            at: 0,
            done: false,
        }
    }

    fn refill(&mut self) {
        use std::io::Write;
        self.buf.clear();
        self.at = 0;
        let end = (self.next + 256).min(self.n);
        for i in self.next..end {
            let _ = write!(
                self.buf,
                r#"          <TxDtls>
            <Refs><MsgId>PAYROLL-2026-11</MsgId><AcctSvcrRef>BNK{i:010}</AcctSvcrRef><PmtInfId>PAYROLL-2026-11</PmtInfId><InstrId>I{i:09}</InstrId><EndToEndId>UZ-CT-2026-11-{i:09}</EndToEndId></Refs>
            <Amt Ccy="UZS">450000.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
            <AmtDtls><InstdAmt><Amt Ccy="UZS">450000.00</Amt></InstdAmt><TxAmt><Amt Ccy="UZS">450000.00</Amt></TxAmt></AmtDtls>
            <RltdPties>
              <Dbtr><Pty><Nm>Social Protection Agency</Nm></Pty></Dbtr>
              <DbtrAcct><Id><IBAN>UZ0000000000AGENCY000001</IBAN></Id></DbtrAcct>
              <Cdtr><Pty><Nm>Beneficiary {i:09}</Nm></Pty></Cdtr>
              <CdtrAcct><Id><Othr><Id>8600{i:012}</Id></Othr></Id></CdtrAcct>
            </RltdPties>
            <RmtInf><Ustrd>Social assistance, November 2026</Ustrd></RmtInf>
          </TxDtls>
"#
            );
        }
        self.next = end;
        if end == self.n && !self.done {
            self.buf.extend_from_slice(
                b"        </NtryDtls>\n      </Ntry>\n    </Stmt>\n  </BkToCstmrStmt>\n</Document>\n",
            );
            self.done = true;
        }
    }
}

impl std::io::Read for Payroll {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.buf.len() {
            if self.done {
                return Ok(0);
            }
            self.refill();
        }
        let n = (self.buf.len() - self.at).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// 2,000,000 transactions (`SVERKA_BENCH_STREAM`) streamed from the generator, for the
/// memory a reader needs; then `SVERKA_BENCH_TXNS` (200,000) read from memory, for
/// throughput. Peak RSS is the process's high-water mark.
#[test]
#[ignore]
fn bench_synthetic_payroll() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let big = env("SVERKA_BENCH_STREAM", 2_000_000);
    let started = std::time::Instant::now();
    let mut count = 0u64;
    let mut sink = |_: &Txn, _: &[Statement]| {
        count += 1;
        Ok(())
    };
    let info = read(Kind::Camt053, &mut ReadOnly(Payroll::new(big)), &mut sink).unwrap();
    assert_eq!(count, big);
    assert!(info.statements[0].checks.iter().all(|c| c.ok));
    println!(
        "{big} transactions streamed in {:.1} s (generator included); peak RSS {} MiB",
        started.elapsed().as_secs_f64(),
        peak_rss_kib() / 1024
    );

    let n = env("SVERKA_BENCH_TXNS", 200_000);
    let mut bytes = Vec::new();
    Payroll::new(n).read_to_end(&mut bytes).unwrap();
    let started = std::time::Instant::now();
    let mut count = 0u64;
    let mut settled = 0u64;
    let mut sink = |t: &Txn, _: &[Statement]| {
        count += 1;
        settled += u64::from(t.status == Some(Settled));
        Ok(())
    };
    let info = read(Kind::Camt053, &mut Cursor::new(&bytes), &mut sink).unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!((count, settled), (n, n));
    assert!(
        info.statements[0].checks.iter().all(|c| c.ok),
        "{:?}",
        info.statements[0].checks
    );
    println!(
        "{n} transactions, {:.1} MB in {secs:.2} s: {:.0} MB/s, {:.0} transactions/s",
        bytes.len() as f64 / 1e6,
        bytes.len() as f64 / 1e6 / secs,
        n as f64 / secs
    );
}

/// A `Read` made a `Source` (the reader never seeks).
struct ReadOnly<R>(R);

impl<R: std::io::Read> std::io::Read for ReadOnly<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(out)
    }
}

impl<R> std::io::Seek for ReadOnly<R> {
    fn seek(&mut self, _: std::io::SeekFrom) -> std::io::Result<u64> {
        Err(std::io::Error::other("not seekable"))
    }
}

#[test]
fn an_entry_or_transaction_out_of_place_is_an_error_not_lost() {
    let bytes = std::fs::read(testdata("camt053/rule-amount.xml")).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    // Transaction details directly in the entry, without NtryDtls.
    let flat = text.replacen(
        "<NtryDtls><TxDtls><Amt Ccy=\"EUR\">200.00</Amt></TxDtls></NtryDtls>",
        "<TxDtls><Amt Ccy=\"EUR\">200.00</Amt></TxDtls>",
        1,
    );
    let e = read_error(Kind::Camt053, flat.as_bytes());
    assert!(
        e.message
            .starts_with("<TxDtls> where the camt schema has none"),
        "{e}"
    );
    assert!(
        e.place
            .ends_with("element Document/BkToCstmrStmt/Stmt[1]/Ntry[2]/TxDtls[1]"),
        "{e}"
    );
    // An entry outside any statement.
    let loose = text.replacen(
        "<Stmt>",
        "<Ntry><Amt Ccy=\"EUR\">1.00</Amt></Ntry><Stmt>",
        1,
    );
    let e = read_error(Kind::Camt053, loose.as_bytes());
    assert!(
        e.message
            .starts_with("<Ntry> where the camt schema has none"),
        "{e}"
    );
}
