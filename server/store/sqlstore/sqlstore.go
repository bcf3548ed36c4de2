// Package sqlstore implements store.Store once, in SQL that SQLite and PostgreSQL both speak.
// The engine packages supply the connections and a Dialect for what differs: placeholders,
// row locking, and which driver errors mean what. It depends on store only.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// Dialect is what differs between engines.
type Dialect struct {
	// Rebind turns the `?` placeholders of a query into the engine's own.
	Rebind func(query string) string
	// ForUpdate is appended to the SELECT that locks a bulk delete's rows, or empty where the
	// transaction already holds the only write lock (SQLite).
	ForUpdate string
	// ForShare is appended to the SELECT by which a delete checks its API key (keys.go), or
	// empty where the transaction already holds the only write lock (SQLite).
	ForShare string
	// Classify maps a driver error to a store sentinel (wrapping it), or returns it unchanged.
	Classify func(err error) error
	// Retryable reports a transient conflict (deadlock, serialization failure, busy) after
	// which the whole transaction may simply run again.
	Retryable func(err error) bool
	// CachesStatements is true when the driver keeps prepared statements itself, so that
	// this package must not prepare them again.
	CachesStatements bool
	// ChangingCTEs is true where a WITH clause may update and insert (PostgreSQL): deletes
	// and their records then take one statement, one round trip (onestatement.go).
	ChangingCTEs bool
	// Copy, when set, inserts rows into table in one transaction of its own by the engine's
	// bulk path (PostgreSQL's COPY); without it, imports use multi-row INSERTs.
	// The rows stream: a row error aborts the COPY, which then stores nothing.
	Copy func(ctx context.Context, db *sql.DB, table string, columns []string, rows iter.Seq2[[]any, error]) error
	// PurgeLock, when set, is the query of one boolean that each purge batch runs first in its
	// transaction: true when the batch holds the purge lock until it ends, false when another
	// process holds it. Empty where a write transaction already excludes every other writer
	// (SQLite).
	PurgeLock string
	// AfterImport, when set, runs once an import committed (PostgreSQL: ANALYZE). A table
	// just filled has no statistics, and until autovacuum gathers some the planner may
	// read a lookup by (workspace_id, id) from the live-list index, scanning the workspace.
	AfterImport string
}

// DB is a store.Store over database/sql. Reads go to Read and writes to Write, which may be
// the same pool; SQLite uses one writer connection beside a pool of readers.
type DB struct {
	Read, Write *sql.DB
	Dialect     Dialect
	// Now returns the current time; tests may replace it.
	Now func() time.Time
	// Timeout bounds each call's wait for the database (deadline.go); 0 means no bound.
	Timeout time.Duration
	// WriteGate, when set, admits one writer at a time in arrival order. SQLite has a single
	// writer connection, and database/sql hands a freed connection to an arbitrary waiter,
	// which under contention leaves some requests waiting many turns (a long latency tail).
	WriteGate chan struct{}
	// OnClose, when set, runs before the pools close (SQLite stops its checkpointer).
	OnClose func() error
	// Staging, when set, is how imports are written without holding the one writer for their
	// whole length (staging.go).
	Staging *Staging
	// AfterPurge, when set, runs after each purge batch that removed rows (last false) and
	// after the purge's last batch (last true): then it must erase the bytes of the purged
	// rows that the engine still keeps in its files (SQLite truncates its write-ahead log,
	// which after each batch it only restarts, so that it stays small for as long as a large
	// purge runs). A failure is retried by the next purge.
	AfterPurge func(ctx context.Context, last bool) error

	stmts     stmts
	eraseOwed atomic.Bool
	// Group commit (groupcommit.go): grouping says it runs. Under groupMu: the writes
	// waiting for a group, whether a leader runs, whether Close came, and what Close waits
	// on for the leader to finish.
	grouping    bool
	groupMu     sync.Mutex
	queue       []*groupWrite
	leading     bool
	groupClosed bool
	noLeader    chan struct{}
	// sharingUntil is when group commit stops leaving turns to another process's import
	// (groupcommit.go); only the leader reads and writes it.
	sharingUntil time.Time
}

