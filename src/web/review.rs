//! The adviser's side: the region's queue, and an assessment under review: starting the review,
//! returning it to the council with a reason, and the history of its states.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::{Head, StateChange};
use crate::error::{AppError, AppResult};
use crate::web::account::event;
use crate::web::assessments::{object, scope_event, state_label, visible_head};
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}/review", get(review).post(save_review))
        .route(
            "/assessments/{id}/recommendations",
            post(add_recommendation),
        )
        .route(
            "/assessments/{id}/recommendations/{action}/remove",
            post(remove_recommendation),
        )
        .route("/assessments/{id}/agree", post(agree))
        .route(
            "/assessments/{id}/benchmarks/{n}/requests",
            post(request_evidence),
        )
        .route(
            "/assessments/{id}/requests/{request}/resolve",
            post(resolve_request),
        )
        .route("/assessments/{id}/requests/{request}/replies", post(reply))
        .route("/assessments/{id}/publish", post(publish))
        .route("/assessments/{id}/review/start", post(start_review))
        .route("/assessments/{id}/return", post(return_to_council))
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
    reason: String,
    rows: Vec<ReviewView>,
    recommendations: Vec<(Uuid, String)>,
    recommendation: String,
    threads: Vec<db::comments::Thread>,
    /// (benchmark, typed request) when a request could not be sent.
    request: Option<(u32, String)>,
}

impl ReviewPage {
    fn threads_of(&self, n: &u32) -> Vec<&db::comments::Thread> {
        self.threads
            .iter()
            .filter(|t| t.request.number as u32 == *n)
            .collect()
    }

