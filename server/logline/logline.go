// Package logline is a slog.Handler for a hot path: it writes each record as one JSON line,
// the same line slog.JSONHandler writes (time, level, msg, then the attributes, groups as
// nested objects, durations in nanoseconds), into a pooled buffer with no reflection for the
// kinds a server logs: strings, numbers, booleans, times, durations, errors and UUIDs. The
// server writes one line per request, and slog.JSONHandler spent more on it than the rest
// of a delete's validation. It depends on nothing of ours.
package logline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Handler writes JSON lines to an io.Writer. It is safe for concurrent use.
type Handler struct {
	out   *output
	level slog.Leveler
	// pre is the attributes of WithAttrs, already encoded, each followed by a comma;
	// groups are the open groups of WithGroup, whose objects every record closes.
	pre    []byte
	groups int
}

type output struct {
	mu sync.Mutex
	w  io.Writer
}

// New returns a Handler writing to w at opts.Level and above (default Info).
func New(w io.Writer, opts *slog.HandlerOptions) *Handler {
	h := &Handler{out: &output{w: w}, level: slog.LevelInfo}
	if opts != nil && opts.Level != nil {
		h.level = opts.Level
	}
	return h
}

// Enabled reports whether level is logged.
func (h *Handler) Enabled(_ context.Context, level slog.Level) bool {
	return level >= h.level.Level()
}

var buffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// Handle writes r as one line.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	bp := buffers.Get().(*[]byte)
	b := (*bp)[:0]
	b = append(b, '{')
	if !r.Time.IsZero() {
		b = append(b, `"time":"`...)
		b = r.Time.AppendFormat(b, time.RFC3339Nano)
		b = append(b, `",`...)
	}
	b = append(b, `"level":`...)
	b = appendString(b, r.Level.String())
	b = append(b, `,"msg":`...)
	b = appendString(b, r.Message)
	if len(h.pre) > 0 || r.NumAttrs() > 0 {
		b = append(b, ',')
	}
	b = append(b, h.pre...)
	r.Attrs(func(a slog.Attr) bool {
		b = appendAttr(b, a)
		return true
	})
	b = trimComma(b)
	for range h.groups {
		b = append(b, '}')
	}
	b = append(b, '}', '\n')
	h.out.mu.Lock()
	_, err := h.out.w.Write(b)
	h.out.mu.Unlock()
	if cap(b) <= 64<<10 {
		*bp = b
		buffers.Put(bp)
	}
	return err
}

// WithAttrs returns a Handler that writes attrs in every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	h2 := *h
	h2.pre = append([]byte(nil), h.pre...)
	for _, a := range attrs {
		h2.pre = appendAttr(h2.pre, a)
	}
	return &h2
}

// WithGroup returns a Handler that nests the attributes that follow in an object name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	h2 := *h
	h2.pre = appendString(append([]byte(nil), h.pre...), name)
	h2.pre = append(h2.pre, ":{"...)
	h2.groups++
	return &h2
}

// appendAttr appends a as `"key":value,`; empty attributes and empty groups are left out,
// as slog.JSONHandler does.
func appendAttr(b []byte, a slog.Attr) []byte {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return b
	}
	if a.Value.Kind() == slog.KindGroup {
		attrs := a.Value.Group()
		if len(attrs) == 0 {
			return b
		}
		if a.Key == "" { // an inline group
			for _, ga := range attrs {
				b = appendAttr(b, ga)
			}
			return b
		}
		b = appendString(b, a.Key)
		b = append(b, ":{"...)
		for _, ga := range attrs {
			b = appendAttr(b, ga)
		}
		return append(trimComma(b), '}', ',')
	}
	b = appendString(b, a.Key)
	b = append(b, ':')
	b = appendValue(b, a.Value)
	return append(b, ',')
}

func appendValue(b []byte, v slog.Value) []byte {
	switch v.Kind() {
	case slog.KindString:
		return appendString(b, v.String())
	case slog.KindInt64:
		return strconv.AppendInt(b, v.Int64(), 10)
	case slog.KindUint64:
		return strconv.AppendUint(b, v.Uint64(), 10)
	case slog.KindFloat64:
		f := v.Float64()
		if b2, err := json.Marshal(f); err == nil { // NaN and Inf are not JSON
			return append(b, b2...)
		}
		return appendString(b, strconv.FormatFloat(f, 'g', -1, 64))
	case slog.KindBool:
		return strconv.AppendBool(b, v.Bool())
	case slog.KindDuration:
		return strconv.AppendInt(b, int64(v.Duration()), 10)
	case slog.KindTime:
		b = append(b, '"')
		b = v.Time().AppendFormat(b, time.RFC3339Nano)
		return append(b, '"')
	}
	switch x := v.Any().(type) {
	case uuid.UUID:
		return appendUUID(b, x)
	case *uuid.UUID: // a pointer, which slog.Any keeps without an allocation
		if x == nil {
			return append(b, "null"...)
		}
		return appendUUID(b, *x)
	case error:
		return appendString(b, x.Error())
	case json.Marshaler, fmt.Stringer:
		if j, err := json.Marshal(x); err == nil {
			return append(b, j...)
		}
		return appendString(b, fmt.Sprint(x))
	}
	if j, err := json.Marshal(v.Any()); err == nil {
		return append(b, j...)
	}
	return appendString(b, fmt.Sprint(v.Any()))
}

// appendUUID appends id in its canonical form, as a JSON string, without uuid's allocation.
func appendUUID(b []byte, id uuid.UUID) []byte {
	b = append(b, '"')
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return append(b, '"')
}

func trimComma(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == ',' {
		return b[:len(b)-1]
	}
	return b
}

const hex = "0123456789abcdef"

// appendString appends s as a JSON string, escaping as encoding/json does (HTML-safe, bad
// UTF-8 replaced), with a fast path for the plain text most of a log line is.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Clip returns s cut to at most n bytes, saying how much was left out: what a client chose
// (a path, a user agent) is logged only so far, so that a hostile request cannot make one
// line as large as itself.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "...(" + strconv.Itoa(len(s)-n) + " more bytes)"
}
