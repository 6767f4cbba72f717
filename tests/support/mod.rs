//! Shared by the integration tests: the application over a test database, requests through the
//! router, and a real server driven by headless Chromium with axe-core.

#![allow(dead_code)]

pub mod browser;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use prevent_assure::app::{self, AppState};
use sqlx::PgPool;
use tower::ServiceExt;

/// The repository root, where `frameworks/` and `static/` live.
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn frameworks_dir() -> PathBuf {
    root().join("frameworks")
}

/// The application state over a (migrated, per-test) database, with the real framework files.
pub async fn state(pool: PgPool) -> AppState {
    let frameworks = app::load_frameworks(&pool, &frameworks_dir())
        .await
        .expect("the framework files load");
    AppState {
        db: pool,
        frameworks: Arc::new(frameworks),
        static_dir: root().join("static"),
    }
}

/// A response with its body read.
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl Reply {
    pub fn html(&self) -> scraper::Html {
        scraper::Html::parse_document(&self.body)
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("the body is JSON")
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends a GET through the router, as the server would.
pub async fn get(router: &Router, uri: &str) -> Reply {
    let request = Request::get(uri)
        .header(header::HOST, "localhost")
        .body(Body::empty())
        .expect("a valid request");
    send(router, request).await
}

pub async fn send(router: &Router, request: Request<Body>) -> Reply {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router answers");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("the body is readable")
        .to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// The texts of every element matching a CSS selector, whitespace collapsed.
pub fn texts(html: &scraper::Html, selector: &str) -> Vec<String> {
    let selector = scraper::Selector::parse(selector).expect("a valid selector");
    html.select(&selector)
        .map(|e| e.text().collect::<Vec<_>>().join(" "))
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}
