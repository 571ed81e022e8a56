//! `svdb eval --attributes A.csv --filter EXPR --strategy S`: filtered search, measured.
//!
//! The base goes into an in-memory collection with its attributes; the index is built once.
//! For each filter the ground truth is the exact top-k *among the vectors that pass*, computed
//! by brute force over them; then every strategy and every search setting is run and graded
//! against it (the strategies in turn, [`ROUNDS`] times, each keeping its fastest round), one
//! row each, in the `results.csv` contract of [`super::index_sweep`], with
//! `filter=… strategy=… selectivity=…` in the params. The filter's text is written with its
//! spaces as `+`, so that the params stay space-separated `key=value` pairs. A result that fails
//! its filter would be a bug: the row then says `failing=N`.

use std::collections::HashSet;
use std::time::Instant;

use crate::engine::collection::Strategy;
use crate::engine::{Collection, SearchParams, VectorIndex};
use crate::error::Result;
use crate::evaluation::dataset::Dataset;
use crate::evaluation::index_sweep::{IndexRow, IndexSweep};
use crate::evaluation::latency::LatencySummary;
use crate::evaluation::recall::recall_at_k;
use crate::filter::{parse, Filter};
use crate::sqlite_store::attributes::Attributes;
use crate::top_k::TopK;
use crate::utils::timing::measure;

/// The filters and strategies to measure, and the base's attributes (one row per base vector).
#[derive(Debug, Clone, PartialEq)]
pub struct FilteredSweep {
    pub attributes: Attributes,
    /// Each filter, as text.
    pub filters: Vec<String>,
    pub strategies: Vec<Strategy>,
}

// ANCHOR: run_filtered_sweep
/// Builds the index once, then measures every filter × strategy × search setting.
///
/// # Errors
///
/// A bad filter (checked against the attributes before any search), or a build or search
/// error.
pub fn run_filtered_sweep(
    dataset: &Dataset,
    sweep: &IndexSweep,
    filtered: &FilteredSweep,
    after_each_query: &mut dyn FnMut(),
) -> Result<Vec<IndexRow>> {
    sweep.check(dataset.base().len(), dataset.dimension(), dataset.k())?;
    let mut collection = Collection::open_in_memory_with_layout(sweep.layout)?;
    collection.set_metric(dataset.metric())?;
    let ids: Vec<i64> = (0..dataset.base().len() as i64).collect();
    let (stored, load_took) = measure(|| {
        collection.insert_with_attributes(dataset.base(), Some(&ids), &filtered.attributes)
    });
    stored?;
    let filters: Vec<(String, Filter)> = filtered
        .filters
        .iter()
        .map(|text| Ok((text.clone(), parse(text)?)))
        .collect::<Result<_>>()?;
    for (_, filter) in &filters {
        collection.matching_ids(filter)?; // every filter checked before the build
    }
    collection.set_scan_mode(sweep.mode)?;
    let (index, fixed, build_s) = match sweep.index_spec()? {
        None => (None, String::new(), load_took.as_secs_f64()),
        Some((spec, fixed)) => {
            let name = sweep.kind.as_str();
            let (built, took) = measure(|| collection.create_index(name, &spec));
            built?;
            (Some(name), fixed, took.as_secs_f64())
        }
    };
    if sweep.mode == crate::engine::scan::ScanMode::Preloaded {
        collection.preload(index)?;
    }
    let bytes = collection.as_index(index).bytes_per_vector();
    let settings = match index {
        None => vec![(String::new(), SearchParams::default())],
        Some(_) => sweep.search_settings(&fixed),
    };
    let mut rows = Vec::new();
    for (text, filter) in &filters {
        let passing: HashSet<i64> = collection.matching_ids(filter)?.into_iter().collect();
        let truth = filtered_truth(dataset, &passing);
        let selectivity = passing.len() as f64 / dataset.base().len().max(1) as f64;
        for (params, search) in &settings {
            let search = SearchParams {
                k: dataset.k(),
                ..search.clone()
            };
            let measured = measure_strategies(
                &collection,
                (index, &search),
                dataset,
                (filter, &filtered.strategies),
                (&truth, &passing),
                after_each_query,
            )?;
            for (strategy, (recall, latencies, failing)) in filtered.strategies.iter().zip(measured)
            {
                let mut params = format!(
                    "{params} filter={} strategy={} selectivity={selectivity:.4}{}",
                    text.split_whitespace().collect::<Vec<_>>().join("+"),
                    strategy.as_str(),
                    sweep.storage_params()
                );
                if failing > 0 {
                    log::error!("{failing} results failed the filter {text:?}: a bug");
                    params.push_str(&format!(" failing={failing}"));
                }
                let latency = LatencySummary::from_latencies(&latencies)?;
                rows.push(IndexRow {
                    index: sweep.kind.as_str().to_string(),
                    params: params.trim_start().to_string(),
                    k: dataset.k(),
                    recall,
                    qps: latency.qps,
                    p50_ms: latency.p50_ms,
                    p95_ms: latency.p95_ms,
                    p99_ms: latency.p99_ms,
                    build_s,
                    bytes_per_vector: bytes,
                });
            }
        }
    }
    Ok(rows)
}
// ANCHOR_END: run_filtered_sweep

