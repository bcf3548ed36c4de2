package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// Deletes in one statement, for engines whose common table expressions may change data
// (PostgreSQL). A delete is then one round trip, not seven (a check, BEGIN, the key, the
// lock, the update, the records, COMMIT): the statement is its own transaction, all or
// nothing, and with several clients on a few cores the round trips, not the rows, were the
// cost. Its WITH query named key checks the actor's key in that same transaction.

// recordSelect is the SELECT list that turns the rows a CTE named deleted returned into
// deletion records; its placeholders are recordArgs.
const recordSelect = `INSERT INTO audit_records (` + recordColumns + `)
	SELECT ?, workspace_id, id, ?, ?, ?, ? FROM deleted`

// recordArgs are the values of recordSelect's placeholders.
func recordArgs(at int64, actor store.Actor) []any {
	var keyID, keyName, requestID any // NULL for an operator's change
	if actor.KeyID != uuid.Nil {
		keyID, keyName = actor.KeyID.String(), actor.KeyName
	}
	if actor.RequestID != "" {
		requestID = actor.RequestID
	}
	return []any{at, actor.Operation, keyID, keyName, requestID}
}

// keyCTE is the WITH query named key that holds one row when actor may write: its API key
// exists and is not revoked (validKey, which share-locks the key's row for the statement's
// transaction), or it is an operator, whose change names no key.
func (db *DB) keyCTE(actor store.Actor) (string, []any) {
	if actor.KeyID == uuid.Nil {
		return `key AS (SELECT 1)`, nil
	}
	return `key AS (` + db.validKey() + `)`, []any{actor.KeyID.String()}
}

// deleteOneStatement soft-deletes one conversation and records it, if it was live and the
// actor's key is valid.
func (db *DB) deleteOneStatement(ctx context.Context, workspaceID, id uuid.UUID, actor store.Actor) error {
	now := db.now()
	key, args := db.keyCTE(actor)
	query := `WITH ` + key + `, deleted AS (
		UPDATE conversations SET deleted_at = ? WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL
			AND EXISTS (SELECT 1 FROM key) ` + returningChanged + `
		), recorded AS (
			` + recordSelect + `
		)
		SELECT EXISTS (SELECT 1 FROM key)`
	args = append(args, now, workspaceID.String(), id.String())
	args = append(args, recordArgs(now, actor)...)
	var valid bool
	err := db.retried(ctx, func() error {
		rows, err := db.queryWrite(ctx, query, args...)
		if err != nil {
			return db.classify(err)
		}
		defer rows.Close()
		if !rows.Next() {
			return db.classify(fmt.Errorf("no row: %w", rows.Err()))
		}
		if err := rows.Scan(&valid); err != nil {
			return db.classify(err)
		}
		return db.classify(rows.Close())
	})
	if err != nil {
		return err
	}
	if !valid {
		return fmt.Errorf("key %s: %w", actor.KeyID, store.ErrKeyRevoked)
	}
	return nil
}

// bulkDeleteOneStatement locks the live rows of ids in id order (so that concurrent bulks
// over overlapping ids queue rather than deadlock), deletes and records them only if the
// actor's key is valid and all are live, and says which: with a revoked key, nothing is
// locked or changed; fewer live rows than ids means that nothing changed.
func (db *DB) bulkDeleteOneStatement(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID, actor store.Actor) error {
	now := db.now()
	in := inPlaceholders(len(ids))
	key, args := db.keyCTE(actor)
	query := `WITH ` + key + `, live AS (
			SELECT id FROM conversations WHERE workspace_id = ? AND deleted_at IS NULL AND id IN ` + in + `
				AND EXISTS (SELECT 1 FROM key)
			ORDER BY id` + db.Dialect.ForUpdate + `
		), deleted AS (
			UPDATE conversations c SET deleted_at = ? FROM live
			WHERE c.workspace_id = ? AND c.id = live.id AND (SELECT count(*) FROM live) = ?
			` + `RETURNING c.workspace_id, c.id
		), recorded AS (
			` + recordSelect + `
		)
		SELECT EXISTS (SELECT 1 FROM key), live.id FROM (SELECT 1) AS one LEFT JOIN live ON true`
	args = append(args, workspaceID.String())
	args = append(args, idArgs(ids)...)
	args = append(args, now, workspaceID.String(), len(ids))
	args = append(args, recordArgs(now, actor)...)
	var (
		valid bool
		live  map[uuid.UUID]bool
	)
	err := db.retried(ctx, func() error {
		var err error
		valid, live, err = db.scanBulk(ctx, query, args)
		return err
	})
	if err != nil {
		return fmt.Errorf("bulk delete %d conversations: %w", len(ids), err)
	}
	if !valid {
		return fmt.Errorf("bulk delete %d conversations: key %s: %w", len(ids), actor.KeyID, store.ErrKeyRevoked)
	}
	if missing := notIn(ids, live); len(missing) > 0 {
		return fmt.Errorf("bulk delete %d conversations: %w", len(ids), &store.NotAccessibleError{IDs: missing})
	}
	return nil
}

// scanBulk runs the bulk delete's statement and reads its rows: whether the key was valid,
// and the ids found live (each with the key's validity; one row with no id when none).
func (db *DB) scanBulk(ctx context.Context, query string, args []any) (valid bool, live map[uuid.UUID]bool, err error) {
	rows, err := db.queryWrite(ctx, query, args...)
	if err != nil {
		return false, nil, db.classify(fmt.Errorf("check conversations: %w", err))
	}
	defer rows.Close()
	live = map[uuid.UUID]bool{}
	for rows.Next() {
		var id *string
		if err := rows.Scan(&valid, &id); err != nil {
			return false, nil, db.classify(fmt.Errorf("scan conversation id: %w", err))
		}
		if id == nil {
			continue
		}
		parsed, err := uuid.Parse(*id)
		if err != nil {
			return false, nil, fmt.Errorf("parse conversation id %q: %w", *id, err)
		}
		live[parsed] = true
	}
	if err := rows.Err(); err != nil {
		return false, nil, db.classify(fmt.Errorf("check conversations: %w", err))
	}
	return valid, live, nil
}

// retried runs fn again after a transient conflict (deadlock, serialization failure), at
// most maxAttempts times, as inTx does for a transaction.
func (db *DB) retried(ctx context.Context, fn func() error) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if err = fn(); err == nil || !db.Dialect.Retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * time.Millisecond)
	}
	return err
}
