//! The stage binaries behave like Unix tools: results on stdout, logs on stderr, `--json` for
//! one JSON document, and a bad argument refused with `error: …`, exit code 2 and no output.
//!
//! Every run is small (three vectors, 200 random ones, the digits at 8 bytes per code), so the
//! whole file takes seconds even in a debug build.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

const IN_MEMORY: &str = env!("CARGO_BIN_EXE_main_in_memory");
const SQLITE: &str = env!("CARGO_BIN_EXE_main_sqlite");
const KMEANS_CELLS: &str = env!("CARGO_BIN_EXE_main_kmeans_cells");
const HNSW_LAYERS: &str = env!("CARGO_BIN_EXE_main_hnsw_layers");
const FILTERED_WALKS: &str = env!("CARGO_BIN_EXE_main_filtered_walks");
const QUANTIZER: &str = env!("CARGO_BIN_EXE_main_quantizer");
const SQLITE_PQ: &str = env!("CARGO_BIN_EXE_main_sqlite_pq");
const EVALUATOR: &str = env!("CARGO_BIN_EXE_main_evaluator");
const EVALUATOR_PQ: &str = env!("CARGO_BIN_EXE_main_evaluator_pq");

/// Runs `binary` with `args`, logging at the default level (`info`) and without colours.
fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

fn stdout_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs a command that must succeed; returns its stdout, after checking that stderr holds the
/// logs and stdout none of them.
fn results_of(binary: &str, args: &[&str]) -> String {
    let output = run(binary, args);
    let (stdout, stderr) = (stdout_of(&output), stderr_of(&output));
    assert!(output.status.success(), "{binary} {args:?}: {stderr}");
    assert!(
        stderr.contains(" - INFO - "),
        "{binary} {args:?}: the logs go to stderr: {stderr}"
    );
    assert!(
        !stdout.contains(" - INFO - "),
        "{binary} {args:?}: no log on stdout: {stdout}"
    );
    stdout
}

/// Runs a command with `--json` added; stdout must be one JSON document and nothing else.
fn json_of(binary: &str, args: &[&str]) -> Value {
    let mut with_json = args.to_vec();
    with_json.push("--json");
    let stdout = results_of(binary, &with_json);
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{binary} {with_json:?}: stdout is not JSON ({e}): {stdout}"))
}

/// The `id` of each object in `neighbours`.
fn ids(neighbours: &Value) -> Vec<i64> {
    neighbours
        .as_array()
        .expect("an array of neighbours")
        .iter()
        .map(|n| n["id"].as_i64().expect("an integer id"))
        .collect()
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
}

#[test]
fn in_memory_prints_the_three_neighbours_on_stdout() {
    let stdout = results_of(IN_MEMORY, &[]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "Retrieved vector 1: [-1.0, -2.0, -3.0]",
            "key 0: cosine similarity 1.0000",
            "key 2: cosine similarity 0.9258",
            "key 1: cosine similarity -1.0000",
        ]
    );

    let json = json_of(IN_MEMORY, &[]);
    assert_eq!(ids(&json["neighbours"]), [0, 2, 1]);
    let scores: Vec<f64> = json["neighbours"]
        .as_array()
        .expect("neighbours")
        .iter()
        .map(|n| n["score"].as_f64().expect("a score"))
        .collect();
    for (score, expected) in scores.iter().zip([1.0, 0.9258, -1.0]) {
        assert!((score - expected).abs() < 1e-4, "{scores:?}");
    }
    assert_eq!(json["vector_1"], serde_json::json!([-1.0, -2.0, -3.0]));

    // Metric names are taken in any case, as they were before clap listed them.
    let euclidean = json_of(IN_MEMORY, &["--metric", "Euclidean", "--k", "2"]);
    assert_eq!(ids(&euclidean["neighbours"]), [2, 1]);
}

#[test]
fn sqlite_prints_both_searches_and_their_overlap() {
    let args = ["--n-vectors", "200"];
    let stdout = results_of(SQLITE, &args);
    assert!(stdout.contains("inserted 200 vectors"), "{stdout}");
    assert!(stdout.contains("without index, the 5 nearest:"), "{stdout}");
    assert!(stdout.contains("with index, probing cells"), "{stdout}");
    assert!(stdout.contains("of the 5 exact neighbours"), "{stdout}");

    let json = json_of(SQLITE, &args);
    assert_eq!(json["inserted"], 200);
    assert_eq!(ids(&json["without_index"]).len(), 5);
    assert_eq!(ids(&json["with_index"]).len(), 5);
    assert_eq!(json["centroids"].as_array().map(Vec::len), Some(5));
    assert_eq!(json["probed_cells"].as_array().map(Vec::len), Some(1));
    let found = json["found_of_exact"].as_u64().expect("a count");
    assert!(found <= 5, "{json}");
}

