//! `svdb` end to end: load, index, indexes, search, eval and info, as a user runs them.
//!
//! Each test writes its own `.npy` files in a temporary directory, runs the real binary, and
//! checks stdout (results), stderr (errors) and the exit code (0, 1 for a failure during the
//! work, 2 for a bad argument or input, refused before any work).

mod common;

use std::path::{Path, PathBuf};

use common::{assert_refused_before_any_work, s, stderr, stdout, svdb, write_ids, write_vectors};
use ndarray::Array2;

/// `n` points of dimension `d` on a lattice, so every point is its own unique nearest neighbour.
fn lattice(n: usize, d: usize) -> Vec<Vec<f32>> {
    (0..n)
        .map(|i| {
            (0..d)
                .map(|j| ((i * (j + 3)) % 97) as f32 + (i / 97) as f32 * 0.5)
                .collect()
        })
        .collect()
}

struct Files {
    _dir: tempfile::TempDir,
    db: PathBuf,
    base: PathBuf,
    queries: PathBuf,
    root: PathBuf,
}

fn files(n: usize, d: usize) -> Files {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let base = root.join("base.npy");
    let queries = root.join("queries.npy");
    let vectors = lattice(n, d);
    write_vectors(&base, &vectors);
    write_vectors(&queries, &vectors[..n.min(10)]);
    Files {
        db: root.join("f.db"),
        _dir: dir,
        base,
        queries,
        root,
    }
}

#[test]
fn load_index_search_and_info_work_together() {
    let f = files(400, 8);
    let loaded = svdb(&[
        "load",
        "--db",
        s(&f.db),
        "--vectors",
        s(&f.base),
        "--metric",
        "euclidean",
    ]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    assert!(
        stdout(&loaded).contains("loaded 400 vectors"),
        "{}",
        stdout(&loaded)
    );

    // A second load counts ids on from the largest stored one.
    let again = svdb(&[
        "load",
        "--db",
        s(&f.db),
        "--vectors",
        s(&f.queries),
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&again)).expect("JSON on stdout");
    assert_eq!(json["first_id"], 400);
    assert_eq!(json["last_id"], 409);
    assert_eq!(json["count"], 410);

    // Without an index, search is brute force: each query finds itself (ids 0..9) first.
    let out = f.root.join("ids.npy");
    let found = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--k",
        "3",
        "--output",
        s(&out),
        "--json",
    ]);
    assert!(found.status.success(), "{}", stderr(&found));
    let json: serde_json::Value = serde_json::from_str(&stdout(&found)).expect("JSON on stdout");
    for q in 0..10 {
        let first = json[q][0]["id"].as_i64().expect("an id");
        assert!(
            first == q as i64 || first == 400 + q as i64,
            "query {q} found {first}"
        );
        assert_eq!(json[q][0]["score"], 0.0);
    }
    let ids: Array2<i64> = ndarray_npy::read_npy(&out).expect("an int64 .npy");
    assert_eq!(ids.dim(), (10, 3));

    let built = svdb(&[
        "index",
        "--db",
        s(&f.db),
        "ivf",
        "--nlist",
        "8",
        "--seed",
        "3",
    ]);
    assert!(built.status.success(), "{}", stderr(&built));
    assert!(
        stdout(&built).contains("ivf(nlist=8)"),
        "{}",
        stdout(&built)
    );
    let listed = svdb(&["indexes", "--db", s(&f.db), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&listed)).expect("JSON");
    assert_eq!(json[0]["name"], "ivf");
    assert_eq!(json[0]["up_to_date"], true);

    // The only index is the default; reading all 8 cells is exact.
    let through = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--k",
        "1",
        "--nprobe",
        "8",
        "--json",
    ]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&through)).expect("JSON");
    assert_eq!(json[3][0]["score"], 0.0);

    let info = svdb(&["info", "--db", s(&f.db), "--json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&info)).expect("JSON");
    assert_eq!(json["dimension"], 8);
    assert_eq!(json["count"], 410);
    assert_eq!(json["metric"], "euclidean");
    assert_eq!(json["indexes"][0]["label"], "ivf(nlist=8)");
    assert!(json["file_bytes"].as_u64().expect("a size") > 0);
    let text = svdb(&["info", "--db", s(&f.db)]);
    assert!(stdout(&text).contains("count: 410"), "{}", stdout(&text));
}

#[test]
fn given_ids_are_kept_and_short_answers_are_padded_with_minus_one() {
    let f = files(5, 4);
    let ids = f.root.join("ids_in.npy");
    write_ids(&ids, &[100, 200, 300, 400, 500]);
    let loaded = svdb(&[
        "load",
        "--db",
        s(&f.db),
        "--vectors",
        s(&f.base),
        "--ids",
        s(&ids),
    ]);
    assert!(loaded.status.success(), "{}", stderr(&loaded));
    let out = f.root.join("out.npy");
    let found = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--k",
        "8",
        "--output",
        s(&out),
    ]);
    assert!(found.status.success(), "{}", stderr(&found));
    let written: Array2<i64> = ndarray_npy::read_npy(&out).expect("int64 .npy");
    assert_eq!(written.dim(), (5, 8));
    for row in written.rows() {
        assert!(row
            .iter()
            .take(5)
            .all(|id| [100, 200, 300, 400, 500].contains(id)));
        assert!(row.iter().skip(5).all(|&id| id == -1), "padding: {row:?}");
    }
    // Text output: a header, then query, rank, id, score.
    assert!(stdout(&found).starts_with("query\trank\tid\tscore\n0\t0\t100\t"));
}

