//! Scoring a block of vectors against one query with the vector kernels.
//!
//! Euclidean blocks are scored by their *squared* distances, which rank the same and cost no
//! square root; only the k survivors get one ([`BlockScorer::finish`]). Cosine blocks are
//! scored as `q · v / (‖q‖ ‖v‖)`: the query's norm is computed once, and each vector's comes from
//! a table of norms when the block has one (preloaded vectors), or from the kernel otherwise.
//! A vector whose norm is zero, tiny or huge goes to the exact, careful formula of chapter 1.

use crate::distances::{cosine_similarity, Metric};
use crate::engine::Neighbour;
use crate::kernels;
use crate::top_k::TopK;

// ANCHOR: block_scorer
/// What a query needs to score blocks of vectors, and the buffers it scores them into.
#[derive(Debug, Clone)]
pub struct BlockScorer<'q> {
    metric: Metric,
    query: &'q [f32],
    query_norm: f32,
    scores: Vec<f32>,
    norms: Vec<f32>,
}

impl<'q> BlockScorer<'q> {
    /// A scorer for `query` (already checked) under `metric`.
    pub fn new(metric: Metric, query: &'q [f32]) -> Self {
        BlockScorer {
            metric,
            query,
            query_norm: kernels::dot(query, query).sqrt(),
            scores: Vec::new(),
            norms: Vec::new(),
        }
    }

    /// Scores the vectors of `block` (end to end, the query's dimension each) and offers each
    /// to `best` under the id `id_of(i)`. `norms`, when given, holds each vector's norm.
    pub fn offer(
        &mut self,
        block: &[f32],
        norms: Option<&[f32]>,
        best: &mut TopK<i64>,
        mut id_of: impl FnMut(usize) -> i64,
    ) {
        let count = block.len() / self.query.len().max(1);
        self.score(block, norms, count);
        for (i, &score) in self.scores[..count].iter().enumerate() {
            if best.admits(score) {
                best.push(id_of(i), score);
            }
        }
    }

    /// Fills `self.scores[..count]` with the rank scores of the block's vectors.
    fn score(&mut self, block: &[f32], norms: Option<&[f32]>, count: usize) {
        self.scores.resize(count, 0.0);
        match self.metric {
            Metric::Euclidean => {
                kernels::squared_l2_many(self.query, block, &mut self.scores[..count]);
            }
            Metric::Cosine => {
                kernels::dot_many(self.query, block, &mut self.scores[..count]);
                let norms = match norms {
                    Some(norms) => norms,
                    None => {
                        self.norms.resize(count, 0.0);
                        kernels::norms(block, self.query.len(), &mut self.norms[..count]);
                        &self.norms[..count]
                    }
                };
                let dimension = self.query.len();
                for (i, (score, &norm)) in self.scores[..count].iter_mut().zip(norms).enumerate() {
                    *score = kernels::cosine_from_parts(*score, self.query_norm, norm)
                        .unwrap_or_else(|| {
                            cosine_similarity(
                                self.query,
                                &block[i * dimension..(i + 1) * dimension],
                            )
                        });
                }
            }
        }
    }

    /// The metric's own scores of the survivors, best first: squared distances become
    /// distances.
    pub fn finish(metric: Metric, best: TopK<i64>) -> Vec<Neighbour> {
        let neighbours = best.into_neighbours();
        match metric {
            Metric::Cosine => neighbours,
            Metric::Euclidean => neighbours
                .into_iter()
                .map(|n| Neighbour::new(n.id, n.score.sqrt()))
                .collect(),
        }
    }
}
// ANCHOR_END: block_scorer

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_rank_as_the_metrics_of_chapter_1_do() {
        let vectors: Vec<Vec<f32>> = (0..50)
            .map(|i| vec![(i % 7) as f32 - 3.0, (i % 5) as f32, (i / 9) as f32 + 0.5])
            .chain([vec![0.0, 0.0, 0.0], vec![1e-30, 0.0, 0.0]])
            .collect();
        let block: Vec<f32> = vectors.iter().flatten().copied().collect();
        let query = [0.5f32, 1.5, -2.0];
        for metric in [Metric::Euclidean, Metric::Cosine] {
            let mut best = TopK::new(10, metric);
            let mut scorer = BlockScorer::new(metric, &query);
            scorer.offer(&block, None, &mut best, |i| i as i64);
            let found = BlockScorer::finish(metric, best);
            let mut expected = TopK::new(10, metric);
            for (i, v) in vectors.iter().enumerate() {
                expected.push(i as i64, metric.score(&query, v));
            }
            let expected = expected.into_neighbours();
            assert_eq!(
                found.iter().map(|n| n.id).collect::<Vec<_>>(),
                expected.iter().map(|n| n.id).collect::<Vec<_>>(),
                "{metric}"
            );
            for (a, b) in found.iter().zip(&expected) {
                assert!((a.score - b.score).abs() < 1e-5, "{metric}: {a:?} {b:?}");
            }
        }
    }
}
