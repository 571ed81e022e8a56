//! One sweep for every index of the engine: the rows of `svdb eval`.
//!
//! The base goes into an in-memory collection; the index asked for is built once (timed), and
//! every search setting is measured through the one [`VectorIndex`] interface. Each row names
//! the index, its settings as `key=value` pairs, and what it cost: recall@k, queries per second,
//! latency percentiles, build time and bytes kept per vector. The header is a contract
//! ([`INDEX_HEADER`]): scripts compare these files across indexes and across peers.

use serde::Serialize;

use crate::engine::indexes::Selection;
use crate::engine::scan::ScanMode;
use crate::engine::{
    HnswSettings, IndexKind, IndexSpec, IvfPqSettings, IvfSettings, PqSettings, SearchParams,
    VectorIndex,
};
use crate::error::{Error, Result};
use crate::evaluation::dataset::Dataset;
use crate::evaluation::evaluator::{Evaluation, Evaluator};
use crate::evaluation::load::load_collection;
use crate::evaluation::results_csv::ResultRow;
use crate::sqlite_store::Layout;
use crate::utils::timing::measure;

// ANCHOR: index_header
/// Header of `results.csv`, written by `svdb eval`.
pub const INDEX_HEADER: &str =
    "index,params,k,recall,qps,p50_ms,p95_ms,p99_ms,build_s,bytes_per_vector";
// ANCHOR_END: index_header

/// What to measure: one index, one build, several search settings.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexSweep {
    pub kind: IndexKind,
    /// Inverted file (and IVF-PQ): how many cells.
    pub nlist: Option<usize>,
    /// Inverted file (and IVF-PQ): each probe count to measure.
    pub n_probes: Vec<usize>,
    /// Product quantization (and IVF-PQ): bytes per code and bits per byte.
    pub m: Option<usize>,
    pub nbits: Option<u32>,
    /// Product quantization (and IVF-PQ): each re-ranking depth to measure (0: none).
    pub rerank: Vec<usize>,
    /// Graph: neighbours per node (`M`, default 32) and the construction beam (default 40),
    /// FAISS's defaults.
    pub hnsw_m: Option<usize>,
    pub ef_construction: Option<usize>,
    /// Graph: each search beam width to measure (default 16).
    pub ef: Vec<usize>,
    /// Graph: how neighbours are chosen (default: the paper's heuristic).
    pub selection: Selection,
    /// Seed of the build (k-means, or the graph's levels).
    pub seed: Option<u64>,
    /// How the collection and its index lay their vectors out.
    pub layout: Layout,
    /// Where searches read from: SQLite at every query, or memory.
    pub mode: ScanMode,
}

// ANCHOR: index_row
/// One row of `results.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndexRow {
    pub index: String,
    /// `key=value` pairs, space-separated (`nlist=16 nprobe=4`); empty for flat.
    pub params: String,
    pub k: usize,
    pub recall: f64,
    pub qps: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub build_s: f64,
    pub bytes_per_vector: usize,
}
// ANCHOR_END: index_row

impl IndexRow {
    fn new(
        kind: IndexKind,
        params: String,
        evaluation: &Evaluation,
        build_s: f64,
        bytes: usize,
    ) -> Self {
        IndexRow {
            index: kind.as_str().to_string(),
            params,
            k: evaluation.k,
            recall: evaluation.recall,
            qps: evaluation.latency.qps,
            p50_ms: evaluation.latency.p50_ms,
            p95_ms: evaluation.latency.p95_ms,
            p99_ms: evaluation.latency.p99_ms,
            build_s,
            bytes_per_vector: bytes,
        }
    }
}

impl ResultRow for IndexRow {
    const HEADER: &'static str = INDEX_HEADER;

    fn cells(&self) -> Vec<String> {
        vec![
            self.index.clone(),
            self.params.clone(),
            self.k.to_string(),
            format!("{:.6}", self.recall),
            format!("{:.1}", self.qps),
            format!("{:.4}", self.p50_ms),
            format!("{:.4}", self.p95_ms),
            format!("{:.4}", self.p99_ms),
            format!("{:.4}", self.build_s),
            self.bytes_per_vector.to_string(),
        ]
    }
}

