//! A benchmark's page: the questions with their statuses and evidence, the criteria and the
//! suggested score, the lead's proposal, evidence requests, attachments and actions.
//!
//! The page is one form, and every button on it saves everything typed on it before doing what
//! it says (adding an action, a note or a file, sending a reply), so no button loses typing.
//! All of it is saved in one transaction, or none of it: a mistake anywhere, or someone else's
//! save in between, brings the page back with everything as typed.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::actions::{ActionTyped, already_past, check_fields};
use super::attachments::human_size;
use super::{
    ACTION_STATUSES, Done, MAX_EVIDENCE, RAGS, action_status_label, field_id, framework, object,
    rag_label, read_rag, scope_event, visible_head,
};
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::{Answer, Benchmark, Head, Save};
use crate::domain::{Score, Status, files};
use crate::error::{AppError, AppResult};
use crate::framework::{Block, Item, ItemKind, Section, blocks};
use crate::scoring::{self, Record, Suggestion};
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, Fields, Upload};
use crate::web::guard::{authorise, authorise_or_hide};

/// The longest progress note, and the longest reply to an evidence request.
const MAX_NOTE: usize = 2000;
const MAX_REPLY: usize = 5000;

// ----- What was typed -------------------------------------------------------------------------

/// The benchmark's own fields as typed (or stored), before checking.
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
            version: b.result.version,
            ..Typed::default()
        };
        t.results_from_stored(b);
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

    fn results_from_stored(&mut self, b: &Benchmark) {
        self.criteria = b.criteria_met.iter().cloned().collect();
        self.rag = b.result.rag.clone().unwrap_or_default();
        self.proposed = match (b.result.proposed_score, b.result.proposed_not_scored) {
            (Some(s), _) => s.to_string(),
            (None, true) => "not_scored".to_owned(),
            _ => String::new(),
        };
        self.justification = b.result.justification.clone();
        self.comments = b.result.comments.clone();
    }

    /// What the form says; the results (criteria, RAG, score, justification, comments) only
    /// when this person records them, else as stored.
    fn from_fields(fields: &Fields, scores: bool, stored: &Benchmark) -> Typed {
        let mut t = Typed {
            version: fields.get("version").parse().unwrap_or(0),
            ..Typed::default()
        };
        for (code, value) in fields.with_prefix("status-") {
            t.statuses.insert(code.to_owned(), value.to_owned());
        }
        for (code, value) in fields.with_prefix("evidence-") {
            t.evidence.insert(code.to_owned(), value.to_owned());
        }
        for (rest, value) in fields.with_prefix("prompt-") {
            if let Some((code, index)) = rest.rsplit_once('-') {
                if let Ok(index) = index.parse::<usize>() {
                    t.prompts.insert((code.to_owned(), index), value.to_owned());
                }
            }
        }
        if scores {
            t.criteria = fields.all("criteria").map(str::to_owned).collect();
            t.rag = fields.get("rag").to_owned();
            t.proposed = fields.get("proposed").to_owned();
            t.justification = fields.get("justification").to_owned();
            t.comments = fields.get("comments").to_owned();
        } else {
            t.results_from_stored(stored);
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

/// An existing action's controls as typed: status, RAG and the version they were chosen at.
#[derive(Debug, Clone, Default)]
struct StatusTyped {
    status: String,
    rag: String,
    version: i32,
}

/// What a button asks for, besides saving everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Intent {
    Save,
    AddAction,
    Upload,
    Note(Uuid),
    Status(Uuid),
    Reply(Uuid),
    DeleteAttachment(Uuid),
    EditAction(Uuid),
}

impl Intent {
    fn parse(value: &str) -> Intent {
        let id = |prefix: &str| value.strip_prefix(prefix).and_then(|v| v.parse().ok());
        match value {
            "add-action" => Intent::AddAction,
            "upload" => Intent::Upload,
            _ => id("note-")
                .map(Intent::Note)
                .or_else(|| id("status-").map(Intent::Status))
                .or_else(|| id("reply-").map(Intent::Reply))
                .or_else(|| id("delete-attachment-").map(Intent::DeleteAttachment))
                .or_else(|| id("edit-action-").map(Intent::EditAction))
                .unwrap_or(Intent::Save),
        }
    }
}

/// Everything typed on the page besides the benchmark's own fields.
#[derive(Debug, Clone, Default)]
struct Extra {
    new_action: ActionTyped,
    notes: BTreeMap<Uuid, String>,
    statuses: BTreeMap<Uuid, StatusTyped>,
    replies: BTreeMap<Uuid, String>,
    attachment_question: String,
    /// A file was chosen but could not be kept: it must be chosen again.
    file_again: bool,
}

impl Extra {
    fn from_fields(fields: &Fields) -> Extra {
        let mut extra = Extra {
            new_action: ActionTyped {
                place: fields.get("new-action-question").to_owned(),
                description: fields.get("new-action-description").to_owned(),
                owner: fields.get("new-action-owner").to_owned(),
                owner_user: fields.get("new-action-owner-user").to_owned(),
                target: fields.get("new-action-target").to_owned(),
                rag: fields.get("new-action-rag").to_owned(),
                status: "open".to_owned(),
            },
            attachment_question: fields.get("attachment-question").to_owned(),
            ..Extra::default()
        };
        for (rest, value) in fields.with_prefix("action-") {
            let Some((id, part)) = rest.rsplit_once('-') else {
                continue;
            };
            let Ok(id) = id.parse::<Uuid>() else {
                continue;
            };
            match part {
                "note" => {
                    extra.notes.insert(id, value.to_owned());
                }
                "status" => extra.statuses.entry(id).or_default().status = value.to_owned(),
                "rag" => extra.statuses.entry(id).or_default().rag = value.to_owned(),
                "version" => {
                    extra.statuses.entry(id).or_default().version = value.parse().unwrap_or(0)
                }
                _ => {}
            }
        }
        for (id, value) in fields.with_prefix("reply-") {
            if let Ok(id) = id.parse::<Uuid>() {
                extra.replies.insert(id, value.to_owned());
            }
        }
        extra
    }
}

// ----- The page -------------------------------------------------------------------------------

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
    /// The question's actions and attachments, by index into the page's lists.
    actions: Vec<usize>,
    attachments: Vec<usize>,
    /// Its actions and files are shown open: something in them was typed or is wrong.
    open: bool,
}

