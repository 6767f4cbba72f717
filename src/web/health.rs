//! Liveness and database reachability, for load balancers and monitoring.

use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use axum::routing::get;
use serde::Serialize;

use crate::app::AppState;
use crate::db;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// The benchmark suite's floor: one trivial query and a tiny template, no sign-in, served only
/// when `BENCH_FLOOR` is set. Every view's throughput is measured against it in the same run.
pub fn floor_router() -> Router<AppState> {
    Router::new().route("/bench/floor", get(floor))
}

#[derive(askama::Template)]
#[template(path = "bench_floor.html")]
struct FloorPage {
    regions: i64,
}

async fn floor(State(state): State<AppState>) -> crate::error::AppResult<Html<String>> {
    let regions = db::places::count_regions(&state.db).await?;
    Ok(Html(askama::Template::render(&FloorPage { regions })?))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    database: &'static str,
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let reachable = matches!(
        tokio::time::timeout(Duration::from_millis(900), db::ping(&state.db)).await,
        Ok(Ok(()))
    );
    if reachable {
        (
            StatusCode::OK,
            Json(Health {
                status: "ok",
                database: "up",
            }),
        )
    } else {
        tracing::warn!("health check: the database does not answer");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "unavailable",
                database: "down",
            }),
        )
    }
}
