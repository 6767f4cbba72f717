//! The second factor in Chromium: an adviser is made to set it up at sign-in (the code computed
//! here from the key the page shows), keeps the recovery codes, signs out and in again with a
//! code, is refused that code again and a wrong one, signs in with a recovery code once and
//! not twice, and an administrator resets it; each page axe-clean and looked at in screenshots.

mod support;

use prevent_assure::auth::second_factor::{MfaKey, code_at, secret_from_text};
use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::browser::{Browser, fill, submit, text, texts};

const ADVISER: &str = "adviser.north-vale@homeoffice.example";
const ADMIN: &str = "admin@prevent-assure.example";

fn now() -> u64 {
    time::OffsetDateTime::now_utc().unix_timestamp() as u64
}

async fn password(browser: &Browser) {
    browser.goto("/login").await;
    fill(&browser.client, "#email", ADVISER).await;
    fill(&browser.client, "#password", DEMO_PASSWORD).await;
    submit(&browser.client, "main form button[type=submit]").await;
}

#[sqlx::test]
async fn an_adviser_sets_up_a_second_factor_at_sign_in_and_uses_it(pool: PgPool) {
    journey(pool, true).await;
}

#[sqlx::test]
async fn the_second_factor_works_without_javascript(pool: PgPool) {
    journey(pool, false).await;
}

async fn journey(pool: PgPool, javascript: bool) {
    let mut state = support::demo_state(pool.clone()).await;
    let mut settings = (*state.settings).clone();
    settings.mfa_key = Some(MfaKey::from_hex(&"7e".repeat(32)).expect("a key"));
    settings.second_factor_required = true;
    state.settings = std::sync::Arc::new(settings);
    let browser = Browser::start_with(state, javascript).await;
    let shot = |name: &str| {
        if javascript {
            name.to_owned()
        } else {
            format!("{name}-nojs")
        }
    };

    password(&browser).await;
    assert_eq!(text(&browser.client, "h1").await, "Set up a second factor");
    if javascript {
        browser.assert_accessible().await;
    }
    browser.screenshot(&shot("second-factor-set-up")).await;
    let secret = secret_from_text(&text(&browser.client, "#secret").await).expect("the key");
    // A wrong code first: the error summary, the page again.
    fill(&browser.client, "#code", "000000").await;
    submit(&browser.client, "main form button[type=submit]").await;
    assert!(
        text(&browser.client, ".govuk-error-summary")
            .await
            .contains("The code is not right")
    );
    if javascript {
        browser.assert_accessible().await;
    }
    fill(&browser.client, "#code", &code_at(&secret, ADVISER, now())).await;
    submit(&browser.client, "main form button[type=submit]").await;
    assert_eq!(
        text(&browser.client, ".govuk-panel__title").await,
        "Your second factor is on"
    );
    let recovery = texts(&browser.client, "#recovery-codes li").await;
    assert_eq!(recovery.len(), 10);
    assert!(
        !text(&browser.client, ".app-header__user").await.is_empty(),
        "the header shows who is signed in now"
    );
    if javascript {
        browser.assert_accessible().await;
    }
    browser
        .screenshot(&shot("second-factor-recovery-codes"))
        .await;
    browser.goto("/regions/north-vale").await;
    assert!(
        text(&browser.client, "h1").await.contains("North Vale"),
        "signed in"
    );
    submit(&browser.client, ".app-header__signout button").await;

    // Signing in again: the password, then the code page.
    password(&browser).await;
    assert_eq!(
        text(&browser.client, "h1").await,
        "Enter the code from your authenticator app"
    );
    if javascript {
        browser.assert_accessible().await;
    }
    browser.screenshot(&shot("second-factor-code")).await;
    let used = code_at(&secret, ADVISER, now() + 30);
    fill(&browser.client, "#code", &used).await;
    submit(&browser.client, "main form button[type=submit]").await;
    browser.goto("/regions/north-vale").await;
    assert!(
        text(&browser.client, "h1").await.contains("North Vale"),
        "signed in with the code"
    );
    submit(&browser.client, ".app-header__signout button").await;

    // The same code again, then a wrong one: refused with the same words, nothing opens.
    password(&browser).await;
    for typed in [used.as_str(), "123456"] {
        fill(&browser.client, "#code", typed).await;
        submit(&browser.client, "main form button[type=submit]").await;
        assert!(
            text(&browser.client, ".govuk-error-summary")
                .await
                .contains("The code is not right, or it has been used already"),
            "{typed} refused"
        );
    }
    if javascript {
        browser.assert_accessible().await;
    }
    browser
        .screenshot(&shot("second-factor-code-refused"))
        .await;

    // A recovery code, once.
    fill(&browser.client, "#code", &recovery[0]).await;
    submit(&browser.client, "main form button[type=submit]").await;
    browser.goto("/account").await;
    assert!(
        text(&browser.client, "#second-factor")
            .await
            .contains("9 recovery codes left"),
        "signed in with a recovery code"
    );
    submit(&browser.client, ".app-header__signout button").await;
    password(&browser).await;
    fill(&browser.client, "#code", &recovery[0]).await;
    submit(&browser.client, "main form button[type=submit]").await;
    assert!(
        text(&browser.client, ".govuk-error-summary")
            .await
            .contains("has been used already"),
        "not twice"
    );

    // An administrator resets it (setting up their own second factor first); the adviser
    // then sets one up again at sign-in.
    let admin = browser.another().await;
    admin.goto("/login").await;
    fill(&admin.client, "#email", ADMIN).await;
    fill(&admin.client, "#password", DEMO_PASSWORD).await;
    submit(&admin.client, "main form button[type=submit]").await;
    let admin_secret =
        secret_from_text(&text(&admin.client, "#secret").await).expect("the admin's key");
    fill(
        &admin.client,
        "#code",
        &code_at(&admin_secret, ADMIN, now()),
    )
    .await;
    submit(&admin.client, "main form button[type=submit]").await;
    let adviser_id: uuid::Uuid = sqlx::query_scalar("select id from users where email = $1")
        .bind(ADVISER)
        .fetch_one(&pool)
        .await
        .expect("the adviser");
    admin.goto(&format!("/admin/users/{adviser_id}")).await;
    assert!(
        text(&admin.client, "#second-factor").await.contains("On"),
        "the admin sees the adviser has one"
    );
    submit(&admin.client, "form[action$='/second-factor/reset'] button").await;
    admin.goto(&format!("/admin/users/{adviser_id}")).await;
    assert!(
        !text(&admin.client, "#second-factor").await.contains("On"),
        "reset"
    );
    let resets: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'mfa.reset'")
            .fetch_one(&pool)
            .await
            .expect("a count");
    assert_eq!(resets, 1, "audited");
    password(&browser).await;
    assert_eq!(text(&browser.client, "h1").await, "Set up a second factor");
    browser.close().await;
}
