//! `sverka inspect PATH... [--providers FILE] [--instructions]`: how settlement (or
//! instruction) files will be read
//! (`sverka_engine::inspect`), as text for a person writing a provider profile, or JSON.

use std::fmt::Write as _;

use sverka_engine::inspect::{inspect, Inspected};
use sverka_engine::ProviderOptions;

use crate::args::InspectArgs;
use crate::Failure;

pub fn run(a: InspectArgs) -> Result<u8, Failure> {
    let mut providers = ProviderOptions {
        // Every check is shown with its outcome; a failed one is not a stop here.
        control_warn: true,
        ..Default::default()
    };
    if let Some(p) = &a.providers {
        sverka_engine::providers::load(p, &mut providers)?;
    }
    let side = if a.instructions {
        sverka_engine::Side::Instructions
    } else {
        sverka_engine::Side::Settlements
    };
    let files = inspect(&a.paths, side, &providers, a.rows)?;
    if a.json {
        let text = serde_json::to_string_pretty(&files)
            .map_err(|e| sverka_engine::Error::Internal(format!("inspect JSON: {e}")))?;
        crate::print_line(&text).map_err(Failure::Stdout)?;
    } else {
        let mut text = String::new();
        for f in &files {
            describe(&mut text, f);
        }
        crate::print(text).map_err(Failure::Stdout)?;
    }
    Ok(if files.iter().any(|f| f.error.is_some()) {
        2
    } else {
        0
    })
}

/// One file as text.
fn describe(out: &mut String, f: &Inspected) {
    let _ = writeln!(out, "{}", f.path);
    if let Some(e) = &f.error {
        let _ = writeln!(out, "  cannot be read: {e}\n");
        return;
    }
    if let Some(i) = &f.input {
        let version = i
            .version
            .as_deref()
            .map(|v| format!(" ({v})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  format      {}{version}", i.format);
        if let Some(p) = &i.provider {
            let _ = writeln!(out, "  provider    {p} (given as CODE=PATH)");
        }
        let _ = writeln!(out, "  rows        {}", i.rows);
        for s in &i.statements {
            let _ = writeln!(
                out,
                "  statement   {} account {} {}..{}: {} entries, {} transactions",
                s.id, s.account, s.from, s.to, s.entries, s.transactions
            );
        }
        for c in i.control.iter().flatten() {
            let _ = writeln!(
                out,
                "  control     {} {}: declared {}, found {}: {}",
                c.statement, c.check, c.declared, c.found, c.outcome
            );
        }
        for n in &i.notices {
            let _ = writeln!(out, "  notice      {n}");
        }
    }
    for r in &f.rows {
        let values: Vec<String> = r
            .values
            .iter()
            .map(|(k, v)| {
                let v = v.as_str().unwrap_or_default();
                match r.original.get(k).and_then(|o| o.as_str()) {
                    Some(o) => format!("{k}={v:?} (file: {o:?})"),
                    None => format!("{k}={v:?}"),
                }
            })
            .collect();
        let verdict = match &r.reject {
            None => "accepted".to_string(),
            Some(j) => format!(
                "reject {} ({}: {:?})",
                j.reason,
                j.column.unwrap_or("row"),
                j.value.as_deref().unwrap_or("")
            ),
        };
        let _ = writeln!(out, "  row {}  {verdict}\n    {}", r.row, values.join(" "));
    }
    out.push('\n');
}
