//! Signing in and out, the account page, invitations and password resets.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::PgPool;
use sqlx::types::ipnetwork::IpNetwork;
use uuid::Uuid;

use crate::app::{AppState, Settings};
use crate::auth::session::{self, ClientIp};
use crate::auth::{Membership, Principal, Role, hash_token, new_token, password};
use crate::config::Secret;
use crate::db;
use crate::db::audit::NewEvent;
use crate::db::tokens::Purpose;
use crate::error::{AppError, AppResult};
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, is_email};
use crate::web::forms::{Form, Query};

/// An invitation link lasts a week; a reset link an hour.
pub const INVITATION_MINUTES: i32 = 7 * 24 * 60;
pub const RESET_MINUTES: i32 = 60;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_form).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/account/sign-out-everywhere", post(sign_out_everywhere))
        .route(
            "/invitations/{token}",
            get(invitation_form).post(accept_invitation),
        )
        .route(
            "/password-reset",
            get(reset_request_form).post(request_reset),
        )
        .route(
            "/password-reset/{token}",
            get(reset_form).post(reset_password),
        )
}

fn html(page: impl Template) -> AppResult<Response> {
    Ok(Html(page.render()?).into_response())
}

fn with_status(status: StatusCode, page: impl Template) -> AppResult<Response> {
    Ok((status, Html(page.render()?)).into_response())
}

/// An audit event by someone (or, before sign-in, by an address typed into a form).
pub fn event(
    actor_id: Option<Uuid>,
    label: &str,
    ip: Option<IpNetwork>,
    action: &'static str,
    entity_type: &'static str,
) -> NewEvent {
    NewEvent {
        actor_id,
        actor_label: label.chars().take(254).collect(),
        ip,
        action,
        entity_type,
        ..NewEvent::default()
    }
}

// ----- Signing in -------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account/login.html")]
struct LoginPage {
    chrome: Chrome,
    errors: Errors,
    email: String,
    notice: Option<&'static str>,
    /// The notice is news to act on (sign in again), not a success.
    important: bool,
    /// After signing out of a session opened through a provider: its name and its
    /// end-session link.
    provider_sign_out: Option<(String, String)>,
}

#[derive(Deserialize)]
struct LoginQuery {
    done: Option<String>,
}

