package server

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/store"
)

// caller is what authentication puts on the request's context (auth.go): the principal and
// what the deletion record keeps of the request besides its key, its id and its operation,
// so that handlers, which see only the context, can name the actor of a change. One value,
// so that a request allocates no more than the principal alone did.
type caller struct {
	Principal
	requestID string // X-Request-Id (requestid.go)
	operation string // operationId, as in the spec
}

func newCaller(c echo.Context, op *operation, p Principal) caller {
	id, _ := c.Get(ctxKeyRequestID).(string)
	return caller{Principal: p, requestID: id, operation: op.id}
}

// actor is who the store records as making a change: the request's key (by id and name, never
// its secret), its request id and its operation.
func actor(ctx context.Context) store.Actor {
	c, _ := ctx.Value(principalKey{}).(caller)
	return store.Actor{KeyID: c.KeyID, KeyName: c.KeyName, RequestID: c.requestID, Operation: c.operation}
}
