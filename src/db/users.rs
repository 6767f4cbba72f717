//! People: users, their memberships, and the sign-in counters that lock an account.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::auth::{Membership, Role};

/// What sign-in needs to know about an account.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub id: Uuid,
    pub email: String,
    pub password_hash: Option<String>,
    pub locked_until: Option<OffsetDateTime>,
    pub disabled: bool,
}

/// A user as administrators and the people pages see them.
#[derive(Debug, Clone)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub display_name: String,
    pub has_password: bool,
    /// Whether they have signed in through an identity provider (and so need no password).
    pub signs_in_with_sso: bool,
    /// Whether they have set up a second factor.
    pub has_second_factor: bool,
    pub failed_sign_ins: i32,
    pub locked_until: Option<OffsetDateTime>,
    pub disabled_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

pub async fn credentials(pool: &PgPool, email: &str) -> sqlx::Result<Option<Credentials>> {
    sqlx::query_as!(
        Credentials,
        r#"select id, email, password_hash, locked_until, disabled_at is not null as "disabled!"
           from users where lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(pool)
    .await
}

pub async fn find(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"select id, email, display_name, password_hash is not null as "has_password!",
                  exists (select 1 from sso_links l where l.user_id = users.id) as "signs_in_with_sso!",
                  totp_enabled_at is not null and totp_secret is not null as "has_second_factor!",
                  failed_sign_ins, locked_until, disabled_at, created_at
           from users where id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await
}

pub async fn find_by_email(conn: &mut PgConnection, email: &str) -> sqlx::Result<Option<User>> {
    sqlx::query_as!(
        User,
        r#"select id, email, display_name, password_hash is not null as "has_password!",
                  exists (select 1 from sso_links l where l.user_id = users.id) as "signs_in_with_sso!",
                  totp_enabled_at is not null and totp_secret is not null as "has_second_factor!",
                  failed_sign_ins, locked_until, disabled_at, created_at
           from users where lower(email) = lower($1)"#,
        email
    )
    .fetch_optional(conn)
    .await
}

/// Which page of the users list: those after an email address (the first page after ''), or
/// those before one (going back). By key, not offset, so a late page costs what the first does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UsersPage {
    After(String),
    Before(String),
}

/// Up to `limit` users, optionally those whose email or name contains `search`, by email, on
/// the page given. The order is `lower(email)`, which is unique (`users_email_key`), so the
/// key alone says where a page starts; each statement is an index range scan on that key.
pub async fn list(
    pool: &PgPool,
    search: &str,
    page: &UsersPage,
    limit: i64,
) -> sqlx::Result<Vec<User>> {
    let mut users = match page {
        UsersPage::After(key) => {
            sqlx::query_as!(
                User,
                r#"select id, email, display_name, password_hash is not null as "has_password!",
                  exists (select 1 from sso_links l where l.user_id = users.id) as "signs_in_with_sso!",
                  totp_enabled_at is not null and totp_secret is not null as "has_second_factor!",
                  failed_sign_ins, locked_until, disabled_at, created_at
           from users
           where lower(email) > lower($2)
             and ($1 = '' or strpos(lower(email), lower($1)) > 0 or strpos(lower(display_name), lower($1)) > 0)
           order by lower(email) limit $3"#,
                search,
                key,
                limit
            )
            .fetch_all(pool)
            .await?
        }
        UsersPage::Before(key) => {
            sqlx::query_as!(
                User,
                r#"select id, email, display_name, password_hash is not null as "has_password!",
                  exists (select 1 from sso_links l where l.user_id = users.id) as "signs_in_with_sso!",
                  totp_enabled_at is not null and totp_secret is not null as "has_second_factor!",
                  failed_sign_ins, locked_until, disabled_at, created_at
           from users
           where lower(email) < lower($2)
             and ($1 = '' or strpos(lower(email), lower($1)) > 0 or strpos(lower(display_name), lower($1)) > 0)
           order by lower(email) desc limit $3"#,
                search,
                key,
                limit
            )
            .fetch_all(pool)
            .await?
        }
    };
    if matches!(page, UsersPage::Before(_)) {
        users.reverse();
    }
    Ok(users)
}

