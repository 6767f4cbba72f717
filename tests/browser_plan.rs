//! Issue 14 in headless Chromium: the adviser's recommendations reach the council's plan and
//! their owner; no button on the benchmark page or "Your actions" loses what was typed (with
//! JavaScript off); and every page changed for it is axe-clean, with a screenshot.

mod support;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use fantoccini::{Client, Locator};
use prevent_assure::demo::DEMO_PASSWORD;
use serde_json::json;
use sqlx::PgPool;
use support::browser::{Browser, choose, click, download, fill, submit, text, texts, value};
use uuid::Uuid;

async fn sign_in(client: &Client, base: &str, email: &str) {
    client
        .goto(&format!("{base}/login"))
        .await
        .expect("the sign-in page");
    fill(client, "#email", email).await;
    fill(client, "#password", DEMO_PASSWORD).await;
    submit(client, "main form button[type=submit]").await;
    text(client, ".app-header__user").await;
}

/// Ashbridge's current assessment, started blank by its lead: its id.
async fn started(pool: &PgPool) -> Uuid {
    let mut conn = pool.acquire().await.expect("a connection");
    let (org, cycle, lead): (Uuid, Uuid, Uuid) = sqlx::query_as(
        "select o.id, c.id, u.id from organisations o, cycles c, users u
         where o.slug = 'ashbridge' and u.email = 'lead@ashbridge.example'
           and c.starts_on <= current_date order by c.starts_on desc limit 1",
    )
    .fetch_one(&mut *conn)
    .await
    .expect("the council, cycle and lead");
    prevent_assure::db::assessments::start(
        &mut conn,
        org,
        cycle,
        prevent_assure::web::assessments::FRAMEWORK,
        false,
        lead,
    )
    .await
    .expect("started")
}

