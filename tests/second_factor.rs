//! A second factor for everyone who can see many councils: an adviser is made to set up TOTP
//! at sign-in (the code computed here from the secret the page shows), then signs in with a
//! code (once: a code is not taken twice), with a recovery code once and not twice, is refused
//! a wrong code with the same words, and an administrator resets it. The secret is stored
//! sealed, and a council's lead still signs in with a password alone, unless the lead has
//! required a second factor of everyone at the council.

mod support;

use prevent_assure::auth::second_factor::{MfaKey, code_at, secret_from_text};
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from, texts};

const ADVISER: &str = "adviser.north-vale@homeoffice.example";
const ADMIN: &str = "admin@prevent-assure.example";

fn now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as u64
}

async fn router(pool: &PgPool) -> axum::Router {
    let mut state = support::demo_state(pool.clone()).await;
    let mut settings = (*state.settings).clone();
    settings.mfa_key = Some(MfaKey::from_hex(&"5a".repeat(32)).expect("a key"));
    settings.second_factor_required = true;
    state.settings = std::sync::Arc::new(settings);
    router_from(state, [10, 95, 0, 1])
}

/// Signs in with the password and sets the second factor up as the page asks; the secret and
/// the recovery codes shown.
async fn set_up(client: &mut Client, email: &str) -> (Vec<u8>, Vec<String>) {
    let reply = client.sign_in(email, DEMO_PASSWORD).await;
    assert_eq!(
        location(&reply),
        "/login/set-up",
        "{email} must set up first"
    );
    let page = client.get("/login/set-up").await;
    assert_eq!(page.status, 200);
    let html = page.html();
    assert!(page.body.contains("<svg"), "a QR code drawn on the server");
    let secret = secret_from_text(&texts(&html, "#secret")[0]).expect("the key as text");
    let wrong = client.post("/login/set-up", &[("code", "000000")]).await;
    assert_eq!(wrong.status, 422);
    let code = code_at(&secret, email, now());
    let done = client.post("/login/set-up", &[("code", &code)]).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let codes = texts(&done.html(), "#recovery-codes li");
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn sign_out(client: &mut Client) {
    client.post("/logout", &[]).await;
}

#[sqlx::test]
async fn an_adviser_sets_up_totp_at_sign_in_and_then_needs_a_code(pool: PgPool) {
    let router = router(&pool).await;
    let mut adviser = Client::new(router.clone());
    // Nothing opens between the password and the code.
    adviser.sign_in(ADVISER, DEMO_PASSWORD).await;
    assert_eq!(
        location(&adviser.get("/regions/north-vale").await),
        "/login"
    );
    let (secret, recovery) = set_up(&mut Client::new(router.clone()), ADVISER).await;
    let stored: Vec<u8> = sqlx::query_scalar("select totp_secret from users where email = $1")
        .bind(ADVISER)
        .fetch_one(&pool)
        .await
        .expect("sealed");
    assert!(
        !stored.windows(secret.len()).any(|w| w == secret.as_slice()),
        "the secret is not stored as it is"
    );

    // Signing in: the password, then a code. The code that set it up is not taken again.
    let mut adviser = Client::new(router.clone());
    assert_eq!(
        location(&adviser.sign_in(ADVISER, DEMO_PASSWORD).await),
        "/login/code"
    );
    let used = code_at(&secret, ADVISER, now());
    let reused = adviser.post("/login/code", &[("code", &used)]).await;
    assert_eq!(reused.status, 422);
    let wrong = adviser.post("/login/code", &[("code", "123456")]).await;
    assert_eq!(wrong.status, 422);
    assert_eq!(
        texts(&reused.html(), ".govuk-error-summary__list a"),
        texts(&wrong.html(), ".govuk-error-summary__list a"),
        "the same words whatever was wrong"
    );
    // The next step's code (the app's next one) is taken.
    let next = code_at(&secret, ADVISER, now() + 30);
    let signed_in = adviser.post("/login/code", &[("code", &next)]).await;
    assert_eq!(location(&signed_in), "/");
    assert_eq!(adviser.get("/regions/north-vale").await.status, 200);
    let account = adviser.get("/account").await.html();
    assert!(texts(&account, "#second-factor")[0].contains("10 recovery codes left"));
    sign_out(&mut adviser).await;

    // A recovery code, once.
    let mut adviser = Client::new(router.clone());
    adviser.sign_in(ADVISER, DEMO_PASSWORD).await;
    let recovered = adviser
        .post("/login/code", &[("code", &recovery[3].to_uppercase())])
        .await;
    assert_eq!(location(&recovered), "/");
    sign_out(&mut adviser).await;
    let mut again = Client::new(router.clone());
    again.sign_in(ADVISER, DEMO_PASSWORD).await;
    let twice = again.post("/login/code", &[("code", &recovery[3])]).await;
    assert_eq!(twice.status, 422, "a recovery code works once");
    // Five wrong codes: sign in again from the start.
    for _ in 0..3 {
        assert_eq!(
            again
                .post("/login/code", &[("code", "999999")])
                .await
                .status,
            422
        );
    }
    let fifth = again.post("/login/code", &[("code", "999999")]).await;
    assert_eq!(location(&fifth), "/login?done=code-tries");
    assert_eq!(
        location(&again.get("/login/code").await),
        "/login",
        "the challenge is gone"
    );

    // An administrator (who sets up their own first) resets the adviser's second factor; the
    // adviser sets it up again at the next sign-in.
    let mut admin = Client::new(router.clone());
    let (admin_secret, _) = set_up(&mut admin, ADMIN).await;
    assert!(!admin_secret.is_empty());
    let id: uuid::Uuid = sqlx::query_scalar("select id from users where email = $1")
        .bind(ADVISER)
        .fetch_one(&pool)
        .await
        .expect("the adviser");
    let page = admin.get(&format!("/admin/users/{id}")).await.html();
    assert!(texts(&page, "#second-factor")[0].starts_with("On since"));
    // The users list says who has one.
    let row = |html: &scraper::Html| {
        texts(html, "tbody tr")
            .into_iter()
            .find(|r| r.contains(ADVISER))
            .expect("the adviser's row")
    };
    let list = admin.get("/admin/users?q=north-vale").await.html();
    assert!(row(&list).contains("Set up"), "{}", row(&list));
    let reset = admin
        .post(&format!("/admin/users/{id}/second-factor/reset"), &[])
        .await;
    assert_eq!(
        location(&reset),
        format!("/admin/users/{id}?done=second-factor-reset")
    );
    let page = admin.get(&format!("/admin/users/{id}")).await.html();
    assert_eq!(texts(&page, "#second-factor"), ["Not set up"]);
    let list = admin.get("/admin/users?q=north-vale").await.html();
    assert!(row(&list).contains("Not set up"), "{}", row(&list));
    set_up(&mut Client::new(router.clone()), ADVISER).await;

    // The trail says what happened, in order of kind.
    let events: Vec<String> = sqlx::query_scalar(
        "select distinct action from audit_events where action like 'mfa.%' order by 1",
    )
    .fetch_all(&pool)
    .await
    .expect("the trail");
    assert_eq!(
        events,
        [
            "mfa.failed",
            "mfa.recovery_used",
            "mfa.reset",
            "mfa.set_up",
            "mfa.used"
        ]
    );
}

#[sqlx::test]
async fn a_council_lead_signs_in_with_a_password_and_may_add_a_second_factor(pool: PgPool) {
    let router = router(&pool).await;
    let mut lead = Client::new(router.clone());
    assert_eq!(
        location(&lead.sign_in("lead@ashbridge.example", DEMO_PASSWORD).await),
        "/"
    );
    let account = lead.get("/account").await.html();
    assert!(texts(&account, "#second-factor")[0].starts_with("Password only"));
    let page = lead.get("/account/second-factor").await;
    let secret = secret_from_text(&texts(&page.html(), "#secret")[0]).expect("the key");
    let done = lead
        .post(
            "/account/second-factor",
            &[("code", &code_at(&secret, "lead@ashbridge.example", now()))],
        )
        .await;
    assert_eq!(texts(&done.html(), "#recovery-codes li").len(), 10);
    sign_out(&mut lead).await;
    let mut lead = Client::new(router);
    assert_eq!(
        location(&lead.sign_in("lead@ashbridge.example", DEMO_PASSWORD).await),
        "/login/code",
        "once set up, it is asked for"
    );
}

#[sqlx::test]
async fn a_councils_lead_may_require_a_second_factor_of_everyone_there(pool: PgPool) {
    let router = router(&pool).await;
    // Before: a contributor signs in with a password alone.
    let mut contributor = Client::new(router.clone());
    assert_eq!(
        location(
            &contributor
                .sign_in("contributor@ashbridge.example", DEMO_PASSWORD)
                .await
        ),
        "/"
    );

    let mut lead = support::signed_in(&router, "lead@ashbridge.example").await;
    let people = lead.get("/orgs/ashbridge/people").await;
    assert_eq!(people.status, 200);
    assert!(
        people
            .body
            .contains("Must everyone with a role at Ashbridge")
    );
    // No choice: the page again, with the error.
    let refused = lead.post("/orgs/ashbridge/second-factor", &[]).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        texts(&refused.html(), ".govuk-error-summary a"),
        vec!["Choose whether everyone here must use a second factor"]
    );

    // Another council's lead can change nothing at Ashbridge.
    let mut other = support::signed_in(&router, "lead@brackenfield.example").await;
    let reply = other
        .post(
            "/orgs/ashbridge/second-factor",
            &[("second-factor", "required")],
        )
        .await;
    assert_eq!(reply.status, 403, "another council's lead");
    let required: bool = sqlx::query_scalar(
        "select second_factor_required from organisations where slug = 'ashbridge'",
    )
    .fetch_one(&pool)
    .await
    .expect("the council");
    assert!(!required, "nothing changed");

    let done = lead
        .post(
            "/orgs/ashbridge/second-factor",
            &[("second-factor", "required")],
        )
        .await;
    assert_eq!(
        location(&done),
        "/orgs/ashbridge/people?done=second-factor-required"
    );
    let page = lead.get(location(&done)).await.html();
    assert!(
        texts(&page, ".govuk-notification-banner__heading")[0]
            .starts_with("Everyone with a role here must now use a second factor")
    );
    let (who, after): (String, serde_json::Value) = sqlx::query_as(
        "select actor_label, after from audit_events where action = 'mfa.council_required'",
    )
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(who, "lead@ashbridge.example");
    assert_eq!(after["second_factor_required"], true);

    // At their next sign-in, everyone at Ashbridge sets one up first; elsewhere nothing changes.
    sign_out(&mut contributor).await;
    set_up(
        &mut Client::new(router.clone()),
        "contributor@ashbridge.example",
    )
    .await;
    let mut elsewhere = Client::new(router.clone());
    assert_eq!(
        location(
            &elsewhere
                .sign_in("lead@brackenfield.example", DEMO_PASSWORD)
                .await
        ),
        "/"
    );
    let people = lead.get("/orgs/ashbridge/people").await.html();
    assert!(
        texts(&people, ".govuk-table__cell").contains(&"Set up".to_owned()),
        "the people page says who has set one up"
    );

    // Optional again: the next sign-in of someone without one asks for a password alone.
    lead.post(
        "/orgs/ashbridge/second-factor",
        &[("second-factor", "optional")],
    )
    .await;
    let mut board = Client::new(router);
    assert_eq!(
        location(
            &board
                .sign_in("board@ashbridge.example", DEMO_PASSWORD)
                .await
        ),
        "/"
    );
}

