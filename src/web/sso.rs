//! Single sign-on on the pages: a person whose email is in a provider's domain is sent to it
//! from the sign-in page; the provider sends them back to `/login/sso/callback`, where the
//! identity opens an account that already exists (invited): by the provider's subject once it
//! has signed in before, else by its verified email, whose subject is stored then. A provider's
//! own multi-factor claim stands in for our code when an administrator says so. Administrators
//! configure providers at `/admin/identity-providers`.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use sqlx::types::ipnetwork::IpNetwork;
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::policy::{Action, Object};
use crate::auth::session::{self, ClientIp};
use crate::auth::sso::{self, SsoError};
use crate::auth::{Principal, hash_token};
use crate::config::oidc_secret_variable;
use crate::db;
use crate::db::sso::{IdentityProvider, ProviderFields, SaveRefused};
use crate::error::{AppError, AppResult};
use crate::web::account::{complete_sign_in, event};
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, Form, Query, is_slug};
use crate::web::guard::authorise;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login/sso/callback", get(callback))
        .route(
            "/admin/identity-providers",
            get(providers).post(create_provider),
        )
        .route("/admin/identity-providers/new", get(new_provider))
        .route(
            "/admin/identity-providers/{id}",
            get(edit_provider).post(update_provider),
        )
        .route("/admin/users/{id}/sso/unlink", axum::routing::post(unlink))
}

/// An administrator forgets a person's link to their identity at the provider (audited).
async fn unlink(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    authorise(
        &state,
        &who,
        ip,
        crate::auth::policy::Action::Administer,
        crate::auth::policy::Object::Service,
    )
    .await?;
    let mut tx = state.db.begin().await?;
    if db::sso::unlink(&mut tx, id).await? {
        let mut e = event(Some(who.user_id), &who.email, ip, "sso.unlinked", "user");
        e.entity_id = Some(id.to_string());
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}?done=sso-unlinked")).into_response())
}

/// Where providers send people back to: registered at each provider.
pub fn redirect_uri(state: &AppState) -> String {
    format!("{}/login/sso/callback", state.settings.public_url)
}

/// The cookie that ties a provider's answer to the browser that went there (named on /cookies).
pub fn state_cookie_name(secure: bool) -> &'static str {
    if secure { "__Host-pa_sso" } else { "pa_sso" }
}

fn state_cookie(state: &AppState) -> &'static str {
    state_cookie_name(state.settings.secure_cookies)
}

/// The state cookie. Lax: the provider's redirect back is a top-level GET, which carries it.
fn sso_cookie(
    state: &AppState,
    value: &str,
    max_age: u32,
) -> (axum::http::HeaderName, HeaderValue) {
    let secure = state.settings.secure_cookies;
    session::short_cookie(state_cookie(state), value, max_age, secure)
}

fn presented_state(state: &AppState, headers: &HeaderMap) -> Option<String> {
    session::cookie_value(headers, state_cookie(state)).filter(|v| !v.is_empty() && v.len() <= 100)
}

/// The provider serving an email's domain, if the email has one.
pub async fn provider_for_email(
    state: &AppState,
    email: &str,
) -> AppResult<Option<IdentityProvider>> {
    let Some((_, domain)) = email.trim().rsplit_once('@') else {
        return Ok(None);
    };
    if domain.is_empty() || domain.len() > 253 {
        return Ok(None);
    }
    Ok(db::sso::provider_for_domain(&state.db, domain).await?)
}

#[derive(Template)]
#[template(path = "account/sso_refused.html")]
struct RefusedPage {
    chrome: Chrome,
    heading: &'static str,
    reason: String,
    advice: &'static str,
}

fn refused(
    status: StatusCode,
    heading: &'static str,
    reason: String,
    advice: &'static str,
) -> AppResult<Response> {
    let page = RefusedPage {
        chrome: Chrome::default(),
        heading,
        reason,
        advice,
    };
    Ok((status, Html(page.render()?)).into_response())
}

const ASK_LEAD: &str = "Accounts are by invitation. Ask your council's Prevent lead, or for Home Office staff an administrator, to invite you with this email address.";
const TRY_AGAIN: &str =
    "Go back to the sign-in page and try again. If it happens again, tell an administrator.";

