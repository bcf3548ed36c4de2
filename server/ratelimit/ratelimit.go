// Package ratelimit limits the API's requests per key: a token bucket for each key, kept by
// the key's SHA-256 (never the key) in a bounded LRU, refusing with a 429 and Retry-After and
// reporting the IETF RateLimit-Policy and RateLimit headers on every answer. It is the gate
// that authentication passes before the key lookup (auth.Gate), so a refused request costs
// no store lookup. It depends on apierror.
package ratelimit

import (
	"container/list"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/fini-oss/conversations/server/apierror"
)

// RateLimit is a per-key request rate: Requests per Per, in bursts of at most Burst. The zero
// value is off.
type RateLimit struct {
	// Requests per Per (time.Second or time.Minute); 0 is off.
	Requests int
	Per      time.Duration
	// Burst is how many requests a key may send at once; 0 is one second's worth, at least 1.
	Burst int
	// MaxKeys bounds how many keys' limiters are kept; 0 is DefaultMaxLimitedKeys.
	MaxKeys int
}

// DefaultMaxLimitedKeys bounds the memory of rate limiting (about 240 bytes a key, 2.4 MB)
// whatever the number of keys presented: past it, the least recently seen key's limiter is
// forgotten, and that key starts again with a full burst. Forgetting errs on the side of
// serving: a key is never refused for want of room.
const DefaultMaxLimitedKeys = 10_000

// MaxBurst bounds a burst as Parse bounds a rate: beyond, the bucket's arithmetic
// (float64 tokens) and the RateLimit header it reports stop being exact.
const MaxBurst = 1_000_000

// Parse parses "off" (or ""), "N/s" or "N/m", N a positive integer.
func Parse(s string) (RateLimit, error) {
	if s == "" || strings.EqualFold(s, "off") {
		return RateLimit{}, nil
	}
	n, unit, found := strings.Cut(s, "/")
	per := map[string]time.Duration{"s": time.Second, "m": time.Minute}[unit]
	requests, err := strconv.Atoi(n)
	if !found || per == 0 || err != nil || requests < 1 || requests > 1_000_000 {
		return RateLimit{}, fmt.Errorf("%q is not a rate: want off, N/s or N/m with N from 1 to 1000000, e.g. 100/s", s)
	}
	return RateLimit{Requests: requests, Per: per}, nil
}

// On reports whether requests are limited.
func (r RateLimit) On() bool { return r.Requests > 0 }

// String is the rate as Parse reads it, with the burst: "100/s burst 100", or "off".
func (r RateLimit) String() string {
	if !r.On() {
		return "off"
	}
	unit := "s"
	if r.Per == time.Minute {
		unit = "m"
	}
	return fmt.Sprintf("%d/%s burst %d", r.Requests, unit, r.burst())
}

func (r RateLimit) burst() int {
	if r.Burst > 0 {
		return r.Burst
	}
	return max(1, int(int64(r.Requests)*int64(time.Second)/int64(r.Per)))
}

func (r RateLimit) validate() error {
	if !r.On() {
		return nil
	}
	if r.Per != time.Second && r.Per != time.Minute {
		return fmt.Errorf("rate limit per %v: want a second or a minute", r.Per)
	}
	if r.Burst < 0 || r.MaxKeys < 0 || r.Burst > MaxBurst {
		return fmt.Errorf("rate limit burst %d, max keys %d: want from 0 to %d, and not negative", r.Burst, r.MaxKeys, MaxBurst)
	}
	return nil
}

// msgTooManyRequests is the message of every 429.
const msgTooManyRequests = "Too many requests"

// The headers of draft-ietf-httpapi-ratelimit-headers-09 (March 2025), the current draft,
// in its structured-field syntax: one policy, named "default", of q requests per w seconds;
// the client's r remaining requests and the t seconds until its quota is whole again.
const (
	headerRateLimitPolicy = "RateLimit-Policy"
	headerRateLimit       = "RateLimit"
	ratePolicyName        = `"default"`
)

// limiterShards spreads the keys over independently locked LRUs; a key's shard is the first
// byte of its SHA-256, which is uniform.
const limiterShards = 16

// Limiter is the token bucket of each API key, kept by the key's SHA-256 (never the key), in
// a bounded LRU.
type Limiter struct {
	rate    rate.Limit
	burst   int
	now     func() time.Time
	policy  string // the RateLimit-Policy value, the same on every response
	refused *prometheus.CounterVec
	shards  [limiterShards]limiterShard
}

