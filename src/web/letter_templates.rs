//! The letter's standard paragraphs per cycle, kept by administrators: each save a new version,
//! so a letter always says which it was written from and a published one never changes.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::db;
use crate::documents::letter::{self, Template as LetterTemplate};
use crate::error::{AppError, AppResult};
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::forms::{Form, Query};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/letters", get(list))
        .route("/admin/letters/{cycle}", get(edit_form).post(edit))
}

/// The fields of a template as the form shows them: (name, label, hint, several paragraphs).
const FIELDS: [(&str, &str, &str, bool); 19] = [
    (
        "sender",
        "Sender",
        "The Home Office's address, one line each",
        false,
    ),
    (
        "title",
        "Title",
        "{year} stands for the cycle, like 2026/2027",
        false,
    ),
    (
        "opening",
        "Opening",
        "{region} and {council} stand for the region and the council",
        false,
    ),
    (
        "statutory",
        "The statutory duty",
        "Paragraphs separated by a blank line",
        true,
    ),
    (
        "process",
        "The process",
        "Paragraphs separated by a blank line",
        true,
    ),
    (
        "threat_and_risk",
        "Threat and risk",
        "Paragraphs separated by a blank line",
        true,
    ),
    (
        "benchmark_5",
        "Benchmark 5 and the Channel assurance statement",
        "Only in letters where benchmark 5 is not scored",
        false,
    ),
    (
        "year_on_year",
        "This year against last",
        "Leave empty to leave it out",
        false,
    ),
    ("summary_heading", "Heading of the summary", "", false),
    (
        "summary_lead",
        "Start of the summary",
        "The scoring module's summary sentence follows",
        false,
    ),
    (
        "recommendations_intro",
        "Before the recommended actions",
        "",
        false,
    ),
    ("annex_offer", "The annex offer", "", false),
    (
        "sharing",
        "Sharing with the Prevent Delivery Group",
        "",
        false,
    ),
    ("thanks", "Thanks, after the adviser's own line", "", false),
    ("closing", "Closing", "", false),
    ("sign_off", "Sign-off", "", false),
    ("signature_role", "Under the adviser's name", "", false),
    ("annex_heading", "Heading of the annex", "", false),
    (
        "attribution",
        "Attribution",
        "The Open Government Licence statement",
        false,
    ),
];

fn get_field(t: &LetterTemplate, name: &str) -> String {
    match name {
        "sender" => t.sender.clone(),
        "title" => t.title.clone(),
        "opening" => t.opening.clone(),
        "statutory" => t.statutory.join("\n\n"),
        "process" => t.process.join("\n\n"),
        "threat_and_risk" => t.threat_and_risk.join("\n\n"),
        "benchmark_5" => t.benchmark_5.clone(),
        "year_on_year" => t.year_on_year.clone(),
        "summary_heading" => t.summary_heading.clone(),
        "summary_lead" => t.summary_lead.clone(),
        "recommendations_intro" => t.recommendations_intro.clone(),
        "annex_offer" => t.annex_offer.clone(),
        "sharing" => t.sharing.clone(),
        "thanks" => t.thanks.clone(),
        "closing" => t.closing.clone(),
        "sign_off" => t.sign_off.clone(),
        "signature_role" => t.signature_role.clone(),
        "annex_heading" => t.annex_heading.clone(),
        _ => t.attribution.clone(),
    }
}

fn paragraphs(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect()
}

fn set_field(t: &mut LetterTemplate, name: &str, value: &str) {
    let value = value.replace("\r\n", "\n").trim().to_owned();
    match name {
        "sender" => t.sender = value,
        "title" => t.title = value,
        "opening" => t.opening = value,
        "statutory" => t.statutory = paragraphs(&value),
        "process" => t.process = paragraphs(&value),
        "threat_and_risk" => t.threat_and_risk = paragraphs(&value),
        "benchmark_5" => t.benchmark_5 = value,
        "year_on_year" => t.year_on_year = value,
        "summary_heading" => t.summary_heading = value,
        "summary_lead" => t.summary_lead = value,
        "recommendations_intro" => t.recommendations_intro = value,
        "annex_offer" => t.annex_offer = value,
        "sharing" => t.sharing = value,
        "thanks" => t.thanks = value,
        "closing" => t.closing = value,
        "sign_off" => t.sign_off = value,
        "signature_role" => t.signature_role = value,
        "annex_heading" => t.annex_heading = value,
        _ => t.attribution = value,
    }
}

