package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Strict's errors. A *DuplicateError names the member given twice.
var (
	// ErrInvalid is for bytes that are not one JSON value.
	ErrInvalid = errors.New("not valid JSON, or more than one JSON value")
	// ErrUTF8 is for bytes that are not valid UTF-8.
	ErrUTF8 = errors.New("not valid UTF-8")
)

// DuplicateError is an object that names a member twice.
type DuplicateError struct {
	// Name is the member's name, decoded.
	Name string
}

// Error names the member.
func (e *DuplicateError) Error() string {
	return fmt.Sprintf("member %q given twice in one object", e.Name)
}

// Strict returns nil when b is exactly one JSON value as RFC 8259 asks of application/json:
// valid syntax, nothing but white space after the value, valid UTF-8, and no object naming
// one member twice. Go's decoder is lenient on the last three (it stops after the first
// value, replaces bad UTF-8 and keeps the last of two members), so a body that a stricter
// parser in front of a server reads differently is refused instead.
func Strict(b []byte) error {
	if !json.Valid(b) {
		return ErrInvalid
	}
	if !utf8.Valid(b) {
		return ErrUTF8
	}
	return duplicateMember(b, SkipSpace(b, 0))
}

// duplicateMember looks, in the valid JSON value at b[i], for an object with two members of
// one name. Names are compared as decoded strings, so "a" and "\u0061" are the same.
func duplicateMember(b []byte, i int) error {
	c, ok := Open(b, i)
	if !ok {
		return nil // a scalar
	}
	var seen names
	for {
		m, ok := c.Next()
		if !ok {
			return nil
		}
		if m.Name != nil {
			name, err := Unquote(m.Name)
			if err != nil {
				return fmt.Errorf("member name: %w", err)
			}
			if seen.add(name) {
				return &DuplicateError{Name: string(name)}
			}
		}
		if err := duplicateMember(b, m.Value); err != nil {
			return err
		}
	}
}

// names holds the member names seen in one object: searched in a list while few (no map),
// in a map beyond.
type names struct {
	list [][]byte
	set  map[string]struct{}
}

// add records name and reports whether the object had named it already.
func (n *names) add(name []byte) (seen bool) {
	if n.set == nil && len(n.list) < 16 {
		for _, s := range n.list {
			if bytes.Equal(s, name) {
				return true
			}
		}
		n.list = append(n.list, name)
		return false
	}
	if n.set == nil {
		n.set = make(map[string]struct{}, 2*len(n.list))
		for _, s := range n.list {
			n.set[string(s)] = struct{}{}
		}
	}
	if _, ok := n.set[string(name)]; ok {
		return true
	}
	n.set[string(name)] = struct{}{}
	return false
}
