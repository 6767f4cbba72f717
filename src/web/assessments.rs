//! The self-assessment: the list, starting one, the task list, a benchmark's page, check and submit.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::types::ipnetwork::IpNetwork;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::policy::{self, Action, Object};
use crate::auth::session::ClientIp;
use crate::auth::{Principal, Role};
use crate::db;
use crate::db::assessments::{Answer, Benchmark, Head, Save};
use crate::domain::{Score, Status};
use crate::error::{AppError, AppResult};
use crate::framework::{Block, Framework, Item, ItemKind, Section, blocks};
use crate::scoring::{self, Record, Suggestion};
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::guard::{authorise, authorise_or_hide};

/// The framework every council assessment uses.
pub const FRAMEWORK: &str = "prevent-la-2018";
/// The longest evidence text kept for one question or prompt.
pub const MAX_EVIDENCE: usize = 20_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments", get(list).post(start))
        .route("/assessments/{id}", get(task_list))
        .route(
            "/assessments/{id}/benchmarks/{n}",
            get(benchmark).post(save),
        )
        .route("/assessments/{id}/benchmarks/{n}/actions", post(add_action))
        .route(
            "/assessments/{id}/actions/{action}/status",
            post(change_action),
        )
        .route("/assessments/{id}/actions/{action}/notes", post(add_note))
        .route(
            "/assessments/{id}/benchmarks/{n}/attachments",
            post(upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::domain::files::MAX_BYTES + 64 * 1024,
            )),
        )
        .route("/assessments/{id}/attachments/{file}", get(download))
        .route(
            "/assessments/{id}/attachments/{file}/delete",
            post(delete_attachment),
        )
        .route("/assessments/{id}/check", get(check))
        .route("/assessments/{id}/submit", post(submit))
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

