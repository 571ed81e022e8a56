//! `svdb eval`: measure one index on a data set and write `DIR/results.csv`.

use std::path::PathBuf;

use clap::Args;
use simple_vector_db::datasets::attributes_csv::load_attributes;
use simple_vector_db::engine::collection::Strategy;
use simple_vector_db::engine::indexes::Selection;
use simple_vector_db::engine::scan::ScanMode;
use simple_vector_db::engine::IndexKind;
use simple_vector_db::evaluation::cli::{parse_positive, DataArgs, LoadedVectors};
use simple_vector_db::evaluation::filtered_sweep::{run_filtered_sweep, FilteredSweep, ROUNDS};
use simple_vector_db::evaluation::index_sweep::{run_index_sweep, IndexSweep};
use simple_vector_db::evaluation::plots::filtered::plot_filtered_sweep;
use simple_vector_db::evaluation::progress::sweep_progress;
use simple_vector_db::evaluation::results_csv::write_csv;
use simple_vector_db::evaluation::table::render_table;
use simple_vector_db::filter::parse;
use simple_vector_db::filter::sql::to_sql;
use simple_vector_db::sqlite_store::Layout;
use simple_vector_db::{Error, Result};

use simple_vector_db::utils::output::print_json;

#[derive(Debug, Args)]
pub struct EvalArgs {
    #[command(flatten)]
    data: DataArgs,
    /// The index to measure: flat (brute force), ivf, pq, hnsw or ivfpq.
    #[arg(long)]
    index: IndexKind,
    /// Inverted file and IVF-PQ: how many cells.
    #[arg(long, value_parser = parse_positive)]
    nlist: Option<usize>,
    /// Inverted file and IVF-PQ: the probe counts to measure, comma-separated (default 1).
    #[arg(long, value_delimiter = ',', value_parser = parse_positive)]
    nprobe: Vec<usize>,
    /// Product quantization and IVF-PQ: sub-vectors (bytes) per vector.
    #[arg(long, value_parser = parse_positive)]
    m: Option<usize>,
    /// Product quantization and IVF-PQ: bits per sub-vector code, 1 to 8 (IVF-PQ: default 8).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=8))]
    nbits: Option<u32>,
    /// Product quantization and IVF-PQ: the re-ranking depths to measure, comma-separated (0:
    /// none); with IVF-PQ, each at every probe count.
    #[arg(long, value_delimiter = ',')]
    rerank: Vec<usize>,
    /// Graph: neighbours per node on the upper layers (M; layer 0 keeps 2·M). Default 32.
    #[arg(long, value_parser = parse_positive)]
    hnsw_m: Option<usize>,
    /// Graph: the beam width of each insertion's search. Default 40.
    #[arg(long, value_parser = parse_positive)]
    ef_construction: Option<usize>,
    /// Graph: the search beam widths to measure, comma-separated (default 16).
    #[arg(long, value_delimiter = ',', value_parser = parse_positive)]
    ef: Vec<usize>,
    /// Graph: how neighbours are chosen, the paper's heuristic or the M closest.
    #[arg(long, value_enum, default_value_t = Selection::Heuristic)]
    selection: Selection,
    /// Seed of the index's build: k-means, or the graph's levels.
    #[arg(long)]
    kmeans_seed: Option<u64>,
    /// How the collection and its index lay vectors out: chunks (many per BLOB, fast) or rows
    /// (one per row, as in chapters 4 to 8).
    #[arg(long, value_enum, default_value_t = Layout::Chunks)]
    layout: Layout,
    /// Where searches read from: streamed (SQLite at every query) or preloaded (memory).
    #[arg(long, value_enum, default_value_t = ScanMode::Streamed)]
    mode: ScanMode,
    /// The base vectors' attributes: a CSV file with a header row, one row per base vector in
    /// order (for --filter; not with --hold-out, whose base is a sample).
    #[arg(
        long,
        value_name = "A.csv",
        requires = "filters",
        conflicts_with = "hold_out"
    )]
    attributes: Option<PathBuf>,
    /// Measure filtered searches with this filter, such as "bucket < 100"; repeat it for
    /// several. Recall is against the exact top-k among the vectors that pass.
    #[arg(long = "filter", value_name = "EXPR", requires = "attributes")]
    filters: Vec<String>,
    /// The filtered-search strategies to measure, comma-separated: auto, pre, post, iterative,
    /// in-index (default auto).
    #[arg(long, value_enum, value_delimiter = ',', requires = "filters")]
    strategy: Vec<Strategy>,
    /// Print the rows as a JSON array on stdout instead of a table.
    #[arg(long)]
    json: bool,
}

