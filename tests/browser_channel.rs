//! Issue 16 in headless Chromium: the lead fills the Channel statement (a Red without details
//! refused with the error summary, an Amber with details and an improvement "Sept 21", an N/A
//! with its reason), asks for sign-off; the signatory signs; a changed rating voids the
//! signature; signed again and submitted; the Channel team finds it in the grid, returns it,
//! the lead resubmits, the team accepts it. Every page on the way is axe-checked and
//! photographed.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::browser::{Browser, choose, click, fill, submit, text, texts};

async fn sign_in(browser: &Browser, email: &str) {
    browser.goto("/login").await;
    fill(&browser.client, "#email", email).await;
    fill(&browser.client, "#password", DEMO_PASSWORD).await;
    submit(&browser.client, "main form button[type=submit]").await;
    text(&browser.client, ".app-header__user").await;
}

async fn sign_out(browser: &Browser) {
    submit(&browser.client, ".app-header__signout button").await;
}

/// The number of statements in each key area of the 2020/21 statement.
const AREAS: [(u32, u32); 5] = [(1, 5), (2, 5), (3, 6), (4, 15), (5, 5)];

async fn save(browser: &Browser) {
    submit(
        &browser.client,
        "main form button[name=intent][value=save]:not(.govuk-visually-hidden)",
    )
    .await;
}

