//! Sessions kept on the server, found by the SHA-256 of the cookie's value.

use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

/// A live session.
#[derive(Debug, Clone)]
pub struct Session {
    pub user_id: Uuid,
    pub created_at: OffsetDateTime,
}

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

/// The session, if it has been used within `idle_minutes` and is before its absolute limit;
/// marks it used now. An expired one is removed.
pub async fn touch(
    pool: &PgPool,
    id_hash: &[u8],
    idle_minutes: i32,
) -> sqlx::Result<Option<Session>> {
    let live = sqlx::query_as!(
        Session,
        "update sessions set last_seen_at = now()
         where id_hash = $1 and expires_at > now()
           and last_seen_at > now() - make_interval(mins => $2)
         returning user_id, created_at",
        id_hash,
        idle_minutes
    )
    .fetch_optional(pool)
    .await?;
    if live.is_none() {
        delete(pool, id_hash).await?;
    }
    Ok(live)
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
