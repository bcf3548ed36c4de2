// Package auth authenticates the API's requests. A request carries its key as a bearer
// token; the key is looked up by its SHA-256 in the key store on every request, so that a
// revocation holds on the very next request, on every replica, and it must hold every scope
// the operation requires (the spec's x-required-scopes). The caller is put on the request's
// context for the handlers and the deletion record. Authorizer is the contract engine's
// hook. It depends on the contract engine, apierror, apikey, requestid and store's Keys role.
package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/apierror"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/requestid"
	"github.com/fini-oss/conversations/server/store"
)

// The seed's exact 401 and 403 messages; the 401 never says which check failed, so it is no
// oracle for which keys exist.
const (
	msgUnauthorized = "Invalid or revoked API key"
	msgForbidden    = "API key does not have the required scope for this operation"
)

// ScopesExtension is the operation's extension that lists the scopes a key must hold, all of
// them: an http bearer scheme has no scopes of its own in OpenAPI 3.0.
const ScopesExtension = "x-required-scopes"

// Unauthorized is the 401 of a missing, malformed, unknown or revoked key, alike.
func Unauthorized() *apierror.Error { return apierror.New(http.StatusUnauthorized, msgUnauthorized) }

func forbidden() *apierror.Error { return apierror.New(http.StatusForbidden, msgForbidden) }

// Gate admits a request by its key before the key is looked up: a rate limit, whose refusal
// then costs no store lookup. key is the SHA-256 of the presented key; keyed is false when
// the request holds no well-formed key (it will get a 401 without a lookup).
type Gate interface {
	Admit(c echo.Context, operation string, key [32]byte, keyed bool) error
}

// Config configures New. Keys is required.
type Config struct {
	Keys store.Keys
	// Gate, when set, admits each request before its key is looked up.
	Gate Gate
	// Now is the clock of the keys' last-used time; default time.Now.
	Now func() time.Time
	// Logger receives what cannot be recorded (a key's last use); default slog.Default().
	Logger *slog.Logger
}

// Authenticator checks bearer keys against the key store.
type Authenticator struct {
	cfg     Config
	touched sync.Map // key id -> time.Time of the last write of last_used_at
}

// New returns an Authenticator.
func New(cfg Config) *Authenticator {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Authenticator{cfg: cfg}
}

// Authorizer is the contract engine's Hooks.Authorizer: each secured operation must declare
// http bearer security and its scopes, read here once, and every request then presents a
// valid key holding them all.
func (a *Authenticator) Authorizer(op *contract.Operation) (contract.AuthorizeFunc, error) {
	for _, req := range op.Security() {
		for name := range req {
			s := op.SecurityScheme(name)
			if s == nil || s.Type != "http" || !strings.EqualFold(s.Scheme, "bearer") {
				return nil, fmt.Errorf("security scheme %q: only http bearer is supported", name)
			}
		}
	}
	var scopes []string
	if raw, ok := op.Spec().Extensions[ScopesExtension]; ok {
		list, ok := raw.([]any)
		for _, s := range list {
			if s, isString := s.(string); isString {
				scopes = append(scopes, s)
			}
		}
		if !ok || len(scopes) != len(list) {
			return nil, fmt.Errorf("%s: want a list of scope names", ScopesExtension)
		}
	}
	if len(scopes) == 0 {
		return nil, fmt.Errorf("secured, but %s names no scope", ScopesExtension)
	}
	id := op.ID()
	return func(ctx context.Context, c echo.Context) error {
		return a.check(ctx, c, id, scopes)
	}, nil
}

// check is one request's authorization: the gate, the key, its scopes. The caller is put on
// the request's context with its wait budget, which the lookup (with ctx, the step's)
// already drew on, so that the request waits for the database the store's timeout in all.
func (a *Authenticator) check(ctx context.Context, c echo.Context, operation string, scopes []string) error {
	req := c.Request()
	key, keyed := apikey.FromAuthorization(req.Header.Get(echo.HeaderAuthorization))
	var sum [32]byte
	if keyed {
		sum = apikey.Sum(key)
	}
	if a.cfg.Gate != nil {
		if err := a.cfg.Gate.Admit(c, operation, sum, keyed); err != nil {
			return err
		}
	}
	if !keyed {
		return Unauthorized()
	}
	caller := &Caller{RequestID: requestid.From(c), Operation: operation}
	p, err := a.authenticate(store.WithWaitBudget(ctx, &caller.waits), sum)
	if err != nil {
		return err
	}
	if !p.HasScopes(scopes) {
		return forbidden()
	}
	caller.Principal = p
	ctx = context.WithValue(req.Context(), callerKey{}, caller)
	c.SetRequest(req.WithContext(store.WithWaitBudget(ctx, &caller.waits)))
	return nil
}

