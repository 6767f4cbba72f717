//! Round trips to PostgreSQL per page, counted by a proxy between the server and the database
//! (`support::proxy`): with the database a few milliseconds away (another zone, a managed
//! service) each one costs that much, so a page may make at most three, transactions' BEGIN
//! and COMMIT included. Counted as the first view after a change costs (views not kept; who is
//! signed in is, as it is between changes), with statements already prepared on the
//! connection (what every view but the first on a connection costs). The pool's check of a
//! connection given back happens after the statement, off the request's way, and is counted
//! apart; a check before lending one is on the way and counts.

mod support;

use std::time::Duration;

use prevent_assure::app::AppState;
use sqlx::PgPool;
use support::{Client, router_from, signed_in};

/// At most this many round trips for a page.
const MOST: usize = 3;
/// And for a save: the page's two reads (who may do what to which benchmark, and what is
/// stored, against which the typing is checked) and the save, whose statement also carries
/// the marker that the wait for its notifications listens for.
const SAVE_MOST: usize = 3;

/// The database's address as `host:port`, and a URL for the test database through `port`.
async fn through_port(pool: &PgPool, port: u16) -> (String, String) {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .expect("the database");
    let options = pool.connect_options();
    let upstream = format!("{}:{}", options.get_host(), options.get_port());
    let user = options.get_username().to_owned();
    (
        upstream,
        format!("postgres://{user}@127.0.0.1:{port}/{name}"),
    )
}

/// Connections of the pool in use.
fn busy(pool: &PgPool) -> usize {
    (pool.size() as usize).saturating_sub(pool.num_idle())
}

