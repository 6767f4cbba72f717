//! Keeping personal data no longer than the privacy notice (`/privacy`) says. Each rule is one
//! idempotent `delete`, so any number of servers may run it at once.

use sqlx::PgPool;

/// How long a record of a sign-in attempt is kept (for throttling and for looking into an attack).
pub const SIGN_IN_ATTEMPT_DAYS: i32 = 30;
/// How long an invitation or password-reset token is kept after it was used or expired.
pub const TOKEN_DAYS: i32 = 30;
/// How long a sent mail (or one given up) is kept in the outbox.
pub const SENT_MAIL_DAYS: i32 = 90;
/// How long a notification is kept in a person's list.
pub const NOTIFICATION_DAYS: i32 = 365;
/// How long a notice is kept once it has been turned into messages.
pub const NOTICE_DAYS: i32 = 30;

/// Rows removed by one pass, by kind.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub sessions: u64,
    pub sign_in_attempts: u64,
    pub tokens: u64,
    pub sent_mail: u64,
    pub notifications: u64,
    pub notices: u64,
    pub devices: u64,
}

/// Removes ended sessions (idle or past their absolute limit), and sign-in attempts, spent
/// tokens, sent or given-up mail, notifications and handled notices older than their limits.
pub async fn prune(pool: &PgPool, idle_minutes: i32) -> sqlx::Result<Pruned> {
    let sessions = sqlx::query!(
        "delete from sessions
          where expires_at < now() or last_seen_at < now() - make_interval(mins => $1)",
        idle_minutes
    )
    .execute(pool)
    .await?
    .rows_affected();
    let sign_in_attempts = sqlx::query!(
        "delete from sign_in_attempts where attempted_at < now() - make_interval(days => $1)",
        SIGN_IN_ATTEMPT_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    let tokens = sqlx::query!(
        "delete from one_time_tokens
          where coalesce(used_at, expires_at) < now() - make_interval(days => $1)",
        TOKEN_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    let sent_mail = sqlx::query!(
        "delete from outbox where coalesce(sent_at, given_up_at) < now() - make_interval(days => $1)",
        SENT_MAIL_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    let notifications = sqlx::query!(
        "delete from notifications where created_at < now() - make_interval(days => $1)",
        NOTIFICATION_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    let notices = sqlx::query!(
        "delete from notices where dispatched_at < now() - make_interval(days => $1)",
        NOTICE_DAYS
    )
    .execute(pool)
    .await?
    .rows_affected();
    let devices =
        sqlx::query!("delete from known_devices where last_used_at < now() - interval '1 year'")
            .execute(pool)
            .await?
            .rows_affected();
    Ok(Pruned {
        sessions,
        sign_in_attempts,
        tokens,
        sent_mail,
        notifications,
        notices,
        devices,
    })
}

/// Prunes once an hour for as long as the server runs.
pub async fn run(pool: PgPool, idle_minutes: i32) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        match prune(&pool, idle_minutes).await {
            Ok(pruned) => tracing::debug!(?pruned, "housekeeping"),
            Err(e) => tracing::warn!(error = %e, "housekeeping"),
        }
    }
}
