-- +goose Up
-- The deletion record: one row per conversation deleted, restored or purged, appended in the
-- transaction that made the change. No conversation content and no key secret; rows outlive
-- the conversation (a purge keeps them) until the record's retention prunes them. Times are
-- epoch milliseconds; key_id, key_name and request_id are NULL for an operator's change.
-- No foreign keys: the record is append-only history that must outlive what it names, and on
-- PostgreSQL a foreign key check would share-lock the workspace row from every delete.
CREATE TABLE audit_records (
    seq             INTEGER PRIMARY KEY,
    recorded_at     INTEGER NOT NULL,
    workspace_id    TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    operation       TEXT NOT NULL,
    key_id          TEXT,
    key_name        TEXT,
    request_id      TEXT
) STRICT;
-- fini-server audit walks a workspace's records in time order (the rowid, seq, breaks ties),
-- or one conversation's or one key's. The retention prunes from the start of the log in seq
-- order, which is append order: no index on time alone to keep up on every delete.
-- Every index leads with the workspace, which every query of the records names.
CREATE INDEX audit_records_workspace ON audit_records (workspace_id, recorded_at);
CREATE INDEX audit_records_conversation ON audit_records (workspace_id, conversation_id);
CREATE INDEX audit_records_key ON audit_records (workspace_id, key_id, recorded_at) WHERE key_id IS NOT NULL;

-- +goose Down
DROP TABLE audit_records;
