//! The adviser's side so far: the region's queue, starting a review, returning an assessment to
//! the council with a reason, and the history of its states.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from, texts};

const ADVISER: &str = "adviser.north-vale@homeoffice.example";

async fn signed_in(router: &axum::Router, email: &str) -> Client {
    let mut client = Client::new(router.clone());
    assert_eq!(
        client.sign_in(email, DEMO_PASSWORD).await.status,
        303,
        "{email}"
    );
    client
}

/// Ashbridge's assessment for the current cycle, submitted by its lead (arranged directly).
async fn submitted(router: &axum::Router, pool: &PgPool) -> String {
    let mut lead = signed_in(router, "lead@ashbridge.example").await;
    let reply = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&reply).to_owned();
    sqlx::query("update assessments set state = 'submitted', submitted_at = now(), submitted_by = (select id from users where email = 'lead@ashbridge.example') where id = $1::uuid")
        .bind(address.trim_start_matches("/assessments/"))
        .execute(pool)
        .await
        .expect("submitted");
    address
}

#[sqlx::test]
async fn the_region_queue_shows_what_waits_for_the_adviser_first(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 1]);
    let address = submitted(&router, &pool).await;
    let mut adviser = signed_in(&router, ADVISER).await;

    let page = adviser.get("/regions/north-vale").await;

    assert_eq!(page.status, 200);
    let rows = texts(&page.html(), "tbody tr");
    assert_eq!(rows.len(), 4);
    assert!(
        rows[0].starts_with("Ashbridge Borough Council Submitted"),
        "{rows:?}"
    );
    assert!(
        rows[1..].iter().all(|r| r.contains("Not started")),
        "{rows:?}"
    );
    assert!(page.body.contains(&format!("{address}/review")));

    for email in [
        "adviser.south-weald@homeoffice.example",
        "lead@ashbridge.example",
    ] {
        let mut other = signed_in(&router, email).await;
        assert_eq!(
            other.get("/regions/north-vale").await.status,
            403,
            "{email}"
        );
    }
}

#[sqlx::test]
async fn an_adviser_returns_an_assessment_with_a_reason_and_the_history_says_who_when_and_why(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 2]);
    let address = submitted(&router, &pool).await;
    let mut adviser = signed_in(&router, ADVISER).await;

    assert_eq!(adviser.get(&format!("{address}/review")).await.status, 200);
    let task_list = adviser.get(&address).await.html();
    assert_eq!(
        texts(&task_list, &format!("a[href='{address}/review']")),
        ["Review this self-assessment"]
    );
    assert_eq!(
        adviser
            .post(&format!("{address}/review"), &[("intent", "start")])
            .await
            .status,
        303
    );
    let refused = adviser
        .post(&format!("{address}/return"), &[("reason", "  ")])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        texts(&refused.html(), ".govuk-error-summary__list a"),
        ["Say why the assessment is being returned, so the council knows what to change"]
    );
    let returned = adviser
        .post(
            &format!("{address}/return"),
            &[(
                "reason",
                "Benchmark 5 needs the panel's terms of reference.",
            )],
        )
        .await;
    assert_eq!(
        location(&returned),
        format!("{address}/history?done=returned")
    );

    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let history = lead.get(&format!("{address}/history")).await.html();
    let rows = texts(&history, "tbody tr");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows[0].contains("Started") && rows[0].contains("lead@ashbridge.example"));
    assert!(rows[1].contains("Review started") && rows[1].contains(ADVISER));
    assert!(
        rows[2].contains("Returned to the council")
            && rows[2].contains("Benchmark 5 needs the panel's terms of reference.")
    );
    // The council can change it again.
    let page = lead.get(&format!("{address}/benchmarks/5")).await.html();
    assert!(
        scraper::Selector::parse("input[name=version]")
            .is_ok_and(|s| page.select(&s).next().is_some())
    );
}

