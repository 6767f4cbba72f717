-- Councils write targets that have no date: blank, "Ongoing", "When the guidance is published".
-- Such a target is kept as written with no due date; a due date still needs the text it was
-- read from.
alter table actions drop constraint actions_check1,
    add constraint actions_due_needs_target check (due_on is null or target_text <> '');

-- The lead may file the Home Office's recommended action under a benchmark or a question; it
-- stays labelled as a recommendation. A question's action names its question; a benchmark's
-- action names its benchmark and no question.
alter table actions drop constraint actions_check,
    add constraint actions_question_has_item check (source <> 'question' or item_id is not null),
    add constraint actions_benchmark_has_section
        check (source <> 'benchmark' or (item_id is null and section_id is not null));

-- A recommended action is labelled with the cycle whose letter made it ("Recommended by the
-- Home Office, 2026/27"), also after it is carried into later cycles.
alter table actions add column recommended_in uuid references cycles on delete set null;
update actions a set recommended_in = asm.cycle_id
from assessments asm
where asm.id = a.assessment_id and a.source = 'recommendation';
