-- +goose Up
-- Every key of a conversation names its workspace, as every query does: the schema a
-- PostgreSQL distributed by workspace (Citus) needs, where a primary or unique key must hold
-- the distribution column (README: "Running on a distributed PostgreSQL"). A conversation id
-- is unique within its workspace.
ALTER TABLE conversations DROP CONSTRAINT conversations_pkey;
ALTER TABLE conversations ADD PRIMARY KEY (workspace_id, id);

-- +goose Down
ALTER TABLE conversations DROP CONSTRAINT conversations_pkey;
ALTER TABLE conversations ADD PRIMARY KEY (id);