#[sqlx::test]
async fn the_people_page_is_one_form_and_neither_button_loses_what_the_other_part_holds(
    pool: PgPool,
) {
    let router = router(&pool).await;
    let mut lead = support::signed_in(&router, "lead@ashbridge.example").await;
    let people = lead.get("/orgs/ashbridge/people").await.html();
    // Roles in words, never their stored codes.
    let roles = texts(&people, "tbody .govuk-table__cell:nth-child(3)");
    assert!(roles.iter().any(|r| r == "Prevent lead"), "{roles:?}");
    assert!(
        roles
            .iter()
            .any(|r| r.starts_with("Contributor (benchmarks 5, 7)"))
    );
    assert!(
        roles
            .iter()
            .all(|r| !["lead", "contributor", "board", "owner", "signatory"].contains(&r.as_str())),
        "{roles:?}"
    );

    // A half-typed invitation survives "Save the second-factor rule", and is not sent by it.
    let saved = lead
        .submit_page(
            "/orgs/ashbridge/people",
            "main form",
            &[
                ("email", "new.partner@ashbridge.example"),
                ("name", "New Partner"),
                ("second-factor", "required"),
            ],
            "second-factor",
        )
        .await;
    assert_eq!(saved.status, 200);
    let page = saved.html();
    assert!(
        texts(&page, ".govuk-notification-banner__heading")[0]
            .contains("The invitation you typed has not been sent yet")
    );
    assert_eq!(
        support::form_fields(&page, "main form")
            .iter()
            .find(|(k, _)| k == "email")
            .map(|(_, v)| v.as_str()),
        Some("new.partner@ashbridge.example")
    );
    let required: bool = sqlx::query_scalar(
        "select second_factor_required from organisations where slug = 'ashbridge'",
    )
    .fetch_one(&pool)
    .await
    .expect("the council");
    assert!(required, "the rule was saved");
    let invited: i64 = sqlx::query_scalar(
        "select count(*) from users where email = 'new.partner@ashbridge.example'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(
        invited, 0,
        "the invitation was not sent by the rule's button"
    );

    // A rule changed but not saved survives "Send invitation", and is not saved by it.
    let sent = lead
        .submit_page(
            "/orgs/ashbridge/people",
            "main form",
            &[
                ("email", "new.partner@ashbridge.example"),
                ("name", "New Partner"),
                ("role", "board"),
                ("second-factor", "optional"),
            ],
            "invite",
        )
        .await;
    assert_eq!(sent.status, 200, "{}", sent.body);
    let page = sent.html();
    assert!(
        texts(&page, ".govuk-notification-banner__heading")[0]
            .contains("The second-factor rule you chose has not been saved yet")
    );
    assert!(
        page.select(
            &scraper::Selector::parse("#second-factor-optional[checked]").expect("selector")
        )
        .next()
        .is_some(),
        "the choice is shown as made"
    );
    let invited: i64 = sqlx::query_scalar(
        "select count(*) from users where email = 'new.partner@ashbridge.example'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(invited, 1);
    let required: bool = sqlx::query_scalar(
        "select second_factor_required from organisations where slug = 'ashbridge'",
    )
    .fetch_one(&pool)
    .await
    .expect("the council");
    assert!(
        required,
        "the rule was not changed by the invitation's button"
    );
}

/// An invited adviser chooses a password and is then asked to set up a second factor before
/// anything else: the invitation is not a way in on a password alone.
#[sqlx::test]
async fn an_invited_adviser_sets_up_a_second_factor_before_anything_else(pool: PgPool) {
    let router = router(&pool).await;
    let mut admin = Client::new(router.clone());
    // The administrator has a second factor of their own to set up first.
    set_up(&mut admin, ADMIN).await;
    let region: uuid::Uuid = sqlx::query_scalar("select id from regions where slug = 'north-vale'")
        .fetch_one(&pool)
        .await
        .expect("the region");
    let invited = admin
        .post(
            "/admin/users/new",
            &[
                ("email", "second.adviser@homeoffice.example"),
                ("name", "Sam Second"),
                ("role", "adviser"),
                ("region", &region.to_string()),
            ],
        )
        .await;
    assert!(
        invited.status == 303 || invited.status == 200,
        "{}: {}",
        invited.status,
        invited.body
    );
    let body: String = sqlx::query_scalar("select body from outbox where to_address = $1")
        .bind("second.adviser@homeoffice.example")
        .fetch_one(&pool)
        .await
        .expect("the invitation mail");
    let path = support::link_path(&body, "/invitations/");
    let mut newcomer = Client::new(router.clone());
    let accepted = newcomer
        .post(
            &path,
            &[
                ("name", "Sam Second"),
                ("password", "quiet-harbour-lights-8"),
                ("confirm", "quiet-harbour-lights-8"),
            ],
        )
        .await;
    assert_eq!(location(&accepted), "/login/set-up");
    // No session yet: the service's pages send them to sign in.
    assert_eq!(
        location(&newcomer.get("/regions/north-vale").await),
        "/login"
    );
    let sessions: i64 = sqlx::query_scalar(
        "select count(*) from sessions s join users u on u.id = s.user_id
         where u.email = 'second.adviser@homeoffice.example'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(sessions, 0, "no session on the password alone");

    // The Channel team, who see every council's statement, set one up first too.
    let mut team = Client::new(router.clone());
    let reply = team
        .sign_in("channel@homeoffice.example", DEMO_PASSWORD)
        .await;
    assert_eq!(location(&reply), "/login/set-up");
}

/// Someone who has the password gets five tries at the code per sign-in, and wrong codes count
/// with wrong passwords: after ten in fifteen minutes the address is held back at the password,
/// so signing in again and again buys no more guesses.
#[sqlx::test]
async fn wrong_codes_count_with_wrong_passwords_so_guessing_the_code_is_bounded(pool: PgPool) {
    let router = router(&pool).await;
    let mut adviser = Client::new(router.clone());
    set_up(&mut adviser, ADVISER).await;
    sign_out(&mut adviser).await;
    let mut attacker = Client::new(router.clone());
    for round in 1..=2 {
        let reply = attacker.sign_in(ADVISER, DEMO_PASSWORD).await;
        assert_eq!(location(&reply), "/login/code", "round {round}");
        for attempt in 1..=5 {
            let wrong = attacker.post("/login/code", &[("code", "000000")]).await;
            if attempt < 5 {
                assert_eq!(wrong.status, 422, "round {round}, try {attempt}");
            } else {
                assert_eq!(wrong.status, 303, "round {round}: sign in again");
            }
        }
        // The challenge is gone: a sixth code is not looked at.
        let sixth = attacker.post("/login/code", &[("code", "000000")]).await;
        assert_eq!(sixth.status, 303);
    }
    let held = attacker.sign_in(ADVISER, DEMO_PASSWORD).await;
    assert_eq!(held.status, 422);
    assert!(
        texts(&held.html(), ".govuk-error-summary__list a")[0]
            .starts_with("There have been too many failed sign-ins"),
        "ten wrong codes hold the address back"
    );
    let counted: i64 = sqlx::query_scalar(
        "select count(*) from sign_in_attempts where email = $1 and not succeeded",
    )
    .bind(ADVISER)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(
        counted,
        10 + 1,
        "ten wrong codes, and the sign-in refused for them"
    );
}