#[test]
fn several_indexes_must_be_named_and_pq_is_searched_through_its_codes() {
    let f = files(600, 8);
    assert!(svdb(&[
        "load",
        "--db",
        s(&f.db),
        "--vectors",
        s(&f.base),
        "--metric",
        "euclidean"
    ])
    .status
    .success());
    assert!(svdb(&["index", "--db", s(&f.db), "ivf", "--nlist", "4"])
        .status
        .success());
    let pq = svdb(&["index", "--db", s(&f.db), "pq", "--m", "4", "--nbits", "4"]);
    assert!(pq.status.success(), "{}", stderr(&pq));
    assert_refused_before_any_work(
        &["search", "--db", s(&f.db), "--queries", s(&f.queries)],
        "several indexes",
    );
    let through_pq = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--index",
        "pq",
        "--k",
        "5",
        "--rerank",
        "50",
        "--json",
    ]);
    assert!(through_pq.status.success(), "{}", stderr(&through_pq));
    let json: serde_json::Value = serde_json::from_str(&stdout(&through_pq)).expect("JSON");
    assert_eq!(
        json[0][0]["id"], 0,
        "re-ranked exactly, query 0 finds itself"
    );
    let nprobe_on_pq = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--index",
        "pq",
        "--nprobe",
        "2",
    ]);
    assert_eq!(nprobe_on_pq.status.code(), Some(2));
    let flat = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--index",
        "flat",
        "--k",
        "1",
    ]);
    assert!(flat.status.success());
}

