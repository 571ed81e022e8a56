//! Benchmark of chapter 13: the HNSW graph on 100,000 clustered vectors of dimension 128.
//!
//! Builds the graph twice in a collection file, once with the paper's heuristic and once with
//! the simple "M closest" selection, and for each reports the build time, the time to load the
//! graph again from the file after reopening it, the graph's bytes per vector, and recall@10
//! and queries per second at several beam widths, all in one run; then the distances a search
//! computes per query at each width. Run with `cargo bench --bench hnsw`, or with
//! `BENCH_DATA=DIR cargo bench --bench hnsw` on `DIR/base.npy` and `DIR/queries.npy` (the files
//! `peers/` measures FAISS and hnswlib on).

use std::collections::BTreeSet;
use std::time::Instant;

use simple_vector_db::datasets::clustered::{generate, ClusteredSpec};
use simple_vector_db::datasets::npy::load_vectors;
use simple_vector_db::engine::indexes::hnsw::Hnsw;
use simple_vector_db::engine::indexes::Selection;
use simple_vector_db::engine::{Collection, HnswSettings, IndexSpec, SearchParams};
use simple_vector_db::evaluation::recall::recall_at_k;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::{Error, Metric, Result};

const N_VECTORS: usize = 100_000;
const N_QUERIES: usize = 500;
const K: usize = 10;
const M: usize = 32;
const EF_CONSTRUCTION: usize = 40;

type Vectors = Vec<Vec<f32>>;

fn main() -> Result<()> {
    simple_vector_db::utils::flex_logging::init();
    let (vectors, queries) = data()?;
    let dimension = vectors.first().map_or(0, Vec::len);
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let path = dir.path().join("hnsw_bench.db");
    let mut collection = Collection::open_with_layout(&path, Layout::Chunks)?;
    collection.set_metric(Metric::Euclidean)?;
    collection.insert(&vectors, None)?;
    collection.preload(None)?;
    let truth: Vec<Vec<i64>> = queries
        .iter()
        .map(|q| {
            let found = collection.search(None, q, &SearchParams::k(K))?;
            Ok(found.iter().map(|n| n.id).collect())
        })
        .collect::<Result<_>>()?;
    drop(collection);

    println!(
        "HNSW on {} x {dimension} vectors, M = {M}, ef_construction = {EF_CONSTRUCTION}, k = {K}, {} queries",
        vectors.len(),
        queries.len()
    );
    println!(
        "{:>10} {:>8} {:>9} {:>10} {:>10} {:>10}",
        "selection", "build_s", "reopen_s", "bytes/vec", "ef", "recall@10"
    );
    for selection in [Selection::Heuristic, Selection::Simple] {
        measure_selection(&path, selection, &queries, &truth)?;
    }
    distances_per_query(&vectors, &queries, dimension);
    Ok(())
}

/// The base and the queries: `BENCH_DATA/base.npy` and `BENCH_DATA/queries.npy` when the
/// variable names a directory (the peers' files, to set these figures beside theirs), seeded
/// clusters otherwise.
fn data() -> Result<(Vectors, Vectors)> {
    if let Some(dir) = std::env::var_os("BENCH_DATA") {
        let dir = std::path::PathBuf::from(dir);
        return Ok((
            load_vectors(&dir.join("base.npy"))?,
            load_vectors(&dir.join("queries.npy"))?,
        ));
    }
    let mut vectors = generate(&ClusteredSpec {
        n_vectors: N_VECTORS + N_QUERIES,
        dimension: 128,
        n_clusters: 100,
        noise: 0.8,
        seed: 7,
    })?;
    let queries = vectors.split_off(N_VECTORS);
    Ok((vectors, queries))
}

/// The same graph built in memory (the collection inserts by decreasing id, so this does too),
/// how many distances a search computes at each beam width (the cost `ef` stands for), and how
/// fast it runs without the collection around it (no transaction, no check of the generation).
fn distances_per_query(vectors: &[Vec<f32>], queries: &[Vec<f32>], dimension: usize) {
    let settings = HnswSettings::new(M, EF_CONSTRUCTION);
    let mut graph = Hnsw::new(settings, Metric::Euclidean, dimension);
    for (id, vector) in vectors.iter().enumerate().rev() {
        graph.insert(id as i64, vector, &mut BTreeSet::new());
    }
    for ef in [16, 32, 64, 128] {
        let start = Instant::now();
        let total: usize = queries
            .iter()
            .map(|q| graph.search_counting(q, K, ef).1)
            .sum();
        let qps = queries.len() as f64 / start.elapsed().as_secs_f64();
        println!(
            "heuristic ef = {ef:>3}: {:.0} distances per query, {qps:.0} QPS in memory alone",
            total as f64 / queries.len() as f64
        );
    }
}

/// Builds the graph with `selection`, reopens the file, and measures its searches.
fn measure_selection(
    path: &std::path::Path,
    selection: Selection,
    queries: &[Vec<f32>],
    truth: &[Vec<i64>],
) -> Result<()> {
    let settings = HnswSettings::new(M, EF_CONSTRUCTION).with_selection(selection);
    let mut collection = Collection::open_existing(path)?;
    let start = Instant::now();
    collection.create_index("hnsw", &IndexSpec::Hnsw(settings))?;
    let build_s = start.elapsed().as_secs_f64();
    drop(collection);

    // A new handle reads the entry row at open and the whole graph at preload.
    let start = Instant::now();
    let mut collection = Collection::open_existing(path)?;
    collection.preload(Some("hnsw"))?;
    let reopen_s = start.elapsed().as_secs_f64();
    let bytes = collection
        .index_info("hnsw")?
        .map_or(0, |info| info.bytes_per_vector);
    for ef in [16, 32, 64, 128] {
        let params = SearchParams::k(K).with_ef(ef);
        let start = Instant::now();
        let mut recall_sum = 0.0;
        for (query, exact) in queries.iter().zip(truth) {
            let found = collection.search(Some("hnsw"), query, &params)?;
            let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
            recall_sum += recall_at_k(&ids, exact, K);
        }
        let qps = queries.len() as f64 / start.elapsed().as_secs_f64();
        println!(
            "{:>10} {build_s:>8.2} {reopen_s:>9.3} {bytes:>10} {ef:>10} {:>10.4}  {qps:.0} QPS",
            selection.as_str(),
            recall_sum / queries.len() as f64
        );
    }
    Ok(())
}
