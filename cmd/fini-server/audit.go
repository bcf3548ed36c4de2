package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/server/store"
)

// auditOptions are the flags of audit.
type auditOptions struct {
	workspace, conversation, key, since, until string
	json                                       bool
}

func (a *app) auditCmd() *cobra.Command {
	var o auditOptions
	cmd := &cobra.Command{
		Use:   "audit --workspace ID [--conversation ID] [--key ID] [--since T] [--until T] [--json]",
		Short: "Print the deletion record: which conversation was deleted, restored or purged, when, by whom",
		Long: `Print a workspace's deletion record, oldest first: one line per conversation deleted
(operation deleteConversation or bulkDeleteConversations, with the API key's id and name
and the request id), restored (restore) or purged (purge). The record holds no
conversation content and outlives a purge; the server keeps it for --audit-retention.

--conversation and --key keep one conversation's or one key's records; --since (inclusive)
and --until (exclusive) take RFC 3339 times (2026-11-27T10:00:00Z) or epoch milliseconds.
--json prints JSON Lines. Any number of records is streamed in bounded memory.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := o.query()
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				w := bufio.NewWriter(a.stdout)
				write := writeAuditText
				if o.json {
					write = writeAuditJSON
				} else if _, err := fmt.Fprintf(w, auditColumns, "TIME", "OPERATION", "CONVERSATION", "KEY ID", "KEY NAME", "REQUEST ID"); err != nil {
					return err
				}
				for r, err := range s.AuditRecords(cmd.Context(), q) {
					if err != nil {
						return err
					}
					if err := write(w, r); err != nil {
						return err
					}
				}
				return w.Flush()
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.workspace, "workspace", "", "workspace id (required)")
	f.StringVar(&o.conversation, "conversation", "", "only this conversation's records")
	f.StringVar(&o.key, "key", "", "only the records of this API key (its id, from key list)")
	f.StringVar(&o.since, "since", "", "only records at or after this time: RFC 3339 or epoch milliseconds")
	f.StringVar(&o.until, "until", "", "only records before this time: RFC 3339 or epoch milliseconds")
	f.BoolVar(&o.json, "json", false, "print JSON Lines")
	_ = cmd.MarkFlagRequired("workspace")
	return cmd
}

func (o auditOptions) query() (store.AuditQuery, error) {
	q := store.AuditQuery{Since: math.MinInt64, Until: math.MaxInt64}
	var err error
	if q.WorkspaceID, err = parseUUID("--workspace", o.workspace); err != nil {
		return q, err
	}
	for _, f := range []struct {
		flag, value string
		dst         **uuid.UUID
	}{{"--conversation", o.conversation, &q.ConversationID}, {"--key", o.key, &q.KeyID}} {
		if f.value == "" {
			continue
		}
		id, err := parseUUID(f.flag, f.value)
		if err != nil {
			return q, err
		}
		*f.dst = &id
	}
	if o.since != "" {
		if q.Since, err = parseTime("--since", o.since); err != nil {
			return q, err
		}
	}
	if o.until != "" {
		if q.Until, err = parseTime("--until", o.until); err != nil {
			return q, err
		}
	}
	if q.Since >= q.Until {
		return q, errors.New("--since must be before --until")
	}
	return q, nil
}

// parseTime reads an RFC 3339 time or epoch milliseconds.
func parseTime(flag, s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%s %q: want an RFC 3339 time (2026-11-27T10:00:00Z) or epoch milliseconds", flag, s)
	}
	return t.UnixMilli(), nil
}

// auditColumns are fixed widths (a time to the millisecond, the longest operationId, UUIDs),
// so that lines are written as records arrive: a tabwriter would hold every line until the
// end to measure its columns. The key name and request id, of any length, come last.
const auditColumns = "%-24s  %-23s  %-36s  %-36s  %-16s  %s\n"

func writeAuditText(w io.Writer, r store.AuditRecord) error {
	keyID, keyName, requestID := "-", "-", "-"
	if r.KeyID != uuid.Nil {
		keyID, keyName = r.KeyID.String(), printable(r.KeyName)
	}
	if r.RequestID != "" {
		requestID = r.RequestID
	}
	_, err := fmt.Fprintf(w, auditColumns, time.UnixMilli(r.At).UTC().Format(recordTime), r.Operation,
		r.ConversationID, keyID, keyName, requestID)
	return err
}

// printable quotes a key name that is empty or holds spaces or control characters, so that
// it stays one column of one line.
func printable(name string) string {
	if name == "" || strings.ContainsFunc(name, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) {
		return strconv.Quote(name)
	}
	return name
}

// auditLine is a record in JSON; the key and request are null for an operator's change.
type auditLine struct {
	Time           string     `json:"time"`
	WorkspaceID    uuid.UUID  `json:"workspaceId"`
	ConversationID uuid.UUID  `json:"conversationId"`
	Operation      string     `json:"operation"`
	KeyID          *uuid.UUID `json:"keyId"`
	KeyName        *string    `json:"keyName"`
	RequestID      *string    `json:"requestId"`
}

func writeAuditJSON(w io.Writer, r store.AuditRecord) error {
	l := auditLine{Time: time.UnixMilli(r.At).UTC().Format(recordTime), WorkspaceID: r.WorkspaceID,
		ConversationID: r.ConversationID, Operation: r.Operation}
	if r.KeyID != uuid.Nil {
		l.KeyID, l.KeyName = &r.KeyID, &r.KeyName
	}
	if r.RequestID != "" {
		l.RequestID = &r.RequestID
	}
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
