-- Availability: a circuit breaker per target, probing after a pause, and a gradual release.
--
-- A target whose last calls all failed with connection failures, timeouts or 5xx answers is
-- paused (`paused`, `pause_reason`, `paused_until`) for a cooldown that doubles with each
-- consecutive opening (`circuit_opens`). Every timed pause (circuit, refused credentials, spent
-- quota) ends in `probing`: claims hand out one job at a time (`probe_job` is the last one handed
-- out); when it ends without the target being paused again, the target recovers and its allowed
-- concurrency grows from one, doubling per step, from `recovered_at` up to its cap.
-- `attempts_target` reads a target's last calls.
ALTER TABLE targets ADD COLUMN probing BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE targets ADD COLUMN probe_job BIGINT;
ALTER TABLE targets ADD COLUMN circuit_opens BIGINT NOT NULL DEFAULT 0;
ALTER TABLE targets ADD COLUMN recovered_at BIGINT;

CREATE INDEX attempts_target ON attempts (tenant, target, id);
