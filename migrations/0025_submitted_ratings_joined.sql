-- The Channel team's grid joined each submitted statement's 36 kept ratings into one string,
-- as it reads them, on every view from the database: about half of the 1.2 ms its statement
-- took to execute at national scale (324 statements; bench/README.md). The ratings cannot
-- change once kept, so they are kept joined: the codes in framework order, separated by one
-- space ('' for an unrated statement), as the grid reads them.
drop trigger assessments_channel_changed on assessments;

alter table assessments alter column submitted_ratings type text
    using array_to_string(submitted_ratings, ' ', '');

create or replace function keep_submitted_ratings() returns trigger
language plpgsql as $$
begin
    if new.state = 'draft' then
        new.submitted_ratings := null;
    elsif old.state = 'draft' or new.submitted_ratings is null then
        new.submitted_ratings := array_to_string(assessment_ratings(new.id), ' ', '');
    end if;
    return new;
end;
$$;

create trigger assessments_channel_changed
    after update of state, submitted_at, submitted_ratings on assessments
    for each row
    when (old.state is distinct from new.state
          or old.submitted_at is distinct from new.submitted_at
          or old.submitted_ratings is distinct from new.submitted_ratings)
    execute function notify_channel_change();
