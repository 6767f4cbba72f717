//! The start page: what the service is, and for someone signed in, where to go.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;

use crate::app::AppState;
use crate::auth::{Membership, Principal};
use crate::error::AppResult;
use crate::framework::Framework;
use crate::web::chrome::Chrome;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    chrome: Chrome,
    frameworks: &'a [Framework],
    name: Option<String>,
    memberships: Vec<Membership>,
}

async fn home(State(state): State<AppState>, who: Option<Principal>) -> AppResult<Html<String>> {
    Ok(Html(
        HomePage {
            chrome: Chrome::new(who.as_ref(), "/"),
            frameworks: state.frameworks.all(),
            name: who.as_ref().map(|w| w.display_name.clone()),
            memberships: who.map(|w| w.memberships).unwrap_or_default(),
        }
        .render()?,
    ))
}