var _ store.Store = (*DB)(nil)

// maxAttempts bounds the retries of a transaction that hit a transient conflict.
const maxAttempts = 5

func (db *DB) now() int64 { return db.Now().UnixMilli() }

func (db *DB) q(query string) string { return db.Dialect.Rebind(query) }

// visible is the condition that hides the rows of an import not yet published, to AND to
// every statement on live conversations; empty where imports are one transaction.
func (db *DB) visible() string {
	if db.Staging == nil {
		return ""
	}
	return db.Staging.Visible
}

func (db *DB) classify(err error) error {
	if err == nil {
		return nil
	}
	return db.Dialect.Classify(err)
}

// inPlaceholders returns "(?, ?, ...)" with n placeholders.
func inPlaceholders(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

// txFunc is the work of a write transaction. It must use the ctx it is given, not one of its
// own: a transaction shared by a group of writes (groupcommit.go) must not be interrupted by
// one request's cancellation.
type txFunc func(ctx context.Context, tx *sql.Tx) error

// inTx runs fn in a write transaction, again after a transient conflict, at most maxAttempts times.
func (db *DB) inTx(ctx context.Context, fn txFunc) error {
	var err error
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		err = db.tryTx(ctx, fn)
		if err == nil || !db.Dialect.Retryable(err) || ctx.Err() != nil {
			return err
		}
		time.Sleep(time.Duration(attempt*attempt) * time.Millisecond)
	}
	return err
}

