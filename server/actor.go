package server

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/store"
)

// requestInfo is what the deletion record keeps of a request besides its key: its id and
// its operation. Authentication puts it on the request's context, beside the principal, so
// that handlers (which see only the context) can name the actor of a change.
type requestInfo struct {
	id        string // X-Request-Id (requestid.go)
	operation string // operationId, as in the spec
}

type requestInfoKey struct{}

func withRequestInfo(ctx context.Context, c echo.Context, op *operation) context.Context {
	id, _ := c.Get(ctxKeyRequestID).(string)
	return context.WithValue(ctx, requestInfoKey{}, requestInfo{id: id, operation: op.id})
}

// actor is who the store records as making a change: the request's key (by id and name, never
// its secret), its request id and its operation.
func actor(ctx context.Context, p Principal) store.Actor {
	info, _ := ctx.Value(requestInfoKey{}).(requestInfo)
	return store.Actor{KeyID: p.KeyID, KeyName: p.KeyName, RequestID: info.id, Operation: info.operation}
}
