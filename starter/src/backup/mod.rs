//! Backups and recovery: copies of a collection's file taken while it is in use, a rotation
//! that keeps the last few, and a check at start that puts the newest good one in place of a
//! damaged file.
//!
//! - [`online`]: one consistent copy of a live file, through SQLite's online backup API
//!   (why not `cp`), written under a temporary name and renamed into place.
//! - [`rotation`]: the newest `keep` backups of a file in a folder, named by UTC timestamp.
//! - [`recovery`]: [`check_or_recover`], the check of [`crate::engine::check`] and, on damage,
//!   a restore that keeps the damaged file.
//! - [`timestamp`]: names whose alphabetical order is their age.
//!
//! ```
//! use simple_vector_db::backup::{check_or_recover, Recovery, Rotation};
//! use simple_vector_db::engine::Collection;
//!
//! let dir = tempfile::tempdir()?;
//! let db = dir.path().join("vectors.db");
//! Collection::open(&db)?.insert(&[vec![1.0, 2.0], vec![3.0, 4.0]], None)?;
//!
//! let rotation = Rotation::new(dir.path().join("backups"), 7)?;
//! rotation.take(&db)?; // vectors-20261201T192512.123Z.db, say
//!
//! std::fs::write(&db, b"not a database any more")?;
//! let recovery = check_or_recover(&db, Some(&rotation))?;
//! assert!(matches!(recovery, Recovery::Restored { .. }));
//! assert_eq!(Collection::open_existing(&db)?.len()?, 2);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod online;
pub mod recovery;
pub mod rotation;
pub mod timestamp;

pub use online::{backup_file, backup_file_in_steps, BackupReport};
pub use recovery::{check_or_recover, Recovery};
pub use rotation::Rotation;
