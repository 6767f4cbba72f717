//! The Channel statement as a whole: the page that prints in the seed's layout (per key area a
//! table of statement, compliance rating, evidence or further details, and areas for
//! improvement with timescales; then the declaration and the sign-off), the signatory's page
//! that shows it with the declaration and signs it, and the lead's request for sign-off.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{self, Action};
use crate::auth::session::ClientIp;
use crate::db;
use crate::db::assessments::Head;
use crate::db::sign_offs::{SignOff, Signature};
use crate::error::{AppError, AppResult};
use crate::framework::Framework;
use crate::web::account::event;
use crate::web::assessments::{
    Done, framework, object, scope_event, shown_head, state_label_of, visible_head,
};
use crate::web::chrome::Chrome;
use crate::web::forms::Query;
use crate::web::forms::{Errors, Form};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}/statement", get(page))
        .route("/assessments/{id}/statement.docx", get(word))
        .route("/assessments/{id}/sign-off", get(sign_form).post(sign))
        .route("/assessments/{id}/sign-off/request", post(request))
}

/// One statement's row.
pub struct Line {
    pub code: String,
    pub text: String,
    pub footnotes: Vec<String>,
    /// "Green", "N/A", or "Not rated".
    pub rating: String,
    pub rating_code: String,
    pub evidence: String,
    /// Its own fields, as "label: value".
    pub fields: Vec<(String, String)>,
    /// Areas for improvement: (what, timescale).
    pub improvements: Vec<(String, String)>,
}

/// One key area's table.
pub struct Area {
    pub number: u32,
    pub title: String,
    pub evidence_label: String,
    pub lines: Vec<Line>,
    /// Areas for improvement on the key area as a whole.
    pub improvements: Vec<(String, String)>,
}

/// The statement as the council returns it.
pub struct Statement {
    pub title: String,
    pub areas: Vec<Area>,
    pub declaration: String,
    pub sign_off: Option<SignOff>,
}

impl Statement {
    /// Each key area's counts of Green, Amber, Red, N/A and unrated, for summaries.
    pub fn ratings_of(&self, area: &Area) -> Vec<(String, usize)> {
        let mut out: Vec<(String, usize)> = Vec::new();
        for l in &area.lines {
            match out.iter_mut().find(|(r, _)| *r == l.rating) {
                Some((_, n)) => *n += 1,
                None => out.push((l.rating.clone(), 1)),
            }
        }
        out
    }
}

/// Reads the statement: its contents (answers and actions) and the sign-off, kept until the
/// council's data changes, or asked of the database at once (two statements side by side).
pub async fn load(state: &AppState, head: &Head, fw: &Framework) -> AppResult<Statement> {
    let today = time::OffsetDateTime::now_utc().date();
    let (contents, sign_off) = tokio::try_join!(
        state.caches.contents(&state.db, head, true, today),
        state.caches.sign_off(&state.db, head),
    )?;
    let db::assessments::Contents {
        answers, actions, ..
    } = contents.as_ref();
    let sign_off = sign_off.as_ref().clone();
    let improvement = |a: &db::actions::Row| {
        let target = if a.target_text.is_empty() {
            "No timescale".to_owned()
        } else {
            a.target_text.clone()
        };
        (a.description.clone(), target)
    };
    let areas = fw
        .sections
        .iter()
        .map(|s| Area {
            number: s.number,
            title: s.title.clone(),
            evidence_label: s
                .evidence_label
                .clone()
                .unwrap_or_else(|| "Evidence".to_owned()),
            lines: s
                .items
                .iter()
                .map(|item| {
                    let answer = answers.iter().find(|a| a.code == item.code);
                    let rating = answer
                        .and_then(|a| a.status.as_deref())
                        .and_then(|code| fw.rating(code));
                    Line {
                        code: item.code.clone(),
                        text: item.text.clone(),
                        footnotes: if fw.prompts_are_footnotes {
                            item.prompts.clone()
                        } else {
                            Vec::new()
                        },
                        rating: rating.map_or_else(|| "Not rated".to_owned(), |r| r.label.clone()),
                        rating_code: rating.map_or_else(String::new, |r| r.code.clone()),
                        evidence: answer.map(|a| a.evidence.clone()).unwrap_or_default(),
                        fields: item
                            .fields
                            .iter()
                            .map(|f| {
                                let value = answer
                                    .and_then(|a| a.fields.get(&f.code))
                                    .cloned()
                                    .unwrap_or_else(|| "Not given".to_owned());
                                (f.label.clone(), value)
                            })
                            .collect(),
                        improvements: actions
                            .iter()
                            .filter(|a| a.item_code.as_deref() == Some(&item.code))
                            .filter(|a| a.status != "cancelled")
                            .map(improvement)
                            .collect(),
                    }
                })
                .collect(),
            improvements: actions
                .iter()
                .filter(|a| a.number == Some(s.number as i32) && a.item_code.is_none())
                .filter(|a| a.status != "cancelled")
                .map(improvement)
                .collect(),
        })
        .collect();
    Ok(Statement {
        title: format!("{} – {}", fw.title, head.cycle_label),
        areas,
        declaration: fw.declaration.clone().unwrap_or_default(),
        sign_off,
    })
}

