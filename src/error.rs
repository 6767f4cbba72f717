//! One error type for the web layer. A 5xx is logged with its cause and shown as a plain
//! apology with a reference; the cause never reaches the browser.

use askama::Template;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

use crate::web::chrome::Chrome;

/// Result of a handler.
pub type AppResult<T, E = AppError> = Result<T, E>;

/// What went wrong while answering a request.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<askama::Error> for AppError {
    fn from(e: askama::Error) -> Self {
        AppError::Internal(anyhow::Error::new(e).context("rendering a template"))
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    chrome: Chrome,
    status: u16,
    heading: &'a str,
    message: &'a str,
    reference: Option<String>,
    /// What the person sent, when the page is the answer to a form that was not saved:
    /// (label, id, text).
    sent: Vec<(String, String, String)>,
}

/// What kind of database failure an error is, for the page it gets.
enum Failure {
    /// The database cannot be reached (refused, cut, or no connection free in time).
    Outage,
    /// The database refused text it cannot store (NUL), should any reach it.
    BadText,
    Other,
}

fn failure(e: &anyhow::Error) -> Failure {
    let Some(db) = e.chain().find_map(|c| c.downcast_ref::<sqlx::Error>()) else {
        return Failure::Other;
    };
    match db {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => Failure::Outage,
        sqlx::Error::Database(d)
            if matches!(d.code().as_deref(), Some("22021") | Some("22P05")) =>
        {
            Failure::BadText
        }
        // The server went away mid-statement (a restart, a cut connection).
        sqlx::Error::Database(d)
            if d.code()
                .as_deref()
                .is_some_and(|c| c.starts_with("57P") || c.starts_with("08")) =>
        {
            Failure::Outage
        }
        _ => Failure::Other,
    }
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Internal(e) => match failure(e) {
                Failure::Outage => StatusCode::SERVICE_UNAVAILABLE,
                Failure::BadText => StatusCode::BAD_REQUEST,
                Failure::Other => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }
}

/// Renders the error page with a heading and message of the caller's choosing.
pub fn message_page(status: StatusCode, heading: &str, message: &str) -> Response {
    let page = ErrorPage {
        chrome: Chrome::default(),
        status: status.as_u16(),
        heading,
        message,
        reference: None,
        sent: Vec::new(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page");
            (status, heading.to_owned()).into_response()
        }
    }
}

/// Renders the error page for a status, with a reference to quote for server errors.
pub fn error_page(status: StatusCode, reference: Option<String>) -> Response {
    let (heading, message) = match status {
        StatusCode::NOT_FOUND => (
            "Page not found",
            "If you typed the web address, check it is correct. If you pasted it, check you copied the entire address.",
        ),
        StatusCode::FORBIDDEN => (
            "You do not have permission to see this page",
            "Your account does not give you access to this page. If you think it should, ask your Prevent lead or an administrator.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => (
            "Sorry, the service is unavailable",
            "The service cannot reach its database just now, so what you just sent was not saved (if the connection went at the very moment it was being saved, it may have been: check the page before sending it again). What you saved before is safe. If you were typing, go back and check your text is still in the page before you leave it (copy it if so). Wait a minute, then send it again.",
        ),
        StatusCode::BAD_REQUEST => (
            "Sorry, that could not be saved",
            "What was sent held characters that cannot be stored, so nothing was saved. Go back, take out any unusual characters (for example from text pasted from another program) and try again.",
        ),
        s if s.is_server_error() => (
            "Sorry, there is a problem with the service",
            "What you just sent may not have been saved: check the page before sending it again. What you saved before is safe. If the problem continues, contact the service team and quote the reference below.",
        ),
        StatusCode::TOO_MANY_REQUESTS => ("Too many attempts", "Wait 15 minutes, then try again."),
        _ => (
            "Sorry, that request could not be handled",
            "Go back and try again.",
        ),
    };
    let page = ErrorPage {
        chrome: Chrome::default(),
        status: status.as_u16(),
        heading,
        message,
        reference,
        sent: Vec::new(),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page");
            (status, heading.to_owned()).into_response()
        }
    }
}

/// Marks a response as the database outage's 503 (not another 503 with a page of its own,
/// such as single sign-on being unavailable): the one whose form is shown back.
#[derive(Debug, Clone, Copy)]
pub struct DatabaseOutage;

/// Form fields never shown back: secrets, and what the page itself puts in a form.
fn kept_back(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "password", "secret", "token", "csrf", "code", "version", "intent", "nonce",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// The label a field's text is shown under: its name as words ("evidence-1.2" is
/// "Evidence 1.2").
fn field_label(name: &str) -> String {
    let words = name.replace(['-', '_'], " ");
    let mut chars = words.trim().chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The outage page for a form that was not saved, with what the person typed in it so that
/// nothing is lost however the browser treats the way back (pages here are `no-store`, so
/// going back may load the page afresh, without the typing). Passwords, codes and the page's
/// own hidden fields are never shown.
pub fn unsaved_form_page(response: Response, fields: &[(String, String)]) -> Response {
    let sent: Vec<(String, String, String)> = fields
        .iter()
        .filter(|(name, value)| !value.trim().is_empty() && !kept_back(name))
        .enumerate()
        .map(|(i, (name, value))| (field_label(name), format!("sent-{}", i + 1), value.clone()))
        .collect();
    if sent.is_empty() {
        return response;
    }
    let page = ErrorPage {
        chrome: Chrome::default(),
        status: StatusCode::SERVICE_UNAVAILABLE.as_u16(),
        heading: "Sorry, the service is unavailable",
        message: "The service cannot reach its database just now, so what you just sent was not saved (if the connection went at the very moment it was being saved, it may have been: check the page before sending it again). What you typed is below: copy it before you leave this page, then wait a minute and send it again. What you saved before is safe.",
        reference: None,
        sent,
    };
    match page.render() {
        Ok(html) => {
            let (mut parts, _) = response.into_parts();
            parts.headers.remove(axum::http::header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(html))
        }
        Err(e) => {
            tracing::error!(error = %e, "rendering the outage page");
            response
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let reference = if status.is_server_error() {
            let reference = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
            tracing::error!(reference, error = ?self, "request failed");
            Some(reference)
        } else {
            None
        };
        let mut response = error_page(status, reference);
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("5"),
            );
            response.extensions_mut().insert(DatabaseOutage);
        }
        response
    }
}