// enterWrite waits for the write gate, if any; the returned func leaves it.
func (db *DB) enterWrite(ctx context.Context) (func(), error) {
	if db.WriteGate == nil {
		return func() {}, nil
	}
	select {
	case db.WriteGate <- struct{}{}:
		return func() { <-db.WriteGate }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// beginWrite enters the write gate and begins a transaction on the writer (begin); leave
// exits the gate, after the transaction ends. began is how long the BEGIN took: long when
// another process's writer held the write lock.
func (db *DB) beginWrite(ctx context.Context) (tx *sql.Tx, leave func(), began time.Duration, err error) {
	leave, err = db.enterWrite(ctx)
	if err != nil {
		return nil, nil, 0, err
	}
	start := time.Now()
	tx, err = db.begin(ctx)
	began = time.Since(start)
	if err != nil {
		leave()
		return nil, nil, began, err
	}
	return tx, leave, began, nil
}

// begin begins a transaction on the writer, once the statements earlier transactions ran
// unprepared are prepared. The caller is in the write gate. The transaction ends, rolled
// back, when ctx does.
func (db *DB) begin(ctx context.Context) (*sql.Tx, error) {
	db.preparePending(ctx)
	tx, err := db.Write.BeginTx(ctx, nil)
	if err != nil {
		return nil, db.classify(fmt.Errorf("begin: %w", err))
	}
	return tx, nil
}

func (db *DB) tryTx(ctx context.Context, fn txFunc) error {
	tx, leave, _, err := db.beginWrite(ctx)
	if err != nil {
		return err
	}
	defer leave()
	if err := fn(ctx, tx); err != nil {
		_ = tx.Rollback() // the error that made us roll back is the one worth reporting
		return err
	}
	if err := tx.Commit(); err != nil {
		return db.classify(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// DeleteConversation implements store.Store: the update returns the row it deleted, if any,
// and exactly that row's record is appended in the same transaction.
func (db *DB) DeleteConversation(ctx context.Context, workspaceID, id uuid.UUID, actor store.Actor) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	if db.Dialect.ChangingCTEs {
		if err := db.deleteOneStatement(ctx, workspaceID, id, actor); err != nil {
			return fmt.Errorf("delete conversation %s: %w", id, err)
		}
		return nil
	}
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.checkKey(ctx, db.queryIn(tx), actor); err != nil {
			return err
		}
		now := db.now()
		deleted, err := db.txChanged(ctx, tx,
			`UPDATE conversations SET deleted_at = ? WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`+db.visible()+` `+returningChanged,
			now, id.String(), workspaceID.String())
		if err != nil {
			return err
		}
		return db.appendRecords(ctx, tx, now, actor, deleted)
	})
	if err != nil {
		return fmt.Errorf("delete conversation %s: %w", id, err)
	}
	return nil
}

// BulkDeleteConversations implements store.Store: lock the live rows in id order (so that
// concurrent bulks over overlapping ids cannot deadlock), compare, then delete and record, or
// roll back.
func (db *DB) BulkDeleteConversations(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID, actor store.Actor) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	// A repeated id would make the row count disagree with the request with no id to name.
	seen := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		if seen[id] {
			return fmt.Errorf("bulk delete: conversation %s given twice", id)
		}
		seen[id] = true
	}
	if db.Dialect.ChangingCTEs {
		return db.bulkDeleteOneStatement(ctx, workspaceID, ids, actor)
	}
	// Deletes only ever add to what is gone (restore is an operator's act), so ids that a
	// read already finds inaccessible make the answer without taking the write lock.
	live, err := db.liveIDs(ctx, db.query, workspaceID, ids, "")
	if err != nil {
		return fmt.Errorf("bulk delete %d conversations: %w", len(ids), err)
	}
	if missing := notIn(ids, live); len(missing) > 0 {
		// A revoked key is told so before which ids it may not delete.
		if err := db.checkKey(ctx, db.query, actor); err != nil {
			return fmt.Errorf("bulk delete %d conversations: %w", len(ids), err)
		}
		return fmt.Errorf("bulk delete %d conversations: %w", len(ids), &store.NotAccessibleError{IDs: missing})
	}
	update := `UPDATE conversations SET deleted_at = ? WHERE workspace_id = ? AND deleted_at IS NULL AND id IN ` +
		inPlaceholders(len(ids)) + db.visible() + ` ` + returningChanged
	err = db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := db.checkKey(ctx, db.queryIn(tx), actor); err != nil {
			return err
		}
		if db.Dialect.ForUpdate != "" {
			// Lock the rows in id order first, so that concurrent bulks over overlapping ids
			// queue instead of deadlocking. (SQLite's transaction holds the only write lock.)
			if _, err := db.liveIDs(ctx, db.queryIn(tx), workspaceID, ids, " ORDER BY id"+db.Dialect.ForUpdate); err != nil {
				return err
			}
		}
		now := db.now()
		deleted, err := db.txChanged(ctx, tx, update, append([]any{now, workspaceID.String()}, idArgs(ids)...)...)
		if err != nil {
			return err
		}
		// What the update found live is the truth: an id deleted since the check above makes
		// the whole bulk a refusal, and the transaction rolls back.
		if len(deleted) != len(ids) {
			live := make(map[uuid.UUID]bool, len(deleted))
			for _, d := range deleted {
				if id, err := uuid.Parse(d.id); err == nil {
					live[id] = true
				}
			}
			return &store.NotAccessibleError{IDs: notIn(ids, live)}
		}
		return db.appendRecords(ctx, tx, now, actor, deleted)
	})
	if err != nil {
		return fmt.Errorf("bulk delete %d conversations: %w", len(ids), err)
	}
	return nil
}

// queryFunc is db.query, or db.txQuery bound to a transaction (queryIn).
type queryFunc func(ctx context.Context, query string, args ...any) (*sql.Rows, error)

// queryIn is db.txQuery bound to tx.
func (db *DB) queryIn(tx *sql.Tx) queryFunc {
	return func(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
		return db.txQuery(ctx, tx, q, args...)
	}
}

