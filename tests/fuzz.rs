//! Malformed bodies on every POST route, with a valid session: missing, duplicated, oversized
//! and wrong-typed fields, NUL and invalid UTF-8, broken multipart. Nothing gets a 5xx, and the
//! service answers normally afterwards.

mod support;

use axum::body::Body;
use axum::http::Request;
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, router_from};

/// (content type, body) pairs no page of the service sends.
fn bodies() -> Vec<(&'static str, Vec<u8>)> {
    let form = "application/x-www-form-urlencoded";
    let mut out: Vec<(&'static str, Vec<u8>)> = [
        "",
        "=",
        "&&&",
        "a",
        "%",
        "%zz=%zz",
        "%00=%00",
        "version=abc",
        "version=-1&intent=save",
        "version=99999999999999999999999&intent=save",
        "intent=",
        "intent=%00",
        "intent=save&intent=save&intent=publish",
        "evidence-1.1=%00%00&status-1.1=%00&version=1&intent=save",
        "status-1.1=not-a-status&version=1&intent=save",
        "proposed=9&criteria=zzz&version=1&intent=save",
        "new-action-description=%00&new-action-target=31%2F02%2F2027&intent=add-action",
        "reason=%00&intent=return",
        "email=%00%40x&password=%00&name=%00&role=%00",
        "panel=combined&declare=yes&combined_with=%E2%80%AE",
        "organisation=..%2F..%2Fetc&from=blank&framework=%00",
        "reminders=yes&digests=yes&reminders=no",
        "slug=UPPER&name=%00&region=%00&label=20x1%2F22&deadline=2027-02-30",
        "current=%FF%FE&new=%FF&confirm=%FE",
        "agreed-1=11&adviser-1=-3&summary-1=%00&intent=agree",
        "request-5=%00&intent=request-5&intent=request-99",
    ]
    .iter()
    .map(|b| (form, b.as_bytes().to_vec()))
    .collect();
    // Raw bytes that are not UTF-8 at all, and not percent-encoded.
    out.push((form, vec![0xff, 0xfe, 0x00, b'=', 0x80, 0x81]));
    // A value of 200 kB, and 5,000 fields.
    out.push((
        form,
        format!("evidence-1.1={}", "x".repeat(200_000)).into_bytes(),
    ));
    out.push((
        form,
        (0..5000)
            .map(|i| format!("f{i}={i}"))
            .collect::<Vec<_>>()
            .join("&")
            .into_bytes(),
    ));
    // Larger than any form may be (the benchmark page's limit is 21 MB; others 2 MB).
    out.push((form, vec![b'a'; 3 * 1024 * 1024]));
    // JSON where a form is expected.
    out.push((
        "application/json",
        br#"{"intent": "save", "version": 1}"#.to_vec(),
    ));
    // Broken multipart: a boundary that never appears, a part never closed, a file field with
    // a NUL and a bidirectional override in its name.
    out.push((
        "multipart/form-data; boundary=XYZ",
        b"--ABC\r\n\r\nnothing".to_vec(),
    ));
    out.push((
        "multipart/form-data; boundary=XYZ",
        b"--XYZ\r\nContent-Disposition: form-data; name=\"intent\"\r\n\r\nsave".to_vec(),
    ));
    out.push((
        "multipart/form-data; boundary=XYZ",
        "--XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\u{0}\u{202e}fdp.exe\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XYZ\r\nContent-Disposition: form-data; name=\"intent\"\r\n\r\nupload\r\n--XYZ--\r\n"
            .as_bytes()
            .to_vec(),
    ));
    out.push(("multipart/form-data", b"no boundary at all".to_vec()));
    out.push(("text/plain", b"\x00\x01\x02".to_vec()));
    out
}

