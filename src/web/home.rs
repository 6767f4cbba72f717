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
use crate::web::assessments::list::{Row, Startable, listing};
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
    /// This cycle's instruments of the person's councils: started (with their state) or for a
    /// lead to start; both the self-assessment and the Channel statement.
    this_cycle: Vec<Row>,
    to_start: Vec<Startable>,
    cycle: Option<String>,
}

async fn home(State(state): State<AppState>, who: Option<Principal>) -> AppResult<Html<String>> {
    let (mut this_cycle, mut to_start, mut cycle) = (Vec::new(), Vec::new(), None);
    if let Some(w) = who.as_ref() {
        let councils: Vec<uuid::Uuid> = w
            .memberships
            .iter()
            .filter(|m| m.role.is_council_role())
            .filter_map(|m| m.organisation_id)
            .collect();
        if !councils.is_empty() {
            let listing = listing(&state, w).await?;
            this_cycle = listing
                .rows
                .into_iter()
                .filter(|r| {
                    councils.contains(&r.listed.organisation_id)
                        && Some(&r.listed.cycle_label) == listing.current_cycle.as_ref()
                })
                .collect();
            to_start = listing.startable;
            cycle = listing.current_cycle;
        }
    }
    Ok(Html(
        HomePage {
            chrome: Chrome::new(who.as_ref(), "/"),
            frameworks: state.frameworks.all(),
            name: who.as_ref().map(|w| w.display_name.clone()),
            memberships: who.map(|w| w.memberships).unwrap_or_default(),
            this_cycle,
            to_start,
            cycle,
        }
        .render()?,
    ))
}
