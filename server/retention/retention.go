// Package retention is the server's retention loop. Every interval it hard-deletes the
// conversations soft-deleted longer ago than PurgeAfter (when set), prunes the deletion
// records older than AuditRetention (when set), and reports in Prometheus how far behind
// erasure is. Every replica runs it; the store's purge lock lets one purge at a time. It
// depends on store.
package retention

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/fini-oss/conversations/server/store"
)

// Batch is the most conversations (and records) one purge transaction removes: a batch holds
// the write lock (SQLite's only writer) for a few milliseconds, so requests never wait long
// behind a large purge.
const Batch = 500

// MinInterval is the shortest interval between runs: a run queries the database even when it
// has nothing to do, and a shorter one would keep a core busy for nothing.
const MinInterval = 100 * time.Millisecond

// Config configures New. Store and Interval are required.
type Config struct {
	Store store.Retention
	// PurgeAfter is how long a soft-deleted conversation is kept before it is purged; 0 never
	// purges.
	PurgeAfter time.Duration
	// AuditRetention is how long a deletion record is kept; 0 keeps records for ever.
	AuditRetention time.Duration
	// Interval is the time between runs; the first run starts at once.
	Interval time.Duration
	// Registry receives the metrics; default a new one.
	Registry prometheus.Registerer
	// Logger receives a line for each run that removed something, and each failure; default
	// slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Loop is the retention loop of one server.
type Loop struct {
	cfg Config

	purged, pruned prometheus.Counter
	lastSuccess    prometheus.Gauge
	oldestAge      prometheus.Gauge
}

// New checks cfg and registers the loop's metrics.
func New(cfg Config) (*Loop, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("retention: no store")
	case cfg.Interval < MinInterval:
		return nil, fmt.Errorf("retention: the interval must be at least %v, not %v", MinInterval, cfg.Interval)
	case cfg.PurgeAfter < 0 || cfg.AuditRetention < 0:
		return nil, errors.New("retention: durations cannot be negative")
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	l := &Loop{
		cfg: cfg,
		purged: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fini_purged_conversations_total",
			Help: "Soft-deleted conversations hard-deleted by this server's purge, each recorded in the deletion record.",
		}),
		pruned: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fini_audit_records_pruned_total",
			Help: "Deletion records removed by this server after their retention.",
		}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fini_purge_last_success_timestamp_seconds",
			Help: "When this server last completed a retention run without error (unix seconds; 0 before the first). " +
				"A run that found another replica purging does not count: alert on the newest of all replicas.",
		}),
		oldestAge: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "fini_purge_oldest_deleted_age_seconds",
			Help: "Age of the oldest soft-deleted conversation still stored, waiting to be purged (0 when there is none).",
		}),
	}
	for _, c := range []prometheus.Collector{l.purged, l.pruned, l.lastSuccess, l.oldestAge} {
		if err := cfg.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("retention: metrics: %w", err)
		}
	}
	return l, nil
}

// Start runs the loop until ctx ends or the returned func is called, which waits for the run
// in progress (its transaction rolls back when cancelled) to end.
func (l *Loop) Start(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.cfg.Interval)
		defer t.Stop()
		for {
			l.RunOnce(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// RunOnce purges, prunes and measures once, logging what it removed and what failed.
func (l *Loop) RunOnce(ctx context.Context) {
	now := l.cfg.Now()
	var purged, pruned int64
	var errs []error
	locked := false
	if l.cfg.PurgeAfter > 0 {
		n, err := l.cfg.Store.PurgeDeleted(ctx, now.Add(-l.cfg.PurgeAfter).UnixMilli(), Batch)
		purged = n
		l.purged.Add(float64(n))
		switch {
		case errors.Is(err, store.ErrPurgeLocked):
			locked = true // another replica is purging: this one's turn comes next interval
		case err != nil:
			errs = append(errs, err)
		}
	}
	if l.cfg.AuditRetention > 0 {
		n, err := l.cfg.Store.PruneAuditRecords(ctx, now.Add(-l.cfg.AuditRetention).UnixMilli(), Batch)
		pruned = n
		l.pruned.Add(float64(n))
		if err != nil {
			errs = append(errs, err)
		}
	}
	if at, ok, err := l.cfg.Store.OldestDeleted(ctx); err != nil {
		errs = append(errs, err)
	} else if ok {
		l.oldestAge.Set(max(0, float64(now.UnixMilli()-at)/1000))
	} else {
		l.oldestAge.Set(0)
	}
	if ctx.Err() != nil {
		return // shutting down: what was cut short rolled back
	}
	if err := errors.Join(errs...); err != nil {
		l.cfg.Logger.ErrorContext(ctx, "retention run failed", "purged", purged, "pruned", pruned, "error", err)
		return
	}
	if !locked {
		l.lastSuccess.Set(float64(now.Unix()))
	}
	if purged > 0 || pruned > 0 {
		l.cfg.Logger.InfoContext(ctx, "retention run", "purged", purged, "pruned", pruned)
	}
}
