//! A benchmark's page: the questions with their statuses and evidence, the criteria and the
//! suggested score, the lead's proposal, evidence requests, attachments and actions.
//!
//! The page is one form, and every button on it saves everything typed on it before doing what
//! it says (adding an action, a note or a file, sending a reply), so no button loses typing.
//! All of it is saved in one transaction, or none of it: a mistake anywhere, or someone else's
//! save in between, brings the page back with everything as typed.

mod check;
mod save;

pub(super) use save::save;

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Response};
use uuid::Uuid;

use super::actions::{ActionTyped, already_past};
use super::attachments::human_size;
use super::{
    ACTION_STATUSES, Done, RAGS, Words, action_status_label, field_id, framework, object,
    rag_label, shown_head,
};
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::{Answer, Benchmark, Head};
use crate::domain::Score;
use crate::error::{AppError, AppResult};
use crate::framework::{Block, Framework, Item, ItemKind, Section, blocks};
use crate::scoring::{self, Record, Suggestion};
use crate::web::chrome::Chrome;
use crate::web::forms::Query;
use crate::web::forms::{Errors, Fields};

// ----- What was typed -------------------------------------------------------------------------

/// The benchmark's own fields as typed (or stored), before checking.
#[derive(Debug, Clone, Default)]
struct Typed {
    statuses: BTreeMap<String, String>,
    evidence: BTreeMap<String, String>,
    prompts: BTreeMap<(String, usize), String>,
    /// An item's own fields: (item code, field code) → value.
    fields: BTreeMap<(String, String), String>,
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
            for (field, value) in &a.fields {
                t.fields
                    .insert((a.code.clone(), field.clone()), value.clone());
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
        for (rest, value) in fields.with_prefix("field-") {
            if let Some((code, field)) = rest.split_once('-') {
                t.fields
                    .insert((code.to_owned(), field.to_owned()), value.to_owned());
            }
        }
        for (rest, value) in fields.with_prefix("prompt-") {
            if let Some((code, index)) = rest.rsplit_once('-')
                && let Ok(index) = index.parse::<usize>()
            {
                t.prompts.insert((code.to_owned(), index), value.to_owned());
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
                .filter_map(|(code, s)| {
                    s.parse::<crate::domain::Status>()
                        .ok()
                        .map(|s| (code.clone(), s))
                })
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

/// An item's own field (a named chair, their email), as typed.
struct FieldView {
    label: String,
    name: String,
    id: String,
    value: String,
    email: bool,
}

/// A choice of the framework's answer scale, with its definition as a hint.
struct RatingView {
    code: String,
    label: String,
    definition: String,
}

struct QuestionView<'a> {
    item: &'a Item,
    id: String,
    kind: &'static str,
    expectation: bool,
    status: String,
    evidence: String,
    prompts: Vec<PromptView>,
    /// The item's footnotes, where its prompts are footnotes.
    footnotes: Vec<String>,
    fields: Vec<FieldView>,
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
    words: Words,
    section: &'a Section,
    /// The label of each item's evidence box.
    evidence_label: String,
    guidance: Vec<Block>,
    questions: Vec<QuestionView<'a>>,
    levels: Vec<LevelView>,
    ratings: Vec<RatingView>,
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
    /// Whether this person may delete an action (the lead, while a draft): else "Change".
    may_delete: bool,
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
    fn status_label(&self, code: &str) -> String {
        self.ratings
            .iter()
            .find(|r| r.code == code)
            .map_or_else(|| "None".to_owned(), |r| r.label.clone())
    }
    /// The id of a radio: the first takes the field's own id (the error summary links to it).
    fn choice_id(&self, field: &str, first: &bool, code: &str) -> String {
        if *first {
            field.to_owned()
        } else {
            format!("{field}-{code}")
        }
    }
    /// An item's notice beside its fields.
    fn notice<'b>(&self, q: &'b QuestionView<'_>) -> Option<&'b str> {
        q.item.fields_notice.as_deref()
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
    fw: &'a Framework,
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
        fw,
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
    let may_delete = policy::allows(who, Action::DeleteAction, object(&head));
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
            already_past: already_past(&head, action.due_on, action.carried),
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
            let footnotes = fw.prompts_are_footnotes;
            QuestionView {
                item,
                footnotes: if footnotes {
                    item.prompts.clone()
                } else {
                    Vec::new()
                },
                fields: item
                    .fields
                    .iter()
                    .map(|f| FieldView {
                        label: f.label.clone(),
                        name: format!("field-{}-{}", item.code, f.code),
                        id: format!("{id}-{}", f.code.replace('_', "-")),
                        value: typed
                            .fields
                            .get(&(item.code.clone(), f.code.clone()))
                            .cloned()
                            .unwrap_or_default(),
                        email: f.email,
                    })
                    .collect(),
                kind: item.kind.map_or("", ItemKind::label),
                expectation: item.kind == Some(ItemKind::Expectation),
                status: typed.statuses.get(&item.code).cloned().unwrap_or_default(),
                evidence: typed.evidence.get(&item.code).cloned().unwrap_or_default(),
                prompts: item
                    .prompts
                    .iter()
                    .filter(|_| !footnotes)
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
        words: Words::of(fw),
        evidence_label: section
            .evidence_label
            .clone()
            .unwrap_or_else(|| "Evidence".to_owned()),
        section,
        guidance: section.guidance.as_deref().map(blocks).unwrap_or_default(),
        questions,
        levels,
        ratings: fw
            .ratings
            .iter()
            .map(|r| RatingView {
                code: r.code.clone(),
                label: r.label.clone(),
                definition: r.definition.clone().unwrap_or_default(),
            })
            .collect(),
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
        may_delete,
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
    ("saved", "Your changes to this {section} have been saved."),
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

/// The section at `n`, when the address names the framework's own kind of section
/// (`/benchmarks/3` for a benchmark, `/key-areas/3` for a key area of control).
pub(super) fn section_at<'a>(fw: &'a Framework, path: &str, n: u32) -> AppResult<&'a Section> {
    if !path.contains(&format!("/{}/", fw.section_path)) {
        return Err(AppError::NotFound);
    }
    fw.section(n).ok_or(AppError::NotFound)
}

pub(super) async fn show(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    Query(done): Query<Done>,
    uri: axum::http::Uri,
) -> AppResult<Response> {
    // Only shown: the kept copies serve (saving asks the database afresh).
    let head = shown_head(&state, &who, ip, id).await?;
    let fw = framework(&state, &head)?;
    let section = section_at(fw, uri.path(), n)?;
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
        fw,
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
        .map(|(_, text)| text.replace("{section}", &Words::of(fw).section_lower))
        .collect();
    Ok(Html(view.render()?).into_response())
}