// authenticate returns the principal of the key whose SHA-256 is sum: a 401 for an unknown
// or revoked key (as for a missing one), a 503 when the store is unavailable.
func (a *Authenticator) authenticate(ctx context.Context, sum [32]byte) (Principal, error) {
	// The lookup is by SHA-256 of the key, so its timing does not depend on how much of the
	// key is right; the constant-time compare guards against a store that matched loosely.
	hash := sum[:]
	k, err := a.cfg.Keys.APIKeyByHash(ctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Principal{}, Unauthorized()
	case errors.Is(err, store.ErrUnavailable):
		return Principal{}, apierror.Unavailable(fmt.Errorf("authenticate: %w", err), 0)
	case err != nil:
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 || k.RevokedAt != nil {
		return Principal{}, Unauthorized()
	}
	a.touch(ctx, k.ID)
	return Principal{WorkspaceID: k.WorkspaceID, KeyID: k.ID, KeyName: k.Name, Scopes: k.Scopes}, nil
}

// touchEvery bounds how often a key's last-used time is written: once a minute is precise
// enough for `key list` and keeps the hot path free of writes.
const touchEvery = time.Minute

// touchWait bounds how long a request waits to record its key's use.
const touchWait = 100 * time.Millisecond

func (a *Authenticator) touch(ctx context.Context, id uuid.UUID) {
	now := a.cfg.Now()
	if last, ok := a.touched.Load(id); ok && now.Sub(last.(time.Time)) < touchEvery {
		return
	}
	a.touched.Store(id, now)
	// Last-used is bookkeeping: it may not hold a request up. When the writer is busy (a
	// long import, a checkpoint) or the database slow, it is skipped until its next turn,
	// touchEvery later: trying at every request would hold each for touchWait and, on
	// PostgreSQL, close the connection each cancelled try cuts.
	ctx, cancel := context.WithTimeout(ctx, touchWait)
	defer cancel()
	if err := a.cfg.Keys.TouchAPIKey(ctx, id, now.UnixMilli()); err != nil {
		a.cfg.Logger.WarnContext(ctx, "record key use", "key_id", id, "error", err)
	}
}

// Principal is the authenticated caller of a request: one key of one workspace.
type Principal struct {
	WorkspaceID uuid.UUID
	KeyID       uuid.UUID
	// KeyName is the name the key was created with, for the deletion record.
	KeyName string
	Scopes  []string
}

// HasScopes reports whether the principal holds every one of scopes.
func (p Principal) HasScopes(scopes []string) bool {
	for _, s := range scopes {
		if !slices.Contains(p.Scopes, s) {
			return false
		}
	}
	return true
}

// Caller is what authentication puts on the request's context: the principal, and what the
// deletion record keeps of the request besides its key, so that handlers, which see only
// the context, can name the actor of a change. One value, so that a request allocates no
// more than the principal alone would.
type Caller struct {
	Principal
	// RequestID is the request's X-Request-Id (requestid); Operation its operationId.
	RequestID, Operation string
	// waits is the request's time to wait for the database, which its key's lookup starts
	// and its operation's store calls share (the request's context carries it).
	waits store.WaitBudget
}

type callerKey struct{}

// CallerFrom returns the request's caller, which must not be modified; ok is false for a
// request no key authenticated.
func CallerFrom(ctx context.Context) (*Caller, bool) {
	c, ok := ctx.Value(callerKey{}).(*Caller)
	return c, ok
}

// Actor is who the store records as making a change for this caller: its key (by id and
// name, never its secret), its request id and its operation.
func (c *Caller) Actor() store.Actor {
	return store.Actor{KeyID: c.KeyID, KeyName: c.KeyName, RequestID: c.RequestID, Operation: c.Operation}
}