impl IndexSweep {
    /// ` layout=rows` and ` mode=preloaded` when they are not the engine's defaults (chunks,
    /// streamed), so that rows measured several ways can sit in one file.
    pub(crate) fn storage_params(&self) -> String {
        let mut params = String::new();
        if self.layout != Layout::Chunks {
            params.push_str(&format!(" layout={}", self.layout));
        }
        if self.mode != ScanMode::Streamed {
            params.push_str(&format!(" mode={}", self.mode.as_str()));
        }
        params
    }

    /// The graph settings asked for, FAISS's defaults where none is given.
    fn hnsw_settings(&self) -> HnswSettings {
        let settings = HnswSettings::new(
            self.hnsw_m.unwrap_or(32),
            self.ef_construction.unwrap_or(40),
        );
        let settings = settings.with_selection(self.selection);
        self.seed.map_or(settings, |seed| settings.with_seed(seed))
    }

    /// The index to build and its fixed settings as `key=value` text; `None` for brute force.
    ///
    /// # Errors
    ///
    /// Bad product-quantization settings.
    pub fn index_spec(&self) -> Result<Option<(IndexSpec, String)>> {
        Ok(Some(match self.kind {
            IndexKind::Flat => return Ok(None),
            IndexKind::Ivf => {
                let nlist = self.nlist.unwrap_or(1);
                let settings = match self.seed {
                    Some(seed) => IvfSettings::new(nlist).with_seed(seed),
                    None => IvfSettings::new(nlist),
                };
                (IndexSpec::Ivf(settings), format!("nlist={nlist}"))
            }
            IndexKind::Hnsw => {
                let settings = self.hnsw_settings();
                (
                    IndexSpec::Hnsw(settings),
                    match settings.selection {
                        Selection::Heuristic => format!(
                            "m={} ef_construction={}",
                            settings.m, settings.ef_construction
                        ),
                        // Named only when it is not the default, as the storage settings are.
                        Selection::Simple => format!(
                            "m={} ef_construction={} selection=simple",
                            settings.m, settings.ef_construction
                        ),
                    },
                )
            }
            IndexKind::Pq => {
                let (m, nbits) = (self.m.unwrap_or(1), self.nbits.unwrap_or(8));
                let settings = PqSettings::from_bits(m, nbits)?;
                let settings = self.seed.map_or(settings, |seed| settings.with_seed(seed));
                (IndexSpec::Pq(settings), format!("m={m} nbits={nbits}"))
            }
            IndexKind::IvfPq => {
                let settings = self.ivfpq_settings();
                settings.nb_subspace_centroids()?;
                (
                    IndexSpec::IvfPq(settings),
                    format!(
                        "nlist={} m={} nbits={}",
                        settings.nlist, settings.m, settings.nbits
                    ),
                )
            }
        }))
    }

    /// The IVF-PQ settings asked for, 8 bits per code by default.
    fn ivfpq_settings(&self) -> IvfPqSettings {
        let settings = IvfPqSettings::new(
            self.nlist.unwrap_or(1),
            self.m.unwrap_or(1),
            self.nbits.unwrap_or(8),
        );
        self.seed.map_or(settings, |seed| settings.with_seed(seed))
    }