#[sqlx::test]
async fn a_statement_is_filled_signed_voided_signed_again_submitted_returned_and_accepted(
    pool: PgPool,
) {
    let browser = Browser::start(support::demo_state(pool.clone()).await).await;
    let c = &browser.client;
    sign_in(&browser, "lead@ashbridge.example").await;
    browser.goto("/assessments").await;
    click(c, "#from-ashbridge-channel-aas-2020-blank").await;
    submit(
        c,
        "form:has(#from-ashbridge-channel-aas-2020-blank) button[type=submit]",
    )
    .await;
    assert!(
        text(c, "h1")
            .await
            .starts_with("Channel Panel assurance statement")
    );
    browser.assert_accessible().await;
    browser.screenshot("channel-task-list").await;
    let statement = c
        .current_url()
        .await
        .expect("the address")
        .path()
        .to_owned();

    // Key area 2: a Red with no details is refused, and the error summary says why.
    browser.goto(&format!("{statement}/key-areas/2")).await;
    browser.assert_accessible().await;
    click(c, "#q2-4-status-red").await;
    save(&browser).await;
    let summary = text(c, ".govuk-error-summary").await;
    assert!(
        summary.contains("Give the further details behind the Red rating of statement 2.4"),
        "{summary}"
    );
    browser.assert_accessible().await;
    browser.screenshot("channel-key-area-red-refused").await;
    // Amber with its details and an area for improvement, "Sept 21", with the same button.
    click(c, "#q2-4-status-amber").await;
    fill(
        c,
        "#q2-4-evidence",
        "The escalation process is agreed but not yet published.",
    )
    .await;
    for n in [1, 2, 3, 5] {
        click(c, &format!("#q2-{n}-status")).await;
    }
    choose(c, "#new-action-question", "2.4").await;
    fill(
        c,
        "#new-action-description",
        "Publish the escalation process on the partnership website",
    )
    .await;
    fill(
        c,
        "#new-action-owner",
        "Community Safety Partnership Manager",
    )
    .await;
    fill(c, "#new-action-target", "Sept 21").await;
    submit(c, "button[value=add-action]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("The action has been added")
    );
    browser.screenshot("channel-key-area-2").await;

    // Key area 1: N/A with its reason; the others Green.
    browser.goto(&format!("{statement}/key-areas/1")).await;
    for n in 1..=4 {
        click(c, &format!("#q1-{n}-status")).await;
    }
    click(c, "#q1-5-status-na").await;
    fill(
        c,
        "#q1-5-evidence",
        "Ashbridge has a single-authority panel.",
    )
    .await;
    save(&browser).await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("saved")
    );
    for (area, count) in AREAS.iter().skip(2) {
        browser.goto(&format!("{statement}/key-areas/{area}")).await;
        for n in 1..=*count {
            click(c, &format!("#q{area}-{n}-status")).await;
        }
        if *area == 3 {
            fill(c, "#q3-1-chair-name", "Director of Children's Services").await;
            fill(c, "#q3-1-chair-email", "channel.chair@ashbridge.gov.uk").await;
        }
        save(&browser).await;
        assert!(
            text(c, ".govuk-notification-banner")
                .await
                .contains("saved"),
            "key area {area}"
        );
    }
    browser.goto(&statement).await;
    assert_eq!(
        texts(c, ".govuk-task-list__status").await,
        vec!["Completed"; 5]
    );
    submit(c, "#sign-off ~ form button").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("Sign-off has been asked for")
    );
    sign_out(&browser).await;

    // The signatory reads it whole and signs.
    sign_in(&browser, "signatory@ashbridge.example").await;
    browser.goto(&format!("{statement}/sign-off")).await;
    let whole = text(c, "main").await;
    assert!(
        whole.contains("Publish the escalation process on the partnership website (Sept 21)"),
        "improvements shown"
    );
    assert!(whole.contains("Named Channel chair: Director of Children's Services"));
    assert!(
        texts(c, "main form input[type=radio]").await.len() == 2,
        "no ratings to change here"
    );
    fill(c, "#position", "Chief Executive").await;
    click(c, "#panel").await;
    click(c, "#declare").await;
    browser.assert_accessible().await;
    browser.screenshot("channel-sign").await;
    submit(c, "main form button[type=submit]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("You have signed the statement")
    );
    browser.assert_accessible().await;
    browser.screenshot("channel-statement-signed").await;
    sign_out(&browser).await;

    // The lead changes a rating: the signature is void, and the page says so.
    sign_in(&browser, "lead@ashbridge.example").await;
    browser.goto(&format!("{statement}/key-areas/5")).await;
    click(c, "#q5-3-status-na").await;
    fill(
        c,
        "#q5-3-evidence",
        "Channel data is stored only in the case management system.",
    )
    .await;
    save(&browser).await;
    browser.goto(&statement).await;
    assert!(
        text(c, "#sign-off ~ .govuk-warning-text")
            .await
            .contains("The signature was voided")
    );
    browser.screenshot("channel-signature-voided").await;
    submit(c, "#sign-off ~ form button").await;
    sign_out(&browser).await;
    sign_in(&browser, "signatory@ashbridge.example").await;
    browser.goto(&format!("{statement}/sign-off")).await;
    assert!(
        text(c, "#signature")
            .await
            .contains("A signature was voided")
    );
    fill(c, "#position", "Chief Executive").await;
    click(c, "#panel").await;
    click(c, "#declare").await;
    submit(c, "main form button[type=submit]").await;
    sign_out(&browser).await;

    // Signed again: submitted.
    sign_in(&browser, "lead@ashbridge.example").await;
    browser.goto(&format!("{statement}/check")).await;
    browser.assert_accessible().await;
    submit(c, "main form[action$='/submit'] button").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("submitted to the Home Office's Channel team")
    );
    sign_out(&browser).await;

    // The Channel team finds it in the grid and returns it with a reason.
    sign_in(&browser, "channel@homeoffice.example").await;
    browser.goto("/channel").await;
    browser.assert_accessible().await;
    browser.screenshot("channel-grid").await;
    let row = texts(c, "#grid tbody tr")
        .await
        .into_iter()
        .find(|r| r.contains("Ashbridge"))
        .expect("Ashbridge");
    assert!(row.contains("Submitted"), "{row}");
    submit(c, "#grid a[href$='/channel-review']").await;
    browser.assert_accessible().await;
    browser.screenshot("channel-review").await;
    fill(
        c,
        "#reason",
        "Statement 2.4: give the date the escalation process will be published.",
    )
    .await;
    submit(c, "button[value=return]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("returned")
    );
    sign_out(&browser).await;

    // The lead resubmits (nothing changed: the signature stands); the team accepts it.
    sign_in(&browser, "lead@ashbridge.example").await;
    browser.goto(&format!("{statement}/history")).await;
    assert!(
        text(c, "main table")
            .await
            .contains("Statement 2.4: give the date")
    );
    browser.goto(&format!("{statement}/check")).await;
    submit(c, "main form[action$='/submit'] button").await;
    sign_out(&browser).await;
    sign_in(&browser, "channel@homeoffice.example").await;
    browser.goto(&format!("{statement}/channel-review")).await;
    submit(c, "button[value=accept]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("accepted")
    );
    browser.goto("/channel").await;
    let row = texts(c, "#grid tbody tr")
        .await
        .into_iter()
        .find(|r| r.contains("Ashbridge"))
        .expect("Ashbridge");
    assert!(row.contains("Accepted"), "{row}");

    // The printable statement holds every statement's rating, as given, and the sign-off.
    browser.goto(&format!("{statement}/statement")).await;
    let printed = text(c, "main").await;
    let rated = |code: &str| match code {
        "1.5" | "5.3" => "N/A",
        "2.4" => "Amber",
        _ => "Green",
    };
    let mut rows = 0;
    for (area, count) in AREAS {
        for n in 1..=count {
            let code = format!("{area}.{n}");
            let rating = text(c, &format!("#statement-{} td", code.replace('.', "\\."))).await;
            assert_eq!(rating, rated(&code), "statement {code}");
            rows += 1;
        }
    }
    assert_eq!(rows, 36);
    assert!(printed.contains("Dr Helen Marsh") && printed.contains("Single local authority panel"));
    // The same as a Word document, laid out by LibreOffice: every statement with its rating.
    let word = support::browser::download(c, &format!("{statement}/statement.docx")).await;
    let pdf = support::office::to_pdf(&word, "statement.docx");
    for (area, count) in AREAS {
        for n in 1..=count {
            let code = format!("{area}.{n}");
            assert!(
                pdf.row(&[code.as_str(), rated(&code)]),
                "statement {code} rated {} in the document:\n{}",
                rated(&code),
                pdf.layout()
            );
        }
    }
    for rating in ["Green", "Amber", "N/A"] {
        assert!(pdf.shows(rating), "{rating}");
    }
    assert!(pdf.shows("Dr Helen Marsh") && pdf.shows("Chief Executive"));
    browser.assert_accessible().await;
    browser.screenshot("channel-statement").await;
    sign_out(&browser).await;

    // At national scale the grid shows fifty councils a page, with pages either side.
    let extra = support::extra_councils(&pool, 60).await;
    prevent_assure::db::sample::fill_statements(
        &pool,
        &extra,
        time::OffsetDateTime::now_utc().date(),
    )
    .await
    .expect("statements");
    sign_in(&browser, "channel@homeoffice.example").await;
    browser.goto("/channel").await;
    assert_eq!(texts(c, "#grid tbody tr").await.len(), 50);
    browser.assert_accessible().await;
    browser.screenshot("channel-grid-pages").await;
    submit(c, ".govuk-pagination__next a").await;
    assert!(
        text(c, "#grid-shown")
            .await
            .starts_with("Showing councils 51 to")
    );
    browser.assert_accessible().await;
    browser.close().await;
}

