//! The page at `GET /`: a search form for a person, in one HTML file.
//!
//! It is `page.html`, compiled into the binary (`include_str!`): inline CSS and JavaScript, no
//! external asset, no build step. It reads `/info` for the indexes and the dimension, sends
//! `POST /search`, and shows the neighbours in a table. On 64-dimensional collections (the
//! digits set: 8 × 8 pixels valued 0 to 16) it draws the query and each neighbour as a small
//! grey image with its `label` under it, so that a student sees what "nearest" means.
//! `/?id=N` runs the search for the stored vector `N` as the page loads.

use axum::response::Html;

/// The page's source.
pub const PAGE: &str = include_str!("page.html");

/// `GET /`.
pub async fn page() -> Html<&'static str> {
    Html(PAGE)
}