pub(crate) fn framework(state: &AppState) -> AppResult<&Framework> {
    state.frameworks.get(FRAMEWORK).ok_or_else(|| {
        AppError::Internal(anyhow::anyhow!("the framework {FRAMEWORK} is not loaded"))
    })
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

// ----- The list, and starting one -----------------------------------------------------------

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

async fn list(State(state): State<AppState>, who: Principal) -> AppResult<Response> {
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
struct StartForm {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    from: String,
}

async fn start(
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

// ----- The task list --------------------------------------------------------------------------

struct Task {
    number: u32,
    title: String,
    hint: String,
    status: &'static str,
    tag: &'static str,
}

#[derive(Template)]
#[template(path = "assessments/task_list.html")]
struct TaskListPage {
    chrome: Chrome,
    head: Head,
    state_label: &'static str,
    tasks: Vec<Task>,
    completed: usize,
    may_submit: bool,
    may_import: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn task_list(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    let fw = framework(&state)?;
    let progress = db::assessments::progress(&state.db, id).await?;
    let open_requests = db::comments::open_counts(&state.db, id).await?;
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
            let score = match (proposed, not_scored) {
                (Some(s), _) => format!("proposed score {s}"),
                (None, true) => "proposed not scored".to_owned(),
                _ => "no score proposed".to_owned(),
            };
            let mut hint = format!("{answered} of {questions} questions answered, {score}");
            if review > 0 {
                hint.push_str(&format!(", {review} carried forward to review"));
            }
            if let Some((_, open)) = open_requests
                .iter()
                .find(|(n, _)| *n as u32 == section.number)
            {
                hint.push_str(&format!(
                    ", {open} open evidence {}",
                    if *open == 1 { "request" } else { "requests" }
                ));
            }
            let scored = proposed.is_some() || not_scored;
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
    let page = TaskListPage {
        may_import,
        chrome: Chrome::new(Some(&who), "/assessments"),
        state_label: state_label(&head.state),
        head,
        tasks,
        completed,
        may_submit,
        notice: match done.done.as_deref() {
            Some("submitted") => {
                Some("The self-assessment has been submitted to your regional adviser.")
            }
            Some("imported") => Some("The workbook has been imported."),
            _ => None,
        },
    };
    Ok(Html(page.render()?).into_response())
}

// ----- A benchmark's page ----------------------------------------------------------------------

/// What was typed (or stored) for the benchmark, before checking.
#[derive(Debug, Clone, Default)]
struct Typed {
    statuses: BTreeMap<String, String>,
    evidence: BTreeMap<String, String>,
    prompts: BTreeMap<(String, usize), String>,
    criteria: BTreeSet<String>,
    rag: String,
    proposed: String,
    justification: String,
    comments: String,
    version: i32,
}

impl Typed {
    fn from_stored(b: &Benchmark) -> Typed {
        let mut t = Typed {
            criteria: b.criteria_met.iter().cloned().collect(),
            rag: b.result.rag.clone().unwrap_or_default(),
            proposed: match (b.result.proposed_score, b.result.proposed_not_scored) {
                (Some(s), _) => s.to_string(),
                (None, true) => "not_scored".to_owned(),
                _ => String::new(),
            },
            justification: b.result.justification.clone(),
            comments: b.result.comments.clone(),
            version: b.result.version,
            ..Typed::default()
        };
        for a in &b.answers {
            if let Some(s) = &a.status {
                t.statuses.insert(a.code.clone(), s.clone());
            }
            t.evidence.insert(a.code.clone(), a.evidence.clone());
            for (i, p) in a.prompt_evidence.iter().enumerate() {
                t.prompts.insert((a.code.clone(), i), p.clone());
            }
        }
        t
    }

    fn from_body(body: &str) -> Typed {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(body).unwrap_or_default();
        let mut t = Typed::default();
        for (key, value) in pairs {
            if let Some(code) = key.strip_prefix("status-") {
                t.statuses.insert(code.to_owned(), value);
            } else if let Some(code) = key.strip_prefix("evidence-") {
                t.evidence
                    .insert(code.to_owned(), value.replace("\r\n", "\n"));
            } else if let Some(rest) = key.strip_prefix("prompt-") {
                if let Some((code, index)) = rest.rsplit_once('-') {
                    if let Ok(index) = index.parse::<usize>() {
                        t.prompts
                            .insert((code.to_owned(), index), value.replace("\r\n", "\n"));
                    }
                }
            } else {
                match key.as_str() {
                    "criteria" => {
                        t.criteria.insert(value);
                    }
                    "rag" => t.rag = value,
                    "proposed" => t.proposed = value,
                    "justification" => t.justification = value.replace("\r\n", "\n"),
                    "comments" => t.comments = value.replace("\r\n", "\n"),
                    "version" => t.version = value.parse().unwrap_or(0),
                    _ => {}
                }
            }
        }
        t
    }

    /// The scoring module's view of what was typed (unknown statuses count as not started).
    fn record(&self, section: &Section) -> Record {
        Record {
            criteria_met: self.criteria.clone(),
            statuses: self
                .statuses
                .iter()
                .filter_map(|(code, s)| s.parse::<Status>().ok().map(|s| (code.clone(), s)))
                .collect(),
            not_scored: self.proposed == "not_scored" && section.may_be_not_scored,
        }
    }

    fn proposed_score(&self) -> Option<Score> {
        self.proposed.parse::<u8>().ok().and_then(Score::new)
    }
}

/// The field id of a question's part: "q1-1", "q1-1-prompt-0".
fn field_id(code: &str) -> String {
    format!("q{}", code.replace('.', "-"))
}

struct PromptView {
    text: String,
    name: String,
    id: String,
    value: String,
}

struct QuestionView<'a> {
    item: &'a Item,
    id: String,
    kind: &'static str,
    expectation: bool,
    status: String,
    evidence: String,
    prompts: Vec<PromptView>,
    needs_review: bool,
    theirs: Option<Answer>,
}

struct CriterionView {
    id: String,
    html_id: String,
    text: String,
    checked: bool,
}

struct LevelView {
    score: u8,
    descriptor: String,
    criteria: Vec<CriterionView>,
}

struct Theirs {
    by: String,
    at: String,
    result: db::assessments::Result,
    criteria: Vec<String>,
}

#[derive(Template)]
#[template(path = "assessments/benchmark.html")]
struct BenchmarkPage<'a> {
    chrome: Chrome,
    head: Head,
    section: &'a Section,
    guidance: Vec<Block>,
    questions: Vec<QuestionView<'a>>,
    levels: Vec<LevelView>,
    statuses: Vec<Status>,
    suggestion: Suggestion,
    suggested_label: String,
    typed: Typed,
    editable: bool,
    errors: Errors,
    theirs: Option<Theirs>,
    saved: bool,
    actions: Vec<ActionView>,
    action_form: ActionForm,
    /// (action id, typed note) when a note could not be added.
    note: Option<(Uuid, String)>,
    attachments: Vec<AttachmentView>,
    /// The council's people, who may be named as an action's owner (for editors only).
    people: Vec<(Uuid, String)>,
    /// The adviser's evidence requests on this benchmark, with the council's replies.
    threads: Vec<db::comments::Thread>,
    may_answer: bool,
    /// (request id, typed reply) when a reply could not be posted.
    reply: Option<(Uuid, String)>,
}

/// An attachment on the benchmark page.
struct AttachmentView {
    file: db::attachments::Listed,
    size: String,
}

/// "340 KB", "2.5 MB".
fn human_size(bytes: i32) -> String {
    let bytes = f64::from(bytes);
    if bytes < 1024.0 * 1024.0 {
        format!("{} KB", (bytes / 1024.0).ceil())
    } else {
        format!("{:.1} MB", bytes / (1024.0 * 1024.0))
    }
}

/// An action on the benchmark page.
struct ActionView {
    action: db::actions::Action,
    status_label: &'static str,
    due: String,
    note_on: String,
}

impl<'a> BenchmarkPage<'a> {
    fn actions_of(&self, code: &str) -> Vec<&ActionView> {
        self.actions
            .iter()
            .filter(|a| a.action.item_code.as_deref() == Some(code))
            .collect()
    }

    fn typed_reply(&self, id: &Uuid) -> &str {
        match &self.reply {
            Some((reply_to, text)) if reply_to == id => text,
            _ => "",
        }
    }

    fn typed_note(&self, id: &Uuid) -> &str {
        match &self.note {
            Some((note_for, text)) if note_for == id => text,
            _ => "",
        }
    }
}

/// The statuses of an action.
pub const ACTION_STATUSES: [(&str, &str); 4] = [
    ("open", "Open"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
];

pub(crate) fn action_status_label(code: &str) -> &'static str {
    ACTION_STATUSES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or("Unknown", |(_, l)| l)
}

/// The new-action form, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    question: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    owner: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    rag: String,
    #[serde(default)]
    owner_user: String,
}

/// What a benchmark page is made from, besides what is stored.
struct Draft<'a> {
    head: Head,
    section: &'a Section,
    typed: Typed,
    editable: bool,
    errors: Errors,
    theirs: Option<Theirs>,
}