#[sqlx::test]
async fn only_the_regions_adviser_reaches_the_review_controls(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 3]);
    let address = submitted(&router, &pool).await;

    for (email, status) in [
        ("lead@ashbridge.example", 403),
        ("board@ashbridge.example", 403),
        ("adviser.south-weald@homeoffice.example", 404),
        ("lead@brackenfield.example", 404),
    ] {
        let mut who = signed_in(&router, email).await;
        assert_eq!(
            who.get(&format!("{address}/review")).await.status,
            status,
            "{email}"
        );
        assert_eq!(
            who.post(&format!("{address}/review"), &[("intent", "start")])
                .await
                .status,
            status,
            "{email}"
        );
        assert_eq!(
            who.post(&format!("{address}/return"), &[("reason", "x")])
                .await
                .status,
            status,
            "{email}"
        );
    }
    let state: String = sqlx::query_scalar("select state from assessments")
        .fetch_one(&pool)
        .await
        .expect("state");
    assert_eq!(state, "submitted");
}

/// The review form with an agreed score for every benchmark (benchmark 5 not scored).
fn scores(agreed_five: &str) -> Vec<(String, String)> {
    let mut form = Vec::new();
    for n in 1..=10 {
        let agreed = if n == 5 {
            agreed_five.to_owned()
        } else {
            ["3", "4"][n % 2].to_owned()
        };
        form.push((
            format!("summary-{n}"),
            format!("Benchmark {n}: the evidence shows a settled process."),
        ));
        form.push((format!("adviser-{n}"), agreed.clone()));
        form.push((format!("agreed-{n}"), agreed));
    }
    form
}

async fn post_pairs(client: &mut Client, uri: &str, form: &[(String, String)]) -> support::Reply {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client.post(uri, &pairs).await
}

