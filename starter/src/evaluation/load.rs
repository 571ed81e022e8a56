//! Loading a data set's base into a collection, under ids `0..n`.

use crate::distances::Metric;
use crate::engine::Collection;
use crate::error::Result;
use crate::sqlite_store::Layout;

// ANCHOR: load_collection
/// A new in-memory collection of `layout` ranking by `metric`, holding `base` under ids `0..n`
/// (the ids the ground truth uses).
///
/// # Errors
///
/// A bad vector in `base`.
pub fn load_collection<V: AsRef<[f32]>>(
    base: &[V],
    metric: Metric,
    layout: Layout,
) -> Result<Collection> {
    let mut collection = Collection::open_in_memory_with_layout(layout)?;
    collection.set_metric(metric)?;
    let ids: Vec<i64> = (0..base.len() as i64).collect();
    collection.insert(base, Some(&ids))?;
    Ok(collection)
}
// ANCHOR_END: load_collection
