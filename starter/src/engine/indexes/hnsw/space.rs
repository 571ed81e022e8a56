//! The vectors a graph links, and the one distance its searches compare.
//!
//! The graph only ever asks "which of these two is closer?", so it works on a *distance* where
//! lower is closer whatever the metric: the squared euclidean distance (it ranks as the distance
//! does, without a square root), or minus the cosine similarity. Each vector's norm is kept
//! beside it, so that a cosine is one dot product. Both go through the vector kernels.

use crate::distances::{cosine_similarity, Metric};
use crate::kernels;

// ANCHOR: space
/// The graph's vectors end to end, by node, and how to compare them.
#[derive(Debug, Clone, PartialEq)]
pub struct Space {
    metric: Metric,
    dimension: usize,
    values: Vec<f32>,
    /// Each vector's norm (cosine only).
    norms: Vec<f32>,
}
// ANCHOR_END: space

/// A query ready to be compared with the graph's vectors.
#[derive(Debug, Clone, Copy)]
pub struct Query<'q> {
    pub values: &'q [f32],
    norm: f32,
}

impl Space {
    /// No vector yet, of `dimension` values each, compared under `metric`.
    pub fn new(metric: Metric, dimension: usize) -> Self {
        Space {
            metric,
            dimension,
            values: Vec::new(),
            norms: Vec::new(),
        }
    }

    /// `n` vectors of zeros, to be [`set`](Self::set) one by one.
    pub fn zeroed(metric: Metric, dimension: usize, n: usize) -> Self {
        Space {
            metric,
            dimension,
            values: vec![0.0; n * dimension],
            norms: match metric {
                Metric::Cosine => vec![0.0; n],
                Metric::Euclidean => Vec::new(),
            },
        }
    }

    /// The metric distances stand for.
    pub fn metric(&self) -> Metric {
        self.metric
    }

    /// Values per vector.
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// How many vectors.
    pub fn len(&self) -> usize {
        self.values.len() / self.dimension.max(1)
    }

    /// `true` when there is no vector.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Appends the vector of the next node.
    pub fn push(&mut self, vector: &[f32]) {
        self.values.extend_from_slice(vector);
        if self.metric == Metric::Cosine {
            self.norms.push(kernels::dot(vector, vector).sqrt());
        }
    }

    /// Sets the vector of `node` (when vectors are loaded in another order than the nodes).
    pub fn set(&mut self, node: u32, vector: &[f32]) {
        let start = node as usize * self.dimension;
        if self.values.len() < start + self.dimension {
            self.values.resize(start + self.dimension, 0.0);
        }
        self.values[start..start + self.dimension].copy_from_slice(vector);
        if self.metric == Metric::Cosine {
            if self.norms.len() <= node as usize {
                self.norms.resize(node as usize + 1, 0.0);
            }
            self.norms[node as usize] = kernels::dot(vector, vector).sqrt();
        }
    }

    /// The vector of `node`.
    pub fn vector(&self, node: u32) -> &[f32] {
        let start = node as usize * self.dimension;
        &self.values[start..start + self.dimension]
    }

    /// Starts loading the vector of `node` into the caches (see [`kernels::prefetch`]).
    #[inline]
    pub fn prefetch(&self, node: u32) {
        let start = node as usize * self.dimension;
        if let Some(vector) = self.values.get(start..start + self.dimension) {
            kernels::prefetch(vector);
        }
    }

    /// `query` with its norm, ready for [`distance`](Self::distance).
    pub fn query<'q>(&self, values: &'q [f32]) -> Query<'q> {
        let norm = match self.metric {
            Metric::Cosine => kernels::dot(values, values).sqrt(),
            Metric::Euclidean => 0.0,
        };
        Query { values, norm }
    }

    /// The query of a stored node, to link that node into the graph.
    pub fn query_of(&self, node: u32) -> Query<'_> {
        Query {
            values: self.vector(node),
            norm: self.norms.get(node as usize).copied().unwrap_or(0.0),
        }
    }

    // ANCHOR: distance
    /// How far `node` is from `query`: lower is closer.
    #[inline]
    pub fn distance(&self, query: &Query<'_>, node: u32) -> f32 {
        let vector = self.vector(node);
        match self.metric {
            Metric::Euclidean => kernels::squared_l2(query.values, vector),
            Metric::Cosine => {
                let dot = kernels::dot(query.values, vector);
                let norm = self.norms[node as usize];
                -kernels::cosine_from_parts(dot, query.norm, norm)
                    .unwrap_or_else(|| cosine_similarity(query.values, vector))
            }
        }
    }
    // ANCHOR_END: distance

    /// How far `a` is from `b`.
    pub fn distance_between(&self, a: u32, b: u32) -> f32 {
        self.distance(&self.query_of(a), b)
    }

    /// A distance turned back into the metric's score: the euclidean distance, or the cosine.
    pub fn score(&self, distance: f32) -> f32 {
        match self.metric {
            Metric::Euclidean => distance.max(0.0).sqrt(),
            Metric::Cosine => -distance,
        }
    }

    /// Bytes held: the vectors and their norms.
    pub fn bytes(&self) -> usize {
        std::mem::size_of_val(self.values.as_slice()) + std::mem::size_of_val(self.norms.as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances_rank_as_the_metric_and_turn_back_into_its_scores() {
        for metric in [Metric::Euclidean, Metric::Cosine] {
            let mut space = Space::new(metric, 2);
            space.push(&[1.0, 0.0]);
            space.push(&[0.0, 3.0]);
            let query = space.query(&[2.0, 0.5]);
            let (near, far) = (space.distance(&query, 0), space.distance(&query, 1));
            assert!(near < far, "{metric}");
            let expected = metric.score(&[2.0, 0.5], &[1.0, 0.0]);
            assert!((space.score(near) - expected).abs() < 1e-6, "{metric}");
        }
    }
}
