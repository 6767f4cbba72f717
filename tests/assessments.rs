//! The self-assessment through the router: starting, filling a benchmark, conflicts, carrying
//! forward, who may change what, checking and submitting.

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

/// Starts Ashbridge's assessment for the current cycle as its lead; returns its address.
async fn started(lead: &mut Client, from: &str) -> String {
    let reply = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", from)],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    location(&reply).to_owned()
}

fn value(html: &scraper::Html, selector: &str) -> Option<String> {
    let s = scraper::Selector::parse(selector).expect("selector");
    html.select(&s).next().map(|e| match e.value().name() {
        "textarea" => e.text().collect(),
        _ => e.value().attr("value").unwrap_or_default().to_owned(),
    })
}

fn checked(html: &scraper::Html, selector: &str) -> bool {
    let s = scraper::Selector::parse(selector).expect("selector");
    html.select(&s)
        .next()
        .is_some_and(|e| e.value().attr("checked").is_some())
}

/// A full answer to benchmark 1 as a form.
fn benchmark_1(version: &str) -> Vec<(&'static str, String)> {
    vec![
        ("version", version.to_owned()),
        ("status-1.1", "achieving".into()),
        ("status-1.2", "developing".into()),
        ("status-1.3", "achieving".into()),
        (
            "prompt-1.1-0",
            "Risks are identified through the CTLP and the partnership risk register.".into(),
        ),
        (
            "prompt-1.1-3",
            "Each CTLP recommendation has a line in the action plan.".into(),
        ),
        (
            "evidence-1.2",
            "CTLP authors hold a partner workshop each autumn.".into(),
        ),
        ("criteria", "b1.l2.partner-assessments".into()),
        ("criteria", "b1.l2.ctlp-understanding".into()),
        ("criteria", "b1.l3.informed-activity".into()),
        ("criteria", "b1.l3.ctlp-and-local".into()),
        ("rag", "amber".into()),
        ("proposed", "3".into()),
        ("justification", "".into()),
        ("comments", "Reviewed at the March board.".into()),
    ]
}

async fn post(client: &mut Client, uri: &str, form: &[(&str, String)]) -> support::Reply {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    client.post(uri, &pairs).await
}

#[sqlx::test]
async fn a_lead_starts_an_assessment_and_sees_every_benchmark_on_the_task_list(pool: PgPool) {
    let router = router_from(support::demo_state(pool).await, [10, 2, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;

    let address = started(&mut lead, "blank").await;
    let page = lead.get(&address).await;

    assert_eq!(page.status, 200);
    let html = page.html();
    let tasks = texts(&html, ".govuk-task-list__link");
    assert_eq!(tasks.len(), 10);
    assert_eq!(tasks[0], "Benchmark 1: Risk Assessment");
    assert!(
        texts(&html, ".govuk-task-list__status")
            .iter()
            .all(|s| s == "Not yet started")
    );
    assert_eq!(
        texts(&html, ".govuk-task-list__hint")[6],
        "0 of 9 questions answered, no score proposed"
    );
}

#[sqlx::test]
async fn a_saved_benchmark_comes_back_exactly_and_its_suggestion_is_the_scoring_modules(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool).await, [10, 2, 0, 2]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let page = format!("{address}/benchmarks/1");
    let version = value(&lead.get(&page).await.html(), "input[name=version]").expect("a version");

    let reply = post(&mut lead, &page, &benchmark_1(&version)).await;
    assert_eq!(
        location(&reply),
        format!("{page}?done=saved"),
        "{}",
        reply.body
    );

    let html = lead.get(&page).await.html();
    assert!(checked(&html, "#q1-1-status-achieving"));
    assert!(checked(&html, "#q1-2-status-developing"));
    assert_eq!(
        value(&html, "#q1-1-prompt-0").as_deref(),
        Some("Risks are identified through the CTLP and the partnership risk register.")
    );
    assert_eq!(
        value(&html, "#q1-1-prompt-3").as_deref(),
        Some("Each CTLP recommendation has a line in the action plan.")
    );
    assert_eq!(
        value(&html, "#q1-2-evidence").as_deref(),
        Some("CTLP authors hold a partner workshop each autumn.")
    );
    assert!(checked(&html, "#criterion-b1-l3-ctlp-and-local"));
    assert!(
        !checked(&html, "#criterion-b1-l4-corresponds-to-threat")
            && !checked(&html, "#criterion-b1-l5-integrates-risks")
    );
    assert!(checked(&html, "#rag-amber") && checked(&html, "#proposed-3"));
    assert_eq!(
        value(&html, "#comments").as_deref(),
        Some("Reviewed at the March board.")
    );

    // The same input to the scoring command gives the same suggestion and explanation.
    let input = serde_json::json!({"framework": "prevent-la-2018", "benchmarks": [{"number": 1,
        "criteria_met": ["b1.l2.partner-assessments", "b1.l2.ctlp-understanding", "b1.l3.informed-activity", "b1.l3.ctlp-and-local"],
        "statuses": {"1.1": "achieving", "1.2": "developing", "1.3": "achieving"}}]});
    let answer = prevent_assure::scoring::request::answer(
        &prevent_assure::framework::Catalogue::new(
            prevent_assure::framework::load_dir(&support::frameworks_dir()).expect("frameworks"),
        ),
        &prevent_assure::scoring::request::parse(&input.to_string()).expect("input"),
        &prevent_assure::scoring::RagMapping::default(),
    )
    .expect("an answer");
    let shown = texts(&html, ".app-suggestion__score")[0].clone();
    assert_eq!(
        shown,
        format!(
            "{} (meeting the duty)",
            answer.benchmarks[0].suggested.expect("a score")
        )
    );
    assert_eq!(
        texts(&html, ".app-suggestion__explanation")[0],
        answer.benchmarks[0].explanation
    );
}

#[sqlx::test]
async fn a_proposal_that_differs_from_the_suggestion_needs_a_justification_and_keeps_the_typing(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool).await, [10, 2, 0, 3]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let page = format!("{address}/benchmarks/1");
    let version = value(&lead.get(&page).await.html(), "input[name=version]").expect("a version");
    let mut form = benchmark_1(&version);
    form.retain(|(k, _)| *k != "proposed");
    form.push(("proposed", "5".into()));

    let reply = post(&mut lead, &page, &form).await;

    assert_eq!(reply.status, 422);
    let html = reply.html();
    assert_eq!(
        texts(&html, ".govuk-error-summary__list a"),
        ["Explain why the proposed score differs from the suggested score"]
    );
    assert_eq!(
        value(&html, "#q1-2-evidence").as_deref(),
        Some("CTLP authors hold a partner workshop each autumn.")
    );
    assert!(checked(&html, "#proposed-5"));
}

