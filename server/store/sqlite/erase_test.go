package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

func files(t *testing.T, path string) (db, wal []byte) {
	t.Helper()
	db, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	wal, err = os.ReadFile(path + "-wal")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return db, wal
}

// TestPurgeLeavesNoBytesInTheFiles: a soft delete rewrites the row, body and all, into the
// WAL, and the old copy's bytes stay in the page; after the purge neither the database file
// nor the WAL holds any of the body, small (in the row's page) or large (in overflow pages).
func TestPurgeLeavesNoBytesInTheFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "erase.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "w", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	small, large := "small-secret-"+uuid.NewString(), "large-secret-"+uuid.NewString()
	bodies := map[string]string{
		small: `{"subjectPreview":"` + small + `"}`,
		large: `{"message":"` + strings.Repeat(large+" ", 500) + `"}`, // ~25 KB: overflow pages
	}
	var ids []uuid.UUID
	for _, body := range bodies {
		id := uuid.New()
		ids = append(ids, id)
		if err := db.ImportConversations(ctx, store.All([]store.Conversation{{ID: id, WorkspaceID: ws, Source: "api", Body: []byte(body)}})); err != nil {
			t.Fatal(err)
		}
	}
	// Reopened, the WAL starts empty: what it holds next is the soft delete's alone.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = sqlite.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.BulkDeleteConversations(ctx, ws, ids, store.Operator("test")); err != nil {
		t.Fatal(err)
	}
	_, wal := files(t, path)
	for secret := range bodies {
		if !bytes.Contains(wal, []byte(secret)) {
			t.Fatalf("after the soft delete the WAL does not hold %s: the test would prove nothing", secret)
		}
	}

	n, err := db.PurgeDeleted(ctx, time.Now().Add(time.Hour).UnixMilli(), 500)
	if err != nil || n != 2 {
		t.Fatalf("purge = %d, %v; want 2", n, err)
	}
	dbFile, wal := files(t, path)
	for secret := range bodies {
		if bytes.Contains(dbFile, []byte(secret)) {
			t.Errorf("after the purge the database file still holds %s", secret[:12])
		}
		if bytes.Contains(wal, []byte(secret)) {
			t.Errorf("after the purge the WAL still holds %s", secret[:12])
		}
	}
}
