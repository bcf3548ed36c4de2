// Package client is an idiomatic Go client for the Fini Conversations API, over the client
// generated from openapi/openapi.yaml. It works against Fini's production API (the default)
// and against this project's server. Callers need not import the generated package: the
// conversation types are defined here as Go types (times as time.Time), whose JSON is the
// API's. It depends on gen/api (the generated client, with oapi-codegen's small runtime),
// github.com/google/uuid and the standard library: no Echo, no spec loader, no YAML parser
// (make check-client-deps).
package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/fini-oss/conversations/gen/api"
)

// DefaultTimeout bounds each attempt of a request when the caller brings no HTTP client.
const DefaultTimeout = 30 * time.Second

// Client calls the Conversations API. It is safe for concurrent use.
type Client struct {
	gen       *api.Client
	baseURL   string
	userAgent string // the caller's products, before the client's own
	retry     RetryPolicy
	doer      api.HttpRequestDoer
}

// Option configures New.
type Option func(*Client) error

// WithBaseURL sets the API's base URL; the default is the spec's first server, Fini's
// production API.
func WithBaseURL(base string) Option {
	return func(c *Client) error {
		u, err := url.Parse(base)
		if err != nil {
			// url's error quotes the whole value, and a URL may hold a password.
			return errors.New("base URL: not a URL; want http(s)://host[:port]")
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("base URL %q: want http(s)://host[:port]", u.Redacted())
		}
		c.baseURL = strings.TrimSuffix(base, "/")
		return nil
	}
}

// WithHTTPClient sets the HTTP client (or any doer); its own timeout then applies.
func WithHTTPClient(d api.HttpRequestDoer) Option {
	return func(c *Client) error {
		if d == nil {
			return errors.New("nil HTTP client")
		}
		c.doer = d
		return nil
	}
}

// WithUserAgent names the calling program in the User-Agent header, before the client's own
// product token: "my-tool/2.1 fini-conversations-go/v1.3.0" for ua "my-tool/2.1", as RFC 9110
// (section 10.1.5) lists products by their significance. ua is one or more products such as
// name/version; it may not hold control characters.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.ContainsFunc(ua, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			return errors.New("user agent: control characters are not allowed")
		}
		c.userAgent = strings.TrimSpace(ua)
		return nil
	}
}

// WithRetry sets the retry policy; RetryPolicy{MaxAttempts: 1} disables retries.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 1 {
			return errors.New("retry policy: MaxAttempts must be at least 1")
		}
		c.retry = p
		return nil
	}
}

// New returns a client that authenticates with apiKey ("fini_...").
func New(apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, errors.New("fini: an API key is required")
	}
	c := &Client{
		retry: DefaultRetryPolicy,
		doer:  &http.Client{Timeout: DefaultTimeout},
	}
	c.baseURL = api.DefaultServerURL
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, fmt.Errorf("fini: %w", err)
		}
	}
	authorization := "Bearer " + apiKey
	userAgent := strings.TrimSpace(c.userAgent + " " + product())
	var err error
	c.gen, err = api.NewClient(c.baseURL,
		api.WithHTTPClient(&retryingDoer{doer: c.doer, policy: c.retry}),
		api.WithRequestEditorFn(func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", authorization)
			req.Header.Set("User-Agent", userAgent)
			req.Header.Set("Accept", "application/json")
			return nil
		}))
	if err != nil {
		return nil, fmt.Errorf("fini: %w", err)
	}
	return c, nil
}

// BaseURL returns the base URL the client calls.
func (c *Client) BaseURL() string { return c.baseURL }
