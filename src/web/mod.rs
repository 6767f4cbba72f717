//! The web layer: one module per area, each with its handlers, forms, pages and `router()`.

pub mod frameworks;
pub mod health;
pub mod home;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::AppState;
use crate::error::error_page;

/// Every area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(health::router())
        .merge(frameworks::router())
        .fallback(not_found)
}

async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, None)
}
