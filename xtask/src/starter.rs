//! Writing `starter/`: the reference crate with each marked body replaced by a `todo!()`.
//!
//! The starter is generated, never edited by hand: the reference is the one place code is
//! written, and `cargo xtask starter --check` (run by `cargo xtask verify` in CI) fails when the
//! committed starter is not what the reference would generate, so the two cannot drift apart.
//! It is staged first under the target directory, then copied over `starter/`; the check
//! compares the staged tree with `starter/` file by file.
//!
//! The starter is a workspace of its own, so that the reference's `cargo build`, `cargo test`
//! and `cargo clippy` never compile it, and its library keeps the name `simple_vector_db`, so
//! that the binaries, benches and exercise checks compile in both crates unchanged.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};
use crate::tasks::{self, all_tasks, files_under, marker_in_line, relative_path, Task};

/// The directory the starter is written to, under the reference's root.
pub const STARTER_DIR: &str = "starter";

/// Directories copied from the reference; only `src/` has bodies to replace.
const COPIED_DIRS: [&str; 4] = ["bin", "benches", "data", tasks::EXERCISES_DIR];

/// Files copied as they are.
const COPIED_FILES: [&str; 2] = ["LICENSE-MIT", "LICENSE-APACHE"];

/// The package's name in the starter (its library keeps the reference's).
const PACKAGE_NAME: &str = "starter";

/// Writes `starter/` afresh from the reference at `root`.
pub fn write(root: &Path) -> Result<()> {
    let (staged, stubbed) = stage(root)?;
    let dest = root.join(STARTER_DIR);
    if dest.exists() {
        fs::remove_dir_all(&dest).map_err(|e| Error::io(&dest, e))?;
    }
    copy_tree(&staged, &dest)?;
    println!(
        "wrote {} with {stubbed} task bodies left to write",
        dest.display()
    );
    Ok(())
}

/// `true` when `starter/` is exactly what [`write`] would write; prints the differences if not.
pub fn check(root: &Path) -> Result<bool> {
    let (staged, _) = stage(root)?;
    let differences = compare(&staged, &root.join(STARTER_DIR))?;
    if differences.is_empty() {
        println!("starter/ is up to date with the reference");
        return Ok(true);
    }
    println!("starter/ differs from what `cargo xtask starter` would write:");
    for difference in &differences {
        println!("  {difference}");
    }
    println!("run `cargo xtask starter` and commit starter/");
    Ok(false)
}

/// The target directory cargo uses for `root`: `CARGO_TARGET_DIR` when set, else `root/target`.
pub fn target_dir(root: &Path) -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => {
            let dir = PathBuf::from(dir);
            if dir.is_absolute() {
                dir
            } else {
                std::env::current_dir().map_or(dir.clone(), |cwd| cwd.join(&dir))
            }
        }
        _ => root.join("target"),
    }
}

