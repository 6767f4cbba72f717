-- The core schema every later feature fills in: places and people, frameworks as data, cycles,
-- assessments with their answers and per-section results, the action plan, comment threads,
-- attachments and the audit trail. Opaque UUIDs identify everything that appears in a URL.

create extension if not exists pgcrypto; -- gen_random_uuid() on PostgreSQL before 13

create table regions (
    id uuid primary key default gen_random_uuid(),
    slug text not null check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 80) unique,
    name text not null check (btrim(name) <> ''),
    created_at timestamptz not null default now()
);

create table organisations (
    id uuid primary key default gen_random_uuid(),
    slug text not null check (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(slug) <= 80) unique,
    name text not null check (btrim(name) <> ''),
    region_id uuid not null references regions on delete restrict,
    created_at timestamptz not null default now()
);
create index organisations_region_idx on organisations (region_id, name);

create table users (
    id uuid primary key default gen_random_uuid(),
    email text not null check (email ~ '^[^@\s]+@[^@\s]+$' and length(email) <= 254),
    display_name text not null check (btrim(display_name) <> ''),
    -- Null until the person accepts their invitation and sets a password.
    password_hash text,
    failed_sign_ins integer not null default 0 check (failed_sign_ins >= 0),
    locked_until timestamptz,
    disabled_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
-- Addresses are compared without regard to case.
create unique index users_email_key on users (lower(email));

-- A person's roles. Council roles name an organisation, an adviser names a region, an
-- administrator names neither; contributors are given some sections (benchmark numbers).
create table memberships (
    id uuid primary key default gen_random_uuid(),
    user_id uuid not null references users on delete cascade,
    role text not null check (role in ('lead', 'contributor', 'board', 'owner', 'adviser', 'admin')),
    organisation_id uuid references organisations on delete cascade,
    region_id uuid references regions on delete cascade,
    sections integer[],
    created_at timestamptz not null default now(),
    check (
        (role in ('lead', 'contributor', 'board', 'owner') and organisation_id is not null and region_id is null)
        or (role = 'adviser' and region_id is not null and organisation_id is null)
        or (role = 'admin' and organisation_id is null and region_id is null)
    ),
    check ((role = 'contributor') = (sections is not null)),
    unique nulls not distinct (user_id, role, organisation_id, region_id)
);
create index memberships_user_idx on memberships (user_id);
create index memberships_organisation_idx on memberships (organisation_id) where organisation_id is not null;
create index memberships_region_idx on memberships (region_id) where region_id is not null;

-- Frameworks are loaded from files in frameworks/ and stored by code and edition. `definition`
-- is the whole file as loaded; the tables below give answers something to reference.
create table frameworks (
    id uuid primary key default gen_random_uuid(),
    code text not null check (code ~ '^[a-z0-9]+(-[a-z0-9]+)*$' and length(code) <= 80) unique,
    edition text not null check (btrim(edition) <> ''),
    title text not null check (btrim(title) <> ''),
    publisher text not null check (btrim(publisher) <> ''),
    attribution text not null check (btrim(attribution) <> ''),
    section_label text not null check (btrim(section_label) <> ''),
    item_label text not null check (btrim(item_label) <> ''),
    scored boolean not null,
    definition jsonb not null,
    loaded_at timestamptz not null default now(),
    unique (code, edition)
);

-- The answer scale of a framework: Not yet started / Developing / Achieving, or Green / Amber / Red / N/A.
create table ratings (
    id uuid primary key default gen_random_uuid(),
    framework_id uuid not null references frameworks on delete restrict,
    code text not null check (code ~ '^[a-z0-9]+(_[a-z0-9]+)*$'),
    label text not null check (btrim(label) <> ''),
    position integer not null,
    unique (framework_id, code)
);

create table sections (
    id uuid primary key default gen_random_uuid(),
    framework_id uuid not null references frameworks on delete restrict,
    number integer not null check (number > 0),
    title text not null check (btrim(title) <> ''),
    may_be_not_scored boolean not null default false,
    unique (framework_id, number)
);

create table items (
    id uuid primary key default gen_random_uuid(),
    section_id uuid not null references sections on delete restrict,
    code text not null check (code ~ '^[0-9]+\.[0-9]+$'),
    position integer not null check (position > 0),
    kind text check (kind in ('expectation', 'good_practice')),
    unique (section_id, code)
);

create table levels (
    id uuid primary key default gen_random_uuid(),
    section_id uuid not null references sections on delete restrict,
    score smallint not null check (score between 1 and 5),
    unique (section_id, score)
);

create table criteria (
    id uuid primary key default gen_random_uuid(),
    level_id uuid not null references levels on delete restrict,
    code text not null check (code ~ '^b[0-9]+\.l[2-5]\.[a-z0-9]+(-[a-z0-9]+)*$'),
    position integer not null check (position > 0),
    unique (level_id, code)
);

-- Financial years: 2022/23 runs from 1 April 2022 to 31 March 2023.
create table cycles (
    id uuid primary key default gen_random_uuid(),
    label text not null unique check (label ~ '^[0-9]{4}/[0-9]{2}$'),
    starts_on date not null unique,
    opens_on date not null,
    deadline date not null,
    created_at timestamptz not null default now(),
    check (extract(month from starts_on) = 4 and extract(day from starts_on) = 1),
    check (label = to_char(starts_on, 'YYYY') || '/' || to_char(starts_on + interval '1 year', 'YY')),
    check (deadline >= opens_on)
);

-- One assessment per council, cycle and framework, on the edition it was started with.
create table assessments (
    id uuid primary key default gen_random_uuid(),
    organisation_id uuid not null references organisations on delete restrict,
    cycle_id uuid not null references cycles on delete restrict,
    framework_id uuid not null references frameworks on delete restrict,
    state text not null default 'draft'
        check (state in ('draft', 'submitted', 'in_review', 'agreed', 'published')),
    started_from uuid references assessments on delete set null,
    created_by uuid references users on delete set null,
    created_at timestamptz not null default now(),
    submitted_by uuid references users on delete set null,
    submitted_at timestamptz,
    updated_at timestamptz not null default now(),
    unique (organisation_id, cycle_id, framework_id),
    check ((state = 'draft') or submitted_at is not null)
);
create index assessments_cycle_idx on assessments (cycle_id, state);

-- A council's answer to one item: a rating (status), the evidence (for the whole item, or one
-- text per prompt), and whether it was carried forward and still needs review.
create table answers (
    id uuid primary key default gen_random_uuid(),
    assessment_id uuid not null references assessments on delete cascade,
    item_id uuid not null references items on delete restrict,
    rating_id uuid references ratings on delete restrict,
    evidence text not null default '',
    prompt_evidence text[] not null default '{}',
    evidence_per_prompt boolean not null default false,
    needs_review boolean not null default false,
    updated_by uuid references users on delete set null,
    updated_at timestamptz not null default now(),
    unique (assessment_id, item_id)
);

