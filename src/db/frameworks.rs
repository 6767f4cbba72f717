//! Storing frameworks: idempotent by code and edition, so a restart changes nothing.

use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::framework::Framework;

/// What storing a framework did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// First time this code was seen.
    Inserted,
    /// Same code and edition, and the text had changed (a correction): updated in place.
    Updated,
    /// Exactly as stored already.
    Unchanged,
}

/// Why a framework could not be stored.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "framework {code}: the database holds edition {stored:?} but the file says {file:?}; \
         a new edition needs a new code, so assessments keep the edition they were made with"
    )]
    EditionChanged {
        code: String,
        stored: String,
        file: String,
    },
    #[error(
        "framework {code}: {what} is in the database and used by assessments, but no longer in the file"
    )]
    StillReferenced { code: String, what: String },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Stores one framework in a transaction of its own.
pub async fn store(pool: &PgPool, framework: &Framework) -> Result<Stored, StoreError> {
    let mut tx = pool.begin().await?;
    let outcome = store_in(&mut tx, framework).await?;
    tx.commit().await?;
    Ok(outcome)
}

async fn store_in(conn: &mut PgConnection, fw: &Framework) -> Result<Stored, StoreError> {
    let definition = serde_json::to_value(fw).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
    let existing = sqlx::query!(
        r#"select id, edition as "edition!: String", definition = $2 as "same!"
           from frameworks where code = $1 for update"#,
        fw.code,
        definition,
    )
    .fetch_optional(&mut *conn)
    .await?;

    let (framework_id, outcome) = match existing {
        Some(row) if row.same => return Ok(Stored::Unchanged),
        Some(row) if row.edition != fw.edition => {
            return Err(StoreError::EditionChanged {
                code: fw.code.clone(),
                stored: row.edition,
                file: fw.edition.clone(),
            });
        }
        Some(row) => {
            sqlx::query!(
                "update frameworks set title = $2, publisher = $3, attribution = $4,
                        section_label = $5, item_label = $6, scored = $7, definition = $8,
                        loaded_at = now()
                 where id = $1",
                row.id,
                fw.title,
                fw.publisher,
                fw.attribution,
                fw.section_label,
                fw.item_label,
                fw.scored,
                definition,
            )
            .execute(&mut *conn)
            .await?;
            (row.id, Stored::Updated)
        }
        None => {
            let id = sqlx::query_scalar!(
                "insert into frameworks (code, edition, title, publisher, attribution,
                                         section_label, item_label, scored, definition)
                 values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id",
                fw.code,
                fw.edition,
                fw.title,
                fw.publisher,
                fw.attribution,
                fw.section_label,
                fw.item_label,
                fw.scored,
                definition,
            )
            .fetch_one(&mut *conn)
            .await?;
            (id, Stored::Inserted)
        }
    };

    store_structure(conn, framework_id, fw, &definition).await?;
    Ok(outcome)
}

