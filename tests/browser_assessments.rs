//! The self-assessment in headless Chromium: filling a benchmark, two people saving at once,
//! JavaScript off, and axe-core on the task list, a benchmark page and the check page.

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

async fn click(client: &Client, selector: &str) {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .click()
        .await
        .expect("clicked");
}

/// The text of an element, waiting for it (a click on a submit button returns before the next
/// page has loaded).
async fn text(client: &Client, selector: &str) -> String {
    client
        .wait()
        .for_element(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .text()
        .await
        .expect("text")
}

/// Clicks a submit button and waits until the next page has replaced this one.
async fn submit(client: &Client, selector: &str) {
    let old = client.find(Locator::Css("html")).await.expect("the page");
    click(client, selector).await;
    for _ in 0..100 {
        if old.tag_name().await.is_err() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{selector} did not lead to a new page");
}

async fn value(client: &Client, selector: &str) -> String {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .prop("value")
        .await
        .expect("a value")
        .unwrap_or_default()
}

async fn is_checked(client: &Client, selector: &str) -> bool {
    client
        .find(Locator::Css(selector))
        .await
        .unwrap_or_else(|e| panic!("{selector}: {e}"))
        .is_selected()
        .await
        .expect("state")
}

async fn sign_in(client: &Client, base: &str, email: &str) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("login page");
    fill(client, "#email", email).await;
    fill(client, "#password", DEMO_PASSWORD).await;
    click(client, "main form button[type=submit]").await;
    // The click returns before the signed-in page has loaded; going elsewhere before the
    // session cookie has arrived would land on the sign-in page again.
    text(client, ".app-header__user").await;
}

/// Signs in as Ashbridge's lead and starts a blank assessment; returns its address. (axe needs
/// JavaScript, so it runs only when the browser has it.)
async fn start(browser: &Browser, javascript: bool) -> String {
    sign_in(&browser.client, &browser.base, "lead@ashbridge.example").await;
    browser.goto("/assessments").await;
    if javascript {
        browser.assert_accessible().await;
    }
    click(&browser.client, "#from-ashbridge-prevent-la-2018-blank").await;
    click(&browser.client, "main form button[type=submit]").await;
    // The click returns before the task list has loaded: wait for its address.
    for _ in 0..100 {
        let path = browser
            .client
            .current_url()
            .await
            .expect("a url")
            .path()
            .to_owned();
        if path.len() > "/assessments/".len() {
            return path;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the assessment did not start");
}

#[sqlx::test]
async fn a_lead_fills_benchmark_1_and_finds_it_all_after_saving_and_reloading(pool: PgPool) {
    let browser = Browser::start(support::demo_state(pool).await).await;
    let address = start(&browser, true).await;
    assert!(
        text(&browser.client, "h1")
            .await
            .starts_with("Prevent duty self-assessment")
    );
    browser.assert_accessible().await;
    browser.screenshot("task-list").await;

    browser.goto(&format!("{address}/benchmarks/1")).await;
    browser.assert_accessible().await;
    let c = &browser.client;
    click(c, "#q1-1-status-achieving").await;
    click(c, "#q1-2-status-developing").await;
    click(c, "#q1-3-status-achieving").await;
    fill(
        c,
        "#q1-1-prompt-0",
        "Risks are identified through the CTLP and the partnership risk register.",
    )
    .await;
    fill(
        c,
        "#q1-1-prompt-3",
        "Each CTLP recommendation has a line in the action plan.",
    )
    .await;
    for criterion in [
        "b1-l2-partner-assessments",
        "b1-l2-ctlp-understanding",
        "b1-l3-informed-activity",
        "b1-l3-ctlp-and-local",
    ] {
        click(c, &format!("#criterion-{criterion}")).await;
    }
    click(c, "#rag-amber").await;
    click(c, "#proposed-3").await;
    click(c, ".govuk-button[value=save]").await;

    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("Your changes to this benchmark have been saved")
    );
    c.refresh().await.expect("reloaded");
    assert!(
        is_checked(c, "#q1-1-status-achieving").await
            && is_checked(c, "#q1-2-status-developing").await
    );
    assert_eq!(
        value(c, "#q1-1-prompt-0").await,
        "Risks are identified through the CTLP and the partnership risk register."
    );
    assert_eq!(
        value(c, "#q1-1-prompt-3").await,
        "Each CTLP recommendation has a line in the action plan."
    );
    assert!(is_checked(c, "#criterion-b1-l3-ctlp-and-local").await);
    assert!(is_checked(c, "#rag-amber").await && is_checked(c, "#proposed-3").await);

    // What the page suggests is what `prevent-assure score` says for the same input.
    let input = serde_json::json!({"framework": "prevent-la-2018", "benchmarks": [{"number": 1,
        "criteria_met": ["b1.l2.partner-assessments", "b1.l2.ctlp-understanding", "b1.l3.informed-activity", "b1.l3.ctlp-and-local"],
        "statuses": {"1.1": "achieving", "1.2": "developing", "1.3": "achieving"}}]});
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_prevent-assure"))
        .arg("score")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("the score command runs");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.to_string().as_bytes())
        .expect("written");
    let output = child.wait_with_output().expect("finished");
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        text(c, ".app-suggestion__score").await,
        format!(
            "{} (meeting the duty)",
            answer["benchmarks"][0]["suggested"]
        )
    );
    assert_eq!(
        text(c, ".app-suggestion__explanation").await,
        answer["benchmarks"][0]["explanation"]
            .as_str()
            .expect("text")
    );
    // An action on question 1.1, owned by a role, with a target as councils write it.
    c.find(Locator::Css("#new-action-question"))
        .await
        .expect("the question")
        .select_by_value("1.1")
        .await
        .expect("chosen");
    fill(
        c,
        "#new-action-description",
        "Refresh the local risk assessment with partners",
    )
    .await;
    fill(c, "#new-action-owner", "CSP Manager").await;
    fill(c, "#new-action-target", "Q4 2022/23").await;
    click(c, "button[value=add-action]").await;
    // The question's actions are folded under it, with their count, until opened.
    assert!(
        text(c, "#q1-1 .govuk-details__summary")
            .await
            .contains("1 action")
    );
    click(c, "#q1-1 .govuk-details__summary").await;
    let card = text(c, "#q1-1 .app-action").await;
    assert!(
        card.contains("CSP Manager") && card.contains("Q4 2022/23"),
        "{card}"
    );
    c.refresh().await.expect("reloaded");
    click(c, "#q1-1 .govuk-details__summary").await;
    let card = text(c, "#q1-1 .app-action").await;
    assert!(
        card.contains("Question 1.1") && card.contains("by 31 March 2023"),
        "{card}"
    );
    assert!(is_checked(c, "#q1-1-status-achieving").await);
    browser.assert_accessible().await;
    browser.screenshot("benchmark-1").await;
    browser
        .screenshot_of("#actions", "benchmark-1-actions")
        .await;
    browser
        .screenshot_of("#suggestion", "benchmark-1-suggestion")
        .await;

    browser.goto(&format!("{address}/check")).await;
    browser.assert_accessible().await;
    browser.screenshot("check").await;
    browser.close().await;
}

