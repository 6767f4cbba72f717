//! Several `serve` processes on one database send each reminder once: the real binary, twice,
//! with the scheduler on and a real SMTP server counting what arrives; one process is killed
//! in the middle of a send, and after a restart every mail is delivered exactly once.

mod support;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sqlx::PgPool;
use support::smtp::{Smtp, free_port};

/// A `serve` process on the test's database.
struct Server(Child);

impl Server {
    fn start(database_url: &str, smtp: &Smtp, weekday: &str) -> Server {
        let child = Command::new(env!("CARGO_BIN_EXE_prevent-assure"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("DATABASE_POOL_SIZE", "4")
            .env("BIND_ADDR", format!("127.0.0.1:{}", free_port()))
            .env("FRAMEWORKS_DIR", support::frameworks_dir())
            .env("STATIC_DIR", support::root().join("static"))
            .env("SMTP_URL", smtp.url())
            .env(
                "MAIL_FROM",
                "Prevent Assure <no-reply@prevent-assure.example>",
            )
            .env("DIGEST_DAY", weekday)
            .env("DIGEST_HOUR", "0")
            .env("LOG_LEVEL", "warn")
            .env("MFA_KEY", "3c".repeat(32))
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        Server(child)
    }

    fn kill(mut self) {
        // SIGKILL: no chance to finish anything.
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[sqlx::test]
async fn two_servers_send_each_reminder_once_even_when_one_is_killed_mid_send(pool: PgPool) {
    support::demo_state(pool.clone()).await;
    // The clock "moved": the current cycle's deadline is seven days from today (UK time), and
    // the weekly lists go today.
    let now = time::OffsetDateTime::now_utc();
    let today = now.to_offset(prevent_assure::domain::uk_offset(now)).date();
    sqlx::query(
        "update cycles set deadline = $1
         where id = (select id from cycles where opens_on <= $2 order by starts_on desc limit 1)",
    )
    .bind(today + time::Duration::days(7))
    .bind(today)
    .execute(&pool)
    .await
    .expect("the deadline moved");
    let weekday = today.weekday().to_string();
    let url = support::database_url(&pool).await;

    // The SMTP server holds the first connection: the first server is killed while it waits.
    let smtp = Smtp::start(&["--hold-first", "1", "--hold-seconds", "30"]);
    let first = Server::start(&url, &smtp, &weekday);
    assert!(
        smtp.wait_said("holding", Duration::from_secs(90)),
        "the first server starts sending"
    );
    first.kill();
    assert!(smtp.received().is_empty(), "nothing delivered yet");

    // Restarted, beside a second server: both run the timetable and send the mail.
    let _a = Server::start(&url, &smtp, &weekday);
    let _b = Server::start(&url, &smtp, &weekday);
    // Seven councils' leads reminded of both instruments (14), each region's adviser and the
    // Channel team sent their lists (3).
    let expected = 14 + 3;
    let got = smtp.wait_for(expected, Duration::from_secs(120));
    assert_eq!(
        got.len(),
        expected,
        "{:?}",
        got.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    // A little longer: nothing arrives twice.
    std::thread::sleep(Duration::from_secs(8));
    let got = smtp.received();
    assert_eq!(got.len(), expected, "each mail once");
    let ids: BTreeSet<&str> = got.iter().map(|m| m.message_id.as_str()).collect();
    assert_eq!(ids.len(), expected, "no Message-ID twice");
    let pairs: BTreeSet<(String, String)> = got
        .iter()
        .map(|m| (m.to.join(","), m.subject.clone()))
        .collect();
    assert_eq!(pairs.len(), expected, "no one told the same thing twice");
    let reminders = got
        .iter()
        .filter(|m| m.subject.contains("is due in 7 days"))
        .count();
    assert_eq!(reminders, 14);
    let sent: i64 = sqlx::query_scalar("select count(*) from outbox where sent_at is not null")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(sent, expected as i64);
    let runs: Vec<(String, String)> =
        sqlx::query_as("select name, last_result from scheduled_jobs order by name")
            .fetch_all(&pool)
            .await
            .expect("the jobs");
    assert_eq!(
        runs,
        [
            ("action-digests".to_owned(), "Nothing to send".to_owned()),
            ("adviser-lists".to_owned(), "3 messages".to_owned()),
            ("deadline-reminders".to_owned(), "14 messages".to_owned()),
        ]
    );

    // The next reminder day, with both servers running: their timetables meet a period that
    // neither has run, at the same moment, and one of them runs it. Brackenfield has submitted
    // its self-assessment by then: only its statement is still reminded.
    sqlx::query(
        "insert into assessments (organisation_id, cycle_id, framework_id, state, submitted_at)
         select o.id, c.id, f.id, 'submitted', now() from organisations o, frameworks f,
                (select id from cycles where opens_on <= $1 order by starts_on desc limit 1) c
         where o.slug = 'brackenfield' and f.code = 'prevent-la-2018'",
    )
    .bind(today)
    .execute(&pool)
    .await
    .expect("Brackenfield submitted");
    sqlx::query(
        "update cycles set deadline = $1
         where id = (select id from cycles where opens_on <= $2 order by starts_on desc limit 1)",
    )
    .bind(today + time::Duration::days(1))
    .bind(today)
    .execute(&pool)
    .await
    .expect("the deadline tomorrow");
    sqlx::query("update scheduled_jobs set last_period = null where name = 'deadline-reminders'")
        .execute(&pool)
        .await
        .expect("a period not yet run");
    let more = 13;
    let got = smtp.wait_for(expected + more, Duration::from_secs(120));
    std::thread::sleep(Duration::from_secs(35));
    let got_later = smtp.received();
    assert_eq!(
        got_later.len(),
        expected + more,
        "{:?}",
        got.iter().map(|m| &m.subject).collect::<Vec<_>>()
    );
    let tomorrow: Vec<&support::smtp::Received> = got_later
        .iter()
        .filter(|m| m.subject.contains("is due in 1 day"))
        .collect();
    assert_eq!(
        tomorrow.len(),
        more,
        "each reminder once, from one of the two"
    );
    assert!(
        !tomorrow
            .iter()
            .any(|m| m.subject.starts_with("Brackenfield") && m.subject.contains("self-assessment")),
        "a submitted self-assessment is not reminded"
    );
    assert!(
        tomorrow
            .iter()
            .any(|m| m.subject.starts_with("Brackenfield") && m.subject.contains("Channel")),
        "its statement still is"
    );
}