/// Generates the starter under the target directory; returns where, and how many bodies it
/// replaced.
fn stage(root: &Path) -> Result<(PathBuf, usize)> {
    let tasks: HashMap<String, Task> = all_tasks(root)?
        .into_iter()
        .map(|task| (task.name.clone(), task))
        .collect();
    let out = target_dir(root).join("xtask").join(STARTER_DIR);
    if out.exists() {
        fs::remove_dir_all(&out).map_err(|e| Error::io(&out, e))?;
    }
    let mut stubbed = 0;
    for path in files_under(&root.join("src"))? {
        let relative = relative_path(root, &path);
        let target = out.join(&relative);
        if path.extension().is_some_and(|ext| ext == "rs") {
            let source = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let (text, count) = stub_bodies(&source, &relative, &tasks)?;
            stubbed += count;
            write_file(&target, text.as_bytes())?;
        } else {
            copy_file(&path, &target)?;
        }
    }
    for dir in COPIED_DIRS {
        copy_tree(&root.join(dir), &out.join(dir))?;
    }
    for file in COPIED_FILES {
        copy_file(&root.join(file), &out.join(file))?;
    }
    let manifest_path = root.join("Cargo.toml");
    let manifest = fs::read_to_string(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?;
    write_file(
        &out.join("Cargo.toml"),
        starter_manifest(&manifest)?.as_bytes(),
    )?;
    write_file(&out.join("README.md"), README.as_bytes())?;
    write_file(&out.join(".gitignore"), b"/target\n*.db\n")?;
    copy_file(&root.join("Cargo.lock"), &out.join("Cargo.lock"))?;
    settle_lockfile(&out)?;
    Ok((out, stubbed))
}

/// `source` with the body between each pair of markers replaced by a comment and a `todo!()`
/// naming the task and the section that teaches it; returns the text and how many it replaced.
fn stub_bodies(source: &str, path: &str, tasks: &HashMap<String, Task>) -> Result<(String, usize)> {
    let mut out = Vec::new();
    let mut inside: Option<&str> = None;
    let mut count = 0;
    for (index, line) in source.lines().enumerate() {
        match (marker_in_line(line), inside) {
            (Some((true, name)), None) => {
                let task = tasks.get(name).ok_or_else(|| {
                    Error::Task(format!(
                        "{path}:{}: task {name} has no row in a HINTS table of tests/exercises/",
                        index + 1
                    ))
                })?;
                let indent = &line[..line.len() - line.trim_start().len()];
                out.push(format!(
                    "{indent}// Task {}: write this body (chapter {}, \"{}\"),",
                    task.name, task.chapter, task.section
                ));
                out.push(format!(
                    "{indent}// then check it with `cargo xtask check {}`.",
                    task.chapter
                ));
                let message = format!(
                    "{}: see chapter {}, section \\\"{}\\\"",
                    task.name, task.chapter, task.section
                )
                .replace('{', "{{")
                .replace('}', "}}");
                out.push(format!("{indent}todo!(\"{message}\")"));
                inside = Some(name);
                count += 1;
            }
            (Some((false, name)), Some(open)) if name == open => inside = None,
            (Some(_), _) => {
                return Err(Error::Task(format!(
                    "{path}:{}: markers out of order (see `cargo xtask verify`)",
                    index + 1
                )));
            }
            (None, Some(_)) => {} // the reference's body, left for the student to write
            (None, None) => out.push(line.to_string()),
        }
    }
    if let Some(open) = inside {
        return Err(Error::Task(format!("{path}: {open} never closes")));
    }
    let mut text = out.join("\n");
    if source.ends_with('\n') {
        text.push('\n');
    }
    Ok((text, count))
}

/// The reference's Cargo.toml made the starter's: the package renamed, the library's name
/// kept, the reference's workspace replaced by a workspace of its own, and the warnings a
/// `todo!()` body causes (unused arguments and imports) allowed.
fn starter_manifest(reference: &str) -> Result<String> {
    let mut out = vec![
        "# Generated by `cargo xtask starter` from the reference crate's Cargo.toml: edit that one"
            .to_string(),
        "# and regenerate, rather than this file.".to_string(),
    ];
    let mut section = String::new();
    let mut renamed = false;
    for line in reference.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            if section == "[package]" {
                out.extend(STARTER_SECTIONS.lines().map(str::to_string));
            }
            section = trimmed.to_string();
        }
        if section == "[workspace]" {
            continue; // the reference's workspace: the starter has its own
        }
        if section == "[package]" && trimmed.starts_with("name =") {
            out.push(format!("name = \"{PACKAGE_NAME}\""));
            renamed = true;
        } else if section == "[package]" && trimmed.starts_with("description =") {
            out.push(
                "description = \"The classroom starter of simple_vector_db: the exercises' bodies \
                 are yours to write\""
                    .to_string(),
            );
        } else {
            out.push(line.to_string());
        }
    }
    if !renamed {
        return Err(Error::Task(
            "Cargo.toml: no `name =` line in [package] to rename".to_string(),
        ));
    }
    Ok(out.join("\n") + "\n")
}

/// What the starter's manifest adds after its `[package]` section.
const STARTER_SECTIONS: &str = r#"[lib]
# The reference's name, so that `use simple_vector_db::…` works in both crates.
name = "simple_vector_db"
path = "src/lib.rs"

# A workspace of its own: the reference's commands never build the starter.
[workspace]

[lints.rust]
# A `todo!()` body leaves its arguments and helpers unused; the warnings would drown the ones
# about your own code. Remove this table once every task is done.
unused = "allow"

"#;

/// The starter's README, generated with it.
const README: &str = "\
# The simple_vector_db starter

This is the reference crate with the body of every function a chapter asks you to write
replaced by a `todo!()` that names the task and the section of the book that teaches it
(`grep -rn 'todo!(\"ch' src` lists them). Everything else is the reference: the binaries,
the benches, the data.

Write a chapter's bodies, then check them from the repository's root:

