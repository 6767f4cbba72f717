//! Nobody sees what is not theirs: every route, every role, and people of another council or
//! region. Anonymous visitors are sent to sign in.

mod support;

use prevent_assure::demo::DEMO_PASSWORD;
use sqlx::PgPool;
use support::{Client, location, router_from};

/// Who is asking: (label, email or None for anonymous).
const PEOPLE: [(&str, Option<&str>); 9] = [
    ("anonymous", None),
    ("Ashbridge lead", Some("lead@ashbridge.example")),
    (
        "Ashbridge contributor",
        Some("contributor@ashbridge.example"),
    ),
    ("Ashbridge board member", Some("board@ashbridge.example")),
    ("Ashbridge action owner", Some("owner@ashbridge.example")),
    ("lead of another council", Some("lead@brackenfield.example")),
    (
        "adviser of Ashbridge's region",
        Some("adviser.north-vale@homeoffice.example"),
    ),
    (
        "adviser of another region",
        Some("adviser.south-weald@homeoffice.example"),
    ),
    ("administrator", Some("admin@prevent-assure.example")),
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    SignIn,
    Allowed,
    Refused,
}

/// What each person may reach: index as PEOPLE.
fn expected(route: &str, person: usize) -> Expect {
    use Expect::*;
    if person == 0 {
        return SignIn;
    }
    let admin = person == 8;
    if route.starts_with("/admin") {
        return if admin { Allowed } else { Refused };
    }
    if route.starts_with("/orgs/ashbridge") {
        return if admin || person == 1 {
            Allowed
        } else {
            Refused
        };
    }
    Allowed // /account
}

async fn sign_in(router: &axum::Router, email: Option<&str>) -> Client {
    let mut client = Client::new(router.clone());
    if let Some(email) = email {
        let reply = client.sign_in(email, DEMO_PASSWORD).await;
        assert_eq!(reply.status, 303, "{email} signs in");
    }
    client
}

async fn ids(pool: &PgPool) -> (uuid::Uuid, uuid::Uuid) {
    let (user, membership): (uuid::Uuid, uuid::Uuid) = sqlx::query_as(
        "select u.id, m.id from users u join memberships m on m.user_id = u.id where u.email = 'lead@ashbridge.example'",
    )
    .fetch_one(pool)
    .await
    .expect("the Ashbridge lead");
    (user, membership)
}

#[sqlx::test]
async fn every_page_answers_each_role_as_the_policy_says(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 1, 0, 1]);
    let (lead_id, _) = ids(&pool).await;
    let provider: uuid::Uuid = sqlx::query_scalar(
        "insert into identity_providers (slug, name, issuer_url, client_id)
         values ('vale-id', 'Vale ID', 'https://id.vale.example', 'prevent-assure') returning id",
    )
    .fetch_one(&pool)
    .await
    .expect("a provider");
    let routes = [
        "/account".to_owned(),
        "/admin".to_owned(),
        "/admin/regions".to_owned(),
        "/admin/councils".to_owned(),
        "/admin/users".to_owned(),
        "/admin/users/new".to_owned(),
        format!("/admin/users/{lead_id}"),
        "/admin/cycles".to_owned(),
        "/admin/audit".to_owned(),
        "/admin/outbox".to_owned(),
        "/admin/notifications".to_owned(),
        "/admin/identity-providers".to_owned(),
        "/admin/identity-providers/new".to_owned(),
        format!("/admin/identity-providers/{provider}"),
        "/notifications".to_owned(),
        "/orgs/ashbridge/people".to_owned(),
        "/orgs/ashbridge/audit".to_owned(),
        "/orgs/ashbridge/audit.json".to_owned(),
        "/admin/audit.json".to_owned(),
    ];
    for (index, (who, email)) in PEOPLE.iter().enumerate() {
        let mut client = sign_in(&router, *email).await;
        for route in &routes {
            let reply = client.get(route).await;
            // No browser or proxy keeps a copy of any of it, refusals included.
            assert!(
                reply
                    .header("cache-control")
                    .is_some_and(|c| c.contains("no-store")),
                "{who} GET {route}"
            );
            match expected(route, index) {
                Expect::SignIn => {
                    assert_eq!(
                        (reply.status.as_u16(), location(&reply)),
                        (303, "/login"),
                        "{who} GET {route}"
                    )
                }
                Expect::Allowed => assert_eq!(reply.status, 200, "{who} GET {route}"),
                Expect::Refused => {
                    assert_eq!(reply.status, 403, "{who} GET {route}");
                    // Nothing of Ashbridge's people or trail leaks into the refusal.
                    assert!(
                        !reply.body.contains("lead@ashbridge.example"),
                        "{who} GET {route}"
                    );
                    assert!(!reply.body.contains("Priya Shah"), "{who} GET {route}");
                }
            }
        }
    }
    let refusals: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'permission.refused'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert!(refusals > 50, "{refusals}");
}

