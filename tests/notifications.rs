//! The service tells people when it is their turn: each event mails exactly the people
//! concerned (and nobody of another council) through a real SMTP server, with one link and no
//! evidence; reminders and digests go on the timetable once; mail waits and retries while SMTP
//! is down; people choose the optional mail and can stop it from the mail itself.

mod support;

use std::time::Duration;

use prevent_assure::app::AppState;
use prevent_assure::mail::{Retries, Sender};
use prevent_assure::notify::{Timetable, dispatch, schedule};
use sqlx::PgPool;
use support::smtp::{Received, Smtp};
use support::{Client, all_green, location, router_from, signed_in, texts};
use time::{Duration as Days, OffsetDateTime};

const URL: &str = "http://127.0.0.1:3000";
const SECRET: &str = "EVIDENCE-NOT-FOR-MAIL";

/// Sends what is waiting: notices become messages, mail goes to the SMTP server.
struct Post {
    smtp: Smtp,
    sender: Sender,
    seen: usize,
}

impl Post {
    fn start() -> Post {
        let smtp = Smtp::start(&[]);
        let sender = Sender::new(
            &prevent_assure::config::Secret::new(smtp.url()),
            "Prevent Assure <no-reply@prevent-assure.example>",
            Retries::default(),
        )
        .expect("a sender");
        Post {
            smtp,
            sender,
            seen: 0,
        }
    }

    /// Delivers what is waiting and returns the mail that arrived since the last call.
    async fn deliver(&mut self, state: &AppState) -> Vec<Received> {
        dispatch::pending(&state.db, &state.frameworks, URL)
            .await
            .expect("notices dispatched");
        let sent = self.sender.send_due(&state.db).await.expect("mail sent");
        let all = self
            .smtp
            .wait_for(self.seen + sent, Duration::from_secs(10));
        let new = all[self.seen..].to_vec();
        self.seen = all.len();
        new
    }
}

/// Who got the mail, sorted.
fn to(mail: &[Received]) -> Vec<String> {
    let mut to: Vec<String> = mail.iter().flat_map(|m| m.to.clone()).collect();
    to.sort();
    to
}

fn assert_clean(mail: &[Received]) {
    for m in mail {
        assert!(
            !m.text.contains(SECRET) && !m.html.contains(SECRET),
            "no evidence in mail: {}",
            m.text
        );
        assert!(m.text.contains("Prevent Assure"), "{}", m.text);
        assert!(m.text.contains("You get this because"), "{}", m.text);
        assert!(
            m.html.contains("<a href=\"http://127.0.0.1:3000/"),
            "{}",
            m.html
        );
        assert!(m.message_id.contains("@prevent-assure.example"));
    }
}

/// Fills every benchmark of a self-assessment so that it can be submitted.
async fn fill(lead: &mut Client, address: &str) {
    let fw = prevent_assure::framework::load_file(
        &support::frameworks_dir().join("prevent-la-2018.toml"),
    )
    .expect("framework");
    for section in &fw.sections {
        let page = format!("{address}/benchmarks/{}", section.number);
        let version = support::attr(
            &lead.get(&page).await.html(),
            "input[name=version]",
            "value",
        )
        .expect("version");
        let mut form: Vec<(String, String)> = vec![("version".into(), version)];
        for item in &section.items {
            form.push((format!("status-{}", item.code), "developing".into()));
            form.push((
                format!("evidence-{}", item.code),
                format!("{SECRET} {}", item.code),
            ));
        }
        form.push(("proposed".into(), "2".into()));
        for c in &section.levels[1].criteria {
            form.push(("criteria".into(), c.id.clone()));
        }
        let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let reply = lead.post(&page, &pairs).await;
        assert_eq!(reply.status, 303, "benchmark {}", section.number);
    }
}

fn scores() -> Vec<(String, String)> {
    let mut form = Vec::new();
    for n in 1..=10 {
        let agreed = ["3", "4"][n % 2].to_owned();
        form.push((format!("summary-{n}"), format!("Benchmark {n}: settled.")));
        form.push((format!("adviser-{n}"), agreed.clone()));
        form.push((format!("agreed-{n}"), agreed));
    }
    form
}

