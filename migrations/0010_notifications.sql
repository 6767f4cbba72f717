-- Telling people when it is their turn: notices of what happened, the notifications each person
-- reads in the service, mail that is retried and sent once whichever server sends it, scheduled
-- reminders and digests, and each person's choice of the mail they may turn off.

-- What happened that someone must hear of, written in the transaction that made it happen (a
-- handler, or the trigger that voids a signature). Any server's postman claims pending notices
-- with FOR UPDATE SKIP LOCKED and turns each into notifications and mail exactly once.
create table notices (
    id bigint generated always as identity primary key,
    created_at timestamptz not null default now(),
    kind text not null check (kind in (
        'submitted', 'returned', 'evidence_requested', 'evidence_replied', 'agreed',
        'published', 'accepted', 'sign_off_requested', 'signed', 'voided',
        'action_assigned', 'action_target_changed')),
    assessment_id uuid references assessments on delete cascade,
    action_id uuid references actions on delete cascade,
    section_number integer,
    -- Whoever caused it is not told of it; a named person (the adviser who asked, an action's
    -- owner) is told whatever their role.
    actor_id uuid references users on delete set null,
    person_id uuid references users on delete set null,
    reason text,
    dispatched_at timestamptz
);
create index notices_pending_idx on notices (id) where dispatched_at is null;

-- Each person's notifications in the service, newest first, with an unread count in the header.
create table notifications (
    id bigint generated always as identity primary key,
    user_id uuid not null references users on delete cascade,
    created_at timestamptz not null default now(),
    kind text not null,
    title text not null check (btrim(title) <> ''),
    body text not null default '',
    link text not null check (link like '/%'),
    read_at timestamptz,
    idempotency_key text not null unique
);
create index notifications_user_idx on notifications (user_id, id desc);
create index notifications_unread_idx on notifications (user_id) where read_at is null;

-- The unread count is part of who is signed in, which every server keeps in memory: say when
-- it changes.
create function notify_notifications_changed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('pa_changes', 'user:' || user_id) from (select distinct user_id from changed) g;
    return null;
end;
$$;
create trigger notifications_added after insert on notifications
    referencing new table as changed
    for each statement execute function notify_notifications_changed();
create trigger notifications_read after update on notifications
    referencing new table as changed
    for each statement execute function notify_notifications_changed();
create trigger notifications_removed after delete on notifications
    referencing old table as changed
    for each statement execute function notify_notifications_changed();

-- Mail: HTML beside the plain text, who it is for, an idempotency key (event + recipient +
-- period) so nothing is queued twice, and retries with backoff until it is given up.
alter table outbox
    add column html_body text,
    add column user_id uuid references users on delete set null,
    add column kind text not null default 'account',
    add column idempotency_key text,
    add column list_unsubscribe text,
    add column next_attempt_at timestamptz not null default now(),
    add column given_up_at timestamptz;
create unique index outbox_idempotency_key on outbox (idempotency_key) where idempotency_key is not null;
drop index outbox_unsent_idx;
create index outbox_due_idx on outbox (next_attempt_at) where sent_at is null and given_up_at is null;
create index outbox_given_up_idx on outbox (given_up_at desc) where given_up_at is not null and sent_at is null;

-- Mail a person may turn off (reminders of deadlines, weekly digests), and the token of the
-- one-click unsubscribe link in such mail. The token can only turn that mail off.
alter table users
    add column mail_reminders boolean not null default true,
    add column mail_digests boolean not null default true,
    add column unsubscribe_token text not null unique default encode(gen_random_bytes(24), 'hex');

-- Scheduled jobs: the period each last ran for. A server runs a job only while holding its row
-- (FOR UPDATE SKIP LOCKED), so a period is run once, by one server.
create table scheduled_jobs (
    name text primary key,
    last_period timestamptz,
    last_run_at timestamptz,
    last_result text not null default ''
);

-- Pending notices wake every server's postman at once.
create function notify_notices() returns trigger
language plpgsql as $$
begin
    perform pg_notify('pa_notices', '');
    return null;
end;
$$;
create trigger notices_added after insert on notices
    for each statement execute function notify_notices();
create trigger outbox_added after insert on outbox
    for each statement execute function notify_notices();

-- A signature voided by a change to the draft is a notice to the leads, whichever program made
-- the change.
create function notice_void_sign_off() returns trigger
language plpgsql as $$
begin
    insert into notices (kind, assessment_id, reason)
    select 'voided', n.assessment_id, n.voided_because
    from new_rows n join old_rows o on o.assessment_id = n.assessment_id
    where o.signed_at is not null and n.signed_at is null and n.voided_at is not null;
    return null;
end;
$$;
create trigger sign_offs_voided_notice after update on sign_offs
    referencing old table as old_rows new table as new_rows
    for each statement execute function notice_void_sign_off();
