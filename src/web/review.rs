//! The adviser's side of an assessment: starting the review, summaries and scores beside the
//! council's proposals, evidence requests, up to three recommended actions, agreement and
//! publication, returning it to the council with a reason, and the history of its states.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::{Head, StateChange};
use crate::error::{AppError, AppResult};
use crate::notify::Kind;
use crate::web::account::event;
use crate::web::assessments::{object, scope_event, shown_head, state_label, visible_head};
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, Fields};
use crate::web::forms::{Form, Query};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}/review", get(review).post(save_review))
        .route(
            "/assessments/{id}/return",
            get(return_form).post(return_to_council),
        )
        .route("/assessments/{id}/history", get(history))
}

/// One benchmark on the review page, with what was typed.
struct ReviewView {
    number: u32,
    title: String,
    may_be_not_scored: bool,
    proposed: String,
    justification: String,
    suggested: String,
    last: String,
    summary: String,
    adviser: String,
    agreed: String,
    /// The council's answers: (question, status, evidence).
    answers: Vec<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "review/review.html")]
struct ReviewPage {
    chrome: Chrome,
    head: Head,
    state_label: &'static str,
    errors: Errors,
    rows: Vec<ReviewView>,
    recommendations: Vec<(Uuid, String)>,
    recommendation: String,
    threads: Vec<db::comments::Thread>,
    /// Requests typed per benchmark, kept when the page comes back.
    requests: BTreeMap<u32, String>,
    /// What the last step did, and what to do next.
    done: Option<Notice>,
    /// The council's Channel statement of the cycle, read beside benchmark 5: (id, state).
    statement: Option<(Uuid, &'static str)>,
}

/// A success banner: what happened, and the next thing to do.
struct Notice {
    heading: &'static str,
    next: &'static str,
    link: Option<(String, &'static str)>,
}

impl ReviewPage {
    fn threads_of(&self, n: &u32) -> Vec<&db::comments::Thread> {
        self.threads
            .iter()
            .filter(|t| t.request.number as u32 == *n)
            .collect()
    }

    fn typed_request(&self, n: &u32) -> &str {
        self.requests.get(n).map_or("", String::as_str)
    }

