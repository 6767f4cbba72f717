-- The audit trail grows with every sign-in and save, for ever: each of its pages walks an
-- index in the trail's own order (time, then id) and stops after a page, whatever the filter
-- (a council, an event, a kind of thing), so a page costs the same at 500,000 rows as at 200.
drop index audit_events_time_idx;
create index audit_events_time_idx on audit_events (occurred_at desc, id desc);
drop index audit_events_organisation_idx;
create index audit_events_organisation_idx on audit_events (organisation_id, occurred_at desc, id desc);
drop index audit_events_action_idx;
create index audit_events_action_idx on audit_events (action, occurred_at desc, id desc);
create index audit_events_entity_type_idx on audit_events (entity_type, occurred_at desc, id desc);
