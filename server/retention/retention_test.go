package retention_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fini-oss/conversations/server/retention"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

var t0 = time.UnixMilli(1_764_000_000_000)

// deleted opens a store whose workspace has conversations soft-deleted at each of the given
// times after t0, and returns it with the conversations' ids.
func deleted(t *testing.T, after ...time.Duration) (*sqlstore.DB, []uuid.UUID) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "retention.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws := uuid.New()
	if err := db.CreateWorkspace(ctx, store.Workspace{ID: ws, Name: "w", CreatedAt: 1}); err != nil {
		t.Fatal(err)
	}
	key := store.APIKey{ID: uuid.New(), WorkspaceID: ws, Name: "ci", Scopes: []string{"write"}, Hash: []byte("ci"), CreatedAt: 1}
	if err := db.CreateAPIKey(ctx, key); err != nil {
		t.Fatal(err)
	}
	var ids []uuid.UUID
	for _, d := range after {
		id := uuid.New()
		ids = append(ids, id)
		if err := db.ImportConversations(ctx, store.All([]store.Conversation{{ID: id, WorkspaceID: ws, Source: "api", Body: []byte(`{}`)}})); err != nil {
			t.Fatal(err)
		}
		db.Now = func() time.Time { return t0.Add(d) }
		if err := db.DeleteConversation(ctx, ws, id, store.Actor{KeyID: key.ID, KeyName: key.Name, Operation: "deleteConversation"}); err != nil {
			t.Fatal(err)
		}
	}
	return db, ids
}

type loop struct {
	*retention.Loop
	reg *prometheus.Registry
	log *bytes.Buffer
}

func newLoop(t *testing.T, s store.Store, cfg retention.Config) loop {
	t.Helper()
	l := loop{reg: prometheus.NewRegistry(), log: &bytes.Buffer{}}
	cfg.Store, cfg.Registry, cfg.Logger = s, l.reg, slog.New(slog.NewJSONHandler(l.log, nil))
	if cfg.Interval == 0 {
		cfg.Interval = time.Minute
	}
	var err error
	if l.Loop, err = retention.New(cfg); err != nil {
		t.Fatal(err)
	}
	return l
}

