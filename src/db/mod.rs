//! The database: one file per aggregate. SQL lives here and nowhere else; no web types.

pub mod actions;
pub mod assessments;
pub mod attachments;
pub mod audit;
pub mod changes;
pub mod channel;
pub mod comments;
pub mod dashboards;
pub mod frameworks;
pub mod housekeeping;
pub mod letters;
pub mod notices;
pub mod outbox;
pub mod places;
pub mod sample;
pub mod second_factor;
pub mod sessions;
pub mod sign_offs;
pub mod sso;
pub mod tokens;
pub mod users;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

/// Dates and times as PostgreSQL writes them in JSON (`json_build_object`), for serde: the
/// pages that gather several lists in one statement get them as JSON.
pub mod json_time {
    time::serde::format_description!(pub date, Date, "[year]-[month]-[day]");
    pub use time::serde::rfc3339 as timestamp;
}

/// The migrations in `migrations/`, compiled into the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How long a request waits for a connection before it is told the service is unavailable.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// Opens a pool of at most `size` connections; fails fast when the server does not answer.
pub async fn connect(url: &str, size: u32) -> Result<PgPool, sqlx::Error> {
    connect_with(url, size, ACQUIRE_TIMEOUT).await
}

/// A connection idle longer than this is checked (one round trip) before it is lent; one used
/// more recently is not.
pub const CHECK_IDLE_AFTER: Duration = Duration::from_secs(10);

/// As [`connect`], waiting at most `acquire` for a connection.
///
/// sqlx checks every connection it lends (a `Sync` and its answer) unless told not to: a round
/// trip before each statement, which with the database a few milliseconds away costs a page
/// that much again. Only a connection that sat idle a while is checked here (one broken while
/// idle, by a database restart, say, is then replaced before it fails a request); one broken in
/// use fails that statement, whose page says what was not saved, and sqlx's check when the
/// connection is given back closes it.
///
/// Every connection runs its prepared statements on their generic plans
/// (`plan_cache_mode = force_generic_plan`, sent with the connection's start-up, no round trip
/// more): the plans `tests/growth.rs` holds to index scans with a year's rows. Left to choose,
/// PostgreSQL plans each statement afresh for its first five executions on a connection, and
/// for every execution after when skewed statistics make the generic plan look dearer: the
/// history's statement was planned on every view (46 µs of planning for 5 µs of execution,
/// `pg_stat_statements` on the bench data, whose audit events crowd on a few entities).
pub async fn connect_with(url: &str, size: u32, acquire: Duration) -> Result<PgPool, sqlx::Error> {
    let options = url
        .parse::<PgConnectOptions>()?
        .options([("plan_cache_mode", "force_generic_plan")]);
    PgPoolOptions::new()
        .max_connections(size)
        .acquire_timeout(acquire)
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > CHECK_IDLE_AFTER {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
        .connect_with(options)
        .await
}

/// Whether the database answers a trivial query.
pub async fn ping(pool: &PgPool) -> Result<(), sqlx::Error> {
    sqlx::query_scalar!("select 1 as \"one!\"")
        .fetch_one(pool)
        .await
        .map(|_| ())
}
