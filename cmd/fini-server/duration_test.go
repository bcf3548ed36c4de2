package main

import (
	"testing"
	"time"
)

func TestDurationFlag(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * day, "0d": 0, "720h": 720 * time.Hour, "90m": 90 * time.Minute, "1s": time.Second, "0": 0} {
		var d duration
		if err := d.Set(in); err != nil || time.Duration(d) != want {
			t.Errorf("Set(%q) = %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	for _, in := range []string{"", "d", "1.5d", "-1d", "-1h", "30days", "thirty"} {
		var d duration
		if err := d.Set(in); err == nil {
			t.Errorf("Set(%q) accepted: %v", in, time.Duration(d))
		}
	}
	for d, want := range map[duration]string{duration(365 * day): "365d", duration(time.Minute): "1m0s", 0: "0s", duration(36 * time.Hour): "36h0m0s"} {
		if got := d.String(); got != want {
			t.Errorf("%v prints %q, want %q", time.Duration(d), got, want)
		}
	}
}
