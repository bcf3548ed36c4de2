-- +goose Up
-- Every key of a conversation names its workspace, as every query does: a lookup by
-- (workspace_id, id) is an exact primary-key search whatever the planner's statistics say,
-- and the schema is the one a database distributed by workspace needs (README: "Running on
-- a distributed PostgreSQL"). A conversation id is unique within its workspace.
CREATE TABLE conversations_by_workspace (
    id              TEXT NOT NULL,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
    bot_id          TEXT,
    source          TEXT NOT NULL,
    channel         TEXT,
    created_at      INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    deleted_at      INTEGER,
    body            TEXT NOT NULL,
    PRIMARY KEY (workspace_id, id)
) STRICT;
INSERT INTO conversations_by_workspace
    SELECT id, workspace_id, bot_id, source, channel, created_at, last_message_at, deleted_at, body
    FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_by_workspace RENAME TO conversations;
-- A soft delete writes the row, takes it out of the live index and puts it in the deleted
-- one: three B-trees. The filter indexes are not partial, so a delete leaves them alone; a
-- filtered list skips the deleted rows it meets there (the purge removes them for good).
CREATE INDEX conversations_live ON conversations (workspace_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_bot ON conversations (workspace_id, bot_id, last_message_at, id);
CREATE INDEX conversations_source ON conversations (workspace_id, source, last_message_at, id);
CREATE INDEX conversations_deleted ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;

-- +goose Down
CREATE TABLE conversations_by_id (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id),
    bot_id          TEXT,
    source          TEXT NOT NULL,
    channel         TEXT,
    created_at      INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    deleted_at      INTEGER,
    body            TEXT NOT NULL
) STRICT;
INSERT INTO conversations_by_id
    SELECT id, workspace_id, bot_id, source, channel, created_at, last_message_at, deleted_at, body
    FROM conversations;
DROP TABLE conversations;
ALTER TABLE conversations_by_id RENAME TO conversations;
CREATE INDEX conversations_live ON conversations (workspace_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_live_bot ON conversations (workspace_id, bot_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_live_source ON conversations (workspace_id, source, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_deleted ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;