#[sqlx::test]
async fn an_adviser_agrees_scores_with_at_most_three_recommendations_beside_the_councils_proposals(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 4]);
    let address = submitted(&router, &pool).await;
    sqlx::query("update section_results set proposed_score = 2 where assessment_id = $1::uuid")
        .bind(address.trim_start_matches("/assessments/"))
        .execute(&pool)
        .await
        .expect("proposals");
    let mut adviser = signed_in(&router, ADVISER).await;
    adviser
        .post(&format!("{address}/review"), &[("intent", "start")])
        .await;

    // Agreement is refused while a benchmark is undecided.
    let mut partial = scores("not_scored");
    partial.retain(|(k, _)| k != "agreed-7");
    assert_eq!(
        post_pairs(&mut adviser, &format!("{address}/review"), &partial)
            .await
            .status,
        303
    );
    let refused = adviser
        .post(&format!("{address}/review"), &[("intent", "agree")])
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        texts(&refused.html(), ".govuk-error-summary__list a"),
        [
            "Record an agreed score (or not scored) for every benchmark before agreeing: benchmark 7 has none"
        ]
    );
    // Not scored only where the framework allows it.
    let mut wrong = scores("not_scored");
    wrong.retain(|(k, _)| k != "agreed-2");
    wrong.push(("agreed-2".into(), "not_scored".into()));
    assert_eq!(
        post_pairs(&mut adviser, &format!("{address}/review"), &wrong)
            .await
            .status,
        422
    );
    assert_eq!(
        post_pairs(
            &mut adviser,
            &format!("{address}/review"),
            &scores("not_scored")
        )
        .await
        .status,
        303
    );

    for text in [
        "Refresh the CTLP briefing for elected members",
        "Set up a Channel deputy chair",
        "Publish a Prevent communications plan",
    ] {
        assert_eq!(
            adviser
                .post(
                    &format!("{address}/review"),
                    &[("recommendation", text), ("intent", "add-recommendation")]
                )
                .await
                .status,
            303
        );
    }
    let fourth = adviser
        .post(
            &format!("{address}/review"),
            &[
                ("recommendation", "A fourth"),
                ("intent", "add-recommendation"),
            ],
        )
        .await;
    assert_eq!(fourth.status, 422);
    assert_eq!(
        texts(&fourth.html(), ".govuk-error-summary__list a"),
        [
            "A letter has at most three recommended actions, so nothing was saved. Remove one before adding another"
        ]
    );
    let agreed = adviser
        .post(&format!("{address}/review"), &[("intent", "agree")])
        .await;
    assert_eq!(location(&agreed), format!("{address}/review?done=agreed"));
    let banner = texts(
        &adviser.get(location(&agreed)).await.html(),
        ".govuk-notification-banner",
    );
    assert!(
        banner[0].contains("Scores agreed. Preview the letter, then publish it"),
        "{banner:?}"
    );

    let (proposed, agreed, not_scored): (Vec<Option<i16>>, Vec<Option<i16>>, Vec<bool>) = {
        let rows: Vec<(Option<i16>, Option<i16>, bool)> = sqlx::query_as(
            "select r.proposed_score, r.agreed_score, r.agreed_not_scored from section_results r
             join sections s on s.id = r.section_id where r.assessment_id = $1::uuid order by s.number",
        )
        .bind(address.trim_start_matches("/assessments/"))
        .fetch_all(&pool)
        .await
        .expect("results");
        (
            rows.iter().map(|r| r.0).collect(),
            rows.iter().map(|r| r.1).collect(),
            rows.iter().map(|r| r.2).collect(),
        )
    };
    assert!(
        proposed.iter().all(|p| *p == Some(2)),
        "the council's proposals are untouched"
    );
    assert_eq!(agreed[0], Some(4));
    assert_eq!((agreed[4], not_scored[4]), (None, true));
    let plan: i64 = sqlx::query_scalar(
        "select count(*) from actions where source = 'recommendation' and owner_text = ''",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(
        plan, 3,
        "the recommendations are in the council's plan, owner to be assigned"
    );
    let state: String = sqlx::query_scalar("select state from assessments")
        .fetch_one(&pool)
        .await
        .expect("state");
    assert_eq!(state, "agreed");

    // The letter: the adviser sees it once agreed; the council once published.
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    assert_eq!(lead.get(&format!("{address}/letter")).await.status, 404);
    let letter = adviser.get(&format!("{address}/letter")).await;
    assert_eq!(letter.status, 200);
    let html = letter.html();
    let annex = texts(&html, ".app-letter__annex tbody tr");
    assert_eq!(annex.len(), 10);
    assert!(
        annex[0]
            .starts_with("1 Risk Assessment The organisation has a local risk assessment process")
            && annex[0].ends_with(" 4 Benchmark 1: the evidence shows a settled process."),
        "{}",
        annex[0]
    );
    assert!(
        annex[4].starts_with("5 Channel Panel") && annex[4].contains(" N/A "),
        "{}",
        annex[4]
    );
    // Until it is published the letter says it is a draft.
    assert!(texts(&html, "h1")[0].starts_with("Draft: Annual Prevent Duty Assurance"));
    assert_eq!(
        texts(&html, ".app-letter__summary")[0],
        "In terms of your performance, overall, Ashbridge Borough Council is meeting the requirements of the Prevent Duty in most areas and exceeding them in some."
    );
    assert_eq!(texts(&html, ".app-letter__recommendations li").len(), 3);
    let docx = adviser.get(&format!("{address}/letter.docx")).await;
    assert_eq!(docx.status, 200);
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(docx.bytes.clone())).expect("the .docx is a zip");
    let mut document = String::new();
    std::io::Read::read_to_string(
        &mut archive.by_name("word/document.xml").expect("the document"),
        &mut document,
    )
    .expect("read");
    let rows = document.matches("<w:tr>").count();
    assert_eq!(rows, 11, "a header row and ten benchmarks");
    for row in [
        "Risk Assessment",
        "Channel Panel",
        "Communications",
        "N/A",
        "Set up a Channel deputy chair",
        "most areas and exceeding them in some",
    ] {
        assert!(document.contains(row), "{row} is in the Word document");
    }

    assert_eq!(
        adviser
            .post(&format!("{address}/review"), &[("intent", "publish")])
            .await
            .status,
        303
    );
    assert_eq!(lead.get(&format!("{address}/letter")).await.status, 200);
    let mut elsewhere = signed_in(&router, "adviser.south-weald@homeoffice.example").await;
    assert_eq!(
        elsewhere.get(&format!("{address}/letter")).await.status,
        404
    );
    assert_eq!(
        elsewhere
            .get(&format!("{address}/letter.docx"))
            .await
            .status,
        404
    );
    assert_eq!(elsewhere.get(&address).await.status, 404);
    let state: String = sqlx::query_scalar("select state from assessments")
        .fetch_one(&pool)
        .await
        .expect("state");
    assert_eq!(state, "published");
}

