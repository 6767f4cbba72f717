//! Pages that reflow (WCAG 2.2, 1.4.10): at 320 CSS pixels wide no page of the service scrolls
//! sideways as a whole; a wide table scrolls inside its own labelled, focusable box. Every page
//! visited is also checked with axe at that width, and the letter's forms work without
//! JavaScript.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::browser::{Browser, fill, submit, text};

async fn sign_in(browser: &Browser, email: &str) {
    browser.goto("/login").await;
    fill(&browser.client, "#email", email).await;
    fill(&browser.client, "#password", DEMO_PASSWORD).await;
    submit(&browser.client, "main form button[type=submit]").await;
    text(&browser.client, ".app-header__user").await;
}

/// (page, document width) for each page wider than the screen; axe's findings go to `faults`.
async fn too_wide(
    browser: &Browser,
    pages: &[String],
    faults: &mut Vec<String>,
) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for page in pages {
        browser.goto(page).await;
        let title = browser.client.title().await.unwrap_or_default();
        if ["Page not found", "You do not have permission", "Sorry"]
            .iter()
            .any(|t| title.starts_with(t))
        {
            faults.push(format!("{page}: {title}"));
        }
        for v in browser.axe_violations().await {
            faults.push(format!("{page}: {} ({})", v["id"], v["help"]));
        }
        let widths = browser
            .client
            .execute(
                "return [document.documentElement.scrollWidth, window.innerWidth, document.documentElement.clientWidth];",
                vec![],
            )
            .await
            .expect("the widths");
        let scroll = widths[0].as_i64().unwrap_or(0);
        let inner = widths[1].as_i64().unwrap_or(0);
        assert_eq!(inner, 320, "the screen is 320 CSS pixels wide");
        // What the page may fill: the screen less any scroll bar.
        let room = widths[2].as_i64().unwrap_or(0);
        if scroll > room {
            let culprits = browser
                .client
                .execute(
                    "const out = [];
                     for (const el of document.querySelectorAll('body *')) {
                       if (el.closest('.app-scroll')) continue;
                       const r = el.getBoundingClientRect();
                       if (r.right > document.documentElement.clientWidth + 1 && out.length < 4) {
                         out.push(el.tagName + '.' + el.className + ' ' + Math.round(r.right));
                       } else if (el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0
                                  && getComputedStyle(el).overflowX === 'visible' && out.length < 4) {
                         out.push(el.tagName + '.' + el.className + ' holds text ' + el.scrollWidth + ' wide');
                       }
                     }
                     return out.join('; ');",
                    vec![],
                )
                .await
                .expect("the culprits");
            out.push((
                format!("{page} [{}]", culprits.as_str().unwrap_or("")),
                scroll,
            ));
        }
    }
    out
}

/// An assessment waiting for its adviser, whose letter is still a draft, and that adviser.
const IN_REVIEW: &str = "select a.id, 'adviser.' || r.slug || '@homeoffice.example'
    from assessments a join organisations o on o.id = a.organisation_id
    join regions r on r.id = o.region_id join frameworks f on f.id = a.framework_id
    where a.state in ('submitted', 'in_review') and f.code = 'prevent-la-2018'
    order by r.slug <> 'north-vale', o.name limit 1";

