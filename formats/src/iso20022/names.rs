//! Element local names as small integers: the walker names each element once, when it
//! opens, and the readers match paths of these instead of comparing byte strings at every
//! element and every level.

macro_rules! names {
    ($($name:ident = $text:literal,)*) => {
        /// A local name the readers match on or that is common in ISO 20022 files; every
        /// other name is `Other` (the path keeps its bytes).
        // Variants are spelled as the XML names (`IBAN`), which keeps patterns readable.
        #[allow(clippy::upper_case_acronyms)]
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u8)]
        pub(super) enum Name {
            Other,
            $($name,)*
        }

        impl Name {
            /// The name of a local name as written.
            pub(super) fn of(local: &[u8]) -> Name {
                // Byte-string patterns against a slice compile to a decision tree on the
                // length and the bytes, not to one comparison per name.
                match local {
                    $($text => Name::$name,)*
                    _ => Name::Other,
                }
            }

            /// The local name (empty for `Other`).
            pub(super) fn text(self) -> &'static [u8] {
                self.as_str().as_bytes()
            }

            /// The local name (empty for `Other`).
            pub(super) fn as_str(self) -> &'static str {
                // A table, not a `match`: that became a jump through a table of code
                // addresses, mispredicted at nearly every element.
                const TEXTS: &[&str] = &["", $(stringify!($name),)*];
                TEXTS.get(self as usize).copied().unwrap_or_default()
            }

            /// Whether the name ends with `Amt`: an amount element, with its `Ccy`.
            pub(super) fn is_amount(self) -> bool {
                const AMOUNTS: &[bool] = &[false, $(ends_with_amt($text),)*];
                AMOUNTS.get(self as usize).copied().unwrap_or_default()
            }
        }

        #[cfg(test)]
        const ALL: &[Name] = &[$(Name::$name,)*];
    };
}

const fn ends_with_amt(name: &[u8]) -> bool {
    matches!(name, [.., b'A', b'm', b't'])
}

names! {
    // camt
    Stmt = b"Stmt",
    Ntfctn = b"Ntfctn",
    Ntry = b"Ntry",
    NtryDtls = b"NtryDtls",
    TxDtls = b"TxDtls",
    Bal = b"Bal",
    RtrInf = b"RtrInf",
    BkTxCd = b"BkTxCd",
    Domn = b"Domn",
    Cd = b"Cd",
    Fmly = b"Fmly",
    SubFmlyCd = b"SubFmlyCd",
    Prtry = b"Prtry",
    Id = b"Id",
    IBAN = b"IBAN",
    Othr = b"Othr",
    Refs = b"Refs",
    EndToEndId = b"EndToEndId",
    InstrId = b"InstrId",
    AcctSvcrRef = b"AcctSvcrRef",
    Amt = b"Amt",
    AmtDtls = b"AmtDtls",
    TxAmt = b"TxAmt",
    TtlChrgsAndTaxAmt = b"TtlChrgsAndTaxAmt",
    Chrgs = b"Chrgs",
    RltdPties = b"RltdPties",
    CdtrAcct = b"CdtrAcct",
    DbtrAcct = b"DbtrAcct",
    Btch = b"Btch",
    PmtInfId = b"PmtInfId",
    NbOfTxs = b"NbOfTxs",
    TtlAmt = b"TtlAmt",
    CdtDbtInd = b"CdtDbtInd",
    RvslInd = b"RvslInd",
    Sts = b"Sts",
    BookgDt = b"BookgDt",
    ValDt = b"ValDt",
    Dt = b"Dt",
    DtTm = b"DtTm",
    Acct = b"Acct",
    FrToDt = b"FrToDt",
    FrDtTm = b"FrDtTm",
    FrDt = b"FrDt",
    ToDtTm = b"ToDtTm",
    ToDt = b"ToDt",
    Tp = b"Tp",
    CdOrPrtry = b"CdOrPrtry",
    NbOfNtries = b"NbOfNtries",
    Sum = b"Sum",
    TxsSummry = b"TxsSummry",
    TtlNtries = b"TtlNtries",
    TtlCdtNtries = b"TtlCdtNtries",
    TtlDbtNtries = b"TtlDbtNtries",
    // pain.002
    TxInfAndSts = b"TxInfAndSts",
    OrgnlPmtInfAndSts = b"OrgnlPmtInfAndSts",
    StsId = b"StsId",
    OrgnlInstrId = b"OrgnlInstrId",
    OrgnlEndToEndId = b"OrgnlEndToEndId",
    TxSts = b"TxSts",
    InstdAmt = b"InstdAmt",
    OrgnlTxRef = b"OrgnlTxRef",
    IntrBkSttlmDt = b"IntrBkSttlmDt",
    ReqdExctnDt = b"ReqdExctnDt",
    OrgnlPmtInfId = b"OrgnlPmtInfId",
    PmtInfSts = b"PmtInfSts",
    StsRsnInf = b"StsRsnInf",
    Rsn = b"Rsn",
    StsRsn = b"StsRsn",
    GrpHdr = b"GrpHdr",
    MsgId = b"MsgId",
    CreDtTm = b"CreDtTm",
    OrgnlGrpInfAndSts = b"OrgnlGrpInfAndSts",
    GrpSts = b"GrpSts",
    // Matched by no reader but frequent: naming them spares keeping their bytes.
    Nm = b"Nm",
    Pty = b"Pty",
    Dbtr = b"Dbtr",
    Cdtr = b"Cdtr",
    AddtlInf = b"AddtlInf",
    AddtlNtryInf = b"AddtlNtryInf",
    AddtlTxInf = b"AddtlTxInf",
    RmtInf = b"RmtInf",
    Ustrd = b"Ustrd",
    Ccy = b"Ccy",
    Ownr = b"Ownr",
    ElctrncSeqNb = b"ElctrncSeqNb",
    TtlNetNtry = b"TtlNetNtry",
    Document = b"Document",
    BkToCstmrStmt = b"BkToCstmrStmt",
    BkToCstmrDbtCdtNtfctn = b"BkToCstmrDbtCdtNtfctn",
    CstmrPmtStsRpt = b"CstmrPmtStsRpt",
    OrgnlMsgId = b"OrgnlMsgId",
    OrgnlMsgNmId = b"OrgnlMsgNmId",
    DbtrAgt = b"DbtrAgt",
    CdtrAgt = b"CdtrAgt",
    FinInstnId = b"FinInstnId",
    BICFI = b"BICFI",
    UltmtDbtr = b"UltmtDbtr",
    UltmtCdtr = b"UltmtCdtr",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_its_own_text() {
        for &n in ALL {
            assert_eq!(Name::of(n.text()), n);
            assert_eq!(format!("{n:?}"), n.as_str());
            assert_eq!(n.is_amount(), n.as_str().ends_with("Amt"));
        }
        assert_eq!(Name::of(b""), Name::Other);
        assert_eq!(Name::of(b"Ntr"), Name::Other);
        assert_eq!(Name::of(b"NtryX"), Name::Other);
        assert_eq!(Name::of(b"ntry"), Name::Other);
    }
}
