//! The action plan as a council keeps it: the adviser's recommended actions in the plan and its
//! exports, changing and deleting actions (with the audit trail, who may, and two people at
//! once), targets as councils write them, and the whole of a real council's plan submitted.

mod support;

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from, texts};
use uuid::Uuid;

const LEAD: &str = "lead@ashbridge.example";
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

/// Starts Ashbridge's assessment for the current cycle as its lead; returns its address.
async fn started(lead: &mut Client) -> String {
    let reply = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    location(&reply).to_owned()
}

fn id_of(address: &str) -> Uuid {
    address
        .trim_start_matches("/assessments/")
        .parse()
        .expect("an assessment id")
}

async fn set_state(pool: &PgPool, address: &str, state: &str) {
    sqlx::query("update assessments set state = $2, submitted_at = coalesce(submitted_at, now()) where id = $1")
        .bind(id_of(address))
        .bind(state)
        .execute(pool)
        .await
        .expect("state");
}

async fn current_cycle(pool: &PgPool, address: &str) -> String {
    sqlx::query_scalar(
        "select c.label from assessments a join cycles c on c.id = a.cycle_id where a.id = $1",
    )
    .bind(id_of(address))
    .fetch_one(pool)
    .await
    .expect("the cycle")
}

/// Adds an action on benchmark `n` from its page, as the lead types it; returns its id.
async fn add_action(
    client: &mut Client,
    pool: &PgPool,
    address: &str,
    n: u32,
    fields: &[(&str, &str)],
) -> Uuid {
    let page = format!("{address}/benchmarks/{n}");
    let reply = client
        .submit_page(
            &page,
            &format!("form[action$='/benchmarks/{n}']"),
            fields,
            "add-action",
        )
        .await;
    assert_eq!(
        reply.status,
        303,
        "{:?}",
        texts(&reply.html(), ".govuk-error-summary__list a")
    );
    sqlx::query_scalar(
        "select id from actions where assessment_id = $1 order by created_at desc limit 1",
    )
    .bind(id_of(address))
    .fetch_one(pool)
    .await
    .expect("the new action")
}

fn xlsx_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("a workbook");
    let range = book.worksheet_range(sheet).expect("the sheet");
    range
        .rows()
        .map(|r| {
            r.iter()
                .map(|c| match c {
                    Data::String(s) => s.clone(),
                    Data::Empty => String::new(),
                    other => other.to_string(),
                })
                .collect()
        })
        .collect()
}

