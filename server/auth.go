package server

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/store"
)

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

type principalKey struct{}

// PrincipalFrom returns the request's principal, set by authentication before any handler
// runs; ok is false for routes that need no key.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	c, ok := ctx.Value(principalKey{}).(caller)
	return c.Principal, ok
}

// withCaller puts the principal on the context, with what the deletion record keeps of the
// request (actor.go), in one value.
func withCaller(ctx context.Context, c caller) context.Context {
	return context.WithValue(ctx, principalKey{}, c)
}

// touchEvery bounds how often a key's last-used time is written: once a minute is precise
// enough for `key list` and keeps the hot path free of writes.
const touchEvery = time.Minute

// authenticator checks bearer keys against the store on every request, so a revoked key
// fails on the very next request, also on other replicas.
type authenticator struct {
	store   store.Keys
	now     func() time.Time
	log     *slog.Logger
	touched sync.Map // key id -> time.Time of the last write of last_used_at
}

// credential is the bearer key a request presents, as its SHA-256 (apikey.Sum): computed
// once a request, for the rate limiter and the lookup, and never kept in clear.
type credential struct {
	hash [32]byte
	// ok is false when the Authorization header holds no well-formed key.
	ok bool
}

func credentialOf(req *http.Request) credential {
	key, ok := apikey.FromAuthorization(req.Header.Get(echo.HeaderAuthorization))
	if !ok {
		return credential{}
	}
	return credential{hash: apikey.Sum(key), ok: true}
}

// check is the authentication step of every operation (pipeline.go): the bearer key must be
// valid and hold every scope of the operation's x-required-scopes. The principal is put on
// the request's context for the handler; ctx is the step's, for the lookup.
func (a *authenticator) check(ctx context.Context, c echo.Context, op *operation, cred credential) error {
	if !op.secured {
		return nil
	}
	p, err := a.authenticate(ctx, cred)
	if err != nil {
		return err
	}
	if !p.HasScopes(op.scopes) {
		return errForbidden
	}
	req := c.Request()
	c.SetRequest(req.WithContext(withCaller(req.Context(), newCaller(c, op, p))))
	return nil
}

// authenticate returns the key's principal, errUnauthorized for any missing, malformed,
// unknown or revoked key (indistinguishably), or another error when the store failed.
func (a *authenticator) authenticate(ctx context.Context, cred credential) (Principal, error) {
	if !cred.ok {
		return Principal{}, errUnauthorized
	}
	// The lookup is by SHA-256 of the key, so its timing does not depend on how much of the
	// key is right; the constant-time compare guards against a store that matched loosely.
	hash := cred.hash[:]
	k, err := a.store.APIKeyByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, errUnauthorized
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare(k.Hash, hash) != 1 || k.RevokedAt != nil {
		return Principal{}, errUnauthorized
	}
	a.touch(ctx, k.ID)
	return Principal{WorkspaceID: k.WorkspaceID, KeyID: k.ID, KeyName: k.Name, Scopes: k.Scopes}, nil
}

func (a *authenticator) touch(ctx context.Context, id uuid.UUID) {
	now := a.now()
	if last, ok := a.touched.Load(id); ok && now.Sub(last.(time.Time)) < touchEvery {
		return
	}
	a.touched.Store(id, now)
	// Last-used is bookkeeping: it may not hold a request up. When the writer is busy (a
	// long import, a checkpoint) it is skipped, and written on a later request.
	ctx, cancel := context.WithTimeout(ctx, touchWait)
	defer cancel()
	if err := a.store.TouchAPIKey(ctx, id, now.UnixMilli()); err != nil {
		a.touched.Delete(id)
		a.log.WarnContext(ctx, "record key use", "key_id", id, "error", err)
	}
}

// touchWait bounds how long a request waits to record its key's use.
const touchWait = 100 * time.Millisecond
