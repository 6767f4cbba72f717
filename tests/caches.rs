//! What the server keeps in memory (who is signed in, the places, councils' pages, the national
//! picture) costs no statement once kept, and never outlives a change: made through the
//! application, the next page shows it; made by anyone else (another server, psql), it shows
//! once the notification has arrived, which `settle` waits for.

mod support;

use prevent_assure::cache::Caches;
use sqlx::PgPool;
use std::time::Duration;
use support::statements::{ONE_AT_A_TIME, get_counting};
use support::{location, router_from, signed_in, texts};
use uuid::Uuid;

/// Runs `sql` as another server or psql would, then waits until this server has heard of it
/// and has loaded again the views it dropped that had been read.
async fn elsewhere(pool: &PgPool, caches: &Caches, sql: &str, id: Uuid) {
    sqlx::query(sql)
        .bind(id)
        .execute(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    caches.settle(pool).await;
    caches.refreshed(Duration::from_secs(10)).await;
}

/// The council's latest self-assessment (not its Channel statement).
async fn latest(pool: &PgPool, council: &str) -> Uuid {
    latest_of(pool, council, "prevent-la-2018").await
}

/// The council's latest assessment of a framework.
async fn latest_of(pool: &PgPool, council: &str, framework: &str) -> Uuid {
    sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
         where o.slug = $1 and f.code = $2 order by c.starts_on desc limit 1",
    )
    .bind(council)
    .bind(framework)
    .fetch_one(pool)
    .await
    .expect("an assessment")
}

/// Every cell of every sheet of a workbook, one after another.
fn workbook_text(bytes: &[u8]) -> String {
    use calamine::Reader;
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("a workbook");
    let mut text = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).expect("a sheet");
        for cell in range.used_cells() {
            text.push_str(&cell.2.to_string());
            text.push('\n');
        }
    }
    text
}