func (l loop) metric(t *testing.T, name string) float64 {
	t.Helper()
	families, err := l.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			m := f.GetMetric()[0]
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func TestRunPurgesPrunesAndMeasures(t *testing.T) {
	db, _ := deleted(t, 0, 0, 50*time.Second)
	now := t0.Add(90 * time.Second)
	db.Now = func() time.Time { return now }
	l := newLoop(t, db, retention.Config{PurgeAfter: time.Minute, AuditRetention: 70 * time.Second, Now: func() time.Time { return now }})
	if got := l.metric(t, "fini_purge_last_success_timestamp_seconds"); got != 0 {
		t.Errorf("last success before any run = %v, want 0", got)
	}
	l.RunOnce(context.Background())

	// Deleted 90 s ago, purged (cut-off 60 s); deleted 40 s ago, waiting. The two deletion
	// records of t0 are older than 70 s and pruned; the rest stay.
	for name, want := range map[string]float64{
		"fini_purged_conversations_total":           2,
		"fini_audit_records_pruned_total":           2,
		"fini_purge_last_success_timestamp_seconds": float64(now.Unix()),
		"fini_purge_oldest_deleted_age_seconds":     40,
	} {
		if got := l.metric(t, name); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	if log := l.log.String(); !strings.Contains(log, `"msg":"retention run","purged":2,"pruned":2`) {
		t.Errorf("log = %s, want a retention run line with purged 2 and pruned 2", log)
	}

	// Once everything is purged, nothing waits.
	now = now.Add(time.Minute)
	l.RunOnce(context.Background())
	if got := l.metric(t, "fini_purge_oldest_deleted_age_seconds"); got != 0 {
		t.Errorf("oldest deleted age with none left = %v, want 0", got)
	}
	if got := l.metric(t, "fini_purged_conversations_total"); got != 3 {
		t.Errorf("purged = %v, want 3", got)
	}
}

func TestPurgeOffPurgesNothing(t *testing.T) {
	db, _ := deleted(t, 0)
	now := t0.Add(400 * 24 * time.Hour)
	l := newLoop(t, db, retention.Config{Now: func() time.Time { return now }})
	l.RunOnce(context.Background())
	if at, ok, err := db.OldestDeleted(context.Background()); err != nil || !ok || at != t0.UnixMilli() {
		t.Errorf("without --purge-after the conversation was purged: %d, %v, %v", at, ok, err)
	}
	if got := l.metric(t, "fini_purge_oldest_deleted_age_seconds"); got != 400*24*3600 {
		t.Errorf("oldest deleted age = %v, want 400 days", got)
	}
}

// lockedStore is a store whose purge always finds another replica purging.
type lockedStore struct{ store.Store }

func (lockedStore) PurgeDeleted(context.Context, int64, int) (int64, error) {
	return 0, store.ErrPurgeLocked
}

// failingStore is a store whose purge fails.
type failingStore struct{ store.Store }

func (failingStore) PurgeDeleted(context.Context, int64, int) (int64, error) {
	return 1, errors.New("disk I/O error")
}

func TestLockedOrFailedRunIsNoSuccess(t *testing.T) {
	db, _ := deleted(t, 0)
	now := func() time.Time { return t0.Add(time.Hour) }

	locked := newLoop(t, lockedStore{db}, retention.Config{PurgeAfter: time.Minute, Now: now})
	locked.RunOnce(context.Background())
	if got := locked.metric(t, "fini_purge_last_success_timestamp_seconds"); got != 0 {
		t.Errorf("a run that found another replica purging set last success to %v", got)
	}
	if locked.log.Len() != 0 {
		t.Errorf("another replica purging is no failure, yet: %s", locked.log)
	}

	failing := newLoop(t, failingStore{db}, retention.Config{PurgeAfter: time.Minute, Now: now})
	failing.RunOnce(context.Background())
	if got := failing.metric(t, "fini_purge_last_success_timestamp_seconds"); got != 0 {
		t.Errorf("a failed run set last success to %v", got)
	}
	if got := failing.metric(t, "fini_purged_conversations_total"); got != 1 {
		t.Errorf("purged = %v, want the 1 the failed run removed before failing", got)
	}
	if log := failing.log.String(); !strings.Contains(log, `"msg":"retention run failed"`) || !strings.Contains(log, "disk I/O error") {
		t.Errorf("log = %s, want the failure", log)
	}
}

// lines sends each log line written to it on a channel.
type lines chan string

func (l lines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

func TestStartRunsAtOnceAndStops(t *testing.T) {
	db, _ := deleted(t, 0)
	log := make(lines, 1)
	l, err := retention.New(retention.Config{Store: db, PurgeAfter: time.Millisecond, Interval: time.Hour,
		Logger: slog.New(slog.NewJSONHandler(log, nil))})
	if err != nil {
		t.Fatal(err)
	}
	stop := l.Start(context.Background())
	// The first run starts at once, not after the hour.
	select {
	case line := <-log:
		if !strings.Contains(line, `"msg":"retention run","purged":1`) {
			t.Errorf("first run logged %s", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no run within 30 s of Start")
	}
	stop()
	if _, ok, err := db.OldestDeleted(context.Background()); err != nil || ok {
		t.Errorf("after the first run a deleted conversation is still stored: %v, %v", ok, err)
	}
}

func TestConfigChecked(t *testing.T) {
	for _, cfg := range []retention.Config{
		{Interval: time.Minute},
		{Store: lockedStore{}, Interval: 0},
		{Store: lockedStore{}, Interval: time.Nanosecond}, // would keep a core busy doing nothing
		{Store: lockedStore{}, Interval: time.Minute, PurgeAfter: -time.Second},
	} {
		if _, err := retention.New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}
