//! Notifications in Chromium: the header's unread count, the list, marking read (with and
//! without JavaScript), the mail choices on /account and the admin's timetable page; axe-clean
//! (axe needs JavaScript, so the run without it checks behaviour only), and looked at in
//! screenshots.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use prevent_assure::notify::{Kind, dispatch};
use sqlx::PgPool;
use support::browser::{Browser, click, fill, submit, text, texts};

/// The header's notifications link, as read aloud.
async fn header(browser: &Browser) -> String {
    text(&browser.client, ".app-header__notifications")
        .await
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

async fn sign_in(browser: &Browser, email: &str) {
    browser.goto("/login").await;
    fill(&browser.client, "#email", email).await;
    fill(&browser.client, "#password", DEMO_PASSWORD).await;
    submit(&browser.client, "main form button[type=submit]").await;
    text(&browser.client, ".app-header__user").await;
}

/// Ashbridge submits twice (returned in between) and is asked for evidence: the adviser and
/// the lead each have notifications.
async fn arrange(pool: &PgPool, state: &prevent_assure::app::AppState) {
    let ashbridge: uuid::Uuid =
        sqlx::query_scalar("select id from organisations where slug = 'ashbridge'")
            .fetch_one(pool)
            .await
            .expect("Ashbridge");
    let cycle: uuid::Uuid =
        sqlx::query_scalar("select id from cycles order by starts_on desc limit 1")
            .fetch_one(pool)
            .await
            .expect("a cycle");
    let lead: uuid::Uuid =
        sqlx::query_scalar("select id from users where email = 'lead@ashbridge.example'")
            .fetch_one(pool)
            .await
            .expect("lead");
    let adviser: uuid::Uuid = sqlx::query_scalar(
        "select id from users where email = 'adviser.north-vale@homeoffice.example'",
    )
    .fetch_one(pool)
    .await
    .expect("adviser");
    let assessment: uuid::Uuid = sqlx::query_scalar(
        "insert into assessments (organisation_id, cycle_id, framework_id, state, submitted_at)
         select $1, $2, id, 'in_review', now() from frameworks where code = 'prevent-la-2018'
         returning id",
    )
    .bind(ashbridge)
    .bind(cycle)
    .fetch_one(pool)
    .await
    .expect("an assessment");
    let mut tx = pool.begin().await.expect("tx");
    prevent_assure::notify::tell(&mut *tx, Kind::Submitted, assessment, lead, None)
        .await
        .expect("queued");
    prevent_assure::notify::tell(
        &mut *tx,
        Kind::Returned,
        assessment,
        adviser,
        Some("Please add the dates of the training."),
    )
    .await
    .expect("queued");
    prevent_assure::notify::tell(&mut *tx, Kind::Submitted, assessment, lead, None)
        .await
        .expect("queued");
    prevent_assure::notify::evidence_requested(&mut *tx, assessment, 5, adviser)
        .await
        .expect("queued");
    tx.commit().await.expect("commit");
    dispatch::pending(&state.db, &state.frameworks, "http://127.0.0.1:3000")
        .await
        .expect("dispatched");
}

#[sqlx::test]
async fn notifications_are_counted_listed_and_marked_read(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    arrange(&pool, &state).await;
    let browser = Browser::start(state).await;
    sign_in(&browser, "lead@ashbridge.example").await;
    assert_eq!(header(&browser).await, "Notifications 2 unread");
    browser
        .screenshot_of(".app-header", "notifications-header")
        .await;
    click(&browser.client, ".app-header__notifications").await;
    let titles = texts(&browser.client, "#notifications h2").await;
    assert_eq!(
        titles,
        [
            "Unread More evidence is asked for on benchmark 5",
            "Unread Your Prevent duty self-assessment for 2026/27 has been returned"
        ]
    );
    browser.assert_accessible().await;
    browser.screenshot("notifications-list").await;

    // Marked read one at a time, then all.
    submit(&browser.client, "#notifications li:first-child form button").await;
    assert_eq!(
        text(&browser.client, ".govuk-notification-banner__heading").await,
        "Marked as read"
    );
    assert_eq!(header(&browser).await, "Notifications 1 unread");
    browser.assert_accessible().await;
    submit(&browser.client, "form[action='/notifications/read'] button").await;
    assert_eq!(header(&browser).await, "Notifications");
    // The link goes to the page it is about.
    click(&browser.client, "#notifications li:first-child h2 a").await;
    assert!(
        browser
            .client
            .current_url()
            .await
            .expect("url")
            .path()
            .ends_with("/benchmarks/5")
    );

    // The mail choices on /account.
    browser.goto("/account#mail").await;
    click(&browser.client, "#mail-digests").await;
    submit(&browser.client, "form[action='/account/mail'] button").await;
    assert_eq!(
        text(&browser.client, ".govuk-notification-banner__heading").await,
        "Your mail choices have been saved"
    );
    browser.assert_accessible().await;
    browser.screenshot_of("#mail ~ form", "account-mail").await;

    submit(&browser.client, ".app-header__signout button").await;

    sign_in(&browser, "admin@prevent-assure.example").await;
    browser.goto("/admin/notifications").await;
    let jobs = texts(&browser.client, "#jobs tbody tr").await;
    assert_eq!(jobs.len(), 3);
    assert!(jobs[0].contains("Every day at 7am (UK time)"), "{jobs:?}");
    assert!(jobs[1].contains("Every Monday at 7am"), "{jobs:?}");
    browser.assert_accessible().await;
    browser.screenshot("admin-notifications").await;
    browser.close().await;
}

#[sqlx::test]
async fn without_javascript_notifications_are_listed_and_marked_read(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    arrange(&pool, &state).await;
    let browser = Browser::start_with(state, false).await;
    sign_in(&browser, "adviser.north-vale@homeoffice.example").await;
    assert_eq!(header(&browser).await, "Notifications 2 unread");
    browser.goto("/notifications").await;
    submit(&browser.client, "#notifications li:first-child form button").await;
    assert_eq!(header(&browser).await, "Notifications 1 unread");
    browser.screenshot("notifications-no-js").await;
    browser.close().await;
}
