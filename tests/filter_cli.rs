//! `svdb load --attributes` and `svdb search --filter`: the command-line side of filtered
//! search, run through the real binary.

mod common;

use common::{
    assert_refused_before_any_work, s, stderr, stdout, svdb, temp_path, uniform, write_vectors,
};

/// A file of 400 vectors whose `bucket` is `i % 10` and `color` one of three, with an hnsw index.
fn loaded() -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let (dir, db) = temp_path("f.db");
    let vectors = dir.path().join("x.npy");
    let attributes = dir.path().join("a.csv");
    write_vectors(&vectors, &uniform(400, 8, 3));
    let mut csv = String::from("bucket,color\n");
    for i in 0..400 {
        csv.push_str(&format!("{},{}\n", i % 10, ["red", "green", "blue"][i % 3]));
    }
    std::fs::write(&attributes, csv).expect("written");
    let output = svdb(&[
        "load",
        "--db",
        s(&db),
        "--vectors",
        s(&vectors),
        "--attributes",
        s(&attributes),
        "--metric",
        "euclidean",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let output = svdb(&[
        "index",
        "--db",
        s(&db),
        "hnsw",
        "--m",
        "8",
        "--ef-construction",
        "32",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    (dir, db, vectors)
}

#[test]
fn filtered_searches_return_only_matching_ids_with_every_strategy() {
    let (_dir, db, queries) = loaded();
    for strategy in ["auto", "pre", "post", "iterative", "in-index"] {
        let output = svdb(&[
            "search",
            "--db",
            s(&db),
            "--queries",
            s(&queries),
            "--k",
            "5",
            "--index",
            "hnsw",
            "--filter",
            "bucket = 3 AND color != 'red'",
            "--strategy",
            strategy,
            "--json",
        ]);
        assert!(output.status.success(), "{strategy}: {}", stderr(&output));
        let found: Vec<Vec<serde_json::Value>> =
            serde_json::from_str(&stdout(&output)).expect("json");
        assert_eq!(found.len(), 400);
        for neighbours in &found {
            for n in neighbours {
                let id = n["id"].as_i64().expect("an id");
                assert!(
                    id % 10 == 3 && id % 3 != 0,
                    "{strategy}: id {id} fails the filter"
                );
            }
        }
        if strategy != "post" {
            assert!(
                found.iter().all(|n| n.len() == 5),
                "{strategy}: 26 match, so 5 each"
            );
        }
    }
}

#[test]
fn explain_prints_the_plan_and_its_estimate() {
    let (_dir, db, queries) = loaded();
    let explain = |filter: &str| {
        let output = svdb(&[
            "search",
            "--db",
            s(&db),
            "--queries",
            s(&queries),
            "--index",
            "hnsw",
            "--filter",
            filter,
            "--explain",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        stdout(&output)
    };
    let half = explain("bucket < 5");
    assert!(
        half.contains("strategy: post") && half.contains("200 of 400 vectors pass (50.0000 %)"),
        "{half}"
    );
    let few = explain("bucket = 4 AND color = 'red'");
    assert!(
        few.contains("strategy: iterative") && few.contains("13 of 400"),
        "{few}"
    );
    let rare = explain("bucket = 3 AND color = 'red' AND bucket > 3");
    assert!(
        rare.contains("strategy: pre") && rare.contains("0 of 400"),
        "{rare}"
    );
}

#[test]
fn bad_filters_and_attribute_files_exit_2_before_any_work() {
    let (dir, db, queries) = loaded();
    let search = |filter: &str| -> Vec<String> {
        [
            "search",
            "--db",
            s(&db),
            "--queries",
            s(&queries),
            "--filter",
            filter,
        ]
        .iter()
        .map(|a| a.to_string())
        .collect()
    };
    for (filter, needle) in [
        ("bucket <", "character 9"),
        ("colour = 'red'", "no attribute \"colour\""),
        ("bucket = 'x'", "integer values"),
        ("bucket = 1 OR", "character 14"),
    ] {
        let args = search(filter);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_refused_before_any_work(&args, needle);
    }
    let short = dir.path().join("short.csv");
    std::fs::write(&short, "bucket\n1\n2\n").expect("written");
    let other = dir.path().join("other.csv");
    let mut csv = String::from("label\n");
    csv.push_str(&"x\n".repeat(400));
    std::fs::write(&other, csv).expect("written");
    let vectors = dir.path().join("more.npy");
    write_vectors(&vectors, &uniform(400, 8, 4));
    assert_refused_before_any_work(
        &[
            "load",
            "--db",
            s(&db),
            "--vectors",
            s(&vectors),
            "--attributes",
            s(&short),
        ],
        "2 rows of attributes for 400 vectors",
    );
    assert_refused_before_any_work(
        &[
            "load",
            "--db",
            s(&db),
            "--vectors",
            s(&vectors),
            "--attributes",
            s(&other),
        ],
        "bucket integer, color text",
    );
}

#[test]
fn eval_measures_each_filter_and_strategy_against_the_filtered_truth() {
    let (dir, _db, vectors) = loaded();
    let attributes = dir.path().join("a.csv");
    let out = dir.path().join("out");
    let output = svdb(&[
        "eval",
        "--data",
        s(&vectors),
        "--n-queries",
        "20",
        "--k",
        "5",
        "--index",
        "hnsw",
        "--hnsw-m",
        "8",
        "--ef-construction",
        "32",
        "--ef",
        "32",
        "--attributes",
        s(&attributes),
        "--filter",
        "bucket < 5",
        "--filter",
        "bucket = 3 AND color != 'red'",
        "--strategy",
        "auto,pre,in-index",
        "--out",
        s(&out),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let csv = std::fs::read_to_string(out.join("results.csv")).expect("written");
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 6, "{csv}");
    let plot = std::fs::read(out.join("filtered.png")).expect("the strategies' chart");
    assert_eq!(&plot[1..4], b"PNG");
    assert!(rows[0].starts_with("hnsw,m=8 ef_construction=32 ef_search=32 filter=bucket+<+5 strategy=auto selectivity=0.5000,5,"), "{csv}");
    assert!(
        rows[4].contains("filter=bucket+=+3+AND+color+!=+'red' strategy=pre selectivity=0.0650"),
        "{csv}"
    );
    assert!(
        !csv.contains("failing="),
        "no result fails its filter: {csv}"
    );
    for row in &rows {
        let recall: f64 = row
            .split(',')
            .nth(3)
            .and_then(|r| r.parse().ok())
            .expect("a recall");
        if row.contains("strategy=pre") {
            assert_eq!(recall, 1.0, "the pre-filter is exact: {row}");
        }
        assert!(recall > 0.8, "{row}");
    }
}
