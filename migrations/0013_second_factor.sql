-- A second factor (TOTP, RFC 6238) for everyone who can see many councils, optional for the
-- rest. The secret is stored encrypted (ChaCha20-Poly1305 with MFA_KEY from the environment,
-- bound to the account); the time step of the last code used is kept, so that a code is used
-- once. Recovery codes are stored as SHA-256 hashes (they are random, 50 bits each).
alter table users
    add column totp_secret bytea,
    add column totp_pending bytea,
    add column totp_enabled_at timestamptz,
    add column totp_last_step bigint not null default 0;

create table recovery_codes (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users on delete cascade,
    code_hash bytea not null check (length(code_hash) = 32),
    used_at timestamptz
);
create index recovery_codes_user_idx on recovery_codes (user_id);

-- Between the password and the code: a short-lived challenge held by a cookie, with its own
-- count of wrong codes. `set_up` when the account must set up its second factor first.
create table second_factor_challenges (
    token_hash bytea primary key check (length(token_hash) = 32),
    user_id uuid not null references users on delete cascade,
    set_up boolean not null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    failures integer not null default 0
);
create index second_factor_challenges_user_idx on second_factor_challenges (user_id);
