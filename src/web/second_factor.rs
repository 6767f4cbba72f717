//! The second factor on the pages: the code after the password (`/login/code`), setting it up
//! at sign-in when the account's roles require it (`/login/set-up`) or from the account page
//! (`/account/second-factor`), the recovery codes shown once, and an administrator's reset.
//! Between the password and the code the browser holds a challenge cookie (10 minutes, five
//! wrong codes), not a session: nothing of the service opens until the code is right.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header::SET_COOKIE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::types::ipnetwork::IpNetwork;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::policy::{Action, Object};
use crate::auth::second_factor::{self as sf, MfaKey};
use crate::auth::session::{self, ClientIp};
use crate::auth::{Principal, Role, hash_token, new_token};
use crate::db;
use crate::error::{AppError, AppResult};
use crate::web::account::{complete_sign_in, event};
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, Form};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/code", get(code_form).post(code))
        .route("/login/set-up", get(set_up_form).post(set_up))
        .route(
            "/account/second-factor",
            get(account_set_up_form).post(account_set_up),
        )
        .route("/admin/users/{id}/second-factor/reset", post(reset))
}

/// Wrong codes before the sign-in starts again.
const TRIES: i32 = 5;
/// The same words whatever was wrong with a code.
const WRONG: &str = "The code is not right, or it has been used already. Enter the code your app shows now, or a recovery code";

/// A wrong first code, while setting up.
const WRONG_FIRST: &str =
    "The code is not right. Enter the 6-digit code your app shows now for Prevent Assure";

/// Roles that see many councils: a second factor is required of them.
pub fn requires_second_factor(roles: &[Role]) -> bool {
    roles
        .iter()
        .any(|r| matches!(r, Role::Adviser | Role::ChannelTeam | Role::Admin))
}

/// The cookie that holds a sign-in between the password and the code (named on /cookies).
pub fn challenge_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-pa_challenge"
    } else {
        "pa_challenge"
    }
}

fn challenge_cookie(state: &AppState) -> &'static str {
    challenge_cookie_name(state.settings.secure_cookies)
}

fn set_challenge(state: &AppState, token: &str) -> (axum::http::HeaderName, HeaderValue) {
    let secure = state.settings.secure_cookies;
    session::short_cookie(challenge_cookie(state), token, 600, secure)
}

fn clear_challenge(state: &AppState) -> (axum::http::HeaderName, HeaderValue) {
    let secure = state.settings.secure_cookies;
    session::short_cookie(challenge_cookie(state), "", 0, secure)
}

fn presented_challenge(state: &AppState, headers: &HeaderMap) -> Option<Vec<u8>> {
    session::cookie_value(headers, challenge_cookie(state))
        .filter(|v| v.len() == 64)
        .map(|v| hash_token(&v))
}

/// After a right password (or an identity provider's word without its own second factor):
/// the response that asks for the code (or for setting it up), or None when the account signs
/// in without one. `first_step` is the audit event of what was accepted.
pub async fn after_password(
    state: &AppState,
    user: Uuid,
    email: &str,
    ip: Option<IpNetwork>,
    first_step: &'static str,
) -> AppResult<Option<Response>> {
    let mut conn = state.db.acquire().await?;
    let factor = db::second_factor::factor(&mut conn, user)
        .await?
        .ok_or(AppError::NotFound)?;
    let roles: Vec<Role> = db::users::memberships(&mut conn, user)
        .await?
        .into_iter()
        .map(|m| m.role)
        .collect();
    // Required of roles that see many councils, and of everyone at a council whose lead
    // requires it (when the service has a key to seal secrets with).
    let required = (state.settings.second_factor_required && requires_second_factor(&roles))
        || (state.settings.mfa_key.is_some()
            && db::second_factor::required_by_a_council(&mut conn, user).await?);
    drop(conn);
    let has = factor.enabled_at.is_some() && factor.secret.is_some();
    if !has && !required {
        return Ok(None);
    }
    let (token, hash) = new_token();
    db::second_factor::start_challenge(&state.db, &hash, user, !has).await?;
    let mut e = event(Some(user), email, ip, first_step, "user");
    e.entity_id = Some(user.to_string());
    e.after = Some(serde_json::json!({ "next": if has { "code" } else { "set_up" } }));
    db::audit::record(&state.db, &e).await?;
    let to = if has { "/login/code" } else { "/login/set-up" };
    Ok(Some(
        ([set_challenge(state, &token)], Redirect::to(to)).into_response(),
    ))
}

