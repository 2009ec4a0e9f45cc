-- Which local entity a remote id belongs to, by index: reconciliation maps each page of remote
-- users to local ones (`remote_id IN (...)`), which without it read every mapping of the target
-- for each page, a cost that grew with the square of the tenant.
-- Both databases accept this file as it is.
CREATE INDEX provisioned_ids_remote ON provisioned_ids (tenant, target, entity_kind, remote_id);
