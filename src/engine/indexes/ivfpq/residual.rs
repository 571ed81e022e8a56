//! Residuals: each vector minus the centroid of its cell, and their product-quantization codes.
//!
//! The cell says where a vector roughly is; the residual `r = x − c` is the rest. Residuals of
//! every cell are centred on zero and spread only as wide as a cell, so one product quantizer,
//! trained on the residuals of all cells together, describes them far more finely than it
//! could describe the vectors themselves (see the [module above](super)). Training and
//! encoding are chapter 7's, on residuals instead of vectors: the same [`VectorQuantizer`].

use super::cells::CoarseCells;
use crate::error::Result;
use crate::quantization::VectorQuantizer;

/// Residuals encoded per call of the quantizer: bounds the copy an insert of many vectors works
/// on.
const ENCODE_BATCH: usize = 16 * 1024;

// ANCHOR: residuals
/// The residual of each of `vectors` to the centroid of its cell (`cells_of[i]` for vector
/// `i`), end to end: `vectors.len() × d` values.
pub fn residuals(cells: &CoarseCells, vectors: &[&[f32]], cells_of: &[usize]) -> Vec<f32> {
    // ANCHOR: starter_ch15_task1_residuals
    let mut residuals = Vec::with_capacity(vectors.iter().map(|v| v.len()).sum());
    for (vector, &cell) in vectors.iter().zip(cells_of) {
        let centroid = cells.centroid(cell);
        residuals.extend(vector.iter().zip(centroid).map(|(x, c)| x - c));
    }
    residuals
    // ANCHOR_END: starter_ch15_task1_residuals
}
// ANCHOR_END: residuals

// ANCHOR: encode_residuals
/// The codes of `vectors` filed in `cells_of`: each residual replaced by its `m` bytes, the
/// nearest sub-space centroid of each piece, end to end. The residuals are made and encoded a
/// batch at a time, so an insert of many vectors never holds all their residuals at once.
///
/// # Errors
///
/// [`crate::Error::NotTrained`] before the quantizer is trained; a residual it refuses
/// (a dimension it cannot cut, a value that is not finite).
pub fn encode(
    quantizer: &VectorQuantizer,
    cells: &CoarseCells,
    vectors: &[&[f32]],
    cells_of: &[usize],
) -> Result<Vec<u8>> {
    let mut codes = Vec::with_capacity(vectors.len() * quantizer.m_chunks());
    for (batch, batch_cells) in vectors
        .chunks(ENCODE_BATCH)
        .zip(cells_of.chunks(ENCODE_BATCH))
    {
        let dimension = batch.first().map_or(0, |v| v.len());
        let flat = residuals(cells, batch, batch_cells);
        codes.extend(encode_rows(quantizer, &flat, dimension)?);
    }
    Ok(codes)
}

/// The codes of residuals given end to end, `dimension` values each.
///
/// # Errors
///
/// As [`encode`].
pub fn encode_rows(
    quantizer: &VectorQuantizer,
    residuals: &[f32],
    dimension: usize,
) -> Result<Vec<u8>> {
    let rows: Vec<&[f32]> = residuals.chunks_exact(dimension.max(1)).collect();
    quantizer.quantize_in_blocks(&rows)
}
// ANCHOR_END: encode_residuals

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_residual_is_the_vector_minus_its_cells_centroid() {
        let cells = CoarseCells::from_centroids(2, vec![vec![0.0, 0.0], vec![10.0, 10.0]]);
        let vectors: [&[f32]; 2] = [&[9.0, 11.5], &[1.0, -2.0]];
        assert_eq!(residuals(&cells, &vectors, &[1, 0]), [-1.0, 1.5, 1.0, -2.0]);
    }

    #[test]
    fn codes_rebuild_the_residual_not_the_vector() {
        // Two cells far apart, and inside each a spread of 4 points: a quantizer of 4
        // centroids per sub-space learns the 4 offsets, whichever cell they are in.
        let cells = CoarseCells::from_centroids(2, vec![vec![0.0, 0.0], vec![100.0, 100.0]]);
        let offsets = [[1.0, 1.0], [-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]];
        let mut vectors = Vec::new();
        for centre in [0.0, 100.0] {
            for _ in 0..8 {
                for [dx, dy] in offsets {
                    vectors.push(vec![centre + dx, centre + dy]);
                }
            }
        }
        let slices: Vec<&[f32]> = vectors.iter().map(Vec::as_slice).collect();
        let cells_of = cells.assign(&slices);
        let flat = residuals(&cells, &slices, &cells_of);
        let mut quantizer = VectorQuantizer::new(1, 4).expect("valid");
        let rows: Vec<&[f32]> = flat.chunks_exact(2).collect();
        quantizer.fit(&rows).expect("64 residuals for 4 centroids");
        let codes = encode(&quantizer, &cells, &slices, &cells_of).expect("trained");
        for (i, code) in codes.chunks_exact(1).enumerate() {
            let rebuilt = quantizer.rebuild_vector(code).expect("a valid code");
            let centroid = cells.centroid(cells_of[i]);
            let x: Vec<f32> = rebuilt.iter().zip(centroid).map(|(r, c)| r + c).collect();
            assert!(
                x.iter().zip(&vectors[i]).all(|(a, b)| (a - b).abs() < 1e-4),
                "vector {i}: {x:?} vs {:?}",
                vectors[i]
            );
        }
    }
}
