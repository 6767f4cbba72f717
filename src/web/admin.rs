//! Administration: regions, councils, users and their roles, cycles, the audit trail, the outbox.

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use sqlx::types::ipnetwork::IpNetwork;
use time::{Date, Month};
use uuid::Uuid;

use crate::app::AppState;
use crate::auth::policy::{Action, Object};
use crate::auth::session::ClientIp;
use crate::auth::{Membership, Principal, Role};
use crate::db;
use crate::db::places::{CreateError, Cycle, Organisation, Region};
use crate::error::{AppError, AppResult};
use crate::web::account::{Invitation, event, invite};
use crate::web::audit_view::{AuditQuery, Trail};
use crate::web::chrome::Chrome;
use crate::web::forms::{Errors, is_slug};
use crate::web::forms::{Form, Query};
use crate::web::guard::authorise;
use crate::web::invite_form::InviteForm;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(index))
        .route("/admin/regions", get(regions).post(create_region))
        .route("/admin/councils", get(councils).post(create_council))
        .route("/admin/users", get(users))
        .route("/admin/users/new", get(new_user).post(invite_user))
        .route("/admin/users/{id}", get(user))
        .route("/admin/users/{id}/unlock", post(unlock))
        .route("/admin/users/{id}/disable", post(disable))
        .route("/admin/users/{id}/enable", post(enable))
        .route(
            "/admin/users/{id}/memberships/{membership}/remove",
            post(remove_membership),
        )
        .route("/admin/cycles", get(cycles).post(create_cycle))
        .route("/admin/audit", get(audit))
        .route("/admin/audit.json", get(audit_json))
        .route("/admin/outbox", get(outbox))
}

async fn admin_only(state: &AppState, who: &Principal, ip: Option<IpNetwork>) -> AppResult<()> {
    authorise(state, who, ip, Action::Administer, Object::Service).await
}

fn render(status: StatusCode, page: impl Template) -> AppResult<Response> {
    Ok((status, Html(page.render()?)).into_response())
}

#[derive(Template)]
#[template(path = "admin/index.html")]
struct IndexPage {
    chrome: Chrome,
}

async fn index(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    render(
        StatusCode::OK,
        IndexPage {
            chrome: Chrome::new(Some(&who), "/admin"),
        },
    )
}

// ----- Regions and councils ---------------------------------------------------------------

#[derive(Default, Deserialize)]
struct PlaceForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    slug: String,
    #[serde(default)]
    region: String,
}

#[derive(Template)]
#[template(path = "admin/regions.html")]
struct RegionsPage {
    chrome: Chrome,
    regions: Vec<Region>,
    form: PlaceForm,
    errors: Errors,
}

async fn regions(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let regions = db::places::regions(&state.db).await?;
    render(
        StatusCode::OK,
        RegionsPage {
            chrome: Chrome::new(Some(&who), "/admin/regions"),
            regions,
            form: PlaceForm::default(),
            errors: Errors::default(),
        },
    )
}

fn check_place(form: &PlaceForm, errors: &mut Errors) {
    if form.name.trim().is_empty() {
        errors.add("name", "Enter the name");
    } else if form.name.trim().chars().count() > 200 {
        errors.add("name", "The name must be 200 characters or fewer");
    }
    if !is_slug(form.slug.trim()) {
        errors.add("slug", "Enter the short name used in addresses: lower-case letters, digits and hyphens, like north-vale");
    }
}

async fn create_region(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(form): Form<PlaceForm>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let mut errors = Errors::default();
    check_place(&form, &mut errors);
    if errors.is_empty() {
        let mut tx = state.db.begin().await?;
        match db::places::insert_region(&mut tx, form.slug.trim(), form.name.trim()).await {
            Ok(id) => {
                let mut e = event(
                    Some(who.user_id),
                    &who.email,
                    ip,
                    "region.created",
                    "region",
                );
                e.entity_id = Some(id.to_string());
                e.region_id = Some(id);
                e.after =
                    Some(serde_json::json!({ "name": form.name.trim(), "slug": form.slug.trim() }));
                db::audit::record(&mut *tx, &e).await?;
                tx.commit().await?;
                return Ok(Redirect::to("/admin/regions").into_response());
            }
            Err(CreateError::Duplicate) => {
                errors.add("slug", "A region with this short name already exists")
            }
            Err(CreateError::Database(e)) => return Err(e.into()),
        }
    }
    let regions = db::places::regions(&state.db).await?;
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        RegionsPage {
            chrome: Chrome::new(Some(&who), "/admin/regions"),
            regions,
            form,
            errors,
        },
    )
}

