//! Every stage's search on the same seeded data set, side by side.
//!
//! 20,000 clustered vectors of 64 values, 200 queries drawn from the same distribution (not in
//! the base). For each stage: recall@10 against the exact answer, queries per second, median
//! latency, and the speed-up over in-memory brute force. Every stage is a [`VectorIndex`], so
//! one [`Evaluator`] measures them all: brute force in memory ([`FlatIndex`]), brute force over
//! an SQLite collection, the collection's inverted file at a few `n_probes`, and a collection
//! that keeps only product-quantization codes. Run with `cargo bench --bench search_stages`; it
//! takes about a minute. The machine is shared and noisy: compare the ratios within one run, not
//! absolute figures across runs.

use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::engine::{
    Collection, FlatIndex, IndexSpec, IvfSettings, PqSettings, SearchParams, VectorIndex,
};
use simple_vector_db::evaluation::results_csv::ResultRow;
use simple_vector_db::evaluation::table::render_table;
use simple_vector_db::evaluation::{load_collection, Dataset, Evaluation, Evaluator};
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::utils::timing::measure;
use simple_vector_db::{Metric, Result};

const N_BASE: usize = 20_000;
const N_QUERIES: usize = 200;
const DIMENSION: usize = 64;
const K: usize = 10;
const N_CELLS: usize = 100;
const PROBES: [usize; 3] = [1, 4, 16];
const PQ_SETTINGS: [(usize, usize); 1] = [(16, 64)];

/// One line of the comparison table.
struct StageRow {
    /// Which stage, and with which knobs (the index's own name does not say `n_probes`).
    stage: String,
    evaluation: Evaluation,
    build_s: f64,
    /// Queries per second of in-memory and of SQLite brute force, the two yardsticks.
    in_memory_qps: f64,
    sqlite_qps: f64,
}

impl ResultRow for StageRow {
    const HEADER: &'static str =
        "stage,recall@10,queries/s,p50_ms,p99_ms,build_s,vs in-memory,vs SQLite brute";

    fn cells(&self) -> Vec<String> {
        let latency = &self.evaluation.latency;
        vec![
            self.stage.clone(),
            format!("{:.4}", self.evaluation.recall),
            format!("{:.0}", latency.qps),
            format!("{:.3}", latency.p50_ms),
            format!("{:.3}", latency.p99_ms),
            format!("{:.2}", self.build_s),
            format!("{:.2}x", latency.qps / self.in_memory_qps),
            format!("{:.2}x", latency.qps / self.sqlite_qps),
        ]
    }
}

fn main() -> Result<()> {
    let mut vectors = generate(&ClusteredSpec {
        n_vectors: N_BASE + N_QUERIES,
        dimension: DIMENSION,
        n_clusters: 100,
        noise: 0.8,
        seed: 7,
    })?;
    // The queries come from the same distribution but are not in the base.
    let queries = vectors.split_off(N_BASE);
    let (dataset, took) = measure(|| Dataset::new(vectors, queries, K, Metric::Euclidean));
    let dataset = dataset?;
    println!(
        "{N_BASE} x {DIMENSION} clustered vectors, {N_QUERIES} queries, k = {K} \
         (exact answers in {:.2} s)\n",
        took.as_secs_f64()
    );
    let evaluator = Evaluator::new(&dataset);
    let evaluate = |index: &dyn VectorIndex, params: &SearchParams| {
        evaluator.evaluate(index, params, &mut || {})
    };
    let ids = dataset.ids();
    // (stage, evaluation, build seconds) per stage, in the order of the book.
    let mut measured: Vec<(String, Evaluation, f64)> = Vec::new();

    let (flat, build) = measure(|| {
        let mut flat = FlatIndex::new(Metric::Euclidean);
        flat.add(&ids, dataset.base()).map(|()| flat)
    });
    let evaluation = evaluate(&flat?, &SearchParams::k(K))?;
    measured.push(("in-memory flat".into(), evaluation, build.as_secs_f64()));

    let (collection, load) =
        measure(|| load_collection(dataset.base(), Metric::Euclidean, Layout::Rows));
    let mut collection = collection?;
    let evaluation = evaluate(&collection.as_index(None), &SearchParams::k(K))?;
    measured.push(("SQLite flat".into(), evaluation, load.as_secs_f64()));

    let (built, index) =
        measure(|| collection.create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(N_CELLS))));
    built?;
    for n_probes in PROBES {
        let params = SearchParams::k(K).with_n_probes(n_probes);
        let evaluation = evaluate(&collection.as_index(Some("ivf")), &params)?;
        let stage = format!("SQLite {}, probes={n_probes}", evaluation.mode);
        measured.push((stage, evaluation, index.as_secs_f64()));
    }

    for (m_chunks, n_centroids) in PQ_SETTINGS {
        let (codes, train) = measure(|| load_codes(&dataset, &ids, m_chunks, n_centroids));
        let mut codes = codes?;
        let evaluation = evaluate(&codes.as_index(Some("pq")), &SearchParams::k(K))?;
        let stage = format!("SQLite {}, codes only", evaluation.mode);
        measured.push((stage, evaluation, train.as_secs_f64()));
    }

    let (in_memory_qps, sqlite_qps) = (measured[0].1.latency.qps, measured[1].1.latency.qps);
    let rows: Vec<StageRow> = measured
        .into_iter()
        .map(|(stage, evaluation, build_s)| StageRow {
            stage,
            evaluation,
            build_s,
            in_memory_qps,
            sqlite_qps,
        })
        .collect();
    println!("{}", render_table(&rows));
    println!(
        "\nbuild_s: loading (brute force), k-means index ({N_CELLS} cells), or PQ training and \
         encoding. The last two columns: queries/s over that of each brute force."
    );
    Ok(())
}

/// An in-memory collection that keeps only PQ codes: its codebook trained on the whole base,
/// then the base encoded under the ground truth's ids.
fn load_codes(
    dataset: &Dataset,
    ids: &[i64],
    m_chunks: usize,
    n_centroids: usize,
) -> Result<Collection> {
    let mut codes = Collection::open_quantized(None, &PqSettings::new(m_chunks, n_centroids))?;
    codes.train_index("pq", dataset.base())?;
    codes.insert(dataset.base(), Some(ids))?;
    Ok(codes)
}
