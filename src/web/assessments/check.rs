//! Check your answers, and submit. What the Home Office needs (a status for every question, a
//! proposed score for every benchmark, a justification where it differs from the suggestion)
//! must be fixed first; what is worth a second look (actions with no owner or target,
//! expectations with no evidence, old attachments) is listed but does not stop a submission,
//! which records what was left.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{field_id, framework, object, scope_event, visible_head};
use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::domain::{Score, Status};
use crate::error::AppResult;
use crate::framework::ItemKind;
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
    proposed: String,
    suggested: String,
}

#[derive(Template)]
#[template(path = "assessments/check.html")]
struct CheckPage {
    chrome: Chrome,
    head: Head,
    must_fix: Vec<Gap>,
    worth_checking: Vec<Gap>,
    rows: Vec<Row>,
    may_submit: bool,
    /// Submitting was tried with something still to fix.
    refused: bool,
}

/// What the check page lists, in five statements.
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

async fn check_answers(state: &AppState, head: &Head) -> AppResult<Check> {
    let fw = framework(state)?;
    let progress = db::assessments::progress(&state.db, head.id).await?;
    let answers = db::assessments::all_answers(&state.db, head.id).await?;
    let criteria = db::assessments::all_criteria_met(&state.db, head.id).await?;
    let (mut must_fix, mut worth_checking, mut rows) = (Vec::new(), Vec::new(), Vec::new());
    for section in &fw.sections {
        let n = section.number;
        let href = |anchor: &str| format!("/assessments/{}/benchmarks/{n}#{anchor}", head.id);
        let mut record = Record::default();
        for item in &section.items {
            let answer = answers.iter().find(|a| a.code == item.code);
            let status = answer.and_then(|a| a.status.as_deref());
            // A question carried forward is confirmed by giving it a status.
            match status.and_then(|s| s.parse::<Status>().ok()) {
                Some(s) if !answer.is_some_and(|a| a.needs_review) => {
                    record.statuses.insert(item.code.clone(), s);
                }
                _ if answer.is_some_and(|a| a.needs_review) => must_fix.push(Gap {
                    text: format!(
                        "Question {} was carried forward from last cycle: confirm its status",
                        item.code
                    ),
                    href: href(&format!("{}-status", field_id(&item.code))),
                }),
                _ => must_fix.push(Gap {
                    text: format!("Question {} has no status", item.code),
                    href: href(&format!("{}-status", field_id(&item.code))),
                }),
            }
            let no_evidence = answer.is_none_or(|a| {
                a.evidence.trim().is_empty()
                    && a.prompt_evidence.iter().all(|p| p.trim().is_empty())
            });
            if item.kind == Some(ItemKind::Expectation) && no_evidence {
                worth_checking.push(Gap {
                    text: format!(
                        "Question {} is an expectation of compliance with no evidence",
                        item.code
                    ),
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
    for a in db::actions::incomplete(&state.db, head.id).await? {
        let missing = match (a.no_owner, a.no_target) {
            (true, true) => "no owner or target",
            (true, false) => "no owner",
            _ => "no target",
        };
        let whose = match (a.number, a.recommended) {
            (_, true) => "The recommended action".to_owned(),
            (Some(n), false) => format!("Benchmark {n}: the action"),
            (None, false) => "The action".to_owned(),
        };
        worth_checking.push(Gap {
            text: format!("{whose} “{}” has {missing}", short(&a.description)),
            href: format!("/assessments/{}/actions/{}", head.id, a.id),
        });
    }
    let now = OffsetDateTime::now_utc();
    for (n, name, at) in db::attachments::older_than_a_year(&state.db, head.id, now).await? {
        worth_checking.push(Gap {
            text: format!(
                "Benchmark {n}: the file “{}” was uploaded on {}, over a year ago: is it still current?",
                short(&name),
                crate::domain::long_date(at.date())
            ),
            href: format!("/assessments/{}/benchmarks/{n}#attachments", head.id),
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
    let head = visible_head(&state, &who, ip, id).await?;
    let check = check_answers(&state, &head).await?;
    let may_submit = policy::allows(&who, Action::SubmitAssessment, object(&head));
    let page = CheckPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
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
    let check = check_answers(&state, &head).await?;
    if !check.must_fix.is_empty() {
        let page = CheckPage {
            chrome: Chrome::new(Some(&who), "/assessments"),
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
        e.after = Some(serde_json::json!({
            "state": "submitted",
            "left_to_check": check.worth_checking.iter().map(|g| g.text.clone()).collect::<Vec<_>>(),
        }));
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}?done=submitted")).into_response())
}
