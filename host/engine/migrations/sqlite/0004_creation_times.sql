-- The time each user and group was created, which SCIM reports as `meta.created` and which no
-- later change moves. Rows written before this migration get their last change time, the best
-- that is known of them.
ALTER TABLE local_users ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE local_users SET created_at = updated_at;
ALTER TABLE local_groups ADD COLUMN created_at BIGINT NOT NULL DEFAULT 0;
UPDATE local_groups SET created_at = updated_at;
