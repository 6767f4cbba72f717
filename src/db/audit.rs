//! The audit trail: appended to, never changed (the database refuses updates and deletes).

use serde_json::Value;
use sqlx::types::ipnetwork::IpNetwork;
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

/// One thing that happened.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    pub actor_id: Option<Uuid>,
    /// Who, as shown in the trail (their email), kept even if the user is removed.
    pub actor_label: String,
    pub ip: Option<IpNetwork>,
    pub action: &'static str,
    pub entity_type: &'static str,
    pub entity_id: Option<String>,
    pub organisation_id: Option<Uuid>,
    pub region_id: Option<Uuid>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

pub async fn record<'c>(conn: impl PgExecutor<'c>, event: &NewEvent) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into audit_events (actor_id, actor_label, ip, action, entity_type, entity_id,
                                   organisation_id, region_id, before, after)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        event.actor_id,
        event.actor_label,
        event.ip,
        event.action,
        event.entity_type,
        event.entity_id,
        event.organisation_id,
        event.region_id,
        event.before,
        event.after,
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// An event as the trail shows it.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: i64,
    pub occurred_at: OffsetDateTime,
    pub actor_label: String,
    pub ip: Option<IpNetwork>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub organisation_name: Option<String>,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What to show: every filter is optional; `organisation` limits to one council's events.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub organisation: Option<Uuid>,
    pub actor: String,
    pub action: String,
    pub entity_type: String,
    pub from: Option<OffsetDateTime>,
    pub to: Option<OffsetDateTime>,
}

/// Where a page of the trail starts: after this event, in the trail's order.
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub occurred_at: OffsetDateTime,
    pub id: i64,
}

/// Up to `limit` events, newest first, after `after` (by key, so a page costs the same however
/// long the trail grows).
pub async fn list(
    pool: &PgPool,
    f: &Filter,
    after: Option<Cursor>,
    limit: i64,
) -> sqlx::Result<Vec<Event>> {
    sqlx::query_as!(
        Event,
        r#"select e.id, e.occurred_at, e.actor_label, e.ip, e.action, e.entity_type, e.entity_id,
                  o.name as "organisation_name?", e.before, e.after
           from audit_events e left join organisations o on o.id = e.organisation_id
           where ($1::uuid is null or e.organisation_id = $1)
             and ($2 = '' or strpos(lower(e.actor_label), lower($2)) > 0)
             and ($3 = '' or e.action = $3)
             and ($4 = '' or e.entity_type = $4)
             and ($5::timestamptz is null or e.occurred_at >= $5)
             and ($6::timestamptz is null or e.occurred_at < $6)
             and ($7::timestamptz is null or (e.occurred_at, e.id) < ($7, $8))
           order by e.occurred_at desc, e.id desc
           limit $9"#,
        f.organisation,
        f.actor,
        f.action,
        f.entity_type,
        f.from,
        f.to,
        after.map(|c| c.occurred_at),
        after.map_or(0, |c| c.id),
        limit,
    )
    .fetch_all(pool)
    .await
}
