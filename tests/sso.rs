//! Single sign-on against a real OpenID Connect provider (oidc-provider on loopback): a person
//! whose email is in the provider's domain is sent there and back; the account must exist,
//! is matched by the verified email at first and by the subject after (a changed email at the
//! provider still opens the same account; another subject with that email does not); unknown
//! and unverified emails are refused with a clear page; a wrong nonce, a replayed or foreign
//! state, and a token issued to another client are refused; the provider's second factor
//! stands in for ours only when the administrator says so; sign-out offers the provider's
//! end-session link.

mod support;

use prevent_assure::auth::sso::verify_id_token;
use prevent_assure::config::Secret;
use prevent_assure::db::sso::{ProviderFields, save_provider};
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::oidc::{Person, Provider, Registration};
use support::{Client, location, router_from, texts};

const PUBLIC_URL: &str = "http://127.0.0.1:3000";
const CALLBACK: &str = "http://127.0.0.1:3000/login/sso/callback";
const SIGNED_OUT: &str = "http://127.0.0.1:3000/login?done=signed-out";
const CLIENT_ID: &str = "prevent-assure";
const SECRET: &str = "a-client-secret-for-the-tests";
const LEAD: &str = "lead@ashbridge.example";
const ADVISER: &str = "adviser.north-vale@homeoffice.example";

fn registrations() -> [Registration<'static>; 2] {
    [
        Registration {
            client_id: CLIENT_ID,
            client_secret: SECRET,
            redirect_uri: CALLBACK,
            post_logout_redirect_uri: SIGNED_OUT,
        },
        Registration {
            client_id: "another-application",
            client_secret: "another-secret",
            redirect_uri: CALLBACK,
            post_logout_redirect_uri: SIGNED_OUT,
        },
    ]
}

/// The demo service with one provider serving ashbridge.example and homeoffice.example.
async fn service(pool: &PgPool, idp: &Provider, mfa_from_provider: bool) -> axum::Router {
    let mut state = support::demo_state(pool.clone()).await;
    let mut settings = (*state.settings).clone();
    settings.public_url = PUBLIC_URL.to_owned();
    settings.mfa_key = Some(
        prevent_assure::auth::second_factor::MfaKey::from_hex(&"5a".repeat(32)).expect("a key"),
    );
    settings.second_factor_required = true;
    settings
        .oidc_secrets
        .insert("test-idp".to_owned(), Secret::new(SECRET));
    state.settings = std::sync::Arc::new(settings);
    let domains = vec![
        "ashbridge.example".to_owned(),
        "homeoffice.example".to_owned(),
    ];
    let mut conn = pool.acquire().await.expect("a connection");
    save_provider(
        &mut conn,
        None,
        &ProviderFields {
            slug: "test-idp",
            name: "Test Organisation ID",
            issuer_url: &idp.issuer,
            client_id: CLIENT_ID,
            mfa_from_provider,
            enabled: true,
            domains: &domains,
        },
    )
    .await
    .expect("saved")
    .unwrap_or_else(|_| panic!("the provider is accepted"));
    router_from(state, [10, 96, 0, 1])
}

fn person<'a>(subject: &'a str, email: &'a str) -> Person<'a> {
    Person {
        subject,
        email,
        verified: true,
        mfa: false,
    }
}

/// Types the email on the sign-in page (no password) and returns where the service sends the
/// browser on: the provider's authorization URL, as a link (a form's redirect to another site
/// would be stopped by our `form-action 'self'`).
async fn start(client: &mut Client, email: &str) -> String {
    let reply = client
        .post("/login", &[("email", email), ("password", "")])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("Sign in through Test Organisation ID"));
    support::attr(&reply.html(), "#continue-to-provider", "href").expect("a link to the provider")
}

/// The whole sign-in through the provider; the service's reply to the callback.
async fn sign_in_through(
    client: &mut Client,
    idp: &Provider,
    email: &str,
    who: &Person<'_>,
) -> support::Reply {
    let to_provider = start(client, email).await;
    assert!(
        to_provider.starts_with(&idp.issuer),
        "sent to the provider: {to_provider}"
    );
    for part in [
        "code_challenge_method=S256",
        "nonce=",
        "state=",
        "client_id=prevent-assure",
    ] {
        assert!(to_provider.contains(part), "{part} in {to_provider}");
    }
    let back = idp.sign_in(&to_provider, who).await;
    assert!(back.starts_with("/login/sso/callback?"), "{back}");
    client.get(&back).await
}

