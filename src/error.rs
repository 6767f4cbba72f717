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
}

impl AppError {
    fn status(&self) -> StatusCode {
        match self {
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
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
        s if s.is_server_error() => (
            "Sorry, there is a problem with the service",
            "Try again later. Nothing you saved has been lost. If the problem continues, contact the service team and quote the reference below.",
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
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering the error page");
            (status, heading.to_owned()).into_response()
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
        error_page(status, reference)
    }
}
