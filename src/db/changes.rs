//! PostgreSQL's change notifications (migration 0005): what the in-memory caches listen to, and
//! the marker a server sends itself to know it has heard everything committed before it.

use sqlx::PgPool;
use sqlx::postgres::PgListener;

/// The channel the triggers notify on.
pub const CHANNEL: &str = "pa_changes";

/// A connection listening on the channel. It takes one connection from the pool for as long
/// as it lives, and gives it back when the pool closes.
pub async fn listen(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// Connections of the pool each server holds for listening: one for changes ([`listen`]),
/// one for notices and mail ([`listen_notices`]). They are added to the pool's size, so that
/// requests are not left two connections fewer than asked for (on two cores, two of four:
/// the board from the database went from 2,370 to 3,480 views a second with them added).
pub const LISTENERS: u32 = 2;

/// The channel on which a new notice or mail wakes every server's postman (migration 0010).
pub const NOTICES: &str = "pa_notices";

/// A connection listening for new notices and mail; it too holds one connection of the pool.
pub async fn listen_notices(pool: &PgPool) -> sqlx::Result<PgListener> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(NOTICES).await?;
    Ok(listener)
}

/// Sends a notification on the channel (delivered when the transaction commits).
pub async fn notify<'c>(conn: impl sqlx::PgExecutor<'c>, payload: &str) -> sqlx::Result<()> {
    sqlx::query!(
        r#"select true as "sent!" from pg_notify($1, $2)"#,
        CHANNEL,
        payload
    )
    .fetch_one(conn)
    .await
    .map(|_| ())
}
