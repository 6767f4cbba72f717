//! The assurance letter: a page that prints on A4, and the same letter as a Word document. The
//! adviser previews it at any time (marked as a draft) and writes its addressee, copy list and
//! personal lines; once published it is kept as it was and shown to the council.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::documents::letter::{self, AdviserText, AnnexRow, Facts, Letter, PartKind};
use crate::domain::Score;
use crate::error::{AppError, AppResult};
use crate::scoring::{Band, summary};
use crate::web::account::event;
use crate::web::assessments::{
    content_disposition, framework, object, scope_event, shown_head, visible_head,
};
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::forms::{Form, Query};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}/letter", get(page))
        .route("/assessments/{id}/letter.docx", get(word))
        .route("/assessments/{id}/letter/edit", get(edit_form).post(edit))
}

/// The adviser's lines until they write their own: the first lead as addressee, the others
/// and the board copied, thanks to whoever submitted the self-assessment.
fn default_text(people: &db::assessments::LetterPeople, head: &Head) -> AdviserText {
    let mut leads = people.leads.iter();
    let to = leads.next().cloned().unwrap_or_default();
    let first = to.split_whitespace().next().unwrap_or_default().to_owned();
    let cc: Vec<&str> = leads
        .chain(people.board.iter())
        .map(String::as_str)
        .collect();
    let thanked = head.submitted_by.clone().unwrap_or_else(|| to.clone());
    AdviserText {
        addressee: to.clone(),
        salutation: if first.is_empty() {
            "Dear Prevent lead".to_owned()
        } else {
            format!("Dear {first}")
        },
        cc: cc.join(", "),
        thanks: if thanked.is_empty() {
            String::new()
        } else {
            format!(
                "I would like to thank {thanked} for engaging with this process, including completing and returning the self-assessment, and for their time in discussing their scoring with me."
            )
        },
        extra: String::new(),
    }
}

/// What a letter is written from: the template and the adviser's lines as kept, and the facts.
struct Sources {
    stored: Option<db::letters::Stored>,
    text: AdviserText,
    template: db::letters::Kept,
    facts: Facts,
}

/// Gathers what the letter says now, in five statements; `at` dates it.
async fn sources(state: &AppState, head: &Head, at: OffsetDateTime) -> AppResult<Sources> {
    let fw = framework(state, head)?;
    let people = db::assessments::letter_people(&state.db, head.id).await?;
    let rows = db::assessments::review_rows(&state.db, head.id).await?;
    let recommendations = db::assessments::recommendations(&state.db, head.id).await?;
    let stored = db::letters::stored(&state.db, head.id).await?;
    let template = db::letters::template_of_assessment(&state.db, head.id)
        .await?
        .unwrap_or_else(|| db::letters::Kept {
            version: 0,
            template: letter::default_template(),
        });
    let mut bands = Vec::new();
    let mut annex = Vec::new();
    let mut benchmark_5_not_scored = false;
    for section in &fw.sections {
        let Some(r) = rows.iter().find(|r| r.number as u32 == section.number) else {
            continue;
        };
        let score = r
            .agreed_score
            .and_then(|s| u8::try_from(s).ok())
            .and_then(Score::new);
        if let Some(score) = score {
            bands.push(Band::of(score));
        }
        if section.number == 5 && score.is_none() {
            benchmark_5_not_scored = true;
        }
        annex.push(AnnexRow {
            number: section.number,
            title: section.title.clone(),
            standard: section.standard.clone().unwrap_or_default(),
            score: score.map_or_else(|| "N/A".to_owned(), |s| s.to_string()),
            summary: r.adviser_summary.clone(),
        });
    }
    let start: i32 = head
        .cycle_label
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(0);
    let text = stored
        .as_ref()
        .map_or_else(|| default_text(&people, head), |s| s.text.clone());
    let facts = Facts {
        council: head.organisation_name.clone(),
        region: people.region_name.clone(),
        year: format!("{start}/{}", start + 1),
        // The day in the UK, where the letter is written and read.
        date: crate::domain::uk_date(at),
        adviser: people
            .adviser
            .clone()
            .unwrap_or_else(|| "Regional Prevent Adviser".to_owned()),
        summary: summary(&head.organisation_name, &bands),
        recommendations: recommendations.into_iter().map(|(_, t)| t).collect(),
        benchmark_5_not_scored,
        annex,
        draft: head.state != "published",
        template_version: template.version,
    };
    Ok(Sources {
        stored,
        text,
        template,
        facts,
    })
}

