//! An action of the plan: its fields as typed and checked (also for the benchmark page's "Add
//! an action"), its own page to change it, and deleting one added by mistake.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use time::{Date, Month};
use uuid::Uuid;

use super::{RAGS, cycle_start_year, framework, object, rag_label, read_rag, scope_event};
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::actions::{Edit, Stored};
use crate::db::assessments::Head;
use crate::domain::target;
use crate::error::{AppError, AppResult};
use crate::framework::Framework;
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::forms::{Form, Query};
use crate::web::guard::{authorise, authorise_or_hide};

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

/// The longest description and owner an action may have.
const MAX_DESCRIPTION: usize = 2000;
const MAX_OWNER: usize = 200;

/// An action's fields as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct ActionTyped {
    /// Where it is: a question's code, "" for the benchmark as a whole; on the action's own
    /// page "benchmark-3", "question-3.1" or "none".
    pub place: String,
    pub description: String,
    pub owner: String,
    /// A person's id, or "" for nobody.
    pub owner_user: String,
    pub target: String,
    pub rag: String,
    pub status: String,
}

impl ActionTyped {
    /// Whether anything that makes an action was typed (choices alone do not).
    pub fn is_typed(&self) -> bool {
        !(self.description.trim().is_empty()
            && self.owner.trim().is_empty()
            && self.target.trim().is_empty())
    }

    fn from_stored(a: &Stored) -> ActionTyped {
        ActionTyped {
            place: match (a.number, &a.item_code) {
                (_, Some(code)) => format!("question-{code}"),
                (Some(n), None) => format!("benchmark-{n}"),
                (None, None) => "none".to_owned(),
            },
            description: a.description.clone(),
            owner: a.owner_text.clone(),
            owner_user: a.owner_user_id.map(|u| u.to_string()).unwrap_or_default(),
            target: a.target_text.clone(),
            rag: a.rag.clone().unwrap_or_default(),
            status: a.status.clone(),
        }
    }
}

/// An action's fields, checked.
#[derive(Debug, Clone)]
pub(super) struct Checked {
    pub description: String,
    pub owner_text: String,
    pub owner_user: Option<Uuid>,
    pub target: target::Target,
    pub rag: Option<String>,
}

/// Checks the fields every action has; errors go to fields named `{prefix}-description` and so
/// on. `people` are the council's, who may be linked as the owner.
pub(super) fn check_fields(
    typed: &ActionTyped,
    prefix: &str,
    people: &[(Uuid, String)],
    head: &Head,
    errors: &mut Errors,
) -> Option<Checked> {
    let before = errors.all().len();
    let description = typed.description.trim();
    if description.is_empty() {
        errors.add(format!("{prefix}-description"), "Describe the action");
    } else if description.chars().count() > MAX_DESCRIPTION {
        errors.add(
            format!("{prefix}-description"),
            format!("The description must be {MAX_DESCRIPTION} characters or fewer"),
        );
    }
    let owner = typed.owner.trim();
    if owner.chars().count() > MAX_OWNER {
        errors.add(
            format!("{prefix}-owner"),
            format!("The owner must be {MAX_OWNER} characters or fewer"),
        );
    }
    let owner_user = match typed.owner_user.as_str() {
        "" => None,
        text => match text.parse::<Uuid>() {
            Ok(id) if people.iter().any(|(p, _)| *p == id) => Some(id),
            _ => {
                errors.add(
                    format!("{prefix}-owner-user"),
                    "Choose someone from the council's people, or nobody",
                );
                None
            }
        },
    };
    let target = match target::parse(&typed.target, cycle_start_year(head)) {
        Ok(t) => Some(t),
        Err(message) => {
            errors.add(format!("{prefix}-target"), message);
            None
        }
    };
    let rag = read_rag(&typed.rag).unwrap_or_else(|message| {
        errors.add(format!("{prefix}-rag"), message);
        None
    });
    if errors.all().len() > before {
        return None;
    }
    Some(Checked {
        description: description.to_owned(),
        owner_text: owner.to_owned(),
        owner_user,
        target: target?,
        rag,
    })
}

/// The first day of the assessment's financial year: a target before it was already past
/// when the action was added.
pub(super) fn cycle_start(head: &Head) -> Option<Date> {
    Date::from_calendar_date(cycle_start_year(head), Month::April, 1).ok()
}