    fn score_label(&self, value: &str) -> String {
        score_label(value)
    }
}

/// The form's value for a score: "1".."5", "not_scored" or "".
fn score_value(score: Option<i16>, not_scored: bool) -> String {
    match (score, not_scored) {
        (Some(s), _) => s.to_string(),
        (None, true) => "not_scored".to_owned(),
        _ => String::new(),
    }
}

fn score_label(value: &str) -> String {
    match value {
        "" => "None".to_owned(),
        "not_scored" => "Not scored".to_owned(),
        v => v.to_owned(),
    }
}

/// The review page as stored. `kept`: whether the kept copies may serve (a page only shown);
/// what a change is checked against comes from the database.
async fn review_page(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
    kept: bool,
) -> AppResult<(Head, ReviewPage)> {
    let head = if kept {
        shown_head(state, who, ip, id).await?
    } else {
        visible_head(state, who, ip, id).await?
    };
    authorise(state, who, ip, Action::Review, object(&head)).await?;
    let fw = crate::web::assessments::framework(state, &head)?;
    let (stored, contents) = if kept {
        let today = crate::web::dashboards::today();
        // Both at once, on two connections: with the database some milliseconds away the
        // page waits for one round trip here, not two.
        tokio::try_join!(
            state.caches.review_rows(&state.db, &head),
            state.caches.contents(&state.db, &head, true, today),
        )?
    } else {
        let now = time::OffsetDateTime::now_utc();
        let (stored, contents) = tokio::try_join!(
            db::assessments::review_rows(&state.db, id),
            db::assessments::contents(&state.db, id, now, true),
        )?;
        (Arc::new(stored), Arc::new(contents))
    };
    let (answers, criteria) = (&contents.answers, &contents.criteria);
    let mut rows = Vec::new();
    for section in &fw.sections {
        let n = section.number;
        let Some(r) = stored.iter().find(|r| r.number as u32 == n) else {
            continue;
        };
        let record = crate::scoring::Record {
            criteria_met: criteria
                .iter()
                .filter(|(num, _)| *num as u32 == n)
                .map(|(_, c)| c.clone())
                .collect(),
            statuses: section
                .items
                .iter()
                .filter_map(|i| {
                    let status = answers
                        .iter()
                        .find(|a| a.code == i.code)?
                        .status
                        .as_deref()?
                        .parse()
                        .ok()?;
                    Some((i.code.clone(), status))
                })
                .collect(),
            not_scored: r.proposed_not_scored,
        };
        let suggestion = crate::scoring::suggest(section, &record, &state.settings.rags);
        rows.push(ReviewView {
            number: n,
            title: section.title.clone(),
            may_be_not_scored: section.may_be_not_scored,
            proposed: score_label(&score_value(r.proposed_score, r.proposed_not_scored)),
            justification: r.justification.clone(),
            suggested: suggestion
                .score
                .map_or_else(|| "Not scored".to_owned(), |s| s.to_string()),
            last: match (r.last_agreed, r.last_not_scored) {
                (Some(s), _) => s.to_string(),
                (None, Some(true)) => "Not scored".to_owned(),
                _ => "None".to_owned(),
            },
            summary: r.adviser_summary.clone(),
            adviser: score_value(r.adviser_score, r.adviser_not_scored),
            agreed: score_value(r.agreed_score, r.agreed_not_scored),
            answers: section
                .items
                .iter()
                .map(|item| {
                    let answer = answers.iter().find(|a| a.code == item.code);
                    let status = answer
                        .and_then(|a| a.status.as_deref())
                        .and_then(|s| s.parse::<crate::domain::Status>().ok())
                        .map_or("No status", |s| s.label());
                    let evidence = answer.map_or_else(String::new, |a| {
                        let mut parts: Vec<&str> = a
                            .prompt_evidence
                            .iter()
                            .map(String::as_str)
                            .filter(|p| !p.is_empty())
                            .collect();
                        if !a.evidence.is_empty() {
                            parts.push(&a.evidence);
                        }
                        parts.join("\n\n")
                    });
                    (item.code.clone(), status.to_owned(), evidence)
                })
                .collect(),
        });
    }
    let page = ReviewPage {
        chrome: Chrome::new(Some(who), "/assessments"),
        state_label: state_label(&head.state),
        head: head.clone(),
        errors: Errors::default(),
        rows,
        recommendations: contents
            .actions
            .iter()
            .filter(|a| a.recommended)
            .map(|a| (a.id, a.description.clone()))
            .collect(),
        recommendation: String::new(),
        threads: db::comments::into_threads(contents.messages.clone()),
        requests: BTreeMap::new(),
        done: None,
        statement: contents
            .statement_beside
            .as_ref()
            .map(|(s, st)| (*s, crate::web::assessments::state_label_of(true, st))),
    };
    Ok((head, page))
}

/// Reads a score field: Ok((score, not_scored)), or the error message.
fn read_score(value: &str, may_be_not_scored: bool, n: u32) -> Result<(Option<i16>, bool), String> {
    match value {
        "" => Ok((None, false)),
        "not_scored" if may_be_not_scored => Ok((None, true)),
        "not_scored" => Err(format!("Benchmark {n} is always scored: choose 1 to 5")),
        v => match v.parse::<i16>() {
            Ok(s) if (1..=5).contains(&s) => Ok((Some(s), false)),
            _ => Err(format!("Benchmark {n}: choose a score from 1 to 5")),
        },
    }
}

/// What a button on the review page asks for, besides saving what is typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Save,
    Start,
    AddRecommendation,
    RemoveRecommendation(Uuid),
    Request(u32),
    Resolve(Uuid),
    Agree,
    Publish,
    Return,
}

impl Intent {
    fn parse(value: &str) -> Intent {
        let id = |prefix: &str| {
            value
                .strip_prefix(prefix)
                .and_then(|v| v.parse::<Uuid>().ok())
        };
        match value {
            "start" => Intent::Start,
            "add-recommendation" => Intent::AddRecommendation,
            "agree" => Intent::Agree,
            "publish" => Intent::Publish,
            "return" => Intent::Return,
            _ => id("remove-recommendation-")
                .map(Intent::RemoveRecommendation)
                .or_else(|| id("resolve-").map(Intent::Resolve))
                .or_else(|| {
                    value
                        .strip_prefix("request-")
                        .and_then(|n| n.parse().ok())
                        .map(Intent::Request)
                })
                .unwrap_or(Intent::Save),
        }
    }
}

/// The success banners, by the code in `?done=`.
fn notice(code: &str, id: Uuid) -> Option<Notice> {
    let letter = || Some((format!("/assessments/{id}/letter"), "Preview the letter"));
    Some(match code {
        "saved" => Notice {
            heading: "Your summaries and scores have been saved.",
            next: "When every benchmark has an agreed score, agree the scores.",
            link: None,
        },
        "started" => Notice {
            heading: "The review has started.",
            next: "Write a summary and record scores for each benchmark, then agree them. You can ask the council for more evidence on any benchmark.",
            link: None,
        },
        "recommendation" => Notice {
            heading: "The recommended action has been added.",
            next: "It goes into the council's plan; their lead gives it an owner and a target.",
            link: None,
        },
        "recommendation-removed" => Notice {
            heading: "The recommended action has been removed.",
            next: "A letter has up to three recommended actions.",
            link: None,
        },
        "request" => Notice {
            heading: "Your evidence request has been sent to the council.",
            next: "The council answers from the benchmark's page; their reply shows here.",
            link: None,
        },
        "resolved" => Notice {
            heading: "The evidence request is marked resolved.",
            next: "Carry on with the scores.",
            link: None,
        },
        "agreed" => Notice {
            heading: "Scores agreed.",
            next: "Preview the letter, then publish it to the council.",
            link: letter(),
        },
        "published" => Notice {
            heading: "The letter has been published to the council.",
            next: "The council's lead and board can now read it, and the recommended actions are in their plan.",
            link: Some((format!("/assessments/{id}/letter"), "Read the letter")),
        },
        _ => return None,
    })
}

pub(crate) fn check_message(body: &str) -> Option<&'static str> {
    if body.trim().is_empty() {
        Some("Write the message")
    } else if body.chars().count() > 5000 {
        Some("A message must be 5000 characters or fewer")
    } else {
        None
    }
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn review(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let (_, mut page) = review_page(&state, &who, ip, id, true).await?;
    page.done = done.done.as_deref().and_then(|code| notice(code, id));
    Ok(Html(page.render()?).into_response())
}

/// The review page is one form: every button saves the summaries, scores, requests and
/// recommendation typed on it, then does what it says, all in one transaction.
async fn save_review(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (head, mut page) = review_page(&state, &who, ip, id, false).await?;
    let fields = Fields::from_pairs(pairs);
    let intent = Intent::parse(fields.get("intent"));
    let in_review = head.state == "in_review";
    let asking = matches!(head.state.as_str(), "submitted" | "in_review");

    // The scores, while in review.
    let mut decisions = Vec::new();
    let mut changed = false;
    if in_review {
        for row in &mut page.rows {
            let n = row.number;
            // A benchmark not in the form (a post of one button alone) keeps what is saved.
            if !fields.has(&format!("agreed-{n}")) {
                if let (
                    Ok((adviser_score, adviser_not_scored)),
                    Ok((agreed_score, agreed_not_scored)),
                ) = (
                    read_score(&row.adviser, row.may_be_not_scored, n),
                    read_score(&row.agreed, row.may_be_not_scored, n),
                ) {
                    decisions.push(db::assessments::AdviserDecision {
                        number: n as i32,
                        summary: row.summary.clone(),
                        adviser_score,
                        adviser_not_scored,
                        agreed_score,
                        agreed_not_scored,
                    });
                }
                continue;
            }
            let summary = fields.get(&format!("summary-{n}")).to_owned();
            let adviser = fields.get(&format!("adviser-{n}")).to_owned();
            let agreed = fields.get(&format!("agreed-{n}")).to_owned();
            changed |=
                summary.trim() != row.summary || adviser != row.adviser || agreed != row.agreed;
            (row.summary, row.adviser, row.agreed) = (summary, adviser, agreed);
            let adviser = read_score(&row.adviser, row.may_be_not_scored, n);
            let agreed = read_score(&row.agreed, row.may_be_not_scored, n);
            if let Err(message) = &adviser {
                page.errors.add(format!("adviser-{n}"), message.clone());
            }
            if let Err(message) = &agreed {
                page.errors.add(format!("agreed-{n}"), message.clone());
            }
            if row.summary.chars().count() > 5000 {
                page.errors.add(
                    format!("summary-{n}"),
                    format!("Benchmark {n}: the summary must be 5000 characters or fewer"),
                );
            }
            if let (
                Ok((adviser_score, adviser_not_scored)),
                Ok((agreed_score, agreed_not_scored)),
            ) = (adviser, agreed)
            {
                decisions.push(db::assessments::AdviserDecision {
                    number: n as i32,
                    summary: row.summary.trim().to_owned(),
                    adviser_score,
                    adviser_not_scored,
                    agreed_score,
                    agreed_not_scored,
                });
            }
        }
    }

    // A recommended action typed (or asked for).
    page.recommendation = fields.get("recommendation").to_owned();
    let recommendation = page.recommendation.trim().to_owned();
    let add_recommendation = !recommendation.is_empty() || intent == Intent::AddRecommendation;
    if add_recommendation {
        if !in_review {
            page.errors.add(
                "recommendation",
                "Start the review before recommending actions",
            );
        } else if recommendation.is_empty() {
            page.errors
                .add("recommendation", "Describe the recommended action");
        } else if recommendation.chars().count() > 2000 {
            page.errors.add(
                "recommendation",
                "A recommended action must be 2000 characters or fewer",
            );
        }
    }

    // Evidence requests typed on any benchmark (or asked for).
    let fw = crate::web::assessments::framework(&state, &head)?;
    let mut requests = Vec::new();
    for section in &fw.sections {
        let n = section.number;
        let body = fields.get(&format!("request-{n}")).to_owned();
        let asked = intent == Intent::Request(n);
        if !body.trim().is_empty() || asked {
            let field = format!("request-{n}");
            if !asking {
                page.errors.add(
                    field,
                    "Evidence can be requested while the assessment is submitted or in review",
                );
            } else if let Some(message) = check_message(&body) {
                page.errors.add(field, message);
            } else {
                requests.push((n, body.trim().to_owned()));
            }
            page.requests.insert(n, body);
        }
    }

    // What the button asks for.
    match intent {
        Intent::Agree => {
            let undecided: Vec<String> = page
                .rows
                .iter()
                .filter(|r| r.agreed.is_empty())
                .map(|r| r.number.to_string())
                .collect();
            if !in_review {
                page.errors
                    .add("agreed-1", "Only an assessment in review can be agreed");
            } else if !undecided.is_empty() {
                let noun = if undecided.len() == 1 {
                    "benchmark"
                } else {
                    "benchmarks"
                };
                page.errors.add(
                    format!("agreed-{}", undecided[0]),
                    format!(
                        "Record an agreed score (or not scored) for every benchmark before agreeing: {noun} {} {} none",
                        crate::scoring::and_list(&undecided),
                        if undecided.len() == 1 { "has" } else { "have" }
                    ),
                );
            }
        }
        Intent::RemoveRecommendation(action)
            if !page.recommendations.iter().any(|(r, _)| *r == action) =>
        {
            return Err(AppError::NotFound);
        }
        Intent::Resolve(request) if !page.threads.iter().any(|t| t.request.id == request) => {
            return Err(AppError::NotFound);
        }
        _ => {}
    }
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }

