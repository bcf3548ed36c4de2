// Package storetrace traces a store.Store with OpenTelemetry: each call of a Store method is
// a client span named after the method, with the database semantic conventions'
// db.system.name and db.operation.name, a child of the caller's span. Nothing a call is given
// or returns (a key's hash, an id, a conversation) is recorded, and neither are driver
// errors, which the log has. It depends on store only.
package storetrace

import (
	"context"
	"errors"
	"iter"

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

// Wrap returns s with every call but Close traced by tp; system is the engine's
// db.system.name (SQLite or PostgreSQL).
func Wrap(s store.Store, tp trace.TracerProvider, system string) store.Store {
	return &traced{next: s, tracer: tp.Tracer(instrumentationName), system: semconv.DBSystemNameKey.String(system)}
}

// traced is a Store whose every method calls the wrapped one's inside a span.
type traced struct {
	next   store.Store
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

// Close closes the wrapped store; it is not traced.
func (s *traced) Close() error { return s.next.Close() }

// DeleteConversation is store.Store's, in a span.
func (s *traced) DeleteConversation(ctx context.Context, workspaceID, id uuid.UUID, actor store.Actor) (err error) {
	ctx, span := s.start(ctx, "DeleteConversation")
	defer func() { end(span, err) }()
	return s.next.DeleteConversation(ctx, workspaceID, id, actor)
}

// BulkDeleteConversations is store.Store's, in a span.
func (s *traced) BulkDeleteConversations(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID, actor store.Actor) (err error) {
	ctx, span := s.start(ctx, "BulkDeleteConversations")
	defer func() { end(span, err) }()
	return s.next.BulkDeleteConversations(ctx, workspaceID, ids, actor)
}

// GetConversation is store.Store's, in a span.
func (s *traced) GetConversation(ctx context.Context, workspaceID, id uuid.UUID) (v store.Conversation, err error) {
	ctx, span := s.start(ctx, "GetConversation")
	defer func() { end(span, err) }()
	return s.next.GetConversation(ctx, workspaceID, id)
}

// ListConversations is store.Store's, in a span.
func (s *traced) ListConversations(ctx context.Context, q store.ListQuery) (v store.Page, err error) {
	ctx, span := s.start(ctx, "ListConversations")
	defer func() { end(span, err) }()
	return s.next.ListConversations(ctx, q)
}

// ImportConversations is store.Store's, in a span.
func (s *traced) ImportConversations(ctx context.Context, cs iter.Seq2[store.Conversation, error]) (err error) {
	ctx, span := s.start(ctx, "ImportConversations")
	defer func() { end(span, err) }()
	return s.next.ImportConversations(ctx, cs)
}

// RestoreConversation is store.Store's, in a span.
func (s *traced) RestoreConversation(ctx context.Context, workspaceID, id uuid.UUID, actor store.Actor) (err error) {
	ctx, span := s.start(ctx, "RestoreConversation")
	defer func() { end(span, err) }()
	return s.next.RestoreConversation(ctx, workspaceID, id, actor)
}

// PurgeDeleted is store.Store's, in a span.
func (s *traced) PurgeDeleted(ctx context.Context, deletedBefore int64, batch int) (v int64, err error) {
	ctx, span := s.start(ctx, "PurgeDeleted")
	defer func() { end(span, err) }()
	return s.next.PurgeDeleted(ctx, deletedBefore, batch)
}

// OldestDeleted is store.Store's, in a span.
func (s *traced) OldestDeleted(ctx context.Context) (at int64, ok bool, err error) {
	ctx, span := s.start(ctx, "OldestDeleted")
	defer func() { end(span, err) }()
	return s.next.OldestDeleted(ctx)
}

// AuditRecords is store.Store's, in a span that lasts until the sequence ends.
func (s *traced) AuditRecords(ctx context.Context, q store.AuditQuery) iter.Seq2[store.AuditRecord, error] {
	return func(yield func(store.AuditRecord, error) bool) {
		ctx, span := s.start(ctx, "AuditRecords")
		var err error
		defer func() { end(span, err) }()
		for r, rerr := range s.next.AuditRecords(ctx, q) {
			err = rerr
			if !yield(r, rerr) {
				return
			}
		}
	}
}

// PruneAuditRecords is store.Store's, in a span.
func (s *traced) PruneAuditRecords(ctx context.Context, before int64, batch int) (v int64, err error) {
	ctx, span := s.start(ctx, "PruneAuditRecords")
	defer func() { end(span, err) }()
	return s.next.PruneAuditRecords(ctx, before, batch)
}

// CountConversations is store.Store's, in a span.
func (s *traced) CountConversations(ctx context.Context, workspaceID uuid.UUID) (v int64, err error) {
	ctx, span := s.start(ctx, "CountConversations")
	defer func() { end(span, err) }()
	return s.next.CountConversations(ctx, workspaceID)
}

// CreateWorkspace is store.Store's, in a span.
func (s *traced) CreateWorkspace(ctx context.Context, w store.Workspace) (err error) {
	ctx, span := s.start(ctx, "CreateWorkspace")
	defer func() { end(span, err) }()
	return s.next.CreateWorkspace(ctx, w)
}

// HasWorkspaces is store.Store's, in a span.
func (s *traced) HasWorkspaces(ctx context.Context) (v bool, err error) {
	ctx, span := s.start(ctx, "HasWorkspaces")
	defer func() { end(span, err) }()
	return s.next.HasWorkspaces(ctx)
}

// GetWorkspace is store.Store's, in a span.
func (s *traced) GetWorkspace(ctx context.Context, id uuid.UUID) (v store.Workspace, err error) {
	ctx, span := s.start(ctx, "GetWorkspace")
	defer func() { end(span, err) }()
	return s.next.GetWorkspace(ctx, id)
}

// CreateAPIKey is store.Store's, in a span.
func (s *traced) CreateAPIKey(ctx context.Context, k store.APIKey) (err error) {
	ctx, span := s.start(ctx, "CreateAPIKey")
	defer func() { end(span, err) }()
	return s.next.CreateAPIKey(ctx, k)
}

// ListAPIKeys is store.Store's, in a span.
func (s *traced) ListAPIKeys(ctx context.Context, workspaceID uuid.UUID) (v []store.APIKey, err error) {
	ctx, span := s.start(ctx, "ListAPIKeys")
	defer func() { end(span, err) }()
	return s.next.ListAPIKeys(ctx, workspaceID)
}

// APIKeyByHash is store.Store's, in a span.
func (s *traced) APIKeyByHash(ctx context.Context, hash []byte) (v store.APIKey, err error) {
	ctx, span := s.start(ctx, "APIKeyByHash")
	defer func() { end(span, err) }()
	return s.next.APIKeyByHash(ctx, hash)
}

// RevokeAPIKey is store.Store's, in a span.
func (s *traced) RevokeAPIKey(ctx context.Context, id uuid.UUID, at int64) (err error) {
	ctx, span := s.start(ctx, "RevokeAPIKey")
	defer func() { end(span, err) }()
	return s.next.RevokeAPIKey(ctx, id, at)
}

// TouchAPIKey is store.Store's, in a span.
func (s *traced) TouchAPIKey(ctx context.Context, id uuid.UUID, at int64) (err error) {
	ctx, span := s.start(ctx, "TouchAPIKey")
	defer func() { end(span, err) }()
	return s.next.TouchAPIKey(ctx, id, at)
}

// Ping is store.Store's, in a span.
func (s *traced) Ping(ctx context.Context) (err error) {
	ctx, span := s.start(ctx, "Ping")
	defer func() { end(span, err) }()
	return s.next.Ping(ctx)
}