// limiterShard is a map into a list of buckets, most recently seen first.
type limiterShard struct {
	mu    sync.Mutex
	keys  map[[32]byte]*list.Element
	order list.List
	max   int
}

type bucket struct {
	hash [32]byte
	lim  *rate.Limiter
}

// New returns the limiter of r, its refusals counted in reg; nil when r is off.
func New(r RateLimit, now func() time.Time, reg prometheus.Registerer) (*Limiter, error) {
	if err := r.validate(); err != nil || !r.On() {
		return nil, err
	}
	refused := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "fini_rate_limited_requests_total",
		Help: "Requests refused with a 429 by the per-key rate limit, by operation.",
	}, []string{"operation"})
	if err := reg.Register(refused); err != nil {
		return nil, fmt.Errorf("rate limit metrics: %w", err)
	}
	maxKeys := r.MaxKeys
	if maxKeys == 0 {
		maxKeys = DefaultMaxLimitedKeys
	}
	l := &Limiter{
		rate:    rate.Limit(float64(r.Requests) / r.Per.Seconds()),
		burst:   r.burst(),
		now:     now,
		policy:  fmt.Sprintf("%s;q=%d;w=%d", ratePolicyName, r.Requests, int(r.Per.Seconds())),
		refused: refused,
	}
	for i := range l.shards {
		l.shards[i].keys = map[[32]byte]*list.Element{}
		l.shards[i].max = max(1, maxKeys/limiterShards)
	}
	return l, nil
}

// Admit takes one token from the bucket of the request's key (key is its SHA-256) and sets
// the rate-limit headers on the response. A request without a well-formed key (keyed false)
// is not limited: it gets a 401 from authentication without a store lookup, and the headers
// show the untouched quota. Over the limit, Admit returns the 429 with its Retry-After.
func (l *Limiter) Admit(c echo.Context, operation string, key [32]byte, keyed bool) error {
	h := c.Response().Header()
	h.Set(headerRateLimitPolicy, l.policy)
	if !keyed {
		h.Set(headerRateLimit, l.remaining(float64(l.burst)))
		return nil
	}
	lim := l.bucket(key)
	now := l.now()
	ok := lim.AllowN(now, 1)
	tokens := lim.TokensAt(now)
	h.Set(headerRateLimit, l.remaining(tokens))
	if ok {
		return nil
	}
	l.refused.WithLabelValues(operation).Inc()
	h.Set("Retry-After", strconv.Itoa(l.secondsFor(1-tokens)))
	return apierror.New(http.StatusTooManyRequests, msgTooManyRequests)
}

// remaining is the RateLimit value when tokens are left in a bucket: the whole requests that
// may be sent now, and the seconds until the bucket is full.
func (l *Limiter) remaining(tokens float64) string {
	r := max(0, int(math.Floor(tokens)))
	t := 0
	if missing := float64(l.burst) - tokens; missing > 0 {
		t = l.secondsFor(missing)
	}
	return ratePolicyName + ";r=" + strconv.Itoa(r) + ";t=" + strconv.Itoa(t)
}

// secondsFor is how many whole seconds, at least 1, the bucket takes to gain tokens.
func (l *Limiter) secondsFor(tokens float64) int {
	return max(1, int(math.Ceil(tokens/float64(l.rate))))
}

// bucket returns the key's limiter, making it (and forgetting the least recently seen key
// of the shard, when full) on the key's first request.
func (l *Limiter) bucket(hash [32]byte) *rate.Limiter {
	s := &l.shards[hash[0]%limiterShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.keys[hash]; ok {
		s.order.MoveToFront(e)
		return e.Value.(*bucket).lim
	}
	if s.order.Len() >= s.max {
		oldest := s.order.Back()
		delete(s.keys, oldest.Value.(*bucket).hash)
		s.order.Remove(oldest)
	}
	b := &bucket{hash: hash, lim: rate.NewLimiter(l.rate, l.burst)}
	s.keys[hash] = s.order.PushFront(b)
	return b.lim
}

// keys is how many keys' limiters are kept.
func (l *Limiter) keys() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.Lock()
		n += s.order.Len()
		s.mu.Unlock()
	}
	return n
}
