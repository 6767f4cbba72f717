//! The views people look at, in headless Chromium: each one axe-clean (WCAG 2.2 AA) with a
//! screenshot, and an owner's progress and the plan's filters working with JavaScript off.

mod support;

use fantoccini::{Client, Locator};
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::browser::Browser;

async fn fill(client: &Client, selector: &str, text: &str) {
    let field = client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    field.clear().await.expect("cleared");
    field.send_keys(text).await.expect("typed");
}

/// Clicks a submit button and waits until the next page has replaced this one.
async fn submit(client: &Client, selector: &str) {
    let old = client.find(Locator::Css("html")).await.expect("the page");
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .expect("clicked");
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{selector} did not lead to a new page");
}

async fn texts(client: &Client, selector: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in client
        .find_all(Locator::Css(selector))
        .await
        .expect("elements")
    {
        out.push(e.text().await.expect("text"));
    }
    out
}

async fn sign_in(browser: &Browser, email: &str) {
    browser.goto("/login").await;
    fill(&browser.client, "#email", email).await;
    fill(&browser.client, "#password", DEMO_PASSWORD).await;
    submit(&browser.client, "main form button[type=submit]").await;
}

async fn sign_out(browser: &Browser) {
    submit(&browser.client, ".app-header__signout button").await;
}

#[sqlx::test]
async fn every_view_is_accessible_and_looks_right(pool: PgPool) {
    let browser = Browser::start(support::full_demo_state(pool.clone()).await).await;
    let ashbridge: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks fw on fw.id = a.framework_id
         where fw.code = 'prevent-la-2018' and o.slug = 'ashbridge' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("ashbridge");
    let views = [
        (
            "board@ashbridge.example",
            "/orgs/ashbridge".to_owned(),
            "board-view",
        ),
        (
            "lead@ashbridge.example",
            "/orgs/ashbridge/actions".to_owned(),
            "action-plan",
        ),
        (
            "lead@ashbridge.example",
            "/orgs/ashbridge/actions?benchmark=eleven".to_owned(),
            "action-plan-bad-filter",
        ),
        (
            "lead@ashbridge.example",
            format!("/assessments/{ashbridge}/import"),
            "import",
        ),
        (
            "owner@ashbridge.example",
            "/me/actions".to_owned(),
            "my-actions",
        ),
        (
            "adviser.north-vale@homeoffice.example",
            "/regions/north-vale".to_owned(),
            "region-view",
        ),
        (
            "admin@prevent-assure.example",
            "/national".to_owned(),
            "national-view",
        ),
    ];
    let mut current = "";
    for (email, path, name) in &views {
        if current != *email {
            if !current.is_empty() {
                sign_out(&browser).await;
            }
            sign_in(&browser, email).await;
            current = email;
        }
        browser.goto(path).await;
        let h1 = texts(&browser.client, "h1").await;
        assert_eq!(h1.len(), 1, "{path}: {h1:?}");
        browser.assert_accessible().await;
        browser.screenshot(name).await;
    }
}

