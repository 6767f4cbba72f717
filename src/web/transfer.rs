//! The self-assessment as an Excel workbook: exported whole, filled in offline, and imported
//! into the draft again. An import is checked cell by cell first; it changes everything or
//! nothing.

use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::Action;
use crate::auth::session::ClientIp;
use crate::cache::councils::Download;
use crate::db;
use crate::db::actions::NewAction;
use crate::db::assessments::{Answer, Head, Save};
use crate::error::{AppError, AppResult};
use crate::framework::Framework;
use crate::web::account::event;
use crate::web::assessments::{
    ACTION_STATUSES, content_disposition, framework, object, scope_event, shown_head, visible_head,
};
use crate::web::chrome::Chrome;
use crate::web::dashboards::kept_file;
use crate::web::forms::Errors;
use crate::web::guard::authorise;
use crate::workbook::{self, Book, BookAction, BookAnswer, BookBenchmark, CellError, ReadError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}/export.xlsx", get(export))
        // The route keeps the 2 MB limit of a form: a workbook of ours is tens of kilobytes,
        // and a spreadsheet is unzipped whole to be read.
        .route("/assessments/{id}/import", get(import_form).post(import))
}

fn cycle_start_year(head: &Head) -> i32 {
    head.cycle_label
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(2000)
}

/// The assessment as the workbook holds it, in one statement.
async fn book(state: &AppState, head: &Head, fw: &Framework) -> sqlx::Result<Book> {
    let db::assessments::WorkbookContents {
        results,
        answers,
        actions,
    } = db::assessments::workbook_contents(&state.db, head.id).await?;
    let benchmarks = results
        .into_iter()
        .map(|r| {
            let section = fw.section(r.number as u32);
            let codes: Vec<&str> = section
                .map(|s| s.items.iter().map(|i| i.code.as_str()).collect())
                .unwrap_or_default();
            BookBenchmark {
                number: r.number as u32,
                rag: r.rag,
                proposed_score: r.proposed_score,
                proposed_not_scored: r.proposed_not_scored,
                justification: r.justification,
                comments: r.comments,
                criteria_met: r.criteria_met,
                agreed: match (r.agreed_score, r.agreed_not_scored) {
                    (Some(s), _) => s.to_string(),
                    (None, true) => "Not scored".to_owned(),
                    _ => String::new(),
                },
                answers: answers
                    .iter()
                    .filter(|a| codes.contains(&a.code.as_str()))
                    .map(|a| BookAnswer {
                        code: a.code.clone(),
                        status: a.status.clone(),
                        evidence: a.evidence.clone(),
                        prompt_evidence: a.prompt_evidence.clone(),
                        needs_review: a.needs_review,
                        fields: a.fields.clone(),
                    })
                    .collect(),
                actions: actions
                    .iter()
                    .filter(|a| a.number == Some(r.number))
                    .map(book_action)
                    .collect(),
            }
        })
        .collect();
    Ok(Book {
        council: head.organisation_name.clone(),
        cycle: head.cycle_label.clone(),
        state: crate::web::assessments::state_label_of(head.channel, &head.state).to_owned(),
        benchmarks,
        other_actions: actions
            .iter()
            .filter(|a| a.number.is_none())
            .map(book_action)
            .collect(),
    })
}

fn book_action(a: &db::actions::Row) -> BookAction {
    BookAction {
        id: Some(a.id),
        question: a.item_code.clone(),
        description: a.description.clone(),
        owner: a.owner_text.clone(),
        target_text: a.target_text.clone(),
        due_on: None,
        status: a.status.clone(),
        rag: a.rag.clone(),
        row: 0,
    }
}

/// The assessment's workbook as `export.xlsx` downloads it (and as it is written again after
/// a change, `crate::web::downloads`).
pub(crate) async fn assessment_workbook(
    state: &AppState,
    head: &Head,
    fw: &Framework,
) -> sqlx::Result<Result<Bytes, String>> {
    let book = book(state, head, fw).await?;
    Ok(workbook::write(&book, fw, &ACTION_STATUSES)
        .map(Bytes::from)
        .map_err(|e| e.to_string()))
}

