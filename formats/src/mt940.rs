//! SWIFT MT940 / MT942 (CONTRACT 7.1, 7.3, 7.5). To be written.

use crate::{FileInfo, FormatError, Source, TxnSink};

pub fn recognise(_head: &[u8]) -> bool {
    false
}

pub fn read(_input: &mut dyn Source, _sink: TxnSink<'_>) -> Result<FileInfo, FormatError> {
    Err(FormatError {
        place: String::new(),
        message: "MT940 reader not written yet".into(),
    })
}
