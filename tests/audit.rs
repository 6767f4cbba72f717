//! The audit trail as people read it: events in words, changes as a list of fields, UK time,
//! filters kept in the address and in the pages that follow, and the JSON as recorded for
//! auditors, to those who may see it only.

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

#[sqlx::test]
async fn a_change_to_an_action_reads_as_words_with_the_fields_that_changed(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 8, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let started = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&started).to_owned();
    let page = format!("{address}/benchmarks/1");
    let added = lead
        .submit_page(
            &page,
            "form[action$='/benchmarks/1']",
            &[
                ("new-action-question", "1.2"),
                (
                    "new-action-description",
                    "Refresh the counter-terrorism local profile",
                ),
                ("new-action-owner", "Community Safety Manager"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(added.status, 303);
    let action: uuid::Uuid =
        sqlx::query_scalar("select id from actions order by created_at desc limit 1")
            .fetch_one(&pool)
            .await
            .expect("the action");
    let changed = lead
        .submit_page(
            &format!("{address}/actions/{action}"),
            "main form",
            &[
                ("action-owner", "Prevent Coordinator"),
                ("action-target", "March 2027"),
            ],
            "",
        )
        .await;
    assert_eq!(changed.status, 303);

    let trail = lead.get("/orgs/ashbridge/audit").await;
    assert_eq!(trail.status, 200);
    let html = trail.html();
    let rows = texts(&html, ".app-audit tbody tr");
    let changed_row = rows
        .iter()
        .find(|r| r.contains("Changed an action"))
        .unwrap_or_else(|| panic!("{rows:#?}"));
    assert!(
        changed_row.contains("Owner: was Community Safety Manager → now Prevent Coordinator"),
        "{changed_row}"
    );
    assert!(
        changed_row.contains("Target: was blank → now March 2027"),
        "{changed_row}"
    );
    assert!(
        !changed_row.contains("Description"),
        "an unchanged field is not listed: {changed_row}"
    );
    let added_row = rows
        .iter()
        .find(|r| r.contains("Added an action"))
        .expect("the addition");
    assert!(
        added_row.contains("Description: Refresh the counter-terrorism local profile"),
        "{added_row}"
    );
    assert!(
        rows.iter().any(|r| r.contains("Started a self-assessment")),
        "{rows:#?}"
    );
    // No codes, no JSON, UK time with its zone (December is GMT).
    let table = texts(&html, ".app-audit").join(" ");
    assert!(
        !table.contains("action.updated") && !table.contains('{'),
        "{table}"
    );
    let when = texts(&html, ".app-audit__when");
    assert!(
        when.iter()
            .all(|w| w.ends_with("(GMT)") || w.ends_with("(BST)")),
        "{when:?}"
    );
    let offered: Vec<String> = texts(&html, "#action option");
    assert!(
        offered.contains(&"Added an action".to_owned()),
        "{offered:?}"
    );

    // Seen again, the events are this server's worded rows, read without their before and
    // after: the same rows.
    let again = lead.get("/orgs/ashbridge/audit").await.html();
    assert_eq!(texts(&again, ".app-audit tbody tr"), rows);
    // The council renamed: the statement still leaves out the before and after of the events
    // worded under the old name, which are then read in full and worded again, never shown
    // without their changes.
    sqlx::query("update organisations set name = 'Ashbridge Borough' where slug = 'ashbridge'")
        .execute(&pool)
        .await
        .expect("renamed");
    let renamed = texts(
        &lead.get("/orgs/ashbridge/audit").await.html(),
        ".app-audit tbody tr",
    );
    assert_eq!(renamed.len(), rows.len());
    let changed_row = renamed
        .iter()
        .find(|r| r.contains("Changed an action"))
        .unwrap_or_else(|| panic!("{renamed:#?}"));
    assert!(
        changed_row.contains("Ashbridge Borough")
            && changed_row
                .contains("Owner: was Community Safety Manager → now Prevent Coordinator"),
        "{changed_row}"
    );
}

#[sqlx::test]
async fn filters_stay_in_the_address_and_the_pages_that_follow(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 8, 0, 2]);
    // 120 sign-in failures at Ashbridge's lead's address, as a long trail would hold.
    sqlx::query(
        "insert into audit_events (occurred_at, actor_label, action, entity_type, organisation_id, after)
         select now() - make_interval(mins => n), 'lead@ashbridge.example', 'action.noted', 'action',
                (select id from organisations where slug = 'ashbridge'), jsonb_build_object('note', 'Note ' || n)
         from generate_series(1, 120) n",
    )
    .execute(&pool)
    .await
    .expect("a long trail");
    let mut lead = signed_in(&router, LEAD).await;
    let first = lead
        .get("/orgs/ashbridge/audit?action=action.noted")
        .await
        .html();
    let rows = texts(&first, ".app-audit tbody tr");
    assert_eq!(rows.len(), 50);
    assert!(rows.iter().all(|r| r.contains("Added a progress note")));
    assert_eq!(
        texts(&first, "#action option[selected]"),
        ["Added a progress note"],
        "the filter shows what it is set to"
    );
    let older = support::attr(&first, ".govuk-pagination__next a", "href").expect("an older page");
    assert!(older.starts_with("?action=action.noted&older="), "{older}");
    let second = lead
        .get(&format!("/orgs/ashbridge/audit{older}"))
        .await
        .html();
    let second_rows = texts(&second, ".app-audit tbody tr");
    assert_eq!(second_rows.len(), 50);
    assert!(
        second_rows.iter().all(|r| !rows.contains(r)),
        "no event on two pages"
    );
    assert!(second_rows[0].contains("Note 51"), "{}", second_rows[0]);
    assert_eq!(
        support::attr(&second, ".govuk-pagination__prev a", "href").as_deref(),
        Some("?action=action.noted")
    );
    let last = support::attr(&second, ".govuk-pagination__next a", "href").expect("a third page");
    let third = lead
        .get(&format!("/orgs/ashbridge/audit{last}"))
        .await
        .html();
    assert_eq!(texts(&third, ".app-audit tbody tr").len(), 20);
    assert!(texts(&third, ".govuk-pagination__next a").is_empty());

    // The JSON download holds the same events as recorded, with the same filter.
    let json_href = support::attr(&first, "a[download]", "href").expect("the download");
    assert_eq!(json_href, "/orgs/ashbridge/audit.json?action=action.noted");
    let download = lead.get(&json_href).await;
    assert_eq!(download.status, 200);
    assert!(
        download.headers["content-disposition"]
            .to_str()
            .unwrap_or("")
            .contains("attachment"),
    );
    let body: serde_json::Value = serde_json::from_str(&download.body).expect("JSON");
    let events = body["events"].as_array().expect("events");
    assert_eq!(events.len(), 120);
    assert_eq!(events[0]["event"], "action.noted");
    assert_eq!(events[0]["after"]["note"], "Note 1");
    assert!(
        events[0]["occurred_at"]
            .as_str()
            .unwrap_or("")
            .ends_with('Z')
    );
    assert!(body["next"].is_null());

    // Another council's lead sees none of it.
    let mut other = signed_in(&router, "lead@brackenfield.example").await;
    for route in ["/orgs/ashbridge/audit", "/orgs/ashbridge/audit.json"] {
        let reply = other.get(route).await;
        assert_eq!(reply.status, 403, "{route}");
        assert!(!reply.body.contains("Note 1"), "{route}");
    }
    let refused = other.get("/admin/audit.json").await;
    assert_eq!(refused.status, 403);
}
