package importer

import "testing"

func TestWithoutMember(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"botId":"x","id":1}`, `{"id":1}`},
		{`{"id":1,"botId":"x"}`, `{"id":1}`},
		{`{"id":1,"botId":"x","a":[1,{"b":"}"}]}`, `{"id":1,"a":[1,{"b":"}"}]}`},
		{`{ "id" : 1 , "botId" : null , "z" : "\"botId\"" }`, `{ "id" : 1 , "z" : "\"botId\"" }`},
		{`{"botId":{"nested":["]"]}}`, `{}`},
		{`{"a":{"botId":1},"b":2}`, `{"a":{"botId":1},"b":2}`}, // only the top level
		{`{"id":1}`, `{"id":1}`},
		// A name is compared as JSON reads it: an escape spells the same member.
		{`{"b\u006ftId":"x","id":1}`, `{"id":1}`},
		{`{"id":1,"\u0062otId":null}`, `{"id":1}`},
		{`{"bot\"Id":1,"id":1}`, `{"bot\"Id":1,"id":1}`},
	}
	for _, tt := range tests {
		if got := string(withoutMember([]byte(tt.in), "botId")); got != tt.want {
			t.Errorf("withoutMember(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
}