#[sqlx::test]
async fn the_advisers_recommendations_are_in_the_plan_its_exports_and_the_owners_list(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 6, 0, 1]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead).await;
    let cycle = current_cycle(&pool, &address).await;
    set_state(&pool, &address, "in_review").await;
    let mut adviser = signed_in(&router, ADVISER).await;
    let recommendations = [
        "Refresh the CTLP briefing for elected members",
        "Name a Channel deputy chair",
        "Publish a Prevent communications plan",
    ];
    for text in recommendations {
        let added = adviser
            .post(
                &format!("{address}/review"),
                &[("recommendation", text), ("intent", "add-recommendation")],
            )
            .await;
        assert_eq!(added.status, 303);
    }
    sqlx::query(
        "update section_results set agreed_score = case when s.number = 5 then null else 3 end,
                agreed_not_scored = s.number = 5
         from sections s where s.id = section_results.section_id and section_results.assessment_id = $1",
    )
    .bind(id_of(&address))
    .execute(&pool)
    .await
    .expect("scores");
    for intent in ["agree", "publish"] {
        let reply = adviser
            .post(&format!("{address}/review"), &[("intent", intent)])
            .await;
        assert_eq!(reply.status, 303, "{intent}: {}", reply.body);
    }

    // On the plan, labelled by where they came from, under "No owner".
    let label = format!("Recommended by the Home Office, {cycle}");
    let plan = lead
        .get("/orgs/ashbridge/actions?owner=No+owner")
        .await
        .html();
    let rows = texts(&plan, "table.app-plan tbody tr");
    for text in recommendations {
        assert!(
            rows.iter().any(|r| r.contains(text) && r.contains(&label)),
            "{text}: {rows:?}"
        );
    }
    assert_eq!(
        texts(&plan, "table.app-plan caption")[0],
        "No owner 3 actions"
    );
    // In both exports, whole.
    let csv = lead.get("/orgs/ashbridge/actions.csv").await.body;
    for text in recommendations {
        let line = csv.lines().find(|l| l.contains(text)).expect("in the CSV");
        assert!(line.contains(&label), "{line}");
    }
    let xlsx = lead.get("/orgs/ashbridge/actions.xlsx").await;
    let rows = xlsx_rows(&xlsx.bytes, "Action plan");
    for text in recommendations {
        let row = rows.iter().find(|r| r[5] == text).expect("in the workbook");
        assert_eq!(
            (row[0].as_str(), row[2].as_str(), row[4].as_str()),
            ("No owner", "", label.as_str())
        );
    }
    // And in the assessment's workbook, on a sheet of their own.
    let book = lead.get(&format!("{address}/export.xlsx")).await;
    let other = xlsx_rows(&book.bytes, "Other actions");
    for text in recommendations {
        assert!(
            other
                .iter()
                .any(|r| r.get(1).map(String::as_str) == Some(text)),
            "{other:?}"
        );
    }

    // The board view counts them among the plan's open actions.
    let board = lead.get("/orgs/ashbridge").await.html();
    assert_eq!(texts(&board, "#actions-by-status tbody tr")[0], "Open 3 0");

    // The lead gives each an owner, a person and a target from the plan.
    let owner_id: Uuid =
        sqlx::query_scalar("select id from users where email = 'owner@ashbridge.example'")
            .fetch_one(&pool)
            .await
            .expect("the owner");
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select id from actions where assessment_id = $1 and source = 'recommendation' order by created_at",
    )
    .bind(id_of(&address))
    .fetch_all(&pool)
    .await
    .expect("the recommendations");
    assert_eq!(ids.len(), 3);
    let owner_id = owner_id.to_string();
    for id in &ids {
        let page = format!("{address}/actions/{id}?from=plan");
        let saved = lead
            .submit_page(
                &page,
                "main form",
                &[
                    ("action-owner", "Community Safety"),
                    ("action-owner-user", &owner_id),
                    ("action-target", "Q4 2026/27"),
                ],
                "",
            )
            .await;
        assert_eq!(
            saved.status,
            303,
            "{:?}",
            texts(&saved.html(), ".govuk-error-summary__list a")
        );
        assert_eq!(
            location(&saved),
            "/orgs/ashbridge/actions?done=action-changed"
        );
    }
    let plan = lead.get("/orgs/ashbridge/actions").await.html();
    let caption = texts(&plan, "table.app-plan caption");
    assert!(
        caption.iter().any(|c| c.starts_with("Community Safety")),
        "{caption:?}"
    );
    let rows = texts(&plan, "table.app-plan tbody tr");
    assert!(
        rows.iter()
            .filter(|r| r.contains(&label))
            .all(|r| r.contains("Linked to Jo Whitfield") && r.contains("Q4 2026/27")),
        "{rows:?}"
    );
    // Owners are exported as written, the person beside.
    let csv = lead.get("/orgs/ashbridge/actions.csv").await.body;
    let line = csv
        .lines()
        .find(|l| l.contains("Name a Channel deputy chair"))
        .expect("in the CSV");
    assert!(
        line.starts_with("\"Community Safety\",\"Jo Whitfield\""),
        "{line}"
    );

    // The owner finds them in their own list.
    let mut owner = signed_in(&router, "owner@ashbridge.example").await;
    let mine = texts(&owner.get("/me/actions").await.html(), ".app-own-action");
    for text in recommendations {
        assert!(
            mine.iter().any(|a| a.contains(text) && a.contains(&label)),
            "{text}: {mine:?}"
        );
    }
}

