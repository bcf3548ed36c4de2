-- +goose Up
-- Every key of a conversation names its workspace, as every query does: the schema a
-- PostgreSQL distributed by workspace (Citus) needs, where a primary or unique key must hold
-- the distribution column (README: "Running on a distributed PostgreSQL"). A conversation id
-- is unique within its workspace.
ALTER TABLE conversations DROP CONSTRAINT conversations_pkey;
ALTER TABLE conversations ADD PRIMARY KEY (workspace_id, id);
-- A soft delete updates the row, takes it out of the live index and puts it in the deleted
-- one. The filter indexes are not partial, so a delete leaves them alone; a filtered list
-- skips the deleted rows it meets there (the purge removes them for good).
DROP INDEX conversations_live_bot;
DROP INDEX conversations_live_source;
CREATE INDEX conversations_bot ON conversations (workspace_id, bot_id, last_message_at, id);
CREATE INDEX conversations_source ON conversations (workspace_id, source, last_message_at, id);

-- +goose Down
DROP INDEX conversations_bot;
DROP INDEX conversations_source;
CREATE INDEX conversations_live_bot ON conversations (workspace_id, bot_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_live_source ON conversations (workspace_id, source, last_message_at, id) WHERE deleted_at IS NULL;
ALTER TABLE conversations DROP CONSTRAINT conversations_pkey;
ALTER TABLE conversations ADD PRIMARY KEY (id);
