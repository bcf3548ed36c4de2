package importer

import (
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/contract/jsonscan"
	"github.com/fini-oss/conversations/server/store"
)

// The fast path reads a line and checks it against the schema in one pass over its bytes.
//
// The general path (parseGeneral) checks the JSON's strictness in scans of its own, decodes
// the line into maps and has kin-openapi walk them: about 85 µs of CPU a line, most of an
// import's time. The fast path does the same work in one pass, for the lines an import usually holds,
// and it only ever says yes or "not sure": it accepts a line only when the general path would
// store the very same row, and hands every other line (a bad one, an unusual spelling, a
// keyword it does not know) to the general path, which decides and words the error. So the
// general path stays the definition of a valid line, and FuzzImportParse checks that the two
// agree on every line it tries.

// maxDepth is how deeply the fast path follows nested values; deeper lines take the general
// path.
const maxDepth = 64

// scanner is one pass of the fast path over a line.
type scanner struct {
	b      []byte
	i      int
	depth  int
	c      store.Conversation
	times  []int64 // the events' createdAt, in order
	hasBot bool    // the line names a botId, null or not
}

// parseFast returns the row that the general path would store for line (the line's own bytes
// less its botId, and the columns read from it), or false when it is not sure of it.
func parseFast(root *node, line []byte) (store.Conversation, bool) {
	s := scanner{b: line}
	if !s.value(root) {
		return store.Conversation{}, false
	}
	if s.space(); s.i != len(s.b) {
		return store.Conversation{}, false
	}
	last, err := latest(s.c.CreatedAt, s.times)
	if err != nil {
		return store.Conversation{}, false
	}
	s.c.LastMessageAt, s.c.Body = last, line
	if s.hasBot {
		s.c.Body = withoutMember(line, "botId")
	}
	return s.c, true
}

func (s *scanner) space() { s.i = jsonscan.SkipSpace(s.b, s.i) }

// value checks the value at s.i against n and moves past it.
func (s *scanner) value(n *node) bool {
	s.space()
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		str, escaped, ok := s.string()
		if !ok {
			return false
		}
		if n == nil || n.kind == kindAny {
			return true
		}
		if n.kind != kindString {
			return false
		}
		if escaped { // its bytes are not its value: fine unless the value is needed
			return n.enum == nil && n.format == nil && n.field == fieldNone
		}
		return s.str(n, str)
	case '{':
		return s.object(n)
	case '[':
		return s.array(n)
	case 'n':
		if !s.literal("null") {
			return false
		}
		if n == nil {
			return true
		}
		if n.field == fieldBotID {
			s.hasBot = true
		}
		return n.nullable
	case 't', 'f':
		if !s.literal("true") && !s.literal("false") {
			return false
		}
		return n == nil || n.kind == kindAny || n.kind == kindBoolean
	default:
		v, integer, ok := s.number()
		if !ok {
			return false
		}
		if n == nil || n.kind == kindAny || n.kind == kindNumber {
			return true
		}
		if n.kind != kindInteger || !integer {
			return false
		}
		switch n.field {
		case fieldCreatedAt:
			s.c.CreatedAt = v
		case fieldEventCreatedAt:
			s.times = append(s.times, v)
		}
		return true
	}
}

// str checks a string without escapes against its node and reads it out if it is a field.
func (s *scanner) str(n *node, str []byte) bool {
	if n.enum != nil && !containsString(n.enum, str) {
		return false
	}
	if n.format != nil {
		if n.lower && hasUpper(str) {
			return false
		}
		if n.format(string(str)) != nil {
			return false
		}
	}
	switch n.field {
	case fieldID:
		id, err := uuid.ParseBytes(str)
		s.c.ID = id
		return err == nil
	case fieldBotID:
		id, err := uuid.ParseBytes(str)
		s.c.BotID, s.hasBot = &id, true
		return err == nil
	case fieldSource:
		s.c.Source = string(str)
	case fieldChannel:
		ch := string(str)
		s.c.Channel = &ch
	}
	return true
}

func containsString(set []string, b []byte) bool {
	for _, s := range set {
		if s == string(b) {
			return true
		}
	}
	return false
}

