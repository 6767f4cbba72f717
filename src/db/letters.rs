//! The assurance letter: each cycle's template of standard paragraphs (versioned), what the
//! adviser writes into a council's letter, and the letter as published, kept whole.

use sqlx::types::Json;
use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::documents::letter::{AdviserText, Letter, Template};

/// A cycle's template as kept: its version (0 for the shipped default) and paragraphs.
#[derive(Debug, Clone)]
pub struct Kept {
    pub version: i32,
    pub template: Template,
}

/// The template the assessment's cycle uses now: its latest version, or None for the default.
pub async fn template_of_assessment(pool: &PgPool, assessment: Uuid) -> sqlx::Result<Option<Kept>> {
    let row = sqlx::query!(
        r#"select t.version, t.template as "template: Json<Template>"
           from assessments a join letter_templates t on t.cycle_id = a.cycle_id
           where a.id = $1 order by t.version desc limit 1"#,
        assessment
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Kept {
        version: r.version,
        template: r.template.0,
    }))
}

/// A cycle's latest template, if it has one of its own.
pub async fn template_of_cycle(pool: &PgPool, cycle: Uuid) -> sqlx::Result<Option<Kept>> {
    let row = sqlx::query!(
        r#"select version, template as "template: Json<Template>" from letter_templates
           where cycle_id = $1 order by version desc limit 1"#,
        cycle
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Kept {
        version: r.version,
        template: r.template.0,
    }))
}

/// A cycle in the list of templates: its label and its template's latest version and change.
#[derive(Debug, Clone)]
pub struct CycleTemplate {
    pub cycle_id: Uuid,
    pub label: String,
    pub version: Option<i32>,
    pub changed_at: Option<OffsetDateTime>,
    pub changed_by: Option<String>,
}

/// Every cycle, latest first, with its template's latest version: one statement.
pub async fn cycles(pool: &PgPool) -> sqlx::Result<Vec<CycleTemplate>> {
    sqlx::query_as!(
        CycleTemplate,
        r#"select c.id as cycle_id, c.label, t.version as "version?", t.created_at as "changed_at?",
                  (select u.display_name from users u where u.id = t.created_by) as "changed_by?"
           from cycles c
           left join lateral (
               select version, created_at, created_by from letter_templates
               where cycle_id = c.id order by version desc limit 1
           ) t on true
           order by c.starts_on desc"#
    )
    .fetch_all(pool)
    .await
}

/// Saves a new version of the cycle's template if its latest is still `expected` (0: none);
/// the new version, or None when someone saved one in between.
pub async fn save_template(
    conn: &mut PgConnection,
    cycle: Uuid,
    expected: i32,
    template: &Template,
    by: Uuid,
) -> sqlx::Result<Option<i32>> {
    let json = serde_json::to_value(template).unwrap_or_default();
    // The unique (cycle, version) makes a save that raced another one fail rather than double.
    let saved = sqlx::query_scalar!(
        "insert into letter_templates (cycle_id, version, template, created_by)
         select $1, $2 + 1, $3, $4
         where coalesce((select max(version) from letter_templates where cycle_id = $1), 0) = $2
         on conflict (cycle_id, version) do nothing
         returning version",
        cycle,
        expected,
        json,
        by
    )
    .fetch_optional(conn)
    .await?;
    Ok(saved)
}

/// One council's letter as kept.
#[derive(Debug, Clone)]
pub struct Stored {
    pub text: AdviserText,
    pub version: i32,
    pub published: Option<Letter>,
    pub published_at: Option<OffsetDateTime>,
}

pub async fn stored(pool: &PgPool, assessment: Uuid) -> sqlx::Result<Option<Stored>> {
    let row = sqlx::query!(
        r#"select addressee, salutation, cc, thanks, extra, version,
                  published as "published: Json<Letter>", published_at
           from letters where assessment_id = $1"#,
        assessment
    )
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|r| Stored {
        text: AdviserText {
            addressee: r.addressee,
            salutation: r.salutation,
            cc: r.cc,
            thanks: r.thanks,
            extra: r.extra,
        },
        version: r.version,
        published: r.published.map(|j| j.0),
        published_at: r.published_at,
    }))
}

/// Saves the adviser's lines if the letter is still at `expected` (0: never saved) and not
/// published; false otherwise.
pub async fn save_text(
    conn: &mut PgConnection,
    assessment: Uuid,
    expected: i32,
    text: &AdviserText,
    by: Uuid,
) -> sqlx::Result<bool> {
    let done = if expected == 0 {
        sqlx::query!(
            "insert into letters (assessment_id, addressee, salutation, cc, thanks, extra, updated_by)
             values ($1, $2, $3, $4, $5, $6, $7) on conflict (assessment_id) do nothing",
            assessment,
            text.addressee,
            text.salutation,
            text.cc,
            text.thanks,
            text.extra,
            by
        )
        .execute(conn)
        .await?
    } else {
        sqlx::query!(
            "update letters set addressee = $3, salutation = $4, cc = $5, thanks = $6, extra = $7,
                    updated_by = $8, version = version + 1, updated_at = now()
             where assessment_id = $1 and version = $2 and published is null",
            assessment,
            expected,
            text.addressee,
            text.salutation,
            text.cc,
            text.thanks,
            text.extra,
            by
        )
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() == 1)
}

/// When the assessment was published: its "published" event, or (published before letters were
/// kept, as the demo's and generated data are) when it last changed.
pub async fn published_at(pool: &PgPool, assessment: Uuid) -> sqlx::Result<Option<OffsetDateTime>> {
    sqlx::query_scalar!(
        r#"select coalesce(
                  (select max(e.occurred_at) from audit_events e
                   where e.entity_type = 'assessment' and e.entity_id = a.id::text
                     and e.action = 'assessment.published'),
                  a.updated_at) as "at!"
           from assessments a where a.id = $1"#,
        assessment
    )
    .fetch_optional(pool)
    .await
}

/// Keeps the letter as published, with the adviser's lines it was written with.
pub async fn publish(
    conn: &mut PgConnection,
    assessment: Uuid,
    text: &AdviserText,
    letter: &Letter,
    at: OffsetDateTime,
    by: Option<Uuid>,
) -> sqlx::Result<()> {
    let json = serde_json::to_value(letter).unwrap_or_default();
    sqlx::query!(
        "insert into letters (assessment_id, addressee, salutation, cc, thanks, extra, updated_by, published, published_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (assessment_id) do update
           set published = excluded.published, published_at = excluded.published_at,
               updated_by = excluded.updated_by, updated_at = now()
           where letters.published is null",
        assessment,
        text.addressee,
        text.salutation,
        text.cc,
        text.thanks,
        text.extra,
        by,
        json,
        at
    )
    .execute(conn)
    .await
    .map(|_| ())
}