async fn login_form(who: Option<Principal>, Query(q): Query<LoginQuery>) -> AppResult<Response> {
    if who.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let notice = match q.done.as_deref() {
        Some("reset") => Some("Your password has been changed. Sign in with your new password."),
        Some("signed-out") => Some("You have been signed out."),
        Some("code-expired") => {
            Some("Sign in again: the 10 minutes for entering your code ran out.")
        }
        Some("code-tries") => Some("Sign in again: there were too many wrong codes."),
        _ => None,
    };
    html(LoginPage {
        chrome: Chrome::default(),
        errors: Errors::default(),
        email: String::new(),
        notice,
        important: q.done.as_deref().is_some_and(|d| d.starts_with("code-")),
        provider_sign_out: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let email = form.email.trim().to_owned();
    let page = |errors: Errors| LoginPage {
        chrome: Chrome::default(),
        errors,
        email: email.clone(),
        notice: None,
        important: false,
        provider_sign_out: None,
    };
    let mut errors = Errors::default();
    if email.is_empty() {
        errors.add("email", "Enter your email address");
    } else if let Some(provider) = crate::web::sso::provider_for_email(&state, &email).await? {
        // This organisation signs in with its own accounts: the password is not asked for.
        return crate::web::sso::send_to_provider(&state, &provider, &email).await;
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if !errors.is_empty() {
        return with_status(StatusCode::UNPROCESSABLE_ENTITY, page(errors));
    }
    let settings = &state.settings;
    let network_held = match ip {
        Some(ip) => {
            db::sessions::recent_failures_from(&state.db, ip, 15).await?
                >= settings.sign_in_limit_per_ip
        }
        None => false,
    };
    let account = db::users::credentials(&state.db, &email).await?;
    // Too many failures with this address, whoever typed them: counted on the address as
    // typed, so that one with no account is answered exactly like one with an account.
    let failures =
        db::sessions::recent_failures_for(&state.db, &email.to_lowercase(), settings.lock_minutes)
            .await?;
    // Only the count on the address decides (never the account's own record), so that an
    // address with an account is held back, and told so, exactly as one without.
    let held = failures >= i64::from(settings.lock_after);
    // A browser this account signed in from before still gets in with the right password: a
    // stranger's wrong passwords cannot keep the officer out.
    let device = session::presented_device(&headers, settings.secure_cookies);
    let known = match (&account, &device) {
        (Some(a), Some(d)) if held || network_held => {
            db::sessions::known_device(&state.db, d, a.id).await?
        }
        _ => false,
    };
    // Too many failures from the network (someone else behind the same address, perhaps):
    // it waits, but not a browser this account has signed in from before.
    if network_held && !known {
        db::audit::record(
            &state.db,
            &event(None, &email, ip, "sign_in.rate_limited", "session"),
        )
        .await?;
        let mut errors = Errors::default();
        errors.add("email", "There have been too many failed sign-ins from your network. Wait 15 minutes, then try again");
        return with_status(StatusCode::TOO_MANY_REQUESTS, page(errors));
    }
    let locked = held && !known;
    let locked_message = "There have been too many failed sign-ins with this email address. Wait 15 minutes, then try again, or sign in from a device you have signed in on before";
    // Verify even when the account is unknown or held back, so the time taken tells nothing.
    let hash = account
        .as_ref()
        .filter(|_| !locked)
        .and_then(|a| a.password_hash.clone());
    let matches = password::verify(Secret::new(form.password), hash).await;
    let succeeded = matches && !locked && account.as_ref().is_some_and(|a| !a.disabled);
    db::sessions::record_attempt(&state.db, ip, &email.to_lowercase(), succeeded).await?;

    let Some(account) = account else {
        let action = if locked {
            "sign_in.refused_locked"
        } else {
            "sign_in.failed"
        };
        db::audit::record(&state.db, &event(None, &email, ip, action, "session")).await?;
        let mut errors = Errors::default();
        // The same words as for an account, at the same count.
        if locked || failures + 1 >= i64::from(settings.lock_after) {
            errors.add("email", locked_message);
        } else {
            errors.add("email", "The email address or password is not right");
        }
        return with_status(StatusCode::UNPROCESSABLE_ENTITY, page(errors));
    };
    let actor = |action| {
        let mut e = event(Some(account.id), &account.email, ip, action, "user");
        e.entity_id = Some(account.id.to_string());
        e
    };
    if locked {
        db::audit::record(&state.db, &actor("sign_in.refused_locked")).await?;
        let mut errors = Errors::default();
        errors.add("email", locked_message);
        return with_status(StatusCode::UNPROCESSABLE_ENTITY, page(errors));
    }
    if !succeeded {
        let now_locked = failures + 1 >= i64::from(settings.lock_after);
        db::users::record_failure(&state.db, account.id, now_locked, settings.lock_minutes).await?;
        db::audit::record(&state.db, &actor("sign_in.failed")).await?;
        let mut errors = Errors::default();
        if now_locked {
            db::audit::record(&state.db, &actor("account.locked")).await?;
            errors.add("email", locked_message);
        } else {
            errors.add("email", "The email address or password is not right");
        }
        return with_status(StatusCode::UNPROCESSABLE_ENTITY, page(errors));
    }
    db::users::record_success(&state.db, account.id).await?;
    // The password was right: a second factor comes next where the account has one or its
    // roles require one (set up first, then).
    if let Some(next) = crate::web::second_factor::after_password(
        &state,
        account.id,
        &account.email,
        ip,
        "sign_in.password_accepted",
    )
    .await?
    {
        return Ok(next);
    }
    complete_sign_in(&state, account.id, &account.email, ip, &headers, known).await
}

/// Starts the session (a new id: any the browser had is ended), makes the browser known to the
/// account, records the sign-in and goes to the start page.
pub async fn complete_sign_in(
    state: &AppState,
    user: Uuid,
    email: &str,
    ip: Option<IpNetwork>,
    headers: &HeaderMap,
    known: bool,
) -> AppResult<Response> {
    let settings = &state.settings;
    if let Some(old) = session::presented_hash(headers, settings.secure_cookies) {
        db::sessions::delete(&state.db, &old).await?;
    }
    let cookie = session::start(state, user, ip, headers).await?;
    // The browser is known to the account from now on (a new device cookie each time).
    let (device_hash, device_cookie) = session::new_device_cookie(settings.secure_cookies);
    db::sessions::remember_device(&state.db, &device_hash, user).await?;
    let mut success = event(Some(user), email, ip, "sign_in.succeeded", "user");
    success.entity_id = Some(user.to_string());
    if known {
        success.after = Some(serde_json::json!({ "from_known_device_while_held": true }));
    }
    db::audit::record(&state.db, &success).await?;
    Ok((
        axum::response::AppendHeaders([cookie, device_cookie]),
        Redirect::to("/"),
    )
        .into_response())
}

async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    who: Option<Principal>,
) -> AppResult<Response> {
    if let Some(hash) = session::presented_hash(&headers, state.settings.secure_cookies) {
        db::sessions::delete(&state.db, &hash).await?;
    }
    let Some(who) = who else {
        return Ok((
            [session::clear(&state)],
            Redirect::to("/login?done=signed-out"),
        )
            .into_response());
    };
    db::audit::record(
        &state.db,
        &event(Some(who.user_id), &who.email, ip, "sign_out", "session"),
    )
    .await?;
    // Signed in through an identity provider: our session has ended; the provider's own is
    // offered to end too (its end-session endpoint), since the browser is still signed in there.
    let provider_sign_out = match db::sso::link_of(&state.db, who.user_id).await? {
        Some(link) => crate::auth::sso::end_session_url(
            &link.issuer_url,
            &link.client_id,
            &format!("{}/login?done=signed-out", state.settings.public_url),
        )
        .await
        .map(|url| (link.provider_name, url)),
        None => None,
    };
    if provider_sign_out.is_none() {
        return Ok((
            [session::clear(&state)],
            Redirect::to("/login?done=signed-out"),
        )
            .into_response());
    }
    let page = LoginPage {
        chrome: Chrome::default(),
        errors: Errors::default(),
        email: String::new(),
        notice: Some("You have been signed out of Prevent Assure."),
        important: false,
        provider_sign_out,
    };
    Ok(([session::clear(&state)], Html(page.render()?)).into_response())
}

// ----- The account page -------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    chrome: Chrome,
    who: Principal,
    memberships: Vec<Membership>,
    sessions: i64,
    errors: Errors,
    notice: Option<&'static str>,
    mail_reminders: bool,
    mail_digests: bool,
    /// "28, 7 and 1".
    reminder_days: String,
    second_factor: Option<String>,
    recovery_left: i64,
    /// The identity provider the person signs in through, if their domain has one.
    sso: Option<db::sso::Link>,
    /// Whether a second factor can be set up here (the service has MFA_KEY).
    second_factor_available: bool,
}

#[derive(Deserialize)]
struct AccountQuery {
    done: Option<String>,
}

async fn account_page(
    state: &AppState,
    who: Principal,
    errors: Errors,
    notice: Option<&'static str>,
) -> AppResult<AccountPage> {
    let summary = db::users::account_summary(&state.db, who.user_id).await?;
    let sso = summary.as_ref().and_then(|s| {
        Some(db::sso::Link {
            provider_name: s.provider_name.clone()?,
            issuer_url: s.issuer_url.clone()?,
            client_id: s.client_id.clone()?,
            mfa_from_provider: s.mfa_from_provider?,
        })
    });
    let sessions = summary.as_ref().map_or(0, |s| s.sessions);
    Ok(AccountPage {
        sso,
        second_factor_available: state.settings.mfa_key.is_some(),
        second_factor: summary
            .as_ref()
            .and_then(|s| s.second_factor_since)
            .map(crate::domain::uk_time),
        recovery_left: summary.as_ref().map_or(0, |s| s.recovery_left),
        mail_reminders: summary.as_ref().is_none_or(|s| s.mail_reminders),
        mail_digests: summary.as_ref().is_none_or(|s| s.mail_digests),
        reminder_days: state.settings.timetable.reminder_days_words(),
        chrome: Chrome::new(Some(&who), "/account"),
        memberships: who.memberships.clone(),
        who,
        sessions,
        errors,
        notice,
    })
}

async fn account(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<AccountQuery>,
) -> AppResult<Response> {
    let notice = match q.done.as_deref() {
        Some("password") => {
            Some("Your password has been changed. You have been signed out everywhere else.")
        }
        Some("mail") => Some("Your mail choices have been saved"),
        _ => None,
    };
    html(account_page(&state, who, Errors::default(), notice).await?)
}

#[derive(Deserialize)]
struct PasswordForm {
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// Checks a new password and its confirmation, adding errors for `field` and `confirm_field`.
fn check_new_password(
    errors: &mut Errors,
    new: &str,
    confirm: &str,
    field: &'static str,
    confirm_field: &'static str,
) {
    if let Err(message) = password::check_new(new) {
        errors.add(field, message);
    } else if new != confirm {
        errors.add(confirm_field, "The passwords do not match");
    }
}

async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let mut errors = Errors::default();
    if form.current.is_empty() {
        errors.add("current", "Enter your current password");
    } else {
        let hash = db::users::password_hash(&state.db, who.user_id).await?;
        if !password::verify(Secret::new(form.current), hash).await {
            errors.add("current", "Your current password is not right");
        }
    }
    check_new_password(&mut errors, &form.new, &form.confirm, "new", "confirm");
    if !errors.is_empty() {
        let page = account_page(&state, who, errors, None).await?;
        return with_status(StatusCode::UNPROCESSABLE_ENTITY, page);
    }
    let hash = password::hash(Secret::new(form.new)).await;
    let mut tx = state.db.begin().await?;
    db::users::set_password(&mut tx, who.user_id, &hash).await?;
    db::sessions::delete_for_user(&mut *tx, who.user_id, Some(&who.session_hash)).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "password.changed",
        "user",
    );
    e.entity_id = Some(who.user_id.to_string());
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to("/account?done=password").into_response())
}

