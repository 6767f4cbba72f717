//! The assessments someone may see, and starting this cycle's.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{FRAMEWORK, state_label};
use crate::app::AppState;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::auth::{Principal, Role};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::guard::authorise;

struct Startable {
    slug: String,
    name: String,
    cycle: String,
}

#[derive(Template)]
#[template(path = "assessments/list.html")]
struct ListPage {
    chrome: Chrome,
    assessments: Vec<db::assessments::Listed>,
    startable: Vec<Startable>,
}

impl ListPage {
    fn state_label(&self, state: &str) -> &'static str {
        state_label(state)
    }
}

pub(super) async fn list(State(state): State<AppState>, who: Principal) -> AppResult<Response> {
    let organisations: Vec<Uuid> = who
        .memberships
        .iter()
        .filter_map(|m| m.organisation_id)
        .collect();
    let regions: Vec<Uuid> = who
        .memberships
        .iter()
        .filter(|m| m.role == Role::Adviser)
        .filter_map(|m| m.region_id)
        .collect();
    let assessments =
        db::assessments::visible(&state.db, who.is_admin(), &organisations, &regions).await?;
    let mut startable = Vec::new();
    let places = state.caches.places(&state.db).await?;
    if let Some(cycle) = places.current_cycle(OffsetDateTime::now_utc().date()) {
        for m in who.led_councils() {
            let (Some(org), Some(slug), Some(name)) = (
                m.organisation_id,
                &m.organisation_slug,
                &m.organisation_name,
            ) else {
                continue;
            };
            if db::assessments::find(&state.db, org, cycle.id, FRAMEWORK)
                .await?
                .is_none()
            {
                startable.push(Startable {
                    slug: slug.clone(),
                    name: name.clone(),
                    cycle: cycle.label.clone(),
                });
            }
        }
    }
    let page = ListPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        assessments,
        startable,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
pub(super) struct StartForm {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    from: String,
}

pub(super) async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    axum::Form(form): axum::Form<StartForm>,
) -> AppResult<Response> {
    let places = state.caches.places(&state.db).await?;
    let org = places
        .organisation(&form.organisation)
        .ok_or(AppError::NotFound)?;
    authorise(
        &state,
        &who,
        ip,
        Action::StartAssessment,
        Object::Organisation {
            id: org.id,
            region_id: org.region_id,
        },
    )
    .await?;
    let (cycle, label) = places
        .current_cycle(OffsetDateTime::now_utc().date())
        .map(|c| (c.id, c.label.clone()))
        .ok_or(AppError::NotFound)?;
    if let Some(existing) = db::assessments::find(&state.db, org.id, cycle, FRAMEWORK).await? {
        return Ok(Redirect::to(&format!("/assessments/{existing}")).into_response());
    }
    let from_previous = form.from == "previous";
    let mut tx = state.db.begin().await?;
    let id = db::assessments::start(
        &mut tx,
        org.id,
        cycle,
        FRAMEWORK,
        from_previous,
        who.user_id,
    )
    .await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "assessment.started",
        "assessment",
    );
    e.entity_id = Some(id.to_string());
    e.organisation_id = Some(org.id);
    e.region_id = Some(org.region_id);
    e.after = Some(serde_json::json!({ "cycle": label, "from_previous": from_previous }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}")).into_response())
}
