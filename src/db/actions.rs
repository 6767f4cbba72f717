//! The action plan: actions on a benchmark or a question, their progress notes.

use sqlx::{PgConnection, PgPool};
use time::Date;
use uuid::Uuid;

/// An action as the benchmark page shows it, with its latest progress note.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Action {
    pub id: Uuid,
    pub item_code: Option<String>,
    pub description: String,
    pub owner_text: String,
    pub owner_name: Option<String>,
    pub target_text: String,
    #[serde(with = "super::json_time::date::option")]
    pub due_on: Option<Date>,
    pub status: String,
    pub rag: Option<String>,
    pub carried: bool,
    pub version: i32,
    pub latest_note: Option<String>,
    #[serde(with = "super::json_time::date::option")]
    pub latest_note_on: Option<Date>,
    pub notes: i64,
}

/// A new action.
#[derive(Debug, Clone)]
pub struct NewAction {
    pub organisation: Uuid,
    pub assessment: Uuid,
    pub section_number: i32,
    /// None for the benchmark as a whole.
    pub item_code: Option<String>,
    pub description: String,
    pub owner_text: String,
    /// A person of the council who owns it, when the owner is one.
    pub owner_user: Option<Uuid>,
    pub target_text: String,
    pub due_on: Option<Date>,
    pub status: String,
    pub rag: Option<String>,
}

pub async fn insert(conn: &mut PgConnection, new: &NewAction, by: Uuid) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into actions (organisation_id, assessment_id, section_id, item_id, source, description,
                              owner_text, target_text, due_on, status, rag, created_by, owner_user_id)
         select $1, a.id, s.id, i.id, case when $4::text is null then 'benchmark' else 'question' end,
                $5, $6, $7, $8, $9, $10, $11,
                (select m.user_id from memberships m where m.user_id = $12 and m.organisation_id = $1 limit 1)
         from assessments a
         join sections s on s.framework_id = a.framework_id and s.number = $3
         left join items i on i.section_id = s.id and i.code = $4
         where a.id = $2 and ($4 is null or i.id is not null)
         returning id",
        new.organisation,
        new.assessment,
        new.section_number,
        new.item_code,
        new.description,
        new.owner_text,
        new.target_text,
        new.due_on,
        new.status,
        new.rag,
        by,
        new.owner_user
    )
    .fetch_one(conn)
    .await
}

/// Changes an action's status and RAG if its version is still `expected`; false otherwise.
pub async fn update_status(
    conn: &mut PgConnection,
    assessment: Uuid,
    id: Uuid,
    expected: i32,
    status: &str,
    rag: Option<&str>,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "update actions set status = $4, rag = $5, version = version + 1, updated_at = now()
         where id = $2 and assessment_id = $1 and version = $3",
        assessment,
        id,
        expected,
        status,
        rag
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Adds a dated progress note to an action of the assessment; false when there is no such action.
pub async fn add_note(
    conn: &mut PgConnection,
    assessment: Uuid,
    id: Uuid,
    body: &str,
    by: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "insert into action_notes (action_id, body, author_id)
         select a.id, $3, $4 from actions a where a.id = $2 and a.assessment_id = $1",
        assessment,
        id,
        body,
        by
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// The benchmark an action belongs to, if it is one of the assessment's.
pub async fn benchmark_of(pool: &PgPool, assessment: Uuid, id: Uuid) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar!(
        "select s.number from actions a join sections s on s.id = a.section_id
         where a.id = $2 and a.assessment_id = $1",
        assessment,
        id
    )
    .fetch_optional(pool)
    .await
}

/// Open actions of the assessment with no owner or no target, for the check page.
pub async fn incomplete(
    pool: &PgPool,
    assessment: Uuid,
) -> sqlx::Result<Vec<(i32, String, bool, bool)>> {
    let rows = sqlx::query!(
        r#"select s.number, a.description, a.owner_text = '' as "no_owner!", a.target_text = '' as "no_target!"
           from actions a join sections s on s.id = a.section_id
           where a.assessment_id = $1 and a.status in ('open', 'in_progress')
             and (a.owner_text = '' or a.target_text = '')
           order by s.number, a.created_at"#,
        assessment
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.number, r.description, r.no_owner, r.no_target))
        .collect())
}

/// An action as the workbook holds it.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: Uuid,
    pub number: i32,
    pub item_code: Option<String>,
    pub description: String,
    pub owner_text: String,
    pub target_text: String,
    pub status: String,
    pub rag: Option<String>,
}

/// Every action of an assessment, by benchmark, oldest first, in one statement.
pub async fn for_assessment<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    assessment: Uuid,
) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as!(
        Row,
        r#"select a.id, s.number, i.code as "item_code?", a.description, a.owner_text, a.target_text,
                  a.status, a.rag
           from actions a
           join sections s on s.id = a.section_id
           left join items i on i.id = a.item_id
           where a.assessment_id = $1
           order by s.number, a.created_at, a.id"#,
        assessment
    )
    .fetch_all(conn)
    .await
}

/// Replaces what an action says (from an imported workbook); false when it is not one of the
/// assessment's actions. The owner stays the same person only while the name is unchanged.
pub async fn replace(conn: &mut PgConnection, id: Uuid, new: &NewAction) -> sqlx::Result<bool> {
    sqlx::query!(
        "update actions a set section_id = s.id, item_id = i.id,
                source = case when i.id is not null then 'question'
                              when a.source = 'recommendation' then a.source else 'benchmark' end,
                description = $5, owner_text = $6,
                owner_user_id = case when a.owner_text = $6 then a.owner_user_id end,
                target_text = $7, due_on = $8, status = $9, rag = $10,
                version = version + 1, updated_at = now()
         from assessments asm
         join sections s on s.framework_id = asm.framework_id and s.number = $3
         left join items i on i.section_id = s.id and i.code = $4
         where a.id = $2 and a.assessment_id = $1 and asm.id = $1
           and ($4::text is null or i.id is not null)",
        new.assessment,
        id,
        new.section_number,
        new.item_code,
        new.description,
        new.owner_text,
        new.target_text,
        new.due_on,
        new.status,
        new.rag
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