/// Sends the browser to the provider: a fresh state (also in a cookie, so that only this
/// browser can finish this sign-in), nonce and PKCE verifier kept for ten minutes.
pub async fn send_to_provider(
    state: &AppState,
    provider: &IdentityProvider,
    email: &str,
) -> AppResult<Response> {
    let Some(secret) = state.settings.oidc_secrets.get(&provider.slug) else {
        tracing::error!(
            provider = %provider.slug,
            variable = %oidc_secret_variable(&provider.slug),
            "single sign-on is configured but this server has no client secret for it"
        );
        return refused(
            StatusCode::SERVICE_UNAVAILABLE,
            "Signing in through your organisation is not available",
            format!(
                "Addresses at {} sign in through {}, and this service is not able to reach it at the moment.",
                email.rsplit_once('@').map_or("", |(_, d)| d),
                provider.name
            ),
            TRY_AGAIN,
        );
    };
    let config = sso::Provider {
        issuer_url: &provider.issuer_url,
        client_id: &provider.client_id,
        client_secret: secret,
    };
    let begun = match sso::begin(&config, &redirect_uri(state), email).await {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(provider = %provider.slug, error = %e, "could not start a sign-in");
            return refused(
                StatusCode::BAD_GATEWAY,
                "Signing in through your organisation is not available",
                format!("{} could not be reached.", provider.name),
                TRY_AGAIN,
            );
        }
    };
    db::sso::put_request(
        &state.db,
        &hash_token(&begun.state),
        provider.id,
        &begun.nonce,
        &begun.pkce_verifier,
    )
    .await?;
    // A page with a link, not a redirect: the sign-in form's `form-action 'self'` would stop
    // a browser following a redirect to another site.
    let page = ContinuePage {
        chrome: Chrome::default(),
        provider: provider.name.clone(),
        email: email.to_owned(),
        url: begun.url,
    };
    Ok(([sso_cookie(state, &begun.state, 600)], Html(page.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "account/sso_continue.html")]
struct ContinuePage {
    chrome: Chrome,
    provider: String,
    email: String,
    url: String,
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

async fn callback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    let clear = sso_cookie(&state, "", 0);
    let mut response = finish_sign_in(&state, ip, &headers, q).await?;
    response.headers_mut().append(clear.0, clear.1);
    Ok(response)
}

/// Why a sign-in through a provider was refused, for the audit trail.
fn refusal(
    provider: &IdentityProvider,
    label: &str,
    ip: Option<IpNetwork>,
    user: Option<Uuid>,
    reason: &str,
) -> db::audit::NewEvent {
    let mut e = event(user, label, ip, "sign_in.sso_refused", "session");
    e.after = Some(serde_json::json!({ "provider": provider.name, "reason": reason }));
    e
}

async fn finish_sign_in(
    state: &AppState,
    ip: Option<IpNetwork>,
    headers: &HeaderMap,
    q: CallbackQuery,
) -> AppResult<Response> {
    let expired = || {
        refused(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired",
            "The sign-in was started more than 10 minutes ago, in another browser, or has been used already.".to_owned(),
            "Go back to the sign-in page and sign in again.",
        )
    };
    let (Some(returned), Some(kept)) = (q.state.as_deref(), presented_state(state, headers)) else {
        return expired();
    };
    // The state came back to the browser that started the sign-in, and is still pending.
    if returned != kept {
        return expired();
    }
    let Some(pending) = db::sso::take_request(&state.db, &hash_token(returned)).await? else {
        return expired();
    };
    let Some(provider) = db::sso::provider(&state.db, pending.provider_id).await? else {
        return expired();
    };
    if q.error.is_some() {
        return refused(
            StatusCode::FORBIDDEN,
            "You were not signed in",
            format!("{} did not complete the sign-in.", provider.name),
            TRY_AGAIN,
        );
    }
    let (Some(code), Some(secret)) = (
        q.code.as_deref(),
        state.settings.oidc_secrets.get(&provider.slug),
    ) else {
        return expired();
    };
    let config = sso::Provider {
        issuer_url: &provider.issuer_url,
        client_id: &provider.client_id,
        client_secret: secret,
    };
    let identity = match sso::finish(
        &config,
        &redirect_uri(state),
        code,
        &pending.pkce_verifier,
        &pending.nonce,
    )
    .await
    {
        Ok(i) => i,
        Err(e) => {
            tracing::warn!(provider = %provider.slug, error = %e, "a sign-in through a provider was refused");
            let reason = match e {
                SsoError::IdToken(_) | SsoError::NoIdToken => "id_token",
                SsoError::Exchange(_) => "code_exchange",
                SsoError::Discovery(_) | SsoError::Url(_) => "provider_unreachable",
            };
            db::audit::record(&state.db, &refusal(&provider, "", ip, None, reason)).await?;
            return refused(
                StatusCode::FORBIDDEN,
                "You were not signed in",
                format!("What {} sent back could not be checked.", provider.name),
                TRY_AGAIN,
            );
        }
    };
    let email = identity.email.clone().unwrap_or_default();
    let domain_served = email
        .rsplit_once('@')
        .is_some_and(|(_, d)| provider.domains.iter().any(|p| p.eq_ignore_ascii_case(d)));
    // The email must be verified by the provider, and in a domain this provider serves: a
    // provider cannot speak for another organisation's addresses.
    let email_trusted = identity.email_verified && domain_served;
    let by_subject = db::sso::user_for_subject(&state.db, provider.id, &identity.subject).await?;
    let user = match by_subject {
        Some(user) => user,
        None => {
            if !email_trusted {
                db::audit::record(
                    &state.db,
                    &refusal(
                        &provider,
                        &email,
                        ip,
                        None,
                        "email_not_verified_or_not_served",
                    ),
                )
                .await?;
                return refused(
                    StatusCode::FORBIDDEN,
                    "You were not signed in",
                    format!(
                        "{} did not confirm an email address that it looks after for Prevent Assure.",
                        provider.name
                    ),
                    ASK_LEAD,
                );
            }
            let Some(account) = db::users::credentials(&state.db, &email).await? else {
                db::audit::record(
                    &state.db,
                    &refusal(&provider, &email, ip, None, "unknown_email"),
                )
                .await?;
                return refused(
                    StatusCode::FORBIDDEN,
                    "There is no Prevent Assure account for you",
                    format!(
                        "{} signed you in as {email}, and no account has that email address.",
                        provider.name
                    ),
                    ASK_LEAD,
                );
            };
            // First sign-in through this provider: the subject is stored. An account already
            // known by another subject is not opened by this one.
            if db::sso::subject_of(&state.db, provider.id, account.id)
                .await?
                .is_some()
                || !db::sso::link(&state.db, provider.id, &identity.subject, account.id).await?
            {
                db::audit::record(
                    &state.db,
                    &refusal(&provider, &email, ip, Some(account.id), "subject_mismatch"),
                )
                .await?;
                return refused(
                    StatusCode::FORBIDDEN,
                    "You were not signed in",
                    format!(
                        "The account for {email} signs in as a different person at {}.",
                        provider.name
                    ),
                    "If your account at your organisation has been replaced, ask an administrator to forget the old one: the page of your account here has a button for it.",
                );
            }
            // The invitation has done its work: its link no longer opens anything.
            db::tokens::withdraw(&state.db, account.id, db::tokens::Purpose::Invitation).await?;
            account.id
        }
    };
    let Some(account) = account_by_id(state, user).await? else {
        return expired();
    };
    if account.disabled {
        db::audit::record(
            &state.db,
            &refusal(&provider, &account.email, ip, Some(user), "disabled"),
        )
        .await?;
        return refused(
            StatusCode::FORBIDDEN,
            "You were not signed in",
            "Your Prevent Assure account has been disabled.".to_owned(),
            ASK_LEAD,
        );
    }
    let mfa = provider.mfa_from_provider && identity.multi_factor();
    let mut accepted = event(Some(user), &account.email, ip, "sign_in.sso", "user");
    accepted.entity_id = Some(user.to_string());
    accepted.after = Some(serde_json::json!({
        "provider": provider.name,
        "methods": identity.methods,
        "second_factor_from_provider": mfa,
    }));
    db::audit::record(&state.db, &accepted).await?;
    db::users::record_success(&state.db, user).await?;
    if !mfa
        && let Some(next) = crate::web::second_factor::after_password(
            state,
            user,
            &account.email,
            ip,
            "sign_in.sso_accepted",
        )
        .await?
    {
        return Ok(next);
    }
    complete_sign_in(state, user, &account.email, ip, headers, false).await
}

async fn account_by_id(state: &AppState, user: Uuid) -> AppResult<Option<db::users::Credentials>> {
    let mut conn = state.db.acquire().await?;
    let Some(u) = db::users::find(&mut conn, user).await? else {
        return Ok(None);
    };
    drop(conn);
    Ok(db::users::credentials(&state.db, &u.email).await?)
}

// ----- Administration ---------------------------------------------------------------------

#[derive(Default, Deserialize)]
struct ProviderForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    issuer_url: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    domains: String,
    #[serde(default)]
    mfa_from_provider: Option<String>,
    #[serde(default)]
    enabled: Option<String>,
}

