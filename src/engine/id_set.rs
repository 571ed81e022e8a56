//! A set of ids asked "is this one in?" millions of times: the ids a filter lets through.
//!
//! A filtered search asks the question for every node it reaches (a graph walking two hops
//! asks it for a thousand nodes per step), so the answer must cost a few nanoseconds. A hash
//! set costs a hash and a probe into memory spread over the whole set; Milvus answers with a
//! bitset over a segment's rows instead, one bit per row. Ids are mostly dense (numbered from
//! 0, or from some offset), so [`IdSet`] is a bitset over the span from the smallest id to the
//! largest when that span is not much larger than the set (or under 1 MiB), one bit per id:
//! 12.5 KB for any filter over 100,000 ids, which stays in cache. Sparse ids fall back to a
//! hash set.

use std::collections::HashSet;

/// Above this many span bits per id in the set, a bitset would waste memory: a hash set then
/// (8 bytes per id, about what a hash set spends)...
const MAX_BITS_PER_ID: u64 = 64;

/// ... unless the whole bitset is this small anyway (1 MiB): a hundred ids among a million are
/// still asked about faster in a bitset.
const SMALL_BITSET_BITS: u64 = 1 << 23;

// ANCHOR: id_set
/// The ids that pass a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdSet {
    /// Bit `id - first` of `bits` is set for each id in the set.
    Bits {
        first: i64,
        bits: Vec<u64>,
        len: usize,
    },
    /// For ids too sparse for a bitset.
    Hashed(HashSet<i64>),
}

impl IdSet {
    /// The set of `ids` (in any order, repeats counted once).
    pub fn new(ids: &[i64]) -> Self {
        // ANCHOR: starter_ch14_task1_id_set_new
        let (Some(&first), Some(&last)) = (ids.iter().min(), ids.iter().max()) else {
            return IdSet::Hashed(HashSet::new());
        };
        let span = last.abs_diff(first).saturating_add(1);
        if span
            > (ids.len() as u64)
                .saturating_mul(MAX_BITS_PER_ID)
                .max(SMALL_BITSET_BITS)
        {
            return IdSet::Hashed(ids.iter().copied().collect());
        }
        // The span is at most 64 bits per id, or 1 MiB: it fits in memory as the ids do.
        let words = usize::try_from(span.div_ceil(64)).unwrap_or(usize::MAX);
        let mut bits = vec![0u64; words];
        let mut len = 0;
        for &id in ids {
            let offset = id.abs_diff(first);
            let (word, bit) = ((offset / 64) as usize, offset % 64);
            len += usize::from(bits[word] & (1 << bit) == 0);
            bits[word] |= 1 << bit;
        }
        IdSet::Bits { first, bits, len }
        // ANCHOR_END: starter_ch14_task1_id_set_new
    }

    /// `true` when `id` is in the set.
    #[inline]
    pub fn contains(&self, id: i64) -> bool {
        // ANCHOR: starter_ch14_task2_id_set_contains
        match self {
            IdSet::Bits { first, bits, .. } => {
                if id < *first {
                    return false;
                }
                let offset = id.abs_diff(*first);
                bits.get((offset / 64) as usize)
                    .is_some_and(|word| word & (1 << (offset % 64)) != 0)
            }
            IdSet::Hashed(set) => set.contains(&id),
        }
        // ANCHOR_END: starter_ch14_task2_id_set_contains
    }
    // ANCHOR_END: id_set

    /// How many ids.
    pub fn len(&self) -> usize {
        match self {
            IdSet::Bits { len, .. } => *len,
            IdSet::Hashed(set) => set.len(),
        }
    }

    /// `true` when no id passes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl FromIterator<i64> for IdSet {
    fn from_iter<I: IntoIterator<Item = i64>>(ids: I) -> Self {
        let ids: Vec<i64> = ids.into_iter().collect();
        IdSet::new(&ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dense_ids_make_a_bitset_and_sparse_ones_a_hash_set() {
        assert!(matches!(IdSet::new(&[5, 7, 9]), IdSet::Bits { len: 3, .. }));
        assert!(matches!(
            IdSet::new(&[i64::MIN, 0, i64::MAX]),
            IdSet::Hashed(_)
        ));
        assert!(IdSet::new(&[]).is_empty());
    }

    proptest! {
        #[test]
        fn answers_as_a_hash_set_does(
            ids in proptest::collection::vec(-300i64..300, 0..60),
            far in proptest::option::of(any::<i64>()),
            probe in proptest::collection::vec(-400i64..400, 0..40),
        ) {
            let mut ids = ids;
            ids.extend(far);
            let set = IdSet::new(&ids);
            let reference: HashSet<i64> = ids.iter().copied().collect();
            prop_assert_eq!(set.len(), reference.len());
            for id in probe.into_iter().chain(far).chain([i64::MIN, i64::MAX]) {
                prop_assert_eq!(set.contains(id), reference.contains(&id), "id {}", id);
            }
        }
    }
}
