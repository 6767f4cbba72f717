//! The invitation and password-reset flows in headless Chromium, with axe-core on every page.

mod support;

use fantoccini::Locator;
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::browser::Browser;

async fn fill(browser: &Browser, selector: &str, text: &str) {
    let field = browser
        .client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"));
    field.clear().await.expect("cleared");
    field.send_keys(text).await.expect("typed");
}

async fn click(browser: &Browser, selector: &str) {
    browser
        .client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .expect("clicked");
}

/// Waits (up to ten seconds) for the page's heading to read `expected`: a click on a submit
/// button can return before the next page has loaded.
async fn expect_heading(browser: &Browser, expected: &str) {
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(h1) = browser.client.find(Locator::Css("h1")).await {
            last = h1.text().await.unwrap_or_default();
            if last == expected {
                return;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("expected the heading {expected:?}, found {last:?}");
}

async fn sign_in(browser: &Browser, email: &str, password: &str) {
    browser.goto("/login").await;
    fill(browser, "#email", email).await;
    fill(browser, "#password", password).await;
    click(browser, "main form button[type=submit]").await;
}

#[sqlx::test]
async fn an_administrator_invites_a_lead_who_accepts_from_the_outbox_link(pool: PgPool) {
    let mut state = support::demo_state(pool).await;
    // A key for second factors, so that the new lead may require one at their council.
    let mut settings = (*state.settings).clone();
    settings.mfa_key = Some(
        prevent_assure::auth::second_factor::MfaKey::from_hex(&"5a".repeat(32)).expect("a key"),
    );
    state.settings = std::sync::Arc::new(settings);
    let browser = Browser::start(state).await;

    browser.goto("/login").await;
    browser.assert_accessible().await;
    browser.screenshot("login").await;
    sign_in(&browser, "admin@prevent-assure.example", DEMO_PASSWORD).await;
    expect_heading(&browser, "Welcome, Alex Morgan").await;
    browser.assert_accessible().await;

    browser.goto("/admin/users/new").await;
    browser.assert_accessible().await;
    // Submitting nothing shows every problem, accessibly.
    click(&browser, "main form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css(".govuk-error-summary"))
        .await
        .expect("the errors");
    let problems = browser
        .client
        .find_all(Locator::Css(".govuk-error-summary__list li"))
        .await
        .expect("errors");
    assert_eq!(problems.len(), 3);
    browser.assert_accessible().await;
    browser.screenshot("admin-invite-errors").await;

    fill(&browser, "#email", "new.lead@greyhaven.example").await;
    fill(&browser, "#name", "Morgan Lee").await;
    click(&browser, "#role").await;
    browser
        .client
        .find(Locator::Css("#organisation"))
        .await
        .expect("council choice")
        .select_by_label("Greyhaven City Council")
        .await
        .expect("chosen");
    click(&browser, "main form button[type=submit]").await;
    expect_heading(&browser, "Morgan Lee").await;
    browser.assert_accessible().await;
    // The user's page says the invitation is waiting and whether a second factor is set up.
    browser.screenshot("admin-user-invited").await;

    // The users list says how each person signs in and who has a second factor.
    browser.goto("/admin/users").await;
    browser.assert_accessible().await;
    let heads = support::browser::texts(&browser.client, "thead th").await;
    assert!(
        heads.iter().any(|h| h == "Signs in with") && heads.iter().any(|h| h == "Second factor"),
        "{heads:?}"
    );
    browser.screenshot("admin-users").await;

    browser.goto("/admin/outbox").await;
    browser.assert_accessible().await;
    browser.screenshot("admin-outbox").await;
    let body = browser
        .client
        .find(Locator::Css(".app-mail__body"))
        .await
        .expect("the mail")
        .text()
        .await
        .expect("text");
    let path = support::link_path(&body, "/invitations/");

    click(&browser, ".app-header__signout button").await;
    expect_heading(&browser, "Sign in to Prevent Assure").await;

    browser.goto(&path).await;
    expect_heading(&browser, "Accept your invitation").await;
    browser.assert_accessible().await;
    browser.screenshot("invitation").await;
    fill(&browser, "#password", "greyhaven-river-boats-3").await;
    fill(&browser, "#confirm", "greyhaven-river-boats-3").await;
    click(&browser, "main form button[type=submit]").await;

    expect_heading(&browser, "Welcome, Morgan Lee").await;
    let roles = browser
        .client
        .find(Locator::Css("main ul"))
        .await
        .expect("roles")
        .text()
        .await
        .expect("text");
    assert!(
        roles.contains("Prevent lead, Greyhaven City Council"),
        "{roles}"
    );
    browser.goto("/orgs/greyhaven/people").await;
    browser.assert_accessible().await;
    browser.screenshot("council-people").await;
    // The lead requires a second factor of everyone at the council.
    click(&browser, "#second-factor").await;
    // Waits for the next page: a click on a submit button returns before it has loaded.
    support::browser::submit(&browser.client, "button[value=second-factor]").await;
    let banner =
        support::browser::text(&browser.client, ".govuk-notification-banner__heading").await;
    assert!(
        banner.starts_with("Everyone with a role here must now use a second factor"),
        "{banner}"
    );
    browser.assert_accessible().await;
    browser.screenshot("council-people-second-factor").await;
    browser.goto("/account").await;
    browser.assert_accessible().await;
    browser.screenshot("account").await;
    browser.close().await;
}

#[sqlx::test]
async fn a_lead_resets_a_forgotten_password_from_the_emailed_link(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let browser = Browser::start(state).await;

    browser.goto("/login").await;
    click(&browser, "a[href='/password-reset']").await;
    expect_heading(&browser, "Reset your password").await;
    browser.assert_accessible().await;
    fill(&browser, "#email", "lead@ashbridge.example").await;
    click(&browser, "main form button[type=submit]").await;
    expect_heading(&browser, "Check your email").await;
    browser.assert_accessible().await;

    let body: String =
        sqlx::query_scalar("select body from outbox where to_address = 'lead@ashbridge.example'")
            .fetch_one(&pool)
            .await
            .expect("the reset mail");
    browser
        .goto(&support::link_path(&body, "/password-reset/"))
        .await;
    expect_heading(&browser, "Choose a new password").await;
    browser.assert_accessible().await;

    fill(&browser, "#password", "short").await;
    fill(&browser, "#confirm", "short").await;
    click(&browser, "main form button[type=submit]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css(".govuk-error-summary"))
        .await
        .expect("the errors");
    browser.assert_accessible().await;
    browser.screenshot("reset-error").await;

    fill(&browser, "#password", "ashbridge-canal-walk-22").await;
    fill(&browser, "#confirm", "ashbridge-canal-walk-22").await;
    click(&browser, "main form button[type=submit]").await;
    expect_heading(&browser, "Sign in to Prevent Assure").await;
    let banner = browser
        .client
        .wait()
        .for_element(Locator::Css(".govuk-notification-banner"))
        .await
        .expect("banner")
        .text()
        .await
        .expect("text");
    assert!(banner.contains("Your password has been changed"));
    browser.assert_accessible().await;

    sign_in(
        &browser,
        "lead@ashbridge.example",
        "ashbridge-canal-walk-22",
    )
    .await;
    expect_heading(&browser, "Welcome, Priya Shah").await;
    browser.goto("/orgs/ashbridge/audit").await;
    browser.assert_accessible().await;
    browser.screenshot("council-audit").await;
    browser.close().await;
}
