package importer

import "github.com/fini-oss/conversations/server/contract/jsonscan"

// withoutMember returns the JSON object line without its top-level member name (the first
// one: a strict line names each member once), cutting the member and one comma beside it.
// A name is compared as JSON reads it, so an escape ("b\u006ftId") spells the same member.
// line must be valid JSON.
func withoutMember(line []byte, name string) []byte {
	c, ok := jsonscan.Open(line, jsonscan.SkipSpace(line, 0))
	if !ok {
		return line
	}
	prevEnd := jsonscan.SkipSpace(line, 0) + 1 // where the previous member (or the "{") ends
	for {
		m, ok := c.Next()
		if !ok || m.Name == nil {
			return line
		}
		if !jsonscan.NameIs(m.Name, name) {
			prevEnd = m.End
			continue
		}
		next := jsonscan.SkipSpace(line, m.End)
		out := make([]byte, 0, len(line))
		if next < len(line) && line[next] == ',' { // cut the member and the comma after it
			out = append(out, line[:m.Start]...)
			return append(out, line[jsonscan.SkipSpace(line, next+1):]...)
		}
		// the last member: cut the comma before it, if any
		out = append(out, line[:prevEnd]...)
		return append(out, line[next:]...)
	}
}
