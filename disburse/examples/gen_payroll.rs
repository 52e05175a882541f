//! Writes a synthetic payroll for benchmarks: `gen_payroll N OUT.csv`.
//!
//! Four providers in equal shares (UZCARD cards and PAYME wallets as CSV, HAMKOR account
//! numbers and JOBANK IBANs as pain.001), two programmes, two due dates; every 1000th row
//! has a card failing Luhn (held), every 5000th an amount with too many decimals
//! (rejected). Deterministic: the same N gives the same bytes.

use std::io::{BufWriter, Write};

fn luhn_digit(body: &str) -> u8 {
    // Check digit that makes body + digit pass Luhn.
    let mut sum = 0u32;
    for (i, b) in body.bytes().rev().enumerate() {
        let mut d = (b - b'0') as u32;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    ((10 - sum % 10) % 10) as u8
}

fn iban_jo(n: u64) -> String {
    let bban = format!("CBJO0010{n:018}");
    let rearranged = format!("{bban}JO00");
    let mut rem = 0u32;
    for c in rearranged.chars() {
        let v = if c.is_ascii_digit() {
            c.to_digit(10).unwrap()
        } else {
            c as u32 - 'A' as u32 + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    format!("JO{:02}{bban}", 98 - rem)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: gen_payroll N OUT.csv");
        std::process::exit(2);
    }
    let n: u64 = args[1].parse().expect("N");
    let f = std::fs::File::create(&args[2]).expect("create");
    let mut w = BufWriter::with_capacity(1 << 20, f);
    writeln!(
        w,
        "beneficiary_id,program,cycle,provider,account,amount,currency,due_date,beneficiary_name"
    )
    .unwrap();
    for i in 0..n {
        let program = if i % 7 == 0 {
            "CHILD_BENEFIT"
        } else {
            "CASH_TRANSFER"
        };
        let due = if i % 3 == 0 {
            "2026-11-06"
        } else {
            "2026-11-05"
        };
        let sum_uzs = 300_000 + (i % 7) * 100_000;
        let (provider, account, amount, ccy) = match i % 4 {
            0 => {
                let body = format!("8600{:011}", i);
                let mut d = luhn_digit(&body);
                if i % 1000 == 0 {
                    d = (d + 1) % 10;
                }
                (
                    "UZCARD",
                    format!("{body}{d}"),
                    format!("{sum_uzs}.00"),
                    "UZS",
                )
            }
            1 => (
                "PAYME",
                format!("+99890{:07}", i % 10_000_000),
                format!("{sum_uzs}.00"),
                "UZS",
            ),
            2 => (
                "HAMKOR",
                format!("2020800{:013}", i),
                format!("{sum_uzs}.00"),
                "UZS",
            ),
            _ => ("JOBANK", iban_jo(i), format!("{}.500", 100 + i % 50), "JOD"),
        };
        let amount = if i % 5000 == 4999 {
            format!("{amount}5")
        } else {
            amount
        };
        writeln!(
            w,
            "B{i:09},{program},2026-11,{provider},{account},{amount},{ccy},{due},Beneficiary {i}"
        )
        .unwrap();
    }
    w.flush().unwrap();
}