impl ProviderForm {
    fn from(p: &IdentityProvider) -> ProviderForm {
        ProviderForm {
            name: p.name.clone(),
            slug: p.slug.clone(),
            issuer_url: p.issuer_url.clone(),
            client_id: p.client_id.clone(),
            domains: p.domains.join("\n"),
            mfa_from_provider: p.mfa_from_provider.then(|| "yes".to_owned()),
            enabled: p.enabled.then(|| "yes".to_owned()),
        }
    }

    fn domain_list(&self) -> Vec<String> {
        let mut list: Vec<String> = self
            .domains
            .split(|c: char| c == ',' || c.is_whitespace())
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .filter(|d| !d.is_empty())
            .collect();
        list.sort();
        list.dedup();
        list
    }

    fn check(&self, errors: &mut Errors) {
        let name = self.name.trim();
        if name.is_empty() {
            errors.add("name", "Enter the provider's name, as people know it");
        } else if name.chars().count() > 120 {
            errors.add("name", "The name must be 120 characters or fewer");
        }
        let slug = self.slug.trim();
        if !is_slug(slug) || slug.len() > 40 {
            errors.add(
                "slug",
                "Enter a short name of lower-case letters, digits and hyphens, like home-office",
            );
        }
        let issuer = self.issuer_url.trim();
        let loopback =
            issuer.starts_with("http://127.0.0.1") || issuer.starts_with("http://localhost");
        if issuer.is_empty() {
            errors.add("issuer_url", "Enter the issuer URL the provider gives, like https://login.microsoftonline.com/your-tenant-id/v2.0");
        } else if !(issuer.starts_with("https://") || loopback)
            || issuer.len() > 500
            || issuer.contains(char::is_whitespace)
        {
            errors.add(
                "issuer_url",
                "Enter the issuer URL starting https://, as the provider gives it",
            );
        }
        let client = self.client_id.trim();
        if client.is_empty() {
            errors.add(
                "client_id",
                "Enter the client ID the provider gave for Prevent Assure",
            );
        } else if client.len() > 300 {
            errors.add("client_id", "The client ID must be 300 characters or fewer");
        }
        let domains = self.domain_list();
        if domains.is_empty() {
            errors.add(
                "domains",
                "Enter at least one email domain, like homeoffice.gov.uk",
            );
        } else if let Some(bad) = domains.iter().find(|d| {
            !d.contains('.')
                || d.len() > 253
                || !d
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
        }) {
            errors.add("domains", format!("“{bad}” is not an email domain: enter domains like homeoffice.gov.uk, one a line"));
        }
    }
}

