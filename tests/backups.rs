//! Backups and recovery: a backup of a file being written is a consistent file holding a prefix
//! of the writes; a rotation keeps exactly the newest N and touches no other file; a damaged
//! file is replaced by the newest good backup, keeping the damaged one; and `svdb backup`'s
//! command-line contract.

mod common;

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{assert_healthy, assert_refused_before_any_work, s, stderr, stdout, svdb, temp_path};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use simple_vector_db::backup::{
    backup_file, backup_file_in_steps, check_or_recover, Recovery, Rotation,
};
use simple_vector_db::engine::check::check_file;
use simple_vector_db::engine::{Collection, IndexSpec, IvfSettings};
use simple_vector_db::Error;

const DIMENSION: usize = 16;

/// The vector stored under `id`: its own id in every value, so a copy can be checked by id.
fn vector_of(id: usize) -> Vec<f32> {
    (0..DIMENSION)
        .map(|j| (id * DIMENSION + j) as f32)
        .collect()
}

fn batch(from: usize, n: usize) -> Vec<Vec<f32>> {
    (from..from + n).map(vector_of).collect()
}

/// Checks that the collection at `path` holds exactly ids 0..len, each with its own vector,
/// and returns len.
fn assert_prefix(path: &Path) -> usize {
    let collection = Collection::open_existing(path).expect("the copy opens");
    let len = collection.len().expect("counts");
    for id in 0..len {
        assert_eq!(
            collection.get(id as i64).expect("reads").as_deref(),
            Some(vector_of(id).as_slice()),
            "{}: id {id} of {len}",
            path.display()
        );
    }
    assert_eq!(collection.get(len as i64).expect("reads"), None);
    len
}

/// Creates a collection of `n` vectors (ids 0..n) with an inverted file.
fn collection_of(path: &Path, n: usize) {
    let mut collection = Collection::open(path).expect("creates");
    collection.insert(&batch(0, n), None).expect("stores");
    collection
        .create_index("ivf", &IndexSpec::Ivf(IvfSettings::new(4).with_seed(3)))
        .expect("builds");
}

/// Adds ids len..len+n to the collection at `path`.
fn grow(path: &Path, n: usize) {
    let mut collection = Collection::open_existing(path).expect("opens");
    let len = collection.len().expect("counts");
    collection.insert(&batch(len, n), None).expect("stores");
}

#[test]
fn a_backup_taken_while_another_handle_inserts_is_consistent_and_holds_a_prefix() {
    let (dir, db) = temp_path("live.db");
    const BATCH: usize = 25;
    collection_of(&db, 2000);
    let stop = AtomicBool::new(false);
    let inserted = AtomicUsize::new(2000);
    let backups: Vec<PathBuf> = std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            // Its own handle, as another process would have; bounded in count and time.
            let mut collection = Collection::open_existing(&db).expect("opens");
            let deadline = Instant::now() + Duration::from_secs(10);
            while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
                let len = inserted.load(Ordering::Relaxed);
                if len > 20_000 {
                    break;
                }
                collection.insert(&batch(len, BATCH), None).expect("stores");
                inserted.store(len + BATCH, Ordering::Relaxed);
            }
        });
        let mut taken = Vec::new();
        for i in 0..6 {
            let dest = dir.path().join(format!("copy-{i}.db"));
            // Four pages a step: many steps, with the writer's commits between them.
            let report =
                backup_file_in_steps(&db, &dest, NonZeroU32::new(4).expect("4")).expect("backs up");
            assert!(report.pages > 4, "several steps: {} pages", report.pages);
            taken.push(dest);
        }
        // And one by another process, `svdb backup`, while the writer goes on.
        let by_cli = dir.path().join("copy-cli.db");
        let output = svdb(&["backup", "--db", s(&db), "--to", s(&by_cli)]);
        assert!(output.status.success(), "{}", stderr(&output));
        taken.push(by_cli);
        stop.store(true, Ordering::Relaxed);
        writer.join().expect("the writer finished");
        taken
    });
    let final_len = inserted.load(Ordering::Relaxed);
    let mut lens = Vec::new();
    for backup in &backups {
        assert_eq!(
            check_file(backup).expect("opens"),
            [],
            "{}",
            backup.display()
        );
        let len = assert_prefix(backup);
        assert!(
            (2000..=final_len).contains(&len) && (len - 2000).is_multiple_of(BATCH),
            "{}: {len} vectors, not a whole number of the writer's batches",
            backup.display()
        );
        lens.push(len);
    }
    assert!(
        lens.windows(2).all(|w| w[0] <= w[1]),
        "later backups hold no fewer: {lens:?}"
    );
    assert!(
        lens.iter().any(|&len| len > 2000),
        "the writer committed during the backups: {lens:?}"
    );
    assert_healthy(&db);
    assert_eq!(assert_prefix(&db), final_len);
}