#[sqlx::test]
async fn every_form_refuses_people_it_is_not_for_and_changes_nothing(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 1, 0, 2]);
    let (lead_id, membership_id) = ids(&pool).await;
    let invite = [
        ("email", "someone.new@ashbridge.example"),
        ("name", "Someone New"),
        ("role", "board"),
    ];
    let forms: Vec<(String, Vec<(&str, &str)>)> = vec![
        (
            "/admin/regions".into(),
            vec![("name", "East Fen"), ("slug", "east-fen")],
        ),
        (
            "/admin/councils".into(),
            vec![
                ("name", "Hollow Council"),
                ("slug", "hollow"),
                ("region", ""),
            ],
        ),
        ("/admin/users/new".into(), invite.to_vec()),
        (format!("/admin/users/{lead_id}/disable"), vec![]),
        (format!("/admin/users/{lead_id}/unlock"), vec![]),
        (format!("/admin/users/{lead_id}/enable"), vec![]),
        (
            format!("/admin/users/{lead_id}/memberships/{membership_id}/remove"),
            vec![],
        ),
        ("/admin/cycles".into(), vec![("label", "2030/31")]),
        ("/orgs/ashbridge/people".into(), invite.to_vec()),
        (
            "/orgs/ashbridge/second-factor".into(),
            vec![("second-factor", "required")],
        ),
        (
            format!("/admin/users/{lead_id}/second-factor/reset"),
            vec![],
        ),
        (
            "/admin/identity-providers".into(),
            vec![
                ("slug", "vale-id"),
                ("name", "Vale ID"),
                ("issuer_url", "https://id.vale.example"),
                ("client_id", "prevent-assure"),
                ("domains", "ashbridge.example"),
            ],
        ),
        (
            format!("/admin/identity-providers/{}", uuid::Uuid::new_v4()),
            vec![("name", "Taken over")],
        ),
    ];
    for (index, (who, email)) in PEOPLE.iter().enumerate() {
        if index == 8 {
            continue; // the administrator may; shown elsewhere
        }
        let mut client = sign_in(&router, *email).await;
        for (route, form) in &forms {
            if index == 1 && route.starts_with("/orgs/ashbridge") {
                continue; // the lead may invite to their own council
            }
            let reply = client.post(route, form).await;
            if index == 0 {
                // Not signed in: told plainly that nothing was saved, and nothing is.
                assert_eq!(reply.status, 401, "{who} POST {route}");
                assert!(reply.body.contains("was not saved"), "{who} POST {route}");
            } else {
                assert_eq!(reply.status, 403, "{who} POST {route}");
            }
        }
    }
    let (regions, users, disabled, memberships): (i64, i64, i64, i64) = sqlx::query_as(
        "select (select count(*) from regions), (select count(*) from users),
                (select count(*) from users where disabled_at is not null), (select count(*) from memberships)",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!((regions, users, disabled, memberships), (2, 21, 0, 21));
    let changed: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'mfa.council_required'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(changed, 0, "no council's second-factor rule changed");
    let (providers, resets): (i64, i64) = sqlx::query_as(
        "select (select count(*) from identity_providers),
                (select count(*) from audit_events where action = 'mfa.reset')",
    )
    .fetch_one(&pool)
    .await
    .expect("counts");
    assert_eq!(
        (providers, resets),
        (0, 0),
        "no provider added, no second factor reset"
    );
}

