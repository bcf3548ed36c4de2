package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
)

// maxBody bounds how much of a successful answer is read (a page of 100 conversations).
const maxBody = 64 << 20

// decode reads a 2xx JSON answer into v, or returns the *APIError of any other answer.
func decode(res *http.Response, err error, v any) error {
	if err != nil {
		return fmt.Errorf("fini: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return newAPIError(res)
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	body, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
	if err != nil {
		return fmt.Errorf("fini: read %d answer: %w", res.StatusCode, err)
	}
	if ct != "application/json" {
		return fmt.Errorf("fini: %d answer with %s body: %w", res.StatusCode, orNone(ct), ErrUnexpectedResponse)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("fini: %d answer is not the documented JSON: %w", res.StatusCode, errors.Join(ErrUnexpectedResponse, err))
	}
	return nil
}

// DeleteConversation deletes one conversation. It succeeds whether or not the id named a
// live conversation of the key's workspace: delete is idempotent.
func (c *Client) DeleteConversation(ctx context.Context, id uuid.UUID) error {
	var ok api.Success
	res, err := c.gen.DeleteConversation(ctx, id)
	if err := decode(res, err, &ok); err != nil {
		return err
	}
	if !ok.Success {
		return fmt.Errorf("fini: delete answered success=false: %w", ErrUnexpectedResponse)
	}
	return nil
}

// BulkDeleteConversations deletes up to 50 conversations in one request. When some are not
// accessible, the error is an *APIError matching ErrNotAcceptable whose IDs names them; this
// server then deleted nothing (Fini's own deletes the others). See DeleteConversations for
// any number of ids.
func (c *Client) BulkDeleteConversations(ctx context.Context, ids []uuid.UUID) error {
	var ok api.Success
	res, err := c.gen.BulkDeleteConversations(ctx, api.BulkDeleteRequest{IDs: ids})
	if err := decode(res, err, &ok); err != nil {
		return err
	}
	if !ok.Success {
		return fmt.Errorf("fini: bulk delete answered success=false: %w", ErrUnexpectedResponse)
	}
	return nil
}

// GetConversation returns one conversation; ErrNotFound when it is missing, deleted or
// another workspace's.
func (c *Client) GetConversation(ctx context.Context, id uuid.UUID) (*Conversation, error) {
	var conv Conversation
	res, err := c.gen.GetConversation(ctx, id)
	if err := decode(res, err, &conv); err != nil {
		return nil, err
	}
	return &conv, nil
}

// Direction is the way ListConversations pages from a cursor.
type Direction = api.PageDirection

// The directions: Older follows nextCursor, Newer follows prevCursor.
const (
	Older Direction = api.PageDirectionNext
	Newer Direction = api.PageDirectionPrevious
)

// ListOptions selects conversations; the zero value is the server's default (the last 7
// days, 50 a page).
type ListOptions struct {
	// Since (inclusive) and Until (exclusive) bound the time of the latest message.
	Since, Until time.Time
	// Limit is the page size, 1 to 100; 0 means the server's default.
	Limit int
	// Cursor and Direction continue from a previous page.
	Cursor    *uuid.UUID
	Direction Direction
	// BotID keeps one agent's conversations.
	BotID *uuid.UUID
	// Sources and Channels keep conversations with one of these values.
	Sources, Channels []string
}

func (o ListOptions) params() *api.ListConversationsParams {
	p := &api.ListConversationsParams{Cursor: o.Cursor, BotID: o.BotID}
	if !o.Since.IsZero() {
		p.Since = ptr(o.Since.UnixMilli())
	}
	if !o.Until.IsZero() {
		p.Until = ptr(o.Until.UnixMilli())
	}
	if o.Limit != 0 {
		p.Limit = ptr(o.Limit)
	}
	if o.Direction != "" {
		p.Direction = ptr(o.Direction)
	}
	if len(o.Sources) > 0 {
		p.Source = &o.Sources
	}
	if len(o.Channels) > 0 {
		p.Channel = &o.Channels
	}
	return p
}

func ptr[T any](v T) *T { return &v }

// ListConversations returns one page, newest first.
func (c *Client) ListConversations(ctx context.Context, opts ListOptions) (*Page, error) {
	var page Page
	res, err := c.gen.ListConversations(ctx, opts.params())
	if err := decode(res, err, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

// Conversations iterates over every conversation the options select, following the cursors
// page by page in opts.Direction (default Older: newest first, from opts.Cursor or the top).
// It stops at the first error, which it yields.
func (c *Client) Conversations(ctx context.Context, opts ListOptions) iter.Seq2[Conversation, error] {
	return func(yield func(Conversation, error) bool) {
		// Pin the window so that pages agree on "now".
		if opts.Until.IsZero() {
			opts.Until = time.Now()
		}
		for {
			page, err := c.ListConversations(ctx, opts)
			if err != nil {
				yield(Conversation{}, err)
				return
			}
			if opts.Direction == Newer {
				for i := len(page.Conversations) - 1; i >= 0; i-- {
					if !yield(page.Conversations[i], nil) {
						return
					}
				}
			} else {
				for _, conv := range page.Conversations {
					if !yield(conv, nil) {
						return
					}
				}
			}
			next := page.NextCursor
			if opts.Direction == Newer {
				next = page.PrevCursor
			}
			if next == nil || !page.HasMore {
				return
			}
			opts.Cursor = next
			if opts.Direction == "" {
				opts.Direction = Older
			}
		}
	}
}
