//! Chapter 14's exercises: the set of ids that pass a filter, a bitset when the ids are dense.
//!
//! Each `#[test]` is one task of the book, named as the chapter names it; `cargo xtask check 14`
//! runs them against the starter and prints the hint of [`HINTS`] for each one that fails.

use simple_vector_db::engine::IdSet;

/// (task, the section that teaches it, what to re-read when it fails): read by `cargo xtask`.
#[allow(dead_code)]
const HINTS: &[(&str, &str, &str)] = &[
    (
        "ch14_task1_id_set_new",
        "Four strategies",
        "no ids: an empty Hashed set; ids spread over more than MAX_BITS_PER_ID bits each (and more than SMALL_BITSET_BITS): Hashed; else one bit per id from the smallest, len counting each id once",
    ),
    (
        "ch14_task2_id_set_contains",
        "Four strategies",
        "Bits: an id below `first` is out, else test bit (id - first) % 64 of word (id - first) / 64, a word past the end meaning out; Hashed: ask the set",
    ),
];

#[test]
fn ch14_task1_id_set_new() {
    let dense = IdSet::new(&[12, 10, 11, 10, 75]);
    match &dense {
        IdSet::Bits { first, bits, len } => {
            assert_eq!(*first, 10);
            assert_eq!(*len, 4, "10 given twice counts once");
            assert_eq!(bits.len(), 2, "ids 10 to 75 span 66 bits: two words");
            assert_eq!(bits[0], 0b111, "ids 10, 11, 12 are bits 0, 1, 2");
            assert_eq!(bits[1], 1 << 1, "id 75 is bit 65");
        }
        IdSet::Hashed(_) => panic!("dense ids make a bitset: {dense:?}"),
    }
    assert_eq!(dense.len(), 4);
    let sparse = IdSet::new(&[1, 1 << 40, -(1 << 40)]);
    assert!(
        matches!(sparse, IdSet::Hashed(ref s) if s.len() == 3),
        "{sparse:?}"
    );
    assert!(IdSet::new(&[]).is_empty());
}

#[test]
fn ch14_task2_id_set_contains() {
    // Sets made by hand, so that this check does not depend on task 1.
    let ids: Vec<i64> = (100..300).step_by(3).collect();
    let mut bits = vec![0u64; 4];
    for &id in &ids {
        let offset = (id - 100) as usize;
        bits[offset / 64] |= 1 << (offset % 64);
    }
    let by_hand = [
        IdSet::Hashed(ids.iter().copied().collect()),
        IdSet::Bits {
            first: 100,
            bits,
            len: ids.len(),
        },
    ];
    for set in &by_hand {
        for id in 0..400 {
            assert_eq!(set.contains(id), ids.contains(&id), "id {id} in {set:?}");
        }
        assert!(!set.contains(i64::MIN) && !set.contains(i64::MAX));
    }
    // Negative ids, from task 1's constructor.
    let negative = IdSet::new(&[-5, -3]);
    assert!(negative.contains(-5) && negative.contains(-3));
    assert!(!negative.contains(-4) && !negative.contains(-6) && !negative.contains(64));
}
