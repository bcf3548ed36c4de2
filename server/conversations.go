package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/server/store"
)

// Handlers implements the generated strict server over a Store. Every operation of the spec
// must be implemented: a new one is a compile error here until it is.
type Handlers struct {
	store store.Conversations
	rules listRules
	now   func() time.Time
}

var _ apiserver.StrictServerInterface = (*Handlers)(nil)

// principal returns the authenticated caller; the validator guarantees one on every secured
// operation, so its absence is a wiring bug.
func principal(ctx context.Context) (Principal, error) {
	p, ok := PrincipalFrom(ctx)
	if !ok {
		return p, errors.New("no principal on a secured operation")
	}
	return p, nil
}

// DeleteConversation implements the seed: a soft, idempotent delete that answers the same
// whether or not the id named a live conversation of the workspace.
func (h *Handlers) DeleteConversation(ctx context.Context, req apiserver.DeleteConversationRequestObject) (apiserver.DeleteConversationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := h.store.DeleteConversation(ctx, p.WorkspaceID, req.ID, actor(ctx)); err != nil {
		return nil, err
	}
	return succeeded, nil
}

// BulkDeleteConversations deletes all the ids or, when any is inaccessible, none (406).
func (h *Handlers) BulkDeleteConversations(ctx context.Context, req apiserver.BulkDeleteConversationsRequestObject) (apiserver.BulkDeleteConversationsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	// The spec's uniqueItems compares the strings; ids are UUIDs, compared by value, so two
	// spellings of one id are a duplicate too.
	if i, j, dup := firstDuplicate(req.Body.IDs); dup {
		return apiserver.BulkDeleteConversations400JSONResponse{BadRequestJSONResponse: apiserver.BadRequestJSONResponse{
			Body: envelope(http.StatusBadRequest, duplicateMessage("ids", i, j, req.Body.IDs[j].String()))}}, nil
	}
	err = h.store.BulkDeleteConversations(ctx, p.WorkspaceID, req.Body.IDs, actor(ctx))
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
		return nil, err
	}
	return succeeded, nil
}

// GetConversation returns the stored conversation as it was imported; 404 for a missing,
// deleted or other workspace's id alike.
func (h *Handlers) GetConversation(ctx context.Context, req apiserver.GetConversationRequestObject) (apiserver.GetConversationResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := h.store.GetConversation(ctx, p.WorkspaceID, req.ID)
	if errors.Is(err, store.ErrNotFound) {
		return apiserver.GetConversation404JSONResponse{Body: envelope(http.StatusNotFound, "Conversation not found")}, nil
	}
	if err != nil {
		return nil, err
	}
	return rawConversation(c.Body), nil
}

// ListConversations returns one page of the window, newest first.
func (h *Handlers) ListConversations(ctx context.Context, req apiserver.ListConversationsRequestObject) (apiserver.ListConversationsResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	q, msg := h.listQuery(p.WorkspaceID, req.Params)
	if msg != "" {
		return badListQuery(msg), nil
	}
	page, err := h.store.ListConversations(ctx, q)
	if errors.Is(err, store.ErrCursorNotFound) {
		return badListQuery(`Invalid parameter "cursor" in query: no conversation of this workspace has this id; start again without a cursor`), nil
	}
	if err != nil {
		return nil, err
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

// success is the body of a delete that completed, encoded once: every delete answers it.
var success = mustJSON(api.Success{Success: true})

func mustJSON(v any) []byte {
	b, err := jsonBytes(v)
	if err != nil {
		panic(err) // a type of the generated package that does not encode: a build error
	}
	return b
}

// succeededResponse answers a delete or bulk delete that completed with the same 200 the
// generated responses write, without encoding it again.
type succeededResponse struct{}

var succeeded succeededResponse

// VisitDeleteConversationResponse writes the 200.
func (succeededResponse) VisitDeleteConversationResponse(w http.ResponseWriter) error {
	return writeSuccess(w)
}

// VisitBulkDeleteConversationsResponse writes the 200.
func (succeededResponse) VisitBulkDeleteConversationsResponse(w http.ResponseWriter) error {
	return writeSuccess(w)
}

func writeSuccess(w http.ResponseWriter) error {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(success)
	return err
}

// jsonContentType is the value of Content-Type of every JSON answer, shared.
var jsonContentType = []string{"application/json"}

// rawConversation is a stored PublicConversation sent as stored: it was validated against
// the spec on import, and is validated again on the way out.
type rawConversation []byte

// VisitGetConversationResponse writes the stored JSON with a 200.
func (r rawConversation) VisitGetConversationResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r)
	return err
}

// rawPage writes a ConversationPage around stored conversations without decoding them.
type rawPage store.Page

// VisitListConversationsResponse writes the page with a 200.
func (p rawPage) VisitListConversationsResponse(w http.ResponseWriter) error {
	var b bytes.Buffer
	b.WriteString(`{"interactions":[`)
	for i, c := range p.Conversations {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(c.Body)
	}
	fmt.Fprintf(&b, `],"hasMore":%t,"nextCursor":`, p.HasMore)
	cs := p.Conversations
	writeCursor(&b, len(cs) > 0 && p.HasOlder, cs, len(cs)-1)
	b.WriteString(`,"prevCursor":`)
	writeCursor(&b, len(cs) > 0 && p.HasNewer, cs, 0)
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := b.WriteTo(w)
	return err
}

func writeCursor(b *bytes.Buffer, ok bool, cs []store.Conversation, i int) {
	if !ok {
		b.WriteString("null")
		return
	}
	b.WriteString(`"` + cs[i].ID.String() + `"`)
}
