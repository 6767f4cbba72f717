//! Cross-site request forgery: a state-changing request must come from our own pages. Browsers
//! say where a request comes from in Sec-Fetch-Site (and Origin); anything else is refused.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::message_page;

/// Whether the request's own headers show it was sent by a page of this site.
pub fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return site == "same-origin" || site == "none";
    }
    // Older browsers: the Origin must name this host.
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    authority == host
}

/// Refuses a state-changing request from another site with a friendly 403 page.
pub async fn guard(request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if safe || same_origin(request.headers()) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
    message_page(
        StatusCode::FORBIDDEN,
        "This form could not be sent",
        "The request did not come from a page of this service, so nothing was changed. Go back to the page, reload it and try again.",
    )
}