impl QuestionView<'_> {
    /// "2 actions and 1 file".
    fn counts(&self) -> String {
        let plural =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        match (self.actions.len(), self.attachments.len()) {
            (0, 0) => "No actions or files".to_owned(),
            (a, 0) => plural(a, "action", "actions"),
            (0, f) => plural(f, "file", "files"),
            (a, f) => format!(
                "{} and {}",
                plural(a, "action", "actions"),
                plural(f, "file", "files")
            ),
        }
    }
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

/// An attachment on the page.
struct AttachmentView {
    file: db::attachments::Listed,
    size: String,
}

/// An action on the page, with its controls as typed.
struct ActionView {
    action: db::actions::Action,
    status_label: &'static str,
    rag_label: &'static str,
    due: String,
    note_on: String,
    already_past: bool,
    typed: StatusTyped,
    note: String,
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
    /// Statuses, evidence, attachments and actions.
    editable: bool,
    /// Criteria, RAG, proposed score, justification and comments.
    scores: bool,
    /// Some control is on the page: it is a form.
    form: bool,
    errors: Errors,
    theirs: Option<Theirs>,
    done: Vec<String>,
    actions: Vec<ActionView>,
    /// The actions on the benchmark as a whole, by index into `actions`.
    benchmark_actions: Vec<usize>,
    attachments: Vec<AttachmentView>,
    benchmark_attachments: Vec<usize>,
    extra: Extra,
    /// The council's people, who may be named as an action's owner (for editors only).
    people: Vec<(Uuid, String)>,
    /// The adviser's evidence requests on this benchmark, with the council's replies.
    threads: Vec<db::comments::Thread>,
    may_answer: bool,
}

