-- A published letter is kept in memory with its council's pages (the letter page reads it as
-- issued): its council is told when a letter changes, as for sign-offs (migration 0009).
do $$
declare
    e text;
begin
    foreach e in array array['insert', 'update', 'delete'] loop
        execute format(
            'create trigger %I after %s on letters referencing %s table as changed '
            'for each statement execute function notify_council_changes(%L)',
            'letters_council_' || e, e, case e when 'delete' then 'old' else 'new' end, 'assessment');
    end loop;
end;
$$;
