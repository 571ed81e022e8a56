//! Command-line options shared by the evaluator binaries, and the checks run on them.
//!
//! Both binaries load vectors the same way (`--data`, `--queries`, `--generate`, `--n-queries`,
//! `--metric`, `--k`) and write to `--out`. Everything a user can get wrong is checked here,
//! after the files are read but before any ground truth is computed or index built, so a typo
//! costs a clear message and a non-zero exit, not minutes of work.

use std::path::PathBuf;
use std::process::ExitCode;

use rand::seq::index::sample;
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

use crate::datasets::clustered::ClusteredSpec;
use crate::datasets::memory_budget::check_budget;
use crate::distances::Metric;
use crate::error::{Error, Result};
use crate::evaluation::data_source::DataSource;
use crate::evaluation::dataset::Dataset;
use crate::utils::flex_logging::exit_code;
use crate::utils::timing::timeit;
use crate::validation::check_batch;

// ANCHOR: data_args
/// Where the vectors come from, how many neighbours to ask for, where to write.
#[derive(Debug, Clone, clap::Args)]
pub struct DataArgs {
    /// Base vectors: a 2-D float32 or float64 .npy file, one vector per row (C or Fortran
    /// order). Without it, the 1,797 handwritten digits (64 values each) shipped with the crate.
    #[arg(long, value_name = "BASE.npy", conflicts_with = "generate")]
    pub data: Option<PathBuf>,

    /// Query vectors, a .npy file of the same dimension as the base. Without it, the base is its
    /// own query set (each query then finds itself first).
    #[arg(long, value_name = "QUERIES.npy")]
    pub queries: Option<PathBuf>,

    /// Instead of --data, generate a seeded clustered set of N vectors of DIM values around
    /// CLUSTERS centres (for example 100000,64,100).
    #[arg(long, value_name = "N,DIM,CLUSTERS", value_parser = parse_generate)]
    pub generate: Option<(usize, usize, usize)>,

    /// Spread (standard deviation) of the generated vectors around their centre, which lie in
    /// [-1, 1]^DIM. Only with --generate.
    #[arg(long, default_value_t = 0.8, requires = "generate")]
    pub noise: f32,

    /// Use a seeded random sample of this many queries instead of all of them.
    #[arg(long, value_name = "N", value_parser = parse_positive)]
    pub n_queries: Option<usize>,

    /// Move a seeded random sample of N base vectors out of the base and use them as the
    /// queries, so no query finds itself (instead of --queries or --n-queries).
    #[arg(long, value_name = "N", value_parser = parse_positive, conflicts_with_all = ["queries", "n_queries"])]
    pub hold_out: Option<usize>,

    /// Seed of --generate, --n-queries and --hold-out.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// How results are ranked: euclidean or cosine.
    // In any case (`Euclidean` too): the names were parsed that way before clap listed them.
    #[arg(long, value_enum, default_value_t = Metric::Euclidean, ignore_case = true)]
    pub metric: Metric,

    /// Neighbours per query: recall@k compares the k ids a search returns with the exact top-k.
    #[arg(long, default_value_t = 10, value_parser = parse_positive)]
    pub k: usize,

    /// Directory for the CSV file and the plots (created if missing).
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
}
// ANCHOR_END: data_args

/// Base and query vectors, loaded and checked, ground truth not yet computed.
#[derive(Debug, Clone)]
pub struct LoadedVectors {
    pub base: Vec<Vec<f32>>,
    pub queries: Vec<Vec<f32>>,
    /// Where the base came from, for logs and plot titles.
    pub description: String,
}

impl LoadedVectors {
    /// The number of values per vector.
    pub fn dimension(&self) -> usize {
        self.base.first().map_or(0, Vec::len)
    }
}

impl DataArgs {
    /// The source of the base vectors.
    pub fn base_source(&self) -> DataSource {
        match (&self.data, self.generate) {
            (Some(path), _) => DataSource::Npy(path.clone()),
            (None, Some((n_vectors, dimension, n_clusters))) => {
                DataSource::Clustered(ClusteredSpec {
                    n_vectors,
                    dimension,
                    n_clusters,
                    noise: self.noise,
                    seed: self.seed,
                })
            }
            (None, None) => DataSource::Digits,
        }
    }

