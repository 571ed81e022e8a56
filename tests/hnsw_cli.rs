//! `svdb` with a graph index, end to end: `index hnsw`, `search --ef`, `eval --index hnsw`,
//! `indexes`, `info` and `check`, as a user runs them.
//!
//! Each test writes its own `.npy` files in a temporary directory, runs the real binary, and
//! checks stdout (results), stderr (errors) and the exit code (0, 1 for a failure during the
//! work, 2 for a bad argument or input, refused before any work).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{
    assert_refused_before_any_work, edit_links, s, stderr, stdout, svdb, tamper, uniform,
    write_vectors,
};
use ndarray::Array2;
use rusqlite::Connection;
use simple_vector_db::engine::Collection;
use simple_vector_db::evaluation::index_sweep::INDEX_HEADER;

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_str(&stdout(output))
        .unwrap_or_else(|e| panic!("JSON on stdout ({e}): {}", stdout(output)))
}

/// Runs `args` and checks that it succeeds.
fn ok(args: &[&str]) -> Output {
    let output = svdb(args);
    assert!(
        output.status.success(),
        "{args:?}: {}{}",
        stdout(&output),
        stderr(&output)
    );
    output
}

/// Runs `search --json` on `f.db` for `queries` with the `extra` arguments, checks that it
/// succeeds, and returns its answer.
fn search_json(f: &Files, queries: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["search", "--db", s(&f.db), "--queries", s(queries)];
    args.extend(extra);
    args.push("--json");
    json(&ok(&args))
}

/// `base` followed by `extra`, as owned arguments for a table of cases.
fn args_with(base: &[&str], extra: &[&str]) -> Vec<String> {
    base.iter().chain(extra).map(|a| a.to_string()).collect()
}

/// Checks that `output` is a failure during the work (exit 1) whose stderr mentions `needle`.
fn assert_failed_during_work(output: &Output, needle: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    assert!(stderr(output).contains(needle), "{}", stderr(output));
}

/// Checks that `output` is `svdb check` finding a problem (exit 1) that its report on stdout
/// describes with `problem`.
fn assert_check_found(output: &Output, problem: &str) {
    assert_eq!(output.status.code(), Some(1), "{}", stderr(output));
    assert!(stdout(output).contains(problem), "{}", stdout(output));
}

struct Files {
    _dir: tempfile::TempDir,
    root: PathBuf,
    db: PathBuf,
    /// 1,500 vectors of dimension 16.
    base: PathBuf,
    /// The first 10 of the base: each query's nearest neighbour is itself.
    queries: PathBuf,
    /// 100 more vectors drawn the same way, not in the base.
    held_out: PathBuf,
}

fn files() -> Files {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let mut vectors = uniform(1_600, 16, 1);
    let held_out = vectors.split_off(1_500);
    let files = Files {
        db: root.join("f.db"),
        base: root.join("base.npy"),
        queries: root.join("queries.npy"),
        held_out: root.join("held_out.npy"),
        root,
        _dir: dir,
    };
    write_vectors(&files.base, &vectors);
    write_vectors(&files.queries, &vectors[..10]);
    write_vectors(&files.held_out, &held_out);
    files
}

/// `f.db` holding the base (euclidean) and a graph of M = 8 built with seed 3.
fn indexed(f: &Files) {
    ok(&[
        "load",
        "--db",
        s(&f.db),
        "--vectors",
        s(&f.base),
        "--metric",
        "euclidean",
    ]);
    let built = ok(&[
        "index",
        "--db",
        s(&f.db),
        "hnsw",
        "--m",
        "8",
        "--ef-construction",
        "40",
        "--ef-search",
        "24",
        "--seed",
        "3",
    ]);
    let text = stdout(&built);
    assert!(
        text.starts_with("built index hnsw: hnsw(m=8,ef_construction=40) in ")
            && text.ends_with(" s\n"),
        "{text}"
    );
}

/// The ids of a `search --json` answer, per query.
fn ids(answer: &serde_json::Value) -> Vec<Vec<i64>> {
    answer
        .as_array()
        .expect("one list per query")
        .iter()
        .map(|found| {
            found
                .as_array()
                .expect("neighbours")
                .iter()
                .map(|n| n["id"].as_i64().expect("an id"))
                .collect()
        })
        .collect()
}

