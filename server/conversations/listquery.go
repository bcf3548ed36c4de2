package conversations

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/server/apierror"
	"github.com/fini-oss/conversations/server/store"
)

// listOperation is the operation whose rules listRules holds.
const listOperation = "listConversations"

// listRules are the rules of List conversations that a schema cannot state (the window, the
// defaults, the comma-separated filters), with the spec's numbers: its x-default-window-days
// and x-max-window-days, limit's default and source's maxItems.
type listRules struct {
	defaultWindow, maxWindow time.Duration
	defaultLimit             int
	maxFilterValues          int
}

func listRulesOf(doc *openapi3.T) (listRules, error) {
	var r listRules
	var op *openapi3.Operation
	for _, item := range doc.Paths.Map() {
		for _, o := range item.Operations() {
			if o.OperationID == listOperation {
				op = o
			}
		}
	}
	if op == nil {
		return r, fmt.Errorf("spec: no operation %s", listOperation)
	}
	fail := func(format string, args ...any) (listRules, error) {
		return r, fmt.Errorf("spec: %s: %s", listOperation, fmt.Sprintf(format, args...))
	}
	var days float64
	for _, w := range []struct {
		name string
		into *time.Duration
	}{{"x-default-window-days", &r.defaultWindow}, {"x-max-window-days", &r.maxWindow}} {
		raw, ok := op.Extensions[w.name]
		b, err := json.Marshal(raw)
		if !ok || err != nil || json.Unmarshal(b, &days) != nil || days <= 0 {
			return fail("%s: want a number of days", w.name)
		}
		*w.into = time.Duration(days * float64(24*time.Hour))
	}
	limit := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "limit")
	if limit == nil || limit.Schema == nil || limit.Schema.Value.Default == nil {
		return fail("limit has no default")
	}
	d, ok := limit.Schema.Value.Default.(float64)
	if !ok || d != math.Trunc(d) {
		return fail("limit's default %v is not an integer", limit.Schema.Value.Default)
	}
	r.defaultLimit = int(d)
	source := op.Parameters.GetByInAndName(openapi3.ParameterInQuery, "source")
	if source == nil || source.Schema == nil || source.Schema.Value.MaxItems == nil {
		return fail("source has no maxItems")
	}
	r.maxFilterValues = int(*source.Schema.Value.MaxItems)
	return r, nil
}

func badListQuery(msg string) apiserver.ListConversations400JSONResponse {
	return apiserver.ListConversations400JSONResponse{BadRequestJSONResponse: apiserver.BadRequestJSONResponse{
		Body: apierror.Envelope(http.StatusBadRequest, msg)}}
}

// listQuery applies the spec's defaults and the rules a schema cannot state; msg is the
// client's error, empty when the query is fine.
func (h *Handlers) listQuery(workspace uuid.UUID, params api.ListConversationsParams) (q store.ListQuery, msg string) {
	now := h.now().UnixMilli()
	q = store.ListQuery{WorkspaceID: workspace, Until: now, Limit: h.list.defaultLimit, Cursor: params.Cursor, BotID: params.BotID}
	if params.Until != nil {
		q.Until = *params.Until
	}
	q.Since = q.Until - h.list.defaultWindow.Milliseconds()
	if params.Since != nil {
		q.Since = *params.Since
	}
	if q.Since >= q.Until {
		return q, `Invalid window: "since" must be earlier than "until"`
	}
	if q.Until-q.Since > h.list.maxWindow.Milliseconds() {
		return q, fmt.Sprintf(`Invalid window: from "since" to "until" may span at most %s days`,
			strconv.FormatFloat(h.list.maxWindow.Hours()/24, 'f', -1, 64))
	}
	if params.Limit != nil {
		q.Limit = *params.Limit
	}
	if params.Direction != nil && *params.Direction == api.PageDirectionPrevious {
		if params.Cursor == nil {
			return q, `Invalid parameter "direction" in query: "previous" needs a cursor`
		}
		q.Direction = store.Newer
	}
	if q.Sources, msg = splitList("source", params.Source, h.list.maxFilterValues); msg != "" {
		return q, msg
	}
	q.Channels, msg = splitList("channel", params.Channel, h.list.maxFilterValues)
	return q, msg
}

// splitList accepts both `name=a,b` and `name=a&name=b`, and any mix of the two.
func splitList(name string, values *[]string, maxValues int) ([]string, string) {
	if values == nil {
		return nil, ""
	}
	var out []string
	for _, v := range *values {
		for part := range strings.SplitSeq(v, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				return nil, fmt.Sprintf("Invalid parameter %q in query: empty value", name)
			}
			out = append(out, part)
			if len(out) > maxValues {
				return nil, fmt.Sprintf("Invalid parameter %q in query: at most %d values", name, maxValues)
			}
		}
	}
	return out, ""
}
