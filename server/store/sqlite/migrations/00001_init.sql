-- +goose Up
CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id),
    name         TEXT NOT NULL,
    scopes       TEXT NOT NULL,
    secret_hash  BLOB NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

-- Times are epoch milliseconds; body is the PublicConversation JSON exactly as imported.
CREATE TABLE conversations (
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
-- List walks this index in order within the window; filters narrow it further.
CREATE INDEX conversations_live ON conversations (workspace_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_live_bot ON conversations (workspace_id, bot_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_live_source ON conversations (workspace_id, source, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_deleted ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;

-- +goose Down
DROP TABLE conversations;
DROP TABLE api_keys;
DROP TABLE workspaces;
