package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/importer"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
)

// scaleRow is the figures at one size.
type scaleRow struct {
	Conversations int     `json:"conversations"`
	ImportPerSec  float64 `json:"import_per_sec"`
	GetP50ms      float64 `json:"get_p50_ms"`
	GetP99ms      float64 `json:"get_p99_ms"`
	ListP50ms     float64 `json:"list50_p50_ms"`
	ListP99ms     float64 `json:"list50_p99_ms"`
	DBBytes       int64   `json:"db_bytes"`
}

func scaleCmd() *cobra.Command {
	var (
		sizes   []int
		samples int
		dir     string
	)
	cmd := &cobra.Command{
		Use:   "scale --sizes 10000,100000,1000000",
		Short: "Grow one SQLite workspace through the sizes; time import, get and list (limit 50) in-process",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				d, err := os.MkdirTemp("", "fini-scale")
				if err != nil {
					return err
				}
				defer os.RemoveAll(d)
				dir = d
			}
			return scale(cmd.Context(), dir, sizes, samples)
		},
	}
	cmd.Flags().IntSliceVar(&sizes, "sizes", []int{10_000, 100_000, 1_000_000}, "workspace sizes, ascending")
	cmd.Flags().IntVar(&samples, "samples", 2000, "requests timed per operation and size")
	cmd.Flags().StringVar(&dir, "dir", "", "where the database goes (default a temporary directory)")
	return cmd
}

func scale(ctx context.Context, dir string, sizes []int, samples int) error {
	path := filepath.Join(dir, "scale.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		return err
	}
	defer db.Close()
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "scale", CreatedAt: 1}); err != nil {
		return err
	}
	key, hash, err := apikey.Generate()
	if err != nil {
		return err
	}
	if err := db.CreateAPIKey(ctx, store.APIKey{ID: uuid.New(), WorkspaceID: ws, Scopes: []string{"read"}, Hash: hash, CreatedAt: 1}); err != nil {
		return err
	}
	srv, err := server.New(server.Config{Store: db, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	im, err := importer.New()
	if err != nil {
		return err
	}
	rnd := rand.New(rand.NewPCG(31, 32))
	now := time.Now()
	var ids []uuid.UUID
	have := 0
	enc := json.NewEncoder(os.Stdout)
	for _, size := range sizes {
		// Import in files of 10,000 lines, the way an operator would, timing only the import.
		var importTime time.Duration
		before := have
		for have < size {
			n := min(10_000, size-have)
			var lines bytes.Buffer
			e := json.NewEncoder(&lines)
			for range n {
				c := demo.Conversation(now, rnd)
				ids = append(ids, c.ID)
				if err := e.Encode(c); err != nil {
					return err
				}
			}
			start := time.Now()
			if _, err := im.Import(ctx, db, ws, &lines); err != nil {
				return err
			}
			importTime += time.Since(start)
			have += n
		}
		row := scaleRow{Conversations: size}
		if importTime > 0 {
			row.ImportPerSec = float64(have-before) / importTime.Seconds()
		}
		get := func(i int) string { return "/v2/hc-interactions/" + ids[rnd.IntN(len(ids))].String() + "/public" }
		list := func(i int) string {
			return "/v2/hc-interactions/public?limit=50&cursor=" + ids[rnd.IntN(len(ids))].String()
		}
		if row.GetP50ms, row.GetP99ms, err = timeRequests(srv, key, get, samples); err != nil {
			return err
		}
		if row.ListP50ms, row.ListP99ms, err = timeRequests(srv, key, list, samples); err != nil {
			return err
		}
		if fi, err := os.Stat(path); err == nil {
			row.DBBytes = fi.Size()
		}
		if err := enc.Encode(row); err != nil {
			return err
		}
	}
	return nil
}

func timeRequests(h http.Handler, key string, target func(int) string, samples int) (p50, p99 float64, err error) {
	lat := make([]time.Duration, 0, samples)
	for i := range samples + samples/10 { // the first tenth warms up
		req := httptest.NewRequest(http.MethodGet, target(i), nil)
		req.Header.Set("Authorization", "Bearer "+key)
		rec := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(rec, req)
		d := time.Since(start)
		if rec.Code != http.StatusOK {
			return 0, 0, fmt.Errorf("%s: %d %s", target(i), rec.Code, strings.TrimSpace(rec.Body.String()))
		}
		if i >= samples/10 {
			lat = append(lat, d)
		}
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 {
		v, _ := strconv.ParseFloat(fmt.Sprintf("%.3f", d.Seconds()*1000), 64)
		return v
	}
	return ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), nil
}