#[sqlx::test]
async fn the_lead_changes_and_deletes_an_action_of_a_draft_and_later_only_cancels_one(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 6, 0, 2]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead).await;
    let action = add_action(
        &mut lead,
        &pool,
        &address,
        1,
        &[
            ("new-action-question", "1.3"),
            (
                "new-action-description",
                "CSP Manager to share the situational risk assessment",
            ),
            ("new-action-owner", "CSP Manger"),
        ],
    )
    .await;

    // A typo in the owner, put right; the action moves to question 1.1 with a target.
    let page = format!("{address}/actions/{action}?from=benchmark");
    let form = lead.get(&page).await.html();
    assert_eq!(
        support::form_fields(&form, "main form")
            .iter()
            .find(|(k, _)| k == "action-place")
            .map(|(_, v)| v.as_str()),
        Some("question-1.3")
    );
    let saved = lead
        .submit_page(
            &page,
            "main form",
            &[
                ("action-owner", "CSP Manager"),
                ("action-place", "question-1.1"),
                ("action-target", "– 2022"),
            ],
            "",
        )
        .await;
    assert_eq!(saved.status, 303);
    assert_eq!(
        location(&saved),
        format!("{address}/benchmarks/1?done=action-changed")
    );
    let (owner, target, due): (String, String, Option<time::Date>) =
        sqlx::query_as("select owner_text, target_text, due_on from actions where id = $1")
            .bind(action)
            .fetch_one(&pool)
            .await
            .expect("the action");
    assert_eq!((owner.as_str(), target.as_str()), ("CSP Manager", "– 2022"));
    assert_eq!(due, Some(time::macros::date!(2022 - 12 - 31)));
    // Already past when added: said on its page.
    let html = lead.get(&page).await.html();
    assert!(
        texts(&html, "main")
            .iter()
            .any(|t| t.contains("Already past when added"))
    );
    // The trail has the change with before and after.
    let (before, after): (serde_json::Value, serde_json::Value) = sqlx::query_as(
        "select before, after from audit_events where action = 'action.updated' and entity_id = $1::text",
    )
    .bind(action)
    .fetch_one(&pool)
    .await
    .expect("the audit row");
    assert_eq!(before["owner"], "CSP Manger");
    assert_eq!(before["question"], "1.3");
    assert_eq!(after["owner"], "CSP Manager");
    assert_eq!(after["question"], "1.1");
    assert_eq!(after["target"], "– 2022");

    // Someone with the benchmark page open while it is deleted loses nothing they typed.
    let open_page = lead.get(&format!("{address}/benchmarks/1")).await.html();
    let mut stale = support::form_fields(&open_page, "form[action$='/benchmarks/1']");

    // Deleted while a draft, after saying so; the trail keeps what it said.
    let confirm = lead
        .get(&format!("{address}/actions/{action}/delete?from=plan"))
        .await;
    assert_eq!(confirm.status, 200);
    let deleted = lead
        .submit_page(
            &format!("{address}/actions/{action}/delete?from=plan"),
            "main form",
            &[],
            "",
        )
        .await;
    assert_eq!(deleted.status, 303);
    assert_eq!(
        location(&deleted),
        "/orgs/ashbridge/actions?done=action-deleted"
    );
    let left: i64 = sqlx::query_scalar("select count(*) from actions where id = $1")
        .bind(action)
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 0);
    support::set_field(
        &mut stale,
        "evidence-1.2",
        "Typed while it was being deleted.",
    );
    support::set_field(
        &mut stale,
        &format!("action-{action}-note"),
        "Shared with schools",
    );
    support::set_field(&mut stale, "intent", &format!("note-{action}"));
    let pairs: Vec<(&str, &str)> = stale
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let told = lead.post(&format!("{address}/benchmarks/1"), &pairs).await;
    assert_eq!(told.status, 422);
    let html = told.html();
    let summary = texts(&html, ".govuk-error-summary__list a");
    assert!(
        summary.iter().any(
            |m| m.contains("has been deleted since you opened this page")
                && m.contains("Your note was: “Shared with schools”")
        ),
        "{summary:?}"
    );
    assert_eq!(
        texts(&html, "#q1-2-evidence"),
        ["Typed while it was being deleted."]
    );
    let before: serde_json::Value = sqlx::query_scalar(
        "select before from audit_events where action = 'action.deleted' and entity_id = $1::text",
    )
    .bind(action)
    .fetch_one(&pool)
    .await
    .expect("the audit row");
    assert_eq!(
        before["description"],
        "CSP Manager to share the situational risk assessment"
    );

    // After submission: not while the adviser has it; once agreed, cancelled, never deleted.
    let other = add_action(
        &mut lead,
        &pool,
        &address,
        2,
        &[("new-action-description", "Brief the new portfolio holder")],
    )
    .await;
    let page = format!("{address}/actions/{other}");
    set_state(&pool, &address, "submitted").await;
    assert_eq!(lead.get(&page).await.status, 404);
    set_state(&pool, &address, "agreed").await;
    assert_eq!(lead.get(&page).await.status, 200);
    assert_eq!(lead.get(&format!("{page}/delete")).await.status, 403);
    let version: i32 = sqlx::query_scalar("select version from actions where id = $1")
        .bind(other)
        .fetch_one(&pool)
        .await
        .expect("version");
    assert_eq!(
        lead.post(
            &format!("{page}/delete"),
            &[("version", &version.to_string())]
        )
        .await
        .status,
        403
    );
    let cancelled = lead
        .submit_page(&page, "main form", &[("action-status", "cancelled")], "")
        .await;
    assert_eq!(cancelled.status, 303);
    let status: String = sqlx::query_scalar("select status from actions where id = $1")
        .bind(other)
        .fetch_one(&pool)
        .await
        .expect("status");
    assert_eq!(status, "cancelled");
    // The cancellation is in the trail with the status before and after.
    let (before, after): (serde_json::Value, serde_json::Value) = sqlx::query_as(
        "select before, after from audit_events where action = 'action.updated' and entity_id = $1::text",
    )
    .bind(other)
    .fetch_one(&pool)
    .await
    .expect("the cancellation's audit row");
    assert_eq!(before["status"], "open");
    assert_eq!(after["status"], "cancelled");
}

