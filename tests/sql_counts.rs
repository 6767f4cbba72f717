//! A page costs a handful of SQL statements, never one per row: the task list and a benchmark
//! page are counted with little data and with a lot, and the counts must not move. Pages are
//! counted as when nothing is kept in memory (the first view after a change); kept, the views
//! cost no statement at all.

mod support;

use prevent_assure::cache::Caches;
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::statements::{ONE_AT_A_TIME, get_counting};
use support::{Client, location, router_from};

/// The statements one GET costs when nothing is kept in memory.
async fn statements_for(client: &mut Client, caches: &Caches, uri: &str) -> usize {
    caches.forget_all();
    get_counting(client, uri).await.1
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
    // The adviser's recommendations: actions on no benchmark, listed on the plan too.
    sqlx::query(
        "insert into actions (organisation_id, assessment_id, source, description, owner_text, target_text, recommended_in)
         select a.organisation_id, a.id, 'recommendation', 'Recommendation ' || g, '', '', a.cycle_id
         from assessments a, generate_series(1, 3) g where a.id = $1",
    )
    .bind(assessment)
    .execute(pool)
    .await
    .expect("recommendations");
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
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    let router = router_from(state, [10, 3, 0, 1]);
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
        small.push(statements_for(&mut lead, &caches, page).await);
    }
    grow(&pool, id, 40).await;
    let mut large = Vec::new();
    for page in &pages {
        large.push(statements_for(&mut lead, &caches, page).await);
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

/// Adds `councils` more councils to North Vale with three cycles of filled assessments.
async fn more_councils(pool: &PgPool, councils: usize) {
    let ids = support::extra_councils(pool, councils).await;
    prevent_assure::db::sample::fill(pool, &ids, 30, time::OffsetDateTime::now_utc().date())
        .await
        .expect("filled");
}

#[sqlx::test]
async fn each_view_costs_the_same_few_statements_as_councils_actions_and_cycles_grow(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::demo_state(pool.clone()).await;
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("select id from organisations")
        .fetch_all(&pool)
        .await
        .expect("councils");
    // Little data: one action per assessment.
    prevent_assure::db::sample::fill(&pool, &ids, 1, time::OffsetDateTime::now_utc().date())
        .await
        .expect("filled");
    let caches = state.caches.clone();
    let router = router_from(state, [10, 3, 0, 2]);
    let mut clients = Vec::new();
    for (email, pages) in [
        (
            "lead@ashbridge.example",
            vec![
                "/orgs/ashbridge",
                "/orgs/ashbridge/actions",
                "/orgs/ashbridge/actions?benchmark=1&overdue=yes",
                "/orgs/ashbridge/actions.csv",
                "/orgs/ashbridge/actions.xlsx",
            ],
        ),
        ("owner@ashbridge.example", vec!["/me/actions"]),
        (
            "adviser.north-vale@homeoffice.example",
            vec!["/regions/north-vale"],
        ),
        ("admin@prevent-assure.example", vec!["/national"]),
    ] {
        let mut client = Client::new(router.clone());
        client.sign_in(email, DEMO_PASSWORD).await;
        clients.push((client, pages));
    }
    let mut small = Vec::new();
    for (client, pages) in &mut clients {
        for page in pages.iter() {
            small.push(statements_for(client, &caches, page).await);
        }
    }

    // A lot more: 25 more councils in the region with 30 actions a cycle, and 60 more actions
    // with notes in Ashbridge's plan, many of them the owner's.
    more_councils(&pool, 25).await;
    let ashbridge: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks fw on fw.id = a.framework_id
         where fw.code = 'prevent-la-2018' and o.slug = 'ashbridge' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("ashbridge");
    grow(&pool, ashbridge, 60).await;
    sqlx::query("update actions set owner_user_id = (select id from users where email = 'owner@ashbridge.example') where assessment_id = $1")
        .bind(ashbridge)
        .execute(&pool)
        .await
        .expect("owned");
    let mut large = Vec::new();
    for (client, pages) in &mut clients {
        for page in pages.iter() {
            large.push(statements_for(client, &caches, page).await);
        }
    }

    eprintln!("statements per view: {small:?} then {large:?}");
    assert_eq!(
        small, large,
        "statements per view must not grow with the data"
    );
    for count in &large {
        assert!(*count > 0 && *count <= 10, "{large:?}");
    }
}

#[sqlx::test]
async fn the_key_area_page_and_the_channel_grid_cost_the_same_few_statements_as_councils_grow(
    pool: PgPool,
) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::demo_state(pool.clone()).await;
    let today = time::OffsetDateTime::now_utc().date();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar("select id from organisations")
        .fetch_all(&pool)
        .await
        .expect("councils");
    prevent_assure::db::sample::fill_statements(&pool, &ids, today)
        .await
        .expect("statements");
    let statement: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
         where o.slug = 'ashbridge' and f.code = 'channel-aas-2020' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("Ashbridge's statement");
    let caches = state.caches.clone();
    let router = router_from(state, [10, 3, 0, 3]);
    let mut clients = Vec::new();
    for (email, pages) in [
        (
            "lead@ashbridge.example",
            vec![
                format!("/assessments/{statement}"),
                format!("/assessments/{statement}/key-areas/4"),
                format!("/assessments/{statement}/statement"),
            ],
        ),
        (
            "channel@homeoffice.example",
            vec![
                "/channel".to_owned(),
                "/channel?area=4&rating=amber".to_owned(),
                format!("/assessments/{statement}/channel-review"),
            ],
        ),
    ] {
        let mut client = Client::new(router.clone());
        client.sign_in(email, DEMO_PASSWORD).await;
        clients.push((client, pages));
    }
    let mut small = Vec::new();
    for (client, pages) in &mut clients {
        for page in pages.iter() {
            small.push(statements_for(client, &caches, page).await);
        }
    }
    // Many more councils with statements, and forty areas for improvement on key area 4.
    let before: Vec<uuid::Uuid> = ids.clone();
    more_councils(&pool, 25).await;
    let all: Vec<uuid::Uuid> = sqlx::query_scalar("select id from organisations")
        .fetch_all(&pool)
        .await
        .expect("councils");
    let new: Vec<uuid::Uuid> = all.into_iter().filter(|id| !before.contains(id)).collect();
    prevent_assure::db::sample::fill_statements(&pool, &new, today)
        .await
        .expect("more statements");
    sqlx::query(
        "insert into actions (organisation_id, assessment_id, section_id, item_id, source, description, owner_text, target_text, due_on)
         select a.organisation_id, a.id, s.id, i.id, 'question', 'Improvement ' || g, 'Panel chair', 'Sep 27', '2027-09-30'
         from assessments a join sections s on s.framework_id = a.framework_id and s.number = 4
         join items i on i.section_id = s.id and i.code = '4.2', generate_series(1, 40) g
         where a.id = $1",
    )
    .bind(statement)
    .execute(&pool)
    .await
    .expect("improvements");
    let mut large = Vec::new();
    for (client, pages) in &mut clients {
        for page in pages.iter() {
            large.push(statements_for(client, &caches, page).await);
        }
    }
    eprintln!("statements per page: {small:?} then {large:?}");
    assert_eq!(
        small, large,
        "statements per page must not grow with the data"
    );
    assert!(large.iter().all(|n| *n > 0 && *n <= 12), "{large:?}");
}