async fn sign_out_everywhere(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    let ended = db::sessions::delete_for_user(&state.db, who.user_id, None).await?;
    let mut e = event(Some(who.user_id), &who.email, ip, "sessions.ended", "user");
    e.entity_id = Some(who.user_id.to_string());
    e.after = Some(serde_json::json!({ "sessions_ended": ended }));
    db::audit::record(&state.db, &e).await?;
    Ok((
        [session::clear(&state)],
        Redirect::to("/login?done=signed-out"),
    )
        .into_response())
}

// ----- Invitations ------------------------------------------------------------------------

/// Who is invited, to what.
#[derive(Debug, Clone)]
pub struct Invitation {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub organisation: Option<(Uuid, Uuid, String)>,
    pub region: Option<(Uuid, String)>,
    pub sections: Vec<i32>,
}

/// What inviting did.
#[derive(Debug, Clone)]
pub struct Invited {
    pub user_id: Uuid,
    /// The one-time link, when the person had no password yet.
    pub link: Option<String>,
    /// False when they already held exactly this role.
    pub added: bool,
}

/// Gives someone a role, creating their account if needed; a person without a password gets a
/// one-time link (valid 7 days) by mail through the outbox. All in one transaction, audited.
pub async fn invite(
    pool: &PgPool,
    settings: &Settings,
    by: Option<(&Principal, Option<IpNetwork>)>,
    inv: &Invitation,
) -> anyhow::Result<Invited> {
    let mut tx = pool.begin().await?;
    let user = db::users::find_by_email(&mut tx, &inv.email).await?;
    let (user_id, signed_in_before) = match &user {
        Some(u) => (u.id, u.has_password || u.signs_in_with_sso),
        None => (
            db::users::insert_invited(&mut tx, &inv.email, &inv.name).await?,
            false,
        ),
    };
    let organisation_id = inv.organisation.as_ref().map(|(id, _, _)| *id);
    let region_id = if inv.role == Role::Adviser {
        inv.region.as_ref().map(|(id, _)| *id)
    } else {
        None
    };
    let sections = (inv.role == Role::Contributor).then_some(inv.sections.as_slice());
    let membership = db::users::add_membership(
        &mut tx,
        user_id,
        inv.role,
        organisation_id,
        region_id,
        sections,
    )
    .await?;
    let place = match (&inv.organisation, &inv.region) {
        (Some((_, _, name)), _) => format!(" for {name}"),
        (None, Some((_, name))) if inv.role == Role::Adviser => format!(" for {name}"),
        _ => String::new(),
    };
    let inviter = by.map_or_else(
        || "An administrator".to_owned(),
        |(p, _)| p.display_name.clone(),
    );
    let link = if signed_in_before {
        let body = format!(
            "{inviter} has given you the role of {}{place} in Prevent Assure.\n\nSign in at {}/login to use it.\n",
            inv.role.label().to_lowercase(),
            settings.public_url
        );
        db::outbox::enqueue(
            &mut *tx,
            &inv.email,
            "You have a new role in Prevent Assure",
            &body,
        )
        .await?;
        None
    } else {
        db::tokens::withdraw(&mut *tx, user_id, Purpose::Invitation).await?;
        let (token, hash) = new_token();
        db::tokens::insert(
            &mut *tx,
            &hash,
            Purpose::Invitation,
            user_id,
            by.map(|(p, _)| p.user_id),
            INVITATION_MINUTES,
        )
        .await?;
        let link = format!("{}/invitations/{token}", settings.public_url);
        let body = format!(
            "{inviter} has invited you to Prevent Assure as {}{place}.\n\nTo accept, choose your password here within 7 days:\n\n{link}\n\nThe link works once. If you were not expecting this, you can ignore this message.\n",
            inv.role.label().to_lowercase(),
        );
        db::outbox::enqueue(
            &mut *tx,
            &inv.email,
            "You are invited to Prevent Assure",
            &body,
        )
        .await?;
        Some(link)
    };
    let (actor_id, label, ip) = match by {
        Some((p, ip)) => (Some(p.user_id), p.email.clone(), ip),
        None => (None, "command line".to_owned(), None),
    };
    let mut e = event(actor_id, &label, ip, "membership.added", "user");
    e.entity_id = Some(user_id.to_string());
    e.organisation_id = organisation_id;
    e.region_id = inv.organisation.as_ref().map(|(_, r, _)| *r).or(region_id);
    e.after = Some(serde_json::json!({
        "email": inv.email, "role": inv.role.code(), "sections": inv.sections,
        "invitation_sent": link.is_some(),
    }));
    if membership.is_some() {
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Invited {
        user_id,
        link,
        added: membership.is_some(),
    })
}