#[sqlx::test]
async fn each_role_changes_only_the_actions_it_is_given_and_other_councils_find_nothing(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 6, 0, 3]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead).await;
    let on_seven = add_action(
        &mut lead,
        &pool,
        &address,
        7,
        &[(
            "new-action-description",
            "Refresh the training needs survey",
        )],
    )
    .await;
    let on_one = add_action(
        &mut lead,
        &pool,
        &address,
        1,
        &[("new-action-description", "Share the risk assessment")],
    )
    .await;

    // The contributor (benchmarks 5 and 7) changes the one on 7, and cannot move it elsewhere.
    let mut contributor = signed_in(&router, "contributor@ashbridge.example").await;
    let seven = format!("{address}/actions/{on_seven}");
    let html = contributor.get(&seven).await.html();
    let places = texts(&html, "#action-place option");
    assert!(
        places
            .iter()
            .all(|p| p.starts_with("Benchmark 5") || p.starts_with("Benchmark 7")),
        "{places:?}"
    );
    let saved = contributor
        .submit_page(
            &seven,
            "main form",
            &[("action-owner", "Learning and Development")],
            "",
        )
        .await;
    assert_eq!(saved.status, 303);
    let moved = contributor
        .submit_page(&seven, "main form", &[("action-place", "benchmark-1")], "")
        .await;
    assert_eq!(moved.status, 422);
    assert!(texts(&html, "a").iter().all(|a| a != "Delete this action"));
    assert_eq!(
        contributor.get(&format!("{seven}/delete")).await.status,
        403
    );

    let one = format!("{address}/actions/{on_one}");
    for (email, status) in [
        ("contributor@ashbridge.example", 404),
        ("board@ashbridge.example", 404),
        ("owner@ashbridge.example", 404),
        (ADVISER, 404),
        ("adviser.south-weald@homeoffice.example", 404),
        ("lead@brackenfield.example", 404),
        ("admin@prevent-assure.example", 404),
        ("signatory@ashbridge.example", 404),
        ("channel@homeoffice.example", 404),
    ] {
        let mut who = signed_in(&router, email).await;
        let page = who.get(&one).await;
        assert_eq!(page.status, status, "{email} GET");
        assert!(!page.body.contains("Share the risk assessment"), "{email}");
        let form = [
            ("action-place", "benchmark-1"),
            ("action-description", "Changed"),
            ("action-status", "open"),
            ("version", "1"),
        ];
        assert_eq!(who.post(&one, &form).await.status, status, "{email} POST");
        assert_eq!(
            who.post(&format!("{one}/delete"), &[("version", "1")])
                .await
                .status,
            status,
            "{email} delete"
        );
    }
    let description: String = sqlx::query_scalar("select description from actions where id = $1")
        .bind(on_one)
        .fetch_one(&pool)
        .await
        .expect("unchanged");
    assert_eq!(description, "Share the risk assessment");
    // The plan offers "Change" to those who may, and not to a board member.
    let plan = lead.get("/orgs/ashbridge/actions").await.html();
    assert_eq!(
        texts(&plan, "table.app-plan a")
            .iter()
            .filter(|a| a.starts_with("Change"))
            .count(),
        2
    );
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    let plan = board.get("/orgs/ashbridge/actions").await.html();
    assert!(
        texts(&plan, "table.app-plan a")
            .iter()
            .all(|a| !a.starts_with("Change"))
    );
}

