//! Chapter 14's experiment: three ways for a graph to walk under a filter, as fewer nodes pass.
//!
//! One graph is built over seeded clustered vectors; every vector draws a uniform number in
//! [0, 1), and a filter "passes when the number is below `share`" lets through that share of
//! them, spread evenly over the space, the hardest case for a graph (a filter that kept one
//! cluster would keep its links too). For each share the exact top-k among the passing vectors
//! is the truth, and each [`FilteredWalk`] is graded against it: recall, the distances it
//! computed, and how many searches came back with fewer than k although k pass.

use std::collections::BTreeSet;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde::Serialize;

use crate::datasets::clustered::{generate, ClusteredSpec};
use crate::distances::Metric;
use crate::engine::indexes::hnsw::{FilteredWalk, Hnsw};
use crate::engine::{HnswSettings, IdSet};
use crate::error::{Error, Result};
use crate::evaluation::recall::recall_at_k;
use crate::top_k::TopK;

/// What to build and measure.
#[derive(Debug, Clone, PartialEq)]
pub struct WalksSetup {
    /// The base vectors and the queries, drawn around the same centres.
    pub data: ClusteredSpec,
    pub queries: usize,
    pub graph: HnswSettings,
    pub k: usize,
    /// The shares of vectors that pass, one measurement each (in (0, 1]).
    pub passing: Vec<f64>,
}

/// One walk at one share.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkRow {
    pub walk: &'static str,
    /// The share of vectors that pass.
    pub passing: f64,
    pub recall: f64,
    /// Mean distances computed per query on layer 0.
    pub distances: f64,
    pub queries_per_second: f64,
    /// Searches that returned fewer than k results although at least k pass.
    pub short: usize,
    /// Results that fail the filter, over all queries: a bug if ever above 0.
    pub failing: usize,
}

// ANCHOR: measure_walks
/// Builds the graph, then measures every walk at every share.
///
/// # Errors
///
/// [`Error::InvalidParameter`] for a share outside (0, 1], no query, a `k` of 0 or above the
/// base; the generator's and the graph settings' errors.
pub fn measure_walks(setup: &WalksSetup) -> Result<Vec<WalkRow>> {
    setup.check()?;
    let spec = ClusteredSpec {
        n_vectors: setup.data.n_vectors + setup.queries,
        ..setup.data
    };
    let mut vectors = generate(&spec)?;
    let queries = vectors.split_off(setup.data.n_vectors);
    let mut hnsw = Hnsw::new(setup.graph, Metric::Euclidean, setup.data.dimension);
    for (id, vector) in (0i64..).zip(&vectors) {
        hnsw.insert(id, vector, &mut BTreeSet::new());
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(setup.data.seed ^ 0xF1_17E5);
    let draws: Vec<f64> = vectors.iter().map(|_| rng.gen::<f64>()).collect();
    let mut rows = Vec::new();
    for &share in &setup.passing {
        let allowed: IdSet = (0i64..)
            .zip(&draws)
            .filter(|(_, &u)| u < share)
            .map(|(id, _)| id)
            .collect();
        let truth: Vec<Vec<i64>> = queries
            .iter()
            .map(|query| exact_among(&vectors, &allowed, query, setup.k))
            .collect();
        for walk in FilteredWalk::ALL {
            rows.push(measure_one(
                &hnsw, &queries, &truth, &allowed, walk, share, setup,
            ));
        }
    }
    Ok(rows)
}
// ANCHOR_END: measure_walks

/// One walk over every query at one share.
fn measure_one(
    hnsw: &Hnsw,
    queries: &[Vec<f32>],
    truth: &[Vec<i64>],
    allowed: &IdSet,
    walk: FilteredWalk,
    share: f64,
    setup: &WalksSetup,
) -> WalkRow {
    let (k, ef) = (setup.k, setup.graph.ef_search.max(setup.k));
    let wanted = k.min(allowed.len());
    let (mut recall, mut distances, mut short, mut failing) = (0.0, 0usize, 0usize, 0usize);
    let started = Instant::now();
    for (query, truth) in queries.iter().zip(truth) {
        let (found, computed) = hnsw.search_allowed(query, (k, ef), allowed, walk);
        failing += found.iter().filter(|n| !allowed.contains(n.id)).count();
        short += usize::from(found.len() < wanted);
        distances += computed;
        let ids: Vec<i64> = found.iter().map(|n| n.id).collect();
        recall += recall_at_k(&ids, truth, wanted.max(1));
    }
    let seconds = started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE);
    let count = queries.len() as f64;
    if failing > 0 {
        log::error!(
            "{}: {failing} results failed the filter: a bug",
            walk.as_str()
        );
    }
    WalkRow {
        walk: walk.as_str(),
        passing: share,
        recall: recall / count,
        distances: distances as f64 / count,
        queries_per_second: count / seconds,
        short,
        failing,
    }
}