/// Waits until the server listens for notifications (it connects as it starts).
async fn listening(caches: &Caches) {
    for _ in 0..100 {
        if caches.listening() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the server does not listen for changes");
}

#[sqlx::test]
async fn kept_views_cost_no_statement_and_show_a_change_made_elsewhere(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 1]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let mut adviser = signed_in(&router, "adviser.north-vale@homeoffice.example").await;
    let ashbridge = latest(&pool, "ashbridge").await;
    let benchmark = format!("/assessments/{ashbridge}/benchmarks/1");

    // Once seen, a view is kept: seeing it again asks the database nothing.
    let task_list = format!("/assessments/{ashbridge}");
    let check = format!("/assessments/{ashbridge}/check");
    let export = format!("/assessments/{ashbridge}/export.xlsx");
    for (who, uri) in [
        (0, "/orgs/ashbridge"),
        (0, "/orgs/ashbridge/actions"),
        (0, "/orgs/ashbridge/actions.xlsx"),
        (0, benchmark.as_str()),
        (0, task_list.as_str()),
        (0, check.as_str()),
        (0, export.as_str()),
        (1, "/regions/north-vale"),
        (1, "/regions/north-vale/scores.csv"),
        (1, "/regions/north-vale/scores.xlsx"),
    ] {
        let client = if who == 0 { &mut lead } else { &mut adviser };
        get_counting(client, uri).await;
        let (_, again) = get_counting(client, uri).await;
        assert_eq!(again, 0, "{uri} is kept");
    }

    // The board's latest comment, changed elsewhere.
    elsewhere(
        &pool,
        &caches,
        "update section_results r set comments = 'Changed on another server'
         from sections s where s.id = r.section_id and s.number = 1 and r.assessment_id = $1",
        ashbridge,
    )
    .await;
    // Read before the change, the board was loaded again as the change was heard: its next
    // reader finds it kept, with the change.
    let (board, cost) = get_counting(&mut lead, "/orgs/ashbridge").await;
    assert_eq!(cost, 0, "the board was loaded again before anyone asked");
    assert!(
        texts(&board.html(), "#summary tbody tr")[0].contains("Changed on another server"),
        "the board shows the new comment"
    );

    // A new action in the plan.
    elsewhere(
        &pool,
        &caches,
        "insert into actions (organisation_id, assessment_id, section_id, source, description, owner_text)
         select a.organisation_id, a.id, s.id, 'benchmark', 'Added on another server', 'Kept Test Owner'
         from assessments a join sections s on s.framework_id = a.framework_id and s.number = 1
         where a.id = $1",
        ashbridge,
    )
    .await;
    let (plan, _) = get_counting(&mut lead, "/orgs/ashbridge/actions").await;
    // It has no target date: neither overdue nor due soon, and listed all the same.
    assert!(plan.body.contains("Added on another server"));
    assert!(plan.body.contains("Kept Test Owner"));
    // Its workbook is written again (from the plan the page above read again: no statement).
    let (book, _) = get_counting(&mut lead, "/orgs/ashbridge/actions.xlsx").await;
    assert!(workbook_text(&book.bytes).contains("Added on another server"));

    // Evidence on the benchmark page, and the action there too.
    elsewhere(
        &pool,
        &caches,
        "update answers an set evidence = 'Evidence written on another server'
         from items i where i.id = an.item_id and i.code = '1.1' and an.assessment_id = $1",
        ashbridge,
    )
    .await;
    let (page, _) = get_counting(&mut lead, &benchmark).await;
    assert!(page.body.contains("Evidence written on another server"));
    assert!(page.body.contains("Added on another server"));
    // The workbook is written again, with them.
    let (book, cost) = get_counting(&mut lead, &export).await;
    assert!(cost > 0, "the workbook is written again");
    let cells = workbook_text(&book.bytes);
    assert!(cells.contains("Evidence written on another server"));
    assert!(cells.contains("Added on another server"));

    // The task list counts an answer given elsewhere.
    let (before, _) = get_counting(&mut lead, &task_list).await;
    let hint = |html: &scraper::Html| texts(html, "#benchmark-1-hint").join(" | ");
    let was = hint(&before.html());
    elsewhere(
        &pool,
        &caches,
        "update answers an set rating_id = null
         from items i join sections s on s.id = i.section_id
         where i.id = an.item_id and s.number = 1 and an.assessment_id = $1",
        ashbridge,
    )
    .await;
    let (after, cost) = get_counting(&mut lead, &task_list).await;
    assert_eq!(
        cost, 0,
        "the task list was loaded again before anyone asked"
    );
    assert_ne!(
        hint(&after.html()),
        was,
        "the task list shows benchmark 1 unanswered"
    );
    assert!(
        hint(&after.html()).contains("0 of"),
        "benchmark 1 has no answer now: {}",
        hint(&after.html())
    );

    // The region: Ashbridge submitted elsewhere.
    elsewhere(
        &pool,
        &caches,
        "update assessments set state = 'submitted', submitted_at = now() where id = $1",
        ashbridge,
    )
    .await;
    let (region, _) = get_counting(&mut adviser, "/regions/north-vale").await;
    let first = texts(&region.html(), "table.app-region tbody tr")
        .into_iter()
        .next()
        .unwrap_or_default();
    assert!(
        first.starts_with("Ashbridge") && first.contains("Submitted"),
        "what waits for the adviser comes first: {first}"
    );
    // And the region's export says so.
    let (scores, cost) = get_counting(&mut adviser, "/regions/north-vale/scores.csv").await;
    assert!(cost > 0, "the export is written again");
    let line = scores
        .body
        .lines()
        .find(|l| l.contains("Ashbridge"))
        .unwrap_or_default()
        .to_owned();
    assert!(line.contains("Submitted"), "{line}");

    // The adviser's review page is kept, and shows evidence written elsewhere.
    let review = format!("/assessments/{ashbridge}/review");
    get_counting(&mut adviser, &review).await;
    let (_, again) = get_counting(&mut adviser, &review).await;
    assert_eq!(again, 0, "{review} is kept");
    elsewhere(
        &pool,
        &caches,
        "update answers an set evidence = 'Evidence the adviser reads after a change'
         from items i where i.id = an.item_id and i.code = '1.1' and an.assessment_id = $1",
        ashbridge,
    )
    .await;
    let (page, cost) = get_counting(&mut adviser, &review).await;
    assert_eq!(
        cost, 0,
        "the review page was loaded again before anyone asked"
    );
    assert!(
        page.body
            .contains("Evidence the adviser reads after a change")
    );

    // An action owner's own actions are kept, and show an action changed elsewhere.
    let mut owner = signed_in(&router, "owner@ashbridge.example").await;
    get_counting(&mut owner, "/me/actions").await;
    let (_, again) = get_counting(&mut owner, "/me/actions").await;
    assert_eq!(again, 0, "/me/actions is kept");
    elsewhere(
        &pool,
        &caches,
        "update actions set description = 'Changed for its owner elsewhere'
         where id = (select a.id from actions a join users u on u.id = a.owner_user_id
                     where u.email = 'owner@ashbridge.example' and a.organisation_id =
                           (select organisation_id from assessments where id = $1)
                       and a.status in ('open', 'in_progress') order by a.id limit 1)",
        ashbridge,
    )
    .await;
    let (mine, cost) = get_counting(&mut owner, "/me/actions").await;
    assert_eq!(cost, 0, "/me/actions was loaded again before anyone asked");
    assert!(mine.body.contains("Changed for its owner elsewhere"));
}