fn page<'a>(
    who: &Principal,
    draft: Draft<'a>,
    stored: &Benchmark,
    rags: &scoring::RagMapping,
) -> BenchmarkPage<'a> {
    let Draft {
        head,
        section,
        typed,
        editable,
        errors,
        theirs,
    } = draft;
    let questions = section
        .items
        .iter()
        .map(|item| {
            let stored_answer = stored.answers.iter().find(|a| a.code == item.code);
            let id = field_id(&item.code);
            QuestionView {
                item,
                kind: item.kind.map_or("", ItemKind::label),
                expectation: item.kind == Some(ItemKind::Expectation),
                status: typed.statuses.get(&item.code).cloned().unwrap_or_default(),
                evidence: typed.evidence.get(&item.code).cloned().unwrap_or_default(),
                prompts: item
                    .prompts
                    .iter()
                    .enumerate()
                    .map(|(i, text)| PromptView {
                        text: text.clone(),
                        name: format!("prompt-{}-{i}", item.code),
                        id: format!("{id}-prompt-{i}"),
                        value: typed
                            .prompts
                            .get(&(item.code.clone(), i))
                            .cloned()
                            .unwrap_or_default(),
                    })
                    .collect(),
                needs_review: stored_answer.is_some_and(|a| a.needs_review),
                theirs: theirs.as_ref().and_then(|_| stored_answer.cloned()),
                id,
            }
        })
        .collect();
    let levels = section
        .levels
        .iter()
        .filter(|l| l.score >= 2)
        .map(|l| LevelView {
            score: l.score,
            descriptor: l.descriptor.clone(),
            criteria: l
                .criteria
                .iter()
                .map(|c| CriterionView {
                    id: c.id.clone(),
                    html_id: format!("criterion-{}", c.id.replace('.', "-")),
                    text: c.text.clone(),
                    checked: typed.criteria.contains(&c.id),
                })
                .collect(),
        })
        .collect();
    let may_answer = policy::allows(
        who,
        Action::AnswerRequest(section.number as i32),
        object(&head),
    );
    let suggestion = scoring::suggest(section, &typed.record(section), rags);
    let suggested_label = match suggestion.score {
        Some(s) => format!(
            "{s} ({})",
            suggestion.band.map_or("", |b| b.label()).to_lowercase()
        ),
        None => "Not scored".to_owned(),
    };
    BenchmarkPage {
        chrome: Chrome::new(Some(who), "/assessments"),
        head,
        section,
        guidance: section.guidance.as_deref().map(blocks).unwrap_or_default(),
        questions,
        levels,
        statuses: Status::ALL.to_vec(),
        suggestion,
        suggested_label,
        typed,
        editable,
        errors,
        theirs,
        saved: false,
        actions: Vec::new(),
        action_form: ActionForm::default(),
        note: None,
        attachments: Vec::new(),
        people: Vec::new(),
        threads: Vec::new(),
        may_answer,
        reply: None,
    }
}

/// What is stored for a benchmark's page, in one statement; the council's people only for
/// those who may edit (they name an action's owner).
async fn stored_page(
    state: &AppState,
    head: &Head,
    n: u32,
    editable: bool,
) -> AppResult<db::assessments::BenchmarkPage> {
    let people_of = editable.then_some(head.organisation_id);
    db::assessments::benchmark_page(&state.db, head.id, n as i32, people_of)
        .await?
        .ok_or(AppError::NotFound)
}

/// Adds the benchmark's actions, attachments, evidence requests and people to its page.
fn with_lists(
    mut view: BenchmarkPage<'_>,
    stored: db::assessments::BenchmarkPage,
) -> BenchmarkPage<'_> {
    view.actions = stored
        .actions
        .into_iter()
        .map(|action| ActionView {
            status_label: action_status_label(&action.status),
            due: action
                .due_on
                .map(crate::domain::long_date)
                .unwrap_or_default(),
            note_on: action
                .latest_note_on
                .map(crate::domain::long_date)
                .unwrap_or_default(),
            action,
        })
        .collect();
    view.attachments = stored
        .attachments
        .into_iter()
        .map(|file| AttachmentView {
            size: human_size(file.size_bytes),
            file,
        })
        .collect();
    view.threads = stored.threads;
    view.people = stored.people;
    view
}