func hasUpper(b []byte) bool {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// object checks an object against n: each member once, known ones against their nodes, the
// required ones present, others only where the object is open.
func (s *scanner) object(n *node) bool {
	if n != nil && n.kind != kindAny && n.kind != kindObject {
		return false
	}
	checked := n != nil && n.kind == kindObject
	if s.depth++; s.depth > maxDepth {
		return false
	}
	s.i++ // the '{'
	var seen uint64
	var others [16][]byte // names of unchecked members, to refuse one named twice
	nothers := 0
	s.space()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			s.space()
			if s.i >= len(s.b) || s.b[s.i] != '"' {
				return false
			}
			name, escaped, ok := s.string()
			if !ok || escaped {
				return false
			}
			if s.space(); s.i >= len(s.b) || s.b[s.i] != ':' {
				return false
			}
			s.i++
			var child *node
			if checked {
				if i := propIndex(n.props, name); i >= 0 {
					if seen&(1<<i) != 0 {
						return false
					}
					seen |= 1 << i
					child = n.props[i].node
				} else if !n.open {
					return false
				}
			}
			if child == nil {
				if nothers == len(others) {
					return false
				}
				for _, o := range others[:nothers] {
					if string(o) == string(name) {
						return false
					}
				}
				others[nothers] = name
				nothers++
			}
			if !s.value(child) {
				return false
			}
			more, ok := s.next('}')
			if !ok {
				return false
			}
			if !more {
				break
			}
		}
	}
	s.depth--
	return !checked || seen&n.required == n.required
}

// array checks an array against n, each item against n's items.
func (s *scanner) array(n *node) bool {
	if n != nil && n.kind != kindAny && n.kind != kindArray {
		return false
	}
	var items *node
	if n != nil && n.kind == kindArray {
		items = n.items
	}
	if s.depth++; s.depth > maxDepth {
		return false
	}
	s.i++ // the '['
	s.space()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return true
	}
	for {
		if !s.value(items) {
			return false
		}
		more, ok := s.next(']')
		if !ok {
			return false
		}
		if !more {
			break
		}
	}
	s.depth--
	return true
}

// next moves past what follows a member or an item: a comma (more follow) or the closing
// bracket; anything else is not valid JSON.
func (s *scanner) next(closing byte) (more, ok bool) {
	if s.space(); s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return true, true
	case closing:
		s.i++
		return false, true
	}
	return false, false
}

// string reads the string at s.i: its bytes between the quotes, whether it has escapes
// (then those bytes are not its value), and whether it is valid JSON and UTF-8.
func (s *scanner) string() (str []byte, escaped, ok bool) {
	start := s.i + 1
	for i := start; i < len(s.b); {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			return s.b[start:i], escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(s.b) || !isHex(s.b[i+2]) || !isHex(s.b[i+3]) || !isHex(s.b[i+4]) || !isHex(s.b[i+5]) {
					return nil, false, false
				}
				i += 6
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		case c < utf8.RuneSelf:
			i++
		default:
			r, size := utf8.DecodeRune(s.b[i:])
			if r == utf8.RuneError && size == 1 {
				return nil, false, false
			}
			i += size
		}
	}
	return nil, false, false
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// literal reads word (null, true, false) at s.i.
func (s *scanner) literal(word string) bool {
	if len(s.b)-s.i < len(word) || string(s.b[s.i:s.i+len(word)]) != word {
		return false
	}
	s.i += len(word)
	return true
}

// maxDigits bounds the digits of a number the fast path takes: 15 digits are below 2^53, so
// every such integer is exact as the general path's float64, and no such number overflows.
const maxDigits = 15

// number reads the number at s.i: an integer (its value) or a decimal fraction, in at most
// maxDigits digits and without an exponent; anything else is not taken.
func (s *scanner) number() (v int64, integer, ok bool) {
	i, neg := s.i, false
	if i < len(s.b) && s.b[i] == '-' {
		neg = true
		i++
	}
	start := i
	for i < len(s.b) && '0' <= s.b[i] && s.b[i] <= '9' {
		v = v*10 + int64(s.b[i]-'0')
		i++
	}
	digits := i - start
	if digits == 0 || digits > 1 && s.b[start] == '0' {
		return 0, false, false
	}
	integer = true
	if i < len(s.b) && s.b[i] == '.' {
		integer = false
		i++
		fracStart := i
		for i < len(s.b) && '0' <= s.b[i] && s.b[i] <= '9' {
			i++
		}
		if i == fracStart {
			return 0, false, false
		}
		digits += i - fracStart
	}
	if digits > maxDigits || i < len(s.b) && (s.b[i] == 'e' || s.b[i] == 'E') {
		return 0, false, false
	}
	s.i = i
	if neg {
		v = -v
	}
	return v, integer, true
}