/// A view read since it was loaded is loaded again as soon as a change to its council is heard
/// (a save through the application, or a change made elsewhere), so that its next reader finds
/// it kept; one nobody read since is not, so no view is loaded more often than it is read.
#[sqlx::test]
async fn views_read_before_a_change_are_loaded_again_as_it_is_heard(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 3]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let mut adviser = signed_in(&router, "adviser.north-vale@homeoffice.example").await;
    let ashbridge = latest(&pool, "ashbridge").await;
    let benchmark = format!("/assessments/{ashbridge}/benchmarks/1");
    let task_list = format!("/assessments/{ashbridge}");
    for uri in [
        "/orgs/ashbridge",
        "/orgs/ashbridge/actions",
        &task_list,
        &benchmark,
    ] {
        get_counting(&mut lead, uri).await;
    }
    get_counting(&mut adviser, "/regions/north-vale").await;

    // The lead saves evidence on benchmark 1.
    let (page, _) = get_counting(&mut lead, &benchmark).await;
    let html = page.html();
    let mut fields = support::form_fields(&html, "form[enctype='multipart/form-data']");
    let (name, _) = fields
        .iter()
        .find(|(n, _)| n.starts_with("evidence-"))
        .cloned()
        .expect("an evidence box");
    let typed = "Evidence saved while others look on";
    support::set_field(&mut fields, &name, typed);
    support::set_field(&mut fields, "intent", "save");
    let form: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let reply = lead.post(&benchmark, &form).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    caches.refreshed(Duration::from_secs(10)).await;

    // Every view read before the save was loaded again after it, without a reader asking.
    for uri in ["/orgs/ashbridge", "/orgs/ashbridge/actions", &task_list] {
        let (_, cost) = get_counting(&mut lead, uri).await;
        assert_eq!(cost, 0, "{uri} was loaded again after the save");
    }
    let (page, cost) = get_counting(&mut lead, &benchmark).await;
    assert_eq!(
        cost, 0,
        "the benchmark page was loaded again after the save"
    );
    assert!(page.body.contains(typed), "with the evidence saved");
    let (_, cost) = get_counting(&mut adviser, "/regions/north-vale").await;
    assert_eq!(cost, 0, "the region was loaded again after the save");

    // Changed elsewhere, then again: after the first change the board and the plan are
    // loaded again (both read since the save); only the plan is read before the second, so
    // only the plan is loaded again after it, and the board's next reader asks the database.
    let change = |comment: &str| {
        format!(
            "update section_results r set comments = '{comment}'
             from sections s where s.id = r.section_id and s.number = 1 and r.assessment_id = $1"
        )
    };
    elsewhere(&pool, &caches, &change("Changed elsewhere"), ashbridge).await;
    let (_, cost) = get_counting(&mut lead, "/orgs/ashbridge/actions").await;
    assert_eq!(cost, 0, "the plan was loaded again");
    elsewhere(
        &pool,
        &caches,
        &change("Changed again elsewhere"),
        ashbridge,
    )
    .await;
    let (_, cost) = get_counting(&mut lead, "/orgs/ashbridge/actions").await;
    assert_eq!(cost, 0, "the plan, read since, was loaded again");
    let (board, cost) = get_counting(&mut lead, "/orgs/ashbridge").await;
    assert!(cost > 0, "the board, unread since, was not loaded again");
    assert!(
        texts(&board.html(), "#summary tbody tr")[0].contains("Changed again elsewhere"),
        "the board shows the change"
    );
}

