package server_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/logline"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
)

// failingStore fails every conversation call with err, the way a broken or unreachable
// database would, with internals in the error that must never reach a client.
type failingStore struct {
	store.API
	err error
}

func (s failingStore) DeleteConversation(context.Context, uuid.UUID, uuid.UUID, store.Actor) error {
	return s.err
}
func (s failingStore) BulkDeleteConversations(context.Context, uuid.UUID, []uuid.UUID, store.Actor) error {
	return s.err
}
func (s failingStore) GetConversation(context.Context, uuid.UUID, uuid.UUID) (store.Conversation, error) {
	return store.Conversation{}, s.err
}
func (s failingStore) ListConversations(context.Context, store.ListQuery) (store.Page, error) {
	return store.Page{}, s.err
}

var (
	errDisk = errors.New(`sqlite: disk I/O error near "UPDATE conversations SET deleted_at"`)
	errDown = fmt.Errorf("%w: dial tcp 127.0.0.1:5432: connect: connection refused", store.ErrUnavailable)
)

func TestStorageFailureIs500WithoutInternals(t *testing.T) {
	e := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { return failingStore{s, errDisk} })
	for _, r := range e.allOperations() {
		r.expect(t, 500, internalError)
		if strings.Contains(r.body, "sqlite") || r.header.Get("X-Request-Id") == "" {
			t.Errorf("500 leaks internals or lacks a request id: %s", r.body)
		}
	}
}

func TestDatabaseDownIs503WithRetryAfter(t *testing.T) {
	e := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { return failingStore{s, errDown} })
	for _, r := range e.allOperations() {
		r.expect(t, 503, errBody(503, "The database is unavailable; retry shortly"))
		if r.header.Get("Retry-After") != "1" || strings.Contains(r.body, "5432") {
			t.Errorf("503 without Retry-After or with internals: %v %s", r.header, r.body)
		}
	}
}

// leakyStore returns a conversation with a field the spec does not have.
type leakyStore struct{ store.API }

func (s leakyStore) GetConversation(ctx context.Context, ws, id uuid.UUID) (store.Conversation, error) {
	c, err := s.API.GetConversation(ctx, ws, id)
	c.Body = append([]byte(`{"internalNote":"customer is angry",`), c.Body[1:]...)
	return c, err
}

// leakyListStore slips one non-conforming conversation into list pages.
type leakyListStore struct{ store.API }

func (s leakyListStore) ListConversations(ctx context.Context, q store.ListQuery) (store.Page, error) {
	p, err := s.API.ListConversations(ctx, q)
	if err == nil && len(p.Conversations) > 2 {
		c := p.Conversations[2]
		c.Body = append([]byte(`{"internalNote":"x",`), c.Body[1:]...)
		p.Conversations[2] = c
	}
	return p, err
}

func TestResponseValidationCatchesOneBadItemInAPage(t *testing.T) {
	e := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { return leakyListStore{s} })
	// A clean page first, so the other items are already known to be valid.
	e.do("GET", listPath+"?limit=2", e.A.Key, "").expect(t, 200, "")
	e.do("GET", listPath+"?limit=10", e.A.Key, "").expect(t, 500, internalError)
	e.do("GET", listPath+"?limit=10", e.A.Key, "").expect(t, 500, internalError) // not memoised
}

func TestResponseValidationModes(t *testing.T) {
	leaky := func(s store.API) store.API { return leakyStore{s} }
	tests := []struct {
		mode   contract.Mode
		status int
		leaks  bool
	}{
		{contract.Enforce, 500, false},
		{contract.Report, 200, true},
		{contract.Off, 200, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.mode), func(t *testing.T) {
			e := newTestServerMode(t, tt.mode, leaky)
			r := e.do("GET", convPath(e.A.ConversationIDs[0]), e.A.Key, "")
			if r.status != tt.status || strings.Contains(r.body, "internalNote") != tt.leaks {
				t.Fatalf("%s: status %d body %.80s", tt.mode, r.status, r.body)
			}
			if tt.mode == contract.Enforce {
				r.expect(t, 500, internalError)
			}
			m := e.do("GET", "/metrics", "", "").body
			counted := strings.Contains(m, `fini_validation_failures_total{kind="response"} 1`)
			if counted != (tt.mode != contract.Off) {
				t.Errorf("response validation failure counted = %v in mode %s", counted, tt.mode)
			}
		})
	}
	if _, err := contract.ParseMode("strict"); err == nil {
		t.Error("unknown mode accepted")
	}
}