/// Waits until every connection lent for a request is back and idle (the check on release
/// done): `quiet` are in use when nothing happens (the caches' listener holds one).
async fn settled(pool: &PgPool, quiet: usize) {
    for _ in 0..200 {
        if busy(pool) <= quiet {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if busy(pool) <= quiet {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the pool's connections did not come back");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    round_trips: usize,
    checks: usize,
}

#[sqlx::test]
async fn every_page_costs_at_most_three_round_trips_to_the_database(pool: PgPool) {
    support::demo_state(pool.clone()).await;
    prevent_assure::demo::fill(&pool).await.expect("filled");
    let ids = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, uuid::Uuid>(sql)
                .fetch_one(&pool)
                .await
                .expect(sql)
        }
    };
    let latest = ids(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
         where o.slug = 'ashbridge' and f.code = 'prevent-la-2018' order by c.starts_on desc limit 1",
    )
    .await;
    let published = ids(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
         where o.slug = 'ashbridge' and f.code = 'prevent-la-2018' and a.state = 'published'
         order by c.starts_on desc limit 1",
    )
    .await;
    let statement = ids(
        "select a.id from assessments a join organisations o on o.id = a.organisation_id
         join cycles c on c.id = a.cycle_id join frameworks f on f.id = a.framework_id
         where o.slug = 'ashbridge' and f.code = 'channel-aas-2020' order by c.starts_on desc limit 1",
    )
    .await;

    let (upstream, _) = through_port(&pool, 0).await;
    let proxy = support::proxy::start("127.0.0.1:0", upstream, Duration::ZERO)
        .await
        .expect("the proxy");
    let (_, url) = through_port(&pool, proxy.port).await;
    let through = prevent_assure::db::connect(&url, 4)
        .await
        .expect("connected through the proxy");
    let frameworks = prevent_assure::app::load_frameworks(&through, &support::frameworks_dir())
        .await
        .expect("frameworks");
    let state = AppState::new(
        through.clone(),
        frameworks,
        support::root().join("static"),
        prevent_assure::app::Settings::default(),
    );
    let caches = state.caches.clone();
    let router = router_from(state, [10, 7, 0, 1]);
    // Views asked of the database every time; who is signed in is kept (as between changes).
    caches.keep_views(false);
    for _ in 0..100 {
        if caches.listening() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let quiet = busy(&through);

    let a = format!("/assessments/{latest}");
    let p = format!("/assessments/{published}");
    let s = format!("/assessments/{statement}");
    let pages: Vec<(&str, Vec<String>)> = vec![
        (
            "lead@ashbridge.example",
            vec![
                "/".into(),
                "/account".into(),
                "/assessments".into(),
                "/orgs/ashbridge".into(),
                "/orgs/ashbridge/actions".into(),
                "/orgs/ashbridge/actions.csv".into(),
                "/orgs/ashbridge/actions.xlsx".into(),
                "/orgs/ashbridge/people".into(),
                "/orgs/ashbridge/audit".into(),
                "/notifications".into(),
                a.clone(),
                format!("{a}/benchmarks/1"),
                format!("{a}/benchmarks/5"),
                format!("{a}/check"),
                format!("{a}/history"),
                format!("{p}/letter"),
                format!("{a}/export.xlsx"),
                s.clone(),
                format!("{s}/key-areas/4"),
                format!("{s}/statement"),
            ],
        ),
        ("owner@ashbridge.example", vec!["/me/actions".into()]),
        (
            "adviser.north-vale@homeoffice.example",
            vec![
                "/regions/north-vale".into(),
                "/regions/north-vale/scores.csv".into(),
                format!("{p}/review"),
            ],
        ),
        (
            "admin@prevent-assure.example",
            vec![
                "/national".into(),
                "/admin/audit".into(),
                "/admin/users".into(),
            ],
        ),
        (
            "channel@homeoffice.example",
            vec!["/channel".into(), format!("{s}/channel-review")],
        ),
    ];

    let mut report = Vec::new();
    let mut over = Vec::new();
    for (email, uris) in &pages {
        let mut client: Client = signed_in(&router, email).await;
        for uri in uris {
            // The least of a few views: the first on a connection also prepares its statements.
            let mut least: Option<Cost> = None;
            for _ in 0..6 {
                settled(&through, quiet).await;
                let (trips, checks) = (proxy.counts.round_trips(), proxy.counts.checks());
                let reply = client.get(uri).await;
                assert_eq!(reply.status, 200, "{email} {uri}");
                settled(&through, quiet).await;
                let cost = Cost {
                    round_trips: proxy.counts.round_trips() - trips,
                    checks: proxy.counts.checks() - checks,
                };
                if least.is_none_or(|l| cost.round_trips < l.round_trips) {
                    least = Some(cost);
                }
            }
            let cost = least.expect("measured");
            report.push(format!(
                "{:>2} round trips, {:>2} checks  {uri}",
                cost.round_trips, cost.checks
            ));
            if cost.round_trips > MOST {
                over.push(format!("{uri}: {cost:?}"));
            }
        }
    }

    // A save (the lead's Save on a benchmark page): the page's head and stored state, and one
    // statement that saves the benchmark with its audit event and the caches' marker (no
    // BEGIN or COMMIT, no marker sent after it).
    let mut lead: Client = signed_in(&router, "lead@ashbridge.example").await;
    let page = format!("{a}/benchmarks/1");
    let mut least: Option<usize> = None;
    for k in 0..4 {
        let html = lead.get(&page).await.html();
        let mut fields = support::form_fields(&html, "form[enctype='multipart/form-data']");
        let (name, value) = fields
            .iter()
            .find(|(n, _)| n.starts_with("evidence-"))
            .cloned()
            .expect("an evidence box");
        support::set_field(&mut fields, &name, &format!("{value} (checked {k})"));
        support::set_field(&mut fields, "intent", "save");
        let form: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        settled(&through, quiet).await;
        let trips = proxy.counts.round_trips();
        let reply = lead.post(&page, &form).await;
        assert_eq!(reply.status, 303, "the save went through");
        settled(&through, quiet).await;
        let cost = proxy.counts.round_trips() - trips;
        least = Some(least.map_or(cost, |l| l.min(cost)));
    }
    let save = least.expect("measured");
    report.push(format!(
        "{save:>2} round trips            POST {page} (a save)"
    ));
    eprintln!("{}", report.join("\n"));
    assert!(over.is_empty(), "pages over {MOST} round trips: {over:#?}");
    assert!(
        save <= SAVE_MOST,
        "a benchmark's save took {save} round trips, more than {SAVE_MOST}"
    );
    through.close().await;
}