#[sqlx::test]
async fn recommended_actions_reach_the_plan_its_exports_and_their_owner(pool: PgPool) {
    let browser = Browser::start(support::demo_state(pool.clone()).await).await;
    let id = started(&pool).await;
    sqlx::query("update assessments set state = 'in_review', submitted_at = now() where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("in review");
    let address = format!("/assessments/{id}");
    let c = &browser.client;
    sign_in(c, &browser.base, "adviser.north-vale@homeoffice.example").await;

    // The adviser records the scores and three recommendations, agrees, and publishes.
    browser.goto(&format!("{address}/review")).await;
    for n in 1..=10 {
        let score = match n {
            5 => "not_scored",
            n if n % 2 == 0 => "3",
            _ => "4",
        };
        fill(
            c,
            &format!("#summary-{n}"),
            &format!("Benchmark {n}: settled and evidenced."),
        )
        .await;
        choose(c, &format!("#adviser-{n}"), score).await;
        choose(c, &format!("#agreed-{n}"), score).await;
    }
    let recommendations = [
        "Refresh the CTLP briefing for elected members",
        "Name a Channel deputy chair",
        "Publish a Prevent communications plan",
    ];
    for r in recommendations {
        fill(c, "#recommendation", r).await;
        submit(c, "button[value=add-recommendation]").await;
        assert!(
            text(c, ".govuk-notification-banner")
                .await
                .contains("recommended action has been added")
        );
    }
    // The summaries typed before the first recommendation were saved with it.
    assert_eq!(
        value(c, "#summary-3").await,
        "Benchmark 3: settled and evidenced."
    );
    submit(c, "button[value=agree]").await;
    let banner = text(c, ".govuk-notification-banner").await;
    assert!(
        banner.contains("Scores agreed.") && banner.contains("Preview the letter"),
        "{banner}"
    );
    browser.assert_accessible().await;
    browser.screenshot("review-agreed").await;
    submit(c, "button[value=publish]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("published")
    );

    // The lead finds them on the plan, under "No owner", labelled.
    let lead = browser.another().await;
    sign_in(&lead.client, &lead.base, "lead@ashbridge.example").await;
    let l = &lead.client;
    lead.goto("/orgs/ashbridge/actions?owner=No+owner").await;
    let cycle: String = sqlx::query_scalar(
        "select c.label from assessments a join cycles c on c.id = a.cycle_id where a.id = $1",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .expect("cycle");
    let label = format!("Recommended by the Home Office, {cycle}");
    let rows = texts(l, "table.app-plan tbody tr").await;
    assert_eq!(rows.len(), 3, "{rows:?}");
    for r in recommendations {
        assert!(
            rows.iter()
                .any(|row| row.contains(r) && row.contains(&label)),
            "{r}: {rows:?}"
        );
    }
    // And in what the plan downloads as, read back.
    let csv = String::from_utf8(download(l, "/orgs/ashbridge/actions.csv").await).expect("text");
    for r in recommendations {
        let line = csv
            .lines()
            .find(|line| line.contains(r))
            .expect("in the CSV");
        assert!(
            line.starts_with("\"No owner\"") && line.contains(&label),
            "{line}"
        );
    }
    let xlsx = download(l, "/orgs/ashbridge/actions.xlsx").await;
    let mut book: Xlsx<_> = calamine::open_workbook_from_rs(Cursor::new(xlsx)).expect("a workbook");
    let range = book.worksheet_range("Action plan").expect("the sheet");
    let cells: Vec<Vec<String>> = range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    _ => String::new(),
                })
                .collect()
        })
        .collect();
    for r in recommendations {
        assert!(
            cells.iter().any(|row| row[5] == r && row[4] == label),
            "{r}"
        );
    }

    // The lead gives each an owner, the owner's account and a target.
    for (i, r) in recommendations.iter().enumerate() {
        lead.goto("/orgs/ashbridge/actions?owner=No+owner").await;
        let link = l
            .find(Locator::XPath(&format!(
                "//tr[contains(., '{r}')]//a[starts-with(., 'Change')]"
            )))
            .await
            .expect("a Change link");
        link.click().await.expect("clicked");
        text(l, "#action-owner").await;
        if i == 0 {
            browser_accessible(&lead, "action-edit").await;
        }
        fill(l, "#action-owner", "Community Safety").await;
        choose(
            l,
            "#action-owner-user",
            &sqlx::query_scalar::<_, Uuid>(
                "select id from users where email = 'owner@ashbridge.example'",
            )
            .fetch_one(&pool)
            .await
            .expect("the owner")
            .to_string(),
        )
        .await;
        fill(l, "#action-target", "Q4 2026/27").await;
        submit(l, "main form button[type=submit]").await;
        assert!(
            text(l, ".govuk-notification-banner")
                .await
                .contains("The action has been changed")
        );
    }
    lead.goto("/orgs/ashbridge/actions").await;
    let plan = texts(l, "table.app-plan").await;
    assert!(
        plan.iter()
            .any(|t| t.starts_with("Community Safety")
                && recommendations.iter().all(|r| t.contains(r))),
        "{plan:?}"
    );
    browser_accessible(&lead, "plan-with-recommendations").await;

    // The owner sees them in their own list.
    let owner = browser.another().await;
    sign_in(&owner.client, &owner.base, "owner@ashbridge.example").await;
    owner.goto("/me/actions").await;
    let mine = texts(&owner.client, ".app-own-action").await;
    for r in recommendations {
        assert!(
            mine.iter().any(|a| a.contains(r) && a.contains(&label)),
            "{r}: {mine:?}"
        );
    }
    browser_accessible(&owner, "my-actions-recommendations").await;
    let _ = owner.client.close().await;
    let _ = lead.client.close().await;
    browser.close().await;
}

/// axe on a second person's page, and a screenshot of it.
async fn browser_accessible(b: &support::browser::Browser2, name: &str) {
    let axe = include_str!("vendor/axe.min.js");
    b.client.execute(axe, vec![]).await.expect("axe loads");
    let violations = b
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document, { runOnly: { type: 'tag', values: arguments[0] } })
                .then(r => done(r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.html).join(' | '))));",
            vec![json!(support::browser::WCAG_22_AA)],
        )
        .await
        .expect("axe runs");
    assert_eq!(violations, json!([]), "{name}");
    let png = b.client.screenshot().await.expect("a screenshot");
    let dir = support::root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("the folder");
    std::fs::write(dir.join(format!("{name}.png")), png).expect("written");
}