    let mut tx = state.db.begin().await?;
    let audit = |name: &'static str, kind: &'static str| {
        let mut e = event(Some(who.user_id), &who.email, ip, name, kind);
        scope_event(&mut e, &head, id);
        e
    };
    let mut done = "saved";
    if in_review && changed {
        db::assessments::save_review(&mut tx, id, &decisions, who.user_id).await?;
        let mut e = audit("review.saved", "assessment");
        e.after = Some(serde_json::to_value(&decisions).unwrap_or_default());
        db::audit::record(&mut *tx, &e).await?;
    }
    if add_recommendation {
        db::assessments::lock(&mut tx, id).await?;
        match db::assessments::add_recommendation(
            &mut tx,
            id,
            &recommendation,
            MAX_RECOMMENDATIONS,
            who.user_id,
        )
        .await?
        {
            Some(action) => {
                let mut e = audit("recommendation.added", "action");
                e.entity_id = Some(action.to_string());
                db::audit::record(&mut *tx, &e).await?;
                done = "recommendation";
            }
            None => {
                tx.rollback().await?;
                page.errors.add(
                    "recommendation",
                    "A letter has at most three recommended actions, so nothing was saved. Remove one before adding another",
                );
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
            }
        }
    }
    for (n, body) in &requests {
        let request =
            db::comments::insert_request(&mut tx, id, *n as i32, body, who.user_id).await?;
        let mut e = audit("evidence.requested", "comment");
        e.entity_id = Some(request.to_string());
        e.after = Some(serde_json::json!({ "benchmark": n }));
        db::audit::record(&mut *tx, &e).await?;
        crate::notify::evidence_requested(&mut *tx, id, *n as i32, who.user_id).await?;
        done = "request";
    }
    match intent {
        Intent::Start => {
            let step = Step {
                from: &["submitted"],
                to: "in_review",
                action: "assessment.review_started",
                tell: None,
            };
            take_step(&mut tx, &who, ip, &head, &step, None).await?;
            done = "started";
        }
        Intent::RemoveRecommendation(action) => {
            if !in_review {
                return Err(AppError::Forbidden);
            }
            if db::assessments::remove_recommendation(&mut tx, id, action).await? {
                let mut e = audit("recommendation.removed", "action");
                e.entity_id = Some(action.to_string());
                db::audit::record(&mut *tx, &e).await?;
            }
            done = "recommendation-removed";
        }
        Intent::Resolve(request) => {
            if db::comments::resolve(&mut tx, id, request).await? {
                let mut e = audit("evidence.resolved", "comment");
                e.entity_id = Some(request.to_string());
                db::audit::record(&mut *tx, &e).await?;
            }
            done = "resolved";
        }
        Intent::Agree => {
            let step = Step {
                from: &["in_review"],
                to: "agreed",
                action: "assessment.agreed",
                tell: Some(Kind::Agreed),
            };
            take_step(&mut tx, &who, ip, &head, &step, None).await?;
            done = "agreed";
        }
        Intent::Publish => {
            let step = Step {
                from: &["agreed"],
                to: "published",
                action: "assessment.published",
                tell: Some(Kind::Published),
            };
            if take_step(&mut tx, &who, ip, &head, &step, None).await? {
                // The letter is kept as it reads now: it never changes after.
                crate::web::letter::freeze(&mut tx, &state, &head, who.user_id).await?;
            }
            done = "published";
        }
        Intent::Return => {
            tx.commit().await?;
            return Ok(Redirect::to(&format!("/assessments/{id}/return")).into_response());
        }
        Intent::Save | Intent::AddRecommendation | Intent::Request(_) => {}
    }
    tx.commit().await?;
    let anchor = match intent {
        Intent::Request(n) => format!("#benchmark-{n}"),
        _ => String::new(),
    };
    Ok(Redirect::to(&format!("/assessments/{id}/review?done={done}{anchor}")).into_response())
}