/// Writes the letter as published and keeps it, within the publishing transaction: from then
/// on it is shown as kept, whatever changes.
pub(crate) async fn freeze(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    head: &Head,
    by: Uuid,
) -> AppResult<()> {
    freeze_at(tx, state, head, OffsetDateTime::now_utc(), Some(by)).await
}

/// Writes the letter as published on `at` and keeps it, unless one is kept already.
async fn freeze_at(
    conn: &mut sqlx::PgConnection,
    state: &AppState,
    head: &Head,
    at: OffsetDateTime,
    by: Option<Uuid>,
) -> AppResult<()> {
    let mut sources = sources(state, head, at).await?;
    sources.facts.draft = false;
    let letter = letter::compose(&sources.template.template, &sources.text, &sources.facts);
    db::letters::publish(conn, head.id, &sources.text, &letter, at, by).await?;
    Ok(())
}

/// The letter as it stands for this person: as kept once published (to anyone who may see
/// the assessment), else a draft for the adviser; nobody else sees it before it is issued.
async fn current(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
) -> AppResult<(Head, Letter, OffsetDateTime, bool)> {
    // The kept head and letter: both follow every change (the letter's own, migration 0023).
    let head = shown_head(state, who, ip, id).await?;
    // A Channel statement has no letter: the Channel team accepts or returns it.
    if head.channel {
        return Err(AppError::NotFound);
    }
    let may_review = policy::allows(who, Action::Review, object(&head));
    if head.state == "published" {
        let stored = state.caches.letter(&state.db, &head).await?;
        if let Some(s) = stored.as_ref()
            && let (Some(letter), Some(at)) = (&s.published, s.published_at)
        {
            return Ok((head, letter.clone(), at, false));
        }
        // Published before letters were kept (imported or generated data): kept now, dated
        // when it was published, and the same from then on. Two first readers at once write
        // the same letter; the one kept first stands.
        let at = db::letters::published_at(&state.db, id)
            .await?
            .unwrap_or_else(OffsetDateTime::now_utc);
        let mut conn = state.db.acquire().await?;
        freeze_at(&mut conn, state, &head, at, None).await?;
        drop(conn);
        let kept = db::letters::stored(&state.db, id)
            .await?
            .and_then(|s| s.published.zip(s.published_at))
            .ok_or(AppError::NotFound)?;
        return Ok((head, kept.0, kept.1, false));
    }
    if !may_review || head.state == "draft" {
        return Err(AppError::NotFound);
    }
    let now = OffsetDateTime::now_utc();
    let sources = sources(state, &head, now).await?;
    let letter = letter::compose(&sources.template.template, &sources.text, &sources.facts);
    let editable = head_editable(&head);
    Ok((head, letter, now, editable))
}

/// The adviser may change the letter's own lines until it is published.
fn head_editable(head: &Head) -> bool {
    matches!(head.state.as_str(), "submitted" | "in_review" | "agreed")
}

#[derive(Template)]
#[template(path = "letter/letter.html")]
struct LetterPage {
    chrome: Chrome,
    head: Head,
    letter: Letter,
    may_edit: bool,
    saved: bool,
}

impl LetterPage {
    fn paragraph<'a>(&self, kind: &'a PartKind) -> Option<&'a str> {
        match kind {
            PartKind::Paragraph { text } => Some(text),
            _ => None,
        }
    }
    fn heading<'a>(&self, kind: &'a PartKind) -> Option<&'a str> {
        match kind {
            PartKind::Heading { text } => Some(text),
            _ => None,
        }
    }
    fn items<'a>(&self, kind: &'a PartKind) -> &'a [String] {
        match kind {
            PartKind::Numbered { items } => items,
            _ => &[],
        }
    }
}

#[derive(Deserialize)]
struct Done {
    done: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let (head, letter, _, may_edit) = current(&state, &who, ip, id).await?;
    let page = LetterPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        letter,
        may_edit,
        saved: done.done.as_deref() == Some("saved"),
    };
    Ok(Html(page.render()?).into_response())
}

