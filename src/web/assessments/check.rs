//! Check your answers, and submit. What the Home Office needs (a status for every question, a
//! proposed score for every benchmark, a justification where it differs from the suggestion)
//! must be fixed first; what is worth a second look (actions with no owner or target,
//! expectations with no evidence, old attachments) is listed but does not stop a submission,
//! which records what was left.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Words;
use super::{field_id, framework, object, scope_event, shown_head_and_progress, visible_head};
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::domain::{Score, Status};
use crate::error::AppResult;
use crate::framework::{ItemKind, Requirement};
use crate::notify::Kind;
use crate::scoring::{self, Record};
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::guard::authorise;

/// Something to look at, with where to put it right.
pub(super) struct Gap {
    text: String,
    href: String,
}

struct Row {
    number: u32,
    title: String,
    answered: String,
    /// The proposed and suggested scores (of a scored framework).
    proposed: Option<String>,
    suggested: Option<String>,
}

#[derive(Template)]
#[template(path = "assessments/check.html")]
struct CheckPage {
    chrome: Chrome,
    head: Head,
    words: Words,
    must_fix: Vec<Gap>,
    worth_checking: Vec<Gap>,
    rows: Vec<Row>,
    may_submit: bool,
    /// Submitting was tried with something still to fix.
    refused: bool,
}

/// What the check page lists, from two statements (progress, and the contents).
struct Check {
    must_fix: Vec<Gap>,
    worth_checking: Vec<Gap>,
    rows: Vec<Row>,
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(60).collect();
    if text.chars().count() > 60 {
        s.push('…');
    }
    s
}

