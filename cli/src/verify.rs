//! `sverka verify RESULTS_DIR [--inputs PATH...]`: prints each discrepancy the audit
//! crate finds; exit 0 when everything holds, 1 on any discrepancy, 2 for an unusable folder.

use sverka_engine::Error;

use crate::args::VerifyArgs;

pub fn run(a: VerifyArgs) -> Result<u8, Error> {
    let r = sverka_audit::verify::verify(&a.dir, &a.inputs)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&r.to_json()).expect("json")
        );
    } else {
        print!("{}", r.text());
    }
    Ok(if r.discrepancies.is_empty() { 0 } else { 1 })
}