async fn word(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let (head, letter, at, _) = current(&state, &who, ip, id).await?;
    let created = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let bytes = letter::docx(&letter, &created).map_err(AppError::Internal)?;
    let name = format!(
        "{}Prevent assurance letter {} {}.docx",
        if letter.draft { "DRAFT " } else { "" },
        head.organisation_name,
        head.cycle_label.replace('/', "-")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_owned(),
            ),
            (header::CONTENT_DISPOSITION, content_disposition(&name)),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

// ----- The adviser's lines ----------------------------------------------------------------

#[derive(Template)]
#[template(path = "letter/edit.html")]
struct EditPage {
    chrome: Chrome,
    head: Head,
    text: AdviserText,
    version: i32,
    errors: Errors,
}

impl EditPage {
    fn value(&self, name: &str) -> &str {
        match name {
            "addressee" => &self.text.addressee,
            "salutation" => &self.text.salutation,
            "cc" => &self.text.cc,
            "thanks" => &self.text.thanks,
            _ => &self.text.extra,
        }
    }
}

/// The assessment, if this person writes its letter now (the region's adviser, before it is
/// published).
async fn writable(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
) -> AppResult<Head> {
    let head = visible_head(state, who, ip, id).await?;
    authorise(state, who, ip, Action::Review, object(&head)).await?;
    if !head_editable(&head) {
        return Err(AppError::NotFound);
    }
    Ok(head)
}

async fn edit_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = writable(&state, &who, ip, id).await?;
    let sources = sources(&state, &head, OffsetDateTime::now_utc()).await?;
    let page = EditPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        version: sources.stored.as_ref().map_or(0, |s| s.version),
        text: sources.text,
        head,
        errors: Errors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    addressee: String,
    #[serde(default)]
    salutation: String,
    #[serde(default)]
    cc: String,
    #[serde(default)]
    thanks: String,
    #[serde(default)]
    extra: String,
    #[serde(default)]
    version: String,
}

async fn edit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Form(form): Form<EditForm>,
) -> AppResult<Response> {
    let head = writable(&state, &who, ip, id).await?;
    let text = AdviserText {
        addressee: form.addressee.replace("\r\n", "\n").trim().to_owned(),
        salutation: form.salutation.trim().to_owned(),
        cc: form.cc.trim().to_owned(),
        thanks: form.thanks.replace("\r\n", "\n").trim().to_owned(),
        extra: form.extra.replace("\r\n", "\n").trim().to_owned(),
    };
    let version = form.version.parse::<i32>().unwrap_or(-1);
    let mut errors = Errors::default();
    if text.addressee.is_empty() {
        errors.add("addressee", "Enter who the letter is to");
    }
    for (field, value, max) in [
        ("addressee", &text.addressee, 500),
        ("salutation", &text.salutation, 200),
        ("cc", &text.cc, 1000),
        ("thanks", &text.thanks, 2000),
        ("extra", &text.extra, 5000),
    ] {
        if value.chars().count() > max {
            errors.add(field, format!("This must be {max} characters or fewer"));
        }
    }
    if errors.is_empty() {
        let mut tx = state.db.begin().await?;
        if db::letters::save_text(&mut tx, id, version, &text, who.user_id).await? {
            let mut e = event(
                Some(who.user_id),
                &who.email,
                ip,
                "letter.edited",
                "assessment",
            );
            scope_event(&mut e, &head, id);
            e.after = Some(serde_json::to_value(&text).unwrap_or_default());
            crate::db::audit::record(&mut *tx, &e).await?;
            tx.commit().await?;
            return Ok(
                Redirect::to(&format!("/assessments/{id}/letter?done=saved")).into_response(),
            );
        }
        tx.rollback().await?;
        errors.add(
            "addressee",
            "Someone changed this letter since you opened this page, so your changes were not saved. They are below: check them against the letter and save again",
        );
    }
    let stored_version = db::letters::stored(&state.db, id)
        .await?
        .map_or(0, |s| s.version);
    let page = EditPage {
        chrome: Chrome::new(Some(&who), "/assessments"),
        head,
        text,
        version: stored_version,
        errors,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response())
}
