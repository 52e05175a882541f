//! Any bytes as openIMIS's payroll download through `sverka openimis fill`, with a small
//! reconciliation: it never panics, and when it fills nothing it writes the download back
//! byte for byte; every row is filled or listed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;
use sverka_audit::openimis::results::{Instruction, Results};
use sverka_audit::openimis::{fill, Outputs};

fn results() -> &'static Results {
    static R: OnceLock<Results> = OnceLock::new();
    R.get_or_init(|| {
        let ins = |id, status, receipt| Instruction {
            id,
            status,
            flags: "",
            currency: "ZMW",
            amount: 45_000,
            paid: 45_000,
            receipt,
        };
        Results::from_rows([
            ins("BEN-1", "PAID", Some("R,\"1\"")),
            ins("007", "PAID", Some("0012")),
            ins("BEN-2", "UNDERPAID", None),
        ])
        .expect("valid rows")
    })
}

fuzz_target!(|data: &[u8]| {
    let (mut up, mut np) = (Vec::new(), Vec::new());
    let out = Outputs {
        upload: &mut up,
        upload_path: Path::new("upload.csv"),
        not_paid: &mut np,
        not_paid_path: Path::new("not-paid.csv"),
    };
    if let Ok(c) = fill(data, Path::new("download.csv"), results(), out) {
        assert_eq!(c.rows, c.filled + c.left_total());
        if c.filled == 0 {
            assert_eq!(up, data);
        }
        let listed = csv::Reader::from_reader(np.as_slice()).records().count() as u64;
        assert_eq!(listed, c.left_total());
    }
});
