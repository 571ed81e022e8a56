//! The distance kernels against the plain definitions, and against the memory bus.
//!
//! On one thread: `squared_l2_many` over 100,000 vectors of 128 values and `dot_many` over
//! 100,000 of 384, each by the portable kernels, by the dispatched ones (AVX2 + FMA when the CPU
//! has them) and by `crate::distances` called once per vector; the same on a block small enough
//! to stay in the L2 cache (about 1 MB), where arithmetic rather than memory sets the pace;
//! then `PqTable::scan` over 30,000 codes of 16 and 32 bytes, against
//! `DistanceTable::distance_to_code` one code at a time. Each figure is the best of several
//! runs, in GB/s of vectors (or codes) read and ns per vector. Last, the physical limit every
//! scan is compared with: the read bandwidth of memory, as the time to sum a 512 MiB array
//! (best of 5). The machine is shared and noisy: compare the figures within one run.
//! Run with `cargo bench --bench kernels`.

use std::hint::black_box;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use simple_vector_db::distances::{dot, squared_euclidean_distance};
use simple_vector_db::kernels::{self, portable, PqTable};
use simple_vector_db::quantization::asymmetric_distance::{DistanceTable, SubspaceDistance};
use simple_vector_db::utils::timing::measure;
use simple_vector_db::Result;

const N_VECTORS: usize = 100_000;
const L2_DIMENSION: usize = 128;
const DOT_DIMENSION: usize = 384;
/// About 1 MB of vectors: blocks that stay in the L2 cache from one run to the next.
const IN_CACHE_BYTES: usize = 1 << 20;
const N_CODES: usize = 30_000;
const PQ_CENTROIDS: usize = 256;
/// Runs per kernel; the best one counts, the others absorb the machine's noise.
const RUNS: usize = 20;
/// Runs per kernel on the in-cache blocks, which take some 100 times less per run.
const IN_CACHE_RUNS: usize = 500;
/// Larger than any cache, so the sum reads from memory.
const BANDWIDTH_BYTES: usize = 512 << 20;
const BANDWIDTH_RUNS: usize = 5;

