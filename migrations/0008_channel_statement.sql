-- Both instruments in every cycle: which frameworks a cycle opens, each with its own deadline.
-- A cycle with no row for a framework opens it with the cycle's deadline.
create table cycle_frameworks (
    cycle_id uuid not null references cycles on delete cascade,
    framework_code text not null check (framework_code ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    open boolean not null default true,
    deadline date not null,
    primary key (cycle_id, framework_code)
);

-- Facts an item asks for in fields of their own (the Channel chair and deputy and their emails),
-- by the field codes of the framework file.
alter table answers add column fields jsonb not null default '{}'
    check (jsonb_typeof(fields) = 'object');

create trigger cycle_frameworks_changed after insert or update or delete or truncate on cycle_frameworks
    for each statement execute function notify_places_changed();
