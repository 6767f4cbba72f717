//! The adviser's side so far: the region's queue, starting a review, returning an assessment to
//! the council with a reason, and the history of its states.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from, texts};

const ADVISER: &str = "adviser.north-vale@homeoffice.example";

async fn signed_in(router: &axum::Router, email: &str) -> Client {
    let mut client = Client::new(router.clone());
    assert_eq!(
        client.sign_in(email, DEMO_PASSWORD).await.status,
        303,
        "{email}"
    );
    client
}

/// Ashbridge's assessment for the current cycle, submitted by its lead (arranged directly).
async fn submitted(router: &axum::Router, pool: &PgPool) -> String {
    let mut lead = signed_in(router, "lead@ashbridge.example").await;
    let reply = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&reply).to_owned();
    sqlx::query("update assessments set state = 'submitted', submitted_at = now(), submitted_by = (select id from users where email = 'lead@ashbridge.example') where id = $1::uuid")
        .bind(address.trim_start_matches("/assessments/"))
        .execute(pool)
        .await
        .expect("submitted");
    address
}

#[sqlx::test]
async fn the_region_queue_shows_what_waits_for_the_adviser_first(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 1]);
    let address = submitted(&router, &pool).await;
    let mut adviser = signed_in(&router, ADVISER).await;

    let page = adviser.get("/regions/north-vale").await;

    assert_eq!(page.status, 200);
    let rows = texts(&page.html(), "tbody tr");
    assert_eq!(rows.len(), 4);
    assert!(
        rows[0].starts_with("Ashbridge Borough Council Submitted"),
        "{rows:?}"
    );
    assert!(
        rows[1..].iter().all(|r| r.contains("Not started")),
        "{rows:?}"
    );
    assert!(page.body.contains(&format!("{address}/review")));

    for email in [
        "adviser.south-weald@homeoffice.example",
        "lead@ashbridge.example",
    ] {
        let mut other = signed_in(&router, email).await;
        assert_eq!(
            other.get("/regions/north-vale").await.status,
            403,
            "{email}"
        );
    }
}

#[sqlx::test]
async fn an_adviser_returns_an_assessment_with_a_reason_and_the_history_says_who_when_and_why(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 2]);
    let address = submitted(&router, &pool).await;
    let mut adviser = signed_in(&router, ADVISER).await;

    assert_eq!(adviser.get(&format!("{address}/review")).await.status, 200);
    assert_eq!(
        adviser
            .post(&format!("{address}/review/start"), &[])
            .await
            .status,
        303
    );
    let refused = adviser
        .post(&format!("{address}/return"), &[("reason", "  ")])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        texts(&refused.html(), ".govuk-error-summary__list a"),
        ["Say why the assessment is being returned, so the council knows what to change"]
    );
    let returned = adviser
        .post(
            &format!("{address}/return"),
            &[(
                "reason",
                "Benchmark 5 needs the panel's terms of reference.",
            )],
        )
        .await;
    assert_eq!(location(&returned), format!("{address}/history"));

    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let history = lead.get(&format!("{address}/history")).await.html();
    let rows = texts(&history, "tbody tr");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].contains("Started") && rows[0].contains("lead@ashbridge.example"));
    assert!(rows[1].contains("Review started") && rows[1].contains(ADVISER));
    assert!(
        rows[2].contains("Returned to the council")
            && rows[2].contains("Benchmark 5 needs the panel's terms of reference.")
    );
    // The council can change it again.
    let page = lead.get(&format!("{address}/benchmarks/5")).await.html();
    assert!(
        scraper::Selector::parse("input[name=version]")
            .is_ok_and(|s| page.select(&s).next().is_some())
    );
}

#[sqlx::test]
async fn only_the_regions_adviser_reaches_the_review_controls(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 3]);
    let address = submitted(&router, &pool).await;

    for (email, status) in [
        ("lead@ashbridge.example", 403),
        ("board@ashbridge.example", 403),
        ("adviser.south-weald@homeoffice.example", 404),
        ("lead@brackenfield.example", 404),
    ] {
        let mut who = signed_in(&router, email).await;
        assert_eq!(
            who.get(&format!("{address}/review")).await.status,
            status,
            "{email}"
        );
        assert_eq!(
            who.post(&format!("{address}/review/start"), &[])
                .await
                .status,
            status,
            "{email}"
        );
        assert_eq!(
            who.post(&format!("{address}/return"), &[("reason", "x")])
                .await
                .status,
            status,
            "{email}"
        );
    }
    let state: String = sqlx::query_scalar("select state from assessments")
        .fetch_one(&pool)
        .await
        .expect("state");
    assert_eq!(state, "submitted");
}
