-- +goose Up
-- The claim of an import in progress (sqlstore's Staging). Its conversations are written in
-- chunks, each a short transaction of its own, and take the rowids from first_rowid on: no
-- other statement adds conversations while a claim exists, since imports take turns. Every
-- statement on live conversations ignores the rows from first_rowid on while the claim
-- exists; the import publishes them all by deleting it, in one short transaction, or removes
-- them before deleting it. A claim whose import died (its process gave up the import slot)
-- is removed, rows first, by the next import or the next open. One row at most.
CREATE TABLE import_staging (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    first_rowid INTEGER NOT NULL,
    started_at  INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE import_staging;
