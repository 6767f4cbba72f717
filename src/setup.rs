//! Setting up a deployment from the command line: regions, councils, people and their roles,
//! so that an operator can script it. Each command checks its input first (a bad value is a
//! message and exit code 2, nothing changed) and records what it did in the audit trail as
//! "command line".

use sqlx::PgPool;
use uuid::Uuid;

use crate::auth::Role;
use crate::auth::password;
use crate::config::Secret;
use crate::db;
use crate::db::audit::NewEvent;
use crate::web::forms::{clean_text, is_email, is_slug};

/// Input the command cannot use, said in words.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Bad(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<sqlx::Error> for SetupError {
    fn from(e: sqlx::Error) -> Self {
        SetupError::Other(e.into())
    }
}

fn bad<T>(message: impl Into<String>) -> Result<T, SetupError> {
    Err(SetupError::Bad(message.into()))
}

fn event(action: &'static str, entity_type: &'static str, entity_id: String) -> NewEvent {
    NewEvent {
        actor_id: None,
        actor_label: "command line".to_owned(),
        ip: None,
        action,
        entity_type,
        entity_id: Some(entity_id),
        organisation_id: None,
        region_id: None,
        before: None,
        after: None,
    }
}

fn name(value: &str, what: &str) -> Result<String, SetupError> {
    let value = clean_text(value).trim().to_owned();
    if value.is_empty() {
        return bad(format!("Give the {what}"));
    }
    if value.chars().count() > 200 {
        return bad(format!("The {what} must be 200 characters or fewer"));
    }
    Ok(value)
}

fn slug(value: &str, what: &str) -> Result<String, SetupError> {
    let value = value.trim().to_owned();
    if !is_slug(&value) {
        return bad(format!(
            "The {what} {value:?} is not a valid address part: lower-case letters, digits and single hyphens"
        ));
    }
    Ok(value)
}

