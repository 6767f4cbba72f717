-- Two roles for the Channel statement: a council's signatory (its Chief Executive or a
-- Strategic Director), and the Home Office's Channel team, who check every council's.
alter table memberships drop constraint memberships_role_check;
alter table memberships add constraint memberships_role_check
    check (role in ('lead', 'contributor', 'board', 'owner', 'signatory', 'adviser', 'channel_team', 'admin'));
alter table memberships drop constraint memberships_check;
alter table memberships add constraint memberships_check check (
    (role in ('lead', 'contributor', 'board', 'owner', 'signatory') and organisation_id is not null and region_id is null)
    or (role = 'adviser' and region_id is not null and organisation_id is null)
    or (role in ('admin', 'channel_team') and organisation_id is null and region_id is null)
);

-- A statement's sign-off: asked for by the lead, given by the signatory with the declaration's
-- fields. A change to the draft after signing voids the signature (the trigger below), which
-- stays on record with when and why it was voided.
create table sign_offs (
    assessment_id uuid primary key references assessments on delete cascade,
    requested_at timestamptz not null default now(),
    requested_by uuid references users on delete set null,
    signed_at timestamptz,
    signed_by uuid references users on delete set null,
    signer_name text not null default '',
    position text not null default '',
    local_authority text not null default '',
    panel text check (panel in ('single', 'combined')),
    combined_with text not null default '',
    voided_at timestamptz,
    voided_because text not null default '',
    check ((signed_at is null) or (signed_by is not null and btrim(signer_name) <> ''
                                   and btrim(position) <> '' and panel is not null)),
    check (panel is distinct from 'combined' or signed_at is null or btrim(combined_with) <> '')
);

-- Whatever changes a draft's answers or its actions after it was signed (a page, an import,
-- the command line) voids the signature.
create function void_sign_off() returns trigger
language plpgsql as $$
declare
    changed uuid := coalesce(new.assessment_id, old.assessment_id);
begin
    update sign_offs s
       set signed_at = null, voided_at = now(),
           voided_because = case tg_table_name when 'answers' then 'a rating or its evidence changed'
                                               else 'an area for improvement changed' end
      from assessments a
     where s.assessment_id = changed and a.id = changed and a.state = 'draft'
       and s.signed_at is not null;
    return null;
end;
$$;

create trigger answers_void_sign_off after update on answers for each row
    when (old.rating_id is distinct from new.rating_id or old.evidence is distinct from new.evidence
          or old.prompt_evidence is distinct from new.prompt_evidence or old.fields is distinct from new.fields)
    execute function void_sign_off();
create trigger actions_void_sign_off_insert after insert on actions for each row
    execute function void_sign_off();
create trigger actions_void_sign_off_delete after delete on actions for each row
    execute function void_sign_off();
create trigger actions_void_sign_off_update after update on actions for each row
    when (old.description is distinct from new.description or old.target_text is distinct from new.target_text
          or old.owner_text is distinct from new.owner_text or old.status is distinct from new.status
          or old.item_id is distinct from new.item_id or old.section_id is distinct from new.section_id)
    execute function void_sign_off();

-- The council's pages show the sign-off: they are told when it changes.
do $$
declare
    e text;
begin
    foreach e in array array['insert', 'update', 'delete'] loop
        execute format(
            'create trigger %I after %s on sign_offs referencing %s table as changed '
            'for each statement execute function notify_council_changes(%L)',
            'sign_offs_council_' || e, e, case e when 'delete' then 'old' else 'new' end, 'assessment');
    end loop;
end;
$$;