async fn benchmark(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    // Only shown: the kept copies serve (saving asks the database afresh).
    let head = state
        .caches
        .head(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise_or_hide(&state, &who, ip, Action::ViewAssessment, object(&head)).await?;
    let fw = framework(&state)?;
    let section = fw.section(n).ok_or(AppError::NotFound)?;
    let editable = policy::allows(&who, Action::EditBenchmark(n as i32), object(&head));
    let people_of = editable.then_some(head.organisation_id);
    let stored = state
        .caches
        .benchmark_page(&state.db, &head, n as i32, people_of)
        .await?;
    let stored = (*stored).clone().ok_or(AppError::NotFound)?;
    let typed = Typed::from_stored(&stored.benchmark);
    let mut view = page(
        &who,
        Draft {
            head,
            section,
            typed,
            editable,
            errors: Errors::default(),
            theirs: None,
        },
        &stored.benchmark,
        &state.settings.rags,
    );
    view.saved = done.done.as_deref() == Some("saved");
    let view = with_lists(view, stored);
    Ok(Html(view.render()?).into_response())
}

/// Checks what was typed; returns what to save, or the errors.
fn check_typed(
    section: &Section,
    typed: &Typed,
    rags: &scoring::RagMapping,
) -> Result<Save, Errors> {
    let mut errors = Errors::default();
    let mut answers = Vec::with_capacity(section.items.len());
    for item in &section.items {
        let id = field_id(&item.code);
        let status = match typed.statuses.get(&item.code).map(String::as_str) {
            None | Some("") => None,
            Some(s) => match s.parse::<Status>() {
                Ok(s) => Some(s.code().to_owned()),
                Err(_) => {
                    errors.add(
                        format!("{id}-status"),
                        format!("Choose a status for question {} from the list", item.code),
                    );
                    None
                }
            },
        };
        let evidence = typed.evidence.get(&item.code).cloned().unwrap_or_default();
        if evidence.chars().count() > MAX_EVIDENCE {
            errors.add(
                format!("{id}-evidence"),
                format!(
                    "The evidence for question {} must be {MAX_EVIDENCE} characters or fewer",
                    item.code
                ),
            );
        }
        let prompt_evidence: Vec<String> = (0..item.prompts.len())
            .map(|i| {
                typed
                    .prompts
                    .get(&(item.code.clone(), i))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        for (i, p) in prompt_evidence.iter().enumerate() {
            if p.chars().count() > MAX_EVIDENCE {
                errors.add(format!("{id}-prompt-{i}"), format!("The evidence for prompt {} of question {} must be {MAX_EVIDENCE} characters or fewer", i + 1, item.code));
            }
        }
        answers.push(Answer {
            code: item.code.clone(),
            status: status.clone(),
            evidence,
            prompt_evidence,
            needs_review: false,
        });
    }
    let known: BTreeSet<&str> = section
        .levels
        .iter()
        .flat_map(|l| l.criteria.iter().map(|c| c.id.as_str()))
        .collect();
    if typed.criteria.iter().any(|c| !known.contains(c.as_str())) {
        errors.add("criteria", "Choose criteria from the list");
    }
    let rag = match typed.rag.as_str() {
        "" => None,
        r @ ("red" | "amber" | "green") => Some(r.to_owned()),
        _ => {
            errors.add("rag", "Choose red, amber or green");
            None
        }
    };
    let (proposed_score, proposed_not_scored) = match typed.proposed.as_str() {
        "" => (None, false),
        "not_scored" if section.may_be_not_scored => (None, true),
        "not_scored" => {
            errors.add(
                "proposed",
                format!(
                    "Benchmark {} is always scored: choose a score from 1 to 5",
                    section.number
                ),
            );
            (None, false)
        }
        other => match typed.proposed_score() {
            Some(s) => (Some(i16::from(s.get())), false),
            None => {
                errors.add(
                    "proposed",
                    format!("Choose a score from 1 to 5, not {other:?}"),
                );
                (None, false)
            }
        },
    };
    let suggestion = scoring::suggest(section, &typed.record(section), rags);
    let proposed = if proposed_not_scored {
        None
    } else {
        typed.proposed_score()
    };
    let has_proposal = proposed_score.is_some() || proposed_not_scored;
    if has_proposal
        && scoring::justification_required(suggestion.score, proposed)
        && typed.justification.trim().is_empty()
    {
        errors.add(
            "justification",
            "Explain why the proposed score differs from the suggested score",
        );
    }
    for (field, text, label) in [
        ("justification", &typed.justification, "The justification"),
        ("comments", &typed.comments, "The comments"),
    ] {
        if text.chars().count() > MAX_EVIDENCE {
            errors.add(
                field,
                format!("{label} must be {MAX_EVIDENCE} characters or fewer"),
            );
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Save {
        answers,
        criteria_met: typed.criteria.iter().cloned().collect(),
        rag,
        proposed_score,
        proposed_not_scored,
        justification: typed.justification.trim().to_owned(),
        comments: typed.comments.trim().to_owned(),
    })
}

async fn save(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    body: String,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    authorise(
        &state,
        &who,
        ip,
        Action::EditBenchmark(n as i32),
        object(&head),
    )
    .await?;
    let fw = framework(&state)?;
    let section = fw.section(n).ok_or(AppError::NotFound)?;
    let typed = Typed::from_body(&body);
    let rags = &state.settings.rags;
    let save = match check_typed(section, &typed, rags) {
        Ok(save) => save,
        Err(errors) => {
            let stored = stored_page(&state, &head, n, true).await?;
            let view = page(
                &who,
                Draft {
                    head,
                    section,
                    typed,
                    editable: true,
                    errors,
                    theirs: None,
                },
                &stored.benchmark,
                rags,
            );
            let view = with_lists(view, stored);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(view.render()?)).into_response());
        }
    };
    let mut tx = state.db.begin().await?;
    match db::assessments::save_benchmark(&mut tx, id, n as i32, typed.version, &save, who.user_id)
        .await?
    {
        Ok(version) => {
            let mut e = event(
                Some(who.user_id),
                &who.email,
                ip,
                "benchmark.saved",
                "assessment",
            );
            scope_event(&mut e, &head, format!("{id}/benchmarks/{n}"));
            // Statuses and scores, not evidence text.
            e.after = Some(serde_json::json!({
                "version": version,
                "statuses": save.answers.iter().map(|a| (a.code.clone(), a.status.clone())).collect::<BTreeMap<_, _>>(),
                "criteria_met": save.criteria_met, "rag": save.rag,
                "proposed_score": save.proposed_score, "proposed_not_scored": save.proposed_not_scored,
            }));
            db::audit::record(&mut *tx, &e).await?;
            tx.commit().await?;
            Ok(
                Redirect::to(&format!("/assessments/{id}/benchmarks/{n}?done=saved"))
                    .into_response(),
            )
        }
        Err(db::assessments::Conflict) => {
            tx.rollback().await?;
            // Someone saved in between: show their version beside this person's typing, which
            // is kept in the form; saving again (at their version) keeps what is in the form.
            let page_data = stored_page(&state, &head, n, true).await?;
            let stored = &page_data.benchmark;
            let mut typed = typed;
            typed.version = stored.result.version;
            let theirs = Theirs {
                by: stored
                    .result
                    .updated_by
                    .clone()
                    .unwrap_or_else(|| "Someone".to_owned()),
                at: stored
                    .result
                    .updated_at
                    .time()
                    .to_string()
                    .chars()
                    .take(5)
                    .collect(),
                result: stored.result.clone(),
                criteria: stored.criteria_met.clone(),
            };
            let mut errors = Errors::default();
            errors.add("conflict", format!("{} saved this benchmark at {} (UTC) while you were editing it. Nothing has been lost: your changes are in the form, with their version beside them. Keep what you want and save again.", theirs.by, theirs.at));
            let view = page(
                &who,
                Draft {
                    head,
                    section,
                    typed,
                    editable: true,
                    errors,
                    theirs: Some(theirs),
                },
                stored,
                rags,
            );
            let view = with_lists(view, page_data);
            Ok((StatusCode::CONFLICT, Html(view.render()?)).into_response())
        }
    }
}

// ----- Actions ---------------------------------------------------------------------------------

/// Re-shows a benchmark page with what was stored, an action form or note as typed, and errors.
pub(crate) async fn benchmark_again(
    state: &AppState,
    who: &Principal,
    head: Head,
    n: u32,
    errors: Errors,
    action_form: ActionForm,
    note: Option<(Uuid, String)>,
) -> AppResult<Response> {
    benchmark_again_with(state, who, head, n, errors, action_form, note, None).await
}

/// As `benchmark_again`, also keeping a reply to an evidence request as typed.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn benchmark_again_with(
    state: &AppState,
    who: &Principal,
    head: Head,
    n: u32,
    errors: Errors,
    action_form: ActionForm,
    note: Option<(Uuid, String)>,
    reply: Option<(Uuid, String)>,
) -> AppResult<Response> {
    let fw = framework(state)?;
    let section = fw.section(n).ok_or(AppError::NotFound)?;
    let stored = stored_page(state, &head, n, true).await?;
    let typed = Typed::from_stored(&stored.benchmark);
    let draft = Draft {
        head,
        section,
        typed,
        editable: true,
        errors,
        theirs: None,
    };
    let mut view = page(who, draft, &stored.benchmark, &state.settings.rags);
    view.action_form = action_form;
    view.note = note;
    view.reply = reply;
    let view = with_lists(view, stored);
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(view.render()?)).into_response())
}

