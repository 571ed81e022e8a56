//! The queries a load test sends: distinct ones, so that a cache answers none of them.
//!
//! A server that caches answers (ours may) answers a repeated query from memory in
//! microseconds. A load test that sends the same few queries again and again measures the
//! cache, not the search. So every search of a run gets its own sequence number, and the query
//! is made from it: a random vector seeded by the number, the file's rows in turn and, once
//! they have all been sent, each again with one value moved by a hair (a different query for a
//! cache, nearly the same search for the index), or a stored id drawn by the number. With
//! `repeat`, every search sends query 0, to measure the cache on purpose.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::serve_client::client::Query;

/// Where the queries come from.
#[derive(Debug, Clone, PartialEq)]
pub enum QuerySource {
    /// The rows of a file, in turn (at least one row, all of one length).
    Vectors(Vec<Vec<f32>>),
    /// Random vectors of this dimension, uniform in [-1, 1).
    Random { dimension: usize },
    /// Stored ids drawn among 0..count: the ids `svdb load` gives when none are given.
    Ids { count: usize },
}

impl QuerySource {
    /// The query of search number `sequence` (query 0 for every search with `repeat`).
    pub fn query(&self, sequence: u64, repeat: bool) -> Query {
        let sequence = if repeat { 0 } else { sequence };
        match self {
            QuerySource::Vectors(rows) => Query::Vector {
                vector: row_in_turn(rows, sequence),
            },
            QuerySource::Random { dimension } => {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(sequence);
                Query::Vector {
                    vector: (0..*dimension).map(|_| rng.gen_range(-1.0..1.0)).collect(),
                }
            }
            QuerySource::Ids { count } => {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(sequence);
                let id = rng.gen_range(0..(*count).max(1));
                Query::Id {
                    id: i64::try_from(id).unwrap_or(i64::MAX),
                }
            }
        }
    }
}

/// Row `sequence mod n` of `rows`; from the second pass on, one of its values moved by a hair
/// (a different value at each pass), so that no two searches send the same bytes.
fn row_in_turn(rows: &[Vec<f32>], sequence: u64) -> Vec<f32> {
    let n = rows.len().max(1) as u64;
    let index = usize::try_from(sequence % n).unwrap_or(0);
    let mut row = rows.get(index).cloned().unwrap_or_default();
    let pass = sequence / n;
    if pass > 0 && !row.is_empty() {
        let length = row.len() as u64;
        let position = usize::try_from(pass % length).unwrap_or(0);
        // Relative to the value, so the nudge is a few ulps whatever the scale, and growing
        // with the pass, so that two passes that move the same value move it differently.
        let growth = 1.0 + (pass / length) as f32;
        let value = &mut row[position];
        *value += value.abs().max(1e-3) * 1e-6 * growth;
    }
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vector_of(query: Query) -> Vec<f32> {
        match query {
            Query::Vector { vector } => vector,
            Query::Id { .. } => panic!("a vector query"),
        }
    }

    #[test]
    fn every_search_sends_its_own_query_unless_repeating() {
        let rows = vec![vec![1.0, 2.0], vec![3.0, 4.0]];
        for source in [
            QuerySource::Vectors(rows.clone()),
            QuerySource::Random { dimension: 4 },
        ] {
            let queries: Vec<Vec<u32>> = (0..50)
                .map(|n| {
                    vector_of(source.query(n, false))
                        .iter()
                        .map(|v| v.to_bits())
                        .collect()
                })
                .collect();
            let mut distinct = queries.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 50, "{source:?}");
            assert_eq!(source.query(7, true), source.query(0, false));
        }
        let source = QuerySource::Vectors(rows);
        assert_eq!(vector_of(source.query(1, false)), [3.0, 4.0]);
        let again = vector_of(source.query(3, false));
        assert!((again[0] - 3.0).abs() < 1e-4 && (again[1] - 4.0).abs() < 1e-4);
    }

    #[test]
    fn ids_are_drawn_among_the_stored_ones() {
        let source = QuerySource::Ids { count: 10 };
        for n in 0..100 {
            match source.query(n, false) {
                Query::Id { id } => assert!((0..10).contains(&id)),
                Query::Vector { .. } => panic!("an id query"),
            }
        }
    }
}
