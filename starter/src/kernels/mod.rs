//! Fast distance kernels: the numbers of [`crate::distances`], computed for scans.
//!
//! [`crate::distances`] writes each distance as plainly as it can; a search that scores
//! thousands of vectors per query wants the same numbers faster. Three ideas make them fast:
//!
//! - **Several accumulators.** Float addition is not associative (`(a + b) + c` may round
//!   differently from `a + (b + c)`), so the compiler must keep a one-total loop's additions in
//!   their written order: one serial chain, each addition waiting some 4 cycles for the previous
//!   one. With 8 independent totals the chains no longer depend on each other, and the
//!   compiler packs them into SIMD registers. Only the rounding changes.
//! - **AVX2 and FMA chosen at run time.** AVX2 registers hold 8 floats and FMA fuses a multiply
//!   and an add, but not every x86-64 CPU has them. Building with `-C target-cpu=native` would
//!   bake the build machine's instructions into the binary, which then dies with "illegal
//!   instruction" on an older CPU. So the crate builds for the baseline (SSE2, on every x86-64),
//!   compiles a second copy of each loop for AVX2 + FMA, and picks one with
//!   `is_x86_feature_detected!` when it runs ([`instruction_set`] says which).
//! - **Blocks.** [`squared_l2_many`], [`dot_many`] and [`norms`] score a whole block of vectors,
//!   stored one after the other, in one call: the choice of implementation is made once per
//!   block rather than once per vector, and the query, read again for every row, stays in the
//!   L1 cache while the rows stream past it.
//!
//! Product-quantization scans ([`PqTable`]) are table look-ups rather than arithmetic: their
//! trick is a table padded to 256 entries per sub-quantizer, so that any code byte is a valid
//! index and the loop needs neither bounds checks nor `unsafe`.

pub mod portable;
#[cfg(target_arch = "x86_64")]
mod x86;

use crate::error::{Error, Result};

// ANCHOR: dispatch
/// Squared euclidean distance `Σ (aᵢ - bᵢ)²`, over the values both slices hold.
pub fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU has just been checked to run AVX2 and FMA, the only requirement of
        // this `#[target_feature]` function.
        return unsafe { x86::squared_l2(a, b) };
    }
    portable::squared_l2(a, b)
}

/// `true` when this CPU runs AVX2 and FMA instructions, detected once per process.
///
/// The standard library caches what it detects too; the `OnceLock` turns the two look-ups into
/// one load of a `bool` per call.
#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    static DETECTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *DETECTED.get_or_init(|| is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"))
}
// ANCHOR_END: dispatch

/// The dot product `a · b = Σ aᵢ bᵢ`, over the values both slices hold.
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU runs AVX2 and FMA, checked just above.
        return unsafe { x86::dot(a, b) };
    }
    portable::dot(a, b)
}

/// `scores[i] = squared_l2(query, row i of block)`, the rows having `query.len()` values each.
///
/// `block` must hold `scores.len()` rows: a debug build stops on a mismatch, a release build
/// fills only the scores that have a whole row and leaves the others as they were.
pub fn squared_l2_many(query: &[f32], block: &[f32], scores: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU runs AVX2 and FMA, checked just above.
        return unsafe { x86::squared_l2_many(query, block, scores) };
    }
    portable::squared_l2_many(query, block, scores)
}

/// `scores[i] = dot(query, row i of block)`, with the same block rules as [`squared_l2_many`].
pub fn dot_many(query: &[f32], block: &[f32], scores: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU runs AVX2 and FMA, checked just above.
        return unsafe { x86::dot_many(query, block, scores) };
    }
    portable::dot_many(query, block, scores)
}

/// `out[i] = ‖row i of block‖`, the euclidean norm of each row of `dimension` values.
///
/// Norms computed once, when vectors are stored, turn each cosine similarity of a scan into one
/// dot product (see [`cosine_from_parts`]). Same block rules as [`squared_l2_many`].
pub fn norms(block: &[f32], dimension: usize, out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU runs AVX2 and FMA, checked just above.
        return unsafe { x86::norms(block, dimension, out) };
    }
    portable::norms(block, dimension, out)
}

