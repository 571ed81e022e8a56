//! Every `{{#include}}` in the tutorial must resolve to real, non-empty code.
//!
//! The book never pastes code: each chapter includes a region of the real sources, by anchor
//! (`// ANCHOR: name` … `// ANCHOR_END: name`) or by line range. mdBook only warns about a missing
//! anchor and renders an empty listing, so renaming an anchor would silently blank a page. This
//! test reads every Markdown file under `tutorial/` and `tutorial-fr/` (the French edition),
//! resolves each include the way mdBook does, and fails with the file and line of every include
//! that does not resolve. It also checks that included Rust sits in a `rust,ignore` fence:
//! `mdbook test` cannot link this crate's dependencies, while `cargo test` compiles the very same
//! code anyway. And it checks that both editions list the same chapters, each with the same
//! listings in the same order.

use std::fs;
use std::path::{Component, Path, PathBuf};

/// Which part of the included file a directive asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Selection {
    /// The whole file.
    Whole,
    /// The lines between `ANCHOR: name` and `ANCHOR_END: name`.
    Anchor(String),
    /// Lines `start..=end`, 1-based; `None` leaves that side open.
    Lines {
        start: Option<usize>,
        end: Option<usize>,
    },
}

/// One `{{#include …}}` or `{{#rustdoc_include …}}` found in a Markdown file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Include {
    /// 1-based line of the directive in the Markdown file.
    line: usize,
    /// The directive as written, for error messages.
    directive: String,
    /// The included file, relative to the Markdown file.
    path: String,
    selection: Selection,
    /// The info string of the code fence around the directive (`None` outside any fence).
    fence: Option<String>,
}

/// The directives that pull a file's text into a chapter.
const INCLUDE_KINDS: [&str; 2] = ["include", "rustdoc_include"];

/// Finds every include directive in `markdown`, with its line and enclosing code fence.
///
/// A directive escaped as `\{{#include …}}` is shown literally by mdBook, so it is skipped.
fn parse_includes(markdown: &str) -> Vec<Include> {
    let mut includes = Vec::new();
    let mut fence = FenceTracker::default();
    for (index, line) in markdown.lines().enumerate() {
        if fence.update(line) {
            continue; // An opening or closing fence line holds no directive.
        }
        for (directive, args) in directives_in_line(line) {
            let (path, selection) = parse_include_argument(args);
            includes.push(Include {
                line: index + 1,
                directive: directive.to_string(),
                path,
                selection,
                fence: fence.info().map(str::to_string),
            });
        }
    }
    includes
}

/// The `{{#include args}}` directives in one line: the whole directive text and its arguments.
fn directives_in_line(line: &str) -> Vec<(&str, &str)> {
    let mut found = Vec::new();
    let mut rest_start = 0;
    while let Some(offset) = line[rest_start..].find("{{") {
        let open = rest_start + offset;
        rest_start = open + 2;
        if line[..open].ends_with('\\') {
            continue;
        }
        let Some(close_offset) = line[open..].find("}}") else {
            break;
        };
        let close = open + close_offset;
        let inner = line[open + 2..close].trim_start();
        let Some(after_hash) = inner.strip_prefix('#') else {
            continue;
        };
        let kind_len = after_hash
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after_hash.len());
        let (kind, args) = after_hash.split_at(kind_len);
        if INCLUDE_KINDS.contains(&kind) {
            found.push((&line[open..close + 2], args.trim()));
        }
        rest_start = close + 2;
    }
    found
}