/// A download read since it was written is written again as soon as a change that drops it is
/// heard, after the views it is written from: its next download costs no statement and holds
/// the change. One not downloaded since is left for its next download.
#[sqlx::test]
async fn downloads_read_before_a_change_are_written_again_as_it_is_heard(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 5]);
    // The lead, the region's adviser, the administrator.
    let mut clients = [
        signed_in(&router, "lead@ashbridge.example").await,
        signed_in(&router, "adviser.north-vale@homeoffice.example").await,
        signed_in(&router, "admin@prevent-assure.example").await,
    ];
    let ashbridge = latest(&pool, "ashbridge").await;
    let export = format!("/assessments/{ashbridge}/export.xlsx");
    let downloads = [
        (0, export.as_str()),
        (0, "/orgs/ashbridge/actions.xlsx"),
        (1, "/regions/north-vale/scores.csv"),
        (1, "/regions/north-vale/scores.xlsx"),
        (2, "/national/scores.csv"),
    ];
    for (who, uri) in downloads {
        let c = &mut clients[who];
        get_counting(c, uri).await;
        let (_, again) = get_counting(c, uri).await;
        assert_eq!(again, 0, "{uri} is kept");
    }

    // Evidence, an action and the state, changed elsewhere in one statement.
    let change = |evidence: &str| {
        format!(
            "with evidence as (
                 update answers an set evidence = '{evidence}'
                 from items i where i.id = an.item_id and i.code = '1.1' and an.assessment_id = $1),
             action as (
                 update actions set description = 'Action for {evidence}'
                 where id = (select id from actions where assessment_id = $1 order by id limit 1))
             update assessments set state = 'submitted', submitted_at = now() where id = $1"
        )
    };
    elsewhere(
        &pool,
        &caches,
        &change("Written on another server"),
        ashbridge,
    )
    .await;
    let (book, cost) = get_counting(&mut clients[0], &export).await;
    assert_eq!(
        cost, 0,
        "the workbook was written again before anyone asked"
    );
    let cells = workbook_text(&book.bytes);
    assert!(cells.contains("Written on another server"));
    assert!(cells.contains("Action for Written on another server"));
    let (plan, cost) = get_counting(&mut clients[0], "/orgs/ashbridge/actions.xlsx").await;
    assert_eq!(cost, 0, "the plan's workbook was written again");
    assert!(workbook_text(&plan.bytes).contains("Action for Written on another server"));
    for (who, uri) in &downloads[2..] {
        let (file, cost) = get_counting(&mut clients[*who], uri).await;
        assert_eq!(cost, 0, "{uri} was written again");
        let text = if uri.ends_with(".xlsx") {
            workbook_text(&file.bytes)
        } else {
            file.body.clone()
        };
        let line = text
            .split(['\n', '\r'])
            .skip_while(|l| !l.contains("Ashbridge"))
            .take(4)
            .collect::<Vec<_>>()
            .join(" ");
        assert!(line.contains("Submitted"), "{uri}: {line}");
    }

    // Changed twice with nobody downloading between: written again after the first change
    // (read before it), not after the second, and the next download writes it.
    elsewhere(&pool, &caches, &change("First of two changes"), ashbridge).await;
    elsewhere(&pool, &caches, &change("Second of two changes"), ashbridge).await;
    let (book, cost) = get_counting(&mut clients[0], &export).await;
    assert!(
        cost > 0,
        "the workbook, not downloaded since, was not written again"
    );
    assert!(workbook_text(&book.bytes).contains("Second of two changes"));
}

/// The letter as issued is kept with its council's pages, and follows a change to it made
/// anywhere (the letters table tells the council's change, migration 0023).
#[sqlx::test]
async fn the_issued_letter_is_kept_and_follows_a_change(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 6]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let published: Uuid = sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id
         where o.slug = 'ashbridge' and a.state = 'published' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a published self-assessment");
    let letter = format!("/assessments/{published}/letter");
    // The first reader keeps the letter as issued (the demo's is written then).
    get_counting(&mut lead, &letter).await;
    caches.settle(&pool).await;
    caches.refreshed(Duration::from_secs(10)).await;
    get_counting(&mut lead, &letter).await;
    let (page, again) = get_counting(&mut lead, &letter).await;
    assert_eq!(again, 0, "{letter} is kept");
    assert!(page.body.contains("Ashbridge"));

    elsewhere(
        &pool,
        &caches,
        "update letters set published = jsonb_set(published, '{cc}', '\"Changed on another server\"')
         where assessment_id = $1",
        published,
    )
    .await;
    let (page, cost) = get_counting(&mut lead, &letter).await;
    assert_eq!(cost, 0, "the letter was loaded again before anyone asked");
    assert!(
        page.body.contains("CC: Changed on another server"),
        "the letter shows the change"
    );
}

