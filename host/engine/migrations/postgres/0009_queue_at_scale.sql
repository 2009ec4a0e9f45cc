-- The queue at scale (see the SQLite migration of the same number for the reasoning).
--
-- PostgreSQL keeps `blocked` with trigger functions. Each takes a transaction-scoped advisory
-- lock on the job's entity before it reads the entity's other jobs: under READ COMMITTED, a job
-- inserted while an earlier job of its entity finishes in another transaction would otherwise
-- see that job still unfinished (and wait behind it) while the finishing transaction does not
-- see the new job (and unblocks nothing), leaving it blocked for ever. With the lock, the
-- second of the two waits for the first to commit and then reads what it wrote.
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

DROP INDEX jobs_queue;

CREATE FUNCTION jobs_lock_entity(j jobs) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(
        j.tenant || chr(31) || j.target || chr(31) || j.entity_kind || chr(31) || j.entity_id, 9));
END;
$$;

CREATE FUNCTION jobs_block_behind() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM jobs_lock_entity(NEW);
    NEW.blocked := EXISTS (
        SELECT 1 FROM jobs e
        WHERE e.tenant = NEW.tenant AND e.target = NEW.target
          AND e.entity_kind = NEW.entity_kind AND e.entity_id = NEW.entity_id
          AND e.id < NEW.id AND e.state IN ('pending', 'running'));
    RETURN NEW;
END;
$$;
CREATE TRIGGER jobs_block_behind BEFORE INSERT ON jobs
    FOR EACH ROW WHEN (NEW.state = 'pending') EXECUTE FUNCTION jobs_block_behind();

CREATE FUNCTION jobs_unblock_next() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM jobs_lock_entity(NEW);
    UPDATE jobs SET blocked = FALSE
    WHERE blocked = TRUE AND id = (
        SELECT MIN(e.id) FROM jobs e
        WHERE e.tenant = NEW.tenant AND e.target = NEW.target
          AND e.entity_kind = NEW.entity_kind AND e.entity_id = NEW.entity_id
          AND e.state IN ('pending', 'running'));
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_unblock_next AFTER UPDATE OF state ON jobs
    FOR EACH ROW
    WHEN (OLD.state IN ('pending', 'running') AND NEW.state NOT IN ('pending', 'running'))
    EXECUTE FUNCTION jobs_unblock_next();

CREATE FUNCTION jobs_block_after_reopen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM jobs_lock_entity(NEW);
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
    RETURN NULL;
END;
$$;
CREATE TRIGGER jobs_block_after_reopen AFTER UPDATE OF state ON jobs
    FOR EACH ROW
    WHEN (OLD.state NOT IN ('pending', 'running') AND NEW.state IN ('pending', 'running'))
    EXECUTE FUNCTION jobs_block_after_reopen();
