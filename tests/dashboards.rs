//! What people look at: the board view, the action plan and its exports, an owner's actions,
//! the region and the national picture; and the self-assessment's Excel round trip.

mod support;

use std::collections::BTreeSet;
use std::io::Cursor;

use calamine::{Data, Reader, Xlsx};
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, Reply, location, router_from, texts};
use uuid::Uuid;

async fn signed_in(router: &axum::Router, email: &str) -> Client {
    let mut client = Client::new(router.clone());
    let reply = client.sign_in(email, DEMO_PASSWORD).await;
    assert_eq!(reply.status, 303, "{email} signs in");
    client
}

async fn router(pool: &PgPool, last: u8) -> axum::Router {
    router_from(
        support::full_demo_state(pool.clone()).await,
        [10, 7, 0, last],
    )
}

/// The latest assessment of a demo council.
async fn latest(pool: &PgPool, council: &str) -> Uuid {
    sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks fw on fw.id = a.framework_id
         where fw.code = 'prevent-la-2018' and o.slug = $1 order by c.starts_on desc limit 1",
    )
    .bind(council)
    .fetch_one(pool)
    .await
    .expect("an assessment")
}

#[sqlx::test]
async fn the_board_view_summarises_the_ten_benchmarks_with_scores_actions_and_trend(pool: PgPool) {
    let router = router(&pool, 1).await;
    let mut board = signed_in(&router, "board@ashbridge.example").await;

    let page = board.get("/orgs/ashbridge").await;

    assert_eq!(page.status, 200);
    let html = page.html();
    let rows = texts(&html, "#summary tbody tr");
    assert_eq!(rows.len(), 10, "{rows:?}");
    assert!(rows[0].starts_with("1. Risk Assessment"), "{rows:?}");
    // Ashbridge's current self-assessment is a draft: its scores are proposals, and say so.
    let scored: Vec<&String> = rows.iter().filter(|r| r.contains("(proposed)")).collect();
    assert!(!scored.is_empty(), "{rows:?}");
    let open: i64 = sqlx::query_scalar(
        "select count(*) from actions where assessment_id = $1 and status in ('open', 'in_progress')",
    )
    .bind(latest(&pool, "ashbridge").await)
    .fetch_one(&pool)
    .await
    .expect("count");
    // Each benchmark names its first three open actions with owner and target, then how many more.
    let named = texts(&html, "#summary .app-board__list li");
    let shown: i64 = named
        .iter()
        .map(
            |t| match t.strip_prefix("and ").and_then(|m| m.strip_suffix(" more")) {
                Some(n) => n.parse::<i64>().expect("a number"),
                None => 1,
            },
        )
        .sum();
    assert_eq!(shown, open, "{named:?}");
    assert!(
        named
            .iter()
            .filter(|t| !t.starts_with("and "))
            .all(|t| t.contains(" – ") && t.contains(", "))
    );
    // A draft's proposals stand beside last cycle's agreed scores.
    assert!(rows.iter().any(|r| r.contains("Agreed 20")), "{rows:?}");
    assert!(texts(&html, "#summary caption")[0].contains("As at "));
    // The chart is drawn on the server, with its numbers in a table for three cycles.
    assert!(texts(&html, "svg.app-chart title").len() > 10);
    assert_eq!(texts(&html, "#trend-table thead th").len(), 4);
    assert_eq!(texts(&html, "#actions-by-status tbody tr").len(), 4);
}

/// Rows of a CSV where every field is quoted.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let (mut row, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => row.push(std::mem::take(&mut field)),
            ('\r', false) => {}
            ('\n', false) => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (c, _) => field.push(c),
        }
    }
    rows
}

fn xlsx_rows(reply: &Reply) -> Vec<Vec<String>> {
    sheet_rows(&reply.bytes, "Action plan")
}

