//! The evaluator binaries end to end: bad arguments are refused up front with a clear message
//! and a non-zero exit, and a small sweep writes the CSV contract and the charts.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ndarray::{Array1, Array2};
use ndarray_npy::write_npy;

const IVF: &str = env!("CARGO_BIN_EXE_main_evaluator");
const PQ: &str = env!("CARGO_BIN_EXE_main_evaluator_pq");

fn run(binary: &str, args: &[&str]) -> Output {
    Command::new(binary)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

fn stderr_of(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// `rows` vectors of `dimension` values, all different.
fn matrix(rows: usize, dimension: usize) -> Array2<f32> {
    Array2::from_shape_fn((rows, dimension), |(i, j)| {
        ((i * 7 + j * 3) % 11) as f32 + i as f32
    })
}

struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        Fixture {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn npy_f32(&self, name: &str, rows: usize, dimension: usize) -> String {
        let path = self.path(name);
        write_npy(&path, &matrix(rows, dimension)).expect("write .npy");
        path.display().to_string()
    }

    fn out(&self) -> String {
        self.path("out").display().to_string()
    }
}

/// Asserts a refused run: exit code 2, every `needle` in the message, nothing written.
fn assert_refused(binary: &str, args: &[&str], needles: &[&str], out: &Path) {
    let output = run(binary, args);
    let message = stderr_of(&output);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?} should be refused: {message}"
    );
    for needle in needles {
        assert!(
            message.contains(needle),
            "{args:?}: expected {needle:?} in the message, got: {message}"
        );
    }
    let wrote_results = ["ivf_results.csv", "pq_results.csv"]
        .iter()
        .any(|name| out.join(name).exists());
    assert!(
        !wrote_results,
        "{args:?}: nothing is written before the checks pass"
    );
}

#[test]
fn a_missing_file_is_refused() {
    let f = Fixture::new();
    let missing = f.path("no_such_base.npy").display().to_string();
    let out = f.out();
    assert_refused(
        IVF,
        &["--data", &missing, "--out", &out],
        &["no_such_base.npy"],
        &f.path("out"),
    );
    assert_refused(
        PQ,
        &["--data", &missing, "--out", &out],
        &["no_such_base.npy"],
        &f.path("out"),
    );
}

#[test]
fn integers_and_wrong_ranks_are_refused_naming_the_file() {
    let f = Fixture::new();
    let ints = f.path("ints.npy");
    write_npy(&ints, &Array2::<i32>::zeros((10, 4))).expect("write");
    let flat = f.path("flat.npy");
    write_npy(&flat, &Array1::<f32>::zeros(10)).expect("write");
    let out = f.out();
    let ints = ints.display().to_string();
    let flat = flat.display().to_string();
    assert_refused(
        IVF,
        &["--data", &ints, "--out", &out],
        &["ints.npy", "element type"],
        &f.path("out"),
    );
    assert_refused(
        IVF,
        &["--data", &flat, "--out", &out],
        &["flat.npy", "2-D"],
        &f.path("out"),
    );
    assert_refused(
        PQ,
        &["--data", &ints, "--out", &out],
        &["ints.npy"],
        &f.path("out"),
    );
}

#[test]
fn a_generated_set_past_the_memory_budget_is_refused_at_once() {
    // 10^12 vectors of one value: 24 TB, which the evaluators used to try to allocate.
    let f = Fixture::new();
    let out = f.out();
    for binary in [IVF, PQ] {
        let started = std::time::Instant::now();
        assert_refused(
            binary,
            &["--generate", "1000000000000,1,1", "--out", &out],
            &["error: ", "--generate 1000000000000,1,1", "memory"],
            &f.path("out"),
        );
        assert!(started.elapsed().as_secs() < 10, "refused before any work");
    }
}

