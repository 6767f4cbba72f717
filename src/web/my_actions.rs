//! "Your actions": the actions a person owns, with a progress note and a status for each. The
//! page is one form: any of its buttons saves every note and status typed on it.

use std::collections::BTreeMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::dashboards::OwnAction;
use crate::error::AppResult;
use crate::web::account::event;
use crate::web::assessments::{ACTION_STATUSES, action_status_label, rag_label};
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, Fields};
use crate::web::forms::{Form, Query};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new().route("/me/actions", get(my_actions).post(save))
}

/// The longest progress note.
const MAX_NOTE: usize = 2000;

/// One action's controls as typed.
#[derive(Debug, Clone, Default)]
struct Typed {
    note: String,
    status: String,
    version: i32,
}

#[derive(Template)]
#[template(path = "dashboards/my_actions.html")]
struct MyActionsPage {
    chrome: Chrome,
    rows: Vec<OwnAction>,
    errors: Errors,
    typed: BTreeMap<Uuid, Typed>,
    done: Vec<&'static str>,
}

impl MyActionsPage {
    fn date(&self, d: &Date) -> String {
        crate::domain::long_date(*d)
    }
    fn status_label(&self, code: &str) -> &'static str {
        action_status_label(code)
    }
    fn rag_label(&self, rag: &str) -> &'static str {
        rag_label(rag)
    }
    fn statuses(&self) -> &'static [(&'static str, &'static str)] {
        &ACTION_STATUSES
    }
    fn recommended(&self, cycle: &str) -> String {
        crate::web::dashboards::recommended_label(cycle)
    }
    fn typed_note(&self, id: &Uuid) -> &str {
        self.typed.get(id).map_or("", |t| t.note.as_str())
    }
    /// The status the form shows: what was typed, else the stored one.
    fn chosen_status<'a>(&'a self, row: &'a OwnAction) -> &'a str {
        self.typed.get(&row.id).map_or(&row.status, |t| &t.status)
    }
    fn version(&self, row: &OwnAction) -> i32 {
        self.typed.get(&row.id).map_or(row.version, |t| t.version)
    }
}

/// What the success banner says for each code of `?done=`.
const DONE: [(&str, &str); 3] = [
    ("note", "Your progress note has been added."),
    ("status", "The status has been changed."),
    ("nothing", "There were no changes to save."),
];

#[derive(serde::Deserialize)]
struct Done {
    done: Option<String>,
}

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

async fn my_actions(
    State(state): State<AppState>,
    who: Principal,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    // Only shown here: the kept copy serves (saving reads the database's own answer).
    let rows = state
        .caches
        .own_actions(&state.db, who.user_id, today())
        .await?;
    let done = done
        .done
        .as_deref()
        .unwrap_or_default()
        .split(',')
        .filter_map(|code| DONE.iter().find(|(c, _)| *c == code).map(|(_, t)| *t))
        .collect();
    render(
        &who,
        (*rows).clone(),
        Errors::default(),
        BTreeMap::new(),
        done,
        StatusCode::OK,
    )
}

fn render(
    who: &Principal,
    rows: Vec<OwnAction>,
    errors: Errors,
    typed: BTreeMap<Uuid, Typed>,
    done: Vec<&'static str>,
    status: StatusCode,
) -> AppResult<Response> {
    let page = MyActionsPage {
        chrome: Chrome::new(Some(who), "/me/actions"),
        rows,
        errors,
        typed,
        done,
    };
    Ok((status, Html(page.render()?)).into_response())
}

/// Every action's controls as typed, by id.
fn typed_from(fields: &Fields) -> BTreeMap<Uuid, Typed> {
    let mut typed: BTreeMap<Uuid, Typed> = BTreeMap::new();
    for (rest, value) in fields.with_prefix("action-") {
        let Some((id, part)) = rest.rsplit_once('-') else {
            continue;
        };
        let Ok(id) = id.parse::<Uuid>() else {
            continue;
        };
        let t = typed.entry(id).or_default();
        match part {
            "note" => t.note = value.to_owned(),
            "status" => t.status = value.to_owned(),
            "version" => t.version = value.parse().unwrap_or(0),
            _ => {}
        }
    }
    typed
}