/// For the command line: invites an administrator and returns the link (if they need one).
pub async fn invite_admin(
    pool: &PgPool,
    settings: &Settings,
    email: &str,
    name: &str,
) -> anyhow::Result<String> {
    if !is_email(email) {
        anyhow::bail!("{email:?} is not an email address");
    }
    let invited = invite(
        pool,
        settings,
        None,
        &Invitation {
            email: email.to_owned(),
            name: name.to_owned(),
            role: Role::Admin,
            organisation: None,
            region: None,
            sections: vec![],
        },
    )
    .await?;
    Ok(invited.link.unwrap_or_else(|| {
        format!(
            "(already has a password: sign in at {}/login)",
            settings.public_url
        )
    }))
}

#[derive(Template)]
#[template(path = "account/invitation.html")]
struct InvitationPage {
    chrome: Chrome,
    errors: Errors,
    email: String,
    name: String,
    /// The identity provider that signs this person in, when their email's domain has one:
    /// then no password is chosen here.
    provider: Option<String>,
}

#[derive(Template)]
#[template(path = "account/link_expired.html")]
struct LinkExpiredPage {
    chrome: Chrome,
    what: &'static str,
    again: &'static str,
}

fn expired(what: &'static str, again: &'static str) -> AppResult<Response> {
    with_status(
        StatusCode::NOT_FOUND,
        LinkExpiredPage {
            chrome: Chrome::default(),
            what,
            again,
        },
    )
}