fn cycle_start_year(head: &Head) -> i32 {
    head.cycle_label
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2000)
}

async fn add_action(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    axum::Form(form): axum::Form<ActionForm>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    authorise(
        &state,
        &who,
        ip,
        Action::EditBenchmark(n as i32),
        object(&head),
    )
    .await?;
    let section = framework(&state)?.section(n).ok_or(AppError::NotFound)?;
    let mut errors = Errors::default();
    let question = match form.question.as_str() {
        "" => None,
        code if section.items.iter().any(|i| i.code == code) => Some(code.to_owned()),
        _ => {
            errors.add(
                "action-question",
                "Choose the question the action is for, or the benchmark",
            );
            None
        }
    };
    let description = form.description.trim();
    if description.is_empty() {
        errors.add("action-description", "Describe the action");
    } else if description.chars().count() > 2000 {
        errors.add(
            "action-description",
            "The description must be 2000 characters or fewer",
        );
    }
    if form.owner.trim().chars().count() > 200 {
        errors.add("action-owner", "The owner must be 200 characters or fewer");
    }
    let target = if form.target.trim().is_empty() {
        None
    } else {
        match crate::domain::target::parse(&form.target, cycle_start_year(&head)) {
            Ok(t) => Some(t),
            Err(message) => {
                errors.add("action-target", message);
                None
            }
        }
    };
    let rag = match form.rag.as_str() {
        "" => None,
        r @ ("red" | "amber" | "green") => Some(r.to_owned()),
        _ => {
            errors.add("action-rag", "Choose red, amber or green");
            None
        }
    };
    if !errors.is_empty() {
        return benchmark_again(&state, &who, head, n, errors, form, None).await;
    }
    let owner_user = match form.owner_user.as_str() {
        "" => None,
        text => match text.parse::<Uuid>() {
            Ok(id)
                if db::users::members_of(&state.db, head.organisation_id)
                    .await?
                    .iter()
                    .any(|m| m.user_id == id) =>
            {
                Some(id)
            }
            _ => {
                errors.add(
                    "action-owner-user",
                    "Choose someone from the council's people, or nobody",
                );
                return benchmark_again(&state, &who, head, n, errors, form, None).await;
            }
        },
    };
    let new = db::actions::NewAction {
        organisation: head.organisation_id,
        owner_user,
        assessment: id,
        section_number: n as i32,
        item_code: question,
        description: description.to_owned(),
        owner_text: form.owner.trim().to_owned(),
        target_text: target.as_ref().map(|t| t.text.clone()).unwrap_or_default(),
        due_on: target.map(|t| t.due),
        status: "open".to_owned(),
        rag,
    };
    let mut tx = state.db.begin().await?;
    let action = db::actions::insert(&mut tx, &new, who.user_id).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "action.created",
        "action",
    );
    scope_event(&mut e, &head, action);
    e.after = Some(serde_json::json!({
        "benchmark": n, "question": new.item_code, "owner": new.owner_text,
        "target": new.target_text, "due_on": new.due_on.map(|d| d.to_string()),
    }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/assessments/{id}/benchmarks/{n}?done=saved#actions"
    ))
    .into_response())
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    rag: String,
    #[serde(default)]
    version: i32,
}

