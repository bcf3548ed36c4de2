// Package jsonscan reads the structure of JSON text without decoding it: where a string or a
// value ends, and the members of an object or the items of an array, by their positions in
// the text. Strict checks that a text is one JSON value as RFC 8259 asks of
// application/json. The scanning functions never read out of bounds, whatever the bytes;
// on text that is not JSON they report that it does not fit, and decide nothing else about
// it. It depends on the standard library only.
package jsonscan

import (
	"bytes"
	"encoding/json"
)

// SkipSpace returns the index of the first byte at or after i that is not JSON whitespace.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// StringEnd returns the index of the quote that closes the string whose opening quote is
// b[i]; ok is false when it never closes.
func StringEnd(b []byte, i int) (end int, ok bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i, true
		}
	}
	return 0, false
}

// ValueEnd returns the index just past the value that starts at b[i]: a string, an object
// or an array by its matching closing byte (strings inside tracked), anything else up to the
// next delimiter or whitespace. ok is false when it never ends, is empty, or closes with the
// wrong byte. Only the structure is read: the syntax of scalars is not checked.
func ValueEnd(b []byte, i int) (end int, ok bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		end, ok := StringEnd(b, i)
		return end + 1, ok
	case '{', '[':
		var room [64]byte
		open := room[:0] // the containers open around b[i], innermost last
		for ; i < len(b); i++ {
			switch c := b[i]; c {
			case '"':
				end, ok := StringEnd(b, i)
				if !ok {
					return 0, false
				}
				i = end
			case '{', '[':
				open = append(open, c)
			case '}', ']':
				if len(open) == 0 || open[len(open)-1] != opening(c) {
					return 0, false
				}
				if open = open[:len(open)-1]; len(open) == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	start := i
	for i < len(b) && !delimiter(b[i]) {
		i++
	}
	return i, i > start
}

// opening is the byte that the closing byte c closes.
func opening(c byte) byte {
	if c == '}' {
		return '{'
	}
	return '['
}

func delimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ':', ' ', '\t', '\n', '\r':
		return true
	}
	return false
}

// Member is one member of an object, or one item of an array, by its positions in the text.
type Member struct {
	// Name is the member's name as written, quotes included ("a", or "\u0061"); nil for an
	// array's item.
	Name []byte
	// Start is where the member begins (its name's opening quote, or the item itself);
	// the value is b[Value:End].
	Start, Value, End int
}

// Container walks the members of one object, or the items of one array, in order.
type Container struct {
	b     []byte
	i     int // where the next member, or the comma before it, is looked for
	close byte
	first bool
	done  bool
	end   int // past the closing byte, once done and well formed
	ok    bool
}

// Open starts walking the object or array whose opening byte is b[i]; ok is false when b[i]
// opens neither.
func Open(b []byte, i int) (c Container, ok bool) {
	if i >= len(b) || (b[i] != '{' && b[i] != '[') {
		return Container{}, false
	}
	closing := byte('}')
	if b[i] == '[' {
		closing = ']'
	}
	return Container{b: b, i: i + 1, close: closing, first: true}, true
}

// Next returns the next member or item; ok is false at the end of the container, or at the
// first byte that does not fit one (End tells which).
func (c *Container) Next() (m Member, ok bool) {
	if c.done {
		return Member{}, false
	}
	b := c.b
	i := SkipSpace(b, c.i)
	if i < len(b) && b[i] == c.close && c.first {
		return c.finish(i+1, true)
	}
	if !c.first {
		switch {
		case i >= len(b):
			return c.finish(0, false)
		case b[i] == c.close:
			return c.finish(i+1, true)
		case b[i] != ',':
			return c.finish(0, false)
		}
		i = SkipSpace(b, i+1)
	}
	c.first = false
	m.Start = i
	if c.close == '}' {
		if i >= len(b) || b[i] != '"' {
			return c.finish(0, false)
		}
		end, ok := StringEnd(b, i)
		if !ok {
			return c.finish(0, false)
		}
		m.Name = b[i : end+1]
		if i = SkipSpace(b, end+1); i >= len(b) || b[i] != ':' {
			return c.finish(0, false)
		}
		i = SkipSpace(b, i+1)
	}
	end, ok := ValueEnd(b, i)
	if !ok {
		return c.finish(0, false)
	}
	m.Value, m.End = i, end
	c.i = end
	return m, true
}

func (c *Container) finish(end int, ok bool) (Member, bool) {
	c.done, c.end, c.ok = true, end, ok
	return Member{}, false
}

// End returns, once Next has returned false, the index just past the container's closing
// byte; ok is false when the container was not well formed.
func (c *Container) End() (end int, ok bool) {
	return c.end, c.done && c.ok
}

// Unquote returns the string that a quoted JSON string spells: most names hold no escape,
// and are their own bytes.
func Unquote(quoted []byte) ([]byte, error) {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return quoted[1 : len(quoted)-1], nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, err
	}
	return []byte(s), nil
}

// NameIs reports whether the quoted JSON string q spells name, as every JSON parser reads
// it: its bytes, or what its escapes decode to ("b\u006ftId" is botId).
func NameIs(q []byte, name string) bool {
	s, err := Unquote(q)
	return err == nil && string(s) == name
}

// FindMember returns the first member called name of the object that starts at b[i]; ok is
// false when there is none, or when the object is not well formed up to it.
func FindMember(b []byte, i int, name string) (m Member, ok bool) {
	c, ok := Open(b, i)
	if !ok || c.close != '}' {
		return Member{}, false
	}
	for {
		m, ok := c.Next()
		if !ok {
			return Member{}, false
		}
		if NameIs(m.Name, name) {
			return m, true
		}
	}
}