/// Every Channel page with JavaScript off, on the demo's data: the team's grid counts what was
/// submitted (checked against the answers themselves), filters by key area and rating, and a
/// statement is returned; the lead saves a key area; the signatory signs; the adviser's review
/// links benchmark 5 to the council's statement; the lead's home page lists both returns.
#[sqlx::test]
async fn the_channel_pages_work_without_javascript_and_the_grid_counts_what_was_submitted(
    pool: PgPool,
) {
    let browser = Browser::start_with(support::full_demo_state(pool.clone()).await, false).await;
    let c = &browser.client;
    let cycle: uuid::Uuid = sqlx::query_scalar(
        "select id from cycles where opens_on <= current_date order by starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the cycle");
    // What the statements left with (every state but draft), read from their answers.
    const SUBMITTED: &str = "from assessments a join frameworks f on f.id = a.framework_id
         join answers an on an.assessment_id = a.id join items i on i.id = an.item_id
         join sections s on s.id = i.section_id left join ratings g on g.id = an.rating_id
         join organisations o on o.id = a.organisation_id join regions r on r.id = o.region_id
         where f.code = 'channel-aas-2020' and a.cycle_id = $1 and a.state <> 'draft'";
    let by_area: Vec<(i32, i64, i64)> = sqlx::query_as(&format!(
        "select s.number, count(*) filter (where g.code = 'amber'), count(*) filter (where g.code = 'red')
         {SUBMITTED} group by s.number order by s.number"
    ))
    .bind(cycle)
    .fetch_all(&pool)
    .await
    .expect("by area");
    let by_region: Vec<(String, i64, i64)> = sqlx::query_as(&format!(
        "select r.name, count(*) filter (where g.code = 'amber'), count(*) filter (where g.code = 'red')
         {SUBMITTED} group by r.name order by r.name"
    ))
    .bind(cycle)
    .fetch_all(&pool)
    .await
    .expect("by region");
    let waiting: Vec<String> = sqlx::query_scalar(
        "select o.name from organisations o where not exists (
             select 1 from assessments a join frameworks f on f.id = a.framework_id
             where a.organisation_id = o.id and a.cycle_id = $1 and f.code = 'channel-aas-2020'
               and a.state <> 'draft')
         order by o.name",
    )
    .bind(cycle)
    .fetch_all(&pool)
    .await
    .expect("waiting");
    assert!(!waiting.is_empty() && by_region.iter().any(|(_, a, r)| a + r > 0));

    sign_in(&browser, "channel@homeoffice.example").await;
    browser.goto("/channel").await;
    let supported = c
        .execute(
            "return document.body.classList.contains('govuk-frontend-supported')",
            vec![],
        )
        .await
        .expect("asked");
    assert_eq!(supported, serde_json::json!(false), "JavaScript is off");
    let shown = texts(c, "#by-area tbody tr").await;
    assert_eq!(shown.len(), 5);
    for (n, amber, red) in &by_area {
        let row = &shown[*n as usize - 1];
        assert!(
            row.starts_with(&format!("{n}.")) && row.ends_with(&format!("{amber} {red}")),
            "key area {n}: {row} against {amber} amber, {red} red"
        );
    }
    let shown = texts(c, "#by-region tbody tr").await;
    for (region, amber, red) in &by_region {
        assert!(
            shown.contains(&format!("{region} {amber} {red}")),
            "{region}: {shown:?}"
        );
    }
    let listed: Vec<String> = texts(c, "#waiting-table tbody tr td:first-child").await;
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(listed_sorted, waiting, "councils yet to submit");
    browser.screenshot("nojs-channel-grid").await;

    // Filters by key area and rating, without JavaScript: the form's own GET.
    support::browser::choose(c, "#area", "4").await;
    support::browser::choose(c, "#rating", "amber").await;
    submit(c, "form.app-filters button[type=submit]").await;
    let columns = texts(c, "#grid thead th").await;
    assert!(
        columns[2..].iter().all(|h| h.starts_with("4.")) && columns.len() == 2 + 15,
        "{columns:?}"
    );
    for row in texts(c, "#grid tbody tr").await {
        assert!(
            row.contains(" A"),
            "only councils with an Amber in key area 4: {row}"
        );
    }
    browser.screenshot("nojs-channel-grid-filtered").await;

    // A submitted statement returned with its reason.
    let submitted: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join frameworks f on f.id = a.framework_id
         where f.code = 'channel-aas-2020' and a.cycle_id = $1 and a.state = 'submitted' limit 1",
    )
    .bind(cycle)
    .fetch_one(&pool)
    .await
    .expect("a submitted statement");
    browser
        .goto(&format!("/assessments/{submitted}/channel-review"))
        .await;
    fill(c, "#reason", "Statement 3.1: name the deputy chair.").await;
    submit(c, "button[value=return]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("returned")
    );
    sign_out(&browser).await;

    // The lead saves a key area and finds both returns on the home page.
    let statement: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join frameworks f on f.id = a.framework_id
         join organisations o on o.id = a.organisation_id
         where f.code = 'channel-aas-2020' and a.cycle_id = $1 and o.slug = 'ashbridge'",
    )
    .bind(cycle)
    .fetch_one(&pool)
    .await
    .expect("Ashbridge's statement");
    sign_in(&browser, "lead@ashbridge.example").await;
    browser.goto("/").await;
    let returns = text(c, "#this-cycle + dl").await;
    assert!(
        returns.contains("Prevent duty self-assessment")
            && returns.contains("Channel Panel assurance statement"),
        "{returns}"
    );
    browser.screenshot("nojs-home-lead").await;
    browser
        .goto(&format!("/assessments/{statement}/key-areas/1"))
        .await;
    fill(
        c,
        "#q1-1-evidence",
        "The panel's terms of reference were reviewed in March.",
    )
    .await;
    save(&browser).await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("saved")
    );
    browser.screenshot("nojs-channel-key-area").await;
    sign_out(&browser).await;

    // The signatory signs what is there now.
    sign_in(&browser, "signatory@ashbridge.example").await;
    browser
        .goto(&format!("/assessments/{statement}/sign-off"))
        .await;
    fill(c, "#position", "Chief Executive").await;
    click(c, "#panel").await;
    click(c, "#declare").await;
    submit(c, "main form button[type=submit]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("You have signed the statement")
    );
    browser.screenshot("nojs-channel-signed").await;
    sign_out(&browser).await;

    // The adviser reads the council's statement beside benchmark 5.
    let (reviewed, org, adviser): (uuid::Uuid, uuid::Uuid, String) = sqlx::query_as(
        "select a.id, a.organisation_id, 'adviser.' || r.slug || '@homeoffice.example'
         from assessments a join frameworks f on f.id = a.framework_id
         join organisations o on o.id = a.organisation_id join regions r on r.id = o.region_id
         where f.code = 'prevent-la-2018' and a.cycle_id = $1 and a.state <> 'draft'
           and exists (select 1 from assessments s join frameworks sf on sf.id = s.framework_id
                       where s.organisation_id = a.organisation_id and s.cycle_id = a.cycle_id
                         and sf.code = 'channel-aas-2020')
         limit 1",
    )
    .bind(cycle)
    .fetch_one(&pool)
    .await
    .expect("a council under review with a statement");
    let theirs: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join frameworks f on f.id = a.framework_id
         where f.code = 'channel-aas-2020' and a.cycle_id = $1 and a.organisation_id = $2",
    )
    .bind(cycle)
    .bind(org)
    .fetch_one(&pool)
    .await
    .expect("its statement");
    sign_in(&browser, &adviser).await;
    browser
        .goto(&format!("/assessments/{reviewed}/review"))
        .await;
    let link = c
        .find(fantoccini::Locator::Css("#channel-statement a"))
        .await
        .expect("the link beside benchmark 5")
        .attr("href")
        .await
        .expect("href");
    assert_eq!(link, Some(format!("/assessments/{theirs}/statement")));
    submit(c, "#channel-statement a").await;
    let heading = text(c, "h1").await;
    assert!(heading.contains("Channel Panel"), "{heading}");
    browser.close().await;
}