#[sqlx::test]
async fn two_people_change_one_action_and_the_second_is_told_keeping_their_typing(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 6, 0, 4]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead).await;
    let action = add_action(
        &mut lead,
        &pool,
        &address,
        3,
        &[("new-action-description", "Embed Prevent in service plans")],
    )
    .await;
    let page = format!("{address}/actions/{action}");
    let first_form = support::form_fields(&lead.get(&page).await.html(), "main form");
    let mut second = signed_in(&router, LEAD).await;
    let second_form = support::form_fields(&second.get(&page).await.html(), "main form");

    let post = |fields: &Vec<(String, String)>, changes: &[(&str, &str)]| {
        let mut fields = fields.clone();
        for (k, v) in changes {
            support::set_field(&mut fields, k, v);
        }
        fields
    };
    let first = post(&first_form, &[("action-owner", "Corporate")]);
    let pairs: Vec<(&str, &str)> = first
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(lead.post(&page, &pairs).await.status, 303);
    let late = post(
        &second_form,
        &[
            ("action-target", "Q4 21/22"),
            ("action-owner", "Policy team"),
        ],
    );
    let pairs: Vec<(&str, &str)> = late.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let told = second.post(&page, &pairs).await;
    assert_eq!(told.status, 409);
    let html = told.html();
    assert!(
        texts(&html, ".govuk-error-summary__list a")[0]
            .contains("changed this action while you were editing it")
    );
    assert_eq!(
        support::form_fields(&html, "main form")
            .into_iter()
            .filter(|(k, _)| k == "action-owner" || k == "action-target")
            .collect::<Vec<_>>(),
        vec![
            ("action-owner".to_owned(), "Policy team".to_owned()),
            ("action-target".to_owned(), "Q4 21/22".to_owned())
        ]
    );
    assert!(texts(&html, ".app-theirs")[0].contains("Corporate"));
    // Saving again keeps what is in the form.
    let again = support::form_fields(&html, "main form");
    let pairs: Vec<(&str, &str)> = again
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(second.post(&page, &pairs).await.status, 303);
    let (owner, target): (String, String) =
        sqlx::query_as("select owner_text, target_text from actions where id = $1")
            .bind(action)
            .fetch_one(&pool)
            .await
            .expect("the action");
    assert_eq!(
        (owner.as_str(), target.as_str()),
        ("Policy team", "Q4 21/22")
    );
}

