//! The vector quantizer: train a codebook once, then encode, rebuild and search with it.
//!
//! [`VectorQuantizer::fit`] learns `k` centroids per chunk position with k-means. From then on
//! the codebook is frozen: [`VectorQuantizer::quantize_vectors`] turns each vector into `m`
//! bytes (its nearest centroid per chunk), [`VectorQuantizer::rebuild_vector`] turns bytes back
//! into an approximate vector, and a search compares an exact query with the codes through an
//! `m × k` distance table. Training is separate from encoding so that codes written yesterday
//! still mean the same thing today, and [`VectorQuantizer::codebook`] /
//! [`VectorQuantizer::from_codebook`] let a database store the codebook and restore it.

use crate::distances::Metric;
use crate::error::{Error, Result};
use crate::kmeans::{assign_flat, train_centroids, KMeansConfig};
use crate::quantization::asymmetric_distance::{
    invalid_code_byte, DistanceTable, SubspaceDistance,
};
use crate::quantization::codebook::Codebook;
use crate::top_k::TopK;
use crate::validation::{check_batch, check_k, check_vector};

// ANCHOR: struct
/// Product quantization with `m_chunks` chunks and `nb_subspace_centroids` centroids per chunk.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorQuantizer {
    m_chunks: usize,
    nb_subspace_centroids: usize,
    /// How each sub-space is trained (`n_clusters` is always `nb_subspace_centroids`).
    kmeans: KMeansConfig,
    /// `None` until [`VectorQuantizer::fit`] or [`VectorQuantizer::from_codebook`].
    codebook: Option<Codebook>,
}
// ANCHOR_END: struct

impl VectorQuantizer {
    // ANCHOR: new
    /// An untrained quantizer cutting vectors into `m_chunks` chunks, each encoded as one of
    /// `nb_subspace_centroids` centroids.
    ///
    /// A code is one byte per chunk, so there can be at most 256 centroids per sub-space.
    pub fn new(m_chunks: usize, nb_subspace_centroids: usize) -> Result<Self> {
        if m_chunks == 0 {
            return Err(Error::ZeroChunks);
        }
        if !(1..=256).contains(&nb_subspace_centroids) {
            return Err(Error::InvalidCentroidCount(nb_subspace_centroids));
        }
        Ok(VectorQuantizer {
            m_chunks,
            nb_subspace_centroids,
            kmeans: KMeansConfig::new(nb_subspace_centroids),
            codebook: None,
        })
    }
    // ANCHOR_END: new

    /// Trains each sub-space with `config` instead of the defaults (iterations, runs, seed,
    /// sampling). Its `n_clusters` is ignored: it is always `nb_subspace_centroids`.
    pub fn with_kmeans_config(mut self, config: KMeansConfig) -> Self {
        self.kmeans = KMeansConfig {
            n_clusters: self.nb_subspace_centroids,
            ..config
        };
        self
    }

    // ANCHOR: from_codebook
    /// A trained quantizer rebuilt from a codebook exported by [`VectorQuantizer::codebook`].
    ///
    /// `flat_codebook` must hold `m_chunks × nb_subspace_centroids × (dimension / m_chunks)`
    /// finite values in that layout. Codes made by the exported quantizer mean the same here.
    pub fn from_codebook(
        m_chunks: usize,
        nb_subspace_centroids: usize,
        dimension: usize,
        flat_codebook: Vec<f32>,
    ) -> Result<Self> {
        let mut quantizer = Self::new(m_chunks, nb_subspace_centroids)?;
        let sub_dimension = quantizer.sub_dimension_of(dimension)?;
        quantizer.codebook = Some(Codebook::from_flat(
            m_chunks,
            nb_subspace_centroids,
            sub_dimension,
            flat_codebook,
        )?);
        Ok(quantizer)
    }

    /// The trained centroids, flat: centroid `c` of chunk `j` is the `d / m` values starting at
    /// `(j * nb_subspace_centroids + c) * (d / m)`. Save it with `m_chunks`,
    /// `nb_subspace_centroids` and `dimension` to restore the quantizer with
    /// [`VectorQuantizer::from_codebook`].
    pub fn codebook(&self) -> Result<&[f32]> {
        Ok(self.trained()?.as_flat())
    }
    // ANCHOR_END: from_codebook

    /// How many chunks a vector is cut into.
    pub fn m_chunks(&self) -> usize {
        self.m_chunks
    }

    /// How many centroids each sub-space has.
    pub fn nb_subspace_centroids(&self) -> usize {
        self.nb_subspace_centroids
    }

    /// The dimension of the vectors, known once trained.
    pub fn dimension(&self) -> Option<usize> {
        self.codebook.as_ref().map(Codebook::dimension)
    }

