-- A session whose limits are brought forward (by an administrator in psql, by another program)
-- is forgotten by every server at once: a copy kept in memory is never used past the session's
-- limits. Marking a session used moves its idle limit later, which needs no notice.
create function notify_session_shortened() returns trigger
language plpgsql as $$
begin
    perform pg_notify('pa_changes', 'session:' || n.user_id)
    from new_rows n join old_rows o on o.id_hash = n.id_hash
    where n.expires_at < o.expires_at or n.last_seen_at < o.last_seen_at
    group by n.user_id;
    return null;
end;
$$;

create trigger sessions_shortened after update on sessions
    referencing old table as old_rows new table as new_rows
    for each statement execute function notify_session_shortened();