/// "Already past when added": said beside a target due before the cycle began, unless the
/// action came from last cycle's plan (its target was not past when it was set: it is overdue).
pub(super) fn already_past(head: &Head, due: Option<Date>, carried: bool) -> bool {
    !carried && matches!((due, cycle_start(head)), (Some(d), Some(start)) if d < start)
}

// ----- The action's own page --------------------------------------------------------------

/// Where to go back to after the action's page.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct From {
    #[serde(default)]
    from: String,
}

impl From {
    /// Only the two pages that link here: never an address from the request.
    fn back(&self, head: &Head, action: &Stored) -> String {
        match (self.from.as_str(), action.number) {
            ("benchmark", Some(n)) => head.section_href(n),
            _ => format!("/orgs/{}/actions", head.organisation_slug),
        }
    }

    fn value(&self) -> &str {
        if self.from == "benchmark" {
            "benchmark"
        } else {
            "plan"
        }
    }
}

/// A choice of where an action is.
struct Place {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "assessments/action.html")]
struct ActionPage {
    chrome: Chrome,
    head: Head,
    words: super::Words,
    action: Stored,
    typed: ActionTyped,
    version: i32,
    errors: Errors,
    places: Vec<Place>,
    people: Vec<(Uuid, String)>,
    /// May set the status to any (the owner changes it from their list).
    may_delete: bool,
    back: String,
    from: String,
    /// Someone else's change, when it conflicted with this one.
    theirs: Option<Stored>,
    already_past: bool,
}

impl ActionPage {
    fn statuses(&self) -> &'static [(&'static str, &'static str)] {
        &ACTION_STATUSES
    }
    fn rags(&self) -> &'static [(&'static str, &'static str)] {
        &RAGS
    }
    fn status_label(&self, code: &str) -> &'static str {
        action_status_label(code)
    }
    fn rag_label(&self, code: &str) -> &'static str {
        rag_label(code)
    }
    fn recommended(&self, cycle: &str) -> String {
        crate::web::dashboards::recommended_label(cycle)
    }
}

/// Where an action may be put by this person: the benchmarks (and their questions) they may
/// edit, and "no benchmark" for a recommended action.
fn places(who: &Principal, head: &Head, fw: &Framework, action: &Stored) -> Vec<Place> {
    let words = super::Words::of(fw);
    let sections = &fw.sections;
    let mut out = Vec::new();
    if action.source == "recommendation" {
        out.push(Place {
            value: "none".to_owned(),
            label: "No benchmark: the plan as a whole".to_owned(),
        });
    }
    for s in sections {
        if !policy::allows(who, Action::EditAction(Some(s.number as i32)), object(head)) {
            continue;
        }
        out.push(Place {
            value: format!("benchmark-{}", s.number),
            label: format!("{} {}: {} (as a whole)", words.section, s.number, s.title),
        });
        for i in &s.items {
            out.push(Place {
                value: format!("question-{}", i.code),
                label: format!(
                    "{} {}, {} {}",
                    words.section, s.number, words.item_lower, i.code
                ),
            });
        }
    }
    out
}

/// The action of the assessment, if this person may change it; otherwise not found.
async fn editable(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
    action: Uuid,
) -> AppResult<(Head, Stored)> {
    let head = super::visible_head(state, who, ip, id).await?;
    let stored = db::actions::get(&state.db, id, action)
        .await?
        .ok_or(AppError::NotFound)?;
    authorise_or_hide(
        state,
        who,
        ip,
        Action::EditAction(stored.number),
        object(&head),
    )
    .await?;
    Ok((head, stored))
}

#[allow(clippy::too_many_arguments)]
async fn render(
    state: &AppState,
    who: &Principal,
    head: Head,
    action: Stored,
    typed: ActionTyped,
    version: i32,
    errors: Errors,
    theirs: Option<Stored>,
    from: &From,
    status: StatusCode,
) -> AppResult<Response> {
    let fw = framework(state, &head)?;
    let people = db::users::people_of(&state.db, head.organisation_id).await?;
    let page = ActionPage {
        chrome: Chrome::new(
            Some(who),
            &format!("/orgs/{}/actions", head.organisation_slug),
        ),
        places: places(who, &head, fw, &action),
        words: super::Words::of(fw),
        may_delete: policy::allows(who, Action::DeleteAction, object(&head)),
        back: from.back(&head, &action),
        from: from.value().to_owned(),
        already_past: already_past(&head, action.due_on, action.carried),
        people,
        typed,
        version,
        errors,
        theirs,
        action,
        head,
    };
    Ok((status, Html(page.render()?)).into_response())
}