/// Splits `path:anchor` or `path:start:end` as mdBook does.
///
/// `file:10:20` is lines 10 to 20, `file:10:` from line 10 on, `file::20` up to line 20, `file:10`
/// line 10 alone; anything after the first `:` that is not a number is an anchor name.
fn parse_include_argument(argument: &str) -> (String, Selection) {
    let mut parts = argument.trim().splitn(2, ':');
    let path = parts.next().unwrap_or("").trim().to_string();
    let Some(spec) = parts.next() else {
        return (path, Selection::Whole);
    };
    let mut bounds = spec.splitn(3, ':');
    let first = bounds.next().unwrap_or("");
    let start = match first.parse::<usize>() {
        Ok(line) => Some(line),
        Err(_) if first.is_empty() => None,
        Err(_) => return (path, Selection::Anchor(first.to_string())),
    };
    let selection = match (start, bounds.next().map(str::parse::<usize>)) {
        (Some(start), None) => Selection::Lines {
            start: Some(start),
            end: Some(start),
        },
        (start, Some(Ok(end))) => Selection::Lines {
            start,
            end: Some(end),
        },
        (None, None) | (None, Some(Err(_))) => Selection::Whole,
        (Some(start), Some(Err(_))) => Selection::Lines {
            start: Some(start),
            end: None,
        },
    };
    (path, selection)
}

/// The anchor name after `marker` (`ANCHOR:` or `ANCHOR_END:`) in `line`, if any.
fn anchor_name<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let after = &line[line.find(marker)? + marker.len()..];
    let after = after.trim_start();
    let len = after
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(after.len());
    (len > 0).then(|| &after[..len])
}

fn is_anchor_line(line: &str) -> bool {
    anchor_name(line, "ANCHOR:").is_some() || anchor_name(line, "ANCHOR_END:").is_some()
}

/// The text an include shows, or why it cannot show anything.
///
/// Anchor lines (of any anchor) are dropped from the result, as mdBook drops them.
fn select(source: &str, selection: &Selection) -> Result<String, String> {
    let lines: Vec<&str> = source.lines().collect();
    let region: Vec<&str> = match selection {
        Selection::Whole => lines.clone(),
        Selection::Anchor(name) => {
            let Some(start) = lines
                .iter()
                .position(|l| anchor_name(l, "ANCHOR:") == Some(name.as_str()))
            else {
                return Err(format!("no `ANCHOR: {name}` line"));
            };
            let Some(length) = lines[start + 1..]
                .iter()
                .position(|l| anchor_name(l, "ANCHOR_END:") == Some(name.as_str()))
            else {
                return Err(format!(
                    "`ANCHOR: {name}` on line {} has no `ANCHOR_END: {name}` after it",
                    start + 1
                ));
            };
            lines[start + 1..start + 1 + length].to_vec()
        }
        Selection::Lines { start, end } => {
            let first = start.unwrap_or(1).max(1);
            let last = end.unwrap_or(lines.len()).min(lines.len());
            if first > lines.len() {
                return Err(format!(
                    "starts at line {first} but the file has {} lines",
                    lines.len()
                ));
            }
            if first > last {
                return Err(format!("line range {first}..{last} is empty"));
            }
            lines[first - 1..last].to_vec()
        }
    };
    let text: Vec<&str> = region.into_iter().filter(|l| !is_anchor_line(l)).collect();
    if text.iter().all(|l| l.trim().is_empty()) {
        return Err("the included region is empty".to_string());
    }
    Ok(text.join("\n"))
}

/// Follows fenced code blocks (```` ``` ```` or `~~~`) line by line.
#[derive(Debug, Default)]
struct FenceTracker {
    /// The open fence: its character, its length and its info string.
    open: Option<(char, usize, String)>,
}

impl FenceTracker {
    /// Reads one line; returns `true` when it opened or closed a fence.
    fn update(&mut self, line: &str) -> bool {
        let trimmed = line.trim_start();
        let Some(marker) = trimmed.chars().next().filter(|c| *c == '`' || *c == '~') else {
            return false;
        };
        let run = trimmed.chars().take_while(|c| *c == marker).count();
        if run < 3 {
            return false;
        }
        let info = trimmed[run..].trim();
        match &self.open {
            Some((open_marker, open_run, _)) => {
                if marker == *open_marker && run >= *open_run && info.is_empty() {
                    self.open = None;
                    return true;
                }
                false
            }
            None => {
                self.open = Some((marker, run, info.to_string()));
                true
            }
        }
    }

    /// The info string of the open fence, or `None` outside a fence.
    fn info(&self) -> Option<&str> {
        self.open.as_ref().map(|(_, _, info)| info.as_str())
    }
}

