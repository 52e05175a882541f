//! `sverka verify RESULTS_DIR [--inputs PATH...]`: prints each discrepancy the audit
//! crate finds; exit 0 when everything holds, 1 on any discrepancy, 2 for an unusable folder.

use crate::args::VerifyArgs;
use crate::Failure;

pub fn run(a: VerifyArgs) -> Result<u8, Failure> {
    let r = sverka_audit::verify::verify(&a.dir, &a.inputs)?;
    if a.json {
        let text = serde_json::to_string_pretty(&r.to_json()).expect("json");
        crate::print(format_args!("{text}\n"))?;
    } else {
        crate::print(r.text())?;
    }
    Ok(if r.discrepancies.is_empty() { 0 } else { 1 })
}