#[derive(Template)]
#[template(path = "account/code.html")]
struct CodePage {
    chrome: Chrome,
    errors: Errors,
}

#[derive(Deserialize, Default)]
struct CodeForm {
    #[serde(default)]
    code: String,
}

/// Back to the sign-in page, the challenge gone.
fn start_again(state: &AppState, notice: &str) -> Response {
    (
        [clear_challenge(state)],
        Redirect::to(&format!("/login?done={notice}")),
    )
        .into_response()
}

async fn code_form(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Some(hash) = presented_challenge(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    match db::second_factor::challenge(&state.db, &hash).await? {
        Some(c) if !c.set_up => {}
        Some(_) => return Ok(Redirect::to("/login/set-up").into_response()),
        None => return Ok(start_again(&state, "code-expired")),
    }
    let page = CodePage {
        chrome: Chrome::default(),
        errors: Errors::default(),
    };
    Ok(Html(page.render()?).into_response())
}

/// No try taken: the challenge has expired, or its tries are used up; either way, sign in again.
async fn no_try_left(state: &AppState, hash: &[u8]) -> AppResult<Response> {
    let why = if db::second_factor::challenge(&state.db, hash)
        .await?
        .is_some()
    {
        "code-tries"
    } else {
        "code-expired"
    };
    db::second_factor::end_challenge(&state.db, hash).await?;
    Ok(start_again(state, why))
}

fn key(state: &AppState) -> AppResult<&MfaKey> {
    state
        .settings
        .mfa_key
        .as_ref()
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("MFA_KEY is not set")))
}

