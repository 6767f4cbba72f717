-- The server keeps in memory who is signed in (session, account, memberships), the places
-- (regions, councils, cycles), the national picture and what a council's pages show, because
-- they are read far more often than they change. These triggers tell every server, through
-- NOTIFY on the channel `pa_changes`, what to forget when they do change, whichever program
-- changed them (the web application, the command line, psql):
--   'session:<user id>'  a session of that person ended;
--   'user:<id>'          their account (name, email, disabled) or memberships changed;
--   'places'             a region, council or cycle was added, changed or removed;
--   'council:<id>'       something a council's pages show changed;
--   'agreed'             the national picture of agreed scores was refreshed.
-- Statement-level triggers with transition tables: one notification per person per statement,
-- and NOTIFY drops duplicates within a transaction. Notifications are sent only on commit.

create function notify_user_changes() returns trigger
language plpgsql as $$
begin
    if tg_table_name = 'sessions' then
        perform pg_notify('pa_changes', 'session:' || user_id) from (select distinct user_id from old_rows) g;
    elsif tg_table_name = 'users' then
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

-- A council's pages: its assessments, their answers, results and criteria met, its actions and
-- their progress notes, evidence requests and attachments. The argument says how a changed row
-- leads to its council.
create function notify_council_changes() returns trigger
language plpgsql as $$
begin
    case tg_argv[0]
    when 'organisation' then
        perform pg_notify('pa_changes', 'council:' || organisation_id)
        from (select distinct organisation_id from changed) c;
    when 'assessment' then
        perform pg_notify('pa_changes', 'council:' || a.organisation_id)
        from (select distinct assessment_id from changed) c join assessments a on a.id = c.assessment_id;
    when 'action' then
        perform pg_notify('pa_changes', 'council:' || a.organisation_id)
        from (select distinct action_id from changed) c join actions a on a.id = c.action_id;
    when 'section_result' then
        perform pg_notify('pa_changes', 'council:' || a.organisation_id)
        from (select distinct section_result_id from changed) c
        join section_results r on r.id = c.section_result_id
        join assessments a on a.id = r.assessment_id;
    end case;
    return null;
end;
$$;

-- Three triggers a table (a transition table belongs to one event), named <table>_council_<event>.
do $$
declare
    t record;
    e text;
begin
    for t in select * from (values
        ('assessments', 'organisation'), ('actions', 'organisation'),
        ('answers', 'assessment'), ('section_results', 'assessment'),
        ('comments', 'assessment'), ('attachments', 'assessment'),
        ('action_notes', 'action'), ('criteria_met', 'section_result')) v(tab, via)
    loop
        foreach e in array array['insert', 'update', 'delete'] loop
            execute format(
                'create trigger %I after %s on %I referencing %s table as changed '
                'for each statement execute function notify_council_changes(%L)',
                t.tab || '_council_' || e, e, t.tab,
                case e when 'delete' then 'old' else 'new' end, t.via);
        end loop;
    end loop;
end;
$$;