pub async fn create_region(pool: &PgPool, slug_: &str, name_: &str) -> Result<Uuid, SetupError> {
    let (slug, name) = (slug(slug_, "region's slug")?, name(name_, "region's name")?);
    let mut tx = pool.begin().await?;
    let id = match db::places::insert_region(&mut tx, &slug, &name).await {
        Ok(id) => id,
        Err(db::places::CreateError::Duplicate) => {
            return bad(format!("A region with the slug {slug:?} already exists"));
        }
        Err(db::places::CreateError::Database(e)) => return Err(e.into()),
    };
    let mut e = event("region.created", "region", id.to_string());
    e.region_id = Some(id);
    e.after = Some(serde_json::json!({ "slug": slug, "name": name }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn create_org(
    pool: &PgPool,
    slug_: &str,
    name_: &str,
    region: &str,
) -> Result<Uuid, SetupError> {
    let (slug, name) = (
        slug(slug_, "council's slug")?,
        name(name_, "council's name")?,
    );
    let mut tx = pool.begin().await?;
    let Some(region_id) = db::places::region_id(&mut tx, region.trim()).await? else {
        return bad(format!(
            "There is no region {region:?} (create-region adds one)"
        ));
    };
    let id = match db::places::insert_organisation(&mut tx, &slug, &name, region_id).await {
        Ok(id) => id,
        Err(db::places::CreateError::Duplicate) => {
            return bad(format!("A council with the slug {slug:?} already exists"));
        }
        Err(db::places::CreateError::Database(e)) => return Err(e.into()),
    };
    let mut e = event("organisation.created", "organisation", id.to_string());
    e.organisation_id = Some(id);
    e.region_id = Some(region_id);
    e.after = Some(serde_json::json!({ "slug": slug, "name": name, "region": region }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(id)
}

/// Where a role is held.
pub struct Place<'a> {
    pub org: Option<&'a str>,
    pub region: Option<&'a str>,
    /// A contributor's benchmarks.
    pub sections: &'a [i32],
}

/// Checks that the role names the place it needs; (organisation, region, sections).
async fn placed(
    conn: &mut sqlx::PgConnection,
    role: Role,
    place: &Place<'_>,
) -> Result<(Option<Uuid>, Option<Uuid>, Option<Vec<i32>>), SetupError> {
    let council = matches!(
        role,
        Role::Lead | Role::Contributor | Role::Board | Role::Owner | Role::Signatory
    );
    match (council, role, place.org, place.region) {
        (true, _, Some(org), None) => {
            let Some(id) = db::places::organisation_id(conn, org.trim()).await? else {
                return bad(format!("There is no council {org:?} (create-org adds one)"));
            };
            let sections = if role == Role::Contributor {
                if place.sections.is_empty() || place.sections.iter().any(|n| !(1..=20).contains(n))
                {
                    return bad(
                        "A contributor needs --sections, the benchmark numbers they add evidence to (e.g. 5,7)",
                    );
                }
                Some(place.sections.to_vec())
            } else {
                None
            };
            Ok((Some(id), None, sections))
        }
        (true, _, _, _) => bad(format!(
            "The role {} needs --org (and no --region)",
            role.code()
        )),
        (false, Role::Adviser, None, Some(region)) => {
            let Some(id) = db::places::region_id(conn, region.trim()).await? else {
                return bad(format!(
                    "There is no region {region:?} (create-region adds one)"
                ));
            };
            Ok((None, Some(id), None))
        }
        (false, Role::Adviser, _, _) => bad("The role adviser needs --region (and no --org)"),
        (false, _, None, None) => Ok((None, None, None)),
        (false, _, _, _) => bad(format!(
            "The role {} takes neither --org nor --region",
            role.code()
        )),
    }
}

fn role(code: &str) -> Result<Role, SetupError> {
    code.trim().parse::<Role>().map_err(|_| {
        SetupError::Bad(format!(
            "There is no role {code:?}: one of {}",
            Role::ALL
                .iter()
                .map(|r| r.code())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Creates a person who can sign in at once with `password`, holding `role` at `place`.
pub async fn create_user(
    pool: &PgPool,
    email: &str,
    display_name: &str,
    role_code: &str,
    place: &Place<'_>,
    password_: Secret,
) -> Result<Uuid, SetupError> {
    let email = email.trim().to_owned();
    if !is_email(&email) {
        return bad(format!("{email:?} is not an email address"));
    }
    let display_name = name(display_name, "person's name")?;
    let role = role(role_code)?;
    if let Err(message) = password::check_new(password_.expose()) {
        return bad(format!(
            "The password on standard input will not do: {message}"
        ));
    }
    let mut tx = pool.begin().await?;
    if db::users::find_by_email(&mut tx, &email).await?.is_some() {
        return bad(format!(
            "{email} already has an account (set-role gives it another role)"
        ));
    }
    let (org, region, sections) = placed(&mut tx, role, place).await?;
    let hash = password::hash(password_).await;
    let id = db::users::insert_invited(&mut tx, &email, &display_name).await?;
    db::users::set_password(&mut tx, id, &hash).await?;
    db::users::add_membership(&mut tx, id, role, org, region, sections.as_deref()).await?;
    let mut e = event("user.created", "user", id.to_string());
    e.organisation_id = org;
    e.region_id = region;
    e.after = Some(serde_json::json!({
        "email": email, "name": display_name, "role": role.code(),
        "org": place.org, "region": place.region, "sections": sections,
    }));
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(id)
}

/// Gives an existing person another role.
pub async fn set_role(
    pool: &PgPool,
    email: &str,
    role_code: &str,
    place: &Place<'_>,
) -> Result<bool, SetupError> {
    let role = role(role_code)?;
    let mut tx = pool.begin().await?;
    let Some(user) = db::users::find_by_email(&mut tx, email.trim()).await? else {
        return bad(format!(
            "There is no account for {email:?} (create-user makes one)"
        ));
    };
    let (org, region, sections) = placed(&mut tx, role, place).await?;
    let added =
        db::users::add_membership(&mut tx, user.id, role, org, region, sections.as_deref()).await?;
    if added.is_some() {
        let mut e = event("membership.added", "user", user.id.to_string());
        e.organisation_id = org;
        e.region_id = region;
        e.after = Some(serde_json::json!({
            "role": role.code(), "org": place.org, "region": place.region, "sections": sections,
        }));
        db::audit::record(&mut *tx, &e).await?;
    }
    tx.commit().await?;
    Ok(added.is_some())
}

/// Disables an account and ends its sessions.
pub async fn disable_user(pool: &PgPool, email: &str) -> Result<(), SetupError> {
    let mut tx = pool.begin().await?;
    let Some(user) = db::users::find_by_email(&mut tx, email.trim()).await? else {
        return bad(format!("There is no account for {email:?}"));
    };
    db::users::set_disabled(&mut tx, user.id, true).await?;
    db::sessions::delete_for_user(&mut *tx, user.id, None).await?;
    let e = event("user.disabled", "user", user.id.to_string());
    db::audit::record(&mut *tx, &e).await?;
    tx.commit().await?;
    Ok(())
}