/// A workbook's sheet as text, row by row.
fn sheet_rows(bytes: &[u8], sheet: &str) -> Vec<Vec<String>> {
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

/// (benchmark number, action, target) of each row of an export, headings dropped.
fn keys(rows: &[Vec<String>]) -> Vec<(String, String, String)> {
    assert_eq!(rows[0][0], "Owner");
    assert_eq!(
        (
            rows[0][2].as_str(),
            rows[0][5].as_str(),
            rows[0][6].as_str()
        ),
        ("Benchmark", "Action", "Target")
    );
    let mut keys: Vec<_> = rows[1..]
        .iter()
        .map(|r| {
            (
                r[2].split(' ').next().unwrap_or_default().to_owned(),
                r[5].clone(),
                r[6].clone(),
            )
        })
        .collect();
    keys.sort();
    keys
}

#[sqlx::test]
async fn the_csv_and_excel_exports_hold_exactly_the_filtered_rows(pool: PgPool) {
    let router = router(&pool, 2).await;
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let assessment = latest(&pool, "ashbridge").await;
    let statement: Uuid = sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks fw on fw.id = a.framework_id
         where fw.code = 'channel-aas-2020' and o.slug = 'ashbridge' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("Ashbridge's statement");
    let owner: String = sqlx::query_scalar(
        "select owner_text from actions where assessment_id = $1 group by owner_text order by count(*) desc limit 1",
    )
    .bind(assessment)
    .fetch_one(&pool)
    .await
    .expect("an owner");
    // Each filter with the rows it must give, worked out here in SQL of the test's own.
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "true"),
        ("benchmark=2".to_owned(), "s.number = 2"),
        ("status=in_progress".to_owned(), "a.status = 'in_progress'"),
        (
            "overdue=yes".to_owned(),
            "a.due_on < current_date and a.status in ('open', 'in_progress')",
        ),
        (
            serde_urlencoded::to_string([("owner", owner.as_str()), ("status", "open")])
                .expect("query"),
            "a.owner_text = $2 and a.status = 'open'",
        ),
    ];
    for (query, condition) in cases {
        // The statement's areas for improvement are in the plan too ("Key area n" in the
        // benchmark column), except under a benchmark filter.
        let on_statement = if query.starts_with("benchmark=") {
            "false"
        } else {
            condition
        };
        let expected: Vec<(String, String, String)> = sqlx::query_as::<_, (String, String, String)>(&format!(
            "select s.number::text, a.description, a.target_text from actions a join sections s on s.id = a.section_id
             where a.assessment_id = $1 and {condition}
             union all
             select 'Key', a.description, a.target_text from actions a join sections s on s.id = a.section_id
             where a.assessment_id = $3 and {on_statement}"
        ))
        .bind(assessment)
        .bind(&owner)
        .bind(statement)
        .fetch_all(&pool)
        .await
        .expect("expected rows")
        .into_iter()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
        let mut expected_all = expected.clone();
        expected_all.sort();

        let csv = lead
            .get(&format!("/orgs/ashbridge/actions.csv?{query}"))
            .await;
        assert_eq!(csv.status, 200, "{query}");
        assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
        let xlsx = lead
            .get(&format!("/orgs/ashbridge/actions.xlsx?{query}"))
            .await;
        assert_eq!(xlsx.status, 200, "{query}");
        let page = lead.get(&format!("/orgs/ashbridge/actions?{query}")).await;

        let from_csv = keys(&parse_csv(&csv.body));
        let from_xlsx = keys(&xlsx_rows(&xlsx));
        let mut unique_csv = from_csv.clone();
        unique_csv.dedup();
        assert_eq!(unique_csv, expected_all, "CSV, filter {query:?}");
        assert_eq!(from_xlsx, from_csv, "Excel, filter {query:?}");
        assert_eq!(
            texts(&page.html(), "table.app-plan tbody tr").len(),
            from_csv.len(),
            "page, filter {query:?}"
        );
    }
}

#[sqlx::test]
async fn the_plan_puts_overdue_first_and_a_filter_outside_the_choices_is_explained(pool: PgPool) {
    let router = router(&pool, 3).await;
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;

    let page = lead.get("/orgs/ashbridge/actions").await;
    let html = page.html();
    let groups = scraper::Selector::parse("table.app-plan").expect("selector");
    let row = scraper::Selector::parse("tbody tr").expect("selector");
    for table in html.select(&groups) {
        let overdue: Vec<bool> = table
            .select(&row)
            .map(|r| r.text().collect::<String>().contains("Overdue"))
            .collect();
        let mut sorted = overdue.clone();
        sorted.sort_by(|a, b| b.cmp(a));
        assert_eq!(
            overdue, sorted,
            "overdue actions come first in each owner's group"
        );
    }

    let bad = lead
        .get("/orgs/ashbridge/actions?benchmark=eleven&status=lost")
        .await;
    assert_eq!(bad.status, 200);
    let summary = texts(&bad.html(), ".govuk-error-summary li");
    assert_eq!(
        summary,
        vec![
            "Choose a benchmark from the list",
            "Choose a status from the list"
        ]
    );
}