async fn invitation_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    let Some(user_id) =
        db::tokens::peek(&state.db, &hash_token(&token), Purpose::Invitation).await?
    else {
        return expired(
            "invitation",
            "Ask the person who invited you to invite you again.",
        );
    };
    let mut conn = state.db.acquire().await?;
    let user = db::users::find(&mut conn, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    drop(conn);
    let provider = crate::web::sso::provider_for_email(&state, &user.email)
        .await?
        .map(|p| p.name);
    html(InvitationPage {
        chrome: Chrome::default(),
        errors: Errors::default(),
        email: user.email,
        name: user.display_name,
        provider,
    })
}

#[derive(Deserialize)]
struct AcceptForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn accept_invitation(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<AcceptForm>,
) -> AppResult<Response> {
    let hash = hash_token(&token);
    let Some(user_id) = db::tokens::peek(&state.db, &hash, Purpose::Invitation).await? else {
        return expired(
            "invitation",
            "Ask the person who invited you to invite you again.",
        );
    };
    // Someone whose organisation signs them in chooses no password: they sign in there.
    let invited = {
        let mut conn = state.db.acquire().await?;
        db::users::find(&mut conn, user_id)
            .await?
            .ok_or(AppError::NotFound)?
    };
    if crate::web::sso::provider_for_email(&state, &invited.email)
        .await?
        .is_some()
    {
        return Ok(Redirect::to(&format!("/invitations/{token}")).into_response());
    }
    let name = form.name.trim().to_owned();
    let mut errors = Errors::default();
    if name.is_empty() {
        errors.add("name", "Enter your name");
    } else if name.chars().count() > 200 {
        errors.add("name", "Your name must be 200 characters or fewer");
    }
    check_new_password(
        &mut errors,
        &form.password,
        &form.confirm,
        "password",
        "confirm",
    );
    if !errors.is_empty() {
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            InvitationPage {
                chrome: Chrome::default(),
                errors,
                email: invited.email,
                name,
                provider: None,
            },
        );
    }
    let password_hash = password::hash(Secret::new(form.password)).await;
    let mut tx = state.db.begin().await?;
    let Some(user_id) = db::tokens::consume(&mut tx, &hash, Purpose::Invitation).await? else {
        return expired(
            "invitation",
            "Ask the person who invited you to invite you again.",
        );
    };
    db::users::set_password(&mut tx, user_id, &password_hash).await?;
    db::users::set_display_name(&mut tx, user_id, &name).await?;
    let user = db::users::find(&mut tx, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut e = event(
        Some(user_id),
        &user.email,
        ip,
        "invitation.accepted",
        "user",
    );
    e.entity_id = Some(user_id.to_string());
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    // The password is set; a second factor comes next where the person's roles (or their
    // council) require one: set up before anything else, as at any sign-in.
    if let Some(next) = crate::web::second_factor::after_password(
        &state,
        user_id,
        &user.email,
        ip,
        "sign_in.password_accepted",
    )
    .await?
    {
        return Ok(next);
    }
    let cookie = session::start(&state, user_id, ip, &headers).await?;
    Ok(([cookie], Redirect::to("/")).into_response())
}