#[derive(Template)]
#[template(path = "admin/identity_providers.html")]
struct ProvidersPage {
    chrome: Chrome,
    providers: Vec<(IdentityProvider, String, bool)>,
    redirect_uri: String,
    saved: bool,
}

#[derive(Deserialize)]
struct SavedQuery {
    saved: Option<String>,
}

async fn providers(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(q): Query<SavedQuery>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let providers = db::sso::providers(&state.db)
        .await?
        .into_iter()
        .map(|p| {
            let variable = oidc_secret_variable(&p.slug);
            let has_secret = state.settings.oidc_secrets.contains_key(&p.slug);
            (p, variable, has_secret)
        })
        .collect();
    let page = ProvidersPage {
        chrome: Chrome::new(Some(&who), "/admin/identity-providers"),
        providers,
        redirect_uri: redirect_uri(&state),
        saved: q.saved.is_some(),
    };
    Ok(Html(page.render()?).into_response())
}

#[derive(Template)]
#[template(path = "admin/identity_provider.html")]
struct ProviderPage {
    chrome: Chrome,
    id: Option<Uuid>,
    form: ProviderForm,
    errors: Errors,
    redirect_uri: String,
    variable: String,
}

fn provider_page(
    state: &AppState,
    who: &Principal,
    status: StatusCode,
    id: Option<Uuid>,
    form: ProviderForm,
    errors: Errors,
) -> AppResult<Response> {
    let variable = if form.slug.trim().is_empty() {
        oidc_secret_variable("short-name")
    } else {
        oidc_secret_variable(form.slug.trim())
    };
    let page = ProviderPage {
        chrome: Chrome::new(Some(who), "/admin/identity-providers"),
        id,
        form,
        errors,
        redirect_uri: redirect_uri(state),
        variable,
    };
    Ok((status, Html(page.render()?)).into_response())
}

