//! ISO 20022 camt.053, camt.054 and pain.002 (CONTRACT 7.1, 7.3, 7.5). To be written.

use crate::{FileInfo, FormatError, Kind, Recognised, Source, TxnSink};

pub fn recognise(_head: &[u8]) -> Option<Recognised> {
    None
}

pub fn read(
    _kind: Kind,
    _input: &mut dyn Source,
    _sink: TxnSink<'_>,
) -> Result<FileInfo, FormatError> {
    Err(FormatError {
        place: String::new(),
        message: "ISO 20022 reader not written yet".into(),
    })
}
