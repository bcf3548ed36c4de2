package logline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/logline"
)

// TestSameLinesAsJSONHandler: every record is the JSON object slog.JSONHandler writes.
func TestSameLinesAsJSONHandler(t *testing.T) {
	id := uuid.MustParse("0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8")
	at := time.Date(2026, 11, 27, 21, 0, 0, 123456789, time.UTC)
	logs := []func(*slog.Logger){
		func(l *slog.Logger) {
			l.Info("request", "request_id", "r-1", "method", "DELETE", "path", "/v2/hc-interactions/x/public",
				"status", 200, "latency", 1234*time.Microsecond, "bytes", int64(17), "workspace", id.String())
		},
		func(l *slog.Logger) { l.Error("boom", "error", errors.New(`bad "thing" <\n>`), "id", id) },
		func(l *slog.Logger) {
			l.Warn("odd text", "s", "tab\t nl\n quote\" back\\ ctl\x01 bad\xff u2028\u2028 <&> é 日本", "f", 1.5, "b", true, "u", uint64(7), "t", at)
		},
		func(l *slog.Logger) {
			l.With("component", "purge").WithGroup("g").Info("grouped", "a", 1, slog.Group("inner", "b", 2))
		},
		func(l *slog.Logger) { l.Info("empty group", slog.Group("none"), "k", "v") },
		func(l *slog.Logger) { l.Info("no attrs") },
		func(l *slog.Logger) { l.Info("any", "m", map[string]int{"x": 1}, "d", struct{ A int }{2}) },
	}
	for i, log := range logs {
		var want, got bytes.Buffer
		log(slog.New(slog.NewJSONHandler(&want, nil)))
		log(slog.New(logline.New(&got, nil)))
		if !strings.HasSuffix(got.String(), "}\n") || strings.Count(got.String(), "\n") != 1 {
			t.Errorf("%d: not one line: %q", i, got.String())
		}
		var w, g map[string]any
		if err := json.Unmarshal(want.Bytes(), &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got.Bytes(), &g); err != nil {
			t.Fatalf("%d: not JSON: %v\n%s", i, err, got.String())
		}
		delete(w, "time")
		delete(g, "time")
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%d:\n got %s\nwant %s", i, got.String(), want.String())
		}
	}
}

func TestLevel(t *testing.T) {
	var out bytes.Buffer
	l := slog.New(logline.New(&out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l.Info("dropped")
	l.Warn("kept")
	if strings.Contains(out.String(), "dropped") || !strings.Contains(out.String(), "kept") {
		t.Errorf("level: %s", out.String())
	}
}

// BenchmarkRequestLine is one access-log line, as the server writes it, with each handler.
func BenchmarkRequestLine(b *testing.B) {
	ws, key := uuid.New(), uuid.New()
	for name, h := range map[string]slog.Handler{"slog-json": slog.NewJSONHandler(io.Discard, nil), "logline": logline.New(io.Discard, nil)} {
		b.Run("handler="+name, func(b *testing.B) {
			l := slog.New(h)
			b.ReportAllocs()
			for b.Loop() {
				l.LogAttrs(b.Context(), slog.LevelInfo, "request", slog.String("request_id", "0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8"),
					slog.String("method", "DELETE"), slog.String("path", "/v2/hc-interactions/0b8626b0-4cc8-4a3d-8fc2-f18ad1a4a1a8/public"),
					slog.String("operation", "deleteConversation"), slog.Int("status", 200), slog.Duration("latency", 3*time.Microsecond),
					slog.Int64("bytes", 17), slog.Any("workspace", ws), slog.Any("key_id", key))
			}
		})
	}
}
