//! One-time tokens for invitations and password resets, stored as SHA-256 hashes.

use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Invitation,
    PasswordReset,
}

impl Purpose {
    fn code(self) -> &'static str {
        match self {
            Purpose::Invitation => "invitation",
            Purpose::PasswordReset => "password_reset",
        }
    }
}

pub async fn insert<'c>(
    conn: impl PgExecutor<'c>,
    token_hash: &[u8],
    purpose: Purpose,
    user_id: Uuid,
    created_by: Option<Uuid>,
    valid_minutes: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into one_time_tokens (token_hash, purpose, user_id, created_by, expires_at)
         values ($1, $2, $3, $4, now() + make_interval(mins => $5))",
        token_hash,
        purpose.code(),
        user_id,
        created_by,
        valid_minutes
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// The user a live (unused, unexpired) token is for.
pub async fn peek<'c>(
    conn: impl PgExecutor<'c>,
    token_hash: &[u8],
    purpose: Purpose,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "select user_id from one_time_tokens
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()",
        token_hash,
        purpose.code()
    )
    .fetch_optional(conn)
    .await
}

/// Uses a live token once: returns its user, or None when it is unknown, used or expired.
pub async fn consume(
    conn: &mut PgConnection,
    token_hash: &[u8],
    purpose: Purpose,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "update one_time_tokens set used_at = now()
         where token_hash = $1 and purpose = $2 and used_at is null and expires_at > now()
         returning user_id",
        token_hash,
        purpose.code()
    )
    .fetch_optional(conn)
    .await
}

/// Withdraws a user's other live tokens of a purpose (a new reset link replaces the old).
pub async fn withdraw<'c>(
    conn: impl PgExecutor<'c>,
    user_id: Uuid,
    purpose: Purpose,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update one_time_tokens set used_at = now()
         where user_id = $1 and purpose = $2 and used_at is null",
        user_id,
        purpose.code()
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Password resets asked for in the last hour: (for this email address, from this network
/// address), counted on the audit trail (which records each, sent or refused).
pub async fn recent_reset_requests(
    conn: &mut sqlx::PgConnection,
    email: &str,
    ip: Option<sqlx::types::ipnetwork::IpNetwork>,
) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) filter (where after->>'email' = lower($1)
                                   and action = 'password_reset.requested') as "account!",
                  count(*) filter (where ip = $2) as "address!"
           from audit_events
           where action in ('password_reset.requested', 'password_reset.throttled')
             and occurred_at > now() - interval '1 hour'"#,
        email,
        ip
    )
    .fetch_one(conn)
    .await?;
    Ok((row.account, row.address))
}
