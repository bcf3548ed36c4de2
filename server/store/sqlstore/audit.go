package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// The deletion record is appended by the statement's own transaction: a change that commits
// has its records, and one that rolls back (a refused bulk, a crash) has none. Which rows a
// change touched is what its UPDATE or DELETE returns (RETURNING, which SQLite and
// PostgreSQL both speak), so a delete of a missing, already deleted or foreign id records
// nothing.

// changed is a conversation that a statement changed.
type changed struct{ workspace, id string }

// returningChanged ends an UPDATE or DELETE of conversations whose rows txChanged reads.
const returningChanged = `RETURNING workspace_id, id`

// txChanged runs an UPDATE or DELETE ending in returningChanged, in tx, and returns the rows
// it changed.
func (db *DB) txChanged(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]changed, error) {
	rows, err := db.txQuery(ctx, tx, query, args...)
	if err != nil {
		return nil, db.classify(fmt.Errorf("change conversations: %w", err))
	}
	defer rows.Close()
	var cs []changed
	for rows.Next() {
		var c changed
		if err := rows.Scan(&c.workspace, &c.id); err != nil {
			return nil, db.classify(fmt.Errorf("change conversations: %w", err))
		}
		cs = append(cs, c)
	}
	if err := rows.Err(); err != nil {
		return nil, db.classify(fmt.Errorf("change conversations: %w", err))
	}
	return cs, nil
}

const recordColumns = `recorded_at, workspace_id, conversation_id, operation, key_id, key_name, request_id`

// recordsPerInsert bounds the rows of one INSERT: a bulk's records (at most 50, the spec's
// maximum) take one statement, and a purge batch's take a few of the same family, so that
// the statements prepared stay few.
const recordsPerInsert = 50

// appendRecords appends, in tx, one record by actor at time at for each conversation of cs.
func (db *DB) appendRecords(ctx context.Context, tx *sql.Tx, at int64, actor store.Actor, cs []changed) error {
	var keyID, keyName, requestID any // NULL for an operator's change
	if actor.KeyID != uuid.Nil {
		keyID, keyName = actor.KeyID.String(), actor.KeyName
	}
	if actor.RequestID != "" {
		requestID = actor.RequestID
	}
	for chunk := range slices.Chunk(cs, recordsPerInsert) {
		args := make([]any, 0, 7*len(chunk))
		for _, c := range chunk {
			args = append(args, at, c.workspace, c.id, actor.Operation, keyID, keyName, requestID)
		}
		values := strings.TrimSuffix(strings.Repeat(inPlaceholders(7)+", ", len(chunk)), ", ")
		if _, err := db.txExec(ctx, tx, `INSERT INTO audit_records (`+recordColumns+`) VALUES `+values, args...); err != nil {
			return db.classify(fmt.Errorf("append %d deletion records: %w", len(chunk), err))
		}
	}
	return nil
}

// auditPageSize is how many records AuditRecords reads and holds at a time.
const auditPageSize = 1000

// auditRecord is a record and its place in the log, which pages resume after.
type auditRecord struct {
	store.AuditRecord
	seq int64
}

// AuditRecords implements store.Store. Each page is its own short query, resuming after the
// last record of the one before (keyset paging on recorded_at, seq), so that no snapshot is
// held open for the whole walk: a long export never stops SQLite's checkpoints or
// PostgreSQL's vacuum.
func (db *DB) AuditRecords(ctx context.Context, q store.AuditQuery) iter.Seq2[store.AuditRecord, error] {
	return func(yield func(store.AuditRecord, error) bool) {
		page := make([]auditRecord, 0, auditPageSize)
		var after *auditRecord
		for {
			var err error
			if page, err = db.auditPage(ctx, q, after, page[:0]); err != nil {
				yield(store.AuditRecord{}, err)
				return
			}
			for _, r := range page {
				if !yield(r.AuditRecord, nil) {
					return
				}
			}
			if len(page) < auditPageSize {
				return
			}
			last := page[len(page)-1]
			after = &last
		}
	}
}

