package sqlite_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlite/fulldisk"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// seedSmall gives db a workspace, a key and 20 conversations.
func seedSmall(t *testing.T, db *sqlstore.DB) (ws, key uuid.UUID, ids []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	ws, key = uuid.New(), uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "full", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAPIKey(ctx, store.APIKey{ID: key, WorkspaceID: ws, Name: "k", Scopes: []string{"read"}, Hash: []byte("h"), CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	cs := make([]store.Conversation, 20)
	for i := range cs {
		cs[i] = store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i), Body: []byte(`{}`)}
		ids = append(ids, cs[i].ID)
	}
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	return ws, key, ids
}

// bigConversations are n conversations of 4 KB for workspace ws: their import needs new
// pages.
func bigConversations(ws uuid.UUID, n int) []store.Conversation {
	cs := make([]store.Conversation, n)
	for i := range cs {
		cs[i] = store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", Body: []byte(`{"x":"` + strings.Repeat("x", 4000) + `"}`)}
	}
	return cs
}

// reads checks that every read of the store answers.
func reads(t *testing.T, db *sqlstore.DB, ws uuid.UUID, ids []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	if _, err := db.GetConversation(ctx, ws, ids[len(ids)-1]); err != nil {
		t.Errorf("get: %v", err)
	}
	if _, err := db.ListConversations(ctx, store.ListQuery{WorkspaceID: ws, Since: 0, Until: math.MaxInt64, Limit: 10}); err != nil {
		t.Errorf("list: %v", err)
	}
	if keys, err := db.ListAPIKeys(ctx, ws); err != nil || len(keys) != 1 {
		t.Errorf("list keys: %d, %v", len(keys), err)
	}
	for _, err := range db.AuditRecords(ctx, store.AuditQuery{WorkspaceID: ws, Until: math.MaxInt64}) {
		if err != nil {
			t.Errorf("audit: %v", err)
		}
	}
}

// failsFull checks that a write failed as on a full disk: store.ErrDiskFull, which is
// store.ErrUnavailable, the API's 503 with Retry-After.
func failsFull(t *testing.T, write string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrDiskFull) || !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("%s on a full disk: %v, want store.ErrDiskFull and store.ErrUnavailable", write, err)
	}
}

// TestFullDisk: on a full disk the store opens, also when no connection has it open and its
// shared-memory index must be rebuilt; reads answer, writes fail with store.ErrDiskFull, and
// once room is freed writes succeed again, with no restart.
func TestFullDisk(t *testing.T) {
	disk := fulldisk.New(t, 8<<20)
	ctx := context.Background()
	path := filepath.Join(disk.Dir, "full.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ws, key, ids := seedSmall(t, db)
	if err := db.Close(); err != nil { // the last connection: -wal and -shm are removed
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-shm"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the -shm file outlived the last connection (%v): the test proves nothing", err)
	}

	disk.Fill()
	if db, err = sqlite.Open(ctx, path); err != nil {
		t.Fatalf("open on a full disk: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	disk.Fill() // and the room that opening gave back
	reads(t, db, ws, ids)
	// Another process's command, beside the open store: no index to rebuild, and no room
	// for the statistics that an open gathers.
	other, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("a second open on a full disk: %v", err)
	}
	reads(t, other, ws, ids)
	if err := other.Close(); err != nil && !errors.Is(err, store.ErrDiskFull) {
		t.Errorf("close on a full disk: %v", err)
	}
	// A write that failed may leave the WAL a little longer, room that the next one could
	// use: the disk is filled again before each.
	for name, write := range map[string]func() error{
		"delete":      func() error { return db.DeleteConversation(ctx, ws, ids[0], store.Operator("test")) },
		"bulk delete": func() error { return db.BulkDeleteConversations(ctx, ws, ids[:2], store.Operator("test")) },
		"revoke key":  func() error { return db.RevokeAPIKey(ctx, key, 1) },
		"import":      func() error { return db.ImportConversations(ctx, store.All(bigConversations(ws, 10))) },
	} {
		disk.Fill()
		failsFull(t, name, write())
	}
	reads(t, db, ws, ids)

	disk.Free()
	if err := db.DeleteConversation(ctx, ws, ids[0], store.Operator("test")); err != nil {
		t.Fatalf("delete once room is back: %v", err)
	}
	if _, err := db.GetConversation(ctx, ws, ids[0]); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("get of the deleted conversation: %v, want store.ErrNotFound", err)
	}
	// Opened again with room, the store keeps its reserve again.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-reserve"); err != nil || fi.Size() != 1<<20 {
		t.Errorf("reserve after an open with room: %v, %v", fi, err)
	}
}

// TestWritesBeyondMaxPageCountAreDiskFull: where no file system can be filled (not Linux, not
// root), SQLite's max_page_count makes the same error: a write that needs a new page fails
// with store.ErrDiskFull, reads go on, and raising the limit lets writes through again.
func TestWritesBeyondMaxPageCountAreDiskFull(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "max.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws, _, ids := seedSmall(t, db)
	cs := bigConversations(ws, 60)
	if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
		t.Fatal(err)
	}
	bulk := make([]uuid.UUID, 50)
	for i := range bulk {
		bulk[i] = cs[i].ID
	}
	// The writer is one connection, which keeps the limit for its life. 50 deletion records
	// take more than the one page the empty record has.
	if _, err := db.Write.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil { // as low as it goes: the current size
		t.Fatal(err)
	}
	failsFull(t, "bulk delete", db.BulkDeleteConversations(ctx, ws, bulk, store.Operator("test")))
	reads(t, db, ws, ids)
	if _, err := db.Write.ExecContext(ctx, `PRAGMA max_page_count = 1073741823`); err != nil {
		t.Fatal(err)
	}
	if err := db.BulkDeleteConversations(ctx, ws, bulk, store.Operator("test")); err != nil {
		t.Fatalf("bulk delete with room: %v", err)
	}
}
