-- Safe hot swap of a target's connector (PostgreSQL form of sqlite/0006_hot_swap.sql: bytes are BYTEA).
--
-- `egress` is the target's stored egress policy (JSON {allow_loopback, allow_private}); a target
-- written before this migration reaches public addresses only, as it did. `origin` says who wrote
-- the current revision: 'config' (seeded from the configuration file, which may overwrite it at
-- the next start) or 'operator' (changed at run time: the database is then the state, and a
-- start keeps it).
ALTER TABLE targets ADD COLUMN egress TEXT NOT NULL DEFAULT '{}';
ALTER TABLE targets ADD COLUMN origin TEXT NOT NULL DEFAULT 'config';

-- Every revision of every target's configuration, so an operator can list them and roll back.
-- `spec` is the whole TargetSpec as JSON. Rows outlive their target only until it is deleted.
CREATE TABLE target_revisions (
    tenant     TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    revision   BIGINT NOT NULL,
    spec       TEXT   NOT NULL,
    origin     TEXT   NOT NULL,
    note       TEXT   NOT NULL,           -- what wrote it: put, seed, rollback
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, name, revision)
);

-- Connector components by content digest (hex SHA-256 of the bytes), so a target changed at run
-- time does not depend on a file that may move, and every server sharing the database can load it.
CREATE TABLE connector_components (
    digest   TEXT   NOT NULL PRIMARY KEY,
    bytes    BYTEA  NOT NULL,
    size     BIGINT NOT NULL,
    added_at BIGINT NOT NULL
);
