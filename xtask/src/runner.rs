//! Running the exercise checks, and reading what libtest printed.
//!
//! A chapter's checks are one test target (`ch05`) of the crate being checked. Both crates
//! build into the same target directory, so their dependencies are compiled once. The starter
//! is built without the default `cli` feature: the checks need only the library, and its
//! binaries, which have the reference's names, would otherwise overwrite the reference's in
//! `target/debug/`. The reference is built as `cargo test` builds it, so that CI's
//! `cargo test` afterwards finds it compiled.

use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::starter::{self, target_dir, STARTER_DIR};
use crate::tasks::{all_tasks, chapter_files, find_markers, test_functions, test_target, Task};

/// How one test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Passed,
    /// Failed, with its panic message on one line (empty if none was printed).
    Failed(String),
    /// Not in libtest's output: the target did not build, or the test does not exist.
    NotRun,
}

/// The panic message libtest prints for a `todo!()`.
const TODO_PANIC: &str = "not yet implemented: ";

/// `cargo xtask check [--reference] [N]`: runs the checks, prints a table, `true` if all pass.
pub fn check(root: &Path, reference: bool, chapter: Option<u32>) -> Result<bool> {
    let crate_dir = if reference {
        root.to_path_buf()
    } else {
        root.join(STARTER_DIR)
    };
    let chapters = chapters_to_run(&crate_dir, chapter)?;
    let tasks: Vec<Task> = all_tasks(&crate_dir)?
        .into_iter()
        .filter(|task| chapters.contains(&task.chapter))
        .collect();
    let run = run_tests(root, &crate_dir, &chapters)?;
    let crate_name = if reference {
        "the reference"
    } else {
        "starter/"
    };
    println!("exercise checks of {crate_name}:\n");
    let width = tasks.iter().map(|t| t.name.len()).max().unwrap_or(4);
    let mut all_passed = true;
    for task in &tasks {
        let outcome = run
            .outcomes
            .get(&task.name)
            .cloned()
            .unwrap_or(Outcome::NotRun);
        let verdict = match &outcome {
            Outcome::Passed => "pass",
            Outcome::Failed(_) => "FAIL",
            Outcome::NotRun => "not run",
        };
        println!("  {:width$}  {verdict}", task.name);
        if outcome == Outcome::Passed {
            continue;
        }
        all_passed = false;
        match &outcome {
            Outcome::Failed(message) if message.starts_with(TODO_PANIC) => {
                let todo = message.trim_start_matches(TODO_PANIC);
                let name = todo.split(':').next().unwrap_or(todo);
                if name == task.name {
                    println!("  {:width$}    still a todo!()", "");
                } else {
                    println!(
                        "  {:width$}    stopped at {name}, still a todo!(): do it first",
                        ""
                    );
                }
            }
            Outcome::Failed(message) => println!("  {:width$}    {message}", ""),
            _ => {}
        }
        println!(
            "  {:width$}    re-read chapter {}, \"{}\": {}",
            "", task.chapter, task.section, task.hint
        );
    }
    if !run.built {
        println!("\nthe checks did not compile: cargo's errors are above");
    }
    let passed = tasks
        .iter()
        .filter(|t| run.outcomes.get(&t.name) == Some(&Outcome::Passed))
        .count();
    println!("\n{passed} of {} tasks pass", tasks.len());
    Ok(all_passed && run.built)
}