/// The exact `k` nearest to `query` among the `allowed` vectors.
fn exact_among(vectors: &[Vec<f32>], allowed: &IdSet, query: &[f32], k: usize) -> Vec<i64> {
    let mut best = TopK::new(k, Metric::Euclidean);
    for (id, vector) in (0i64..).zip(vectors) {
        if allowed.contains(id) {
            best.push(id, Metric::Euclidean.score(query, vector));
        }
    }
    best.into_neighbours().into_iter().map(|n| n.id).collect()
}

impl WalksSetup {
    /// Checks the shares, the counts and the graph's settings, before anything is built.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming the field.
    pub fn check(&self) -> Result<()> {
        self.graph.check()?;
        if let Some(bad) = self.passing.iter().find(|s| !(**s > 0.0 && **s <= 1.0)) {
            return Err(Error::InvalidParameter {
                name: "passing",
                reason: format!("{bad} is not a share in (0, 1]"),
            });
        }
        if self.queries == 0 {
            return Err(Error::InvalidParameter {
                name: "queries",
                reason: "at least one query is needed".to_string(),
            });
        }
        if self.k == 0 || self.k > self.data.n_vectors {
            return Err(Error::InvalidParameter {
                name: "k",
                reason: format!(
                    "{} must be between 1 and the {} vectors",
                    self.k, self.data.n_vectors
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(passing: Vec<f64>) -> Vec<WalkRow> {
        measure_walks(&WalksSetup {
            data: ClusteredSpec {
                n_vectors: 4000,
                dimension: 16,
                n_clusters: 20,
                noise: 0.8,
                seed: 7,
            },
            queries: 40,
            graph: HnswSettings {
                ef_search: 32,
                ..HnswSettings::new(8, 40)
            },
            k: 10,
            passing,
        })
        .expect("valid setup")
    }

    fn row(rows: &[WalkRow], walk: FilteredWalk, share: f64) -> &WalkRow {
        rows.iter()
            .find(|r| r.walk == walk.as_str() && r.passing == share)
            .expect("measured")
    }

    #[test]
    fn skipping_refused_nodes_breaks_the_graph_where_stepping_over_them_does_not() {
        let rows = rows(vec![0.5, 0.1]);
        assert!(rows.iter().all(|r| r.failing == 0), "{rows:?}");
        // Half passing: the walks that step on or over refused nodes do well, and the bitset
        // walk already loses some.
        for walk in [FilteredWalk::Through, FilteredWalk::TwoHop] {
            assert!(row(&rows, walk, 0.5).recall > 0.95, "{walk:?}: {rows:?}");
        }
        assert!(row(&rows, FilteredWalk::Skip, 0.5).recall > 0.7, "{rows:?}");
        // 10 % passing: 16 links hold 1.6 allowed nodes on average, the bitset walk is lost.
        let skip = row(&rows, FilteredWalk::Skip, 0.1);
        let two_hop = row(&rows, FilteredWalk::TwoHop, 0.1);
        let through = row(&rows, FilteredWalk::Through, 0.1);
        assert!(skip.recall < 0.5 && skip.short > 0, "{skip:?}");
        assert!(two_hop.recall > 0.85 && through.recall > 0.85, "{rows:?}");
        // Stepping over refused nodes scores only nodes it may return.
        assert!(two_hop.distances < through.distances / 2.0, "{rows:?}");
    }

    #[test]
    fn a_share_outside_zero_one_is_refused() {
        let setup = WalksSetup {
            data: ClusteredSpec {
                n_vectors: 10,
                dimension: 2,
                n_clusters: 1,
                noise: 0.1,
                seed: 1,
            },
            queries: 1,
            graph: HnswSettings::new(4, 8),
            k: 1,
            passing: vec![0.0],
        };
        assert!(matches!(
            measure_walks(&setup),
            Err(Error::InvalidParameter {
                name: "passing",
                ..
            })
        ));
    }
}
