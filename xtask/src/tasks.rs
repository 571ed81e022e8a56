//! The tasks: where each is marked in the reference, and its hint beside its test.
//!
//! Three places name a task and must agree, which `cargo xtask verify` checks: the marker
//! around its body in `src/`, the `#[test]` function of `tests/exercises/chNN.rs` that checks
//! it, and the row of that file's `HINTS` table that says which section of the book teaches it.
//! A name is `chNN_taskK_what`, so that it sorts by chapter and says what it is.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The prefix of a marker's anchor name: `// ANCHOR: starter_<task>`.
pub const MARKER_PREFIX: &str = "starter_";

/// Where the exercise checks live, in the reference and in the starter alike.
pub const EXERCISES_DIR: &str = "tests/exercises";

/// One task of the book, as its chapter's `HINTS` table describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task {
    pub name: String,
    pub chapter: u32,
    /// The title of the section that teaches it.
    pub section: String,
    /// What to re-read or reconsider when its check fails.
    pub hint: String,
}

/// One marked body in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub task: String,
    /// Relative to the crate's root, with `/` separators.
    pub path: String,
    /// 1-based line of the opening marker.
    pub line: usize,
}

/// The chapter files of `crate_dir` (`tests/exercises/chNN.rs`), by chapter.
pub fn chapter_files(crate_dir: &Path) -> Result<Vec<(u32, PathBuf)>> {
    let dir = crate_dir.join(EXERCISES_DIR);
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
        let path = entry.map_err(|e| Error::io(&dir, e))?.path();
        let chapter = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.strip_prefix("ch"))
            .and_then(|name| name.strip_suffix(".rs"))
            .and_then(|number| number.parse::<u32>().ok());
        if let Some(chapter) = chapter {
            files.push((chapter, path));
        }
    }
    files.sort();
    Ok(files)
}

/// The test target's name of a chapter (`ch05`), as the root Cargo.toml declares it.
pub fn test_target(chapter: u32) -> String {
    format!("ch{chapter:02}")
}

/// Every task of every chapter of `crate_dir`, in chapter order.
pub fn all_tasks(crate_dir: &Path) -> Result<Vec<Task>> {
    let mut tasks = Vec::new();
    for (chapter, path) in chapter_files(crate_dir)? {
        tasks.extend(read_hints(chapter, &path)?);
    }
    Ok(tasks)
}

/// The `HINTS` table of one chapter file.
pub fn read_hints(chapter: u32, path: &Path) -> Result<Vec<Task>> {
    let source = fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let bad = |reason: &str| Error::Task(format!("{}: {reason}", path.display()));
    let start = source
        .find("const HINTS")
        .ok_or_else(|| bad("no `const HINTS` table"))?;
    let strings = string_literals_until_end(&source[start..])
        .ok_or_else(|| bad("the HINTS table does not end with `];`"))?;
    if strings.is_empty() || strings.len() % 3 != 0 {
        return Err(bad(
            "HINTS must hold (task, section, hint) triples of string literals",
        ));
    }
    let tasks: Vec<Task> = strings
        .chunks_exact(3)
        .map(|triple| Task {
            name: triple[0].clone(),
            chapter,
            section: triple[1].clone(),
            hint: triple[2].clone(),
        })
        .collect();
    let prefix = format!("{}_task", test_target(chapter));
    if let Some(task) = tasks.iter().find(|t| !t.name.starts_with(&prefix)) {
        return Err(bad(&format!(
            "task {:?} does not start with {prefix:?}",
            task.name
        )));
    }
    Ok(tasks)
}

/// The string literals of `text` up to the first `];` outside a literal, or `None` when there
/// is no such end. Only `\"` and `\\` escapes are understood: hints are plain sentences.
fn string_literals_until_end(text: &str) -> Option<Vec<String>> {
    let mut literals = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut literal = String::new();
                loop {
                    match chars.next()? {
                        '"' => break,
                        '\\' => literal.push(chars.next()?),
                        other => literal.push(other),
                    }
                }
                literals.push(literal);
            }
            ']' if chars.peek() == Some(&';') => return Some(literals),
            _ => {}
        }
    }
    None
}