#[test]
fn a_rotation_keeps_exactly_the_newest_and_touches_no_other_file() {
    let (dir, db) = temp_path("F.db");
    collection_of(&db, 50);
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).expect("creates");
    let others = [
        "notes.txt",
        "F.db",
        "F-old.db",
        "G-20261201T192512.123Z.db",
        "F-20261201T192512.123Z.db.partial",
        "F-20261201T192512.123.db",
    ];
    for name in others {
        std::fs::write(backups.join(name), name).expect("writes");
    }
    // Of our shape and older than any backup taken now: the rotation's own, deleted first.
    let ancient = backups.join("F-19990101T000000.000Z.db");
    std::fs::write(&ancient, "ancient").expect("writes");

    let rotation = Rotation::new(&backups, 3).expect("keep 3");
    let mut taken = Vec::new();
    for _ in 0..5 {
        grow(&db, 10);
        taken.push(rotation.take(&db).expect("backs up").path);
    }
    let kept = rotation.backups(&db).expect("lists");
    let newest_three: Vec<PathBuf> = taken.iter().rev().take(3).cloned().collect();
    assert_eq!(kept, newest_three, "newest first");
    assert!(!ancient.exists());
    for (backup, expected) in kept.iter().zip([100, 90, 80]) {
        assert_eq!(check_file(backup).expect("opens"), []);
        assert_eq!(assert_prefix(backup), expected);
    }
    for name in others {
        assert_eq!(
            std::fs::read_to_string(backups.join(name)).expect("still there"),
            name,
            "{name} untouched"
        );
    }
    let in_folder = std::fs::read_dir(&backups).expect("lists").count();
    assert_eq!(in_folder, others.len() + 3);

    // From the command line: --keep 2 leaves two of F's backups, and says so.
    for _ in 0..2 {
        let output = svdb(&[
            "backup",
            "--db",
            s(&db),
            "--dir",
            s(&backups),
            "--keep",
            "2",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(
            stdout(&output).contains("backups kept: 2"),
            "{}",
            stdout(&output)
        );
    }
    assert_eq!(rotation.backups(&db).expect("lists").len(), 2);
    assert_eq!(
        std::fs::read_dir(&backups).expect("lists").count(),
        others.len() + 2
    );
}

/// How a trial damages a file.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// 20 KiB of random bytes somewhere in the middle (over at least one page's header).
    OverwriteMiddle,
    /// Cut short, to anything from nothing to half its length.
    Truncate,
    /// Replaced with random bytes, and a stale random `-wal` beside it.
    Garbage,
}

/// Damages the file at `path` the way `damage` says, drawing offsets and bytes from `rng`.
fn damage_file(path: &Path, damage: Damage, rng: &mut Xoshiro256PlusPlus) {
    let mut bytes = std::fs::read(path).expect("reads");
    let len = bytes.len();
    match damage {
        Damage::OverwriteMiddle => {
            let start = rng.gen_range(len / 4..len / 2);
            let end = (start + 20 * 1024).min(len);
            rng.fill(&mut bytes[start..end]);
        }
        Damage::Truncate => bytes.truncate(rng.gen_range(0..len / 2)),
        Damage::Garbage => {
            bytes = (0..rng.gen_range(1..100_000)).map(|_| rng.gen()).collect();
            let wal: Vec<u8> = (0..5000).map(|_| rng.gen()).collect();
            std::fs::write(format!("{}-wal", path.display()), wal).expect("writes");
        }
    }
    std::fs::write(path, bytes).expect("writes");
}

/// Three backups of `db` in `dir/backups`, of 300, 320 and 340 vectors (the newest last).
fn three_backups(db: &Path, dir: &Path) -> (Rotation, Vec<PathBuf>) {
    collection_of(db, 300);
    let rotation = Rotation::new(dir.join("backups"), 7).expect("keep 7");
    let mut taken = vec![rotation.take(db).expect("backs up").path];
    for _ in 0..2 {
        grow(db, 20);
        taken.push(rotation.take(db).expect("backs up").path);
    }
    (rotation, taken)
}

