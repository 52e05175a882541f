//! Instruction ids, message ids and run ids: deterministic, so that re-running the same
//! payroll gives the same ids and the ledger can refuse to issue one twice.
//!
//! An instruction id is `SV{attempt}-{26 base32 characters}` (at most 32 characters for
//! attempts up to 999): the base32 text (RFC 4648, `A-Z2-7`, no padding) of the first 130
//! bits of SHA-256 over the length-prefixed fields `program`, `cycle`, `beneficiary_id`
//! and the attempt number. It fits pain.001's `EndToEndId` (Max35Text) and uses only
//! characters of the SEPA/SWIFT restricted set, so no provider has to rewrite it.

use data_encoding::BASE32_NOPAD;
use sha2::{Digest, Sha256};

/// Highest attempt number an id can carry (keeps ids at most 32 characters).
pub const MAX_ATTEMPT: u32 = 999;
/// Base32 characters of the hash kept in an instruction id (130 bits).
const HASH_CHARS: usize = 26;

fn put(h: &mut Sha256, s: &[u8]) {
    h.update((s.len() as u64).to_le_bytes());
    h.update(s);
}

/// The instruction id of (programme, cycle, beneficiary, attempt); `attempt` is 1-based.
pub fn instruction_id(program: &str, cycle: &str, beneficiary: &str, attempt: u32) -> String {
    let mut out = String::with_capacity(32);
    instruction_id_into(program, cycle, beneficiary, attempt, &mut out);
    out
}

/// As [`instruction_id`], appending to `out` (no allocation per row on the hot path).
pub fn instruction_id_into(
    program: &str,
    cycle: &str,
    beneficiary: &str,
    attempt: u32,
    out: &mut String,
) {
    debug_assert!((1..=MAX_ATTEMPT).contains(&attempt));
    let mut h = Sha256::new();
    h.update(b"sverka-instruction-v1");
    put(&mut h, program.as_bytes());
    put(&mut h, cycle.as_bytes());
    put(&mut h, beneficiary.as_bytes());
    h.update(attempt.to_le_bytes());
    let digest = h.finalize();
    // 17 bytes encode to 28 characters; 26 are kept.
    let mut buf = [0u8; 28];
    BASE32_NOPAD.encode_mut(&digest[..17], &mut buf);
    out.push_str("SV");
    out.push_str(&attempt.to_string());
    out.push('-');
    out.push_str(std::str::from_utf8(&buf[..HASH_CHARS]).expect("base32 is ASCII"));
}

/// The attempt number an id claims (`SV3-...` → 3), if it has our shape. Callers confirm
/// it by recomputing the id from the row's fields.
pub fn claimed_attempt(id: &str) -> Option<u32> {
    let rest = id.strip_prefix("SV")?;
    let (n, hash) = rest.split_once('-')?;
    if n.is_empty() || n.len() > 3 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if hash.len() != HASH_CHARS {
        return None;
    }
    n.parse().ok().filter(|a| (1..=MAX_ATTEMPT).contains(a))
}

/// A short deterministic id (`prefix` + 28 base32 characters) from a hash of `parts`.
pub fn digest_id(prefix: &str, parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        put(&mut h, p);
    }
    let digest = h.finalize();
    let mut buf = [0u8; 28];
    BASE32_NOPAD.encode_mut(&digest[..17], &mut buf);
    format!(
        "{prefix}{}",
        std::str::from_utf8(&buf).expect("base32 is ASCII")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_short_and_restricted() {
        let a = instruction_id("CASH", "2026-11", "B1", 1);
        assert_eq!(a, instruction_id("CASH", "2026-11", "B1", 1));
        assert_ne!(a, instruction_id("CASH", "2026-11", "B1", 2));
        assert_ne!(a, instruction_id("CASH", "2026-1", "1B1", 1));
        // Length-prefixing: moving a character between fields changes the id.
        assert_ne!(
            instruction_id("AB", "C", "D", 1),
            instruction_id("A", "BC", "D", 1)
        );
        let long = instruction_id("P", "C", "B", MAX_ATTEMPT);
        assert!(long.len() <= 35, "{long}");
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-'));
        assert_eq!(claimed_attempt(&a), Some(1));
        assert_eq!(claimed_attempt(&long), Some(MAX_ATTEMPT));
        assert_eq!(claimed_attempt("INS-1"), None);
        assert_eq!(claimed_attempt("SV0-AAAAAAAAAAAAAAAAAAAAAAAAAA"), None);
    }

    /// Pins the id scheme: changing it would make the ledger re-issue everything.
    #[test]
    fn id_scheme_is_pinned() {
        assert_eq!(
            instruction_id("CASH_TRANSFER", "2026-11", "B0001", 1),
            PINNED
        );
    }
    const PINNED: &str = "SV1-IM7FF3CA5C3GXJMLJTPHZTJTB5";
}

#[cfg(test)]
mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any programme, cycle and beneficiary text gives an id that pain.001 and the
        /// contract accept, that claims its attempt, and that no other attempt shares.
        #[test]
        fn any_fields_give_a_usable_id(p in "\\PC{0,40}", c in "\\PC{0,12}", b in "\\PC{0,40}", a in 1u32..=MAX_ATTEMPT) {
            let id = instruction_id(&p, &c, &b, a);
            prop_assert!(id.len() <= 35);
            prop_assert!(id.bytes().all(|x| x.is_ascii_uppercase() || x.is_ascii_digit() || x == b'-'));
            prop_assert_eq!(claimed_attempt(&id), Some(a));
            let other = if a == 1 { 2 } else { a - 1 };
            prop_assert_ne!(instruction_id(&p, &c, &b, other), id);
        }
    }
}
