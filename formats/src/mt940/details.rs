//! What a `:86:` says about its transaction (CONTRACT 7.3): batch and return markers,
//! the end-to-end reference and the counterparty account, from the German structure
//! (`166?00GUTSCHRIFT?20EREF+…?31DE…`, also with `>` as separator, as Triodos writes it)
//! and the Dutch one (`/EREF/…/`, `/CNTP/iban/…`, `/IBAN/…/`, `/RTRN/`, `/PREF/`).

use crate::absent_reference;

/// Longest end-to-end reference (SEPA `EndToEndId`, 35 characters).
const MAX_EREF_CHARS: usize = 35;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Details {
    /// German business transaction code (`Geschäftsvorfallcode`), the 3 digits before the
    /// first separator.
    pub(crate) gvc: Option<String>,
    pub(crate) batch: bool,
    pub(crate) returned: bool,
    /// The end-to-end reference, when present and not absent by CONTRACT 7.
    pub(crate) eref: Option<String>,
    /// The counterparty account as written.
    pub(crate) iban: Option<String>,
}

/// The subfields `?NN` of a German structured `:86:` (the text after the GVC), in order.
struct Subfields<'a> {
    text: &'a str,
    sep: u8,
    pos: usize,
}

impl<'a> Subfields<'a> {
    /// Where the next `?NN` starts at or after `from`.
    fn next_start(&self, from: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        (from..b.len().saturating_sub(2))
            .find(|&i| b[i] == self.sep && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit())
    }
}

impl<'a> Iterator for Subfields<'a> {
    type Item = (u8, &'a str);

    fn next(&mut self) -> Option<(u8, &'a str)> {
        let start = self.next_start(self.pos)?;
        let b = self.text.as_bytes();
        let key = (b[start + 1] - b'0') * 10 + (b[start + 2] - b'0');
        let end = self.next_start(start + 3).unwrap_or(b.len());
        self.pos = end;
        // Separators and digits are ASCII: both ends are char boundaries.
        Some((key, self.text.get(start + 3..end).unwrap_or("")))
    }
}

/// `GVC` and separator when the text is German structured: three digits, then `?` and a
/// two-digit subfield number. Triodos writes the same layout with `>`; CONTRACT 7.3 names
/// the `?NN` subfields only, so such text is read as unstructured (as an independent
/// implementation of the contract reads it).
fn german(text: &str) -> Option<(&str, Subfields<'_>)> {
    let b = text.as_bytes();
    let sep = *b.get(3)?;
    let structured = b.len() >= 6
        && b[..3].iter().all(u8::is_ascii_digit)
        && sep == b'?'
        && b[4].is_ascii_digit()
        && b[5].is_ascii_digit();
    structured.then(|| {
        (
            &text[..3],
            Subfields {
                text: &text[3..],
                sep,
                pos: 0,
            },
        )
    })
}

/// Starts with a SEPA keyword: four capitals and `+` or `:` (`SVWZ+`, `MTLG:`).
fn keyword_start(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 5 && b[..4].iter().all(u8::is_ascii_uppercase) && matches!(b[4], b'+' | b':')
}

/// What the contract reads from German subfields, found in one pass.
#[derive(Default)]
struct German<'a> {
    text00: Option<&'a str>,
    account: Option<&'a str>,
    /// The text after `EREF+` in `?20`–`?29`, and the subfield right after it when that
    /// one is in `?20`–`?29` and does not start with a keyword.
    eref: Option<&'a str>,
    eref_next: Option<&'a str>,
}

fn german_fields(fields: Subfields<'_>) -> German<'_> {
    let mut g = German::default();
    let mut after_eref = false;
    for (key, v) in fields {
        let purpose = (20..=29).contains(&key);
        if std::mem::take(&mut after_eref) && purpose && !keyword_start(v) {
            g.eref_next = Some(v);
        }
        match key {
            0 if g.text00.is_none() => g.text00 = Some(v),
            31 if g.account.is_none() => g.account = Some(v),
            _ if purpose && g.eref.is_none() => {
                g.eref = v.trim_start().strip_prefix("EREF+");
                after_eref = g.eref.is_some();
            }
            _ => {}
        }
    }
    g
}

/// The end-to-end reference: `EREF+` text continued into the next subfield, cut to 35
/// characters.
fn german_eref(g: &German<'_>) -> Option<String> {
    let mut eref = g.eref?.to_string();
    eref.push_str(g.eref_next.unwrap_or(""));
    if eref.chars().count() > MAX_EREF_CHARS {
        eref = eref.chars().take(MAX_EREF_CHARS).collect();
    }
    Some(eref)
}

/// The value of a Dutch `/CODE/value/` field: up to the next `/`.
fn dutch<'a>(text: &'a str, code: &str) -> Option<&'a str> {
    let i = text.find(code)?;
    let rest = &text[i + code.len()..];
    Some(rest.split('/').next().unwrap_or(rest).trim())
}

