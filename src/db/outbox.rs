//! Mail waiting to be sent, and what was sent.

use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Mail {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub sent_at: Option<OffsetDateTime>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

pub async fn enqueue<'c>(
    conn: impl PgExecutor<'c>,
    to: &str,
    subject: &str,
    body: &str,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into outbox (to_address, subject, body) values ($1, $2, $3) returning id",
        to,
        subject,
        body
    )
    .fetch_one(conn)
    .await
}

/// The latest mail, newest first.
pub async fn latest(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Mail>> {
    sqlx::query_as!(
        Mail,
        "select id, created_at, to_address, subject, body, sent_at, attempts, last_error
         from outbox order by created_at desc limit $1",
        limit
    )
    .fetch_all(pool)
    .await
}

/// Unsent mail that has not failed too often, oldest first.
pub async fn unsent(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Mail>> {
    sqlx::query_as!(
        Mail,
        "select id, created_at, to_address, subject, body, sent_at, attempts, last_error
         from outbox where sent_at is null and attempts < 5 order by created_at limit $1",
        limit
    )
    .fetch_all(pool)
    .await
}

pub async fn mark_sent(pool: &PgPool, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set sent_at = now(), attempts = attempts + 1 where id = $1",
        id
    )
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn mark_failed(pool: &PgPool, id: Uuid, error: &str) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set attempts = attempts + 1, last_error = $2 where id = $1",
        id,
        error
    )
    .execute(pool)
    .await
    .map(|_| ())
}