#[test]
fn a_graph_is_built_listed_searched_shown_and_checked() {
    let f = files();
    indexed(&f);
    let listed = json(&ok(&["indexes", "--db", s(&f.db), "--json"]));
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
    let index = &listed[0];
    assert_eq!(index["name"], "hnsw");
    assert_eq!(index["kind"], "hnsw");
    assert_eq!(index["label"], "hnsw(m=8,ef_construction=40)");
    assert_eq!(index["metric"], "euclidean");
    assert_eq!(index["up_to_date"], true);
    assert_eq!(
        index["settings"],
        "ef_construction=40 ef_search=24 m=8 seed=3 selection=heuristic"
    );
    // Bytes per vector: layer 0's 1 + 2·M slots of 4 bytes, a level byte, an offset and an
    // id per node, and 1 + M slots per list above layer 0.
    let upper: i64 = Connection::open(&f.db)
        .expect("opens")
        .query_row("SELECT sum(level) FROM hnsw_nodes", [], |r| r.get(0))
        .expect("the nodes table");
    let bytes = 4 * 17 + 1 + std::mem::size_of::<usize>() + 8 + upper as usize * 4 * 9 / 1_500;
    assert_eq!(index["bytes_per_vector"], bytes);

    // The only index is the default; each query is a stored vector and finds itself first.
    let out = f.root.join("ids.npy");
    let found = search_json(
        &f,
        &f.queries,
        &["--k", "5", "--ef", "64", "--output", s(&out)],
    );
    let graph = ids(&found);
    for (q, neighbours) in graph.iter().enumerate() {
        assert_eq!(neighbours.len(), 5);
        assert_eq!(neighbours[0], q as i64, "query {q}");
        assert_eq!(found[q][0]["score"], 0.0);
    }
    let written: Array2<i64> = ndarray_npy::read_npy(&out).expect("an int64 .npy");
    assert_eq!(written.dim(), (10, 5));
    assert_eq!(written.row(3).to_vec(), graph[3]);
    let exact = ids(&search_json(
        &f,
        &f.queries,
        &["--k", "5", "--index", "flat"],
    ));
    let hits: usize = graph
        .iter()
        .zip(&exact)
        .map(|(g, e)| g.iter().filter(|id| e.contains(id)).count())
        .sum();
    assert!(hits >= 48, "{hits} of 50 true neighbours through the graph");
    // A beam wider than the graph is the whole graph: brute force's answer.
    let widest = ids(&search_json(
        &f,
        &f.queries,
        &["--k", "5", "--ef", "1000000000000"],
    ));
    assert_eq!(widest, exact);
    // Text output, and the default beam (the index's ef_search) without --ef.
    let text = ok(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--k",
        "3",
        "--index",
        "hnsw",
        "--mode",
        "preloaded",
    ]);
    assert!(
        stdout(&text).starts_with("query\trank\tid\tscore\n0\t0\t0\t0\n"),
        "{}",
        stdout(&text)
    );
    assert_eq!(stdout(&text).lines().count(), 1 + 30);

    let info = json(&ok(&["info", "--db", s(&f.db), "--json"]));
    assert_eq!(info["indexes"][0]["label"], "hnsw(m=8,ef_construction=40)");
    assert_eq!(info["indexes"][0]["bytes_per_vector"], bytes);
    let text = stdout(&ok(&["info", "--db", s(&f.db)]));
    assert!(
        text.contains(&format!(
            "index: hnsw hnsw(m=8,ef_construction=40) (euclidean metric, {bytes} bytes per vector)\n"
        )),
        "{text}"
    );
    let checked = ok(&["check", "--db", s(&f.db)]);
    assert!(stdout(&checked).ends_with(": ok\n"), "{}", stdout(&checked));
}

