package server

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/gen/apiserver"
	"github.com/fini-oss/conversations/server/store"
)

// The rules of List conversations that a schema cannot state (the window, the defaults, the
// comma-separated filters), as the spec describes them; listRules holds the spec's numbers.

func badListQuery(msg string) apiserver.ListConversations400JSONResponse {
	return apiserver.ListConversations400JSONResponse{BadRequestJSONResponse: apiserver.BadRequestJSONResponse{
		Body: envelope(http.StatusBadRequest, msg)}}
}

// listQuery applies the spec's defaults and the rules a schema cannot state; msg is the
// client's error, empty when the query is fine.
func (h *Handlers) listQuery(workspace uuid.UUID, params api.ListConversationsParams) (q store.ListQuery, msg string) {
	now := h.now().UnixMilli()
	q = store.ListQuery{WorkspaceID: workspace, Until: now, Limit: h.rules.defaultLimit, Cursor: params.Cursor, BotID: params.BotID}
	if params.Until != nil {
		q.Until = *params.Until
	}
	q.Since = q.Until - h.rules.defaultWindow.Milliseconds()
	if params.Since != nil {
		q.Since = *params.Since
	}
	if q.Since >= q.Until {
		return q, `Invalid window: "since" must be earlier than "until"`
	}
	if q.Until-q.Since > h.rules.maxWindow.Milliseconds() {
		return q, fmt.Sprintf(`Invalid window: from "since" to "until" may span at most %s days`,
			strconv.FormatFloat(h.rules.maxWindow.Hours()/24, 'f', -1, 64))
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
	if q.Sources, msg = splitList("source", params.Source, h.rules.maxFilterValues); msg != "" {
		return q, msg
	}
	q.Channels, msg = splitList("channel", params.Channel, h.rules.maxFilterValues)
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