    fn typed_request(&self, n: &u32) -> &str {
        match &self.request {
            Some((m, text)) if m == n => text,
            _ => "",
        }
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

async fn review_page(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
) -> AppResult<(Head, ReviewPage)> {
    let head = visible_head(state, who, ip, id).await?;
    authorise(state, who, ip, Action::Review, object(&head)).await?;
    let fw = crate::web::assessments::framework(state)?;
    let stored = db::assessments::review_rows(&state.db, id).await?;
    let answers = db::assessments::all_answers(&state.db, id).await?;
    let criteria = db::assessments::all_criteria_met(&state.db, id).await?;
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
        reason: String::new(),
        rows,
        recommendations: db::assessments::recommendations(&state.db, id).await?,
        recommendation: String::new(),
        threads: db::comments::threads(&state.db, id, None).await?,
        request: None,
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

async fn save_review(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    body: String,
) -> AppResult<Response> {
    let (head, mut page) = review_page(&state, &who, ip, id).await?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let field = |name: String| {
        pairs
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let mut decisions = Vec::new();
    for row in &mut page.rows {
        let n = row.number;
        row.summary = field(format!("summary-{n}")).replace("\r\n", "\n");
        row.adviser = field(format!("adviser-{n}"));
        row.agreed = field(format!("agreed-{n}"));
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
        if let (Ok((adviser_score, adviser_not_scored)), Ok((agreed_score, agreed_not_scored))) =
            (adviser, agreed)
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
    if head.state != "in_review" {
        page.errors
            .add("summary-1", "Start the review before recording scores");
    }
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let mut tx = state.db.begin().await?;
    db::assessments::save_review(&mut tx, id, &decisions, who.user_id).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "review.saved",
        "assessment",
    );
    scope_event(&mut e, &head, id);
    e.after = Some(serde_json::to_value(&decisions).unwrap_or_default());
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/review")).into_response())
}

/// The most recommended actions a letter carries.
pub const MAX_RECOMMENDATIONS: i64 = 3;

#[derive(Deserialize)]
struct RecommendationForm {
    #[serde(default)]
    description: String,
}

async fn add_recommendation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    axum::Form(form): axum::Form<RecommendationForm>,
) -> AppResult<Response> {
    let (head, mut page) = review_page(&state, &who, ip, id).await?;
    let description = form.description.trim();
    if head.state != "in_review" {
        page.errors.add(
            "recommendation",
            "Start the review before recommending actions",
        );
    } else if description.is_empty() {
        page.errors
            .add("recommendation", "Describe the recommended action");
    } else if description.chars().count() > 2000 {
        page.errors.add(
            "recommendation",
            "A recommended action must be 2000 characters or fewer",
        );
    }
    if page.errors.is_empty() {
        let mut tx = state.db.begin().await?;
        db::assessments::lock(&mut tx, id).await?;
        match db::assessments::add_recommendation(
            &mut tx,
            id,
            description,
            MAX_RECOMMENDATIONS,
            who.user_id,
        )
        .await?
        {
            Some(action) => {
                let mut e = event(
                    Some(who.user_id),
                    &who.email,
                    ip,
                    "recommendation.added",
                    "action",
                );
                scope_event(&mut e, &head, action);
                db::audit::record(&mut *tx, &e).await?;
                tx.commit().await?;
                return Ok(
                    Redirect::to(&format!("/assessments/{id}/review#recommendations"))
                        .into_response(),
                );
            }
            None => page.errors.add(
                "recommendation",
                "A letter has at most three recommended actions. Remove one before adding another",
            ),
        }
    }
    page.recommendation = form.description;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}

async fn remove_recommendation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, action)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (head, _) = review_page(&state, &who, ip, id).await?;
    if head.state != "in_review" {
        return Err(AppError::Forbidden);
    }
    let mut tx = state.db.begin().await?;
    if db::assessments::remove_recommendation(&mut tx, id, action).await? {
        let mut e = event(
            Some(who.user_id),
            &who.email,
            ip,
            "recommendation.removed",
            "action",
        );
        scope_event(&mut e, &head, action);
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/review#recommendations")).into_response())
}

async fn agree(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (head, mut page) = review_page(&state, &who, ip, id).await?;
    let undecided: Vec<String> = page
        .rows
        .iter()
        .filter(|r| r.agreed.is_empty())
        .map(|r| r.number.to_string())
        .collect();
    if head.state != "in_review" {
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
    if !page.errors.is_empty() {
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let mut tx = state.db.begin().await?;
    if db::assessments::transition(&mut tx, id, &["in_review"], "agreed").await? {
        record_change(
            &mut tx,
            &who,
            ip,
            &head,
            "assessment.agreed",
            "agreed",
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/history")).into_response())
}

async fn publish(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (head, _) = review_page(&state, &who, ip, id).await?;
    let mut tx = state.db.begin().await?;
    if db::assessments::transition(&mut tx, id, &["agreed"], "published").await? {
        record_change(
            &mut tx,
            &who,
            ip,
            &head,
            "assessment.published",
            "published",
            None,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/history")).into_response())
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
    scope_event(&mut e, head, head.id);
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
            "assessment.agreed" => "Scores agreed",
            "assessment.published" => "Published to the council",
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

#[derive(Deserialize)]
struct MessageForm {
    #[serde(default)]
    body: String,
}

fn check_message(body: &str) -> Option<&'static str> {
    if body.trim().is_empty() {
        Some("Write the message")
    } else if body.chars().count() > 5000 {
        Some("A message must be 5000 characters or fewer")
    } else {
        None
    }
}

async fn request_evidence(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    axum::Form(form): axum::Form<MessageForm>,
) -> AppResult<Response> {
    let (head, mut page) = review_page(&state, &who, ip, id).await?;
    if crate::web::assessments::framework(&state)?
        .section(n)
        .is_none()
    {
        return Err(AppError::NotFound);
    }
    let field = format!("request-{n}");
    if !matches!(head.state.as_str(), "submitted" | "in_review") {
        page.errors.add(
            field,
            "Evidence can be requested while the assessment is submitted or in review",
        );
    } else if let Some(message) = check_message(&form.body) {
        page.errors.add(field, message);
    }
    if !page.errors.is_empty() {
        page.request = Some((n, form.body));
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let mut tx = state.db.begin().await?;
    let request =
        db::comments::insert_request(&mut tx, id, n as i32, form.body.trim(), who.user_id).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "evidence.requested",
        "comment",
    );
    scope_event(&mut e, &head, request);
    e.after = Some(serde_json::json!({ "benchmark": n }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/review#benchmark-{n}")).into_response())
}

async fn resolve_request(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, request)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let (head, _) = review_page(&state, &who, ip, id).await?;
    let (n, _) = db::comments::request(&state.db, id, request)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin().await?;
    if db::comments::resolve(&mut tx, id, request).await? {
        let mut e = event(
            Some(who.user_id),
            &who.email,
            ip,
            "evidence.resolved",
            "comment",
        );
        scope_event(&mut e, &head, request);
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/review#benchmark-{n}")).into_response())
}

async fn reply(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, request)): Path<(Uuid, Uuid)>,
    axum::Form(form): axum::Form<MessageForm>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    let (n, resolved) = db::comments::request(&state.db, id, request)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise(&state, &who, ip, Action::AnswerRequest(n), object(&head)).await?;
    let mut errors = Errors::default();
    if resolved {
        errors.add(
            format!("reply-{request}"),
            "The adviser has resolved this request",
        );
    } else if let Some(message) = check_message(&form.body) {
        errors.add(format!("reply-{request}"), message);
    }
    if !errors.is_empty() {
        return crate::web::assessments::benchmark_again_with(
            &state,
            &who,
            head,
            n as u32,
            errors,
            Default::default(),
            None,
            Some((request, form.body)),
        )
        .await;
    }
    let mut tx = state.db.begin().await?;
    let reply =
        db::comments::insert_reply(&mut tx, id, request, form.body.trim(), who.user_id).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "evidence.replied",
        "comment",
    );
    scope_event(&mut e, &head, reply);
    e.after = Some(serde_json::json!({ "benchmark": n, "request": request }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/assessments/{id}/benchmarks/{n}?done=replied#request-{request}"
    ))
    .into_response())
}
