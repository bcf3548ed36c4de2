package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/contract"
	"github.com/fini-oss/conversations/server/store"
)

// hashSpy records what the server looks keys up by.
type hashSpy struct {
	store.API
	mu     sync.Mutex
	hashes [][]byte
}

func (s *hashSpy) APIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	s.mu.Lock()
	s.hashes = append(s.hashes, bytes.Clone(hash))
	s.mu.Unlock()
	return s.API.APIKeyByHash(ctx, hash)
}

// nearMisses returns keys that share ever longer prefixes with key.
func nearMisses(key string) map[string]string {
	flip := func(i int) string {
		b := []byte(key)
		if b[i] == 'A' {
			b[i] = 'B'
		} else {
			b[i] = 'A'
		}
		return string(b)
	}
	return map[string]string{
		"right-prefix-only": flip(len("fini_")),
		"half-right":        flip(len(key) / 2),
		"all-but-last":      flip(len(key) - 1),
	}
}

// TestKeyLookupIsByWholeKeyHash: whatever part of a key is right, the server looks it up only
// by the SHA-256 of the whole key it was given, so how much of it is right cannot change the
// work done (BenchmarkKeyCheck shows the timings).
func TestKeyLookupIsByWholeKeyHash(t *testing.T) {
	var spy *hashSpy
	e := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { spy = &hashSpy{API: s}; return spy })
	for name, key := range nearMisses(e.A.Key) {
		spy.mu.Lock()
		spy.hashes = nil
		spy.mu.Unlock()
		e.do("GET", listPath, key, "").expect(t, 401, unauthorized)
		want := sha256.Sum256([]byte(key))
		spy.mu.Lock()
		if len(spy.hashes) != 1 || !bytes.Equal(spy.hashes[0], want[:]) {
			t.Errorf("%s: looked up %d times by %x, want once by the hash of the whole key", name, len(spy.hashes), spy.hashes)
		}
		spy.mu.Unlock()
	}
}

// stalledTouch is a store that cannot record a key's use in time, as a busy writer or a slow
// database cannot: each try waits out its bound.
type stalledTouch struct {
	store.API
	tries atomic.Int32
}

func (s *stalledTouch) TouchAPIKey(ctx context.Context, _ uuid.UUID, _ int64) error {
	s.tries.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// TestAFailedKeyUseRecordWaitsItsTurn: recording a key's use that failed is tried again at
// its next turn, not at the key's next request: each try holds a request for its bound and,
// on PostgreSQL, closes the connection its cancellation cuts.
func TestAFailedKeyUseRecordWaitsItsTurn(t *testing.T) {
	var spy *stalledTouch
	e := newTestServerMode(t, contract.Enforce, func(s store.API) store.API { spy = &stalledTouch{API: s}; return spy })
	for range 3 {
		e.do("GET", listPath, e.readKey, "").expect(t, 200, "")
	}
	if n := spy.tries.Load(); n != 1 {
		t.Errorf("3 requests tried to record their key's use %d times, want once", n)
	}
}

// BenchmarkKeyCheck times a refused request for keys that are right up to ever later points:
// the figures should not depend on how much of the key is right.
func BenchmarkKeyCheck(b *testing.B) {
	e := newBenchEnv(b)
	s := e.stacks["enforce"]
	for _, name := range []string{"right-prefix-only", "half-right", "all-but-last"} {
		key := nearMisses(e.seeded.Key)[name]
		b.Run("key="+name, func(b *testing.B) {
			run(b, s, func(int) *http.Request {
				req := httptest.NewRequest(http.MethodGet, "/v2/hc-interactions/public", nil)
				req.Header.Set("Authorization", "Bearer "+key)
				return req
			}, http.StatusUnauthorized)
		})
	}
}
