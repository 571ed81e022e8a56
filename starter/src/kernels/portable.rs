//! The portable kernels: plain Rust that the compiler turns into SIMD code on any target.
//!
//! Each loop keeps [`LANES`] independent running totals, total `i` taking the values at
//! positions `i`, `i + LANES`, `i + 2 × LANES`, …: nothing orders one total's additions against
//! another's, so rustc computes them side by side in SIMD registers (SSE2 on a baseline x86-64,
//! NEON on ARM). The few values that do not fill a chunk of [`LANES`] are added one by one.
//!
//! These are also the yardstick of the AVX2 kernels, and what CPUs without AVX2 run.

/// How many independent totals chapter 1's loop keeps: two SSE2 registers, which rustc
/// unrolls into four.
///
/// Measured, 16 totals were slower at every length from 8 to 1,000 (their final sum costs more
/// than the extra chains gain), and so was adding the totals up pairwise, as a tree: rustc then
/// vectorised the main loop over half-width registers.
pub const LANES: usize = 8;

// ANCHOR: portable_l2
/// Squared euclidean distance `Σ (aᵢ - bᵢ)²`, over the values both slices hold: chapter 1's
/// eight-total loop, which already is the portable kernel.
#[inline]
pub fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    crate::distances::squared_euclidean_distance(a, b)
}
// ANCHOR_END: portable_l2

/// The dot product `Σ aᵢ bᵢ`, over the values both slices hold.
#[inline]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    crate::distances::dot(a, b)
}

/// `scores[i] = squared_l2(query, row i of block)`; see [`super::squared_l2_many`].
pub fn squared_l2_many(query: &[f32], block: &[f32], scores: &mut [f32]) {
    for (row, score) in super::rows_and_scores(block, query.len(), scores) {
        *score = squared_l2(query, row);
    }
}

/// `scores[i] = dot(query, row i of block)`; see [`super::dot_many`].
pub fn dot_many(query: &[f32], block: &[f32], scores: &mut [f32]) {
    for (row, score) in super::rows_and_scores(block, query.len(), scores) {
        *score = dot(query, row);
    }
}

/// `out[i] = ‖row i of block‖`; see [`super::norms`].
pub fn norms(block: &[f32], dimension: usize, out: &mut [f32]) {
    for (row, norm) in super::rows_and_scores(block, dimension, out) {
        *norm = dot(row, row).sqrt();
    }
}

// ANCHOR: pq_scan
/// `out[i]` = the sum of code `i`'s entries in `rows`, a code being `rows.len()` bytes of
/// `codes`; the scores with no whole code are left as they were.
///
/// Four codes per iteration: one code's sum is a chain of dependent additions, four codes'
/// sums are four independent chains in one loop (rustc even adds them as one SSE register), so
/// the overlap does not depend on how far ahead the CPU looks for work. Either way each entry
/// costs two loads, the byte then the entry, which set the pace. A row has 256 entries, so
/// `row[byte]` is in bounds for any `u8` and the compiler checks nothing.
pub(super) fn pq_scan(rows: &[[f32; 256]], codes: &[u8], out: &mut [f32]) {
    let m = rows.len();
    if m == 0 {
        return; // no code has a byte to look up (and chunks of 0 bytes do not exist)
    }
    let n_codes = (codes.len() / m).min(out.len());
    let (codes, out) = (&codes[..n_codes * m], &mut out[..n_codes]);
    let mut out_quads = out.chunks_exact_mut(4);
    let mut code_quads = codes.chunks_exact(4 * m);
    for (sums, quad) in (&mut out_quads).zip(&mut code_quads) {
        let (c0, rest) = quad.split_at(m);
        let (c1, rest) = rest.split_at(m);
        let (c2, c3) = rest.split_at(m);
        let mut s = [0.0f32; 4];
        for ((((row, &b0), &b1), &b2), &b3) in rows.iter().zip(c0).zip(c1).zip(c2).zip(c3) {
            s[0] += row[usize::from(b0)];
            s[1] += row[usize::from(b1)];
            s[2] += row[usize::from(b2)];
            s[3] += row[usize::from(b3)];
        }
        sums.copy_from_slice(&s);
    }
    let last_codes = code_quads.remainder().chunks_exact(m);
    for (sum, code) in out_quads.into_remainder().iter_mut().zip(last_codes) {
        *sum = rows
            .iter()
            .zip(code)
            .map(|(row, &b)| row[usize::from(b)])
            .sum();
    }
}
// ANCHOR_END: pq_scan

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    #[test]
    fn portable_squared_l2_matches_the_definition() {
        check_squared_l2(squared_l2);
    }

    #[test]
    fn portable_dot_matches_the_definition() {
        check_dot(dot);
    }

    #[test]
    fn portable_block_kernels_match_the_definitions() {
        check_squared_l2_many(squared_l2_many);
        check_dot_many(dot_many);
        check_norms(norms);
    }

    #[test]
    fn portable_pq_scan_of_no_sub_quantizer_writes_nothing() {
        let mut out = [f32::NAN; 2];
        pq_scan(&[], &[1, 2, 3], &mut out);
        assert!(out.iter().all(|x| x.is_nan()));
    }
}
