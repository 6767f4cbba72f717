//! Sign-in, sessions, locking, CSRF and the audit trail, through the router on a fresh database.

mod support;

use prevent_assure::app::Settings;
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from, texts};

const LEAD: &str = "lead@ashbridge.example";
const ADMIN: &str = "admin@prevent-assure.example";

async fn client(pool: PgPool) -> Client {
    Client::new(router_from(support::demo_state(pool).await, [10, 0, 0, 1]))
}

async fn audit_count(pool: &PgPool, action: &str, email: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where action = $1 and actor_label = $2")
        .bind(action)
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("a count")
}

#[sqlx::test]
async fn signing_in_sets_an_httponly_samesite_cookie_and_a_new_id_each_time(pool: PgPool) {
    let mut browser = client(pool.clone()).await;

    let reply = browser.sign_in(LEAD, DEMO_PASSWORD).await;

    assert_eq!(reply.status, 303);
    let set = reply.header("set-cookie").expect("a session cookie");
    assert!(set.starts_with("pa_session="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    let first = browser.cookie.clone().expect("a cookie");
    assert_eq!(browser.get("/account").await.status, 200);

    // Signing in again, with the old cookie presented, gives a new id and ends the old one.
    browser.sign_in(LEAD, DEMO_PASSWORD).await;
    let second = browser.cookie.clone().expect("a cookie");
    assert_ne!(first, second);
    let mut old = Client {
        router: browser.router.clone(),
        cookie: Some(first),
    };
    assert_eq!(location(&old.get("/account").await), "/login");
    assert_eq!(audit_count(&pool, "sign_in.succeeded", LEAD).await, 2);
}

#[sqlx::test]
async fn the_cookie_is_secure_when_served_over_tls(pool: PgPool) {
    let mut state = support::demo_state(pool).await;
    state.settings = std::sync::Arc::new(Settings {
        secure_cookies: true,
        ..Settings::default()
    });
    let mut browser = Client::new(router_from(state, [10, 0, 0, 2]));

    let reply = browser.sign_in(LEAD, DEMO_PASSWORD).await;

    let set = reply.header("set-cookie").expect("a cookie");
    assert!(
        set.starts_with("__Host-pa_session=") && set.contains("; Secure"),
        "{set}"
    );
    assert!(reply.header("strict-transport-security").is_some());
}

#[sqlx::test]
async fn after_sign_out_the_old_cookie_opens_nothing(pool: PgPool) {
    let mut browser = client(pool.clone()).await;
    browser.sign_in(LEAD, DEMO_PASSWORD).await;
    let cookie = browser.cookie.clone();

    let reply = browser.post("/logout", &[]).await;

    assert_eq!(location(&reply), "/login?done=signed-out");
    let mut replay = Client {
        router: browser.router.clone(),
        cookie,
    };
    assert_eq!(location(&replay.get("/account").await), "/login");
    assert_eq!(audit_count(&pool, "sign_out", LEAD).await, 1);
}

#[sqlx::test]
async fn a_wrong_password_keeps_the_email_and_says_what_is_wrong(pool: PgPool) {
    let mut browser = client(pool).await;

    let reply = browser.sign_in(LEAD, "not the right password").await;

    assert_eq!(reply.status, 422);
    let html = reply.html();
    assert_eq!(
        texts(&html, ".govuk-error-summary__list a"),
        ["The email address or password is not right"]
    );
    let value = scraper::Selector::parse("#email").expect("selector");
    assert_eq!(
        html.select(&value)
            .next()
            .and_then(|e| e.value().attr("value")),
        Some(LEAD)
    );
    assert!(browser.cookie.is_none());
}

#[sqlx::test]
async fn eleven_wrong_passwords_lock_the_account_until_an_administrator_unlocks_it(pool: PgPool) {
    let mut browser = client(pool.clone()).await;
    for _ in 0..11 {
        let reply = browser.sign_in(LEAD, "wrong password, wrong").await;
        assert_eq!(reply.status, 422);
    }

    let refused = browser.sign_in(LEAD, DEMO_PASSWORD).await;

    assert_eq!(refused.status, 422);
    assert!(
        texts(&refused.html(), ".govuk-error-summary__list a")[0]
            .starts_with("There have been too many failed sign-ins with this email address")
    );
    assert!(browser.cookie.is_none());
    assert_eq!(audit_count(&pool, "sign_in.failed", LEAD).await, 10);
    assert_eq!(audit_count(&pool, "account.locked", LEAD).await, 1);
    assert_eq!(audit_count(&pool, "sign_in.refused_locked", LEAD).await, 2);

    let mut admin = client(pool.clone()).await;
    admin.sign_in(ADMIN, DEMO_PASSWORD).await;
    let lead_id: uuid::Uuid = sqlx::query_scalar("select id from users where email = $1")
        .bind(LEAD)
        .fetch_one(&pool)
        .await
        .expect("the lead");
    let page = admin.get(&format!("/admin/users/{lead_id}")).await;
    assert!(texts(&page.html(), ".govuk-tag").contains(&"Locked".to_owned()));
    assert_eq!(
        admin
            .post(&format!("/admin/users/{lead_id}/unlock"), &[])
            .await
            .status,
        303
    );

    assert_eq!(browser.sign_in(LEAD, DEMO_PASSWORD).await.status, 303);
    assert_eq!(audit_count(&pool, "user.unlocked", ADMIN).await, 1);
}

#[sqlx::test]
async fn too_many_failures_from_one_address_make_it_wait(pool: PgPool) {
    let mut state = support::demo_state(pool).await;
    state.settings = std::sync::Arc::new(Settings {
        sign_in_limit_per_ip: 3,
        ..Settings::default()
    });
    let mut browser = Client::new(router_from(state.clone(), [10, 0, 0, 9]));
    for n in 0..3 {
        browser
            .sign_in(&format!("nobody{n}@example.org"), "wrong password, wrong")
            .await;
    }

    let reply = browser.sign_in(LEAD, DEMO_PASSWORD).await;

    assert_eq!(reply.status, 429);
    // Another address is not affected.
    let mut elsewhere = Client::new(router_from(state, [10, 0, 0, 10]));
    assert_eq!(elsewhere.sign_in(LEAD, DEMO_PASSWORD).await.status, 303);
}

#[sqlx::test]
async fn a_cross_site_post_is_refused_with_a_friendly_403(pool: PgPool) {
    let mut browser = client(pool.clone()).await;
    browser.sign_in(LEAD, DEMO_PASSWORD).await;
    let before: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&pool)
        .await
        .expect("count");

    for (site, origin) in [
        (Some("cross-site"), "https://evil.example"),
        (None, "https://evil.example"),
        (None, ""),
    ] {
        let mut request = axum::http::Request::post("/account/sign-out-everywhere")
            .header("host", "localhost")
            .header("cookie", browser.cookie.clone().expect("cookie"));
        if let Some(site) = site {
            request = request.header("sec-fetch-site", site);
        }
        if !origin.is_empty() {
            request = request.header("origin", origin);
        }
        let reply = browser
            .send(request.body(axum::body::Body::empty()).expect("request"))
            .await;
        assert_eq!(reply.status, 403, "{site:?} {origin}");
        assert_eq!(texts(&reply.html(), "h1"), ["This form could not be sent"]);
    }

    let after: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(after, before);
}

#[sqlx::test]
async fn changing_the_password_ends_the_other_sessions(pool: PgPool) {
    let router = router_from(support::demo_state(pool).await, [10, 0, 0, 3]);
    let mut laptop = Client::new(router.clone());
    let mut phone = Client::new(router.clone());
    laptop.sign_in(LEAD, DEMO_PASSWORD).await;
    phone.sign_in(LEAD, DEMO_PASSWORD).await;

    let reply = laptop
        .post(
            "/account/password",
            &[
                ("current", DEMO_PASSWORD),
                ("new", "fresh-meadow-lantern-19"),
                ("confirm", "fresh-meadow-lantern-19"),
            ],
        )
        .await;

    assert_eq!(location(&reply), "/account?done=password");
    assert_eq!(laptop.get("/account").await.status, 200);
    assert_eq!(location(&phone.get("/account").await), "/login");
    let mut again = Client::new(router);
    assert_eq!(again.sign_in(LEAD, DEMO_PASSWORD).await.status, 422);
    assert_eq!(
        again.sign_in(LEAD, "fresh-meadow-lantern-19").await.status,
        303
    );
}

#[sqlx::test]
async fn a_new_password_that_is_short_common_or_mistyped_is_refused_with_reasons(pool: PgPool) {
    let mut browser = client(pool).await;
    browser.sign_in(LEAD, DEMO_PASSWORD).await;

    for (new, confirm, message) in [
        (
            "short",
            "short",
            "Your password must be at least 12 characters long",
        ),
        (
            "qwerty123456",
            "qwerty123456",
            "That password is on a list of common passwords; choose one that is harder to guess",
        ),
        (
            "fresh-meadow-lantern-19",
            "fresh-meadow-lantern-91",
            "The passwords do not match",
        ),
    ] {
        let reply = browser
            .post(
                "/account/password",
                &[
                    ("current", DEMO_PASSWORD),
                    ("new", new),
                    ("confirm", confirm),
                ],
            )
            .await;
        assert_eq!(reply.status, 422);
        assert_eq!(
            texts(&reply.html(), ".govuk-error-summary__list a"),
            [message]
        );
    }
}

#[sqlx::test]
async fn sign_out_everywhere_ends_every_session(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 0, 0, 4]);
    let mut laptop = Client::new(router.clone());
    let mut phone = Client::new(router);
    laptop.sign_in(LEAD, DEMO_PASSWORD).await;
    phone.sign_in(LEAD, DEMO_PASSWORD).await;

    laptop.post("/account/sign-out-everywhere", &[]).await;

    assert_eq!(location(&phone.get("/account").await), "/login");
    assert_eq!(location(&laptop.get("/account").await), "/login");
}