#[derive(Template)]
#[template(path = "admin/councils.html")]
struct CouncilsPage {
    chrome: Chrome,
    councils: Vec<Organisation>,
    regions: Vec<Region>,
    form: PlaceForm,
    errors: Errors,
}

async fn councils(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let councils = db::places::organisations(&state.db).await?;
    let regions = db::places::regions(&state.db).await?;
    render(
        StatusCode::OK,
        CouncilsPage {
            chrome: Chrome::new(Some(&who), "/admin/councils"),
            councils,
            regions,
            form: PlaceForm::default(),
            errors: Errors::default(),
        },
    )
}

async fn create_council(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(form): Form<PlaceForm>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let regions = db::places::regions(&state.db).await?;
    let mut errors = Errors::default();
    check_place(&form, &mut errors);
    let region = form
        .region
        .parse::<Uuid>()
        .ok()
        .filter(|id| regions.iter().any(|r| r.id == *id));
    if region.is_none() {
        errors.add("region", "Choose the council's region");
    }
    if let (true, Some(region)) = (errors.is_empty(), region) {
        let mut tx = state.db.begin().await?;
        match db::places::insert_organisation(&mut tx, form.slug.trim(), form.name.trim(), region)
            .await
        {
            Ok(id) => {
                let mut e = event(
                    Some(who.user_id),
                    &who.email,
                    ip,
                    "organisation.created",
                    "organisation",
                );
                e.entity_id = Some(id.to_string());
                e.organisation_id = Some(id);
                e.region_id = Some(region);
                e.after =
                    Some(serde_json::json!({ "name": form.name.trim(), "slug": form.slug.trim() }));
                db::audit::record(&mut *tx, &e).await?;
                tx.commit().await?;
                return Ok(Redirect::to("/admin/councils").into_response());
            }
            Err(CreateError::Duplicate) => {
                errors.add("slug", "A council with this short name already exists")
            }
            Err(CreateError::Database(e)) => return Err(e.into()),
        }
    }
    let councils = db::places::organisations(&state.db).await?;
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        CouncilsPage {
            chrome: Chrome::new(Some(&who), "/admin/councils"),
            councils,
            regions,
            form,
            errors,
        },
    )
}

// ----- Users ------------------------------------------------------------------------------

const USERS_PER_PAGE: i64 = 50;

#[derive(Deserialize)]
struct UsersQuery {
    #[serde(default)]
    q: String,
    /// The page starts after this email address (the next page).
    after: Option<String>,
    /// The page ends before this email address (the previous page).
    before: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<db::users::User>,
    q: String,
    /// Where the previous and next pages start, when there are such pages.
    previous: Option<String>,
    next: Option<String>,
}

impl UsersPage {
    fn status(&self, u: &db::users::User) -> &'static str {
        if u.disabled_at.is_some() {
            "Disabled"
        } else if u
            .locked_until
            .is_some_and(|t| t > time::OffsetDateTime::now_utc())
        {
            "Locked"
        } else if !u.has_password && !u.signs_in_with_sso {
            "Invited"
        } else {
            "Active"
        }
    }

    fn signs_in_with(&self, u: &db::users::User) -> &'static str {
        match (u.has_password, u.signs_in_with_sso) {
            (true, true) => "Password or single sign-on",
            (false, true) => "Single sign-on",
            (true, false) => "Password",
            (false, false) => "Not yet signed in",
        }
    }
}

async fn users(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(q): Query<UsersQuery>,
) -> AppResult<Response> {
    use db::users::UsersPage as Key;
    admin_only(&state, &who, ip).await?;
    // A key longer than any email address is not one of ours: the first page instead.
    let clean =
        |k: Option<String>| k.filter(|k| !k.is_empty() && k.len() <= 320 && !k.contains('\0'));
    let key = match (clean(q.after), clean(q.before)) {
        (_, Some(before)) => Key::Before(before),
        (Some(after), None) => Key::After(after),
        (None, None) => Key::After(String::new()),
    };
    let search: String = q.q.trim().chars().filter(|c| *c != '\0').collect();
    let mut users = db::users::list(&state.db, &search, &key, USERS_PER_PAGE + 1).await?;
    let mut beyond = users.len() as i64 > USERS_PER_PAGE;
    // Going back to the start (fewer than a page before the key): the first page, full.
    let key = if matches!(key, Key::Before(_)) && !beyond {
        let first = Key::After(String::new());
        users = db::users::list(&state.db, &search, &first, USERS_PER_PAGE + 1).await?;
        beyond = users.len() as i64 > USERS_PER_PAGE;
        first
    } else {
        key
    };
    let (previous, next) = match &key {
        Key::After(after) => {
            users.truncate(USERS_PER_PAGE as usize);
            (!after.is_empty(), beyond)
        }
        Key::Before(_) => {
            if beyond {
                users.remove(0);
            }
            (beyond, true)
        }
    };
    let previous = previous
        .then(|| users.first().map(|u| u.email.clone()))
        .flatten();
    let next = next
        .then(|| users.last().map(|u| u.email.clone()))
        .flatten();
    render(
        StatusCode::OK,
        UsersPage {
            chrome: Chrome::new(Some(&who), "/admin/users"),
            users,
            q: q.q,
            previous,
            next,
        },
    )
}

