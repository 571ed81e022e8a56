//! The look-up table of a probed cell: the distance from the query's residual to every
//! sub-space centroid.
//!
//! In a cell of centroid `c`, a code `b` stands for the vector `c + r̂(b)`, so the query's
//! distance to it is `‖(q − c) − r̂(b)‖²`: chapter 7's asymmetric distance, with the query's
//! own residual `q − c` in place of the query. Its table has a row per sub-space `j` and an
//! entry per centroid `k` of it, `‖(q − c)ⱼ − Cⱼₖ‖²`, and a code is scored by adding the `m`
//! entries its bytes name. Each probed cell needs its own table, since `q − c` changes with
//! `c`. There are two ways to fill it:
//!
//! - **Directly**: subtract the centroid, then `256 × d` multiply-adds (every piece of `q − c`
//!   against every sub-space centroid). The plain definition, and what is done when the
//!   precomputed terms would not fit [`PRECOMPUTED_BUDGET`].
//! - **From precomputed terms** ([`CellTerms`]), FAISS's trick for the euclidean distance.
//!   Expanding the square,
//!
//!   ```text
//!   ‖q − c − r̂‖² = ‖q − c‖² + Σⱼ (‖Cⱼₖ‖² + 2⟨cⱼ, Cⱼₖ⟩) − 2 Σⱼ ⟨qⱼ, Cⱼₖ⟩
//!   ```
//!
//!   The first term is the probe's own distance to the cell; the second depends on the cell
//!   and the codebook only, so it is computed once per index for every cell (`nlist × m × 256`
//!   values); the third depends on the query only, one `m × 256` table per query. A cell's
//!   table is then one addition per entry.
//!
//! Both leave the rows padded to 256 entries with `+∞` (chapter 12's padded table), so a code
//! byte that names no centroid scores its code infinitely far. Both read the codebook
//! coordinate by coordinate, so that every step works on a whole row of 256 entries at once.

use super::cells::CoarseCells;
use crate::kernels::PqTable;
use crate::quantization::VectorQuantizer;

/// The most bytes the precomputed terms may take (FAISS allows 2 GiB): above it, each probed
/// cell's table is computed directly.
pub const PRECOMPUTED_BUDGET: usize = 256 << 20;

/// A row of the padded table.
type Row = [f32; 256];

// ANCHOR: cell_terms
/// What the tables of every cell share, computed once per index.
#[derive(Debug, Clone, PartialEq)]
pub struct CellTerms {
    /// The codebook coordinate by coordinate: row `j × (d / m) + t` holds coordinate `t` of
    /// the `k` centroids of sub-space `j` (0 past `k`). A table entry is a sum over the
    /// coordinates of a sub-space, so with this layout each coordinate adds one row of 256
    /// values to the table's row at once, which the compiler turns into SIMD additions.
    by_coordinate: Vec<Row>,
    /// Row `cell × m + j` holds `‖Cⱼₖ‖² + 2⟨cⱼ, Cⱼₖ⟩` for the `k` centroids of sub-space `j`,
    /// padded with `+∞`; `None` when it would take more than the budget, and each table is
    /// computed directly from the query's residual.
    precomputed: Option<Vec<Row>>,
}

impl CellTerms {
    /// The terms of `cells` under `quantizer`'s codebook, precomputed unless they would take
    /// more than `budget` bytes.
    ///
    /// # Errors
    ///
    /// [`crate::Error::NotTrained`] when the quantizer has no codebook.
    pub fn new(
        cells: &CoarseCells,
        quantizer: &VectorQuantizer,
        budget: usize,
    ) -> crate::Result<Self> {
        let codebook = quantizer.codebook()?;
        let (m, k) = (quantizer.m_chunks(), quantizer.nb_subspace_centroids());
        let sub = codebook.len() / (m * k).max(1);
        let mut by_coordinate = vec![[0.0; 256]; m * sub];
        for (c, centroid) in codebook.chunks_exact(sub.max(1)).enumerate() {
            let (j, centroid_number) = (c / k, c % k);
            for (t, &value) in centroid.iter().enumerate() {
                by_coordinate[j * sub + t][centroid_number] = value;
            }
        }
        let n_rows = cells.nlist().saturating_mul(m);
        let precomputed = (n_rows.saturating_mul(std::mem::size_of::<Row>()) <= budget)
            .then(|| precompute(cells, &by_coordinate, m, k));
        Ok(CellTerms {
            by_coordinate,
            precomputed,
        })
    }

