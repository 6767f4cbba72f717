-- Overdue actions are counted per assessment among the open and in-progress ones (the region
-- view does it for every council of a region on each request): an index of just those, by
-- due date, answers each count from the index alone.
create index actions_open_due_idx on actions (assessment_id, due_on)
    where status in ('open', 'in_progress');
