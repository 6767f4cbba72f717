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

/// An action as the workbook holds it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Row {
    pub id: Uuid,
    /// None for an action on no benchmark.
    pub number: Option<i32>,
    pub item_code: Option<String>,
    pub description: String,
    pub owner_text: String,
    pub target_text: String,
    pub status: String,
    pub rag: Option<String>,
    /// Recommended by the Home Office in a letter.
    pub recommended: bool,
}

impl Row {
    /// Open, with no owner or no target: the check page asks about it.
    pub fn incomplete(&self) -> bool {
        matches!(self.status.as_str(), "open" | "in_progress")
            && (self.owner_text.is_empty() || self.target_text.is_empty())
    }
}

/// An action as its own page shows it and edits it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub id: Uuid,
    /// None for an action on no benchmark.
    pub number: Option<i32>,
    pub item_code: Option<String>,
    /// "question", "benchmark" or "recommendation".
    pub source: String,
    /// The cycle whose letter recommended it, for a recommended action.
    pub recommended_in: Option<String>,
    pub description: String,
    pub owner_text: String,
    pub owner_user_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub target_text: String,
    pub due_on: Option<Date>,
    pub status: String,
    pub rag: Option<String>,
    pub version: i32,
    pub carried: bool,
    pub updated_by: Option<String>,
    pub updated_at: time::OffsetDateTime,
}

/// One action of the assessment, if it is one of its.
pub async fn get<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    assessment: Uuid,
    id: Uuid,
) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as!(
        Stored,
        r#"select a.id, s.number as "number?", i.code as "item_code?", a.source,
                  case when a.source = 'recommendation' then
                      coalesce(rc.label, (select c.label from assessments asm join cycles c on c.id = asm.cycle_id
                                          where asm.id = a.assessment_id))
                  end as "recommended_in?",
                  a.description, a.owner_text, a.owner_user_id,
                  (select u.display_name from users u where u.id = a.owner_user_id) as "owner_name?",
                  a.target_text, a.due_on, a.status, a.rag, a.version,
                  a.carried_from is not null as "carried!",
                  (select e.actor_label from audit_events e
                   where e.entity_type = 'action' and e.entity_id = a.id::text
                   order by e.occurred_at desc limit 1) as "updated_by?",
                  a.updated_at
           from actions a
           left join sections s on s.id = a.section_id
           left join items i on i.id = a.item_id
           left join cycles rc on rc.id = a.recommended_in
           where a.id = $2 and a.assessment_id = $1"#,
        assessment,
        id
    )
    .fetch_optional(conn)
    .await
}

/// What an edit of an action writes.
#[derive(Debug, Clone)]
pub struct Edit {
    /// None: on no benchmark (only a recommended action may be).
    pub section_number: Option<i32>,
    pub item_code: Option<String>,
    pub description: String,
    pub owner_text: String,
    /// Some: link the action to this person of the council (or nobody). None: keep the person
    /// while the owner's name is unchanged (a workbook names no person).
    pub owner_user: Option<Option<Uuid>>,
    pub target_text: String,
    pub due_on: Option<Date>,
    pub status: String,
    pub rag: Option<String>,
}

/// Changes an action of the assessment, if its version is still `expected` (when given); false
/// when it is not one of the assessment's, has changed since, or the benchmark or question is
/// not the framework's. A recommended action stays one wherever it is filed.
pub async fn update(
    conn: &mut PgConnection,
    assessment: Uuid,
    id: Uuid,
    expected: Option<i32>,
    edit: &Edit,
) -> sqlx::Result<bool> {
    let (set_person, person) = match edit.owner_user {
        Some(person) => (true, person),
        None => (false, None),
    };
    sqlx::query!(
        "update actions a set section_id = s.id, item_id = i.id,
                source = case when a.source = 'recommendation' then a.source
                              when i.id is not null then 'question' else 'benchmark' end,
                description = $5, owner_text = $6,
                owner_user_id = case when $11 then (select m.user_id from memberships m
                                                    where m.user_id = $12 and m.organisation_id = a.organisation_id
                                                    limit 1)
                                     when a.owner_text = $6 then a.owner_user_id end,
                target_text = $7, due_on = $8, status = $9, rag = $10,
                version = a.version + 1, updated_at = now()
         from assessments asm
         left join sections s on s.framework_id = asm.framework_id and s.number = $3
         left join items i on i.section_id = s.id and i.code = $4
         where a.id = $2 and a.assessment_id = $1 and asm.id = $1
           and ($3::int is null) = (s.id is null)
           and ($4::text is null or i.id is not null)
           and ($3::int is not null or a.source = 'recommendation')
           and ($13::int is null or a.version = $13)",
        assessment,
        id,
        edit.section_number,
        edit.item_code,
        edit.description,
        edit.owner_text,
        edit.target_text,
        edit.due_on,
        edit.status,
        edit.rag,
        set_person,
        person,
        expected
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Deletes an action of the assessment (with its notes) if its version is still `expected`.
pub async fn delete(
    conn: &mut PgConnection,
    assessment: Uuid,
    id: Uuid,
    expected: i32,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "delete from actions where id = $2 and assessment_id = $1 and version = $3",
        assessment,
        id,
        expected
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}