async fn change_action(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, action)): Path<(Uuid, Uuid)>,
    axum::Form(form): axum::Form<StatusForm>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    let n = db::actions::benchmark_of(&state.db, id, action)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise(&state, &who, ip, Action::EditBenchmark(n), object(&head)).await?;
    let mut errors = Errors::default();
    if !ACTION_STATUSES.iter().any(|(c, _)| *c == form.status) {
        errors.add(
            format!("action-{action}-status"),
            "Choose the action's status",
        );
    }
    let rag = match form.rag.as_str() {
        "" => None,
        r @ ("red" | "amber" | "green") => Some(r),
        _ => {
            errors.add(
                format!("action-{action}-status"),
                "Choose red, amber or green",
            );
            None
        }
    };
    if errors.is_empty() {
        let mut tx = state.db.begin().await?;
        if db::actions::update_status(&mut tx, id, action, form.version, &form.status, rag).await? {
            let mut e = event(
                Some(who.user_id),
                &who.email,
                ip,
                "action.updated",
                "action",
            );
            scope_event(&mut e, &head, action);
            e.after = Some(serde_json::json!({ "status": form.status, "rag": rag }));
            db::audit::record(&mut *tx, &e).await?;
            tx.commit().await?;
            return Ok(Redirect::to(&format!(
                "/assessments/{id}/benchmarks/{n}?done=saved#action-{action}"
            ))
            .into_response());
        }
        errors.add(
            format!("action-{action}-status"),
            "Someone changed this action while you were looking at it. Its current status is shown; choose again if you still want to change it",
        );
    }
    benchmark_again(
        &state,
        &who,
        head,
        n as u32,
        errors,
        ActionForm::default(),
        None,
    )
    .await
}

#[derive(Deserialize)]
pub(crate) struct NoteForm {
    #[serde(default)]
    pub(crate) note: String,
}

