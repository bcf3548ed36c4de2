-- +goose Up
CREATE TABLE workspaces (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_at bigint NOT NULL
);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY,
    workspace_id uuid NOT NULL REFERENCES workspaces (id),
    name         text NOT NULL,
    scopes       text NOT NULL,
    secret_hash  bytea NOT NULL UNIQUE,
    created_at   bigint NOT NULL,
    revoked_at   bigint,
    last_used_at bigint
);
CREATE INDEX api_keys_workspace ON api_keys (workspace_id, created_at);

-- Times are epoch milliseconds; body is the PublicConversation JSON exactly as imported
-- (text, not jsonb, so that key order and number spelling survive).
CREATE TABLE conversations (
    id              uuid PRIMARY KEY,
    workspace_id    uuid NOT NULL REFERENCES workspaces (id),
    bot_id          uuid,
    source          text NOT NULL,
    channel         text,
    created_at      bigint NOT NULL,
    last_message_at bigint NOT NULL,
    deleted_at      bigint,
    body            text NOT NULL
);
-- List walks this index in order within the window; filters narrow it further.
CREATE INDEX conversations_live ON conversations (workspace_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_live_bot ON conversations (workspace_id, bot_id, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_live_source ON conversations (workspace_id, source, last_message_at, id) WHERE deleted_at IS NULL;
CREATE INDEX conversations_deleted ON conversations (deleted_at) WHERE deleted_at IS NOT NULL;

-- +goose Down
DROP TABLE conversations;
DROP TABLE api_keys;
DROP TABLE workspaces;
