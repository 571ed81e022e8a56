//! Chapter 7: product quantization of the handwritten digits.
//!
//! Trains a quantizer (16 chunks, 32 centroids per chunk) on the 1,797 digits, shows the code of
//! one image and the image rebuilt from it, measures what the compression loses, and finds the
//! 20 nearest neighbours of that image by asymmetric distance, with their labels.
//!
//! Run with `cargo run --release --bin main_quantizer` (`-- --help` for the options). The
//! results go to standard output (`--json` for one JSON document), the logs to standard error.

use std::process::ExitCode;

use clap::Parser;
use serde::Serialize;
use simple_vector_db::datasets::digits::{self, Digits};
use simple_vector_db::distances::squared_euclidean_distance;
use simple_vector_db::evaluation::cli::{check_then_run, parse_positive};
use simple_vector_db::quantization::VectorQuantizer;
use simple_vector_db::utils::flex_logging;
use simple_vector_db::utils::output::print_json;
use simple_vector_db::utils::timing::timeit;
use simple_vector_db::{Error, Result};

/// Compresses the 1,797 handwritten digits with product quantization, shows what one image
/// loses, and finds its nearest neighbours from the codes alone.
#[derive(Debug, Parser)]
#[command(name = "main_quantizer", version)]
struct Args {
    /// Chunks per vector, so bytes per code (must divide 64).
    #[arg(long, default_value_t = 16, value_parser = parse_positive)]
    m_chunks: usize,
    /// Centroids per chunk (1 to 256).
    #[arg(long, default_value_t = 32, value_parser = parse_positive)]
    centroids: usize,
    /// Which digit image to use as the query (0 to 1796).
    #[arg(long, default_value_t = 11)]
    query: usize,
    /// How many neighbours to find.
    #[arg(long, default_value_t = 20, value_parser = parse_positive)]
    k: usize,
    /// Print the results as one JSON document instead of text.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    flex_logging::init();
    // A mistake in the arguments costs `error: …` and exit code 2, before any training.
    check_then_run(check_arguments(&args), |digits| {
        run(&args, &digits)?.print(args.json)
    })
}

/// Loads the digits and checks the settings and the query against them.
fn check_arguments(args: &Args) -> Result<Digits> {
    VectorQuantizer::new(args.m_chunks, args.centroids)?; // the ranges of both settings
    if !digits::DIMENSION.is_multiple_of(args.m_chunks) {
        return Err(Error::ChunksDoNotDivide {
            dimension: digits::DIMENSION,
            m_chunks: args.m_chunks,
        });
    }
    let digits = digits::load()?;
    if args.centroids > digits.vectors.len() {
        return Err(Error::TooFewTrainingVectors {
            found: digits.vectors.len(),
            needed: args.centroids,
        });
    }
    if args.query >= digits.vectors.len() {
        return Err(Error::InvalidParameter {
            name: "--query",
            reason: format!("there are {} images, numbered from 0", digits.vectors.len()),
        });
    }
    Ok(digits)
}

// ANCHOR: main
fn run(args: &Args, digits: &Digits) -> Result<Quantized> {
    let vectors = &digits.vectors;
    // Train once, then encode: the codebook stays fixed for every code made from it.
    let mut quantizer = VectorQuantizer::new(args.m_chunks, args.centroids)?;
    timeit("training the codebook", || quantizer.fit(vectors))?;
    let codes = timeit("quantizing the vectors", || {
        quantizer.quantize_vectors(vectors)
    })?;

    let query = vector_at(vectors, args.query)?;
    let code = codes
        .get(args.query)
        .ok_or_else(|| missing(args.query, codes.len()))?;
    let neighbours = quantizer.find_knn_with_quantization(query, &codes, args.k)?;
    Ok(Quantized {
        query: args.query,
        query_label: label_at(&digits.labels, args.query)?,
        code: code.clone(),
        original: query.to_vec(),
        rebuilt: quantizer.rebuild_vector(code)?,
        mse: compression_mse(&quantizer, vectors, &codes)?,
        raw_bytes: std::mem::size_of_val(query),
        code_bytes: quantizer.bytes_per_vector(),
        neighbours: neighbours
            .iter()
            .map(|&(id, squared)| labelled(&digits.labels, id, squared.sqrt()))
            .collect::<Result<_>>()?,
    })
}
// ANCHOR_END: main

/// What the run found, printed as text or, with `--json`, as one JSON document.
#[derive(Debug, Serialize)]
struct Quantized {
    query: usize,
    query_label: u8,
    /// The query's code: one centroid id per chunk.
    code: Vec<u8>,
    original: Vec<f32>,
    rebuilt: Vec<f32>,
    /// Mean squared error per value over every vector and its rebuilt self.
    mse: f64,
    raw_bytes: usize,
    code_bytes: usize,
    neighbours: Vec<Labelled>,
}

/// A neighbour found from the codes, with the digit its image shows.
#[derive(Debug, Serialize)]
struct Labelled {
    id: usize,
    label: u8,
    /// Estimated by asymmetric distance, from the code.
    distance: f32,
}

fn labelled(labels: &[u8], id: usize, distance: f32) -> Result<Labelled> {
    Ok(Labelled {
        id,
        label: label_at(labels, id)?,
        distance,
    })
}

impl Quantized {
    /// Prints the results on standard output.
    fn print(&self, json: bool) -> Result<()> {
        if json {
            return print_json(self);
        }
        let Quantized { query, .. } = self;
        println!("quantized vector {query} (centroid ids): {:?}", self.code);
        println!("original vector: {}", format_values(&self.original));
        println!("rebuilt vector:  {}", format_values(&self.rebuilt));
        println!(
            "compression MSE: {:.4} per value (pixels range from 0 to 16)",
            self.mse
        );
        println!(
            "compression ratio: {} bytes of f32 -> {} bytes of code = {}x smaller",
            self.raw_bytes,
            self.code_bytes,
            self.raw_bytes / self.code_bytes.max(1)
        );
        let labels: Vec<u8> = self.neighbours.iter().map(|n| n.label).collect();
        println!("label of query vector {query}: {}", self.query_label);
        println!(
            "labels of its {} nearest neighbours by ADC: {labels:?}",
            labels.len()
        );
        for Labelled {
            id,
            label,
            distance,
        } in &self.neighbours
        {
            println!("  vector {id:>4}  label {label}  estimated distance {distance:.3}");
        }
        let same = labels.iter().filter(|&&l| l == self.query_label).count();
        println!(
            "{same} of the {} neighbours share the query's label",
            labels.len()
        );
        Ok(())
    }
}

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
