//! The task list: every benchmark's progress, and what to do next.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use super::{Done, framework, object, shown_head_and_progress, state_label_of};
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::error::AppResult;
use crate::framework::{Framework, Instrument};
use crate::web::chrome::Chrome;
use crate::web::forms::Query;

struct Task {
    number: u32,
    title: String,
    hint: String,
    status: &'static str,
    tag: &'static str,
}

#[derive(Template)]
#[template(path = "assessments/task_list.html")]
struct TaskListPage<'a> {
    chrome: Chrome,
    head: Head,
    fw: &'a Framework,
    state_label: &'static str,
    tasks: Vec<Task>,
    completed: usize,
    may_submit: bool,
    may_import: bool,
    may_review: bool,
    /// The Channel team (or an administrator) may check this statement.
    may_check: bool,
    notice: Option<&'static str>,
    /// A Channel statement's sign-off, and who may ask for it or give it.
    sign_off: Option<db::sign_offs::SignOff>,
    may_request: bool,
    may_sign: bool,
}

impl TaskListPage<'_> {
    fn signed(&self) -> bool {
        self.sign_off.as_ref().is_some_and(|s| s.signed())
    }
    fn when(&self, at: &time::OffsetDateTime) -> String {
        crate::domain::uk_date(*at)
    }
}

pub(super) async fn task_list(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    // Only shown: the kept copies serve; when they are not kept, one statement reads both.
    let (head, progress) = shown_head_and_progress(&state, &who, ip, id).await?;
    let fw = framework(&state, &head)?;
    let items = format!("{}s", fw.item_label.to_lowercase());
    let tasks: Vec<Task> = fw
        .sections
        .iter()
        .map(|section| {
            let p = progress.iter().find(|p| p.number as u32 == section.number);
            let (answered, questions, review, proposed, not_scored) =
                p.map_or((0, 0, 0, None, false), |p| {
                    (
                        p.answered,
                        p.questions,
                        p.needs_review,
                        p.proposed_score,
                        p.proposed_not_scored,
                    )
                });
            let mut hint = if fw.scored {
                let score = match (proposed, not_scored) {
                    (Some(s), _) => format!("proposed score {s}"),
                    (None, true) => "proposed not scored".to_owned(),
                    _ => "no score proposed".to_owned(),
                };
                format!("{answered} of {questions} questions answered, {score}")
            } else {
                format!("{answered} of {questions} {items} rated")
            };
            if review > 0 {
                hint.push_str(&format!(", {review} carried forward to review"));
            }
            if let Some(open) = p.map(|p| p.open_requests).filter(|open| *open > 0) {
                hint.push_str(&format!(
                    ", {open} open evidence {}",
                    if open == 1 { "request" } else { "requests" }
                ));
            }
            // A section of an unscored framework is complete when every item is answered.
            let scored = proposed.is_some() || not_scored || !fw.scored;
            let (status, tag) = if review > 0 {
                ("Needs review", "govuk-tag--yellow")
            } else if answered == questions && scored {
                ("Completed", "")
            } else if answered == 0 && !scored {
                ("Not yet started", "govuk-tag--grey")
            } else {
                ("In progress", "govuk-tag--light-blue")
            };
            Task {
                number: section.number,
                title: section.title.clone(),
                hint,
                status,
                tag,
            }
        })
        .collect();
    let completed = tasks.iter().filter(|t| t.status == "Completed").count();
    let may_submit = policy::allows(&who, Action::SubmitAssessment, object(&head));
    let may_import = policy::allows(&who, Action::ImportAssessment, object(&head));
    let sign_off = if fw.sign_off.is_empty() {
        None
    } else {
        state
            .caches
            .sign_off(&state.db, &head)
            .await?
            .as_ref()
            .clone()
    };
    let page = TaskListPage {
        sign_off,
        may_request: policy::allows(&who, Action::RequestSignOff, object(&head)),
        may_sign: policy::allows(&who, Action::SignOff, object(&head)),
        may_review: policy::allows(&who, Action::Review, object(&head)),
        may_check: policy::allows(&who, Action::CheckStatement, object(&head)),
        may_import,
        chrome: Chrome::new(Some(&who), "/assessments"),
        state_label: state_label_of(head.channel, &head.state),
        head,
        fw,
        tasks,
        completed,
        may_submit,
        notice: match done.done.as_deref() {
            Some("submitted") if fw.kind == Instrument::ChannelStatement => {
                Some("The statement has been submitted to the Home Office's Channel team.")
            }
            Some("submitted") => {
                Some("The self-assessment has been submitted to your regional adviser.")
            }
            Some("imported") => Some("The workbook has been imported."),
            Some("sign-off-requested") => Some(
                "Sign-off has been asked for: the council's signatory can now read and sign the statement.",
            ),
            _ => None,
        },
    };
    Ok(Html(page.render()?).into_response())
}
