//! Evidence requests from the adviser, per benchmark, and the council's replies.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// A message in a thread.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Message {
    pub id: Uuid,
    pub number: i32,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    pub body: String,
    pub author: Option<String>,
    #[serde(with = "super::json_time::timestamp::option")]
    pub resolved_at: Option<OffsetDateTime>,
    #[serde(with = "super::json_time::timestamp")]
    pub created_at: OffsetDateTime,
}

/// A request with its replies.
#[derive(Debug, Clone)]
pub struct Thread {
    pub request: Message,
    pub replies: Vec<Message>,
}

/// Requests with their replies, from messages in the order they were written.
pub fn into_threads(messages: Vec<Message>) -> Vec<Thread> {
    let mut threads: Vec<Thread> = Vec::new();
    for m in messages {
        match m.parent_id {
            None => threads.push(Thread {
                request: m,
                replies: Vec::new(),
            }),
            Some(parent) => {
                if let Some(t) = threads.iter_mut().find(|t| t.request.id == parent) {
                    t.replies.push(m);
                }
            }
        }
    }
    threads
}

pub async fn insert_request(
    conn: &mut PgConnection,
    assessment: Uuid,
    number: i32,
    body: &str,
    by: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into comments (assessment_id, section_id, kind, body, author_id)
         select a.id, s.id, 'evidence_request', $3, $4 from assessments a
         join sections s on s.framework_id = a.framework_id and s.number = $2
         where a.id = $1 returning id",
        assessment,
        number,
        body,
        by
    )
    .fetch_one(conn)
    .await
}

/// The benchmark of a request of the assessment, and whether it is resolved.
pub async fn request(
    pool: &PgPool,
    assessment: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(i32, bool)>> {
    let row = sqlx::query!(
        r#"select s.number, c.resolved_at is not null as "resolved!" from comments c join sections s on s.id = c.section_id
           where c.id = $2 and c.assessment_id = $1 and c.kind = 'evidence_request'"#,
        assessment,
        id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.number, r.resolved)))
}

pub async fn insert_reply(
    conn: &mut PgConnection,
    assessment: Uuid,
    request: Uuid,
    body: &str,
    by: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into comments (assessment_id, section_id, kind, parent_id, body, author_id)
         select c.assessment_id, c.section_id, 'reply', c.id, $3, $4 from comments c
         where c.id = $2 and c.assessment_id = $1 and c.kind = 'evidence_request'
         returning id",
        assessment,
        request,
        body,
        by
    )
    .fetch_one(conn)
    .await
}

pub async fn resolve(
    conn: &mut PgConnection,
    assessment: Uuid,
    request: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "update comments set resolved_at = now() where id = $2 and assessment_id = $1
           and kind = 'evidence_request' and resolved_at is null",
        assessment,
        request
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