/// The names of the `#[test]` functions of a chapter file.
pub fn test_functions(source: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut after_test_attribute = false;
    for line in source.lines().map(str::trim) {
        if line == "#[test]" {
            after_test_attribute = true;
        } else if after_test_attribute {
            if let Some(rest) = line.strip_prefix("fn ") {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                names.push(name);
                after_test_attribute = false;
            }
        }
    }
    names
}

/// The task named by a marker line, if `line` is one: `(true, task)` for an opening
/// `ANCHOR: starter_…`, `(false, task)` for a closing `ANCHOR_END: starter_…`.
pub fn marker_in_line(line: &str) -> Option<(bool, &str)> {
    let comment = line.trim().strip_prefix("//")?.trim();
    let (opens, rest) = if let Some(rest) = comment.strip_prefix("ANCHOR_END:") {
        (false, rest)
    } else {
        (true, comment.strip_prefix("ANCHOR:")?)
    };
    rest.trim()
        .strip_prefix(MARKER_PREFIX)
        .map(|task| (opens, task))
}

/// Every marked body under `crate_dir/src`, checked to open and close in order.
pub fn find_markers(crate_dir: &Path) -> Result<Vec<Marker>> {
    let mut markers = Vec::new();
    for path in rust_files(&crate_dir.join("src"))? {
        let source = fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
        let relative = relative_path(crate_dir, &path);
        let mut open: Option<(String, usize)> = None;
        for (index, line) in source.lines().enumerate() {
            let Some((opens, task)) = marker_in_line(line) else {
                continue;
            };
            let at = format!("{relative}:{}", index + 1);
            match (opens, open.take()) {
                (true, None) => open = Some((task.to_string(), index + 1)),
                (true, Some((outer, _))) => {
                    return Err(Error::Task(format!("{at}: {task} opens inside {outer}")));
                }
                (false, Some((name, line))) if name == task => markers.push(Marker {
                    task: name,
                    path: relative.clone(),
                    line,
                }),
                (false, _) => {
                    return Err(Error::Task(format!("{at}: {task} closes without opening")));
                }
            }
        }
        if let Some((task, line)) = open {
            return Err(Error::Task(format!(
                "{relative}:{line}: {task} never closes"
            )));
        }
    }
    Ok(markers)
}

/// The `.rs` files under `dir`, sorted, recursively.
pub fn rust_files(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(files_under(dir)?
        .into_iter()
        .filter(|path| path.extension().is_some_and(|ext| ext == "rs"))
        .collect())
}

/// Every file under `dir`, sorted, recursively.
pub fn files_under(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let entry = entry.map_err(|e| Error::io(&dir, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `path` relative to `base`, with `/` separators (for messages and comparisons).
pub fn relative_path(base: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_literals_of_a_table() {
        let text =
            r#"const HINTS: &[(&str, &str, &str)] = &[("a", "b \"c\"", "d"), ("e", "f", "g")];"#;
        let literals = string_literals_until_end(text).expect("ends");
        assert_eq!(literals, ["a", "b \"c\"", "d", "e", "f", "g"]);
        assert_eq!(string_literals_until_end("const HINTS = &[(\"a\""), None);
    }

    #[test]
    fn finds_markers_and_test_functions() {
        assert_eq!(
            marker_in_line("    // ANCHOR: starter_ch01_task1_x"),
            Some((true, "ch01_task1_x"))
        );
        assert_eq!(
            marker_in_line("// ANCHOR_END: starter_ch01_task1_x"),
            Some((false, "ch01_task1_x"))
        );
        assert_eq!(marker_in_line("// ANCHOR: search"), None);
        assert_eq!(marker_in_line("let x = 1; // ANCHOR: starter_y"), None);
        let source = "#[test]\nfn ch01_task1_x() {}\nfn helper() {}\n#[test]\n#[ignore]\nfn ch01_task2_y() {}";
        assert_eq!(test_functions(source), ["ch01_task1_x", "ch01_task2_y"]);
    }
}