#[sqlx::test]
async fn no_page_scrolls_sideways_at_320_css_pixels(pool: PgPool) {
    let browser = Browser::start(support::full_demo_state(pool.clone()).await).await;
    let one = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, uuid::Uuid>(sql)
                .fetch_one(&pool)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        }
    };
    let draft = one("select a.id from assessments a join organisations o on o.id = a.organisation_id join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id where o.slug = 'ashbridge' and f.code = 'prevent-la-2018' order by c.starts_on desc limit 1").await;
    let published = one("select a.id from assessments a join organisations o on o.id = a.organisation_id join frameworks f on f.id = a.framework_id where o.slug = 'ashbridge' and a.state = 'published' and f.code = 'prevent-la-2018' limit 1").await;
    let action = one("select ac.id from actions ac join assessments a on a.id = ac.assessment_id join organisations o on o.id = a.organisation_id join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id where o.slug = 'ashbridge' and f.code = 'prevent-la-2018' order by c.starts_on desc, ac.created_at limit 1").await;
    // Ashbridge's Channel statement of this cycle, waiting for its signatory.
    let statement = one("select a.id from assessments a join organisations o on o.id = a.organisation_id join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id where o.slug = 'ashbridge' and f.code = 'channel-aas-2020' order by c.starts_on desc limit 1").await;
    let submitted_statement = one("select a.id from assessments a join frameworks f on f.id = a.framework_id where f.code = 'channel-aas-2020' and a.state = 'submitted' limit 1").await;
    let lead_id = one("select id from users where email = 'lead@ashbridge.example'").await;
    let cycle = one("select id from cycles order by starts_on desc limit 1").await;
    let (in_review, in_review_adviser): (uuid::Uuid, String) = sqlx::query_as(IN_REVIEW)
        .fetch_one(&pool)
        .await
        .expect("one in review");
    browser.emulate_width(320).await;

    let everyone = |extra: Vec<String>| {
        let mut pages: Vec<String> = [
            "/",
            "/frameworks",
            "/frameworks/prevent-la-2018",
            "/frameworks/channel-aas-2020",
            "/account",
            "/assessments",
            "/me/actions",
            "/accessibility",
            "/privacy",
            "/cookies",
            "/notifications",
        ]
        .iter()
        .map(|p| (*p).to_owned())
        .collect();
        pages.extend(extra);
        pages
    };
    let mut wide = Vec::new();
    let mut faults = Vec::new();
    for (email, pages) in [
        (
            "lead@ashbridge.example",
            everyone(vec![
                "/orgs/ashbridge".into(),
                "/orgs/ashbridge/actions".into(),
                "/orgs/ashbridge/people".into(),
                "/orgs/ashbridge/audit".into(),
                format!("/assessments/{draft}"),
                format!("/assessments/{draft}/benchmarks/1"),
                format!("/assessments/{draft}/benchmarks/5"),
                format!("/assessments/{draft}/check"),
                format!("/assessments/{draft}/history"),
                format!("/assessments/{draft}/import"),
                format!("/assessments/{draft}/actions/{action}"),
                format!("/assessments/{draft}/actions/{action}/delete"),
                format!("/assessments/{published}/letter"),
                format!("/assessments/{statement}"),
                format!("/assessments/{statement}/key-areas/3"),
                format!("/assessments/{statement}/statement"),
                format!("/assessments/{statement}/check"),
            ]),
        ),
        (
            "signatory@ashbridge.example",
            everyone(vec![format!("/assessments/{statement}/sign-off")]),
        ),
        (
            "channel@homeoffice.example",
            everyone(vec![
                "/channel".into(),
                "/channel?area=4".into(),
                format!("/assessments/{submitted_statement}/channel-review"),
            ]),
        ),
        (
            "contributor@ashbridge.example",
            everyone(vec![format!("/assessments/{draft}/benchmarks/7")]),
        ),
        (
            "board@ashbridge.example",
            everyone(vec!["/orgs/ashbridge".into()]),
        ),
        (
            "adviser.north-vale@homeoffice.example",
            everyone(vec![
                "/regions/north-vale".into(),
                format!("/assessments/{published}/review"),
                format!("/assessments/{published}/history"),
            ]),
        ),
        (
            in_review_adviser.as_str(),
            vec![
                format!("/assessments/{in_review}/review"),
                format!("/assessments/{in_review}/letter"),
                format!("/assessments/{in_review}/letter/edit"),
            ],
        ),
        (
            "admin@prevent-assure.example",
            everyone(vec![
                "/admin".into(),
                "/admin/regions".into(),
                "/admin/councils".into(),
                "/admin/users".into(),
                "/admin/users/new".into(),
                format!("/admin/users/{lead_id}"),
                "/admin/cycles".into(),
                "/admin/letters".into(),
                format!("/admin/letters/{cycle}"),
                "/admin/audit".into(),
                "/admin/outbox".into(),
                "/admin/notifications".into(),
                "/admin/identity-providers".into(),
                "/admin/identity-providers/new".into(),
                "/national".into(),
            ]),
        ),
    ] {
        sign_in(&browser, email).await;
        for (page, width) in too_wide(&browser, &pages, &mut faults).await {
            wide.push(format!("{email} {page}: {width} px"));
        }
        if email == "lead@ashbridge.example" {
            for (page, name) in [
                ("/orgs/ashbridge", "board-320"),
                ("/orgs/ashbridge/actions", "plan-320"),
                ("/frameworks/prevent-la-2018", "framework-320"),
                ("/accessibility", "accessibility-320"),
            ] {
                browser.goto(page).await;
                browser.narrow_screenshot(320, name).await;
            }
        }
        submit(&browser.client, ".app-header__signout button").await;
    }
    for page in ["/login", "/password-reset"] {
        browser.goto(page).await;
        let w = browser
            .client
            .execute("return document.documentElement.scrollWidth;", vec![])
            .await
            .expect("width");
        if w.as_i64().unwrap_or(0) > 320 {
            wide.push(format!("signed out {page}: {w} px"));
        }
    }
    assert!(
        wide.is_empty(),
        "pages wider than a 320 px screen:\n{}",
        wide.join("\n")
    );
    // Every page was there for the person (not a refusal or a missing page), and axe-clean.
    assert!(
        faults.is_empty(),
        "pages refused, missing or failing axe at 320 px:\n{}",
        faults.join("\n")
    );
    browser.close().await;
}

