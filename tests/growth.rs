//! Nothing slows as the years pile up: the tables that grow every year (audit events, sign-in
//! attempts, sessions, outbox, notifications, actions and their notes, people) are filled with a
//! year's worth of rows or more (500,000 audit events), and the pages that read them must cost
//! the same statements as with a handful of rows, each planned on an index: every statement a
//! page ran is prepared and explained with a generic plan (`plan_cache_mode =
//! force_generic_plan`, the plan every connection of the service's pool runs, as the first test
//! here shows), and no plan may read a grown table by a sequential scan. No timing is asserted;
//! `bench/audit` measures time.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use serde_json::Value;
use sqlx::PgPool;
use support::statements::{ONE_AT_A_TIME, get_recording};
use support::{Client, router_from};

const GROWN: &[&str] = &[
    "audit_events",
    "sign_in_attempts",
    "sessions",
    "outbox",
    "notifications",
    "actions",
    "action_notes",
    "known_devices",
    "users",
];

/// A year and more of use, at national scale: in one transaction, with the row triggers
/// (change notices, sign-off voiding) off, as a bulk load would be; what is measured is how
/// the pages read these rows, not how they were written.
async fn grow(pool: &PgPool) {
    let mut tx = pool.begin().await.expect("a transaction");
    sqlx::query("set local session_replication_role = replica")
        .execute(&mut *tx)
        .await
        .expect("triggers off for the load");
    let statements = [
        // Every council's people over the years, most of them long gone.
        "insert into users (email, display_name, disabled_at)
         select 'officer' || g || '@council' || (g % 350) || '.example', 'Officer ' || g,
                case when g % 4 = 0 then now() - interval '200 days' end
         from generate_series(1, 30000) g",
        "insert into sign_in_attempts (ip, email, succeeded, attempted_at)
         select ('10.' || (g % 250) || '.' || (g / 250 % 250) || '.1')::inet,
                'person' || (g % 5000) || '@council.example', g % 3 <> 0,
                now() - (g * interval '15 seconds')
         from generate_series(1, 200000) g",
        "with u as (select array_agg(id order by email) as ids from users)
         insert into sessions (id_hash, user_id, created_at, last_seen_at, expires_at)
         select sha256(g::text::bytea), u.ids[1 + g % cardinality(u.ids)], now() - interval '20 days',
                now() - interval '20 days', now() - interval '19 days'
         from generate_series(1, 100000) g, u",
        "with u as (select array_agg(id order by email) as ids from users)
         insert into known_devices (token_hash, user_id)
         select sha256(('d' || g)::bytea), u.ids[1 + g % cardinality(u.ids)]
         from generate_series(1, 50000) g, u",
    ];
    for sql in statements {
        sqlx::query(sql)
            .execute(&mut *tx)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    grow_mail_and_plans(&mut tx).await;
    grow_audit(&mut tx).await;
    tx.commit().await.expect("grown");
    sqlx::query("analyze").execute(pool).await.expect("analyze");
}

/// 500,000 audit events over a year and a half, of every kind the service records, at every
/// council (after the councils have grown).
async fn grow_audit(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) {
    let actions: Vec<&str> = prevent_assure::web::audit_view::EVENTS
        .iter()
        .map(|(code, _)| *code)
        .collect();
    sqlx::query(
        "with u as (select array_agg(id order by email) as ids, array_agg(email order by email) as emails
                    from users),
              o as (select array_agg(id order by slug) as ids from organisations)
         insert into audit_events (occurred_at, actor_id, actor_label, ip, action, entity_type,
                                   entity_id, organisation_id, after)
         select now() - (g * interval '97 seconds'), u.ids[1 + g % cardinality(u.ids)],
                u.emails[1 + g % cardinality(u.ids)], '10.0.0.1'::inet,
                ($1::text[])[1 + g % cardinality($1::text[])],
                (array['user','answer','action','session','section','assessment','attachment',
                       'comment','letter','organisation','region','cycle'])[1 + g % 12],
                g::text, o.ids[1 + (g * 7) % cardinality(o.ids)], jsonb_build_object('n', g)
         from generate_series(1, 500000) g, u, o",
    )
    .bind(&actions)
    .execute(&mut **tx)
    .await
    .expect("audit events");
}

