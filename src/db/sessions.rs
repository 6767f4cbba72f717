//! Sessions kept on the server, found by the SHA-256 of the cookie's value.

use sqlx::PgPool;
use uuid::Uuid;

pub async fn insert(
    pool: &PgPool,
    id_hash: &[u8],
    user_id: Uuid,
    absolute_minutes: i32,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    user_agent: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into sessions (id_hash, user_id, expires_at, ip, user_agent)
         values ($1, $2, now() + make_interval(mins => $3), $4, $5)",
        id_hash,
        user_id,
        absolute_minutes,
        ip,
        user_agent
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// One row of [`signed_in`]: the person, and one of their memberships if they have any.
#[derive(Debug, Clone)]
pub struct SignedInRow {
    pub user_id: Uuid,
    pub email: String,
    pub display_name: String,
    pub disabled: bool,
    /// Notifications not yet read (the header shows the count).
    pub unread: i64,
    /// The session's absolute limit.
    pub expires_at: time::OffsetDateTime,
    /// When the session was last marked used (now, if this lookup marked it): its idle limit
    /// runs from here.
    pub last_used: time::OffsetDateTime,
    pub membership_id: Option<Uuid>,
    pub role: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub organisation_slug: Option<String>,
    pub organisation_name: Option<String>,
    pub region_id: Option<Uuid>,
    pub region_slug: Option<String>,
    pub region_name: Option<String>,
    pub sections: Option<Vec<i32>>,
}

/// The person behind a session used within `idle_minutes` and before its absolute limit, with
/// their memberships, in one statement: every signed-in request starts with this, so it is one
/// round trip rather than three. No rows: no live session. The session is marked used now, at
/// most once a minute: a write (and a row lock) on every request would serialise someone's
/// parallel requests and cost a disk flush each, for a precision the idle limit does not need.
pub async fn signed_in(
    pool: &PgPool,
    id_hash: &[u8],
    idle_minutes: i32,
) -> sqlx::Result<Vec<SignedInRow>> {
    sqlx::query_as!(
        SignedInRow,
        r#"with live as (
               select user_id, last_seen_at, expires_at from sessions
               where id_hash = $1 and expires_at > now()
                 and last_seen_at > now() - make_interval(mins => $2)
           ),
           touched as (
               update sessions s set last_seen_at = now()
               from live where s.id_hash = $1 and live.last_seen_at < now() - interval '1 minute'
           )
           select u.id as user_id, u.email, u.display_name, u.disabled_at is not null as "disabled!",
                  (select count(*) from notifications n where n.user_id = u.id and n.read_at is null) as "unread!",
                  live.expires_at,
                  case when live.last_seen_at < now() - interval '1 minute' then now()
                       else live.last_seen_at end as "last_used!",
                  m.id as "membership_id?", m.role as "role?", m.organisation_id as "organisation_id?",
                  o.slug as "organisation_slug?", o.name as "organisation_name?",
                  coalesce(m.region_id, o.region_id) as "region_id?",
                  r.slug as "region_slug?", r.name as "region_name?", m.sections as "sections?"
           from live
           join users u on u.id = live.user_id
           left join memberships m on m.user_id = u.id
           left join organisations o on o.id = m.organisation_id
           left join regions r on r.id = coalesce(m.region_id, o.region_id)
           order by m.created_at"#,
        id_hash,
        idle_minutes
    )
    .fetch_all(pool)
    .await
}

pub async fn delete(pool: &PgPool, id_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!("delete from sessions where id_hash = $1", id_hash)
        .execute(pool)
        .await
        .map(|_| ())
}

/// Ends every session of a user but, optionally, one.
pub async fn delete_for_user<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    user_id: Uuid,
    keep: Option<&[u8]>,
) -> sqlx::Result<u64> {
    sqlx::query!(
        "delete from sessions where user_id = $1 and ($2::bytea is null or id_hash <> $2)",
        user_id,
        keep
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

pub async fn count_for_user(pool: &PgPool, user_id: Uuid) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from sessions where user_id = $1 and expires_at > now()"#,
        user_id
    )
    .fetch_one(pool)
    .await
}

/// Records a sign-in attempt, for the per-address limit.
pub async fn record_attempt(
    pool: &PgPool,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
    email: &str,
    succeeded: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into sign_in_attempts (ip, email, succeeded) values ($1, $2, $3)",
        ip,
        email,
        succeeded
    )
    .execute(pool)
    .await
    .map(|_| ())
}

/// Failed attempts from an address in the last `minutes`.
pub async fn recent_failures_from(
    pool: &PgPool,
    ip: sqlx::types::ipnetwork::IpNetwork,
    minutes: i32,
) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from sign_in_attempts
           where ip = $1 and not succeeded and attempted_at > now() - make_interval(mins => $2)"#,
        ip,
        minutes
    )
    .fetch_one(pool)
    .await
}

/// Failed sign-ins with an email address (lower-cased) in the last `minutes`, whether or not it
/// has an account.
pub async fn recent_failures_for(pool: &PgPool, email: &str, minutes: i32) -> sqlx::Result<i64> {
    sqlx::query_scalar!(
        r#"select count(*) as "n!" from sign_in_attempts
           where email = $1 and not succeeded and attempted_at > now() - make_interval(mins => $2)"#,
        email,
        minutes
    )
    .fetch_one(pool)
    .await
}

/// Whether the device cookie's hash is one this account has signed in from before.
pub async fn known_device(pool: &PgPool, token_hash: &[u8], user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from known_devices where token_hash = $1 and user_id = $2) as "known!""#,
        token_hash,
        user
    )
    .fetch_one(pool)
    .await
}

/// Records (or marks used) a device the account signed in from.
pub async fn remember_device(pool: &PgPool, token_hash: &[u8], user: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into known_devices (token_hash, user_id) values ($1, $2)
         on conflict (token_hash) do update set last_used_at = now()
         where known_devices.user_id = excluded.user_id",
        token_hash,
        user
    )
    .execute(pool)
    .await
    .map(|_| ())
}
