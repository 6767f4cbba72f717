//! The adviser's side: the region's queue, and an assessment under review: starting the review,
//! returning it to the council with a reason, and the history of its states.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action, Object};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::{Head, RegionRow, StateChange};
use crate::error::{AppError, AppResult};
use crate::web::account::event;
use crate::web::assessments::{object, state_label, visible_head};
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/regions/{slug}", get(region))
        .route("/assessments/{id}/review", get(review))
        .route("/assessments/{id}/review/start", post(start_review))
        .route("/assessments/{id}/return", post(return_to_council))
        .route("/assessments/{id}/history", get(history))
}

#[derive(Template)]
#[template(path = "review/region.html")]
struct RegionPage {
    chrome: Chrome,
    name: String,
    cycle: Option<String>,
    rows: Vec<RegionRow>,
}

impl RegionPage {
    fn state(&self, row: &RegionRow) -> &'static str {
        row.state.as_deref().map_or("Not started", state_label)
    }

    fn waiting(&self, row: &RegionRow) -> bool {
        matches!(row.state.as_deref(), Some("submitted" | "in_review"))
    }
}

async fn region(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let (region, name) = db::places::region_by_slug(&state.db, &slug)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise(&state, &who, ip, Action::ViewRegion, Object::Region(region)).await?;
    let cycle = db::assessments::current_cycle(&state.db, OffsetDateTime::now_utc().date()).await?;
    let rows = match &cycle {
        Some((cycle, _)) => db::assessments::region_queue(&state.db, region, *cycle).await?,
        None => Vec::new(),
    };
    let page = RegionPage {
        chrome: Chrome::new(Some(&who), &format!("/regions/{slug}")),
        name,
        cycle: cycle.map(|(_, label)| label),
        rows,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "review/review.html")]
struct ReviewPage {
    chrome: Chrome,
    head: Head,
    state_label: &'static str,
    errors: Errors,
    reason: String,
}

async fn review_page(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
) -> AppResult<(Head, ReviewPage)> {
    let head = visible_head(state, who, ip, id).await?;
    authorise(state, who, ip, Action::Review, object(&head)).await?;
    let page = ReviewPage {
        chrome: Chrome::new(Some(who), "/assessments"),
        state_label: state_label(&head.state),
        head: head.clone(),
        errors: Errors::default(),
        reason: String::new(),
    };
    Ok((head, page))
}

async fn review(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (_, page) = review_page(&state, &who, ip, id).await?;
    Ok(Html(page.render()?).into_response())
}

/// Records a change of state in the audit trail, which the history page reads.
async fn record_change(
    tx: &mut sqlx::PgConnection,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    head: &Head,
    action: &'static str,
    to: &str,
    reason: Option<&str>,
) -> sqlx::Result<()> {
    let mut e = event(Some(who.user_id), &who.email, ip, action, "assessment");
    e.entity_id = Some(head.id.to_string());
    e.organisation_id = Some(head.organisation_id);
    e.region_id = Some(head.region_id);
    e.before = Some(serde_json::json!({ "state": head.state }));
    e.after = Some(serde_json::json!({ "state": to, "reason": reason }));
    db::audit::record(&mut *tx, &e).await
}

async fn start_review(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (head, _) = review_page(&state, &who, ip, id).await?;
    let mut tx = state.db.begin().await?;
    if db::assessments::transition(&mut tx, id, &["submitted"], "in_review").await? {
        record_change(
            &mut tx,
            &who,
            ip,
            &head,
            "assessment.review_started",
            "in_review",
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/review")).into_response())
}

#[derive(Deserialize)]
struct ReturnForm {
    #[serde(default)]
    reason: String,
}

async fn return_to_council(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    axum::Form(form): axum::Form<ReturnForm>,
) -> AppResult<Response> {
    let (head, mut page) = review_page(&state, &who, ip, id).await?;
    let reason = form.reason.trim();
    if reason.is_empty()
        || reason.chars().count() > 2000
        || !matches!(head.state.as_str(), "submitted" | "in_review")
    {
        page.errors.add(
            "reason",
            if !matches!(head.state.as_str(), "submitted" | "in_review") {
                "Only a submitted assessment, or one in review, can be returned"
            } else if reason.is_empty() {
                "Say why the assessment is being returned, so the council knows what to change"
            } else {
                "The reason must be 2000 characters or fewer"
            },
        );
        page.reason = form.reason;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let mut tx = state.db.begin().await?;
    if db::assessments::transition(&mut tx, id, &["submitted", "in_review"], "draft").await? {
        record_change(
            &mut tx,
            &who,
            ip,
            &head,
            "assessment.returned",
            "draft",
            Some(reason),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/history")).into_response())
}

#[derive(Template)]
#[template(path = "review/history.html")]
struct HistoryPage {
    chrome: Chrome,
    head: Head,
    changes: Vec<StateChange>,
    may_review: bool,
}

impl HistoryPage {
    fn what(&self, c: &StateChange) -> &'static str {
        match c.action.as_str() {
            "assessment.started" => "Started",
            "assessment.submitted" => "Submitted to the regional adviser",
            "assessment.review_started" => "Review started",
            "assessment.returned" => "Returned to the council",
            _ => "Changed",
        }
    }

    fn when(&self, c: &StateChange) -> String {
        let t = c.occurred_at;
        format!(
            "{} at {:02}:{:02} UTC",
            crate::domain::long_date(t.date()),
            t.hour(),
            t.minute()
        )
    }

    fn why(&self, c: &StateChange) -> String {
        c.after
            .as_ref()
            .and_then(|a| a.get("reason"))
            .and_then(|r| r.as_str())
            .unwrap_or_default()
            .to_owned()
    }
}

async fn history(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    let changes = db::assessments::history(&state.db, id).await?;
    let may_review = policy::allows(&who, Action::Review, object(&head));
    let page = HistoryPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        changes,
        may_review,
    };
    Ok(Html(page.render()?).into_response())
}
