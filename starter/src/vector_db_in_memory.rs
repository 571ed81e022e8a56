//! The simplest vector database: every vector in a `Vec`, every search a full scan.
//!
//! A vector database stores vectors under keys and answers *nearest-neighbour* queries: given a
//! query vector, which k stored vectors score best against it? This one compares the query with
//! every stored vector (a brute-force or *flat* search). That is exact and, up to some hundred
//! thousand vectors, fast enough; the later chapters are all about doing less work than this.

use crate::distances::Metric;
use crate::engine::{FlatIndex, Neighbour, SearchParams, VectorIndex};
use crate::error::Result;

// ANCHOR: struct
/// Vectors kept in memory under `i64` keys, searched by brute force.
///
/// A thin layer over the engine's [`FlatIndex`], under the original's names.
#[derive(Debug, Clone, Default)]
pub struct VectorDbInMemory {
    index: FlatIndex,
}
// ANCHOR_END: struct

impl VectorDbInMemory {
    /// An empty database ranking by cosine similarity.
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty database ranking by `metric`.
    pub fn with_metric(metric: Metric) -> Self {
        VectorDbInMemory {
            index: FlatIndex::new(metric),
        }
    }

    /// Chooses how searches rank vectors.
    pub fn set_metric(&mut self, metric: Metric) {
        self.index.set_metric(metric);
    }

    /// The metric searches rank by.
    pub fn metric(&self) -> Metric {
        self.index.metric()
    }

    /// The dimension fixed by the first insert, if any.
    pub fn dimension(&self) -> Option<usize> {
        self.index.dimension()
    }

    /// How many vectors are stored.
    pub fn len(&self) -> usize {
        self.index.len().unwrap_or(0) // in memory: counting cannot fail
    }

    /// `true` when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // ANCHOR: insert
    /// Appends `vectors` and returns their keys.
    ///
    /// Keys keep counting across calls: a second insert of two vectors into a database of three
    /// gets keys 3 and 4. (The Python original restarted at 0 and overwrote the first vectors.)
    /// The whole batch is checked before anything is stored, so a bad vector stores nothing.
    ///
    /// # Errors
    ///
    /// A vector of another dimension, or holding NaN or an infinity: nothing is stored.
    pub fn insert<V: AsRef<[f32]>>(&mut self, vectors: &[V]) -> Result<Vec<i64>> {
        self.index.insert(vectors)
    }
    // ANCHOR_END: insert

    // ANCHOR: search
    /// The `k` keys whose vectors score best against `query`, best first, with their scores.
    ///
    /// When `k` is larger than the number of vectors, all of them are returned. `k = 0` is an
    /// error ([`crate::Error::ZeroK`]): asking for nothing is almost always a bug in the caller.
    /// An empty database returns no results for any query.
    ///
    /// # Errors
    ///
    /// `k = 0`, or a query of another dimension or with a non-finite value.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<Neighbour>> {
        self.index.search(query, &SearchParams::k(k))
    }
    // ANCHOR_END: search

    // ANCHOR: retrieve
    /// The vector stored under `key`, or `None` when there is no such key.
    pub fn retrieve(&self, key: i64) -> Option<&[f32]> {
        self.index.get(key)
    }
    // ANCHOR_END: retrieve

    /// The engine's index underneath, to search it with every knob or hand it to the evaluator.
    pub fn as_index(&mut self) -> &mut FlatIndex {
        &mut self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn scenario_db() -> VectorDbInMemory {
        let mut db = VectorDbInMemory::new();
        db.insert(&[[10.0, 20.0, 30.0], [-1.0, -2.0, -3.0], [0.3, 0.3, 0.3]])
            .expect("valid vectors");
        db
    }

    #[test]
    fn the_original_scenario_ranks_by_cosine() {
        let db = scenario_db();
        let results = db.search(&[0.1, 0.2, 0.3], 3).expect("valid query");
        let keys: Vec<i64> = results.iter().map(|r| r.id).collect();
        assert_eq!(keys, vec![0, 2, 1]);
        assert!((results[0].score - 1.0).abs() < 1e-6);
        // [0.1,0.2,0.3]·[0.3,0.3,0.3] / (√0.14 · √0.27) = 0.18 / 0.194422 ≈ 0.92582
        assert!((results[1].score - 0.925_820).abs() < 1e-5);
        assert!((results[2].score + 1.0).abs() < 1e-6);
    }

    #[test]
    fn euclidean_ranks_nearest_first() {
        let mut db = scenario_db();
        db.set_metric(Metric::Euclidean);
        let results = db.search(&[0.1, 0.2, 0.3], 3).expect("valid query");
        let keys: Vec<i64> = results.iter().map(|r| r.id).collect();
        // Distances: [0.3,0.3,0.3] ≈ 0.224, [-1,-2,-3] ≈ 4.116, [10,20,30] ≈ 37.04.
        assert_eq!(keys, vec![2, 1, 0]);
        assert!((results[0].score - 0.05f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn a_second_insert_appends() {
        let mut db = scenario_db();
        let keys = db
            .insert(&[[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])
            .expect("valid");
        assert_eq!(keys, vec![3, 4]);
        assert_eq!(db.len(), 5);
        assert_eq!(db.retrieve(0), Some(&[10.0, 20.0, 30.0][..]));
        assert_eq!(db.retrieve(4), Some(&[2.0, 2.0, 2.0][..]));
    }

    #[test]
    fn retrieve_an_unknown_key_is_none() {
        assert_eq!(scenario_db().retrieve(3), None);
    }

    #[test]
    fn k_larger_than_the_database_returns_everything() {
        let results = scenario_db().search(&[0.1, 0.2, 0.3], 50).expect("valid");
        assert_eq!(results.len(), 3);
    }

    #[test]
    fn k_zero_is_an_error() {
        assert!(matches!(
            scenario_db().search(&[0.1, 0.2, 0.3], 0),
            Err(Error::ZeroK)
        ));
    }

    #[test]
    fn a_vector_of_another_dimension_is_rejected_and_nothing_is_stored() {
        let mut db = scenario_db();
        let err = db
            .insert(&[vec![1.0, 1.0, 1.0], vec![1.0, 1.0]])
            .unwrap_err();
        assert!(matches!(
            err,
            Error::DimensionMismatch {
                expected: 3,
                found: 2
            }
        ));
        assert_eq!(db.len(), 3, "a rejected batch stores nothing");
    }

    #[test]
    fn a_query_of_another_dimension_is_rejected() {
        let err = scenario_db().search(&[0.1, 0.2], 1).unwrap_err();
        assert!(matches!(
            err,
            Error::DimensionMismatch {
                expected: 3,
                found: 2
            }
        ));
    }

    #[test]
    fn nan_and_infinity_are_rejected() {
        let mut db = scenario_db();
        assert!(matches!(
            db.insert(&[[1.0, f32::NAN, 1.0]]),
            Err(Error::NonFiniteValue { position: 1, .. })
        ));
        assert!(matches!(
            db.search(&[f32::INFINITY, 0.0, 0.0], 1),
            Err(Error::NonFiniteValue { position: 0, .. })
        ));
        assert_eq!(db.len(), 3);
    }

    #[test]
    fn an_empty_database_finds_nothing() {
        let db = VectorDbInMemory::new();
        assert_eq!(
            db.search(&[1.0, 2.0], 3).expect("no dimension yet").len(),
            0
        );
    }
}
