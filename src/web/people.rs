//! A council's people, and its part of the audit trail: for its Prevent lead (and administrators).

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::auth::{Principal, Role};
use crate::db;
use crate::db::places::Organisation;
use crate::error::{AppError, AppResult};
use crate::web::account::{Invitation, invite};
use crate::web::audit_view::{AuditQuery, Trail};
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, Form, Query};
use crate::web::guard::authorise;
use crate::web::invite_form::InviteForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/people", get(people).post(invite_colleague))
        .route(
            "/orgs/{slug}/second-factor",
            axum::routing::post(require_second_factor),
        )
        .route("/orgs/{slug}/audit", get(audit))
        .route("/orgs/{slug}/audit.json", get(audit_json))
}

async fn council(state: &AppState, slug: &str) -> AppResult<(Organisation, Object)> {
    let org = state
        .caches
        .places(&state.db)
        .await?
        .organisation(slug)
        .cloned()
        .ok_or(AppError::NotFound)?;
    let object = Object::Organisation {
        id: org.id,
        region_id: org.region_id,
    };
    Ok((org, object))
}

#[derive(Template)]
#[template(path = "orgs/people.html")]
struct PeoplePage {
    chrome: Chrome,
    org: Organisation,
    members: Vec<db::users::Member>,
    roles: Vec<Role>,
    form: InviteForm,
    errors: Errors,
    notice: Option<String>,
    /// Whether the council requires a second factor of its people (as stored, or as chosen
    /// when the choice was refused).
    second_factor_required: bool,
    /// Whether the service can seal second-factor secrets (has MFA_KEY): without it the
    /// council cannot require one.
    second_factor_available: bool,
    /// The page shows typing that is not saved (leaving it asks first).
    unsaved: bool,
}

impl PeoplePage {
    fn with_second_factor(&self) -> usize {
        self.members.iter().filter(|m| m.has_second_factor).count()
    }
}

#[derive(Deserialize)]
struct Done {
    invited: Option<String>,
    done: Option<String>,
}

/// The people page with its lists as stored.
async fn people_page(
    state: &AppState,
    who: &Principal,
    org: Organisation,
    form: InviteForm,
    errors: Errors,
    notice: Option<String>,
    chosen: Option<bool>,
) -> AppResult<PeoplePage> {
    let members = db::users::members_of(&state.db, org.id).await?;
    let required = match chosen {
        Some(c) => c,
        None => db::second_factor::council_requires(&state.db, org.id).await?,
    };
    Ok(PeoplePage {
        chrome: Chrome::new(Some(who), &format!("/orgs/{}/people", org.slug)),
        org,
        members,
        roles: Role::COUNCIL.to_vec(),
        form,
        errors,
        notice,
        second_factor_required: required,
        second_factor_available: state.settings.mfa_key.is_some(),
        unsaved: false,
    })
}

async fn people(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(done): Query<Done>,
) -> AppResult<Response> {
    let (org, object) = council(&state, &slug).await?;
    authorise(&state, &who, ip, Action::ManagePeople, object).await?;
    let notice = match (done.invited, done.done.as_deref()) {
        (Some(email), _) => Some(format!(
            "{email} has been given the role. They have been sent an email."
        )),
        (None, Some(done)) => rule_notice(done).map(str::to_owned),
        _ => None,
    };
    let page = people_page(
        &state,
        &who,
        org,
        InviteForm::default(),
        Errors::default(),
        notice,
        None,
    )
    .await?;
    Ok(Html(page.render()?).into_response())
}

/// What the second-factor radios say: `None` when neither was chosen (or the field is absent).
fn chosen_rule(pairs: &[(String, String)]) -> Option<bool> {
    pairs
        .iter()
        .find(|(k, _)| k == "second-factor")
        .and_then(|(_, v)| match v.as_str() {
            "required" => Some(true),
            "optional" => Some(false),
            _ => None,
        })
}

/// The lead requires a second factor of everyone at the council, or makes it optional again
/// (the "Save the second-factor rule" button; also its own address).
async fn require_second_factor(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (org, object) = council(&state, &slug).await?;
    authorise(&state, &who, ip, Action::ManagePeople, object).await?;
    save_rule(&state, &who, ip, org, &pairs).await
}