/// How many times every strategy runs the queries, in turn: a strategy keeps its fastest
/// round, so that a burst of another program on a shared machine during one strategy's turn
/// does not decide which strategy looks faster.
pub const ROUNDS: usize = 3;

/// Every strategy over the queries, [`ROUNDS`] times in turn, each keeping its fastest round:
/// recall, latencies and failing results per strategy, in the order given.
fn measure_strategies(
    collection: &Collection,
    (index, params): (Option<&str>, &SearchParams),
    dataset: &Dataset,
    (filter, strategies): (&Filter, &[Strategy]),
    graded: (&[Vec<i64>], &HashSet<i64>),
    after_each_query: &mut dyn FnMut(),
) -> Result<Vec<Measured>> {
    let mut best: Vec<Option<Measured>> = vec![None; strategies.len()];
    for _ in 0..ROUNDS {
        for (&strategy, kept) in strategies.iter().zip(&mut best) {
            let round = measure_queries(
                collection,
                index,
                dataset,
                params,
                filter,
                strategy,
                graded,
                after_each_query,
            )?;
            let total = |m: &Measured| m.1.iter().sum::<std::time::Duration>();
            if kept.as_ref().is_none_or(|k| total(&round) < total(k)) {
                *kept = Some(round);
            }
        }
    }
    Ok(best.into_iter().flatten().collect())
}

/// Mean recall, each query's time, and the results that failed the filter.
type Measured = (f64, Vec<std::time::Duration>, usize);

/// Every query through the filtered search: mean recall against `truth`, each query's time,
/// and how many results failed the filter (`passing` is what passes).
#[allow(clippy::too_many_arguments)]
fn measure_queries(
    collection: &Collection,
    index: Option<&str>,
    dataset: &Dataset,
    params: &SearchParams,
    filter: &Filter,
    strategy: Strategy,
    (truth, passing): (&[Vec<i64>], &HashSet<i64>),
    after_each_query: &mut dyn FnMut(),
) -> Result<Measured> {
    let (mut recall, mut latencies, mut failing) = (0.0, Vec::new(), 0);
    for (query, exact) in dataset.queries().iter().zip(truth) {
        let start = Instant::now();
        let found = collection.search_filtered(index, query, params, filter, strategy)?;
        latencies.push(start.elapsed());
        let ids: Vec<i64> = found.neighbours.iter().map(|n| n.id).collect();
        failing += ids.iter().filter(|id| !passing.contains(id)).count();
        // Fewer than k pass: recall against those there are.
        recall += if exact.is_empty() {
            1.0
        } else {
            recall_at_k(&ids, exact, exact.len().min(dataset.k()))
        };
        after_each_query();
    }
    Ok((
        recall / dataset.queries().len().max(1) as f64,
        latencies,
        failing,
    ))
}

/// The exact top-k of each query among the base vectors whose ids (row numbers) pass.
fn filtered_truth(dataset: &Dataset, passing: &HashSet<i64>) -> Vec<Vec<i64>> {
    let metric = dataset.metric();
    dataset
        .queries()
        .iter()
        .map(|query| {
            let mut best = TopK::new(dataset.k(), metric);
            for (id, vector) in (0i64..).zip(dataset.base()) {
                if passing.contains(&id) {
                    best.push(id, metric.score(query, vector));
                }
            }
            best.into_sorted_vec()
                .into_iter()
                .map(|(id, _)| id)
                .collect()
        })
        .collect()
}
