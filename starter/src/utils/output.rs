//! What a binary prints on standard output: its results, as text or as one JSON document.
//!
//! Logs go to standard error ([`flex_logging`](super::flex_logging)), so standard output holds
//! the results alone: `2>/dev/null` hides the logs, and `--json` output can be piped straight
//! into another program (`jq`, a script, a notebook).

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result};

// ANCHOR: print_json
/// Prints `value` on standard output as one JSON document, followed by a newline.
///
/// # Errors
///
/// [`Error::Io`] when standard output cannot be written (a closed pipe, a full disk): a
/// `println!` would panic there instead.
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(out))
        .map_err(|e| Error::io("standard output", e))
}
// ANCHOR_END: print_json

// ANCHOR: print_line
/// Prints one line of text results on standard output.
///
/// A reader that stopped reading (`svdb search … | head`) closes the pipe: that ends the
/// output quietly, as for any Unix tool, where `println!` would panic.
///
/// # Errors
///
/// [`Error::Io`] when standard output cannot be written for another reason (a full disk).
pub fn print_line(line: std::fmt::Arguments<'_>) -> Result<()> {
    match writeln!(std::io::stdout().lock(), "{line}") {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Error::io("standard output", e))
        }
        _ => Ok(()),
    }
}
// ANCHOR_END: print_line