```console
cargo xtask check 5        # chapter 5's tasks: pass or fail, with a hint for each failure
cargo xtask check          # every chapter
```

The checks are `tests/exercises/chNN.rs`, the same files the reference passes. A task's check
may call the functions of earlier chapters, so do the chapters in order.

This directory is generated by `cargo xtask starter` (do not run it once you have started:
it overwrites your work). Its library keeps the name `simple_vector_db`, so the book's
commands work here too: `cargo run --release --bin main_in_memory` inside `starter/`.
";

/// Lets cargo bring the copied lockfile in line with the starter's workspace: the reference's
/// packages (`simple_vector_db`, `xtask`) leave it and `starter` joins, while every dependency
/// keeps the version the reference locked.
fn settle_lockfile(dir: &Path) -> Result<()> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string());
    let manifest = dir.join("Cargo.toml");
    let output = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(&manifest)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| Error::Spawn {
            program: cargo.clone(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(Error::Command {
        program: format!("{cargo} metadata --manifest-path {}", manifest.display()),
        output: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// How `staged` and `dest` differ, one line per file (`target/` in `dest` ignored).
fn compare(staged: &Path, dest: &Path) -> Result<Vec<String>> {
    if !dest.exists() {
        return Ok(vec![format!("{} does not exist", dest.display())]);
    }
    let relative_files = |dir: &Path| -> Result<Vec<String>> {
        Ok(files_under(dir)?
            .iter()
            .map(|path| relative_path(dir, path))
            .filter(|path| !path.starts_with("target/"))
            .collect())
    };
    let generated = relative_files(staged)?;
    let existing = relative_files(dest)?;
    let mut differences = Vec::new();
    for file in &generated {
        if !existing.contains(file) {
            differences.push(format!("missing: starter/{file}"));
            continue;
        }
        let (a, b) = (staged.join(file), dest.join(file));
        let a_bytes = fs::read(&a).map_err(|e| Error::io(&a, e))?;
        let b_bytes = fs::read(&b).map_err(|e| Error::io(&b, e))?;
        if a_bytes != b_bytes {
            differences.push(format!("differs: starter/{file}"));
        }
    }
    for file in existing.iter().filter(|file| !generated.contains(file)) {
        differences.push(format!("not generated: starter/{file}"));
    }
    Ok(differences)
}

/// Copies every file under `from` to the same place under `to`.
fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    for path in files_under(from)? {
        copy_file(&path, &to.join(relative_path(from, &path)))?;
    }
    Ok(())
}

fn copy_file(from: &Path, to: &Path) -> Result<()> {
    let bytes = fs::read(from).map_err(|e| Error::io(from, e))?;
    write_file(to, &bytes)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    fs::write(path, bytes).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(name: &str) -> (String, Task) {
        let task = Task {
            name: name.to_string(),
            chapter: 1,
            section: "Cosine {similarity}".to_string(),
            hint: String::new(),
        };
        (name.to_string(), task)
    }

    #[test]
    fn a_marked_body_becomes_a_todo() {
        let tasks: HashMap<String, Task> = [task("ch01_task1_x")].into_iter().collect();
        let source = "fn f(a: u8) -> u8 {\n    // ANCHOR: starter_ch01_task1_x\n    a + 1\n    // ANCHOR_END: starter_ch01_task1_x\n}\n";
        let (text, count) = stub_bodies(source, "src/f.rs", &tasks).expect("stubs");
        assert_eq!(count, 1);
        assert!(!text.contains("a + 1"), "{text}");
        assert!(
            text.contains("    todo!(\"ch01_task1_x: see chapter 1, section \\\"Cosine {{similarity}}\\\"\")\n}\n"),
            "{text}"
        );
        let unknown = stub_bodies(&source.replace("task1_x", "task9_y"), "src/f.rs", &tasks);
        assert!(unknown.is_err());
    }

    #[test]
    fn the_manifest_is_renamed_and_gets_its_own_workspace() {
        let reference = "[package]\nname = \"simple_vector_db\"\n\n[workspace]\nmembers = [\".\"]\n\n[dependencies]\nlog = \"0.4\"\n";
        let manifest = starter_manifest(reference).expect("renamed");
        assert!(manifest.contains("name = \"starter\""));
        assert!(!manifest.contains("members"));
        assert!(manifest.contains("[lib]\n# The reference's name"));
        assert!(manifest.contains("[dependencies]\nlog = \"0.4\""));
    }
}
