//! The second factor's records: sealed secrets, the last step used, recovery codes and the
//! challenges between the password and the code.

use sqlx::{PgConnection, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Factor {
    pub user_id: Uuid,
    pub email: String,
    pub secret: Option<Vec<u8>>,
    pub pending: Option<Vec<u8>>,
    pub enabled_at: Option<OffsetDateTime>,
    pub last_step: i64,
    pub recovery_left: i64,
}

pub async fn factor(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Option<Factor>> {
    sqlx::query_as!(
        Factor,
        r#"select id as user_id, email, totp_secret as secret, totp_pending as pending,
                  totp_enabled_at as enabled_at, totp_last_step as last_step,
                  (select count(*) from recovery_codes r where r.user_id = u.id and r.used_at is null) as "recovery_left!"
           from users u where id = $1"#,
        user
    )
    .fetch_optional(conn)
    .await
}

/// Whether the council requires a second factor of everyone with a role there.
pub async fn council_requires(pool: &PgPool, organisation: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        "select second_factor_required from organisations where id = $1",
        organisation
    )
    .fetch_optional(pool)
    .await
    .map(|r| r.unwrap_or(false))
}

/// Sets whether the council requires a second factor; false when that was already so.
pub async fn set_council_requires(
    conn: &mut PgConnection,
    organisation: Uuid,
    required: bool,
) -> sqlx::Result<bool> {
    sqlx::query!(
        "update organisations set second_factor_required = $2
         where id = $1 and second_factor_required <> $2",
        organisation,
        required
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Whether a council where the person has a role requires a second factor of them.
pub async fn required_by_a_council(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from memberships m join organisations o on o.id = m.organisation_id
                          where m.user_id = $1 and o.second_factor_required) as "required!""#,
        user
    )
    .fetch_one(conn)
    .await
}

/// Whether any account has a second factor (then MFA_KEY is needed to start).
pub async fn any_in_use(pool: &PgPool) -> sqlx::Result<bool> {
    sqlx::query_scalar!(
        r#"select exists (select 1 from users where totp_secret is not null) as "any!""#
    )
    .fetch_one(pool)
    .await
}

pub async fn set_pending(conn: &mut PgConnection, user: Uuid, sealed: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "update users set totp_pending = $2 where id = $1",
        user,
        sealed
    )
    .execute(conn)
    .await
    .map(|_| ())
}

/// Turns the pending secret on, with the step of the code that confirmed it, and replaces the
/// recovery codes.
pub async fn enable(
    conn: &mut PgConnection,
    user: Uuid,
    step: i64,
    recovery_hashes: &[Vec<u8>],
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "update users set totp_secret = totp_pending, totp_pending = null, totp_enabled_at = now(),
                totp_last_step = $2, updated_at = now()
         where id = $1 and totp_pending is not null",
        user,
        step
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if done {
        sqlx::query!("delete from recovery_codes where user_id = $1", user)
            .execute(&mut *conn)
            .await?;
        sqlx::query!(
            "insert into recovery_codes (user_id, code_hash) select $1, unnest($2::bytea[])",
            user,
            recovery_hashes
        )
        .execute(conn)
        .await?;
    }
    Ok(done)
}

/// Records the step of a code used, if it is later than the last (two sign-ins racing with
/// the same code: one wins).
pub async fn use_step(conn: &mut PgConnection, user: Uuid, step: i64) -> sqlx::Result<bool> {
    sqlx::query!(
        "update users set totp_last_step = $2 where id = $1 and totp_last_step < $2",
        user,
        step
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Uses a recovery code, if it is one of the account's and not yet used.
pub async fn use_recovery(conn: &mut PgConnection, user: Uuid, hash: &[u8]) -> sqlx::Result<bool> {
    sqlx::query!(
        "update recovery_codes set used_at = now()
         where user_id = $1 and code_hash = $2 and used_at is null",
        user,
        hash
    )
    .execute(conn)
    .await
    .map(|r| r.rows_affected() == 1)
}

/// Removes the second factor (an administrator's reset): secret, pending secret, codes.
pub async fn reset(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<bool> {
    let had = sqlx::query!(
        "update users set totp_secret = null, totp_pending = null, totp_enabled_at = null,
                totp_last_step = 0, updated_at = now()
         where id = $1 and (totp_secret is not null or totp_pending is not null)",
        user
    )
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    sqlx::query!("delete from recovery_codes where user_id = $1", user)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "delete from second_factor_challenges where user_id = $1",
        user
    )
    .execute(conn)
    .await?;
    Ok(had)
}

#[derive(Debug, Clone)]
pub struct Challenge {
    pub user_id: Uuid,
    pub set_up: bool,
    pub failures: i32,
}

pub async fn start_challenge(
    pool: &PgPool,
    token_hash: &[u8],
    user: Uuid,
    set_up: bool,
) -> sqlx::Result<()> {
    sqlx::query!(
        "insert into second_factor_challenges (token_hash, user_id, set_up, expires_at)
         values ($1, $2, $3, now() + interval '10 minutes')",
        token_hash,
        user,
        set_up
    )
    .execute(pool)
    .await
    .map(|_| ())
}

pub async fn challenge(pool: &PgPool, token_hash: &[u8]) -> sqlx::Result<Option<Challenge>> {
    sqlx::query_as!(
        Challenge,
        "select user_id, set_up, failures from second_factor_challenges
         where token_hash = $1 and expires_at > now()",
        token_hash
    )
    .fetch_optional(pool)
    .await
}

/// Takes one of the challenge's `limit` tries before the code is looked at, so that codes sent
/// at once cannot between them try more: the challenge, with the tries taken, or None when it
/// has expired or has none left (sign in again).
pub async fn take_try(
    pool: &PgPool,
    token_hash: &[u8],
    limit: i32,
) -> sqlx::Result<Option<Challenge>> {
    sqlx::query_as!(
        Challenge,
        "update second_factor_challenges set failures = failures + 1
         where token_hash = $1 and expires_at > now() and failures < $2
         returning user_id, set_up, failures",
        token_hash,
        limit
    )
    .fetch_optional(pool)
    .await
}

pub async fn end_challenge(pool: &PgPool, token_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query!(
        "delete from second_factor_challenges where token_hash = $1 or expires_at < now()",
        token_hash
    )
    .execute(pool)
    .await
    .map(|_| ())
}