/// The statement of an assessment that is one, for someone who may see it: the database's
/// answer (for a change), or, `shown`, the kept copy (for a page that only shows it).
async fn channel_head(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    id: Uuid,
    shown: bool,
) -> AppResult<Head> {
    let head = if shown {
        shown_head(state, who, ip, id).await?
    } else {
        visible_head(state, who, ip, id).await?
    };
    if !head.channel {
        return Err(AppError::NotFound);
    }
    Ok(head)
}

pub(crate) fn panel_words(s: &SignOff) -> String {
    match s.panel.as_deref() {
        Some("combined") => format!("Combined panel, with {}", s.combined_with),
        Some(_) => "Single local authority panel".to_owned(),
        None => String::new(),
    }
}

#[derive(Template)]
#[template(path = "statement/statement.html")]
struct StatementPage {
    chrome: Chrome,
    head: Head,
    signed_now: bool,
    state_label: &'static str,
    statement: Statement,
    may_sign: bool,
}

impl StatementPage {
    fn panel(&self, s: &SignOff) -> String {
        panel_words(s)
    }
    fn when(&self, at: &OffsetDateTime) -> String {
        crate::domain::uk_date(*at)
    }
}

async fn page(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let head = channel_head(&state, &who, ip, id, true).await?;
    let fw = framework(&state, &head)?;
    let statement = load(&state, &head, fw).await?;
    let page = StatementPage {
        signed_now: done.done.as_deref() == Some("signed"),
        chrome: Chrome::new(Some(&who), "/assessments"),
        state_label: state_label_of(true, &head.state),
        may_sign: policy::allows(&who, Action::SignOff, object(&head)),
        head,
        statement,
    };
    Ok(Html(page.render()?).into_response())
}