/// `kept`: the progress as kept, when it and the contents may come from memory (the page); a
/// submission (None) asks the database, which another server may have changed a moment ago.
async fn check_answers(
    state: &AppState,
    head: &Head,
    kept: Option<Arc<Vec<db::assessments::Progress>>>,
) -> AppResult<Check> {
    let fw = framework(state, head)?;
    let words = Words::of(fw);
    let scale = if fw.scored { "status" } else { "rating" };
    let now = OffsetDateTime::now_utc();
    // Whether each answer has evidence, not its text.
    let (progress, contents) = if let Some(progress) = kept {
        let today = crate::web::dashboards::today();
        (
            progress,
            state.caches.contents(&state.db, head, false, today).await?,
        )
    } else {
        (
            Arc::new(db::assessments::progress(&state.db, head.id).await?),
            Arc::new(db::assessments::contents(&state.db, head.id, now, false).await?),
        )
    };
    let (answers, criteria) = (&contents.answers, &contents.criteria);
    // Items with an action that has a timescale and is still to be done.
    let improved: Vec<&str> = contents
        .actions
        .iter()
        .filter(|a| !a.target_text.trim().is_empty() && a.status != "cancelled")
        .filter_map(|a| a.item_code.as_deref())
        .collect();
    let (mut must_fix, mut worth_checking, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for section in &fw.sections {
        let n = section.number;
        let href = |anchor: &str| format!("{}#{anchor}", head.section_href(n));
        let mut record = Record::default();
        for item in &section.items {
            let answer = answers.iter().find(|a| a.code == item.code);
            let status = answer.and_then(|a| a.status.as_deref());
            let what = format!("{} {}", words.item, item.code);
            let status_href = href(&format!("{}-status", field_id(&item.code)));
            let evidence_href = href(&format!("{}-evidence", field_id(&item.code)));
            // An item carried forward is confirmed by giving it a status (or rating).
            match status.and_then(|s| fw.rating(s)) {
                Some(r) if !answer.is_some_and(|a| a.needs_review) => {
                    if let Ok(s) = r.code.parse::<Status>() {
                        record.statuses.insert(item.code.clone(), s);
                    }
                    let no_text = answer.is_none_or(|a| a.evidence.trim().is_empty());
                    if no_text && r.requires(Requirement::Details) {
                        must_fix.push(Gap {
                            text: format!(
                                "{what} is {} and needs the further details behind it",
                                r.label
                            ),
                            href: evidence_href.clone(),
                        });
                    }
                    if no_text && r.requires(Requirement::Reason) {
                        must_fix.push(Gap {
                            text: format!("{what} is {} and needs the reason", r.label),
                            href: evidence_href.clone(),
                        });
                    }
                    if r.requires(Requirement::Improvement)
                        && !improved.contains(&item.code.as_str())
                    {
                        must_fix.push(Gap {
                            text: format!(
                                "{what} is {} and needs an {} with a {}",
                                r.label,
                                words.action_lower,
                                words.target.to_lowercase()
                            ),
                            href: href("new-action"),
                        });
                    }
                }
                _ if answer.is_some_and(|a| a.needs_review) => must_fix.push(Gap {
                    text: format!(
                        "{what} was carried forward from last cycle: confirm its {scale}"
                    ),
                    href: status_href,
                }),
                _ => must_fix.push(Gap {
                    text: format!("{what} has no {scale}"),
                    href: status_href,
                }),
            }
            for f in &item.fields {
                if answer.is_none_or(|a| a.fields.get(&f.code).is_none_or(|v| v.trim().is_empty()))
                {
                    worth_checking.push(Gap {
                        text: format!("{what}: “{}” is not given", f.label),
                        href: href(&format!(
                            "{}-{}",
                            field_id(&item.code),
                            f.code.replace('_', "-")
                        )),
                    });
                }
            }
            let no_evidence = answer.is_none_or(|a| {
                a.evidence.trim().is_empty()
                    && a.prompt_evidence.iter().all(|p| p.trim().is_empty())
            });
            if item.kind == Some(ItemKind::Expectation) && no_evidence {
                worth_checking.push(Gap {
                    text: format!("{what} is an expectation of compliance with no evidence"),
                    href: href(&format!("{}-evidence", field_id(&item.code))),
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
        let answered = p.map_or_else(String::new, |p| {
            format!("{} of {}", p.answered, p.questions)
        });
        if !fw.scored {
            rows.push(Row {
                number: n,
                title: section.title.clone(),
                answered,
                proposed: None,
                suggested: None,
            });
            continue;
        }
        let suggestion = scoring::suggest(section, &record, &state.settings.rags);
        if proposed.is_none() && !not_scored {
            must_fix.push(Gap {
                text: format!("Benchmark {n} has no proposed score"),
                href: href("proposed"),
            });
        } else if scoring::justification_required(suggestion.score, proposed)
            && p.is_none_or(|p| p.justification.trim().is_empty())
        {
            must_fix.push(Gap {
                text: format!("Benchmark {n}: the proposed score differs from the suggestion and needs a justification"),
                href: href("justification"),
            });
        }
        rows.push(Row {
            number: n,
            title: section.title.clone(),
            answered,
            proposed: Some(match (proposed, not_scored) {
                (Some(s), _) => s.to_string(),
                (None, true) => "Not scored".to_owned(),
                _ => "None".to_owned(),
            }),
            suggested: Some(
                suggestion
                    .score
                    .map_or_else(|| "Not scored".to_owned(), |s| s.to_string()),
            ),
        });
    }
    // A statement that needs a signature is submitted only when it is signed.
    if !fw.sign_off.is_empty() && !contents.signed {
        must_fix.push(Gap {
            text: format!(
                "The {} has not been signed by the council's signatory",
                words.name
            ),
            href: format!("/assessments/{}#sign-off", head.id),
        });
    }
    for a in contents.actions.iter().filter(|a| a.incomplete()) {
        let missing = match (a.owner_text.is_empty(), a.target_text.is_empty()) {
            (true, true) => "no owner or target",
            (true, false) => "no owner",
            _ => "no target",
        };
        let whose = match (a.number, a.recommended) {
            (_, true) => "The recommended action".to_owned(),
            (Some(n), false) => format!("{} {n}: the {}", words.section, words.action_lower),
            (None, false) => "The action".to_owned(),
        };
        worth_checking.push(Gap {
            text: format!("{whose} “{}” has {missing}", short(&a.description)),
            href: format!("/assessments/{}/actions/{}", head.id, a.id),
        });
    }
    for f in &contents.old_files {
        let (n, name, at) = (f.number, &f.filename, f.created_at);
        worth_checking.push(Gap {
            text: format!(
                "{} {n}: the file “{}” was uploaded on {}, over a year ago: is it still current?",
                words.section,
                short(name),
                crate::domain::uk_date(at)
            ),
            href: format!("{}#attachments", head.section_href(n)),
        });
    }
    Ok(Check {
        must_fix,
        worth_checking,
        rows,
    })
}

pub(super) async fn check(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    // Only shown: the kept copies serve (submitting asks the database afresh).
    let (head, progress) = shown_head_and_progress(&state, &who, ip, id).await?;
    let check = check_answers(&state, &head, Some(progress)).await?;
    let may_submit = policy::allows(&who, Action::SubmitAssessment, object(&head));
    let words = Words::of(framework(&state, &head)?);
    let page = CheckPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        words,
        head,
        must_fix: check.must_fix,
        worth_checking: check.worth_checking,
        rows: check.rows,
        may_submit,
        refused: false,
    };
    Ok(Html(page.render()?).into_response())
}

pub(super) async fn submit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    authorise(&state, &who, ip, Action::SubmitAssessment, object(&head)).await?;
    let check = check_answers(&state, &head, None).await?;
    if !check.must_fix.is_empty() {
        let words = Words::of(framework(&state, &head)?);
        let page = CheckPage {
            chrome: Chrome::new(Some(&who), "/assessments"),
            words,
            head,
            must_fix: check.must_fix,
            worth_checking: check.worth_checking,
            rows: check.rows,
            may_submit: true,
            refused: true,
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
        // What was left to look at goes with the submission (the lines, not evidence).
        // After the deadline it is still accepted, and recorded as late.
        let late = OffsetDateTime::now_utc().date() > head.deadline;
        e.after = Some(serde_json::json!({
            "state": "submitted",
            "late": late,
            "left_to_check": check.worth_checking.iter().map(|g| g.text.clone()).collect::<Vec<_>>(),
        }));
        db::audit::record(&mut *tx, &e).await?;
        crate::notify::tell(&mut *tx, Kind::Submitted, id, who.user_id, None).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}?done=submitted")).into_response())
}