/// Upserts the ratings, sections, items, levels and criteria from the definition, and removes
/// those no longer in it (refused by the foreign keys when answers still use them).
async fn store_structure(
    conn: &mut PgConnection,
    framework_id: Uuid,
    fw: &Framework,
    definition: &Value,
) -> Result<(), StoreError> {
    let referenced = |what: &str| {
        let code = fw.code.clone();
        let what = what.to_owned();
        move |e: sqlx::Error| match e.as_database_error().and_then(|d| d.code()) {
            Some(code_) if code_ == "23503" => StoreError::StillReferenced { code, what },
            _ => StoreError::Database(e),
        }
    };

    // Each statement reads the structure out of the stored definition, so one round trip
    // stores a whole level of the tree.
    sqlx::query!(
        r#"with wanted as (
               select r.ordinality::int as position, r.value->>'code' as code, r.value->>'label' as label
               from jsonb_array_elements($2::jsonb->'ratings') with ordinality as r
           ), upserted as (
               insert into ratings (framework_id, code, label, position)
               select $1, code, label, position from wanted
               on conflict (framework_id, code) do update
                   set label = excluded.label, position = excluded.position
                   where (ratings.label, ratings.position) is distinct from (excluded.label, excluded.position)
           )
           delete from ratings where framework_id = $1 and code not in (select code from wanted)"#,
        framework_id,
        definition,
    )
    .execute(&mut *conn)
    .await
    .map_err(referenced("a rating"))?;

    sqlx::query!(
        r#"with wanted as (
               select (s->>'number')::int as number, s->>'title' as title,
                      coalesce((s->>'may_be_not_scored')::boolean, false) as may_be_not_scored
               from jsonb_array_elements($2::jsonb->'sections') as s
           ), upserted as (
               insert into sections (framework_id, number, title, may_be_not_scored)
               select $1, number, title, may_be_not_scored from wanted
               on conflict (framework_id, number) do update
                   set title = excluded.title, may_be_not_scored = excluded.may_be_not_scored
                   where (sections.title, sections.may_be_not_scored)
                         is distinct from (excluded.title, excluded.may_be_not_scored)
           )
           delete from sections where framework_id = $1 and number not in (select number from wanted)"#,
        framework_id,
        definition,
    )
    .execute(&mut *conn)
    .await
    .map_err(referenced("a section"))?;

    sqlx::query!(
        r#"with wanted as (
               select sec.id as section_id, i.value->>'code' as code, i.ordinality::int as position,
                      i.value->>'kind' as kind
               from jsonb_array_elements($2::jsonb->'sections') as s
               join sections sec on sec.framework_id = $1 and sec.number = (s->>'number')::int
               cross join lateral jsonb_array_elements(s->'items') with ordinality as i
           ), upserted as (
               insert into items (section_id, code, position, kind)
               select section_id, code, position, kind from wanted
               on conflict (section_id, code) do update
                   set position = excluded.position, kind = excluded.kind
                   where (items.position, items.kind) is distinct from (excluded.position, excluded.kind)
           )
           delete from items
           where section_id in (select id from sections where framework_id = $1)
             and (section_id, code) not in (select section_id, code from wanted)"#,
        framework_id,
        definition,
    )
    .execute(&mut *conn)
    .await
    .map_err(referenced("an item"))?;

    sqlx::query!(
        r#"with wanted as (
               select sec.id as section_id, (l->>'score')::smallint as score
               from jsonb_array_elements($2::jsonb->'sections') as s
               join sections sec on sec.framework_id = $1 and sec.number = (s->>'number')::int
               cross join lateral jsonb_array_elements(s->'levels') as l
           ), upserted as (
               insert into levels (section_id, score)
               select section_id, score from wanted
               on conflict (section_id, score) do nothing
           )
           delete from levels
           where section_id in (select id from sections where framework_id = $1)
             and (section_id, score) not in (select section_id, score from wanted)"#,
        framework_id,
        definition,
    )
    .execute(&mut *conn)
    .await
    .map_err(referenced("a level"))?;

    sqlx::query!(
        r#"with wanted as (
               select lev.id as level_id, c.value->>'id' as code, c.ordinality::int as position
               from jsonb_array_elements($2::jsonb->'sections') as s
               join sections sec on sec.framework_id = $1 and sec.number = (s->>'number')::int
               cross join lateral jsonb_array_elements(s->'levels') as l
               join levels lev on lev.section_id = sec.id and lev.score = (l->>'score')::smallint
               cross join lateral jsonb_array_elements(coalesce(l->'criteria', '[]'::jsonb))
                   with ordinality as c
           ), upserted as (
               insert into criteria (level_id, code, position)
               select level_id, code, position from wanted
               on conflict (level_id, code) do update
                   set position = excluded.position
                   where criteria.position is distinct from excluded.position
           )
           delete from criteria
           where level_id in (select l.id from levels l join sections s on s.id = l.section_id
                              where s.framework_id = $1)
             and (level_id, code) not in (select level_id, code from wanted)"#,
        framework_id,
        definition,
    )
    .execute(&mut *conn)
    .await
    .map_err(referenced("a criterion"))?;

    Ok(())
}

/// Every stored framework's definition, including editions whose files have since gone.
pub async fn load_all(pool: &PgPool) -> Result<Vec<Framework>, sqlx::Error> {
    let rows = sqlx::query_scalar!("select definition from frameworks order by code")
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|definition| {
            serde_json::from_value(definition).map_err(|e| sqlx::Error::Decode(Box::new(e)))
        })
        .collect()
}
