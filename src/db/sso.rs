//! Identity providers, the email domains they serve, the subject each account is known by at
//! its provider, and the sign-ins sent to a provider and not yet back.

use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

/// An identity provider as configured.
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub issuer_url: String,
    pub client_id: String,
    pub mfa_from_provider: bool,
    pub enabled: bool,
    /// The email domains it serves, in order.
    pub domains: Vec<String>,
}

/// Every provider with its domains (a handful: one statement).
pub async fn providers(pool: &PgPool) -> sqlx::Result<Vec<IdentityProvider>> {
    sqlx::query_as!(
        IdentityProvider,
        r#"select p.id, p.slug, p.name, p.issuer_url, p.client_id, p.mfa_from_provider, p.enabled,
                  coalesce(array_agg(d.domain order by d.domain) filter (where d.domain is not null),
                           '{}') as "domains!"
           from identity_providers p
           left join identity_provider_domains d on d.provider_id = p.id
           group by p.id
           order by p.name"#
    )
    .fetch_all(pool)
    .await
}

pub async fn provider(pool: &PgPool, id: Uuid) -> sqlx::Result<Option<IdentityProvider>> {
    sqlx::query_as!(
        IdentityProvider,
        r#"select p.id, p.slug, p.name, p.issuer_url, p.client_id, p.mfa_from_provider, p.enabled,
                  coalesce(array_agg(d.domain order by d.domain) filter (where d.domain is not null),
                           '{}') as "domains!"
           from identity_providers p
           left join identity_provider_domains d on d.provider_id = p.id
           where p.id = $1
           group by p.id"#,
        id
    )
    .fetch_optional(pool)
    .await
}

/// The enabled provider that serves an email's domain (by primary key), if any.
pub async fn provider_for_domain(
    pool: &PgPool,
    domain: &str,
) -> sqlx::Result<Option<IdentityProvider>> {
    sqlx::query_as!(
        IdentityProvider,
        r#"select p.id, p.slug, p.name, p.issuer_url, p.client_id, p.mfa_from_provider, p.enabled,
                  array[d.domain] as "domains!"
           from identity_provider_domains d
           join identity_providers p on p.id = d.provider_id
           where d.domain = lower($1) and p.enabled"#,
        domain
    )
    .fetch_optional(pool)
    .await
}

/// What an administrator types for a provider.
pub struct ProviderFields<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub issuer_url: &'a str,
    pub client_id: &'a str,
    pub mfa_from_provider: bool,
    pub enabled: bool,
    pub domains: &'a [String],
}

/// Why a provider could not be saved.
pub enum SaveRefused {
    /// Another provider has that short name.
    Slug,
    /// Another provider serves one of these domains (the first one named).
    Domain(String),
}

/// Adds (id None) or changes a provider and replaces its domains, in the caller's transaction.
pub async fn save_provider(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    f: &ProviderFields<'_>,
) -> sqlx::Result<Result<Uuid, SaveRefused>> {
    let taken = sqlx::query_scalar!(
        "select domain from identity_provider_domains
         where domain = any($1) and ($2::uuid is null or provider_id <> $2)
         order by domain limit 1",
        f.domains,
        id
    )
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(domain) = taken {
        return Ok(Err(SaveRefused::Domain(domain)));
    }
    let slug_taken = sqlx::query_scalar!(
        r#"select exists (select 1 from identity_providers
                          where slug = $1 and ($2::uuid is null or id <> $2)) as "taken!""#,
        f.slug,
        id
    )
    .fetch_one(&mut *conn)
    .await?;
    if slug_taken {
        return Ok(Err(SaveRefused::Slug));
    }
    let id = match id {
        Some(id) => {
            sqlx::query!(
                "update identity_providers
                 set slug = $2, name = $3, issuer_url = $4, client_id = $5,
                     mfa_from_provider = $6, enabled = $7, updated_at = now()
                 where id = $1",
                id,
                f.slug,
                f.name,
                f.issuer_url,
                f.client_id,
                f.mfa_from_provider,
                f.enabled
            )
            .execute(&mut *conn)
            .await?;
            id
        }
        None => {
            sqlx::query_scalar!(
                "insert into identity_providers
                     (slug, name, issuer_url, client_id, mfa_from_provider, enabled)
                 values ($1, $2, $3, $4, $5, $6) returning id",
                f.slug,
                f.name,
                f.issuer_url,
                f.client_id,
                f.mfa_from_provider,
                f.enabled
            )
            .fetch_one(&mut *conn)
            .await?
        }
    };
    sqlx::query!(
        "delete from identity_provider_domains where provider_id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    sqlx::query!(
        "insert into identity_provider_domains (domain, provider_id)
         select d, $1 from unnest($2::text[]) as d",
        id,
        f.domains
    )
    .execute(&mut *conn)
    .await?;
    Ok(Ok(id))
}

