//! Chapter 4's exercises: a vector as a BLOB, and back.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 4`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::vector_blob::{blob_to_vector, vector_to_blob};
use simple_vector_db::Error;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[
    (
        "ch04_task1_vector_to_blob",
        "A vector as a BLOB",
        "4 bytes per value, little-endian whatever the machine: f32::to_le_bytes",
    ),
    (
        "ch04_task2_blob_to_vector",
        "A vector as a BLOB",
        "the length is checked before your code; read 4 bytes at a time with f32::from_le_bytes",
    ),
];

#[test]
fn ch04_task1_vector_to_blob() {
    let blob = vector_to_blob(&[1.0, -2.5]);
    assert_eq!(blob, vec![0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x20, 0xC0]);
    assert!(vector_to_blob(&[]).is_empty());
    assert_eq!(vector_to_blob(&[0.1; 7]).len(), 28);
}

#[test]
fn ch04_task2_blob_to_vector() {
    // The chapter's vector 0: `4C 76 50 3F …`, about 0.8143.
    let blob = [0x4C, 0x76, 0x50, 0x3F, 0x00, 0x00, 0x80, 0x3F];
    let vector = blob_to_vector(&blob, 2).expect("decodes");
    assert_eq!(vector, vec![f32::from_bits(0x3F50_764C), 1.0]);
    let original = [0.25, -7.0, 1e-20, f32::MAX];
    let blob: Vec<u8> = original.iter().flat_map(|x| x.to_le_bytes()).collect();
    assert_eq!(
        blob_to_vector(&blob, 4).expect("decodes"),
        original.to_vec()
    );
    assert!(matches!(
        blob_to_vector(&blob[..5], 4),
        Err(Error::BlobLength {
            len: 5,
            expected: 16
        })
    ));
}
