//! Mail waiting to be sent, and what was sent. Each mail is sent by whichever server claims it
//! first (a row lock held while it is handed to SMTP); a failure waits longer each time, and
//! after the last try the mail is given up and listed for administrators.

use sqlx::{PgConnection, PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Mail {
    pub id: Uuid,
    pub created_at: OffsetDateTime,
    pub to_address: String,
    pub subject: String,
    pub body: String,
    pub html_body: Option<String>,
    pub list_unsubscribe: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub given_up_at: Option<OffsetDateTime>,
}

/// Queues a plain-text mail (invitations, password resets).
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

/// A message to a person of the service.
#[derive(Debug, Clone)]
pub struct NewMail {
    pub user_id: Uuid,
    pub to: String,
    pub kind: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub list_unsubscribe: Option<String>,
    /// What happened, to whom, for which period: a mail is queued once per key.
    pub key: String,
}

/// Queues messages in one statement; one already queued under its key is left alone. How many
/// were queued.
pub async fn enqueue_many(conn: &mut PgConnection, mails: &[NewMail]) -> sqlx::Result<u64> {
    if mails.is_empty() {
        return Ok(0);
    }
    let users: Vec<Uuid> = mails.iter().map(|m| m.user_id).collect();
    let to: Vec<String> = mails.iter().map(|m| m.to.clone()).collect();
    let kinds: Vec<String> = mails.iter().map(|m| m.kind.clone()).collect();
    let subjects: Vec<String> = mails.iter().map(|m| m.subject.clone()).collect();
    let texts: Vec<String> = mails.iter().map(|m| m.text.clone()).collect();
    let htmls: Vec<String> = mails.iter().map(|m| m.html.clone()).collect();
    let unsubscribe: Vec<Option<String>> =
        mails.iter().map(|m| m.list_unsubscribe.clone()).collect();
    let keys: Vec<String> = mails.iter().map(|m| m.key.clone()).collect();
    sqlx::query!(
        "insert into outbox (user_id, to_address, kind, subject, body, html_body, list_unsubscribe, idempotency_key)
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::text[], $8::text[])
         on conflict (idempotency_key) where idempotency_key is not null do nothing",
        &users,
        &to,
        &kinds,
        &subjects,
        &texts,
        &htmls,
        &unsubscribe as &[Option<String>],
        &keys
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected())
}

/// The latest mail, newest first.
pub async fn latest(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Mail>> {
    sqlx::query_as!(
        Mail,
        "select id, created_at, to_address, subject, body, html_body, list_unsubscribe, sent_at,
                attempts, last_error, given_up_at
         from outbox order by created_at desc limit $1",
        limit
    )
    .fetch_all(pool)
    .await
}

/// Mail given up after its last try, newest first.
pub async fn given_up(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Mail>> {
    sqlx::query_as!(
        Mail,
        "select id, created_at, to_address, subject, body, html_body, list_unsubscribe, sent_at,
                attempts, last_error, given_up_at
         from outbox where given_up_at is not null and sent_at is null
         order by given_up_at desc limit $1",
        limit
    )
    .fetch_all(pool)
    .await
}

/// How much mail waits to be sent, and how much of it has failed at least once.
pub async fn waiting(pool: &PgPool) -> sqlx::Result<(i64, i64)> {
    let row = sqlx::query!(
        r#"select count(*) as "waiting!", count(*) filter (where attempts > 0) as "retrying!"
           from outbox where sent_at is null and given_up_at is null"#
    )
    .fetch_one(pool)
    .await?;
    Ok((row.waiting, row.retrying))
}

/// The oldest mail due to be sent that no other server holds, locked until the transaction
/// ends: if the server stops before it is marked sent, the lock goes and the mail waits.
pub async fn claim_due(conn: &mut PgConnection) -> sqlx::Result<Option<Mail>> {
    sqlx::query_as!(
        Mail,
        "select id, created_at, to_address, subject, body, html_body, list_unsubscribe, sent_at,
                attempts, last_error, given_up_at
         from outbox
         where sent_at is null and given_up_at is null and next_attempt_at <= now()
         order by next_attempt_at
         limit 1
         for update skip locked"
    )
    .fetch_optional(conn)
    .await
}

pub async fn mark_sent(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set sent_at = now(), attempts = attempts + 1, last_error = null where id = $1",
        id
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Records a failed try: the next waits `retry_seconds` doubled for each earlier failure (at
/// most six hours); after `max_attempts` tries the mail is given up.
pub async fn mark_failed(
    conn: &mut PgConnection,
    id: Uuid,
    error: &str,
    retry_seconds: i64,
    max_attempts: i32,
) -> sqlx::Result<()> {
    sqlx::query!(
        "update outbox set attempts = attempts + 1, last_error = $2,
                next_attempt_at = now() + make_interval(secs => least($3::float8 * power(2, attempts), 21600)),
                given_up_at = case when attempts + 1 >= $4 then now() end
         where id = $1",
        id,
        error,
        retry_seconds as f64,
        max_attempts
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Puts a given-up mail back in the queue, to be tried now.
pub async fn retry<'c>(conn: impl PgExecutor<'c>, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query!(
        "update outbox set given_up_at = null, attempts = 0, next_attempt_at = now()
         where id = $1 and given_up_at is not null and sent_at is null",
        id
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