impl BenchmarkPage<'_> {
    fn action(&self, i: &usize) -> &ActionView {
        &self.actions[*i]
    }
    fn attachment(&self, i: &usize) -> &AttachmentView {
        &self.attachments[*i]
    }
    fn typed_reply(&self, id: &Uuid) -> &str {
        self.extra.replies.get(id).map_or("", String::as_str)
    }
    fn action_statuses(&self) -> &'static [(&'static str, &'static str)] {
        &ACTION_STATUSES
    }
    fn rags(&self) -> &'static [(&'static str, &'static str)] {
        &RAGS
    }
    fn rag_label(&self, code: &str) -> &'static str {
        rag_label(code)
    }
    fn status_label(&self, code: &str) -> &'static str {
        code.parse::<Status>().map_or("None", |s| s.label())
    }
    fn criterion_text(&self, id: &str) -> String {
        self.levels
            .iter()
            .flat_map(|l| l.criteria.iter())
            .find(|c| c.id == id)
            .map_or_else(|| id.to_owned(), |c| c.text.clone())
    }
}

/// What the page is made from, besides what is stored.
struct Draft<'a> {
    head: Head,
    section: &'a Section,
    typed: Typed,
    extra: Extra,
    errors: Errors,
    theirs: Option<Theirs>,
}

/// The page for this person: what they may change is a form, the rest is read only.
fn page<'a>(
    who: &Principal,
    draft: Draft<'a>,
    stored: db::assessments::BenchmarkPage,
    rags: &scoring::RagMapping,
) -> BenchmarkPage<'a> {
    let Draft {
        head,
        section,
        typed,
        extra,
        errors,
        theirs,
    } = draft;
    let n = section.number as i32;
    let editable = policy::allows(who, Action::EditBenchmark(n), object(&head));
    let scores = policy::allows(who, Action::ScoreBenchmark(n), object(&head));
    let may_answer = policy::allows(who, Action::AnswerRequest(n), object(&head));
    let actions: Vec<ActionView> = stored
        .actions
        .into_iter()
        .map(|action| ActionView {
            status_label: action_status_label(&action.status),
            rag_label: action.rag.as_deref().map_or("", rag_label),
            due: action
                .due_on
                .map(crate::domain::long_date)
                .unwrap_or_default(),
            note_on: action
                .latest_note_on
                .map(crate::domain::long_date)
                .unwrap_or_default(),
            already_past: already_past(&head, action.due_on),
            typed: extra
                .statuses
                .get(&action.id)
                .cloned()
                .unwrap_or_else(|| StatusTyped {
                    status: action.status.clone(),
                    rag: action.rag.clone().unwrap_or_default(),
                    version: action.version,
                }),
            note: extra.notes.get(&action.id).cloned().unwrap_or_default(),
            action,
        })
        .collect();
    let attachments: Vec<AttachmentView> = stored
        .attachments
        .into_iter()
        .map(|file| AttachmentView {
            size: human_size(file.size_bytes),
            file,
        })
        .collect();
    let touched = |a: &ActionView| {
        !a.note.is_empty()
            || errors
                .all()
                .iter()
                .any(|e| e.field.starts_with(&format!("action-{}-", a.action.id)))
    };
    let questions = section
        .items
        .iter()
        .map(|item| {
            let stored_answer = stored
                .benchmark
                .answers
                .iter()
                .find(|a| a.code == item.code);
            let id = field_id(&item.code);
            let mine: Vec<usize> = (0..actions.len())
                .filter(|&i| actions[i].action.item_code.as_deref() == Some(&item.code))
                .collect();
            let files: Vec<usize> = (0..attachments.len())
                .filter(|&i| attachments[i].file.item_code.as_deref() == Some(&item.code))
                .collect();
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
                open: mine.iter().any(|&i| touched(&actions[i])),
                actions: mine,
                attachments: files,
                id,
            }
        })
        .collect();
    let benchmark_actions = (0..actions.len())
        .filter(|&i| actions[i].action.item_code.is_none())
        .collect();
    let benchmark_attachments = (0..attachments.len())
        .filter(|&i| attachments[i].file.item_code.is_none())
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
    let suggestion = scoring::suggest(section, &typed.record(section), rags);
    let suggested_label = match suggestion.score {
        Some(s) => format!(
            "{s} ({})",
            suggestion.band.map_or("", |b| b.label()).to_lowercase()
        ),
        None => "Not scored".to_owned(),
    };
    let open_request = stored
        .threads
        .iter()
        .any(|t| t.request.resolved_at.is_none());
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
        form: editable || (may_answer && open_request),
        editable,
        scores,
        errors,
        theirs,
        done: Vec::new(),
        actions,
        benchmark_actions,
        attachments,
        benchmark_attachments,
        extra,
        people: stored.people,
        threads: stored.threads,
        may_answer,
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

