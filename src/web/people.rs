//! A council's people, and its part of the audit trail: for its Prevent lead (and administrators).

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
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
use crate::web::audit_view::{AuditQuery, PAGE_SIZE, Row};
use crate::web::chrome::Chrome;
use crate::web::forms::Errors;
use crate::web::guard::authorise;
use crate::web::invite_form::InviteForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/orgs/{slug}/people", get(people).post(invite_colleague))
        .route("/orgs/{slug}/audit", get(audit))
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
    query: AuditQuery,
    actions: Vec<String>,
    rows: Vec<Row>,
    errors: Errors,
    page: i64,
    more: bool,
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
    let (filter, problems) = query.filter(Some(org.id));
    let mut errors = Errors::default();
    for (field, message) in problems {
        errors.add(field, message);
    }
    let page = query.page();
    let mut events =
        db::audit::list(&state.db, &filter, PAGE_SIZE + 1, (page - 1) * PAGE_SIZE).await?;
    let more = events.len() as i64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let actions = db::audit::actions(&state.db).await?;
    let view = AuditPage {
        chrome: Chrome::new(Some(&who), &format!("/orgs/{slug}/audit")),
        org,
        query,
        actions,
        rows: events.into_iter().map(Row::from).collect(),
        errors,
        page,
        more,
    };
    Ok(Html(view.render()?).into_response())
}
