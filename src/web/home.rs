//! The start page.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::app::AppState;
use crate::error::AppResult;
use crate::framework::Framework;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    frameworks: &'a [Framework],
}

async fn home(State(state): State<AppState>) -> AppResult<Html<String>> {
    Ok(Html(
        HomePage {
            frameworks: state.frameworks.all(),
        }
        .render()?,
    ))
}