/// The most recommended actions a letter carries.
pub const MAX_RECOMMENDATIONS: i64 = 3;

/// A step of an assessment's workflow: from which states, to which, what the trail calls it,
/// and whom it tells (the self-assessment's review and the Channel team's check share them).
pub(crate) struct Step {
    pub from: &'static [&'static str],
    pub to: &'static str,
    pub action: &'static str,
    pub tell: Option<Kind>,
}

/// Returned to the council, from submitted or in review, with the reason.
pub(crate) const RETURN: Step = Step {
    from: &["submitted", "in_review"],
    to: "draft",
    action: "assessment.returned",
    tell: Some(Kind::Returned),
};

/// Takes the step if the assessment is in one of its states (none when someone else took it
/// first): the change, its line in the audit trail (which the history page reads), and the
/// notice to those whose turn it is, in the caller's transaction. Whether it was taken.
pub(crate) async fn take_step(
    tx: &mut sqlx::PgConnection,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    head: &Head,
    step: &Step,
    reason: Option<&str>,
) -> AppResult<bool> {
    if !db::assessments::transition(&mut *tx, head.id, step.from, step.to).await? {
        return Ok(false);
    }
    let mut e = event(Some(who.user_id), &who.email, ip, step.action, "assessment");
    scope_event(&mut e, head, head.id);
    e.before = Some(serde_json::json!({ "state": head.state }));
    e.after = Some(serde_json::json!({ "state": step.to, "reason": reason }));
    db::audit::record(&mut *tx, &e).await?;
    if let Some(kind) = step.tell {
        crate::notify::tell(&mut *tx, kind, head.id, who.user_id, reason).await?;
    }
    Ok(true)
}