fn present(v: &str) -> Option<String> {
    (!absent_reference(v)).then(|| v.trim().to_string())
}

pub(crate) fn analyse(text: &str) -> Details {
    let text = text.trim_start();
    let mut d = Details {
        batch: text.contains("/PREF/"),
        returned: text.contains("/RTRN/"),
        ..Details::default()
    };
    if let Some((gvc, fields)) = german(text) {
        let g = german_fields(fields);
        let starts = |word: &str| g.text00.is_some_and(|v| v.trim_start().starts_with(word));
        d.batch |= gvc == "191" || starts("SAMMLER");
        d.returned |= gvc == "159" || starts("RETOURE");
        d.eref = german_eref(&g).and_then(|e| present(&e));
        d.iban = g
            .account
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        d.gvc = Some(gvc.to_string());
    }
    if d.eref.is_none() {
        d.eref = dutch(text, "/EREF/").and_then(present);
    }
    if d.iban.is_none() {
        d.iban = ["/IBAN/", "/CNTP/"]
            .iter()
            .find_map(|code| dutch(text, code).filter(|v| !v.is_empty()))
            .map(str::to_string);
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_structure() {
        let d = analyse(
            "166?00GUTSCHRIFT?100399?20EREF+EndToEndId TFNR 22 004?21 00001?22SVWZ+Verw \
             CTSc-01 BC-PPP TF?23Nr 22 004?30DRESDEFF508?31DE14508800500194785000?32KARL",
        );
        assert_eq!(d.gvc.as_deref(), Some("166"));
        assert_eq!(d.eref.as_deref(), Some("EndToEndId TFNR 22 004 00001"));
        assert_eq!(d.iban.as_deref(), Some("DE14508800500194785000"));
        assert!(!d.batch && !d.returned);
        let d = analyse("079?00SAMMLER?109800?200904059001");
        assert!(d.batch && !d.returned);
        let d = analyse("159?00RETOURE?20EREF+TFNR 40001 00005?21MTLG:Grund");
        assert!(d.returned);
        assert_eq!(d.eref.as_deref(), Some("TFNR 40001 00005"));
        assert!(analyse("191?00SEPA-UEBERW").batch);
        assert_eq!(analyse("166?20EREF+NOTPROVIDED?21SVWZ+X").eref, None);
        // Cut at 35 characters.
        let d = analyse("166?20EREF+123456789012345678901234567?21ABCDEFGHIJKLMNOP");
        assert_eq!(
            d.eref.as_deref(),
            Some("123456789012345678901234567ABCDEFGH")
        );
        // Triodos' `>` separator is not the contract's `?`: unstructured text.
        let d = analyse("000>100987654321>20KOSTEN>310390123456");
        assert_eq!((d.gvc.as_deref(), d.iban.as_deref()), (None, None));
    }

    #[test]
    fn dutch_structure() {
        let d = analyse(
            "/EREF/E2E2014030100899040//CNTP/NL08INGB0000001234/INGBNL2A/ING Testrekening/\
             AMSTERDAM//REMI/STRD/CUR/5200150700013379/",
        );
        assert_eq!(d.eref.as_deref(), Some("E2E2014030100899040"));
        assert_eq!(d.iban.as_deref(), Some("NL08INGB0000001234"));
        assert_eq!(d.gvc, None);
        let d = analyse("/RTRN/MS03//BUSP/Europese Incasso/eenmalig//EREF/EV45451/");
        assert!(d.returned && !d.batch);
        assert!(analyse("/BUSP/Verzamel///PREF/M000000002222222//REMI/").batch);
        assert_eq!(
            analyse("/IBAN/NL65BUNQ2206724936/NAME/P.C. Wacki/REMI/")
                .iban
                .as_deref(),
            Some("NL65BUNQ2206724936")
        );
        assert_eq!(
            analyse("/TRTP/X/EREF/11-09-2015 12:00").eref.as_deref(),
            Some("11-09-2015 12:00")
        );
        assert_eq!(analyse("0111111111 GPSEOUL").eref, None);
    }
}