async fn export(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = shown_head(&state, &who, ip, id).await?;
    let fw = framework(&state, &head)?;
    // Written once per change of the council's, then kept: the writer costs milliseconds of
    // CPU, the kept copy nothing.
    let which = Download::Assessment(head.id);
    let bytes = kept_file(
        &state,
        which,
        head.organisation_id,
        "the assessment workbook",
        || assessment_workbook(&state, &head, fw),
    )
    .await?;
    let name = format!(
        "{}-self-assessment-{}.xlsx",
        head.organisation_slug,
        head.cycle_label.replace('/', "-")
    );
    Ok((
        [
            (header::CONTENT_TYPE, workbook::CONTENT_TYPE.to_owned()),
            (header::CONTENT_DISPOSITION, content_disposition(&name)),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "assessments/import.html")]
struct ImportPage {
    chrome: Chrome,
    head: Head,
    errors: Errors,
    /// Every fault of the workbook, by sheet, row and column.
    faults: Vec<CellError>,
}

async fn import_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    authorise(&state, &who, ip, Action::ImportAssessment, object(&head)).await?;
    let page = ImportPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        errors: Errors::default(),
        faults: Vec::new(),
    };
    Ok(Html(page.render()?).into_response())
}

/// The import page again after faults in the workbook: how many there are, and the first
/// [`MAX_FAULTS`] of them by sheet, row and column.
fn refused(
    who: &Principal,
    head: Head,
    mut errors: Errors,
    mut faults: Vec<CellError>,
) -> AppResult<Response> {
    errors.add(
        "file",
        format!(
            "The workbook has {} {} to put right: nothing was imported",
            faults.len(),
            if faults.len() == 1 {
                "problem"
            } else {
                "problems"
            }
        ),
    );
    faults.truncate(MAX_FAULTS);
    again(who, head, errors, faults)
}

fn again(
    who: &Principal,
    head: Head,
    errors: Errors,
    faults: Vec<CellError>,
) -> AppResult<Response> {
    let page = ImportPage {
        chrome: Chrome::new(Some(who), "/assessments"),
        head,
        errors,
        faults,
    };
    Ok((
        axum::http::StatusCode::UNPROCESSABLE_ENTITY,
        Html(page.render()?),
    )
        .into_response())
}

/// An action of the workbook as an edit of the stored one (the linked person stays while the
/// owner's name is unchanged).
fn edit_of(a: &BookAction, section_number: Option<i32>) -> db::actions::Edit {
    db::actions::Edit {
        section_number,
        item_code: a.question.clone(),
        description: a.description.clone(),
        owner_text: a.owner.clone(),
        owner_user: None,
        target_text: a.target_text.clone(),
        due_on: a.due_on,
        status: a.status.clone(),
        rag: a.rag.clone(),
    }
}

fn not_ours(sheet: &str, a: &BookAction) -> CellError {
    CellError {
        sheet: sheet.to_owned(),
        row: a.row,
        column: "A".to_owned(),
        message: "This is not an action of this self-assessment: leave the ID empty to add it as a new action".to_owned(),
    }
}

/// The workbook was larger than the route takes (axum's default limit, 2 MB).
const TOO_LARGE: &str = "The file must be 2 MB or smaller";

/// The most faults listed: past this the workbook is probably not one of ours.
const MAX_FAULTS: usize = 50;

