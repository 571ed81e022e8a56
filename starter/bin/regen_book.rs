//! Regenerates the book's outputs and pictures from the current binaries, or checks them.
//!
//! A pasted output drifts the day the code changes; a regenerated one cannot. So every output the
//! book shows is marked in its markdown with the command that prints it, and this tool runs the
//! command and writes what it printed into the block:
//!
//! ````text
//! <!-- output: main_sqlite 2>&1 | mask: times, durations | lines: 1-3 -->
//! ```text
//! (whatever the command prints, rewritten by the tool)
//! ```
//! <!-- end output -->
//! ````
//!
//! The command is a shell command line, as a student would type it after `cargo build --release`,
//! run from the root of the repository with the crate's binaries first on the `PATH`:
//! `main_sqlite 2>&1` shows the log (standard error) and the results (standard output) in the
//! order a terminal shows them. What follows, each after a ` | ` (so the command itself cannot
//! use a shell pipe: the filters do that job), turns the output into what the book shows, in
//! the order given:
//!
//! - `mask: times` replaces the timestamp that starts a log line by `<time>`;
//! - `mask: durations` replaces a number followed by ` seconds` or ` s` by `<t>`;
//! - `lines: 1-3, 9, 12-` keeps those lines (counted from 1, after the masks);
//! - `keep: TEXT` keeps only the lines containing TEXT, `drop: TEXT` removes them.
//!
//! What is left must be the same on every run: seeded data, no timings. A block whose figures
//! are timings is not marked; its text says when and with which command it was recorded.
//!
//! A picture is marked the same way, on the line before the image:
//!
//! ```text
//! <!-- image: main_kmeans_cells -->
//! ![…](images/ch06-kmeans-cells.png)
//! ```
//!
//! and redrawn with `main_kmeans_cells --out <DIR>/ch06-kmeans-cells.png`, `<DIR>` being
//! `tutorial/src/images` unless `--out` says otherwise (to look at a redrawn picture without
//! touching the committed one).
//!
//! ```console
//! cargo run --release --bin regen_book                  # rebuild, rewrite outputs, redraw pictures
//! cargo run --release --bin regen_book -- --check       # only say which outputs differ
//! cargo run --release --bin regen_book -- --out /tmp/pictures
//! ```
//!
//! `tests/book_outputs.rs` runs `--check` under `cargo test`, so an output the code no longer
//! prints fails the test suite.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use clap::Parser;

/// Rewrites (or checks) the book's marked outputs and redraws its marked pictures.
#[derive(Debug, Parser)]
#[command(name = "regen_book", version)]
struct Args {
    /// Only compare every marked output with what its command prints now; change nothing and
    /// draw nothing. Exit code 1 if any differs.
    #[arg(long)]
    check: bool,
    /// Where the book's chapters are.
    #[arg(long, default_value = "tutorial/src")]
    book: PathBuf,
    /// Where to write the pictures (created if missing); the book's own images by default.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Do not redraw the pictures.
    #[arg(long)]
    no_images: bool,
    /// Use the binaries already built in this directory instead of building them first.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

/// Everything that can go wrong, each with the place it concerns.
#[derive(Debug, thiserror::Error)]
enum RegenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}: {reason}")]
    Marker {
        file: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("`{command}` failed ({status}):\n{output}")]
    Command {
        command: String,
        status: String,
        output: String,
    },
    #[error("building the binaries failed ({0})")]
    Build(String),
}

type Result<T> = std::result::Result<T, RegenError>;

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> RegenError + '_ {
    move |source| RegenError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("regen_book: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Returns whether the book is as the code prints it (always true once rewritten).
fn run(args: &Args) -> Result<bool> {
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => build_binaries()?,
    };
    let runner = Runner::new(bin_dir);
    let pictures = args.out.clone().unwrap_or_else(|| args.book.join("images"));
    let mut up_to_date = true;
    for chapter in chapters(&args.book)? {
        let text = std::fs::read_to_string(&chapter).map_err(io_error(&chapter))?;
        let regenerated = regenerate_outputs(&runner, &chapter, &text)?;
        if regenerated != text {
            up_to_date = false;
            if !args.check {
                std::fs::write(&chapter, &regenerated).map_err(io_error(&chapter))?;
                eprintln!("rewrote {}", chapter.display());
            }
        }
        // Image markers are read even by a check, so that a broken one fails it.
        let images = find_images(&chapter, &text)?;
        if !args.check && !args.no_images {
            for image in &images {
                runner.draw(image, &pictures)?;
            }
        }
    }
    // Rewriting brings the book up to date; only a check can find it behind.
    Ok(up_to_date || !args.check)
}

