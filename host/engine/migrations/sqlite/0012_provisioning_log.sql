-- The provisioning log: each attempt says which operation its job carried (a `lookup` call is
-- made for a create, an update or a delete) and which mapped fields the call carried, as a JSON
-- object of target field -> value, values of secret-looking fields replaced by `[redacted]`
-- and the whole bounded in size (NULL for calls that carry no user fields).
--
-- The log is read newest first by attempt id, filtered by tenant and optionally by entity
-- (`attempts_entity`), target (`attempts_target`) or outcome: every filter has an index that
-- starts with the tenant and ends with the id, so a page is a seek plus `limit` rows of one index.
-- (Shared by SQLite and PostgreSQL.)
ALTER TABLE attempts ADD COLUMN operation TEXT;
ALTER TABLE attempts ADD COLUMN fields TEXT;

CREATE INDEX attempts_log ON attempts (tenant, id);
CREATE INDEX attempts_outcome ON attempts (tenant, outcome, id);
