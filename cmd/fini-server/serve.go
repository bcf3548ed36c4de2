package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fini-oss/conversations/cmd/internal/envflag"
	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/logline"
	"github.com/fini-oss/conversations/server/ratelimit"
	"github.com/fini-oss/conversations/server/retention"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
	"github.com/fini-oss/conversations/server/store/storetrace"
)

// demoConversations is how many conversations --demo seeds.
const demoConversations = 300

// shutdownGrace is how long in-flight requests get to finish after SIGTERM or SIGINT.
const shutdownGrace = 20 * time.Second

// maxServeDBTimeout bounds serve's --db-timeout. A request waits for the database
// --db-timeout in all (its key, its key's use, its operation), and so does a purge batch:
// with half the grace, a shutdown while the database stalls finishes the requests under way
// within shutdownGrace even on a loaded machine.
const maxServeDBTimeout = (shutdownGrace - time.Second) / 2

// serveOptions are the flags of serve.
type serveOptions struct {
	addr, adminAddr string
	tlsCert, tlsKey string
	validation      string
	mode            contract.Mode
	rateLimit       string
	rateBurst       int
	limit           ratelimit.RateLimit
	seedDemo        bool
	// The retention loop's: purge after (0: never), its interval, the records' retention.
	purgeAfter, purgeInterval, auditRetention duration
}

