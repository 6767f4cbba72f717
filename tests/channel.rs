//! The Channel Panel Annual Assurance Statement on the same engine as the self-assessment:
//! started beside it in the cycle, rated statement by statement on its key areas' pages with
//! the framework's rules (details for Amber and Red with an area for improvement, a reason for
//! N/A, the chair's contacts in fields of their own), checked and submitted.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from, texts};

const LEAD: &str = "lead@ashbridge.example";

async fn signed_in(router: &axum::Router, email: &str) -> Client {
    let mut client = Client::new(router.clone());
    assert_eq!(
        client.sign_in(email, DEMO_PASSWORD).await.status,
        303,
        "{email}"
    );
    client
}

/// Starts Ashbridge's statement for this cycle; its address.
async fn started(lead: &mut Client) -> String {
    let reply = lead
        .post(
            "/assessments",
            &[
                ("organisation", "ashbridge"),
                ("from", "blank"),
                ("framework", "channel-aas-2020"),
            ],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    location(&reply).to_owned()
}

fn errors(reply: &support::Reply) -> Vec<String> {
    texts(&reply.html(), ".govuk-error-summary__list a")
}

#[sqlx::test]
async fn both_instruments_start_in_the_cycle_and_each_answers_at_its_own_address(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 1, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let list = lead.get("/assessments").await.html();
    let offers = texts(&list, ".govuk-inset-text h2");
    assert!(
        offers
            .iter()
            .any(|o| o.contains("Prevent duty self-assessment for Ashbridge")),
        "{offers:?}"
    );
    assert!(
        offers
            .iter()
            .any(|o| o.contains("Channel Panel assurance statement for Ashbridge")),
        "{offers:?}"
    );
    let statement = started(&mut lead).await;
    let again = started(&mut lead).await;
    assert_eq!(again, statement, "one statement per council and cycle");

    let tasks = lead.get(&statement).await.html();
    assert_eq!(
        texts(&tasks, "h1"),
        [format!(
            "Channel Panel assurance statement {}",
            texts(&tasks, "h1")[0].rsplit(' ').next().unwrap_or("")
        )]
    );
    let links = texts(&tasks, ".govuk-task-list__link");
    assert_eq!(links.len(), 5, "five key areas of control: {links:?}");
    assert_eq!(
        links[0],
        "Key area of control 1: Legal Requirements under CTSA 2015"
    );
    assert!(texts(&tasks, ".govuk-task-list__hint")[0].contains("0 of 5 statements rated"));
    assert_eq!(
        lead.get(&format!("{statement}/key-areas/3")).await.status,
        200
    );
    assert_eq!(
        lead.get(&format!("{statement}/benchmarks/3")).await.status,
        404,
        "a statement has no benchmarks"
    );
    // The self-assessment still starts, and has no key areas.
    let sa = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let sa = location(&sa).to_owned();
    assert_ne!(sa, statement);
    assert_eq!(lead.get(&format!("{sa}/key-areas/1")).await.status, 404);
    let rows = texts(&lead.get("/assessments").await.html(), "tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("Channel Panel assurance statement") && r.contains("Draft")),
        "{rows:?}"
    );
}

#[sqlx::test]
async fn a_key_area_page_rates_each_statement_by_the_frameworks_rules(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 2, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let statement = started(&mut lead).await;
    let page = format!("{statement}/key-areas/2");
    let html = lead.get(&page).await.html();
    // Ratings with their definitions as hints; the evidence box as the seed labels it.
    let labels = texts(&html, "#q2-1 .govuk-radios__label");
    assert_eq!(labels, ["Green", "Amber", "Red", "N/A"]);
    assert!(
        texts(&html, "#q2-1 .govuk-radios__hint")[2]
            .starts_with("Unable to give reasonable assurance")
    );
    assert!(
        texts(&html, "label[for=q2-1-evidence]")[0]
            .contains("Further details behind any amber or red entries")
    );
    assert!(
        texts(&html, "#criteria").is_empty(),
        "no scoring criteria on a statement"
    );

    // A Red with no details is refused, with everything typed kept.
    let form = "form[action$='/key-areas/2']";
    let red = lead
        .submit_page(
            &page,
            form,
            &[("status-2.1", "green"), ("status-2.4", "red")],
            "save",
        )
        .await;
    assert_eq!(red.status, 422);
    let said = errors(&red);
    assert!(
        said.contains(
            &"Give the further details behind the Red rating of statement 2.4".to_owned()
        ),
        "{said:?}"
    );
    assert!(
        said.iter()
            .any(|e| e.starts_with("Add an area for improvement for statement 2.4")),
        "{said:?}"
    );
    assert_eq!(
        texts(&red.html(), "#q2-1-status[checked]").len(),
        1,
        "the Green is kept"
    );

    // An Amber with details and an improvement "Sept 21", added with the same button.
    let amber = lead
        .submit_page(
            &page,
            form,
            &[
                ("status-2.1", "green"),
                ("status-2.4", "amber"),
                (
                    "evidence-2.4",
                    "The escalation process is agreed but not yet published.",
                ),
                ("new-action-question", "2.4"),
                (
                    "new-action-description",
                    "Publish the escalation process on the partnership website",
                ),
                ("new-action-owner", "Community Safety Partnership Manager"),
                ("new-action-target", "Sept 21"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(amber.status, 303, "{:?}", errors(&amber));
    let (target, source): (String, String) = sqlx::query_as(
        "select target_text, source from actions a join items i on i.id = a.item_id where i.code = '2.4'",
    )
    .fetch_one(&pool)
    .await
    .expect("the area for improvement");
    assert_eq!((target.as_str(), source.as_str()), ("Sept 21", "question"));

    // N/A needs its reason.
    let one = format!("{statement}/key-areas/1");
    let form1 = "form[action$='/key-areas/1']";
    let na = lead
        .submit_page(&one, form1, &[("status-1.5", "na")], "save")
        .await;
    assert_eq!(errors(&na), ["Say why statement 1.5 is N/A"]);
    let na = lead
        .submit_page(
            &one,
            form1,
            &[
                ("status-1.5", "na"),
                ("evidence-1.5", "Ashbridge has a single-authority panel."),
            ],
            "save",
        )
        .await;
    assert_eq!(na.status, 303);

    // Statement 3.1's contacts are fields of their own, checked, and said to be shared.
    let three = format!("{statement}/key-areas/3");
    let form3 = "form[action$='/key-areas/3']";
    let html = lead.get(&three).await.html();
    assert!(texts(&html, "#q3-1-fields-notice")[0].contains("shared with the Home Office"));
    let bad = lead
        .submit_page(
            &three,
            form3,
            &[
                ("field-3.1-chair_name", "Director of Children's Services"),
                ("field-3.1-chair_email", "not an address"),
            ],
            "save",
        )
        .await;
    assert_eq!(
        errors(&bad),
        ["Enter channel chair email contact as an email address, like name@council.gov.uk"]
    );
    assert_eq!(
        support::attr(&bad.html(), "#q3-1-chair-name", "value").as_deref(),
        Some("Director of Children's Services")
    );
    let good = lead
        .submit_page(
            &three,
            form3,
            &[
                ("field-3.1-chair_name", "Director of Children's Services"),
                ("field-3.1-chair_email", "channel.chair@ashbridge.gov.uk"),
            ],
            "save",
        )
        .await;
    assert_eq!(good.status, 303);
    let fields: serde_json::Value = sqlx::query_scalar("select an.fields from answers an join items i on i.id = an.item_id where i.code = '3.1' and an.assessment_id = $1::uuid")
        .bind(statement.trim_start_matches("/assessments/"))
        .fetch_one(&pool)
        .await
        .expect("the fields");
    assert_eq!(fields["chair_email"], "channel.chair@ashbridge.gov.uk");

    // A contributor does not answer the lead's statement.
    let mut contributor = signed_in(&router, "contributor@ashbridge.example").await;
    let html = contributor.get(&page).await.html();
    assert!(
        texts(&html, "form[action$='/key-areas/2']").is_empty(),
        "read only"
    );
    let refused = contributor
        .post(&page, &[("version", "1"), ("status-2.1", "red")])
        .await;
    assert_eq!(refused.status, 403);
}

#[sqlx::test]
async fn the_check_page_lists_what_the_home_office_needs_before_submission(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [16, 3, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let statement = started(&mut lead).await;
    let check = lead.get(&format!("{statement}/check")).await.html();
    let gaps = texts(&check, "#must-fix li");
    assert_eq!(gaps.len(), 36, "every statement needs a rating: {gaps:?}");
    assert_eq!(gaps[0], "Statement 1.1 has no rating");
    assert!(
        texts(&check, "#worth-checking li")
            .iter()
            .any(|g| g.contains("Named Channel chair"))
    );
    // Rating everything Green leaves nothing to fix.
    sqlx::query(
        "update answers set rating_id = (select r.id from ratings r join frameworks f on f.id = r.framework_id
                                         where f.code = 'channel-aas-2020' and r.code = 'green')
         where assessment_id = $1::uuid",
    )
    .bind(statement.trim_start_matches("/assessments/"))
    .execute(&pool)
    .await
    .expect("all green");
    let check = lead.get(&format!("{statement}/check")).await.html();
    assert!(texts(&check, "#must-fix li").is_empty());
    let rows = texts(&check, ".govuk-summary-list__row");
    assert!(
        rows[0].contains("5 of 5 statements rated") && !rows[0].contains("score"),
        "{}",
        rows[0]
    );
}
