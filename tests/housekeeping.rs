//! Personal data is kept no longer than the privacy notice says.

mod support;

use prevent_assure::db::housekeeping::{self, Pruned};
use sqlx::PgPool;

#[sqlx::test]
async fn prune_removes_only_what_is_past_its_limit(pool: PgPool) {
    let state = support::demo_state(pool.clone()).await;
    let user: uuid::Uuid =
        sqlx::query_scalar("select id from users where email = 'lead@ashbridge.example'")
            .fetch_one(&state.db)
            .await
            .expect("the lead");
    sqlx::query(
        "insert into sessions (id_hash, user_id, created_at, last_seen_at, expires_at) values
           (sha256('live'::bytea), $1, now() - interval '1 hour', now() - interval '1 minute', now() + interval '11 hours'),
           (sha256('idle'::bytea), $1, now() - interval '2 hours', now() - interval '31 minutes', now() + interval '10 hours'),
           (sha256('over'::bytea), $1, now() - interval '13 hours', now() - interval '1 minute', now() - interval '1 hour')",
    )
    .bind(user)
    .execute(&pool)
    .await
    .expect("sessions");
    sqlx::query(
        "insert into sign_in_attempts (attempted_at, email, succeeded) values
           (now() - interval '29 days', 'a@example.org', false),
           (now() - interval '31 days', 'b@example.org', false)",
    )
    .execute(&pool)
    .await
    .expect("attempts");
    sqlx::query(
        "insert into one_time_tokens (token_hash, purpose, user_id, created_at, expires_at, used_at) values
           (sha256('unused'::bytea), 'invitation', $1, now() - interval '2 days', now() + interval '5 days', null),
           (sha256('used-lately'::bytea), 'password_reset', $1, now() - interval '20 days', now() - interval '19 days', now() - interval '20 days'),
           (sha256('used-long-ago'::bytea), 'password_reset', $1, now() - interval '40 days', now() - interval '39 days', now() - interval '40 days'),
           (sha256('ran-out-long-ago'::bytea), 'invitation', $1, now() - interval '50 days', now() - interval '43 days', null)",
    )
    .bind(user)
    .execute(&pool)
    .await
    .expect("tokens");
    sqlx::query(
        "insert into outbox (to_address, subject, body, created_at, sent_at) values
           ('a@example.org', 'Waiting', 'x', now() - interval '200 days', null),
           ('b@example.org', 'Sent lately', 'x', now() - interval '80 days', now() - interval '80 days'),
           ('c@example.org', 'Sent long ago', 'x', now() - interval '100 days', now() - interval '100 days')",
    )
    .execute(&pool)
    .await
    .expect("mail");
    sqlx::query(
        "insert into outbox (to_address, subject, body, created_at, given_up_at) values
           ('d@example.org', 'Given up long ago', 'x', now() - interval '100 days', now() - interval '95 days')",
    )
    .execute(&pool)
    .await
    .expect("given-up mail");
    sqlx::query(
        "insert into notifications (user_id, kind, title, link, idempotency_key, created_at) values
           ($1, 'submitted', 'Old', '/', 'old', now() - interval '400 days'),
           ($1, 'submitted', 'New', '/', 'new', now() - interval '10 days')",
    )
    .bind(user)
    .execute(&pool)
    .await
    .expect("notifications");
    sqlx::query(
        "insert into notices (kind, created_at, dispatched_at) values
           ('submitted', now() - interval '40 days', now() - interval '40 days'),
           ('submitted', now() - interval '40 days', null)",
    )
    .execute(&pool)
    .await
    .expect("notices");
    let before_sessions: i64 = sqlx::query_scalar("select count(*) from sessions")
        .fetch_one(&pool)
        .await
        .expect("count");

    let pruned = housekeeping::prune(&pool, 30).await.expect("prune");
    assert_eq!(
        pruned,
        Pruned {
            sessions: 2,
            sign_in_attempts: 1,
            tokens: 2,
            sent_mail: 2,
            notifications: 1,
            notices: 1,
            devices: 0,
        }
    );
    let left: (i64, Vec<String>, Vec<String>) = sqlx::query_as(
        "select (select count(*) from sessions),
                (select array_agg(email order by email) from sign_in_attempts where email like '%@example.org'),
                (select array_agg(subject order by subject) from outbox where to_address like '%@example.org')",
    )
    .fetch_one(&pool)
    .await
    .expect("what is left");
    assert_eq!(left.0, before_sessions - 2, "the live session stays");
    assert_eq!(left.1, vec!["a@example.org"]);
    assert_eq!(left.2, vec!["Sent lately", "Waiting"]);
    // A second pass, as another server would run it, finds nothing more.
    assert_eq!(
        housekeeping::prune(&pool, 30).await.expect("again"),
        Pruned::default()
    );
}
