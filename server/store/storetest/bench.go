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

// BenchmarkBulkDelete times bulk deletes of 50 live conversations from clients concurrent
// clients, each request waiting for the one before it (as a client does), over a workspace
// of realistic conversations (bodies of about 2 KB). It reports the latency percentiles of
// the bulks and the rows deleted a second. s must be a fresh store.
func BenchmarkBulkDelete(b *testing.B, s store.Store, clients int) {
	const perClient, size = 25, 50
	ctx := context.Background()
	var lat []time.Duration
	rows := 0
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		ws := uuid.New()
		if err := s.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "bench", CreatedAt: base}); err != nil {
			b.Fatal(err)
		}
		cs := make([]store.Conversation, clients*perClient*size)
		for i := range cs {
			cs[i] = realistic(ws, base+int64(i))
		}
		if err := s.ImportConversations(ctx, store.All(cs)); err != nil {
			b.Fatal(err)
		}
		actor := keyActor(b, s, ws, "bench", "bulkDeleteConversations")
		// A bulk names conversations from all over the workspace, as a customer's erasure
		// does, not neighbours in the table.
		rand.New(rand.NewPCG(1, 2)).Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
		b.StartTimer()
		var (
			mu sync.Mutex
			wg sync.WaitGroup
		)
		start := time.Now()
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mine := cs[c*perClient*size : (c+1)*perClient*size]
				for k := range perClient {
					ids := make([]uuid.UUID, size)
					for i := range ids {
						ids[i] = mine[k*size+i].ID
					}
					t0 := time.Now()
					if err := s.BulkDeleteConversations(ctx, ws, ids, actor); err != nil {
						b.Error(err)
						return
					}
					d := time.Since(t0)
					mu.Lock()
					lat = append(lat, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		elapsed += time.Since(start)
		rows += len(cs)
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
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
