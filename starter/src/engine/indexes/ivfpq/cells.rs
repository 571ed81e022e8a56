//! The coarse cells of IVF-PQ: k-means centroids, the cell each vector is filed in, and the
//! cells a query probes.
//!
//! These are chapter 6's cells, trained the same way. Two things differ from the inverted
//! file's: the index only ever ranks by euclidean distance, and the probe keeps the squared
//! distance from the query to each probed centroid, `‖q − c‖²`, which is the first term of
//! every distance estimated in that cell ([`super::table`]).

use rusqlite::{params, Connection};

use crate::distances::Metric;
use crate::engine::catalog::IndexRecord;
use crate::error::{Error, Result};
use crate::kernels;
use crate::kmeans::{assign_flat, train_centroids, KMeansConfig};
use crate::top_k::TopK;
use crate::utils::timing::measure;
use crate::validation::check_finite;
use crate::vector_blob::{blob_to_vector, vector_to_blob};

/// Vectors filed per call of the matrix-form assignment: bounds the copy it works on.
const ASSIGN_BATCH: usize = 4096;

/// `nlist` centroids of `dimension` values.
#[derive(Debug, Clone, PartialEq)]
pub struct CoarseCells {
    dimension: usize,
    centroids: Vec<Vec<f32>>,
    /// The same centroids end to end, for the kernels.
    flat: Vec<f32>,
}

impl CoarseCells {
    /// Trains `config.n_clusters` centroids on `vectors` with k-means.
    ///
    /// # Errors
    ///
    /// The errors of [`train_centroids`].
    pub fn train(vectors: &[Vec<f32>], config: &KMeansConfig) -> Result<Self> {
        log::info!(
            "ivfpq: training {} coarse centroids on {} vectors",
            config.n_clusters,
            vectors.len()
        );
        let (centroids, took) = measure(|| train_centroids(vectors, config));
        let centroids = centroids?;
        log::info!("ivfpq: cells trained in {:.2} s", took.as_secs_f64());
        let dimension = vectors.first().map_or(0, Vec::len);
        Ok(Self::from_centroids(dimension, centroids))
    }

    /// Cells of the given centroids, all of `dimension` values.
    pub fn from_centroids(dimension: usize, centroids: Vec<Vec<f32>>) -> Self {
        let flat = centroids.concat();
        CoarseCells {
            dimension,
            centroids,
            flat,
        }
    }

    /// How many cells.
    pub fn nlist(&self) -> usize {
        self.centroids.len()
    }

    /// Every centroid, by cell.
    pub fn centroids(&self) -> &[Vec<f32>] {
        &self.centroids
    }

    /// The centroid of `cell` (empty past the last cell).
    pub fn centroid(&self, cell: usize) -> &[f32] {
        self.centroids.get(cell).map_or(&[], Vec::as_slice)
    }

    // ANCHOR: assign_cells
    /// The cell each of `vectors` is filed in: its nearest centroid, found with the matrix form
    /// of k-means' assignment (chapter 12), a batch at a time.
    pub fn assign(&self, vectors: &[&[f32]]) -> Vec<usize> {
        let mut cells = vec![0; vectors.len()];
        let mut distances = vec![0.0; ASSIGN_BATCH.min(vectors.len())];
        let mut batch = Vec::new();
        for (start, block) in (0..)
            .step_by(ASSIGN_BATCH)
            .zip(vectors.chunks(ASSIGN_BATCH))
        {
            batch.clear();
            block.iter().for_each(|v| batch.extend_from_slice(v));
            let labels = &mut cells[start..start + block.len()];
            assign_flat(&batch, self.dimension, &self.flat, labels, &mut distances);
        }
        cells
    }
    // ANCHOR_END: assign_cells

    // ANCHOR: probe
    /// The `n` cells nearest to `query`, nearest first, each with its squared distance
    /// `‖q − c‖²` to the query (`n` is at most `nlist`; the caller checks it).
    pub fn probe(&self, query: &[f32], n: usize) -> Vec<(usize, f32)> {
        let mut distances = vec![0.0; self.nlist()];
        kernels::squared_l2_many(query, &self.flat, &mut distances);
        let mut best = TopK::new(n, Metric::Euclidean);
        for (cell, &distance) in distances.iter().enumerate() {
            if best.admits(distance) {
                best.push(cell, distance);
            }
        }
        best.into_sorted_vec()
    }
    // ANCHOR_END: probe