/// A Channel statement's pages (its task list, the statement, the Channel team's check of it)
/// are kept like a self-assessment's, sign-off included, and loaded again after a change.
#[sqlx::test]
async fn a_channel_statements_pages_are_kept_with_their_sign_off(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 4]);
    let statement = latest_of(&pool, "ashbridge", "channel-aas-2020").await;
    // No sign-off asked for yet, whatever the demo holds.
    elsewhere(
        &pool,
        &caches,
        "delete from sign_offs where assessment_id = $1",
        statement,
    )
    .await;
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let mut team = signed_in(&router, "channel@homeoffice.example").await;
    let task_list = format!("/assessments/{statement}");
    let page = format!("/assessments/{statement}/statement");
    let check = format!("/assessments/{statement}/channel-review");
    let (first, _) = get_counting(&mut lead, &task_list).await;
    assert!(first.body.contains("Not asked for"), "{}", first.body);
    for (by_team, uri) in [(false, &task_list), (false, &page), (true, &check)] {
        let client = if by_team { &mut team } else { &mut lead };
        get_counting(client, uri).await;
        let (_, texts) = support::statements::get_recording(client, uri).await;
        assert!(texts.is_empty(), "{uri} is kept: {texts:?}");
    }

    // Sign-off asked for elsewhere: each page shows it, loaded again without a reader asking.
    elsewhere(
        &pool,
        &caches,
        "insert into sign_offs (assessment_id, requested_by)
         select $1, u.id from users u where u.email = 'lead@ashbridge.example'",
        statement,
    )
    .await;
    let (asked, cost) = get_counting(&mut lead, &task_list).await;
    assert_eq!(cost, 0, "the task list was loaded again");
    assert!(
        asked.body.contains("Waiting for the signatory"),
        "{}",
        asked.body
    );
    for (by_team, uri) in [(false, &page), (true, &check)] {
        let client = if by_team { &mut team } else { &mut lead };
        let (_, cost) = get_counting(client, uri).await;
        assert_eq!(cost, 0, "{uri} was loaded again");
    }
}

/// The first view after a change, asked for by many at once, is asked of the database once:
/// the others wait for that answer rather than each asking the same.
#[sqlx::test]
async fn many_asking_at_once_for_a_view_cost_one_load(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 2]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let council: Uuid = sqlx::query_scalar("select id from organisations where slug = 'ashbridge'")
        .fetch_one(&pool)
        .await
        .expect("ashbridge");
    let ashbridge = latest(&pool, "ashbridge").await;
    let pages = [
        "/orgs/ashbridge".to_owned(),
        "/orgs/ashbridge/actions".to_owned(),
        format!("/assessments/{ashbridge}/benchmarks/2"),
        format!("/assessments/{ashbridge}"),
    ];
    for page in &pages {
        // Who is signed in and the places are kept; the council's pages are not.
        get_counting(&mut lead, page).await;
        caches.forget_council(council);
        let (_, alone) = get_counting(&mut lead, page).await;
        assert!(alone > 0, "{page} is asked of the database once forgotten");

        caches.forget_council(council);
        let counter = support::statements::Counter::default();
        let _guard = counter.install();
        // Eight at once, on this test's one thread (where the count is kept).
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] =
            std::array::from_fn(|_| support::Client {
                router: router.clone(),
                cookie: lead.cookie.clone(),
            });
        let replies = tokio::join!(
            a.get(page),
            b.get(page),
            c.get(page),
            d.get(page),
            e.get(page),
            f.get(page),
            g.get(page),
            h.get(page)
        );
        let replies = [
            replies.0, replies.1, replies.2, replies.3, replies.4, replies.5, replies.6, replies.7,
        ];
        for reply in &replies {
            assert_eq!(reply.status, 200, "{page}");
            assert!(reply.body.contains("Ashbridge"), "{page} shows the council");
        }
        assert_eq!(
            counter.count(),
            alone,
            "eight asking at once for {page} cost what one did"
        );
    }
}

