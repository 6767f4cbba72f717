-- Accounts: sessions kept on the server (so sign-out, "sign out everywhere", a password change
-- and disabling a user really end them), sign-in attempts for throttling, one-time tokens for
-- invitations and password resets (stored hashed), and the mail outbox.

create table sessions (
    -- SHA-256 of the cookie's random value: a stolen database does not yield live cookies.
    id_hash bytea primary key check (length(id_hash) = 32),
    user_id uuid not null references users on delete cascade,
    created_at timestamptz not null default now(),
    last_seen_at timestamptz not null default now(),
    -- The absolute limit, whatever the activity.
    expires_at timestamptz not null,
    ip inet,
    user_agent text not null default ''
);
create index sessions_user_idx on sessions (user_id);
create index sessions_expires_idx on sessions (expires_at);

-- Every sign-in attempt, for the per-address limit. (Per-account locking uses the counters on users.)
create table sign_in_attempts (
    id bigint generated always as identity primary key,
    attempted_at timestamptz not null default now(),
    ip inet,
    email text not null,
    succeeded boolean not null
);
create index sign_in_attempts_ip_idx on sign_in_attempts (ip, attempted_at desc);

create table one_time_tokens (
    id uuid primary key default gen_random_uuid(),
    token_hash bytea not null unique check (length(token_hash) = 32),
    purpose text not null check (purpose in ('invitation', 'password_reset')),
    user_id uuid not null references users on delete cascade,
    created_by uuid references users on delete set null,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz
);
create index one_time_tokens_user_idx on one_time_tokens (user_id, purpose);

-- Mail waits here; a sender delivers it by SMTP when one is configured. Without SMTP,
-- administrators read it at /admin/outbox.
create table outbox (
    id uuid primary key default gen_random_uuid(),
    created_at timestamptz not null default now(),
    to_address text not null check (to_address ~ '^[^@\s]+@[^@\s]+$'),
    subject text not null check (btrim(subject) <> ''),
    body text not null,
    sent_at timestamptz,
    attempts integer not null default 0,
    last_error text
);
create index outbox_unsent_idx on outbox (created_at) where sent_at is null;
create index outbox_time_idx on outbox (created_at desc);

-- The audit trail is filtered by what happened.
create index audit_events_action_idx on audit_events (action, occurred_at desc);