/// The chapter with every marked output replaced by what its command prints now; each block
/// that changed is reported on standard error, with its old and new lines.
fn regenerate_outputs(runner: &Runner, chapter: &Path, text: &str) -> Result<String> {
    let mut regenerated = String::with_capacity(text.len());
    let mut copied_up_to = 0;
    for block in find_blocks(chapter, text)? {
        let now = runner.output(&block.spec)?;
        if now != block.current {
            eprintln!(
                "{}:{}: `{}` now prints\n{}",
                chapter.display(),
                block.marker_line,
                block.spec.command,
                difference(&block.current, &now)
            );
        }
        regenerated.push_str(&text[copied_up_to..block.body.start]);
        regenerated.push_str(&now);
        copied_up_to = block.body.end;
    }
    regenerated.push_str(&text[copied_up_to..]);
    Ok(regenerated)
}

/// Builds every binary in the profile this tool was built in, and returns their directory: the
/// outputs must come from the code as it is now, not from an old build.
fn build_binaries() -> Result<PathBuf> {
    let exe = std::env::current_exe().map_err(io_error(Path::new("regen_book")))?;
    let dir = exe
        .parent()
        .ok_or_else(|| RegenError::Build("the tool's executable has no directory".into()))?
        .to_path_buf();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build.args(["build", "--bins"]);
    if dir.file_name().is_some_and(|name| name == "release") {
        build.arg("--release");
    }
    let status = build
        .status()
        .map_err(|e| RegenError::Build(e.to_string()))?;
    if !status.success() {
        return Err(RegenError::Build(status.to_string()));
    }
    Ok(dir)
}

/// The chapters of the book, in name order.
fn chapters(book: &Path) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(book).map_err(io_error(book))? {
        let path = entry.map_err(io_error(book))?.path();
        if path.extension().is_some_and(|e| e == "md") {
            found.push(path);
        }
    }
    found.sort();
    Ok(found)
}

/// One marked output: its command and filters, and where its text is.
struct Block {
    spec: Spec,
    marker_line: usize,
    /// Byte range of the lines between the fences.
    body: std::ops::Range<usize>,
    current: String,
}

/// A marker's command, and what to do to its output.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Spec {
    command: String,
    filters: Vec<Filter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Filter {
    MaskTimes,
    MaskDurations,
    Lines(Vec<(usize, Option<usize>)>),
    Keep(String),
    Drop(String),
}

const OUTPUT_MARKER: &str = "<!-- output:";
const END_MARKER: &str = "<!-- end output -->";
const IMAGE_MARKER: &str = "<!-- image:";

/// Every marked output of a chapter: a marker line, a fenced block, and the end marker right
/// after the closing fence. Anything else after a marker is an error, not a block silently
/// skipped.
fn find_blocks(file: &Path, text: &str) -> Result<Vec<Block>> {
    let lines = lines_with_offsets(text);
    let marker_error = |line: usize, reason: &str| RegenError::Marker {
        file: file.to_path_buf(),
        line: line + 1,
        reason: reason.to_string(),
    };
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let (_, line) = lines[i];
        let Some(spec) = line
            .trim()
            .strip_prefix(OUTPUT_MARKER)
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            i += 1;
            continue;
        };
        let spec = parse_spec(spec).map_err(|reason| marker_error(i, &reason))?;
        let opening = lines.get(i + 1).filter(|(_, l)| l.starts_with("```"));
        let Some(&(body_start, _)) = opening.and(lines.get(i + 2)) else {
            return Err(marker_error(i, "a marker must be followed by a ``` block"));
        };
        let Some(closing) = (i + 2..lines.len()).find(|&j| lines[j].1.trim_end() == "```") else {
            return Err(marker_error(
                i,
                "the block after the marker is never closed",
            ));
        };
        if lines.get(closing + 1).map(|(_, l)| l.trim()) != Some(END_MARKER) {
            return Err(marker_error(
                i,
                "the block must be followed by <!-- end output -->",
            ));
        }
        let body_end = lines[closing].0;
        blocks.push(Block {
            spec,
            marker_line: i + 1,
            body: body_start..body_end,
            current: text[body_start..body_end].to_string(),
        });
        i = closing + 2;
    }
    Ok(blocks)
}

/// Each line with the byte offset it starts at (the offsets of a closing fence matter).
fn lines_with_offsets(text: &str) -> Vec<(usize, &str)> {
    let mut offset = 0;
    text.split_inclusive('\n')
        .map(|line| {
            let start = offset;
            offset += line.len();
            (start, line.trim_end_matches('\n'))
        })
        .collect()
}

