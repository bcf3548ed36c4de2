package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestChunkedRequestClosesItsConnection: a request framed by Transfer-Encoding that also
// carries a Content-Length (the ambiguity of request smuggling) is answered, and its
// connection closed, so that bytes a Content-Length-framing proxy would have counted as its
// body are never served as a request of their own.
func TestChunkedRequestClosesItsConnection(t *testing.T) {
	e := newTestServer(t)
	ids := e.A.ConversationIDs
	chunk := fmt.Sprintf(`{"ids":[%q]}`, ids[0])
	smuggled := fmt.Sprintf("DELETE %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n\r\n", convPath(ids[1]), e.A.Key)
	body := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(chunk), chunk) + smuggled
	raw := fmt.Sprintf("DELETE %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
		"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%s", listPath, e.A.Key, len(body), body)

	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	res, err := http.ReadResponse(r, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !res.Close {
		t.Errorf("chunked bulk delete: status %d, connection close %v; want 200 and close", res.StatusCode, res.Close)
	}
	if rest, err := io.ReadAll(r); err != nil || len(rest) != 0 {
		t.Errorf("after the answer the connection carried %q (%v), want it closed", rest, err)
	}
	e.do("GET", convPath(ids[0]), e.A.Key, "").expect(t, 404, "")
	e.do("GET", convPath(ids[1]), e.A.Key, "").expect(t, 200, "") // the smuggled delete never ran
}