#[sqlx::test]
async fn two_people_save_the_same_benchmark_and_the_second_keeps_both_versions(pool: PgPool) {
    let browser = Browser::start(support::demo_state(pool).await).await;
    let address = start(&browser, true).await;
    let other = browser.another().await;
    sign_in(&other.client, &other.base, "lead@ashbridge.example").await;
    let page = format!("{address}/benchmarks/2");
    browser.goto(&page).await;
    other.goto(&page).await;

    fill(
        &browser.client,
        "#q2-1-evidence",
        "The board meets quarterly, chaired by the director of communities.",
    )
    .await;
    click(&browser.client, ".govuk-button[value=save]").await;
    browser
        .client
        .wait()
        .for_element(Locator::Css(".govuk-notification-banner"))
        .await
        .expect("the first save");
    fill(
        &other.client,
        "#q2-1-evidence",
        "Terms of reference were refreshed in May.",
    )
    .await;
    click(&other.client, ".govuk-button[value=save]").await;

    let summary = text(&other.client, ".govuk-error-summary").await;
    assert!(summary.contains("saved this benchmark"), "{summary}");
    assert_eq!(
        value(&other.client, "#q2-1-evidence").await,
        "Terms of reference were refreshed in May."
    );
    assert!(
        text(&other.client, "#q2-1 .app-theirs")
            .await
            .contains("The board meets quarterly")
    );

    fill(&other.client, "#q2-1-evidence", "The board meets quarterly, chaired by the director of communities. Terms of reference were refreshed in May.").await;
    click(&other.client, ".govuk-button[value=save]").await;
    assert!(
        text(&other.client, ".govuk-notification-banner")
            .await
            .contains("have been saved")
    );
    browser.client.refresh().await.expect("reloaded");
    assert_eq!(
        value(&browser.client, "#q2-1-evidence").await,
        "The board meets quarterly, chaired by the director of communities. Terms of reference were refreshed in May."
    );
    let _ = other.client.close().await;
    browser.close().await;
}