fn main() {
    if let Err(error) = run() {
        eprintln!("kernels failed: {error}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    println!(
        "instruction set: {}, one thread, best of {RUNS} runs ({IN_CACHE_RUNS} in cache)\n",
        kernels::instruction_set()
    );
    println!(
        "{:<30} {:<38} {:>7} {:>9}",
        "kernel, data", "how", "GB/s", "ns/item"
    );
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let squared_l2 = BlockKernels {
        name: "squared_l2_many",
        portable: portable::squared_l2_many,
        dispatched: kernels::squared_l2_many,
        definition: squared_euclidean_distance,
    };
    let dot = BlockKernels {
        name: "dot_many",
        portable: portable::dot_many,
        dispatched: kernels::dot_many,
        definition: dot,
    };
    for (kernel, dimension) in [(&squared_l2, L2_DIMENSION), (&dot, DOT_DIMENSION)] {
        let in_cache = IN_CACHE_BYTES / (dimension * size_of::<f32>());
        kernel.compare(&mut rng, N_VECTORS, dimension, RUNS);
        kernel.compare(&mut rng, in_cache, dimension, IN_CACHE_RUNS);
    }
    for m in [16, 32] {
        pq_scans(&mut rng, m)?;
    }
    let bandwidth = memory_bandwidth();
    println!(
        "\nmemory bandwidth (sum of a {} MiB f32 array, best of {BANDWIDTH_RUNS}): {bandwidth:.1} GB/s",
        BANDWIDTH_BYTES >> 20
    );
    Ok(())
}

type BlockKernel = fn(&[f32], &[f32], &mut [f32]);

/// The three ways to score a block that are compared.
struct BlockKernels {
    name: &'static str,
    portable: BlockKernel,
    dispatched: BlockKernel,
    /// The plain definition of `crate::distances`, called once per vector.
    definition: fn(&[f32], &[f32]) -> f32,
}

impl BlockKernels {
    /// Scores `n_vectors` random vectors of `dimension` values each way, and prints the figures.
    fn compare(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        n_vectors: usize,
        dimension: usize,
        runs: usize,
    ) {
        let query = random_values(rng, dimension);
        let block = random_values(rng, n_vectors * dimension);
        let mut scores = vec![0.0; n_vectors];
        let data = format!("{}, {n_vectors} x {dimension}", self.name);
        let row = |how: &str, time| print_row(&data, how, size_of_val(&block[..]), n_vectors, time);

        let time = best_of(runs, || {
            (self.portable)(&query, &block, black_box(&mut scores))
        });
        row("portable", time);
        let time = best_of(runs, || {
            (self.dispatched)(&query, &block, black_box(&mut scores))
        });
        row(
            &format!("dispatched ({})", kernels::instruction_set()),
            time,
        );
        let time = best_of(runs, || {
            for (row, score) in block.chunks_exact(dimension).zip(black_box(&mut scores)) {
                *score = (self.definition)(&query, row);
            }
        });
        row("crate::distances, one call per vector", time);
    }
}

/// `PqTable::scan` over `N_CODES` codes of `m` bytes, then the same codes one at a time
/// through the quantization module's `DistanceTable`.
fn pq_scans(rng: &mut Xoshiro256PlusPlus, m: usize) -> Result<()> {
    let rows: Vec<Vec<f32>> = (0..m).map(|_| random_values(rng, PQ_CENTROIDS)).collect();
    let flat: Vec<f32> = rows.iter().flatten().copied().collect();
    let codes: Vec<u8> = (0..N_CODES * m).map(|_| rng.gen()).collect();
    let mut out = vec![0.0; N_CODES];
    let data = format!("pq m = {m}, {N_CODES} codes");

    let table = PqTable::new(&flat, m, PQ_CENTROIDS)?;
    let time = best_of(RUNS, || table.scan(&codes, black_box(&mut out)));
    print_row(&data, "PqTable::scan", codes.len(), N_CODES, time);

    let per_code = DistanceTable::from_rows(&rows, SubspaceDistance::Squared)?;
    let mut failed = None;
    let time = best_of(RUNS, || {
        for (code, score) in codes.chunks_exact(m).zip(black_box(&mut out)) {
            match per_code.distance_to_code(code) {
                Ok(distance) => *score = distance,
                Err(error) => failed = Some(error),
            }
        }
    });
    if let Some(error) = failed {
        return Err(error);
    }
    let how = "DistanceTable::distance_to_code";
    print_row(&data, how, codes.len(), N_CODES, time);
    Ok(())
}

/// The read bandwidth of memory in GB/s: the best time to sum `BANDWIDTH_BYTES` of floats.
fn memory_bandwidth() -> f64 {
    // Ones, not zeros: a zeroed allocation may be pages the system has not mapped yet, which
    // all read as one shared page of zeros from the cache.
    let values = vec![1.0f32; BANDWIDTH_BYTES / size_of::<f32>()];
    let time = best_of(BANDWIDTH_RUNS, || {
        black_box(sum(black_box(&values)));
    });
    BANDWIDTH_BYTES as f64 / time.as_secs_f64() / 1e9
}

/// The sum of `values` in 8 independent totals, so that additions keep up with memory.
fn sum(values: &[f32]) -> f32 {
    let (chunks, tail) = values.as_chunks::<8>();
    let mut totals = [0.0f32; 8];
    for chunk in chunks {
        for (total, &x) in totals.iter_mut().zip(chunk) {
            *total += x;
        }
    }
    totals.iter().sum::<f32>() + tail.iter().sum::<f32>()
}

/// The shortest of `runs` runs of `work` (which hands its output to `black_box`, so that the
/// optimiser cannot drop work whose result nobody reads).
fn best_of(runs: usize, mut work: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| measure(&mut work).1)
        .min()
        .unwrap_or_default()
}

/// One line of the table: `bytes` read for `n_items` vectors or codes in `time`.
fn print_row(data: &str, how: &str, bytes: usize, n_items: usize, time: Duration) {
    let seconds = time.as_secs_f64();
    println!(
        "{data:<30} {how:<38} {:>7.2} {:>9.2}",
        bytes as f64 / seconds / 1e9,
        seconds * 1e9 / n_items as f64
    );
}

fn random_values(rng: &mut Xoshiro256PlusPlus, len: usize) -> Vec<f32> {
    (0..len).map(|_| rng.gen_range(-1.0..1.0)).collect()
}