/// A benchmark page with something behind every secondary button: an action on question 1.1
/// owned by the demo owner, a file, and an open evidence request (the adviser returned it).
async fn arranged(pool: &PgPool) -> (Uuid, Uuid, Uuid) {
    let id = started(pool).await;
    let action: Uuid = sqlx::query_scalar(
        "insert into actions (organisation_id, assessment_id, section_id, item_id, source, description, owner_text, owner_user_id)
         select a.organisation_id, a.id, s.id, i.id, 'question', 'Share the situational risk assessment', 'CSP Manager',
                (select id from users where email = 'owner@ashbridge.example')
         from assessments a join sections s on s.framework_id = a.framework_id and s.number = 1
         join items i on i.section_id = s.id and i.code = '1.1' where a.id = $1 returning id",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("an action");
    let request: Uuid = sqlx::query_scalar(
        "insert into comments (assessment_id, section_id, kind, body, author_id)
         select a.id, s.id, 'evidence_request', 'Please share the latest CTLP briefing.',
                (select id from users where email = 'adviser.north-vale@homeoffice.example')
         from assessments a join sections s on s.framework_id = a.framework_id and s.number = 1
         where a.id = $1 returning id",
    )
    .bind(id)
    .fetch_one(pool)
    .await
    .expect("a request");
    (id, action, request)
}

#[sqlx::test]
async fn no_button_on_the_benchmark_page_loses_the_evidence_typed_without_javascript(pool: PgPool) {
    let browser = Browser::start_with(support::demo_state(pool.clone()).await, false).await;
    let (id, action, request) = arranged(&pool).await;
    let page = format!("/assessments/{id}/benchmarks/1");
    let c = &browser.client;
    sign_in(c, &browser.base, "lead@ashbridge.example").await;
    let file = std::env::temp_dir().join(format!("board-minutes-{id}.txt"));
    std::fs::write(
        &file,
        "Minutes of the Prevent board, March: the CTLP was presented.\n",
    )
    .expect("a file");

    // Each button, pressed after typing evidence: what it does, and the evidence kept.
    let steps: Vec<(&str, String)> = vec![
        ("Add action", "button[value=add-action]".to_owned()),
        ("Upload", "button[value=upload]".to_owned()),
        ("Add note", format!("button[value='note-{action}']")),
        ("Update status", format!("button[value='status-{action}']")),
        ("Send reply", format!("button[value='reply-{request}']")),
        ("Delete", "button[value^=delete-attachment-]".to_owned()),
        (
            "Change or delete",
            format!("button[value='edit-action-{action}']"),
        ),
    ];
    for (name, button) in &steps {
        browser.goto(&page).await;
        let typed = format!("Evidence typed before pressing {name}.");
        fill(c, "#q1-2-evidence", &typed).await;
        match *name {
            "Add action" => {
                fill(
                    c,
                    "#new-action-description",
                    "Brief the new portfolio holder",
                )
                .await
            }
            "Upload" => {
                c.find(Locator::Css("#attachment-file"))
                    .await
                    .expect("the file input")
                    .send_keys(&file.display().to_string())
                    .await
                    .expect("chosen");
            }
            "Add note" => {
                click(c, "#q1-1 .govuk-details__summary").await;
                fill(c, &format!("#action-{action}-note"), "DRAFTED").await;
            }
            "Update status" => {
                click(c, "#q1-1 .govuk-details__summary").await;
                choose(c, &format!("#action-{action}-status"), "in_progress").await;
            }
            "Send reply" => {
                fill(
                    c,
                    &format!("#reply-{request}"),
                    "The March briefing is attached.",
                )
                .await
            }
            "Change or delete" => click(c, "#q1-1 .govuk-details__summary").await,
            _ => {}
        }
        submit(c, button).await;
        if *name == "Change or delete" {
            // The action's own page works without JavaScript too, and leads back here.
            assert!(text(c, "h1").await.contains("Change an action"), "{name}");
            fill(c, "#action-owner", "Community Safety Partnership manager").await;
            submit(c, "main form button[type=submit]").await;
            assert!(
                text(c, ".govuk-notification-banner")
                    .await
                    .contains("The action has been changed"),
                "{name}"
            );
        } else {
            assert!(
                text(c, ".govuk-notification-banner")
                    .await
                    .contains("have been saved"),
                "{name}"
            );
        }
        assert_eq!(
            value(c, "#q1-2-evidence").await,
            typed,
            "{name}: the evidence is saved"
        );
        let stored: String = sqlx::query_scalar(
            "select an.evidence from answers an join items i on i.id = an.item_id where an.assessment_id = $1 and i.code = '1.2'",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("the answer");
        assert_eq!(stored, typed, "{name}");
    }
    // What each button was for was done too.
    let (actions, notes, status, files, replies): (i64, i64, String, i64, i64) = sqlx::query_as(
        "select (select count(*) from actions where assessment_id = $1),
                (select count(*) from action_notes where action_id = $2),
                (select status from actions where id = $2),
                (select count(*) from attachments where assessment_id = $1),
                (select count(*) from comments where assessment_id = $1 and kind = 'reply')",
    )
    .bind(id)
    .bind(action)
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(
        (actions, notes, status.as_str(), files, replies),
        (2, 1, "in_progress", 0, 1)
    );

    // A mistake anywhere brings it all back as typed, saving nothing.
    browser.goto(&page).await;
    fill(c, "#q1-2-evidence", "Evidence that must not be lost.").await;
    fill(c, "#new-action-description", "Report to the board").await;
    fill(c, "#new-action-target", "31/02/2027").await;
    submit(c, "button[value=add-action]").await;
    assert!(
        text(c, ".govuk-error-summary")
            .await
            .contains("Enter the target as a date")
    );
    assert_eq!(
        value(c, "#q1-2-evidence").await,
        "Evidence that must not be lost."
    );
    assert_eq!(
        value(c, "#new-action-description").await,
        "Report to the board"
    );
    // (axe needs JavaScript: the same page is checked with it on below.)
    browser.screenshot("benchmark-1-error-kept").await;
    browser.close().await;
}

#[sqlx::test]
async fn no_button_on_your_actions_loses_a_note_typed_for_another_action(pool: PgPool) {
    let browser = Browser::start_with(support::full_demo_state(pool.clone()).await, false).await;
    let c = &browser.client;
    sign_in(c, &browser.base, "owner@ashbridge.example").await;
    browser.goto("/me/actions").await;
    let ids: Vec<String> = {
        let mut out = Vec::new();
        for e in c
            .find_all(Locator::Css(".app-own-action"))
            .await
            .expect("actions")
        {
            out.push(
                e.attr("id")
                    .await
                    .expect("an id")
                    .unwrap_or_default()
                    .trim_start_matches("action-")
                    .to_owned(),
            );
        }
        out
    };
    assert!(ids.len() >= 2, "{ids:?}");
    let (a, b) = (&ids[0], &ids[1]);
    // A note on A, then the status button of B: both saved.
    fill(
        c,
        &format!("#action-{a}-note"),
        "Dates agreed with facilities",
    )
    .await;
    let now = value(c, &format!("#action-{b}-status")).await;
    let other = if now == "in_progress" {
        "done"
    } else {
        "in_progress"
    };
    choose(c, &format!("#action-{b}-status"), other).await;
    submit(c, &format!("button[value='status-{b}']")).await;
    let banner = texts(c, ".govuk-notification-banner__heading").await;
    assert_eq!(
        banner,
        [
            "Your progress note has been added.",
            "The status has been changed."
        ]
    );
    // A note on B, then the note button of A (with nothing typed there): told, B's note kept.
    fill(c, &format!("#action-{b}-note"), "Training booked for May").await;
    submit(c, &format!("button[value='note-{a}']")).await;
    assert!(
        text(c, ".govuk-error-summary")
            .await
            .contains("Write the progress note")
    );
    assert_eq!(
        value(c, &format!("#action-{b}-note")).await,
        "Training booked for May"
    );
    // The note button of B saves it.
    submit(c, &format!("button[value='note-{b}']")).await;
    let notes: Vec<String> = sqlx::query_scalar(
        "select n.body from action_notes n where n.action_id = any($1::uuid[]) and n.created_at > now() - interval '1 hour' order by n.created_at",
    )
    .bind(ids.iter().take(2).map(|i| i.parse::<Uuid>().expect("an id")).collect::<Vec<_>>())
    .fetch_all(&pool)
    .await
    .expect("notes");
    assert_eq!(
        notes,
        ["Dates agreed with facilities", "Training booked for May"]
    );
    browser.screenshot("my-actions-no-js").await;
    browser.close().await;
}

#[sqlx::test]
async fn the_pages_changed_for_the_plan_are_accessible_with_a_screenshot_each(pool: PgPool) {
    let browser = Browser::start(support::demo_state(pool.clone()).await).await;
    let (id, action, _) = arranged(&pool).await;
    let address = format!("/assessments/{id}");
    let c = &browser.client;

    // A contributor sees statuses, evidence and actions of their benchmark, not the proposal.
    sign_in(c, &browser.base, "contributor@ashbridge.example").await;
    browser.goto(&format!("{address}/benchmarks/7")).await;
    assert!(
        text(c, ".app-role-note")
            .await
            .contains("The Prevent lead records its RAG rating")
    );
    assert!(c.find(Locator::Css("input[name=proposed]")).await.is_err());
    assert!(c.find(Locator::Css("input[name=rag]")).await.is_err());
    assert!(c.find(Locator::Css("#q7-1-evidence")).await.is_ok());
    browser.assert_accessible().await;
    browser.screenshot("benchmark-7-contributor").await;
    submit(c, ".app-header__signout button").await;

    sign_in(c, &browser.base, "lead@ashbridge.example").await;
    for (path, name) in [
        (format!("{address}/benchmarks/1"), "benchmark-1-contents"),
        (format!("{address}/actions/{action}"), "action-page"),
        (
            format!("{address}/actions/{action}/delete"),
            "action-delete",
        ),
        (format!("{address}/check"), "check-worth-checking"),
    ] {
        browser.goto(&path).await;
        browser.assert_accessible().await;
        browser.screenshot(name).await;
    }
    // After a save, the success banner has the focus (JavaScript on), so it is read out first.
    browser.goto(&format!("{address}/benchmarks/1")).await;
    fill(
        c,
        "#q1-3-evidence",
        "Quarterly briefings to the directors' board.",
    )
    .await;
    submit(c, ".govuk-button[value=save]").await;
    text(c, ".govuk-notification-banner").await;
    let focused = c
        .execute("return document.activeElement.className", vec![])
        .await
        .expect("the focus");
    assert!(
        focused
            .as_str()
            .is_some_and(|c| c.contains("govuk-notification-banner")),
        "{focused}"
    );
    // The benchmark page opens a question's actions on request, and lists the questions first.
    browser.goto(&format!("{address}/benchmarks/1")).await;
    let contents = texts(c, ".app-contents__list li").await;
    assert!(
        contents[0].starts_with("1.1") && contents[0].contains("(1 action)"),
        "{contents:?}"
    );
    assert!(
        text(c, "#q1-1 .govuk-details__summary")
            .await
            .contains("1 action")
    );
    click(c, "#q1-1 .govuk-details__summary").await;
    browser
        .screenshot_of("#q1-1", "benchmark-1-question-opened")
        .await;
    // Leaving with unsaved typing asks first (JavaScript on). WebDriver's own navigation skips
    // the prompt, so the page's handler is asked as the browser would ask it.
    let asks = "const e = new Event('beforeunload', { cancelable: true });
                window.dispatchEvent(e); return e.defaultPrevented;";
    assert_eq!(
        c.execute(asks, vec![]).await.expect("asked"),
        json!(false),
        "nothing typed yet"
    );
    fill(c, "#q1-2-evidence", "Not saved yet").await;
    assert_eq!(
        c.execute(asks, vec![]).await.expect("asked"),
        json!(true),
        "typed, not saved"
    );

    submit_return(&browser, &pool, id).await;

    sign_in(c, &browser.base, "admin@prevent-assure.example").await;
    browser.goto("/admin/cycles").await;
    fill(c, "#label", "2026-2028").await;
    submit(c, "main form button[type=submit]").await;
    assert!(
        text(c, ".govuk-error-summary")
            .await
            .contains("two years one after the other")
    );
    assert_eq!(value(c, "#label").await, "2026-2028");
    browser.assert_accessible().await;
    browser.screenshot("admin-cycles-error").await;
    browser.close().await;
}

/// The adviser's return page, with its error.
async fn submit_return(browser: &Browser, pool: &PgPool, id: Uuid) {
    let c = &browser.client;
    sqlx::query("update assessments set state = 'submitted', submitted_at = now() where id = $1")
        .bind(id)
        .execute(pool)
        .await
        .expect("submitted");
    submit(c, ".app-header__signout button").await;
    sign_in(c, &browser.base, "adviser.north-vale@homeoffice.example").await;
    browser.goto(&format!("/assessments/{id}/review")).await;
    submit(c, "button[value=return]").await;
    submit(c, "main form button[type=submit]").await;
    assert!(text(c, ".govuk-error-summary").await.contains("Say why"));
    browser.assert_accessible().await;
    browser.screenshot("return-error").await;
    fill(c, "#reason", "Benchmark 1 needs the CTLP briefing.").await;
    submit(c, "main form button[type=submit]").await;
    assert!(
        text(c, ".govuk-notification-banner")
            .await
            .contains("returned to the council")
    );
    browser.assert_accessible().await;
    browser.screenshot("history-returned").await;
    submit(c, ".app-header__signout button").await;
}

/// The other pages changed for the plan, with JavaScript off: the check page, deleting an
/// action, the people page's one form, the adviser's review page (a recommendation added
/// keeps the summary typed) and the administrators' cycles.
#[sqlx::test]
async fn the_check_delete_people_review_and_cycles_pages_work_without_javascript(pool: PgPool) {
    let browser = Browser::start_with(support::demo_state(pool.clone()).await, false).await;
    let (id, action, _) = arranged(&pool).await;
    let address = format!("/assessments/{id}");
    let c = &browser.client;
    sign_in(c, &browser.base, "lead@ashbridge.example").await;

    // The page's own script never ran: GOV.UK Frontend marks the body when it does.
    browser.goto(&format!("{address}/check")).await;
    let supported = c
        .execute(
            "return document.body.classList.contains('govuk-frontend-supported')",
            vec![],
        )
        .await
        .expect("asked");
    assert_eq!(supported, json!(false), "JavaScript is off");
    assert!(
        text(c, "#worth-checking")
            .await
            .contains("You may also want to check")
    );
    browser.screenshot("nojs-check").await;

    browser
        .goto(&format!("{address}/actions/{action}/delete"))
        .await;
    submit(c, "main form button.govuk-button--warning").await;
    let left: i64 = sqlx::query_scalar("select count(*) from actions where id = $1")
        .bind(action)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 0, "deleted");

    browser.goto("/orgs/ashbridge/people").await;
    fill(c, "#email", "partner@ashbridge.example").await;
    fill(c, "#name", "Pat Partner").await;
    click(c, "#role-board").await;
    submit(c, "button[value=invite]").await;
    assert!(
        text(c, ".govuk-notification-banner__heading")
            .await
            .contains("partner@ashbridge.example has been given the role")
    );
    browser.screenshot("nojs-people").await;
    submit(c, ".app-header__signout button").await;

    // The adviser: a recommendation added keeps the summary typed beside it.
    sqlx::query("update assessments set state = 'submitted', submitted_at = now() where id = $1")
        .bind(id)
        .execute(&pool)
        .await
        .expect("submitted");
    sign_in(c, &browser.base, "adviser.north-vale@homeoffice.example").await;
    browser.goto(&format!("{address}/review")).await;
    submit(c, "button[value=start]").await;
    fill(
        c,
        "#summary-1",
        "The CTLP is shared with partners and drives the plan.",
    )
    .await;
    fill(
        c,
        "#recommendation",
        "Refresh the Prevent risk assessment with partners.",
    )
    .await;
    submit(c, "button[value=add-recommendation]").await;
    assert_eq!(
        value(c, "#summary-1").await,
        "The CTLP is shared with partners and drives the plan."
    );
    let stored: Vec<String> = sqlx::query_scalar(
        "select description from actions where assessment_id = $1 and source = 'recommendation'",
    )
    .bind(id)
    .fetch_all(&pool)
    .await
    .expect("recommendations");
    assert_eq!(
        stored,
        ["Refresh the Prevent risk assessment with partners."]
    );
    browser.screenshot("nojs-review").await;
    submit(c, ".app-header__signout button").await;

    sign_in(c, &browser.base, "admin@prevent-assure.example").await;
    browser.goto("/admin/cycles").await;
    fill(c, "#label", "2031/32").await;
    for (prefix, day, month, year) in [
        ("opens", "1", "4", "2031"),
        ("deadline", "30", "6", "2031"),
        ("statement", "31", "7", "2031"),
    ] {
        if c.find(Locator::Css(&format!("#{prefix}-day")))
            .await
            .is_ok()
        {
            fill(c, &format!("#{prefix}-day"), day).await;
            fill(c, &format!("#{prefix}-month"), month).await;
            fill(c, &format!("#{prefix}-year"), year).await;
        }
    }
    submit(c, "main form button[type=submit]").await;
    let cycles: i64 = sqlx::query_scalar("select count(*) from cycles where label = '2031/32'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(cycles, 1, "the cycle is added without JavaScript");
    browser.screenshot("nojs-cycles").await;
    browser.close().await;
}