#[sqlx::test]
async fn nobody_outside_the_council_sees_its_views_and_only_administrators_see_the_nation(
    pool: PgPool,
) {
    let router = router(&pool, 4).await;
    let ashbridge = latest(&pool, "ashbridge").await;
    let action: Uuid = sqlx::query_scalar(
        "select id from actions where assessment_id = $1 and owner_user_id is not null limit 1",
    )
    .bind(ashbridge)
    .fetch_one(&pool)
    .await
    .expect("an owned action");
    let council_pages = [
        "/orgs/ashbridge".to_owned(),
        "/orgs/ashbridge/actions".to_owned(),
        "/orgs/ashbridge/actions.csv".to_owned(),
        "/orgs/ashbridge/actions.xlsx".to_owned(),
        format!("/assessments/{ashbridge}/export.xlsx"),
        format!("/assessments/{ashbridge}/import"),
    ];
    for email in [
        "lead@brackenfield.example",
        "adviser.south-weald@homeoffice.example",
    ] {
        let mut other = signed_in(&router, email).await;
        for page in &council_pages {
            let reply = other.get(page).await;
            assert_eq!(reply.status, 404, "{email} {page}");
            assert!(!reply.body.contains("Ashbridge"), "{email} {page}");
        }
        // Their list does not hold it, so a forged form changes nothing.
        let note = format!("action-{action}-note");
        let status = format!("action-{action}-status");
        let form = [
            (note.as_str(), "Done"),
            (status.as_str(), "done"),
            ("intent", "save"),
        ];
        assert_eq!(
            other.post("/me/actions", &form).await.status,
            422,
            "{email}"
        );
        // Their own list holds nothing of Ashbridge's.
        assert!(!other.get("/me/actions").await.body.contains("Ashbridge"));
        assert_eq!(other.get("/national").await.status, 403, "{email}");
    }
    let mut south = signed_in(&router, "adviser.south-weald@homeoffice.example").await;
    assert_eq!(south.get("/regions/north-vale").await.status, 403);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    assert_eq!(lead.get("/regions/north-vale").await.status, 403);
    // A board member reads the council's views but changes nobody's actions.
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    assert_eq!(board.get("/orgs/ashbridge/actions").await.status, 200);
    let note = format!("action-{action}-note");
    assert_eq!(
        board
            .post(
                "/me/actions",
                &[(note.as_str(), "Done"), ("intent", "save")]
            )
            .await
            .status,
        422
    );
    let mut adviser = signed_in(&router, "adviser.north-vale@homeoffice.example").await;
    assert_eq!(adviser.get("/orgs/ashbridge").await.status, 200);
    assert_eq!(adviser.get("/regions/north-vale").await.status, 200);
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    assert_eq!(admin.get("/national").await.status, 200);
}

/// The national table of agreed scores for a cycle: per benchmark, councils per score 1-5.
async fn national_counts(admin: &mut Client, cycle: &str) -> Vec<Vec<i64>> {
    let page = admin.get(&format!("/national?cycle={cycle}")).await;
    assert_eq!(page.status, 200);
    let html = page.html();
    let cells = scraper::Selector::parse("td").expect("a selector");
    let rows = scraper::Selector::parse("#distribution-table tbody tr").expect("a selector");
    html.select(&rows)
        .map(|r| {
            r.select(&cells)
                .map(|c| {
                    c.text()
                        .collect::<String>()
                        .trim()
                        .parse()
                        .expect("a count")
                })
                .collect()
        })
        .collect()
}

#[sqlx::test]
async fn the_national_picture_counts_agreed_scores_and_follows_a_new_agreement(pool: PgPool) {
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    let router = router_from(state, [10, 7, 0, 6]);
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let (cycle_id, cycle): (Uuid, String) =
        sqlx::query_as("select id, label from cycles order by starts_on desc limit 1")
            .fetch_one(&pool)
            .await
            .expect("the current cycle");
    let expected = |rows: Vec<(i32, i16, i64)>| {
        let mut table = vec![vec![0i64; 5]; 10];
        for (number, score, n) in rows {
            table[(number - 1) as usize][(score - 1) as usize] = n;
        }
        table
    };
    let counted = "select s.number, r.agreed_score, count(*) from section_results r
         join assessments a on a.id = r.assessment_id join sections s on s.id = r.section_id
         where a.cycle_id = $1 and a.state in ('agreed', 'published') and r.agreed_score is not null
         group by 1, 2";
    let before: Vec<(i32, i16, i64)> = sqlx::query_as(counted)
        .bind(cycle_id)
        .fetch_all(&pool)
        .await
        .expect("counts");
    assert_eq!(
        national_counts(&mut admin, &cycle).await,
        expected(before.clone())
    );

    // The trend: each region's mean agreed score in each cycle, as the database has it.
    let means: Vec<(String, String, f64)> = sqlx::query_as(
        "select rg.name, c.label, avg(r.agreed_score)::float8 from section_results r
         join assessments a on a.id = r.assessment_id join cycles c on c.id = a.cycle_id
         join organisations o on o.id = a.organisation_id join regions rg on rg.id = o.region_id
         where a.state in ('agreed', 'published') and r.agreed_score is not null
         group by rg.name, c.label, c.starts_on order by rg.name, c.starts_on",
    )
    .fetch_all(&pool)
    .await
    .expect("means");
    assert!(means.len() >= 2, "{means:?}");
    let html = admin.get("/national").await.html();
    let heads = texts(&html, "#trend-table thead th");
    let lines = texts(&html, "#trend-table tbody tr");
    for (region, cycle, mean) in &means {
        // A line reads "Region name 3.10 3.25 …", one figure per cycle after the name.
        let line = lines
            .iter()
            .find(|l| l.starts_with(region.as_str()))
            .unwrap_or_else(|| panic!("{region} in {lines:?}"));
        let figures: Vec<&str> = line[region.len()..].split_whitespace().collect();
        let column = heads
            .iter()
            .position(|h| h == cycle)
            .unwrap_or_else(|| panic!("{cycle} in {heads:?}"));
        assert_eq!(
            figures[column - 1],
            format!("{mean:.2}"),
            "{region} {cycle}"
        );
    }

    // An assessment under review has the adviser's draft scores: they are not counted…
    let in_review: Uuid = sqlx::query_scalar(
        "select a.id from assessments a join frameworks fw on fw.id = a.framework_id where a.cycle_id = $1 and a.state in ('submitted', 'in_review') and fw.code = 'prevent-la-2018' limit 1",
    )
    .bind(cycle_id)
    .fetch_one(&pool)
    .await
    .expect("an assessment under review");
    sqlx::query(
        "update section_results set agreed_score = 5, agreed_not_scored = false where assessment_id = $1",
    )
    .bind(in_review)
    .execute(&pool)
    .await
    .expect("draft scores");
    // Written as another server would: this one hears of it by notification.
    caches.settle(&pool).await;
    assert_eq!(
        national_counts(&mut admin, &cycle).await,
        expected(before.clone())
    );
    // …until it is agreed: then every benchmark has one more council at 5.
    sqlx::query("update assessments set state = 'agreed' where id = $1")
        .bind(in_review)
        .execute(&pool)
        .await
        .expect("agreed");
    caches.settle(&pool).await;
    let after = national_counts(&mut admin, &cycle).await;
    let mut more = expected(before);
    for row in &mut more {
        row[4] += 1;
    }
    assert_eq!(after, more);
}

