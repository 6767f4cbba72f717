-- Single sign-on by OpenID Connect. Administrators configure each identity provider (issuer,
-- client id, the email domains it serves); its client secret stays in the environment
-- (OIDC_CLIENT_SECRET_<SLUG>), never in the database. A person whose email is in a provider's
-- domain is sent to it; the account must exist already (invited).
create table identity_providers (
    id uuid primary key default gen_random_uuid(),
    slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    name text not null check (length(name) between 1 and 120),
    issuer_url text not null check (length(issuer_url) between 1 and 500),
    client_id text not null check (length(client_id) between 1 and 300),
    -- The provider's own multi-factor claim (`amr`) is taken in place of our TOTP.
    mfa_from_provider boolean not null default false,
    enabled boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

-- One provider per domain: the lookup at sign-in is by primary key.
create table identity_provider_domains (
    domain text primary key check (domain = lower(domain) and domain ~ '^[a-z0-9.-]+$'),
    provider_id uuid not null references identity_providers on delete cascade
);
create index identity_provider_domains_provider_idx on identity_provider_domains (provider_id);

-- The provider's subject for an account, stored at its first sign-in (matched then by the
-- verified email): later sign-ins match the subject, so a changed or reused email at the
-- provider does not take over another account.
create table sso_links (
    provider_id uuid not null references identity_providers on delete cascade,
    subject text not null check (length(subject) between 1 and 255),
    user_id uuid not null references users on delete cascade,
    created_at timestamptz not null default now(),
    last_used_at timestamptz not null default now(),
    primary key (provider_id, subject),
    unique (provider_id, user_id)
);
create index sso_links_user_idx on sso_links (user_id);

-- A sign-in sent to a provider and not yet back: the state (hashed; the browser holds it in a
-- cookie too), the nonce and the PKCE verifier. In the database, so that any server may take
-- the callback. Ten minutes.
create table sso_requests (
    state_hash bytea primary key check (length(state_hash) = 32),
    provider_id uuid not null references identity_providers on delete cascade,
    nonce text not null,
    pkce_verifier text not null,
    created_at timestamptz not null default now()
);
create index sso_requests_created_idx on sso_requests (created_at);
