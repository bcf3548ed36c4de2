package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/fini-oss/conversations/server/store"
)

// opsPaths are the routes of the operational endpoints, outside the API and its validation.
var opsPaths = map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true}

// registerOps adds /healthz (the process is alive), /readyz (the database answers) and
// /metrics (Prometheus) to e.
func registerOps(e *echo.Echo, s store.Pinger, reg *prometheus.Registry, log *slog.Logger) {
	e.GET("/healthz", func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.GET("/readyz", func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
		defer cancel()
		if err := s.Ping(ctx); err != nil {
			log.WarnContext(ctx, "not ready", "error", err)
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unavailable"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
	})
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
}