/// The statement as data for its Word document.
fn document(head: &Head, statement: &Statement) -> crate::documents::statement::Statement {
    use crate::documents::statement as doc;
    let improvements = |list: &[(String, String)]| -> Vec<String> {
        list.iter()
            .map(|(what, when)| format!("{what} ({when})"))
            .collect()
    };
    let sign_off = match statement.sign_off.as_ref().filter(|s| s.signed()) {
        Some(s) => vec![
            ("Signed".to_owned(), s.signer_name.clone()),
            (
                "Date".to_owned(),
                s.signed_at.map(crate::domain::uk_date).unwrap_or_default(),
            ),
            ("Position".to_owned(), s.position.clone()),
            ("Local Authority".to_owned(), s.local_authority.clone()),
            ("Single or combined panel".to_owned(), panel_words(s)),
        ],
        None => vec![("Signed".to_owned(), "Not signed".to_owned())],
    };
    doc::Statement {
        title: statement.title.clone(),
        council: head.organisation_name.clone(),
        draft: head.state == "draft",
        areas: statement
            .areas
            .iter()
            .map(|a| {
                let mut rows: Vec<doc::Row> = a
                    .lines
                    .iter()
                    .map(|l| {
                        let mut text = vec![format!("{} {}", l.code, l.text)];
                        text.extend(l.footnotes.iter().map(|f| format!("Note: {f}")));
                        text.extend(l.fields.iter().map(|(k, v)| format!("{k}: {v}")));
                        doc::Row {
                            statement: text,
                            rating: l.rating.clone(),
                            evidence: l.evidence.clone(),
                            improvements: improvements(&l.improvements),
                        }
                    })
                    .collect();
                if !a.improvements.is_empty() {
                    rows.push(doc::Row {
                        statement: vec!["For the key area as a whole".to_owned()],
                        rating: String::new(),
                        evidence: String::new(),
                        improvements: improvements(&a.improvements),
                    });
                }
                doc::Area {
                    heading: format!("{}. Key area of control – {}", a.number, a.title),
                    evidence_label: a.evidence_label.clone(),
                    rows,
                }
            })
            .collect(),
        declaration: statement.declaration.clone(),
        sign_off,
    }
}

async fn word(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    use axum::http::header;
    let head = channel_head(&state, &who, ip, id, true).await?;
    let fw = framework(&state, &head)?;
    let statement = load(&state, &head, fw).await?;
    let today = OffsetDateTime::now_utc().date();
    let bytes = crate::documents::statement::docx(
        &document(&head, &statement),
        &format!("{today}T00:00:00Z"),
    )
    .map_err(AppError::Internal)?;
    let name = format!(
        "{}-channel-statement-{}.docx",
        head.organisation_slug,
        head.cycle_label.replace('/', "-")
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
                    .to_owned(),
            ),
            (
                header::CONTENT_DISPOSITION,
                crate::web::assessments::content_disposition(&name),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

// ----- Asking for sign-off --------------------------------------------------------------------

async fn request(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    let head = channel_head(&state, &who, ip, id, false).await?;
    authorise(&state, &who, ip, Action::RequestSignOff, object(&head)).await?;
    let mut tx = state.db.begin().await?;
    db::sign_offs::request(&mut tx, id, who.user_id).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "sign_off.requested",
        "assessment",
    );
    scope_event(&mut e, &head, id);
    db::audit::record(&mut *tx, &e).await?;
    crate::notify::tell(
        &mut *tx,
        crate::notify::Kind::SignOffRequested,
        id,
        who.user_id,
        None,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}?done=sign-off-requested")).into_response())
}

// ----- Signing ----------------------------------------------------------------------------------

/// The signatory's fields, as typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SignForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    local_authority: String,
    #[serde(default)]
    panel: String,
    #[serde(default)]
    combined_with: String,
    #[serde(default)]
    declare: String,
    /// The statement's content version the page showed (see `db::sign_offs::sign`).
    #[serde(default)]
    read: String,
}

#[derive(Template)]
#[template(path = "statement/sign.html")]
struct SignPage {
    chrome: Chrome,
    head: Head,
    statement: Statement,
    typed: SignForm,
    errors: Errors,
    today: String,
    /// Nobody has asked for sign-off yet.
    not_asked: bool,
}

impl SignPage {
    fn panel(&self, s: &SignOff) -> String {
        panel_words(s)
    }
    fn when(&self, at: &OffsetDateTime) -> String {
        crate::domain::uk_date(*at)
    }
}