    /// Each search setting to measure, with its row's params (`fixed` first).
    pub fn search_settings(&self, fixed: &str) -> Vec<(String, SearchParams)> {
        match self.kind {
            IndexKind::Ivf => probes_or_default(&self.n_probes)
                .into_iter()
                .map(|p| {
                    (
                        format!("{fixed} nprobe={p}"),
                        SearchParams::default().with_n_probes(p),
                    )
                })
                .collect(),
            IndexKind::IvfPq => probes_or_default(&self.n_probes)
                .into_iter()
                .flat_map(|p| {
                    rerank_or_none(&self.rerank).into_iter().map(move |r| {
                        let search = SearchParams::default().with_n_probes(p);
                        match r {
                            0 => (format!("{fixed} nprobe={p}"), search),
                            r => (
                                format!("{fixed} nprobe={p} rerank={r}"),
                                search.with_rerank(r),
                            ),
                        }
                    })
                })
                .collect(),
            IndexKind::Hnsw => or_default(&self.ef, 16)
                .into_iter()
                .map(|ef| {
                    (
                        format!("{fixed} ef_search={ef}"),
                        SearchParams::default().with_ef(ef),
                    )
                })
                .collect(),
            _ => rerank_or_none(&self.rerank)
                .into_iter()
                .map(|r| match r {
                    0 => (fixed.to_string(), SearchParams::default()),
                    r => (
                        format!("{fixed} rerank={r}"),
                        SearchParams::default().with_rerank(r),
                    ),
                })
                .collect(),
        }
    }

    /// Checks the settings against the data before anything is built.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidParameter`] naming the missing or out-of-range setting.
    pub fn check(&self, n_vectors: usize, dimension: usize, k: usize) -> Result<()> {
        let missing = |name: &'static str| Error::InvalidParameter {
            name,
            reason: format!("--index {} needs it", self.kind),
        };
        match self.kind {
            IndexKind::Flat => Ok(()),
            IndexKind::Ivf => {
                let nlist = self.nlist.ok_or_else(|| missing("nlist"))?;
                if nlist == 0 || nlist > n_vectors {
                    return Err(Error::InvalidClusterCount {
                        n_clusters: nlist,
                        n_vectors,
                    });
                }
                if let Some(&p) = self.n_probes.iter().find(|&&p| p == 0 || p > nlist) {
                    return Err(Error::InvalidProbeCount {
                        n_probes: p,
                        n_clusters: nlist,
                    });
                }
                Ok(())
            }
            IndexKind::Hnsw => {
                self.hnsw_settings().check()?;
                if n_vectors == 0 {
                    return Err(Error::EmptyCollection {
                        index: "hnsw".to_string(),
                    });
                }
                if let Some(&ef) = self.ef.iter().find(|&&ef| ef < k) {
                    return Err(Error::EfBelowK { ef, k });
                }
                Ok(())
            }
            IndexKind::IvfPq => {
                self.nlist.ok_or_else(|| missing("nlist"))?;
                self.m.ok_or_else(|| missing("m"))?;
                let settings = self.ivfpq_settings();
                settings.check(n_vectors, dimension)?;
                if let Some(&p) = self
                    .n_probes
                    .iter()
                    .find(|&&p| p == 0 || p > settings.nlist)
                {
                    return Err(Error::InvalidProbeCount {
                        n_probes: p,
                        n_clusters: settings.nlist,
                    });
                }
                Ok(())
            }
            IndexKind::Pq => {
                let m = self.m.ok_or_else(|| missing("m"))?;
                let settings =
                    PqSettings::from_bits(m, self.nbits.ok_or_else(|| missing("nbits"))?)?;
                if m == 0 {
                    return Err(Error::ZeroChunks);
                }
                if !dimension.is_multiple_of(m) {
                    return Err(Error::ChunksDoNotDivide {
                        dimension,
                        m_chunks: m,
                    });
                }
                if n_vectors < settings.nb_subspace_centroids {
                    return Err(Error::TooFewTrainingVectors {
                        found: n_vectors,
                        needed: settings.nb_subspace_centroids,
                    });
                }
                Ok(())
            }
        }
    }
}