#[sqlx::test]
async fn an_owner_reports_progress_and_a_lead_filters_the_plan_without_javascript(pool: PgPool) {
    let browser = Browser::start_with(support::full_demo_state(pool.clone()).await, false).await;
    let (action, was_overdue, overdue): (uuid::Uuid, bool, i64) = sqlx::query_as(
        "select a.id, a.due_on < current_date, (select count(*) from actions x where x.assessment_id = a.assessment_id
                          and x.due_on < current_date and x.status in ('open', 'in_progress'))
         from actions a join users u on u.id = a.owner_user_id
         where u.email = 'owner@ashbridge.example' and a.status in ('open', 'in_progress')
         order by a.due_on limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("an action of theirs");

    sign_in(&browser, "owner@ashbridge.example").await;
    browser.goto("/me/actions").await;
    fill(
        &browser.client,
        &format!("#action-{action}-note"),
        "Venue checks agreed with facilities",
    )
    .await;
    submit(&browser.client, &format!("button[value='note-{action}']")).await;
    let banner = texts(&browser.client, ".govuk-notification-banner__heading").await;
    assert_eq!(banner, vec!["Your progress note has been added."]);
    let select = browser
        .client
        .find(Locator::Css(&format!("#action-{action}-status")))
        .await
        .expect("the status");
    select.select_by_value("done").await.expect("chosen");
    submit(&browser.client, &format!("button[value='status-{action}']")).await;
    let (status, note): (String, String) = sqlx::query_as(
        "select a.status, n.body from actions a join action_notes n on n.action_id = a.id
         where a.id = $1 order by n.created_at desc limit 1",
    )
    .bind(action)
    .fetch_one(&pool)
    .await
    .expect("saved");
    assert_eq!(
        (status.as_str(), note.as_str()),
        ("done", "Venue checks agreed with facilities")
    );
    browser.screenshot("my-actions-saved-no-js").await;

    sign_out(&browser).await;
    sign_in(&browser, "lead@ashbridge.example").await;
    browser.goto("/orgs/ashbridge/actions").await;
    browser
        .client
        .find(Locator::Css("#overdue"))
        .await
        .expect("the checkbox")
        .click()
        .await
        .expect("ticked");
    submit(&browser.client, "form.app-filters button[type=submit]").await;
    let url = browser.client.current_url().await.expect("url");
    assert!(
        url.as_str()
            .ends_with("/orgs/ashbridge/actions?owner=&benchmark=&status=&overdue=yes"),
        "{url}"
    );
    let rows = texts(&browser.client, "table.app-plan tbody tr").await;
    // The owner's action is done now, so no longer overdue.
    assert_eq!(
        rows.len() as i64,
        overdue - i64::from(was_overdue),
        "{rows:?}"
    );
    assert!(rows.iter().all(|r| r.contains("Overdue")));
    browser.screenshot("action-plan-overdue-no-js").await;
}

#[sqlx::test]
async fn the_board_region_and_national_views_work_without_javascript(pool: PgPool) {
    let browser = Browser::start_with(support::full_demo_state(pool.clone()).await, false).await;

    // The board: ten benchmarks, the chart drawn on the server, its numbers in a table.
    sign_in(&browser, "board@ashbridge.example").await;
    browser.goto("/orgs/ashbridge").await;
    assert_eq!(texts(&browser.client, "#summary tbody tr").await.len(), 10);
    let charts = browser
        .client
        .find_all(Locator::Css("svg.app-chart rect"))
        .await
        .expect("the chart's bars");
    assert!(!charts.is_empty());
    sign_out(&browser).await;

    // The region: every council of North Vale, with its state.
    sign_in(&browser, "adviser.north-vale@homeoffice.example").await;
    browser.goto("/regions/north-vale").await;
    let councils: i64 = sqlx::query_scalar(
        "select count(*) from organisations o join regions r on r.id = o.region_id where r.slug = 'north-vale'",
    )
    .fetch_one(&pool)
    .await
    .expect("councils");
    let rows = texts(&browser.client, "table.app-region tbody tr").await;
    assert_eq!(rows.len() as i64, councils, "{rows:?}");
    sign_out(&browser).await;

    // The nation: choosing another cycle is a plain form.
    sign_in(&browser, "admin@prevent-assure.example").await;
    browser.goto("/national").await;
    let earliest: String =
        sqlx::query_scalar("select label from cycles order by starts_on limit 1")
            .fetch_one(&pool)
            .await
            .expect("a cycle");
    browser
        .client
        .find(Locator::Css("#cycle"))
        .await
        .expect("the cycle")
        .select_by_value(&earliest)
        .await
        .expect("chosen");
    submit(&browser.client, "form[action='/national'] button").await;
    let headings = texts(&browser.client, "h2").await;
    assert!(
        headings.contains(&format!("Agreed scores per benchmark, {earliest}")),
        "{headings:?}"
    );
    assert_eq!(
        texts(&browser.client, "#distribution-table tbody tr")
            .await
            .len(),
        10
    );
}
