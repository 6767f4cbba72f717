//! The audit trail: appended to, never changed (the database refuses updates and deletes).

use serde_json::Value;
use sqlx::types::ipnetwork::IpNetwork;
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
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

/// An event as the trail shows it, with its `before` and `after` as the JSON's text, read only
/// when needed (the trail's page words an event once: [`crate::web::audit_view::Worded`]).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub occurred_at: OffsetDateTime,
    pub actor_label: String,
    pub ip: Option<IpNetwork>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: Option<String>,
    pub organisation_id: Option<Uuid>,
    /// The council's name, from the places the server keeps (`crate::cache::places`), filled
    /// in by the trail once read: joined here, the council of each event was a fifth of the
    /// statement's cost when the page's events were worded already (bench/README.md).
    #[sqlx(default)]
    pub organisation_name: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
    /// `before` and `after` left unread: the event was one of those said to be worded already.
    pub unread: bool,
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

/// The statement for a page of the trail: only the filters in use, each one an index condition
/// (the page's start as a row comparison on the trail's order), never `($n is null or …)`,
/// which a generic plan cannot use an index for. Each combination of filters is a statement of
/// its own, prepared once per connection. The events of `worded` come without their `before`
/// and `after` (marked `unread`): reading and sending them was a third of the statement's cost.
fn page_statement<'a>(
    f: &'a Filter,
    after: Option<Cursor>,
    limit: i64,
    worded: &'a [i64],
) -> QueryBuilder<'a, Postgres> {
    let mut q = QueryBuilder::new(
        "select e.id, e.occurred_at, e.actor_label, e.ip, e.action, e.entity_type, e.entity_id,
                e.organisation_id,
                case when k.unread then null else e.before::text end as before,
                case when k.unread then null else e.after::text end as after, k.unread
         from audit_events e
         cross join lateral (select e.id = any(",
    );
    q.push_bind(worded).push(") as unread) k where true");
    if let Some(organisation) = f.organisation {
        q.push(" and e.organisation_id = ").push_bind(organisation);
    }
    if !f.actor.is_empty() {
        q.push(" and strpos(lower(e.actor_label), lower(")
            .push_bind(f.actor.as_str())
            .push(")) > 0");
    }
    if !f.action.is_empty() {
        q.push(" and e.action = ").push_bind(f.action.as_str());
    }
    if !f.entity_type.is_empty() {
        q.push(" and e.entity_type = ")
            .push_bind(f.entity_type.as_str());
    }
    if let Some(from) = f.from {
        q.push(" and e.occurred_at >= ").push_bind(from);
    }
    if let Some(to) = f.to {
        q.push(" and e.occurred_at < ").push_bind(to);
    }
    if let Some(c) = after {
        q.push(" and (e.occurred_at, e.id) < (")
            .push_bind(c.occurred_at)
            .push(", ")
            .push_bind(c.id)
            .push(")");
    }
    // The page's size as written, not a parameter: a generic plan guesses a tenth of the
    // table for `limit $n`, and then walks the time index whatever the filter. (A number the
    // code chooses, never typed by anyone.)
    q.push(format!(
        " order by e.occurred_at desc, e.id desc limit {}",
        limit.clamp(1, 100_000)
    ));
    q
}

/// Up to `limit` events, newest first, after `after` (by key, so a page costs the same however
/// long the trail grows); those of `worded` without their `before` and `after`.
pub async fn list(
    pool: &PgPool,
    f: &Filter,
    after: Option<Cursor>,
    limit: i64,
    worded: &[i64],
) -> sqlx::Result<Vec<Event>> {
    page_statement(f, after, limit, worded)
        .build_query_as::<Event>()
        .fetch_all(pool)
        .await
}

/// The events of `ids` in full, in no particular order: those a page read without their
/// `before` and `after` and then found it had not worded after all.
pub async fn by_ids(pool: &PgPool, ids: &[i64]) -> sqlx::Result<Vec<Event>> {
    sqlx::query_as!(
        Event,
        r#"select e.id, e.occurred_at, e.actor_label, e.ip, e.action, e.entity_type, e.entity_id,
                  e.organisation_id, null::text as "organisation_name?",
                  e.before::text as before, e.after::text as after, false as "unread!"
           from audit_events e
           where e.id = any($1)"#,
        ids
    )
    .fetch_all(pool)
    .await
}