#[sqlx::test]
async fn a_save_whose_statement_carries_its_marker_is_seen_by_the_next_page(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 2]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let ashbridge = latest(&pool, "ashbridge").await;
    let benchmark = format!("/assessments/{ashbridge}/benchmarks/1");
    for k in 0..5 {
        // Kept before the save.
        get_counting(&mut lead, &benchmark).await;
        let (page, again) = get_counting(&mut lead, &benchmark).await;
        assert_eq!(again, 0, "the benchmark page is kept");
        let html = page.html();
        let mut fields = support::form_fields(&html, "form[enctype='multipart/form-data']");
        let (name, _) = fields
            .iter()
            .find(|(n, _)| n.starts_with("evidence-"))
            .cloned()
            .expect("an evidence box");
        let typed = format!("Evidence saved through the application, time {k}");
        support::set_field(&mut fields, &name, &typed);
        support::set_field(&mut fields, "intent", "save");
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let reply = lead.post(&benchmark, &form).await;
        assert_eq!(reply.status, 303, "{}", reply.body);
        // The page after the save shows it, at once, every time.
        let (page, _) = get_counting(&mut lead, location(&reply)).await;
        assert!(page.body.contains(&typed), "save {k} is shown");
    }
    // No marker is left waiting.
    assert!(caches.markers_outstanding() == 0);
}

#[sqlx::test]
async fn the_national_picture_follows_an_agreement_made_elsewhere(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 2]);
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let agreed_in = |html: &str| -> i64 {
        // The cycle chooser says "2026/27 (N agreed)" for each cycle.
        let doc = scraper::Html::parse_document(html);
        let selector = scraper::Selector::parse("#cycle option").expect("a selector");
        doc.select(&selector)
            .filter_map(|o| {
                let text = o.text().collect::<String>();
                let n = text
                    .split('(')
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<i64>()
                    .ok()?;
                Some(n)
            })
            .sum()
    };
    let (before, _) = get_counting(&mut admin, "/national").await;
    let (_, again) = get_counting(&mut admin, "/national").await;
    assert_eq!(again, 0, "the national picture is kept");

    // Agreed elsewhere: every benchmark given an agreed score, then the state.
    let ashbridge = latest(&pool, "ashbridge").await;
    elsewhere(
        &pool,
        &caches,
        "update section_results set agreed_score = 3, agreed_not_scored = false where assessment_id = $1",
        ashbridge,
    )
    .await;
    elsewhere(
        &pool,
        &caches,
        "update assessments set state = 'agreed', submitted_at = coalesce(submitted_at, now()) where id = $1",
        ashbridge,
    )
    .await;
    // Read before the agreement, the picture was loaded again as it was heard.
    let (after, cost) = get_counting(&mut admin, "/national").await;
    assert_eq!(
        cost, 0,
        "loaded again after the agreement, without a reader asking"
    );
    assert_eq!(agreed_in(&after.body), agreed_in(&before.body) + 1);

    // Agreed no more, then agreed again, unread between: loaded again after the first change
    // only (nobody read that copy), so the next reader asks the database.
    for state in ["submitted", "agreed"] {
        elsewhere(
            &pool,
            &caches,
            &format!("update assessments set state = '{state}' where id = $1"),
            ashbridge,
        )
        .await;
    }
    let (last, cost) = get_counting(&mut admin, "/national").await;
    assert!(cost > 0, "not loaded again while unread");
    assert_eq!(agreed_in(&last.body), agreed_in(&before.body) + 1);
}

#[sqlx::test]
async fn a_session_ended_or_a_role_removed_elsewhere_ends_at_once(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::full_demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 3]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    get_counting(&mut lead, "/account").await;
    get_counting(&mut lead, "/orgs/ashbridge").await;
    get_counting(&mut board, "/orgs/ashbridge").await;
    let (_, again) = get_counting(&mut board, "/orgs/ashbridge").await;
    assert_eq!(again, 0, "who is signed in is kept");

    let lead_id: Uuid =
        sqlx::query_scalar("select id from users where email = 'lead@ashbridge.example'")
            .fetch_one(&pool)
            .await
            .expect("the lead");
    elsewhere(
        &pool,
        &caches,
        "delete from sessions where user_id = $1",
        lead_id,
    )
    .await;
    assert_eq!(location(&lead.get("/account").await), "/login");

    let board_id: Uuid =
        sqlx::query_scalar("select id from users where email = 'board@ashbridge.example'")
            .fetch_one(&pool)
            .await
            .expect("the board member");
    elsewhere(
        &pool,
        &caches,
        "delete from memberships where user_id = $1",
        board_id,
    )
    .await;
    assert_eq!(board.get("/orgs/ashbridge").await.status, 404);
}

