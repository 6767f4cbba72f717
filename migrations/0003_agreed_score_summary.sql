-- The national picture counts every agreed score of every council in every cycle. Agreed scores
-- change only when an assessment enters or leaves the agreed states, a few hundred times a year,
-- while the picture is read far more often: so the counts are kept here, refreshed when an
-- assessment's state crosses that line, rather than computed on every page view.
create materialized view agreed_score_summary as
with agreed as (
    select a.id, a.cycle_id, a.framework_id, o.region_id
    from assessments a join organisations o on o.id = a.organisation_id
    where a.state in ('agreed', 'published')
),
cells as (
    select g.cycle_id, g.framework_id, g.region_id, r.section_id, r.agreed_score as score,
           count(*) as councils
    from agreed g join section_results r on r.assessment_id = g.id
    where r.agreed_score is not null
    group by g.cycle_id, g.framework_id, g.region_id, r.section_id, r.agreed_score
)
-- One row per cycle, framework and region: how many assessments are agreed, and how many
-- councils were agreed each score on each benchmark, as one array by benchmark number and then
-- score (benchmark 1 score 1, benchmark 1 score 2, ... benchmark 2 score 1, ...).
select g.cycle_id, g.framework_id, g.region_id, count(*) as assessments,
       (select array_agg(coalesce(c.councils, 0) order by s.number, sc.score)
        from sections s
        cross join generate_series(1, 5) as sc(score)
        left join cells c on c.cycle_id = g.cycle_id and c.framework_id = g.framework_id
                         and c.region_id = g.region_id and c.section_id = s.id and c.score = sc.score
        where s.framework_id = g.framework_id) as counts
from agreed g
group by g.cycle_id, g.framework_id, g.region_id;

create unique index agreed_score_summary_key
    on agreed_score_summary (cycle_id, framework_id, region_id);

create function refresh_agreed_score_summary() returns trigger
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
    return null;
end;
$$;

create trigger assessments_agreed_update
    after update on assessments referencing old table as old_rows new table as new_rows
    for each statement execute function refresh_agreed_score_summary();
create trigger assessments_agreed_delete
    after delete on assessments referencing old table as old_rows
    for each statement execute function refresh_agreed_score_summary();