#[sqlx::test]
async fn a_lead_cannot_give_roles_beyond_their_council(pool: PgPool) {
    let router = router_from(support::demo_state(pool.clone()).await, [10, 1, 0, 3]);
    let mut lead = sign_in(&router, Some("lead@ashbridge.example")).await;

    let reply = lead
        .post(
            "/orgs/ashbridge/people",
            &[
                ("email", "x@homeoffice.example"),
                ("name", "X"),
                ("role", "admin"),
            ],
        )
        .await;

    assert_eq!(reply.status, 422);
    let admins: i64 = sqlx::query_scalar("select count(*) from memberships where role = 'admin'")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(admins, 1);
}

/// The pages people look at, for every person: a council's views to its own people, its
/// region's adviser and administrators (404 to anyone else, who is not told it exists); the
/// region to its adviser and administrators; the nation to administrators; everyone's own
/// actions to everyone signed in. Anonymous visitors are sent to sign in.
#[sqlx::test]
async fn every_view_answers_each_role_as_the_policy_says(pool: PgPool) {
    let router = router_from(support::full_demo_state(pool.clone()).await, [10, 1, 0, 4]);
    let assessment: uuid::Uuid = sqlx::query_scalar(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks fw on fw.id = a.framework_id
         where fw.code = 'prevent-la-2018' and o.slug = 'ashbridge' order by c.starts_on desc limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("Ashbridge's latest assessment");
    let council = [
        "/orgs/ashbridge".to_owned(),
        "/orgs/ashbridge/actions".to_owned(),
        "/orgs/ashbridge/actions?overdue=true".to_owned(),
        "/orgs/ashbridge/actions.csv".to_owned(),
        "/orgs/ashbridge/actions.xlsx".to_owned(),
        "/orgs/ashbridge/summary.docx".to_owned(),
        format!("/assessments/{assessment}/export.xlsx"),
    ];
    // Index as PEOPLE: who belongs to Ashbridge or advises its region, or administers.
    let sees_council = [false, true, true, true, true, false, true, false, true];
    let sees_region = [false, false, false, false, false, false, true, false, true];
    for (index, (who, email)) in PEOPLE.iter().enumerate() {
        let mut client = sign_in(&router, *email).await;
        let mut check = async |route: &str, allowed: bool, refusal: u16| {
            let reply = client.get(route).await;
            assert!(
                reply
                    .header("cache-control")
                    .is_some_and(|c| c.contains("no-store")),
                "{who} GET {route}"
            );
            if index == 0 {
                assert_eq!(
                    (reply.status.as_u16(), location(&reply)),
                    (303, "/login"),
                    "{who} GET {route}"
                );
            } else if allowed {
                assert_eq!(reply.status, 200, "{who} GET {route}");
            } else {
                assert_eq!(reply.status, refusal, "{who} GET {route}");
                if !sees_council[index] {
                    assert!(!reply.body.contains("Ashbridge"), "{who} GET {route}");
                }
            }
        };
        for route in &council {
            check(route, sees_council[index], 404).await;
        }
        for route in [
            "/regions/north-vale",
            "/regions/north-vale/scores.csv",
            "/regions/north-vale/scores.xlsx",
        ] {
            check(route, sees_region[index], 403).await;
        }
        for route in ["/national", "/national/scores.csv", "/national/scores.xlsx"] {
            check(route, index == 8, 403).await;
        }
        check("/me/actions", true, 200).await;
        // The footer's pages are for everyone, signed in or not.
        for route in ["/accessibility", "/privacy", "/cookies"] {
            let reply = client.get(route).await;
            assert_eq!(reply.status, 200, "{who} GET {route}");
        }
    }
}
