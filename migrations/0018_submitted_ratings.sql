-- The Channel team's grid shows every council's submitted statement, 36 ratings each: read
-- from the answers it was one aggregate per council (12,600 answers at national scale, 5.9 ms
-- of PostgreSQL a view). A statement's ratings cannot change once it is submitted (answers are
-- edited only in a draft), so they are kept on the assessment as it leaves the draft, by the
-- same statement that changes its state, and dropped when it goes back to one.
alter table assessments add column submitted_ratings text[];

-- Each answer's rating code in framework order ('' for none).
create function assessment_ratings(assessment uuid) returns text[]
language sql stable as $$
    select coalesce(array_agg(coalesce(g.code, '') order by s.number, i.position), '{}')
    from answers an
    join items i on i.id = an.item_id
    join sections s on s.id = i.section_id
    left join ratings g on g.id = an.rating_id
    where an.assessment_id = assessment
$$;

create function keep_submitted_ratings() returns trigger
language plpgsql as $$
begin
    if new.state = 'draft' then
        new.submitted_ratings := null;
    elsif old.state = 'draft' or new.submitted_ratings is null then
        new.submitted_ratings := assessment_ratings(new.id);
    end if;
    return new;
end;
$$;

create trigger assessments_submitted_ratings before update of state on assessments
    for each row when (old.state is distinct from new.state)
    execute function keep_submitted_ratings();

update assessments set submitted_ratings = assessment_ratings(id) where state <> 'draft';
