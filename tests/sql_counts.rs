//! A page costs a handful of SQL statements, never one per row: the task list and a benchmark
//! page are counted with little data and with a lot, and the counts must not move.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};

/// Counts sqlx's one log event per statement executed.
#[derive(Clone, Default)]
struct Statements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _ctx: Context<'_, S>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// The statements one GET costs.
async fn statements_for(client: &mut Client, uri: &str) -> usize {
    let counter = Statements::default();
    let subscriber = Registry::default().with(counter.clone());
    let _guard = tracing::subscriber::set_default(subscriber);
    let reply = client.get(uri).await;
    assert_eq!(reply.status, 200, "{uri}");
    counter.0.load(Ordering::SeqCst)
}

/// Adds `n` actions with three progress notes each, evidence everywhere, and criteria.
async fn grow(pool: &PgPool, assessment: uuid::Uuid, n: i32) {
    sqlx::query(
        "insert into actions (organisation_id, assessment_id, section_id, item_id, source, description, owner_text, target_text, due_on)
         select a.organisation_id, a.id, s.id, i.id, 'question', 'Action ' || g, 'CSP Manager', 'Q4 2026/27', '2027-03-31'
         from assessments a join sections s on s.framework_id = a.framework_id and s.number = 1
         join items i on i.section_id = s.id and i.code = '1.1', generate_series(1, $2) g
         where a.id = $1",
    )
    .bind(assessment)
    .bind(n)
    .execute(pool)
    .await
    .expect("actions");
    sqlx::query(
        "insert into action_notes (action_id, body, noted_on)
         select a.id, 'Progress ' || g, current_date - g from actions a, generate_series(1, 3) g where a.assessment_id = $1",
    )
    .bind(assessment)
    .execute(pool)
    .await
    .expect("notes");
    sqlx::query("update answers set evidence = repeat('Evidence of process. ', 200), prompt_evidence = array['a', 'b', 'c'] where assessment_id = $1")
        .bind(assessment)
        .execute(pool)
        .await
        .expect("evidence");
    sqlx::query(
        "insert into criteria_met (section_result_id, criterion_id)
         select r.id, c.id from section_results r join levels l on l.section_id = r.section_id
         join criteria c on c.level_id = l.id where r.assessment_id = $1 on conflict do nothing",
    )
    .bind(assessment)
    .execute(pool)
    .await
    .expect("criteria");
}

#[sqlx::test]
async fn the_task_list_and_a_benchmark_page_cost_the_same_few_statements_however_much_data(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 3, 0, 1]);
    let mut lead = Client::new(router);
    lead.sign_in("lead@ashbridge.example", DEMO_PASSWORD).await;
    let started = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&started).to_owned();
    let id: uuid::Uuid = address
        .trim_start_matches("/assessments/")
        .parse()
        .expect("an id");
    let pages = [
        address.clone(),
        format!("{address}/benchmarks/1"),
        format!("{address}/check"),
    ];

    let mut small = Vec::new();
    for page in &pages {
        small.push(statements_for(&mut lead, page).await);
    }
    grow(&pool, id, 40).await;
    let mut large = Vec::new();
    for page in &pages {
        large.push(statements_for(&mut lead, page).await);
    }

    eprintln!("statements per page (task list, benchmark 1, check): {small:?} then {large:?}");
    assert_eq!(
        small, large,
        "statements per page must not grow with the data"
    );
    for (page, count) in pages.iter().zip(&large) {
        assert!(*count > 0 && *count <= 10, "{page}: {count} statements");
    }
}