/// Creates a user who has not yet chosen a password (they will, from their invitation).
pub async fn insert_invited(
    conn: &mut PgConnection,
    email: &str,
    display_name: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into users (email, display_name) values ($1, $2) returning id",
        email,
        display_name
    )
    .fetch_one(conn)
    .await
}

/// Records a failed sign-in on the account (for administrators to see); `held` says that the
/// address has now had too many failures (counted on the address as typed, so that the rule
/// and its words are the same whether or not there is an account), and until when.
pub async fn record_failure(
    pool: &PgPool,
    id: Uuid,
    held: bool,
    lock_minutes: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set
             failed_sign_ins = failed_sign_ins + 1,
             locked_until = case when $2 then now() + make_interval(mins => $3) else locked_until end
           where id = $1",
        id,
        held,
        lock_minutes
    )
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn record_success(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set failed_sign_ins = 0, locked_until = null where id = $1",
        id
    )
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn unlock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set failed_sign_ins = 0, locked_until = null, updated_at = now() where id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    // The failures counted on the address go too.
    sqlx::query!(
        "delete from sign_in_attempts
         where not succeeded and email = (select lower(email) from users where id = $1)",
        id
    )
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn set_disabled(conn: &mut PgConnection, id: Uuid, disabled: bool) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set disabled_at = case when $2 then coalesce(disabled_at, now()) end,
                          updated_at = now() where id = $1",
        id,
        disabled
    )
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn set_password(conn: &mut PgConnection, id: Uuid, hash: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set password_hash = $2, failed_sign_ins = 0, locked_until = null,
                          updated_at = now() where id = $1",
        id,
        hash
    )
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn set_display_name(conn: &mut PgConnection, id: Uuid, name: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set display_name = $2, updated_at = now() where id = $1",
        id,
        name
    )
    .execute(conn)
    .await
    .map(|_| ())
}

pub async fn password_hash(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!("select password_hash from users where id = $1", id)
        .fetch_optional(pool)
        .await
        .map(Option::flatten)
}

/// Every membership of a user, with the names of the places they concern.
pub async fn memberships(conn: &mut PgConnection, user_id: Uuid) -> sqlx::Result<Vec<Membership>> {
    let rows = sqlx::query!(
        r#"select m.id, m.role, m.organisation_id, o.slug as "organisation_slug?",
                  o.name as "organisation_name?", coalesce(m.region_id, o.region_id) as region_id,
                  r.slug as "region_slug?", r.name as "region_name?", m.sections
           from memberships m
           left join organisations o on o.id = m.organisation_id
           left join regions r on r.id = coalesce(m.region_id, o.region_id)
           where m.user_id = $1
           order by m.created_at"#,
        user_id
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|r| {
            Some(Membership {
                id: r.id,
                role: r.role.parse::<Role>().ok()?,
                organisation_id: r.organisation_id,
                organisation_slug: r.organisation_slug,
                organisation_name: r.organisation_name,
                region_id: r.region_id,
                region_slug: r.region_slug,
                region_name: r.region_name,
                sections: r.sections.unwrap_or_default(),
            })
        })
        .collect())
}

/// Adds a membership; does nothing when the user already holds exactly that one.
pub async fn add_membership(
    conn: &mut PgConnection,
    user_id: Uuid,
    role: Role,
    organisation_id: Option<Uuid>,
    region_id: Option<Uuid>,
    sections: Option<&[i32]>,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "insert into memberships (user_id, role, organisation_id, region_id, sections)
         values ($1, $2, $3, $4, $5)
         on conflict (user_id, role, organisation_id, region_id) do nothing
         returning id",
        user_id,
        role.code(),
        organisation_id,
        region_id,
        sections as Option<&[i32]>
    )
    .fetch_optional(conn)
    .await
}

