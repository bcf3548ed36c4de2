package client

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/fini-oss/conversations/gen/api"
)

// RetryPolicy retries network errors and 429, 502, 503 and 504 answers with capped
// exponential backoff and full jitter, honouring Retry-After and the context. Every operation
// of this API is safe to retry: delete is idempotent by contract.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 disables retries.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it, up to MaxDelay.
	BaseDelay, MaxDelay time.Duration
}

// DefaultRetryPolicy makes up to 4 attempts, backing off from 100ms up to 5s.
var DefaultRetryPolicy = RetryPolicy{MaxAttempts: 4, BaseDelay: 100 * time.Millisecond, MaxDelay: 5 * time.Second}

func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// delay is the wait before retry n (1-based): a random duration up to the capped exponential
// backoff, or what Retry-After asks for, capped at MaxDelay.
func (p RetryPolicy) delay(n int, res *http.Response) time.Duration {
	if res != nil {
		if d, ok := retryAfter(res.Header.Get("Retry-After")); ok {
			return min(d, p.MaxDelay)
		}
	}
	backoff := p.BaseDelay << min(n-1, 30)
	if backoff <= 0 || backoff > p.MaxDelay {
		backoff = p.MaxDelay
	}
	return rand.N(backoff) + 1
}

func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// retryingDoer sends a request, again when the policy says so.
type retryingDoer struct {
	doer   api.HttpRequestDoer
	policy RetryPolicy
}

// Do sends req, again after a retryable failure while attempts and the context allow.
func (d *retryingDoer) Do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	for attempt := 1; ; attempt++ {
		res, err := d.doer.Do(req)
		last := attempt >= d.policy.MaxAttempts
		switch {
		case err != nil && (ctx.Err() != nil || last):
			return nil, err
		case err == nil && (!retryable(res.StatusCode) || last):
			return res, nil
		}
		wait := d.policy.delay(attempt, res)
		if res != nil {
			res.Body.Close()
		}
		if err := sleep(ctx, wait); err != nil {
			return nil, err
		}
		if req, err = rewind(req); err != nil {
			return nil, err
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("retry: %w", ctx.Err())
	case <-t.C:
		return nil
	}
}

// rewind gives the request a fresh body for the next attempt.
func rewind(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	if req.GetBody == nil {
		return nil, errors.New("retry: request body cannot be replayed")
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, fmt.Errorf("retry: %w", err)
	}
	r := req.Clone(req.Context())
	r.Body = body
	return r, nil
}