async fn sign_page(
    state: &AppState,
    who: &Principal,
    head: Head,
    typed: SignForm,
    errors: Errors,
    status: StatusCode,
) -> AppResult<Response> {
    let fw = framework(state, &head)?;
    let statement = load(state, &head, fw).await?;
    let page = SignPage {
        chrome: Chrome::new(Some(who), "/assessments"),
        not_asked: statement.sign_off.is_none(),
        today: crate::domain::uk_date(OffsetDateTime::now_utc()),
        head,
        statement,
        typed,
        errors,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn sign_form(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(_done): Query<Done>,
) -> AppResult<Response> {
    let head = channel_head(&state, &who, ip, id, true).await?;
    if !policy::allows(&who, Action::SignOff, object(&head)) {
        return Ok(Redirect::to(&format!("/assessments/{id}/statement")).into_response());
    }
    let typed = SignForm {
        name: who.display_name.clone(),
        local_authority: head.organisation_name.clone(),
        ..SignForm::default()
    };
    sign_page(&state, &who, head, typed, Errors::default(), StatusCode::OK).await
}

async fn sign(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Form(typed): Form<SignForm>,
) -> AppResult<Response> {
    let head = channel_head(&state, &who, ip, id, false).await?;
    authorise(&state, &who, ip, Action::SignOff, object(&head)).await?;
    let mut errors = Errors::default();
    let text = |v: &str| v.trim().to_owned();
    let (name, position, authority, with) = (
        text(&typed.name),
        text(&typed.position),
        text(&typed.local_authority),
        text(&typed.combined_with),
    );
    if name.is_empty() {
        errors.add("name", "Enter your name as you sign");
    }
    if position.is_empty() {
        errors.add("position", "Enter your position, like Chief Executive");
    }
    if authority.is_empty() {
        errors.add("local_authority", "Enter the local authority");
    }
    for (field, value) in [
        ("name", &name),
        ("position", &position),
        ("local_authority", &authority),
        ("combined_with", &with),
    ] {
        if value.chars().count() > 300 {
            errors.add(field, "This must be 300 characters or fewer");
        }
    }
    match typed.panel.as_str() {
        "single" => {}
        "combined" if with.is_empty() => errors.add(
            "combined_with",
            "Name the other authorities the combined panel serves",
        ),
        "combined" => {}
        _ => errors.add(
            "panel",
            "Say whether the panel is a single or a combined panel",
        ),
    }
    if typed.declare != "yes" {
        errors.add("declare", "Confirm the declaration to sign the statement");
    }
    if !errors.is_empty() {
        return sign_page(
            &state,
            &who,
            head,
            typed,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let signature = Signature {
        name,
        position,
        local_authority: authority,
        panel: typed.panel.clone(),
        combined_with: if typed.panel == "combined" {
            with
        } else {
            String::new()
        },
    };
    let read: i32 = typed.read.trim().parse().unwrap_or(-1);
    let mut tx = state.db.begin().await?;
    if !db::sign_offs::sign(&mut tx, id, who.user_id, &signature, read).await? {
        tx.rollback().await?;
        let now = db::sign_offs::get(&state.db, id).await?;
        let changed = now
            .as_ref()
            .is_some_and(|s| s.content_version != read && head.state == "draft");
        errors.add(
            "declare",
            if changed {
                "The statement was changed while you were reading it, so nothing was signed: read it again below (it shows the change), then sign"
            } else {
                "The lead has not asked for sign-off, or the statement has been submitted since you opened this page: nothing was signed"
            },
        );
        // The page shows the statement as it is now: every change committed before this
        // moment heard (made on another server too), so the kept copies hold it.
        state.caches.settle(&state.db).await;
        return sign_page(&state, &who, head, typed, errors, StatusCode::CONFLICT).await;
    }
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "sign_off.signed",
        "assessment",
    );
    scope_event(&mut e, &head, id);
    e.after = Some(serde_json::json!({
        "name": signature.name, "position": signature.position,
        "local_authority": signature.local_authority, "panel": signature.panel,
        "combined_with": signature.combined_with,
    }));
    db::audit::record(&mut *tx, &e).await?;
    crate::notify::tell(&mut *tx, crate::notify::Kind::Signed, id, who.user_id, None).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/assessments/{id}/statement?done=signed")).into_response())
}
