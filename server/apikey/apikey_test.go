package apikey

import (
	"bytes"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	key, hash, err := Generate()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(key, "fini_") || len(key) != len("fini_")+43 || !WellFormed(key) {
		t.Errorf("key %q is not fini_ plus 43 URL-safe characters", key)
	}
	if !bytes.Equal(hash, Hash(key)) || len(hash) != 32 {
		t.Errorf("hash mismatch")
	}
	other, _, _ := Generate()
	if other == key {
		t.Error("two keys are equal")
	}
}

func TestFromAuthorization(t *testing.T) {
	key, _, _ := Generate()
	tests := []struct {
		header string
		ok     bool
	}{
		{"Bearer " + key, true},
		{"bearer " + key, true},
		{"Bearer  " + key, true},
		{"", false},
		{key, false},
		{"Basic " + key, false},
		{"Bearer fini_short", false},
		{"Bearer " + strings.TrimPrefix(key, "fini_"), false},
		{"Bearer " + key[:len(key)-1] + "!", false},
		{"Bearer " + key + "x", false},
	}
	for _, tt := range tests {
		if _, ok := FromAuthorization(tt.header); ok != tt.ok {
			t.Errorf("FromAuthorization(%q) ok = %v, want %v", tt.header, ok, tt.ok)
		}
	}
}
