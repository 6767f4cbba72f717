-- A council's lead may require a second factor of everyone with a role at the council: each
-- must set one up at their next sign-in before anything else, as advisers and administrators
-- must.
alter table organisations add column second_factor_required boolean not null default false;