async fn save(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let fields = Fields::from_pairs(pairs);
    let mut typed = typed_from(&fields);
    let rows = db::dashboards::own_actions(&state.db, who.user_id, today()).await?;
    let mut errors = Errors::default();
    let (mut notes, mut changes) = (Vec::new(), Vec::new());
    for (id, t) in &typed {
        let Some(row) = rows.iter().find(|r| r.id == *id) else {
            if !t.note.trim().is_empty() {
                errors.add(
                    "actions",
                    "An action you wrote a note for is no longer yours to update, so nothing was saved",
                );
            }
            continue;
        };
        let note = t.note.trim();
        // An owner reports progress: a note and the status. What the action says, its RAG
        // among it, is the lead's (on the action's page).
        let changed = !t.status.is_empty() && t.status != row.status;
        if note.is_empty() && !changed {
            continue;
        }
        // Progress is the owner's (or the lead's) to report: the policy says.
        let object = Object::PlanAction {
            organisation_id: row.organisation_id,
            region_id: row.region_id,
            owner: Some(who.user_id),
        };
        authorise(&state, &who, ip, Action::UpdateAction, object).await?;
        if note.chars().count() > MAX_NOTE {
            errors.add(
                format!("action-{id}-note"),
                format!("A progress note must be {MAX_NOTE} characters or fewer"),
            );
        } else if !note.is_empty() {
            notes.push((row, note.to_owned()));
        }
        if changed {
            if !ACTION_STATUSES.iter().any(|(c, _)| *c == t.status) {
                errors.add(format!("action-{id}-status"), "Choose the action's status");
                continue;
            }
            changes.push((row, t.status.clone(), row.rag.clone(), t.version));
        }
    }
    let intent = fields.get("intent");
    if let Some(id) = intent
        .strip_prefix("note-")
        .and_then(|id| id.parse::<Uuid>().ok())
        && typed.get(&id).is_none_or(|t| t.note.trim().is_empty())
    {
        errors.add(format!("action-{id}-note"), "Write the progress note");
    }
    if !errors.is_empty() {
        return render(
            &who,
            rows.clone(),
            errors,
            typed,
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let mut tx = state.db.begin().await?;
    let scoped = |name: &'static str, row: &OwnAction| {
        let mut e = event(Some(who.user_id), &who.email, ip, name, "action");
        e.entity_id = Some(row.id.to_string());
        e.organisation_id = Some(row.organisation_id);
        e.region_id = Some(row.region_id);
        e
    };
    let mut done = Vec::new();
    for (row, status, rag, version) in &changes {
        if !db::actions::update_status(
            &mut tx,
            row.assessment_id,
            row.id,
            *version,
            status,
            rag.as_deref(),
        )
        .await?
        {
            tx.rollback().await?;
            // Someone changed it in between: the choice stays, at the current version, so
            // saving again makes it.
            let rows = db::dashboards::own_actions(&state.db, who.user_id, today()).await?;
            let current = rows.iter().find(|r| r.id == row.id);
            if let (Some(t), Some(current)) = (typed.get_mut(&row.id), current) {
                t.version = current.version;
            }
            let mut errors = Errors::default();
            errors.add(
                format!("action-{}-status", row.id),
                format!(
                    "Someone changed this action while you were looking at it: its status is now {}, so nothing was saved. Your choice and notes are kept below; save again if you still want them",
                    current.map_or("changed", |c| action_status_label(&c.status)).to_lowercase()
                ),
            );
            return render(&who, rows, errors, typed, Vec::new(), StatusCode::CONFLICT);
        }
        let mut e = scoped("action.updated", row);
        e.before = Some(serde_json::json!({ "status": row.status, "rag": row.rag }));
        e.after = Some(serde_json::json!({ "status": status, "rag": rag }));
        db::audit::record(&mut *tx, &e).await?;
        done.push("status");
    }
    for (row, note) in &notes {
        db::actions::add_note(&mut tx, row.assessment_id, row.id, note, who.user_id).await?;
        // The note's text is evidence: the trail records that a note was added, not what it says.
        db::audit::record(&mut *tx, &scoped("action.noted", row)).await?;
        done.push("note");
    }
    tx.commit().await?;
    done.sort();
    done.dedup();
    if done.is_empty() {
        done.push("nothing");
    }
    Ok(Redirect::to(&format!("/me/actions?done={}", done.join(","))).into_response())
}