// ANCHOR: run_index_sweep
/// Builds the index once and measures every search setting, one row each.
///
/// # Errors
///
/// Bad settings (checked first), or a build or search error.
pub fn run_index_sweep(
    dataset: &Dataset,
    sweep: &IndexSweep,
    after_each_query: &mut dyn FnMut(),
) -> Result<Vec<IndexRow>> {
    sweep.check(dataset.base().len(), dataset.dimension(), dataset.k())?;
    let evaluator = Evaluator::new(dataset);
    let (collection, load_took) =
        measure(|| load_collection(dataset.base(), dataset.metric(), sweep.layout));
    let mut collection = collection?;
    collection.set_scan_mode(sweep.mode)?;
    // Rows that say how they were measured, when it is not the engine's default.
    let storage = sweep.storage_params();
    let name = sweep.kind.as_str();
    let Some((spec, fixed)) = sweep.index_spec()? else {
        if sweep.mode == ScanMode::Preloaded {
            collection.preload(None)?;
        }
        let index = collection.as_index(None);
        let evaluation = evaluator.evaluate(&index, &SearchParams::default(), after_each_query)?;
        let bytes = index.bytes_per_vector();
        return Ok(vec![IndexRow::new(
            IndexKind::Flat,
            storage.trim_start().to_string(),
            &evaluation,
            load_took.as_secs_f64(),
            bytes,
        )]);
    };
    let (built, took) = measure(|| collection.create_index(name, &spec));
    built?;
    if sweep.mode == ScanMode::Preloaded {
        collection.preload(Some(name))?; // loading is start-up work, not a query's
        if sweep.rerank.iter().any(|&depth| depth > 0) {
            collection.preload(None)?; // the vectors re-ranking reads, as FAISS keeps them
        }
    }
    let index = collection.as_index(Some(name));
    let bytes = index.bytes_per_vector();
    let settings = sweep.search_settings(&fixed);
    settings
        .into_iter()
        .map(|(params, search)| {
            let evaluation = evaluator.evaluate(&index, &search, after_each_query)?;
            Ok(IndexRow::new(
                sweep.kind,
                format!("{params}{storage}"),
                &evaluation,
                took.as_secs_f64(),
                bytes,
            ))
        })
        .collect()
}
// ANCHOR_END: run_index_sweep

fn probes_or_default(probes: &[usize]) -> Vec<usize> {
    or_default(probes, 1)
}

/// `values`, or the one `default` when none is given.
fn or_default(values: &[usize], default: usize) -> Vec<usize> {
    if values.is_empty() {
        vec![default]
    } else {
        values.to_vec()
    }
}