// liveIDs returns which of ids are live conversations of the workspace. suffix ends the
// query: the transaction's check orders and locks the rows.
func (db *DB) liveIDs(ctx context.Context, query queryFunc, workspaceID uuid.UUID, ids []uuid.UUID, suffix string) (map[uuid.UUID]bool, error) {
	return db.liveIDsBy(ctx, query, `SELECT id FROM conversations WHERE workspace_id = ? AND deleted_at IS NULL AND id IN `+
		inPlaceholders(len(ids))+db.visible()+suffix, append([]any{workspaceID.String()}, idArgs(ids)...))
}

// liveIDsBy runs q, whose rows are conversation ids, and returns them as a set.
func (db *DB) liveIDsBy(ctx context.Context, query queryFunc, q string, args []any) (map[uuid.UUID]bool, error) {
	rows, err := query(ctx, q, args...)
	if err != nil {
		return nil, db.classify(fmt.Errorf("check conversations: %w", err))
	}
	defer rows.Close()
	live := map[uuid.UUID]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("scan conversation id: %w", err)
		}
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("parse conversation id %q: %w", s, err)
		}
		live[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, db.classify(fmt.Errorf("check conversations: %w", err))
	}
	return live, nil
}

// notIn returns, in order, the ids that live does not hold.
func notIn(ids []uuid.UUID, live map[uuid.UUID]bool) []uuid.UUID {
	var missing []uuid.UUID
	for _, id := range ids {
		if !live[id] {
			missing = append(missing, id)
		}
	}
	return missing
}

func idArgs(ids []uuid.UUID) []any {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id.String()
	}
	return args
}

const conversationColumns = `id, workspace_id, bot_id, source, channel, created_at, last_message_at, body`

func scanConversation(sc interface{ Scan(...any) error }) (store.Conversation, error) {
	var (
		c             store.Conversation
		id, workspace string
		bot, channel  sql.NullString
	)
	if err := sc.Scan(&id, &workspace, &bot, &c.Source, &channel, &c.CreatedAt, &c.LastMessageAt, &c.Body); err != nil {
		return c, err
	}
	var err error
	if c.ID, err = uuid.Parse(id); err != nil {
		return c, fmt.Errorf("parse conversation id %q: %w", id, err)
	}
	if c.WorkspaceID, err = uuid.Parse(workspace); err != nil {
		return c, fmt.Errorf("parse workspace id %q: %w", workspace, err)
	}
	if bot.Valid {
		b, err := uuid.Parse(bot.String)
		if err != nil {
			return c, fmt.Errorf("parse bot id %q: %w", bot.String, err)
		}
		c.BotID = &b
	}
	if channel.Valid {
		c.Channel = &channel.String
	}
	return c, nil
}

