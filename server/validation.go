package server

import (
	"fmt"
	"log/slog"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/requestid"
)

// validationLog is the contract engine's Invalid hook: it counts the requests and responses
// that failed validation, and logs each response that broke the spec with what its
// ResponseError names (the location and the rule, never the value, which may be customer
// data).
type validationLog struct {
	log      *slog.Logger
	mode     contract.Mode
	failures *prometheus.CounterVec
}

func newValidationLog(log *slog.Logger, reg prometheus.Registerer, mode contract.Mode) (*validationLog, error) {
	failures := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fini_validation_failures_total",
		Help: "Requests refused by, and responses failing, validation against openapi.yaml, by kind.",
	}, []string{"kind"})
	if err := reg.Register(failures); err != nil {
		return nil, fmt.Errorf("server: validation metrics: %w", err)
	}
	failures.WithLabelValues(contract.Request.String())
	failures.WithLabelValues(contract.Response.String())
	if mode == "" {
		mode = contract.Enforce
	}
	return &validationLog{log: log, mode: mode, failures: failures}, nil
}

func (v *validationLog) observe(c echo.Context, op *contract.Operation, kind contract.Kind, err error) {
	v.failures.WithLabelValues(kind.String()).Inc()
	if kind != contract.Response {
		return
	}
	v.log.ErrorContext(c.Request().Context(), "response does not conform to openapi.yaml",
		"request_id", requestid.From(c), "operation", op.ID(), "mode", string(v.mode), "error", err.Error())
}