#[test]
fn index_json_a_second_graph_and_the_simple_selection() {
    let f = files();
    indexed(&f);
    let built = json(&ok(&[
        "index",
        "--db",
        s(&f.db),
        "--name",
        "simple",
        "--json",
        "hnsw",
        "--m",
        "6",
        "--ef-construction",
        "30",
        "--selection",
        "simple",
    ]));
    assert_eq!(built["name"], "simple");
    assert_eq!(built["label"], "hnsw(m=6,ef_construction=30)");
    assert!(built["build_s"].as_f64().expect("a duration") > 0.0);
    let listed = json(&ok(&["indexes", "--db", s(&f.db), "--json"]));
    let simple = listed
        .as_array()
        .expect("a list")
        .iter()
        .find(|i| i["name"] == "simple")
        .expect("listed");
    assert_eq!(
        simple["settings"],
        "ef_construction=30 ef_search=16 m=6 seed=42 selection=simple"
    );
    // Two indexes: a search must name one.
    assert_refused_before_any_work(
        &["search", "--db", s(&f.db), "--queries", s(&f.queries)],
        "several indexes",
    );
    let found = ids(&search_json(
        &f,
        &f.queries,
        &["--index", "simple", "--k", "1", "--ef", "32"],
    ));
    assert_eq!(found, (0..10).map(|q| vec![q]).collect::<Vec<_>>());
}

#[test]
fn bad_graph_arguments_exit_2_before_any_work() {
    let f = files();
    indexed(&f);
    ok(&["index", "--db", s(&f.db), "ivf", "--nlist", "8"]);
    let empty = f.root.join("empty.db");
    drop(Collection::open(&empty).expect("creates an empty collection"));
    let before = std::fs::read(&f.db).expect("the file");
    let empty_before = std::fs::read(&empty).expect("the file");
    let search = |extra: &[&str]| {
        args_with(
            &["search", "--db", s(&f.db), "--queries", s(&f.queries)],
            extra,
        )
    };
    let index = |extra: &[&str]| args_with(&["index", "--db", s(&f.db), "hnsw"], extra);
    let eval = |extra: &[&str]| {
        let base = [
            "eval",
            "--data",
            s(&f.base),
            "--queries",
            s(&f.queries),
            "--index",
            "hnsw",
            "--out",
            s(&f.root),
        ];
        args_with(&base, extra)
    };
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            search(&["--index", "hnsw", "--k", "10", "--ef", "5"]),
            "ef = 5 is below k = 10",
        ),
        (search(&["--index", "hnsw", "--ef", "0"]), "at least 1"),
        (
            search(&["--index", "ivf", "--ef", "16"]),
            "it applies to a graph index, and the search uses ivf",
        ),
        (
            search(&["--index", "flat", "--ef", "16"]),
            "the search uses brute force",
        ),
        (index(&["--m", "1"]), "invalid parameter m"),
        (index(&["--m", "0"]), "invalid parameter m"),
        (index(&["--m", "2000", "--ef-construction", "4000"]), "1024"),
        (
            index(&["--m", "8", "--ef-construction", "4"]),
            "invalid parameter ef_construction",
        ),
        (index(&["--ef-search", "0"]), "invalid parameter ef_search"),
        (index(&["--selection", "best"]), "best"),
        (
            args_with(&["index", "--db", s(&empty), "hnsw"], &[]),
            "empty collection",
        ),
        (
            args_with(
                &["index", "--db", s(&f.db), "--name", "Bad-Name", "hnsw"],
                &[],
            ),
            "Bad-Name",
        ),
        (eval(&["--hnsw-m", "1"]), "invalid parameter m"),
        (
            eval(&["--hnsw-m", "8", "--ef-construction", "4"]),
            "invalid parameter ef_construction",
        ),
        (
            eval(&["--k", "10", "--ef", "16,5"]),
            "ef = 5 is below k = 10",
        ),
        (eval(&["--ef", "0"]), "at least 1"),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_refused_before_any_work(&args, needle);
    }
    assert_eq!(
        std::fs::read(&f.db).expect("the file"),
        before,
        "nothing written"
    );
    assert_eq!(std::fs::read(&empty).expect("the file"), empty_before);
    assert!(!f.root.join("results.csv").exists(), "no eval ran");
}

