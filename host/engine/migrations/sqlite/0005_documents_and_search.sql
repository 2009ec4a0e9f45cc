-- Entities that scale: the document an API stored with each user and group, the search keys it
-- asked to be indexed, group membership as rows, and live counts per tenant.

-- The resource as its API stored it (for SCIM: the whole normalised resource, JSON). The engine
-- never reads it; rows written before this migration, or by a caller that stores none, have
-- NULL and are rendered from their claims.
ALTER TABLE local_users ADD COLUMN document TEXT;
ALTER TABLE local_groups ADD COLUMN document TEXT;

-- Values a caller looks entities up by (SCIM: userName, externalId, emails, displayName),
-- normalised by the caller (lower-cased where the attribute compares in any case). Only live
-- entities have keys.
CREATE TABLE local_search_keys (
    tenant TEXT NOT NULL,
    kind   TEXT NOT NULL,          -- 'user' or 'group'
    attr   TEXT NOT NULL,
    value  TEXT NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, attr, value, id)
) WITHOUT ROWID;
CREATE INDEX local_search_keys_entity ON local_search_keys (tenant, kind, id);

INSERT INTO local_search_keys (tenant, kind, attr, value, id)
    SELECT tenant, 'user', 'userName', lower(user_name), id FROM local_users WHERE deleted = FALSE;
INSERT OR IGNORE INTO local_search_keys (tenant, kind, attr, value, id)
    SELECT tenant, 'group', 'displayName', lower(display_name), id
    FROM local_groups WHERE deleted = FALSE;

-- Group membership as rows, so "the groups of a user" is an index lookup. Mirrors the
-- `members` column of live groups.
CREATE TABLE local_group_members (
    tenant    TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (tenant, group_id, member_id)
) WITHOUT ROWID;
CREATE INDEX local_group_members_member ON local_group_members (tenant, member_id);

INSERT OR IGNORE INTO local_group_members (tenant, group_id, member_id)
    SELECT g.tenant, g.id, m.value FROM local_groups g, json_each(g.members) m
    WHERE g.deleted = FALSE;

-- Live users and groups per tenant, kept by triggers, so a list needs no count over the tenant.
CREATE TABLE local_entity_counts (
    tenant TEXT   NOT NULL,
    kind   TEXT   NOT NULL,
    live   BIGINT NOT NULL,
    PRIMARY KEY (tenant, kind)
);
INSERT INTO local_entity_counts (tenant, kind, live)
    SELECT tenant, 'user', count(*) FROM local_users WHERE deleted = FALSE GROUP BY tenant;
INSERT INTO local_entity_counts (tenant, kind, live)
    SELECT tenant, 'group', count(*) FROM local_groups WHERE deleted = FALSE GROUP BY tenant;

CREATE TRIGGER local_users_count_insert AFTER INSERT ON local_users WHEN NEW.deleted = FALSE
BEGIN
    INSERT INTO local_entity_counts (tenant, kind, live) VALUES (NEW.tenant, 'user', 1)
        ON CONFLICT (tenant, kind) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER local_users_count_update AFTER UPDATE OF deleted ON local_users
    WHEN OLD.deleted <> NEW.deleted
BEGIN
    INSERT INTO local_entity_counts (tenant, kind, live)
        VALUES (NEW.tenant, 'user', CASE WHEN NEW.deleted THEN 0 ELSE 1 END)
        ON CONFLICT (tenant, kind)
        DO UPDATE SET live = live + CASE WHEN NEW.deleted THEN -1 ELSE 1 END;
END;
CREATE TRIGGER local_groups_count_insert AFTER INSERT ON local_groups WHEN NEW.deleted = FALSE
BEGIN
    INSERT INTO local_entity_counts (tenant, kind, live) VALUES (NEW.tenant, 'group', 1)
        ON CONFLICT (tenant, kind) DO UPDATE SET live = live + 1;
END;
CREATE TRIGGER local_groups_count_update AFTER UPDATE OF deleted ON local_groups
    WHEN OLD.deleted <> NEW.deleted
BEGIN
    INSERT INTO local_entity_counts (tenant, kind, live)
        VALUES (NEW.tenant, 'group', CASE WHEN NEW.deleted THEN 0 ELSE 1 END)
        ON CONFLICT (tenant, kind)
        DO UPDATE SET live = live + CASE WHEN NEW.deleted THEN -1 ELSE 1 END;
END;

-- Live entities by id: what a search key or membership lookup probes, and paging by id. Without
-- it SQLite probes by scanning a time index of the whole tenant.
CREATE INDEX local_users_live ON local_users (tenant, id) WHERE deleted = FALSE;
CREATE INDEX local_groups_live ON local_groups (tenant, id) WHERE deleted = FALSE;

-- Live rows still without a document, which the server indexes once at start; empty afterwards.
CREATE INDEX local_users_undocumented ON local_users (tenant, id)
    WHERE deleted = FALSE AND document IS NULL;
CREATE INDEX local_groups_undocumented ON local_groups (tenant, id)
    WHERE deleted = FALSE AND document IS NULL;

-- Paging by modification or creation time.
CREATE INDEX local_users_modified ON local_users (tenant, updated_at, id) WHERE deleted = FALSE;
CREATE INDEX local_users_created ON local_users (tenant, created_at, id) WHERE deleted = FALSE;
CREATE INDEX local_groups_modified ON local_groups (tenant, updated_at, id) WHERE deleted = FALSE;
CREATE INDEX local_groups_created ON local_groups (tenant, created_at, id) WHERE deleted = FALSE;
