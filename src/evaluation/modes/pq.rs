//! Product quantization in memory: the base encoded once, every query scored against the codes.

use crate::error::Result;
use crate::evaluation::search_mode::SearchMode;
use crate::quantization::VectorQuantizer;

// ANCHOR: in_memory_pq
/// A trained quantizer and the codes of the base vectors (code `i` is base vector `i`).
#[derive(Debug, Clone)]
pub struct InMemoryPq {
    quantizer: VectorQuantizer,
    codes: Vec<Vec<u8>>,
}

impl InMemoryPq {
    /// Trains `m_chunks` × `nb_subspace_centroids` codebooks on `base` and encodes it.
    pub fn train<V: AsRef<[f32]>>(
        base: &[V],
        m_chunks: usize,
        nb_subspace_centroids: usize,
    ) -> Result<Self> {
        let mut quantizer = VectorQuantizer::new(m_chunks, nb_subspace_centroids)?;
        quantizer.fit(base)?;
        let codes = quantizer.quantize_vectors(base)?;
        Ok(InMemoryPq { quantizer, codes })
    }

    /// Bytes stored per vector.
    pub fn bytes_per_vector(&self) -> usize {
        self.quantizer.bytes_per_vector()
    }
}

impl SearchMode for InMemoryPq {
    fn name(&self) -> String {
        format!(
            "pq(m={}, centroids={})",
            self.quantizer.m_chunks(),
            self.quantizer.nb_subspace_centroids()
        )
    }

    fn search(&self, query: &[f32], k: usize) -> Result<Vec<i64>> {
        let found = self
            .quantizer
            .find_knn_with_quantization(query, &self.codes, k)?;
        Ok(found
            .into_iter()
            .map(|(position, _)| position as i64)
            .collect())
    }
}
// ANCHOR_END: in_memory_pq

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;
    use crate::evaluation::dataset::Dataset;
    use crate::evaluation::evaluator::Evaluator;

    #[test]
    fn as_many_centroids_as_distinct_chunks_is_exact() {
        // Each 2-value chunk takes one of 4 values, so 4 centroids per chunk encode it exactly.
        let base: Vec<Vec<f32>> = (0..64)
            .map(|i| {
                let a = (i % 4) as f32 * 10.0;
                let b = ((i / 4) % 4) as f32 * 10.0;
                vec![a, a + 1.0, b, b + 1.0]
            })
            .collect();
        let queries: Vec<Vec<f32>> = base.iter().step_by(5).cloned().collect();
        let dataset = Dataset::new(base, queries, 1, Metric::Euclidean).expect("valid");
        let mode = InMemoryPq::train(dataset.base(), 2, 4).expect("trains");
        assert_eq!(mode.bytes_per_vector(), 2);
        assert_eq!(mode.name(), "pq(m=2, centroids=4)");
        let evaluation = Evaluator::new(&dataset)
            .evaluate(&mode, &mut || {})
            .expect("runs");
        assert_eq!(evaluation.recall, 1.0);
    }
}
