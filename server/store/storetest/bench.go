package storetest

import (
	"context"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// BulksPerClient is how many bulk deletes of 50 each client of BenchmarkBulkDelete sends.
const BulksPerClient = 50

// BenchmarkBulkDelete times bulk deletes of 50 live conversations from clients concurrent
// clients, each request waiting for the one before it (as a client does), over a workspace
// of realistic conversations (bodies of about 2 KB). It reports the latency percentiles of
// the bulks and the rows deleted a second. s must be a fresh store.
func BenchmarkBulkDelete(b *testing.B, s store.Store, clients int) {
	var bulks Bulks
	for b.Loop() {
		b.StopTimer()
		ws, ids, warm := SeedBulks(b, s, clients)
		actor := BenchActor(b, s, ws)
		if err := s.BulkDeleteConversations(context.Background(), ws, warm, actor); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		bulks.Send(b, clients, ids, func(ctx context.Context, ids []uuid.UUID) error {
			return s.BulkDeleteConversations(ctx, ws, ids, actor)
		})
	}
	bulks.Report(b)
}

// SeedBulks adds to s a workspace with the conversations that clients clients delete in
// BulksPerClient bulks of 50 each, and returns it with their ids, in the order to delete
// them: a bulk names conversations from all over the workspace, as a customer's erasure
// does, not neighbours in the table. Warm are 50 more, for a bulk before the clock starts.
func SeedBulks(tb testing.TB, s store.Store, clients int) (ws uuid.UUID, ids, warm []uuid.UUID) {
	tb.Helper()
	ctx := context.Background()
	ws = uuid.New()
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "bench", CreatedAt: base}); err != nil {
		tb.Fatal(err)
	}
	cs := make([]store.Conversation, clients*BulksPerClient*bulkSize+bulkSize)
	for i := range cs {
		cs[i] = realistic(ws, base+int64(i))
	}
	if err := s.ImportConversations(ctx, store.All(cs)); err != nil {
		tb.Fatal(err)
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	ids = make([]uuid.UUID, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return ws, ids[bulkSize:], ids[:bulkSize]
}

// bulkSize is how many ids a bulk delete of the benchmarks names: the spec's maximum.
const bulkSize = 50

// Bulks are the latencies of bulk deletes and the rows they deleted, over one or more runs
// of Send.
type Bulks struct {
	latencies []time.Duration
	rows      int
	elapsed   time.Duration
}

// Send runs clients concurrent clients that delete ids by bulk, BulksPerClient bulks of 50
// each, each waiting for its previous one, and adds their latencies.
func (r *Bulks) Send(b *testing.B, clients int, ids []uuid.UUID, bulk func(ctx context.Context, ids []uuid.UUID) error) {
	ctx := context.Background()
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := ids[c*BulksPerClient*bulkSize : (c+1)*BulksPerClient*bulkSize]
			for bulkIDs := range slices.Chunk(mine, bulkSize) {
				t0 := time.Now()
				if err := bulk(ctx, bulkIDs); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				r.latencies = append(r.latencies, d)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	r.elapsed += time.Since(start)
	r.rows += clients * BulksPerClient * bulkSize
}

// Report reports the bulks' median and 99th percentile latencies (p50-ms, p99-ms) and the
// rows deleted a second.
func (r *Bulks) Report(b *testing.B) {
	if len(r.latencies) == 0 {
		return
	}
	lat := slices.Sorted(slices.Values(r.latencies))
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(float64(r.rows)/r.elapsed.Seconds(), "rows/s")
}

// BenchActor is who the benchmarks' deletes in ws are recorded as done by: a new valid key of
// ws, as the server passes a request's (a delete commits only while its key is valid). It
// needs of s only what every version of the store has, so that make bench can build it into
// an older tree too.
func BenchActor(tb testing.TB, s interface {
	CreateAPIKey(context.Context, store.APIKey) error
}, ws uuid.UUID) store.Actor {
	tb.Helper()
	id := uuid.New()
	k := store.APIKey{ID: id, WorkspaceID: ws, Name: "bench", Scopes: []string{"read", "write"}, Hash: id[:], CreatedAt: base}
	if err := s.CreateAPIKey(context.Background(), k); err != nil {
		tb.Fatalf("create the bench key: %v", err)
	}
	return store.Actor{KeyID: id, KeyName: "bench", RequestID: "bench", Operation: "bulkDeleteConversations"}
}

// realisticText is the text of a realistic conversation, quoted once: quoting it for each
// conversation took half the CPU profile of a store benchmark, which should show the store.
var realisticText = strconv.Quote(strings.Repeat("How do I reset my password? ", 70))

// realistic is a conversation with a body of about 2 KB, the size of a demo conversation.
func realistic(ws uuid.UUID, at int64) store.Conversation {
	c := conv(ws, at, []string{"widget", "api", "ui", "zendesk"}[at%4])
	c.Body = []byte(`{"id":"` + c.ID.String() + `","text":` + realisticText + `}`)
	return c
}

// BenchDeletes measures real deletes on s, a new empty store, which it fills: one a call
// (op=delete) and bulks of 50 (op=bulk50), each over conversations of about 1.5 KB that are
// live until then. Engines call it from a Benchmark; the iteration count is bounded by the
// 20,000 conversations each op seeds (-benchtime at most 20000x, or 400x for bulks).
func BenchDeletes(b *testing.B, open func(b *testing.B) store.Store) {
	ctx := context.Background()
	b.Run("op=delete", func(b *testing.B) {
		s, ws, ids := benchStore(b, open(b), 20_000)
		actor := keyActor(b, s, ws, "bench", "deleteConversation")
		i := 0
		for b.Loop() {
			if i == len(ids) {
				b.Fatal("out of live conversations: use -benchtime of at most 20000x")
			}
			if err := s.DeleteConversation(ctx, ws, ids[i], actor); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("op=bulk50", func(b *testing.B) {
		s, ws, ids := benchStore(b, open(b), 20_000)
		actor := keyActor(b, s, ws, "bench", "bulkDeleteConversations")
		i := 0
		for b.Loop() {
			if i+50 > len(ids) {
				b.Fatalf("out of live conversations: use -benchtime of at most %dx", len(ids)/50)
			}
			if err := s.BulkDeleteConversations(ctx, ws, ids[i:i+50], actor); err != nil {
				b.Fatal(err)
			}
			i += 50
		}
	})
}

// benchStore gives s one workspace of n conversations of about 1.5 KB.
func benchStore(b *testing.B, s store.Store, n int) (store.Store, uuid.UUID, []uuid.UUID) {
	b.Helper()
	ctx := context.Background()
	ws := uuid.New()
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "bench", CreatedAt: 1}); err != nil {
		b.Fatal(err)
	}
	ids := make([]uuid.UUID, n)
	cs := make([]store.Conversation, 0, 1000)
	body := `{"subjectPreview":"` + strings.Repeat("How do I reset my password? ", 50) + `"}`
	for i := range ids {
		ids[i] = uuid.New()
		cs = append(cs, store.Conversation{ID: ids[i], WorkspaceID: ws, Source: "api", CreatedAt: int64(i), LastMessageAt: int64(i), Body: []byte(body)})
		if len(cs) == cap(cs) || i == n-1 {
			if err := s.ImportConversations(ctx, store.All(cs)); err != nil {
				b.Fatal(err)
			}
			cs = cs[:0]
		}
	}
	return s, ws, ids
}