-- A council's result for one section (benchmark): RAG, proposed score and justification,
-- comments, the criteria it meets; beside it the adviser's and the agreed score, never
-- overwriting the proposal. `version` guards against two people saving over each other.
create table section_results (
    id uuid primary key default gen_random_uuid(),
    assessment_id uuid not null references assessments on delete cascade,
    section_id uuid not null references sections on delete restrict,
    rag text check (rag in ('red', 'amber', 'green')),
    proposed_score smallint check (proposed_score between 1 and 5),
    proposed_not_scored boolean not null default false,
    justification text not null default '',
    comments text not null default '',
    adviser_score smallint check (adviser_score between 1 and 5),
    adviser_not_scored boolean not null default false,
    adviser_summary text not null default '',
    agreed_score smallint check (agreed_score between 1 and 5),
    agreed_not_scored boolean not null default false,
    version integer not null default 1 check (version > 0),
    updated_by uuid references users on delete set null,
    updated_at timestamptz not null default now(),
    unique (assessment_id, section_id),
    check (not (proposed_not_scored and proposed_score is not null)),
    check (not (adviser_not_scored and adviser_score is not null)),
    check (not (agreed_not_scored and agreed_score is not null))
);

create table criteria_met (
    section_result_id uuid not null references section_results on delete cascade,
    criterion_id uuid not null references criteria on delete restrict,
    primary key (section_result_id, criterion_id)
);

