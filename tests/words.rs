//! Words, not codes: no page any role can reach shows an internal code ("not_scored",
//! "in_review", "action.created") where words belong. Each role's pages are found by following
//! the links of the pages it is shown, from its home page, as a person would.

mod support;

use std::collections::{BTreeSet, VecDeque};

use sqlx::PgPool;
use support::router_from;

/// The people who walk the service (the demo's roles).
const PEOPLE: [&str; 8] = [
    "lead@ashbridge.example",
    "contributor@ashbridge.example",
    "board@ashbridge.example",
    "owner@ashbridge.example",
    "signatory@ashbridge.example",
    "adviser.north-vale@homeoffice.example",
    "channel@homeoffice.example",
    "admin@prevent-assure.example",
];

/// Pages visited per person: enough to reach every kind of page, bounded so the test is quick.
const PAGES_EACH: usize = 300;

/// The prefixes of the audit trail's event codes.
const EVENT_PREFIXES: [&str; 14] = [
    "account",
    "action",
    "assessment",
    "attachment",
    "comment",
    "letter",
    "mfa",
    "notification",
    "permission",
    "review",
    "session",
    "sign_in",
    "sso",
    "user",
];

/// The codes in a page's visible text: snake_case words and audit event codes.
fn codes_in(text: &str) -> Vec<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '@'))
        .map(|w| w.trim_matches('.'))
        .filter(|w| !w.contains('@'))
        // The cookies' own names, which the cookies and privacy pages must give.
        .filter(|w| !w.starts_with("pa_"))
        .filter(|w| {
            let snake = w.split('_').count() > 1
                && w.split('_')
                    .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase()));
            let event = w.split_once('.').is_some_and(|(head, tail)| {
                EVENT_PREFIXES.contains(&head)
                    && !tail.is_empty()
                    && tail.chars().all(|c| c.is_ascii_lowercase() || c == '_')
            });
            snake || event
        })
        .map(str::to_owned)
        .collect()
}

/// Whether a link leads to a page (not a download, a file or a way out).
fn is_page(href: &str) -> bool {
    href.starts_with('/')
        && !href.starts_with("/static")
        && !href.starts_with("/logout")
        && !href.contains("/attachments/")
        && ![".csv", ".xlsx", ".docx", ".json"]
            .iter()
            .any(|ext| href.split(['?', '#']).next().unwrap_or("").ends_with(ext))
}

#[test]
fn codes_are_found_and_words_are_not() {
    assert_eq!(
        codes_in("Adviser's score not_scored, then action.created by lead@x_y.example"),
        ["not_scored", "action.created"]
    );
    assert!(codes_in("Not scored. In review. ashbridge.example, Q4 2022/23.").is_empty());
}

#[sqlx::test]
async fn no_page_any_role_reaches_shows_an_internal_code(pool: PgPool) {
    let router = router_from(support::full_demo_state(pool).await, [10, 7, 0, 1]);
    let mut visited_in_all = 0;
    for email in PEOPLE {
        let mut client = support::signed_in(&router, email).await;
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut queue: VecDeque<String> = ["/".to_owned(), "/assessments".to_owned()].into();
        let mut found: Vec<(String, Vec<String>)> = Vec::new();
        while let Some(address) = queue.pop_front() {
            if seen.len() >= PAGES_EACH {
                break;
            }
            // One address per page kind and filter: the fragment never changes the page.
            let address = address.split('#').next().unwrap_or("").to_owned();
            if !seen.insert(address.clone()) {
                continue;
            }
            let reply = client.get(&address).await;
            if reply.status != 200
                || !reply
                    .header("content-type")
                    .is_some_and(|c| c.starts_with("text/html"))
            {
                continue;
            }
            let html = reply.html();
            let body = scraper::Selector::parse("body").expect("selector");
            let text: String = html
                .select(&body)
                .flat_map(|b| b.text())
                .collect::<Vec<_>>()
                .join(" ");
            let codes = codes_in(&text);
            if !codes.is_empty() {
                found.push((address.clone(), codes));
            }
            let links = scraper::Selector::parse("a[href]").expect("selector");
            for a in html.select(&links) {
                let href = a.value().attr("href").unwrap_or_default();
                if is_page(href) && !seen.contains(href) {
                    queue.push_back(href.to_owned());
                }
            }
        }
        assert!(
            seen.len() > 5,
            "{email} reached only {} pages: {seen:?}",
            seen.len()
        );
        eprintln!("{email}: {} pages", seen.len());
        visited_in_all += seen.len();
        assert!(found.is_empty(), "{email} was shown codes: {found:#?}");
    }
    assert!(visited_in_all > 200, "{visited_in_all} pages in all");
}
