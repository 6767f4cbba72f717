//! Sign-in abuse (OWASP ASVS V6): the answers do not tell which emails have accounts, a
//! stranger's wrong passwords cannot keep an officer out of a device they used before,
//! password resets are limited per account and per address, and behind a trusted proxy the
//! client's own address is the one counted and audited.

mod support;

use axum::body::Body;
use axum::http::Request;
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, Reply, router_from, texts};

const LEAD: &str = "lead@ashbridge.example";

/// Every cookie a reply sets, as a Cookie header would send them back.
fn cookies(reply: &Reply) -> String {
    reply
        .headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_owned())
        .collect::<Vec<_>>()
        .join("; ")
}

async fn sign_in_with(router: &axum::Router, cookie: &str, email: &str, password: &str) -> Reply {
    let body =
        serde_urlencoded::to_string([("email", email), ("password", password)]).expect("a form");
    let request = Request::post("/login")
        .header("host", "localhost")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header("cookie", cookie)
        .body(Body::from(body))
        .expect("a request");
    support::send(router, request).await
}

fn message(reply: &Reply) -> Vec<String> {
    texts(&reply.html(), ".govuk-error-summary__list a")
}

#[sqlx::test]
async fn wrong_passwords_do_not_keep_an_officer_out_nor_tell_who_has_an_account(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let officer = router_from(state.clone(), [10, 70, 0, 1]);
    let attacker = router_from(state.clone(), [203, 0, 113, 9]);
    // The officer signed in from this browser before: it has the device cookie.
    let first = sign_in_with(&officer, "", LEAD, DEMO_PASSWORD).await;
    assert_eq!(first.status, 303);
    let device = cookies(&first)
        .split("; ")
        .find(|c| c.starts_with("pa_device="))
        .expect("a device cookie")
        .to_owned();

    // Ten wrong passwords for the officer's address, and for an address with no account: the
    // answers are the same, word for word, at every step.
    for attempt in 1..=11 {
        let real = sign_in_with(&attacker, "", LEAD, "not-the-password").await;
        let none = sign_in_with(
            &attacker,
            "",
            "nobody@ashbridge.example",
            "not-the-password",
        )
        .await;
        assert_eq!(real.status, none.status, "attempt {attempt}");
        assert_eq!(message(&real), message(&none), "attempt {attempt}");
        if attempt >= 10 {
            assert!(
                message(&real)[0].starts_with("There have been too many failed sign-ins"),
                "{:?}",
                message(&real)
            );
        } else {
            assert_eq!(
                message(&real),
                ["The email address or password is not right"]
            );
        }
    }
    // The right password from a new device waits, with the same words as for anyone.
    let new_device = sign_in_with(&attacker, "", LEAD, DEMO_PASSWORD).await;
    assert_eq!(new_device.status, 422);
    assert!(message(&new_device)[0].starts_with("There have been too many failed sign-ins"));
    // From the officer's own browser, the right password still signs in.
    let own = sign_in_with(&officer, &device, LEAD, DEMO_PASSWORD).await;
    assert_eq!(own.status, 303, "{:?}", message(&own));
    let via: serde_json::Value = sqlx::query_scalar(
        "select after from audit_events where action = 'sign_in.succeeded' order by id desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(via["from_known_device_while_held"], true);
    // A wrong password from the officer's own browser is still wrong.
    let wrong = sign_in_with(&officer, &device, LEAD, "not-the-password").await;
    assert_eq!(wrong.status, 422);
    // The refusals are on the trail, for the address with no account too.
    let refused: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'sign_in.refused_locked'
         and actor_label in ('lead@ashbridge.example', 'nobody@ashbridge.example')",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert!(refused >= 3, "{refused}");
}

/// Failures long past (outside the 15-minute window) count for an account no more than for an
/// address with none; and a network that has failed a hundred times waits, but not a browser
/// an officer behind it has signed in from before.
#[sqlx::test]
async fn old_failures_tell_nothing_and_a_busy_network_does_not_keep_an_officer_out(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let office = router_from(state.clone(), [10, 71, 0, 1]);
    let first = sign_in_with(&office, "", LEAD, DEMO_PASSWORD).await;
    assert_eq!(first.status, 303);
    let device = cookies(&first)
        .split("; ")
        .find(|c| c.starts_with("pa_device="))
        .expect("a device cookie")
        .to_owned();
    // Nine failures each, then an hour passes.
    for _ in 0..9 {
        sign_in_with(&office, "", LEAD, "not-the-password").await;
        sign_in_with(&office, "", "nobody@ashbridge.example", "not-the-password").await;
    }
    sqlx::query("update sign_in_attempts set attempted_at = now() - interval '1 hour'")
        .execute(&pool)
        .await
        .expect("an hour later");
    for attempt in 1..=3 {
        let real = sign_in_with(&office, "", LEAD, "not-the-password").await;
        let none = sign_in_with(&office, "", "nobody@ashbridge.example", "not-the-password").await;
        assert_eq!(
            message(&real),
            ["The email address or password is not right"],
            "attempt {attempt}: old failures do not count"
        );
        assert_eq!(message(&real), message(&none), "attempt {attempt}");
    }

    // A hundred failures from the office's network (someone else there): the network waits,
    // the officer's own browser on it does not.
    sqlx::query(
        "insert into sign_in_attempts (ip, email, succeeded, attempted_at)
         select '10.71.0.1', 'guess' || g || '@example.org', false, now() from generate_series(1, 100) g",
    )
    .execute(&pool)
    .await
    .expect("failures from the network");
    let stranger = sign_in_with(&office, "", "board@ashbridge.example", DEMO_PASSWORD).await;
    assert_eq!(stranger.status, 429);
    assert!(message(&stranger)[0].contains("too many failed sign-ins from your network"));
    let own = sign_in_with(&office, &device, LEAD, DEMO_PASSWORD).await;
    assert_eq!(own.status, 303, "{:?}", message(&own));
}

#[sqlx::test]
async fn password_resets_are_limited_per_account_and_per_address_with_the_same_answer(
    pool: PgPool,
) {
    let state = support::demo_state(pool.clone()).await;
    let router = router_from(state.clone(), [198, 51, 100, 7]);
    let mut client = Client::new(router.clone());
    let mut answers = Vec::new();
    for email in
        std::iter::repeat_n(LEAD, 6).chain(std::iter::repeat_n("nobody@ashbridge.example", 2))
    {
        let reply = client.post("/password-reset", &[("email", email)]).await;
        assert_eq!(reply.status, 200);
        answers.push(
            texts(&reply.html(), "main h1, main p")
                .join(" ")
                .replace(email, "EMAIL"),
        );
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    let mails: i64 = sqlx::query_scalar(
        "select count(*) from outbox where to_address = 'lead@ashbridge.example' and subject like 'Reset%'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(mails, 3, "at most three reset mails an hour to one account");
    // From one address: at most ten requests an hour, whatever the emails.
    for n in 0..6 {
        let email = format!(
            "lead@{}",
            [
                "brackenfield",
                "calderbrook",
                "dunmere",
                "eastholme",
                "greyhaven",
                "fenwick-vale"
            ][n]
        );
        client
            .post("/password-reset", &[("email", &format!("{email}.example"))])
            .await;
    }
    let sent: i64 = sqlx::query_scalar("select count(*) from outbox where subject like 'Reset%'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(
        sent,
        3 + 2,
        "the address's eleventh and later requests send nothing"
    );
    let throttled: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'password_reset.throttled'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(throttled, 3 + 4, "each refusal audited");
}

#[sqlx::test]
async fn behind_a_trusted_proxy_the_clients_own_address_is_counted_and_audited(pool: PgPool) {
    let mut state = support::demo_state(pool.clone()).await;
    let send = |router: axum::Router, forwarded: &'static str| async move {
        let body = "email=nobody%40x.example&password=wrong-password-here";
        let request = Request::post("/login")
            .header("host", "localhost")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header("x-forwarded-for", forwarded)
            .body(Body::from(body))
            .expect("a request");
        support::send(&router, request).await
    };
    let last_ip = |pool: PgPool| async move {
        sqlx::query_scalar::<_, String>(
            "select host(ip) from audit_events where action = 'sign_in.failed' order by id desc limit 1",
        )
        .fetch_one(&pool)
        .await
        .expect("audited")
    };
    // Off (the default): the header is ignored, whoever sends it.
    let direct = router_from(state.clone(), [10, 80, 0, 2]);
    send(direct, "203.0.113.7").await;
    assert_eq!(last_ip(pool.clone()).await, "10.80.0.2");
    // On: from the proxy, the address it saw; what the client wrote further left is not taken.
    let mut settings = (*state.settings).clone();
    settings.trusted_proxies = vec!["10.80.0.0/16".parse().expect("a network")];
    state.settings = std::sync::Arc::new(settings);
    let proxied = router_from(state.clone(), [10, 80, 0, 2]);
    send(proxied.clone(), "203.0.113.7").await;
    assert_eq!(last_ip(pool.clone()).await, "203.0.113.7");
    send(proxied.clone(), "1.1.1.1, 198.51.100.23, 10.80.5.5").await;
    assert_eq!(
        last_ip(pool.clone()).await,
        "198.51.100.23",
        "the right-most untrusted"
    );
    send(proxied, "not-an-address").await;
    assert_eq!(
        last_ip(pool.clone()).await,
        "10.80.0.2",
        "nothing usable: the proxy's own"
    );
    // Not from the proxy: ignored even when on.
    let other = router_from(state.clone(), [192, 0, 2, 44]);
    send(other, "203.0.113.7").await;
    assert_eq!(last_ip(pool.clone()).await, "192.0.2.44");

    // A client's own `Forwarded` header, passed on by a proxy that writes X-Forwarded-For (as
    // nginx does), is not read: only the header the proxies are said to write.
    let send_both = |router: axum::Router, forwarded: &'static str, xff: &'static str| async move {
        let body = "email=nobody%40x.example&password=wrong-password-here";
        let request = Request::post("/login")
            .header("host", "localhost")
            .header("content-type", "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin")
            .header("forwarded", forwarded)
            .header("x-forwarded-for", xff)
            .body(Body::from(body))
            .expect("a request");
        support::send(&router, request).await
    };
    let proxied = router_from(state.clone(), [10, 80, 0, 2]);
    send_both(proxied, "for=6.6.6.6", "6.6.6.6, 198.51.100.80").await;
    assert_eq!(
        last_ip(pool.clone()).await,
        "198.51.100.80",
        "X-Forwarded-For read, the client's Forwarded not"
    );
    let mut settings = (*state.settings).clone();
    settings.trusted_proxy_header = prevent_assure::auth::session::ProxyHeader::Forwarded;
    state.settings = std::sync::Arc::new(settings);
    let proxied = router_from(state, [10, 80, 0, 2]);
    send_both(
        proxied,
        "for=6.6.6.6, for=\"[2001:db8::7]:4711\"",
        "198.51.100.80",
    )
    .await;
    assert_eq!(
        last_ip(pool).await,
        "2001:db8::7",
        "with TRUSTED_PROXY_HEADER=forwarded, Forwarded read and X-Forwarded-For not"
    );
}