    /// Creates the centroids table.
    ///
    /// # Errors
    ///
    /// An SQLite error.
    pub fn create_table(connection: &Connection, table: &str) -> Result<()> {
        connection.execute_batch(&format!(
            "CREATE TABLE {table} (
                 cell     INTEGER PRIMARY KEY,
                 centroid BLOB NOT NULL             -- 4 bytes per f32, little-endian
             );"
        ))?;
        Ok(())
    }

    /// Writes every centroid into `table`.
    ///
    /// # Errors
    ///
    /// An SQLite error.
    pub fn write(&self, connection: &Connection, table: &str) -> Result<()> {
        let mut insert = connection.prepare(&format!(
            "INSERT INTO {table} (cell, centroid) VALUES (?1, ?2)"
        ))?;
        for (cell, centroid) in (0i64..).zip(&self.centroids) {
            insert.execute(params![cell, vector_to_blob(centroid)])?;
        }
        Ok(())
    }

    /// Reads the `nlist` centroids of the index of `record` back from `table`, each checked
    /// for its length before it is read.
    ///
    /// # Errors
    ///
    /// [`Error::BadIndexRecord`] naming the table when a centroid is missing, extra, of
    /// another length than `4 × dimension` bytes, or not finite.
    pub fn read(
        connection: &Connection,
        record: &IndexRecord,
        table: &str,
        nlist: usize,
        dimension: usize,
    ) -> Result<Self> {
        let bad = |reason: String| Error::BadIndexRecord {
            index: record.name.clone(),
            reason: format!("table {table}: {reason}"),
        };
        let (count, wrong_length): (i64, i64) = connection
            .query_row(
                &format!(
                    "SELECT count(*), coalesce(sum(length(centroid) IS NOT ?1), 0) FROM {table}"
                ),
                [i64::try_from(dimension * 4).unwrap_or(i64::MAX)],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .map_err(|e| bad(e.to_string()))?;
        if usize::try_from(count).ok() != Some(nlist) {
            return Err(bad(format!("{count} centroids stored for nlist = {nlist}")));
        }
        if wrong_length > 0 {
            return Err(bad(format!(
                "{wrong_length} centroids are not {} bytes (dimension {dimension} × 4)",
                dimension * 4
            )));
        }
        let mut statement = connection
            .prepare(&format!("SELECT cell, centroid FROM {table} ORDER BY cell"))
            .map_err(|e| bad(e.to_string()))?;
        let mut rows = statement.query([])?;
        let mut centroids = Vec::with_capacity(nlist);
        while let Some(row) = rows.next()? {
            let cell: i64 = row.get(0)?;
            if usize::try_from(cell).ok() != Some(centroids.len()) {
                return Err(bad(format!("centroid cells are not 0..{nlist}")));
            }
            let blob = row
                .get_ref(1)?
                .as_blob()
                .map_err(|e| bad(format!("centroid of cell {cell}: {e}")))?;
            let centroid = blob_to_vector(blob, dimension)
                .map_err(|e| bad(format!("centroid of cell {cell}: {e}")))?;
            check_finite(&centroid).map_err(|e| bad(format!("centroid of cell {cell}: {e}")))?;
            centroids.push(centroid);
        }
        Ok(Self::from_centroids(dimension, centroids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn four_corners() -> CoarseCells {
        CoarseCells::from_centroids(
            2,
            vec![
                vec![0.0, 0.0],
                vec![10.0, 0.0],
                vec![0.0, 10.0],
                vec![10.0, 10.0],
            ],
        )
    }

    #[test]
    fn each_vector_goes_to_its_nearest_centroid() {
        let cells = four_corners();
        let vectors: [&[f32]; 4] = [&[9.0, 1.0], &[1.0, 1.0], &[8.0, 9.0], &[-1.0, 12.0]];
        assert_eq!(cells.assign(&vectors), [1, 0, 3, 2]);
    }

    #[test]
    fn a_probe_ranks_cells_with_their_squared_distances() {
        let cells = four_corners();
        let probed = cells.probe(&[9.0, 2.0], 2);
        assert_eq!(probed, [(1, 5.0), (3, 65.0)]);
        assert_eq!(cells.probe(&[0.0, 0.0], 4).len(), 4);
    }
}
