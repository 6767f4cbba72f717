//! Cross-site request forgery: a state-changing request must come from our own pages. Browsers
//! say where a request comes from in Sec-Fetch-Site (and Origin); anything else is refused.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::message_page;

/// Whether the request's own headers show it was sent by a page of this site, reached at
/// `public_url` (scheme, host and port).
pub fn same_origin(headers: &HeaderMap, public_url: &str) -> bool {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        if site != "same-origin" && site != "none" {
            return false;
        }
        // A browser that sends both: the Origin must agree too.
        return origin.is_none_or(|o| origin_matches(o, headers, public_url));
    }
    // Older browsers: the Origin must name this service.
    origin.is_some_and(|o| origin_matches(o, headers, public_url))
}

/// The Origin is the public address's, or this host's with the public address's scheme
/// (`https://host` is not accepted on an `http` service, nor the other way round).
fn origin_matches(origin: &str, headers: &HeaderMap, public_url: &str) -> bool {
    let public = public_url.trim_end_matches('/');
    let public_origin = match public.find("://") {
        Some(i) => match public[i + 3..].find('/') {
            Some(j) => &public[..i + 3 + j],
            None => public,
        },
        None => public,
    };
    if origin.eq_ignore_ascii_case(public_origin) {
        return true;
    }
    let scheme = if public_origin.starts_with("https://") {
        "https://"
    } else {
        "http://"
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    origin
        .strip_prefix(scheme)
        .is_some_and(|authority| authority.eq_ignore_ascii_case(host))
}

/// Refuses a state-changing request from another site with a friendly 403 page.
pub async fn guard(
    axum::extract::State(state): axum::extract::State<crate::app::AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    // A mail program's one-click unsubscribe (RFC 8058) comes from no page: the token in the
    // address is its authority, and all it can do is turn optional mail off.
    let unsubscribe = request.uri().path().starts_with("/unsubscribe/");
    if safe || unsubscribe || same_origin(request.headers(), &state.settings.public_url) {
        return next.run(request).await;
    }
    tracing::warn!(path = %request.uri().path(), "refused a cross-site request");
    message_page(
        StatusCode::FORBIDDEN,
        "This form could not be sent",
        "The request did not come from a page of this service, so nothing was changed. Go back to the page, reload it and try again.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("a header value"));
        }
        h
    }

    #[test]
    fn the_origin_must_match_the_services_scheme_host_and_port() {
        let url = "http://assure.example:8080";
        let ok = headers(&[("origin", "http://assure.example:8080"), ("host", "x")]);
        assert!(same_origin(&ok, url));
        let by_host = headers(&[
            ("origin", "http://10.0.0.5:3000"),
            ("host", "10.0.0.5:3000"),
        ]);
        assert!(
            same_origin(&by_host, url),
            "this host, the service's scheme"
        );
        let wrong_scheme = headers(&[
            ("origin", "https://10.0.0.5:3000"),
            ("host", "10.0.0.5:3000"),
        ]);
        assert!(!same_origin(&wrong_scheme, url));
        let wrong_port = headers(&[
            ("origin", "http://assure.example:9090"),
            ("host", "assure.example:8080"),
        ]);
        assert!(!same_origin(&wrong_port, url));
        let cross = headers(&[
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://assure.example:8080"),
        ]);
        assert!(!same_origin(&cross, url));
        let disagree = headers(&[
            ("sec-fetch-site", "same-origin"),
            ("origin", "https://evil.example"),
            ("host", "assure.example:8080"),
        ]);
        assert!(!same_origin(&disagree, url));
        assert!(same_origin(
            &headers(&[("sec-fetch-site", "same-origin")]),
            url
        ));
        assert!(!same_origin(&headers(&[]), url));
    }
}
