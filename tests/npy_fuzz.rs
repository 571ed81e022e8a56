//! A bounded, deterministic fuzz test of `.npy` reading.
//!
//! A few valid files are mutated thousands of times (bit flips, inserted and deleted bytes,
//! truncations, appended garbage, and rewrites of the header's fields: huge, negative and
//! malformed shapes, other element types, other versions and header lengths), and every mutant
//! is read with both `load_vectors` and `load_ids`. Nothing may panic, and whatever is accepted
//! must be what the header says: the right number of rows and values per row, all finite, and
//! exactly as many bytes of data as the shape needs. The random generator is seeded, so a
//! failure names a mutant that can be replayed.
//!
//! The loop stops after [`MUTANTS`] mutants, or after [`TIME_LIMIT`] on a very slow machine; a
//! normal run (a few seconds in a debug build) must get through at least [`MIN_MUTANTS`].

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use ndarray::{array, Array2, ShapeBuilder};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use simple_vector_db::datasets::npy::{load_ids, load_vectors, write_vectors};
use simple_vector_db::datasets::npy_header::{self, NpyHeader};

const MUTANTS: usize = 20_000;
const MIN_MUTANTS: usize = 2000;
const TIME_LIMIT: Duration = Duration::from_secs(20);

/// Valid files of every kind the readers accept: float32 and float64, C and Fortran order,
/// little- and big-endian, version 1.0 and 2.0 headers, and 1-D int64 and int32 ids.
fn seeds(dir: &Path) -> Vec<Vec<u8>> {
    let vectors: Vec<Vec<f32>> = (0..12)
        .map(|i| (0..5).map(|j| (i * 5 + j) as f32 * 0.5 - 7.0).collect())
        .collect();
    let c_order = dir.join("seed_f4.npy");
    write_vectors(&c_order, &vectors).expect("writes");
    let fortran = dir.join("seed_f8_fortran.npy");
    let columns = Array2::from_shape_vec((3, 4).f(), (0..12).map(f64::from).collect())
        .expect("shape matches");
    ndarray_npy::write_npy(&fortran, &columns).expect("writes");
    let ids = dir.join("seed_i4.npy");
    ndarray_npy::write_npy(&ids, &array![4i32, -1, 7, 1 << 30]).expect("writes");

    let mut big_endian = npy_header::encode(">f4", &[2, 3]);
    big_endian.extend((0..6).flat_map(|i| (i as f32).to_be_bytes()));
    let mut ids_i8 = npy_header::encode("<i8", &[5]);
    ids_i8.extend((0..5i64).flat_map(|i| (i * 1000 - 2).to_le_bytes()));
    // The same ids behind a version 2.0 preamble (a 4-byte header length).
    let header = &ids_i8[10..128];
    let mut version_2 = b"\x93NUMPY\x02\x00".to_vec();
    version_2.extend_from_slice(&(header.len() as u32).to_le_bytes());
    version_2.extend_from_slice(header);
    version_2.extend_from_slice(&ids_i8[128..]);

    let mut seeds: Vec<Vec<u8>> = [c_order, fortran, ids]
        .iter()
        .map(|path| std::fs::read(path).expect("reads back"))
        .collect();
    seeds.extend([big_endian, ids_i8, version_2]);
    seeds
}

/// Header values a hostile or broken file might hold instead of the real ones.
const SHAPES: [&str; 21] = [
    // Shapes that fit some seed's data, so that rewritten headers are sometimes accepted.
    "(12, 5)",
    "(6, 10)",
    "(60,)",
    "(3, 4)",
    "(4, 3)",
    "(5,)",
    "(2L, 3L)",
    // Shapes that lie, overflow or make no sense.
    "(1000000000000000, 1)",
    "(4611686018427387904,)",
    "(18446744073709551615, 18446744073709551615)",
    "(99999999999999999999999, 2)",
    "(-1, 5)",
    "(3, -4)",
    "(0, 5)",
    "(12, 0)",
    "()",
    "(2, 3, 4)",
    "(60,)",
    "(5)",
    "(2.5, 2)",
    "[12, 5]",
];
const DESCRS: [&str; 12] = [
    "'<f4'",
    "'>f8'",
    "'<i8'",
    "'<i4'",
    "'<f2'",
    "'|u1'",
    "'<c8'",
    "'O'",
    "''",
    "'<f4",
    "[('x', '<f4')]",
    "'<f4\\x00'",
];
const ORDERS: [&str; 4] = ["True", "False", "0", "None"];

