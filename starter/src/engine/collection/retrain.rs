//! Retraining an index in place, while searches go on.
//!
//! An inverted file's centroids (and a quantizer's codebook) are fitted once, to the vectors
//! stored at the time; later inserts are filed against them without moving them. After many
//! inserts from elsewhere in the space, cells fill unevenly and recall at a fixed `nprobe`
//! drifts down ([`staleness`](crate::engine::staleness) counts how much changed). The cure is
//! to train again on what is stored now. Done in place, it must not leave a moment when the
//! index is missing or half-built: the new index is built inside one write transaction under
//! the name of the old one, and SQLite's write-ahead log lets every other handle go on reading
//! the old tables, unchanged, until that transaction commits. A handle notices the commit by
//! the generation, reads the new index, and from then on answers with it. A crash during the
//! build leaves the old index, as if nothing had been tried.

use std::time::Instant;

use serde::Serialize;

use super::{Collection, IndexSpec};
use crate::engine::catalog::IndexRecord;
use crate::engine::indexes::hnsw::index::settings_from_record;
use crate::engine::indexes::{IvfPqSettings, IvfSettings, PqSettings};
use crate::engine::staleness::Staleness;
use crate::engine::IndexKind;
use crate::error::{Error, Result};

/// What [`Collection::retrain_index`] did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retrained {
    /// The index, as named.
    pub name: String,
    /// The vectors it was trained on now.
    pub vectors: usize,
    /// What it had been trained on, and what had changed since (when recorded).
    pub before: Option<Staleness>,
    /// How long the training and filing took, in seconds.
    pub seconds: f64,
}

impl Collection {
    // ANCHOR: retrain_index
    /// Trains the index `name` again on every vector stored now, with the settings it was
    /// built with (`seed` replaces its seed), and replaces it atomically: other handles search
    /// the old index until the new one commits.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchIndex`]; [`Error::BadIndexRecord`] when the stored settings cannot be
    /// read back; then those of [`create_index`](Self::create_index). On any error the old
    /// index stays.
    pub fn retrain_index(&mut self, name: &str, seed: Option<u64>) -> Result<Retrained> {
        let record = self.read(|_, state| {
            state
                .indexes
                .get(name)
                .map(|index| index.record().clone())
                .ok_or_else(|| Error::NoSuchIndex {
                    name: name.to_string(),
                    available: state.indexes.keys().cloned().collect(),
                })
        })?;
        let before = self.index_info(name)?.and_then(|info| info.staleness);
        let spec = spec_of(&record, seed)?;
        let started = Instant::now();
        self.create_index(name, &spec)?;
        Ok(Retrained {
            name: name.to_string(),
            vectors: self.len()?,
            before,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
    // ANCHOR_END: retrain_index
}

// ANCHOR: spec_of
/// The spec that builds the index `record` describes again, with `seed` if given.
fn spec_of(record: &IndexRecord, seed: Option<u64>) -> Result<IndexSpec> {
    let name = &record.name;
    let settings = &record.settings;
    let seed_or_stored = |key: &str| -> Result<u64> {
        match seed {
            Some(seed) => Ok(seed),
            None => settings.number(key, name),
        }
    };
    Ok(match record.kind {
        IndexKind::Ivf => {
            let mut ivf = IvfSettings::new(settings.number("nlist", name)?)
                .with_seed(seed_or_stored("seed")?);
            ivf.kmeans.max_iterations = settings.number("max_iterations", name)?;
            ivf.kmeans.max_points_per_centroid = match settings.get("max_points_per_centroid") {
                Some("all") => None,
                _ => Some(settings.number("max_points_per_centroid", name)?),
            };
            IndexSpec::Ivf(ivf)
        }
        IndexKind::IvfPq => IndexSpec::IvfPq(
            IvfPqSettings::new(
                settings.number("nlist", name)?,
                settings.number("m", name)?,
                settings.number("nbits", name)?,
            )
            .with_seed(seed_or_stored("seed")?),
        ),
        IndexKind::Pq => {
            let pq = PqSettings::new(
                settings.number("m", name)?,
                settings.number("n_centroids", name)?,
            );
            match (seed, settings.get("seed")) {
                (None, None) => IndexSpec::Pq(pq),
                _ => IndexSpec::Pq(pq.with_seed(seed_or_stored("seed")?)),
            }
        }
        IndexKind::Hnsw => {
            let hnsw = settings_from_record(record)?;
            IndexSpec::Hnsw(seed.map_or(hnsw, |seed| hnsw.with_seed(seed)))
        }
        IndexKind::Flat => {
            return Err(Error::BadIndexRecord {
                index: name.clone(),
                reason: "flat is not a stored index".to_string(),
            })
        }
    })
}
// ANCHOR_END: spec_of
