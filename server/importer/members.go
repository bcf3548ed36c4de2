package importer

import (
	"bytes"
	"encoding/json"
)

// withoutMember returns the JSON object line without its top-level member name (the first
// one: a strict line names each member once), cutting the member and one comma beside it.
// line must be valid JSON.
func withoutMember(line []byte, name string) []byte {
	i := skipSpace(line, 0)
	if i >= len(line) || line[i] != '{' {
		return line
	}
	prevEnd := i + 1 // where the previous member (or the "{") ends
	for i = skipSpace(line, i+1); i < len(line) && line[i] == '"'; {
		keyEnd := stringEnd(line, i)
		v := skipSpace(line, skipSpace(line, keyEnd+1)+1) // past the ':'
		valueEnd := valueEnd(line, v)
		next := skipSpace(line, valueEnd)
		if isMember(line[i:keyEnd+1], name) {
			out := make([]byte, 0, len(line))
			if line[next] == ',' { // cut the member and the comma after it
				out = append(out, line[:i]...)
				return append(out, line[skipSpace(line, next+1):]...)
			}
			// the last member: cut the comma before it, if any
			out = append(out, line[:prevEnd]...)
			return append(out, line[next:]...)
		}
		prevEnd = valueEnd
		if line[next] != ',' {
			break
		}
		i = skipSpace(line, next+1)
	}
	return line
}

// isMember reports whether the quoted JSON string q spells name: its bytes, or, when it has
// escapes ("b\u006ftId"), what they decode to, as every JSON parser reads it.
func isMember(q []byte, name string) bool {
	if bytes.IndexByte(q, '\\') < 0 {
		return string(q[1:len(q)-1]) == name
	}
	var s string
	return json.Unmarshal(q, &s) == nil && s == name
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
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

// valueEnd returns the index just past the JSON value starting at b[i].
func valueEnd(b []byte, i int) int {
	switch b[i] {
	case '"':
		return stringEnd(b, i) + 1
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i
}