#[sqlx::test]
async fn the_letter_and_its_template_are_edited_without_javascript(pool: PgPool) {
    let state = support::full_demo_state(pool.clone()).await;
    let browser = Browser::start_with(state.clone(), false).await;
    let (assessment, adviser): (uuid::Uuid, String) = sqlx::query_as(IN_REVIEW)
        .fetch_one(&pool)
        .await
        .expect("one in review");
    sign_in(&browser, &adviser).await;
    browser
        .goto(&format!("/assessments/{assessment}/letter"))
        .await;
    let heading = text(&browser.client, "h1").await;
    assert!(heading.starts_with("Draft"), "{heading}");
    browser
        .goto(&format!("/assessments/{assessment}/letter/edit"))
        .await;
    fill(
        &browser.client,
        "#cc",
        "Chief Executive; Director of Public Health",
    )
    .await;
    fill(
        &browser.client,
        "#extra",
        "The partnership's training plan is a model for the region.",
    )
    .await;
    submit(&browser.client, "main form button[type=submit]").await;
    let url = browser.client.current_url().await.expect("the url");
    assert_eq!(url.path(), format!("/assessments/{assessment}/letter"));
    let letter = text(&browser.client, ".app-letter").await;
    assert!(
        letter.contains("Chief Executive; Director of Public Health"),
        "{letter}"
    );
    assert!(letter.contains("a model for the region"), "{letter}");
    browser.screenshot("letter-draft-no-js").await;
    submit(&browser.client, ".app-header__signout button").await;

    sign_in(&browser, "admin@prevent-assure.example").await;
    let cycle: uuid::Uuid = sqlx::query_scalar("select cycle_id from assessments where id = $1")
        .bind(assessment)
        .fetch_one(&pool)
        .await
        .expect("its cycle");
    browser.goto(&format!("/admin/letters/{cycle}")).await;
    fill(
        &browser.client,
        "#closing",
        "With thanks, and best wishes for the year ahead.",
    )
    .await;
    submit(&browser.client, "main form button[type=submit]").await;
    let url = browser.client.current_url().await.expect("the url");
    assert_eq!(url.query(), Some("saved=1"));
    assert_eq!(
        support::browser::value(&browser.client, "#closing").await,
        "With thanks, and best wishes for the year ahead."
    );
    browser.screenshot("letter-template-no-js").await;
    // The trail says what the adviser and the administrator did, in words.
    browser.goto("/admin/audit").await;
    let trail = text(&browser.client, ".app-audit").await;
    assert!(trail.contains("Saved a letter template"), "{trail}");
    assert!(trail.contains("Changed the letter's own lines"), "{trail}");
    assert!(
        trail.contains("Chief Executive; Director of Public Health"),
        "{trail}"
    );
    // The draft letter now ends with the new closing.
    submit(&browser.client, ".app-header__signout button").await;
    sign_in(&browser, &adviser).await;
    browser
        .goto(&format!("/assessments/{assessment}/letter"))
        .await;
    assert!(
        text(&browser.client, ".app-letter")
            .await
            .contains("best wishes for the year ahead")
    );
    browser.close().await;

    // The same trail, checked with axe (which needs JavaScript).
    let browser = Browser::start(state).await;
    sign_in(&browser, "admin@prevent-assure.example").await;
    browser.goto("/admin/audit?action=letter.edited").await;
    browser.assert_accessible().await;
    browser.screenshot("admin-audit").await;
    browser.close().await;
}
