-- An agreed assessment's scores, kept on the assessment: the region view and the agreed-score
-- exports read a row per council, and building each council's array from its results took a
-- sub-query per council (350 nationally, 2.4-4.8 ms of PostgreSQL's time against 0.75 ms
-- reading the kept array). Per benchmark in number order: 1-5, 0 for "not scored", -1 for
-- none; null while the assessment is not agreed (until then the adviser's scores are a draft).

create function agreed_scores_of(assessment uuid) returns smallint[]
language sql stable as $$
    select array(select case when r.agreed_not_scored then 0::smallint
                             else coalesce(r.agreed_score, -1::smallint) end
                 from section_results r join sections s on s.id = r.section_id
                 where r.assessment_id = assessment order by s.number)
$$;

alter table assessments add column agreed_scores smallint[];

-- Set as the assessment becomes agreed, cleared as it stops being.
create function keep_agreed_scores() returns trigger
language plpgsql as $$
begin
    if new.state in ('agreed', 'published') then
        if tg_op = 'INSERT' or old.state not in ('agreed', 'published') then
            new.agreed_scores := agreed_scores_of(new.id);
        end if;
    else
        new.agreed_scores := null;
    end if;
    return new;
end;
$$;

create trigger assessments_agreed_scores before insert or update of state on assessments
    for each row execute function keep_agreed_scores();

-- An agreed assessment's results written after it (as the sample generator and the
-- demonstration data write them), or its agreed scores changed by hand: its array again.
create function keep_agreed_scores_of_results() returns trigger
language plpgsql as $$
begin
    update assessments set agreed_scores = agreed_scores_of(id)
     where id in (select distinct assessment_id from changed) and state in ('agreed', 'published');
    return null;
end;
$$;

create trigger section_results_agreed_scores_insert after insert on section_results
    referencing new table as changed
    for each statement execute function keep_agreed_scores_of_results();

create function keep_agreed_scores_of_result() returns trigger
language plpgsql as $$
begin
    update assessments set agreed_scores = agreed_scores_of(id)
     where id = new.assessment_id and state in ('agreed', 'published');
    return null;
end;
$$;

create trigger section_results_agreed_scores_update
    after update of agreed_score, agreed_not_scored on section_results for each row
    when (old.agreed_score is distinct from new.agreed_score
          or old.agreed_not_scored is distinct from new.agreed_not_scored)
    execute function keep_agreed_scores_of_result();

update assessments set agreed_scores = agreed_scores_of(id) where state in ('agreed', 'published');