-- The action plan belongs to the council and outlives the cycle; an action may come from a
-- question, a benchmark or an adviser's recommendation.
create table actions (
    id uuid primary key default gen_random_uuid(),
    organisation_id uuid not null references organisations on delete restrict,
    assessment_id uuid references assessments on delete set null,
    section_id uuid references sections on delete restrict,
    item_id uuid references items on delete restrict,
    source text not null check (source in ('question', 'benchmark', 'recommendation')),
    description text not null check (btrim(description) <> ''),
    owner_text text not null default '',
    owner_user_id uuid references users on delete set null,
    -- The target as the council wrote it ("Q4 2022/23", "Apr 22") and the date it means.
    target_text text not null default '',
    due_on date,
    status text not null default 'open' check (status in ('open', 'in_progress', 'done', 'cancelled')),
    rag text check (rag in ('red', 'amber', 'green')),
    carried_from uuid references actions on delete set null,
    version integer not null default 1 check (version > 0),
    created_by uuid references users on delete set null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    check ((source = 'question') = (item_id is not null)),
    check ((target_text = '') = (due_on is null))
);
create index actions_organisation_idx on actions (organisation_id, status, due_on);
create index actions_assessment_idx on actions (assessment_id, section_id);
create index actions_owner_user_idx on actions (owner_user_id) where owner_user_id is not null;

create table action_notes (
    id uuid primary key default gen_random_uuid(),
    action_id uuid not null references actions on delete cascade,
    noted_on date not null default current_date,
    body text not null check (btrim(body) <> ''),
    author_id uuid references users on delete set null,
    created_at timestamptz not null default now()
);
create index action_notes_action_idx on action_notes (action_id, noted_on desc, created_at desc);

-- Comments on a section, and the adviser's evidence requests with the council's answers.
create table comments (
    id uuid primary key default gen_random_uuid(),
    assessment_id uuid not null references assessments on delete cascade,
    section_id uuid not null references sections on delete restrict,
    kind text not null check (kind in ('comment', 'evidence_request', 'reply')),
    parent_id uuid references comments on delete cascade,
    body text not null check (btrim(body) <> ''),
    author_id uuid references users on delete set null,
    resolved_at timestamptz,
    created_at timestamptz not null default now(),
    check ((kind = 'reply') = (parent_id is not null))
);
create index comments_assessment_idx on comments (assessment_id, section_id, created_at);

-- Evidence files, kept in the database with everything else (up to 20 MB each).
create table attachments (
    id uuid primary key default gen_random_uuid(),
    assessment_id uuid not null references assessments on delete cascade,
    section_id uuid not null references sections on delete restrict,
    item_id uuid references items on delete restrict,
    filename text not null check (btrim(filename) <> ''),
    content_type text not null check (btrim(content_type) <> ''),
    size_bytes integer not null check (size_bytes between 1 and 20971520),
    content bytea not null,
    uploaded_by uuid references users on delete set null,
    created_at timestamptz not null default now(),
    check (octet_length(content) = size_bytes)
);
create index attachments_assessment_idx on attachments (assessment_id, section_id, item_id);

-- Who did what, when and from where; before and after as JSON. Append only.
create table audit_events (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null default now(),
    actor_id uuid references users on delete set null,
    actor_label text not null default '',
    ip inet,
    action text not null check (btrim(action) <> ''),
    entity_type text not null check (btrim(entity_type) <> ''),
    entity_id text,
    organisation_id uuid references organisations on delete set null,
    region_id uuid references regions on delete set null,
    before jsonb,
    after jsonb
);
create index audit_events_time_idx on audit_events (occurred_at desc);
create index audit_events_organisation_idx on audit_events (organisation_id, occurred_at desc);
create index audit_events_actor_idx on audit_events (actor_id, occurred_at desc);
create index audit_events_entity_idx on audit_events (entity_type, entity_id);

-- The application never changes or removes audit rows; the database refuses it too. (A foreign
-- key's "set null" is the one exception, so removing a user keeps the trail.)
create function audit_events_append_only() returns trigger language plpgsql as $$
begin
    if tg_op = 'UPDATE'
       and (new.id, new.occurred_at, new.actor_label, new.ip, new.action, new.entity_type,
            new.entity_id, new.before, new.after)
           is not distinct from
           (old.id, old.occurred_at, old.actor_label, old.ip, old.action, old.entity_type,
            old.entity_id, old.before, old.after)
    then
        return new;
    end if;
    raise exception 'audit events are append only';
end;
$$;
create trigger audit_events_append_only
    before update or delete on audit_events
    for each row execute function audit_events_append_only();
