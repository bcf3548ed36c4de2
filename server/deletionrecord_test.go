package server_test

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

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