async fn code(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let Some(hash) = presented_challenge(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(challenge) = db::second_factor::take_try(&state.db, &hash, TRIES)
        .await?
        .filter(|c| !c.set_up)
    else {
        return no_try_left(&state, &hash).await;
    };
    let user = challenge.user_id;
    let mut tx = state.db.begin().await?;
    let factor = db::second_factor::factor(&mut tx, user)
        .await?
        .ok_or(AppError::NotFound)?;
    let secret = factor
        .secret
        .as_deref()
        .and_then(|s| key(&state).ok()?.open(user, s));
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let typed = form.code.trim();
    // A code from the app, used once; or one of the recovery codes, used once.
    let (accepted, how) = match secret
        .as_deref()
        .and_then(|s| sf::accepts(s, &factor.email, typed, factor.last_step, now))
    {
        Some(step) => (
            db::second_factor::use_step(&mut tx, user, step).await?,
            "mfa.used",
        ),
        None if typed.chars().filter(char::is_ascii_alphanumeric).count() == 10 => (
            db::second_factor::use_recovery(
                &mut tx,
                user,
                &key(&state)?.recovery_hash(user, typed),
            )
            .await?,
            "mfa.recovery_used",
        ),
        None => (false, "mfa.failed"),
    };
    let mut e = event(
        Some(user),
        &factor.email,
        ip,
        if accepted { how } else { "mfa.failed" },
        "user",
    );
    e.entity_id = Some(user.to_string());
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    if !accepted {
        // A wrong code counts as a failed sign-in with the address: someone who has the
        // password gets no more tries at the code by signing in again and again.
        db::sessions::record_attempt(&state.db, ip, &factor.email.to_lowercase(), false).await?;
        if challenge.failures >= TRIES {
            db::second_factor::end_challenge(&state.db, &hash).await?;
            return Ok(start_again(&state, "code-tries"));
        }
        let mut errors = Errors::default();
        errors.add("code", WRONG);
        let page = CodePage {
            chrome: Chrome::default(),
            errors,
        };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    }
    db::second_factor::end_challenge(&state.db, &hash).await?;
    let mut signed_in = complete_sign_in(&state, user, &factor.email, ip, &headers, false).await?;
    // Appended: the session's and the device's cookies stay beside the challenge's removal.
    let (name, value) = clear_challenge(&state);
    signed_in.headers_mut().append(name, value);
    Ok(signed_in)
}

#[derive(Template)]
#[template(path = "account/set_up.html")]
struct SetUpPage {
    chrome: Chrome,
    errors: Errors,
    qr: String,
    secret: String,
    /// Where the form goes: at sign-in, or from the account page.
    action: &'static str,
    required: bool,
    configured: bool,
}

#[derive(Template)]
#[template(path = "account/recovery_codes.html")]
struct RecoveryPage {
    chrome: Chrome,
    codes: Vec<String>,
}

/// The pending secret of the account, made now if there is none: (secret, QR, text).
async fn pending(state: &AppState, user: Uuid) -> AppResult<Option<(Vec<u8>, String, String)>> {
    let Some(key) = state.settings.mfa_key.as_ref() else {
        return Ok(None);
    };
    let mut conn = state.db.acquire().await?;
    let factor = db::second_factor::factor(&mut conn, user)
        .await?
        .ok_or(AppError::NotFound)?;
    let secret = match factor.pending.as_deref().and_then(|p| key.open(user, p)) {
        Some(secret) => secret,
        None => {
            let secret = sf::new_secret();
            db::second_factor::set_pending(&mut conn, user, &key.seal(user, &secret)).await?;
            secret
        }
    };
    let qr = sf::qr_svg(&secret, &factor.email);
    let text = sf::secret_text(&secret);
    Ok(Some((secret, qr, text)))
}

async fn set_up_page(
    state: &AppState,
    user: Uuid,
    errors: Errors,
    action: &'static str,
    required: bool,
    chrome: Chrome,
) -> AppResult<Response> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = match pending(state, user).await? {
        Some((_, qr, secret)) => SetUpPage {
            chrome,
            errors,
            qr,
            secret,
            action,
            required,
            configured: true,
        },
        None => SetUpPage {
            chrome,
            errors,
            qr: String::new(),
            secret: String::new(),
            action,
            required,
            configured: false,
        },
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn set_up_form(State(state): State<AppState>, headers: HeaderMap) -> AppResult<Response> {
    let Some(hash) = presented_challenge(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(challenge) = db::second_factor::challenge(&state.db, &hash)
        .await?
        .filter(|c| c.set_up)
    else {
        return Ok(start_again(&state, "code-expired"));
    };
    set_up_page(
        &state,
        challenge.user_id,
        Errors::default(),
        "/login/set-up",
        true,
        Chrome::default(),
    )
    .await
}

/// Confirms the pending secret with a first code: on, with new recovery codes, audited. The
/// codes (shown once) are returned.
async fn confirm(
    state: &AppState,
    user: Uuid,
    typed: &str,
    ip: Option<IpNetwork>,
) -> AppResult<Option<Vec<String>>> {
    let key = key(state)?;
    let mut tx = state.db.begin().await?;
    let factor = db::second_factor::factor(&mut tx, user)
        .await?
        .ok_or(AppError::NotFound)?;
    let Some(secret) = factor.pending.as_deref().and_then(|p| key.open(user, p)) else {
        return Ok(None);
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp().max(0) as u64;
    let Some(step) = sf::accepts(&secret, &factor.email, typed, 0, now) else {
        let mut e = event(Some(user), &factor.email, ip, "mfa.failed", "user");
        e.entity_id = Some(user.to_string());
        e.after = Some(serde_json::json!({ "while": "setting up" }));
        db::audit::record(&mut *tx, &e).await?;
        tx.commit().await?;
        return Ok(None);
    };
    let codes = sf::new_recovery_codes(key, user);
    let hashes: Vec<Vec<u8>> = codes.iter().map(|(_, h)| h.clone()).collect();
    if !db::second_factor::enable(&mut tx, user, step, &hashes).await? {
        return Ok(None);
    }
    let mut e = event(Some(user), &factor.email, ip, "mfa.set_up", "user");
    e.entity_id = Some(user.to_string());
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Some(codes.into_iter().map(|(c, _)| c).collect()))
}

async fn set_up(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let Some(hash) = presented_challenge(&state, &headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let Some(challenge) = db::second_factor::take_try(&state.db, &hash, TRIES)
        .await?
        .filter(|c| c.set_up)
    else {
        return no_try_left(&state, &hash).await;
    };
    let user = challenge.user_id;
    let Some(codes) = confirm(&state, user, &form.code, ip).await? else {
        if challenge.failures >= TRIES {
            db::second_factor::end_challenge(&state.db, &hash).await?;
            return Ok(start_again(&state, "code-tries"));
        }
        let mut errors = Errors::default();
        errors.add("code", WRONG_FIRST);
        return set_up_page(
            &state,
            user,
            errors,
            "/login/set-up",
            true,
            Chrome::default(),
        )
        .await;
    };
    db::second_factor::end_challenge(&state.db, &hash).await?;
    let email = {
        let mut conn = state.db.acquire().await?;
        db::second_factor::factor(&mut conn, user)
            .await?
            .map(|f| f.email)
            .unwrap_or_default()
    };
    // Signed in now; the page that follows shows the recovery codes, once.
    let signed_in = complete_sign_in(&state, user, &email, ip, &headers, false).await?;
    let mut response = recovery_page(&state, user, codes).await?;
    for value in signed_in.headers().get_all(SET_COOKIE) {
        response.headers_mut().append(SET_COOKIE, value.clone());
    }
    let (name, value) = clear_challenge(&state);
    response.headers_mut().append(name, value);
    Ok(response)
}

/// The recovery codes, on a page whose header shows the person signed in (this response
/// starts their session, so the request itself had none).
async fn recovery_page(state: &AppState, user: Uuid, codes: Vec<String>) -> AppResult<Response> {
    let mut conn = state.db.acquire().await?;
    let account = db::users::find(&mut conn, user)
        .await?
        .ok_or(AppError::NotFound)?;
    let memberships = db::users::memberships(&mut conn, user).await?;
    drop(conn);
    let who = Principal {
        user_id: user,
        email: account.email,
        display_name: account.display_name,
        memberships,
        session_hash: Vec::new(),
        unread: 0,
    };
    let page = RecoveryPage {
        chrome: Chrome::new(Some(&who), "/account"),
        codes,
    };
    Ok(Html(page.render()?).into_response())
}

/// Without MFA_KEY no secret can be sealed: a person is told so, rather than shown an error.
fn unavailable(state: &AppState) -> Option<Response> {
    state.settings.mfa_key.is_none().then(|| {
        // Not an outage: the service is configured so. 409, the request at odds with it.
        crate::error::message_page(
            StatusCode::CONFLICT,
            "A second factor cannot be set up yet",
            "This service has no key to keep second-factor secrets with (MFA_KEY), so none can be set up yet. Nothing was changed. Ask your administrator.",
        )
    })
}

async fn account_set_up_form(State(state): State<AppState>, who: Principal) -> AppResult<Response> {
    if let Some(refusal) = unavailable(&state) {
        return Ok(refusal);
    }
    let chrome = Chrome::new(Some(&who), "/account");
    set_up_page(
        &state,
        who.user_id,
        Errors::default(),
        "/account/second-factor",
        false,
        chrome,
    )
    .await
}

async fn account_set_up(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    if let Some(refusal) = unavailable(&state) {
        return Ok(refusal);
    }
    match confirm(&state, who.user_id, &form.code, ip).await? {
        Some(codes) => {
            let page = RecoveryPage {
                chrome: Chrome::new(Some(&who), "/account"),
                codes,
            };
            Ok(Html(page.render()?).into_response())
        }
        None => {
            let mut errors = Errors::default();
            errors.add("code", WRONG_FIRST);
            let chrome = Chrome::new(Some(&who), "/account");
            set_up_page(
                &state,
                who.user_id,
                errors,
                "/account/second-factor",
                false,
                chrome,
            )
            .await
        }
    }
}

async fn reset(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let mut tx = state.db.begin().await?;
    if db::second_factor::reset(&mut tx, id).await? {
        let mut e = event(Some(who.user_id), &who.email, ip, "mfa.reset", "user");
        e.entity_id = Some(id.to_string());
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=second-factor-reset")).into_response())
}