async fn new_provider(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let form = ProviderForm {
        enabled: Some("yes".to_owned()),
        ..ProviderForm::default()
    };
    provider_page(&state, &who, StatusCode::OK, None, form, Errors::default())
}

async fn edit_provider(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let provider = db::sso::provider(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    provider_page(
        &state,
        &who,
        StatusCode::OK,
        Some(id),
        ProviderForm::from(&provider),
        Errors::default(),
    )
}

async fn create_provider(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(form): Form<ProviderForm>,
) -> AppResult<Response> {
    save(state, ip, who, None, form).await
}

async fn update_provider(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
    Form(form): Form<ProviderForm>,
) -> AppResult<Response> {
    save(state, ip, who, Some(id), form).await
}

async fn save(
    state: AppState,
    ip: Option<IpNetwork>,
    who: Principal,
    id: Option<Uuid>,
    form: ProviderForm,
) -> AppResult<Response> {
    authorise(&state, &who, ip, Action::Administer, Object::Service).await?;
    let before = match id {
        Some(id) => Some(
            db::sso::provider(&state.db, id)
                .await?
                .ok_or(AppError::NotFound)?,
        ),
        None => None,
    };
    let mut errors = Errors::default();
    form.check(&mut errors);
    if errors.is_empty() {
        let domains = form.domain_list();
        let fields = ProviderFields {
            slug: form.slug.trim(),
            name: form.name.trim(),
            issuer_url: form.issuer_url.trim().trim_end_matches('/'),
            client_id: form.client_id.trim(),
            mfa_from_provider: form.mfa_from_provider.is_some(),
            enabled: form.enabled.is_some(),
            domains: &domains,
        };
        let mut tx = state.db.begin().await?;
        match db::sso::save_provider(&mut tx, id, &fields).await? {
            Ok(saved) => {
                let mut e = event(
                    Some(who.user_id),
                    &who.email,
                    ip,
                    "identity_provider.saved",
                    "identity_provider",
                );
                e.entity_id = Some(saved.to_string());
                e.before = before.map(|b| provider_json(&ProviderForm::from(&b)));
                e.after = Some(provider_json(&form));
                db::audit::record(&mut *tx, &e).await?;
                tx.commit().await?;
                return Ok(Redirect::to("/admin/identity-providers?saved=1").into_response());
            }
            Err(SaveRefused::Slug) => {
                errors.add("slug", "Another provider has this short name");
            }
            Err(SaveRefused::Domain(d)) => {
                errors.add(
                    "domains",
                    format!("{d} is served by another provider already"),
                );
            }
        }
    }
    provider_page(
        &state,
        &who,
        StatusCode::UNPROCESSABLE_ENTITY,
        id,
        form,
        errors,
    )
}

fn provider_json(f: &ProviderForm) -> serde_json::Value {
    serde_json::json!({
        "name": f.name.trim(),
        "slug": f.slug.trim(),
        "issuer_url": f.issuer_url.trim(),
        "client_id": f.client_id.trim(),
        "domains": f.domain_list(),
        "mfa_from_provider": f.mfa_from_provider.is_some(),
        "enabled": f.enabled.is_some(),
    })
}