/// One random change to `bytes`.
fn mutate(bytes: &mut Vec<u8>, rng: &mut Xoshiro256PlusPlus) {
    // Most of what can go wrong is in the first 128 bytes (preamble and header): aim there often.
    let position = |rng: &mut Xoshiro256PlusPlus, len: usize| {
        if len == 0 {
            0
        } else if rng.gen_bool(0.6) {
            rng.gen_range(0..len.min(128))
        } else {
            rng.gen_range(0..len)
        }
    };
    match rng.gen_range(0..8) {
        0 => {
            if !bytes.is_empty() {
                let at = position(rng, bytes.len());
                bytes[at] ^= 1 << rng.gen_range(0..8);
            }
        }
        1 => {
            let at = position(rng, bytes.len() + 1).min(bytes.len());
            let count = rng.gen_range(1..=8);
            let inserted: Vec<u8> = (0..count).map(|_| rng.gen()).collect();
            bytes.splice(at..at, inserted);
        }
        2 => {
            if !bytes.is_empty() {
                let at = position(rng, bytes.len());
                let end = (at + rng.gen_range(1..=16)).min(bytes.len());
                bytes.drain(at..end);
            }
        }
        3 => {
            let len = rng.gen_range(0..=bytes.len());
            bytes.truncate(len);
        }
        4 => {
            let count = rng.gen_range(1..=64);
            bytes.extend((0..count).map(|_| rng.gen::<u8>()));
        }
        5 => rewrite_header(bytes, rng),
        6 => {
            // The header length field: off by a little, or huge.
            if bytes.len() >= 10 {
                let length = match rng.gen_range(0..4) {
                    0 => rng.gen_range(0..16u16),
                    1 => u16::MAX,
                    2 => u16::from_le_bytes([bytes[8], bytes[9]]).wrapping_add(rng.gen_range(1..8)),
                    _ => u16::from_le_bytes([bytes[8], bytes[9]]).wrapping_sub(rng.gen_range(1..8)),
                };
                bytes[8..10].copy_from_slice(&length.to_le_bytes());
            }
        }
        _ => {
            // The version: an unknown one, or the other header-length width.
            if bytes.len() >= 8 {
                bytes[6] = [0u8, 1, 2, 3, 4, 255][rng.gen_range(0..6)];
                bytes[7] = if rng.gen_bool(0.8) { 0 } else { rng.gen() };
            }
        }
    }
}

/// Replaces the header's dictionary with one built from hostile field values, keeping (or
/// not) the data that followed it.
fn rewrite_header(bytes: &mut Vec<u8>, rng: &mut Xoshiro256PlusPlus) {
    let data = match npy_header::parse(bytes) {
        Ok(header) => bytes[header.data_offset..].to_vec(),
        Err(_) => bytes.get(128..).unwrap_or_default().to_vec(),
    };
    let pick = |rng: &mut Xoshiro256PlusPlus, values: &[&'static str]| {
        values[rng.gen_range(0..values.len())]
    };
    let (descr, order, shape) = (pick(rng, &DESCRS), pick(rng, &ORDERS), pick(rng, &SHAPES));
    let mut entries = vec![
        format!("'descr': {descr}"),
        format!("'fortran_order': {order}"),
        format!("'shape': {shape}"),
    ];
    match rng.gen_range(0..6) {
        0 => {
            entries.remove(rng.gen_range(0..3));
        }
        1 => entries.push(format!("'shape': {}", pick(rng, &SHAPES))),
        2 => entries.push("'extra': 1".to_string()),
        _ => {}
    }
    let mut text = format!("{{{}, }}", entries.join(", "));
    // Pad like NumPy: the preamble and header end on a 64-byte boundary.
    while (10 + text.len() + 1) % 64 != 0 {
        text.push(' ');
    }
    text.push('\n');
    let mut rewritten = b"\x93NUMPY\x01\x00".to_vec();
    rewritten.extend_from_slice(&(text.len() as u16).to_le_bytes());
    rewritten.extend_from_slice(text.as_bytes());
    rewritten.extend_from_slice(&data);
    *bytes = rewritten;
}