async fn count(pool: &PgPool, action: &str) -> i64 {
    sqlx::query_scalar("select count(*) from audit_events where action = $1")
        .bind(action)
        .fetch_one(pool)
        .await
        .expect("a count")
}

#[sqlx::test]
async fn an_invited_person_signs_in_through_their_provider_and_is_then_known_by_subject(
    pool: PgPool,
) {
    let idp = Provider::start(&registrations());
    let router = service(&pool, &idp, false).await;

    let mut lead = Client::new(router.clone());
    let reply = sign_in_through(&mut lead, &idp, LEAD, &person("subject-lead-1", LEAD)).await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        location(&reply),
        "/",
        "a council lead needs no second factor"
    );
    let account = lead.get("/account").await;
    assert_eq!(account.status, 200);
    let how = texts(&account.html(), "#second-factor").join(" ");
    assert!(how.contains("Through Test Organisation ID"), "{how}");
    let subject: String = sqlx::query_scalar(
        "select l.subject from sso_links l join users u on u.id = l.user_id where u.email = $1",
    )
    .bind(LEAD)
    .fetch_one(&pool)
    .await
    .expect("the subject is stored at the first sign-in");
    assert_eq!(subject, "subject-lead-1");
    assert_eq!(count(&pool, "sign_in.sso").await, 1);

    // Signing out ends our session and offers the provider's end-session link.
    let out = lead.post("/logout", &[]).await;
    assert_eq!(out.status, 200);
    let link = support::attr(&out.html(), "#provider-sign-out", "href").expect("a link");
    assert!(
        link.starts_with(&format!(
            "{}/session/end?client_id=prevent-assure",
            idp.issuer
        )),
        "{link}"
    );
    assert_eq!(lead.get("/account").await.status, 303, "signed out here");

    // The provider changes the person's email: the subject still opens the same account.
    let mut again = Client::new(router.clone());
    let reply = sign_in_through(
        &mut again,
        &idp,
        LEAD,
        &person("subject-lead-1", "renamed.lead@ashbridge.example"),
    )
    .await;
    assert_eq!(location(&reply), "/", "{}", reply.body);
    let account = again.get("/account").await;
    assert!(account.body.contains(LEAD), "the same account");

    // Another person at the provider given the lead's email does not take the account over.
    let mut other = Client::new(router.clone());
    let reply = sign_in_through(
        &mut other,
        &idp,
        LEAD,
        &person("subject-someone-else", LEAD),
    )
    .await;
    assert_eq!(reply.status, 403);
    assert!(
        reply.body.contains("signs in as a different person"),
        "{}",
        reply.body
    );
    assert!(
        reply
            .header("set-cookie")
            .is_none_or(|c| !c.starts_with("pa_session="))
    );
    assert_eq!(other.get("/account").await.status, 303, "not signed in");
    assert_eq!(count(&pool, "sign_in.sso_refused").await, 1);

    // The lead's account at the provider was replaced: an administrator forgets the old link
    // (audited), and the new identity, with the lead's verified email, links at its sign-in.
    let lead_id: uuid::Uuid = sqlx::query_scalar("select id from users where email = $1")
        .bind(LEAD)
        .fetch_one(&pool)
        .await
        .expect("the lead");
    // The administrator signs in with their password and sets up their second factor first.
    let mut admin = Client::new(router.clone());
    let reply = admin
        .sign_in("admin@prevent-assure.example", DEMO_PASSWORD)
        .await;
    assert_eq!(location(&reply), "/login/set-up");
    let set_up = admin.get("/login/set-up").await.html();
    let secret =
        prevent_assure::auth::second_factor::secret_from_text(&texts(&set_up, "#secret")[0])
            .expect("the key as text");
    let now = time::OffsetDateTime::now_utc().unix_timestamp() as u64;
    let code =
        prevent_assure::auth::second_factor::code_at(&secret, "admin@prevent-assure.example", now);
    assert_eq!(
        admin.post("/login/set-up", &[("code", &code)]).await.status,
        200
    );
    let page = admin.get(&format!("/admin/users/{lead_id}")).await;
    assert!(
        page.body.contains("Forget the link to their organisation"),
        "{}: {}",
        page.status,
        page.body.chars().take(400).collect::<String>()
    );
    let unlinked = admin
        .post(&format!("/admin/users/{lead_id}/sso/unlink"), &[])
        .await;
    assert_eq!(unlinked.status, 303);
    assert_eq!(count(&pool, "sso.unlinked").await, 1);
    let mut replaced = Client::new(router.clone());
    let reply = sign_in_through(
        &mut replaced,
        &idp,
        LEAD,
        &person("subject-someone-else", LEAD),
    )
    .await;
    assert_eq!(location(&reply), "/", "the new identity links by its email");
}

