//! Coloured, one-line log records, as in the original's `flex_logging`.
//!
//! Each record reads `time - LEVEL - message`, with the level painted green (info), yellow
//! (warning) or red (error). The original also printed `(file:line)`; it is left out here because
//! the location `log` records is where the macro was written, and for every record logged
//! through a helper (`timeit`, `exit_code`) that is the helper's line, never its caller's: a
//! location that points at the wrong place is worse than none.
//!
//! It is [`env_logger`] underneath, so `RUST_LOG` works as usual. Every binary logs under its
//! own name (`main_sqlite`, …) and the library under `simple_vector_db`, so `RUST_LOG=debug`
//! turns on both, `RUST_LOG=main_sqlite=debug` the binary's records only. Colours are dropped
//! when the output is not a terminal (a file, a pipe, CI) or when `NO_COLOR` is set, so logs
//! stay readable as plain text.

use std::io::{IsTerminal, Write};

use colored::{ColoredString, Colorize};
use log::Level;

// ANCHOR: init
/// Installs the coloured logger; `info` and above unless `RUST_LOG` says otherwise.
///
/// Calling it again does nothing, so every binary and test may call it freely.
pub fn init() {
    let use_colour = colours_wanted(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR"),
    );
    // `colored` decides on its own too; make it agree with our decision.
    colored::control::set_override(use_colour);
    let _already_initialised =
        env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
            .format(|buf, record| {
                writeln!(
                    buf,
                    "{} - {} - {}",
                    buf.timestamp_millis(),
                    paint_level(record.level()),
                    record.args(),
                )
            })
            .try_init();
}
// ANCHOR_END: init

// ANCHOR: colours
/// Colour only a terminal, and never when the user set `NO_COLOR` (see <https://no-color.org>).
pub fn colours_wanted(is_terminal: bool, no_color: Option<std::ffi::OsString>) -> bool {
    let no_color_set = no_color.is_some_and(|v| !v.is_empty());
    is_terminal && !no_color_set
}

/// The level's name in its colour: info green, warning yellow, error red.
fn paint_level(level: Level) -> ColoredString {
    let name = level.as_str();
    match level {
        Level::Error => name.red().bold(),
        Level::Warn => name.yellow(),
        Level::Info => name.green(),
        Level::Debug | Level::Trace => name.normal(),
    }
}
// ANCHOR_END: colours

// ANCHOR: exit_code
/// What a binary's `main` returns: success, or the error logged in red and exit code 1.
pub fn exit_code(outcome: crate::Result<()>) -> std::process::ExitCode {
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            log::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}
// ANCHOR_END: exit_code

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours_wanted(true, None));
        assert!(!colours_wanted(false, None));
        assert!(!colours_wanted(true, Some("1".into())));
        // An empty NO_COLOR does not count as set.
        assert!(colours_wanted(true, Some("".into())));
    }

    #[test]
    fn initialising_twice_is_harmless() {
        init();
        init();
        log::info!("logger initialised twice without a panic");
    }
}