// ----- Password resets --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "account/reset_request.html")]
struct ResetRequestPage {
    chrome: Chrome,
    errors: Errors,
    email: String,
    sent: bool,
}

async fn reset_request_form() -> AppResult<Response> {
    html(ResetRequestPage {
        chrome: Chrome::default(),
        errors: Errors::default(),
        email: String::new(),
        sent: false,
    })
}

#[derive(Deserialize)]
struct ResetRequestForm {
    #[serde(default)]
    email: String,
}

/// Password-reset mails to one account in an hour, at most.
pub const RESETS_PER_ACCOUNT: i64 = 3;
/// Password-reset requests from one network address in an hour, at most.
pub const RESETS_PER_ADDRESS: i64 = 10;

async fn request_reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Form(form): Form<ResetRequestForm>,
) -> AppResult<Response> {
    let email = form.email.trim().to_owned();
    if !is_email(&email) {
        let mut errors = Errors::default();
        errors.add(
            "email",
            "Enter an email address in the correct format, like name@example.org",
        );
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            ResetRequestPage {
                chrome: Chrome::default(),
                errors,
                email,
                sent: false,
            },
        );
    }
    let mut tx = state.db.begin().await?;
    // At most RESETS_PER_ACCOUNT mails to one account and RESETS_PER_ADDRESS requests from one
    // network address an hour: past either, nothing is sent, the answer is the same, and the
    // refusal is audited.
    let (for_account, from_address) =
        db::tokens::recent_reset_requests(&mut tx, &email, ip).await?;
    let user = db::users::find_by_email(&mut tx, &email)
        .await?
        .filter(|u| u.disabled_at.is_none());
    let throttled = for_account >= RESETS_PER_ACCOUNT || from_address >= RESETS_PER_ADDRESS;
    if throttled || user.is_none() {
        let action = if throttled {
            "password_reset.throttled"
        } else {
            "password_reset.requested"
        };
        let mut e = event(user.as_ref().map(|u| u.id), &email, ip, action, "user");
        e.entity_id = user.as_ref().map(|u| u.id.to_string());
        e.after = Some(serde_json::json!({ "email": email.to_lowercase() }));
        db::audit::record(&mut *tx, &e).await?;
    }
    if let Some(user) = user.filter(|_| !throttled) {
        db::tokens::withdraw(&mut *tx, user.id, Purpose::PasswordReset).await?;
        let (token, hash) = new_token();
        db::tokens::insert(
            &mut *tx,
            &hash,
            Purpose::PasswordReset,
            user.id,
            None,
            RESET_MINUTES,
        )
        .await?;
        let body = format!(
            "Someone asked to reset the password of your Prevent Assure account.\n\nTo choose a new password, use this link within 1 hour:\n\n{}/password-reset/{token}\n\nThe link works once. If you did not ask for this, you can ignore this message: your password has not changed.\n",
            state.settings.public_url
        );
        db::outbox::enqueue(
            &mut *tx,
            &user.email,
            "Reset your Prevent Assure password",
            &body,
        )
        .await?;
        let mut e = event(
            Some(user.id),
            &user.email,
            ip,
            "password_reset.requested",
            "user",
        );
        e.entity_id = Some(user.id.to_string());
        e.after = Some(serde_json::json!({ "email": email.to_lowercase() }));
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    // The same answer whether or not the address has an account.
    html(ResetRequestPage {
        chrome: Chrome::default(),
        errors: Errors::default(),
        email,
        sent: true,
    })
}

