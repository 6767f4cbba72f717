//! Evidence files, kept in PostgreSQL.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// An attachment as lists show it (without its content).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Listed {
    pub id: Uuid,
    pub item_code: Option<String>,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i32,
    #[serde(with = "super::json_time::timestamp")]
    pub created_at: OffsetDateTime,
}

/// A new file.
pub struct NewAttachment<'a> {
    pub assessment: Uuid,
    pub section_number: i32,
    pub item_code: Option<&'a str>,
    pub filename: &'a str,
    pub content_type: &'a str,
    pub content: &'a [u8],
}

pub async fn insert(
    conn: &mut PgConnection,
    new: &NewAttachment<'_>,
    by: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into attachments (assessment_id, section_id, item_id, filename, content_type, size_bytes, content, uploaded_by)
         select a.id, s.id, i.id, $4, $5, $6, $7, $8
         from assessments a
         join sections s on s.framework_id = a.framework_id and s.number = $2
         left join items i on i.section_id = s.id and i.code = $3
         where a.id = $1 and ($3::text is null or i.id is not null)
         returning id",
        new.assessment,
        new.section_number,
        new.item_code,
        new.filename,
        new.content_type,
        new.content.len() as i32,
        new.content,
        by
    )
    .fetch_one(conn)
    .await
}

/// A file to send back.
pub struct Download {
    pub filename: String,
    pub content_type: String,
    pub content: Vec<u8>,
    pub section_number: i32,
}

pub async fn download(pool: &PgPool, assessment: Uuid, id: Uuid) -> sqlx::Result<Option<Download>> {
    sqlx::query_as!(
        Download,
        "select f.filename, f.content_type, f.content, s.number as section_number
         from attachments f join sections s on s.id = f.section_id
         where f.id = $2 and f.assessment_id = $1",
        assessment,
        id
    )
    .fetch_optional(pool)
    .await
}

/// The benchmark and name of an attachment of the assessment.
pub async fn describe(
    pool: &PgPool,
    assessment: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<(i32, String)>> {
    let row = sqlx::query!(
        "select s.number, f.filename from attachments f join sections s on s.id = f.section_id
         where f.id = $2 and f.assessment_id = $1",
        assessment,
        id
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| (r.number, r.filename)))
}

pub async fn delete(conn: &mut PgConnection, assessment: Uuid, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query!(
        "delete from attachments where id = $2 and assessment_id = $1",
        assessment,
        id
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