/// Why an include of a `.rs` file sits in the wrong kind of block, if it does.
///
/// rustdoc (and so `mdbook test`) treats a fence with no language, or with only test attributes
/// such as `no_run`, as Rust, so those must carry `ignore` too.
fn fence_problem(include: &Include) -> Option<String> {
    if !include.path.ends_with(".rs") {
        return None;
    }
    let Some(info) = &include.fence else {
        return Some("Rust code included outside a code fence".to_string());
    };
    let tokens: Vec<&str> = info
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|t| !t.is_empty())
        .collect();
    const RUSTDOC_ATTRIBUTES: [&str; 7] = [
        "ignore",
        "no_run",
        "should_panic",
        "compile_fail",
        "test_harness",
        "editable",
        "noplayground",
    ];
    let is_rust = tokens.first().is_none_or(|first| {
        *first == "rust" || RUSTDOC_ATTRIBUTES.contains(first) || first.starts_with("edition")
    });
    if is_rust && !tokens.contains(&"ignore") {
        return Some(format!(
            "fence is ```{info}; included Rust must be fenced ```rust,ignore"
        ));
    }
    None
}

/// Removes `.` and `a/..` from a path without touching the file system (the file may not exist).
fn normalize(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !normal.pop() {
                    normal.push("..");
                }
            }
            other => normal.push(other),
        }
    }
    normal
}

/// Every Markdown file under `dir`, skipping mdBook's output directory `book/`.
fn markdown_files(dir: &Path, files: &mut Vec<PathBuf>) {
    let entries =
        fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir() {
            if name != "book" && !name.starts_with('.') {
                markdown_files(&path, files);
            }
        } else if name.ends_with(".md") {
            files.push(path);
        }
    }
}

/// Every problem with the includes of one Markdown file, as `file:line: directive: reason`.
fn problems_in(markdown_path: &Path, root: &Path) -> Vec<String> {
    let markdown = fs::read_to_string(markdown_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", markdown_path.display()));
    let shown = |p: &Path| {
        let p = normalize(p);
        p.strip_prefix(root).unwrap_or(&p).display().to_string()
    };
    let dir = markdown_path.parent().unwrap_or(Path::new("."));
    let mut problems = Vec::new();
    for include in parse_includes(&markdown) {
        let target = dir.join(&include.path);
        let mut report = |reason: String| {
            problems.push(format!(
                "{}:{}: {}: {reason}",
                shown(markdown_path),
                include.line,
                include.directive
            ))
        };
        if let Some(reason) = fence_problem(&include) {
            report(reason);
        }
        match fs::read_to_string(&target) {
            Err(e) => report(format!("cannot read {} ({e})", shown(&target))),
            Ok(source) => {
                if let Err(reason) = select(&source, &include.selection) {
                    report(format!("{}: {reason}", shown(&target)));
                }
            }
        }
    }
    problems
}

/// The book's editions: the English one, and the French one beside it.
const EDITIONS: [&str; 2] = ["tutorial", "tutorial-fr"];

/// Pages one edition has and the other need not: the French glossary pairs each French term
/// with the English one.
const ONLY_IN_FRENCH: [&str; 1] = ["glossary.md"];

#[test]
fn every_tutorial_include_resolves_to_non_empty_code() {
    let root = normalize(Path::new(env!("CARGO_MANIFEST_DIR")));
    for edition in EDITIONS {
        let tutorial = root.join(edition);
        let mut files = Vec::new();
        markdown_files(&tutorial, &mut files);
        files.sort();
        assert!(
            files.iter().any(|f| f.ends_with("src/SUMMARY.md")),
            "no {edition}/src/SUMMARY.md found under {}",
            tutorial.display()
        );
        let problems: Vec<String> = files.iter().flat_map(|f| problems_in(f, &root)).collect();
        assert!(
            problems.is_empty(),
            "{} broken include(s) in {edition}:\n  {}\n",
            problems.len(),
            problems.join("\n  ")
        );
    }
}

/// The pages a book's `SUMMARY.md` links to, in order.
fn pages_of(edition: &Path) -> Vec<String> {
    let summary = edition.join("src/SUMMARY.md");
    let text = fs::read_to_string(&summary)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", summary.display()));
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')'))
        .map(|(target, _)| target.to_string())
        .filter(|target| target.ends_with(".md"))
        .collect()
}