#[derive(Template)]
#[template(path = "admin/new_user.html")]
struct NewUserPage {
    chrome: Chrome,
    roles: Vec<Role>,
    councils: Vec<Organisation>,
    regions: Vec<Region>,
    form: InviteForm,
    errors: Errors,
}

async fn new_user_page(
    state: &AppState,
    who: &Principal,
    form: InviteForm,
    errors: Errors,
) -> AppResult<NewUserPage> {
    Ok(NewUserPage {
        chrome: Chrome::new(Some(who), "/admin/users"),
        roles: Role::ALL.to_vec(),
        councils: db::places::organisations(&state.db).await?,
        regions: db::places::regions(&state.db).await?,
        form,
        errors,
    })
}

async fn new_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    render(
        StatusCode::OK,
        new_user_page(&state, &who, InviteForm::default(), Errors::default()).await?,
    )
}

async fn invite_user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(pairs): Form<Vec<(String, String)>>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let form = InviteForm::from_pairs(&pairs);
    let mut errors = Errors::default();
    let role = form.check(&Role::ALL, &mut errors);
    let councils = db::places::organisations(&state.db).await?;
    let regions = db::places::regions(&state.db).await?;
    let council = form
        .organisation_id()
        .and_then(|id| councils.iter().find(|c| c.id == id));
    let region = form
        .region_id()
        .and_then(|id| regions.iter().find(|r| r.id == id));
    match role {
        Some(r) if r.is_council_role() && council.is_none() => {
            errors.add("organisation", "Choose the council")
        }
        Some(Role::Adviser) if region.is_none() => {
            errors.add("region", "Choose the adviser's region")
        }
        _ => {}
    }
    let Some(role) = role.filter(|_| errors.is_empty()) else {
        return render(
            StatusCode::UNPROCESSABLE_ENTITY,
            new_user_page(&state, &who, form, errors).await?,
        );
    };
    let invitation = Invitation {
        email: form.email.clone(),
        name: form.name.clone(),
        role,
        organisation: council
            .filter(|_| role.is_council_role())
            .map(|c| (c.id, c.region_id, c.name.clone())),
        region: region
            .filter(|_| role == Role::Adviser)
            .map(|r| (r.id, r.name.clone())),
        sections: form.sections.clone(),
    };
    let invited = invite(&state.db, &state.settings, Some((&who, ip)), &invitation).await?;
    Ok(Redirect::to(&format!("/admin/users/{}", invited.user_id)).into_response())
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    chrome: Chrome,
    user: db::users::User,
    memberships: Vec<Membership>,
    locked: bool,
    sessions: i64,
    /// When the second factor was set up (UK time), if it is on.
    second_factor: Option<String>,
    recovery_left: i64,
}