#[test]
fn eval_writes_one_row_per_beam_width_with_the_graph_s_params() {
    let f = files();
    let out = f.root.join("eval");
    let run = ok(&[
        "eval",
        "--data",
        s(&f.base),
        "--queries",
        s(&f.held_out),
        "--k",
        "10",
        "--index",
        "hnsw",
        "--hnsw-m",
        "8",
        "--ef-construction",
        "40",
        "--ef",
        "16,32,64,128",
        "--out",
        s(&out),
        "--json",
    ]);
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("results.csv written");
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some(INDEX_HEADER));
    assert_eq!(
        INDEX_HEADER,
        "index,params,k,recall,qps,p50_ms,p95_ms,p99_ms,build_s,bytes_per_vector"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4);
    for (row, ef) in rows.iter().zip([16, 32, 64, 128]) {
        assert_eq!(row.len(), 10, "{row:?}");
        assert_eq!(
            &row[..3],
            [
                "hnsw",
                format!("m=8 ef_construction=40 ef_search={ef}").as_str(),
                "10"
            ]
        );
        assert_eq!(row[8], rows[0][8], "one build for every row");
        assert_eq!(row[9], rows[0][9], "one graph for every row");
    }
    let recall = |row: &Vec<&str>| row[3].parse::<f64>().expect("a recall");
    assert!(
        recall(&rows[3]) >= 0.95,
        "recall@10 at ef 128: {}",
        rows[3][3]
    );
    assert!(recall(&rows[3]) >= recall(&rows[0]), "{csv}");
    assert!(rows[0][9].parse::<usize>().expect("bytes") > 4 * 17);
    let json = json(&run);
    assert_eq!(json.as_array().map(Vec::len), Some(4));
    assert_eq!(json[2]["params"], "m=8 ef_construction=40 ef_search=64");
    assert_eq!(json[2]["index"], "hnsw");
    assert_eq!(json[2]["k"], 10);

    // The defaults (M = 32, ef_construction = 40, ef_search = 16), in rows and from memory.
    ok(&[
        "eval",
        "--data",
        s(&f.base),
        "--queries",
        s(&f.held_out),
        "--k",
        "10",
        "--index",
        "hnsw",
        "--layout",
        "rows",
        "--mode",
        "preloaded",
        "--out",
        s(&out),
    ]);
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("written");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(
        rows[1].starts_with(
            "hnsw,m=32 ef_construction=40 ef_search=16 layout=rows mode=preloaded,10,"
        ),
        "{csv}"
    );
}

#[test]
fn loads_after_the_build_are_linked_in_and_a_metric_change_rebuilds() {
    let f = files();
    indexed(&f);
    let nodes = |db: &Path| -> i64 {
        Connection::open(db)
            .expect("opens")
            .query_row("SELECT count(*) FROM hnsw_nodes", [], |r| r.get(0))
            .expect("the nodes table")
    };
    let loaded = json(&ok(&[
        "load",
        "--db",
        s(&f.db),
        "--vectors",
        s(&f.held_out),
        "--json",
    ]));
    assert_eq!(
        (loaded["first_id"].as_i64(), loaded["count"].as_i64()),
        (Some(1_500), Some(1_600))
    );
    assert_eq!(nodes(&f.db), 1_600);
    let listed = json(&ok(&["indexes", "--db", s(&f.db), "--json"]));
    assert_eq!(listed[0]["up_to_date"], true);
    let found = ids(&search_json(&f, &f.held_out, &["--k", "1", "--ef", "32"]));
    assert_eq!(found, (1_500..1_600).map(|id| vec![id]).collect::<Vec<_>>());
    ok(&["check", "--db", s(&f.db)]);

    // A load that changes the metric rebuilds the graph for it, then links the new vectors.
    ok(&[
        "load",
        "--db",
        s(&f.db),
        "--vectors",
        s(&f.queries),
        "--metric",
        "cosine",
    ]);
    assert_eq!(nodes(&f.db), 1_610);
    let listed = json(&ok(&["indexes", "--db", s(&f.db), "--json"]));
    assert_eq!(listed[0]["metric"], "cosine");
    assert_eq!(listed[0]["up_to_date"], true);
    let found = search_json(&f, &f.queries, &["--k", "2", "--ef", "32"]);
    for q in 0..10 {
        // The query is stored twice, as q and as 1600 + q: both have cosine 1.
        let mut pair = vec![found[q][0]["id"].as_i64(), found[q][1]["id"].as_i64()];
        pair.sort();
        assert_eq!(pair, [Some(q as i64), Some(1_600 + q as i64)], "query {q}");
        let score = found[q][0]["score"].as_f64().expect("a score");
        assert!((score - 1.0).abs() < 1e-5, "cosine {score}");
    }
    ok(&["check", "--db", s(&f.db)]);
}