    /// `true` when the cells' terms are precomputed.
    pub fn is_precomputed(&self) -> bool {
        self.precomputed.is_some()
    }
}

/// `‖Cⱼₖ‖² + 2⟨cⱼ, Cⱼₖ⟩` for every cell, sub-space and centroid, padded with `+∞`.
fn precompute(cells: &CoarseCells, by_coordinate: &[Row], m: usize, k: usize) -> Vec<Row> {
    let sub = by_coordinate.len() / m.max(1);
    let mut rows = vec![[0.0; 256]; cells.nlist() * m];
    for (cell, cell_rows) in rows.chunks_exact_mut(m.max(1)).enumerate() {
        let centroid = cells.centroid(cell);
        for (j, row) in cell_rows.iter_mut().enumerate() {
            for t in 0..sub {
                let (column, twice_c) = (&by_coordinate[j * sub + t], 2.0 * centroid[j * sub + t]);
                for (entry, &value) in row.iter_mut().zip(column) {
                    *entry += value * (value + twice_c);
                }
            }
            row[k..].fill(f32::INFINITY);
        }
    }
    rows
}
// ANCHOR_END: cell_terms

/// One query's tables: what it shares across cells, and the table of the cell being scanned,
/// refilled in place for each probed cell.
#[derive(Debug, Clone)]
pub struct QueryTables<'a> {
    query: &'a [f32],
    cells: &'a CoarseCells,
    terms: &'a CellTerms,
    m: usize,
    k: usize,
    sub: usize,
    /// `−2⟨qⱼ, Cⱼₖ⟩` per sub-space (precomputed terms only).
    query_terms: Vec<Row>,
    /// The query's residual to the current cell (direct tables only).
    residual: Vec<f32>,
    table: PqTable,
}

impl<'a> QueryTables<'a> {
    // ANCHOR: query_terms
    /// The tables of `query` (already checked) against the codebook of `terms`, of `m`
    /// sub-spaces of `k` centroids: with precomputed terms, the query's own term is computed
    /// here, once.
    pub fn new(
        query: &'a [f32],
        cells: &'a CoarseCells,
        terms: &'a CellTerms,
        (m, k): (usize, usize),
    ) -> Self {
        let sub = query.len() / m.max(1);
        let mut query_terms = Vec::new();
        if terms.is_precomputed() {
            query_terms = vec![[0.0; 256]; m];
            for (j, row) in query_terms.iter_mut().enumerate() {
                for t in 0..sub {
                    let minus_twice_q = -2.0 * query[j * sub + t];
                    let column = &terms.by_coordinate[j * sub + t];
                    for (entry, &value) in row.iter_mut().zip(column) {
                        *entry += minus_twice_q * value;
                    }
                }
            }
        }
        QueryTables {
            query,
            cells,
            terms,
            m,
            k,
            sub,
            query_terms,
            residual: Vec::with_capacity(query.len()),
            table: PqTable::infinite(m),
        }
    }
    // ANCHOR_END: query_terms