/// The cosine similarity from its parts, `dot / (query_norm × vector_norm)` clamped to `[-1, 1]`.
///
/// Returns `None` exactly where [`crate::distances::cosine_similarity`] leaves its fast path: a
/// norm whose square is not a normal `f32` (zero, subnormal, infinite or NaN) or a dot product
/// that is not finite. Such parts have lost what the ratio needs (a zero vector has no
/// direction, `f32::MAX` values give `inf / inf`), so the caller falls back to
/// `cosine_similarity` on the vectors themselves, which scores them exactly.
pub fn cosine_from_parts(dot: f32, query_norm: f32, vector_norm: f32) -> Option<f32> {
    let usable = |norm: f32| (norm * norm).is_normal();
    if !(usable(query_norm) && usable(vector_norm) && dot.is_finite()) {
        return None;
    }
    // Rounding can push the ratio a hair past ±1.
    Some((dot / (query_norm * vector_norm)).clamp(-1.0, 1.0))
}

/// Asks the CPU to start loading `values` into its caches, and returns at once.
///
/// A graph search knows which vectors it will score a few moments before it scores them (the
/// neighbours of the node it is expanding), but they lie anywhere in memory, where no hardware
/// prefetcher can guess them. Asking for them early overlaps the wait for memory with the work
/// on the previous vector. A prefetch is a hint: it never faults, whatever the address.
#[inline]
pub fn prefetch(values: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    for line in values.chunks(16) {
        // SAFETY: SSE is part of every x86-64 CPU, and a prefetch reads nothing the program
        // sees: it cannot fault or change a value.
        unsafe {
            std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                line.as_ptr().cast::<i8>(),
            );
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

/// Which implementation this CPU runs: `"avx2+fma"` or `"portable"`, for logs and the book.
pub fn instruction_set() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        return "avx2+fma";
    }
    "portable"
}

/// How many rows of `block` (`dimension` values each) have a score among `n_scores`: all of
/// them when the two pair up, as they should; a debug build reports a mismatch, the caller's bug.
fn whole_rows(block: &[f32], dimension: usize, n_scores: usize) -> usize {
    debug_assert_eq!(
        n_scores.checked_mul(dimension),
        Some(block.len()),
        "a block of {} values is not {n_scores} rows of {dimension}",
        block.len(),
    );
    block
        .len()
        .checked_div(dimension)
        .map_or(n_scores, |rows| rows.min(n_scores))
}

/// Each row of `block` (`dimension` values) with the score it fills, for the block kernels.
///
/// Rows and scores should pair up exactly; a mismatch is the caller's bug, which a debug build
/// reports. A release build pairs only the rows and scores that both exist, so a mismatch can
/// neither read past the block nor panic. Rows of dimension 0 are empty, one per score.
fn rows_and_scores<'a>(
    block: &'a [f32],
    dimension: usize,
    scores: &'a mut [f32],
) -> impl Iterator<Item = (&'a [f32], &'a mut f32)> {
    let n_rows = whole_rows(block, dimension, scores.len());
    // `i < n_rows <= block.len() / dimension`, so every range lies inside the block.
    scores[..n_rows]
        .iter_mut()
        .enumerate()
        .map(move |(i, score)| (&block[i * dimension..(i + 1) * dimension], score))
}

/// A product-quantization distance table, ready for fast scans of codes.
///
/// Row `j` holds the `k` distances from the query's chunk `j` to the centroids of sub-quantizer
/// `j`, **padded to 256 entries with `+∞`**. A code byte is a `u8`, so it is always a valid
/// index into a row of 256: the scan needs no per-byte check and no `unsafe`, and a damaged
/// byte that names no centroid (`>= k`) makes its code infinitely far instead of reading
/// another row's entry.
#[derive(Debug, Clone, PartialEq)]
pub struct PqTable {
    rows: Vec<[f32; 256]>,
}