/// `cargo xtask verify`: the tasks are consistent, the starter is up to date, and every check
/// fails on the starter (with a `todo!()` panic) and passes on the reference.
pub fn verify(root: &Path) -> Result<bool> {
    let tasks = consistent_tasks(root)?;
    println!(
        "{} tasks, each marked in src/, hinted and tested",
        tasks.len()
    );
    if !starter::check(root)? {
        return Ok(false);
    }
    let chapters: Vec<u32> = chapter_files(root)?.into_iter().map(|(n, _)| n).collect();
    eprintln!("(on the starter every check should fail: cargo's `test failed` lines are expected)");
    let on_starter = run_tests(root, &root.join(STARTER_DIR), &chapters)?;
    let on_reference = run_tests(root, root, &chapters)?;
    let mut problems = Vec::new();
    for (label, run) in [("starter", &on_starter), ("reference", &on_reference)] {
        if !run.built {
            problems.push(format!(
                "the checks do not build on the {label} (see cargo's errors above)"
            ));
        }
    }
    let width = tasks.iter().map(|t| t.name.len()).max().unwrap_or(4);
    println!("\n  {:width$}  {:40}  reference", "task", "starter");
    for task in &tasks {
        let starter_outcome = on_starter.outcomes.get(&task.name);
        let starter_column = match starter_outcome {
            Some(Outcome::Failed(message)) if message.starts_with(TODO_PANIC) => {
                let todo = message.trim_start_matches(TODO_PANIC);
                let name = todo.split(':').next().unwrap_or(todo);
                if name == task.name {
                    "fails on its todo!()".to_string()
                } else {
                    format!("fails on {name}")
                }
            }
            Some(Outcome::Failed(message)) => {
                problems.push(format!(
                    "{} fails on the starter, but not on a todo!(): {message}",
                    task.name
                ));
                "fails, not on a todo!()".to_string()
            }
            Some(Outcome::Passed) => {
                problems.push(format!(
                    "{} passes on the starter: it cannot fail",
                    task.name
                ));
                "PASSES".to_string()
            }
            Some(Outcome::NotRun) | None => {
                problems.push(format!("{} did not run on the starter", task.name));
                "not run".to_string()
            }
        };
        let reference_column = match on_reference.outcomes.get(&task.name) {
            Some(Outcome::Passed) => "passes".to_string(),
            Some(Outcome::Failed(message)) => {
                problems.push(format!("{} fails on the reference: {message}", task.name));
                "FAILS".to_string()
            }
            Some(Outcome::NotRun) | None => {
                problems.push(format!("{} did not run on the reference", task.name));
                "not run".to_string()
            }
        };
        println!(
            "  {:width$}  {starter_column:40}  {reference_column}",
            task.name
        );
    }
    if problems.is_empty() {
        println!("\nevery check fails on the starter and passes on the reference");
        return Ok(true);
    }
    println!("\n{} problems:", problems.len());
    for problem in &problems {
        println!("  {problem}");
    }
    Ok(false)
}

/// Every task of the reference, after checking that each hinted task has a `#[test]` and a
/// marker, and each marker a hinted task.
fn consistent_tasks(root: &Path) -> Result<Vec<Task>> {
    let tasks = all_tasks(root)?;
    let markers = find_markers(root)?;
    let mut problems = Vec::new();
    let mut seen = HashSet::new();
    for marker in &markers {
        if !seen.insert(marker.task.as_str()) {
            problems.push(format!(
                "{}:{}: {} is marked twice",
                marker.path, marker.line, marker.task
            ));
        }
        if !tasks.iter().any(|t| t.name == marker.task) {
            problems.push(format!(
                "{}:{}: {} has no row in a HINTS table",
                marker.path, marker.line, marker.task
            ));
        }
    }
    for (chapter, path) in chapter_files(root)? {
        let source = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let tests = test_functions(&source);
        for task in tasks.iter().filter(|t| t.chapter == chapter) {
            if !tests.contains(&task.name) {
                problems.push(format!("{}: no #[test] fn {}", path.display(), task.name));
            }
            if !markers.iter().any(|m| m.task == task.name) {
                problems.push(format!("{} is not marked in src/", task.name));
            }
        }
        if let Some(extra) = tests
            .iter()
            .find(|t| !tasks.iter().any(|task| &task.name == *t))
        {
            problems.push(format!(
                "{}: test {extra} has no row in HINTS",
                path.display()
            ));
        }
    }
    if problems.is_empty() {
        Ok(tasks)
    } else {
        Err(Error::Task(problems.join("\n")))
    }
}

/// The chapters a check covers: the one asked for (which must have checks), or all.
fn chapters_to_run(crate_dir: &Path, chapter: Option<u32>) -> Result<Vec<u32>> {
    let available: Vec<u32> = chapter_files(crate_dir)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    match chapter {
        None => Ok(available),
        Some(n) if available.contains(&n) => Ok(vec![n]),
        Some(n) => Err(Error::Usage(format!(
            "chapter {n} has no exercise checks; chapters with checks: {available:?}"
        ))),
    }
}