async fn add_note(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, action)): Path<(Uuid, Uuid)>,
    axum::Form(form): axum::Form<NoteForm>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    let n = db::actions::benchmark_of(&state.db, id, action)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise(&state, &who, ip, Action::EditBenchmark(n), object(&head)).await?;
    let note = form.note.trim();
    let field = format!("action-{action}-note");
    let mut errors = Errors::default();
    if note.is_empty() {
        errors.add(field, "Write the progress note");
    } else if note.chars().count() > 2000 {
        errors.add(field, "A progress note must be 2000 characters or fewer");
    }
    if !errors.is_empty() {
        return benchmark_again(
            &state,
            &who,
            head,
            n as u32,
            errors,
            ActionForm::default(),
            Some((action, form.note)),
        )
        .await;
    }
    let mut tx = state.db.begin().await?;
    db::actions::add_note(&mut tx, id, action, note, who.user_id).await?;
    let mut e = event(Some(who.user_id), &who.email, ip, "action.noted", "action");
    scope_event(&mut e, &head, action);
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/assessments/{id}/benchmarks/{n}?done=saved#action-{action}"
    ))
    .into_response())
}

// ----- Attachments -----------------------------------------------------------------------------

async fn upload(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    mut multipart: axum::extract::Multipart,
) -> AppResult<Response> {
    use crate::domain::files;
    let head = visible_head(&state, &who, ip, id).await?;
    authorise(
        &state,
        &who,
        ip,
        Action::EditBenchmark(n as i32),
        object(&head),
    )
    .await?;
    let section = framework(&state)?.section(n).ok_or(AppError::NotFound)?;
    let mut errors = Errors::default();
    let (mut question, mut file) = (String::new(), None::<(String, Vec<u8>)>);
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("question") => question = field.text().await.unwrap_or_default(),
                Some("file") => {
                    let name = files::clean_name(field.file_name().unwrap_or_default());
                    match field.bytes().await {
                        Ok(bytes) => file = Some((name, bytes.to_vec())),
                        Err(_) => {
                            errors.add("attachment-file", "The file must be 20 MB or smaller");
                            break;
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => {
                errors.add("attachment-file", "The file must be 20 MB or smaller");
                break;
            }
        }
    }
    let question = match question.as_str() {
        "" => None,
        code if section.items.iter().any(|i| i.code == code) => Some(code.to_owned()),
        _ => {
            errors.add(
                "attachment-question",
                "Choose the question the file is for, or the benchmark",
            );
            None
        }
    };
    let kind = match &file {
        _ if !errors.is_empty() => None,
        None => {
            errors.add("attachment-file", "Select a file");
            None
        }
        Some((_, content)) if content.is_empty() => {
            errors.add("attachment-file", "The selected file is empty");
            None
        }
        Some((_, content)) if content.len() > files::MAX_BYTES => {
            errors.add("attachment-file", "The file must be 20 MB or smaller");
            None
        }
        Some((_, content)) => match files::recognise(content) {
            Some(kind) => Some(kind),
            None => {
                errors.add("attachment-file", "The file must be a PDF, a Word, Excel, PowerPoint or OpenDocument file, an image (PNG, JPEG, GIF) or plain text");
                None
            }
        },
    };
    let (Some(kind), Some((name, content))) = (kind, file) else {
        return benchmark_again(&state, &who, head, n, errors, ActionForm::default(), None).await;
    };
    let new = db::attachments::NewAttachment {
        assessment: id,
        section_number: n as i32,
        item_code: question.as_deref(),
        filename: &name,
        content_type: kind,
        content: &content,
    };
    let mut tx = state.db.begin().await?;
    let file_id = db::attachments::insert(&mut tx, &new, who.user_id).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "attachment.added",
        "attachment",
    );
    scope_event(&mut e, &head, file_id);
    e.after = Some(
        serde_json::json!({ "benchmark": n, "question": question, "filename": name, "type": kind, "bytes": content.len() }),
    );
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/assessments/{id}/benchmarks/{n}?done=saved#attachments"
    ))
    .into_response())
}

/// `attachment; filename="…"; filename*=UTF-8''…`: the original name, safely.
pub(crate) fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn download(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, file)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    visible_head(&state, &who, ip, id).await?;
    let file = db::attachments::download(&state.db, id, file)
        .await?
        .ok_or(AppError::NotFound)?;
    let headers = [
        (axum::http::header::CONTENT_TYPE, file.content_type.clone()),
        (
            axum::http::header::CONTENT_DISPOSITION,
            content_disposition(&file.filename),
        ),
        (
            axum::http::header::CACHE_CONTROL,
            "private, no-store".to_owned(),
        ),
    ];
    Ok((headers, file.content).into_response())
}

async fn delete_attachment(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, file)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    let (n, name) = db::attachments::describe(&state.db, id, file)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise(&state, &who, ip, Action::EditBenchmark(n), object(&head)).await?;
    let mut tx = state.db.begin().await?;
    if db::attachments::delete(&mut tx, id, file).await? {
        let mut e = event(
            Some(who.user_id),
            &who.email,
            ip,
            "attachment.deleted",
            "attachment",
        );
        scope_event(&mut e, &head, file);
        e.before = Some(serde_json::json!({ "benchmark": n, "filename": name }));
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "/assessments/{id}/benchmarks/{n}?done=saved#attachments"
    ))
    .into_response())
}

// ----- Check answers and submit ----------------------------------------------------------------

