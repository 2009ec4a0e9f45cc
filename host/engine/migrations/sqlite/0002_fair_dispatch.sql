-- Fair, bounded dispatch and retries that end.
--
-- `jobs_queue` lets a claim read the head of each (tenant, target) queue with one index seek, so
-- the cost of a claim depends on the number of targets and the jobs it hands out, not on the
-- backlog (running jobs are counted through `jobs_lease`, whose first column is the state).
-- `attempts_recent` counts each tenant's calls of the last minute (the per-tenant call-rate
-- quota).
--
-- `rate_limited_ms` is the rate-limited waiting a job has been granted without spending an
-- attempt; past the dispatcher's budget, rate-limited retries spend attempts like any failure.
-- `max_concurrency` caps one target's concurrent calls; NULL takes the dispatcher's default.

ALTER TABLE jobs ADD COLUMN rate_limited_ms BIGINT NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN max_concurrency BIGINT;

CREATE INDEX jobs_queue ON jobs (tenant, target, state, due_at, id);
CREATE INDEX attempts_recent ON attempts (tenant, started_at);