pub(super) async fn edit_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, action)): Path<(Uuid, Uuid)>,
    Query(from): Query<From>,
) -> AppResult<Response> {
    let (head, stored) = editable(&state, &who, ip, id, action).await?;
    let typed = ActionTyped::from_stored(&stored);
    let version = stored.version;
    render(
        &state,
        &who,
        head,
        stored,
        typed,
        version,
        Errors::default(),
        None,
        &from,
        StatusCode::OK,
    )
    .await
}

#[derive(Debug, Deserialize)]
pub(super) struct EditForm {
    #[serde(default, rename = "action-place")]
    place: String,
    #[serde(default, rename = "action-description")]
    description: String,
    #[serde(default, rename = "action-owner")]
    owner: String,
    #[serde(default, rename = "action-owner-user")]
    owner_user: String,
    #[serde(default, rename = "action-target")]
    target: String,
    #[serde(default, rename = "action-rag")]
    rag: String,
    #[serde(default, rename = "action-status")]
    status: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    from: String,
}

/// The audit record's view of an action: what it says, not its progress notes.
fn audited(a: &Edit) -> serde_json::Value {
    serde_json::json!({
        "benchmark": a.section_number, "question": a.item_code, "description": a.description,
        "owner": a.owner_text, "owner_user": a.owner_user.flatten(), "target": a.target_text,
        "status": a.status, "rag": a.rag,
    })
}

/// What is stored, as an edit would write it (for the trail's "before").
fn as_edit(a: &Stored) -> Edit {
    Edit {
        section_number: a.number,
        item_code: a.item_code.clone(),
        description: a.description.clone(),
        owner_text: a.owner_text.clone(),
        owner_user: Some(a.owner_user_id),
        target_text: a.target_text.clone(),
        due_on: a.due_on,
        status: a.status.clone(),
        rag: a.rag.clone(),
    }
}

