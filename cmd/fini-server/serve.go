package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fini-oss/conversations/cmd/internal/envflag"
	"github.com/fini-oss/conversations/server"
	"github.com/fini-oss/conversations/server/demo"
	"github.com/fini-oss/conversations/server/store"
)

// demoConversations is how many conversations --demo seeds.
const demoConversations = 300

// shutdownGrace is how long in-flight requests get to finish after SIGTERM or SIGINT.
const shutdownGrace = 20 * time.Second

func (a *app) serveCmd() *cobra.Command {
	var (
		addr, validation string
		seedDemo         bool
	)
	cmd := &cobra.Command{
		Use:   "serve [--addr HOST:PORT] [--demo]",
		Short: "Serve the API (migrates the database first)",
		Long: `Serve the Conversations API. Every request and response is validated against the
embedded openapi.yaml; --response-validation (env FINI_RESPONSE_VALIDATION) says what a
non-conforming response does: enforce (a 500, the default), report (logged) or off.

--demo seeds an empty database with a demo workspace, a read+write key (printed once) and
a few hundred conversations. SIGTERM and SIGINT let in-flight requests finish, then exit 0.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode, err := server.ParseValidationMode(validation)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return a.serve(ctx, addr, mode, seedDemo)
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "listen address (env FINI_ADDR)")
	cmd.Flags().StringVar(&validation, "response-validation", "enforce", "enforce, report or off (env FINI_RESPONSE_VALIDATION)")
	envflag.Bind(cmd.Flags(), "addr", "FINI_ADDR")
	envflag.Bind(cmd.Flags(), "response-validation", "FINI_RESPONSE_VALIDATION")
	cmd.Flags().BoolVar(&seedDemo, "demo", false, "seed an empty database with demo data and print a key")
	return cmd
}

func (a *app) logger() *slog.Logger {
	if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return slog.New(slog.NewTextHandler(a.stderr, nil))
	}
	return slog.New(slog.NewJSONHandler(a.stderr, nil))
}

func (a *app) serve(ctx context.Context, addr string, mode server.ValidationMode, seedDemo bool) error {
	log := a.logger()
	s, err := a.openStore(ctx)
	if err != nil {
		return err
	}
	defer s.Close()
	srv, err := server.New(server.Config{Store: s, Logger: log, ResponseValidation: mode})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if seedDemo {
		if err := a.seedDemo(ctx, s, ln.Addr().String()); err != nil {
			ln.Close()
			return err
		}
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20, // the API itself refuses more than server.MaxHeaderBytes, in its envelope
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", "addr", ln.Addr().String(), "response_validation", string(mode))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	atSignal := srv.InFlight()
	log.Info("shutting down: finishing in-flight requests", "in_flight", atSignal)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	err = hs.Shutdown(shutdownCtx)
	log.Info("shut down", "in_flight_at_signal", atSignal, "unfinished", srv.InFlight())
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

func (a *app) seedDemo(ctx context.Context, s store.Store, addr string) error {
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
	base := "http://" + addr
	fmt.Fprintf(a.stdout, `
Demo workspace %s seeded with %d conversations.
API key (read, write), shown only now:

  export FINI_API_KEY=%s

Delete one demo conversation:

  curl --request DELETE \
    --url '%s/v2/hc-interactions/%s/public' \
    --header "Authorization: Bearer $FINI_API_KEY"

List the latest ones:  curl -H "Authorization: Bearer $FINI_API_KEY" '%s/v2/hc-interactions/public?limit=5'

`, r.WorkspaceID, len(r.ConversationIDs), r.Key, base, r.ConversationIDs[0], base)
	return nil
}
