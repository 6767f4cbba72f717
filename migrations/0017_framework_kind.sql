-- What the pages ask of a framework on every view, kept beside its definition. Reading a key
-- of the definition (the framework file as JSON, 110 KB, stored compressed) decompressed all of
-- it, about 0.25 ms for each key and row, on every assessment page, the action plan and the
-- board; these columns are computed once, when the framework is loaded.
alter table frameworks
    add column kind text generated always as (definition->>'kind') stored,
    add column section_path text
        generated always as (coalesce(definition->>'section_path', 'benchmarks')) stored;