#[test]
fn eval_writes_the_results_csv_contract() {
    let f = files(500, 8);
    let out = f.root.join("eval");
    let ivf = svdb(&[
        "eval",
        "--data",
        s(&f.base),
        "--queries",
        s(&f.queries),
        "--k",
        "5",
        "--index",
        "ivf",
        "--nlist",
        "10",
        "--nprobe",
        "1,10",
        "--out",
        s(&out),
        "--json",
    ]);
    assert!(ivf.status.success(), "{}", stderr(&ivf));
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("results.csv written");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("index,params,k,recall,qps,p50_ms,p95_ms,p99_ms,build_s,bytes_per_vector")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][..3], ["ivf", "nlist=10 nprobe=1", "5"]);
    assert_eq!(
        &rows[1][..4],
        ["ivf", "nlist=10 nprobe=10", "5", "1.000000"]
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&ivf)).expect("rows as JSON");
    assert_eq!(json.as_array().map(Vec::len), Some(2));
    assert_eq!(json[1]["recall"], 1.0);

    for (index, extra) in [("flat", vec![]), ("pq", vec!["--m", "4", "--nbits", "4"])] {
        let mut args = vec![
            "eval",
            "--data",
            s(&f.base),
            "--queries",
            s(&f.queries),
            "--k",
            "5",
            "--index",
            index,
            "--out",
            s(&out),
        ];
        args.extend(extra);
        let run = svdb(&args);
        assert!(run.status.success(), "{index}: {}", stderr(&run));
        let csv = std::fs::read_to_string(out.join("results.csv")).expect("written");
        let row: Vec<&str> = csv.lines().nth(1).expect("a row").split(',').collect();
        assert_eq!(row[0], index);
        if index == "pq" {
            assert_eq!(row[1], "m=4 nbits=4");
            assert_eq!(row[9], "4", "4 bytes per vector");
        } else {
            assert_eq!((row[1], row[3], row[9]), ("", "1.000000", "32"));
        }
    }
}

#[test]
fn bad_arguments_exit_2_before_any_work() {
    let f = files(50, 4);
    assert!(svdb(&["load", "--db", s(&f.db), "--vectors", s(&f.base)])
        .status
        .success());
    let before = std::fs::read(&f.db).expect("the file");
    let other = f.root.join("other.npy");
    write_vectors(&other, &lattice(3, 5));
    let wrong_ids = f.root.join("wrong_ids.npy");
    write_ids(&wrong_ids, &[1, 2]);
    let missing = f.root.join("missing.db");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["load", "--db", s(&f.db), "--vectors", s(&other)],
            "dimension",
        ),
        (
            vec![
                "load",
                "--db",
                s(&f.db),
                "--vectors",
                s(&f.base),
                "--ids",
                s(&wrong_ids),
            ],
            "ids",
        ),
        (
            vec!["load", "--db", s(&f.db), "--vectors", "/no/such.npy"],
            "/no/such.npy",
        ),
        (
            vec![
                "load",
                "--db",
                s(&f.db),
                "--vectors",
                s(&f.base),
                "--metric",
                "manhattan",
            ],
            "manhattan",
        ),
        (
            vec!["index", "--db", s(&f.db), "ivf", "--nlist", "51"],
            "51",
        ),
        (
            vec!["index", "--db", s(&f.db), "ivf", "--nlist", "0"],
            "at least 1",
        ),
        (
            vec!["index", "--db", s(&f.db), "pq", "--m", "3", "--nbits", "2"],
            "divisible",
        ),
        (
            vec!["index", "--db", s(&f.db), "pq", "--m", "2", "--nbits", "9"],
            "9",
        ),
        (
            vec![
                "index",
                "--db",
                s(&f.db),
                "--name",
                "Bad-Name",
                "ivf",
                "--nlist",
                "2",
            ],
            "Bad-Name",
        ),
        (
            vec!["search", "--db", s(&missing), "--queries", s(&f.queries)],
            "missing.db",
        ),
        (
            vec!["search", "--db", s(&f.db), "--queries", s(&other)],
            "dimension",
        ),
        (
            vec![
                "search",
                "--db",
                s(&f.db),
                "--queries",
                s(&f.queries),
                "--index",
                "hnsw",
            ],
            "hnsw",
        ),
        (
            vec![
                "search",
                "--db",
                s(&f.db),
                "--queries",
                s(&f.queries),
                "--k",
                "0",
            ],
            "at least 1",
        ),
        (
            vec![
                "search",
                "--db",
                s(&f.db),
                "--queries",
                s(&f.queries),
                "--nprobe",
                "2",
            ],
            "nprobe",
        ),
        (vec!["info", "--db", s(&missing)], "missing.db"),
        (
            vec!["eval", "--data", s(&f.base), "--index", "ivf"],
            "nlist",
        ),
        (
            vec![
                "eval",
                "--data",
                s(&f.base),
                "--index",
                "ivf",
                "--nlist",
                "4",
                "--nprobe",
                "5",
            ],
            "n_probes",
        ),
        (
            vec![
                "eval",
                "--data",
                s(&f.base),
                "--index",
                "hnsw",
                "--hnsw-m",
                "1",
            ],
            "invalid parameter m",
        ),
        (
            vec![
                "eval",
                "--data",
                s(&f.base),
                "--index",
                "pq",
                "--m",
                "3",
                "--nbits",
                "2",
            ],
            "divisible",
        ),
    ];
    for (args, needle) in cases {
        assert_refused_before_any_work(&args, needle);
    }
    assert!(
        !missing.exists(),
        "opening for search or info creates no file"
    );
    assert_eq!(
        std::fs::read(&f.db).expect("the file"),
        before,
        "nothing was written"
    );
}

