//! Chapter 5's exercises: brute force streamed from SQLite, and a BLOB viewed without copying.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 5`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::engine::{Collection, SearchParams};
use simple_vector_db::vector_blob::blob_as_vector;
use simple_vector_db::{Error, Metric};

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[
    (
        "ch05_task1_streaming_search",
        "The search",
        "one TopK of k for the whole scan; rows::for_each_row hands you (id, blob): view it with blob_as_vector (one scratch Vec for the scan), push (id, metric.score(query, vector)); return the heap's neighbours",
    ),
    (
        "ch05_task2_blob_as_vector",
        "The BLOB as `&[f32]`, without copying when possible",
        "on a little-endian machine bytemuck::try_cast_slice views aligned bytes in place; otherwise (misaligned, or big-endian) decode into `scratch` with f32::from_le_bytes and return it",
    ),
];

#[test]
fn ch05_task1_streaming_search() {
    let mut collection = Collection::open_in_memory().expect("opens");
    collection.set_metric(Metric::Euclidean).expect("metric");
    let vectors: Vec<Vec<f32>> = (0..300).map(|i| vec![i as f32, (i % 7) as f32]).collect();
    let ids: Vec<i64> = (0..300).collect();
    collection.insert(&vectors, Some(&ids)).expect("stored");
    let found = collection
        .search(None, &[100.2, 2.0], &SearchParams::k(3))
        .expect("brute force");
    let found: Vec<(i64, f32)> = found.iter().map(|n| (n.id, n.score)).collect();
    // 100 is (100, 2): distance 0.2; 101 is (101, 3), 99 is (99, 1).
    assert_eq!(
        found.iter().map(|f| f.0).collect::<Vec<_>>(),
        vec![100, 101, 99]
    );
    assert!(
        (found[0].1 - 0.2).abs() < 1e-4,
        "euclidean distance, not squared: {found:?}"
    );
    let all = collection
        .search(None, &[0.0, 0.0], &SearchParams::k(1000))
        .expect("brute force");
    assert_eq!(all.len(), 300, "k larger than the table: every row");
    assert_eq!(all[0].id, 0);
    assert!(
        all.windows(2).all(|w| w[0].score <= w[1].score),
        "best first"
    );
}

#[test]
fn ch05_task2_blob_as_vector() {
    let values = [1.5f32, -2.0, 0.125];
    let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    // Four starting offsets: whatever the buffer's alignment, one view starts on a 4-byte
    // boundary (the in-place path) and three do not (the copy into `scratch`).
    let mut padded = vec![0u8; 3];
    padded.extend_from_slice(&bytes);
    padded.extend_from_slice(&bytes);
    for offset in 0..4 {
        let blob = &padded[offset..offset + 12];
        let expected: Vec<f32> = blob
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        let mut scratch = Vec::new();
        let view = blob_as_vector(blob, 3, &mut scratch).expect("decodes");
        assert_eq!(view, &expected[..], "offset {offset}");
    }
    assert_eq!(
        blob_as_vector(&padded[3..15], 3, &mut Vec::new()).expect("decodes"),
        &values[..]
    );
    let mut scratch = vec![9.0; 10];
    assert_eq!(
        blob_as_vector(&padded[3..15], 3, &mut scratch).expect("decodes"),
        &values[..],
        "a scratch that held another row's values is cleared first"
    );
    assert!(matches!(
        blob_as_vector(&bytes[..8], 3, &mut scratch),
        Err(Error::BlobLength {
            len: 8,
            expected: 12
        })
    ));
}