#[sqlx::test]
async fn the_assessment_works_with_javascript_turned_off(pool: PgPool) {
    let browser = Browser::start_with(support::demo_state(pool).await, false).await;
    let address = start(&browser, false).await;
    browser.goto(&format!("{address}/benchmarks/5")).await;
    let c = &browser.client;
    // The page's own script marks the body when it runs; with JavaScript off it has not.
    let body_class = c
        .find(Locator::Css("body"))
        .await
        .expect("body")
        .attr("class")
        .await
        .expect("class")
        .unwrap_or_default();
    assert!(
        !body_class.contains("govuk-frontend-supported"),
        "JavaScript is off: {body_class}"
    );
    click(c, "#q5-1-status-developing").await;
    fill(c, "#q5-1-evidence", "The panel meets monthly.").await;
    click(c, "#proposed-not-scored").await;
    click(c, ".govuk-button[value=save]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("Your changes to this benchmark have been saved")
    );
    assert_eq!(value(c, "#q5-1-evidence").await, "The panel meets monthly.");
    assert!(is_checked(c, "#proposed-not-scored").await);
    browser.goto(&address).await;
    assert!(
        text(c, ".govuk-task-list")
            .await
            .contains("proposed not scored")
    );
    browser.close().await;
}

#[sqlx::test]
async fn the_advisers_queue_review_and_history_pages_are_accessible(pool: PgPool) {
    let browser = Browser::start(support::demo_state(pool.clone()).await).await;
    let address = start(&browser, true).await;
    sqlx::query("update assessments set state = 'submitted', submitted_at = now()")
        .execute(&pool)
        .await
        .expect("submitted");
    click(&browser.client, ".app-header__signout button").await;
    text(&browser.client, "#email").await;
    sign_in(
        &browser.client,
        &browser.base,
        "adviser.north-vale@homeoffice.example",
    )
    .await;
    text(&browser.client, ".app-header__user").await;

    for (path, name) in [
        ("/regions/north-vale".to_owned(), "region"),
        (format!("{address}/review"), "review"),
        (format!("{address}/history"), "history"),
    ] {
        browser.goto(&path).await;
        browser.assert_accessible().await;
        browser.screenshot(name).await;
    }
    // In review, with scores and a recommendation; then agreed, with the letter.
    browser.goto(&format!("{address}/review")).await;
    click(&browser.client, "button[value=start]").await;
    text(&browser.client, "#summary-1").await;
    browser.assert_accessible().await;
    browser.screenshot("review-in-progress").await;
    sqlx::query(
        "update section_results set agreed_score = case when s.number = 5 then null else 3 end,
                agreed_not_scored = s.number = 5, adviser_summary = 'Evidence of a settled process.'
         from sections s where s.id = section_results.section_id",
    )
    .execute(&pool)
    .await
    .expect("scores");
    sqlx::query("update assessments set state = 'agreed'")
        .execute(&pool)
        .await
        .expect("agreed");
    browser.goto(&format!("{address}/letter")).await;
    assert!(
        text(&browser.client, ".app-letter__summary")
            .await
            .contains("is meeting the requirements of the Prevent Duty in all areas")
    );
    browser.assert_accessible().await;
    browser.screenshot("letter").await;
    // The page as served, to print to PDF by hand and look at the print stylesheet.
    let source = browser.client.source().await.expect("the page source");
    let dir = support::root().join("target/screenshots");
    std::fs::write(
        dir.join("letter.html"),
        source.replace(
            "<head>",
            &format!("<head><base href=\"{}/\">", browser.base),
        ),
    )
    .expect("saved");
    browser.close().await;
}

