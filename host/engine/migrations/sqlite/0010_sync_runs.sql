-- Sync runs: a persisted initial or full sync of one target, which queues one job per live
-- in-scope user, a chunk of users per transaction.
--
-- `cursor` is the id of the last user the run has reached (users are walked in id order); it
-- moves in the transaction that queues the chunk's jobs, so a run stopped anywhere continues
-- where it left off and queues no user twice. `total` is the tenant's live users when the run
-- started (an upper bound while it queues), set to `enqueued` when it has walked every user.
-- `finished` and `dead` count the run's jobs that reached a final state and those that are
-- dead letters; a trigger keeps them (and the state once every job is queued), so reading a
-- run's progress costs one row however many jobs it has.
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    state       TEXT    NOT NULL,          -- running | enqueued | done | failed
    cursor      TEXT,                      -- last user id reached; NULL before the first chunk
    enqueued    BIGINT  NOT NULL DEFAULT 0,
    total       BIGINT  NOT NULL,
    finished    BIGINT  NOT NULL DEFAULT 0,
    dead        BIGINT  NOT NULL DEFAULT 0,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT
);
CREATE INDEX sync_runs_target ON sync_runs (tenant, target, id);

-- The sync run a job belongs to (NULL: queued by a change, not by a run).
ALTER TABLE jobs ADD COLUMN sync_run BIGINT;

-- A run job's state change moves its run's counters; once the run has queued every job
-- (state no longer 'running') it is 'enqueued' while jobs remain, then 'done', or 'failed'
-- when some ended as dead letters (a replay reopens it).
CREATE TRIGGER jobs_sync_run_progress AFTER UPDATE OF state ON jobs
    WHEN NEW.sync_run IS NOT NULL AND OLD.state <> NEW.state
BEGIN
    UPDATE sync_runs SET
        finished = finished
            + (CASE WHEN NEW.state IN ('pending', 'running') THEN 0 ELSE 1 END)
            - (CASE WHEN OLD.state IN ('pending', 'running') THEN 0 ELSE 1 END),
        dead = dead
            + (CASE WHEN NEW.state = 'dead' THEN 1 ELSE 0 END)
            - (CASE WHEN OLD.state = 'dead' THEN 1 ELSE 0 END)
    WHERE id = NEW.sync_run;
    UPDATE sync_runs SET
        state = CASE WHEN finished < enqueued THEN 'enqueued'
                     WHEN dead > 0 THEN 'failed' ELSE 'done' END,
        finished_at = CASE WHEN finished < enqueued THEN NULL
                           ELSE COALESCE(finished_at, NEW.updated_at) END
    WHERE id = NEW.sync_run AND state <> 'running';
END;