/// Outbox, notifications, and actions with notes at every council.
async fn grow_mail_and_plans(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>) {
    let statements = [
        "insert into outbox (to_address, subject, body, created_at, sent_at)
         select 'person' || g || '@council.example', 'A reminder', 'Text', now() - (g * interval '1 minute'),
                now() - (g * interval '1 minute')
         from generate_series(1, 50000) g",
        "with u as (select array_agg(id order by email) as ids from users)
         insert into notifications (user_id, kind, title, link, idempotency_key, created_at, read_at)
         select u.ids[1 + g % cardinality(u.ids)], 'reminder', 'A reminder ' || g, '/', 'grown-' || g,
                now() - (g * interval '5 minutes'), case when g > 20 then now() end
         from generate_series(1, 100000) g, u",
        // Years of councils' plans: 1,500 more councils with an assessment in each cycle and
        // 30 actions in each (as at national scale: each assessment's actions a sliver of all).
        "insert into organisations (slug, name, region_id)
         select 'grown-' || g, 'Grown council ' || g, (select id from regions order by slug limit 1)
         from generate_series(1, 1500) g",
        "insert into assessments (organisation_id, cycle_id, framework_id)
         select o.id, c.id, f.id from organisations o, cycles c, frameworks f
         where o.slug like 'grown-%' and f.code = 'prevent-la-2018'",
        "insert into actions (organisation_id, assessment_id, section_id, item_id, source, description,
                              owner_text, target_text, due_on)
         select a.organisation_id, a.id, s.id, i.id, 'question', 'Grown action ' || g, 'CSP Manager',
                'Q4 2026/27', current_date + (g * 13 % 400) - 200
         from assessments a join organisations o on o.id = a.organisation_id and o.slug like 'grown-%'
         join sections s on s.framework_id = a.framework_id and s.number = 1
         join items i on i.section_id = s.id and i.code = '1.1', generate_series(1, 30) g",
        "insert into action_notes (action_id, body, noted_on)
         select a.id, 'Progress', current_date - g from actions a, generate_series(1, 3) g
         where a.description like 'Grown action %'",
    ];
    for sql in statements {
        sqlx::query(sql)
            .execute(&mut **tx)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
}

