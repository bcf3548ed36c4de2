//go:build unix

package sqlite_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// The tests here change the process-wide umask, so none of them may run in parallel with a
// test that creates files: they never call t.Parallel.

// setUmask sets the process umask for the rest of the test and restores it after.
func setUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

// writeConversation writes one conversation, so that the -wal and -shm files exist.
func writeConversation(t *testing.T, db store.Store) {
	t.Helper()
	ctx := context.Background()
	ws := store.Workspace{ID: uuid.New(), Name: "perms", CreatedAt: time.Now().UnixMilli()}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	id := uuid.New()
	c := store.Conversation{ID: id, WorkspaceID: ws.ID, Source: "api", CreatedAt: 1, LastMessageAt: 1,
		Body: []byte(`{"id":"` + id.String() + `","source":"api"}`)}
	if err := db.ImportConversations(ctx, store.All([]store.Conversation{c})); err != nil {
		t.Fatalf("import: %v", err)
	}
}

// wantPrivate fails unless the database at path and its -wal and -shm files all have mode 0600.
func wantPrivate(t *testing.T, path string) {
	t.Helper()
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if got := fi.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(name), got)
		}
	}
}

func TestNewDatabaseIsPrivate(t *testing.T) {
	// 0277 also takes the owner's write bit: the database must still be created writable.
	for _, mask := range []int{0, 0o022, 0o277} {
		t.Run(fmt.Sprintf("umask %04o", mask), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "new.db") // before the umask: the directory must stay writable
			setUmask(t, mask)
			db, err := sqlite.Open(context.Background(), path)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer db.Close()
			writeConversation(t, db)
			wantPrivate(t, path)
		})
	}
}

func TestExistingDatabaseIsTightened(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	setUmask(t, 0)
	first, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer first.Close()
	// While first is open its -wal and -shm hold data, like the files a crashed server leaves
	// behind: SQLite sets the mode only of the -wal and -shm files it finds empty.
	writeConversation(t, first)
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(name, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	second, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer second.Close()
	wantPrivate(t, path)
}