fn rerank_or_none(rerank: &[usize]) -> Vec<usize> {
    if rerank.is_empty() {
        vec![0]
    } else {
        rerank.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distances::Metric;
    use crate::evaluation::results_csv::to_csv;

    fn dataset() -> Dataset {
        let base: Vec<Vec<f32>> = (0..300)
            .map(|i| {
                vec![
                    (i % 17) as f32,
                    (i % 23) as f32,
                    (i / 30) as f32,
                    (i % 5) as f32,
                ]
            })
            .collect();
        let queries = base.iter().step_by(7).cloned().collect();
        Dataset::new(base, queries, 5, Metric::Euclidean).expect("valid")
    }

    fn sweep(kind: IndexKind) -> IndexSweep {
        IndexSweep {
            kind,
            nlist: None,
            n_probes: vec![],
            m: None,
            nbits: None,
            rerank: vec![],
            hnsw_m: None,
            ef_construction: None,
            ef: vec![],
            selection: Selection::Heuristic,
            seed: None,
            layout: Layout::Chunks,
            mode: ScanMode::Streamed,
        }
    }

    #[test]
    fn flat_is_exact_and_has_no_params() {
        let rows = run_index_sweep(&dataset(), &sweep(IndexKind::Flat), &mut || {}).expect("runs");
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].index.as_str(), rows[0].params.as_str()),
            ("flat", "")
        );
        assert_eq!(rows[0].recall, 1.0);
        assert_eq!(rows[0].bytes_per_vector, 16);
    }

    #[test]
    fn ivf_gives_one_row_per_probe_count_and_all_cells_is_exact() {
        let sweep = IndexSweep {
            nlist: Some(6),
            n_probes: vec![1, 6],
            ..sweep(IndexKind::Ivf)
        };
        let rows = run_index_sweep(&dataset(), &sweep, &mut || {}).expect("runs");
        let params: Vec<&str> = rows.iter().map(|r| r.params.as_str()).collect();
        assert_eq!(params, ["nlist=6 nprobe=1", "nlist=6 nprobe=6"]);
        assert_eq!(rows[1].recall, 1.0);
        assert!(rows[0].recall <= rows[1].recall);
        assert!(rows.iter().all(|r| r.build_s > 0.0));
        let csv = to_csv(&rows);
        assert!(csv.starts_with(&format!("{INDEX_HEADER}\nivf,nlist=6 nprobe=1,5,")));
    }

    #[test]
    fn ivfpq_rows_sweep_probes_then_reranking_and_bad_settings_are_refused() {
        let ivfpq = IndexSweep {
            nlist: Some(4),
            n_probes: vec![1, 4],
            m: Some(2),
            nbits: Some(4),
            rerank: vec![0, 50],
            ..sweep(IndexKind::IvfPq)
        };
        let rows = run_index_sweep(&dataset(), &ivfpq, &mut || {}).expect("runs");
        let params: Vec<&str> = rows.iter().map(|r| r.params.as_str()).collect();
        assert_eq!(
            params,
            [
                "nlist=4 m=2 nbits=4 nprobe=1",
                "nlist=4 m=2 nbits=4 nprobe=1 rerank=50",
                "nlist=4 m=2 nbits=4 nprobe=4",
                "nlist=4 m=2 nbits=4 nprobe=4 rerank=50",
            ]
        );
        assert!(rows
            .iter()
            .all(|r| r.index == "ivfpq" && r.bytes_per_vector == 2 + 8));
        assert!(rows[1].recall >= rows[0].recall && rows[3].recall >= rows[2].recall);
        let refused = |sweep: IndexSweep| sweep.check(300, 4, 5).expect_err("refused");
        assert!(matches!(
            refused(IndexSweep {
                nlist: None,
                ..ivfpq.clone()
            }),
            Error::InvalidParameter { name: "nlist", .. }
        ));
        assert!(matches!(
            refused(IndexSweep {
                m: None,
                ..ivfpq.clone()
            }),
            Error::InvalidParameter { name: "m", .. }
        ));
        assert!(matches!(
            refused(IndexSweep {
                n_probes: vec![5],
                ..ivfpq.clone()
            }),
            Error::InvalidProbeCount { n_probes: 5, .. }
        ));
        assert!(matches!(
            refused(IndexSweep {
                nbits: None,
                m: Some(3),
                ..ivfpq.clone()
            }),
            Error::ChunksDoNotDivide { .. }
        ));
    }

    #[test]
    fn pq_rows_with_and_without_rerank_and_bad_settings_are_refused() {
        let pq = IndexSweep {
            m: Some(2),
            nbits: Some(4),
            rerank: vec![0, 50],
            ..sweep(IndexKind::Pq)
        };
        let rows = run_index_sweep(&dataset(), &pq, &mut || {}).expect("runs");
        assert_eq!(rows[0].params, "m=2 nbits=4");
        assert_eq!(rows[1].params, "m=2 nbits=4 rerank=50");
        assert_eq!(rows[0].bytes_per_vector, 2);
        assert!(
            rows[1].recall >= rows[0].recall,
            "exact re-ranking cannot lose recall here"
        );
        let odd = IndexSweep {
            m: Some(3),
            ..pq.clone()
        };
        assert!(matches!(
            odd.check(300, 4, 5),
            Err(Error::ChunksDoNotDivide { .. })
        ));
        let no_nlist = sweep(IndexKind::Ivf);
        assert!(matches!(
            no_nlist.check(300, 4, 5),
            Err(Error::InvalidParameter { name: "nlist", .. })
        ));
        let too_many_probes = IndexSweep {
            nlist: Some(4),
            n_probes: vec![5],
            ..sweep(IndexKind::Ivf)
        };
        assert!(matches!(
            too_many_probes.check(300, 4, 5),
            Err(Error::InvalidProbeCount { .. })
        ));
    }
}