#[derive(Template)]
#[template(path = "account/reset.html")]
struct ResetPage {
    chrome: Chrome,
    errors: Errors,
}

async fn reset_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> AppResult<Response> {
    if db::tokens::peek(&state.db, &hash_token(&token), Purpose::PasswordReset)
        .await?
        .is_none()
    {
        return expired(
            "password reset link",
            "Ask for a new link from the sign-in page.",
        );
    }
    html(ResetPage {
        chrome: Chrome::default(),
        errors: Errors::default(),
    })
}

#[derive(Deserialize)]
struct ResetForm {
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

async fn reset_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let hash = hash_token(&token);
    if db::tokens::peek(&state.db, &hash, Purpose::PasswordReset)
        .await?
        .is_none()
    {
        return expired(
            "password reset link",
            "Ask for a new link from the sign-in page.",
        );
    }
    let mut errors = Errors::default();
    check_new_password(
        &mut errors,
        &form.password,
        &form.confirm,
        "password",
        "confirm",
    );
    if !errors.is_empty() {
        return with_status(
            StatusCode::UNPROCESSABLE_ENTITY,
            ResetPage {
                chrome: Chrome::default(),
                errors,
            },
        );
    }
    let password_hash = password::hash(Secret::new(form.password)).await;
    let mut tx = state.db.begin().await?;
    let Some(user_id) = db::tokens::consume(&mut tx, &hash, Purpose::PasswordReset).await? else {
        return expired(
            "password reset link",
            "Ask for a new link from the sign-in page.",
        );
    };
    db::users::set_password(&mut tx, user_id, &password_hash).await?;
    db::sessions::delete_for_user(&mut *tx, user_id, None).await?;
    let user = db::users::find(&mut tx, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut e = event(
        Some(user_id),
        &user.email,
        ip,
        "password_reset.completed",
        "user",
    );
    e.entity_id = Some(user_id.to_string());
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to("/login?done=reset").into_response())
}