/// The generic plan of a statement as a page ran it, as JSON.
async fn generic_plan(conn: &mut sqlx::PgConnection, sql: &str) -> Value {
    let params = (1..=40)
        .rev()
        .find(|n| sql.contains(&format!("${n}")))
        .unwrap_or(0);
    sqlx::raw_sql("deallocate grown")
        .execute(&mut *conn)
        .await
        .ok();
    sqlx::raw_sql(&format!("prepare grown as {sql}"))
        .execute(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    let args = vec!["null"; params].join(", ");
    let explain = if params == 0 {
        "explain (format json) execute grown".to_owned()
    } else {
        format!("explain (format json) execute grown({args})")
    };
    let (plan,): (Value,) = sqlx::query_as(&explain)
        .persistent(false)
        .fetch_one(&mut *conn)
        .await
        .unwrap_or_else(|e| panic!("{e}: {sql}"));
    plan
}

/// The grown tables a plan reads by a sequential scan.
fn seq_scans(plan: &Value, found: &mut Vec<String>) {
    match plan {
        Value::Object(node) => {
            if node.get("Node Type").and_then(Value::as_str) == Some("Seq Scan")
                && let Some(table) = node.get("Relation Name").and_then(Value::as_str)
                && GROWN.contains(&table)
            {
                found.push(table.to_owned());
            }
            node.values().for_each(|v| seq_scans(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| seq_scans(v, found)),
        _ => {}
    }
}

/// The indexes a plan reads.
fn index_names(plan: &Value, found: &mut Vec<String>) {
    match plan {
        Value::Object(node) => {
            if let Some(name) = node.get("Index Name").and_then(Value::as_str) {
                found.push(name.to_owned());
            }
            node.values().for_each(|v| index_names(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| index_names(v, found)),
        _ => {}
    }
}

/// The audit trail's pages, each filter an index condition: the index (any of these) that the
/// page's statement on `audit_events` must read, whichever filters are in use.
fn audit_indexes(page: &str) -> &'static [&'static str] {
    if page.starts_with("/orgs/ashbridge/audit?action=") {
        &["audit_events_organisation_idx", "audit_events_action_idx"]
    } else if page.starts_with("/orgs/") {
        &["audit_events_organisation_idx"]
    } else if page.contains("action=") {
        &["audit_events_action_idx"]
    } else if page.contains("entity=") {
        // A dozen kinds of thing, each common: walking the trail's order reads about a dozen
        // pages' worth, which the planner may rightly prefer.
        &["audit_events_entity_type_idx", "audit_events_time_idx"]
    } else {
        &["audit_events_time_idx"]
    }
}

fn is_query(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_lowercase();
    ["select", "with", "insert", "update", "delete"]
        .iter()
        .any(|k| head.starts_with(k))
}

/// The plans this file checks are the plans the service runs: its pool's connections are opened
/// with generic plans forced, not left to PostgreSQL's choice between a plan for the values of
/// each execution and the generic one.
#[sqlx::test]
async fn the_service_runs_its_statements_on_their_generic_plans(pool: PgPool) {
    let url = support::database_url(&pool).await;
    let service = prevent_assure::db::connect(&url, 2)
        .await
        .expect("the pool");
    for _ in 0..3 {
        let mode: String = sqlx::query_scalar("show plan_cache_mode")
            .fetch_one(&service)
            .await
            .expect("the setting");
        assert_eq!(mode, "force_generic_plan");
    }
    service.close().await;
}

#[sqlx::test]
async fn a_years_rows_leave_each_page_with_the_same_statements_on_index_plans(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let mut state = support::demo_state(pool.clone()).await;
    let mut settings = (*state.settings).clone();
    settings.second_factor_required = false;
    state.settings = std::sync::Arc::new(settings);
    let caches = state.caches.clone();
    let router = router_from(state, [10, 97, 0, 1]);
    let mut admin = Client::new(router.clone());
    admin
        .sign_in("admin@prevent-assure.example", DEMO_PASSWORD)
        .await;
    let mut lead = Client::new(router.clone());
    lead.sign_in("lead@ashbridge.example", DEMO_PASSWORD).await;
    let older = format!(
        "/admin/audit?older={}.{}",
        (time::OffsetDateTime::now_utc() - time::Duration::days(30)).unix_timestamp() * 1_000_000,
        i64::MAX / 2
    );
    let admin_pages = [
        "/admin/audit".to_owned(),
        "/admin/audit?action=sign_in.failed".to_owned(),
        "/admin/audit?entity=action".to_owned(),
        "/admin/audit?actor=lead%40ashbridge".to_owned(),
        "/admin/audit?from=2026-01-01&to=2026-02-01".to_owned(),
        older,
        "/admin/audit.json".to_owned(),
        "/admin/outbox".to_owned(),
        "/admin/notifications".to_owned(),
        "/admin/users".to_owned(),
        "/admin/users?after=lead%40ashbridge.example".to_owned(),
        "/admin/users?before=lead%40ashbridge.example".to_owned(),
        "/admin/users?q=ashbridge".to_owned(),
    ];
    // Ashbridge's self-assessment, started (an event in its history).
    let started = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let lead_pages = [
        format!("{}/history", support::location(&started)),
        "/orgs/ashbridge/audit".to_owned(),
        "/orgs/ashbridge/audit?action=action.updated".to_owned(),
        "/orgs/ashbridge/actions".to_owned(),
        "/orgs/ashbridge/actions?owner=CSP".to_owned(),
        "/orgs/ashbridge".to_owned(),
        "/me/actions".to_owned(),
        "/notifications".to_owned(),
        "/account".to_owned(),
    ];

    let mut before = Vec::new();
    for (client, pages) in [(&mut admin, &admin_pages[..]), (&mut lead, &lead_pages[..])] {
        for page in pages.iter() {
            caches.forget_all();
            let (_, texts) = get_recording(client, page).await;
            before.push((page.clone(), page_statements(&texts)));
        }
    }

    grow(&pool).await;

    let mut conn = pool.acquire().await.expect("a connection");
    sqlx::query("set plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .expect("generic plans");
    let mut after = Vec::new();
    let mut faults = Vec::new();
    for (client, pages) in [(&mut admin, &admin_pages[..]), (&mut lead, &lead_pages[..])] {
        for page in pages.iter() {
            caches.forget_all();
            let (_, texts) = get_recording(client, page).await;
            after.push((page.clone(), page_statements(&texts)));
            for sql in texts.iter().filter(|s| is_query(s)) {
                // A key of a framework's definition (110 KB of JSON, stored compressed) costs
                // decompressing all of it for each row: the pages read the columns kept beside it.
                if sql.contains("definition->>") || sql.contains("definition ->>") {
                    faults.push(format!(
                        "{page}: reads a key of a framework's definition in\n{sql}\n"
                    ));
                }
                let plan = generic_plan(&mut conn, sql).await;
                let mut found = Vec::new();
                seq_scans(&plan, &mut found);
                if !found.is_empty() {
                    faults.push(format!("{page}: Seq Scan on {found:?} in\n{sql}\n"));
                }
                // An assessment's history reads its own events, never every event of a kind
                // (the index of events by kind holds every assessment's changes of state).
                if sql.contains("from audit_events") && page.ends_with("/history") {
                    let mut used = Vec::new();
                    index_names(&plan, &mut used);
                    if used != ["audit_events_entity_idx"] {
                        faults.push(format!(
                            "{page}: reads {used:?}, not audit_events_entity_idx alone, in\n{sql}\n{plan}\n"
                        ));
                    }
                }
                if sql.contains("from audit_events") && page.contains("audit") {
                    let mut used = Vec::new();
                    index_names(&plan, &mut used);
                    let wanted = audit_indexes(page);
                    if !used.iter().any(|u| wanted.contains(&u.as_str())) {
                        faults.push(format!(
                            "{page}: reads {used:?}, not one of {wanted:?}, in\n{sql}\n{plan}\n"
                        ));
                    }
                }
            }
        }
    }
    assert_eq!(before, after, "the statements each page costs do not grow");
    assert!(faults.is_empty(), "{}", faults.join("\n"));
}

/// The statements a page made. The change listener's heartbeat (after 15 s without a
/// notification it notifies itself) runs on the test's one thread and may fall within a page's
/// recording when the pages are slow to come, as they are here after the year's rows: it is
/// not the page's.
fn page_statements(texts: &[String]) -> usize {
    texts.iter().filter(|s| !s.contains("pg_notify(")).count()
}