/// `command | filter | filter`: the command, then the filters.
fn parse_spec(spec: &str) -> std::result::Result<Spec, String> {
    let mut parts = spec.split(" | ");
    let command = parts.next().unwrap_or_default().trim().to_string();
    if command.is_empty() {
        return Err("the marker names no command".into());
    }
    let mut filters = Vec::new();
    for part in parts {
        let (name, value) = part
            .split_once(':')
            .ok_or_else(|| format!("`{}` is not `name: value`", part.trim()))?;
        let value = value.trim();
        match name.trim() {
            "mask" => {
                for what in value.split(',').map(str::trim) {
                    filters.push(match what {
                        "times" => Filter::MaskTimes,
                        "durations" => Filter::MaskDurations,
                        other => return Err(format!("unknown mask `{other}`")),
                    });
                }
            }
            "lines" => filters.push(Filter::Lines(parse_ranges(value)?)),
            "keep" => filters.push(Filter::Keep(value.to_string())),
            "drop" => filters.push(Filter::Drop(value.to_string())),
            other => return Err(format!("unknown filter `{other}`")),
        }
    }
    Ok(Spec { command, filters })
}

/// `1-3, 9, 12-`: inclusive ranges of line numbers counted from 1, the last one open.
fn parse_ranges(value: &str) -> std::result::Result<Vec<(usize, Option<usize>)>, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<usize>()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("`{s}` is not a line number (they count from 1)"))
    };
    value
        .split(',')
        .map(|range| match range.split_once('-') {
            Some((from, "")) => Ok((number(from)?, None)),
            Some((from, to)) => Ok((number(from)?, Some(number(to)?))),
            None => number(range).map(|n| (n, Some(n))),
        })
        .collect()
}

/// The marked pictures of a chapter: the command, and the image path the next line shows.
fn find_images(file: &Path, text: &str) -> Result<Vec<(String, PathBuf)>> {
    let lines: Vec<&str> = text.lines().collect();
    let mut images = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(command) = line
            .trim()
            .strip_prefix(IMAGE_MARKER)
            .and_then(|rest| rest.strip_suffix("-->"))
        else {
            continue;
        };
        let target = lines
            .get(i + 1)
            .and_then(|next| next.rsplit_once("](images/"))
            .and_then(|(_, rest)| rest.split_once(')'))
            .map(|(name, _)| PathBuf::from(name));
        let Some(name) = target else {
            return Err(RegenError::Marker {
                file: file.to_path_buf(),
                line: i + 1,
                reason: "an image marker must be followed by ![…](images/NAME.png)".into(),
            });
        };
        images.push((command.trim().to_string(), name));
    }
    Ok(images)
}

/// Runs marked commands with the crate's binaries first on the `PATH`, once per command.
struct Runner {
    path: std::ffi::OsString,
    seen: std::cell::RefCell<HashMap<String, String>>,
}

impl Runner {
    fn new(bin_dir: PathBuf) -> Self {
        let mut dirs = vec![bin_dir];
        if let Some(path) = std::env::var_os("PATH") {
            dirs.extend(std::env::split_paths(&path));
        }
        Runner {
            path: std::env::join_paths(dirs).unwrap_or_default(),
            seen: Default::default(),
        }
    }

    /// What the command prints, through the spec's filters. Two blocks showing parts of one
    /// run (chapters 4 to 6 share `main_sqlite`) run it once.
    fn output(&self, spec: &Spec) -> Result<String> {
        let cached = self.seen.borrow().get(&spec.command).cloned();
        let printed = match cached {
            Some(printed) => printed,
            None => {
                let printed = self.shell(&spec.command)?;
                self.seen
                    .borrow_mut()
                    .insert(spec.command.clone(), printed.clone());
                printed
            }
        };
        Ok(apply_filters(&printed, &spec.filters))
    }

    /// Draws one picture into `out`.
    fn draw(&self, (command, name): &(String, PathBuf), out: &Path) -> Result<()> {
        std::fs::create_dir_all(out).map_err(io_error(out))?;
        let target = out.join(name);
        let line = format!("{command} --out '{}'", target.display());
        self.shell(&line)?;
        eprintln!("drew {}", target.display());
        Ok(())
    }

    /// Runs one command line with `sh -c`, colours off and the logger at its default level,
    /// and returns its standard output. It must succeed: an output the book shows is a
    /// successful run's.
    fn shell(&self, line: &str) -> Result<String> {
        let output = Command::new("sh")
            .arg("-c")
            .arg(line)
            .env("PATH", &self.path)
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .output()
            .map_err(io_error(Path::new("sh")))?;
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            return Err(RegenError::Command {
                command: line.to_string(),
                status: output.status.to_string(),
                output: stdout + &String::from_utf8_lossy(&output.stderr),
            });
        }
        Ok(stdout)
    }
}

