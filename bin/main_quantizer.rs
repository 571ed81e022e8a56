//! Chapter 7: product quantization of the handwritten digits.
//!
//! Trains a quantizer (16 chunks, 32 centroids per chunk) on the 1,797 digits, shows the code of
//! one image and the image rebuilt from it, measures what the compression loses, and finds the
//! 20 nearest neighbours of that image by asymmetric distance, with their labels.
//!
//! Run with `cargo run --release --bin main_quantizer`.

use std::process::ExitCode;

use simple_vector_db::datasets::digits;
use simple_vector_db::distances::squared_euclidean_distance;
use simple_vector_db::quantization::VectorQuantizer;
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Result};

const M_CHUNKS: usize = 16;
const NB_SUBSPACE_CENTROIDS: usize = 32;
const QUERY_ID: usize = 11;
const K_NEIGHBOURS: usize = 20;

fn main() -> ExitCode {
    flex_logging::init();
    flex_logging::exit_code(run())
}

// ANCHOR: main
fn run() -> Result<()> {
    let digits = digits::load()?;
    let vectors = &digits.vectors;

    // Train once, then encode: the codebook stays fixed for every code made from it.
    let mut quantizer = VectorQuantizer::new(M_CHUNKS, NB_SUBSPACE_CENTROIDS)?;
    timeit("training the codebook", || quantizer.fit(vectors))?;
    let codes = timeit("quantizing the vectors", || {
        quantizer.quantize_vectors(vectors)
    })?;

    let query = vector_at(vectors, QUERY_ID)?;
    let query_code = &codes[QUERY_ID];
    log::info!("quantized vector {QUERY_ID} (centroid ids): {query_code:?}");
    let rebuilt = quantizer.rebuild_vector(query_code)?;
    log::info!("original vector: {}", format_values(query));
    log::info!("rebuilt vector:  {}", format_values(&rebuilt));

    log::info!(
        "compression MSE over the {} vectors: {:.4} (per value; pixels range from 0 to 16)",
        vectors.len(),
        compression_mse(&quantizer, vectors, &codes)?
    );
    let raw_bytes = quantizer.dimension().unwrap_or(0) * std::mem::size_of::<f32>();
    log::info!(
        "compression ratio: {raw_bytes} bytes of f32 -> {} bytes of code = {}x smaller",
        quantizer.bytes_per_vector(),
        raw_bytes / quantizer.bytes_per_vector()
    );

    let neighbours = quantizer.find_knn_with_quantization(query, &codes, K_NEIGHBOURS)?;
    let query_label = label_at(&digits.labels, QUERY_ID)?;
    let labels = neighbours
        .iter()
        .map(|&(id, _)| label_at(&digits.labels, id))
        .collect::<Result<Vec<u8>>>()?;
    log::info!("label of query vector {QUERY_ID}: {query_label}");
    log::info!("labels of its {K_NEIGHBOURS} nearest neighbours by ADC: {labels:?}");
    for &(id, squared_distance) in &neighbours {
        log::info!(
            "  vector {id:>4}  label {}  estimated distance {:.3}",
            label_at(&digits.labels, id)?,
            squared_distance.sqrt()
        );
    }
    let same = labels.iter().filter(|&&l| l == query_label).count();
    log::info!("{same} of the {K_NEIGHBOURS} neighbours share the query's label");
    Ok(())
}
// ANCHOR_END: main

// ANCHOR: mse
/// Mean squared error per value between every vector and the vector rebuilt from its code.
fn compression_mse(
    quantizer: &VectorQuantizer,
    vectors: &[Vec<f32>],
    codes: &[Vec<u8>],
) -> Result<f64> {
    let mut total = 0.0f64;
    let mut values = 0usize;
    for (vector, code) in vectors.iter().zip(codes) {
        let rebuilt = quantizer.rebuild_vector(code)?;
        total += f64::from(squared_euclidean_distance(vector, &rebuilt));
        values += vector.len();
    }
    Ok(total / values.max(1) as f64)
}
// ANCHOR_END: mse

fn vector_at(vectors: &[Vec<f32>], id: usize) -> Result<&[f32]> {
    vectors
        .get(id)
        .map(Vec::as_slice)
        .ok_or_else(|| missing(id, vectors.len()))
}

fn label_at(labels: &[u8], id: usize) -> Result<u8> {
    labels
        .get(id)
        .copied()
        .ok_or_else(|| missing(id, labels.len()))
}

fn missing(id: usize, len: usize) -> Error {
    Error::InvalidParameter {
        name: "id",
        reason: format!("no vector {id}: the set has {len}"),
    }
}

/// Values with one decimal, compact enough to read 64 of them on one line.
fn format_values(values: &[f32]) -> String {
    let parts: Vec<String> = values.iter().map(|v| format!("{v:.1}")).collect();
    format!("[{}]", parts.join(", "))
}