#[sqlx::test]
async fn someone_invited_whose_organisation_signs_them_in_chooses_no_password(pool: PgPool) {
    let idp = Provider::start(&registrations());
    let router = service(&pool, &idp, false).await;
    let mut lead = Client::new(router.clone());
    let reply = sign_in_through(&mut lead, &idp, LEAD, &person("subject-lead-1", LEAD)).await;
    assert_eq!(location(&reply), "/");
    const NEWCOMER: &str = "new.officer@ashbridge.example";
    let invited = lead
        .post(
            "/orgs/ashbridge/people",
            &[("email", NEWCOMER), ("name", "Dee Fox"), ("role", "board")],
        )
        .await;
    assert_eq!(invited.status, 303, "{}", invited.body);
    let body: String = sqlx::query_scalar("select body from outbox where to_address = $1")
        .bind(NEWCOMER)
        .fetch_one(&pool)
        .await
        .expect("the invitation mail");
    let path = support::link_path(&body, "/invitations/");

    // The invitation asks for no password: it sends the person to their provider.
    let mut newcomer = Client::new(router.clone());
    let page = newcomer.get(&path).await;
    assert_eq!(page.status, 200);
    let html = page.html();
    assert!(
        texts(&html, "#signed-in-by-provider")[0].contains("Test Organisation ID"),
        "the page names the provider"
    );
    assert!(
        texts(&html, "#password").is_empty(),
        "no password is asked for"
    );
    // A password posted anyway is not kept.
    let posted = newcomer
        .post(
            &path,
            &[
                ("name", "Dee Fox"),
                ("password", "a-long-enough-password-1"),
                ("confirm", "a-long-enough-password-1"),
            ],
        )
        .await;
    assert_eq!(location(&posted), path);
    let has_password: bool =
        sqlx::query_scalar("select password_hash is not null from users where email = $1")
            .bind(NEWCOMER)
            .fetch_one(&pool)
            .await
            .expect("the account");
    assert!(!has_password);
    // Signing in through the provider opens the invited account.
    let reply = sign_in_through(
        &mut newcomer,
        &idp,
        NEWCOMER,
        &person("subject-newcomer", NEWCOMER),
    )
    .await;
    assert_eq!(location(&reply), "/", "{}", reply.body);
    assert!(newcomer.get("/account").await.body.contains(NEWCOMER));
    // The invitation has done its work: its link opens nothing now.
    assert_eq!(Client::new(router.clone()).get(&path).await.status, 404);
    // The council's people page counts the newcomer as signed up, not still invited.
    let people = lead.get("/orgs/ashbridge/people").await;
    let row = texts(&people.html(), "tbody tr")
        .into_iter()
        .find(|r| r.contains("Dee Fox"))
        .expect("the newcomer's row");
    assert!(row.contains("Active") && !row.contains("Invited"), "{row}");
}

