//! Fault injection for the kill tests, compiled in only with the `fault-injection` feature
//! (which the CLI's tests turn on as a dev-dependency feature): a release build's payment
//! path has no hook and reads no variable.
//!
//! `SVERKA_FAULT_PAUSE_AT=POINT` or `POINT#K`: at the K-th time (1 by default) the run
//! passes `POINT`, it prints `SVERKA_FAULT POINT#K` on stderr and sleeps, for the test to
//! kill it. `SVERKA_FAULT_TRACE=FILE` appends every point passed, one a line.
//! `SVERKA_FAULT_ON=NAME` turns on a named switch ([`active`]).

#[cfg(feature = "fault-injection")]
mod hooks {
    use std::collections::HashMap;
    use std::io::Write;
    use std::sync::Mutex;

    static SEEN: Mutex<Option<HashMap<String, u64>>> = Mutex::new(None);

    pub fn point(name: &str) {
        let k = {
            let mut seen = SEEN.lock().unwrap_or_else(|p| p.into_inner());
            let n = seen.get_or_insert_with(HashMap::new);
            let k = n.entry(name.to_string()).or_insert(0);
            *k += 1;
            // Traced under the lock, as one write: threads passing points at once (files
            // created in parallel) interleaved the pieces of `writeln!` into one line.
            if let Some(path) = std::env::var_os("SVERKA_FAULT_TRACE") {
                if let Ok(mut f) = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                {
                    let _ = f.write_all(format!("{name}#{k}\n").as_bytes());
                }
            }
            *k
        };
        let Ok(at) = std::env::var("SVERKA_FAULT_PAUSE_AT") else {
            return;
        };
        let (want, nth) = match at.split_once('#') {
            Some((p, n)) => (p.to_string(), n.parse().unwrap_or(1)),
            None => (at, 1),
        };
        if want == name && nth == k {
            eprintln!("SVERKA_FAULT {name}#{k}");
            loop {
                std::thread::sleep(std::time::Duration::from_secs(3600));
            }
        }
    }

    pub fn active(switch: &str) -> bool {
        std::env::var("SVERKA_FAULT_ON").is_ok_and(|v| v.split(',').any(|s| s == switch))
    }
}

/// A named point of a run where a test may stop it (nothing without the feature).
#[cfg(feature = "fault-injection")]
pub fn point(name: &str) {
    hooks::point(name)
}

/// A named point of a run where a test may stop it (nothing without the feature).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn point(_name: &str) {}

/// Whether a test switched on `switch` (always false without the feature).
#[cfg(feature = "fault-injection")]
pub fn active(switch: &str) -> bool {
    hooks::active(switch)
}

/// Whether a test switched on `switch` (always false without the feature).
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn active(_switch: &str) -> bool {
    false
}