async fn user(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let mut conn = state.db.acquire().await?;
    let user = db::users::find(&mut conn, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let memberships = db::users::memberships(&mut conn, id).await?;
    let factor = db::second_factor::factor(&mut conn, id).await?;
    drop(conn);
    let sessions = db::sessions::count_for_user(&state.db, id).await?;
    let locked = user
        .locked_until
        .is_some_and(|t| t > time::OffsetDateTime::now_utc());
    render(
        StatusCode::OK,
        UserPage {
            chrome: Chrome::new(Some(&who), "/admin/users"),
            user,
            memberships,
            locked,
            sessions,
            second_factor: factor
                .as_ref()
                .and_then(|f| f.enabled_at)
                .map(crate::domain::uk_time),
            recovery_left: factor.map_or(0, |f| f.recovery_left),
        },
    )
}

/// Runs a change to a user and records it, then returns to their page.
async fn change_user(
    state: &AppState,
    who: &Principal,
    ip: Option<IpNetwork>,
    id: Uuid,
    action: &'static str,
) -> AppResult<Response> {
    let mut tx = state.db.begin().await?;
    let before = db::users::find(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    match action {
        "user.unlocked" => db::users::unlock(&mut tx, id).await?,
        "user.disabled" => {
            db::users::set_disabled(&mut tx, id, true).await?;
            db::sessions::delete_for_user(&mut *tx, id, None).await?;
        }
        _ => db::users::set_disabled(&mut tx, id, false).await?,
    }
    let after = db::users::find(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut e = event(Some(who.user_id), &who.email, ip, action, "user");
    e.entity_id = Some(id.to_string());
    let summary = |u: &db::users::User| {
        serde_json::json!({
            "email": u.email, "disabled": u.disabled_at.is_some(),
            "locked_until": u.locked_until.map(|t| t.to_string()), "failed_sign_ins": u.failed_sign_ins,
        })
    };
    e.before = Some(summary(&before));
    e.after = Some(summary(&after));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

async fn unlock(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    change_user(&state, &who, ip, id, "user.unlocked").await
}

async fn disable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    change_user(&state, &who, ip, id, "user.disabled").await
}

async fn enable(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path(id): Path<Uuid>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    change_user(&state, &who, ip, id, "user.enabled").await
}

async fn remove_membership(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Path((id, membership)): Path<(Uuid, Uuid)>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let mut tx = state.db.begin().await?;
    let held = db::users::memberships(&mut tx, id).await?;
    let removed = held
        .into_iter()
        .find(|m| m.id == membership)
        .ok_or(AppError::NotFound)?;
    db::users::remove_membership(&mut tx, id, membership).await?;
    let mut e = event(
        Some(who.user_id),
        &who.email,
        ip,
        "membership.removed",
        "user",
    );
    e.entity_id = Some(id.to_string());
    e.organisation_id = removed.organisation_id;
    e.region_id = removed.region_id;
    e.before =
        Some(serde_json::json!({ "role": removed.role.code(), "where": removed.describe() }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/users/{id}")).into_response())
}

// ----- Cycles -----------------------------------------------------------------------------

#[derive(Default, Deserialize)]
struct CycleForm {
    /// The financial year as people write it: "2026/27".
    #[serde(default)]
    label: String,
    #[serde(default, rename = "opens-day")]
    opens_day: String,
    #[serde(default, rename = "opens-month")]
    opens_month: String,
    #[serde(default, rename = "opens-year")]
    opens_year: String,
    #[serde(default, rename = "deadline-day")]
    deadline_day: String,
    #[serde(default, rename = "deadline-month")]
    deadline_month: String,
    #[serde(default, rename = "deadline-year")]
    deadline_year: String,
    /// The Channel statement's own deadline (blank: the cycle's).
    #[serde(default, rename = "statement-day")]
    statement_day: String,
    #[serde(default, rename = "statement-month")]
    statement_month: String,
    #[serde(default, rename = "statement-year")]
    statement_year: String,
    /// "yes" when the cycle does not open the Channel statement.
    #[serde(default, rename = "no-statement")]
    no_statement: String,
}

/// The year a financial year starts, from "2026/27" (also "2026-27", "2026/2027", "2026 to 2027").
fn financial_year(text: &str) -> Option<i32> {
    let text = text.trim().replace(" to ", "/").replace(['-', '–'], "/");
    let (first, second) = text.split_once('/')?;
    let start: i32 = first.trim().parse().ok()?;
    let second = second.trim();
    let follows = match second.len() {
        2 => second.parse::<i32>().ok()? == (start + 1) % 100,
        4 => second.parse::<i32>().ok()? == start + 1,
        _ => false,
    };
    (follows && (2015..=2100).contains(&start)).then_some(start)
}

/// "2026/27" for the financial year starting in 2026.
fn cycle_label(start: i32) -> String {
    format!("{start}/{:02}", (start + 1) % 100)
}

fn date_from(day: &str, month: &str, year: &str) -> Option<Date> {
    let month = Month::try_from(month.trim().parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year.trim().parse().ok()?, month, day.trim().parse().ok()?).ok()
}

/// One GOV.UK date input of the cycle form, as typed.
struct DateField {
    prefix: &'static str,
    error_field: &'static str,
    legend: &'static str,
    hint: &'static str,
    day: String,
    month: String,
    year: String,
}

#[derive(Template)]
#[template(path = "admin/cycles.html")]
struct CyclesPage {
    chrome: Chrome,
    cycles: Vec<Cycle>,
    /// Each cycle's Channel statement: its deadline, or not open.
    statements: Vec<(Uuid, String)>,
    no_statement: bool,
    label: String,
    /// The next financial years not yet added, as examples to type.
    next: Vec<String>,
    dates: Vec<DateField>,
    errors: Errors,
}

impl CyclesPage {
    fn new(
        who: &Principal,
        cycles: Vec<Cycle>,
        said: Vec<(Uuid, db::places::CycleFramework)>,
        statement_codes: &[String],
        form: CycleForm,
        errors: Errors,
    ) -> CyclesPage {
        let statements = cycles
            .iter()
            .map(|c| {
                let row = said
                    .iter()
                    .find(|(id, f)| *id == c.id && statement_codes.contains(&f.framework_code));
                let text = match row {
                    Some((_, f)) if !f.open => "Not open".to_owned(),
                    Some((_, f)) => crate::domain::long_date(f.deadline),
                    None => crate::domain::long_date(c.deadline),
                };
                (c.id, text)
            })
            .collect();
        let this_year = time::OffsetDateTime::now_utc().year();
        let next = (this_year - 1..this_year + 4)
            .map(cycle_label)
            .filter(|l| !cycles.iter().any(|c| c.label == *l))
            .take(3)
            .collect();
        CyclesPage {
            chrome: Chrome::new(Some(who), "/admin/cycles"),
            statements,
            no_statement: form.no_statement == "yes",
            next,
            cycles,
            label: form.label,
            dates: vec![
                DateField {
                    prefix: "opens",
                    error_field: "opens-day",
                    legend: "The assessment opens on",
                    hint: "For example, 1 10 2026",
                    day: form.opens_day,
                    month: form.opens_month,
                    year: form.opens_year,
                },
                DateField {
                    prefix: "deadline",
                    error_field: "deadline-day",
                    legend: "Deadline for submission",
                    hint: "For example, 31 1 2027",
                    day: form.deadline_day,
                    month: form.deadline_month,
                    year: form.deadline_year,
                },
                DateField {
                    prefix: "statement",
                    error_field: "statement-day",
                    legend: "The Channel Panel assurance statement is due by",
                    hint: "Leave it blank for the same deadline. For example, 19 4 2027",
                    day: form.statement_day,
                    month: form.statement_month,
                    year: form.statement_year,
                },
            ],
            errors,
        }
    }

    fn date(&self, d: &Date) -> String {
        crate::domain::long_date(*d)
    }
    fn statement_of(&self, id: &Uuid) -> &str {
        self.statements
            .iter()
            .find(|(c, _)| c == id)
            .map_or("", |(_, t)| t.as_str())
    }
}

/// The codes of the loaded Channel statement frameworks (by their kind, not a name written
/// here: a new Home Office edition is a new file, and its cycles are set the same way).
fn statement_codes(state: &AppState) -> Vec<String> {
    state
        .frameworks
        .all()
        .iter()
        .filter(|f| f.kind == crate::framework::Instrument::ChannelStatement)
        .map(|f| f.code.clone())
        .collect()
}

async fn cycles(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let cycles = db::places::cycles(&state.db).await?;
    render(
        StatusCode::OK,
        CyclesPage::new(
            &who,
            cycles,
            db::places::all_cycle_frameworks(&state.db).await?,
            &statement_codes(&state),
            CycleForm::default(),
            Errors::default(),
        ),
    )
}

async fn create_cycle(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Form(form): Form<CycleForm>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let mut errors = Errors::default();
    let year = financial_year(&form.label);
    if year.is_none() {
        errors.add(
            "label",
            "Enter the financial year as two years one after the other, like 2026/27",
        );
    }
    let opens = date_from(&form.opens_day, &form.opens_month, &form.opens_year);
    if opens.is_none() {
        errors.add(
            "opens-day",
            "Enter the date the assessment opens, as a real date like 1 10 2026",
        );
    }
    let deadline = date_from(
        &form.deadline_day,
        &form.deadline_month,
        &form.deadline_year,
    );
    if deadline.is_none() {
        errors.add(
            "deadline-day",
            "Enter the deadline for submission, as a real date like 31 1 2027",
        );
    }
    if let (Some(o), Some(d)) = (opens, deadline)
        && d < o
    {
        errors.add(
            "deadline-day",
            "The deadline must be on or after the opening date",
        );
    }
    let statement_typed = [
        &form.statement_day,
        &form.statement_month,
        &form.statement_year,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    let statement_due = if statement_typed {
        let due = date_from(
            &form.statement_day,
            &form.statement_month,
            &form.statement_year,
        );
        match (due, opens) {
            (None, _) => {
                errors.add(
                    "statement-day",
                    "Enter the Channel statement's deadline as a real date like 19 4 2027, or leave it blank",
                );
                None
            }
            (Some(d), Some(o)) if d < o => {
                errors.add(
                    "statement-day",
                    "The Channel statement's deadline must be on or after the opening date",
                );
                None
            }
            (due, _) => due,
        }
    } else {
        deadline
    };
    if let (true, Some(year), Some(opens), Some(deadline)) =
        (errors.is_empty(), year, opens, deadline)
    {
        let label = cycle_label(year);
        let starts = Date::from_calendar_date(year, Month::April, 1)
            .map_err(|e| AppError::Internal(e.into()))?;
        let mut tx = state.db.begin().await?;
        match db::places::insert_cycle(&mut tx, &label, starts, opens, deadline).await {
            Ok(id) => {
                // Both instruments open unless said otherwise, each with its deadline.
                let open = form.no_statement != "yes";
                for code in statement_codes(&state) {
                    db::places::set_cycle_framework(
                        &mut tx,
                        id,
                        &code,
                        open,
                        statement_due.unwrap_or(deadline),
                    )
                    .await?;
                }
                let mut e = event(Some(who.user_id), &who.email, ip, "cycle.created", "cycle");
                e.entity_id = Some(id.to_string());
                e.after = Some(serde_json::json!({
                    "label": label, "opens_on": opens.to_string(), "deadline": deadline.to_string(),
                    "channel_statement": if open { statement_due.unwrap_or(deadline).to_string() } else { "not open".to_owned() },
                }));
                db::audit::record(&mut *tx, &e).await?;
                tx.commit().await?;
                return Ok(Redirect::to("/admin/cycles").into_response());
            }
            Err(CreateError::Duplicate) => {
                errors.add("label", format!("The cycle {label} already exists"))
            }
            Err(CreateError::Database(e)) => return Err(e.into()),
        }
    }
    let cycles = db::places::cycles(&state.db).await?;
    let said = db::places::all_cycle_frameworks(&state.db).await?;
    render(
        StatusCode::UNPROCESSABLE_ENTITY,
        CyclesPage::new(&who, cycles, said, &statement_codes(&state), form, errors),
    )
}

// ----- The audit trail and the outbox -----------------------------------------------------

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    chrome: Chrome,
    trail: Trail,
    json_href: String,
}

async fn audit(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let trail = Trail::load(&state, query, None).await?;
    let json_href = format!("/admin/audit.json?{}", trail.query.filters());
    render(
        StatusCode::OK,
        AuditPage {
            chrome: Chrome::new(Some(&who), "/admin/audit"),
            trail,
            json_href,
        },
    )
}

/// The whole trail as recorded, for auditors.
async fn audit_json(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
    Query(query): Query<AuditQuery>,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let body = Trail::download(&state, query, None, "/admin/audit.json").await?;
    Ok(crate::web::audit_view::json_download(&body, "audit.json"))
}

#[derive(Template)]
#[template(path = "admin/outbox.html")]
struct OutboxPage {
    chrome: Chrome,
    mail: Vec<db::outbox::Mail>,
}

async fn outbox(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    who: Principal,
) -> AppResult<Response> {
    admin_only(&state, &who, ip).await?;
    let mail = db::outbox::latest(&state.db, 100).await?;
    render(
        StatusCode::OK,
        OutboxPage {
            chrome: Chrome::new(Some(&who), "/admin/outbox"),
            mail,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_financial_year_is_typed_as_people_write_it() {
        assert_eq!(financial_year("2021/22"), Some(2021));
        assert_eq!(financial_year(" 2021-22 "), Some(2021));
        assert_eq!(financial_year("2021/2022"), Some(2021));
        assert_eq!(financial_year("2021 to 2022"), Some(2021));
        assert_eq!(financial_year("2099/00"), Some(2099));
        for wrong in ["2021", "2021/23", "21/22", "2021/2023", "next year", ""] {
            assert_eq!(financial_year(wrong), None, "{wrong:?}");
        }
        assert_eq!(cycle_label(2021), "2021/22");
    }
}