#[test]
fn both_editions_have_the_same_chapters_with_the_same_listings() {
    let root = normalize(Path::new(env!("CARGO_MANIFEST_DIR")));
    let english = pages_of(&root.join(EDITIONS[0]));
    let french: Vec<String> = pages_of(&root.join(EDITIONS[1]))
        .into_iter()
        .filter(|page| !ONLY_IN_FRENCH.contains(&page.as_str()))
        .collect();
    assert!(english.len() > 10, "{english:?}");
    assert_eq!(english, french, "the two editions list other chapters");
    // A translation keeps every listing of its chapter, in order.
    for page in &english {
        let includes = |edition: &str| -> Vec<String> {
            let path = root.join(edition).join("src").join(page);
            let markdown = fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            parse_includes(&markdown)
                .into_iter()
                .map(|include| include.directive)
                .collect()
        };
        assert_eq!(
            includes(EDITIONS[0]),
            includes(EDITIONS[1]),
            "{page}: the editions include other listings"
        );
    }
}

#[test]
fn the_tutorial_includes_real_code() {
    // Guards the check above against passing because it found nothing to check.
    let root = normalize(Path::new(env!("CARGO_MANIFEST_DIR")));
    let chapter = root.join("tutorial/src/ch01-distances.md");
    let markdown = fs::read_to_string(&chapter).expect("chapter 1 exists");
    assert!(
        !parse_includes(&markdown).is_empty(),
        "chapter 1 includes no code"
    );
}

// --- The helpers themselves, on small inputs -------------------------------------------------

#[test]
fn finds_includes_with_their_line_fence_and_selection() {
    let markdown = "# Title\n\n```rust,ignore\n{{#include ../../src/a.rs:metric}}\n```\n\
                    Text {{#rustdoc_include b.rs:3:9}} and {{ #include c.txt }}.\n";
    let found = parse_includes(markdown);
    assert_eq!(found.len(), 3);
    assert_eq!(found[0].line, 4);
    assert_eq!(found[0].path, "../../src/a.rs");
    assert_eq!(found[0].selection, Selection::Anchor("metric".into()));
    assert_eq!(found[0].fence.as_deref(), Some("rust,ignore"));
    assert_eq!(found[0].directive, "{{#include ../../src/a.rs:metric}}");
    assert_eq!(found[1].line, 6);
    assert_eq!(found[1].path, "b.rs");
    assert_eq!(found[1].fence, None);
    assert_eq!(
        found[1].selection,
        Selection::Lines {
            start: Some(3),
            end: Some(9)
        }
    );
    assert_eq!(found[2].path, "c.txt");
    assert_eq!(found[2].selection, Selection::Whole);
}

#[test]
fn skips_escaped_directives_and_other_directives() {
    let markdown =
        "Write \\{{#include x.rs:a}} to include.\n{{#title Hello}} {{#playground p.rs}}\n";
    assert!(parse_includes(markdown).is_empty());
}

#[test]
fn parses_every_line_range_form() {
    let lines = |start, end| Selection::Lines { start, end };
    let cases = [
        ("f.rs", Selection::Whole),
        ("f.rs:", Selection::Whole),
        ("f.rs:10:20", lines(Some(10), Some(20))),
        ("f.rs:10:", lines(Some(10), None)),
        ("f.rs::20", lines(None, Some(20))),
        ("f.rs:10", lines(Some(10), Some(10))),
        ("f.rs:my-anchor_2", Selection::Anchor("my-anchor_2".into())),
        (" f.rs:name ", Selection::Anchor("name".into())),
    ];
    for (argument, expected) in cases {
        assert_eq!(
            parse_include_argument(argument),
            ("f.rs".to_string(), expected),
            "argument {argument:?}"
        );
    }
}