pub async fn remove_membership(
    conn: &mut PgConnection,
    user_id: Uuid,
    membership_id: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "delete from memberships where id = $1 and user_id = $2",
        membership_id,
        user_id
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// A council's people: each user with their roles there.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub sections: Vec<i32>,
    pub has_password: bool,
    /// Whether they have signed in through an identity provider.
    pub signs_in_with_sso: bool,
    pub disabled: bool,
    /// Whether they have set up a second factor.
    pub has_second_factor: bool,
}

impl Member {
    /// The role in words ("Prevent lead"), never its stored code.
    pub fn role_label(&self) -> &str {
        match self.role.parse::<Role>() {
            Ok(role) => role.label(),
            Err(_) => &self.role,
        }
    }
}

pub async fn members_of(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<Vec<Member>> {
    sqlx::query_as!(
        Member,
        r#"select u.id as user_id, u.email, u.display_name, m.role,
                  coalesce(m.sections, '{}') as "sections!", u.password_hash is not null as "has_password!",
                  exists (select 1 from sso_links l where l.user_id = u.id) as "signs_in_with_sso!",
                  u.disabled_at is not null as "disabled!",
                  u.totp_enabled_at is not null and u.totp_secret is not null as "has_second_factor!"
           from memberships m join users u on u.id = m.user_id
           where m.organisation_id = $1
           order by lower(u.display_name), m.role"#,
        organisation_id
    )
    .fetch_all(pool)
    .await
}

/// The council's people who may own an action: (id, name), by name, once each.
pub async fn people_of(pool: &PgPool, organisation_id: Uuid) -> sqlx::Result<Vec<(Uuid, String)>> {
    let rows = sqlx::query!(
        "select distinct u.id, u.display_name, lower(u.display_name) as key
         from memberships m join users u on u.id = m.user_id
         where m.organisation_id = $1 and u.disabled_at is null
         order by 3, 1",
        organisation_id
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.display_name)).collect())
}

/// For demonstration data: a user with a password, created once.
pub async fn upsert_with_password(
    conn: &mut PgConnection,
    email: &str,
    name: &str,
    hash: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into users (email, display_name, password_hash) values ($1, $2, $3)
         on conflict ((lower(email))) do update set display_name = excluded.display_name
         returning id",
        email,
        name,
        hash
    )
    .fetch_one(conn)
    .await
}

/// What the account page shows of a person, in one statement (one round trip): their live
/// sessions, mail choices, second factor and the provider they sign in with.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    pub sessions: i64,
    pub mail_reminders: bool,
    pub mail_digests: bool,
    pub second_factor_since: Option<time::OffsetDateTime>,
    pub recovery_left: i64,
    pub provider_name: Option<String>,
    pub issuer_url: Option<String>,
    pub client_id: Option<String>,
    pub mfa_from_provider: Option<bool>,
}

pub async fn account_summary(pool: &PgPool, user: Uuid) -> sqlx::Result<Option<AccountSummary>> {
    sqlx::query_as!(
        AccountSummary,
        r#"select (select count(*) from sessions s where s.user_id = u.id and s.expires_at > now()) as "sessions!",
                  u.mail_reminders, u.mail_digests, u.totp_enabled_at as second_factor_since,
                  (select count(*) from recovery_codes r where r.user_id = u.id and r.used_at is null) as "recovery_left!",
                  p.name as "provider_name?", p.issuer_url as "issuer_url?", p.client_id as "client_id?",
                  p.mfa_from_provider as "mfa_from_provider?"
           from users u
           left join (identity_provider_domains d
                      join identity_providers p on p.id = d.provider_id and p.enabled)
                  on d.domain = lower(split_part(u.email, '@', 2))
           where u.id = $1"#,
        user
    )
    .fetch_optional(pool)
    .await
}