/// What the success banner says for each code of `?done=` (the codes a save gives).
const DONE: [(&str, &str); 10] = [
    ("saved", "Your changes to this benchmark have been saved."),
    ("action", "The action has been added."),
    ("note", "The progress note has been added."),
    ("status", "The action's status has been changed."),
    ("file", "The file has been uploaded."),
    ("file-deleted", "The file has been deleted."),
    ("reply", "Your reply has been sent to the adviser."),
    ("action-changed", "The action has been changed."),
    ("action-deleted", "The action has been deleted."),
    ("nothing", "There were no changes to save."),
];

pub(super) async fn show(
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
    let draft = Draft {
        head,
        section,
        typed,
        extra: Extra::default(),
        errors: Errors::default(),
        theirs: None,
    };
    let mut view = page(&who, draft, stored, &state.settings.rags);
    view.done = done
        .done
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|code| DONE.iter().find(|(c, _)| *c == code))
        .map(|(_, text)| (*text).to_owned())
        .collect();
    Ok(Html(view.render()?).into_response())
}

// ----- Checking ---------------------------------------------------------------------------------

/// The stored answers as a save would write them, to tell whether anything changed.
fn stored_save(b: &Benchmark) -> Save {
    Save {
        answers: b
            .answers
            .iter()
            .map(|a| Answer {
                prompt_evidence: normal_prompts(a.prompt_evidence.clone()),
                ..a.clone()
            })
            .collect(),
        criteria_met: b
            .criteria_met
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        rag: b.result.rag.clone(),
        proposed_score: b.result.proposed_score,
        proposed_not_scored: b.result.proposed_not_scored,
        justification: b.result.justification.clone(),
        comments: b.result.comments.clone(),
    }
}

/// No evidence against any prompt is the same as none.
fn normal_prompts(prompts: Vec<String>) -> Vec<String> {
    if prompts.iter().all(String::is_empty) {
        Vec::new()
    } else {
        prompts
    }
}

