package server

import (
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fini-oss/conversations/internal/version"
	"github.com/fini-oss/conversations/server/store"
)

// opsPaths are the routes of the operational endpoints, outside the API and its validation.
var opsPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// health is the body of /healthz: the process is alive, and which build serves.
type health struct {
	Status  string       `json:"status"`
	Version version.Info `json:"version"`
}

// registerOps adds /healthz (the process is alive, and its version), /readyz (the database
// answers) and /metrics (Prometheus, with fini_build_info) to e.
func registerOps(e *echo.Echo, s store.Pinger, reg *prometheus.Registry, log *slog.Logger) error {
	build := version.Get()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "fini_build_info",
		Help: "The build that serves: always 1, its version, commit, API contract version and Go version as labels.",
		ConstLabels: prometheus.Labels{"version": build.Version, "commit": build.Commit,
			"spec_version": build.SpecVersion, "go_version": build.GoVersion},
	})
	info.Set(1)
	if err := reg.Register(info); err != nil {
		return fmt.Errorf("server: build info metric: %w", err)
	}
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, health{Status: "ok", Version: build})
	})
	// /readyz waits for the database as long as the API does: the store bounds each call by
	// its own deadline (--db-timeout), so a database slow but within it is ready, as the API
	// answers, and a stalled one is not ready within that bound.
	e.GET("/readyz", func(c echo.Context) error {
		ctx := c.Request().Context()
		if err := s.Ping(ctx); err != nil {
			log.WarnContext(ctx, "not ready", "error", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	return nil
}