// GetConversation implements store.Store.
func (db *DB) GetConversation(ctx context.Context, workspaceID, id uuid.UUID) (_ store.Conversation, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	row, err := db.queryRow(ctx, `SELECT `+conversationColumns+
		` FROM conversations WHERE id = ? AND workspace_id = ? AND deleted_at IS NULL`+db.visible(),
		id.String(), workspaceID.String())
	if err != nil {
		return store.Conversation{}, db.classify(fmt.Errorf("get conversation %s: %w", id, err))
	}
	c, err := scanConversation(row)
	if errors.Is(err, sql.ErrNoRows) {
		return c, fmt.Errorf("get conversation %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return c, db.classify(fmt.Errorf("get conversation %s: %w", id, err))
	}
	return c, nil
}

// listFilter is the WHERE clause of a page and of its neighbour checks. The time range is
// given as one inclusive [lo, hi] so that each engine bounds its index scan by exactly those
// two values; with a separate cursor bound SQLite keeps the window's edge and scans from it,
// O(position) instead of O(page).
func listFilter(q store.ListQuery, lo, hi int64) (string, []any) {
	var b strings.Builder
	b.WriteString(`workspace_id = ? AND deleted_at IS NULL AND last_message_at >= ? AND last_message_at <= ?`)
	args := []any{q.WorkspaceID.String(), lo, hi}
	if q.BotID != nil {
		b.WriteString(` AND bot_id = ?`)
		args = append(args, q.BotID.String())
	}
	if len(q.Sources) > 0 {
		b.WriteString(` AND source IN ` + inPlaceholders(len(q.Sources)))
		for _, s := range q.Sources {
			args = append(args, s)
		}
	}
	if len(q.Channels) > 0 {
		b.WriteString(` AND channel IN ` + inPlaceholders(len(q.Channels)))
		for _, s := range q.Channels {
			args = append(args, s)
		}
	}
	return b.String(), args
}

// position is a place in the list order: (last_message_at, id).
type position struct {
	at int64
	id string
}

// beyond narrows the window [since, until) to what lies strictly older (or newer) than p, as
// an inclusive time range plus the tie-break on id.
func beyond(q store.ListQuery, p position, older bool) (where string, args []any) {
	lo, hi := q.Since, q.Until-1
	tie := ` AND (last_message_at < ? OR id < ?)`
	if older {
		hi = min(hi, p.at)
	} else {
		lo = max(lo, p.at)
		tie = ` AND (last_message_at > ? OR id > ?)`
	}
	where, args = listFilter(q, lo, hi)
	return where + tie, append(args, p.at, p.id)
}

// ListConversations implements store.Store.
func (db *DB) ListConversations(ctx context.Context, q store.ListQuery) (_ store.Page, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	var page store.Page
	older := q.Direction != store.Newer
	order := "DESC"
	if !older {
		order = "ASC"
	}
	where, args := listFilter(q, q.Since, q.Until-1)
	if q.Cursor != nil {
		var at int64
		row, err := db.queryRow(ctx, `SELECT last_message_at FROM conversations WHERE id = ? AND workspace_id = ?`+db.visible(),
			q.Cursor.String(), q.WorkspaceID.String())
		if err == nil {
			err = row.Scan(&at)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return page, fmt.Errorf("list conversations: %w", store.ErrCursorNotFound)
		}
		if err != nil {
			return page, db.classify(fmt.Errorf("list conversations: find cursor: %w", err))
		}
		where, args = beyond(q, position{at, q.Cursor.String()}, older)
	}
	query := `SELECT ` + conversationColumns + ` FROM conversations WHERE ` + where + db.visible() +
		` ORDER BY last_message_at ` + order + `, id ` + order + ` LIMIT ?`
	args = append(args, q.Limit+1)

	rows, err := db.query(ctx, query, args...)
	if err != nil {
		return page, db.classify(fmt.Errorf("list conversations: %w", err))
	}
	defer rows.Close()
	for rows.Next() {
		c, err := scanConversation(rows)
		if err != nil {
			return page, db.classify(fmt.Errorf("list conversations: %w", err))
		}
		page.Conversations = append(page.Conversations, c)
	}
	if err := rows.Err(); err != nil {
		return page, db.classify(fmt.Errorf("list conversations: %w", err))
	}
	if len(page.Conversations) > q.Limit {
		page.HasMore = true
		page.Conversations = page.Conversations[:q.Limit]
	}
	if !older {
		slices.Reverse(page.Conversations)
	}
	if len(page.Conversations) == 0 {
		return page, nil
	}
	first, last := page.Conversations[0], page.Conversations[len(page.Conversations)-1]
	switch {
	case !older:
		page.HasNewer = page.HasMore
		page.HasOlder, err = db.exists(ctx, q, last, true)
	case q.Cursor != nil:
		page.HasOlder = page.HasMore
		page.HasNewer, err = db.exists(ctx, q, first, false)
	default: // the first page: nothing in the window is newer
		page.HasOlder = page.HasMore
	}
	return page, err
}

// exists reports whether a conversation of the query's selection lies beyond c, older or newer.
func (db *DB) exists(ctx context.Context, q store.ListQuery, c store.Conversation, older bool) (bool, error) {
	where, args := beyond(q, position{c.LastMessageAt, c.ID.String()}, older)
	var one int
	row, err := db.queryRow(ctx, `SELECT 1 FROM conversations WHERE `+where+db.visible()+` LIMIT 1`, args...)
	if err == nil {
		err = row.Scan(&one)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, db.classify(fmt.Errorf("list conversations: look beyond page: %w", err))
	}
	return true, nil
}

// RestoreConversation implements store.Store. When nothing was restored, a purge record of
// the id, for a conversation no longer stored, tells a purge from an id never deleted.
func (db *DB) RestoreConversation(ctx context.Context, workspaceID, id uuid.UUID, actor store.Actor) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	var restored []changed
	err = db.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		now := db.now()
		var err error
		// "Deleted" is spelled COALESCE(deleted_at, 0) <> 0 (a deletion time is never 0) so that
		// no planner can prove the predicate of the index of deleted rows, which the purge uses
		// across workspaces: with statistics from a table where little is deleted, PostgreSQL
		// searched it, not the key (TestQueriesStayInTheirWorkspace).
		restored, err = db.txChanged(ctx, tx,
			`UPDATE conversations SET deleted_at = NULL WHERE id = ? AND workspace_id = ? AND COALESCE(deleted_at, 0) <> 0 `+returningChanged,
			id.String(), workspaceID.String())
		if err != nil {
			return err
		}
		return db.appendRecords(ctx, tx, now, actor, restored)
	})
	if err != nil {
		return fmt.Errorf("restore conversation %s: %w", id, err)
	}
	if len(restored) > 0 {
		return nil
	}
	var at int64
	row, err := db.queryRow(ctx, `SELECT recorded_at FROM audit_records WHERE conversation_id = ? AND workspace_id = ?
		AND operation = ? AND NOT EXISTS (SELECT 1 FROM conversations WHERE workspace_id = ? AND id = ?)
		ORDER BY recorded_at DESC LIMIT 1`,
		id.String(), workspaceID.String(), store.OpPurge, workspaceID.String(), id.String())
	if err == nil {
		err = row.Scan(&at)
	}
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("restore conversation %s: %w", id, store.ErrNotFound)
	case err != nil:
		return db.classify(fmt.Errorf("restore conversation %s: look for its purge: %w", id, err))
	}
	return &store.PurgedError{ID: id, At: at}
}