#[test]
fn a_damaged_graph_fails_check_and_search_but_not_the_collection() {
    let f = files();
    indexed(&f);
    // Node 3 claims 2³² - 1 links on layer 0.
    edit_links(&f.db, 3, |links| {
        links[..4].copy_from_slice(&u32::MAX.to_le_bytes())
    });
    let checked = svdb(&["check", "--db", s(&f.db)]);
    assert_check_found(
        &checked,
        "problem: hnsw_nodes: bad data in table hnsw_nodes: node 3:",
    );
    assert!(
        stderr(&checked).contains("1 problem(s) found"),
        "{}",
        stderr(&checked)
    );
    let report = svdb(&["check", "--db", s(&f.db), "--json"]);
    assert_eq!(report.status.code(), Some(1));
    let report = json(&report);
    assert_eq!(report["ok"], false);
    assert_eq!(report["problems"][0]["table"], "hnsw_nodes");
    assert!(report["problems"][0]["what"]
        .as_str()
        .expect("text")
        .contains("4294967295 links on layer 0"));

    // Searching through the graph is a failure during the work (1), with a message.
    let through = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--index",
        "hnsw",
    ]);
    assert_failed_during_work(&through, "hnsw_nodes");
    assert!(
        stderr(&through).starts_with("error: "),
        "{}",
        stderr(&through)
    );
    assert!(stdout(&through).is_empty());
    // Brute force and info still work; a load cannot keep the graph up to date, and stores
    // nothing.
    ok(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--index",
        "flat",
    ]);
    ok(&["info", "--db", s(&f.db)]);
    let load = svdb(&["load", "--db", s(&f.db), "--vectors", s(&f.queries)]);
    assert_failed_during_work(&load, "error: ");
    let info = json(&ok(&["info", "--db", s(&f.db), "--json"]));
    assert_eq!(info["count"], 1_500);
    // Rebuilding repairs it.
    ok(&["index", "--db", s(&f.db), "hnsw", "--m", "8"]);
    ok(&["check", "--db", s(&f.db)]);
}

/// A damaged entry row that claims 2⁶³ nodes is refused with an error (exit 1), even in a
/// process allowed 200 MB of address space: loading the graph must not reserve room for the
/// nodes the row claims before reading them (it reserved 650 MB, and the allocation failure
/// aborted the process).
#[cfg(target_os = "linux")]
#[test]
fn an_absurd_node_count_is_refused_not_reserved() {
    let f = files();
    indexed(&f);
    tamper(&f.db, "UPDATE hnsw_entry SET nodes = 9223372036854775807");
    let limited = |args: &str| {
        Command::new("sh")
            .arg("-c")
            .arg(format!(
                "ulimit -v 200000 && exec {} {args}",
                env!("CARGO_BIN_EXE_svdb")
            ))
            .env("RUST_LOG", "warn")
            .output()
            .expect("sh runs")
    };
    let db = s(&f.db);
    let searched = limited(&format!(
        "search --db {db} --queries {} --index hnsw",
        s(&f.queries)
    ));
    assert_failed_during_work(&searched, "the entry row says 9223372036854775807");
    let checked = limited(&format!("check --db {db}"));
    assert_check_found(&checked, "problem: hnsw_nodes:");
    // The same limit leaves room for an ordinary search of the repaired file.
    ok(&["index", "--db", db, "hnsw", "--m", "8"]);
    let repaired = limited(&format!(
        "search --db {db} --queries {} --index hnsw",
        s(&f.queries)
    ));
    assert!(repaired.status.success(), "{}", stderr(&repaired));
}