#[derive(Template)]
#[template(path = "admin/letters.html")]
struct ListPage {
    chrome: Chrome,
    cycles: Vec<db::letters::CycleTemplate>,
}

impl ListPage {
    fn when(&self, t: &time::OffsetDateTime) -> String {
        crate::domain::uk_time(*t)
    }
}

async fn list(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let page = ListPage {
        chrome: Chrome::new(Some(&who), "/admin"),
        cycles: db::letters::cycles(&state.db).await?,
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "admin/letter_template.html")]
struct EditPage {
    chrome: Chrome,
    cycle: db::letters::CycleTemplate,
    template: LetterTemplate,
    version: i32,
    errors: Errors,
    saved: Option<i32>,
}

impl EditPage {
    fn fields(&self) -> &'static [(&'static str, &'static str, &'static str, bool)] {
        &FIELDS
    }
    fn value(&self, name: &str) -> String {
        get_field(&self.template, name)
    }
}

async fn cycle(state: &AppState, id: Uuid) -> AppResult<db::letters::CycleTemplate> {
    db::letters::cycles(&state.db)
        .await?
        .into_iter()
        .find(|c| c.cycle_id == id)
        .ok_or(AppError::NotFound)
}

#[derive(Deserialize)]
struct Saved {
    saved: Option<i32>,
}

async fn edit_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(saved): Query<Saved>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let cycle = cycle(&state, id).await?;
    let kept = db::letters::template_of_cycle(&state.db, id).await?;
    let page = EditPage {
        chrome: Chrome::new(Some(&who), "/admin"),
        version: kept.as_ref().map_or(0, |k| k.version),
        template: kept.map_or_else(letter::default_template, |k| k.template),
        cycle,
        errors: Errors::default(),
        saved: saved.saved,
    };
    Ok(Html(page.render()?).into_response())
}

async fn edit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let cycle = cycle(&state, id).await?;
    let value = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let mut template = letter::default_template();
    let mut errors = Errors::default();
    for (name, label, _, _) in FIELDS {
        set_field(&mut template, name, value(name));
        let text = get_field(&template, name);
        let optional = matches!(name, "year_on_year");
        if text.trim().is_empty() && !optional {
            errors.add(name, format!("Enter the text of “{label}”"));
        } else if text.chars().count() > 10_000 {
            errors.add(
                name,
                format!("“{label}” must be 10,000 characters or fewer"),
            );
        }
    }
    let expected = value("version").parse::<i32>().unwrap_or(-1);
    if errors.is_empty() {
        let mut tx = state.db.begin().await?;
        if let Some(version) =
            db::letters::save_template(&mut tx, id, expected, &template, who.user_id).await?
        {
            let mut e = event(
                Some(who.user_id),
                &who.email,
                ip,
                "letter_template.saved",
                "cycle",
            );
            e.entity_id = Some(id.to_string());
            e.after = Some(serde_json::json!({ "cycle": cycle.label, "version": version }));
            db::audit::record(&mut *tx, &e).await?;
            tx.commit().await?;
            return Ok(
                Redirect::to(&format!("/admin/letters/{id}?saved={version}")).into_response(),
            );
        }
        tx.rollback().await?;
        errors.add(
            "sender",
            "Someone saved a newer version of this template since you opened it, so yours was not saved. Your text is below: compare it with theirs on the list of templates and save again",
        );
    }
    let current = db::letters::template_of_cycle(&state.db, id)
        .await?
        .map_or(0, |k| k.version);
    let page = EditPage {
        chrome: Chrome::new(Some(&who), "/admin"),
        cycle,
        template,
        version: current,
        errors,
        saved: None,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}