#[test]
fn layouts_and_modes_answer_alike_and_are_shown() {
    let f = files(600, 8);
    let rows_db = f.root.join("rows.db");
    for (db, layout) in [(&f.db, "chunks"), (&rows_db, "rows")] {
        let loaded = svdb(&[
            "load",
            "--db",
            s(db),
            "--vectors",
            s(&f.base),
            "--layout",
            layout,
        ]);
        assert!(loaded.status.success(), "{}", stderr(&loaded));
        let built = svdb(&["index", "--db", s(db), "ivf", "--nlist", "6"]);
        assert!(built.status.success(), "{}", stderr(&built));
        let info = svdb(&["info", "--db", s(db)]);
        assert!(
            stdout(&info).contains(&format!("layout: {layout}")),
            "{}",
            stdout(&info)
        );
    }
    // A second load keeps the file's own layout, whatever --layout says.
    let again = svdb(&[
        "load",
        "--db",
        s(&rows_db),
        "--vectors",
        s(&f.queries),
        "--layout",
        "chunks",
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    let info = svdb(&["info", "--db", s(&rows_db)]);
    assert!(stdout(&info).contains("layout: rows"), "{}", stdout(&info));
    let search = |db: &Path, mode: &str, index: &str| {
        let mut args = vec![
            "search",
            "--db",
            s(db),
            "--queries",
            s(&f.queries),
            "--index",
            index,
            "--mode",
            mode,
            "--json",
        ];
        if index == "ivf" {
            args.extend(["--nprobe", "6"]); // every cell: the exact answer
        }
        let out = svdb(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        let found: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        found
            .as_array()
            .expect("one list per query")
            .iter()
            .map(|n| {
                n.as_array()
                    .expect("neighbours")
                    .iter()
                    .map(|n| n["id"].as_i64())
                    .collect()
            })
            .collect::<Vec<Vec<Option<i64>>>>()
    };
    let expected = search(&f.db, "streamed", "flat");
    for index in ["flat", "ivf"] {
        assert_eq!(
            search(&f.db, "preloaded", index),
            expected,
            "chunks, preloaded, {index}"
        );
        assert_eq!(
            search(&f.db, "streamed", index),
            expected,
            "chunks, streamed, {index}"
        );
    }
    let bad = svdb(&[
        "search",
        "--db",
        s(&f.db),
        "--queries",
        s(&f.queries),
        "--mode",
        "cached",
    ]);
    assert_eq!(bad.status.code(), Some(2), "{}", stderr(&bad));
    let eval = svdb(&[
        "eval",
        "--data",
        s(&f.base),
        "--n-queries",
        "20",
        "--index",
        "ivf",
        "--nlist",
        "6",
        "--nprobe",
        "6",
        "--layout",
        "rows",
        "--mode",
        "preloaded",
        "--out",
        s(&f.root),
    ]);
    assert!(eval.status.success(), "{}", stderr(&eval));
    let csv = std::fs::read_to_string(f.root.join("results.csv")).expect("written");
    assert!(
        csv.contains("ivf,nlist=6 nprobe=6 layout=rows mode=preloaded,10,1.000000,"),
        "{csv}"
    );
}
