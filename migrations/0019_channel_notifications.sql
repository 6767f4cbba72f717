-- The Channel team's grid is kept in each server's memory, one cycle at a time. It shows a
-- statement's state, when it was submitted and its kept ratings: a statement started, removed
-- or changed in any of those notifies 'channel', whoever changed it. (The council notifications
-- of migration 0005 fire at every save of every council: too often for a national view.)
-- Councils, regions, cycles and their deadlines already notify 'places', which drops every copy.
create function notify_channel_change() returns trigger
language plpgsql as $$
declare
    framework uuid := case tg_op when 'DELETE' then old.framework_id else new.framework_id end;
begin
    if exists (select 1 from frameworks f where f.id = framework and f.kind = 'channel_statement') then
        perform pg_notify('pa_changes', 'channel');
    end if;
    return null;
end;
$$;

create trigger assessments_channel_added after insert or delete on assessments
    for each row execute function notify_channel_change();

create trigger assessments_channel_changed
    after update of state, submitted_at, submitted_ratings on assessments
    for each row
    when (old.state is distinct from new.state
          or old.submitted_at is distinct from new.submitted_at
          or old.submitted_ratings is distinct from new.submitted_ratings)
    execute function notify_channel_change();
