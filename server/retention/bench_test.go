package retention_test

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/retention"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres/pgtest"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// Sizes of the purge benchmark: conversations soft-deleted an hour ago, for the purge, and
// live ones, for the bulk deletes measured beside it.
const (
	benchDeleted = 60_000
	benchLive    = 60_000
)

// purgeBenchStore opens a store of the engine with benchDeleted conversations soft-deleted an
// hour ago and benchLive live ones, all of about 1.5 KB, and returns it with the live ids.
func purgeBenchStore(b *testing.B, engine string) (*sqlstore.DB, uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	var db *sqlstore.DB
	if engine == "postgres" {
		db = pgtest.Open(b)
	} else {
		var err error
		if db, err = sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db")); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
	}
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "bench", CreatedAt: 1}); err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"subjectPreview":"` + strings.Repeat("How do I reset my password? ", 50) + `"}`)
	var live []uuid.UUID
	cs := make([]store.Conversation, 0, 1000)
	for i := range benchDeleted + benchLive {
		c := store.Conversation{ID: uuid.New(), WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i), Body: body}
		if i >= benchDeleted {
			live = append(live, c.ID)
		}
		if cs = append(cs, c); len(cs) == cap(cs) {
			if err := db.ImportConversations(ctx, store.All(cs)); err != nil {
				b.Fatal(err)
			}
			cs = cs[:0]
		}
	}
	// The fixture's soft deletes, in one statement: their records are not what is measured.
	q := db.Dialect.Rebind(`UPDATE conversations SET deleted_at = ? WHERE last_message_at < ?`)
	if _, err := db.Write.ExecContext(ctx, q, time.Now().Add(-time.Hour).UnixMilli(), benchDeleted); err != nil {
		b.Fatal(err)
	}
	// Planner statistics as a database in use has them (autovacuum, SQLite's optimize), and
	// SQLite's WAL emptied of the import, as a quiet moment would.
	if _, err := db.Write.ExecContext(ctx, `ANALYZE`); err != nil {
		b.Fatal(err)
	}
	if engine == "sqlite" {
		if _, err := db.Write.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
	}
	return db, ws, live
}

// benchClients is how many clients send bulk deletes at once during the purge benchmark.
const benchClients = 4

// BenchmarkBulkDeleteDuringPurge measures the latency of bulk deletes of 50 ids sent by 4
// clients while a purge of 60,000 conversations runs in batches of retention.Batch
// (purge=on, the bulks sent until it ends or 60,000 live ids run out), and of as many bulks
// with no purge
// (purge=off): whether a purge stalls requests. One iteration is one whole experiment on a
// fresh store: run with -benchtime=1x and -count for benchstat.
func BenchmarkBulkDeleteDuringPurge(b *testing.B) {
	bulks := 0 // sent during the last purge=on run, repeated by purge=off
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, purge := range []string{"on", "off"} {
			b.Run("engine="+engine+"/purge="+purge, func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					db, ws, live := purgeBenchStore(b, engine)
					b.StartTimer()
					var latencies []time.Duration
					if purge == "on" {
						var took time.Duration
						latencies, took = bulksDuringPurge(b, db, ws, live)
						bulks = len(latencies)
						b.ReportMetric(float64(benchDeleted)/took.Seconds(), "purged/s")
					} else {
						latencies = bulkDeletes(b, db, ws, live, func(n int) bool { return n < bulks })
					}
					slices.Sort(latencies)
					ms := func(q float64) float64 {
						return float64(latencies[min(len(latencies)-1, int(q*float64(len(latencies))))].Microseconds()) / 1000
					}
					b.ReportMetric(float64(len(latencies)), "bulks")
					b.ReportMetric(ms(0.5), "p50-ms")
					b.ReportMetric(ms(0.99), "p99-ms")
					b.ReportMetric(ms(1), "max-ms")
				}
			})
		}
	}
}

// bulksDuringPurge purges, and sends bulk deletes until the purge ends (or the live
// conversations run out, the purge still running); it returns their latencies and how long
// the purge took.
func bulksDuringPurge(b *testing.B, db *sqlstore.DB, ws uuid.UUID, live []uuid.UUID) ([]time.Duration, time.Duration) {
	var purging atomic.Bool
	purging.Store(true)
	done := make(chan time.Duration)
	go func() {
		start := time.Now()
		n, err := db.PurgeDeleted(context.Background(), time.Now().Add(-time.Minute).UnixMilli(), retention.Batch)
		purging.Store(false)
		if err != nil || n != benchDeleted {
			b.Errorf("purge = %d, %v; want %d", n, err, benchDeleted)
		}
		done <- time.Since(start)
	}()
	latencies := bulkDeletes(b, db, ws, live, func(int) bool { return purging.Load() })
	took := <-done
	if len(latencies) < 100 {
		b.Fatalf("only %d bulks during the purge", len(latencies))
	}
	return latencies, took
}

// bulkDeletes sends bulk deletes of 50 live ids from benchClients clients while more(sent so
// far) holds, and returns their latencies.
func bulkDeletes(b *testing.B, db *sqlstore.DB, ws uuid.UUID, live []uuid.UUID, more func(sent int) bool) []time.Duration {
	ctx := context.Background()
	key := store.APIKey{ID: uuid.New(), WorkspaceID: ws, Name: "bench", Scopes: []string{"write"}, Hash: []byte(uuid.NewString()), CreatedAt: 1}
	if err := db.CreateAPIKey(ctx, key); err != nil {
		b.Fatal(err)
	}
	actor := store.Actor{KeyID: key.ID, KeyName: key.Name, Operation: "bulkDeleteConversations"}
	var (
		mu        sync.Mutex
		latencies []time.Duration
		next      int
		wg        sync.WaitGroup
	)
	take := func() []uuid.UUID {
		mu.Lock()
		defer mu.Unlock()
		if next+50 > len(live) || !more(next/50) {
			return nil
		}
		next += 50
		return live[next-50 : next]
	}
	for range benchClients {
		wg.Go(func() {
			for ids := take(); ids != nil; ids = take() {
				start := time.Now()
				if err := db.BulkDeleteConversations(ctx, ws, ids, actor); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(start)
				mu.Lock()
				latencies = append(latencies, d)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return latencies
}
