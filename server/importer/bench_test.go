package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/importer"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
)

// demoLines returns n demo conversations as JSON Lines, each with a botId as an operator's
// export would have.
func demoLines(b testing.TB, n int, seed uint64) []byte {
	b.Helper()
	rnd := rand.New(rand.NewPCG(seed, 9))
	bot := uuid.New()
	var lines bytes.Buffer
	enc := json.NewEncoder(&lines)
	for range n {
		c := demo.Conversation(time.Now(), rnd)
		if err := enc.Encode(struct {
			api.PublicConversation
			BotID uuid.UUID `json:"botId"`
		}{c, bot}); err != nil {
			b.Fatal(err)
		}
	}
	return lines.Bytes()
}

// BenchmarkParse is the CPU cost of validating one line and making its stored row.
func BenchmarkParse(b *testing.B) {
	im, err := importer.New()
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(demoLines(b, 1000, 1)), []byte("\n"))
	ws := uuid.New()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := im.Parse(ws, lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImport imports 10,000 conversations per iteration into a fresh workspace of one
// store, on each engine; conversations/s is the figure that matters.
func BenchmarkImport(b *testing.B) {
	for _, engine := range []servertest.Engine{servertest.SQLite, servertest.Postgres} {
		b.Run("engine="+string(engine), func(b *testing.B) {
			s := servertest.OpenStore(b, engine)
			im, err := importer.New()
			if err != nil {
				b.Fatal(err)
			}
			const n = 10_000
			ctx := context.Background()
			var total time.Duration
			for i := 0; b.Loop(); i++ {
				b.StopTimer()
				ws := uuid.New()
				if err := s.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "bench", CreatedAt: 1}); err != nil {
					b.Fatal(err)
				}
				lines := demoLines(b, n, uint64(i+1))
				b.StartTimer()
				start := time.Now()
				if got, err := im.Import(ctx, s, ws, bytes.NewReader(lines)); err != nil || got != n {
					b.Fatalf("import: %d, %v", got, err)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "conversations/s")
		})
	}
}
