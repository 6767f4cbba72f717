-- Sign-in abuse (OWASP ASVS V6): failures are counted per email address as typed, so that an
-- address with no account is answered exactly as one with an account; and a browser that has
-- signed in to an account before is known to it, so that the right password from such a
-- device still signs in while a stranger's wrong passwords hold the address back.
create index sign_in_attempts_email_idx on sign_in_attempts (email, attempted_at desc);

create table known_devices (
    -- SHA-256 of the device cookie's random value.
    token_hash bytea primary key check (length(token_hash) = 32),
    user_id uuid not null references users on delete cascade,
    created_at timestamptz not null default now(),
    last_used_at timestamptz not null default now()
);
create index known_devices_user_idx on known_devices (user_id);