    // ANCHOR: load
    /// Loads base and queries and checks them against each other and against `--k`.
    ///
    /// # Errors
    ///
    /// Whatever loading a source fails with (a file that is missing or not valid `.npy`, a
    /// `--generate` past the memory budget), a vector a database would refuse, or an
    /// [`Error::InvalidParameter`] naming the option that does not fit the vectors.
    pub fn load(&self) -> Result<LoadedVectors> {
        let source = self.base_source();
        if let (DataSource::Clustered(spec), Some((n, dimension, clusters))) =
            (&source, self.generate)
        {
            // `generate` checks this too; checking here names the flag the sizes came from.
            check_budget(
                || format!("--generate {n},{dimension},{clusters}"),
                spec.bytes_needed(),
            )?;
        }
        let mut base = source.load()?;
        let queries = match (&self.queries, self.hold_out) {
            (Some(path), _) => DataSource::Npy(path.clone()).load()?,
            (None, Some(n)) => self.hold_out_queries(&mut base, n)?,
            (None, None) => base.clone(),
        };
        // The checks every database makes at its door, made here too, so that a vector no
        // database would take (a generated set with a huge --noise, say) is an argument error.
        check_batch(&base, None)?;
        let dimension = base.first().map_or(0, Vec::len);
        if let Some(query) = queries.iter().find(|q| q.len() != dimension) {
            return Err(Error::InvalidParameter {
                name: "--queries",
                reason: format!(
                    "the queries have {} values each but the base vectors have {dimension}: \
                     both must come from the same embedding model",
                    query.len()
                ),
            });
        }
        if self.k > base.len() {
            return Err(Error::InvalidParameter {
                name: "--k",
                reason: format!(
                    "k = {} is larger than the {} base vectors",
                    self.k,
                    base.len()
                ),
            });
        }
        check_batch(&queries, Some(dimension))?;
        let queries = self.sample_queries(queries)?;
        Ok(LoadedVectors {
            base,
            queries,
            description: source.describe(),
        })
    }
    // ANCHOR_END: load

    /// Removes a seeded sample of `n` vectors from `base` (keeping the others in order) and
    /// returns them, to serve as queries the base does not contain.
    fn hold_out_queries(&self, base: &mut Vec<Vec<f32>>, n: usize) -> Result<Vec<Vec<f32>>> {
        if n >= base.len() {
            return Err(Error::InvalidParameter {
                name: "--hold-out",
                reason: format!(
                    "{n} queries held out of {} vectors would leave no base",
                    base.len()
                ),
            });
        }
        let held = self.seeded_mask(base.len(), n);
        let (queries, kept): (Vec<_>, Vec<_>) = std::mem::take(base)
            .into_iter()
            .zip(held)
            .partition(|(_, is_held)| *is_held);
        *base = kept.into_iter().map(|(vector, _)| vector).collect();
        Ok(queries.into_iter().map(|(vector, _)| vector).collect())
    }

    /// Keeps a seeded sample of `--n-queries` queries (in their original order), or all of them.
    fn sample_queries(&self, queries: Vec<Vec<f32>>) -> Result<Vec<Vec<f32>>> {
        let Some(wanted) = self.n_queries else {
            return Ok(queries);
        };
        if wanted > queries.len() {
            return Err(Error::InvalidParameter {
                name: "--n-queries",
                reason: format!(
                    "{wanted} queries asked for, but only {} exist",
                    queries.len()
                ),
            });
        }
        let picked = self.seeded_mask(queries.len(), wanted);
        Ok(queries
            .into_iter()
            .zip(picked)
            .filter_map(|(query, is_picked)| is_picked.then_some(query))
            .collect())
    }

    /// Which of `len` items a seeded random sample of `n` picks: `true` at each picked position.
    fn seeded_mask(&self, len: usize, n: usize) -> Vec<bool> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let mut picked = vec![false; len];
        for index in sample(&mut rng, len, n) {
            picked[index] = true;
        }
        picked
    }

    /// Computes the exact top-k of the loaded queries: the slow step, run after every check.
    pub fn dataset(&self, vectors: LoadedVectors) -> Result<Dataset> {
        log::info!(
            "{}: {} base vectors of {} values, {} queries, k = {}",
            vectors.description,
            vectors.base.len(),
            vectors.dimension(),
            vectors.queries.len(),
            self.k
        );
        timeit("exact top-k by brute force", || {
            Dataset::new(vectors.base, vectors.queries, self.k, self.metric)
        })
    }
}

/// Parses a whole number of at least 1.
pub fn parse_positive(text: &str) -> std::result::Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a whole number")),
    }
}

/// Parses a duration: `500ms`, `10s`, `2m`, `24h`, `1.5s`, or a bare number of seconds.
pub fn parse_duration(text: &str) -> std::result::Result<std::time::Duration, String> {
    let text = text.trim();
    let units = [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];
    let (number, unit_seconds) = units
        .iter()
        .find_map(|(suffix, seconds)| text.strip_suffix(suffix).map(|n| (n, *seconds)))
        .unwrap_or((text, 1.0));
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 10s, 500ms, 2m or 24h"))?;
    std::time::Duration::try_from_secs_f64(value * unit_seconds)
        .map_err(|_| format!("{text:?} is not a duration of zero or more"))
}

