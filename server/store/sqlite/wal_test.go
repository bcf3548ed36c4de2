package sqlite

import (
	"context"
	"database/sql"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlstore"
	"github.com/fini-oss/conversations/server/store/storetest"
)

func walSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path + "-wal")
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// walFrames is how many frames the WAL holds: mxFrame, at offset 16 of the wal-index header
// at the start of the -shm file (https://www.sqlite.org/walformat.html), in native byte
// order. Reading it does not checkpoint, so it does not change what it observes.
func walFrames(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path + "-shm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [4]byte
	if _, err := f.ReadAt(b[:], 16); err != nil {
		t.Fatal(err)
	}
	return int(binary.NativeEndian.Uint32(b[:]))
}

// TestWALStaysBoundedUnderSteadyWrites: under a steady mixed load, bulk deletes while readers
// read, the WAL file stays about restartFrames however much is written. A commit restarts the
// WAL only if it finds it wholly copied and no reader on it, which steady reads and writes
// never leave: the checkpointer's RESTART checkpoint waits for the readers. One client
// writes, and reads between its writes, as the API's clients do: the disk keeps up, and there
// are moments without a write under way, when the RESTART has nothing left to copy.
func TestWALStaysBoundedUnderSteadyWrites(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "wal.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws, ids, _ := storetest.SeedBulks(t, db, 6) // 15,000 conversations of about 2 KB
	actor := storetest.BenchActor(t, db, ws)
	// Reopened, the store starts with an empty WAL: what it holds next is the deletes'.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for i := r; ; i = (i + 7) % len(ids) {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := db.ListConversations(ctx, store.ListQuery{WorkspaceID: ws, Since: 0, Until: math.MaxInt64, Limit: 20, Cursor: &ids[i]}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	defer func() {
		close(stop)
		readers.Wait()
	}()
	start := time.Now()
	var high int64
	written, last, restarts := 0, 0, 0
	for bulk := range slices.Chunk(ids, 50) {
		if written+last > 8*restartFrames {
			break
		}
		if err := db.BulkDeleteConversations(ctx, ws, bulk, actor); err != nil {
			t.Fatal(err)
		}
		for i := range 5 {
			if _, err := db.ListConversations(ctx, store.ListQuery{WorkspaceID: ws, Since: 0, Until: math.MaxInt64, Limit: 20, Cursor: &bulk[i]}); err != nil {
				t.Fatal(err)
			}
		}
		if frames := walFrames(t, path); frames < last {
			restarts++
			written += last
			last = frames
		} else {
			last = frames
		}
		high = max(high, walSize(t, path))
	}
	written += last
	took := time.Since(start)
	if written < 7*restartFrames {
		t.Fatalf("%d MiB written to the WAL: the test proves nothing", written*frameBytes>>20)
	}
	t.Logf("%d MiB written to the WAL in %v, %d restarts, largest file %d MiB", written*frameBytes>>20, took.Round(time.Millisecond), restarts, high>>20)
	// The bound: restartFrames, and what the client writes in 4 passiveEvery (the disk is
	// shared, and the RESTART waits for a moment without writes and readers).
	perPassive := int64(float64(written) * frameBytes * (4 * passiveEvery).Seconds() / took.Seconds())
	if bound := restartFrames*frameBytes + perPassive; high > bound {
		t.Errorf("the WAL file grew to %d MiB while %d MiB were written, want at most %d MiB", high>>20, written*frameBytes>>20, bound>>20)
	}
}

// TestWALShrinksWhenIdle: a large transaction leaves a large WAL, and once nothing is
// written for idleAfter the running checkpointer truncates it. The test polls the file's
// size, for a bounded time.
func TestWALShrinksWhenIdle(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "idle.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	storetest.SeedBulks(t, db, 2) // one transaction of about 40 MiB of frames
	// Rewrite every body in one more transaction, on a connection of the test's own, so
	// that the WAL is large whatever the store's import does.
	raw, err := sql.Open("sqlite", dsn(path, "", sqlstore.DefaultTimeout))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	if _, err := raw.ExecContext(ctx, `UPDATE conversations SET body = body || ' '`); err != nil {
		t.Fatal(err)
	}
	const limit = 16 << 20
	if got := walSize(t, path); got <= limit {
		t.Fatalf("the WAL is %d MiB after the writes: the test proves nothing", got>>20)
	}
	deadline := time.Now().Add(30 * time.Second)
	for walSize(t, path) > limit {
		if time.Now().After(deadline) {
			t.Fatalf("the WAL is still %d MiB after 30 s without writes, want at most %d MiB", walSize(t, path)>>20, limit>>20)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
