-- Durable provisioning engine: local entities, targets, the outbox and its audit log.
-- Every table is scoped by tenant. Timestamps are integer epoch milliseconds.
-- Only the DDL is backend-specific (the identity column of `jobs` and `attempts`); the queries
-- the host runs against these tables are portable to PostgreSQL.

CREATE TABLE local_users (
    tenant      TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    user_name   TEXT    NOT NULL,
    claims      TEXT    NOT NULL,          -- JSON object: claim URI -> [values]
    roles       TEXT    NOT NULL,          -- JSON array of role names
    version     BIGINT  NOT NULL,
    deleted     BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at  BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE UNIQUE INDEX local_users_name ON local_users (tenant, user_name) WHERE deleted = FALSE;

CREATE TABLE local_groups (
    tenant       TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    display_name TEXT    NOT NULL,
    members      TEXT    NOT NULL,         -- JSON array of local user ids
    version      BIGINT  NOT NULL,
    deleted      BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE targets (
    tenant             TEXT    NOT NULL,
    name               TEXT    NOT NULL,
    connector          TEXT    NOT NULL,   -- path of the component, or its content digest
    properties         TEXT    NOT NULL,   -- JSON object of non-secret values
    secret_refs        TEXT    NOT NULL,   -- JSON object: key -> "env:VAR" | "file:/path"
    claim_mappings     TEXT    NOT NULL,   -- JSON array of {target_field, claim, default_value}
    blocking           BOOLEAN NOT NULL DEFAULT FALSE,
    blocking_timeout_ms BIGINT NOT NULL,
    provisioning_roles TEXT    NOT NULL,   -- JSON array; empty = every user
    scope_filter       TEXT,               -- JSON scoping filter on user claims; NULL = all
    max_attempts       BIGINT  NOT NULL,
    backoff_base_ms    BIGINT  NOT NULL,
    backoff_cap_ms     BIGINT  NOT NULL,
    paused             BOOLEAN NOT NULL DEFAULT FALSE,
    pause_reason       TEXT,
    paused_until       BIGINT,             -- NULL while paused = until an operator resumes
    revision           BIGINT  NOT NULL,   -- bumped on every configuration change
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE provisioned_ids (
    tenant      TEXT   NOT NULL,
    target      TEXT   NOT NULL,
    entity_kind TEXT   NOT NULL,           -- 'user' | 'group'
    entity_id   TEXT   NOT NULL,
    remote_id   TEXT   NOT NULL,           -- only ever a value the target returned
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (tenant, target, entity_kind, entity_id)
);

CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,   -- global sequence; orders the jobs of one entity
    tenant          TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    entity_kind     TEXT    NOT NULL,
    entity_id       TEXT    NOT NULL,
    entity_name     TEXT    NOT NULL,      -- name at the time of the change (used by deletes)
    operation       TEXT    NOT NULL,      -- 'create' | 'update' | 'delete'
    changed_claims  TEXT    NOT NULL,      -- JSON array of claim URIs
    entity_version  BIGINT  NOT NULL,
    state           TEXT    NOT NULL,      -- pending | running | done | dead | coalesced | superseded
    attempts        BIGINT  NOT NULL DEFAULT 0,
    outcome_unknown BOOLEAN NOT NULL DEFAULT FALSE,
    due_at          BIGINT  NOT NULL,
    lease_owner     TEXT,
    lease_until     BIGINT,
    coalesced_into  BIGINT,
    remote_id       TEXT,
    error_kind      TEXT,
    error_code      TEXT,
    error_message   TEXT,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    finished_at     BIGINT
);
CREATE INDEX jobs_entity ON jobs (tenant, target, entity_kind, entity_id, id);
CREATE INDEX jobs_due ON jobs (state, due_at, id);
CREATE INDEX jobs_lease ON jobs (state, lease_until);

CREATE TABLE attempts (
    id          INTEGER PRIMARY KEY,
    job_id      BIGINT  NOT NULL,
    tenant      TEXT    NOT NULL,
    target      TEXT    NOT NULL,
    entity_kind TEXT    NOT NULL,
    entity_id   TEXT    NOT NULL,
    call        TEXT    NOT NULL,          -- 'create' | 'update' | 'delete' | 'lookup'
    outcome     TEXT    NOT NULL,          -- 'ok' | 'found' | 'absent' | error kind
    target_code TEXT,
    message     TEXT,
    remote_id   TEXT,
    started_at  BIGINT  NOT NULL,
    duration_ms BIGINT  NOT NULL
);
CREATE INDEX attempts_entity ON attempts (tenant, entity_kind, entity_id, id);
CREATE INDEX attempts_job ON attempts (job_id);