impl PqTable {
    /// The padded table of a flat `m × k` table, where entry `(j, c)` is `table[j * k + c]`.
    ///
    /// # Errors
    ///
    /// [`Error::ZeroChunks`] when `m` is 0, [`Error::InvalidCentroidCount`] when `k` is not
    /// between 1 and 256, and [`Error::DimensionMismatch`] when `table` does not hold `m × k`
    /// values.
    pub fn new(table: &[f32], m: usize, k: usize) -> Result<Self> {
        if m == 0 {
            return Err(Error::ZeroChunks);
        }
        if !(1..=256).contains(&k) {
            return Err(Error::InvalidCentroidCount(k));
        }
        if m.checked_mul(k) != Some(table.len()) {
            return Err(Error::DimensionMismatch {
                expected: m.saturating_mul(k),
                found: table.len(),
            });
        }
        let rows = table
            .chunks_exact(k)
            .map(|entries| {
                let mut row = [f32::INFINITY; 256];
                row[..k].copy_from_slice(entries);
                row
            })
            .collect();
        Ok(PqTable { rows })
    }

    /// A table of `m` rows whose every entry is `+∞`, to be filled in place through
    /// [`rows_mut`](Self::rows_mut): a scan that needs one table after another (one per cell of
    /// an inverted file) refills the same one instead of allocating each.
    pub fn infinite(m: usize) -> Self {
        PqTable {
            rows: vec![[f32::INFINITY; 256]; m],
        }
    }

    /// The padded rows, to write in place. Entries past a sub-quantizer's `k` centroids should
    /// stay `+∞`, so that a damaged byte still scores its code infinitely far.
    pub fn rows_mut(&mut self) -> &mut [[f32; 256]] {
        &mut self.rows
    }

    /// The number of sub-quantizers, which is the length of a code.
    pub fn m(&self) -> usize {
        self.rows.len()
    }

    /// `out[i]` = the distance to code `i`, the sum of its `m` entries (code `i` is
    /// `codes[i * m..(i + 1) * m]`).
    ///
    /// `codes` must hold `out.len()` codes: a debug build stops on a mismatch, a release build
    /// fills only the scores that have a whole code. [`pq_scan`] checks instead.
    pub fn scan(&self, codes: &[u8], out: &mut [f32]) {
        debug_assert_eq!(
            out.len().checked_mul(self.m()),
            Some(codes.len()),
            "{} code bytes are not {} codes of {}",
            codes.len(),
            out.len(),
            self.m()
        );
        portable::pq_scan(&self.rows, codes, out);
    }
}

/// `out[i] = Σ_j table[j * k + codes[i * m + j]]`: the distances to `out.len()` codes of `m`
/// bytes, from a flat `m × k` table (see [`PqTable`], which a scan of many blocks should build
/// once and reuse).
///
/// # Errors
///
/// The errors of [`PqTable::new`], and [`Error::CodeLength`] when `codes` does not hold
/// `out.len()` codes of `m` bytes.
pub fn pq_scan(table: &[f32], m: usize, k: usize, codes: &[u8], out: &mut [f32]) -> Result<()> {
    let table = PqTable::new(table, m, k)?;
    if out.len().checked_mul(m) != Some(codes.len()) {
        return Err(Error::CodeLength {
            len: codes.len(),
            expected: out.len().saturating_mul(m),
        });
    }
    table.scan(codes, out);
    Ok(())
}

/// One test suite for the three implementations (portable, AVX2, dispatched): each module's
/// tests call these checks with its own functions, against [`crate::distances`].
#[cfg(test)]
mod test_support {
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    use crate::distances;

    /// Lengths around every chunk boundary: empty, one value, below, at and past 8 and 32
    /// (the portable and AVX2 chunk sizes), and common embedding sizes.
    pub const LENGTHS: [usize; 13] = [0, 1, 7, 8, 9, 31, 32, 33, 64, 100, 128, 384, 1000];

