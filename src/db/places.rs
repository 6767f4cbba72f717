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