// panickingStore panics in every call a request makes after authentication, and in Ping.
type panickingStore struct{ store.API }

func (panickingStore) GetConversation(context.Context, uuid.UUID, uuid.UUID) (store.Conversation, error) {
	panic("store exploded")
}
func (panickingStore) Ping(context.Context) error { panic("ping exploded") }

// TestPanicsAre500sOnEveryRoute: a panic in an operation or in an operational endpoint is a
// 500 in the envelope, and the server goes on serving.
func TestPanicsAre500sOnEveryRoute(t *testing.T) {
	e := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { return panickingStore{s} })
	for range 2 {
		e.do("GET", convPath(e.A.ConversationIDs[0]), e.A.Key, "").expect(t, 500, internalError)
		e.do("GET", "/readyz", "", "").expect(t, 500, internalError)
	}
	e.do("GET", "/healthz", "", "").expect(t, 200, healthy())
	e.do("DELETE", convPath(e.A.ConversationIDs[0]), e.A.Key, "").expect(t, 200, success)
}

// secretText stands for a customer's words in a stored conversation.
const secretText = "my card is 4111 1111 1111 1111"

// legacyStore serves stored rows that break the spec as it is now (a legacy row, a hand
// edit, a schema change): the conversation's createdAt holds a customer's words.
type legacyStore struct{ store.API }

var firstCreatedAt = regexp.MustCompile(`"createdAt":[0-9]+`)

func legacy(c store.Conversation) store.Conversation {
	i := firstCreatedAt.FindIndex(c.Body)
	c.Body = slices.Concat(c.Body[:i[0]], []byte(`"createdAt":"`+secretText+`"`), c.Body[i[1]:])
	return c
}

func (s legacyStore) GetConversation(ctx context.Context, ws, id uuid.UUID) (store.Conversation, error) {
	c, err := s.API.GetConversation(ctx, ws, id)
	return legacy(c), err
}

func (s legacyStore) ListConversations(ctx context.Context, q store.ListQuery) (store.Page, error) {
	p, err := s.API.ListConversations(ctx, q)
	for i := range p.Conversations {
		p.Conversations[i] = legacy(p.Conversations[i])
	}
	return p, err
}

// TestLogsNeverQuoteStoredContent: a stored row that breaks the spec is logged by where it
// breaks and the rule, never by its value or anything beside it, in every mode that checks:
// a purge must leave no copy of a customer's words in the logs.
func TestLogsNeverQuoteStoredContent(t *testing.T) {
	for _, mode := range []contract.Mode{contract.Enforce, contract.Report} {
		t.Run(string(mode), func(t *testing.T) {
			var logs syncBuffer
			e := newTestServerWith(t, servertest.Options{Mode: mode, Logger: slog.New(logline.New(&logs, nil)),
				WrapStore: func(s store.API) store.API { return legacyStore{s} }})
			get := e.do("GET", convPath(e.A.ConversationIDs[0]), e.A.Key, "")
			list := e.do("GET", listPath, e.A.Key, "")
			want := map[contract.Mode]int{contract.Enforce: 500, contract.Report: 200}[mode]
			if get.status != want || list.status != want {
				t.Fatalf("get %d, list %d; want %d", get.status, list.status, want)
			}
			out := logs.String()
			if strings.Contains(out, "4111") {
				t.Errorf("the log quotes a stored conversation:\n%s", out)
			}
			for _, where := range []string{
				"getConversation 200: response does not conform to the spec: response body doesn't match schema #/components/schemas/PublicConversation: createdAt: must be an integer",
				"listConversations 200: response does not conform to the spec: response body interactions.0: createdAt: must be an integer"} {
				if !strings.Contains(out, where) {
					t.Errorf("the log does not say where the response broke the spec (%q):\n%s", where, out)
				}
			}
		})
	}
}