    pub type PairKernel = fn(&[f32], &[f32]) -> f32;
    pub type BlockKernel = fn(&[f32], &[f32], &mut [f32]);
    pub type NormsKernel = fn(&[f32], usize, &mut [f32]);

    pub fn rng(seed: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(seed)
    }

    /// `len` values drawn uniformly from `[-scale, scale)`.
    pub fn random_vector(rng: &mut Xoshiro256PlusPlus, len: usize, scale: f32) -> Vec<f32> {
        (0..len).map(|_| rng.gen_range(-scale..scale)).collect()
    }

    /// Fails unless `found` is within rounding of `expected`, a sum whose terms add up, in
    /// absolute value, to `magnitude`.
    ///
    /// Summing in another order can only move a result by a few units of rounding of the
    /// terms' magnitude (not of the result, which cancellation can make tiny); one term more or
    /// less, for up to 1,000 terms, moves it by far more than this tolerance.
    pub fn assert_close(found: f32, expected: f32, magnitude: f64, what: &str) {
        let tolerance = 1e-4 * magnitude.max(f64::from(expected.abs())) + 1e-5;
        let error = (f64::from(found) - f64::from(expected)).abs();
        assert!(
            error <= tolerance,
            "{what}: found {found}, expected {expected} (error {error:e} > {tolerance:e})"
        );
    }

    fn sum_of_abs(a: &[f32], b: &[f32], term: fn(f32, f32) -> f32) -> f64 {
        a.iter()
            .zip(b)
            .map(|(&x, &y)| f64::from(term(x, y).abs()))
            .sum()
    }

    /// `kernel` against `reference` on every length, from aligned and misaligned starts, at two
    /// scales, and on slices of unequal lengths (where both stop at the shorter one).
    fn check_pair(kernel: PairKernel, reference: PairKernel, term: fn(f32, f32) -> f32) {
        let mut rng = rng(1);
        for len in LENGTHS {
            for scale in [1.0, 100.0] {
                let a = random_vector(&mut rng, len + 1, scale);
                let b = random_vector(&mut rng, len + 2, scale);
                // Starting one value in moves the loads off any alignment the allocator gave.
                for start in [0, 1] {
                    let (x, y) = (&a[start..start + len], &b[start..start + len]);
                    let what = format!("len {len}, scale {scale}, start {start}");
                    let magnitude = sum_of_abs(x, y, term);
                    assert_close(kernel(x, y), reference(x, y), magnitude, &what);
                }
                let (x, longer) = (&a[..len], &b[..len + 2]);
                let magnitude = sum_of_abs(x, longer, term);
                let what = format!("len {len} against {}", len + 2);
                assert_close(kernel(x, longer), reference(x, longer), magnitude, &what);
            }
        }
    }

    pub fn check_squared_l2(kernel: PairKernel) {
        let difference = |x: f32, y: f32| (x - y) * (x - y);
        check_pair(kernel, distances::squared_euclidean_distance, difference);
    }

    pub fn check_dot(kernel: PairKernel) {
        check_pair(kernel, distances::dot, |x, y| x * y);
    }

    /// `kernel` over blocks of 0, 1 and 5 rows against `reference` row by row.
    fn check_block(kernel: BlockKernel, reference: PairKernel, term: fn(f32, f32) -> f32) {
        let mut rng = rng(2);
        for dimension in LENGTHS {
            for n_rows in [0, 1, 5] {
                let query = random_vector(&mut rng, dimension, 1.0);
                let block = random_vector(&mut rng, n_rows * dimension, 1.0);
                // NaN until written, so a score the kernel skips cannot pass.
                let mut scores = vec![f32::NAN; n_rows];
                kernel(&query, &block, &mut scores);
                for (i, score) in scores.iter().enumerate() {
                    let row = &block[i * dimension..(i + 1) * dimension];
                    let what = format!("dimension {dimension}, row {i} of {n_rows}");
                    let magnitude = sum_of_abs(&query, row, term);
                    assert_close(*score, reference(&query, row), magnitude, &what);
                }
            }
        }
    }