#[sqlx::test]
async fn unknown_and_unverified_emails_are_refused_with_a_clear_page(pool: PgPool) {
    let idp = Provider::start(&registrations());
    let router = service(&pool, &idp, false).await;

    let stranger = "nobody@ashbridge.example";
    let mut client = Client::new(router.clone());
    let reply = sign_in_through(&mut client, &idp, stranger, &person("subject-x", stranger)).await;
    assert_eq!(reply.status, 403);
    let h1 = texts(&reply.html(), "h1").join(" ");
    assert_eq!(h1, "There is no Prevent Assure account for you");
    assert!(reply.body.contains("Accounts are by invitation"));
    assert_eq!(client.get("/account").await.status, 303);

    let mut client = Client::new(router.clone());
    let unverified = Person {
        verified: false,
        ..person("subject-lead", LEAD)
    };
    let reply = sign_in_through(&mut client, &idp, LEAD, &unverified).await;
    assert_eq!(reply.status, 403, "an unverified email is not matched");
    assert!(reply.body.contains("did not confirm an email address"));

    // An email outside the provider's domains is not matched, even if verified there.
    let mut client = Client::new(router.clone());
    let elsewhere = person("subject-elsewhere", "lead@brackenfield.example");
    let reply = sign_in_through(&mut client, &idp, LEAD, &elsewhere).await;
    assert_eq!(reply.status, 403);
    assert_eq!(count(&pool, "sign_in.sso_refused").await, 3);
    assert_eq!(count(&pool, "sign_in.sso").await, 0);
}

#[sqlx::test]
async fn a_wrong_nonce_a_replayed_or_foreign_state_and_another_clients_token_are_refused(
    pool: PgPool,
) {
    let idp = Provider::start(&registrations());
    let router = service(&pool, &idp, false).await;
    let lead = person("subject-lead", LEAD);

    // The nonce changed on the way to the provider: the ID token carries the wrong one.
    let mut client = Client::new(router.clone());
    let url = start(&mut client, LEAD).await;
    let nonce_at = url.find("nonce=").expect("a nonce") + "nonce=".len();
    let tampered = format!("{}tampered{}", &url[..nonce_at], &url[nonce_at..]);
    let back = idp.sign_in(&tampered, &lead).await;
    let reply = client.get(&back).await;
    assert_eq!(reply.status, 403, "{}", reply.body);
    assert!(reply.body.contains("could not be checked"));
    assert_eq!(client.get("/account").await.status, 303);

    // A callback is taken once; another browser's callback is not taken at all.
    let mut client = Client::new(router.clone());
    let url = start(&mut client, LEAD).await;
    let back = idp.sign_in(&url, &lead).await;
    let mut thief = Client::new(router.clone());
    assert_eq!(thief.get(&back).await.status, 400, "no state cookie");
    let reply = client.get(&back).await;
    assert_eq!(location(&reply), "/", "{}", reply.body);
    let again = client.get(&back).await;
    assert_eq!(again.status, 400, "used once");
    assert!(again.body.contains("This sign-in has expired"));
    assert_eq!(
        client
            .get("/login/sso/callback?state=made-up&code=x")
            .await
            .status,
        400
    );

    // A token the provider issued to another application is refused for its audience; the
    // same token is accepted by that application, so it is otherwise sound.
    let other = &registrations()[1];
    let token = idp.id_token_for(other, &lead, "nonce-1").await;
    let refused = verify_id_token(&idp.issuer, CLIENT_ID, &token, "nonce-1").await;
    let why = refused.expect_err("another audience").to_string();
    assert!(why.contains("audience") || why.contains("aud"), "{why}");
    verify_id_token(&idp.issuer, "another-application", &token, "nonce-1")
        .await
        .expect("sound for its own client");
    let wrong_nonce = verify_id_token(&idp.issuer, "another-application", &token, "nonce-2").await;
    assert!(wrong_nonce.is_err(), "a wrong nonce is refused");

    // The issuer is checked: the same provider reached at another address (so its metadata
    // names an issuer other than the one configured) is not trusted for its tokens.
    let elsewhere = idp.issuer.replace("127.0.0.1", "localhost");
    assert_ne!(elsewhere, idp.issuer);
    let why = verify_id_token(&elsewhere, "another-application", &token, "nonce-1")
        .await
        .expect_err("another issuer")
        .to_string();
    assert!(why.to_lowercase().contains("issuer"), "{why}");
}

