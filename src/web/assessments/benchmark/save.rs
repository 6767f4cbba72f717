//! Saving a benchmark's page: everything typed, in one transaction, or the page again with
//! everything as typed and why.

use std::collections::{BTreeMap, BTreeSet};

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::super::{framework, object, scope_event, visible_head};
use super::check::plan;
use super::{Draft, Extra, Intent, Theirs, Typed, page, stored_page};
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::error::AppResult;
use crate::framework::{Framework, Section};
use crate::web::account::event;
use crate::web::forms::{Errors, Fields};
use crate::web::guard::authorise;

/// The page again with everything as typed, and why it was not saved.
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

pub(in crate::web::assessments) async fn save(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, n)): Path<(Uuid, u32)>,
    request: Request,
) -> AppResult<Response> {
    let path = request.uri().path().to_owned();
    let mut fields = Fields::read(request).await;
    let head = visible_head(&state, &who, ip, id).await?;
    let fw = framework(&state, &head)?;
    let section = super::section_at(fw, &path, n)?;
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
        fw,
        section,
        &stored,
        &typed,
        &mut extra,
        fields.file.take(),
        intent,
        rags,
        &mut errors,
    );
    if !errors.is_empty() {
        dedupe(&mut errors);
        let draft = Draft {
            head,
            fw,
            section,
            typed,
            extra,
            errors,
            theirs: None,
        };
        return again(&state, &who, draft, StatusCode::UNPROCESSABLE_ENTITY).await;
    }

    let mut done: Vec<&str> = Vec::new();
    let event = |name: &'static str, kind: &'static str| {
        event(Some(who.user_id), &who.email, ip, name, kind)
    };
    // The benchmark's save and its audit event are one statement (the version is added to
    // the event's `after` as it is saved); statuses and scores, not evidence text.
    let saved_event = plan.benchmark.as_ref().map(|save| {
        let mut e = event("benchmark.saved", "assessment");
        scope_event(&mut e, &head, format!("{id}/benchmarks/{n}"));
        e.after = Some(serde_json::json!({
            "statuses": save.answers.iter().map(|a| (a.code.clone(), a.status.clone())).collect::<BTreeMap<_, _>>(),
            "criteria_met": save.criteria_met, "rag": save.rag,
            "proposed_score": save.proposed_score, "proposed_not_scored": save.proposed_not_scored,
        }));
        e
    });
    let only_benchmark = plan.statuses.is_empty()
        && plan.notes.is_empty()
        && plan.new_action.is_none()
        && plan.file.is_none()
        && plan.replies.is_empty()
        && plan.delete_file.is_none();
    // The common save, the benchmark alone, is one statement and atomic on its own: no BEGIN
    // and COMMIT. Anything else on the page is saved with it in one transaction.
    let mut tx = if only_benchmark {
        None
    } else {
        Some(state.db.begin().await?)
    };
    // Saved alone, the benchmark's statement also carries the marker that the wait after the
    // request listens for (a round trip fewer than sending one after it).
    let mut carried = None;
    // How many of the council's changes this server had heard of before this one committed.
    let heard_before = state.caches.council_changes_heard(head.organisation_id);
    if let Some(save) = &plan.benchmark {
        let (number, version, event) = (n as i32, typed.version, saved_event.as_ref());
        let saved = match tx.as_mut() {
            Some(tx) => {
                let conn = &mut **tx;
                let save = db::assessments::Saving {
                    save,
                    event,
                    marker: None,
                };
                db::assessments::save_benchmark(conn, id, number, version, who.user_id, &save)
                    .await?
            }
            None => {
                carried = state.caches.carry_marker();
                let marker = carried.map(|m| m.payload());
                let save = db::assessments::Saving {
                    save,
                    event,
                    marker: marker.as_deref(),
                };
                db::assessments::save_benchmark(&state.db, id, number, version, who.user_id, &save)
                    .await?
            }
        };
        if saved.is_err() {
            if let Some(tx) = tx {
                tx.rollback().await?;
            }
            return conflict(&state, &who, head, fw, section, typed, extra).await;
        }
        done.push("saved");
    }
    if let Some(mut tx) = tx {
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
                    fw,
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
            e.before =
                Some(serde_json::json!({ "status": change.before.0, "rag": change.before.1 }));
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
                "benchmark": n, "question": new.item_code, "description": new.description,
                "owner": new.owner_text,
                "owner_user": new.owner_user, "target": new.target_text,
                "due_on": new.due_on.map(|d| d.to_string()), "rag": new.rag,
            }));
            db::audit::record(&mut *tx, &e).await?;
            db::notices::queue_for_action(&mut *tx, action, None, who.user_id).await?;
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
            let reply =
                db::comments::insert_reply(&mut tx, id, *request, body, who.user_id).await?;
            let mut e = event("evidence.replied", "comment");
            scope_event(&mut e, &head, reply);
            e.after = Some(serde_json::json!({ "benchmark": n, "request": request }));
            db::audit::record(&mut *tx, &e).await?;
            db::notices::queue_reply(&mut *tx, id, n as i32, *request, who.user_id).await?;
            done.push("reply");
        }
        if let Some((file, name)) = &plan.delete_file
            && db::attachments::delete(&mut tx, id, *file).await?
        {
            let mut e = event("attachment.deleted", "attachment");
            scope_event(&mut e, &head, file);
            e.before = Some(serde_json::json!({ "benchmark": n, "filename": name }));
            db::audit::record(&mut *tx, &e).await?;
            done.push("file-deleted");
        }
        tx.commit().await?;
    }
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
    let mut response =
        Redirect::to(&format!("{}?done={}", head.section_href(n), done.join(","))).into_response();
    if let Some(marker) = carried {
        // The save's own notifications (this council's) may come after its marker: what they
        // would make this server forget is forgotten now, the save being committed.
        state
            .caches
            .forget_council_since(head.organisation_id, heard_before);
        response.extensions_mut().insert(marker);
    }
    Ok(response)
}

/// Someone saved the benchmark in between: their version beside this person's typing, which
/// is kept in the form; saving again (at their version) keeps what is in the form.
async fn conflict(
    state: &AppState,
    who: &Principal,
    head: Head,
    fw: &Framework,
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
    errors.add("conflict", format!("{} saved this {} at {} while you were editing it, so nothing on this page was saved. Nothing has been lost: your changes are in the form, with their version beside them. Keep what you want and save again.", theirs.by, super::super::Words::of(fw).section_lower, theirs.at));
    let draft = Draft {
        head,
        fw,
        section,
        typed,
        extra,
        errors,
        theirs: Some(theirs),
    };
    again(state, who, draft, StatusCode::CONFLICT).await
}