/// Saves the second-factor rule. An invitation typed on the same page is not sent by this
/// button: it comes back as typed, with a word that it has not gone.
async fn save_rule(
    state: &AppState,
    who: &Principal,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    org: Organisation,
    pairs: &[(String, String)],
) -> AppResult<Response> {
    let chosen = chosen_rule(pairs);
    let form = InviteForm::from_pairs(pairs);
    let mut errors = Errors::default();
    match chosen {
        None => errors.add(
            "second-factor",
            "Choose whether everyone here must use a second factor",
        ),
        Some(true) if state.settings.mfa_key.is_none() => errors.add(
            "second-factor",
            "This service has no key for second factors (MFA_KEY), so none can be required yet: ask your administrator",
        ),
        _ => {}
    }
    let Some(required) = chosen.filter(|_| errors.is_empty()) else {
        let mut page = people_page(state, who, org, form, errors, None, chosen).await?;
        page.unsaved = true;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let mut tx = state.db.begin().await?;
    if db::second_factor::set_council_requires(&mut tx, org.id, required).await? {
        let mut e = crate::web::account::event(
            Some(who.user_id),
            &who.email,
            ip,
            "mfa.council_required",
            "organisation",
        );
        e.entity_id = Some(org.id.to_string());
        e.organisation_id = Some(org.id);
        e.region_id = Some(org.region_id);
        e.before = Some(serde_json::json!({ "second_factor_required": !required }));
        e.after = Some(serde_json::json!({ "second_factor_required": required }));
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    let done = if required {
        "second-factor-required"
    } else {
        "second-factor-optional"
    };
    if form.is_blank() {
        return Ok(Redirect::to(&format!("/orgs/{}/people?done={done}", org.slug)).into_response());
    }
    let notice = format!(
        "{} The invitation you typed has not been sent yet: check it below and press Send invitation.",
        rule_notice(done).unwrap_or_default()
    );
    let mut page = people_page(state, who, org, form, errors, Some(notice), None).await?;
    page.unsaved = true;
    Ok(Html(page.render()?).into_response())
}

fn rule_notice(done: &str) -> Option<&'static str> {
    match done {
        "second-factor-required" => Some(
            "Everyone with a role here must now use a second factor: those who have not set one up are asked to at their next sign-in.",
        ),
        "second-factor-optional" => Some(
            "A second factor is now optional here (advisers and administrators must still use one).",
        ),
        _ => None,
    }
}

/// The people page's one form: "Send invitation", or "Save the second-factor rule".
async fn invite_colleague(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    let (org, object) = council(&state, &slug).await?;
    authorise(&state, &who, ip, Action::ManagePeople, object).await?;
    if pairs
        .iter()
        .any(|(k, v)| k == "intent" && v == "second-factor")
    {
        return save_rule(&state, &who, ip, org, &pairs).await;
    }
    let form = InviteForm::from_pairs(&pairs);
    // A rule chosen on the page but not saved stays as chosen (this button does not save it).
    let chosen = chosen_rule(&pairs);
    let stored = db::second_factor::council_requires(&state.db, org.id).await?;
    let rule_changed = chosen.is_some_and(|c| c != stored);
    let mut errors = Errors::default();
    let role = form.check(&Role::COUNCIL, &mut errors);
    if let Some(role) = role {
        authorise(&state, &who, ip, Action::Invite(role), object).await?;
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        let mut page = people_page(&state, &who, org, form, errors, None, chosen).await?;
        page.unsaved = true;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, Html(page.render()?)).into_response());
    };
    let invitation = Invitation {
        email: form.email.clone(),
        name: form.name.clone(),
        role,
        organisation: Some((org.id, org.region_id, org.name.clone())),
        region: None,
        sections: form.sections.clone(),
    };
    invite(&state.db, &state.settings, Some((&who, ip)), &invitation).await?;
    if rule_changed {
        let notice = format!(
            "{} has been given the role. They have been sent an email. The second-factor rule you chose has not been saved yet: press Save the second-factor rule.",
            form.email
        );
        let mut page = people_page(
            &state,
            &who,
            org,
            InviteForm::default(),
            Errors::default(),
            Some(notice),
            chosen,
        )
        .await?;
        page.unsaved = true;
        return Ok(Html(page.render()?).into_response());
    }
    let email = serde_urlencoded::to_string([("invited", form.email.as_str())]).unwrap_or_default();
    Ok(Redirect::to(&format!("/orgs/{slug}/people?{email}")).into_response())
}

#[derive(Template)]
#[template(path = "orgs/audit.html")]
struct AuditPage {
    chrome: Chrome,
    org: Organisation,
    trail: Trail,
    json_href: String,
}

async fn audit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    let (org, object) = council(&state, &slug).await?;
    authorise(&state, &who, ip, Action::ViewAudit, object).await?;
    let trail = Trail::load(&state, query, Some(org.id)).await?;
    let filters = trail.query.filters();
    let view = AuditPage {
        chrome: Chrome::new(Some(&who), &format!("/orgs/{slug}/audit")),
        json_href: format!("/orgs/{slug}/audit.json?{filters}"),
        org,
        trail,
    };
    Ok(Html(view.render()?).into_response())
}

/// The council's trail as recorded, for auditors.
async fn audit_json(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    let (org, object) = council(&state, &slug).await?;
    authorise(&state, &who, ip, Action::ViewAudit, object).await?;
    let address = format!("/orgs/{slug}/audit.json");
    let body = Trail::download(&state, query, Some(org.id), &address).await?;
    Ok(crate::web::audit_view::json_download(
        &body,
        &format!("audit-{slug}.json"),
    ))
}