/// The output as the book shows it: filters applied in order, each line ending in `\n`.
fn apply_filters(printed: &str, filters: &[Filter]) -> String {
    let mut lines: Vec<String> = printed.lines().map(str::to_string).collect();
    for filter in filters {
        lines = match filter {
            Filter::MaskTimes => lines.iter().map(|l| mask_time(l)).collect(),
            Filter::MaskDurations => lines.iter().map(|l| mask_durations(l)).collect(),
            Filter::Lines(ranges) => lines
                .into_iter()
                .enumerate()
                .filter(|(i, _)| {
                    let n = i + 1;
                    ranges
                        .iter()
                        .any(|&(from, to)| n >= from && to.is_none_or(|to| n <= to))
                })
                .map(|(_, l)| l)
                .collect(),
            Filter::Keep(text) => lines.into_iter().filter(|l| l.contains(text)).collect(),
            Filter::Drop(text) => lines.into_iter().filter(|l| !l.contains(text)).collect(),
        };
    }
    lines.iter().fold(String::new(), |mut out, l| {
        let _ = writeln!(out, "{l}");
        out
    })
}

/// `2026-12-01T10:17:01.907Z - INFO - …` becomes `<time> - INFO - …`: the logger's timestamp
/// (chapter 3) is the one part of a log line that changes on every run.
fn mask_time(line: &str) -> String {
    let looks_like_time = |stamp: &str| {
        stamp.len() == 24
            && stamp.bytes().enumerate().all(|(i, b)| match i {
                4 | 7 => b == b'-',
                10 => b == b'T',
                13 | 16 => b == b':',
                19 => b == b'.',
                23 => b == b'Z',
                _ => b.is_ascii_digit(),
            })
    };
    match line.get(..24) {
        Some(stamp) if looks_like_time(stamp) => format!("<time>{}", &line[24..]),
        _ => line.to_string(),
    }
}

/// `took 0.0013 seconds` and `trained in 0.00 s` become `took <t> seconds` and
/// `trained in <t> s`: durations differ on every run, the rest of the line does not.
fn mask_durations(line: &str) -> String {
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut i = 0;
    while i < bytes.len() {
        let starts_number = bytes[i].is_ascii_digit()
            && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'.'));
        if starts_number {
            let end = i + line[i..]
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(line.len() - i);
            if is_a_duration_unit(&line[end..]) {
                out.push_str("<t>");
                i = end;
                continue;
            }
            out.push_str(&line[i..end]);
            i = end;
            continue;
        }
        let next = line[i..].chars().next().map_or(1, char::len_utf8);
        out.push_str(&line[i..i + next]);
        i += next;
    }
    out
}

/// Whether the text after a number names seconds: ` seconds` or ` s`, then not a letter.
fn is_a_duration_unit(after: &str) -> bool {
    [" seconds", " s"].iter().any(|unit| {
        after
            .strip_prefix(unit)
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric()))
    })
}

/// The lines that changed, `-` for the book's and `+` for the code's, to show in a failure.
fn difference(book: &str, now: &str) -> String {
    let old: Vec<&str> = book.lines().collect();
    let new: Vec<&str> = now.lines().collect();
    let mut shown = String::new();
    for i in 0..old.len().max(new.len()) {
        match (old.get(i), new.get(i)) {
            (Some(a), Some(b)) if a == b => {}
            (a, b) => {
                if let Some(a) = a {
                    let _ = writeln!(shown, "  - {a}");
                }
                if let Some(b) = b {
                    let _ = writeln!(shown, "  + {b}");
                }
            }
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_timestamp_and_durations_only() {
        let line = "2026-12-01T10:17:01.907Z - INFO - insert took 0.0013 seconds";
        assert_eq!(
            mask_durations(&mask_time(line)),
            "<time> - INFO - insert took <t> seconds"
        );
        assert_eq!(
            mask_durations("trained in 0.00 s; filing 5 cells, 12 steps"),
            "trained in <t> s; filing 5 cells, 12 steps"
        );
        assert_eq!(mask_time("id 2026 score 1.0"), "id 2026 score 1.0");
    }

    #[test]
    fn filters_apply_in_order() {
        let spec = parse_spec("main_x | mask: times | lines: 2-3, 5- | drop: skip").unwrap();
        let printed = "a\nb\nc skip\nd\ne\nf\n";
        assert_eq!(apply_filters(printed, &spec.filters), "b\ne\nf\n");
        assert!(parse_spec("main_x | lines: 0-2").is_err());
        assert!(parse_spec("main_x | colour: red").is_err());
    }

    #[test]
    fn finds_a_marked_block_and_refuses_a_broken_one() {
        let text = "intro\n<!-- output: echo hi -->\n```text\nold\n```\n<!-- end output -->\n";
        let blocks = find_blocks(Path::new("ch.md"), text).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].current, "old\n");
        assert_eq!(blocks[0].spec.command, "echo hi");
        let unclosed = "<!-- output: echo hi -->\n```text\nold\n```\n";
        assert!(find_blocks(Path::new("ch.md"), unclosed).is_err());
    }
}
