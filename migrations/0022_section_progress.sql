-- Each benchmark's progress, kept on its result: the task list and the check page read how
-- many of a benchmark's questions are answered and how many need review, and counting them
-- from the answers on every view took a join of the framework's items and the assessment's
-- answers and a grouping, most of the task list's cost in PostgreSQL from the database (the
-- statement 250 µs a call against 187 reading the kept counts: bench/README.md). The counts
-- follow the answers by trigger, whichever statement writes them, so no writer can forget.

alter table section_results
    add column answered integer not null default 0,
    add column questions integer not null default 0,
    add column needs_review integer not null default 0;

-- The counts of the results given (by id), from their answers; only rows whose counts differ
-- are written, so a save that changes evidence alone writes nothing more.
create function recount_progress(results uuid[]) returns void
language sql as $$
    update section_results r
       set answered = q.answered, questions = q.questions, needs_review = q.needs_review
      from (select t.id,
                   count(an.id) filter (where an.rating_id is not null)::integer as answered,
                   count(an.id)::integer as questions,
                   count(an.id) filter (where an.needs_review)::integer as needs_review
              from section_results t
              left join items i on i.section_id = t.section_id
              left join answers an on an.item_id = i.id and an.assessment_id = t.assessment_id
             where t.id = any(results)
             group by t.id) q
     where r.id = q.id
       and (r.answered, r.questions, r.needs_review)
           is distinct from (q.answered, q.questions, q.needs_review)
$$;

-- Answers written, changed or removed: their benchmarks' results recounted, once per statement.
create function recount_progress_of_answers() returns trigger
language plpgsql as $$
begin
    perform recount_progress(array(
        select distinct r.id from changed c
        join items i on i.id = c.item_id
        join section_results r on r.assessment_id = c.assessment_id and r.section_id = i.section_id));
    return null;
end;
$$;

create trigger answers_progress_insert after insert on answers
    referencing new table as changed
    for each statement execute function recount_progress_of_answers();
create trigger answers_progress_update after update on answers
    referencing new table as changed
    for each statement execute function recount_progress_of_answers();
create trigger answers_progress_delete after delete on answers
    referencing old table as changed
    for each statement execute function recount_progress_of_answers();

-- Results written after their answers (as a new assessment's are): counted as they arrive.
create function count_progress_of_results() returns trigger
language plpgsql as $$
begin
    perform recount_progress(array(select id from added));
    return null;
end;
$$;

create trigger section_results_progress_insert after insert on section_results
    referencing new table as added
    for each statement execute function count_progress_of_results();

select recount_progress(array(select id from section_results));