#[sqlx::test]
async fn the_second_of_two_people_saving_is_told_and_nothing_either_typed_is_lost(pool: PgPool) {
    let router = router_from(support::demo_state(pool).await, [10, 2, 0, 4]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let page = format!("{address}/benchmarks/1");
    let mut colleague = signed_in(&router, LEAD).await;
    let version = value(&lead.get(&page).await.html(), "input[name=version]").expect("a version");
    assert_eq!(
        value(&colleague.get(&page).await.html(), "input[name=version]"),
        Some(version.clone())
    );

    // The first saves their evidence for 1.2.
    let first = benchmark_1(&version);
    assert_eq!(post(&mut lead, &page, &first).await.status, 303);

    // The second, from the same old version, wrote something else.
    let mut second = benchmark_1(&version);
    second.retain(|(k, _)| *k != "evidence-1.2");
    second.push((
        "evidence-1.2",
        "Our officers sit on the CTLP working group.".into(),
    ));
    let conflict = post(&mut colleague, &page, &second).await;

    assert_eq!(conflict.status, 409);
    let html = conflict.html();
    assert!(texts(&html, ".govuk-error-summary__list a")[0].contains("saved this benchmark"));
    // Their typing is in the form; the first person's saved version is beside it.
    assert_eq!(
        value(&html, "#q1-2-evidence").as_deref(),
        Some("Our officers sit on the CTLP working group.")
    );
    assert!(
        texts(&html, ".app-theirs")
            .iter()
            .any(|t| t.contains("CTLP authors hold a partner workshop each autumn."))
    );

    // Resolving: keep both, and save at the new version.
    let new_version = value(&html, "input[name=version]").expect("the new version");
    assert_ne!(new_version, version);
    let mut resolved = second.clone();
    resolved.retain(|(k, _)| *k != "evidence-1.2" && *k != "version");
    resolved.push(("version", new_version));
    resolved.push(("evidence-1.2", "CTLP authors hold a partner workshop each autumn. Our officers sit on the CTLP working group.".into()));
    assert_eq!(post(&mut colleague, &page, &resolved).await.status, 303);
    let saved = lead.get(&page).await.html();
    assert_eq!(
        value(&saved, "#q1-2-evidence").as_deref(),
        Some(
            "CTLP authors hold a partner workshop each autumn. Our officers sit on the CTLP working group."
        )
    );
}

#[sqlx::test]
async fn starting_from_last_cycle_carries_evidence_and_open_actions_marked_for_review(
    pool: PgPool,
) {
    let state = support::demo_state(pool.clone()).await;
    let router = router_from(state, [10, 2, 0, 5]);
    // Last cycle's assessment, with evidence and two actions (one open, one done).
    let (org, lead_id, last_cycle): (uuid::Uuid, uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select o.id, u.id, c.id from organisations o, users u,
                (select id from cycles order by starts_on desc offset 1 limit 1) c
         where o.slug = 'ashbridge' and u.email = 'lead@ashbridge.example'",
    )
    .fetch_one(&pool)
    .await
    .expect("ids");
    let mut conn = pool.acquire().await.expect("a connection");
    let last = prevent_assure::db::assessments::start(
        &mut conn,
        org,
        last_cycle,
        "prevent-la-2018",
        false,
        lead_id,
    )
    .await
    .expect("started");
    sqlx::query("update answers set evidence = 'The 2025 risk assessment was shared with all partners.', rating_id = (select r.id from ratings r join assessments a on a.framework_id = r.framework_id where a.id = $1 and r.code = 'achieving') where assessment_id = $1 and item_id = (select i.id from items i join sections s on s.id = i.section_id where s.number = 1 and i.code = '1.1' and s.framework_id = (select framework_id from assessments where id = $1))")
        .bind(last)
        .execute(&pool)
        .await
        .expect("evidence");
    sqlx::query("insert into actions (organisation_id, assessment_id, section_id, source, description, owner_text, target_text, due_on, status)
                 select $1, $2, s.id, 'benchmark', d, 'CSP Manager', 'Q4 2025/26', '2026-03-31', st
                 from sections s, (values ('Refresh the risk assessment', 'open'), ('Brief the chief executive', 'done')) v(d, st)
                 where s.number = 1 and s.framework_id = (select framework_id from assessments where id = $2)")
        .bind(org)
        .bind(last)
        .execute(&pool)
        .await
        .expect("actions");

    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "previous").await;

    let html = lead.get(&format!("{address}/benchmarks/1")).await.html();
    assert_eq!(
        value(&html, "#q1-1-evidence").as_deref(),
        Some("The 2025 risk assessment was shared with all partners.")
    );
    assert!(
        !checked(&html, "#q1-1-status-achieving"),
        "statuses are to be confirmed again"
    );
    assert_eq!(
        texts(&html, ".govuk-tag--yellow").len(),
        3,
        "every question of benchmark 1 needs review"
    );
    let task_list = lead.get(&address).await.html();
    assert!(
        texts(&task_list, ".govuk-task-list__status")
            .iter()
            .all(|s| s == "Needs review")
    );
    let carried: Vec<(String, String)> = sqlx::query_as(
        "select description, status from actions where assessment_id = $1::uuid and carried_from is not null",
    )
    .bind(address.trim_start_matches("/assessments/"))
    .fetch_all(&pool)
    .await
    .expect("carried actions");
    assert_eq!(
        carried,
        [("Refresh the risk assessment".to_owned(), "open".to_owned())]
    );
    // Carried statuses must be confirmed before submitting: the check page says which.
    let check = lead.get(&format!("{address}/check")).await.html();
    let gaps = texts(&check, ".govuk-error-summary__list a");
    assert_eq!(
        gaps.iter()
            .filter(|g| g.ends_with("was carried forward from last cycle: confirm its status"))
            .count(),
        38,
        "{gaps:?}"
    );
    // Its target was last cycle's: overdue now, but not mistyped, so not "already past when added".
    assert!(
        texts(&html, "main")
            .iter()
            .any(|t| t.contains("Refresh the risk assessment"))
    );
    assert!(
        texts(&html, "main")
            .iter()
            .all(|t| !t.contains("Already past when added")),
        "a carried action's target was not past when it was set"
    );
}

#[sqlx::test]
async fn a_contributor_edits_only_their_benchmarks_and_a_board_member_nothing(pool: PgPool) {
    let router = router_from(support::demo_state(pool).await, [10, 2, 0, 6]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let mut contributor = signed_in(&router, "contributor@ashbridge.example").await; // benchmarks 5 and 7
    let mut board = signed_in(&router, "board@ashbridge.example").await;

    let seven = contributor
        .get(&format!("{address}/benchmarks/7"))
        .await
        .html();
    assert!(
        value(&seven, "input[name=version]").is_some(),
        "benchmark 7 is editable"
    );
    let two = contributor.get(&format!("{address}/benchmarks/2")).await;
    assert_eq!(two.status, 200);
    assert!(
        value(&two.html(), "input[name=version]").is_none(),
        "benchmark 2 is read only"
    );
    let refused = post(
        &mut contributor,
        &format!("{address}/benchmarks/2"),
        &[("version", "1".into()), ("status-2.1", "achieving".into())],
    )
    .await;
    assert_eq!(refused.status, 403);

    for n in [1, 5, 7] {
        let page = board.get(&format!("{address}/benchmarks/{n}")).await;
        assert_eq!(page.status, 200);
        assert!(value(&page.html(), "input[name=version]").is_none());
        let refused = post(
            &mut board,
            &format!("{address}/benchmarks/{n}"),
            &[("version", "1".into())],
        )
        .await;
        assert_eq!(refused.status, 403);
    }
    assert_eq!(
        board.post(&format!("{address}/submit"), &[]).await.status,
        403
    );
    assert_eq!(
        contributor
            .post(&format!("{address}/submit"), &[])
            .await
            .status,
        403
    );
}

#[sqlx::test]
async fn another_councils_people_get_nothing_at_any_address_of_the_assessment(pool: PgPool) {
    let router = router_from(support::demo_state(pool).await, [10, 2, 0, 7]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let version = value(
        &lead.get(&format!("{address}/benchmarks/1")).await.html(),
        "input[name=version]",
    )
    .expect("version");
    post(
        &mut lead,
        &format!("{address}/benchmarks/1"),
        &benchmark_1(&version),
    )
    .await;

    for email in [
        "lead@brackenfield.example",
        "adviser.south-weald@homeoffice.example",
    ] {
        let mut other = signed_in(&router, email).await;
        for path in [
            address.clone(),
            format!("{address}/benchmarks/1"),
            format!("{address}/check"),
        ] {
            let reply = other.get(&path).await;
            assert_eq!(reply.status, 404, "{email} GET {path}");
            assert!(
                !reply.body.contains("CTLP authors hold a partner workshop"),
                "{email} GET {path}"
            );
        }
        let refused = post(
            &mut other,
            &format!("{address}/benchmarks/1"),
            &benchmark_1("2"),
        )
        .await;
        assert_eq!(refused.status, 404, "{email}");
        assert_eq!(
            other.post(&format!("{address}/submit"), &[]).await.status,
            404,
            "{email}"
        );
        let list = other.get("/assessments").await;
        assert!(!list.body.contains(&address), "{email} sees it listed");
    }
    // The adviser of Ashbridge's region may read it.
    let mut adviser = signed_in(&router, "adviser.north-vale@homeoffice.example").await;
    assert_eq!(
        adviser.get(&format!("{address}/benchmarks/1")).await.status,
        200
    );
    assert_eq!(
        post(
            &mut adviser,
            &format!("{address}/benchmarks/1"),
            &benchmark_1("2")
        )
        .await
        .status,
        403
    );
}

#[sqlx::test]
async fn the_check_page_lists_every_gap_and_submitting_makes_it_read_only(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    let router = router_from(state, [10, 2, 0, 8]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;

    let check = lead.get(&format!("{address}/check")).await.html();
    let gaps = texts(&check, ".govuk-error-summary__list a");
    assert_eq!(
        gaps.iter().filter(|g| g.ends_with("has no status")).count(),
        38
    );
    assert_eq!(
        gaps.iter()
            .filter(|g| g.ends_with("has no proposed score"))
            .count(),
        10
    );
    assert_eq!(
        lead.post(&format!("{address}/submit"), &[]).await.status,
        422
    );

    // Fill every benchmark: every question developing, the suggested score proposed.
    let fw = prevent_assure::framework::load_file(
        &support::frameworks_dir().join("prevent-la-2018.toml"),
    )
    .expect("framework");
    for section in &fw.sections {
        let page = format!("{address}/benchmarks/{}", section.number);
        let version = value(&lead.get(&page).await.html(), "input[name=version]").expect("version");
        let mut form: Vec<(String, String)> = vec![("version".into(), version)];
        for item in &section.items {
            form.push((format!("status-{}", item.code), "developing".into()));
        }
        form.push(("proposed".into(), "2".into()));
        // Level 2 met, so the suggestion is 2 (developing everywhere caps nothing).
        for c in &section.levels[1].criteria {
            form.push(("criteria".into(), c.id.clone()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let reply = lead.post(&page, &pairs).await;
        assert_eq!(
            reply.status, 303,
            "benchmark {}: {}",
            section.number, reply.body
        );
    }
    let check = lead.get(&format!("{address}/check")).await.html();
    assert!(texts(&check, ".govuk-error-summary__list a").is_empty());
    // Expectations with no evidence are worth checking, and do not stop the submission.
    let worth = texts(&check, "#worth-checking li a");
    assert_eq!(
        worth
            .iter()
            .filter(|g| g.ends_with("is an expectation of compliance with no evidence"))
            .count(),
        22,
        "{worth:?}"
    );

    // A proposal above the suggestion with no justification (the page refuses one; a workbook
    // import or criteria changed elsewhere can leave one) must be fixed before submitting.
    let id = address.trim_start_matches("/assessments/");
    let set_proposed = |score: i16| {
        sqlx::query(
            "update section_results set proposed_score = $2, justification = '' where assessment_id = $1::uuid
             and section_id = (select s.id from sections s join assessments a on a.framework_id = s.framework_id
                               where a.id = $1::uuid and s.number = 1)",
        )
        .bind(id)
        .bind(score)
    };
    set_proposed(4).execute(&pool).await.expect("proposal");
    // Changed as another server would: this one shows it once it has heard of it.
    caches.settle(&pool).await;
    let check = lead.get(&format!("{address}/check")).await.html();
    assert_eq!(
        texts(&check, ".govuk-error-summary__list a"),
        ["Benchmark 1: the proposed score differs from the suggestion and needs a justification"]
    );
    assert_eq!(
        lead.post(&format!("{address}/submit"), &[]).await.status,
        422
    );
    set_proposed(2).execute(&pool).await.expect("proposal");
    // Changed as another server would: this one shows it once it has heard of it.
    caches.settle(&pool).await;

    let submitted = lead.post(&format!("{address}/submit"), &[]).await;
    assert_eq!(location(&submitted), format!("{address}?done=submitted"));
    let task_list = lead.get(&address).await.html();
    assert_eq!(
        texts(&task_list, ".govuk-summary-list__value .govuk-tag"),
        ["Submitted"]
    );
    let page = lead.get(&format!("{address}/benchmarks/1")).await;
    assert!(value(&page.html(), "input[name=version]").is_none());
    assert_eq!(
        post(
            &mut lead,
            &format!("{address}/benchmarks/1"),
            &benchmark_1("2")
        )
        .await
        .status,
        403
    );
    assert_eq!(
        lead.post(&format!("{address}/submit"), &[]).await.status,
        403
    );
}

#[sqlx::test]
async fn actions_keep_the_target_as_written_refuse_unreadable_ones_and_take_progress_notes(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 2, 0, 9]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let page = format!("{address}/benchmarks/1");
    let form = "form[action$='/benchmarks/1']";

    let refused = lead
        .submit_page(
            &page,
            form,
            &[
                ("new-action-question", "1.1"),
                (
                    "new-action-description",
                    "Refresh the local risk assessment",
                ),
                ("new-action-owner", "CSP Manager"),
                ("new-action-target", "31/02/2023"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(refused.status, 422);
    let html = refused.html();
    assert_eq!(
        texts(&html, ".govuk-error-summary__list a"),
        [prevent_assure::domain::target::HOW_TO_WRITE]
    );
    assert_eq!(
        value(&html, "#new-action-description").as_deref(),
        Some("Refresh the local risk assessment")
    );
    assert_eq!(
        value(&html, "#new-action-target").as_deref(),
        Some("31/02/2023")
    );

    let added = lead
        .submit_page(
            &page,
            form,
            &[
                ("new-action-question", "1.1"),
                (
                    "new-action-description",
                    "Refresh the local risk assessment",
                ),
                ("new-action-owner", "CSP Manager"),
                ("new-action-target", "Q4 2022/23"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(location(&added), format!("{page}?done=action"));
    // Blank owner and target are allowed: the council may not have them yet.
    let blank = lead
        .submit_page(
            &page,
            form,
            &[("new-action-description", "Brief the new portfolio holder")],
            "add-action",
        )
        .await;
    assert_eq!(blank.status, 303, "{}", blank.body);

    let html = lead.get(&page).await.html();
    let cards = texts(&html, ".app-action");
    assert_eq!(cards.len(), 2);
    let on_question = &texts(&html, "#q1-1 .app-action")[0];
    assert!(
        on_question.contains("CSP Manager")
            && on_question.contains("Q4 2022/23 (by 31 March 2023)")
            && on_question.contains("Already past when added")
            && on_question.contains("Question 1.1"),
        "{on_question}"
    );
    let on_benchmark = &texts(&html, "#actions .app-action")[0];
    assert!(
        on_benchmark.contains("No owner") && on_benchmark.contains("No target"),
        "{on_benchmark}"
    );
    let (id, version): (uuid::Uuid, i32) = sqlx::query_as(
        "select id, version from actions where description = 'Refresh the local risk assessment'",
    )
    .fetch_one(&pool)
    .await
    .expect("the action");
    let note = format!("action-{id}-note");
    let status = format!("action-{id}-status");
    let rag = format!("action-{id}-rag");

    let noted = lead
        .submit_page(&page, form, &[(&note, "DRAFTED")], &format!("note-{id}"))
        .await;
    assert_eq!(
        noted.status,
        303,
        "{:?}",
        texts(&noted.html(), ".govuk-error-summary__list a")
    );
    assert_eq!(location(&noted), format!("{page}?done=note"));
    assert_eq!(
        lead.submit_page(&page, form, &[(&note, "  ")], &format!("note-{id}"))
            .await
            .status,
        422
    );
    let changed = lead
        .submit_page(
            &page,
            form,
            &[(&status, "in_progress"), (&rag, "amber")],
            &format!("status-{id}"),
        )
        .await;
    assert_eq!(changed.status, 303);
    // The same old version again: someone changed it in between; the choice is kept.
    let v = version.to_string();
    let stale = lead
        .submit_page(
            &page,
            form,
            &[
                (&status, "done"),
                (&rag, "green"),
                (&format!("action-{id}-version"), &v),
            ],
            &format!("status-{id}"),
        )
        .await;
    assert_eq!(stale.status, 409);
    let html = stale.html();
    assert!(
        texts(&html, ".govuk-error-summary__list a")[0].starts_with("Someone changed this action")
    );
    assert!(
        html.select(
            &scraper::Selector::parse(&format!("#{status} option[selected][value=done]")).unwrap()
        )
        .next()
        .is_some(),
        "the choice stays in the form"
    );

    let html = lead.get(&page).await.html();
    let card = &texts(&html, "#q1-1 .app-action")[0];
    assert!(
        card.contains("In progress, RAG Amber") && card.contains("DRAFTED"),
        "{card}"
    );

    // An owner may be linked to a person of the council, and only of this council.
    let (jo, stranger): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select (select id from users where email = 'owner@ashbridge.example'), (select id from users where email = 'lead@brackenfield.example')",
    )
    .fetch_one(&pool)
    .await
    .expect("people");
    let (jo, stranger) = (jo.to_string(), stranger.to_string());
    let housing = [
        ("new-action-description", "Train the housing team"),
        ("new-action-owner", "Housing Manager"),
        ("new-action-target", "Apr 27"),
    ];
    let mut with_jo = housing.to_vec();
    with_jo.push(("new-action-owner-user", &jo));
    let linked = lead.submit_page(&page, form, &with_jo, "add-action").await;
    assert_eq!(linked.status, 303);
    let html = lead.get(&page).await.html();
    let mut forged = support::form_fields(&html, form);
    for (k, v) in housing
        .iter()
        .chain([&("new-action-owner-user", stranger.as_str())])
    {
        support::set_field(&mut forged, k, v);
    }
    support::set_field(&mut forged, "intent", "add-action");
    let pairs: Vec<(&str, &str)> = forged
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(lead.post(&page, &pairs).await.status, 422);
    let html = lead.get(&page).await.html();
    assert!(
        texts(&html, "#actions .app-action")
            .iter()
            .any(|c| c.contains("Housing Manager (linked to Jo Whitfield)"))
    );
    let choices = texts(&html, "#new-action-owner-user option");
    assert!(
        choices.contains(&"Jo Whitfield".to_owned()) && !choices.contains(&"Tom Evans".to_owned()),
        "{choices:?}"
    );

    // The check page lists the action with neither owner nor target as worth checking only.
    let check = lead.get(&format!("{address}/check")).await.html();
    let worth = texts(&check, "#worth-checking li a");
    assert!(
        worth.contains(
            &"Benchmark 1: the action “Brief the new portfolio holder” has no owner or target"
                .to_owned()
        ),
        "{worth:?}"
    );
    assert!(
        !texts(&check, ".govuk-error-summary__list a")
            .iter()
            .any(|g| g.contains("Brief the new portfolio holder"))
    );

    // A contributor without benchmark 1 can do none of it.
    let mut contributor = signed_in(&router, "contributor@ashbridge.example").await;
    assert_eq!(
        contributor
            .post(
                &page,
                &[("new-action-description", "x"), ("intent", "add-action")]
            )
            .await
            .status,
        403
    );
    assert_eq!(
        contributor
            .post(&page, &[(&note, "x"), ("intent", &format!("note-{id}"))])
            .await
            .status,
        403
    );
    // Another council's lead cannot even find it.
    let mut other = signed_in(&router, "lead@brackenfield.example").await;
    assert_eq!(
        other
            .post(&page, &[(&note, "x"), ("intent", &format!("note-{id}"))])
            .await
            .status,
        404
    );
}

/// A multipart upload as a browser sends it.
fn upload_request(
    client: &Client,
    uri: &str,
    question: &str,
    name: &str,
    content: &[u8],
) -> axum::http::Request<axum::body::Body> {
    let boundary = "----prevent-assure-test";
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"intent\"\r\n\r\nupload\r\n"
        )
        .as_bytes(),
    );
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"attachment-question\"\r\n\r\n{question}\r\n").as_bytes());
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
    body.extend(content);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let mut request = axum::http::Request::post(uri)
        .header("host", "localhost")
        .header("sec-fetch-site", "same-origin")
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        );
    if let Some(cookie) = &client.cookie {
        request = request.header("cookie", cookie.as_str());
    }
    request
        .body(axum::body::Body::from(body))
        .expect("a request")
}

#[sqlx::test]
async fn attachments_are_recognised_by_content_downloaded_safely_and_kept_to_their_council(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool).await, [10, 2, 0, 10]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let upload = format!("{address}/benchmarks/1");
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF\n".to_vec();

    // A PDF with an odd name is taken; an executable calling itself a PDF is not.
    let request = upload_request(&lead, &upload, "1.1", "Board minutes (March).pdf", &pdf);
    assert_eq!(lead.send(request).await.status, 303);
    let request = upload_request(
        &lead,
        &upload,
        "",
        "policy.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff",
    );
    let refused = lead.send(request).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        texts(&refused.html(), ".govuk-error-summary__list a"),
        [
            "The file must be a PDF, a Word, Excel, PowerPoint or OpenDocument file, an image (PNG, JPEG, GIF) or plain text"
        ]
    );
    let request = upload_request(&lead, &upload, "", "empty.txt", b"");
    assert_eq!(lead.send(request).await.status, 422);
    let too_big = vec![b'a'; 20 * 1024 * 1024 + 10];
    let request = upload_request(&lead, &upload, "", "huge.txt", &too_big);
    let refused = lead.send(request).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        texts(&refused.html(), ".govuk-error-summary__list a"),
        ["The file must be 20 MB or smaller"]
    );

    let page = lead.get(&format!("{address}/benchmarks/1")).await.html();
    let links: Vec<String> = {
        let s = scraper::Selector::parse(".app-attachment a").expect("selector");
        page.select(&s)
            .filter_map(|a| a.value().attr("href").map(str::to_owned))
            .collect()
    };
    assert_eq!(links.len(), 1);
    assert_eq!(
        texts(&page, ".app-attachment a"),
        ["Board minutes (March).pdf"]
    );

    let download = lead.get(&links[0]).await;
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
    let disposition = download
        .header("content-disposition")
        .expect("a disposition");
    assert!(
        disposition.starts_with("attachment; filename=\"Board minutes (March).pdf\""),
        "{disposition}"
    );
    assert_eq!(download.body.as_bytes(), pdf.as_slice());

    // A board member may read it but not delete it; another council gets nothing.
    let file = links[0].rsplit('/').next().expect("an id").to_owned();
    let delete = [("intent", format!("delete-attachment-{file}"))];
    let delete: Vec<(&str, &str)> = delete.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    assert_eq!(board.get(&links[0]).await.status, 200);
    assert_eq!(board.post(&upload, &delete).await.status, 403);
    let request = upload_request(&board, &upload, "", "notes.txt", b"Notes");
    assert_eq!(board.send(request).await.status, 403);
    let mut other = signed_in(&router, "lead@brackenfield.example").await;
    assert_eq!(other.get(&links[0]).await.status, 404);
    assert_eq!(other.post(&upload, &delete).await.status, 404);

    let deleted = lead.post(&upload, &delete).await;
    assert_eq!(deleted.status, 303);
    assert_eq!(location(&deleted), format!("{upload}?done=file-deleted"));
    assert_eq!(lead.get(&links[0]).await.status, 404);
}

/// Results whose kept counts (migration 0022) differ from their answers counted afresh.
async fn miscounted(pool: &PgPool) -> Vec<(String, i32, i32, i32, i64, i64, i64)> {
    sqlx::query_as(
        "select r.id::text, r.answered, r.questions, r.needs_review, q.answered, q.questions, q.needs_review
         from section_results r
         join lateral (
             select count(an.id) filter (where an.rating_id is not null) as answered,
                    count(an.id) as questions,
                    count(an.id) filter (where an.needs_review) as needs_review
             from items i left join answers an on an.item_id = i.id and an.assessment_id = r.assessment_id
             where i.section_id = r.section_id) q on true
         where (r.answered, r.questions, r.needs_review) is distinct from
               (q.answered::integer, q.questions::integer, q.needs_review::integer)",
    )
    .fetch_all(pool)
    .await
    .expect("the counts")
}

#[sqlx::test]
async fn each_benchmarks_kept_progress_follows_every_write_to_its_answers(pool: PgPool) {
    // The demonstration data (written as the sample generator writes it: answers before results).
    let state = support::full_demo_state(pool.clone()).await;
    let router = router_from(state, [10, 2, 0, 9]);
    assert_eq!(miscounted(&pool).await, []);
    let answered: i64 =
        sqlx::query_scalar("select coalesce(sum(answered), 0) from section_results")
            .fetch_one(&pool)
            .await
            .expect("a sum");
    assert!(
        answered > 0,
        "the demonstration councils answered something"
    );

    // Started from last cycle (answers carried, needing review), then a benchmark saved.
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "previous").await;
    assert_eq!(miscounted(&pool).await, []);
    let page = format!("{address}/benchmarks/1");
    let version = value(&lead.get(&page).await.html(), "input[name=version]").expect("a version");
    let reply = post(&mut lead, &page, &benchmark_1(&version)).await;
    assert_eq!(
        location(&reply),
        format!("{page}?done=saved"),
        "{}",
        reply.body
    );
    assert_eq!(miscounted(&pool).await, []);
    let task_list = lead.get(&address).await.html();
    let hint = &texts(&task_list, ".govuk-task-list__hint")[0];
    assert!(
        hint.starts_with("3 of 3 questions answered, proposed score 3"),
        "the task list reads the kept counts: {hint}"
    );

    // Written by hand, as an administrator might: changed, then removed.
    let id = address.trim_start_matches("/assessments/");
    sqlx::query(
        "update answers set rating_id = null, needs_review = true where assessment_id = $1::uuid",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("changed");
    assert_eq!(miscounted(&pool).await, []);
    sqlx::query(
        "delete from answers where assessment_id = $1::uuid
         and item_id in (select i.id from items i join sections s on s.id = i.section_id where s.number = 2)",
    )
    .bind(id)
    .execute(&pool)
    .await
    .expect("removed");
    assert_eq!(miscounted(&pool).await, []);
}

/// Each answer of Ashbridge's benchmark 1 with the transaction that last wrote it.
async fn written(pool: &PgPool, assessment: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "select i.code, an.xmin::text from answers an
         join items i on i.id = an.item_id join sections s on s.id = i.section_id
         where an.assessment_id = $1::uuid and s.number = 1 order by i.position",
    )
    .bind(assessment)
    .fetch_all(pool)
    .await
    .expect("the answers")
}

/// Saves `form` on `page` at the version the page shows now.
async fn saved(lead: &mut Client, page: &str, form: &[(&'static str, String)]) {
    let version = value(&lead.get(page).await.html(), "input[name=version]").expect("version");
    let mut form = form.to_vec();
    form[0].1 = version;
    let reply = post(lead, page, &form).await;
    assert_eq!(
        location(&reply),
        format!("{page}?done=saved"),
        "{}",
        reply.body
    );
}

#[sqlx::test]
async fn a_save_writes_only_the_answers_it_changes(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 2, 0, 9]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead, "blank").await;
    let id = address.trim_start_matches("/assessments/").to_owned();
    let page = format!("{address}/benchmarks/1");
    let form = benchmark_1("");
    saved(&mut lead, &page, &form).await;
    let first = written(&pool, &id).await;
    assert_eq!(first.len(), 3, "benchmark 1's three questions: {first:?}");

    // The benchmark's comments changed, its answers not: the result is saved (its version moves
    // on), no answer is written again.
    let mut comments = form.clone();
    for (name, value) in &mut comments {
        if *name == "comments" {
            *value = "Reviewed again at the June board.".into();
        }
    }
    saved(&mut lead, &page, &comments).await;
    assert_eq!(written(&pool, &id).await, first);

    // One question's evidence changed: that answer alone is written.
    let mut changed = comments.clone();
    changed.push((
        "evidence-1.3",
        "The risk register is reviewed each quarter.".into(),
    ));
    saved(&mut lead, &page, &changed).await;
    let after = written(&pool, &id).await;
    let moved: Vec<&str> = first
        .iter()
        .zip(&after)
        .filter(|(a, b)| a.1 != b.1)
        .map(|(a, _)| a.0.as_str())
        .collect();
    assert_eq!(moved, ["1.3"], "{first:?} then {after:?}");
    assert_eq!(miscounted(&pool).await, []);
}
