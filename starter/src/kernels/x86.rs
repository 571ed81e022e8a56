//! The kernels again, for x86-64 CPUs with AVX2 and FMA, written with `std::arch` intrinsics.
//!
//! An AVX2 register holds 8 floats, and FMA's `_mm256_fmadd_ps(a, b, c)` computes `a × b + c`
//! on all 8 in one instruction, rounded once. A fused multiply-add takes about 4 cycles and a
//! CPU can start two per cycle, so one accumulator would leave the unit idle most of the time:
//! each loop keeps 4 accumulator registers, 32 floats in flight per iteration.
//!
//! Every function here is compiled with `#[target_feature(enable = "avx2,fma")]`. Running one
//! on a CPU without those instructions is undefined behaviour, so calling one from ordinary
//! code is `unsafe`, and [`super`] does so only after checking the CPU.

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_castps256_ps128, _mm256_extractf128_ps, _mm256_fmadd_ps,
    _mm256_loadu_ps, _mm256_setzero_ps, _mm256_sub_ps, _mm_add_ps, _mm_add_ss, _mm_cvtss_f32,
    _mm_movehl_ps, _mm_prefetch, _mm_shuffle_ps, _MM_HINT_T0,
};

/// Eight floats, loaded into a register.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn load(values: &[f32; 8]) -> __m256 {
    // SAFETY: `values` refers to exactly 8 initialised floats, all the unaligned load reads.
    unsafe { _mm256_loadu_ps(values.as_ptr()) }
}

/// The sum of a register's 8 floats: halves added together until one float is left.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn horizontal_sum(v: __m256) -> f32 {
    let quad = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
    let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
    _mm_cvtss_f32(_mm_add_ss(pair, _mm_shuffle_ps::<0b01>(pair, pair)))
}

/// The sum of the four accumulators' 32 floats.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn total(acc: [__m256; 4]) -> f32 {
    horizontal_sum(_mm256_add_ps(
        _mm256_add_ps(acc[0], acc[1]),
        _mm256_add_ps(acc[2], acc[3]),
    ))
}

// ANCHOR: avx2_dot
/// `Σ term(aᵢ, bᵢ)` over the values both slices hold, 32 at a time: `step(x, y, total)` adds the
/// terms of eight pairs to one of four running totals, so that four fused multiply-adds are in
/// flight at once.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn sum_over_pairs(
    a: &[f32],
    b: &[f32],
    step: impl Fn(__m256, __m256, __m256) -> __m256,
    term: impl Fn(f32, f32) -> f32,
) -> f32 {
    let len = a.len().min(b.len());
    let (a8, a_tail) = a[..len].as_chunks::<8>();
    let (b8, b_tail) = b[..len].as_chunks::<8>();
    // Groups of 4 registers' worth (32 floats), one per accumulator.
    let (a32, a8_rest) = a8.as_chunks::<4>();
    let (b32, b8_rest) = b8.as_chunks::<4>();
    let mut acc = [_mm256_setzero_ps(); 4];
    for (xs, ys) in a32.iter().zip(b32) {
        for ((acc, x), y) in acc.iter_mut().zip(xs).zip(ys) {
            *acc = step(load(x), load(y), *acc);
        }
    }
    for (x, y) in a8_rest.iter().zip(b8_rest) {
        acc[0] = step(load(x), load(y), acc[0]);
    }
    let tail: f32 = a_tail.iter().zip(b_tail).map(|(&x, &y)| term(x, y)).sum();
    total(acc) + tail
}

/// The dot product `Σ aᵢ bᵢ`, over the values both slices hold.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn dot(a: &[f32], b: &[f32]) -> f32 {
    sum_over_pairs(
        a,
        b,
        |x, y, total| _mm256_fmadd_ps(x, y, total),
        |x, y| x * y,
    )
}
// ANCHOR_END: avx2_dot

/// Squared euclidean distance `Σ (aᵢ - bᵢ)²`, over the values both slices hold.
#[inline]
#[target_feature(enable = "avx2,fma")]
pub(super) fn squared_l2(a: &[f32], b: &[f32]) -> f32 {
    sum_over_pairs(
        a,
        b,
        |x, y, total| {
            let difference = _mm256_sub_ps(x, y);
            _mm256_fmadd_ps(difference, difference, total)
        },
        |x, y| (x - y) * (x - y),
    )
}

/// How far ahead of the row being scored a block scan asks for memory, in bytes.
const PREFETCH_AHEAD: usize = 4096;

/// Asks the CPU to start loading the cache lines `PREFETCH_AHEAD` bytes past `row`, if they
/// are still inside `block`: a scan of a block much larger than the caches otherwise waits on
/// memory at every row, since the hardware prefetcher stops at each 4 KiB page.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn prefetch_ahead(block: &[f32], row_start: usize, row_len: usize) {
    let ahead = row_start + PREFETCH_AHEAD / 4;
    if let Some(upcoming) = block.get(ahead..(ahead + row_len).min(block.len())) {
        for line in upcoming.chunks(16) {
            // A prefetch is a hint that never faults, safe inside a target-feature function.
            _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast::<i8>());
        }
    }
}