#[derive(Template)]
#[template(path = "review/return.html")]
struct ReturnPage {
    chrome: Chrome,
    head: Head,
    errors: Errors,
    reason: String,
}

async fn return_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (head, _) = review_page(&state, &who, ip, id, true).await?;
    let page = ReturnPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        errors: Errors::default(),
        reason: String::new(),
    };
    Ok(Html(page.render()?).into_response())
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
    Form(form): Form<ReturnForm>,
) -> AppResult<Response> {
    let (head, _) = review_page(&state, &who, ip, id, false).await?;
    let reason = form.reason.trim();
    let returnable = matches!(head.state.as_str(), "submitted" | "in_review");
    if reason.is_empty() || reason.chars().count() > 2000 || !returnable {
        let mut errors = Errors::default();
        errors.add(
            "reason",
            if !returnable {
                "Only a submitted assessment, or one in review, can be returned"
            } else if reason.is_empty() {
                "Say why the assessment is being returned, so the council knows what to change"
            } else {
                "The reason must be 2000 characters or fewer"
            },
        );
        let page = ReturnPage {
            chrome: Chrome::new(Some(&who), "/assessments"),
            head,
            errors,
            reason: form.reason,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let mut tx = state.db.begin().await?;
    take_step(&mut tx, &who, ip, &head, &RETURN, Some(reason)).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/history?done=returned")).into_response())
}

#[derive(Template)]
#[template(path = "review/history.html")]
struct HistoryPage {
    chrome: Chrome,
    head: Head,
    changes: Vec<StateChange>,
    may_review: bool,
    returned: bool,
}

impl HistoryPage {
    fn what(&self, c: &StateChange) -> &'static str {
        match c.action.as_str() {
            "assessment.started" => "Started",
            "assessment.submitted" if self.head.channel => "Submitted to the Channel team",
            "assessment.submitted" => "Submitted to the regional adviser",
            "assessment.accepted" => "Accepted by the Channel team",
            "assessment.review_started" => "Review started",
            "assessment.returned" if self.head.channel => {
                "Returned to the council by the Channel team"
            }
            "assessment.returned" => "Returned to the council",
            "assessment.agreed" => "Scores agreed",
            "assessment.published" => "Published to the council",
            _ => "Changed",
        }
    }

    fn when(&self, c: &StateChange) -> String {
        crate::domain::uk_time(c.occurred_at)
    }

    /// The reason for a return; for a submission, what the check page listed as worth checking.
    fn why(&self, c: &StateChange) -> String {
        let after = c.after.as_ref();
        if let Some(reason) = after.and_then(|a| a.get("reason")).and_then(|r| r.as_str()) {
            return reason.to_owned();
        }
        let left: Vec<&str> = after
            .and_then(|a| a.get("left_to_check"))
            .and_then(|l| l.as_array())
            .map(|l| l.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        match left.len() {
            0 => String::new(),
            n => format!(
                "Submitted with {n} {} listed as worth checking:\n{}",
                if n == 1 { "thing" } else { "things" },
                left.join("\n")
            ),
        }
    }
}

async fn history(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    // A page that only shows: the kept head (the history itself is the audit trail's, read
    // every time).
    let head = shown_head(&state, &who, ip, id).await?;
    let changes = db::assessments::history(&state.db, id).await?;
    let may_review = policy::allows(&who, Action::Review, object(&head));
    let page = HistoryPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        changes,
        may_review,
        returned: done.done.as_deref() == Some("returned"),
    };
    Ok(Html(page.render()?).into_response())
}