#[test]
fn kmeans_cells_prints_what_it_drew_and_where() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let png = dir.path().join("pictures").join("cells.png");
    let args = [
        "--out",
        path_str(&png),
        "--points",
        "60",
        "--clusters",
        "3",
        "--cells",
        "4",
        "--probes",
        "2",
        "--size",
        "64",
    ];
    let stdout = results_of(KMEANS_CELLS, &args);
    assert!(stdout.contains("60 points, 4 cells"), "{stdout}");
    assert!(
        stdout.contains(&format!("wrote {}", png.display())),
        "{stdout}"
    );
    let bytes = std::fs::read(&png).expect("the PNG was written");
    assert_eq!(&bytes[1..4], b"PNG");

    let json = json_of(KMEANS_CELLS, &args);
    assert_eq!(json["wrote"], path_str(&png));
    assert_eq!(json["points"], 60);
    assert_eq!(json["probed_cells"].as_array().map(Vec::len), Some(2));
}

#[test]
fn hnsw_layers_draws_layers_that_thin_out_upwards_and_refuses_a_bad_m() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let png = dir.path().join("pictures").join("layers.png");
    let args = ["--out", path_str(&png), "--size", "64"];
    let stdout = results_of(HNSW_LAYERS, &args);
    let bytes = std::fs::read(&png).expect("the PNG was written");
    assert!(!bytes.is_empty() && &bytes[1..4] == b"PNG", "{png:?}");
    assert!(
        stdout.contains(&format!("wrote {}", png.display())),
        "{stdout}"
    );
    // `layer 0: 300 nodes, …`, from layer 0 up: each layer holds fewer nodes than the one below.
    let nodes: Vec<(usize, usize)> = stdout
        .lines()
        .filter_map(|line| {
            let (layer, rest) = line.strip_prefix("layer ")?.split_once(": ")?;
            let count = rest.split_once(' ')?.0;
            Some((layer.parse().ok()?, count.parse().ok()?))
        })
        .collect();
    assert!(nodes.len() >= 2, "several layers: {stdout}");
    assert_eq!(nodes[0], (0, 300), "every point is on layer 0: {stdout}");
    for (below, above) in nodes.iter().zip(&nodes[1..]) {
        assert_eq!(above.0, below.0 + 1, "{stdout}");
        assert!(above.1 < below.1, "layer {} thins out: {stdout}", above.0);
    }
    assert!(stdout.contains("the 5 nearest: "), "{stdout}");

    let json = json_of(HNSW_LAYERS, &args);
    let counts: Vec<u64> = json["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .map(|layer| layer["nodes"].as_u64().expect("a count"))
        .collect();
    let from_text: Vec<u64> = nodes.iter().map(|&(_, n)| n as u64).collect();
    assert_eq!(counts, from_text, "text and JSON tell the same");
    assert_eq!(
        json["path"]["walks"][0]["nodes"][0], json["entry"]["node"],
        "the search starts at the entry point"
    );
    assert_eq!(json["path"]["found"].as_array().map(Vec::len), Some(5));

    let refused = dir.path().join("refused.png");
    for (bad, needle) in [
        (["--m", "1"], "below 2"),
        (["--ef-construction", "3"], "ef_construction"),
    ] {
        let output = run(
            HNSW_LAYERS,
            &[&bad[..], &["--out", path_str(&refused)]].concat(),
        );
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{bad:?}: {stderr}");
        assert!(
            stderr.starts_with("error:") && stderr.contains(needle),
            "{bad:?}: expected `error: …{needle}…`, got: {stderr}"
        );
        assert!(output.stdout.is_empty(), "{bad:?}: {}", stdout_of(&output));
    }
    assert!(!refused.exists(), "a refused run draws nothing");
}

#[test]
fn filtered_walks_measures_three_walks_per_share_and_refuses_a_bad_share() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let png = dir.path().join("walks.png");
    let args = [
        "--n",
        "3000",
        "--dim",
        "8",
        "--clusters",
        "10",
        "--queries",
        "20",
        "--m",
        "8",
        "--passing",
        "0.5,0.05",
        "--out",
        path_str(&png),
    ];
    let stdout = results_of(FILTERED_WALKS, &args);
    assert!(
        stdout.contains(&format!("wrote {}", png.display())),
        "{stdout}"
    );
    assert_eq!(&std::fs::read(&png).expect("the PNG")[1..4], b"PNG");
    let json = json_of(FILTERED_WALKS, &args);
    let rows = json["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 6, "three walks at two shares: {json}");
    let recall = |walk: &str, share: f64| {
        rows.iter()
            .find(|r| r["walk"] == walk && r["passing"].as_f64() == Some(share))
            .and_then(|r| r["recall"].as_f64())
            .expect("measured")
    };
    // At 5 % passing, 16 links hold less than one passing node: the bitset walk is lost.
    assert!(
        recall("skip", 0.05) < recall("through", 0.05) - 0.3,
        "{json}"
    );

    for (bad, needle) in [("0", "not a share"), ("1.5", "not a share")] {
        let output = run(FILTERED_WALKS, &["--passing", bad, "--out", path_str(&png)]);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains(needle), "{bad}: {stderr}");
    }
}