#[tokio::test]
async fn nothing_is_kept_while_changes_cannot_be_heard() {
    // Nothing listens on port 1: the server can never hear of a change, so keeps nothing.
    let pool = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(200))
        .connect_lazy("postgres://nobody@127.0.0.1:1/nothing")
        .expect("a lazy pool");
    let caches = Caches::start(&pool);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!caches.listening());
    let principal = prevent_assure::auth::Principal {
        user_id: Uuid::new_v4(),
        email: "someone@example.org".into(),
        display_name: "Someone".into(),
        memberships: Vec::new(),
        session_hash: vec![7; 32],
        unread: 0,
    };
    let far = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    caches.keep_principal(caches.generation(), &principal, far);
    assert!(caches.principal(&principal.session_hash).is_none());
    assert!(caches.principals.is_empty());
}

#[sqlx::test]
async fn the_channel_grid_is_kept_and_follows_a_statement_changed_anywhere(pool: PgPool) {
    let _turn = ONE_AT_A_TIME.lock().await;
    let state = support::demo_state(pool.clone()).await;
    let caches = state.caches.clone();
    listening(&caches).await;
    let router = router_from(state, [10, 9, 0, 3]);
    let mut team = signed_in(&router, "channel@homeoffice.example").await;
    let ashbridge = |body: &str| -> String {
        texts(&scraper::Html::parse_document(body), "#grid tbody tr")
            .into_iter()
            .find(|r| r.contains("Ashbridge"))
            .expect("Ashbridge in the grid")
    };
    let (first, cost) = get_counting(&mut team, "/channel").await;
    assert!(cost > 0);
    assert!(
        ashbridge(&first.body).contains("Not started"),
        "{}",
        ashbridge(&first.body)
    );
    let (_, again) = get_counting(&mut team, "/channel").await;
    assert_eq!(again, 0, "the grid is kept");
    let (_, region) = get_counting(&mut team, "/channel?region=north-vale&area=2").await;
    assert_eq!(region, 0, "a region and a key area of the kept grid");

    // Started through the pages (which forget nothing of the grid themselves): its trigger's
    // notification drops the copy, and the next view shows the draft.
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let started = lead
        .post(
            "/assessments",
            &[
                ("organisation", "ashbridge"),
                ("from", "blank"),
                ("framework", "channel-aas-2020"),
            ],
        )
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let statement: Uuid = location(&started)
        .rsplit('/')
        .next()
        .and_then(|id| id.parse().ok())
        .expect("the statement's id");
    caches.refreshed(Duration::from_secs(10)).await;
    let (draft, cost) = get_counting(&mut team, "/channel").await;
    assert_eq!(cost, 0, "read before, loaded again as the change was heard");
    assert!(
        ashbridge(&draft.body).contains("Draft"),
        "{}",
        ashbridge(&draft.body)
    );

    // Submitted elsewhere (another server, psql): shown once heard, with its ratings.
    elsewhere(
        &pool,
        &caches,
        "update answers set rating_id = (select r.id from ratings r join assessments a on a.framework_id = r.framework_id
                                         where a.id = $1 and r.code = 'amber')
         where assessment_id = $1",
        statement,
    )
    .await;
    let (_, still) = get_counting(&mut team, "/channel").await;
    assert_eq!(
        still, 0,
        "a draft's answers are not in the grid: still kept"
    );
    elsewhere(
        &pool,
        &caches,
        "update assessments set state = 'submitted', submitted_at = now() where id = $1",
        statement,
    )
    .await;
    let (submitted, cost) = get_counting(&mut team, "/channel").await;
    assert_eq!(cost, 0, "loaded again as the change was heard");
    let row = ashbridge(&submitted.body);
    assert!(
        row.contains("Submitted") && row.contains(" A A A "),
        "{row}"
    );
    // Returned, then removed elsewhere, unread between: the grid is loaded again after the
    // first change only, and its next reader asks the database, and sees it not started.
    elsewhere(
        &pool,
        &caches,
        "update assessments set state = 'draft', submitted_at = null where id = $1",
        statement,
    )
    .await;
    elsewhere(
        &pool,
        &caches,
        "delete from assessments where id = $1",
        statement,
    )
    .await;
    let (removed, cost) = get_counting(&mut team, "/channel").await;
    assert!(cost > 0, "not loaded again while unread");
    assert!(ashbridge(&removed.body).contains("Not started"));
}