    // ANCHOR: cell_table
    /// The table of `cell`, whose centroid lies at squared distance `coarse` from the query.
    pub fn for_cell(&mut self, cell: usize, coarse: f32) -> &PqTable {
        match &self.terms.precomputed {
            Some(rows) => {
                let cell_rows = rows.get(cell * self.m..(cell + 1) * self.m).unwrap_or(&[]);
                let table_rows = self.table.rows_mut();
                for ((out, cell_row), query_row) in
                    table_rows.iter_mut().zip(cell_rows).zip(&self.query_terms)
                {
                    // Padding stays +∞: +∞ + x = +∞.
                    for ((entry, &a), &b) in out.iter_mut().zip(cell_row).zip(query_row) {
                        *entry = a + b;
                    }
                }
                // ‖q − c‖² is added once per code: fold it into the first sub-space's row.
                if let Some(first) = table_rows.first_mut() {
                    first.iter_mut().for_each(|entry| *entry += coarse);
                }
            }
            None => {
                self.residual.clear();
                let centroid = self.cells.centroid(cell);
                let residual = self.query.iter().zip(centroid).map(|(q, c)| q - c);
                self.residual.extend(residual);
                let (k, sub) = (self.k, self.sub);
                for (j, row) in self.table.rows_mut().iter_mut().enumerate() {
                    row.fill(0.0);
                    for t in 0..sub {
                        let (piece, column) = (
                            self.residual[j * sub + t],
                            &self.terms.by_coordinate[j * sub + t],
                        );
                        for (entry, &value) in row.iter_mut().zip(column) {
                            *entry += (piece - value) * (piece - value);
                        }
                    }
                    row[k..].fill(f32::INFINITY);
                }
            }
        }
        &self.table
    }
    // ANCHOR_END: cell_table
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn random(rng: &mut Xoshiro256PlusPlus, n: usize, d: usize) -> Vec<Vec<f32>> {
        (0..n)
            .map(|_| (0..d).map(|_| rng.gen_range(-1.0..1.0)).collect())
            .collect()
    }

    /// The definition: `‖q − c − r̂‖²` with `r̂` rebuilt from the code.
    fn by_definition(q: &[f32], c: &[f32], quantizer: &VectorQuantizer, code: &[u8]) -> f32 {
        let rebuilt = quantizer.rebuild_vector(code).expect("a valid code");
        q.iter()
            .zip(c)
            .zip(rebuilt)
            .map(|((q, c), r)| (q - c - r) * (q - c - r))
            .sum()
    }

    #[test]
    fn precomputed_and_direct_tables_give_the_distance_of_the_definition() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let (d, m, k) = (8, 4, 16);
        let cells = CoarseCells::from_centroids(d, random(&mut rng, 5, d));
        let mut quantizer = VectorQuantizer::new(m, k).expect("valid");
        quantizer.fit(&random(&mut rng, 200, d)).expect("trains");
        let precomputed = CellTerms::new(&cells, &quantizer, PRECOMPUTED_BUDGET).expect("trained");
        assert!(precomputed.is_precomputed());
        let direct = CellTerms::new(&cells, &quantizer, 1024).expect("trained");
        assert!(
            !direct.is_precomputed(),
            "5 × 4 rows of 1 KiB are over 1 KiB"
        );
        let query = random(&mut rng, 1, d).remove(0);
        let codes: Vec<u8> = (0..20 * m).map(|_| rng.gen_range(0..k) as u8).collect();
        for terms in [&precomputed, &direct] {
            let mut tables = QueryTables::new(&query, &cells, terms, (m, k));
            for (cell, coarse) in cells.probe(&query, 5) {
                let mut scores = vec![0.0; 20];
                tables.for_cell(cell, coarse).scan(&codes, &mut scores);
                for (code, score) in codes.chunks_exact(m).zip(&scores) {
                    let expected = by_definition(&query, cells.centroid(cell), &quantizer, code);
                    assert!(
                        (score - expected).abs() < 1e-4 * expected.max(1.0),
                        "precomputed {}, cell {cell}: {score} vs {expected}",
                        terms.is_precomputed()
                    );
                }
            }
        }
    }

    #[test]
    fn a_byte_past_the_centroids_is_infinitely_far_in_either_table() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let cells = CoarseCells::from_centroids(4, random(&mut rng, 2, 4));
        let mut quantizer = VectorQuantizer::new(2, 4).expect("valid");
        quantizer.fit(&random(&mut rng, 50, 4)).expect("trains");
        let query = [0.1, 0.2, 0.3, 0.4];
        for budget in [PRECOMPUTED_BUDGET, 0] {
            let terms = CellTerms::new(&cells, &quantizer, budget).expect("trained");
            let mut tables = QueryTables::new(&query, &cells, &terms, (2, 4));
            let mut scores = [0.0; 2];
            tables.for_cell(1, 0.5).scan(&[0, 1, 3, 200], &mut scores);
            assert!(scores[0].is_finite());
            assert_eq!(scores[1], f32::INFINITY, "budget {budget}");
        }
    }
}
