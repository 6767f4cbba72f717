//! The pages and JSON of the foundation, through the router over a fresh database per test.

mod support;

use prevent_assure::app::{self, AppState};
use prevent_assure::framework::Catalogue;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;
use support::{get, texts};

#[sqlx::test]
async fn the_framework_page_shows_ten_benchmarks_and_every_question_with_its_kind(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    let reply = get(&router, "/frameworks/prevent-la-2018").await;

    assert_eq!(reply.status, 200);
    let html = reply.html();
    let benchmarks = texts(&html, "section h2.app-section__title");
    assert_eq!(benchmarks.len(), 10, "{benchmarks:?}");
    assert_eq!(benchmarks[0], "Risk Assessment");
    assert_eq!(benchmarks[9], "Communications");
    let codes = texts(&html, ".app-question__code");
    assert_eq!(codes.len(), 38);
    assert_eq!(codes.first().map(String::as_str), Some("1.1"));
    assert_eq!(codes.last().map(String::as_str), Some("10.2"));
    let kinds = texts(&html, ".app-question .govuk-tag");
    assert_eq!(kinds.len(), 38);
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "Expectation of compliance")
            .count(),
        22
    );
    assert_eq!(
        kinds
            .iter()
            .filter(|k| *k == "Good practice activity")
            .count(),
        16
    );
    assert_eq!(texts(&html, ".app-levels").len(), 10);
    assert_eq!(texts(&html, ".app-level").len(), 50);
    assert_eq!(texts(&html, ".app-level__criteria li").len(), 148);
    assert_eq!(
        texts(&html, "#criterion-b3\\.l4\\.owners"),
        ["Actions are owned by a broad range of partners"]
    );
}

#[sqlx::test]
async fn the_framework_json_has_the_questions_and_five_levels_per_benchmark(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    let reply = get(&router, "/frameworks/prevent-la-2018.json").await;

    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let json = reply.json();
    let sections = json["sections"].as_array().expect("sections");
    assert_eq!(sections.len(), 10);
    let mut codes = Vec::new();
    for section in sections {
        assert_eq!(section["levels"].as_array().map(Vec::len), Some(5));
        for item in section["items"].as_array().expect("items") {
            assert!(matches!(
                item["kind"].as_str(),
                Some("expectation" | "good_practice")
            ));
            codes.push(item["code"].as_str().expect("a code").to_owned());
        }
    }
    assert_eq!(codes.len(), 38);
    assert_eq!(codes[0], "1.1");
    assert_eq!(codes[37], "10.2");
    for section in sections {
        for level in section["levels"].as_array().expect("levels") {
            let score = level["score"].as_u64().expect("a score");
            let criteria = level["criteria"].as_array().map_or(0, Vec::len);
            if score == 1 {
                assert_eq!(criteria, 0, "level 1 is the floor");
            } else {
                assert!(
                    criteria > 0,
                    "benchmark {} level {score} lists its criteria",
                    section["number"]
                );
                for c in level["criteria"].as_array().into_iter().flatten() {
                    let prefix = format!("b{}.l{score}.", section["number"]);
                    assert!(c["id"].as_str().is_some_and(|id| id.starts_with(&prefix)));
                    assert!(c["text"].as_str().is_some_and(|t| !t.is_empty()));
                }
            }
        }
    }
    let b3_l4 = &sections[2]["levels"][3];
    assert_eq!(b3_l4["score"], 4);
    assert!(
        b3_l4["criteria"][0]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("b3.l4."))
    );
    assert!(b3_l4["criteria"][0]["text"].is_string());
}

#[sqlx::test]
async fn the_channel_json_has_the_five_key_areas_with_all_their_statements(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    let json = get(&router, "/frameworks/channel-aas-2020.json")
        .await
        .json();

    let areas = json["sections"].as_array().expect("sections");
    let statements: Vec<usize> = areas
        .iter()
        .map(|a| a["items"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(statements, [5, 5, 6, 15, 5]);
    let ratings: Vec<&str> = json["ratings"]
        .as_array()
        .expect("ratings")
        .iter()
        .filter_map(|r| r["code"].as_str())
        .collect();
    assert_eq!(ratings, ["green", "amber", "red", "na"]);
}

#[sqlx::test]
async fn the_frameworks_index_lists_both_frameworks(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    let reply = get(&router, "/frameworks").await;

    assert_eq!(reply.status, 200);
    let links = texts(&reply.html(), "main a.govuk-link");
    assert!(
        links
            .iter()
            .any(|l| l.contains("Local Authority Partnership Self-Assessment Tool")),
        "{links:?}"
    );
    assert!(
        links
            .iter()
            .any(|l| l.contains("Channel Panel Annual Assurance Statement")),
        "{links:?}"
    );
}

#[sqlx::test]
async fn an_unknown_framework_is_a_friendly_404(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    for uri in [
        "/frameworks/no-such-thing",
        "/frameworks/no-such-thing.json",
        "/nowhere",
    ] {
        let reply = get(&router, uri).await;
        assert_eq!(reply.status, 404, "{uri}");
        assert_eq!(texts(&reply.html(), "h1"), ["Page not found"], "{uri}");
    }
}

#[sqlx::test]
async fn health_is_200_when_the_database_answers(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    let reply = get(&router, "/healthz").await;

    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "ok", "database": "up"})
    );
}

#[tokio::test]
async fn health_is_503_when_the_database_is_unreachable() {
    // Nothing listens on port 1: every connection attempt fails.
    let pool = PgPoolOptions::new()
        .acquire_timeout(std::time::Duration::from_millis(500))
        .connect_lazy("postgres://nobody@127.0.0.1:1/nothing")
        .expect("a lazy pool");
    let router = app::router(AppState::new(
        pool,
        Catalogue::default(),
        support::root().join("static"),
        prevent_assure::app::Settings::default(),
    ));

    let reply = get(&router, "/healthz").await;

    assert_eq!(reply.status, 503);
    assert_eq!(
        reply.json(),
        serde_json::json!({"status": "unavailable", "database": "down"})
    );
}

#[sqlx::test]
async fn every_response_carries_the_security_headers(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    for uri in [
        "/",
        "/frameworks/prevent-la-2018",
        "/static/css/app.css",
        "/nowhere",
        "/login",
        "/password-reset",
        "/admin",
        "/account",
        "/invitations/unknown",
    ] {
        let reply = get(&router, uri).await;
        let csp = reply.header("content-security-policy").unwrap_or_default();
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{uri}: {csp}");
        }
        assert!(!csp.contains("unsafe-inline"), "{uri}: {csp}");
        assert_eq!(
            reply.header("x-content-type-options"),
            Some("nosniff"),
            "{uri}"
        );
        assert!(reply.header("referrer-policy").is_some(), "{uri}");
    }
}

#[sqlx::test]
async fn pages_use_no_inline_script(pool: PgPool) {
    let router = app::router(support::state(pool).await);

    let html = get(&router, "/frameworks/prevent-la-2018").await.html();

    let inline = scraper::Selector::parse("script:not([src])").expect("selector");
    assert_eq!(html.select(&inline).count(), 0);
    let handlers = scraper::Selector::parse("[onclick], [onload]").expect("selector");
    assert_eq!(html.select(&handlers).count(), 0);
}