#[test]
fn quantizer_prints_the_code_the_loss_and_the_neighbours() {
    let args = ["--m-chunks", "8", "--centroids", "16", "--k", "5"];
    let stdout = results_of(QUANTIZER, &args);
    assert!(
        stdout.contains("quantized vector 11 (centroid ids):"),
        "{stdout}"
    );
    assert!(
        stdout.contains("256 bytes of f32 -> 8 bytes of code = 32x smaller"),
        "{stdout}"
    );
    assert!(stdout.contains("label of query vector 11: 1"), "{stdout}");
    assert!(stdout.contains("of the 5 neighbours share"), "{stdout}");

    let json = json_of(QUANTIZER, &args);
    assert_eq!(json["code"].as_array().map(Vec::len), Some(8));
    assert_eq!(json["query_label"], 1);
    assert_eq!(ids(&json["neighbours"]).len(), 5);
    assert!(json["mse"].as_f64().is_some_and(|mse| mse > 0.0), "{json}");
}

#[test]
fn sqlite_pq_prints_the_labelled_neighbours_and_the_reopened_search() {
    let args = ["--m-chunks", "8", "--centroids", "16"];
    let stdout = results_of(SQLITE_PQ, &args);
    assert!(
        stdout.contains("1797 images stored as 8-byte codes instead of 256 bytes of f32"),
        "{stdout}"
    );
    assert!(stdout.contains("query: image 11 shows a 1"), "{stdout}");
    assert!(stdout.contains("the same search gives the same answer: true"));

    let json = json_of(SQLITE_PQ, &args);
    assert_eq!(json["stored"], 1797);
    assert_eq!(json["same_after_reopening"], true);
    assert_eq!(ids(&json["neighbours"]).len(), 10);
    assert_eq!(
        json["database"],
        Value::Null,
        "a temporary file is not kept"
    );
}

#[test]
fn evaluators_print_the_table_or_the_same_rows_as_json() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("ivf");
    let data = ["--generate", "200,8,4", "--n-queries", "20"];
    let ivf: Vec<&str> = data
        .iter()
        .copied()
        .chain([
            "--clusters",
            "4",
            "--probes",
            "1,4",
            "--out",
            path_str(&out),
        ])
        .collect();
    let table = results_of(EVALUATOR, &ivf);
    assert!(
        table.contains("n_probes") && table.contains("brute"),
        "{table}"
    );
    assert!(table.contains("wrote "), "{table}");

    let json = json_of(EVALUATOR, &ivf);
    let modes: Vec<&str> = json["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|row| row["mode"].as_str().expect("a mode"))
        .collect();
    assert_eq!(modes, ["brute", "ivf", "ivf"]);
    assert_eq!(json["rows"][0]["recall"], 1.0, "brute force is exact");
    let csv = out.join("ivf_results.csv");
    assert_eq!(json["wrote"][0], path_str(&csv));
    let header = std::fs::read_to_string(&csv).expect("the CSV was written");
    assert!(header.starts_with("mode,n_clusters,n_probes,k,recall,"));

    let out = dir.path().join("pq");
    let pq: Vec<&str> = data
        .iter()
        .copied()
        .chain(["--m", "4", "--centroids", "16", "--out", path_str(&out)])
        .collect();
    let json = json_of(EVALUATOR_PQ, &pq);
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(json["rows"][0]["bytes_per_vector"], 4);
    assert!(out.join("pq_results.csv").exists());
}

