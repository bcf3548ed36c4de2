// Package storetrace traces the store calls of the API's requests (store.API) with
// OpenTelemetry: each call is a client span named after the method, with the database
// semantic conventions' db.system.name and db.operation.name, a child of the caller's span. Nothing a call is given
// or returns (a key's hash, an id, a conversation) is recorded, and neither are driver
// errors, which the log has. It depends on store only.
package storetrace

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/fini-oss/conversations/server/store"
)

// The db.system.name values of the two engines.
const (
	SQLite     = "sqlite"
	PostgreSQL = "postgresql"
)

// instrumentationName names the tracer of this package, as OpenTelemetry asks.
const instrumentationName = "github.com/fini-oss/conversations/server/store/storetrace"

// Wrap returns s with every call traced by tp; system is the engine's db.system.name (SQLite
// or PostgreSQL).
func Wrap(s store.API, tp trace.TracerProvider, system string) store.API {
	return &traced{next: s, tracer: tp.Tracer(instrumentationName), system: semconv.DBSystemNameKey.String(system)}
}

// traced is a store.API whose every method calls the wrapped one's inside a span.
type traced struct {
	next   store.API
	tracer trace.Tracer
	system attribute.KeyValue
}

func (s *traced) start(ctx context.Context, op string) (context.Context, trace.Span) {
	return s.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(s.system, semconv.DBOperationName(op)))
}

// end ends a call's span. The answers the Store documents (not found, a conflict, ids not
// accessible) are outcomes, not failures; anything else marks the span failed, with the
// error's kind as error.type.
func end(span trace.Span, err error) {
	var na *store.NotAccessibleError
	switch {
	case err == nil, errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrCursorNotFound),
		errors.Is(err, store.ErrConflict), errors.As(err, &na):
	case errors.Is(err, store.ErrUnavailable):
		span.SetAttributes(semconv.ErrorTypeKey.String("unavailable"))
		span.SetStatus(codes.Error, "database unavailable")
	default:
		span.SetAttributes(semconv.ErrorTypeOther)
		span.SetStatus(codes.Error, "store error")
	}
	span.End()
}

// DeleteConversation is store.API's, in a span.
func (s *traced) DeleteConversation(ctx context.Context, workspaceID, id uuid.UUID, actor store.Actor) (err error) {
	ctx, span := s.start(ctx, "DeleteConversation")
	defer func() { end(span, err) }()
	return s.next.DeleteConversation(ctx, workspaceID, id, actor)
}

// BulkDeleteConversations is store.API's, in a span.
func (s *traced) BulkDeleteConversations(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID, actor store.Actor) (err error) {
	ctx, span := s.start(ctx, "BulkDeleteConversations")
	defer func() { end(span, err) }()
	return s.next.BulkDeleteConversations(ctx, workspaceID, ids, actor)
}

// GetConversation is store.API's, in a span.
func (s *traced) GetConversation(ctx context.Context, workspaceID, id uuid.UUID) (v store.Conversation, err error) {
	ctx, span := s.start(ctx, "GetConversation")
	defer func() { end(span, err) }()
	return s.next.GetConversation(ctx, workspaceID, id)
}

// ListConversations is store.API's, in a span.
func (s *traced) ListConversations(ctx context.Context, q store.ListQuery) (v store.Page, err error) {
	ctx, span := s.start(ctx, "ListConversations")
	defer func() { end(span, err) }()
	return s.next.ListConversations(ctx, q)
}

// APIKeyByHash is store.API's, in a span.
func (s *traced) APIKeyByHash(ctx context.Context, hash []byte) (v store.APIKey, err error) {
	ctx, span := s.start(ctx, "APIKeyByHash")
	defer func() { end(span, err) }()
	return s.next.APIKeyByHash(ctx, hash)
}

// TouchAPIKey is store.API's, in a span.
func (s *traced) TouchAPIKey(ctx context.Context, id uuid.UUID, at int64) (err error) {
	ctx, span := s.start(ctx, "TouchAPIKey")
	defer func() { end(span, err) }()
	return s.next.TouchAPIKey(ctx, id, at)
}

// Ping is store.API's, in a span.
func (s *traced) Ping(ctx context.Context) (err error) {
	ctx, span := s.start(ctx, "Ping")
	defer func() { end(span, err) }()
	return s.next.Ping(ctx)
}