#[test]
fn selects_an_anchor_without_its_anchor_lines() {
    let source = "a\n// ANCHOR: outer\nb\n// ANCHOR: inner\nc\n// ANCHOR_END: inner\n\
                  // ANCHOR_END: outer\n// ANCHOR: other\nd\n// ANCHOR_END: other\n";
    assert_eq!(
        select(source, &Selection::Anchor("outer".into())).as_deref(),
        Ok("b\nc")
    );
    assert_eq!(
        select(source, &Selection::Anchor("inner".into())).as_deref(),
        Ok("c")
    );
    // `ANCHOR: o` must not match `ANCHOR: other` or `ANCHOR: outer`.
    assert!(select(source, &Selection::Anchor("o".into()))
        .unwrap_err()
        .contains("no `ANCHOR: o` line"));
}

#[test]
fn reports_a_missing_end_and_an_empty_region() {
    let no_end = "// ANCHOR: open\nfn f() {}\n";
    let err = select(no_end, &Selection::Anchor("open".into())).unwrap_err();
    assert!(err.contains("ANCHOR_END: open"), "{err}");
    let empty = "// ANCHOR: hollow\n\n   \n// ANCHOR_END: hollow\n";
    let err = select(empty, &Selection::Anchor("hollow".into())).unwrap_err();
    assert!(err.contains("empty"), "{err}");
}

#[test]
fn selects_line_ranges_and_rejects_ranges_past_the_end() {
    let source = "one\ntwo\nthree\nfour\n";
    let lines = |start, end| Selection::Lines { start, end };
    assert_eq!(
        select(source, &lines(Some(2), Some(3))).as_deref(),
        Ok("two\nthree")
    );
    assert_eq!(
        select(source, &lines(Some(3), None)).as_deref(),
        Ok("three\nfour")
    );
    assert_eq!(select(source, &lines(None, Some(1))).as_deref(), Ok("one"));
    assert_eq!(
        select(source, &lines(Some(4), Some(4))).as_deref(),
        Ok("four")
    );
    assert!(select(source, &lines(Some(9), None)).is_err());
    assert!(select(source, &lines(Some(3), Some(2))).is_err());
    assert!(select("", &Selection::Whole).is_err());
}

#[test]
fn included_rust_must_be_fenced_rust_ignore() {
    let problem_for = |markdown: &str| {
        let includes = parse_includes(markdown);
        assert_eq!(includes.len(), 1, "{markdown}");
        fence_problem(&includes[0])
    };
    assert_eq!(
        problem_for("```rust,ignore\n{{#include a.rs:x}}\n```\n"),
        None
    );
    assert_eq!(problem_for("~~~ignore\n{{#include a.rs:x}}\n~~~\n"), None);
    assert_eq!(problem_for("```text\n{{#include a.rs:x}}\n```\n"), None);
    assert_eq!(problem_for("```rust\n{{#include a.txt}}\n```\n"), None);
    assert!(problem_for("```rust\n{{#include a.rs:x}}\n```\n").is_some());
    assert!(problem_for("```\n{{#include a.rs:x}}\n```\n").is_some());
    assert!(problem_for("```rust,no_run\n{{#include a.rs:x}}\n```\n").is_some());
    assert!(problem_for("{{#include a.rs:x}}\n").is_some());
    // After the fence closes, the next include is outside it.
    assert!(problem_for("```rust,ignore\n```\n{{#include a.rs:x}}\n").is_some());
}

#[test]
fn a_longer_fence_is_not_closed_by_a_shorter_one() {
    let markdown = "````md\n```\n{{#include a.rs:x}}\n```\n````\n";
    let includes = parse_includes(markdown);
    assert_eq!(includes[0].fence.as_deref(), Some("md"));
}

#[test]
fn normalizes_parent_directories() {
    assert_eq!(
        normalize(Path::new("/w/tutorial/src/../../src/a.rs")),
        PathBuf::from("/w/src/a.rs")
    );
}