// CountConversations implements store.Store.
func (db *DB) CountConversations(ctx context.Context, workspaceID uuid.UUID) (_ int64, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	var n int64
	row, err := db.queryRow(ctx, `SELECT COUNT(*) FROM conversations WHERE workspace_id = ? AND deleted_at IS NULL`+db.visible(),
		workspaceID.String())
	if err == nil {
		err = row.Scan(&n)
	}
	if err != nil {
		return 0, db.classify(fmt.Errorf("count conversations: %w", err))
	}
	return n, nil
}

// Ping implements store.Store.
func (db *DB) Ping(ctx context.Context) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	if err := db.Read.PingContext(ctx); err != nil {
		return db.classify(fmt.Errorf("ping: %w", err))
	}
	var one int
	row, err := db.queryRow(ctx, `SELECT 1`)
	if err == nil {
		err = row.Scan(&one)
	}
	if err != nil {
		return db.classify(fmt.Errorf("ping: %w", err))
	}
	return nil
}

// Close implements store.Store.
func (db *DB) Close() error {
	db.stopGroupCommit()
	var err error
	if db.OnClose != nil {
		err = db.OnClose()
	}
	db.stmts.close()
	err = errors.Join(err, db.Read.Close())
	if db.Write != db.Read {
		err = errors.Join(err, db.Write.Close())
	}
	return err
}
