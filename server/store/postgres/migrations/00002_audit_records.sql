-- +goose Up
-- The deletion record: one row per conversation deleted, restored or purged, appended in the
-- transaction that made the change. No conversation content and no key secret; rows outlive
-- the conversation (a purge keeps them) until the record's retention prunes them. Times are
-- epoch milliseconds; key_id, key_name and request_id are NULL for an operator's change.
-- No foreign keys: the record is append-only history that must outlive what it names, and on
-- PostgreSQL a foreign key check would share-lock the workspace row from every delete.
CREATE TABLE audit_records (
    seq             bigint GENERATED ALWAYS AS IDENTITY,
    recorded_at     bigint NOT NULL,
    workspace_id    uuid NOT NULL,
    conversation_id uuid NOT NULL,
    operation       text NOT NULL,
    key_id          uuid,
    key_name        text,
    request_id      text,
    -- The workspace in the key, as every query of the records names it: the key a table
    -- distributed by workspace needs (README: "Running on a distributed PostgreSQL").
    PRIMARY KEY (workspace_id, seq)
);
-- fini-server audit walks a workspace's records in time order (seq breaks ties), or one
-- conversation's or one key's. The retention prunes from the start of the log in seq order,
-- which is append order: no index on time alone to keep up on every delete.
CREATE INDEX audit_records_workspace ON audit_records (workspace_id, recorded_at, seq);
CREATE INDEX audit_records_conversation ON audit_records (workspace_id, conversation_id);
CREATE INDEX audit_records_key ON audit_records (workspace_id, key_id, recorded_at, seq) WHERE key_id IS NOT NULL;
-- The retention prunes from the start of the log, in seq order across workspaces; seq only
-- grows, so this index is appended to at its end.
CREATE INDEX audit_records_seq ON audit_records (seq);

-- +goose Down
DROP TABLE audit_records;
