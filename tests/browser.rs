//! Pages in headless Chromium against the real server, checked by axe-core for WCAG 2.2 AA.

mod support;

use fantoccini::Locator;
use sqlx::PgPool;
use support::browser::Browser;

#[sqlx::test]
async fn the_framework_page_has_no_wcag_22_aa_violation(pool: PgPool) {
    let browser = Browser::start(support::state(pool).await).await;

    browser.goto("/frameworks/prevent-la-2018").await;

    let title = browser.client.title().await.expect("a title");
    assert!(
        title.starts_with("Local Authority Partnership Self-Assessment Tool"),
        "{title}"
    );
    let benchmarks = browser
        .client
        .find_all(Locator::Css("h2.app-section__title"))
        .await
        .expect("benchmark headings");
    assert_eq!(benchmarks.len(), 10);
    browser.assert_accessible().await;
    browser.screenshot("framework-prevent-la-2018").await;
    browser
        .screenshot_of("#section-3", "framework-prevent-la-2018-benchmark-3")
        .await;

    // The guidance opens in place, and the page stays accessible with it open.
    let summary = browser
        .client
        .find(Locator::Css("#section-1 .govuk-details__summary"))
        .await
        .expect("benchmark 1's guidance");
    summary.click().await.expect("the guidance opens");
    let guidance = browser
        .client
        .find(Locator::Css("#section-1 .govuk-details__text"))
        .await
        .expect("guidance text");
    assert!(guidance.is_displayed().await.expect("visibility"));
    browser.assert_accessible().await;
    browser.close().await;
}

#[sqlx::test]
async fn the_channel_statement_home_and_index_pages_have_no_wcag_22_aa_violation(pool: PgPool) {
    let browser = Browser::start(support::state(pool).await).await;

    for (path, name) in [
        ("/", "home"),
        ("/frameworks", "frameworks"),
        ("/frameworks/channel-aas-2020", "framework-channel-aas-2020"),
        ("/no-such-page", "not-found"),
    ] {
        browser.goto(path).await;
        browser.assert_accessible().await;
        browser.screenshot(name).await;
    }
    browser.close().await;
}

#[sqlx::test]
async fn the_axe_check_does_find_violations_where_there_are_some(pool: PgPool) {
    let browser = Browser::start(support::state(pool).await).await;

    // A page with an unlabelled field and an image without alternative text.
    browser
        .client
        .goto("data:text/html,<html><head><title>Bad</title></head><body><main><input type=text><img src=x.png></main></body></html>")
        .await
        .expect("the page opens");

    let violations = browser.axe_violations().await;
    let ids: Vec<&str> = violations.iter().filter_map(|v| v["id"].as_str()).collect();
    assert!(ids.contains(&"image-alt"), "{ids:?}");
    assert!(ids.contains(&"label"), "{ids:?}");
    browser.close().await;
}
