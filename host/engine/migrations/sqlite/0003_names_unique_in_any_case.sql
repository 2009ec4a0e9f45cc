-- User names and group display names are unique per tenant among live entities, in any case
-- (SQLite's lower() folds ASCII letters, as the SCIM layer's comparison does). The database
-- enforces it, so concurrent writers need no shared lock: the loser of a race gets a unique
-- violation, reported as a conflict. The case-sensitive index of 0001 stays for exact lookups.
CREATE UNIQUE INDEX local_users_name_any_case
    ON local_users (tenant, lower(user_name)) WHERE deleted = FALSE;
CREATE UNIQUE INDEX local_groups_name_any_case
    ON local_groups (tenant, lower(display_name)) WHERE deleted = FALSE;