#[sqlx::test]
async fn the_providers_second_factor_stands_in_for_ours_only_when_allowed(pool: PgPool) {
    let idp = Provider::start(&registrations());
    let with_mfa = Person {
        mfa: true,
        ..person("subject-adviser", ADVISER)
    };

    // Not allowed: an adviser through the provider still sets up our second factor.
    let router = service(&pool, &idp, false).await;
    let mut client = Client::new(router.clone());
    let reply = sign_in_through(&mut client, &idp, ADVISER, &with_mfa).await;
    assert_eq!(location(&reply), "/login/set-up", "{}", reply.body);
    assert_eq!(
        client.get("/account").await.status,
        303,
        "not signed in yet"
    );

    // Allowed: the provider's multi-factor sign-in is enough; one without it is not.
    sqlx::query("update identity_providers set mfa_from_provider = true")
        .execute(&pool)
        .await
        .expect("changed");
    let mut client = Client::new(router.clone());
    let reply = sign_in_through(&mut client, &idp, ADVISER, &with_mfa).await;
    assert_eq!(location(&reply), "/", "{}", reply.body);
    assert_eq!(client.get("/account").await.status, 200);
    let mut client = Client::new(router.clone());
    let without = person("subject-adviser", ADVISER);
    let reply = sign_in_through(&mut client, &idp, ADVISER, &without).await;
    assert_eq!(location(&reply), "/login/set-up");
    let recorded: serde_json::Value = sqlx::query_scalar(
        "select after from audit_events where action = 'sign_in.sso' order by id desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("audited");
    assert_eq!(recorded["provider"], "Test Organisation ID");
    assert_eq!(recorded["second_factor_from_provider"], false);
}

#[sqlx::test]
async fn administrators_configure_providers_and_nobody_else_can(pool: PgPool) {
    let mut state = support::demo_state(pool.clone()).await;
    let mut settings = (*state.settings).clone();
    settings.second_factor_required = false;
    state.settings = std::sync::Arc::new(settings);
    let router = router_from(state, [10, 96, 0, 2]);
    let mut admin = support::signed_in(&router, "admin@prevent-assure.example").await;

    let page = admin.get("/admin/identity-providers").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("No identity providers yet"));
    let form = [
        ("name", "Home Office"),
        ("slug", "home-office"),
        ("issuer_url", "https://login.example.com/tenant/v2.0"),
        ("client_id", "abc-123"),
        ("domains", "homeoffice.example\nnot a domain"),
        ("enabled", "yes"),
    ];
    let wrong = admin.post("/admin/identity-providers", &form).await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("govuk-error-summary"));
    assert!(wrong.body.contains("Home Office"), "what was typed is kept");
    let mut good = form;
    good[4] = ("domains", "homeoffice.example");
    let saved = admin.post("/admin/identity-providers", &good).await;
    assert_eq!(location(&saved), "/admin/identity-providers?saved=1");
    let list = admin.get("/admin/identity-providers?saved=1").await;
    assert!(list.body.contains("OIDC_CLIENT_SECRET_HOME_OFFICE"));
    assert!(list.body.contains("Missing"), "no secret on this server");
    // A domain served already is refused with a clear error.
    let mut twice = good;
    twice[1] = ("slug", "home-office-2");
    let refused = admin.post("/admin/identity-providers", &twice).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("served by another provider already"));
    assert_eq!(count(&pool, "identity_provider.saved").await, 1);

    // Without the secret on this server, a person of that domain gets a clear page, not a 500.
    let mut person = Client::new(router.clone());
    let reply = person
        .post("/login", &[("email", ADVISER), ("password", "")])
        .await;
    assert_eq!(reply.status, 503);
    assert!(
        reply
            .body
            .contains("Signing in through your organisation is not available")
    );

    // A council's lead (who still signs in with a password) cannot see or change providers.
    let mut lead = support::signed_in(&router, LEAD).await;
    assert_eq!(lead.get("/admin/identity-providers").await.status, 403);
    assert_eq!(lead.get("/admin/identity-providers/new").await.status, 403);
    let post = lead.post("/admin/identity-providers", &good).await;
    assert_eq!(post.status, 403);
}
