-- The server keeps in memory who is signed in (session, account, memberships) and the places
-- (regions, councils, cycles), because every page needs them and they rarely change. These
-- triggers tell every server, through NOTIFY on the channel `pa_changes`, what to forget when
-- they do change, whichever program changed them (the web application, the command line, psql):
--   'user:<id>'  a session of that person ended, or their account or memberships changed;
--   'places'     a region, council or cycle was added, changed or removed.
-- Statement-level triggers with transition tables: one notification per person per statement,
-- and NOTIFY drops duplicates within a transaction. Notifications are sent only on commit.

create function notify_user_changes() returns trigger
language plpgsql as $$
begin
    if tg_table_name = 'users' then
        -- Sign-ins update the failure counters on every attempt: only what a session shows counts.
        perform pg_notify('pa_changes', 'user:' || n.id)
        from new_rows n join old_rows o on o.id = n.id
        where (n.email, n.display_name, n.disabled_at) is distinct from (o.email, o.display_name, o.disabled_at);
    elsif tg_op = 'DELETE' then
        perform pg_notify('pa_changes', 'user:' || user_id) from (select distinct user_id from old_rows) g;
    else
        perform pg_notify('pa_changes', 'user:' || user_id) from (select distinct user_id from new_rows) g;
    end if;
    return null;
end;
$$;

-- A new session needs no notice (nothing holds it yet), nor does marking one used.
create trigger sessions_ended after delete on sessions
    referencing old table as old_rows
    for each statement execute function notify_user_changes();
create trigger users_changed after update on users
    referencing old table as old_rows new table as new_rows
    for each statement execute function notify_user_changes();
create trigger memberships_added after insert on memberships
    referencing new table as new_rows
    for each statement execute function notify_user_changes();
create trigger memberships_changed after update on memberships
    referencing new table as new_rows
    for each statement execute function notify_user_changes();
create trigger memberships_removed after delete on memberships
    referencing old table as old_rows
    for each statement execute function notify_user_changes();

create function notify_places_changed() returns trigger
language plpgsql as $$
begin
    perform pg_notify('pa_changes', 'places');
    return null;
end;
$$;

create trigger regions_changed after insert or update or delete or truncate on regions
    for each statement execute function notify_places_changed();
create trigger organisations_changed after insert or update or delete or truncate on organisations
    for each statement execute function notify_places_changed();
create trigger cycles_changed after insert or update or delete or truncate on cycles
    for each statement execute function notify_places_changed();

-- The national picture (agreed_score_summary, migration 0003) is kept in memory too: say when
-- it is refreshed, by the trigger or by hand.
create or replace function refresh_agreed_score_summary() returns trigger
language plpgsql as $$
begin
    if tg_op = 'UPDATE' then
        if not exists (
            select 1 from old_rows o join new_rows n on n.id = o.id
            where (o.state in ('agreed', 'published')) <> (n.state in ('agreed', 'published'))
        ) then
            return null;
        end if;
    elsif tg_op = 'DELETE' then
        if not exists (select 1 from old_rows where state in ('agreed', 'published')) then
            return null;
        end if;
    end if;
    refresh materialized view agreed_score_summary;
    perform pg_notify('pa_changes', 'agreed');
    return null;
end;
$$;
