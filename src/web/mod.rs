//! The web layer: one module per area, each with its handlers, forms, pages and `router()`.

pub mod about;
pub mod account;
pub mod admin;
pub mod assessments;
pub mod audit_view;
pub mod board;
pub mod channel;
pub mod charts;
pub mod chrome;
pub mod dashboards;
pub mod downloads;
pub mod forms;
pub mod frameworks;
pub mod guard;
pub mod health;
pub mod home;
pub mod invite_form;
pub mod letter;
pub mod letter_templates;
pub mod my_actions;
pub mod notifications;
pub mod people;
pub mod review;
pub mod score_exports;
pub mod second_factor;
pub mod sso;
pub mod statement;
pub mod transfer;

use axum::Router;
use axum::http::StatusCode;
use axum::response::Response;

use crate::app::AppState;
use crate::error::error_page;

/// Every area's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(about::router())
        .merge(health::router())
        .merge(frameworks::router())
        .merge(account::router())
        .merge(assessments::router())
        .merge(admin::router())
        .merge(people::router())
        .merge(review::router())
        .merge(letter::router())
        .merge(statement::router())
        .merge(channel::router())
        .merge(letter_templates::router())
        .merge(board::router())
        .merge(dashboards::router())
        .merge(score_exports::router())
        .merge(my_actions::router())
        .merge(notifications::router())
        .merge(second_factor::router())
        .merge(sso::router())
        .merge(transfer::router())
        .fallback(not_found)
}

async fn not_found() -> Response {
    error_page(StatusCode::NOT_FOUND, None)
}
