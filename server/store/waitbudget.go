package store

import (
	"context"
	"sync/atomic"
	"time"
)

// WaitBudget is the time the store calls of one unit of work may wait for the database
// between them. An API request's key lookup and its operation share one, so that the request
// answers within the store's timeout in all rather than within it once per call. An engine
// that bounds its calls gives each call what is left of its timeout and counts what the call
// took. The zero value has nothing spent; it is safe for concurrent use.
type WaitBudget struct {
	spent atomic.Int64 // nanoseconds
}

// Left returns what is left of total once the time spent is counted; 0 or less when none.
func (b *WaitBudget) Left(total time.Duration) time.Duration {
	return total - time.Duration(b.spent.Load())
}

// Spend counts d as spent waiting.
func (b *WaitBudget) Spend(d time.Duration) { b.spent.Add(int64(d)) }

type waitBudgetKey struct{}

// WithWaitBudget returns ctx carrying b: the store calls made with it, or with a context
// derived from it, share b.
func WithWaitBudget(ctx context.Context, b *WaitBudget) context.Context {
	return context.WithValue(ctx, waitBudgetKey{}, b)
}

// WaitBudgetFrom returns the budget ctx carries, or nil when it carries none.
func WaitBudgetFrom(ctx context.Context) *WaitBudget {
	b, _ := ctx.Value(waitBudgetKey{}).(*WaitBudget)
	return b
}
