-- The queue at scale: a claim and an idle poll cost what they hand out, not the backlog or the
-- history.
--
-- `jobs_open` holds only unfinished jobs, so "is an earlier job of this entity unfinished?" is
-- one seek however long the entity's history. `blocked` marks a pending job that waits behind an
-- earlier unfinished job of its entity; `jobs_ready` holds only pending jobs that are not
-- blocked, so the heads of a queue are read without walking the jobs waiting behind them.
--
-- The triggers keep `blocked` right on every path that changes a job's state: an inserted job
-- waits behind an unfinished one; a job that finishes unblocks the next unfinished job of its
-- entity; a finished job that becomes unfinished again (a replayed dead letter) blocks the
-- pending jobs after it. (SQLite trigger syntax; PostgreSQL needs the same three as trigger
-- functions.)
ALTER TABLE jobs ADD COLUMN blocked BOOLEAN NOT NULL DEFAULT FALSE;

CREATE INDEX jobs_open ON jobs (tenant, target, entity_kind, entity_id, id)
    WHERE state IN ('pending', 'running');

UPDATE jobs SET blocked = TRUE
WHERE state = 'pending' AND EXISTS (
    SELECT 1 FROM jobs e
    WHERE e.tenant = jobs.tenant AND e.target = jobs.target
      AND e.entity_kind = jobs.entity_kind AND e.entity_id = jobs.entity_id
      AND e.id < jobs.id AND e.state IN ('pending', 'running'));

CREATE INDEX jobs_ready ON jobs (tenant, target, due_at, id)
    WHERE state = 'pending' AND blocked = FALSE;

-- `jobs_ready` and `jobs_open` replace `jobs_queue` (which held every job, blocked or finished).
DROP INDEX jobs_queue;

CREATE TRIGGER jobs_block_behind AFTER INSERT ON jobs
WHEN NEW.state = 'pending' AND EXISTS (
    SELECT 1 FROM jobs e
    WHERE e.tenant = NEW.tenant AND e.target = NEW.target
      AND e.entity_kind = NEW.entity_kind AND e.entity_id = NEW.entity_id
      AND e.id < NEW.id AND e.state IN ('pending', 'running'))
BEGIN
    UPDATE jobs SET blocked = TRUE WHERE id = NEW.id;
END;

CREATE TRIGGER jobs_unblock_next AFTER UPDATE OF state ON jobs
WHEN OLD.state IN ('pending', 'running') AND NEW.state NOT IN ('pending', 'running')
BEGIN
    UPDATE jobs SET blocked = FALSE
    WHERE blocked = TRUE AND id = (
        SELECT MIN(e.id) FROM jobs e
        WHERE e.tenant = NEW.tenant AND e.target = NEW.target
          AND e.entity_kind = NEW.entity_kind AND e.entity_id = NEW.entity_id
          AND e.state IN ('pending', 'running'));
END;

CREATE TRIGGER jobs_block_after_reopen AFTER UPDATE OF state ON jobs
WHEN OLD.state NOT IN ('pending', 'running') AND NEW.state IN ('pending', 'running')
BEGIN
    UPDATE jobs SET blocked = EXISTS (
        SELECT 1 FROM jobs e
        WHERE e.tenant = NEW.tenant AND e.target = NEW.target
          AND e.entity_kind = NEW.entity_kind AND e.entity_id = NEW.entity_id
          AND e.id < NEW.id AND e.state IN ('pending', 'running'))
    WHERE id = NEW.id;
    UPDATE jobs SET blocked = TRUE
    WHERE tenant = NEW.tenant AND target = NEW.target
      AND entity_kind = NEW.entity_kind AND entity_id = NEW.entity_id
      AND id > NEW.id AND state = 'pending' AND blocked = FALSE;
END;
