-- Request ids: the id of the inbound request (a SCIM call, an admin action) whose change queued a
-- job, so the job, its attempts and their log lines join to that request. NULL for jobs queued
-- outside a request (a sync run started from the command line, jobs written before this).
-- Both databases accept this file as it is.
ALTER TABLE jobs ADD COLUMN request_id TEXT;

CREATE INDEX jobs_request ON jobs (request_id) WHERE request_id IS NOT NULL;

-- Dead letters per target, counted inside this index by a metrics scrape (and listed by it).
CREATE INDEX jobs_dead ON jobs (tenant, target, id) WHERE state = 'dead';
