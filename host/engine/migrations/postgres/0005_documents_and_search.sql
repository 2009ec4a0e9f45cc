-- PostgreSQL form of sqlite/0005_documents_and_search.sql: the same tables and indexes; the live
-- counts are kept by a plpgsql trigger function, and search keys compare bytewise (COLLATE "C",
-- as in SQLite) so that prefix ranges and ordering do not depend on the database's locale.

ALTER TABLE local_users ADD COLUMN document TEXT;
ALTER TABLE local_groups ADD COLUMN document TEXT;

CREATE TABLE local_search_keys (
    tenant TEXT NOT NULL,
    kind   TEXT NOT NULL,          -- 'user' or 'group'
    attr   TEXT NOT NULL,
    value  TEXT COLLATE "C" NOT NULL,
    id     TEXT NOT NULL,
    PRIMARY KEY (tenant, kind, attr, value, id)
);
CREATE INDEX local_search_keys_entity ON local_search_keys (tenant, kind, id);

INSERT INTO local_search_keys (tenant, kind, attr, value, id)
    SELECT tenant, 'user', 'userName', lower(user_name), id FROM local_users WHERE deleted = FALSE;
INSERT INTO local_search_keys (tenant, kind, attr, value, id)
    SELECT tenant, 'group', 'displayName', lower(display_name), id
    FROM local_groups WHERE deleted = FALSE
    ON CONFLICT DO NOTHING;

CREATE TABLE local_group_members (
    tenant    TEXT NOT NULL,
    group_id  TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (tenant, group_id, member_id)
);
CREATE INDEX local_group_members_member ON local_group_members (tenant, member_id);

INSERT INTO local_group_members (tenant, group_id, member_id)
    SELECT g.tenant, g.id, m.value
    FROM local_groups g, jsonb_array_elements_text(g.members::jsonb) m(value)
    WHERE g.deleted = FALSE
    ON CONFLICT DO NOTHING;

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

-- Adds `delta` to the live count of (tenant, kind); the trigger's first argument is the kind.
CREATE FUNCTION local_entity_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    delta BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        delta := CASE WHEN NEW.deleted THEN 0 ELSE 1 END;
    ELSE
        delta := CASE WHEN NEW.deleted = OLD.deleted THEN 0 WHEN NEW.deleted THEN -1 ELSE 1 END;
    END IF;
    IF delta <> 0 THEN
        INSERT INTO local_entity_counts AS c (tenant, kind, live)
            VALUES (NEW.tenant, TG_ARGV[0], GREATEST(delta, 0))
            ON CONFLICT (tenant, kind) DO UPDATE SET live = c.live + delta;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER local_users_count AFTER INSERT OR UPDATE OF deleted ON local_users
    FOR EACH ROW EXECUTE FUNCTION local_entity_count_change('user');
CREATE TRIGGER local_groups_count AFTER INSERT OR UPDATE OF deleted ON local_groups
    FOR EACH ROW EXECUTE FUNCTION local_entity_count_change('group');

CREATE INDEX local_users_live ON local_users (tenant, id) WHERE deleted = FALSE;
CREATE INDEX local_groups_live ON local_groups (tenant, id) WHERE deleted = FALSE;

CREATE INDEX local_users_undocumented ON local_users (tenant, id)
    WHERE deleted = FALSE AND document IS NULL;
CREATE INDEX local_groups_undocumented ON local_groups (tenant, id)
    WHERE deleted = FALSE AND document IS NULL;

CREATE INDEX local_users_modified ON local_users (tenant, updated_at, id) WHERE deleted = FALSE;
CREATE INDEX local_users_created ON local_users (tenant, created_at, id) WHERE deleted = FALSE;
CREATE INDEX local_groups_modified ON local_groups (tenant, updated_at, id) WHERE deleted = FALSE;
CREATE INDEX local_groups_created ON local_groups (tenant, created_at, id) WHERE deleted = FALSE;