/// Thurrock's 2021 self-assessment (seeds/000): every action as the council wrote it, with its
/// question, the owner named in it (blank where the text names none, "Owner?") and the target
/// written in it (blank for most).
const THURROCK_ACTIONS: [(&str, &str, &str, &str); 31] = [
    (
        "1.3",
        "CSP Manager to share situational risk assessment with education settings once approved for release",
        "CSP Manager",
        "",
    ),
    (
        "2.1",
        "Prevent Board Event protocol and checklist to be shared with colleagues in education, and those managing venues with halls for hiring",
        "Prevent Board",
        "",
    ),
    (
        "2.2",
        "Childrens Prevent Lead to review cases open to CSC SEND team for recognition that aware of vulnerabilities",
        "Childrens Prevent Lead",
        "",
    ),
    (
        "2.4",
        "Chair HEHC to review this audit and include relevant areas within the annual work plan.",
        "Chair HEHC",
        "",
    ),
    (
        "2.4",
        "Owner? To provide opportunity for all members to attend training or complete on line",
        "",
        "",
    ),
    (
        "3.2",
        "Corporate- action required to ensure referenced within individual directorate service plans",
        "Corporate",
        "",
    ),
    (
        "4.1",
        "Childrens: ongoing awareness / training across Childrens services to ensure awareness maintained of process",
        "Childrens",
        "",
    ),
    (
        "4.1",
        "LSCP / CSP Manager audits Nov 21 of internal awareness through training audit and through School safeguarding audits",
        "LSCP / CSP Manager",
        "Nov 21",
    ),
    ("5.6", "Board consider if need for a protocol", "Board", ""),
    (
        "5.7",
        "Board to continue programme of case audits and implement findings",
        "Board",
        "",
    ),
    (
        "6.2",
        "Adult Safeguarding / CSP manager to include within development of contextual safeguarding report in relation to adults",
        "Adult Safeguarding / CSP manager",
        "",
    ),
    (
        "7.1",
        "CSP manager will require updating in line with planned Home Office Changes – 2022",
        "CSP manager",
        "– 2022",
    ),
    (
        "7.1",
        "CSP manager work with my learning to identify needs across Council through survey and provide training for any identified gaps",
        "CSP manager",
        "",
    ),
    (
        "7.1",
        "Prevent champions to audit teams. To share all agencies",
        "Prevent champions",
        "",
    ),
    (
        "7.2",
        "A/D adult social care Commissioning Team to satisfy the Board that all commissioned services have this in place",
        "A/D adult social care Commissioning Team",
        "",
    ),
    (
        "7.3",
        "CSP manager identify new provider for ideology training",
        "CSP manager",
        "",
    ),
    (
        "7.3",
        "CSP manager to follow up on audit with my learning",
        "CSP manager",
        "",
    ),
    (
        "7.3",
        "Prevent Board review how training is tracked and monitored",
        "Prevent Board",
        "",
    ),
    (
        "7.3",
        "CSP manager to carry out a needs assessment on training through audit & respond to any gaps",
        "CSP manager",
        "",
    ),
    (
        "7.4",
        "LSCP / CSP Manager audits Nov 21 of internal awareness through training audit and through School safeguarding audits",
        "LSCP / CSP Manager",
        "Nov 21",
    ),
    (
        "7.4",
        "A/D Education organise with DfE to host a session with heads to discuss needs of education sector & develop appropriate actions from this",
        "A/D Education",
        "",
    ),
    (
        "7.5",
        "A/D education draft guidance for schools on venue and speakers when hiring to be signed off and cascaded to education establishment.",
        "A/D education",
        "",
    ),
    (
        "7.8",
        "Police –CT team delivering programme of CPD training. Relevant Board officers to attend",
        "Police –CT team",
        "",
    ),
    (
        "7.8",
        "YOS Op Manager to attend Hydra training",
        "YOS Op Manager",
        "",
    ),
    (
        "8.1",
        "There are still some gaps in knowledge being highlighted and more promotion required",
        "",
        "",
    ),
    (
        "8.3",
        "CSP manager/ A/D education / licensing / community development to amend policy for external venues and share",
        "CSP manager/ A/D education / licensing / community development",
        "",
    ),
    ("8.3", "To be reviewed once new guidance published", "", ""),
    (
        "8.3",
        "CSP manager/ licensing / to amend policy for external venues and share",
        "CSP manager/ licensing /",
        "",
    ),
    ("8.3", "Will be clearer within new policy", "", ""),
    (
        "9.2",
        "Continue to reach out to communities through outreach work",
        "",
        "",
    ),
    (
        "9.2",
        "All encourage referrals from community & faith groups",
        "",
        "",
    ),
];