// auditPage appends to page the records of q after the given one (from the start when nil),
// within the store's deadline.
func (db *DB) auditPage(ctx context.Context, q store.AuditQuery, after *auditRecord, page []auditRecord) (_ []auditRecord, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	// As in listFilter, the time range is one inclusive-exclusive pair that bounds the index
	// scan, and the tie on seq is a separate term.
	lo := q.Since
	if after != nil {
		lo = max(lo, after.At)
	}
	where := `workspace_id = ? AND recorded_at >= ? AND recorded_at < ?`
	args := []any{q.WorkspaceID.String(), lo, q.Until}
	if after != nil {
		where += ` AND (recorded_at > ? OR seq > ?)`
		args = append(args, after.At, after.seq)
	}
	if q.ConversationID != nil {
		where += ` AND conversation_id = ?`
		args = append(args, q.ConversationID.String())
	}
	if q.KeyID != nil {
		where += ` AND key_id = ?`
		args = append(args, q.KeyID.String())
	}
	rows, err := db.query(ctx, `SELECT seq, `+recordColumns+` FROM audit_records WHERE `+where+
		` ORDER BY recorded_at, seq LIMIT ?`, append(args, auditPageSize)...)
	if err != nil {
		return page, db.classify(fmt.Errorf("read deletion records: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return page, db.classify(fmt.Errorf("read deletion records: %w", err))
		}
		page = append(page, r)
	}
	if err := rows.Err(); err != nil {
		return page, db.classify(fmt.Errorf("read deletion records: %w", err))
	}
	return page, nil
}

func scanRecord(sc interface{ Scan(...any) error }) (auditRecord, error) {
	var (
		r                         auditRecord
		workspace, conversation   string
		keyID, keyName, requestID sql.NullString
	)
	if err := sc.Scan(&r.seq, &r.At, &workspace, &conversation, &r.Operation, &keyID, &keyName, &requestID); err != nil {
		return r, err
	}
	var err error
	if r.WorkspaceID, err = uuid.Parse(workspace); err != nil {
		return r, fmt.Errorf("parse workspace id %q: %w", workspace, err)
	}
	if r.ConversationID, err = uuid.Parse(conversation); err != nil {
		return r, fmt.Errorf("parse conversation id %q: %w", conversation, err)
	}
	if keyID.Valid {
		if r.KeyID, err = uuid.Parse(keyID.String); err != nil {
			return r, fmt.Errorf("parse key id %q: %w", keyID.String, err)
		}
	}
	r.KeyName, r.RequestID = keyName.String, requestID.String
	return r, nil
}

// PruneAuditRecords implements store.Store. Records are appended with the time of their
// transaction, so the log in seq order is in time order but for the few milliseconds that
// concurrent transactions (or replicas' clocks) may differ by: each batch takes the oldest
// records by seq and removes those made before the cut-off, and the pruning stops at the
// first record that is not. A record is thus kept at least the retention, and at most that
// difference longer. The walk needs no index on time that every delete would update.
func (db *DB) PruneAuditRecords(ctx context.Context, before int64, batch int) (int64, error) {
	if batch < 1 {
		return 0, fmt.Errorf("prune deletion records: batch of %d rows", batch)
	}
	var total int64
	for {
		n, err := db.pruneBatch(ctx, before, batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("prune deletion records: %w", err)
		}
		if n < int64(batch) {
			return total, nil
		}
	}
}

// pruneBatch removes at most batch of the oldest records made before the given time, within
// the store's deadline.
func (db *DB) pruneBatch(ctx context.Context, before int64, batch int) (_ int64, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	res, err := db.exec(ctx, `DELETE FROM audit_records WHERE recorded_at < ? AND seq IN
		(SELECT seq FROM audit_records ORDER BY seq LIMIT ?)`, before, batch)
	if err != nil {
		return 0, db.classify(err)
	}
	return res.RowsAffected()
}