#[sqlx::test]
async fn an_adviser_takes_a_submitted_assessment_through_review_to_the_letter(pool: PgPool) {
    let browser = Browser::start(support::demo_state(pool.clone()).await).await;
    let address = start(&browser, true).await;
    sqlx::query("update assessments set state = 'submitted', submitted_at = now()")
        .execute(&pool)
        .await
        .expect("submitted");
    let lead = browser.another().await;
    sign_in(&lead.client, &lead.base, "lead@ashbridge.example").await;
    text(&lead.client, ".app-header__user").await;

    // The adviser starts the review and asks for evidence on benchmark 1.
    submit(&browser.client, ".app-header__signout button").await;
    text(&browser.client, "#email").await;
    sign_in(
        &browser.client,
        &browser.base,
        "adviser.north-vale@homeoffice.example",
    )
    .await;
    text(&browser.client, ".app-header__user").await;
    let c = &browser.client;
    browser.goto(&format!("{address}/review")).await;
    submit(c, "button[value=start]").await;
    fill(
        c,
        "#request-1",
        "Please share the latest CTLP briefing notes.",
    )
    .await;
    submit(c, "button[value=request-1]").await;
    text(c, "#benchmark-1 .app-request").await;

    // The lead answers from the benchmark's page.
    lead.goto(&format!("{address}/benchmarks/1")).await;
    assert!(
        text(&lead.client, ".app-request")
            .await
            .contains("Please share the latest CTLP briefing notes.")
    );
    fill(
        &lead.client,
        ".app-request textarea",
        "Briefing notes from March are attached to question 1.3.",
    )
    .await;
    submit(&lead.client, ".app-request button").await;
    text(&lead.client, ".app-reply").await;

    // The adviser sees the answer, then agrees all ten scores, benchmark 5 not scored.
    browser.goto(&format!("{address}/review")).await;
    assert!(
        text(c, "#benchmark-1 .app-request")
            .await
            .contains("Briefing notes from March")
    );
    for n in 1..=10 {
        let score = if n == 5 {
            "not_scored"
        } else if n % 2 == 0 {
            "3"
        } else {
            "4"
        };
        fill(
            c,
            &format!("#summary-{n}"),
            &format!("Benchmark {n}: a settled, evidenced process."),
        )
        .await;
        for kind in ["adviser", "agreed"] {
            c.find(Locator::Css(&format!("#{kind}-{n}")))
                .await
                .expect("a score")
                .select_by_value(score)
                .await
                .expect("chosen");
        }
    }
    submit(c, "#save-scores").await;
    text(c, "#recommendation").await;
    for recommendation in [
        "Refresh the CTLP briefing for members",
        "Name a Channel deputy chair",
        "Publish a communications plan",
        "A fourth action",
    ] {
        fill(c, "#recommendation", recommendation).await;
        submit(c, "button[value=add-recommendation]").await;
        text(c, "#recommendation").await;
    }
    assert!(
        text(c, ".govuk-error-summary")
            .await
            .contains("at most three recommended actions")
    );
    browser.assert_accessible().await;
    browser.screenshot("review-agreeing").await;
    // Every button saves what is typed: the fourth, refused, is cleared before agreeing.
    assert_eq!(value(c, "#recommendation").await, "A fourth action");
    fill(c, "#recommendation", "").await;
    submit(c, "button[value=agree]").await;
    let banner = text(c, ".govuk-notification-banner").await;
    assert!(
        banner.contains("Scores agreed.") && banner.contains("Preview the letter, then publish it"),
        "{banner}"
    );

    browser.goto(&format!("{address}/letter")).await;
    let annex = text(c, ".app-letter__annex tbody").await;
    assert!(
        annex.contains("Risk Assessment") && annex.contains("Channel Panel"),
        "{annex}"
    );
    let rows = c
        .find_all(Locator::Css(".app-letter__annex tbody tr"))
        .await
        .expect("rows");
    assert_eq!(rows.len(), 10);
    let cells = rows[4].find_all(Locator::Css("td")).await.expect("cells");
    assert_eq!(cells[1].text().await.expect("text"), "N/A");
    assert!(text(c, ".app-letter__summary").await.contains(
        "is meeting the requirements of the Prevent Duty in most areas and exceeding them in some"
    ));
    let actions = text(c, ".app-letter__recommendations").await;
    assert!(
        actions.contains("Name a Channel deputy chair") && !actions.contains("A fourth action")
    );
    browser.assert_accessible().await;

    let plan: i64 =
        sqlx::query_scalar("select count(*) from actions where source = 'recommendation'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(plan, 3);
    let _ = lead.client.close().await;
    browser.close().await;
}
