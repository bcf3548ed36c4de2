package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/fini-oss/conversations/client"
	"github.com/fini-oss/conversations/openapi"
)

func (a *app) conversationsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "conversations",
		Aliases: []string{"conv"},
		Short:   "List, get and delete conversations",
	}
	cmd.AddCommand(a.listCmd(), a.getCmd(), a.deleteCmd(), a.bulkDeleteCmd())
	return cmd
}

// parseTime accepts RFC 3339 or epoch milliseconds.
func parseTime(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, usage("--%s %q: want RFC 3339 (2026-11-20T00:00:00Z) or epoch milliseconds", flag, s)
	}
	return t, nil
}

func parseID(s string) (uuid.UUID, error) {
	id, err := openapi.ParseUUID(s)
	if err != nil {
		return uuid.Nil, usage("%q is not a conversation id (a UUID)", s)
	}
	return id, nil
}

func (a *app) listCmd() *cobra.Command {
	var (
		since, until, bot string
		limit             int
		sources, channels []string
		all, asJSON       bool
	)
	cmd := &cobra.Command{
		Use:         "list",
		Annotations: calls("listConversations"),
		Short:       "List conversations, newest first (one page, or --all)",
		Args:        usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := client.ListOptions{Limit: limit, Sources: sources, Channels: channels}
			var err error
			if opts.Since, err = parseTime("since", since); err != nil {
				return err
			}
			if opts.Until, err = parseTime("until", until); err != nil {
				return err
			}
			if bot != "" {
				id, err := parseID(bot)
				if err != nil {
					return err
				}
				opts.BotID = &id
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			out := newConversationWriter(a.stdout, asJSON)
			if all {
				for conv, err := range c.Conversations(cmd.Context(), opts) {
					if err != nil {
						return err
					}
					if err := out.write(conv); err != nil {
						return err
					}
				}
				return out.flush()
			}
			page, err := c.ListConversations(cmd.Context(), opts)
			if err != nil {
				return err
			}
			for _, conv := range page.Conversations {
				if err := out.write(conv); err != nil {
					return err
				}
			}
			if err := out.flush(); err != nil {
				return err
			}
			if page.HasMore && !asJSON {
				fmt.Fprintln(a.stderr, "More conversations exist: use --all, or a narrower --since/--until.")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "only conversations whose latest message is at or after this time (default: 7 days before --until)")
	f.StringVar(&until, "until", "", "only conversations whose latest message is before this time (default: now)")
	f.IntVar(&limit, "limit", 0, "page size, 1 to 100 (default: the server's, 50)")
	f.StringSliceVar(&sources, "source", nil, "only these sources, e.g. widget,api")
	f.StringSliceVar(&channels, "channel", nil, "only these channels, e.g. chat")
	f.StringVar(&bot, "bot", "", "only this agent's conversations (its id)")
	f.BoolVar(&all, "all", false, "follow the cursors to the end of the window")
	f.BoolVar(&asJSON, "json", false, "print JSON Lines, one conversation per line")
	return cmd
}

// conversationWriter prints conversations as a table or as JSON Lines.
type conversationWriter struct {
	json bool
	enc  *json.Encoder
	tw   *tabwriter.Writer
	rows int
}

func newConversationWriter(w io.Writer, asJSON bool) *conversationWriter {
	if asJSON {
		return &conversationWriter{json: true, enc: json.NewEncoder(w)}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tLATEST MESSAGE\tSOURCE\tCHANNEL\tSTATUS\tSUBJECT")
	return &conversationWriter{tw: tw}
}

func (w *conversationWriter) write(c client.Conversation) error {
	if w.json {
		return w.enc.Encode(c)
	}
	last := c.CreatedAt
	for _, e := range c.Events {
		if e.CreatedAt.After(last) {
			last = e.CreatedAt
		}
	}
	w.rows++
	_, err := fmt.Fprintf(w.tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, last.UTC().Format("2006-01-02 15:04"),
		c.Source, deref(c.Channel), deref(c.Status), truncate(deref(c.SubjectPreview), 48))
	// Flush every page-worth so that --all streams.
	if err == nil && w.rows%100 == 0 {
		err = w.tw.Flush()
	}
	return err
}

func (w *conversationWriter) flush() error {
	if w.json {
		return nil
	}
	return w.tw.Flush()
}

func deref(s *string) string {
	if s == nil {
		return "-"
	}
	return strings.ReplaceAll(*s, "\t", " ")
}

func truncate(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func (a *app) getCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:         "get ID",
		Annotations: calls("getConversation"),
		Short:       "Show one conversation with its messages",
		Args:        usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			conv, err := c.GetConversation(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(conv)
			}
			fmt.Fprintf(a.stdout, "Conversation %s\nSource:  %s / %s\nStatus:  %s\nStarted: %s\nURL:     %s\n\n",
				conv.ID, conv.Source, deref(conv.Channel), deref(conv.Status),
				conv.CreatedAt.UTC().Format(time.RFC3339), deref(conv.URL))
			for _, e := range conv.Events {
				fmt.Fprintf(a.stdout, "[%s] %-8s %s\n", e.CreatedAt.UTC().Format("2006-01-02 15:04:05"), e.Role, deref(e.Message))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the conversation as JSON")
	return cmd
}

func (a *app) deleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:         "delete ID...",
		Annotations: calls("deleteConversation"),
		Short:       "Delete conversations one by one (idempotent: a missing id is not an error)",
		Args:        usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			ids := make([]uuid.UUID, len(args))
			for i, s := range args {
				id, err := parseID(s)
				if err != nil {
					return err
				}
				ids[i] = id
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			for _, id := range ids {
				if err := c.DeleteConversation(cmd.Context(), id); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, "deleted", id)
			}
			return nil
		},
	}
}

func (a *app) bulkDeleteCmd() *cobra.Command {
	var concurrency int
	cmd := &cobra.Command{
		Use:         "bulk-delete [ID... | -]",
		Annotations: calls("bulkDeleteConversations"),
		Short:       "Delete any number of conversations in chunks; ids from arguments or stdin (one a line)",
		Long: `Delete any number of conversations, in chunks of the API's maximum, a few at once.
Ids come from the arguments, or from standard input (one a line) when the only argument
is - or there is none. A progress bar is shown on a terminal. At the end, a summary goes to
stderr and the ids that could not be deleted to stdout, one a line (exit code 5).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The key first: when it comes from standard input, the ids cannot.
			c, err := a.client()
			if err != nil {
				return err
			}
			ids, err := a.readIDs(args)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				return usage("no ids given: pass them as arguments or on standard input")
			}
			opts := client.BulkOptions{Concurrency: concurrency}
			if f, ok := a.stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
				bar := progressbar.NewOptions(len(ids), progressbar.OptionSetWriter(f),
					progressbar.OptionSetDescription("deleting"), progressbar.OptionShowCount(),
					progressbar.OptionClearOnFinish())
				opts.OnProgress = func(settled, _ int) { _ = bar.Set(settled) }
			}
			res, err := c.DeleteConversations(cmd.Context(), ids, opts)
			if res != nil {
				a.summarise(res)
			}
			if err != nil {
				return err
			}
			if len(res.NotAccessible) > 0 {
				return &exitError{code: exitNotAccessible, err: fmt.Errorf("%d conversations could not be deleted", len(res.NotAccessible))}
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&concurrency, "concurrency", 4, "bulk requests at once")
	return cmd
}

func (a *app) readIDs(args []string) ([]uuid.UUID, error) {
	if len(args) > 0 && (len(args) != 1 || args[0] != "-") {
		ids := make([]uuid.UUID, len(args))
		for i, s := range args {
			id, err := parseID(s)
			if err != nil {
				return nil, err
			}
			ids[i] = id
		}
		return ids, nil
	}
	if a.keyFromStdin {
		return nil, usage("standard input holds the API key (--api-key-file -): give the ids as arguments, or the key in a file")
	}
	var ids []uuid.UUID
	sc := bufio.NewScanner(a.stdin)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" {
			continue
		}
		id, err := openapi.ParseUUID(s)
		if err != nil {
			return nil, usage("stdin line %d: %q is not a conversation id (a UUID); nothing was deleted", n, s)
		}
		ids = append(ids, id)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read ids: %w", err)
	}
	return ids, nil
}

func (a *app) summarise(res *client.BulkResult) {
	distinct := len(res.Deleted) + len(res.NotAccessible) + len(res.Failed)
	fmt.Fprintf(a.stderr, "Deleted %d of %d conversations.\n", len(res.Deleted), distinct)
	if n := len(res.NotAccessible); n > 0 {
		fmt.Fprintf(a.stderr, "%d could not be deleted (missing, already deleted or in another workspace); their ids follow on stdout.\n", n)
		for _, id := range res.NotAccessible {
			fmt.Fprintln(a.stdout, id)
		}
	}
	if n := len(res.Failed); n > 0 {
		fmt.Fprintf(a.stderr, "%d failed with errors and may be retried:\n", n)
		for _, f := range res.Failed {
			fmt.Fprintf(a.stderr, "  %s: %v\n", f.ID, f.Err)
		}
	}
}
