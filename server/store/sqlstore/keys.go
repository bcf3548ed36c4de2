package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// CreateWorkspace implements store.Store.
func (db *DB) CreateWorkspace(ctx context.Context, w store.Workspace) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	_, err = db.exec(ctx, `INSERT INTO workspaces (id, name, created_at) VALUES (?, ?, ?)`,
		w.ID.String(), w.Name, w.CreatedAt)
	if err != nil {
		return db.classify(fmt.Errorf("create workspace %q: %w", w.Name, err))
	}
	return nil
}

// HasWorkspaces implements store.Store.
func (db *DB) HasWorkspaces(ctx context.Context) (_ bool, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	var one int
	row, err := db.queryRow(ctx, `SELECT 1 FROM workspaces LIMIT 1`)
	if err == nil {
		err = row.Scan(&one)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, db.classify(fmt.Errorf("has workspaces: %w", err))
	}
	return true, nil
}

// GetWorkspace implements store.Store.
func (db *DB) GetWorkspace(ctx context.Context, id uuid.UUID) (_ store.Workspace, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	w := store.Workspace{ID: id}
	row, err := db.queryRow(ctx, `SELECT name, created_at FROM workspaces WHERE id = ?`, id.String())
	if err == nil {
		err = row.Scan(&w.Name, &w.CreatedAt)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return w, fmt.Errorf("get workspace %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return w, db.classify(fmt.Errorf("get workspace %s: %w", id, err))
	}
	return w, nil
}

// CreateAPIKey implements store.Store.
func (db *DB) CreateAPIKey(ctx context.Context, k store.APIKey) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	if _, err := db.GetWorkspace(ctx, k.WorkspaceID); err != nil {
		return fmt.Errorf("create api key: %w", err)
	}
	_, err = db.exec(ctx, `INSERT INTO api_keys (id, workspace_id, name, scopes, secret_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID.String(), k.WorkspaceID.String(), k.Name, strings.Join(k.Scopes, ","), k.Hash, k.CreatedAt)
	if err != nil {
		return db.classify(fmt.Errorf("create api key: %w", err))
	}
	return nil
}

const keyColumns = `id, workspace_id, name, scopes, secret_hash, created_at, revoked_at, last_used_at`

func scanKey(sc interface{ Scan(...any) error }) (store.APIKey, error) {
	var (
		k                 store.APIKey
		id, workspace     string
		scopes            string
		revoked, lastUsed sql.NullInt64
	)
	if err := sc.Scan(&id, &workspace, &k.Name, &scopes, &k.Hash, &k.CreatedAt, &revoked, &lastUsed); err != nil {
		return k, err
	}
	var err error
	if k.ID, err = uuid.Parse(id); err != nil {
		return k, fmt.Errorf("parse key id %q: %w", id, err)
	}
	if k.WorkspaceID, err = uuid.Parse(workspace); err != nil {
		return k, fmt.Errorf("parse workspace id %q: %w", workspace, err)
	}
	if scopes != "" {
		k.Scopes = strings.Split(scopes, ",")
	}
	if revoked.Valid {
		k.RevokedAt = &revoked.Int64
	}
	if lastUsed.Valid {
		k.LastUsedAt = &lastUsed.Int64
	}
	return k, nil
}

// ListAPIKeys implements store.Store.
func (db *DB) ListAPIKeys(ctx context.Context, workspaceID uuid.UUID) (_ []store.APIKey, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	rows, err := db.query(ctx, `SELECT `+keyColumns+
		` FROM api_keys WHERE workspace_id = ? ORDER BY created_at, id`, workspaceID.String())
	if err != nil {
		return nil, db.classify(fmt.Errorf("list api keys: %w", err))
	}
	defer rows.Close()
	var keys []store.APIKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, db.classify(fmt.Errorf("list api keys: %w", err))
	}
	return keys, nil
}

// APIKeyByHash implements store.Store.
func (db *DB) APIKeyByHash(ctx context.Context, hash []byte) (_ store.APIKey, err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	row, err := db.queryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE secret_hash = ?`, hash)
	if err != nil {
		return store.APIKey{}, db.classify(fmt.Errorf("find api key: %w", err))
	}
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return k, fmt.Errorf("find api key: %w", store.ErrNotFound)
	}
	if err != nil {
		return k, db.classify(fmt.Errorf("find api key: %w", err))
	}
	return k, nil
}

// RevokeAPIKey implements store.Store.
func (db *DB) RevokeAPIKey(ctx context.Context, id uuid.UUID, at int64) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	res, err := db.exec(ctx, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, at, id.String())
	if err != nil {
		return db.classify(fmt.Errorf("revoke api key %s: %w", id, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("revoke api key %s: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("revoke api key %s: %w", id, store.ErrNotFound)
	}
	return nil
}

// TouchAPIKey implements store.Store.
func (db *DB) TouchAPIKey(ctx context.Context, id uuid.UUID, at int64) (err error) {
	ctx, end := db.bound(ctx)
	defer end(&err)
	_, err = db.exec(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, at, id.String())
	if err != nil {
		return db.classify(fmt.Errorf("touch api key %s: %w", id, err))
	}
	return nil
}

// validKey is the query of one row when an API key exists and is not revoked. Where rows are
// locked it share-locks the key's row, which a revocation's UPDATE conflicts with: in a
// delete's transaction, a revocation under way is waited for and then seen (PostgreSQL reads
// the row's newest version once it may lock it), and a revocation that comes later waits for
// the delete to commit. Where the write transaction holds the database's only write lock
// (SQLite), a revocation cannot commit in between at all.
func (db *DB) validKey() string {
	return `SELECT 1 FROM api_keys WHERE id = ? AND revoked_at IS NULL` + db.Dialect.ForShare
}

// checkKey returns store.ErrKeyRevoked unless actor's API key exists and is not revoked, as
// query (in a delete's transaction) reads it. An operator's change names no key, and passes.
func (db *DB) checkKey(ctx context.Context, query queryFunc, actor store.Actor) error {
	if actor.KeyID == uuid.Nil {
		return nil
	}
	rows, err := query(ctx, db.validKey(), actor.KeyID.String())
	if err != nil {
		return db.classify(fmt.Errorf("check api key %s: %w", actor.KeyID, err))
	}
	defer rows.Close()
	valid := rows.Next()
	if err := rows.Err(); err != nil {
		return db.classify(fmt.Errorf("check api key %s: %w", actor.KeyID, err))
	}
	if !valid {
		return fmt.Errorf("key %s: %w", actor.KeyID, store.ErrKeyRevoked)
	}
	return nil
}