/// Runs `binary` like [`run`], but kills it after `seconds` (a hang fails the test instead of
/// hanging it): `None` when it had to be killed.
fn run_with_timeout(binary: &str, args: &[&str], seconds: u64) -> Option<Output> {
    let mut child = Command::new(binary)
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while std::time::Instant::now() < deadline {
        if child.try_wait().expect("waits").is_some() {
            return Some(child.wait_with_output().expect("collects the output"));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn files_that_are_not_regular_or_lie_about_their_size_are_refused_at_once() {
    let f = Fixture::new();
    let out = f.out();
    // A header claiming 10^15 float32 values (4 PB), then 64 bytes: allocating by the header
    // used to abort the process without a message.
    let mut liar = b"\x93NUMPY\x01\x00\x76\x00".to_vec();
    liar.extend_from_slice(
        b"{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000000, 1), }",
    );
    liar.resize(127, b' ');
    liar.push(b'\n');
    liar.extend_from_slice(&[0; 64]);
    let liar_path = f.path("liar.npy");
    std::fs::write(&liar_path, &liar).expect("write");
    let fifo = f.path("pipe.npy");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let cases = [
        (
            liar_path.display().to_string(),
            "claims 1000000000000000 values",
        ),
        ("/dev/zero".to_string(), "not a regular file"),
        (fifo.display().to_string(), "not a regular file"),
        (f.dir.path().display().to_string(), "not a regular file"),
    ];
    for (data, needle) in &cases {
        let output = run_with_timeout(IVF, &["--data", data, "--out", &out], 20)
            .unwrap_or_else(|| panic!("--data {data} hangs"));
        let message = stderr_of(&output);
        assert_eq!(output.status.code(), Some(2), "--data {data}: {message}");
        assert!(
            message.starts_with("error: ") && message.contains(needle),
            "--data {data}: {message}"
        );
    }
}

#[test]
fn queries_of_another_dimension_are_refused() {
    let f = Fixture::new();
    let base = f.npy_f32("base.npy", 50, 8);
    let queries = f.npy_f32("queries.npy", 5, 6);
    let out = f.out();
    let args = ["--data", &base, "--queries", &queries, "--out", &out];
    assert_refused(IVF, &args, &["--queries", "6 values", "8"], &f.path("out"));
    assert_refused(PQ, &args, &["--queries", "6 values"], &f.path("out"));
}

#[test]
fn impossible_cluster_and_probe_counts_are_refused() {
    let f = Fixture::new();
    let base = f.npy_f32("base.npy", 50, 8);
    let out = f.out();
    let data = ["--data", base.as_str(), "--out", out.as_str()];
    let with = |extra: &[&'static str]| -> Vec<String> {
        data.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &["--clusters", "4", "--probes", "1,8"],
            &["n_probes = 8", "between 1 and 4"],
        ),
        (&["--clusters", "16,4", "--probes", "8"], &["n_probes = 8"]),
        (
            &["--clusters", "60", "--probes", "1"],
            &["n_clusters = 60", "50"],
        ),
        (&["--clusters", "0"], &["--clusters", "at least 1"]),
        (&["--probes", "1,x"], &["--probes", "not a whole number"]),
        (
            &["--points-per-centroid", "0"],
            &["--points-per-centroid", "at least 1"],
        ),
    ];
    for (extra, needles) in cases {
        let args = with(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_refused(IVF, &args, needles, &f.path("out"));
    }
}

#[test]
fn bad_k_is_refused() {
    let f = Fixture::new();
    let base = f.npy_f32("base.npy", 20, 4);
    let out = f.out();
    for binary in [IVF, PQ] {
        assert_refused(
            binary,
            &["--k", "0", "--out", &out],
            &["--k", "at least 1"],
            &f.path("out"),
        );
        assert_refused(
            binary,
            &["--data", &base, "--k", "21", "--out", &out],
            &["k = 21", "20 base vectors"],
            &f.path("out"),
        );
    }
}

#[test]
fn impossible_pq_settings_are_refused() {
    let f = Fixture::new();
    let base = f.npy_f32("base.npy", 40, 8);
    let out = f.out();
    let cases: [(&[&str], &[&str]); 4] = [
        (&["--m", "4,3"], &["dimension 8", "m_chunks = 3"]),
        (&["--centroids", "300"], &["300", "between 1 and 256"]),
        (
            &["--centroids", "64"],
            &["40 training vectors", "64 centroids"],
        ),
        (&["--metric", "cosine"], &["--metric", "euclidean"]),
    ];
    for (extra, needles) in cases {
        let mut args = vec!["--data", base.as_str(), "--out", out.as_str(), "--m", "4"];
        args.extend_from_slice(extra);
        assert_refused(PQ, &args, needles, &f.path("out"));
    }
}

#[test]
fn help_describes_the_options() {
    for (binary, options) in [
        (
            IVF,
            &[
                "--data",
                "--queries",
                "--k",
                "--clusters",
                "--probes",
                "--out",
            ][..],
        ),
        (
            PQ,
            &["--data", "--queries", "--k", "--m", "--centroids", "--out"],
        ),
    ] {
        let output = run(binary, &["--help"]);
        assert!(output.status.success());
        let help = String::from_utf8_lossy(&output.stdout);
        for option in options {
            assert!(help.contains(option), "--help mentions {option}: {help}");
        }
    }
}

/// The rows of a CSV file, header first, each split on commas.
fn read_csv(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path)
        .expect("the CSV was written")
        .lines()
        .map(|line| line.split(',').map(str::to_string).collect())
        .collect()
}

fn number(cell: &str) -> f64 {
    cell.parse().expect("a number")
}

#[test]
fn a_small_ivf_sweep_on_digits_writes_the_csv_and_charts() {
    let f = Fixture::new();
    let out = f.out();
    // All 1,797 digits, each its own query: every tie in the ground truth gets exercised.
    let output = run(IVF, &["--clusters", "4", "--probes", "1,4", "--out", &out]);
    assert!(output.status.success(), "{}", stderr_of(&output));

    let csv = read_csv(&f.path("out").join("ivf_results.csv"));
    assert_eq!(
        csv[0].join(","),
        "mode,n_clusters,n_probes,k,recall,qps,p50_ms,p95_ms,p99_ms,build_s"
    );
    let settings: Vec<[&str; 4]> = csv[1..]
        .iter()
        .map(|r| [r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()])
        .collect();
    assert_eq!(
        settings,
        vec![
            ["brute", "0", "0", "10"],
            ["ivf", "4", "1", "10"],
            ["ivf", "4", "4", "10"]
        ]
    );
    assert_eq!(number(&csv[1][4]), 1.0, "brute force is exact");
    assert_eq!(number(&csv[3][4]), 1.0, "probing every cell is exact");
    let one_probe = number(&csv[2][4]);
    assert!(
        one_probe > 0.5 && one_probe < 1.0,
        "one probe of four: {one_probe}"
    );
    for row in &csv[1..] {
        let (qps, p50, p95, p99) = (
            number(&row[5]),
            number(&row[6]),
            number(&row[7]),
            number(&row[8]),
        );
        assert!(
            qps > 0.0 && p50 > 0.0 && p50 <= p95 && p95 <= p99,
            "{row:?}"
        );
    }
    assert!(number(&csv[2][9]) > 0.0, "the index build is timed");
    for chart in ["ivf_recall_vs_qps.png", "ivf_latency.png"] {
        let bytes = std::fs::read(f.path("out").join(chart)).expect("chart written");
        assert_eq!(&bytes[1..4], b"PNG");
    }
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("n_probes") && table.contains("brute"),
        "{table}"
    );
}

#[test]
fn a_small_pq_sweep_writes_the_csv_and_charts() {
    let f = Fixture::new();
    let out = f.out();
    // A small generated set: training k-means in a debug build is slow.
    let output = run(
        PQ,
        &[
            "--generate",
            "600,16,12",
            "--m",
            "4,8",
            "--centroids",
            "16",
            "--n-queries",
            "100",
            "--out",
            &out,
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let csv = read_csv(&f.path("out").join("pq_results.csv"));
    assert_eq!(
        csv[0].join(","),
        "m_chunks,n_centroids,k,recall,qps,p50_ms,p95_ms,p99_ms,train_s,bytes_per_vector,compression_ratio"
    );
    assert_eq!(csv.len(), 3);
    // 16 floats are 64 bytes: 4 code bytes are 16x smaller, 8 are 8x.
    assert_eq!(&csv[1][..3], ["4", "16", "10"]);
    assert_eq!(&csv[1][9..], ["4", "16.00"]);
    assert_eq!(&csv[2][9..], ["8", "8.00"]);
    let (coarse, fine) = (number(&csv[1][3]), number(&csv[2][3]));
    assert!(coarse > 0.0 && fine < 1.0, "approximate: {coarse}, {fine}");
    assert!(
        fine > coarse,
        "more chunks, more recall: {coarse} then {fine}"
    );
    assert!(number(&csv[1][8]) > 0.0, "training is timed");
    for chart in ["pq_recall_vs_compression.png", "pq_recall_vs_qps.png"] {
        assert!(f.path("out").join(chart).exists(), "{chart}");
    }
}

#[test]
fn npy_base_and_queries_are_evaluated() {
    let f = Fixture::new();
    let base = f.npy_f32("base.npy", 60, 8);
    let queries = f.path("queries.npy");
    // float64 queries in Fortran order, as NumPy writes a transposed array.
    let fortran = matrix(6, 8)
        .mapv(f64::from)
        .reversed_axes()
        .to_owned()
        .reversed_axes();
    write_npy(&queries, &fortran).expect("write");
    let queries = queries.display().to_string();
    let out = f.out();
    let output = run(
        IVF,
        &[
            "--data",
            &base,
            "--queries",
            &queries,
            "--k",
            "3",
            "--clusters",
            "3",
            "--probes",
            "3",
            "--out",
            &out,
        ],
    );
    assert!(output.status.success(), "{}", stderr_of(&output));
    let csv = read_csv(&f.path("out").join("ivf_results.csv"));
    assert_eq!(csv.len(), 3);
    assert_eq!(number(&csv[1][4]), 1.0);
    assert_eq!(number(&csv[2][4]), 1.0);
}

#[test]
fn vectors_too_large_for_f32_distances_are_refused_naming_the_file() {
    // 2e19 is a finite f32, but its square is not: k-means++ on it used to panic (exit 101).
    let f = Fixture::new();
    let big = f.path("big.npy");
    write_npy(&big, &matrix(40, 4).mapv(|x| (x + 1.0) * 2e19)).expect("write");
    let big = big.display().to_string();
    let out = f.out();
    let settings: [(&str, &[&str]); 2] = [
        (IVF, &["--clusters", "2", "--probes", "1"]),
        (PQ, &["--m", "2", "--centroids", "4"]),
    ];
    for (binary, settings) in settings {
        let mut args = vec!["--data", big.as_str(), "--out", out.as_str()];
        args.extend_from_slice(settings);
        assert_refused(
            binary,
            &args,
            &["error: ", "big.npy", "too large"],
            &f.path("out"),
        );
    }
    // Generated vectors with an absurd spread are refused the same way.
    assert_refused(
        IVF,
        &[
            "--generate",
            "50,4,2",
            "--noise",
            "1e20",
            "--clusters",
            "2",
            "--probes",
            "1",
            "--out",
            &out,
        ],
        &["error: ", "too large"],
        &f.path("out"),
    );
}
