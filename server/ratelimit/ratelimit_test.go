package ratelimit

import (
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestLimiterMemoryIsBounded: however many distinct keys are presented, no more than MaxKeys
// buckets are kept; the least recently seen are the ones forgotten, and a forgotten key
// starts again with a whole burst.
func TestLimiterMemoryIsBounded(t *testing.T) {
	const maxKeys = 1024
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	l, err := New(RateLimit{Requests: 1, Per: time.Minute, MaxKeys: maxKeys}, func() time.Time { return now }, prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	hash := func(i int) [32]byte {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(i))
		return sha256.Sum256(b[:])
	}
	// Key 0 spends its burst, then stays in use while others come and go.
	if !l.bucket(hash(0)).AllowN(now, 1) {
		t.Fatal("a new key was refused")
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const distinct = 200_000
	for i := 1; i <= distinct; i++ {
		l.bucket(hash(i))
		if i%(maxKeys/4) == 0 && l.bucket(hash(0)).AllowN(now, 1) {
			t.Fatalf("after %d other keys, the key in use was forgotten (its burst is whole again)", i)
		}
	}
	if n := l.keys(); n != maxKeys {
		t.Fatalf("%d buckets kept after %d distinct keys, want the bound %d", n, distinct, maxKeys)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grown := int64(after.HeapAlloc) - int64(before.HeapAlloc); grown > 4<<20 {
		t.Errorf("the heap grew by %d bytes over %d keys with %d kept", grown, distinct, maxKeys)
	}
	// Key 1 was seen long ago: forgotten, it has its burst again.
	if !l.bucket(hash(1)).AllowN(now, 1) {
		t.Error("a key pushed out of the bound kept its spent bucket")
	}
}

func TestParse(t *testing.T) {
	good := map[string]RateLimit{
		"":          {},
		"off":       {},
		"OFF":       {},
		"100/s":     {Requests: 100, Per: time.Second},
		"1/m":       {Requests: 1, Per: time.Minute},
		"600/m":     {Requests: 600, Per: time.Minute},
		"1000000/s": {Requests: 1_000_000, Per: time.Second},
	}
	for in, want := range good {
		if got, err := Parse(in); err != nil || got != want {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"100", "100/h", "0/s", "-1/s", "1.5/s", "x/s", "100/", "/s", "100/sec", "1000001/s", "on"} {
		_, err := Parse(in)
		if want := `"` + in + `" is not a rate: want off, N/s or N/m with N from 1 to 1000000, e.g. 100/s`; err == nil || err.Error() != want {
			t.Errorf("Parse(%q): %v, want %q", in, err, want)
		}
	}
	bursts := map[RateLimit]int{
		{Requests: 100, Per: time.Second}:           100,
		{Requests: 100, Per: time.Second, Burst: 5}: 5,
		{Requests: 600, Per: time.Minute}:           10,
		{Requests: 30, Per: time.Minute}:            1,
	}
	for r, want := range bursts {
		if got := r.burst(); got != want {
			t.Errorf("%+v: burst %d, want %d", r, got, want)
		}
	}
}
