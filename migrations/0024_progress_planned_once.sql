-- The progress counts of migration 0022, the same counts, planned once per connection rather than
-- on every save. A function in `language sql` that is not inlined (an update never is) plans its
-- statement each time it is called, and the answers' trigger called it through an array built
-- by a statement of its own: 0.49 of the 1.1 ms PostgreSQL took to execute a benchmark's save
-- (`explain analyze`, the save loop's save, bench/README.md). In PL/pgSQL each statement's plan
-- is kept for the session, and the answers' trigger is one statement: 0.15 ms.

create or replace function recount_progress(results uuid[]) returns void
language plpgsql as $$
begin
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
           is distinct from (q.answered, q.questions, q.needs_review);
end;
$$;

-- Answers written, changed or removed: their benchmarks' results recounted, once per statement,
-- in one statement (only rows whose counts differ are written, as before).
create or replace function recount_progress_of_answers() returns trigger
language plpgsql as $$
begin
    update section_results r
       set answered = q.answered, questions = q.questions, needs_review = q.needs_review
      from (select t.id,
                   count(an.id) filter (where an.rating_id is not null)::integer as answered,
                   count(an.id)::integer as questions,
                   count(an.id) filter (where an.needs_review)::integer as needs_review
              from section_results t
              left join items i on i.section_id = t.section_id
              left join answers an on an.item_id = i.id and an.assessment_id = t.assessment_id
             where t.id in (select cr.id from changed c
                            join items ci on ci.id = c.item_id
                            join section_results cr on cr.assessment_id = c.assessment_id
                                                   and cr.section_id = ci.section_id)
             group by t.id) q
     where r.id = q.id
       and (r.answered, r.questions, r.needs_review)
           is distinct from (q.answered, q.questions, q.needs_review);
    return null;
end;
$$;
