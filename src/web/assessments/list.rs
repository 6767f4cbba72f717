//! The assessments someone may see, and starting this cycle's.

use askama::Template;
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{FRAMEWORK, state_label_of};
use crate::app::AppState;
use crate::auth::policy::{self, Action, Object};
use crate::auth::session::ClientIp;
use crate::auth::{Principal, Role};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::guard::authorise;

/// An assessment a lead may start: a council, a framework open in this cycle.
pub(crate) struct Startable {
    pub slug: String,
    pub name: String,
    pub cycle: String,
    pub framework_code: String,
    pub assessment_name: String,
    pub deadline: String,
}

impl Startable {
    /// The radios' ids, unique on the page.
    fn key(&self) -> String {
        format!("{}-{}", self.slug, self.framework_code)
    }
}

/// A row of the list, with what it is called.
pub(crate) struct Row {
    pub listed: db::assessments::Listed,
    pub name: String,
    pub state: &'static str,
}

/// What someone may see and start: every assessment the policy lets them see (newest first),
/// the ones a lead may start in the current cycle, and that cycle's label.
pub(crate) struct Listing {
    pub rows: Vec<Row>,
    pub startable: Vec<Startable>,
    pub current_cycle: Option<String>,
}

#[derive(Template)]
#[template(path = "assessments/list.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<Row>,
    startable: Vec<Startable>,
}

pub(super) async fn list(State(state): State<AppState>, who: Principal) -> AppResult<Response> {
    let Listing {
        rows, startable, ..
    } = listing(&state, &who).await?;
    let page = ListPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        rows,
        startable,
    };
    Ok(Html(page.render()?).into_response())
}

/// The assessments `who` may see and start (the list page and the home page).
pub(crate) async fn listing(state: &AppState, who: &Principal) -> AppResult<Listing> {
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
    let name_of = |code: &str| {
        state
            .frameworks
            .get(code)
            .map_or_else(|| code.to_owned(), |f| f.assessment_name.clone())
    };
    // The policy has the last word on each (a board member sees a Channel statement once it is
    // accepted).
    let rows: Vec<Row> = assessments
        .into_iter()
        .filter(|a| {
            policy::allows(
                who,
                Action::ViewAssessment,
                Object::Assessment {
                    organisation_id: a.organisation_id,
                    region_id: a.region_id,
                    draft: a.state == "draft",
                    in_review: matches!(a.state.as_str(), "submitted" | "in_review"),
                    published: a.state == "published",
                    channel: a.channel,
                },
            )
        })
        .map(|a| Row {
            name: name_of(&a.framework_code),
            state: state_label_of(a.channel, &a.state),
            listed: a,
        })
        .collect();
    let mut startable = Vec::new();
    let places = state.caches.places(&state.db).await?;
    let current = places.current_cycle(OffsetDateTime::now_utc().date());
    let current_cycle = current.map(|c| c.label.clone());
    if let Some(cycle) = current {
        let led: Vec<_> = who.led_councils().collect();
        if !led.is_empty() {
            let said = db::places::cycle_frameworks(&state.db, cycle.id).await?;
            // The self-assessment first, then the Channel statement.
            let mut frameworks: Vec<_> = state.frameworks.all().iter().collect();
            frameworks.sort_by_key(|f| f.kind != crate::framework::Instrument::SelfAssessment);
            for fw in frameworks {
                let row = said.iter().find(|c| c.framework_code == fw.code);
                if row.is_some_and(|r| !r.open) {
                    continue;
                }
                let deadline = row.map_or(cycle.deadline, |r| r.deadline);
                for m in &led {
                    let (Some(org), Some(slug), Some(name)) = (
                        m.organisation_id,
                        &m.organisation_slug,
                        &m.organisation_name,
                    ) else {
                        continue;
                    };
                    // Started already: among those listed (the newest first, so this cycle's).
                    let started = rows.iter().any(|r: &Row| {
                        r.listed.organisation_id == org
                            && r.listed.cycle_label == cycle.label
                            && r.listed.framework_code == fw.code
                    });
                    if !started {
                        startable.push(Startable {
                            slug: slug.clone(),
                            name: name.clone(),
                            cycle: cycle.label.clone(),
                            framework_code: fw.code.clone(),
                            assessment_name: fw.assessment_name.clone(),
                            deadline: crate::domain::long_date(deadline),
                        });
                    }
                }
            }
        }
    }
    Ok(Listing {
        rows,
        startable,
        current_cycle,
    })
}

#[derive(Deserialize)]
pub(super) struct StartForm {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    from: String,
    /// The framework to start on; the self-assessment's when not given.
    #[serde(default)]
    framework: String,
}

pub(super) async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    crate::web::forms::Form(form): crate::web::forms::Form<StartForm>,
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
    let code = if form.framework.is_empty() {
        FRAMEWORK
    } else {
        form.framework.as_str()
    };
    let fw = state.frameworks.get(code).ok_or(AppError::NotFound)?;
    let closed = db::places::cycle_frameworks(&state.db, cycle)
        .await?
        .iter()
        .any(|c| c.framework_code == fw.code && !c.open);
    if closed {
        return Err(AppError::NotFound);
    }
    if let Some(existing) = db::assessments::find(&state.db, org.id, cycle, &fw.code).await? {
        return Ok(Redirect::to(&format!("/assessments/{existing}")).into_response());
    }
    let from_previous = form.from == "previous";
    let mut tx = state.db.begin().await?;
    let id = db::assessments::start(&mut tx, org.id, cycle, &fw.code, from_previous, who.user_id)
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
    e.after = Some(serde_json::json!({
        "cycle": label, "framework": fw.code, "from_previous": from_previous
    }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}")).into_response())
}
