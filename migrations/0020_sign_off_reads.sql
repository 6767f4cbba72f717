-- A signatory signs what they read: every change to a draft statement's answers or actions
-- after sign-off was asked for counts on its sign-off row, and the signature is taken only
-- when that count is the one the signatory's page showed (a change made while they were
-- reading is not signed unseen). The void of a signature that stands is as before.
alter table sign_offs add column content_version integer not null default 0;

create or replace function void_sign_off() returns trigger
language plpgsql as $$
declare
    changed uuid := coalesce(new.assessment_id, old.assessment_id);
begin
    update sign_offs s
       set content_version = s.content_version + 1,
           voided_at = case when s.signed_at is not null then now() else s.voided_at end,
           voided_because = case when s.signed_at is null then s.voided_because
                                 when tg_table_name = 'answers' then 'a rating or its evidence changed'
                                 else 'an area for improvement changed' end,
           signed_at = null
      from assessments a
     where s.assessment_id = changed and a.id = changed and a.state = 'draft';
    return null;
end;
$$;
