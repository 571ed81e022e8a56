//! Vectors that are finite but too large for `f32` distances: every database refuses them at the
//! door with [`Error::VectorTooLarge`], and vectors just under the limit index and search with
//! finite results.

use simple_vector_db::validation::MAX_SQUARED_NORM;
use simple_vector_db::{Error, Metric, VectorDbInMemory, VectorDbSqlite, VectorDbSqlitePq};

/// 2e19 squared is 4e38, past `f32::MAX` (3.4e38).
fn too_large() -> Vec<Vec<f32>> {
    vec![vec![1.0, 2.0, 3.0, 4.0], vec![2e19, 2e19, 2e19, 2e19]]
}

fn is_too_large<T: std::fmt::Debug>(result: Result<T, Error>) -> bool {
    match result {
        Err(Error::VectorTooLarge {
            squared_norm,
            limit,
        }) => squared_norm > limit && limit == MAX_SQUARED_NORM,
        other => panic!("expected VectorTooLarge, got {other:?}"),
    }
}

#[test]
fn every_database_refuses_vectors_past_the_limit_and_stores_nothing() {
    let mut memory = VectorDbInMemory::new();
    assert!(is_too_large(memory.insert(&too_large())));
    assert!(memory.is_empty());

    let mut sqlite = VectorDbSqlite::open_in_memory().expect("opens");
    assert!(is_too_large(sqlite.insert(&too_large(), None)));
    assert_eq!(sqlite.len().ok(), Some(0));

    let mut pq = VectorDbSqlitePq::open_in_memory(2, 2).expect("opens");
    assert!(is_too_large(pq.insert(&too_large(), None)));
    assert_eq!(pq.len().ok(), Some(0));

    // A query past the limit is refused too: its distances would overflow the same way.
    memory.insert(&[[1.0f32, 2.0]]).expect("an ordinary vector");
    assert!(is_too_large(memory.search(&[3e19, 0.0], 1)));
    sqlite
        .insert(&[[1.0f32, 2.0]], None)
        .expect("an ordinary vector");
    assert!(is_too_large(sqlite.search_without_index(&[3e19, 0.0], 1)));
}

#[test]
fn vectors_just_under_the_limit_index_and_search_with_finite_results() {
    // 64 values of ±~1.15e18: squared norms just under f32::MAX / 4, so squared distances
    // between them come within a whisker of f32::MAX.
    let edge = (MAX_SQUARED_NORM / 64.0).sqrt() as f32 * 0.999_99;
    let vectors: Vec<Vec<f32>> = (0..300)
        .map(|i| {
            (0..64)
                .map(|j| {
                    let sign = if (i * 7 + j * 3) % 3 == 0 { 1.0 } else { -1.0 };
                    sign * edge * (1.0 - ((i * 13 + j * 5) % 10) as f32 / 20.0)
                })
                .collect()
        })
        .collect();
    let mut db = VectorDbSqlite::open_in_memory().expect("opens");
    db.set_metric(Metric::Euclidean).expect("stores the metric");
    db.insert(&vectors, None).expect("under the limit");
    let centroids = db.create_kmeans_index(8).expect("builds");
    assert!(centroids.iter().flatten().all(|x| x.is_finite()));
    let found = db
        .search_in_kmeans_index(&vectors[5], 3, 8)
        .expect("valid query");
    assert_eq!(found.neighbours[0].id, 5, "a vector finds itself first");
    assert!(found.neighbours.iter().all(|n| n.score.is_finite()));

    let mut pq = VectorDbSqlitePq::open_in_memory(8, 16).expect("opens");
    pq.insert(&vectors, None).expect("under the limit");
    let nearest = pq
        .search_without_index(&vectors[5], 3)
        .expect("valid query");
    assert!(nearest.iter().all(|n| n.score.is_finite()), "{nearest:?}");

    // And one step past the limit, the same databases refuse.
    assert!(is_too_large(db.insert(&[vec![edge * 1.01; 64]], None)));
}