pub(super) async fn edit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, action)): Path<(Uuid, Uuid)>,
    Form(form): Form<EditForm>,
) -> AppResult<Response> {
    let (head, stored) = editable(&state, &who, ip, id, action).await?;
    let from = From {
        from: form.from.clone(),
    };
    let typed = ActionTyped {
        place: form.place,
        description: form.description.replace("\r\n", "\n"),
        owner: form.owner,
        owner_user: form.owner_user,
        target: form.target,
        rag: form.rag,
        status: form.status,
    };
    let version = form.version.parse::<i32>().unwrap_or(0);
    let fw = framework(&state, &head)?;
    let mut errors = Errors::default();
    // Where it goes: one of the places this person may put it.
    let allowed = places(&who, &head, fw, &stored);
    let place = if allowed.iter().any(|p| p.value == typed.place) {
        match typed.place.split_once('-') {
            Some(("benchmark", n)) => Some((n.parse::<i32>().ok(), None)),
            Some(("question", code)) => {
                let n = code.split('.').next().and_then(|n| n.parse::<i32>().ok());
                Some((n, Some(code.to_owned())))
            }
            _ => Some((None, None)),
        }
    } else {
        errors.add(
            "action-place",
            "Choose the benchmark or question the action is for",
        );
        None
    };
    if !ACTION_STATUSES.iter().any(|(c, _)| *c == typed.status) {
        errors.add("action-status", "Choose the action's status");
    }
    let people = db::users::people_of(&state.db, head.organisation_id).await?;
    let checked = check_fields(&typed, "action", &people, &head, &mut errors);
    let (Some((number, question)), Some(checked), true) = (place, checked, errors.is_empty())
    else {
        return render(
            &state,
            &who,
            head,
            stored,
            typed,
            version,
            errors,
            None,
            &from,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let edit = Edit {
        section_number: number,
        item_code: question,
        description: checked.description,
        owner_text: checked.owner_text,
        owner_user: Some(checked.owner_user),
        target_text: checked.target.text,
        due_on: checked.target.due,
        status: typed.status.clone(),
        rag: checked.rag,
    };
    let mut tx = state.db.begin().await?;
    if !db::actions::update(&mut tx, id, action, Some(version), &edit).await? {
        tx.rollback().await?;
        // Someone changed it since the page was loaded: their version beside this person's
        // typing, which is kept; saving again (at their version) keeps what is in the form.
        let theirs = db::actions::get(&state.db, id, action)
            .await?
            .ok_or(AppError::NotFound)?;
        let mut errors = Errors::default();
        errors.add(
            "action-description",
            format!(
                "{} changed this action while you were editing it. Nothing has been lost: your changes are in the form, with theirs beside them. Keep what you want and save again.",
                theirs.updated_by.as_deref().unwrap_or("Someone else")
            ),
        );
        let version = theirs.version;
        return render(
            &state,
            &who,
            head,
            theirs.clone(),
            typed,
            version,
            errors,
            Some(theirs),
            &from,
            StatusCode::CONFLICT,
        )
        .await;
    }
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "action.updated",
        "action",
    );
    scope_event(&mut e, &head, action);
    e.before = Some(audited(&as_edit(&stored)));
    e.after = Some(audited(&edit));
    db::audit::record(&mut *tx, &e).await?;
    db::notices::queue_for_action(
        &mut *tx,
        action,
        Some((stored.owner_user_id, &stored.target_text)),
        who.user_id,
    )
    .await?;
    tx.commit().await?;
    let back = match (from.value(), edit.section_number) {
        ("benchmark", Some(n)) => head.section_href(n),
        _ => format!("/orgs/{}/actions", head.organisation_slug),
    };
    Ok(Redirect::to(&format!("{back}?done=action-changed")).into_response())
}

#[derive(Template)]
#[template(path = "assessments/action_delete.html")]
struct DeletePage {
    chrome: Chrome,
    head: Head,
    action: Stored,
    back: String,
    from: String,
    errors: Errors,
}

/// The action, if this person may delete it (the lead, while the assessment is a draft).
async fn deletable(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
    action: Uuid,
) -> AppResult<(Head, Stored)> {
    let (head, stored) = editable(state, who, ip, id, action).await?;
    // They may see and change it: a refusal to delete is a 403, not a pretence it is not there.
    authorise(state, who, ip, Action::DeleteAction, object(&head)).await?;
    Ok((head, stored))
}

pub(super) async fn delete_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, action)): Path<(Uuid, Uuid)>,
    Query(from): Query<From>,
) -> AppResult<Response> {
    let (head, stored) = deletable(&state, &who, ip, id, action).await?;
    delete_page(&who, head, stored, &from, Errors::default(), StatusCode::OK)
}

fn delete_page(
    who: &Principal,
    head: Head,
    action: Stored,
    from: &From,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let page = DeletePage {
        chrome: Chrome::new(
            Some(who),
            &format!("/orgs/{}/actions", head.organisation_slug),
        ),
        back: format!(
            "/assessments/{}/actions/{}?from={}",
            head.id,
            action.id,
            from.value()
        ),
        from: from.value().to_owned(),
        head,
        action,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Debug, Deserialize)]
pub(super) struct DeleteForm {
    #[serde(default)]
    version: String,
    #[serde(default)]
    from: String,
}

pub(super) async fn delete(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, action)): Path<(Uuid, Uuid)>,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    let (head, stored) = deletable(&state, &who, ip, id, action).await?;
    let from = From { from: form.from };
    let version = form.version.parse::<i32>().unwrap_or(0);
    let mut tx = state.db.begin().await?;
    if !db::actions::delete(&mut tx, id, action, version).await? {
        tx.rollback().await?;
        let mut errors = Errors::default();
        errors.add(
            "delete",
            "Someone changed this action since you opened this page, so it has not been deleted. Check it below and delete it again if you still want to",
        );
        return delete_page(&who, head, stored, &from, errors, StatusCode::CONFLICT);
    }
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "action.deleted",
        "action",
    );
    scope_event(&mut e, &head, action);
    e.before = Some(audited(&as_edit(&stored)));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!(
        "{}?done=action-deleted",
        from.back(&head, &stored)
    ))
    .into_response())
}
