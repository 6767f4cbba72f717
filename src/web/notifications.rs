//! What people are told: their notifications (`/notifications`), the mail they choose on
//! `/account` and the one-click unsubscribe link in reminders and digests, and for
//! administrators the timetable and the mail that could not be sent (`/admin/notifications`).
//! A person's notifications and choices are their own: every statement here is scoped by the
//! signed-in person (or, for unsubscribing, by the token in their mail).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::Principal;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::db;
use crate::domain::uk_time;
use crate::error::{AppError, AppResult};
use crate::notify::message::Optional;
use crate::notify::schedule::JOBS;
use crate::web::account::event;
use crate::web::chrome::Chrome;
use crate::web::forms::{Form, Query};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read", post(read_all))
        .route("/notifications/{id}/read", post(read_one))
        .route("/account/mail", post(choose_mail))
        .route(
            "/unsubscribe/{token}/{what}",
            get(unsubscribe_form).post(unsubscribe),
        )
        .route("/admin/notifications", get(admin))
        .route("/admin/notifications/mail/{id}/retry", post(retry))
}

/// Notifications on a page.
const PAGE: i64 = 25;

pub struct Shown {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub link: String,
    pub when: String,
    pub unread: bool,
}

#[derive(Template)]
#[template(path = "notifications/list.html")]
struct ListPage {
    chrome: Chrome,
    shown: Vec<Shown>,
    unread: i64,
    older: Option<i64>,
    paged: bool,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct ListQuery {
    older: Option<String>,
    done: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<ListQuery>,
) -> AppResult<Response> {
    // A page link someone altered by hand is the first page, not an error.
    let before = q.older.as_deref().and_then(|o| o.parse::<i64>().ok());
    let mut rows = db::notices::for_user(&state.db, who.user_id, before, PAGE + 1).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let older = more.then(|| rows.last().map(|r| r.id)).flatten();
    let shown = rows
        .into_iter()
        .map(|n| Shown {
            id: n.id,
            title: n.title,
            body: n.body,
            link: n.link,
            when: uk_time(n.created_at),
            unread: n.read_at.is_none(),
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("read") => Some("Marked as read"),
        Some("all-read") => Some("All your notifications are marked as read"),
        _ => None,
    };
    let page = ListPage {
        chrome: Chrome::new(Some(&who), "/notifications"),
        unread: who.unread,
        shown,
        older,
        paged: before.is_some(),
        notice,
    };
    Ok(Html(page.render()?).into_response())
}

async fn read_one(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
    // Someone else's notification is not found: the statement only touches one's own.
    if db::notices::mark_read(&state.db, who.user_id, Some(id)).await? == 0 {
        let own = db::notices::for_user(&state.db, who.user_id, Some(id + 1), 1).await?;
        if own.first().is_none_or(|n| n.id != id) {
            return Err(AppError::NotFound);
        }
    }
    Ok(Redirect::to("/notifications?done=read").into_response())
}

async fn read_all(State(state): State<AppState>, who: Principal) -> AppResult<Response> {
    db::notices::mark_read(&state.db, who.user_id, None).await?;
    Ok(Redirect::to("/notifications?done=all-read").into_response())
}

#[derive(Deserialize)]
struct MailForm {
    /// The checkboxes: present when ticked.
    #[serde(default)]
    reminders: Option<String>,
    #[serde(default)]
    digests: Option<String>,
}

async fn choose_mail(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(form): Form<MailForm>,
) -> AppResult<Response> {
    let before = db::notices::preferences(&state.db, who.user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let (reminders, digests) = (form.reminders.is_some(), form.digests.is_some());
    let mut tx = state.db.begin().await?;
    db::notices::set_preferences(&mut *tx, who.user_id, reminders, digests).await?;
    let mut e = event(Some(who.user_id), &who.email, ip, "mail.chosen", "user");
    e.entity_id = Some(who.user_id.to_string());
    e.before = Some(serde_json::json!({
        "reminders": before.mail_reminders, "digests": before.mail_digests,
    }));
    e.after = Some(serde_json::json!({ "reminders": reminders, "digests": digests }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to("/account?done=mail#mail").into_response())
}

#[derive(Template)]
#[template(path = "notifications/unsubscribe.html")]
struct UnsubscribePage {
    chrome: Chrome,
    what: &'static str,
    action: String,
    /// Already off, or turned off now.
    stopped: bool,
}

async fn unsubscribe_form(
    State(state): State<AppState>,
    who: Option<Principal>,
    Path((token, what)): Path<(String, String)>,
) -> AppResult<Response> {
    let optional = Optional::from_code(&what).ok_or(AppError::NotFound)?;
    let person = db::notices::preferences_by_token(&state.db, &token)
        .await?
        .ok_or(AppError::NotFound)?;
    let on = match optional {
        Optional::Reminders => person.mail_reminders,
        Optional::Digests => person.mail_digests,
    };
    let page = UnsubscribePage {
        chrome: Chrome::new(who.as_ref(), ""),
        what: optional.label(),
        action: format!("/unsubscribe/{token}/{what}"),
        stopped: !on,
    };
    Ok(Html(page.render()?).into_response())
}

/// Turns the mail off: from the page's button, or from a mail program's one-click request
/// (RFC 8058), which carries no cookie and comes from no page of ours: the token is the
/// authority, and all it can do is this.
async fn unsubscribe(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Option<Principal>,
    Path((token, what)): Path<(String, String)>,
) -> AppResult<Response> {
    let optional = Optional::from_code(&what).ok_or(AppError::NotFound)?;
    let person = db::notices::preferences_by_token(&state.db, &token)
        .await?
        .ok_or(AppError::NotFound)?;
    let (reminders, digests) = match optional {
        Optional::Reminders => (false, person.mail_digests),
        Optional::Digests => (person.mail_reminders, false),
    };
    let mut tx = state.db.begin().await?;
    db::notices::set_preferences(&mut *tx, person.user_id, reminders, digests).await?;
    let mut e = event(
        Some(person.user_id),
        &person.email,
        ip,
        "mail.unsubscribed",
        "user",
    );
    e.entity_id = Some(person.user_id.to_string());
    e.after = Some(serde_json::json!({ "stopped": optional.code() }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    let page = UnsubscribePage {
        chrome: Chrome::new(who.as_ref(), ""),
        what: optional.label(),
        action: format!("/unsubscribe/{token}/{what}"),
        stopped: true,
    };
    Ok(Html(page.render()?).into_response())
}

pub struct JobRow {
    pub title: &'static str,
    pub when: String,
    pub last_run: String,
    pub last_result: String,
    pub next_run: String,
}

pub struct FailedMail {
    pub id: Uuid,
    pub to: String,
    pub subject: String,
    pub attempts: i32,
    pub error: String,
    pub given_up: String,
}

#[derive(Template)]
#[template(path = "admin/notifications.html")]
struct AdminPage {
    chrome: Chrome,
    scheduled: bool,
    smtp: bool,
    reminder_days: String,
    jobs: Vec<JobRow>,
    waiting: i64,
    retrying: i64,
    failed: Vec<FailedMail>,
    max_attempts: i32,
    notice: Option<&'static str>,
}

#[derive(Deserialize)]
struct AdminQuery {
    done: Option<String>,
}

async fn admin(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(q): Query<AdminQuery>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let timetable = &state.settings.timetable;
    let ran = db::notices::jobs(&state.db).await?;
    let now = OffsetDateTime::now_utc();
    let jobs = JOBS
        .iter()
        .map(|job| {
            let record = ran.iter().find(|r| r.name == job.name);
            JobRow {
                title: job.title,
                when: timetable.describe(job.every),
                last_run: record
                    .and_then(|r| r.last_run_at)
                    .map_or_else(|| "Not yet".to_owned(), uk_time),
                last_result: record.map(|r| r.last_result.clone()).unwrap_or_default(),
                next_run: if timetable.scheduled {
                    // A period not yet run for is due now (at the next look, within a minute).
                    let period = timetable.period(job.every, now);
                    if record
                        .and_then(|r| r.last_period)
                        .is_some_and(|p| p >= period)
                    {
                        uk_time(timetable.next(job.every, now))
                    } else {
                        "Within a minute".to_owned()
                    }
                } else {
                    "Not scheduled on this server".to_owned()
                },
            }
        })
        .collect();
    let (waiting, retrying) = db::outbox::waiting(&state.db).await?;
    let failed = db::outbox::given_up(&state.db, 100)
        .await?
        .into_iter()
        .map(|m| FailedMail {
            id: m.id,
            to: m.to_address,
            subject: m.subject,
            attempts: m.attempts,
            error: m.last_error.unwrap_or_default(),
            given_up: m.given_up_at.map(uk_time).unwrap_or_default(),
        })
        .collect();
    let page = AdminPage {
        chrome: Chrome::new(Some(&who), "/admin/notifications"),
        scheduled: timetable.scheduled,
        smtp: state.settings.smtp,
        reminder_days: timetable.reminder_days_words(),
        jobs,
        waiting,
        retrying,
        failed,
        max_attempts: state.settings.retries.max_attempts,
        notice: (q.done.as_deref() == Some("retry")).then_some("The mail will be tried again now"),
    };
    Ok(Html(page.render()?).into_response())
}

async fn retry(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<String>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let id = id.parse::<Uuid>().map_err(|_| AppError::NotFound)?;
    let mut tx = state.db.begin().await?;
    if db::outbox::retry(&mut *tx, id).await? {
        let mut e = event(Some(who.user_id), &who.email, ip, "mail.retried", "mail");
        e.entity_id = Some(id.to_string());
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/admin/notifications?done=retry").into_response())
}
