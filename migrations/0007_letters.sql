-- The letter's standard paragraphs, kept by administrators per cycle. Each save is a new
-- version; a letter records the version it was written from (0 for the shipped default).
create table letter_templates (
    id uuid primary key default gen_random_uuid(),
    cycle_id uuid not null references cycles on delete cascade,
    version integer not null check (version > 0),
    template jsonb not null,
    created_by uuid references users on delete set null,
    created_at timestamptz not null default now(),
    unique (cycle_id, version)
);

-- What the adviser writes into one council's letter, and the letter as published: kept whole,
-- so that it reads the same whatever changes after.
create table letters (
    assessment_id uuid primary key references assessments on delete cascade,
    addressee text not null default '',
    salutation text not null default '',
    cc text not null default '',
    thanks text not null default '',
    extra text not null default '',
    version integer not null default 1 check (version > 0),
    updated_by uuid references users on delete set null,
    updated_at timestamptz not null default now(),
    published jsonb,
    published_at timestamptz,
    check ((published is null) = (published_at is null))
);