/// Parses `N,DIM,CLUSTERS`, three whole numbers of at least 1.
fn parse_generate(text: &str) -> std::result::Result<(usize, usize, usize), String> {
    let parts = text
        .split(',')
        .map(parse_positive)
        .collect::<std::result::Result<Vec<_>, _>>()?;
    match parts[..] {
        [n, dimension, clusters] => Ok((n, dimension, clusters)),
        _ => Err("expected N,DIM,CLUSTERS, for example 100000,64,100".to_string()),
    }
}

// ANCHOR: check_then_run
/// The exit protocol of the evaluators: arguments are checked before any work, so a mistake
/// costs a message (`error: …` on stderr, exit code 2), not a sweep; a failure during the run is
/// logged and exits with 1.
pub fn check_then_run<T>(checked: Result<T>, run: impl FnOnce(T) -> Result<()>) -> ExitCode {
    let checked = match checked {
        Ok(checked) => checked,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    exit_code(run(checked))
}
// ANCHOR_END: check_then_run

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::time::Duration;

    #[test]
    fn durations_in_their_units() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("soon").is_err());
    }

    #[derive(Debug, Parser)]
    struct TestCli {
        #[command(flatten)]
        data: DataArgs,
    }

    fn parse(args: &[&str]) -> std::result::Result<DataArgs, clap::Error> {
        TestCli::try_parse_from(std::iter::once("test").chain(args.iter().copied()))
            .map(|cli| cli.data)
    }

    #[test]
    fn defaults_are_digits_k_10_euclidean() {
        let args = parse(&[]).expect("no arguments needed");
        assert_eq!(args.base_source(), DataSource::Digits);
        assert_eq!((args.k, args.metric), (10, Metric::Euclidean));
        let loaded = args.load().expect("digits load");
        assert_eq!((loaded.base.len(), loaded.queries.len()), (1797, 1797));
        assert_eq!(loaded.dimension(), 64);
    }

    #[test]
    fn generate_and_n_queries_make_a_seeded_sample() {
        let args = parse(&["--generate", "200,8,4", "--n-queries", "25"]).expect("valid");
        let first = args.load().expect("generates");
        assert_eq!((first.base.len(), first.queries.len()), (200, 25));
        let again = args.load().expect("generates");
        assert_eq!(first.queries, again.queries, "same seed, same sample");
        assert!(first.queries.iter().all(|q| first.base.contains(q)));
    }

    #[test]
    fn hold_out_moves_queries_out_of_the_base() {
        let args = parse(&["--generate", "100,4,3", "--hold-out", "10"]).expect("valid");
        let loaded = args.load().expect("generates");
        assert_eq!((loaded.base.len(), loaded.queries.len()), (90, 10));
        assert!(loaded.queries.iter().all(|q| !loaded.base.contains(q)));
        let everything = parse(&["--generate", "100,4,3"]).expect("valid").load();
        let everything = everything.expect("generates").base;
        assert!(loaded.queries.iter().all(|q| everything.contains(q)));
        assert!(parse(&["--hold-out", "5", "--n-queries", "2"]).is_err());
        let all = parse(&["--generate", "10,4,3", "--hold-out", "10"]).expect("parses");
        assert!(matches!(
            all.load(),
            Err(Error::InvalidParameter {
                name: "--hold-out",
                ..
            })
        ));
    }

    #[test]
    fn bad_numbers_are_refused_by_the_parser() {
        for bad in [
            &["--k", "0"][..],
            &["--generate", "100,8"],
            &["--generate", "100,0,4"],
            &["--n-queries", "x"],
            &["--metric", "manhattan"],
            &["--data", "a.npy", "--generate", "10,2,2"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_generated_set_past_the_memory_budget_is_refused_naming_the_flag() {
        let args = parse(&["--generate", "1000000000000,1,1"]).expect("parses");
        match args.load() {
            Err(error @ Error::OverMemoryBudget { .. }) => {
                assert!(error
                    .to_string()
                    .starts_with("--generate 1000000000000,1,1 "));
            }
            other => panic!("expected OverMemoryBudget, got {other:?}"),
        }
    }

    #[test]
    fn k_or_n_queries_above_the_set_size_are_refused() {
        let args = parse(&["--generate", "20,4,2", "--k", "21"]).expect("parses");
        assert!(matches!(
            args.load(),
            Err(Error::InvalidParameter { name: "--k", .. })
        ));
        let args = parse(&["--generate", "20,4,2", "--n-queries", "21"]).expect("parses");
        assert!(matches!(
            args.load(),
            Err(Error::InvalidParameter {
                name: "--n-queries",
                ..
            })
        ));
    }
}
