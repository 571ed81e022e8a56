//! `svdb serve` with a backup folder: backups on a schedule, kept to the newest N, each a whole
//! collection; and a damaged file at start-up replaced by the newest good backup, in every trial.

mod serve_common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::json;
use serve_common::{labelled_collection, result_ids, Server};
use simple_vector_db::backup::Rotation;
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::Collection;
use tempfile::TempDir;

const DIMENSION: usize = 8;

fn backups_in(dir: &Path, db: &Path) -> Vec<PathBuf> {
    Rotation::new(dir, 100)
        .expect("a rotation")
        .backups(db)
        .expect("lists")
}

#[test]
fn the_service_backs_up_on_schedule_and_keeps_the_newest() {
    let dir = TempDir::new().expect("a temporary folder");
    let db = labelled_collection(dir.path(), 300, DIMENSION);
    let folder = dir.path().join("backups");
    let folder_arg = folder.display().to_string();
    let mut server = Server::start_ready(
        &db,
        &[
            "--backup-dir",
            &folder_arg,
            "--backup-every",
            "150ms",
            "--keep",
            "2",
        ],
    );
    // Writes go on while the backups are taken.
    for i in 0..20 {
        let vector: Vec<f32> = (0..DIMENSION).map(|j| (i * j) as f32).collect();
        let (status, _) = server.post("/vectors", &json!({"vectors": [vector]}));
        assert_eq!(status, 200);
        std::thread::sleep(Duration::from_millis(20));
    }
    let started = Instant::now();
    let written = || -> u64 {
        let (_, text) = server.get_text("/metrics");
        text.lines()
            .find_map(|line| line.strip_prefix("svdb_backups_total "))
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0)
    };
    while written() < 4 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    server.signal("TERM");
    assert!(server.wait_exit().success(), "{}", server.log());
    let kept = backups_in(&folder, &db);
    assert_eq!(kept.len(), 2, "{kept:?}");
    for backup in &kept {
        assert_eq!(
            check_file(backup).expect("opens"),
            [],
            "{}",
            backup.display()
        );
        let count = Collection::open_existing(backup)
            .expect("opens")
            .len()
            .expect("counts");
        assert!((300..=320).contains(&count), "{count}");
    }
    assert!(server.log().contains("backup of"), "{}", server.log());
}

/// Damages the file at `path` in one of three ways: bytes overwritten in the middle, the file
/// cut short, or replaced by garbage.
fn damage(path: &Path, trial: usize, rng: &mut Xoshiro256PlusPlus) {
    let mut bytes = std::fs::read(path).expect("reads");
    let len = bytes.len();
    match trial % 3 {
        0 => {
            // From a page's start, over whole pages: their headers are garbage too (bytes
            // changed inside a vector alone would pass the check: SQLite keeps no checksums).
            let page = 16_384; // the page size every collection is created with
            let start = rng.gen_range(len / 4..len / 2) / page * page;
            let end = (start + 2 * page).min(len);
            rng.fill(&mut bytes[start..end]);
        }
        1 => bytes.truncate(rng.gen_range(0..len / 2)),
        _ => bytes = (0..rng.gen_range(1..50_000)).map(|_| rng.gen()).collect(),
    }
    std::fs::write(path, bytes).expect("writes");
}

#[test]
fn a_damaged_file_is_served_from_its_newest_good_backup_in_every_trial() {
    let dir = TempDir::new().expect("a temporary folder");
    let db = labelled_collection(dir.path(), 3_000, DIMENSION);
    let folder = dir.path().join("backups");
    let rotation = Rotation::new(&folder, 7).expect("a rotation");
    rotation.take(&db).expect("an older backup");
    let mut collection = Collection::open_existing(&db).expect("opens");
    collection
        .insert(&[vec![0.5; DIMENSION]], Some(&[10_000]))
        .expect("stored");
    drop(collection);
    rotation.take(&db).expect("the newest backup");
    let pristine = dir.path().join("pristine.db");
    std::fs::copy(&db, &pristine).expect("copies");
    let query = json!({"vector": vec![0.5; DIMENSION], "k": 3});
    let folder_arg = folder.display().to_string();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for trial in 0..9 {
        std::fs::copy(&pristine, &db).expect("copies");
        damage(&db, trial, &mut rng);
        let server = Server::start_ready(&db, &["--backup-dir", &folder_arg]);
        let (status, answer) = server.post("/search", &query);
        assert_eq!(status, 200, "trial {trial}: {answer}");
        assert_eq!(
            result_ids(&answer)[0],
            10_000,
            "trial {trial}: served from the newest backup"
        );
        let log = server.log();
        assert!(
            log.contains("STARTING FROM A BACKUP"),
            "trial {trial}: {log}"
        );
        drop(server);
        let kept = std::fs::read_dir(dir.path())
            .expect("lists")
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().contains(".damaged-"))
            .count();
        assert!(kept > trial, "trial {trial}: the damaged file is kept");
        assert_eq!(
            backups_in(&folder, &db).len(),
            2,
            "the backups are untouched"
        );
    }
}

#[test]
fn a_damaged_file_without_a_good_backup_is_not_served() {
    let dir = TempDir::new().expect("a temporary folder");
    let db = labelled_collection(dir.path(), 100, DIMENSION);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(9);
    damage(&db, 1, &mut rng);
    let empty = dir.path().join("no-backups");
    std::fs::create_dir_all(&empty).expect("creates");
    let empty_arg = empty.display().to_string();
    for extra in [vec![], vec!["--backup-dir", empty_arg.as_str()]] {
        let mut server = Server::start(&db, &extra);
        let status = server.wait_exit();
        assert_eq!(status.code(), Some(1), "{}", server.log());
        assert!(server.log().contains("no good backup"), "{}", server.log());
    }
}

#[test]
fn a_zero_backup_period_is_refused_before_any_work() {
    let dir = TempDir::new().expect("a temporary folder");
    let db = labelled_collection(dir.path(), 10, DIMENSION);
    let folder = dir.path().join("backups");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_svdb"))
        .args(["serve", "--db"])
        .arg(&db)
        .args(["--addr", "127.0.0.1:0", "--backup-dir"])
        .arg(&folder)
        .args(["--backup-every", "0s"])
        .output()
        .expect("svdb runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("backup-every"), "{stderr}");
    assert!(!folder.exists(), "nothing was created");
}