    pub fn check_squared_l2_many(kernel: BlockKernel) {
        let difference = |x: f32, y: f32| (x - y) * (x - y);
        check_block(kernel, distances::squared_euclidean_distance, difference);
    }

    pub fn check_dot_many(kernel: BlockKernel) {
        check_block(kernel, distances::dot, |x, y| x * y);
    }

    /// `kernel` against [`distances::norm`] row by row, on blocks of 0, 1 and 5 rows.
    pub fn check_norms(kernel: NormsKernel) {
        let mut rng = rng(3);
        for dimension in LENGTHS {
            for n_rows in [0, 1, 5] {
                let block = random_vector(&mut rng, n_rows * dimension, 10.0);
                let mut out = vec![f32::NAN; n_rows];
                kernel(&block, dimension, &mut out);
                for (i, found) in out.iter().enumerate() {
                    let row = &block[i * dimension..(i + 1) * dimension];
                    let expected = distances::norm(row);
                    let what = format!("norm, dimension {dimension}, row {i}");
                    assert_close(*found, expected, f64::from(expected), &what);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use rand::Rng;

    use super::test_support::*;
    use super::*;
    use crate::distances;

    #[test]
    fn dispatched_squared_l2_matches_the_definition() {
        check_squared_l2(squared_l2);
    }

    #[test]
    fn dispatched_dot_matches_the_definition() {
        check_dot(dot);
    }

    #[test]
    fn dispatched_block_kernels_match_the_definitions() {
        check_squared_l2_many(squared_l2_many);
        check_dot_many(dot_many);
        check_norms(norms);
    }

    #[test]
    fn instruction_set_names_what_the_cpu_runs() {
        #[cfg(target_arch = "x86_64")]
        let expected = if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
            "avx2+fma"
        } else {
            "portable"
        };
        #[cfg(not(target_arch = "x86_64"))]
        let expected = "portable";
        assert_eq!(instruction_set(), expected);
    }

    #[test]
    fn rows_of_dimension_zero_score_zero() {
        let mut scores = [f32::NAN; 3];
        squared_l2_many(&[], &[], &mut scores);
        assert_eq!(scores, [0.0; 3]);
        let mut out = [f32::NAN; 2];
        norms(&[], 0, &mut out);
        assert_eq!(out, [0.0; 2]);
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "is not 3 rows of 4")]
    fn a_block_that_does_not_fit_its_scores_stops_a_debug_build() {
        squared_l2_many(&[0.0; 4], &[0.0; 10], &mut [0.0; 3]);
    }

    #[test]
    fn cosine_from_parts_matches_cosine_similarity() {
        let mut rng = rng(4);
        for len in LENGTHS.into_iter().filter(|&len| len > 0) {
            let query = random_vector(&mut rng, len, 1.0);
            let block = random_vector(&mut rng, 3 * len, 1.0);
            let mut vector_norms = [0.0; 3];
            norms(&block, len, &mut vector_norms);
            let mut dots = [0.0; 3];
            dot_many(&query, &block, &mut dots);
            let query_norm = distances::norm(&query);
            for (i, row) in block.chunks_exact(len).enumerate() {
                let found = cosine_from_parts(dots[i], query_norm, vector_norms[i])
                    .expect("ordinary vectors have usable parts");
                let expected = distances::cosine_similarity(&query, row);
                assert!(
                    (found - expected).abs() <= 1e-4,
                    "len {len}, row {i}: {found} vs {expected}"
                );
            }
        }
    }

    #[test]
    fn cosine_from_parts_refuses_unusable_parts() {
        for norm in [
            0.0,
            1e-30,
            f32::MIN_POSITIVE / 2.0,
            f32::INFINITY,
            f32::NAN,
            1e20,
        ] {
            assert_eq!(cosine_from_parts(1.0, norm, 1.0), None, "query norm {norm}");
            assert_eq!(
                cosine_from_parts(1.0, 1.0, norm),
                None,
                "vector norm {norm}"
            );
        }
        for dot in [f32::INFINITY, f32::NEG_INFINITY, f32::NAN] {
            assert_eq!(cosine_from_parts(dot, 1.0, 1.0), None, "dot {dot}");
        }
        // Rounding past 1 is clamped; ordinary parts give the plain ratio.
        assert_eq!(cosine_from_parts(2.000_001, 1.0, 2.0), Some(1.0));
        assert_eq!(cosine_from_parts(-3.0, 2.0, 3.0), Some(-0.5));
    }

    #[test]
    fn tiny_vectors_fall_back_to_the_exact_cosine() {
        let (a, b) = ([1e-30f32; 3], [2e-30f32; 3]);
        let mut vector_norm = [0.0];
        norms(&b, 3, &mut vector_norm);
        assert_eq!(
            cosine_from_parts(dot(&a, &b), distances::norm(&a), vector_norm[0]),
            None
        );
        assert!((distances::cosine_similarity(&a, &b) - 1.0).abs() < 1e-6);
    }

    /// The sum of code `i`'s entries, one look-up at a time, in sub-quantizer order.
    fn naive_pq_scan(table: &[f32], m: usize, k: usize, codes: &[u8]) -> Vec<f32> {
        codes
            .chunks_exact(m)
            .map(|code| {
                code.iter()
                    .enumerate()
                    .map(|(j, &byte)| table[j * k + usize::from(byte)])
                    .sum()
            })
            .collect()
    }

    #[test]
    fn pq_scan_adds_the_entries_of_each_code() {
        let mut rng = rng(5);
        for m in [1, 3, 8, 16, 32] {
            for k in [1, 7, 256] {
                // Around the 4-code unrolling: none, fewer than 4, exactly 4, 4 plus a tail.
                for n_codes in [0, 1, 3, 4, 5, 7, 100] {
                    let table = random_vector(&mut rng, m * k, 10.0);
                    let codes: Vec<u8> = (0..n_codes * m)
                        .map(|_| rng.gen_range(0..k) as u8)
                        .collect();
                    let mut out = vec![f32::NAN; n_codes];
                    pq_scan(&table, m, k, &codes, &mut out).expect("consistent sizes");
                    // The same additions in the same order: the same floats, bit for bit.
                    assert_eq!(
                        out,
                        naive_pq_scan(&table, m, k, &codes),
                        "m {m}, k {k}, {n_codes} codes"
                    );
                }
            }
        }
    }

    #[test]
    fn a_byte_that_names_no_centroid_is_infinitely_far() {
        let table = PqTable::new(&[1.0, 2.0, 3.0, 4.0], 2, 2).expect("a 2 x 2 table");
        let mut out = [0.0; 3];
        table.scan(&[0, 1, 1, 2, 255, 0], &mut out);
        assert_eq!(out, [5.0, f32::INFINITY, f32::INFINITY]);
    }

    #[test]
    fn pq_sizes_are_checked_up_front() {
        let mut out = [0.0; 2];
        assert!(matches!(
            pq_scan(&[], 0, 4, &[], &mut out),
            Err(Error::ZeroChunks)
        ));
        for k in [0, 257] {
            assert!(matches!(
                pq_scan(&vec![0.0; 2 * k], 2, k, &[0; 4], &mut out),
                Err(Error::InvalidCentroidCount(found)) if found == k
            ));
        }
        assert!(matches!(
            pq_scan(&[0.0; 7], 2, 4, &[0; 4], &mut out),
            Err(Error::DimensionMismatch {
                expected: 8,
                found: 7
            })
        ));
        assert!(matches!(
            pq_scan(&[0.0; 8], 2, 4, &[0; 5], &mut out),
            Err(Error::CodeLength {
                len: 5,
                expected: 4
            })
        ));
    }
}
