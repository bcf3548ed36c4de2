package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// ErrInvalidJSON is StrictJSON's error for bytes that are not one JSON value.
var ErrInvalidJSON = errors.New("not valid JSON, or more than one JSON value")

// StrictJSON returns nil when b is exactly one JSON value as RFC 8259 asks of
// application/json: valid syntax, nothing but white space after the value, valid UTF-8, and
// no object naming one member twice. Go's decoder is lenient on the last three (it stops
// after the first value, replaces bad UTF-8 and keeps the last of two members), so a body
// that a stricter parser in front of this server reads differently is refused instead.
func StrictJSON(b []byte) error {
	if !json.Valid(b) {
		return ErrInvalidJSON
	}
	if !utf8.Valid(b) {
		return errors.New("not valid UTF-8")
	}
	return duplicateMember(b)
}

// object holds the member names seen in one JSON object: searched in a list while few (no
// allocation), in a map beyond.
type object struct {
	names [][]byte
	set   map[string]struct{}
}

// duplicateMember scans valid JSON for an object with two members of one name. Names are
// compared as decoded strings, so "a" and "\u0061" are the same.
func duplicateMember(b []byte) error {
	var stack []*object // nil entries are arrays
	expectName := false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case '{':
			stack = append(stack, &object{})
			expectName = true
		case '[':
			stack = append(stack, nil)
			expectName = false
		case '}', ']':
			stack = stack[:len(stack)-1]
			expectName = false
		case ',':
			expectName = len(stack) > 0 && stack[len(stack)-1] != nil
		case '"':
			end := stringEnd(b, i)
			if expectName {
				top := stack[len(stack)-1]
				name, err := memberName(b[i : end+1])
				if err != nil {
					return err
				}
				if top.has(name) {
					return fmt.Errorf("member %q given twice in one object", name)
				}
				expectName = false
			}
			i = end
		}
	}
	return nil
}

// has reports whether the object already named name, and records it.
func (o *object) has(name []byte) bool {
	if o.set == nil && len(o.names) < 16 {
		for _, seen := range o.names {
			if bytes.Equal(seen, name) {
				return true
			}
		}
		o.names = append(o.names, name)
		return false
	}
	if o.set == nil {
		o.set = make(map[string]struct{}, 2*len(o.names))
		for _, seen := range o.names {
			o.set[string(seen)] = struct{}{}
		}
	}
	if _, ok := o.set[string(name)]; ok {
		return true
	}
	o.set[string(name)] = struct{}{}
	return false
}

// stringEnd returns the index of the quote that closes the string opening at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b) - 1
}

// memberName returns the decoded name of a quoted JSON string; most names hold no escape and
// are their own bytes.
func memberName(quoted []byte) ([]byte, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return quoted[1 : len(quoted)-1], nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, fmt.Errorf("member name: %w", err)
	}
	return []byte(s), nil
}
