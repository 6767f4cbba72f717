-- The national picture counts every agreed score of every council in every cycle. Agreed scores
-- change only when an assessment enters or leaves the agreed states, a few hundred times a year,
-- while the picture is read far more often: so the counts are kept here, refreshed when an
-- assessment's state crosses that line, rather than computed on every page view.
create materialized view agreed_score_counts as
select a.cycle_id, o.region_id, a.framework_id, s.number, r.agreed_score as score,
       count(*)::bigint as councils
from section_results r
join assessments a on a.id = r.assessment_id
join organisations o on o.id = a.organisation_id
join sections s on s.id = r.section_id
where a.state in ('agreed', 'published') and r.agreed_score is not null
group by a.cycle_id, o.region_id, a.framework_id, s.number, r.agreed_score;

create unique index agreed_score_counts_key
    on agreed_score_counts (cycle_id, framework_id, region_id, number, score);

create function refresh_agreed_score_counts() returns trigger
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
    refresh materialized view agreed_score_counts;
    return null;
end;
$$;

create trigger assessments_agreed_update
    after update on assessments referencing old table as old_rows new table as new_rows
    for each statement execute function refresh_agreed_score_counts();
create trigger assessments_agreed_delete
    after delete on assessments referencing old table as old_rows
    for each statement execute function refresh_agreed_score_counts();
