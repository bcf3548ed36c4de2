package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// Deletes in one statement, for engines whose common table expressions may change data
// (PostgreSQL). A delete is then one round trip, not six (a check, BEGIN, the lock, the
// update, the records, COMMIT): the statement is its own transaction, all or nothing, and
// with several clients on a few cores the round trips, not the rows, were the cost.

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

// deleteOneStatement soft-deletes one conversation and records it, if it was live.
func (db *DB) deleteOneStatement(ctx context.Context, workspaceID, id uuid.UUID, actor store.Actor) error {
	now := db.now()
	query := `WITH deleted AS (
		UPDATE conversations SET deleted_at = ? WHERE workspace_id = ? AND id = ? AND deleted_at IS NULL ` + returningChanged + `)
		` + recordSelect
	args := append([]any{now, workspaceID.String(), id.String()}, recordArgs(now, actor)...)
	return db.retried(ctx, func() error {
		_, err := db.exec(ctx, query, args...)
		return db.classify(err)
	})
}

// bulkDeleteOneStatement locks the live rows of ids in id order (so that concurrent bulks
// over overlapping ids queue rather than deadlock), deletes and records them only if all are
// live, and returns the live ones: fewer than ids means that nothing changed.
func (db *DB) bulkDeleteOneStatement(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID, actor store.Actor) error {
	now := db.now()
	in := inPlaceholders(len(ids))
	query := `WITH live AS (
			SELECT id FROM conversations WHERE workspace_id = ? AND deleted_at IS NULL AND id IN ` + in + `
			ORDER BY id` + db.Dialect.ForUpdate + `
		), deleted AS (
			UPDATE conversations c SET deleted_at = ? FROM live
			WHERE c.workspace_id = ? AND c.id = live.id AND (SELECT count(*) FROM live) = ?
			` + `RETURNING c.workspace_id, c.id
		), recorded AS (
			` + recordSelect + `
		)
		SELECT id FROM live`
	args := append([]any{workspaceID.String()}, idArgs(ids)...)
	args = append(args, now, workspaceID.String(), len(ids))
	args = append(args, recordArgs(now, actor)...)
	var live map[uuid.UUID]bool
	err := db.retried(ctx, func() error {
		var err error
		live, err = db.liveIDsBy(ctx, db.queryWrite, query, args)
		return err
	})
	if err != nil {
		return fmt.Errorf("bulk delete %d conversations: %w", len(ids), err)
	}
	if missing := notIn(ids, live); len(missing) > 0 {
		return fmt.Errorf("bulk delete %d conversations: %w", len(ids), &store.NotAccessibleError{IDs: missing})
	}
	return nil
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
