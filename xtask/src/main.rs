//! `cargo xtask`: the classroom's tooling, in the spirit of mini-lsm's starter crate.
//!
//! The reference crate is the whole answer. A student instead works in `starter/`, a copy of it
//! in which the body of every function a chapter asks them to write is a `todo!()`, and checks
//! their work chapter by chapter with the tests of `tests/exercises/chNN.rs`, which compile
//! unchanged in both crates. Three commands:
//!
//! * `cargo xtask starter [--check]` writes `starter/` from the reference (or, with `--check`,
//!   fails when the committed copy differs from what it would write);
//! * `cargo xtask check [--reference] [N]` runs chapter N's checks (all chapters without N) on
//!   the starter or on the reference, and prints one line per task, with a hint for a failure;
//! * `cargo xtask verify`, for CI: every task is marked, hinted and tested, the starter is up to
//!   date, and every check fails on the starter and passes on the reference, so that no check
//!   passes whatever the student writes.
//!
//! A task is marked in the reference by two comment lines around the body it replaces,
//! `// ANCHOR: starter_ch05_task1_streaming_top_k` … `// ANCHOR_END: starter_…`. mdBook drops
//! every line that holds an anchor from the listings it includes, so the book shows the code
//! without them, and the compiler never sees them.

mod error;
mod runner;
mod starter;
mod tasks;

use std::path::PathBuf;
use std::process::ExitCode;

use error::{Error, Result};

const USAGE: &str = "\
usage:
  cargo xtask starter [--check]        write starter/ from the reference (--check: compare only)
  cargo xtask check [--reference] [N]  run chapter N's exercise checks (all chapters without N)
                                       on starter/ (or on the reference crate)
  cargo xtask verify                   CI: every check fails on the starter, passes on the reference";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(Error::Usage(message)) => {
            eprintln!("error: {message}\n\n{USAGE}");
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Runs one command; `Ok(false)` when it ran and found a failure (a failing check, a stale
/// starter), which it has already reported.
fn run(args: &[String]) -> Result<bool> {
    let root = workspace_root();
    let (command, rest) = args
        .split_first()
        .ok_or_else(|| Error::Usage("no command given".to_string()))?;
    match command.as_str() {
        "starter" => match rest {
            [] => starter::write(&root).map(|()| true),
            [flag] if flag == "--check" => starter::check(&root),
            _ => Err(Error::Usage(format!("unexpected arguments {rest:?}"))),
        },
        "check" => {
            let (reference, chapter) = parse_check_args(rest)?;
            runner::check(&root, reference, chapter)
        }
        "verify" if rest.is_empty() => runner::verify(&root),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(true)
        }
        other => Err(Error::Usage(format!("unknown command {other:?}"))),
    }
}

/// `[--reference] [N]`, in either order.
fn parse_check_args(args: &[String]) -> Result<(bool, Option<u32>)> {
    let mut reference = false;
    let mut chapter = None;
    for arg in args {
        if arg == "--reference" {
            reference = true;
        } else if let Ok(n) = arg.parse::<u32>() {
            if chapter.replace(n).is_some() {
                return Err(Error::Usage("give at most one chapter".to_string()));
            }
        } else {
            return Err(Error::Usage(format!(
                "{arg:?} is neither --reference nor a chapter number"
            )));
        }
    }
    Ok((reference, chapter))
}

/// The reference crate's directory: the parent of this crate's, wherever cargo was run from.
fn workspace_root() -> PathBuf {
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.clone(), PathBuf::from)
}
