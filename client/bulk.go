package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
)

// BulkResult reports the outcome of every id given to DeleteConversations.
type BulkResult struct {
	// Deleted were deleted by this call.
	Deleted []uuid.UUID
	// NotAccessible were missing, already deleted, or another workspace's.
	NotAccessible []uuid.UUID
	// Failed could not be deleted for another reason; each says why.
	Failed []Failure
}

// Failure is an id that DeleteConversations could not delete, and why.
type Failure struct {
	ID  uuid.UUID
	Err error
}

// BulkOptions tunes DeleteConversations.
type BulkOptions struct {
	// Concurrency is how many bulk requests run at once; default 4.
	Concurrency int
	// OnProgress, when set, is called after each chunk with how many ids are settled.
	OnProgress func(settled, total int)
}

// DeleteConversations deletes any number of conversations: it splits the ids into chunks of
// the spec's maximum, runs a few chunks at once, and when a chunk is refused (406) takes the
// named ids out and deletes the rest. Duplicate ids are deleted once. Every list of the
// result is in the caller's order, whatever order the chunks finished in. The error is
// non-nil only when some ids Failed: it names the first of them.
func (c *Client) DeleteConversations(ctx context.Context, ids []uuid.UUID, opts BulkOptions) (*BulkResult, error) {
	size := api.BulkDeleteMaxIDs
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	unique := make([]uuid.UUID, 0, len(ids))
	seen := make(map[uuid.UUID]bool, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}

	var (
		mu      sync.Mutex
		res     = &BulkResult{}
		settled int
		wg      sync.WaitGroup
		slots   = make(chan struct{}, opts.Concurrency)
	)
	for chunk := range slices.Chunk(unique, size) {
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-slots; wg.Done() }()
			deleted, gone, failed := c.deleteChunk(ctx, chunk)
			mu.Lock()
			defer mu.Unlock()
			res.Deleted = append(res.Deleted, deleted...)
			res.NotAccessible = append(res.NotAccessible, gone...)
			for _, id := range failed.ids {
				res.Failed = append(res.Failed, Failure{ID: id, Err: failed.err})
			}
			settled += len(chunk)
			if opts.OnProgress != nil {
				opts.OnProgress(settled, len(unique))
			}
		}()
	}
	wg.Wait()
	// Report in the caller's order, whatever order the chunks finished in.
	order := make(map[uuid.UUID]int, len(unique))
	for i, id := range unique {
		order[id] = i
	}
	byOrder := func(a, b uuid.UUID) int { return order[a] - order[b] }
	slices.SortFunc(res.Deleted, byOrder)
	slices.SortFunc(res.NotAccessible, byOrder)
	slices.SortFunc(res.Failed, func(a, b Failure) int { return byOrder(a.ID, b.ID) })
	if len(res.Failed) > 0 {
		return res, fmt.Errorf("fini: %d of %d conversations could not be deleted: %w",
			len(res.Failed), len(unique), res.Failed[0].Err)
	}
	return res, nil
}

type failure struct {
	ids []uuid.UUID
	err error
}

// deleteChunk deletes one chunk, dropping the ids a 406 names until the rest goes through.
func (c *Client) deleteChunk(ctx context.Context, chunk []uuid.UUID) (deleted, gone []uuid.UUID, failed failure) {
	rest := slices.Clone(chunk)
	for len(rest) > 0 {
		err := c.BulkDeleteConversations(ctx, rest)
		if err == nil {
			return append(deleted, rest...), gone, failure{}
		}
		var ae *APIError
		if !errors.As(err, &ae) || !errors.Is(err, ErrNotAcceptable) {
			return deleted, gone, failure{ids: rest, err: err}
		}
		named := map[uuid.UUID]bool{}
		for _, id := range ae.IDs {
			named[id] = true
		}
		kept := rest[:0:0]
		for _, id := range rest {
			if named[id] {
				gone = append(gone, id)
			} else {
				kept = append(kept, id)
			}
		}
		if len(kept) == len(rest) { // a 406 that names none of ours: nothing more to learn
			return deleted, gone, failure{ids: rest, err: err}
		}
		rest = kept
	}
	return deleted, gone, failure{}
}