#[sqlx::test]
async fn an_owner_reports_progress_and_a_stale_status_change_is_refused_keeping_their_choice(
    pool: PgPool,
) {
    let router = router(&pool, 5).await;
    let mut owner = signed_in(&router, "owner@ashbridge.example").await;
    let page = owner.get("/me/actions").await;
    assert_eq!(page.status, 200);
    let (action, version, status): (Uuid, i32, String) = sqlx::query_as(
        "select a.id, a.version, a.status from actions a join users u on u.id = a.owner_user_id
         where u.email = 'owner@ashbridge.example' and a.status in ('open', 'in_progress')
         order by a.due_on limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("an action of theirs");
    assert!(page.body.contains(&format!("action-{action}")));

    let note = format!("action-{action}-note");
    let status_field = format!("action-{action}-status");
    let rag_field = format!("action-{action}-rag");
    let version_field = format!("action-{action}-version");
    let empty = owner
        .submit_page(
            "/me/actions",
            "form[action='/me/actions']",
            &[(&note, "   ")],
            &format!("note-{action}"),
        )
        .await;
    assert_eq!(
        texts(&empty.html(), ".govuk-error-summary li"),
        vec!["Write the progress note"]
    );
    let noted = owner
        .submit_page(
            "/me/actions",
            "form[action='/me/actions']",
            &[(&note, "Training dates agreed with partners")],
            &format!("note-{action}"),
        )
        .await;
    assert_eq!(noted.status, 303);
    assert_eq!(location(&noted), "/me/actions?done=note");
    let latest_note: String = sqlx::query_scalar(
        "select body from action_notes where action_id = $1 order by created_at desc limit 1",
    )
    .bind(action)
    .fetch_one(&pool)
    .await
    .expect("the note");
    assert_eq!(latest_note, "Training dates agreed with partners");

    let changed = owner
        .submit_page(
            "/me/actions",
            "form[action='/me/actions']",
            &[(&status_field, "done"), (&rag_field, "green")],
            &format!("status-{action}"),
        )
        .await;
    assert_eq!(changed.status, 303);
    // A second change from the page as it was: told, and their choice and note are kept.
    let stale = owner
        .submit_page(
            "/me/actions",
            "form[action='/me/actions']",
            &[
                (&status_field, "cancelled"),
                (&rag_field, ""),
                (&version_field, &version.to_string()),
                (&note, "Stopped: replaced by the county's programme"),
            ],
            &format!("status-{action}"),
        )
        .await;
    assert_eq!(stale.status, 409);
    let summary = texts(&stale.html(), ".govuk-error-summary li");
    assert!(
        summary[0].contains("Someone changed this action"),
        "{summary:?}"
    );
    let chosen = texts(
        &stale.html(),
        &format!("#action-{action}-status option[selected]"),
    );
    assert_eq!(chosen, vec!["Cancelled"]);
    assert_eq!(
        texts(&stale.html(), &format!("#action-{action}-note")),
        vec!["Stopped: replaced by the county's programme"]
    );
    let now: String = sqlx::query_scalar("select status from actions where id = $1")
        .bind(action)
        .fetch_one(&pool)
        .await
        .expect("status");
    assert_eq!(now, "done", "was {status}");
    // The RAG sent with it is not the owner's to change: what the action says is the lead's.
    let rag: Option<String> = sqlx::query_scalar("select rag from actions where id = $1")
        .bind(action)
        .fetch_one(&pool)
        .await
        .expect("rag");
    assert_ne!(rag.as_deref(), Some("green"), "the owner's RAG is ignored");
    // The trail records the change and the note, never the note's words.
    let trail: Vec<String> = sqlx::query_scalar(
        "select coalesce(after::text, '') from audit_events where entity_id = $1::text order by id",
    )
    .bind(action)
    .fetch_all(&pool)
    .await
    .expect("trail");
    assert_eq!(trail.len(), 2);
    assert!(trail.iter().all(|t| !t.contains("Training dates")));
}

/// A multipart upload of a workbook.
fn import_request(
    client: &Client,
    uri: &str,
    content: &[u8],
) -> axum::http::Request<axum::body::Body> {
    let boundary = "----prevent-assure-import";
    let mut body = Vec::new();
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"book.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n").as_bytes());
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

