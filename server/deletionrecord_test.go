package server_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/servertest"
	"github.com/fini-oss/conversations/server/store"
)

// TestDeletionRecordNamesKeyRequestAndOperation: through the API, each conversation a delete
// or bulk delete actually deletes gets one record naming the key (id and name), the request
// id and the operationId; a delete that deletes nothing and a refused bulk record nothing.
func TestDeletionRecordNamesKeyRequestAndOperation(t *testing.T) {
	for _, engine := range []servertest.Engine{servertest.SQLite, servertest.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			e := newTestServerWith(t, servertest.Options{Engine: engine})
			k, err := e.store.APIKeyByHash(context.Background(), apikey.Hash(e.writeKey))
			if err != nil {
				t.Fatal(err)
			}
			deleteWithID := func(path, requestID, body string, want int) string {
				t.Helper()
				var r io.Reader
				if body != "" {
					r = strings.NewReader(body)
				}
				req, err := http.NewRequest(http.MethodDelete, e.url+path, r)
				if err != nil {
					t.Fatal(err)
				}
				if body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				req.Header.Set("Authorization", "Bearer "+e.writeKey)
				if requestID != "" {
					req.Header.Set("X-Request-Id", requestID)
				}
				res := e.send(req)
				if res.status != want {
					t.Fatalf("DELETE %s: %d, want %d: %s", path, res.status, want, res.body)
				}
				return res.header.Get("X-Request-Id")
			}
			a := e.A.ConversationIDs
			deleteWithID(convPath(a[0]), "rec-single", "", 200)
			deleteWithID(convPath(a[0]), "rec-again", "", 200)                     // already deleted
			deleteWithID(convPath(e.B.ConversationIDs[0]), "rec-foreign", "", 200) // another workspace's
			deleteWithID(convPath(uuid.New()), "rec-missing", "", 200)
			deleteWithID(listPath, "rec-refused", fmt.Sprintf(`{"ids":[%q,%q]}`, a[1], uuid.New()), 406)
			deleteWithID(listPath, "rec-bulk", fmt.Sprintf(`{"ids":[%q,%q]}`, a[1], a[2]), 200)
			generated := deleteWithID(convPath(a[3]), "", "", 200)

			want := map[uuid.UUID]store.Actor{
				a[0]: {KeyID: k.ID, KeyName: "write", RequestID: "rec-single", Operation: "deleteConversation"},
				a[1]: {KeyID: k.ID, KeyName: "write", RequestID: "rec-bulk", Operation: "bulkDeleteConversations"},
				a[2]: {KeyID: k.ID, KeyName: "write", RequestID: "rec-bulk", Operation: "bulkDeleteConversations"},
				a[3]: {KeyID: k.ID, KeyName: "write", RequestID: generated, Operation: "deleteConversation"},
			}
			got := map[uuid.UUID]store.Actor{}
			for _, ws := range []uuid.UUID{e.A.WorkspaceID, e.B.WorkspaceID} {
				for r, err := range e.store.AuditRecords(context.Background(), store.AuditQuery{WorkspaceID: ws, Since: math.MinInt64, Until: math.MaxInt64}) {
					if err != nil {
						t.Fatal(err)
					}
					if _, dup := got[r.ConversationID]; dup || r.WorkspaceID != e.A.WorkspaceID {
						t.Errorf("unexpected record %+v", r)
					}
					got[r.ConversationID] = r.Actor
				}
			}
			if len(got) != len(want) {
				t.Errorf("%d records, want %d: %+v", len(got), len(want), got)
			}
			for id, w := range want {
				if got[id] != w {
					t.Errorf("record of %s = %+v, want %+v", id, got[id], w)
				}
			}
		})
	}
}

// revokingStore revokes the caller's key after authentication accepted it and before the
// delete's transaction: a revocation that lands while the request is in flight.
type revokingStore struct {
	store.API
	revoke func(ctx context.Context, keyID uuid.UUID)
}

func (s revokingStore) DeleteConversation(ctx context.Context, ws, id uuid.UUID, a store.Actor) error {
	s.revoke(ctx, a.KeyID)
	return s.API.DeleteConversation(ctx, ws, id, a)
}

func (s revokingStore) BulkDeleteConversations(ctx context.Context, ws uuid.UUID, ids []uuid.UUID, a store.Actor) error {
	s.revoke(ctx, a.KeyID)
	return s.API.BulkDeleteConversations(ctx, ws, ids, a)
}

// TestRevokedInFlightChangesNothing: a write whose key is revoked after its request was
// authenticated commits nothing and answers 401, on both engines.
func TestRevokedInFlightChangesNothing(t *testing.T) {
	for _, engine := range []servertest.Engine{servertest.SQLite, servertest.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			var real store.Store
			e := newTestServerWith(t, servertest.Options{Engine: engine, WrapStore: func(s store.API) store.API {
				return revokingStore{API: s, revoke: func(ctx context.Context, id uuid.UUID) {
					if err := real.RevokeAPIKey(ctx, id, time.Now().UnixMilli()); err != nil {
						t.Error(err)
					}
				}}
			}})
			real = e.store
			ids := e.A.ConversationIDs
			e.do("DELETE", convPath(ids[0]), e.newKey("write"), "").expect(t, 401, unauthorized)
			e.do("DELETE", listPath, e.newKey("write"), fmt.Sprintf(`{"ids":[%q,%q]}`, ids[1], ids[2])).expect(t, 401, unauthorized)
			for _, id := range ids[:3] {
				e.do("GET", convPath(id), e.A.Key, "").expect(t, 200, "")
			}
			for r, err := range real.AuditRecords(context.Background(), store.AuditQuery{WorkspaceID: e.A.WorkspaceID, Since: math.MinInt64, Until: math.MaxInt64}) {
				t.Errorf("a write that committed nothing left a record: %+v %v", r, err)
			}
		})
	}
}