/// The size of one value of a `descr` both readers accept.
fn item_size(header: &NpyHeader) -> Option<usize> {
    match header.descr.get(1..)? {
        "f4" | "i4" => Some(4),
        "f8" | "i8" => Some(8),
        _ => None,
    }
}

/// What was accepted must agree with the header of the file it came from.
fn check_accepted(bytes: &[u8], shape_read: &[usize], all_finite: bool, what: &str) {
    let header = npy_header::parse(bytes)
        .unwrap_or_else(|reason| panic!("{what} accepted a file whose header is bad: {reason}"));
    assert_eq!(
        header.shape, shape_read,
        "{what}: the shape read is the header's"
    );
    let size = item_size(&header).unwrap_or_else(|| panic!("{what} accepted {}", header.descr));
    let values: usize = header.shape.iter().product();
    assert_eq!(
        header.data_offset + values * size,
        bytes.len(),
        "{what}: exactly the data the shape needs"
    );
    assert!(all_finite, "{what}: every value is finite");
}

#[test]
fn mutated_npy_files_never_panic_and_what_is_accepted_matches_its_header() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let seeds = seeds(dir.path());
    for seed in &seeds {
        // Every seed is valid for one of the two readers.
        let path = dir.path().join("check.npy");
        std::fs::write(&path, seed).expect("write");
        assert!(load_vectors(&path).is_ok() || load_ids(&path).is_ok());
    }

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x6e70_795f_6675_7a7a);
    let path = dir.path().join("mutant.npy");
    let started = Instant::now();
    let (mut mutants, mut panics, mut accepted) = (0usize, 0usize, 0usize);
    while mutants < MUTANTS && started.elapsed() < TIME_LIMIT {
        let mut bytes = seeds[rng.gen_range(0..seeds.len())].clone();
        for _ in 0..rng.gen_range(1..=3) {
            mutate(&mut bytes, &mut rng);
        }
        // A fresh file each time: truncating one makes ext4 flush it to disk, 100x slower.
        let _ = std::fs::remove_file(&path);
        std::fs::write(&path, &bytes).expect("write the mutant");
        mutants += 1;

        match catch_unwind(AssertUnwindSafe(|| load_vectors(&path))) {
            Err(_) => panics += 1,
            Ok(Ok(vectors)) => {
                accepted += 1;
                let rows = vectors.len();
                let columns = vectors.first().map_or(0, Vec::len);
                assert!(
                    vectors.iter().all(|v| v.len() == columns),
                    "mutant {mutants}"
                );
                let finite = vectors.iter().flatten().all(|x| x.is_finite());
                check_accepted(&bytes, &[rows, columns], finite, "load_vectors");
            }
            Ok(Err(_)) => {}
        }
        match catch_unwind(AssertUnwindSafe(|| load_ids(&path))) {
            Err(_) => panics += 1,
            Ok(Ok(ids)) => {
                accepted += 1;
                check_accepted(&bytes, &[ids.len()], true, "load_ids");
            }
            Ok(Err(_)) => {}
        }
    }
    eprintln!(
        "{mutants} mutants in {:.1} s: {accepted} reads accepted, {panics} panics",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(panics, 0, "no mutant may make a reader panic");
    if mutants < MIN_MUTANTS {
        // Only a machine far slower than any CI stops here; the mutants that ran still count.
        assert!(started.elapsed() >= TIME_LIMIT);
        eprintln!("warning: only {mutants} mutants ran before the time limit");
    }
    assert!(
        accepted > 0,
        "some mutants stay valid, so the check above is exercised"
    );
}