#[test]
fn every_kind_of_damage_is_restored_from_the_newest_good_backup_keeping_the_damaged_file() {
    let (dir, db) = temp_path("F.db");
    let (rotation, taken) = three_backups(&db, dir.path());
    let pristine = dir.path().join("pristine.db");
    backup_file(&db, &pristine).expect("backs up");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    let started = Instant::now();
    for trial in 0..20 {
        for damage in [Damage::OverwriteMiddle, Damage::Truncate, Damage::Garbage] {
            std::fs::copy(&pristine, &db).expect("copies");
            damage_file(&db, damage, &mut rng);
            let damaged_bytes = std::fs::read(&db).expect("reads");
            let wal = PathBuf::from(format!("{}-wal", db.display()));
            let stale_wal = std::fs::read(&wal).ok();

            let recovery = check_or_recover(&db, Some(&rotation)).expect("recovers");
            let Recovery::Restored {
                from,
                damaged_kept_at,
                problems,
            } = recovery
            else {
                panic!("trial {trial}, {damage:?}: the damage went unseen");
            };
            assert_eq!(
                from, taken[2],
                "trial {trial}, {damage:?}: the newest backup"
            );
            assert!(!problems.is_empty());
            assert_eq!(
                std::fs::read(&damaged_kept_at).expect("kept"),
                damaged_bytes,
                "trial {trial}, {damage:?}: the damaged file is kept as it was"
            );
            // SQLite, opening the damaged file for its check, may already have dropped a log
            // it cannot read; a log still there is moved beside the damaged file, unchanged.
            assert!(!wal.exists(), "no stale log beside the restored file");
            let moved = PathBuf::from(format!("{}-wal", damaged_kept_at.display()));
            if let (Some(stale), Ok(kept)) = (&stale_wal, std::fs::read(&moved)) {
                assert_eq!(&kept, stale);
            }
            assert_eq!(check_file(&db).expect("opens"), []);
            assert_eq!(assert_prefix(&db), 340);
            std::fs::remove_file(&damaged_kept_at).expect("cleans up");
            let _ = std::fs::remove_file(format!("{}-wal", damaged_kept_at.display()));
        }
    }
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(rotation.backups(&db).expect("lists"), {
        let mut newest_first = taken.clone();
        newest_first.reverse();
        newest_first
    });
}

#[test]
fn a_healthy_file_is_left_alone() {
    let (dir, db) = temp_path("F.db");
    let (rotation, _) = three_backups(&db, dir.path());
    let before = std::fs::read(&db).expect("reads");
    assert_eq!(
        check_or_recover(&db, Some(&rotation)).expect("checks"),
        Recovery::Healthy
    );
    assert_eq!(std::fs::read(&db).expect("reads"), before);
    let damaged: Vec<_> = std::fs::read_dir(dir.path())
        .expect("lists")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
        .collect();
    assert!(damaged.is_empty(), "{damaged:?}");
}

#[test]
fn a_damaged_newest_backup_is_skipped_for_the_one_before() {
    let (dir, db) = temp_path("F.db");
    let (rotation, taken) = three_backups(&db, dir.path());
    std::fs::write(&taken[2], b"this backup was damaged too").expect("writes");
    std::fs::write(&db, b"garbage").expect("writes");
    let Recovery::Restored { from, .. } = check_or_recover(&db, Some(&rotation)).expect("recovers")
    else {
        panic!("restored");
    };
    assert_eq!(from, taken[1]);
    assert_eq!(assert_prefix(&db), 320);
    assert_eq!(
        std::fs::read(&taken[2]).expect("the damaged backup is not deleted"),
        b"this backup was damaged too"
    );
}

