//! Regions, councils (organisations) and cycles.

use sqlx::PgConnection;
use time::Date;
use uuid::Uuid;

/// Creates a region, or renames it if the slug exists; returns its id.
pub async fn upsert_region(conn: &mut PgConnection, slug: &str, name: &str) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into regions (slug, name) values ($1, $2)
         on conflict (slug) do update set name = excluded.name
         returning id",
        slug,
        name,
    )
    .fetch_one(conn)
    .await
}

/// Creates a council in a region, or updates its name and region; returns its id.
pub async fn upsert_organisation(
    conn: &mut PgConnection,
    slug: &str,
    name: &str,
    region_id: Uuid,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into organisations (slug, name, region_id) values ($1, $2, $3)
         on conflict (slug) do update set name = excluded.name, region_id = excluded.region_id
         returning id",
        slug,
        name,
        region_id,
    )
    .fetch_one(conn)
    .await
}

/// Creates a cycle (financial year) or updates its dates; returns its id.
pub async fn upsert_cycle(
    conn: &mut PgConnection,
    label: &str,
    starts_on: Date,
    opens_on: Date,
    deadline: Date,
) -> sqlx::Result<Uuid> {
    sqlx::query_scalar!(
        "insert into cycles (label, starts_on, opens_on, deadline) values ($1, $2, $3, $4)
         on conflict (label) do update set opens_on = excluded.opens_on, deadline = excluded.deadline
         returning id",
        label,
        starts_on,
        opens_on,
        deadline,
    )
    .fetch_one(conn)
    .await
}

/// A region, as lists show it.
#[derive(Debug, Clone)]
pub struct Region {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub councils: i64,
}

/// A council with its region.
#[derive(Debug, Clone)]
pub struct Organisation {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub region_id: Uuid,
    pub region_name: String,
}

#[derive(Debug, Clone)]
pub struct Cycle {
    pub id: Uuid,
    pub label: String,
    pub starts_on: Date,
    pub opens_on: Date,
    pub deadline: Date,
}

/// Why a new place could not be created, as a form shows it.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    #[error("already exists")]
    Duplicate,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn duplicate(e: sqlx::Error) -> CreateError {
    match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => CreateError::Duplicate,
        _ => CreateError::Database(e),
    }
}

pub async fn regions(pool: &sqlx::PgPool) -> sqlx::Result<Vec<Region>> {
    sqlx::query_as!(
        Region,
        r#"select r.id, r.slug, r.name, count(o.id) as "councils!"
           from regions r left join organisations o on o.region_id = r.id
           group by r.id order by r.name"#
    )
    .fetch_all(pool)
    .await
}

pub async fn organisations(pool: &sqlx::PgPool) -> sqlx::Result<Vec<Organisation>> {
    sqlx::query_as!(
        Organisation,
        r#"select o.id, o.slug, o.name, o.region_id, r.name as region_name
           from organisations o join regions r on r.id = o.region_id
           order by o.name"#
    )
    .fetch_all(pool)
    .await
}

pub async fn insert_region(
    conn: &mut PgConnection,
    slug: &str,
    name: &str,
) -> Result<Uuid, CreateError> {
    sqlx::query_scalar!(
        "insert into regions (slug, name) values ($1, $2) returning id",
        slug,
        name
    )
    .fetch_one(conn)
    .await
    .map_err(duplicate)
}

pub async fn insert_organisation(
    conn: &mut PgConnection,
    slug: &str,
    name: &str,
    region_id: Uuid,
) -> Result<Uuid, CreateError> {
    sqlx::query_scalar!(
        "insert into organisations (slug, name, region_id) values ($1, $2, $3) returning id",
        slug,
        name,
        region_id
    )
    .fetch_one(conn)
    .await
    .map_err(duplicate)
}

pub async fn cycles(pool: &sqlx::PgPool) -> sqlx::Result<Vec<Cycle>> {
    sqlx::query_as!(
        Cycle,
        "select id, label, starts_on, opens_on, deadline from cycles order by starts_on desc"
    )
    .fetch_all(pool)
    .await
}

pub async fn insert_cycle(
    conn: &mut PgConnection,
    label: &str,
    starts_on: Date,
    opens_on: Date,
    deadline: Date,
) -> Result<Uuid, CreateError> {
    sqlx::query_scalar!(
        "insert into cycles (label, starts_on, opens_on, deadline) values ($1, $2, $3, $4) returning id",
        label,
        starts_on,
        opens_on,
        deadline
    )
    .fetch_one(conn)
    .await
    .map_err(duplicate)
}

pub async fn region_id(conn: &mut PgConnection, slug: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("select id from regions where slug = $1", slug)
        .fetch_optional(conn)
        .await
}

pub async fn organisation_id(conn: &mut PgConnection, slug: &str) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!("select id from organisations where slug = $1", slug)
        .fetch_optional(conn)
        .await
}

/// How many regions there are: the benchmark floor's one trivial query.
pub async fn count_regions(pool: &sqlx::PgPool) -> sqlx::Result<i64> {
    sqlx::query_scalar!(r#"select count(*) as "n!" from regions"#)
        .fetch_one(pool)
        .await
}

/// Every region, council and cycle: what the server keeps in memory (see `crate::cache`).
/// Councils by name, cycles latest first.
pub async fn snapshot(
    pool: &sqlx::PgPool,
) -> sqlx::Result<(Vec<(Uuid, String, String)>, Vec<Organisation>, Vec<Cycle>)> {
    let regions = sqlx::query!("select id, slug, name from regions order by name")
        .fetch_all(pool)
        .await?
        .into_iter()
        .map(|r| (r.id, r.slug, r.name))
        .collect();
    Ok((regions, organisations(pool).await?, cycles(pool).await?))
}

/// What a cycle says of one framework: whether it is open, and by when it is due. A framework
/// with no row is open, due by the cycle's deadline.
#[derive(Debug, Clone)]
pub struct CycleFramework {
    pub framework_code: String,
    pub open: bool,
    pub deadline: Date,
}

pub async fn cycle_frameworks(
    pool: &sqlx::PgPool,
    cycle: Uuid,
) -> sqlx::Result<Vec<CycleFramework>> {
    sqlx::query_as!(
        CycleFramework,
        "select framework_code, open, deadline from cycle_frameworks where cycle_id = $1
         order by framework_code",
        cycle
    )
    .fetch_all(pool)
    .await
}

/// Sets what a cycle says of one framework.
pub async fn set_cycle_framework(
    conn: &mut PgConnection,
    cycle: Uuid,
    framework_code: &str,
    open: bool,
    deadline: Date,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into cycle_frameworks (cycle_id, framework_code, open, deadline) values ($1, $2, $3, $4)
         on conflict (cycle_id, framework_code) do update set open = excluded.open, deadline = excluded.deadline",
        cycle,
        framework_code,
        open,
        deadline
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// What every cycle says of its frameworks (a few rows a cycle).
pub async fn all_cycle_frameworks(
    pool: &sqlx::PgPool,
) -> sqlx::Result<Vec<(Uuid, CycleFramework)>> {
    let rows = sqlx::query!(
        "select cycle_id, framework_code, open, deadline from cycle_frameworks
         order by cycle_id, framework_code"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                r.cycle_id,
                CycleFramework {
                    framework_code: r.framework_code,
                    open: r.open,
                    deadline: r.deadline,
                },
            )
        })
        .collect())
}