/// Everything the council records in an assessment, as text, to compare before and after.
async fn snapshot(pool: &PgPool, id: Uuid) -> Vec<String> {
    sqlx::query_scalar(
        "select 'answer ' || i.code || ' ' || coalesce(rt.code, '-') || ' ' || an.evidence || ' ' ||
                array_to_string(an.prompt_evidence, '|') || ' ' || an.needs_review
         from answers an join items i on i.id = an.item_id left join ratings rt on rt.id = an.rating_id
         where an.assessment_id = $1
         union all
         select 'result ' || s.number || ' ' || coalesce(r.rag, '-') || ' ' || coalesce(r.proposed_score::text, '-') || ' ' ||
                r.proposed_not_scored || ' ' || r.justification || ' ' || r.comments || ' ' ||
                coalesce((select string_agg(c.code, ',' order by c.code) from criteria_met m join criteria c on c.id = m.criterion_id
                          where m.section_result_id = r.id), '')
         from section_results r join sections s on s.id = r.section_id where r.assessment_id = $1
         union all
         select 'action ' || a.id || ' ' || s.number || ' ' || coalesce(i.code, '-') || ' ' || a.description || ' ' ||
                a.owner_text || ' ' || a.target_text || ' ' || coalesce(a.due_on::text, '-') || ' ' || a.status || ' ' ||
                coalesce(a.rag, '-')
         from actions a join sections s on s.id = a.section_id left join items i on i.id = a.item_id
         where a.assessment_id = $1
         order by 1",
    )
    .bind(id)
    .fetch_all(pool)
    .await
    .expect("snapshot")
}

fn framework() -> prevent_assure::framework::Framework {
    prevent_assure::framework::load_file(&support::frameworks_dir().join("prevent-la-2018.toml"))
        .expect("the framework")
}

