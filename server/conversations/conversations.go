// Package conversations implements the operations of the Conversations API: the generated
// strict server interface over the store's Conversations role. It acts for the caller that
// authentication put on the request's context, only on that caller's workspace, and returns
// the spec's typed responses for expected outcomes. It depends on the generated code, auth,
// apierror, the contract engine (to word a duplicate id as the engine words schema errors)
// and store.
package conversations

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/server/apierror"
	"github.com/fini-oss/conversations/server/auth"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/store"
)

// Handlers implements the generated strict server. Every operation of the spec must be
// implemented: a new one is a compile error here until it is.
type Handlers struct {
	store store.Conversations
	list  listRules
	now   func() time.Time
}

var _ apiserver.StrictServerInterface = (*Handlers)(nil)

// New returns the handlers over s, with the rules of the spec doc that its schemas cannot
// state (list's windows, read from its x- extensions) and now as the clock.
func New(s store.Conversations, doc *openapi3.T, now func() time.Time) (*Handlers, error) {
	rules, err := listRulesOf(doc)
	if err != nil {
		return nil, err
	}
	return &Handlers{store: s, list: rules, now: now}, nil
}

// caller returns the authenticated caller; authentication guarantees one on every secured
// operation, so its absence is a wiring bug.
func caller(ctx context.Context) (*auth.Caller, error) {
	c, ok := auth.CallerFrom(ctx)
	if !ok {
		return nil, errors.New("no caller on a secured operation")
	}
	return c, nil
}

// diskFullRetryAfter is the Retry-After of a write refused for a full disk: room comes back
// when an operator makes it, not within a second.
const diskFullRetryAfter = 30

// failed is what a store error becomes: a 401 when the caller's key was revoked while the
// request was in flight (the write changed nothing), a 503 when the database could not
// serve the call (a full disk's saying to retry later than a stall's), else the error (a
// 500) with its context.
func failed(op string, err error) error {
	switch {
	case errors.Is(err, store.ErrKeyRevoked):
		return auth.Unauthorized()
	case errors.Is(err, store.ErrDiskFull):
		return apierror.Unavailable(fmt.Errorf("%s: %w", op, err), diskFullRetryAfter)
	case errors.Is(err, store.ErrUnavailable):
		return apierror.Unavailable(fmt.Errorf("%s: %w", op, err), 0)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// DeleteConversation implements the seed: a soft, idempotent delete that answers the same
// whether or not the id named a live conversation of the workspace.
func (h *Handlers) DeleteConversation(ctx context.Context, req apiserver.DeleteConversationRequestObject) (apiserver.DeleteConversationResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.store.DeleteConversation(ctx, c.WorkspaceID, req.ID, c.Actor()); err != nil {
		return nil, failed("delete conversation", err)
	}
	return succeeded, nil
}

// BulkDeleteConversations deletes all the ids or, when any is inaccessible, none (406).
func (h *Handlers) BulkDeleteConversations(ctx context.Context, req apiserver.BulkDeleteConversationsRequestObject) (apiserver.BulkDeleteConversationsResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	// The spec's uniqueItems compares the strings; ids are UUIDs, compared by value, so two
	// spellings of one id are a duplicate too.
	if i, j, dup := firstDuplicate(req.Body.IDs); dup {
		msg := "Invalid request body: " + contract.DescribeDuplicate("ids", i, j, req.Body.IDs[j].String())
		return apiserver.BulkDeleteConversations400JSONResponse{BadRequestJSONResponse: apiserver.BadRequestJSONResponse{
			Body: apierror.Envelope(http.StatusBadRequest, msg)}}, nil
	}
	err = h.store.BulkDeleteConversations(ctx, c.WorkspaceID, req.Body.IDs, c.Actor())
	var na *store.NotAccessibleError
	if errors.As(err, &na) {
		// A 406 tells the client to drop the named ids and retry: one naming none would make
		// it retry the same request for ever.
		if len(na.IDs) == 0 {
			return nil, fmt.Errorf("bulk delete: the store refused without naming an id: %w", err)
		}
		ids := make([]string, len(na.IDs))
		for i, id := range na.IDs {
			ids[i] = id.String()
		}
		return apiserver.BulkDeleteConversations406JSONResponse{Body: api.NotAcceptableError{
			StatusCode: http.StatusNotAcceptable,
			Message:    "Some interactions were not found or are not accessible: " + strings.Join(ids, ", "),
			Error:      http.StatusText(http.StatusNotAcceptable),
			IDs:        na.IDs,
		}}, nil
	}
	if err != nil {
		return nil, failed("bulk delete conversations", err)
	}
	return succeeded, nil
}

// GetConversation returns the stored conversation as it was imported; 404 for a missing,
// deleted or other workspace's id alike.
func (h *Handlers) GetConversation(ctx context.Context, req apiserver.GetConversationRequestObject) (apiserver.GetConversationResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	conv, err := h.store.GetConversation(ctx, c.WorkspaceID, req.ID)
	if errors.Is(err, store.ErrNotFound) {
		return apiserver.GetConversation404JSONResponse{Body: apierror.Envelope(http.StatusNotFound, "Conversation not found")}, nil
	}
	if err != nil {
		return nil, failed("get conversation", err)
	}
	return rawConversation(conv.Body), nil
}

// ListConversations returns one page of the window, newest first.
func (h *Handlers) ListConversations(ctx context.Context, req apiserver.ListConversationsRequestObject) (apiserver.ListConversationsResponseObject, error) {
	c, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	q, msg := h.listQuery(c.WorkspaceID, req.Params)
	if msg != "" {
		return badListQuery(msg), nil
	}
	page, err := h.store.ListConversations(ctx, q)
	if errors.Is(err, store.ErrCursorNotFound) {
		return badListQuery(`Invalid parameter "cursor" in query: no conversation of this workspace has this id; start again without a cursor`), nil
	}
	if err != nil {
		return nil, failed("list conversations", err)
	}
	return rawPage(page), nil
}

// firstDuplicate returns the first id that repeats an earlier one, at index j, and the index
// i of the earlier one.
func firstDuplicate(ids []uuid.UUID) (i, j int, found bool) {
	seen := make(map[uuid.UUID]int, len(ids))
	for j, id := range ids {
		if i, ok := seen[id]; ok {
			return i, j, true
		}
		seen[id] = j
	}
	return 0, 0, false
}
