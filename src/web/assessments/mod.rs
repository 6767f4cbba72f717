//! The self-assessment: the list and starting one, the task list, a benchmark's page (one form:
//! every button saves what is typed), an action's own page, attachments, check and submit.

mod actions;
mod attachments;
mod benchmark;
mod check;
pub(crate) mod list;
mod task_list;
mod words;

pub(crate) use words::Words;

use axum::Router;
use axum::routing::{get, post};
use sqlx::types::ipnetwork::IpNetwork;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{Action, Object};
use crate::db;
use crate::db::assessments::Head;
use crate::error::{AppError, AppResult};
use crate::framework::Framework;
use crate::web::guard::authorise_or_hide;

pub(crate) use actions::ACTION_STATUSES;
pub(crate) use actions::action_status_label;
pub(crate) use attachments::content_disposition;

/// The framework of the self-assessment, which the dashboards and the adviser's review use.
pub const FRAMEWORK: &str = crate::db::dashboards::FRAMEWORK;
/// The longest evidence text kept for one question or prompt.
pub const MAX_EVIDENCE: usize = 20_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments", get(list::list).post(list::start))
        .route("/assessments/{id}", get(task_list::task_list))
        // A section's page: a benchmark of the self-assessment, a key area of control of the
        // Channel statement (each address answers only for its own framework).
        .route(
            "/assessments/{id}/benchmarks/{n}",
            get(benchmark::show)
                .post(benchmark::save)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::web::forms::FILE_FORM_LIMIT,
                )),
        )
        .route(
            "/assessments/{id}/key-areas/{n}",
            get(benchmark::show)
                .post(benchmark::save)
                .layer(axum::extract::DefaultBodyLimit::max(
                    crate::web::forms::FILE_FORM_LIMIT,
                )),
        )
        .route(
            "/assessments/{id}/actions/{action}",
            get(actions::edit_form).post(actions::edit),
        )
        .route(
            "/assessments/{id}/actions/{action}/delete",
            get(actions::delete_form).post(actions::delete),
        )
        .route(
            "/assessments/{id}/attachments/{file}",
            get(attachments::download),
        )
        .route("/assessments/{id}/check", get(check::check))
        .route("/assessments/{id}/submit", post(check::submit))
}

/// Names what an audit event is about and scopes it to the assessment's council and region, so
/// the council's part of the trail and the region's find it.
pub(crate) fn scope_event(e: &mut db::audit::NewEvent, head: &Head, entity_id: impl ToString) {
    e.entity_id = Some(entity_id.to_string());
    e.organisation_id = Some(head.organisation_id);
    e.region_id = Some(head.region_id);
}

pub(crate) fn object(head: &Head) -> Object {
    Object::Assessment {
        organisation_id: head.organisation_id,
        region_id: head.region_id,
        draft: head.state == "draft",
        in_review: matches!(head.state.as_str(), "submitted" | "in_review"),
        published: head.state == "published",
        channel: head.channel,
    }
}

/// A council's Channel statement as the policy knows it, from the council and the statement's
/// state (for pages that read the state beside the council's own data, not the statement's
/// head).
pub(crate) fn statement_object(org: &crate::db::places::Organisation, state: &str) -> Object {
    Object::Assessment {
        organisation_id: org.id,
        region_id: org.region_id,
        draft: state == "draft",
        in_review: matches!(state, "submitted" | "in_review"),
        published: state == "published",
        channel: true,
    }
}

/// The assessment, if this person may see it; another council's is not found (404), so its
/// existence is not given away.
pub(crate) async fn visible_head(
    state: &AppState,
    who: &Principal,
    ip: Option<IpNetwork>,
    id: Uuid,
) -> AppResult<Head> {
    let head = db::assessments::head(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise_or_hide(state, who, ip, Action::ViewAssessment, object(&head)).await?;
    Ok(head)
}

/// As [`visible_head`], for a page that only shows the assessment: the kept copy serves
/// (changes go by [`visible_head`], the database's own answer).
pub(crate) async fn shown_head(
    state: &AppState,
    who: &Principal,
    ip: Option<IpNetwork>,
    id: Uuid,
) -> AppResult<Head> {
    let head = state
        .caches
        .head(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise_or_hide(state, who, ip, Action::ViewAssessment, object(&head)).await?;
    Ok(head)
}

/// [`shown_head`] with every benchmark's progress, for the pages that show both (the task
/// list, the check page): as kept, or both in one statement. The progress is read before the
/// policy is asked, and given only if it allows.
pub(crate) async fn shown_head_and_progress(
    state: &AppState,
    who: &Principal,
    ip: Option<IpNetwork>,
    id: Uuid,
) -> AppResult<(Head, std::sync::Arc<Vec<crate::db::assessments::Progress>>)> {
    let (head, progress) = state
        .caches
        .head_and_progress(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise_or_hide(state, who, ip, Action::ViewAssessment, object(&head)).await?;
    Ok((head, progress))
}

/// The framework an assessment was made on, as loaded.
pub(crate) fn framework<'a>(state: &'a AppState, head: &Head) -> AppResult<&'a Framework> {
    state.frameworks.get(&head.framework_code).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!(
            "the framework {} is not loaded",
            head.framework_code
        ))
    })
}

/// An assessment's state as people read it; a Channel statement is with the Channel team
/// once submitted, and accepted rather than published.
pub(crate) fn state_label_of(channel: bool, state: &str) -> &'static str {
    match (channel, state) {
        (true, "submitted" | "in_review" | "agreed") => "Submitted",
        (true, "published") => "Accepted",
        _ => state_label(state),
    }
}

pub(crate) fn state_label(state: &str) -> &'static str {
    match state {
        "draft" => "Draft",
        "submitted" => "Submitted",
        "in_review" => "In review",
        "agreed" => "Agreed",
        "published" => "Published",
        _ => "Unknown",
    }
}

/// The year the assessment's financial year starts ("2026/27" → 2026): the year of a bare
/// quarter in a target.
pub(crate) fn cycle_start_year(head: &Head) -> i32 {
    head.cycle_label
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2000)
}

/// The field id of a question's part: "q1-1", "q1-1-prompt-0".
pub(super) fn field_id(code: &str) -> String {
    format!("q{}", code.replace('.', "-"))
}

/// "red" → "Red": a RAG as people read it.
pub(crate) fn rag_label(code: &str) -> &'static str {
    match code {
        "red" => "Red",
        "amber" => "Amber",
        "green" => "Green",
        _ => "None",
    }
}

/// The RAG choices of a form.
pub(crate) const RAGS: [(&str, &str); 3] = [("red", "Red"), ("amber", "Amber"), ("green", "Green")];

/// A RAG as typed: Ok(None) for none, or the message for anything else.
pub(crate) fn read_rag(typed: &str) -> Result<Option<String>, &'static str> {
    match typed {
        "" => Ok(None),
        r @ ("red" | "amber" | "green") => Ok(Some(r.to_owned())),
        _ => Err("Choose red, amber or green, or none"),
    }
}

/// What a success banner says, from the `done` codes in the address after a save.
#[derive(serde::Deserialize)]
pub(crate) struct Done {
    pub done: Option<String>,
}
