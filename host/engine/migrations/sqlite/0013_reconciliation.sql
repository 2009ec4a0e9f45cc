-- Reconciliation: comparing a target's remote users with the local users it should hold.
--
-- A target's reconciliation policy (`report`: drift is only reported; `repair`: each drift also
-- queues the job that fixes it) and how often the server runs it (NULL: on demand only).
ALTER TABLE targets ADD COLUMN reconcile_policy TEXT NOT NULL DEFAULT 'report';
ALTER TABLE targets ADD COLUMN reconcile_every_minutes BIGINT;

-- One row per run: where it is and what it saw.
CREATE TABLE reconcile_runs (
    id          INTEGER PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    state       TEXT    NOT NULL,          -- running | done | failed
    policy      TEXT    NOT NULL,          -- report | repair
    remote_seen BIGINT  NOT NULL DEFAULT 0,
    local_seen  BIGINT  NOT NULL DEFAULT 0,
    drift       BIGINT  NOT NULL DEFAULT 0,
    error       TEXT,
    started_at  BIGINT  NOT NULL,
    finished_at BIGINT
);
CREATE INDEX reconcile_runs_target ON reconcile_runs (tenant, target, id);

-- Each drift a run found, and the job queued to fix it (repair policy).
CREATE TABLE reconcile_drift (
    id          INTEGER PRIMARY KEY,
    run_id      BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,          -- missing_remotely | unknown_remotely | field_differs | active_differs
    entity_id   TEXT,
    user_name   TEXT,
    remote_id   TEXT,
    field       TEXT,
    expected    TEXT,
    actual      TEXT,
    repair_job  BIGINT
);
CREATE INDEX reconcile_drift_run ON reconcile_drift (run_id, id);

-- The remote ids a running run has listed, so its walk over the local users finds those whose
-- remote user is gone without holding every remote id in memory; emptied when the run ends.
CREATE TABLE reconcile_seen (
    run_id      BIGINT  NOT NULL,
    remote_id   TEXT    NOT NULL,
    PRIMARY KEY (run_id, remote_id)
);
