//! What every fuzz target checks: any bytes through recognition and the readers of
//! `kinds` give no panic, no hang and bounded memory (PITFALLS.md 2.6, H12), and every
//! transaction handed out is numbered in document order.

use sverka_formats::{read, recognise, Kind, Recognised, Statement, Txn};

pub fn check(data: &[u8], kinds: &[Kind]) {
    for &kind in kinds {
        let mut next = 1u64;
        let mut sink = |t: &Txn, _: &[Statement]| {
            assert_eq!(t.row, next, "transactions numbered in document order");
            next += 1;
            Ok(())
        };
        if let Ok(info) = read(kind, &mut std::io::Cursor::new(data), &mut sink) {
            assert_eq!(info.transactions, next - 1);
        }
    }
    if let Recognised::Provider(kind) = recognise(data) {
        let mut sink = |_: &Txn, _: &[Statement]| Ok(());
        let _ = read(kind, &mut std::io::Cursor::new(data), &mut sink);
    }
}