#[sqlx::test]
async fn thurrocks_2021_plan_goes_in_as_written_and_submits_with_its_gaps_worth_checking_only(
    pool: PgPool,
) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 6, 0, 5]);
    let mut lead = signed_in(&router, LEAD).await;
    let address = started(&mut lead).await;
    let fw = prevent_assure::framework::parse(
        std::path::Path::new("prevent-la-2018.toml"),
        include_str!("../frameworks/prevent-la-2018.toml"),
    )
    .expect("the framework");
    for section in &fw.sections {
        let n = section.number;
        let page = format!("{address}/benchmarks/{n}");
        let form = format!("form[action$='/benchmarks/{n}']");
        // Every question achieving (as Thurrock's green rows say), a score, no criteria ticked:
        // the proposal differs from the suggestion, so it is justified.
        let mut changes: Vec<(String, String)> = section
            .items
            .iter()
            .map(|i| (format!("status-{}", i.code), "achieving".to_owned()))
            .collect();
        changes.push((
            "proposed".into(),
            if n == 5 { "not_scored" } else { "3" }.into(),
        ));
        changes.push((
            "justification".into(),
            "As agreed at the Prevent board.".into(),
        ));
        changes.push(("rag".into(), "green".into()));
        let changes: Vec<(&str, &str)> = changes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let saved = lead.submit_page(&page, &form, &changes, "save").await;
        assert_eq!(
            saved.status,
            303,
            "benchmark {n}: {:?}",
            texts(&saved.html(), ".govuk-error-summary__list a")
        );
        for (question, description, owner, target) in THURROCK_ACTIONS
            .iter()
            .filter(|(q, ..)| q.split('.').next() == Some(n.to_string().as_str()))
        {
            add_action(
                &mut lead,
                &pool,
                &address,
                n,
                &[
                    ("new-action-question", question),
                    ("new-action-description", description),
                    ("new-action-owner", owner),
                    ("new-action-target", target),
                ],
            )
            .await;
        }
    }
    let stored: Vec<(String, String, Option<time::Date>)> = sqlx::query_as(
        "select description, target_text, due_on from actions where assessment_id = $1 order by created_at",
    )
    .bind(id_of(&address))
    .fetch_all(&pool)
    .await
    .expect("the plan");
    assert_eq!(stored.len(), THURROCK_ACTIONS.len());
    assert!(
        stored
            .iter()
            .zip(THURROCK_ACTIONS)
            .all(|(s, t)| s.0 == t.1 && s.1 == t.3),
        "as written"
    );
    assert_eq!(stored.iter().filter(|s| s.1.is_empty()).count(), 28);

    // A file uploaded over a year ago is worth a second look too.
    sqlx::query(
        "insert into attachments (assessment_id, section_id, filename, content_type, size_bytes, content, created_at)
         select a.id, s.id, 'Prevent strategy 2019.pdf', 'application/pdf', 4, '%PDF', now() - interval '400 days'
         from assessments a join sections s on s.framework_id = a.framework_id and s.number = 3 where a.id = $1",
    )
    .bind(id_of(&address))
    .execute(&pool)
    .await
    .expect("an old file");
    let check = lead.get(&format!("{address}/check")).await.html();
    assert!(texts(&check, ".govuk-error-summary__list a").is_empty());
    assert!(texts(&check, "#worth-checking li").iter().any(|w| {
        w.starts_with("Benchmark 3: the file “Prevent strategy 2019.pdf” was uploaded on")
            && w.ends_with("over a year ago: is it still current?")
    }));
    let worth = texts(&check, "#worth-checking li");
    let without_target = worth
        .iter()
        .filter(|w| w.contains("has no target") || w.contains("no owner or target"))
        .count();
    assert_eq!(without_target, 28, "{worth:?}");
    assert!(worth.iter().any(
        |w| w.contains("“Owner? To provide opportunity for all members")
            && w.contains("has no owner or target")
    ));
    assert!(
        !texts(&check, "button").is_empty(),
        "the Submit button is offered"
    );

    let submitted = lead.post(&format!("{address}/submit"), &[]).await;
    assert_eq!(submitted.status, 303);
    assert_eq!(location(&submitted), format!("{address}?done=submitted"));
    let left: serde_json::Value = sqlx::query_scalar(
        "select after->'left_to_check' from audit_events where action = 'assessment.submitted'",
    )
    .fetch_one(&pool)
    .await
    .expect("the submission");
    assert_eq!(left.as_array().map(Vec::len), Some(worth.len()));
    let history = lead.get(&format!("{address}/history")).await.html();
    assert!(
        texts(&history, "tbody tr")
            .iter()
            .any(|r| r.contains(&format!(
                "Submitted with {} things listed as worth checking",
                worth.len()
            )))
    );
}
