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
use crate::web::forms::Errors;
use crate::web::forms::Query;
use crate::web::guard::authorise;
use crate::web::invite_form::InviteForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/people", get(people).post(invite_colleague))
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
}

#[derive(Deserialize)]
struct Done {
    invited: Option<String>,
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
    let members = db::users::members_of(&state.db, org.id).await?;
    let page = PeoplePage {
        chrome: Chrome::new(Some(&who), &format!("/orgs/{slug}/people")),
        org,
        members,
        roles: Role::COUNCIL.to_vec(),
        form: InviteForm::default(),
        errors: Errors::default(),
        notice: done
            .invited
            .map(|email| format!("{email} has been given the role. They have been sent an email.")),
    };
    Ok(Html(page.render()?).into_response())
}

async fn invite_colleague(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(slug): Path<String>,
    body: String,
) -> AppResult<Response> {
    let (org, object) = council(&state, &slug).await?;
    authorise(&state, &who, ip, Action::ManagePeople, object).await?;
    let form = InviteForm::from_body(&body);
    let mut errors = Errors::default();
    let role = form.check(&Role::COUNCIL, &mut errors);
    if let Some(role) = role {
        authorise(&state, &who, ip, Action::Invite(role), object).await?;
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        let members = db::users::members_of(&state.db, org.id).await?;
        let page = PeoplePage {
            chrome: Chrome::new(Some(&who), &format!("/orgs/{slug}/people")),
            org,
            members,
            roles: Role::COUNCIL.to_vec(),
            form,
            errors,
            notice: None,
        };
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