async fn ids(pool: &PgPool) -> (String, String, String, String, String, String) {
    let one = |sql: &'static str| async move {
        sqlx::query_scalar::<_, String>(sql)
            .fetch_one(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    };
    (
        one("select a.id::text from assessments a join organisations o on o.id = a.organisation_id
             join frameworks f on f.id = a.framework_id join cycles c on c.id = a.cycle_id
             where o.slug = 'ashbridge' and f.code = 'prevent-la-2018' order by c.starts_on desc limit 1")
        .await,
        one("select a.id::text from assessments a join organisations o on o.id = a.organisation_id
             join frameworks f on f.id = a.framework_id join cycles c on c.id = a.cycle_id
             where o.slug = 'ashbridge' and f.code = 'channel-aas-2020' order by c.starts_on desc limit 1")
        .await,
        one("select a.id::text from actions a join organisations o on o.id = a.organisation_id
             where o.slug = 'ashbridge' and a.assessment_id is not null order by a.created_at desc limit 1")
        .await,
        one("select id::text from users where email = 'signatory@greyhaven.example'").await,
        one("select m.id::text from memberships m join users u on u.id = m.user_id
             where u.email = 'signatory@greyhaven.example'")
        .await,
        one("select label from cycles order by starts_on desc limit 1").await,
    )
}

#[sqlx::test]
async fn thousands_of_malformed_bodies_on_every_post_route_never_get_a_5xx(pool: PgPool) {
    let router = router_from(support::full_demo_state(pool.clone()).await, [10, 60, 0, 1]);
    let (sa, statement, action, user, membership, cycle) = ids(&pool).await;
    let cycle = cycle.replace('/', "%2F");
    let token: String = sqlx::query_scalar("select unsubscribe_token from users limit 1")
        .fetch_one(&pool)
        .await
        .expect("a token");
    let routes = [
        "/login".to_owned(),
        "/account/password".to_owned(),
        "/account/mail".to_owned(),
        "/password-reset".to_owned(),
        format!("/password-reset/{}", "0".repeat(64)),
        format!("/invitations/{}", "f".repeat(64)),
        "/assessments".to_owned(),
        format!("/assessments/{sa}/benchmarks/1"),
        format!("/assessments/{sa}/benchmarks/99"),
        format!("/assessments/{statement}/key-areas/1"),
        format!("/assessments/{sa}/actions/{action}"),
        format!("/assessments/{sa}/actions/{action}/delete"),
        format!("/assessments/{sa}/submit"),
        format!("/assessments/{sa}/review"),
        format!("/assessments/{sa}/return"),
        format!("/assessments/{sa}/letter/edit"),
        format!("/assessments/{sa}/import"),
        format!("/assessments/{statement}/sign-off"),
        format!("/assessments/{statement}/sign-off/request"),
        format!("/assessments/{statement}/channel-review"),
        "/me/actions".to_owned(),
        "/orgs/ashbridge/people".to_owned(),
        "/notifications/read".to_owned(),
        "/notifications/1/read".to_owned(),
        format!("/unsubscribe/{token}/digests"),
        "/admin/regions".to_owned(),
        "/admin/councils".to_owned(),
        "/admin/users/new".to_owned(),
        format!("/admin/users/{user}/unlock"),
        format!("/admin/users/{user}/disable"),
        format!("/admin/users/{user}/enable"),
        format!("/admin/users/{user}/memberships/{membership}/remove"),
        "/admin/cycles".to_owned(),
        format!("/admin/letters/{cycle}"),
        format!("/admin/notifications/mail/{}/retry", uuid::Uuid::new_v4()),
        "/orgs/ashbridge/second-factor".to_owned(),
        "/login/code".to_owned(),
        "/login/set-up".to_owned(),
        "/account/second-factor".to_owned(),
        format!("/admin/users/{user}/second-factor/reset"),
        "/admin/identity-providers".to_owned(),
        format!("/admin/identity-providers/{}", uuid::Uuid::new_v4()),
    ];
    // These end the session they are sent with: each gets a session of its own below.
    let ending = ["/account/sign-out-everywhere", "/logout"];
    let bodies = bodies();
    let mut sent = 0;
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    // One malformed body to one route with one session: never a 5xx.
    let mut send =
        async |email: &str, cookie: Option<String>, route: &str, kind: &str, body: &[u8]| {
            let request = Request::post(route)
                .header("content-type", kind)
                .header("sec-fetch-site", "same-origin")
                .header("cookie", cookie.unwrap_or_default())
                .body(Body::from(body.to_vec()))
                .expect("a request");
            let reply = support::send(&router, request).await;
            sent += 1;
            *statuses.entry(reply.status.as_u16()).or_default() += 1;
            assert!(
                !reply.status.is_server_error(),
                "{email} POST {route} ({kind}, {} bytes): {}\n{}",
                body.len(),
                reply.status,
                reply.body.chars().take(300).collect::<String>()
            );
        };
    for email in [
        "lead@ashbridge.example",
        "adviser.north-vale@homeoffice.example",
        "admin@prevent-assure.example",
    ] {
        let mut client = Client::new(router.clone());
        assert_eq!(client.sign_in(email, DEMO_PASSWORD).await.status, 303);
        for route in &routes {
            for (kind, body) in &bodies {
                send(email, client.cookie.clone(), route, kind, body).await;
            }
        }
        // Still signed in, and the service answers.
        assert_eq!(client.get("/account").await.status, 200, "{email}");
        for route in ending {
            for (kind, body) in &bodies {
                let mut own = Client::new(router.clone());
                assert_eq!(own.sign_in(email, DEMO_PASSWORD).await.status, 303);
                send(email, own.cookie.clone(), route, kind, body).await;
            }
        }
    }
    assert!(sent >= 2000, "{sent} requests");
    eprintln!("{sent} malformed requests: {statuses:?}");
    let mut lead = Client::new(router.clone());
    assert_eq!(
        lead.sign_in("lead@ashbridge.example", DEMO_PASSWORD)
            .await
            .status,
        303
    );
    assert_eq!(lead.get("/orgs/ashbridge").await.status, 200);
    assert_eq!(lead.get("/healthz").await.status, 200);
}

/// A form larger than its page takes is refused with a page in words that says nothing was
/// saved (it was axum's plain-text "Failed to buffer the request body"), and a workbook too
/// large to import is refused with the limit the route has (the page said 20 MB; it takes 2).
#[sqlx::test]
async fn a_form_larger_than_its_page_takes_is_refused_with_a_page_in_words(pool: PgPool) {
    let router = router_from(support::full_demo_state(pool.clone()).await, [10, 60, 0, 1]);
    let (sa, ..) = ids(&pool).await;
    let lead = support::signed_in(&router, "lead@ashbridge.example").await;
    let post = |path: &str, kind: &str, body: Vec<u8>| {
        Request::post(path)
            .header("content-type", kind)
            .header("sec-fetch-site", "same-origin")
            .header("cookie", lead.cookie.clone().unwrap_or_default())
            .body(Body::from(body))
            .expect("a request")
    };
    let form = "application/x-www-form-urlencoded";
    let read = support::send(
        &router,
        post(
            "/account/password",
            form,
            b"current=x&new=y&confirm=y".to_vec(),
        ),
    )
    .await;
    assert_eq!(read.status, 422);
    let mut long = b"current=x&new=y&confirm=".to_vec();
    long.extend(vec![b'a'; 3 * 1024 * 1024]);
    let refused = support::send(&router, post("/account/password", form, long)).await;
    assert_eq!(refused.status, 413);
    assert_eq!(
        support::texts(&refused.html(), "h1"),
        ["That was too much to send"]
    );
    assert!(
        refused.body.contains("nothing was saved"),
        "{}",
        refused.body
    );

    let boundary = "XYZ";
    let mut workbook = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"plan.xlsx\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    workbook.extend(vec![b'a'; 3 * 1024 * 1024]);
    workbook.extend(format!("\r\n--{boundary}--\r\n").into_bytes());
    let refused = support::send(
        &router,
        post(
            &format!("/assessments/{sa}/import"),
            &format!("multipart/form-data; boundary={boundary}"),
            workbook,
        ),
    )
    .await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        support::texts(&refused.html(), ".govuk-error-summary__list a"),
        ["The file must be 2 MB or smaller"]
    );
}