    /// `true` once the codebook is trained (or restored).
    pub fn is_trained(&self) -> bool {
        self.codebook.is_some()
    }

    /// The size of one code: one byte per chunk.
    pub fn bytes_per_vector(&self) -> usize {
        self.m_chunks
    }

    // ANCHOR: split
    /// Cuts `vector` into `m_chunks` consecutive chunks of equal length.
    pub fn split_vector_into_chunks<'a>(&self, vector: &'a [f32]) -> Result<Vec<&'a [f32]>> {
        let sub_dimension = self.sub_dimension_of(vector.len())?;
        Ok(vector.chunks_exact(sub_dimension).collect())
    }

    /// The chunk length `d / m`, or why a dimension `d` cannot be cut into `m` chunks.
    fn sub_dimension_of(&self, dimension: usize) -> Result<usize> {
        if dimension == 0 {
            return Err(Error::EmptyVector);
        }
        if !dimension.is_multiple_of(self.m_chunks) {
            return Err(Error::ChunksDoNotDivide {
                dimension,
                m_chunks: self.m_chunks,
            });
        }
        Ok(dimension / self.m_chunks)
    }
    // ANCHOR_END: split

    // ANCHOR: fit
    /// Learns the codebook from `vectors`: k-means on each chunk position separately.
    ///
    /// Call it once, on a representative sample, before encoding anything. Training again
    /// replaces the codebook, and every code made with the old one becomes meaningless. On
    /// error the quantizer is left as it was.
    pub fn fit<V: AsRef<[f32]>>(&mut self, vectors: &[V]) -> Result<()> {
        let sub_dimension = self.check_training_set(vectors)?;
        let mut subspaces = Vec::with_capacity(self.m_chunks);
        for chunk in 0..self.m_chunks {
            let range = chunk * sub_dimension..(chunk + 1) * sub_dimension;
            let sub_vectors: Vec<&[f32]> =
                vectors.iter().map(|v| &v.as_ref()[range.clone()]).collect();
            subspaces.push(self.compute_clusters_on_subspace(&sub_vectors)?);
        }
        self.codebook = Some(Codebook::from_subspace_centroids(&subspaces)?);
        Ok(())
    }

    /// Trains the `nb_subspace_centroids` centroids of one sub-space on its sub-vectors.
    pub fn compute_clusters_on_subspace<V: AsRef<[f32]>>(
        &self,
        subspace_vectors: &[V],
    ) -> Result<Vec<Vec<f32>>> {
        if subspace_vectors.len() < self.nb_subspace_centroids {
            return Err(Error::TooFewTrainingVectors {
                found: subspace_vectors.len(),
                needed: self.nb_subspace_centroids,
            });
        }
        train_centroids(subspace_vectors, &self.kmeans)
    }
    // ANCHOR_END: fit

    /// Checks a training set and returns the chunk length it implies.
    fn check_training_set<V: AsRef<[f32]>>(&self, vectors: &[V]) -> Result<usize> {
        let dimension = check_batch(vectors, None)?;
        if vectors.len() < self.nb_subspace_centroids {
            return Err(Error::TooFewTrainingVectors {
                found: vectors.len(),
                needed: self.nb_subspace_centroids,
            });
        }
        self.sub_dimension_of(dimension.unwrap_or(0))
    }

    /// The codebook, or [`Error::NotTrained`].
    fn trained(&self) -> Result<&Codebook> {
        self.codebook.as_ref().ok_or(Error::NotTrained)
    }

    // ANCHOR: quantize
    /// Encodes each vector as `m_chunks` bytes: the number of the nearest centroid per chunk.
    ///
    /// The whole batch is checked first, so a bad vector encodes nothing.
    pub fn quantize_vectors<V: AsRef<[f32]>>(&self, vectors: &[V]) -> Result<Vec<Vec<u8>>> {
        let codebook = self.trained()?;
        check_batch(vectors, Some(codebook.dimension()))?;
        Ok(vectors
            .iter()
            .map(|v| encode(codebook, v.as_ref()))
            .collect())
    }

    /// Encodes one vector (see [`VectorQuantizer::quantize_vectors`]).
    pub fn quantize_vector(&self, vector: &[f32]) -> Result<Vec<u8>> {
        let codebook = self.trained()?;
        check_vector(vector, codebook.dimension())?;
        Ok(encode(codebook, vector))
    }
    // ANCHOR_END: quantize

    // ANCHOR: encode_in_blocks
    /// The codes of `vectors`, end to end, found sub-space by sub-space with the matrix form
    /// of k-means' assignment step ([`assign_flat`]): the nearest of the `k` centroids of a
    /// sub-space for every vector at once, instead of `k` distance calls per vector.
    ///
    /// # Errors
    ///
    /// [`Error::NotTrained`]; a bad vector ([`check_batch`]), which encodes nothing.
    pub fn quantize_in_blocks(&self, vectors: &[&[f32]]) -> Result<Vec<u8>> {
        let codebook = self.trained()?;
        check_batch(vectors, Some(codebook.dimension()))?;
        let (m, k, sub) = (
            self.m_chunks,
            self.nb_subspace_centroids,
            codebook.sub_dimension(),
        );
        let flat = codebook.as_flat();
        let mut codes = vec![0u8; vectors.len() * m];
        let mut sub_vectors = Vec::with_capacity(vectors.len() * sub);
        let (mut labels, mut distances) = (vec![0; vectors.len()], vec![0.0; vectors.len()]);
        for j in 0..m {
            sub_vectors.clear();
            for vector in vectors {
                sub_vectors.extend_from_slice(&vector[j * sub..(j + 1) * sub]);
            }
            let centroids = &flat[j * k * sub..(j + 1) * k * sub];
            assign_flat(&sub_vectors, sub, centroids, &mut labels, &mut distances);
            for (code, &label) in codes.chunks_exact_mut(m).zip(&labels) {
                // A label names one of k <= 256 centroids: it fits a byte.
                code[j] = u8::try_from(label).unwrap_or(u8::MAX);
            }
        }
        Ok(codes)
    }
    // ANCHOR_END: encode_in_blocks

    // ANCHOR: rebuild
    /// The approximate vector a code stands for: its centroids, chunk after chunk.
    pub fn rebuild_vector(&self, code: &[u8]) -> Result<Vec<f32>> {
        let codebook = self.trained()?;
        self.check_code_length(code)?;
        let mut rebuilt = Vec::with_capacity(codebook.dimension());
        for (chunk, &centroid) in code.iter().enumerate() {
            let values = codebook
                .centroid(chunk, usize::from(centroid))
                .ok_or_else(|| invalid_code_byte(centroid, self.nb_subspace_centroids))?;
            rebuilt.extend_from_slice(values);
        }
        Ok(rebuilt)
    }
    // ANCHOR_END: rebuild

    fn check_code_length(&self, code: &[u8]) -> Result<()> {
        if code.len() != self.m_chunks {
            return Err(Error::CodeLength {
                len: code.len(),
                expected: self.m_chunks,
            });
        }
        Ok(())
    }

    // ANCHOR: distance_matrix
    /// The `m × k` table of squared euclidean distances from each chunk of `query` to each
    /// centroid of its sub-space. Built once per query, then read `m` times per stored code.
    pub fn compute_asymmetric_distance_matrix(&self, query: &[f32]) -> Result<DistanceTable> {
        self.compute_asymmetric_distance_matrix_as(query, SubspaceDistance::Squared)
    }

    /// The same table holding `kind` distances (use [`SubspaceDistance::Squared`] unless you
    /// want to see what the original's non-squared sums cost).
    pub fn compute_asymmetric_distance_matrix_as(
        &self,
        query: &[f32],
        kind: SubspaceDistance,
    ) -> Result<DistanceTable> {
        let codebook = self.trained()?;
        check_vector(query, codebook.dimension())?;
        let chunks = self.split_vector_into_chunks(query)?;
        Ok(DistanceTable::build(codebook, &chunks, kind))
    }

    /// The distance from the table's query to every code: `m` look-ups each, summed.
    ///
    /// With a squared table, each result equals the squared euclidean distance between the
    /// query and the rebuilt vector, without rebuilding anything.
    pub fn compute_distances_for_all_vectors<C: AsRef<[u8]>>(
        &self,
        table: &DistanceTable,
        codes: &[C],
    ) -> Result<Vec<f32>> {
        self.check_table(table)?;
        codes
            .iter()
            .map(|code| table.distance_to_code(code.as_ref()))
            .collect()
    }
    // ANCHOR_END: distance_matrix

    fn check_table(&self, table: &DistanceTable) -> Result<()> {
        if table.m_chunks() != self.m_chunks
            || table.nb_subspace_centroids() != self.nb_subspace_centroids
        {
            return Err(Error::InvalidParameter {
                name: "table",
                reason: format!(
                    "a {} × {} table for a quantizer with m_chunks {} and {} centroids",
                    table.m_chunks(),
                    table.nb_subspace_centroids(),
                    self.m_chunks,
                    self.nb_subspace_centroids
                ),
            });
        }
        Ok(())
    }

    // ANCHOR: find_knn
    /// The `k` codes nearest to `query` by asymmetric distance, best first, as
    /// `(position in codes, estimated squared euclidean distance)`.
    ///
    /// Squared distances rank exactly like euclidean ones, so the top-k heap ranks them with
    /// [`Metric::Euclidean`]; take the square root to compare with an exact euclidean distance.
    pub fn find_knn_with_quantization<C: AsRef<[u8]>>(
        &self,
        query: &[f32],
        codes: &[C],
        k: usize,
    ) -> Result<Vec<(usize, f32)>> {
        check_k(k)?;
        let table = self.compute_asymmetric_distance_matrix(query)?;
        self.find_knn_with_distance_table(&table, codes, k)
    }

    /// The `k` codes with the smallest sums in `table`, best first, ties to the lower position.
    pub fn find_knn_with_distance_table<C: AsRef<[u8]>>(
        &self,
        table: &DistanceTable,
        codes: &[C],
        k: usize,
    ) -> Result<Vec<(usize, f32)>> {
        check_k(k)?;
        self.check_table(table)?;
        let mut best = TopK::new(k, Metric::Euclidean);
        for (position, code) in codes.iter().enumerate() {
            best.push(position, table.distance_to_code(code.as_ref())?);
        }
        Ok(best.into_sorted_vec())
    }
    // ANCHOR_END: find_knn
}