/// Keeps a sign-in sent to a provider (and clears those older than ten minutes).
pub async fn put_request(
    pool: &PgPool,
    state_hash: &[u8],
    provider_id: Uuid,
    nonce: &str,
    pkce_verifier: &str,
) -> sqlx::Result<()> {
    sqlx::query!(
        "with old as (delete from sso_requests where created_at < now() - interval '10 minutes')
         insert into sso_requests (state_hash, provider_id, nonce, pkce_verifier)
         values ($1, $2, $3, $4)",
        state_hash,
        provider_id,
        nonce,
        pkce_verifier
    )
    .execute(pool)
    .await
    .map(|_| ())
}

pub struct PendingRequest {
    pub provider_id: Uuid,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Takes a pending sign-in by its state: once only, and only within ten minutes.
pub async fn take_request(
    pool: &PgPool,
    state_hash: &[u8],
) -> sqlx::Result<Option<PendingRequest>> {
    sqlx::query_as!(
        PendingRequest,
        "delete from sso_requests where state_hash = $1
         returning provider_id, nonce, pkce_verifier",
        state_hash
    )
    .fetch_optional(pool)
    .await
}

/// The account a provider's subject opens, if it has signed in before.
pub async fn user_for_subject(
    pool: &PgPool,
    provider_id: Uuid,
    subject: &str,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar!(
        "update sso_links set last_used_at = now()
         where provider_id = $1 and subject = $2 returning user_id",
        provider_id,
        subject
    )
    .fetch_optional(pool)
    .await
}

/// The subject an account is known by at a provider, if it has one.
pub async fn subject_of(
    pool: &PgPool,
    provider_id: Uuid,
    user_id: Uuid,
) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar!(
        "select subject from sso_links where provider_id = $1 and user_id = $2",
        provider_id,
        user_id
    )
    .fetch_optional(pool)
    .await
}

/// Stores the subject at an account's first sign-in through a provider. False when the
/// account or the subject was linked meanwhile (two sign-ins at once): the caller refuses.
pub async fn link(
    pool: &PgPool,
    provider_id: Uuid,
    subject: &str,
    user_id: Uuid,
) -> sqlx::Result<bool> {
    let done = sqlx::query!(
        "insert into sso_links (provider_id, subject, user_id) values ($1, $2, $3)
         on conflict do nothing",
        provider_id,
        subject,
        user_id
    )
    .execute(pool)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How a person signs in through a provider, for the account page and sign-out.
#[derive(Debug, Clone)]
pub struct Link {
    pub provider_name: String,
    pub issuer_url: String,
    pub client_id: String,
    pub mfa_from_provider: bool,
}

/// The provider an account signs in with: the one its email's domain is served by.
pub async fn link_of<'c>(
    conn: impl sqlx::PgExecutor<'c>,
    user_id: Uuid,
) -> sqlx::Result<Option<Link>> {
    sqlx::query_as!(
        Link,
        "select p.name as provider_name, p.issuer_url, p.client_id, p.mfa_from_provider
         from users u
         join identity_provider_domains d on d.domain = lower(split_part(u.email, '@', 2))
         join identity_providers p on p.id = d.provider_id and p.enabled
         where u.id = $1",
        user_id
    )
    .fetch_optional(conn)
    .await
}

/// Forgets which identity at its provider an account is (an administrator's act, when the
/// person's account there was replaced): the next sign-in through the provider links it again
/// by the verified email. Whether there was a link.
pub async fn unlink(conn: &mut sqlx::PgConnection, user: Uuid) -> sqlx::Result<bool> {
    sqlx::query!("delete from sso_links where user_id = $1", user)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() > 0)
}
