//! Bad input and outages never cost a user their work: control characters are taken out at
//! the boundary (never a 500), a database that cannot be reached is a 503 that says what was
//! not saved, and a kept session is never used past its limits.

mod support;

use std::time::{Duration, Instant};

use sqlx::PgPool;
use support::{Client, location, router_from, signed_in, texts};

#[sqlx::test]
async fn nul_and_other_control_characters_never_give_a_500_and_the_typing_is_kept(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 40, 0, 1]);
    // Signing in with a NUL in the email: refused as any wrong address is.
    let mut anonymous = Client::new(router.clone());
    let reply = anonymous
        .post(
            "/login",
            &[("email", "lead@ashbridge.example\0"), ("password", "x\0y")],
        )
        .await;
    assert!(
        reply.status.is_client_error() || reply.status == 200,
        "{}",
        reply.status
    );

    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let started = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&started).to_owned();
    let page = format!("{address}/benchmarks/1");
    let saved = lead
        .submit_page(
            &page,
            "form[action$='/benchmarks/1']",
            &[
                (
                    "evidence-1.1",
                    "The CTLP\0 was shared with\u{202e} the board.",
                ),
                ("new-action-description", "Brief\0 members"),
                ("new-action-owner", "Community\u{0} Safety"),
                ("new-action-target", "March\u{7} 2027"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let stored: (String, String, String, String) = sqlx::query_as(
        "select an.evidence, a.description, a.owner_text, a.target_text
         from answers an join items i on i.id = an.item_id, actions a
         where i.code = '1.1' and an.assessment_id = $1::uuid and a.assessment_id = $1::uuid",
    )
    .bind(address.trim_start_matches("/assessments/"))
    .fetch_one(&pool)
    .await
    .expect("stored");
    assert_eq!(
        stored,
        (
            "The CTLP was shared with the board.".to_owned(),
            "Brief members".to_owned(),
            "Community Safety".to_owned(),
            "March 2027".to_owned()
        ),
        "stored without the control characters"
    );

    // The query filters and a NUL in an address.
    for uri in [
        "/orgs/ashbridge/actions?owner=%00",
        "/orgs/ashbridge/actions.csv?owner=a%00b",
        "/orgs/ashbridge/actions.xlsx?owner=%00",
        "/orgs/ashbridge/audit?actor=%00",
        "/orgs/ashbridge/audit?actor=%FF%FE",
    ] {
        let reply = lead.get(uri).await;
        assert_eq!(reply.status, 200, "{uri}");
    }
    for uri in ["/orgs/%00/actions", "/regions/a%00b", "/frameworks/%00"] {
        let reply = lead.get(uri).await;
        assert!(reply.status.is_client_error(), "{uri}: {}", reply.status);
    }
    // Every form of the account and people pages, with NUL in each field.
    for (uri, form) in [
        (
            "/account/password",
            vec![("current", "a\0"), ("new", "b\0"), ("confirm", "c\0")],
        ),
        (
            "/orgs/ashbridge/people",
            vec![
                ("email", "x\0@y.example"),
                ("name", "N\0"),
                ("role", "board\0"),
            ],
        ),
        ("/account/mail", vec![("reminders", "\0")]),
    ] {
        let reply = lead.post(uri, &form).await;
        assert!(!reply.status.is_server_error(), "{uri}: {}", reply.status);
    }
    let kept = lead
        .post(
            "/orgs/ashbridge/people",
            &[
                ("email", "not-an-email\0"),
                ("name", "Jo\0 Bloggs"),
                ("role", "board"),
            ],
        )
        .await;
    assert_eq!(kept.status, 422);
    assert_eq!(
        support::attr(&kept.html(), "#name", "value").as_deref(),
        Some("Jo Bloggs")
    );
}

#[sqlx::test]
async fn a_database_that_cannot_be_reached_is_a_503_that_says_what_was_not_saved(pool: PgPool) {
    let good = support::state(pool.clone()).await;
    // The same application over a pool whose server does not answer.
    let gone = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(prevent_assure::db::ACQUIRE_TIMEOUT)
        .connect_lazy("postgres://nobody@127.0.0.1:1/nothing")
        .expect("a lazy pool");
    let state = prevent_assure::app::AppState { db: gone, ..good };
    let router = router_from(state, [10, 40, 0, 2]);
    let mut client = Client::new(router.clone());
    let started = Instant::now();
    let reply = client
        .post(
            "/login",
            &[
                ("email", "lead@ashbridge.example"),
                ("password", "whatever-it-is"),
            ],
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(reply.status, 503);
    assert_eq!(reply.header("retry-after"), Some("5"));
    let text = texts(&reply.html(), "main p").join(" ");
    assert!(text.contains("what you just sent was not saved"), "{text}");
    assert!(
        text.contains("check the page before sending it again"),
        "{text}"
    );
    let started = Instant::now();
    let health = client.get("/healthz").await;
    assert_eq!(health.status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
}

#[sqlx::test]
async fn a_kept_session_is_never_used_past_its_limit(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let router = router_from(state.clone(), [10, 40, 0, 3]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    assert_eq!(lead.get("/account").await.status, 200);
    assert_eq!(board.get("/account").await.status, 200);
    // The lead's session is made idle past its limit, the board member's past its absolute
    // limit, by another program: both are refused at once, not after the minute a kept copy
    // would otherwise be used for.
    sqlx::query(
        "update sessions set last_seen_at = now() - interval '2 hours'
         where user_id = (select id from users where email = 'lead@ashbridge.example')",
    )
    .execute(&pool)
    .await
    .expect("idle");
    sqlx::query(
        "update sessions set expires_at = now() - interval '1 second'
         where user_id = (select id from users where email = 'board@ashbridge.example')",
    )
    .execute(&pool)
    .await
    .expect("past its limit");
    for client in [&mut lead, &mut board] {
        let started = Instant::now();
        let mut status = 200;
        while started.elapsed() < Duration::from_secs(1) {
            status = client.get("/account").await.status.as_u16();
            if status != 200 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(status, 303, "refused within a second");
    }
}

/// The other fields the attack run named (a progress note, a region's name, an evidence
/// request, a reply, a return's reason): a NUL or an override in each is taken out, and what is
/// left is stored, or the page comes back with it kept; never a 500.
#[sqlx::test]
async fn each_named_field_takes_a_nul_out_and_keeps_the_rest(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 41, 0, 1]);
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let started = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&started).to_owned();
    let id = address.trim_start_matches("/assessments/").to_owned();
    // An action owned by the demo's owner, for a progress note on "Your actions".
    let action: uuid::Uuid = sqlx::query_scalar(
        "insert into actions (organisation_id, assessment_id, section_id, source, description, owner_text, owner_user_id)
         select a.organisation_id, a.id, s.id, 'benchmark', 'Brief the board', 'CSP Manager',
                (select id from users where email = 'owner@ashbridge.example')
         from assessments a join sections s on s.framework_id = a.framework_id and s.number = 1
         where a.id = $1::uuid returning id",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .expect("an action");
    let mut owner = signed_in(&router, "owner@ashbridge.example").await;
    let noted = owner
        .submit_page(
            "/me/actions",
            "main form",
            &[(
                &format!("action-{action}-note"),
                "Drafted\0 and\u{202e} shared",
            )],
            &format!("note-{action}"),
        )
        .await;
    assert!(!noted.status.is_server_error(), "{}", noted.status);
    let note: String = sqlx::query_scalar("select body from action_notes where action_id = $1")
        .bind(action)
        .fetch_one(&pool)
        .await
        .expect("the note");
    assert_eq!(note, "Drafted and shared");

    // A region's name.
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let region = admin
        .post(
            "/admin/regions",
            &[("name", "North\0 East"), ("slug", "north-east")],
        )
        .await;
    assert!(!region.status.is_server_error(), "{}", region.status);
    let name: String = sqlx::query_scalar("select name from regions where slug = 'north-east'")
        .fetch_one(&pool)
        .await
        .expect("the region");
    assert_eq!(name, "North East");
    // Nothing but a NUL: the form again, saying what is missing.
    let empty = admin
        .post("/admin/regions", &[("name", "\0"), ("slug", "\0")])
        .await;
    assert_eq!(empty.status, 422);

    // The adviser's evidence request, then the lead's reply.
    sqlx::query(
        "update assessments set state = 'in_review', submitted_at = now() where id = $1::uuid",
    )
    .bind(&id)
    .execute(&pool)
    .await
    .expect("in review");
    let mut adviser = signed_in(&router, "adviser.north-vale@homeoffice.example").await;
    let asked = adviser
        .submit_page(
            &format!("{address}/review"),
            "main form",
            &[("request-1", "Please\0 share the\u{202e} CTLP briefing")],
            "request-1",
        )
        .await;
    assert_eq!(asked.status, 303, "{}", asked.body);
    let (request, body): (uuid::Uuid, String) = sqlx::query_as(
        "select id, body from comments where assessment_id = $1::uuid and kind = 'evidence_request'",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .expect("the request");
    assert_eq!(body, "Please share the CTLP briefing");
    let page = format!("{address}/benchmarks/1");
    let replied = lead
        .submit_page(
            &page,
            "form[action$='/benchmarks/1']",
            &[(&format!("reply-{request}"), "Attached\0 to benchmark 1")],
            &format!("reply-{request}"),
        )
        .await;
    assert!(!replied.status.is_server_error(), "{}", replied.status);
    let reply: String = sqlx::query_scalar(
        "select body from comments where assessment_id = $1::uuid and kind <> 'evidence_request'
         order by created_at desc limit 1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .expect("the reply");
    assert_eq!(reply, "Attached to benchmark 1");

    // A return's reason: only a NUL is no reason (the page again, saying so); otherwise kept.
    let bare = adviser
        .post(&format!("{address}/return"), &[("reason", "\0\u{7}")])
        .await;
    assert_eq!(bare.status, 422);
    let refused = adviser
        .post(
            &format!("{address}/return"),
            &[("reason", &"x".repeat(2001))],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        texts(&refused.html(), "#reason"),
        ["x".repeat(2001)],
        "the typing is kept"
    );
    let returned = adviser
        .post(
            &format!("{address}/return"),
            &[("reason", "Benchmark\0 1 needs the\u{202e} briefing")],
        )
        .await;
    assert_eq!(returned.status, 303);
    let reason: serde_json::Value = sqlx::query_scalar(
        "select after from audit_events where action = 'assessment.returned' and entity_id = $1",
    )
    .bind(&id)
    .fetch_one(&pool)
    .await
    .expect("the return");
    assert_eq!(reason["reason"], "Benchmark 1 needs the briefing");
}