// ANCHOR: four_rows
/// The squared distances from `query` to four rows at once: each chunk of the query is loaded
/// once for the four, the four sums are independent chains, and the cost of finishing a row
/// (the horizontal sum, the loop's start and end) is paid once per four rows.
#[inline]
#[target_feature(enable = "avx2,fma")]
fn squared_l2_four(query: &[f32], rows: &[f32], scores: &mut [f32; 4]) {
    let d = query.len();
    let (q8, q_tail) = query.as_chunks::<8>();
    let row = |r: usize| &rows[r * d..(r + 1) * d];
    let (r0, r1, r2, r3) = (
        row(0).as_chunks::<8>(),
        row(1).as_chunks::<8>(),
        row(2).as_chunks::<8>(),
        row(3).as_chunks::<8>(),
    );
    let mut acc = [_mm256_setzero_ps(); 4];
    for (c, q) in q8.iter().enumerate() {
        let q = load(q);
        for (acc, r) in acc.iter_mut().zip([&r0.0[c], &r1.0[c], &r2.0[c], &r3.0[c]]) {
            let difference = _mm256_sub_ps(load(r), q);
            *acc = _mm256_fmadd_ps(difference, difference, *acc);
        }
    }
    for (score, (acc, tail)) in scores
        .iter_mut()
        .zip(acc.into_iter().zip([r0.1, r1.1, r2.1, r3.1]))
    {
        let rest: f32 = q_tail
            .iter()
            .zip(tail)
            .map(|(x, y)| (x - y) * (x - y))
            .sum();
        *score = horizontal_sum(acc) + rest;
    }
}
// ANCHOR_END: four_rows

/// `scores[i] = squared_l2(query, row i of block)`; see [`super::squared_l2_many`].
#[target_feature(enable = "avx2,fma")]
pub(super) fn squared_l2_many(query: &[f32], block: &[f32], scores: &mut [f32]) {
    let d = query.len();
    if d == 0 {
        return squared_l2_each(query, block, scores);
    }
    let n_rows = super::whole_rows(block, d, scores.len());
    let (fours, rest) = scores[..n_rows].as_chunks_mut::<4>();
    for (i, four) in fours.iter_mut().enumerate() {
        let start = i * 4 * d;
        prefetch_ahead(block, start, 4 * d);
        squared_l2_four(query, &block[start..start + 4 * d], four);
    }
    let done = fours.len() * 4 * d;
    squared_l2_each(query, &block[done..], rest);
}

/// The rows one at a time (the few that do not make a group of four).
#[target_feature(enable = "avx2,fma")]
fn squared_l2_each(query: &[f32], block: &[f32], scores: &mut [f32]) {
    for (row, score) in super::rows_and_scores(block, query.len(), scores) {
        *score = squared_l2(query, row);
    }
}

/// `scores[i] = dot(query, row i of block)`; see [`super::dot_many`].
#[target_feature(enable = "avx2,fma")]
pub(super) fn dot_many(query: &[f32], block: &[f32], scores: &mut [f32]) {
    let d = query.len();
    for (i, (row, score)) in super::rows_and_scores(block, d, scores).enumerate() {
        prefetch_ahead(block, i * d, d);
        *score = dot(query, row);
    }
}

/// `out[i] = ‖row i of block‖`; see [`super::norms`].
#[target_feature(enable = "avx2,fma")]
pub(super) fn norms(block: &[f32], dimension: usize, out: &mut [f32]) {
    for (row, norm) in super::rows_and_scores(block, dimension, out) {
        *norm = dot(row, row).sqrt();
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;

    /// `true` when this CPU can run the kernels under test; a test on a CPU without them has
    /// nothing to check and says so.
    fn cpu_has_avx2_fma() -> bool {
        let has = super::super::has_avx2_fma();
        if !has {
            eprintln!("this CPU has no AVX2 + FMA: the AVX2 kernels are not tested here");
        }
        has
    }

    #[test]
    fn avx2_squared_l2_matches_the_definition() {
        if cpu_has_avx2_fma() {
            // SAFETY: the CPU runs AVX2 and FMA, checked just above.
            check_squared_l2(|a, b| unsafe { squared_l2(a, b) });
        }
    }

    #[test]
    fn avx2_dot_matches_the_definition() {
        if cpu_has_avx2_fma() {
            // SAFETY: the CPU runs AVX2 and FMA, checked just above.
            check_dot(|a, b| unsafe { dot(a, b) });
        }
    }

    #[test]
    fn avx2_block_kernels_match_the_definitions() {
        if cpu_has_avx2_fma() {
            // SAFETY (all three): the CPU runs AVX2 and FMA, checked just above.
            check_squared_l2_many(|query, block, scores| unsafe {
                squared_l2_many(query, block, scores)
            });
            check_dot_many(|query, block, scores| unsafe { dot_many(query, block, scores) });
            check_norms(|block, dimension, out| unsafe { norms(block, dimension, out) });
        }
    }
}