async fn import(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let head = visible_head(&state, &who, ip, id).await?;
    authorise(&state, &who, ip, Action::ImportAssessment, object(&head)).await?;
    let mut errors = Errors::default();
    let mut file: Option<Vec<u8>> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => match field.bytes().await {
                Ok(bytes) => file = Some(bytes.to_vec()),
                Err(_) => {
                    errors.add("file", TOO_LARGE);
                    break;
                }
            },
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(_) => {
                errors.add("file", TOO_LARGE);
                break;
            }
        }
    }
    let bytes = match file {
        _ if !errors.is_empty() => return again(&who, head, errors, Vec::new()),
        Some(b) if !b.is_empty() => b,
        _ => {
            errors.add("file", "Select the Excel file to import");
            return again(&who, head, errors, Vec::new());
        }
    };
    let fw = framework(&state, &head)?;
    let imported = match workbook::read(&bytes, fw, &ACTION_STATUSES, cycle_start_year(&head)) {
        Ok(imported) => imported,
        Err(ReadError::NotAWorkbook) => {
            errors.add(
                "file",
                "The file must be an Excel workbook (.xlsx) exported from this service",
            );
            return again(&who, head, errors, Vec::new());
        }
        Err(ReadError::Cells(faults)) => {
            return refused(&who, head, errors, faults);
        }
    };

    let mut tx = state.db.begin().await?;
    if db::assessments::lock(&mut tx, id).await?.as_deref() != Some("draft") {
        errors.add(
            "file",
            "The self-assessment has been submitted since you opened this page: only a draft can be imported into",
        );
        return again(&who, head, errors, Vec::new());
    }
    let versions = db::assessments::full_results(&mut *tx, id).await?;
    let mut faults = Vec::new();
    let mut changed_actions = 0;
    let mut new_actions = 0;
    let benchmarks = &imported.benchmarks;
    for b in benchmarks {
        let expected = versions
            .iter()
            .find(|v| v.number as u32 == b.number)
            .map_or(0, |v| v.version);
        let save = Save {
            answers: b
                .answers
                .iter()
                .map(|a| Answer {
                    code: a.code.clone(),
                    status: a.status.clone(),
                    evidence: a.evidence.clone(),
                    prompt_evidence: a.prompt_evidence.clone(),
                    needs_review: a.needs_review,
                    fields: a.fields.clone(),
                })
                .collect(),
            criteria_met: b.criteria_met.clone(),
            rag: b.rag.clone(),
            proposed_score: b.proposed_score,
            proposed_not_scored: b.proposed_not_scored,
            justification: b.justification.clone(),
            comments: b.comments.clone(),
        };
        // The version was read under the assessment's lock, so this cannot conflict.
        let saving = db::assessments::Saving {
            save: &save,
            event: None,
            marker: None,
        };
        if db::assessments::save_benchmark(
            &mut *tx,
            id,
            b.number as i32,
            expected,
            who.user_id,
            &saving,
        )
        .await?
        .is_err()
        {
            return Err(AppError::Internal(anyhow::anyhow!(
                "benchmark {} changed under the import's lock",
                b.number
            )));
        }
        for a in &b.actions {
            match a.id {
                Some(action) => {
                    let edit = edit_of(a, Some(b.number as i32));
                    if db::actions::update(&mut tx, id, action, None, &edit).await? {
                        changed_actions += 1;
                    } else {
                        faults.push(not_ours(&format!("Benchmark {}", b.number), a));
                    }
                }
                None => {
                    let new = NewAction {
                        organisation: head.organisation_id,
                        assessment: id,
                        section_number: b.number as i32,
                        item_code: a.question.clone(),
                        description: a.description.clone(),
                        owner_text: a.owner.clone(),
                        owner_user: None,
                        target_text: a.target_text.clone(),
                        due_on: a.due_on,
                        status: a.status.clone(),
                        rag: a.rag.clone(),
                    };
                    db::actions::insert(&mut tx, &new, who.user_id).await?;
                    new_actions += 1;
                }
            }
        }
    }
    for a in &imported.other_actions {
        let updated = match a.id {
            Some(action) => {
                db::actions::update(&mut tx, id, action, None, &edit_of(a, None)).await?
            }
            None => false,
        };
        if updated {
            changed_actions += 1;
        } else {
            faults.push(not_ours("Other actions", a));
        }
    }
    if !faults.is_empty() {
        tx.rollback().await?;
        return refused(&who, head, errors, faults);
    }
    // The evidence itself is not copied into the trail: only what was imported, and how much.
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "assessment.imported",
        "assessment",
    );
    scope_event(&mut e, &head, id);
    e.after = Some(serde_json::json!({
        "benchmarks": benchmarks.len(),
        "actions_changed": changed_actions,
        "actions_added": new_actions,
        "bytes": bytes.len(),
    }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}?done=imported")).into_response())
}