// ANCHOR: encode
/// One byte per chunk: the nearest centroid of that chunk's sub-space.
fn encode(codebook: &Codebook, vector: &[f32]) -> Vec<u8> {
    vector
        .chunks_exact(codebook.sub_dimension())
        .enumerate()
        .map(|(chunk, sub_vector)| codebook.nearest_code(chunk, sub_vector))
        .collect()
}
// ANCHOR_END: encode

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::squared_euclidean_distance;
    use crate::evaluation::recall::mean_recall;
    use crate::evaluation::GroundTruth;
    use proptest::prelude::*;

    fn sample_vectors() -> Vec<Vec<f32>> {
        vec![
            vec![0.1, 0.2, 0.3],
            vec![0.4, 0.5, 0.6],
            vec![0.7, 0.8, 0.9],
            vec![0.5, 0.7, 0.3],
        ]
    }

    fn sample_high_d_vectors() -> Vec<Vec<f32>> {
        vec![
            vec![11.0, 4.0, 2.0, 1.0, 3.0, 5.0, 7.0, 2.0],
            vec![2.0, 4.0, 3.0, 10.0, 4.0, 5.0, 3.0, 2.0],
            vec![3.0, 11.0, 2.0, 1.0, 3.0, 6.0, 3.0, 1.0],
            vec![2.0, 6.0, 2.0, 1.0, 3.0, 5.0, 1.0, 2.0],
        ]
    }

    const TEST_VECTOR: [f32; 8] = [2.0, 4.0, 2.0, 1.0, 3.0, 5.0, 3.0, 2.0];

    fn trained_on_high_d_vectors() -> VectorQuantizer {
        let mut quantizer = VectorQuantizer::new(4, 2).expect("valid parameters");
        quantizer
            .fit(&sample_high_d_vectors())
            .expect("4 vectors for 2 centroids");
        quantizer
    }

    #[test]
    fn split_vector_into_chunks_returns_consecutive_chunks() {
        let quantizer = VectorQuantizer::new(4, 2).expect("valid parameters");
        let chunks = quantizer
            .split_vector_into_chunks(&TEST_VECTOR)
            .expect("8 splits into 4");
        let expected: [&[f32]; 4] = [&[2.0, 4.0], &[2.0, 1.0], &[3.0, 5.0], &[3.0, 2.0]];
        assert_eq!(chunks, expected);
    }

    #[test]
    fn split_vector_into_chunks_rejects_a_dimension_m_does_not_divide() {
        let quantizer = VectorQuantizer::new(5, 2).expect("valid parameters");
        let err = quantizer
            .split_vector_into_chunks(&TEST_VECTOR)
            .unwrap_err();
        assert!(matches!(
            err,
            Error::ChunksDoNotDivide {
                dimension: 8,
                m_chunks: 5
            }
        ));
        assert_eq!(
            err.to_string(),
            "dimension 8 is not divisible by m_chunks = 5"
        );
    }

    #[test]
    fn compute_clusters_on_subspace_returns_k_centroids_all_used() {
        let quantizer = VectorQuantizer::new(1, 2).expect("valid parameters");
        let centroids = quantizer
            .compute_clusters_on_subspace(&sample_vectors())
            .expect("4 vectors for 2 centroids");
        assert_eq!(centroids.len(), 2);
        let mut used: Vec<usize> = sample_vectors()
            .iter()
            .filter_map(|v| crate::kmeans::nearest_centroid(&centroids, v))
            .collect();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used, vec![0, 1]);
    }

    /// The sum of squared distances from each vector to its nearest centroid.
    fn inertia(vectors: &[Vec<f32>], centroids: &[Vec<f32>]) -> f32 {
        vectors
            .iter()
            .map(|v| {
                centroids
                    .iter()
                    .map(|c| squared_euclidean_distance(v, c))
                    .fold(f32::INFINITY, f32::min)
            })
            .sum()
    }

    #[test]
    fn compute_clusters_on_subspace_finds_the_best_split() {
        // Try every split of the four vectors into two groups; k-means must reach the smallest
        // total squared error. (Here two splits tie: {0.7, 0.8, 0.9} alone, the one the
        // original's test expects from scikit-learn, and {0.1, 0.2, 0.3} alone.)
        let vectors = sample_vectors();
        let mean = |members: Vec<&Vec<f32>>| -> Vec<f32> {
            (0..3)
                .map(|i| members.iter().map(|v| v[i]).sum::<f32>() / members.len() as f32)
                .collect()
        };
        let best_possible = (1..7u32)
            .map(|mask| {
                let (inside, outside): (Vec<_>, Vec<_>) =
                    (0..4).partition(|i| mask & (1 << i) != 0);
                let group = |ids: Vec<usize>| mean(ids.into_iter().map(|i| &vectors[i]).collect());
                inertia(&vectors, &[group(inside), group(outside)])
            })
            .fold(f32::INFINITY, f32::min);
        let quantizer = VectorQuantizer::new(1, 2).expect("valid parameters");
        let centroids = quantizer
            .compute_clusters_on_subspace(&vectors)
            .expect("4 vectors for 2 centroids");
        let found = inertia(&vectors, &centroids);
        assert!(
            (found - best_possible).abs() < 1e-4,
            "{found} vs {best_possible}"
        );
    }

    #[test]
    fn fit_fills_k_centroids_of_d_over_m_values_per_sub_space() {
        let quantizer = trained_on_high_d_vectors();
        assert!(quantizer.is_trained());
        assert_eq!(quantizer.dimension(), Some(8));
        let codebook = quantizer.codebook().expect("trained");
        assert_eq!(codebook.len(), 4 * 2 * 2, "m × k × d/m values");
        // Each sub-space's centroids lie within the range of its training sub-vectors.
        for (i, value) in codebook.iter().enumerate() {
            let position = (i / 4) * 2 + i % 2; // chunk j, component i % 2
            let column: Vec<f32> = sample_high_d_vectors()
                .iter()
                .map(|v| v[position])
                .collect();
            let (lo, hi) = column
                .iter()
                .fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
            assert!((lo..=hi).contains(value), "value {value} at {i}");
        }
    }

    #[test]
    fn quantize_vectors_gives_one_byte_per_chunk_per_vector() {
        let quantizer = trained_on_high_d_vectors();
        let codes = quantizer
            .quantize_vectors(&sample_high_d_vectors())
            .expect("trained, valid vectors");
        assert_eq!(codes.len(), 4);
        assert!(codes
            .iter()
            .all(|c| c.len() == 4 && c.iter().all(|&b| b < 2)));
        assert_eq!(quantizer.bytes_per_vector(), 4);
        assert_eq!(
            quantizer.quantize_vector(&sample_high_d_vectors()[2]).ok(),
            Some(codes[2].clone())
        );
    }

    #[test]
    fn rebuild_vector_gives_the_nearest_centroid_of_each_chunk() {
        let quantizer = trained_on_high_d_vectors();
        let vector = &sample_high_d_vectors()[0];
        let code = quantizer.quantize_vector(vector).expect("trained");
        let rebuilt = quantizer.rebuild_vector(&code).expect("valid code");
        assert_eq!(rebuilt.len(), 8);
        // Swapping any one chunk for the other centroid never gets closer to the vector.
        let error = squared_euclidean_distance(vector, &rebuilt);
        for chunk in 0..4 {
            let mut other = code.clone();
            other[chunk] = 1 - other[chunk];
            let worse = quantizer.rebuild_vector(&other).expect("valid code");
            assert!(squared_euclidean_distance(vector, &worse) >= error);
        }
    }

    #[test]
    fn the_distance_table_is_zero_where_centroids_equal_the_query_chunks() {
        let quantizer =
            VectorQuantizer::from_codebook(2, 2, 6, [0.7, 0.8, 0.9].repeat(4)).expect("valid");
        let table = quantizer
            .compute_asymmetric_distance_matrix(&[0.7, 0.8, 0.9, 0.7, 0.8, 0.9])
            .expect("trained, valid query");
        for chunk in 0..2 {
            for centroid in 0..2 {
                assert_eq!(table.get(chunk, centroid), Some(0.0));
            }
        }
    }

    #[test]
    fn the_table_holds_squared_distances_by_default() {
        // Sub-space centroids 0 and (3, 4): the query chunk (0, 0) is 25 away squared, 5 plain.
        let quantizer =
            VectorQuantizer::from_codebook(1, 2, 2, vec![0.0, 0.0, 3.0, 4.0]).expect("valid");
        let squared = quantizer
            .compute_asymmetric_distance_matrix(&[0.0, 0.0])
            .expect("valid query");
        let plain = quantizer
            .compute_asymmetric_distance_matrix_as(
                &[0.0, 0.0],
                SubspaceDistance::NonSquaredAsInOriginal,
            )
            .expect("valid query");
        assert_eq!(squared.get(0, 1), Some(25.0));
        assert_eq!(plain.get(0, 1), Some(5.0));
        assert_eq!(squared.kind(), SubspaceDistance::Squared);
    }

    #[test]
    fn compute_distances_for_all_vectors_sums_one_entry_per_chunk() {
        let quantizer = VectorQuantizer::new(2, 2).expect("valid parameters");
        let table =
            DistanceTable::from_rows(&[vec![0.2, 0.6], vec![0.7, 0.2]], SubspaceDistance::Squared)
                .expect("valid rows");
        let distances = quantizer
            .compute_distances_for_all_vectors(&table, &[[0u8, 0], [1, 0]])
            .expect("valid codes");
        assert_eq!(distances.len(), 2);
        assert!((distances[0] - (0.2 + 0.7)).abs() < 1e-6);
        assert!((distances[1] - (0.6 + 0.7)).abs() < 1e-6);
    }

    /// A codebook, a query and some codes for it, all random.
    fn random_case() -> impl Strategy<Value = (VectorQuantizer, Vec<f32>, Vec<Vec<u8>>)> {
        (1usize..6, 1usize..9, 1usize..5).prop_flat_map(|(m, k, sub)| {
            let d = m * sub;
            (
                prop::collection::vec(-100.0f32..100.0, m * k * d / m),
                prop::collection::vec(-100.0f32..100.0, d),
                prop::collection::vec(prop::collection::vec(0..k as u8, m), 1..20),
            )
                .prop_map(move |(flat, query, codes)| {
                    let quantizer =
                        VectorQuantizer::from_codebook(m, k, d, flat).expect("sizes agree");
                    (quantizer, query, codes)
                })
        })
    }

    proptest! {
        #[test]
        fn asymmetric_distance_equals_the_distance_to_the_rebuilt_vector(
            (quantizer, query, codes) in random_case()
        ) {
            let table = quantizer.compute_asymmetric_distance_matrix(&query).expect("valid query");
            let distances = quantizer
                .compute_distances_for_all_vectors(&table, &codes)
                .expect("valid codes");
            for (code, adc) in codes.iter().zip(distances) {
                let rebuilt = quantizer.rebuild_vector(code).expect("valid code");
                let exact = squared_euclidean_distance(&query, &rebuilt);
                prop_assert!((adc - exact).abs() <= 1e-4 * exact.max(1.0), "{adc} vs {exact}");
            }
        }
    }

    #[test]
    fn find_knn_with_quantization_ranks_like_the_rebuilt_vectors() {
        let digits = crate::datasets::digits::load().expect("embedded digits");
        let vectors = &digits.vectors[..300];
        let mut quantizer = VectorQuantizer::new(8, 16).expect("valid parameters");
        quantizer
            .fit(vectors)
            .expect("300 vectors for 16 centroids");
        let codes = quantizer.quantize_vectors(vectors).expect("trained");
        let query = &digits.vectors[500];
        let found = quantizer
            .find_knn_with_quantization(query, &codes, 5)
            .expect("valid query");
        let mut expected = TopK::new(5, Metric::Euclidean);
        for (position, code) in codes.iter().enumerate() {
            let rebuilt = quantizer.rebuild_vector(code).expect("valid code");
            expected.push(position, squared_euclidean_distance(query, &rebuilt));
        }
        let expected = expected.into_sorted_vec();
        assert_eq!(found.len(), 5);
        for ((key, distance), (expected_key, expected_distance)) in found.iter().zip(&expected) {
            assert_eq!(key, expected_key);
            assert!((distance - expected_distance).abs() <= 1e-3 * expected_distance.max(1.0));
        }
    }

    /// The digits set and a quantizer trained on it (m = 16, 32 centroids), trained once for
    /// all the tests that need it: k-means is the slow part of these tests.
    fn digits_and_quantizer() -> &'static (Vec<Vec<f32>>, VectorQuantizer) {
        static TRAINED: std::sync::OnceLock<(Vec<Vec<f32>>, VectorQuantizer)> =
            std::sync::OnceLock::new();
        TRAINED.get_or_init(|| {
            let digits = crate::datasets::digits::load().expect("embedded digits");
            let mut quantizer = VectorQuantizer::new(16, 32).expect("valid parameters");
            quantizer.fit(&digits.vectors).expect("enough vectors");
            (digits.vectors, quantizer)
        })
    }

    #[test]
    fn from_codebook_restores_a_quantizer_that_gives_the_same_codes() {
        let (vectors, quantizer) = digits_and_quantizer();
        let stored = quantizer.codebook().expect("trained").to_vec();
        let restored = VectorQuantizer::from_codebook(16, 32, 64, stored).expect("valid codebook");
        assert_eq!(restored.codebook().ok(), quantizer.codebook().ok());
        let codes = quantizer.quantize_vectors(vectors).expect("trained");
        assert_eq!(restored.quantize_vectors(vectors).ok(), Some(codes.clone()));
        assert_eq!(
            restored.rebuild_vector(&codes[11]).ok(),
            quantizer.rebuild_vector(&codes[11]).ok()
        );
    }

    #[test]
    fn bad_parameters_are_typed_errors() {
        assert!(matches!(VectorQuantizer::new(0, 8), Err(Error::ZeroChunks)));
        assert!(matches!(
            VectorQuantizer::new(4, 0),
            Err(Error::InvalidCentroidCount(0))
        ));
        assert!(matches!(
            VectorQuantizer::new(4, 257),
            Err(Error::InvalidCentroidCount(257))
        ));
        assert!(VectorQuantizer::new(4, 256).is_ok());
    }

    #[test]
    fn bad_training_sets_are_typed_errors_and_change_nothing() {
        let mut quantizer = VectorQuantizer::new(4, 2).expect("valid parameters");
        assert!(matches!(
            quantizer.fit(&sample_high_d_vectors()[..1]),
            Err(Error::TooFewTrainingVectors {
                found: 1,
                needed: 2
            })
        ));
        assert!(matches!(
            quantizer.fit::<Vec<f32>>(&[]),
            Err(Error::TooFewTrainingVectors { found: 0, .. })
        ));
        assert!(matches!(
            quantizer.fit(&sample_vectors()),
            Err(Error::ChunksDoNotDivide {
                dimension: 3,
                m_chunks: 4
            })
        ));
        let mut with_nan = sample_high_d_vectors();
        with_nan[3][5] = f32::NAN;
        assert!(matches!(
            quantizer.fit(&with_nan),
            Err(Error::NonFiniteValue { position: 5, .. })
        ));
        let mut ragged = sample_high_d_vectors();
        ragged[1].pop();
        assert!(matches!(
            quantizer.fit(&ragged),
            Err(Error::DimensionMismatch {
                expected: 8,
                found: 7
            })
        ));
        assert!(!quantizer.is_trained());

        let mut trained = trained_on_high_d_vectors();
        let before = trained.clone();
        assert!(trained.fit(&with_nan).is_err());
        assert_eq!(trained, before, "a failed fit keeps the old codebook");
    }

    #[test]
    fn using_an_untrained_quantizer_is_not_trained() {
        let quantizer = VectorQuantizer::new(4, 2).expect("valid parameters");
        assert!(!quantizer.is_trained());
        assert_eq!(quantizer.dimension(), None);
        assert!(matches!(quantizer.codebook(), Err(Error::NotTrained)));
        assert!(matches!(
            quantizer.quantize_vectors(&sample_high_d_vectors()),
            Err(Error::NotTrained)
        ));
        assert!(matches!(
            quantizer.quantize_vector(&TEST_VECTOR),
            Err(Error::NotTrained)
        ));
        assert!(matches!(
            quantizer.rebuild_vector(&[0, 0, 0, 0]),
            Err(Error::NotTrained)
        ));
        assert!(matches!(
            quantizer.compute_asymmetric_distance_matrix(&TEST_VECTOR),
            Err(Error::NotTrained)
        ));
        assert!(matches!(
            quantizer.find_knn_with_quantization(&TEST_VECTOR, &[[0u8; 4]], 1),
            Err(Error::NotTrained)
        ));
    }

    #[test]
    fn bad_vectors_and_queries_are_typed_errors() {
        let quantizer = trained_on_high_d_vectors();
        assert!(matches!(
            quantizer.quantize_vectors(&[TEST_VECTOR.to_vec(), vec![1.0; 6]]),
            Err(Error::DimensionMismatch {
                expected: 8,
                found: 6
            })
        ));
        assert!(matches!(
            quantizer.quantize_vector(&[1.0, 2.0, f32::INFINITY, 0.0, 0.0, 0.0, 0.0, 0.0]),
            Err(Error::NonFiniteValue { position: 2, .. })
        ));
        assert!(matches!(
            quantizer.compute_asymmetric_distance_matrix(&[1.0; 4]),
            Err(Error::DimensionMismatch {
                expected: 8,
                found: 4
            })
        ));
        assert!(matches!(
            quantizer.compute_asymmetric_distance_matrix(&[f32::NAN; 8]),
            Err(Error::NonFiniteValue { position: 0, .. })
        ));
        assert!(matches!(
            quantizer.find_knn_with_quantization(&TEST_VECTOR, &[[0u8; 4]], 0),
            Err(Error::ZeroK)
        ));
        assert!(matches!(
            quantizer.split_vector_into_chunks(&[]),
            Err(Error::EmptyVector)
        ));
    }

    #[test]
    fn bad_codes_are_typed_errors() {
        let quantizer = trained_on_high_d_vectors();
        assert!(matches!(
            quantizer.rebuild_vector(&[0, 1, 0]),
            Err(Error::CodeLength {
                len: 3,
                expected: 4
            })
        ));
        assert!(matches!(
            quantizer.rebuild_vector(&[0, 1, 2, 0]),
            Err(Error::InvalidParameter { name: "code", .. })
        ));
        let table = quantizer
            .compute_asymmetric_distance_matrix(&TEST_VECTOR)
            .expect("valid query");
        assert!(matches!(
            quantizer.compute_distances_for_all_vectors(&table, &[vec![0u8; 4], vec![0u8; 5]]),
            Err(Error::CodeLength {
                len: 5,
                expected: 4
            })
        ));
        assert!(matches!(
            quantizer.find_knn_with_distance_table(&table, &[[0u8, 0, 0, 255]], 1),
            Err(Error::InvalidParameter { name: "code", .. })
        ));
        let foreign = DistanceTable::from_rows(&[vec![0.0; 2]], SubspaceDistance::Squared)
            .expect("valid rows");
        assert!(matches!(
            quantizer.compute_distances_for_all_vectors(&foreign, &[[0u8]]),
            Err(Error::InvalidParameter { name: "table", .. })
        ));
    }

    #[test]
    fn bad_stored_codebooks_are_typed_errors() {
        assert!(matches!(
            VectorQuantizer::from_codebook(3, 2, 8, vec![0.0; 16]),
            Err(Error::ChunksDoNotDivide {
                dimension: 8,
                m_chunks: 3
            })
        ));
        assert!(matches!(
            VectorQuantizer::from_codebook(4, 2, 8, vec![0.0; 15]),
            Err(Error::InvalidParameter {
                name: "codebook",
                ..
            })
        ));
        assert!(matches!(
            VectorQuantizer::from_codebook(4, 2, 0, vec![]),
            Err(Error::EmptyVector)
        ));
        assert!(matches!(
            VectorQuantizer::from_codebook(0, 2, 8, vec![0.0; 16]),
            Err(Error::ZeroChunks)
        ));
        let mut with_nan = vec![0.0; 16];
        with_nan[9] = f32::NAN;
        assert!(matches!(
            VectorQuantizer::from_codebook(4, 2, 8, with_nan),
            Err(Error::NonFiniteValue { position: 9, .. })
        ));
    }

    // ANCHOR: recall_test
    /// Recall@10 of asymmetric search with tables of `kind` distances, every vector as query.
    fn pq_recall_at_10(
        quantizer: &VectorQuantizer,
        codes: &[Vec<u8>],
        queries: &[Vec<f32>],
        exact: &GroundTruth,
        kind: SubspaceDistance,
    ) -> f64 {
        let found: Vec<Vec<i64>> = queries
            .iter()
            .map(|query| {
                let table = quantizer
                    .compute_asymmetric_distance_matrix_as(query, kind)
                    .expect("valid query");
                let neighbours = quantizer
                    .find_knn_with_distance_table(&table, codes, 10)
                    .expect("valid codes");
                neighbours.iter().map(|&(id, _)| id as i64).collect()
            })
            .collect();
        mean_recall(&found, exact).expect("one result list per query")
    }

    #[test]
    fn squared_sub_distances_beat_the_originals_plain_ones_on_digits() {
        let (vectors, quantizer) = digits_and_quantizer();
        let codes = quantizer.quantize_vectors(vectors).expect("trained");
        // The exact top 10 of every vector, by euclidean distance (chapter 9's ground truth).
        let exact =
            GroundTruth::compute(vectors, vectors, 10, Metric::Euclidean).expect("valid digits");

        let squared = pq_recall_at_10(
            quantizer,
            &codes,
            vectors,
            &exact,
            SubspaceDistance::Squared,
        );
        let non_squared = pq_recall_at_10(
            quantizer,
            &codes,
            vectors,
            &exact,
            SubspaceDistance::NonSquaredAsInOriginal,
        );
        eprintln!("digits, m = 16, 32 centroids: recall@10 with squared sub-distances {squared:.4}, with the original's non-squared ones {non_squared:.4}");
        assert!(squared >= 0.83, "recall@10 {squared}");
        assert!(squared > non_squared, "{squared} vs {non_squared}");
    }
    // ANCHOR_END: recall_test
}