/// Checks the benchmark's own fields; returns what to save, adding any errors. A carried
/// forward question stays to be reviewed until it has a status.
fn check_typed(
    section: &Section,
    typed: &Typed,
    stored: &Benchmark,
    rags: &scoring::RagMapping,
    errors: &mut Errors,
) -> Save {
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
        let carried = stored
            .answers
            .iter()
            .any(|a| a.code == item.code && a.needs_review);
        answers.push(Answer {
            code: item.code.clone(),
            needs_review: carried && status.is_none(),
            status,
            evidence,
            prompt_evidence: normal_prompts(prompt_evidence),
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
    let rag = read_rag(&typed.rag).unwrap_or_else(|message| {
        errors.add("rag", message);
        None
    });
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
        _ => match typed.proposed_score() {
            Some(s) => (Some(i16::from(s.get())), false),
            None => {
                errors.add("proposed", "Choose a score from 1 to 5");
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
    Save {
        answers,
        criteria_met: typed.criteria.iter().cloned().collect(),
        rag,
        proposed_score,
        proposed_not_scored,
        justification: typed.justification.trim().to_owned(),
        comments: typed.comments.trim().to_owned(),
    }
}

/// A change of an action's status or RAG, to make at the version it was chosen at.
struct StatusChange {
    id: Uuid,
    version: i32,
    status: String,
    rag: Option<String>,
    before: (String, Option<String>),
}

/// Everything a save does, once checked.
#[derive(Default)]
struct Plan {
    benchmark: Option<Save>,
    statuses: Vec<StatusChange>,
    notes: Vec<(Uuid, String)>,
    new_action: Option<db::actions::NewAction>,
    file: Option<(Option<String>, String, &'static str, Vec<u8>)>,
    replies: Vec<(Uuid, String)>,
    delete_file: Option<(Uuid, String)>,
}

/// Checks everything typed on the page against what is stored, adding errors; returns what
/// to do.
#[allow(clippy::too_many_arguments)]
fn plan(
    who: &Principal,
    head: &Head,
    section: &Section,
    stored: &db::assessments::BenchmarkPage,
    typed: &Typed,
    extra: &mut Extra,
    file: Option<Upload>,
    intent: Intent,
    rags: &scoring::RagMapping,
    errors: &mut Errors,
) -> AppResult<Plan> {
    let n = section.number as i32;
    let editable = policy::allows(who, Action::EditBenchmark(n), object(head));
    let may_answer = policy::allows(who, Action::AnswerRequest(n), object(head));
    let mut plan = Plan::default();
    let of_page = |id: &Uuid| stored.actions.iter().find(|a| a.id == *id);

    if editable {
        let save = check_typed(section, typed, &stored.benchmark, rags, errors);
        if save != stored_save(&stored.benchmark) {
            plan.benchmark = Some(save);
        }

        // Existing actions: a changed status or RAG, a progress note.
        for (id, t) in &extra.statuses {
            let Some(a) = of_page(id) else { continue };
            if t.status == a.status && t.rag == a.rag.clone().unwrap_or_default() {
                continue;
            }
            let field = format!("action-{id}-status");
            if !ACTION_STATUSES.iter().any(|(c, _)| *c == t.status) {
                errors.add(field, "Choose the action's status");
                continue;
            }
            match read_rag(&t.rag) {
                Ok(rag) => plan.statuses.push(StatusChange {
                    id: *id,
                    version: t.version,
                    status: t.status.clone(),
                    rag,
                    before: (a.status.clone(), a.rag.clone()),
                }),
                Err(message) => errors.add(format!("action-{id}-rag"), message),
            }
        }
        for (id, note) in &extra.notes {
            if of_page(id).is_none() {
                continue;
            }
            let field = format!("action-{id}-note");
            let note = note.trim();
            if note.chars().count() > MAX_NOTE {
                errors.add(
                    field,
                    format!("A progress note must be {MAX_NOTE} characters or fewer"),
                );
            } else if !note.is_empty() {
                plan.notes.push((*id, note.to_owned()));
            }
        }
        if let Intent::Note(id) = intent {
            if extra.notes.get(&id).is_none_or(|n| n.trim().is_empty()) {
                errors.add(format!("action-{id}-note"), "Write the progress note");
            }
        }

        // A new action, when one was typed (or asked for).
        if extra.new_action.is_typed() || intent == Intent::AddAction {
            let question = match extra.new_action.place.as_str() {
                "" => None,
                code if section.items.iter().any(|i| i.code == code) => Some(code.to_owned()),
                _ => {
                    errors.add(
                        "new-action-question",
                        "Choose the question the action is for, or the benchmark",
                    );
                    None
                }
            };
            if let Some(checked) = check_fields(
                &extra.new_action,
                "new-action",
                &stored.people,
                head,
                errors,
            ) {
                plan.new_action = Some(db::actions::NewAction {
                    organisation: head.organisation_id,
                    assessment: head.id,
                    section_number: n,
                    item_code: question,
                    description: checked.description,
                    owner_text: checked.owner_text,
                    owner_user: checked.owner_user,
                    target_text: checked.target.text,
                    due_on: checked.target.due,
                    status: "open".to_owned(),
                    rag: checked.rag,
                });
            }
        }

        // A file, when one was chosen (or asked for).
        let question = match extra.attachment_question.as_str() {
            "" => Ok(None),
            code if section.items.iter().any(|i| i.code == code) => Ok(Some(code.to_owned())),
            _ => Err(()),
        };
        match (file, intent) {
            (Some(file), _) => match (super::attachments::check(&file), question) {
                (Ok(kind), Ok(question)) => {
                    plan.file = Some((question, files::clean_name(&file.name), kind, file.content))
                }
                (Err(message), _) => {
                    errors.add("attachment-file", message);
                    extra.file_again = true;
                }
                (_, Err(())) => {
                    errors.add(
                        "attachment-question",
                        "Choose the question the file is for, or the benchmark",
                    );
                    extra.file_again = true;
                }
            },
            (None, Intent::Upload) => errors.add("attachment-file", "Select a file"),
            _ => {}
        }
        if let Intent::DeleteAttachment(file) = intent {
            let listed = stored
                .attachments
                .iter()
                .find(|f| f.id == file)
                .ok_or(AppError::NotFound)?;
            plan.delete_file = Some((file, listed.filename.clone()));
        }
    }

    if may_answer {
        for t in &stored.threads {
            let id = t.request.id;
            let reply = extra.replies.get(&id).map_or("", |r| r.trim());
            let field = format!("reply-{id}");
            if reply.is_empty() {
                if intent == Intent::Reply(id) {
                    errors.add(field, "Write your reply");
                }
            } else if t.request.resolved_at.is_some() {
                errors.add(field, "The adviser has resolved this request");
            } else if reply.chars().count() > MAX_REPLY {
                errors.add(
                    field,
                    format!("A reply must be {MAX_REPLY} characters or fewer"),
                );
            } else {
                plan.replies.push((id, reply.to_owned()));
            }
        }
    }
    // A button for something not on this page is a stale or forged form.
    match intent {
        Intent::EditAction(id) | Intent::Note(id) | Intent::Status(id)
            if of_page(&id).is_none() =>
        {
            return Err(AppError::NotFound);
        }
        Intent::Reply(id) if !stored.threads.iter().any(|t| t.request.id == id) => {
            return Err(AppError::NotFound);
        }
        _ => {}
    }
    Ok(plan)
}

// ----- Saving -----------------------------------------------------------------------------------

/// The page again with everything as typed, and why it was not saved.
#[allow(clippy::too_many_arguments)]
async fn again(
    state: &AppState,
    who: &Principal,
    draft: Draft<'_>,
    status: StatusCode,
) -> AppResult<Response> {
    let n = draft.section.number;
    let editable = policy::allows(who, Action::EditBenchmark(n as i32), object(&draft.head));
    let stored = stored_page(state, &draft.head, n, editable).await?;
    let mut draft = draft;
    if draft.extra.file_again {
        draft.errors.add(
            "attachment-file",
            "Choose the file again: a file is not kept when the page has a problem",
        );
        dedupe(&mut draft.errors);
    }
    let view = page(who, draft, stored, &state.settings.rags);
    Ok((status, Html(view.render()?)).into_response())
}

/// One message per field: the first.
fn dedupe(errors: &mut Errors) {
    let mut seen = BTreeSet::new();
    errors.0.retain(|e| seen.insert(e.field.clone()));
}

pub(super) async fn save(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    request: Request,
) -> AppResult<Response> {
    let mut fields = Fields::read(request).await;
    let head = visible_head(&state, &who, ip, id).await?;
    let fw = framework(&state)?;
    let section = fw.section(n).ok_or(AppError::NotFound)?;
    let obj = object(&head);
    let editable = policy::allows(&who, Action::EditBenchmark(n as i32), obj);
    let scores = policy::allows(&who, Action::ScoreBenchmark(n as i32), obj);
    // Changing the benchmark needs the right to; answering a request alone needs less.
    let answers_only =
        !fields.has("version") && policy::allows(&who, Action::AnswerRequest(n as i32), obj);
    if !editable && !answers_only {
        authorise(&state, &who, ip, Action::EditBenchmark(n as i32), obj).await?;
    }
    let stored = stored_page(&state, &head, n, editable).await?;
    // The benchmark's own fields come with its version; a post without them changes none.
    let typed = if editable && fields.has("version") {
        Typed::from_fields(&fields, scores, &stored.benchmark)
    } else {
        Typed::from_stored(&stored.benchmark)
    };
    let mut extra = Extra::from_fields(&fields);
    let intent = Intent::parse(fields.get("intent"));
    let mut errors = Errors::default();
    if fields.too_large {
        errors.add(
            "attachment-file",
            "Nothing on this page was saved: the file must be 20 MB or smaller. Check what you typed, then choose a smaller file",
        );
        extra.file_again = false;
    }
    let rags = &state.settings.rags;
    let plan = plan(
        &who,
        &head,
        section,
        &stored,
        &typed,
        &mut extra,
        fields.file.take(),
        intent,
        rags,
        &mut errors,
    )?;
    if !errors.is_empty() {
        dedupe(&mut errors);
        let draft = Draft {
            head,
            section,
            typed,
            extra,
            errors,
            theirs: None,
        };
        return again(&state, &who, draft, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    let mut tx = state.db.begin().await?;
    let mut done: Vec<&str> = Vec::new();
    let event = |name: &'static str, kind: &'static str| {
        event(Some(who.user_id), &who.email, ip, name, kind)
    };
    if let Some(save) = &plan.benchmark {
        match db::assessments::save_benchmark(
            &mut tx,
            id,
            n as i32,
            typed.version,
            save,
            who.user_id,
        )
        .await?
        {
            Ok(version) => {
                let mut e = event("benchmark.saved", "assessment");
                scope_event(&mut e, &head, format!("{id}/benchmarks/{n}"));
                // Statuses and scores, not evidence text.
                e.after = Some(serde_json::json!({
                    "version": version,
                    "statuses": save.answers.iter().map(|a| (a.code.clone(), a.status.clone())).collect::<BTreeMap<_, _>>(),
                    "criteria_met": save.criteria_met, "rag": save.rag,
                    "proposed_score": save.proposed_score, "proposed_not_scored": save.proposed_not_scored,
                }));
                db::audit::record(&mut *tx, &e).await?;
                done.push("saved");
            }
            Err(db::assessments::Conflict) => {
                tx.rollback().await?;
                return conflict(&state, &who, head, section, typed, extra).await;
            }
        }
    }
    for change in &plan.statuses {
        if !db::actions::update_status(
            &mut tx,
            id,
            change.id,
            change.version,
            &change.status,
            change.rag.as_deref(),
        )
        .await?
        {
            tx.rollback().await?;
            // Someone changed the action in between: the choice stays in the form, at the
            // current version, so saving again makes it.
            let current = stored_page(&state, &head, n, editable).await?;
            let version = current
                .actions
                .iter()
                .find(|a| a.id == change.id)
                .map_or(0, |a| a.version);
            if let Some(t) = extra.statuses.get_mut(&change.id) {
                t.version = version;
            }
            let mut errors = Errors::default();
            errors.add(
                format!("action-{}-status", change.id),
                "Someone changed this action while you were looking at it, so nothing on this page was saved. Its current status is shown above your choice; save again to keep your choice",
            );
            let draft = Draft {
                head,
                section,
                typed,
                extra,
                errors,
                theirs: None,
            };
            return again(&state, &who, draft, StatusCode::CONFLICT).await;
        }
        let mut e = event("action.updated", "action");
        scope_event(&mut e, &head, change.id);
        e.before = Some(serde_json::json!({ "status": change.before.0, "rag": change.before.1 }));
        e.after = Some(serde_json::json!({ "status": change.status, "rag": change.rag }));
        db::audit::record(&mut *tx, &e).await?;
        done.push("status");
    }
    for (action, note) in &plan.notes {
        db::actions::add_note(&mut tx, id, *action, note, who.user_id).await?;
        // The note's text is evidence: the trail records that a note was added, not what it says.
        let mut e = event("action.noted", "action");
        scope_event(&mut e, &head, action);
        db::audit::record(&mut *tx, &e).await?;
        done.push("note");
    }
    if let Some(new) = &plan.new_action {
        let action = db::actions::insert(&mut tx, new, who.user_id).await?;
        let mut e = event("action.created", "action");
        scope_event(&mut e, &head, action);
        e.after = Some(serde_json::json!({
            "benchmark": n, "question": new.item_code, "owner": new.owner_text,
            "owner_user": new.owner_user, "target": new.target_text,
            "due_on": new.due_on.map(|d| d.to_string()), "rag": new.rag,
        }));
        db::audit::record(&mut *tx, &e).await?;
        done.push("action");
    }
    if let Some((question, name, kind, content)) = &plan.file {
        let new = db::attachments::NewAttachment {
            assessment: id,
            section_number: n as i32,
            item_code: question.as_deref(),
            filename: name,
            content_type: kind,
            content,
        };
        let file = db::attachments::insert(&mut tx, &new, who.user_id).await?;
        let mut e = event("attachment.added", "attachment");
        scope_event(&mut e, &head, file);
        e.after = Some(serde_json::json!({
            "benchmark": n, "question": question, "filename": name, "type": kind,
            "bytes": content.len(),
        }));
        db::audit::record(&mut *tx, &e).await?;
        done.push("file");
    }
    for (request, body) in &plan.replies {
        let reply = db::comments::insert_reply(&mut tx, id, *request, body, who.user_id).await?;
        let mut e = event("evidence.replied", "comment");
        scope_event(&mut e, &head, reply);
        e.after = Some(serde_json::json!({ "benchmark": n, "request": request }));
        db::audit::record(&mut *tx, &e).await?;
        done.push("reply");
    }
    if let Some((file, name)) = &plan.delete_file {
        if db::attachments::delete(&mut tx, id, *file).await? {
            let mut e = event("attachment.deleted", "attachment");
            scope_event(&mut e, &head, file);
            e.before = Some(serde_json::json!({ "benchmark": n, "filename": name }));
            db::audit::record(&mut *tx, &e).await?;
            done.push("file-deleted");
        }
    }
    tx.commit().await?;
    if let Intent::EditAction(action) = intent {
        return Ok(Redirect::to(&format!(
            "/assessments/{id}/actions/{action}?from=benchmark"
        ))
        .into_response());
    }
    done.dedup();
    if done.is_empty() {
        done.push("nothing");
    }
    Ok(Redirect::to(&format!(
        "/assessments/{id}/benchmarks/{n}?done={}",
        done.join(",")
    ))
    .into_response())
}

/// Someone saved the benchmark in between: their version beside this person's typing, which
/// is kept in the form; saving again (at their version) keeps what is in the form.
async fn conflict(
    state: &AppState,
    who: &Principal,
    head: Head,
    section: &Section,
    mut typed: Typed,
    extra: Extra,
) -> AppResult<Response> {
    let n = section.number;
    let current = stored_page(state, &head, n, true).await?;
    let stored = &current.benchmark;
    typed.version = stored.result.version;
    let theirs = Theirs {
        by: stored
            .result
            .updated_by
            .clone()
            .unwrap_or_else(|| "Someone".to_owned()),
        at: crate::domain::uk_time(stored.result.updated_at),
        result: stored.result.clone(),
        criteria: stored.criteria_met.clone(),
    };
    let mut errors = Errors::default();
    errors.add("conflict", format!("{} saved this benchmark at {} while you were editing it, so nothing on this page was saved. Nothing has been lost: your changes are in the form, with their version beside them. Keep what you want and save again.", theirs.by, theirs.at));
    let draft = Draft {
        head,
        section,
        typed,
        extra,
        errors,
        theirs: Some(theirs),
    };
    again(state, who, draft, StatusCode::CONFLICT).await
}