/// An evaluation whose arguments and data have been checked.
pub struct PreparedEval {
    data: DataArgs,
    vectors: LoadedVectors,
    sweep: IndexSweep,
    filtered: Option<FilteredSweep>,
    json: bool,
}

impl EvalArgs {
    /// Loads the vectors and checks every setting against them.
    ///
    /// # Errors
    ///
    /// A bad file or a setting the index cannot take.
    pub fn prepare(self) -> Result<PreparedEval> {
        let sweep = IndexSweep {
            kind: self.index,
            nlist: self.nlist,
            n_probes: self.nprobe,
            m: self.m,
            nbits: self.nbits,
            rerank: self.rerank,
            hnsw_m: self.hnsw_m,
            ef_construction: self.ef_construction,
            ef: self.ef,
            selection: self.selection,
            seed: self.kmeans_seed,
            layout: self.layout,
            mode: self.mode,
        };
        let vectors = self.data.load()?;
        sweep.check(vectors.base.len(), vectors.dimension(), self.data.k)?;
        let filtered = match &self.attributes {
            None => None,
            Some(path) => Some(filtered_sweep(
                path,
                self.filters,
                self.strategy,
                vectors.base.len(),
            )?),
        };
        Ok(PreparedEval {
            data: self.data,
            vectors,
            sweep,
            filtered,
            json: self.json,
        })
    }
}

impl PreparedEval {
    /// Computes the ground truth, builds the index, measures it, writes `results.csv`.
    ///
    /// # Errors
    ///
    /// A build, search or write error.
    pub fn run(self) -> Result<()> {
        let n_queries = self.vectors.queries.len() as u64;
        let about = self.vectors.description.clone();
        let dataset = self.data.dataset(self.vectors)?;
        let runs = match self.sweep.kind {
            IndexKind::Flat => 1,
            IndexKind::Ivf => self.sweep.n_probes.len().max(1),
            IndexKind::Pq => self.sweep.rerank.len().max(1),
            IndexKind::Hnsw => self.sweep.ef.len().max(1),
            IndexKind::IvfPq => self.sweep.n_probes.len().max(1) * self.sweep.rerank.len().max(1),
        } as u64;
        let runs = match &self.filtered {
            Some(f) => runs * (f.filters.len() * f.strategies.len() * ROUNDS) as u64,
            None => runs,
        };
        let bar = sweep_progress(n_queries * runs);
        let rows = match &self.filtered {
            Some(filtered) => {
                run_filtered_sweep(&dataset, &self.sweep, filtered, &mut || bar.inc(1))?
            }
            None => run_index_sweep(&dataset, &self.sweep, &mut || bar.inc(1))?,
        };
        bar.finish_and_clear();
        let csv: PathBuf = self.data.out.join("results.csv");
        write_csv(&csv, &rows)?;
        let plot = match self.filtered {
            Some(_) => plot_filtered_sweep(&rows, &self.data.out, &about)?,
            None => None,
        };
        if self.json {
            return print_json(&rows);
        }
        say!("{}", render_table(&rows));
        say!("\nwrote {}", csv.display());
        if let Some(plot) = plot {
            say!("wrote {}", plot.display());
        }
        Ok(())
    }
}

/// The attributes of the base, and each filter parsed and checked against them.
fn filtered_sweep(
    path: &std::path::Path,
    filters: Vec<String>,
    strategies: Vec<Strategy>,
    n_base: usize,
) -> Result<FilteredSweep> {
    let attributes = load_attributes(path)?;
    if attributes.rows.len() != n_base {
        return Err(Error::BadData {
            path: path.display().to_string(),
            reason: format!(
                "{} rows of attributes for {n_base} base vectors",
                attributes.rows.len()
            ),
        });
    }
    for text in &filters {
        to_sql(&parse(text)?, &attributes.columns)?;
    }
    Ok(FilteredSweep {
        attributes,
        filters,
        strategies: if strategies.is_empty() {
            vec![Strategy::Auto]
        } else {
            strategies
        },
    })
}