/// What one `cargo test` of some chapters printed.
struct TestRun {
    outcomes: BTreeMap<String, Outcome>,
    /// `false` when the test targets did not compile (cargo printed why, above).
    built: bool,
}

/// Runs the test targets of `chapters` in `crate_dir` once, each test binary after the other.
fn run_tests(root: &Path, crate_dir: &Path, chapters: &[u32]) -> Result<TestRun> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let mut command = Command::new(&cargo);
    command
        .args(["test", "--no-fail-fast", "--manifest-path"])
        .arg(crate_dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir(root));
    if crate_dir != root {
        command.arg("--no-default-features"); // the starter: see the module's comment
    }
    for &chapter in chapters {
        command.args(["--test", &test_target(chapter)]);
    }
    eprintln!(
        "running the checks of chapters {chapters:?} in {}",
        crate_dir.display()
    );
    // cargo's own progress and compiler errors go straight to the terminal (a first build takes
    // minutes); libtest's report, on stdout, is read.
    command.stderr(Stdio::inherit());
    let output = command.output().map_err(|source| Error::Spawn {
        program: cargo.clone(),
        source,
    })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    Ok(TestRun {
        outcomes: parse_libtest(&stdout),
        built: stdout.contains("test result:"),
    })
}

/// Each test's outcome from libtest's output: its `test NAME ... ok|FAILED` lines, and for a
/// failure the message after `panicked at` in its `---- NAME stdout ----` section.
fn parse_libtest(stdout: &str) -> BTreeMap<String, Outcome> {
    let mut outcomes = BTreeMap::new();
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some(name) = rest.strip_suffix(" ... ok") {
            outcomes.insert(name.to_string(), Outcome::Passed);
        } else if let Some(name) = rest.strip_suffix(" ... FAILED") {
            outcomes.insert(name.to_string(), Outcome::Failed(String::new()));
        }
    }
    let mut current: Option<String> = None;
    let mut after_panic = false;
    for line in stdout.lines() {
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"))
        {
            current = Some(name.to_string());
            after_panic = false;
        } else if line.contains("panicked at") {
            after_panic = true;
        } else if after_panic {
            // The message runs until libtest's note, a blank line or the next section; an
            // assertion's is three lines (the message, then `left:` and `right:`).
            if line.is_empty() || line.starts_with("note:") || line.starts_with("failures:") {
                after_panic = false;
                continue;
            }
            let failed = current.as_ref().and_then(|name| outcomes.get_mut(name));
            if let Some(Outcome::Failed(message)) = failed {
                if !message.is_empty() {
                    message.push_str(" / ");
                }
                message.push_str(line.trim());
            }
        }
    }
    outcomes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_passes_failures_and_their_panics() {
        let stdout = "\
running 2 tests
test ch01_task1_a ... FAILED
test ch01_task2_b ... ok

failures:

---- ch01_task1_a stdout ----

thread 'ch01_task1_a' panicked at src/distances.rs:55:5:
not yet implemented: ch01_task1_a: see chapter 1, section \"Cosine\"
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace

failures:
    ch01_task1_a

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out
";
        let outcomes = parse_libtest(stdout);
        assert_eq!(outcomes.get("ch01_task2_b"), Some(&Outcome::Passed));
        assert_eq!(
            outcomes.get("ch01_task1_a"),
            Some(&Outcome::Failed(
                "not yet implemented: ch01_task1_a: see chapter 1, section \"Cosine\"".to_string()
            ))
        );
    }

    #[test]
    fn an_assertion_keeps_its_left_and_right() {
        let stdout = "\
test ch05_task1_a ... FAILED

failures:

---- ch05_task1_a stdout ----

thread 'ch05_task1_a' panicked at tests/exercises/ch05.rs:3:5:
assertion `left == right` failed: best first
  left: [1, 2]
 right: [2, 1]
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace
";
        assert_eq!(
            parse_libtest(stdout).get("ch05_task1_a"),
            Some(&Outcome::Failed(
                "assertion `left == right` failed: best first / left: [1, 2] / right: [2, 1]"
                    .to_string()
            ))
        );
    }
}