async fn post_pairs(client: &mut Client, uri: &str, form: &[(String, String)]) -> support::Reply {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    client.post(uri, &pairs).await
}

async fn user_id(pool: &PgPool, email: &str) -> uuid::Uuid {
    sqlx::query_scalar("select id from users where email = $1")
        .bind(email)
        .fetch_one(pool)
        .await
        .expect("the user")
}

#[sqlx::test]
async fn each_step_of_the_review_mails_exactly_the_people_whose_turn_it_is(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let router = router_from(state.clone(), [10, 17, 0, 1]);
    let mut post = Post::start();
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let started = lead
        .post(
            "/assessments",
            &[("organisation", "ashbridge"), ("from", "blank")],
        )
        .await;
    let address = location(&started).to_owned();
    let id = address.trim_start_matches("/assessments/").to_owned();

    // An action given to a linked owner tells the owner; so does a change of its target.
    let owner = user_id(&pool, "owner@ashbridge.example").await;
    let page = format!("{address}/benchmarks/2");
    let added = lead
        .submit_page(
            &page,
            "form[action$='/benchmarks/2']",
            &[
                (
                    "new-action-description",
                    "Refresh the Prevent training plan",
                ),
                ("new-action-owner", "Community Safety"),
                ("new-action-owner-user", &owner.to_string()),
                ("new-action-target", "March 2027"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(to(&mail), ["owner@ashbridge.example"]);
    assert!(
        mail[0].subject.contains("An action in Ashbridge"),
        "{}",
        mail[0].subject
    );
    assert!(
        mail[0]
            .text
            .contains("Refresh the Prevent training plan (target: March 2027)")
    );
    assert!(mail[0].text.contains(&format!("{URL}/me/actions")));
    let action: uuid::Uuid =
        sqlx::query_scalar("select id from actions where assessment_id = $1::uuid")
            .bind(&id)
            .fetch_one(&pool)
            .await
            .expect("the action");
    let edited = lead
        .submit_page(
            &format!("{address}/actions/{action}"),
            &format!("form[action$='/actions/{action}']"),
            &[("action-target", "June 2027")],
            "save",
        )
        .await;
    assert_eq!(edited.status, 303, "{}", edited.body);
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(to(&mail), ["owner@ashbridge.example"]);
    assert!(
        mail[0].subject.contains("target of your action"),
        "{}",
        mail[0].subject
    );
    assert!(mail[0].text.contains("now June 2027"), "{}", mail[0].text);
    // A change that leaves the owner and target alone tells nobody.
    lead.submit_page(
        &format!("{address}/actions/{action}"),
        &format!("form[action$='/actions/{action}']"),
        &[(
            "action-description",
            "Refresh the Prevent training plan for 2027",
        )],
        "save",
    )
    .await;
    assert!(post.deliver(&state).await.is_empty());

    // Submitted: the region's adviser, and only them (not the other region's).
    fill(&mut lead, &address).await;
    assert_eq!(
        lead.post(&format!("{address}/submit"), &[]).await.status,
        303
    );
    let mail = post.deliver(&state).await;
    assert_eq!(to(&mail), ["adviser.north-vale@homeoffice.example"]);
    assert_eq!(
        mail[0].subject,
        "Ashbridge Borough Council has submitted its Prevent duty self-assessment for 2026/27"
    );
    assert!(mail[0].text.contains(&format!("{URL}{address}/review")));
    assert!(
        mail[0].text.contains("regional adviser for North Vale"),
        "{}",
        mail[0].text
    );
    assert!(mail[0].text.contains("cannot be turned off"));
    assert!(
        mail[0].list_unsubscribe.is_empty(),
        "a state change is not a list"
    );
    assert_clean(&mail);

    // Returned with the reason: the council's leads.
    let mut adviser = signed_in(&router, "adviser.north-vale@homeoffice.example").await;
    adviser
        .post(&format!("{address}/review"), &[("intent", "start")])
        .await;
    assert!(
        post.deliver(&state).await.is_empty(),
        "starting a review tells nobody"
    );
    let returned = adviser
        .post(
            &format!("{address}/return"),
            &[("reason", "Benchmark 3 needs the training records for 2026.")],
        )
        .await;
    assert_eq!(returned.status, 303);
    let mail = post.deliver(&state).await;
    assert_eq!(to(&mail), ["lead@ashbridge.example"]);
    assert!(
        mail[0]
            .text
            .contains("\"Benchmark 3 needs the training records for 2026.\"")
    );
    assert!(
        mail[0]
            .text
            .lines()
            .any(|l| l.trim() == format!("{URL}{address}")),
        "{}",
        mail[0].text
    );
    assert_clean(&mail);
    // Kept for looking at in a browser (target/screenshots/mail-returned.html).
    let dir = support::root().join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("the folder");
    std::fs::write(dir.join("mail-returned.html"), &mail[0].html).expect("written");
    std::fs::write(dir.join("mail-returned.txt"), &mail[0].text).expect("written");

    // Submitted again; evidence asked for on benchmark 5 (its contributor too) and 3 (not).
    assert_eq!(
        lead.post(&format!("{address}/submit"), &[]).await.status,
        303
    );
    assert_eq!(
        to(&post.deliver(&state).await),
        ["adviser.north-vale@homeoffice.example"]
    );
    adviser
        .post(&format!("{address}/review"), &[("intent", "start")])
        .await;
    for (n, text) in [
        (5, "Please share the panel's terms of reference."),
        (3, "Please share the plan."),
    ] {
        let asked = adviser
            .post(
                &format!("{address}/review"),
                &[
                    (&format!("request-{n}"), text),
                    ("intent", &format!("request-{n}")),
                ],
            )
            .await;
        assert_eq!(asked.status, 303);
    }
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(
        to(&mail),
        [
            "contributor@ashbridge.example",
            "lead@ashbridge.example",
            "lead@ashbridge.example"
        ]
    );
    assert!(
        mail.iter().all(|m| !m.text.contains("terms of reference")),
        "the request's words stay in the service"
    );
    let five: Vec<&Received> = mail
        .iter()
        .filter(|m| m.subject.contains("benchmark 5"))
        .collect();
    assert_eq!(five.len(), 2);
    assert!(
        five.iter()
            .all(|m| m.text.contains(&format!("{URL}{address}/benchmarks/5")))
    );
    let contributor_mail = five
        .iter()
        .find(|m| m.to == ["contributor@ashbridge.example"])
        .expect("contributor");
    assert!(
        contributor_mail
            .text
            .contains("contribute evidence to benchmark 5")
    );

    // The contributor's reply tells the adviser who asked.
    let request: uuid::Uuid = sqlx::query_scalar(
        "select c.id from comments c join sections s on s.id = c.section_id
         where c.kind = 'evidence_request' and s.number = 5",
    )
    .fetch_one(&pool)
    .await
    .expect("the request");
    let mut contributor = signed_in(&router, "contributor@ashbridge.example").await;
    let replied = post_pairs(
        &mut contributor,
        &format!("{address}/benchmarks/5"),
        &[
            (
                format!("reply-{request}"),
                format!("{SECRET}: the terms are attached."),
            ),
            ("intent".into(), format!("reply-{request}")),
        ],
    )
    .await;
    assert_eq!(replied.status, 303, "{}", replied.body);
    let mail = post.deliver(&state).await;
    assert_eq!(to(&mail), ["adviser.north-vale@homeoffice.example"]);
    assert!(
        mail[0]
            .text
            .contains("You get this because you asked for this evidence.")
    );
    assert_clean(&mail);

    // Agreed, then published: the council's leads and board members.
    sqlx::query("update comments set resolved_at = now() where kind = 'evidence_request'")
        .execute(&pool)
        .await
        .expect("resolved");
    assert_eq!(
        post_pairs(&mut adviser, &format!("{address}/review"), &scores())
            .await
            .status,
        303
    );
    let agreed = adviser
        .post(&format!("{address}/review"), &[("intent", "agree")])
        .await;
    assert_eq!(agreed.status, 303, "{}", agreed.body);
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(
        to(&mail),
        ["board@ashbridge.example", "lead@ashbridge.example"]
    );
    assert!(mail.iter().all(|m| m.subject.contains("are agreed")));
    assert!(
        mail.iter()
            .all(|m| !m.text.contains("Benchmark 1: settled")),
        "no scores or summaries"
    );
    let published = adviser
        .post(&format!("{address}/review"), &[("intent", "publish")])
        .await;
    assert_eq!(published.status, 303);
    let mail = post.deliver(&state).await;
    assert_eq!(
        to(&mail),
        ["board@ashbridge.example", "lead@ashbridge.example"]
    );
    assert!(
        mail.iter()
            .all(|m| m.text.contains(&format!("{URL}{address}/letter")))
    );
    assert_clean(&mail);

    // The same messages are in each person's notifications, and only theirs.
    let mut board = signed_in(&router, "board@ashbridge.example").await;
    let list = board.get("/notifications").await;
    let titles = texts(&list.html(), "#notifications h2");
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(
        titles[0].starts_with("Unread The letter on Ashbridge"),
        "{titles:?}"
    );
    let header = texts(&list.html(), ".app-header__notifications");
    assert_eq!(header, ["Notifications 2 unread"]);
    let theirs: i64 = sqlx::query_scalar(
        "select n.id from notifications n join users u on u.id = n.user_id
         where u.email = 'lead@ashbridge.example' limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("a lead's notification");
    assert_eq!(
        board
            .post(&format!("/notifications/{theirs}/read"), &[])
            .await
            .status,
        404
    );
    let mine: i64 = sqlx::query_scalar(
        "select n.id from notifications n join users u on u.id = n.user_id
         where u.email = 'board@ashbridge.example' order by n.id limit 1",
    )
    .fetch_one(&pool)
    .await
    .expect("the board member's");
    assert_eq!(
        location(
            &board
                .post(&format!("/notifications/{mine}/read"), &[])
                .await
        ),
        "/notifications?done=read"
    );
    assert_eq!(
        texts(
            &board.get("/notifications").await.html(),
            ".app-header__notifications"
        ),
        ["Notifications 1 unread"]
    );
    board.post("/notifications/read", &[]).await;
    assert_eq!(
        texts(&board.get("/").await.html(), ".app-header__notifications"),
        ["Notifications"]
    );
    let unread: i64 = sqlx::query_scalar(
        "select count(*) from notifications n join users u on u.id = n.user_id
         where u.email = 'lead@ashbridge.example' and n.read_at is null",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert!(unread > 0, "marking one's own read leaves others' alone");

    // Nobody of another council or region heard of any of it.
    let strangers: i64 = sqlx::query_scalar(
        "select count(*) from notifications n join users u on u.id = n.user_id
         where u.email like '%brackenfield%' or u.email like '%south-weald%' or u.email like '%eastholme%'",
    )
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(strangers, 0);
}

#[sqlx::test]
async fn the_channel_statement_tells_the_signatory_the_lead_and_the_channel_team(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let router = router_from(state.clone(), [10, 17, 0, 2]);
    let mut post = Post::start();
    let mut lead = signed_in(&router, "lead@ashbridge.example").await;
    let started = lead
        .post(
            "/assessments",
            &[
                ("organisation", "ashbridge"),
                ("from", "blank"),
                ("framework", "channel-aas-2020"),
            ],
        )
        .await;
    let statement = location(&started).to_owned();
    all_green(&mut lead, &statement).await;
    assert!(post.deliver(&state).await.is_empty());

    lead.post(&format!("{statement}/sign-off/request"), &[])
        .await;
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(to(&mail), ["signatory@ashbridge.example"]);
    assert!(mail[0].subject.contains("ready for your signature"));
    assert!(mail[0].text.contains(&format!("{URL}{statement}/sign-off")));

    let mut signatory = signed_in(&router, "signatory@ashbridge.example").await;
    let sign = [
        ("name", "Dr Helen Marsh"),
        ("position", "Chief Executive"),
        ("local_authority", "Ashbridge Borough Council"),
        ("panel", "single"),
        ("combined_with", ""),
        ("declare", "yes"),
    ];
    assert_eq!(
        signatory
            .submit_page(
                &format!("{statement}/sign-off"),
                "form[action$='/sign-off']",
                &sign,
                ""
            )
            .await
            .status,
        303
    );
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(to(&mail), ["lead@ashbridge.example"]);
    assert!(
        mail[0].subject.ends_with("is signed"),
        "{}",
        mail[0].subject
    );

    // A change after signing voids it (the database's rule): the lead is told why.
    let amber = lead
        .submit_page(
            &format!("{statement}/key-areas/5"),
            "form[action$='/key-areas/5']",
            &[
                ("status-5.2", "amber"),
                ("evidence-5.2", SECRET),
                ("new-action-question", "5.2"),
                (
                    "new-action-description",
                    "Publish the updated privacy notices",
                ),
                ("new-action-target", "Sept 21"),
            ],
            "add-action",
        )
        .await;
    assert_eq!(amber.status, 303);
    let mail = post.deliver(&state).await;
    assert_eq!(
        to(&mail),
        ["lead@ashbridge.example"],
        "one notice, not one per row"
    );
    assert!(mail[0].subject.contains("no longer stands"));
    assert!(mail[0].text.contains("voided because"), "{}", mail[0].text);
    assert_clean(&mail);

    // Signed again and submitted: the Channel team, not the region's adviser.
    lead.post(&format!("{statement}/sign-off/request"), &[])
        .await;
    signatory
        .submit_page(
            &format!("{statement}/sign-off"),
            "form[action$='/sign-off']",
            &sign,
            "",
        )
        .await;
    post.deliver(&state).await;
    assert_eq!(
        lead.post(&format!("{statement}/submit"), &[]).await.status,
        303
    );
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(to(&mail), ["channel@homeoffice.example"]);
    assert!(
        mail[0]
            .text
            .contains(&format!("{URL}{statement}/channel-review"))
    );

    let mut team = signed_in(&router, "channel@homeoffice.example").await;
    let returned = team
        .post(
            &format!("{statement}/channel-review"),
            &[
                ("intent", "return"),
                ("reason", "Name the deputy chair in 3.1."),
            ],
        )
        .await;
    assert_eq!(returned.status, 303);
    let mail = post.deliver(&state).await;
    assert_clean(&mail);
    assert_eq!(to(&mail), ["lead@ashbridge.example"]);
    assert!(mail[0].text.contains("\"Name the deputy chair in 3.1.\""));
    assert!(
        mail[0].text.contains("Channel team returned"),
        "{}",
        mail[0].text
    );
}

/// A timetable whose weekly jobs fall on `now`'s day, an hour before it.
fn timetable_for(now: OffsetDateTime) -> Timetable {
    Timetable {
        digest_day: now.weekday(),
        hour: now.hour().saturating_sub(1),
        ..Timetable::default()
    }
}

#[sqlx::test]
async fn reminders_and_digests_go_once_on_their_day_and_can_be_stopped(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let router = router_from(state.clone(), [10, 17, 0, 3]);
    let mut post = Post::start();
    // The clock moved to seven days before the current cycle's deadline, 10am.
    let today = OffsetDateTime::now_utc().date();
    let deadline: time::Date = sqlx::query_scalar(
        "select deadline from cycles where opens_on <= $1 order by starts_on desc limit 1",
    )
    .bind(today)
    .fetch_one(&pool)
    .await
    .expect("the current cycle");
    let now = (deadline - Days::days(7))
        .with_hms(10, 0, 0)
        .expect("a time")
        .assume_utc();
    let timetable = timetable_for(now);
    // Two of Ashbridge's actions, owned by its linked owner: one overdue, one due in 10 days.
    let owner = user_id(&pool, "owner@ashbridge.example").await;
    let lead = user_id(&pool, "lead@ashbridge.example").await;
    let mut client = signed_in(&router, "lead@ashbridge.example").await;
    let address = location(
        &client
            .post(
                "/assessments",
                &[("organisation", "ashbridge"), ("from", "blank")],
            )
            .await,
    )
    .to_owned();
    for (text, target, due) in [
        (
            "Update the referral pathway",
            "Last month",
            now.date() - Days::days(20),
        ),
        (
            "Train the new panel members",
            "Soon",
            now.date() + Days::days(10),
        ),
        (
            "Review the risk assessment",
            "Next year",
            now.date() + Days::days(200),
        ),
    ] {
        sqlx::query(
            "insert into actions (organisation_id, assessment_id, section_id, source, description,
                                  owner_text, owner_user_id, target_text, due_on, created_by)
             select a.organisation_id, a.id, s.id, 'benchmark', $2, 'Safeguarding', $3, $4, $5, $6
             from assessments a join sections s on s.framework_id = a.framework_id and s.number = 1
             where a.id = $1::uuid",
        )
        .bind(address.trim_start_matches("/assessments/"))
        .bind(text)
        .bind(owner)
        .bind(target)
        .bind(due)
        .bind(lead)
        .execute(&pool)
        .await
        .expect("an action");
    }

    let ran = schedule::run_due(&state.db, &state.frameworks, &timetable, URL, now)
        .await
        .expect("the jobs run");
    assert_eq!(ran.len(), 3, "{ran:?}");
    let mail = post.deliver(&state).await;
    // Seven councils' leads, reminded of both instruments; both advisers' lists and the Channel
    // team's; the owner's digest.
    let reminders: Vec<&Received> = mail
        .iter()
        .filter(|m| m.subject.contains("is due in 7 days"))
        .collect();
    assert_eq!(
        reminders.len(),
        14,
        "{:?}",
        mail.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    assert!(reminders.iter().all(|m| m.to[0].starts_with("lead@")));
    let ashbridge: Vec<&&Received> = reminders
        .iter()
        .filter(|m| m.to == ["lead@ashbridge.example"])
        .collect();
    assert_eq!(ashbridge.len(), 2);
    assert!(
        ashbridge
            .iter()
            .any(|m| m.text.contains(&format!("{URL}{address}")))
    );
    let lists: Vec<&Received> = mail
        .iter()
        .filter(|m| m.subject.contains("not yet submitted"))
        .collect();
    assert_eq!(
        to(&lists.iter().map(|m| (*m).clone()).collect::<Vec<_>>()),
        [
            "adviser.north-vale@homeoffice.example",
            "adviser.south-weald@homeoffice.example",
            "channel@homeoffice.example"
        ]
    );
    let north = lists
        .iter()
        .find(|m| m.to[0].contains("north-vale"))
        .expect("north");
    assert!(
        north.text.contains("- Ashbridge Borough Council (draft)"),
        "{}",
        north.text
    );
    assert!(
        !north.text.contains("Eastholme"),
        "only the adviser's region: {}",
        north.text
    );
    let digest: Vec<&Received> = mail
        .iter()
        .filter(|m| m.to == ["owner@ashbridge.example"])
        .collect();
    assert_eq!(digest.len(), 1);
    assert_eq!(
        digest[0].subject,
        "Your actions this week: 1 overdue, 1 due in the next 14 days"
    );
    assert!(digest[0].text.contains("Update the referral pathway"));
    assert!(
        !digest[0].text.contains("Review the risk assessment"),
        "not due yet"
    );
    assert_eq!(mail.len(), 14 + 3 + 1, "nothing else");
    for m in &mail {
        assert!(
            m.list_unsubscribe
                .starts_with("<http://127.0.0.1:3000/unsubscribe/"),
            "{}",
            m.subject
        );
        assert_eq!(m.list_unsubscribe_post, "List-Unsubscribe=One-Click");
    }
    assert_clean(&mail);

    // The same period again, from any server: nothing more.
    let again = schedule::run_due(
        &state.db,
        &state.frameworks,
        &timetable,
        URL,
        now + Days::hours(1),
    )
    .await
    .expect("the jobs look again");
    assert!(again.is_empty(), "{again:?}");
    assert!(post.deliver(&state).await.is_empty());
    // Even if the record of the period were lost, the messages' keys hold.
    sqlx::query("delete from scheduled_jobs")
        .execute(&pool)
        .await
        .expect("forgotten");
    schedule::run_due(&state.db, &state.frameworks, &timetable, URL, now)
        .await
        .expect("run again");
    assert!(
        post.deliver(&state).await.is_empty(),
        "each message is queued once"
    );

    // On /account a person chooses; the lead turns reminders off and gets none the next day.
    let saved = client.post("/account/mail", &[("digests", "yes")]).await;
    assert_eq!(location(&saved), "/account?done=mail#mail");
    let account = client.get("/account").await.html();
    assert_eq!(support::attr(&account, "#mail-reminders", "checked"), None);
    assert!(support::attr(&account, "#mail-digests", "checked").is_some());
    let one_day = deadline - Days::days(1);
    schedule::run_due(
        &state.db,
        &state.frameworks,
        &timetable,
        URL,
        one_day.with_hms(10, 0, 0).expect("time").assume_utc(),
    )
    .await
    .expect("the day before");
    let mail = post.deliver(&state).await;
    let due: Vec<&Received> = mail
        .iter()
        .filter(|m| m.subject.contains("is due in 1 day"))
        .collect();
    assert_eq!(due.len(), 12, "six other leads, both instruments");
    assert!(due.iter().all(|m| m.to != ["lead@ashbridge.example"]));

    // The owner stops digests from the mail itself (a mail program's one-click POST, with no
    // session and no Origin); a week later there is no digest, but the notice of an action
    // given to them still arrives.
    let link = digest[0]
        .list_unsubscribe
        .trim_start_matches("<http://127.0.0.1:3000")
        .trim_end_matches('>')
        .to_owned();
    let request = axum::http::Request::post(&link)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from("List-Unsubscribe=One-Click"))
        .expect("a request");
    let stopped = support::send(&router, request).await;
    assert_eq!(stopped.status, 200);
    assert!(stopped.body.contains("You will get no more weekly digests"));
    let week_later = now + Days::days(7);
    schedule::run_due(&state.db, &state.frameworks, &timetable, URL, week_later)
        .await
        .expect("a week later");
    let mail = post.deliver(&state).await;
    assert!(
        mail.iter().all(|m| m.to != ["owner@ashbridge.example"]),
        "no digest"
    );
    assert!(
        mail.iter().all(|m| !m.subject.contains(" is due ")),
        "each reminder once"
    );
    let kept: i64 = sqlx::query_scalar(
        "select count(*) from notifications where user_id = $1 and kind = 'action_digest'",
    )
    .bind(owner)
    .fetch_one(&pool)
    .await
    .expect("count");
    assert_eq!(kept, 2, "the digest is still in the service");
    let action: uuid::Uuid =
        sqlx::query_scalar("select id from actions order by created_at limit 1")
            .fetch_one(&pool)
            .await
            .expect("an action");
    sqlx::query("update actions set owner_user_id = null where id = $1")
        .bind(action)
        .execute(&pool)
        .await
        .expect("unassigned");
    let mut tx = pool.begin().await.expect("tx");
    sqlx::query("update actions set owner_user_id = $2 where id = $1")
        .bind(action)
        .bind(owner)
        .execute(&mut *tx)
        .await
        .expect("assigned");
    prevent_assure::db::notices::queue_for_action(
        &mut *tx,
        action,
        Some((None, "Last month")),
        lead,
    )
    .await
    .expect("queued");
    tx.commit().await.expect("commit");
    assert_eq!(
        to(&post.deliver(&state).await),
        ["owner@ashbridge.example"],
        "mandatory mail still comes"
    );

    // Administrators see each job's last run (when, in UK time, and what it did) and its next.
    let ran: Vec<(String, OffsetDateTime, String)> =
        sqlx::query_as("select name, last_run_at, last_result from scheduled_jobs order by name")
            .fetch_all(&pool)
            .await
            .expect("the jobs");
    assert_eq!(ran.len(), 3);
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let page = admin.get("/admin/notifications").await.html();
    let rows = texts(&page, "#jobs tbody tr");
    for (name, at, result) in &ran {
        let title = match name.as_str() {
            "deadline-reminders" => "Deadline reminders",
            "adviser-lists" => "Weekly list for advisers",
            _ => "Weekly digest to each action owner",
        };
        let row = rows
            .iter()
            .find(|r| r.starts_with(title))
            .unwrap_or_else(|| panic!("{title} in {rows:?}"));
        assert!(
            row.contains(&prevent_assure::domain::uk_time(*at)) && row.contains(result.as_str()),
            "{row} shows {at} and {result}"
        );
    }
}

#[sqlx::test]
async fn mail_waits_while_smtp_is_down_and_is_listed_after_the_last_try(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let router = router_from(state.clone(), [10, 17, 0, 4]);
    let port = support::smtp::free_port();
    let sender = Sender::new(
        &prevent_assure::config::Secret::new(format!("smtp://127.0.0.1:{port}")),
        "Prevent Assure <no-reply@prevent-assure.example>",
        Retries {
            first_wait_seconds: 1,
            max_attempts: 3,
        },
    )
    .expect("a sender");
    let lead = user_id(&pool, "lead@ashbridge.example").await;
    let assessment: uuid::Uuid = {
        let mut client = signed_in(&router, "lead@ashbridge.example").await;
        let reply = client
            .post(
                "/assessments",
                &[("organisation", "ashbridge"), ("from", "blank")],
            )
            .await;
        location(&reply)
            .trim_start_matches("/assessments/")
            .parse()
            .expect("an id")
    };
    prevent_assure::notify::tell(
        &pool,
        prevent_assure::notify::Kind::Submitted,
        assessment,
        lead,
        None,
    )
    .await
    .expect("queued");
    dispatch::pending(&state.db, &state.frameworks, URL)
        .await
        .expect("dispatched");

    // Nothing listens: each try fails and the next waits longer.
    for attempt in 1..=3 {
        assert_eq!(sender.send_due(&state.db).await.expect("a try"), 0);
        let (attempts, given_up): (i32, bool) = sqlx::query_as(
            "select attempts, given_up_at is not null from outbox where kind = 'submitted'",
        )
        .fetch_one(&pool)
        .await
        .expect("the mail");
        assert_eq!(attempts, attempt);
        assert_eq!(given_up, attempt == 3);
        // Not tried again before its time.
        assert_eq!(sender.send_due(&state.db).await.expect("too soon"), 0);
        let waited: i32 =
            sqlx::query_scalar("select attempts from outbox where kind = 'submitted'")
                .fetch_one(&pool)
                .await
                .expect("the mail");
        assert_eq!(waited, attempt, "backoff");
        tokio::time::sleep(Duration::from_millis(1100 * (1 << (attempt - 1)))).await;
    }
    assert_eq!(sender.send_due(&state.db).await.expect("given up"), 0);

    // Administrators see it, and put it back once the server is up: nothing was lost.
    let mut admin = signed_in(&router, "admin@prevent-assure.example").await;
    let page = admin.get("/admin/notifications").await;
    assert_eq!(page.status, 200);
    let failed = texts(&page.html(), "#failed tbody tr");
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(failed[0].contains("adviser.north-vale@homeoffice.example"));
    assert!(failed[0].contains("(3 tries)"), "{}", failed[0]);
    let mut lead_client = signed_in(&router, "lead@ashbridge.example").await;
    assert_eq!(lead_client.get("/admin/notifications").await.status, 403);
    let id: uuid::Uuid = sqlx::query_scalar("select id from outbox where kind = 'submitted'")
        .fetch_one(&pool)
        .await
        .expect("the mail");
    let smtp = Smtp::start_on(port, &[]);
    let retried = admin
        .post(&format!("/admin/notifications/mail/{id}/retry"), &[])
        .await;
    assert_eq!(location(&retried), "/admin/notifications?done=retry");
    assert_eq!(sender.send_due(&state.db).await.expect("sent"), 1);
    let got = smtp.wait_for(1, Duration::from_secs(10));
    assert_eq!(to(&got), ["adviser.north-vale@homeoffice.example"]);
    assert!(
        texts(
            &admin.get("/admin/notifications").await.html(),
            "#no-failed"
        )[0]
        .contains("No mail")
    );

    // A server that fails now and then: retried until it is through.
    let flaky = Smtp::start(&["--fail-first", "1"]);
    let sender = Sender::new(
        &prevent_assure::config::Secret::new(flaky.url()),
        "Prevent Assure <no-reply@prevent-assure.example>",
        Retries {
            first_wait_seconds: 1,
            max_attempts: 3,
        },
    )
    .expect("a sender");
    prevent_assure::notify::tell(
        &pool,
        prevent_assure::notify::Kind::Returned,
        assessment,
        user_id(&pool, "adviser.north-vale@homeoffice.example").await,
        Some("Please add the dates."),
    )
    .await
    .expect("queued");
    dispatch::pending(&state.db, &state.frameworks, URL)
        .await
        .expect("dispatched");
    assert_eq!(sender.send_due(&state.db).await.expect("refused"), 0);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(sender.send_due(&state.db).await.expect("accepted"), 1);
    assert_eq!(
        to(&flaky.wait_for(1, Duration::from_secs(10))),
        ["lead@ashbridge.example"]
    );
}