#[sqlx::test]
async fn an_evidence_request_is_answered_by_the_council_from_its_benchmark_page(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 4, 0, 5]);
    let address = submitted(&router, &pool).await;
    let mut adviser = signed_in(&router, ADVISER).await;
    adviser
        .post(&format!("{address}/review"), &[("intent", "start")])
        .await;

    let empty = adviser
        .post(
            &format!("{address}/review"),
            &[("request-5", " "), ("intent", "request-5")],
        )
        .await;
    assert_eq!(empty.status, 422);
    let asked = adviser
        .post(
            &format!("{address}/review"),
            &[
                ("request-5", "Please share the panel's terms of reference."),
                ("intent", "request-5"),
            ],
        )
        .await;
    assert_eq!(asked.status, 303);

    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let tasks = texts(&lead.get(&address).await.html(), ".govuk-task-list__hint");
    assert!(
        tasks[4].ends_with("1 open evidence request"),
        "{}",
        tasks[4]
    );
    let page = lead.get(&format!("{address}/benchmarks/5")).await.html();
    assert!(
        texts(&page, ".app-request")[0].contains("Please share the panel's terms of reference.")
    );
    let request: uuid::Uuid =
        sqlx::query_scalar("select id from comments where kind = 'evidence_request'")
            .fetch_one(&pool)
            .await
            .expect("the request");

    // The contributor given benchmark 5 answers; a board member and another council cannot.
    let mut contributor = signed_in(&router, "contributor@ashbridge.example").await;
    let page = format!("{address}/benchmarks/5");
    let field = format!("reply-{request}");
    let intent = format!("reply-{request}");
    let reply = |text: &'static str| {
        [
            (field.clone(), text.to_owned()),
            ("intent".to_owned(), intent.clone()),
        ]
    };
    let kept = post_pairs(&mut contributor, &page, &reply("")).await;
    assert_eq!(kept.status, 422);
    assert_eq!(
        post_pairs(
            &mut contributor,
            &page,
            &reply("Attached: terms of reference agreed in May.")
        )
        .await
        .status,
        303
    );
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    assert_eq!(post_pairs(&mut board, &page, &reply("x")).await.status, 403);
    let mut other = signed_in(&router, "lead@brackenfield.example").await;
    assert_eq!(post_pairs(&mut other, &page, &reply("x")).await.status, 404);

    let review = adviser.get(&format!("{address}/review")).await.html();
    assert!(
        texts(&review, "#benchmark-5 .app-request")[0]
            .contains("Attached: terms of reference agreed in May.")
    );
    assert_eq!(
        adviser
            .post(
                &format!("{address}/review"),
                &[("intent", &format!("resolve-{request}"))]
            )
            .await
            .status,
        303
    );
    let tasks = texts(&lead.get(&address).await.html(), ".govuk-task-list__hint");
    assert!(!tasks[4].contains("evidence request"), "{}", tasks[4]);
    assert_eq!(
        post_pairs(&mut lead, &page, &reply("More")).await.status,
        422
    );
    // A lead cannot resolve the adviser's request.
    assert_eq!(
        lead.post(
            &format!("{address}/review"),
            &[("intent", &format!("resolve-{request}"))]
        )
        .await
        .status,
        403
    );
}
