//! What people print and read as pictures, in headless Chromium: the board's committee summary
//! printed to PDF on A4 landscape (at most two pages, looked at), and the national trend chart
//! drawing lines (not filled wedges) whose every point is in the table beside it.

mod support;

use fantoccini::Locator;
use serde_json::json;
use sqlx::PgPool;
use support::browser::{Browser, fill, submit, text, texts};
use support::office;

async fn sign_in(browser: &Browser, email: &str) {
    browser.goto("/login").await;
    fill(&browser.client, "#email", email).await;
    fill(
        &browser.client,
        "#password",
        prevent_assure::demo::DEMO_PASSWORD,
    )
    .await;
    submit(&browser.client, "main form button[type=submit]").await;
    text(&browser.client, ".app-header__user").await;
}

#[sqlx::test]
async fn the_board_summary_prints_on_at_most_two_a4_landscape_pages(pool: PgPool) {
    let browser = Browser::start(support::full_demo_state(pool.clone()).await).await;
    sign_in(&browser, "board@ashbridge.example").await;
    browser.goto("/orgs/ashbridge").await;
    let c = &browser.client;
    // The summary leads: each benchmark with its score, RAG, open actions and latest comment.
    let rows = texts(c, "#summary tbody tr").await;
    assert!(rows.len() >= 10, "{rows:?}");
    assert!(text(c, "#summary caption").await.contains("As at "));
    let with_actions = rows.iter().filter(|r| r.contains(" – ")).count();
    assert!(
        with_actions >= 5,
        "open actions are named with owner and target: {rows:#?}"
    );
    browser.assert_accessible().await;
    browser.screenshot("board-summary").await;

    let pdf = browser.print_pdf(true).await;
    let converted = office::read_pdf(&pdf, "board-print.pdf");
    // Drawn first, to be looked at whatever the count.
    office::pages_as_png(&converted.pdf, "board-print");
    assert!(
        converted.pages >= 1 && converted.pages <= 2,
        "{} pages",
        converted.pages
    );
    assert!(converted.shows("Latest comment") && converted.shows("Actions by status"));
    browser.close().await;
}

#[sqlx::test]
async fn the_trend_chart_draws_lines_and_every_point_is_in_its_table(pool: PgPool) {
    let browser = Browser::start(support::full_demo_state(pool.clone()).await).await;
    sign_in(&browser, "admin@prevent-assure.example").await;
    browser.goto("/national").await;
    let c = &browser.client;
    let fills = c
        .execute(
            "return [...document.querySelectorAll('#trend ~ * polyline.app-chart__line, svg polyline.app-chart__line')]
                 .map(l => getComputedStyle(l).fill);",
            vec![],
        )
        .await
        .expect("the lines");
    let fills = fills.as_array().cloned().unwrap_or_default();
    assert!(!fills.is_empty(), "the chart has lines");
    assert!(fills.iter().all(|f| f == &json!("none")), "{fills:?}");
    // Every point's value is in the table beside the chart.
    let titles: Vec<String> = {
        let mut out = Vec::new();
        for e in c
            .find_all(Locator::Css("svg circle.app-chart__dot title"))
            .await
            .expect("dots")
        {
            out.push(
                e.prop("textContent")
                    .await
                    .expect("text")
                    .unwrap_or_default(),
            );
        }
        out
    };
    assert!(!titles.is_empty(), "{titles:?}");
    let headings = texts(c, "#trend-table thead th").await;
    let rows = texts(c, "#trend-table tbody tr").await;
    for title in &titles {
        let (who, value) = title.rsplit_once(": ").expect("name: value");
        let (region, cycle) = who.rsplit_once(", ").expect("region, cycle");
        let column = headings
            .iter()
            .position(|h| h == cycle)
            .expect("a column for the cycle");
        let row = rows
            .iter()
            .find(|r| r.starts_with(region))
            .expect("a row for the region");
        let cells: Vec<&str> = row.trim_start_matches(region).split_whitespace().collect();
        assert_eq!(cells.get(column - 1), Some(&value), "{title} in {row}");
    }
    browser
        .screenshot_of("#trend-table", "national-trend-table")
        .await;
    browser.close().await;
}