func (a *app) serveCmd() *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--admin-addr HOST:PORT] [--tls-cert FILE --tls-key FILE] [--demo]",
		Short: "Serve the API (migrates the database first)",
		Long: `Serve the Conversations API. Every request and response is validated against the
embedded openapi.yaml; --response-validation (env FINI_RESPONSE_VALIDATION) says what a
non-conforming response does: enforce (a 500, the default), report (logged) or off.

/healthz, /readyz and /metrics are served on --addr beside the API unless --admin-addr
(env FINI_ADMIN_ADDR) names a listener of their own, which keeps them off a public address.
--tls-cert and --tls-key (env FINI_TLS_CERT, FINI_TLS_KEY) serve the API over HTTPS; the
admin listener stays plain HTTP, for a private network.

--rate-limit (env FINI_RATE_LIMIT) limits the requests of each API key: N/s or N/m, in bursts
of --rate-burst (env FINI_RATE_BURST; default one second's worth, at least 1). Over it, a 429
with Retry-After; every API answer then carries the RateLimit-Policy and RateLimit headers.
Each replica limits on its own: N replicas allow N times the rate.

When OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, every API
request is traced and exported over OTLP/HTTP (the other OTEL_* variables apply too).

--demo seeds an empty database with a demo workspace, a read+write key (printed once) and
a few hundred conversations. SIGTERM and SIGINT let in-flight requests finish, then exit 0.

Every --purge-interval the server hard-deletes the conversations soft-deleted longer ago
than --purge-after (off by default), in transactions of a few hundred, recording each in
the deletion record, and prunes deletion records older than --audit-retention (365d by
default; 0 keeps them for ever). Replicas on one PostgreSQL take turns: one purges at a
time. Durations are Go's (720h, 90m) or whole days (30d).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if o.mode, err = contract.ParseMode(o.validation); err != nil {
				return err
			}
			if (o.tlsCert == "") != (o.tlsKey == "") {
				return errors.New("--tls-cert and --tls-key go together: give both, or neither")
			}
			if o.limit, err = parseRateLimit(o.rateLimit, o.rateBurst); err != nil {
				return err
			}
			if time.Duration(a.dbTimeout) > maxServeDBTimeout {
				return fmt.Errorf("--db-timeout %s: serve takes at most %s, so that SIGTERM finishes the requests under way within %s even while the database stalls",
					&a.dbTimeout, maxServeDBTimeout, shutdownGrace)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return a.serve(ctx, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.addr, "addr", "127.0.0.1:8080", "listen address of the API (env FINI_ADDR)")
	f.StringVar(&o.adminAddr, "admin-addr", "", "listen address of /healthz, /readyz and /metrics; default: on --addr (env FINI_ADMIN_ADDR)")
	f.StringVar(&o.tlsCert, "tls-cert", "", "PEM certificate (chain) file: serve the API over HTTPS (env FINI_TLS_CERT)")
	f.StringVar(&o.tlsKey, "tls-key", "", "PEM private key file of --tls-cert (env FINI_TLS_KEY)")
	f.StringVar(&o.validation, "response-validation", "enforce", "enforce, report or off (env FINI_RESPONSE_VALIDATION)")
	f.StringVar(&o.rateLimit, "rate-limit", "off", "requests per API key: off, N/s or N/m (env FINI_RATE_LIMIT)")
	f.IntVar(&o.rateBurst, "rate-burst", 0, "requests a key may send at once; default one second's worth, at least 1 (env FINI_RATE_BURST)")
	o.purgeInterval, o.auditRetention = duration(time.Minute), duration(365*day)
	f.Var(&o.purgeAfter, "purge-after", "hard-delete conversations soft-deleted longer ago than this, e.g. 30d; 0: never (env FINI_PURGE_AFTER)")
	f.Var(&o.purgeInterval, "purge-interval", "how often to purge and prune (env FINI_PURGE_INTERVAL)")
	f.Var(&o.auditRetention, "audit-retention", "how long deletion records are kept; 0: for ever (env FINI_AUDIT_RETENTION)")
	for flag, env := range map[string]string{"addr": "FINI_ADDR", "admin-addr": "FINI_ADMIN_ADDR", "tls-cert": "FINI_TLS_CERT",
		"tls-key": "FINI_TLS_KEY", "response-validation": "FINI_RESPONSE_VALIDATION", "rate-limit": "FINI_RATE_LIMIT",
		"rate-burst": "FINI_RATE_BURST", "purge-after": "FINI_PURGE_AFTER", "purge-interval": "FINI_PURGE_INTERVAL",
		"audit-retention": "FINI_AUDIT_RETENTION"} {
		envflag.Bind(f, flag, env)
	}
	f.BoolVar(&o.seedDemo, "demo", false, "seed an empty database with demo data and print a key")
	return cmd
}

func (a *app) logger() *slog.Logger {
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(a.stderr, nil))
	}
	// One JSON line a request: logline writes what slog's JSON handler would, at less cost.
	return slog.New(logline.New(a.stderr, nil))
}

// listener is one HTTP server on its own address.
type listener struct {
	name string
	ln   net.Listener
	hs   *http.Server
	tls  bool
}

func (a *app) serve(ctx context.Context, o serveOptions) error {
	log := a.logger()
	var tlsConfig *tls.Config
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert, --tls-key: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	var opts []sqlstore.Option
	if _, ok := a.sqlitePath(); ok {
		opts = append(opts, a.checkpointProcess(log))
	}
	s, err := a.openStore(ctx, opts...)
	if err != nil {
		return a.fullDisk(err)
	}
	defer s.Close()
	reg := prometheus.NewRegistry()
	if path, ok := a.sqlitePath(); ok {
		if err := reg.Register(sqlite.Metrics(path)); err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
	}
	cfg := server.Config{Store: s, Logger: log, ResponseValidation: o.mode, RateLimit: o.limit, Registry: reg}
	tp, err := startTracing(ctx, log)
	if err != nil {
		return err
	}
	if tp != nil {
		defer stopTracing(tp, log)
		cfg.TracerProvider = tp
		cfg.Store = storetrace.Wrap(s, tp, a.dbSystem())
	}
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	loop, err := retention.New(retention.Config{Store: s, PurgeAfter: time.Duration(o.purgeAfter),
		Interval: time.Duration(o.purgeInterval), AuditRetention: time.Duration(o.auditRetention), Registry: reg, Logger: log})
	if err != nil {
		return fmt.Errorf("--purge-interval: %w", err)
	}
	api := http.Handler(srv)
	if o.adminAddr != "" {
		api = srv.API()
	}
	listeners := []*listener{{name: "api", hs: newHTTPServer(api, log), tls: tlsConfig != nil}}
	listeners[0].hs.TLSConfig = tlsConfig
	if o.adminAddr != "" {
		listeners = append(listeners, &listener{name: "admin", hs: newHTTPServer(srv.Ops(), log)})
	}
	addrs := []string{o.addr, o.adminAddr}
	for i, l := range listeners {
		if l.ln, err = net.Listen("tcp", addrs[i]); err != nil {
			closeAll(listeners)
			return fmt.Errorf("listen (%s): %w", l.name, err)
		}
	}
	scheme := "http"
	if tlsConfig != nil {
		scheme = "https"
	}
	if o.seedDemo {
		if err := a.seedDemo(ctx, s, scheme+"://"+listeners[0].ln.Addr().String()); err != nil {
			closeAll(listeners)
			return a.fullDisk(err)
		}
	}
	errc := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() {
			if l.tls {
				errc <- l.hs.ServeTLS(l.ln, "", "")
				return
			}
			errc <- l.hs.Serve(l.ln)
		}()
	}
	stopRetention := loop.Start(ctx)
	defer stopRetention() // deferred after the store's Close, so it runs before it
	log.Info("retention", "purge_after", o.purgeAfter.String(), "purge_interval", o.purgeInterval.String(),
		"audit_retention", o.auditRetention.String())
	attrs := []any{"addr", listeners[0].ln.Addr().String(), "tls", tlsConfig != nil, "response_validation", string(o.mode),
		"rate_limit", o.limit.String(), "tracing", tp != nil, "gomaxprocs", runtime.GOMAXPROCS(0)}
	if len(listeners) > 1 {
		attrs = append(attrs, "admin_addr", listeners[1].ln.Addr().String())
	}
	log.Info("serving", attrs...)

	select {
	case err := <-errc:
		closeAll(listeners)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	atSignal := srv.InFlight()
	log.Info("shutting down: finishing in-flight requests", "in_flight", atSignal)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	var shutdownErr error
	for _, l := range listeners {
		shutdownErr = errors.Join(shutdownErr, l.hs.Shutdown(shutdownCtx))
	}
	log.Info("shut down", "in_flight_at_signal", atSignal, "unfinished", srv.InFlight())
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	for range listeners {
		if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("serve: %w", err)
		}
	}
	return nil
}

func newHTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20, // the API itself refuses more than server.MaxHeaderBytes, in its envelope
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func closeAll(ls []*listener) {
	for _, l := range ls {
		if l.ln != nil {
			l.ln.Close()
		}
	}
}

func (a *app) seedDemo(ctx context.Context, s store.Store, base string) error {
	used, err := s.HasWorkspaces(ctx)
	if err != nil {
		return err
	}
	if used {
		fmt.Fprintln(a.stderr, "--demo: the database already has data, so no demo was seeded (keys are stored hashed and cannot be shown again).")
		return nil
	}
	r, err := demo.Seed(ctx, s, demoConversations, time.Now(), rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1)))
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, `
Demo workspace %s seeded with %d conversations.
API key (read, write), shown only now:

  export FINI_API_KEY=%s

Delete one demo conversation:

  curl --request DELETE \
    --url '%s/v2/hc-interactions/%s/public' \
    --header "Authorization: Bearer $FINI_API_KEY"

List the latest ones:  curl -H "Authorization: Bearer $FINI_API_KEY" '%s/v2/hc-interactions/public?limit=5'

The API reference, in a browser:  %s/docs

`, r.WorkspaceID, len(r.ConversationIDs), r.Key, base, r.ConversationIDs[0], base, base)
	return nil
}

// parseRateLimit reads --rate-limit and --rate-burst.
func parseRateLimit(limit string, burst int) (ratelimit.RateLimit, error) {
	r, err := ratelimit.Parse(limit)
	if err != nil {
		return r, fmt.Errorf("--rate-limit: %w", err)
	}
	switch {
	case burst < 0 || burst > ratelimit.MaxBurst:
		return r, fmt.Errorf("--rate-burst %d: want from 1 to %d (or 0, one second's worth)", burst, ratelimit.MaxBurst)
	case burst > 0 && !r.On():
		return r, errors.New("--rate-burst needs --rate-limit")
	}
	r.Burst = burst
	return r, nil
}