#[test]
fn a_bad_argument_exits_2_with_an_error_and_prints_nothing() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let not_a_database = dir.path().join("notes.txt");
    std::fs::write(&not_a_database, "not a database, only text\n").expect("write");
    let not_a_database = path_str(&not_a_database);
    let png = dir.path().join("cells.png");
    let out = path_str(dir.path());
    let cases: [(&str, &[&str], &str); 18] = [
        (IN_MEMORY, &["--k", "0"], "--k"),
        (IN_MEMORY, &["--metric", "manhattan"], "manhattan"),
        (SQLITE, &["--probes", "6"], "n_probes = 6"),
        (SQLITE, &["--n-vectors", "3"], "n_clusters = 5"),
        (SQLITE, &["--db", not_a_database], "notes.txt"),
        (
            KMEANS_CELLS,
            &["--cells", "4", "--probes", "5"],
            "n_probes = 5",
        ),
        (KMEANS_CELLS, &["--size", "10"], "--size"),
        (KMEANS_CELLS, &["--points", "1000000000000"], "--points"),
        (SQLITE, &["--n-vectors", "1000000000000"], "--n-vectors"),
        (KMEANS_CELLS, &["--out", "cells.jpg"], ".png"),
        (QUANTIZER, &["--m-chunks", "3"], "m_chunks = 3"),
        (QUANTIZER, &["--query", "5000"], "--query"),
        (SQLITE_PQ, &["--centroids", "300"], "300"),
        (SQLITE_PQ, &["--db", not_a_database], "notes.txt"),
        (SQLITE_PQ, &["--no-such-flag"], "--no-such-flag"),
        (EVALUATOR, &["--k", "0", "--out", out], "--k"),
        (
            EVALUATOR_PQ,
            &["--metric", "cosine", "--out", out],
            "--metric",
        ),
        (EVALUATOR_PQ, &["--m", "3", "--out", out], "m_chunks = 3"),
    ];
    for (binary, args, needle) in cases {
        // Every case that would draw writes here: a refused run must not.
        let mut args = args.to_vec();
        if binary == KMEANS_CELLS && !args.contains(&"--out") {
            args.extend(["--out", path_str(&png)]);
        }
        let output = run(binary, &args);
        let stderr = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "{binary} {args:?}: {stderr}");
        assert!(
            stderr.starts_with("error:") && stderr.contains(needle),
            "{binary} {args:?}: expected `error: …{needle}…`, got: {stderr}"
        );
        assert!(
            output.stdout.is_empty(),
            "{binary} {args:?}: nothing on stdout, got: {}",
            stdout_of(&output)
        );
    }
    assert!(!png.exists(), "a refused run draws nothing");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("notes.txt"))
            .ok()
            .as_deref(),
        Some("not a database, only text\n"),
        "a refused --db file is left as it was"
    );
}

#[test]
fn help_lists_both_metrics_and_version_names_the_binary() {
    for binary in [IN_MEMORY, SQLITE, EVALUATOR, EVALUATOR_PQ] {
        let output = run(binary, &["--help"]);
        assert!(output.status.success(), "{binary}: {}", stderr_of(&output));
        let help = stdout_of(&output);
        assert!(
            help.contains("cosine") && help.contains("euclidean"),
            "{binary} --help lists both metrics: {help}"
        );
    }
    for binary in [
        IN_MEMORY,
        SQLITE,
        KMEANS_CELLS,
        HNSW_LAYERS,
        QUANTIZER,
        SQLITE_PQ,
        EVALUATOR,
        EVALUATOR_PQ,
    ] {
        let output = run(binary, &["--version"]);
        let name = Path::new(binary)
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a binary name");
        let version = stdout_of(&output);
        assert!(
            output.status.success() && version.starts_with(&format!("{name} ")),
            "{binary}: {version}"
        );
        let help = stdout_of(&run(binary, &["--help"]));
        let about = help.lines().next().unwrap_or_default();
        assert!(
            !about.starts_with("A vector database written from scratch"),
            "{binary} has an about of its own, not the crate's description: {about}"
        );
    }
}

/// Without `--out`, a picture goes to the current directory under the book's file name: a
/// student running the command a caption gives never overwrites the book's own picture (which
/// `regen_book` draws with an explicit `--out`).
#[test]
fn pictures_go_to_the_current_directory_by_default() {
    let dir = tempfile::tempdir().expect("temporary directory");
    for (binary, name, args) in [
        (
            KMEANS_CELLS,
            "ch06-kmeans-cells.png",
            &["--points", "60", "--size", "64"][..],
        ),
        (HNSW_LAYERS, "ch13-hnsw-layers.png", &["--size", "64"][..]),
    ] {
        let output = Command::new(binary)
            .args(args)
            .current_dir(dir.path())
            .env("NO_COLOR", "1")
            .env_remove("RUST_LOG")
            .output()
            .expect("the binary runs");
        assert!(output.status.success(), "{binary}: {}", stderr_of(&output));
        assert!(
            stdout_of(&output).contains(&format!("wrote {name}")),
            "{binary}: {}",
            stdout_of(&output)
        );
        let bytes = std::fs::read(dir.path().join(name)).expect("the PNG is in the directory");
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