#[sqlx::test]
async fn disabling_a_user_ends_their_sessions_and_stops_sign_in(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 0, 0, 5]);
    let mut lead = Client::new(router.clone());
    let mut admin = Client::new(router);
    lead.sign_in(LEAD, DEMO_PASSWORD).await;
    admin.sign_in(ADMIN, DEMO_PASSWORD).await;
    let id: uuid::Uuid = sqlx::query_scalar("select id from users where email = $1")
        .bind(LEAD)
        .fetch_one(&pool)
        .await
        .expect("id");

    admin.post(&format!("/admin/users/{id}/disable"), &[]).await;

    assert_eq!(location(&lead.get("/account").await), "/login");
    assert_eq!(lead.sign_in(LEAD, DEMO_PASSWORD).await.status, 422);
    assert_eq!(audit_count(&pool, "user.disabled", ADMIN).await, 1);
}

#[sqlx::test]
async fn an_idle_or_too_old_session_is_ended(pool: PgPool) {
    let mut browser = client(pool.clone()).await;
    browser.sign_in(LEAD, DEMO_PASSWORD).await;

    sqlx::query("update sessions set last_seen_at = now() - interval '31 minutes'")
        .execute(&pool)
        .await
        .expect("aged");
    assert_eq!(location(&browser.get("/account").await), "/login");

    browser.sign_in(LEAD, DEMO_PASSWORD).await;
    sqlx::query("update sessions set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("aged");
    assert_eq!(location(&browser.get("/account").await), "/login");

    browser.sign_in(LEAD, DEMO_PASSWORD).await;
    sqlx::query("update sessions set last_seen_at = now() - interval '29 minutes'")
        .execute(&pool)
        .await
        .expect("aged");
    assert_eq!(browser.get("/account").await.status, 200);
}

#[sqlx::test]
async fn an_invitation_is_a_one_time_link_that_sets_a_password_and_signs_in(pool: PgPool) {
    let mut lead = client(pool.clone()).await;
    lead.sign_in(LEAD, DEMO_PASSWORD).await;

    let reply = lead
        .post(
            "/orgs/ashbridge/people",
            &[
                ("email", "new.officer@ashbridge.example"),
                ("name", "Dee Fox"),
                ("role", "contributor"),
                ("sections", "3"),
                ("sections", "4"),
            ],
        )
        .await;
    assert_eq!(reply.status, 303, "{}", reply.body);

    let body: String = sqlx::query_scalar("select body from outbox where to_address = $1")
        .bind("new.officer@ashbridge.example")
        .fetch_one(&pool)
        .await
        .expect("the invitation mail");
    let path = &support::link_path(&body, "/invitations/");
    let stored: Vec<u8> = sqlx::query_scalar("select token_hash from one_time_tokens")
        .fetch_one(&pool)
        .await
        .expect("a token");
    assert!(!stored.is_empty() && !body.contains(&format!("{stored:x?}")));

    let mut newcomer = Client::new(lead.router.clone());
    assert_eq!(newcomer.get(path).await.status, 200);
    let refused = newcomer
        .post(
            path,
            &[
                ("name", "Dee Fox"),
                ("password", "password1234"),
                ("confirm", "password1234"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    let accepted = newcomer
        .post(
            path,
            &[
                ("name", "Dee Fox"),
                ("password", "quiet-harbour-lights-8"),
                ("confirm", "quiet-harbour-lights-8"),
            ],
        )
        .await;
    assert_eq!(location(&accepted), "/");
    let home = newcomer.get("/").await;
    assert!(
        texts(&home.html(), "main li")
            .iter()
            .any(|t| t.contains("Contributor, Ashbridge Borough Council (benchmarks 3, 4)"))
    );

    // Used once only.
    let mut again = Client::new(lead.router.clone());
    assert_eq!(again.get(path).await.status, 404);
    assert_eq!(audit_count(&pool, "membership.added", LEAD).await, 1);
    assert_eq!(
        audit_count(
            &pool,
            "invitation.accepted",
            "new.officer@ashbridge.example"
        )
        .await,
        1
    );
}

#[sqlx::test]
async fn an_expired_invitation_or_reset_link_does_not_work(pool: PgPool) {
    let mut browser = client(pool.clone()).await;
    browser.post("/password-reset", &[("email", LEAD)]).await;
    let body: String = sqlx::query_scalar("select body from outbox")
        .fetch_one(&pool)
        .await
        .expect("mail");
    let path = support::link_path(&body, "/password-reset/");
    sqlx::query("update one_time_tokens set expires_at = now() - interval '1 second'")
        .execute(&pool)
        .await
        .expect("expired");

    assert_eq!(browser.get(&path).await.status, 404);
    let reply = browser
        .post(
            &path,
            &[
                ("password", "quiet-harbour-lights-8"),
                ("confirm", "quiet-harbour-lights-8"),
            ],
        )
        .await;
    assert_eq!(reply.status, 404);
}

#[sqlx::test]
async fn a_reset_request_says_the_same_whether_or_not_the_account_exists(pool: PgPool) {
    let mut browser = client(pool.clone()).await;

    let known = browser.post("/password-reset", &[("email", LEAD)]).await;
    let unknown = browser
        .post("/password-reset", &[("email", "nobody@nowhere.example")])
        .await;

    assert_eq!(texts(&known.html(), "h1"), ["Check your email"]);
    assert_eq!(texts(&unknown.html(), "h1"), ["Check your email"]);
    let mails: i64 = sqlx::query_scalar("select count(*) from outbox")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(mails, 1);
}

#[sqlx::test]
async fn the_audit_trail_refuses_updates_and_deletes(pool: PgPool) {
    let mut browser = client(pool.clone()).await;
    browser.sign_in(LEAD, DEMO_PASSWORD).await;

    assert!(
        sqlx::query("update audit_events set action = 'x'")
            .execute(&pool)
            .await
            .is_err()
    );
    assert!(
        sqlx::query("delete from audit_events")
            .execute(&pool)
            .await
            .is_err()
    );
}

#[sqlx::test]
async fn the_administrator_audit_trail_filters_by_who_and_what(pool: PgPool) {
    let mut admin = client(pool.clone()).await;
    let mut lead = Client::new(admin.router.clone());
    lead.sign_in(LEAD, "wrong password, wrong").await;
    admin.sign_in(ADMIN, DEMO_PASSWORD).await;

    let page = admin.get("/admin/audit?action=sign_in.failed").await;

    assert_eq!(page.status, 200);
    let rows = texts(&page.html(), "tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains(LEAD) && rows[0].contains("10.0.0.1"));
    let bad = admin.get("/admin/audit?from=yesterday").await;
    assert_eq!(
        texts(&bad.html(), ".govuk-error-summary__list a"),
        ["Enter the date as year-month-day, like 2026-04-01"]
    );
}

#[sqlx::test]
async fn a_lock_ends_by_itself_after_its_time(pool: PgPool) {
    let mut browser = client(pool.clone()).await;
    for _ in 0..10 {
        browser.sign_in(LEAD, "wrong password, wrong").await;
    }
    assert_eq!(browser.sign_in(LEAD, DEMO_PASSWORD).await.status, 422);

    // Fifteen minutes later…
    // Fifteen minutes pass: the lock and the failures counted on the address both lapse.
    sqlx::query("update users set locked_until = now() - interval '1 second' where email = $1")
        .bind(LEAD)
        .execute(&pool)
        .await
        .expect("time passes");
    sqlx::query("update sign_in_attempts set attempted_at = now() - interval '16 minutes'")
        .execute(&pool)
        .await
        .expect("time passes");

    assert_eq!(browser.sign_in(LEAD, DEMO_PASSWORD).await.status, 303);
}

#[sqlx::test]
async fn an_unknown_email_gets_the_same_answer_as_a_wrong_password(pool: PgPool) {
    let mut browser = client(pool.clone()).await;

    let unknown = browser
        .sign_in("nobody@nowhere.example", DEMO_PASSWORD)
        .await;
    let wrong = browser.sign_in(LEAD, "wrong password, wrong").await;

    assert_eq!(unknown.status, wrong.status);
    assert_eq!(
        texts(&unknown.html(), ".govuk-error-summary__list a"),
        texts(&wrong.html(), ".govuk-error-summary__list a")
    );
    assert_eq!(
        audit_count(&pool, "sign_in.failed", "nobody@nowhere.example").await,
        1
    );
}

#[sqlx::test]
async fn the_users_list_pages_by_email_forwards_and_back(pool: PgPool) {
    sqlx::query(
        "insert into users (email, display_name)
         select 'pager' || lpad(g::text, 3, '0') || '@paging.example', 'Pager ' || g
         from generate_series(0, 129) g",
    )
    .execute(&pool)
    .await
    .expect("people");
    let mut admin = client(pool.clone()).await;
    admin.sign_in(ADMIN, DEMO_PASSWORD).await;
    let emails = |html: &scraper::Html| texts(html, "tbody tr td:nth-child(2)");
    let next = |html: &scraper::Html| support::attr(html, ".govuk-pagination__next a", "href");
    let previous = |html: &scraper::Html| support::attr(html, ".govuk-pagination__prev a", "href");

    let mut seen = Vec::new();
    let mut pages = Vec::new();
    let mut url = "/admin/users?q=paging.example".to_owned();
    loop {
        let page = admin.get(&url).await;
        assert_eq!(page.status, 200, "{url}");
        let html = page.html();
        assert_eq!(previous(&html).is_some(), !pages.is_empty(), "{url}");
        pages.push(emails(&html));
        seen.extend(emails(&html));
        match next(&html) {
            Some(href) => url = format!("/admin/users{href}"),
            None => break,
        }
    }
    let all: Vec<String> = (0..130)
        .map(|g| format!("pager{g:03}@paging.example"))
        .collect();
    assert_eq!(seen, all, "every match once, in order, over the pages");
    assert_eq!(pages.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50, 30]);

    // Back from the last page: the page before it, then the first, full.
    let last = admin.get(&url).await.html();
    let back = previous(&last).expect("a previous page");
    let middle = admin.get(&format!("/admin/users{back}")).await.html();
    assert_eq!(emails(&middle), pages[1]);
    let back = previous(&middle).expect("a previous page");
    let first = admin.get(&format!("/admin/users{back}")).await.html();
    assert_eq!(emails(&first), pages[0]);
    assert!(previous(&first).is_none());

    // A key that is no email address is only a place in the order, never an error.
    for odd in ["after=%00", "before=~~~", "after=zzz%40zz"] {
        let page = admin
            .get(&format!("/admin/users?q=paging.example&{odd}"))
            .await;
        assert_eq!(page.status, 200, "{odd}");
    }
}