const STATUSES: [(&str, &str); 4] = [
    ("open", "Open"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("cancelled", "Cancelled"),
];

#[sqlx::test]
async fn the_whole_assessment_goes_to_excel_and_back_keeping_every_field(pool: PgPool) {
    let router = router(&pool, 6).await;
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let id = latest(&pool, "ashbridge").await;
    // Every kind of field filled: prompt evidence, criteria, a "needs review" and a formula-like text.
    sqlx::query("update answers set prompt_evidence = array['First prompt', '=Second', '', '', ''], evidence_per_prompt = true, needs_review = true
                 where assessment_id = $1 and item_id = (select i.id from items i join sections s on s.id = i.section_id
                 join frameworks f on f.id = s.framework_id where f.code = 'prevent-la-2018' and i.code = '1.1')")
        .bind(id)
        .execute(&pool)
        .await
        .expect("prompts");
    sqlx::query("insert into criteria_met select r.id, c.id from section_results r join levels l on l.section_id = r.section_id
                 join criteria c on c.level_id = l.id where r.assessment_id = $1 and l.score = 3")
        .bind(id)
        .execute(&pool)
        .await
        .expect("criteria");
    let before = snapshot(&pool, id).await;

    let exported = lead.get(&format!("/assessments/{id}/export.xlsx")).await;
    assert_eq!(exported.status, 200);
    let imported = lead
        .send(import_request(
            &lead,
            &format!("/assessments/{id}/import"),
            &exported.bytes,
        ))
        .await;
    assert_eq!(imported.status, 303, "{}", imported.body);
    assert_eq!(
        location(&imported),
        format!("/assessments/{id}?done=imported")
    );
    assert_eq!(
        snapshot(&pool, id).await,
        before,
        "the round trip changes nothing"
    );

    // A change made in the workbook lands: new evidence, a new score and a new action.
    let fw = framework();
    let mut book = prevent_assure::workbook::read(&exported.bytes, &fw, &STATUSES, 2026)
        .expect("the export reads back");
    book.benchmarks[0].answers[0].evidence = "Reviewed by the partnership board in May.".to_owned();
    book.benchmarks[0].proposed_score = Some(4);
    book.benchmarks[1]
        .actions
        .push(prevent_assure::workbook::BookAction {
            id: None,
            question: Some("2.1".to_owned()),
            description: "Refresh the board's terms of reference".to_owned(),
            owner: "Community Safety Manager".to_owned(),
            target_text: "Q4 2026/27".to_owned(),
            due_on: None,
            status: "open".to_owned(),
            rag: Some("amber".to_owned()),
            row: 0,
        });
    let whole = prevent_assure::workbook::Book {
        council: "Ashbridge Borough Council".to_owned(),
        cycle: "2026/27".to_owned(),
        state: "Draft".to_owned(),
        benchmarks: book.benchmarks,
        other_actions: book.other_actions,
    };
    let edited = prevent_assure::workbook::write(&whole, &fw, &STATUSES).expect("written");
    let imported = lead
        .send(import_request(
            &lead,
            &format!("/assessments/{id}/import"),
            &edited,
        ))
        .await;
    assert_eq!(imported.status, 303, "{}", imported.body);
    let after = snapshot(&pool, id).await;
    assert!(
        after.iter().any(|r| r.starts_with("answer 1.1 ")
            && r.contains("Reviewed by the partnership board in May."))
    );
    assert!(
        after
            .iter()
            .any(|r| r.starts_with("result 1 ") && r.contains(" 4 false ")),
        "{after:?}"
    );
    assert!(
        after
            .iter()
            .any(|r| r.contains("Refresh the board's terms of reference")
                && r.contains("2027-03-31"))
    );
    assert_eq!(after.len(), before.len() + 1);
}

#[sqlx::test]
async fn a_malformed_workbook_is_refused_naming_the_sheet_row_and_column_and_nothing_changes(
    pool: PgPool,
) {
    let router = router(&pool, 7).await;
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let id = latest(&pool, "ashbridge").await;
    let before = snapshot(&pool, id).await;
    let exported = lead.get(&format!("/assessments/{id}/export.xlsx")).await;
    let fw = framework();
    let mut book =
        prevent_assure::workbook::read(&exported.bytes, &fw, &STATUSES, 2026).expect("reads");
    book.benchmarks[0].proposed_score = Some(7);
    let action = book.benchmarks[2]
        .actions
        .first_mut()
        .expect("an action on benchmark 3");
    action.target_text = "31/02/2027".to_owned();
    let whole = prevent_assure::workbook::Book {
        council: "Ashbridge Borough Council".to_owned(),
        cycle: "2026/27".to_owned(),
        state: "Draft".to_owned(),
        benchmarks: book.benchmarks,
        other_actions: book.other_actions,
    };
    let broken = prevent_assure::workbook::write(&whole, &fw, &STATUSES).expect("written");

    let reply = lead
        .send(import_request(
            &lead,
            &format!("/assessments/{id}/import"),
            &broken,
        ))
        .await;

    assert_eq!(reply.status, 422);
    let html = reply.html();
    let faults = texts(&html, "#faults tbody tr");
    assert!(
        faults.contains(
            &"Summary 10 D The proposed score must be a whole number from 1 to 5".to_owned()
        ),
        "{faults:?}"
    );
    // The first action of benchmark 3: its heading row, then the action.
    assert!(
        faults
            .iter()
            .any(|f| f.starts_with("Benchmark 3 ") && f.contains(" E Enter the target as a date")),
        "{faults:?}"
    );
    assert_eq!(
        texts(&html, ".govuk-error-summary li"),
        vec!["The workbook has 2 problems to put right: nothing was imported"]
    );
    assert_eq!(snapshot(&pool, id).await, before);

    let not_excel = lead
        .send(import_request(
            &lead,
            &format!("/assessments/{id}/import"),
            b"name,score\n",
        ))
        .await;
    assert_eq!(not_excel.status, 422);
    assert!(
        texts(&not_excel.html(), ".govuk-error-summary li")[0]
            .contains("must be an Excel workbook")
    );
}

/// Every council's agreed scores in a cycle, from the database, as the exports should have
/// them: (region, council, state, scores as text).
async fn agreed_as_stored(pool: &PgPool, cycle: &str, region: Option<&str>) -> Vec<Vec<String>> {
    type Stored = (
        String,
        String,
        Option<String>,
        Option<Vec<Option<i16>>>,
        Option<Vec<bool>>,
    );
    let rows: Vec<Stored> =
        sqlx::query_as(
            "select rg.name, o.name, a.state,
                    case when a.state in ('agreed', 'published') then array(select r.agreed_score from section_results r join sections s on s.id = r.section_id where r.assessment_id = a.id order by s.number) end,
                    case when a.state in ('agreed', 'published') then array(select r.agreed_not_scored from section_results r join sections s on s.id = r.section_id where r.assessment_id = a.id order by s.number) end
             from organisations o join regions rg on rg.id = o.region_id
             left join (assessments a join cycles c on c.id = a.cycle_id and c.label = $1
                        join frameworks f on f.id = a.framework_id and f.code = 'prevent-la-2018')
                  on a.organisation_id = o.id
             where $2::text is null or rg.slug = $2
             order by rg.name, o.name",
        )
        .bind(cycle)
        .bind(region)
        .fetch_all(pool)
        .await
        .expect("the agreed scores");
    rows.into_iter()
        .map(|(region, council, state, scores, not_scored)| {
            let mut line = vec![
                region,
                council,
                cycle.to_owned(),
                match state.as_deref() {
                    None => "Not started",
                    Some("draft") => "Draft",
                    Some("submitted") => "Submitted",
                    Some("in_review") => "In review",
                    Some("agreed") => "Agreed",
                    _ => "Published",
                }
                .to_owned(),
            ];
            for b in 0..10 {
                let score = scores.as_ref().and_then(|s| s.get(b).copied().flatten());
                let ns = not_scored.as_ref().and_then(|n| n.get(b).copied()) == Some(true);
                line.push(match (score, ns) {
                    (Some(s), _) => s.to_string(),
                    (None, true) => "Not scored".to_owned(),
                    _ => String::new(),
                });
            }
            line
        })
        .collect()
}

#[sqlx::test]
async fn the_region_and_the_nation_export_every_councils_agreed_scores_and_no_more(pool: PgPool) {
    let router = router(&pool, 9).await;
    let published: String = sqlx::query_scalar(
        "select c.label from cycles c join assessments a on a.cycle_id = c.id
         where a.state = 'published' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a cycle with published assessments");
    let query = format!("?cycle={published}");

    let mut adviser = signed_in(&router, "adviser.north-vale@homeoffice.example").await;
    let csv = adviser
        .get(&format!("/regions/north-vale/scores.csv{query}"))
        .await;
    assert_eq!(csv.status, 200);
    assert!(
        csv.header("content-disposition")
            .is_some_and(|d| d.contains(&format!(
                "north-vale-agreed-scores-{}.csv",
                published.replace('/', "-")
            ))),
        "{:?}",
        csv.header("content-disposition")
    );
    let rows = parse_csv(&csv.body);
    assert_eq!(rows[0][..4], ["Region", "Council", "Cycle", "State"]);
    assert!(rows[0][4].starts_with("Benchmark 1: "), "{:?}", rows[0]);
    assert!(rows[0][13].starts_with("Benchmark 10: "), "{:?}", rows[0]);
    let expected = agreed_as_stored(&pool, &published, Some("north-vale")).await;
    assert_eq!(rows[1..], expected[..], "the region's councils, as stored");
    assert!(
        expected
            .iter()
            .any(|r| r[4..].iter().any(|s| s.parse::<u8>().is_ok())),
        "some agreed scores to compare: {expected:?}"
    );
    // The workbook holds the same, scores as numbers, and LibreOffice opens it.
    let xlsx = adviser
        .get(&format!("/regions/north-vale/scores.xlsx{query}"))
        .await;
    assert_eq!(xlsx.status, 200);
    let mut book: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(xlsx.bytes.clone())).expect("a workbook");
    let range = book.worksheet_range("Agreed scores").expect("the sheet");
    let numbers = range
        .rows()
        .skip(1)
        .flat_map(|r| r.iter().skip(4))
        .filter(|c| matches!(c, Data::Float(_) | Data::Int(_)))
        .count();
    let stored_numbers = expected
        .iter()
        .flat_map(|r| r[4..].iter())
        .filter(|s| s.parse::<u8>().is_ok())
        .count();
    assert_eq!(numbers, stored_numbers, "every score a number");
    let sheet = sheet_rows(&xlsx.bytes, "Agreed scores");
    assert_eq!(sheet[1..], expected[..]);
    let opened = support::office::to_pdf(&xlsx.bytes, "region-agreed-scores.xlsx");
    assert!(
        opened.shows(&expected[0][1]),
        "LibreOffice shows the first council"
    );
    assert!(
        opened.shows("Benchmark 10:"),
        "and the headings: {}",
        opened.text
    );
    support::office::pages_as_png(&opened.pdf, "region-agreed-scores");

    // Another region's adviser, and a council's lead, get nothing.
    let mut other = signed_in(&router, "adviser.south-weald@homeoffice.example").await;
    assert_eq!(
        other
            .get(&format!("/regions/north-vale/scores.csv{query}"))
            .await
            .status,
        403
    );
    assert_eq!(other.get("/national/scores.csv").await.status, 403);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    for uri in [
        "/regions/north-vale/scores.csv",
        "/regions/north-vale/scores.xlsx",
        "/national/scores.csv",
        "/national/scores.xlsx",
    ] {
        let reply = lead.get(uri).await;
        assert_eq!(reply.status, 403, "{uri}");
        assert!(!reply.body.contains("Brackenfield"), "{uri}");
    }

    // The administrator's national export holds every council of every region.
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let national = admin.get(&format!("/national/scores.csv{query}")).await;
    assert_eq!(national.status, 200);
    let rows = parse_csv(&national.body);
    assert_eq!(
        rows[1..],
        agreed_as_stored(&pool, &published, None).await[..]
    );
    let regions: BTreeSet<&str> = rows[1..].iter().map(|r| r[0].as_str()).collect();
    assert_eq!(regions.len(), 2, "{regions:?}");
    assert_eq!(admin.get("/national/scores.xlsx").await.status, 200);
    // A cycle that does not exist is not found; the pages link to the exports.
    assert_eq!(
        admin.get("/national/scores.csv?cycle=1999/00").await.status,
        404
    );
    let page = admin.get(&format!("/national{query}")).await;
    assert!(
        page.body
            .contains(&format!("/national/scores.xlsx?cycle={published}"))
    );
    let region_page = adviser.get("/regions/north-vale").await;
    assert!(
        region_page
            .body
            .contains("/regions/north-vale/scores.csv?cycle=")
    );
}

/// A workbook is typing too: control characters and bidirectional overrides typed into a cell
/// are taken out on import, as from a form, and never reach the database or a page.
#[sqlx::test]
async fn a_workbooks_cells_are_cleaned_as_form_fields_are(pool: PgPool) {
    let router = router(&pool, 8).await;
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let id = latest(&pool, "ashbridge").await;
    let exported = lead.get(&format!("/assessments/{id}/export.xlsx")).await;
    let fw = framework();
    let mut book =
        prevent_assure::workbook::read(&exported.bytes, &fw, &STATUSES, 2026).expect("reads");
    book.benchmarks[0].answers[0].evidence =
        "Board\u{0} minutes\u{7} of May \u{202e}fdp.exe".to_owned();
    if let Some(action) = book.benchmarks[2].actions.first_mut() {
        action.owner = "Community\u{2066} Safety\u{1b}".to_owned();
    }
    let whole = prevent_assure::workbook::Book {
        council: "Ashbridge Borough Council".to_owned(),
        cycle: "2026/27".to_owned(),
        state: "Draft".to_owned(),
        benchmarks: book.benchmarks,
        other_actions: book.other_actions,
    };
    let typed = prevent_assure::workbook::write(&whole, &fw, &STATUSES).expect("written");
    let reply = lead
        .send(import_request(
            &lead,
            &format!("/assessments/{id}/import"),
            &typed,
        ))
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    let evidence: String = sqlx::query_scalar(
        "select an.evidence from answers an join items i on i.id = an.item_id
         where an.assessment_id = $1 and i.code = '1.1'",
    )
    .bind(id)
    .fetch_one(&pool)
    .await
    .expect("the evidence");
    assert_eq!(evidence, "Board minutes of May fdp.exe");
    let owners: Vec<String> =
        sqlx::query_scalar("select owner_text from actions where assessment_id = $1")
            .bind(id)
            .fetch_all(&pool)
            .await
            .expect("owners");
    assert!(
        owners.iter().all(|o| !o
            .chars()
            .any(|c| c.is_control() || ('\u{2066}'..='\u{2069}').contains(&c))),
        "{owners:?}"
    );
    assert!(owners.iter().any(|o| o == "Community Safety"), "{owners:?}");
}

/// What the region view and the exports read of an agreed assessment is kept on it (migration
/// 0021): it follows every way its results and state change, and is nothing until agreed.
#[sqlx::test]
async fn an_assessments_kept_agreed_scores_follow_its_results_and_state(pool: PgPool) {
    support::full_demo_state(pool.clone()).await;
    // Every agreed assessment of the demonstration data, written before its results were.
    let stale: i64 = sqlx::query_scalar(
        "select count(*) from assessments
         where agreed_scores is distinct from case when state in ('agreed', 'published')
               then array(select case when r.agreed_not_scored then 0::smallint
                                      else coalesce(r.agreed_score, -1::smallint) end
                          from section_results r join sections s on s.id = r.section_id
                          where r.assessment_id = assessments.id order by s.number) end",
    )
    .fetch_one(&pool)
    .await
    .expect("the kept scores");
    assert_eq!(stale, 0, "every assessment's kept scores are its results'");

    let id: Uuid = sqlx::query_scalar(
        "select a.id from assessments a join frameworks f on f.id = a.framework_id
         where a.state in ('submitted', 'in_review') and f.code = 'prevent-la-2018' limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("an assessment under review");
    let kept = |pool: PgPool| async move {
        sqlx::query_scalar::<_, Option<Vec<i16>>>(
            "select agreed_scores from assessments where id = $1",
        )
        .bind(id)
        .fetch_one(&pool)
        .await
        .expect("the kept scores")
    };
    let run = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(sql)
                .bind(id)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    };
    run("update section_results set agreed_score = 4, agreed_not_scored = false where assessment_id = $1").await;
    assert_eq!(
        kept(pool.clone()).await,
        None,
        "the adviser's draft is not kept"
    );
    run("update assessments set state = 'agreed' where id = $1").await;
    assert_eq!(kept(pool.clone()).await, Some(vec![4; 10]));
    run(
        "update section_results r set agreed_score = null, agreed_not_scored = true
         from sections s where s.id = r.section_id and s.number = 3 and r.assessment_id = $1",
    )
    .await;
    run("update section_results r set agreed_score = null
         from sections s where s.id = r.section_id and s.number = 7 and r.assessment_id = $1")
    .await;
    assert_eq!(
        kept(pool.clone()).await,
        Some(vec![4, 4, 0, 4, 4, 4, -1, 4, 4, 4]),
        "a score changed after agreement: 0 for not scored, -1 for none"
    );
    run("update assessments set state = 'published' where id = $1").await;
    assert_eq!(
        kept(pool.clone()).await,
        Some(vec![4, 4, 0, 4, 4, 4, -1, 4, 4, 4])
    );
    run("update assessments set state = 'in_review' where id = $1").await;
    assert_eq!(
        kept(pool.clone()).await,
        None,
        "returned to review: nothing agreed"
    );
}
