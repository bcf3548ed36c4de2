package conversations

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/apierror"
	"github.com/fini-oss/conversations/server/store"
)

// The responses that write stored or fixed JSON without decoding it. They write what the
// generated responses would; response validation checks each against the spec.

// success is the body of a delete that completed, encoded once: every delete answers it.
var success = mustJSON(api.Success{Success: true})

func mustJSON(v any) []byte {
	b, err := apierror.JSON(v)
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
	w.Header()["Content-Type"] = jsonContentType
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
	w.Header()["Content-Type"] = jsonContentType
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