struct Gap {
    text: String,
    href: String,
}

struct Row {
    number: u32,
    title: String,
    answered: String,
    proposed: String,
    suggested: String,
}

#[derive(Template)]
#[template(path = "assessments/check.html")]
struct CheckPage {
    chrome: Chrome,
    head: Head,
    gaps: Vec<Gap>,
    rows: Vec<Row>,
    may_submit: bool,
}

async fn gaps_and_rows(state: &AppState, head: &Head) -> AppResult<(Vec<Gap>, Vec<Row>)> {
    let fw = framework(state)?;
    let progress = db::assessments::progress(&state.db, head.id).await?;
    let answers = db::assessments::all_answers(&state.db, head.id).await?;
    let criteria = db::assessments::all_criteria_met(&state.db, head.id).await?;
    let (mut gaps, mut rows) = (Vec::new(), Vec::new());
    for section in &fw.sections {
        let n = section.number;
        let href = |anchor: &str| format!("/assessments/{}/benchmarks/{n}#{anchor}", head.id);
        let mut record = Record {
            not_scored: false,
            ..Record::default()
        };
        for item in &section.items {
            let answer = answers.iter().find(|a| a.code == item.code);
            let status = answer.and_then(|a| a.status.as_deref());
            match status.and_then(|s| s.parse::<Status>().ok()) {
                Some(s) => {
                    record.statuses.insert(item.code.clone(), s);
                }
                None => gaps.push(Gap {
                    text: format!("Question {} has no status", item.code),
                    href: href(&format!("{}-status", field_id(&item.code))),
                }),
            }
            if answer.is_some_and(|a| a.needs_review) && status.is_none() {
                gaps.push(Gap {
                    text: format!(
                        "Question {} was carried forward and needs review",
                        item.code
                    ),
                    href: href(&field_id(&item.code)),
                });
            }
        }
        record.criteria_met = criteria
            .iter()
            .filter(|(num, _)| *num as u32 == n)
            .map(|(_, c)| c.clone())
            .collect();
        let p = progress.iter().find(|p| p.number as u32 == n);
        let proposed = p
            .and_then(|p| p.proposed_score)
            .and_then(|s| u8::try_from(s).ok())
            .and_then(Score::new);
        let not_scored = p.is_some_and(|p| p.proposed_not_scored);
        record.not_scored = not_scored;
        let suggestion = scoring::suggest(section, &record, &state.settings.rags);
        if proposed.is_none() && !not_scored {
            gaps.push(Gap {
                text: format!("Benchmark {n} has no proposed score"),
                href: href("proposed"),
            });
        } else if scoring::justification_required(suggestion.score, proposed)
            && p.is_none_or(|p| p.justification.trim().is_empty())
        {
            gaps.push(Gap { text: format!("Benchmark {n}: the proposed score differs from the suggestion and needs a justification"), href: href("justification") });
        }
        rows.push(Row {
            number: n,
            title: section.title.clone(),
            answered: p.map_or_else(String::new, |p| {
                format!("{} of {}", p.answered, p.questions)
            }),
            proposed: match (proposed, not_scored) {
                (Some(s), _) => s.to_string(),
                (None, true) => "Not scored".to_owned(),
                _ => "None".to_owned(),
            },
            suggested: suggestion
                .score
                .map_or_else(|| "Not scored".to_owned(), |s| s.to_string()),
        });
    }
    for (n, description, no_owner, no_target) in db::actions::incomplete(&state.db, head.id).await?
    {
        let short: String = description.chars().take(60).collect();
        let missing = match (no_owner, no_target) {
            (true, true) => "owner or target",
            (true, false) => "owner",
            _ => "target",
        };
        gaps.push(Gap {
            text: format!("Benchmark {n}: the action “{short}” has no {missing}"),
            href: format!("/assessments/{}/benchmarks/{n}#actions", head.id),
        });
    }
    Ok((gaps, rows))
}

async fn check(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    let (gaps, rows) = gaps_and_rows(&state, &head).await?;
    let may_submit = policy::allows(&who, Action::SubmitAssessment, object(&head));
    let page = CheckPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        gaps,
        rows,
        may_submit,
    };
    Ok(Html(page.render()?).into_response())
}

async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    authorise(&state, &who, ip, Action::SubmitAssessment, object(&head)).await?;
    let (gaps, rows) = gaps_and_rows(&state, &head).await?;
    if !gaps.is_empty() {
        let page = CheckPage {
            chrome: Chrome::new(Some(&who), "/assessments"),
            head,
            gaps,
            rows,
            may_submit: true,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    let mut tx = state.db.begin().await?;
    if db::assessments::submit(&mut tx, id, who.user_id).await? {
        let mut e = event(
            Some(who.user_id),
            &who.email,
            ip,
            "assessment.submitted",
            "assessment",
        );
        scope_event(&mut e, &head, id);
        e.before = Some(serde_json::json!({ "state": "draft" }));
        e.after = Some(serde_json::json!({ "state": "submitted" }));
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}?done=submitted")).into_response())
}