#[test]
fn no_good_backup_is_a_typed_error_and_nothing_is_deleted() {
    let (dir, db) = temp_path("F.db");
    let (rotation, taken) = three_backups(&db, dir.path());
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    for backup in &taken {
        damage_file(backup, Damage::Truncate, &mut rng);
        let _ = std::fs::remove_file(format!("{}-wal", backup.display()));
    }
    std::fs::write(&db, b"garbage").expect("writes");
    let listed_before: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .expect("lists")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();

    let error = check_or_recover(&db, Some(&rotation)).expect_err("no good backup");
    let Error::NoGoodBackup { db: named, tried } = &error else {
        panic!("{error}");
    };
    assert_eq!(named, &db);
    let mut newest_first = taken.clone();
    newest_first.reverse();
    assert_eq!(tried, &newest_first);
    assert!(error.to_string().contains(s(&db)), "{error}");
    assert_eq!(std::fs::read(&db).expect("left in place"), b"garbage");
    let listed_after: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .expect("lists")
        .filter_map(|e| e.ok().map(|e| e.file_name()))
        .collect();
    assert_eq!(listed_after, listed_before);

    // Without a rotation there is nothing to try.
    let error = check_or_recover(&db, None).expect_err("no backup");
    assert!(
        matches!(&error, Error::NoGoodBackup { tried, .. } if tried.is_empty()),
        "{error}"
    );
    // And a missing file is a wrong path, not a damage.
    let missing = dir.path().join("missing.db");
    assert!(matches!(
        check_or_recover(&missing, Some(&rotation)),
        Err(Error::NoSuchDatabase { .. })
    ));
}

#[test]
fn svdb_backup_writes_a_healthy_copy_and_refuses_bad_arguments_before_any_work() {
    let (dir, db) = temp_path("F.db");
    collection_of(&db, 120);
    let copy = dir.path().join("copy.db");
    let output = svdb(&["backup", "--db", s(&db), "--to", s(&copy), "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("JSON");
    assert_eq!(report["backup"], s(&copy));
    assert_eq!(
        report["bytes"].as_u64(),
        Some(std::fs::metadata(&copy).expect("exists").len())
    );
    assert!(report["elapsed_ms"].as_f64().is_some());
    assert_healthy(&copy);
    assert_eq!(assert_prefix(&copy), 120);

    let output = svdb(&["backup", "--db", s(&db), "--to", s(&copy)]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("bytes: "), "{}", stdout(&output));

    let missing = dir.path().join("missing.db");
    let elsewhere = dir.path().join("never.db");
    assert_refused_before_any_work(
        &["backup", "--db", s(&missing), "--to", s(&elsewhere)],
        s(&missing),
    );
    assert!(!elsewhere.exists());
    assert_refused_before_any_work(
        &[
            "backup",
            "--db",
            s(&db),
            "--dir",
            s(dir.path()),
            "--keep",
            "0",
        ],
        "keep",
    );
    assert_refused_before_any_work(&["backup", "--db", s(&db), "--to", s(&db)], "itself");
    let output = svdb(&["backup", "--db", s(&db)]);
    assert_eq!(output.status.code(), Some(2), "a destination is required");
    assert_healthy(&db);
}

/// The measurement of a backup and a recovery on a large file, run by hand:
///
/// ```text
/// SVDB_BACKUP_DB=/tmp/bk/F.db cargo test --release --test backups -- --ignored --nocapture
/// ```
///
/// Copies the file beside itself, backs the copy up into a rotation, truncates the copy to
/// half and times the check and restore.
#[test]
#[ignore = "seconds to minutes on a large file: run by hand with SVDB_BACKUP_DB"]
fn measure_a_backup_and_a_recovery() {
    let Some(source) = std::env::var_os("SVDB_BACKUP_DB").map(PathBuf::from) else {
        eprintln!("SVDB_BACKUP_DB is not set: nothing measured");
        return;
    };
    let dir = tempfile::tempdir_in(source.parent().expect("a folder")).expect("temp dir");
    let db = dir.path().join("F.db");
    backup_file(&source, &db).expect("copies");
    let rotation = Rotation::new(dir.path().join("backups"), 3).expect("keep 3");
    let report = rotation.take(&db).expect("backs up");
    println!(
        "backup: {} bytes, {} pages in {:.1} ms",
        report.bytes,
        report.pages,
        report.elapsed.as_secs_f64() * 1000.0
    );
    let started = Instant::now();
    assert_eq!(check_file(&db).expect("opens"), []);
    println!(
        "check of a healthy file: {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    let half = std::fs::metadata(&db).expect("exists").len() / 2;
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .and_then(|f| f.set_len(half))
        .expect("truncates");
    let started = Instant::now();
    let recovery = check_or_recover(&db, Some(&rotation)).expect("recovers");
    assert!(matches!(recovery, Recovery::Restored { .. }));
    println!(
        "check, finding the damage, checking the backup and restoring it: {:.1} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
}
