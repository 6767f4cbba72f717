//! Single sign-on in Chromium, at a real OpenID Connect provider (oidc-provider on loopback):
//! an adviser types their email on our sign-in page, is sent to the provider, signs in there
//! (with its second factor, which the administrator accepts), comes back signed in, sees on
//! the account page how they sign in, signs out and is offered the provider's sign-out, which
//! brings them back to our sign-in page; the same with JavaScript off. Our pages axe-clean and
//! looked at in screenshots.

mod support;

use prevent_assure::auth::second_factor::MfaKey;
use prevent_assure::config::Secret;
use prevent_assure::db::sso::{ProviderFields, save_provider};
use sqlx::PgPool;
use support::browser::{Browser, click, fill, submit, text};
use support::oidc::{Provider, Registration};

const ADVISER: &str = "adviser.north-vale@homeoffice.example";

#[sqlx::test]
async fn an_adviser_signs_in_through_their_organisation_and_out_again(pool: PgPool) {
    journey(pool, true).await;
}

/// The same journey with JavaScript off: every step is a link or a form.
#[sqlx::test]
async fn the_single_sign_on_journey_works_without_javascript(pool: PgPool) {
    journey(pool, false).await;
}

async fn journey(pool: PgPool, javascript: bool) {
    let shot = |name: &str| {
        if javascript {
            name.to_owned()
        } else {
            format!("{name}-no-js")
        }
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let public_url = format!("http://{}", listener.local_addr().expect("an address"));
    let callback = format!("{public_url}/login/sso/callback");
    let signed_out = format!("{public_url}/login?done=signed-out");
    let idp = Provider::start(&[Registration {
        client_id: "prevent-assure",
        client_secret: "browser-test-secret",
        redirect_uri: &callback,
        post_logout_redirect_uri: &signed_out,
    }]);

    let mut state = support::demo_state(pool.clone()).await;
    let mut settings = (*state.settings).clone();
    settings.public_url = public_url.clone();
    settings.mfa_key = Some(MfaKey::from_hex(&"3c".repeat(32)).expect("a key"));
    settings.second_factor_required = true;
    settings
        .oidc_secrets
        .insert("home-office".to_owned(), Secret::new("browser-test-secret"));
    state.settings = std::sync::Arc::new(settings);
    let domains = vec!["homeoffice.example".to_owned()];
    let mut conn = pool.acquire().await.expect("a connection");
    save_provider(
        &mut conn,
        None,
        &ProviderFields {
            slug: "home-office",
            name: "Home Office sign-in",
            issuer_url: &idp.issuer,
            client_id: "prevent-assure",
            mfa_from_provider: true,
            enabled: true,
            domains: &domains,
        },
    )
    .await
    .expect("saved")
    .unwrap_or_else(|_| panic!("accepted"));
    drop(conn);
    // Someone invited whose organisation signs them in is sent there, not asked for a password.
    let link = prevent_assure::web::account::invite_admin(
        &pool,
        &state.settings,
        "new.admin@homeoffice.example",
        "Sam Rowe",
    )
    .await
    .expect("invited");
    let invitation = link
        .strip_prefix(&public_url)
        .expect("a link to this service")
        .to_owned();
    let browser = Browser::start_on_with(listener, state, javascript).await;
    browser.goto(&invitation).await;
    if javascript {
        // axe runs as a script: with JavaScript off the pages were checked in the run with it.
        if javascript {
            browser.assert_accessible().await;
        }
    }
    browser.screenshot(&shot("sso-invitation")).await;
    submit(&browser.client, "main form button[type=submit]").await;
    assert_eq!(
        text(&browser.client, "h1").await,
        "Sign in through Home Office sign-in"
    );

    browser.goto("/login").await;
    if javascript {
        browser.assert_accessible().await;
    }
    browser.screenshot(&shot("sso-sign-in-page")).await;
    fill(&browser.client, "#email", ADVISER).await;
    submit(&browser.client, "main form button[type=submit]").await;
    assert_eq!(
        text(&browser.client, "h1").await,
        "Sign in through Home Office sign-in"
    );
    if javascript {
        browser.assert_accessible().await;
    }
    browser.screenshot(&shot("sso-continue")).await;
    submit(&browser.client, "#continue-to-provider").await;

    // At the provider: its own page, the email carried over as a hint.
    assert_eq!(
        text(&browser.client, "h1").await,
        "Test organisation sign-in"
    );
    let here = browser.client.current_url().await.expect("a URL");
    assert!(here.as_str().starts_with(&idp.issuer), "{here}");
    fill(&browser.client, "#subject", "entra-object-id-7731").await;
    click(&browser.client, "#mfa").await;
    submit(&browser.client, "#sign-in").await;

    // Back, signed in, without our code: the provider's second factor is accepted.
    let here = browser.client.current_url().await.expect("a URL");
    assert!(here.as_str().starts_with(&public_url), "{here}");
    browser.goto("/regions/north-vale").await;
    assert!(
        text(&browser.client, "h1").await.contains("North Vale"),
        "signed in"
    );
    browser.goto("/account").await;
    let how = text(&browser.client, "#second-factor").await;
    assert!(how.contains("Through Home Office sign-in"), "{how}");
    assert!(how.contains("with its second factor"), "{how}");
    if javascript {
        browser.assert_accessible().await;
    }
    browser.screenshot(&shot("sso-account")).await;

    // Signing out here offers signing out at the provider too.
    submit(&browser.client, ".app-header__signout button").await;
    assert!(
        text(&browser.client, ".govuk-notification-banner")
            .await
            .contains("You have been signed out of Prevent Assure")
    );
    if javascript {
        browser.assert_accessible().await;
    }
    browser.screenshot(&shot("sso-signed-out")).await;
    submit(&browser.client, "#provider-sign-out").await;
    assert_eq!(
        text(&browser.client, "h1").await,
        "Sign out of the test organisation?"
    );
    submit(&browser.client, "#sign-out").await;
    let here = browser.client.current_url().await.expect("a URL");
    assert!(
        here.as_str().starts_with(&signed_out),
        "back at our sign-in page: {here}"
    );
    assert_eq!(
        text(&browser.client, "h1").await,
        "Sign in to Prevent Assure"
    );
    browser.goto("/account").await;
    assert_eq!(
        text(&browser.client, "h1").await,
        "Sign in to Prevent Assure"
    );
    browser.close().await;
}

#[sqlx::test]
async fn an_administrator_adds_a_provider_without_javascript(pool: PgPool) {
    let browser = admin_browser(pool, false).await;
    browser.goto("/admin/identity-providers/new").await;
    fill(&browser.client, "#name", "Home Office").await;
    fill(&browser.client, "#slug", "home-office").await;
    fill(&browser.client, "#issuer_url", "http://idp").await;
    fill(&browser.client, "#client_id", "prevent-assure").await;
    fill(&browser.client, "#domains", "homeoffice.example").await;
    submit(&browser.client, "main form button[type=submit]").await;
    // The error summary, and what was typed kept.
    assert!(
        text(&browser.client, ".govuk-error-summary")
            .await
            .contains("Enter the issuer URL starting https://")
    );
    assert_eq!(
        support::browser::value(&browser.client, "#name").await,
        "Home Office"
    );
    browser.screenshot("sso-admin-provider-error").await;
    fill(
        &browser.client,
        "#issuer_url",
        "https://login.microsoftonline.com/tenant-id/v2.0",
    )
    .await;
    submit(&browser.client, "main form button[type=submit]").await;
    assert!(
        text(&browser.client, ".govuk-notification-banner")
            .await
            .contains("The identity provider has been saved")
    );
    let row = text(&browser.client, "table tbody").await;
    assert!(row.contains("homeoffice.example"), "{row}");
    assert!(row.contains("OIDC_CLIENT_SECRET_HOME_OFFICE"), "{row}");
    browser.screenshot("sso-admin-providers").await;
    browser.close().await;
}

#[sqlx::test]
async fn the_provider_pages_are_accessible(pool: PgPool) {
    let browser = admin_browser(pool.clone(), true).await;
    browser.goto("/admin/identity-providers").await;
    browser.assert_accessible().await;
    browser.goto("/admin/identity-providers/new").await;
    browser.assert_accessible().await;
    submit(&browser.client, "main form button[type=submit]").await;
    assert!(
        text(&browser.client, ".govuk-error-summary")
            .await
            .contains("Enter the provider's name")
    );
    browser.assert_accessible().await;
    // A provider's own page, to change it.
    fill(&browser.client, "#name", "Vale ID").await;
    fill(&browser.client, "#slug", "vale-id").await;
    fill(&browser.client, "#issuer_url", "https://id.vale.example").await;
    fill(&browser.client, "#client_id", "prevent-assure").await;
    fill(&browser.client, "#domains", "vale.example").await;
    submit(&browser.client, "main form button[type=submit]").await;
    submit(&browser.client, "table tbody a").await;
    assert_eq!(
        text(&browser.client, "h1").await,
        "Change an identity provider"
    );
    browser.assert_accessible().await;
    browser.screenshot("sso-admin-provider-edit").await;
    // A person's page with everything an administrator can do to how they sign in: reset a
    // second factor, forget the link to their organisation's account.
    let (user, provider): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select u.id, p.id from users u, identity_providers p
         where u.email = 'adviser.north-vale@homeoffice.example' and p.slug = 'vale-id'",
    )
    .fetch_one(&pool)
    .await
    .expect("ids");
    sqlx::query(
        "update users set totp_secret = '\\x00'::bytea, totp_enabled_at = now() where id = $1",
    )
    .bind(user)
    .execute(&pool)
    .await
    .expect("a second factor");
    sqlx::query(
        "insert into sso_links (provider_id, subject, user_id) values ($1, 'subject-1', $2)",
    )
    .bind(provider)
    .bind(user)
    .execute(&pool)
    .await
    .expect("a link");
    browser.goto(&format!("/admin/users/{user}")).await;
    assert!(
        text(&browser.client, "main")
            .await
            .contains("Forget the link to their organisation's account")
    );
    browser.assert_accessible().await;
    browser.screenshot("admin-user-sign-in").await;
    // The page that refuses a sign-in through a provider, as a stale link lands on it.
    browser.goto("/login/sso/callback?state=stale&code=x").await;
    browser.assert_accessible().await;
    browser.screenshot("sso-refused").await;
    browser.close().await;
}

/// The demo service (no second factor asked) with the administrator signed in.
async fn admin_browser(pool: PgPool, javascript: bool) -> Browser {
    let mut state = support::demo_state(pool.clone()).await;
    let mut settings = (*state.settings).clone();
    settings.second_factor_required = false;
    state.settings = std::sync::Arc::new(settings);
    let browser = Browser::start_with(state, javascript).await;
    browser.goto("/login").await;
    fill(&browser.client, "#email", "admin@prevent-assure.example").await;
    fill(
        &browser.client,
        "#password",
        prevent_assure::demo::DEMO_PASSWORD,
    )
    .await;
    submit(&browser.client, "main form button[type=submit]").await;
    browser
}
