//! Scoring a list of codes through its cell's table, and keeping the best.
//!
//! A list is scored in blocks: one call of the table-lookup kernel ([`PqTable::scan`]) fills
//! the estimated squared distances of up to [`CODE_BLOCK`] codes, then only those that beat the
//! worst of the current best go into the heap. The scores buffer belongs to the caller and is
//! reused from list to list, so scanning a list allocates nothing.

use crate::engine::IdSet;
use crate::kernels::PqTable;
use crate::top_k::TopK;

/// Codes scored per kernel call: their scores stay in the L1 cache.
pub const CODE_BLOCK: usize = 256;

// ANCHOR: scan_list
/// Scores the codes of a list (`ids.len()` codes of `m` bytes, end to end) through `table`
/// and offers each to `best`; `scores` is scratch space.
pub fn scan_list(
    table: &PqTable,
    ids: &[i64],
    codes: &[u8],
    scores: &mut Vec<f32>,
    best: &mut TopK<i64>,
) {
    let m = table.m().max(1);
    scores.resize(CODE_BLOCK, 0.0);
    for (ids, codes) in ids.chunks(CODE_BLOCK).zip(codes.chunks(CODE_BLOCK * m)) {
        let n = ids.len().min(codes.len() / m);
        let scores = &mut scores[..n];
        table.scan(&codes[..n * m], scores);
        for (&id, &score) in ids.iter().zip(scores.iter()) {
            if best.admits(score) {
                best.push(id, score);
            }
        }
    }
}
// ANCHOR_END: scan_list

// ANCHOR: scan_list_allowed
/// As [`scan_list`], offering only the codes whose ids are in `allowed`; returns how many
/// were allowed.
pub fn scan_list_allowed(
    table: &PqTable,
    ids: &[i64],
    codes: &[u8],
    allowed: &IdSet,
    best: &mut TopK<i64>,
) -> usize {
    let m = table.m().max(1);
    let mut found = 0;
    let mut score = [0.0];
    for (&id, code) in ids.iter().zip(codes.chunks_exact(m)) {
        if allowed.contains(id) {
            table.scan(code, &mut score);
            best.push(id, score[0]);
            found += 1;
        }
    }
    found
}
// ANCHOR_END: scan_list_allowed

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;

    #[test]
    fn the_best_codes_of_a_long_list_are_kept_and_disallowed_ones_skipped() {
        // Two sub-spaces of 4 centroids; code (a, b) scores a + 10 b.
        let rows: Vec<f32> = [0.0, 1.0, 2.0, 3.0, 0.0, 10.0, 20.0, 30.0].to_vec();
        let table = PqTable::new(&rows, 2, 4).expect("a 2 x 4 table");
        let n = 3 * CODE_BLOCK + 5; // several blocks and a tail
        let ids: Vec<i64> = (0..n as i64).collect();
        let codes: Vec<u8> = (0..n)
            .flat_map(|i| [(i % 4) as u8, ((i / 4) % 4) as u8])
            .collect();
        let mut best = TopK::new(3, Metric::Euclidean);
        scan_list(&table, &ids, &codes, &mut Vec::new(), &mut best);
        let found: Vec<(i64, f32)> = best.into_sorted_vec();
        assert_eq!(found, [(0, 0.0), (16, 0.0), (32, 0.0)]);
        let allowed: IdSet = [1, 5, 16 + 1, 700].into_iter().collect();
        let mut best = TopK::new(10, Metric::Euclidean);
        assert_eq!(
            scan_list_allowed(&table, &ids, &codes, &allowed, &mut best),
            4
        );
        let found: Vec<i64> = best
            .into_sorted_vec()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        assert_eq!(found, [1, 17, 5, 700]);
    }
}
