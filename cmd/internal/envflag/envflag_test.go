package envflag_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/fini-oss/conversations/cmd/internal/envflag"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		name    string
		env     string // FINI_TEST_ENVFLAG and FINI_TEST_ENVFLAG_N
		args    []string
		want    string
		wantN   int
		wantErr string
	}{
		{name: "default", want: "built-in", wantN: 1},
		{name: "env", env: "from-env", want: "from-env", wantN: 7},
		{name: "flag beats env", env: "from-env", args: []string{"--word", "from-flag", "--n", "9"}, want: "from-flag", wantN: 9},
		{name: "flag equal to the default beats env", env: "from-env", args: []string{"--word", "built-in"}, want: "built-in", wantN: 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FINI_TEST_ENVFLAG", tt.env)
			n := ""
			if tt.env != "" {
				n = "7"
			}
			t.Setenv("FINI_TEST_ENVFLAG_N", n)
			fs, word, num := newFlags()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if err := envflag.Resolve(fs); err != nil {
				t.Fatalf("resolve: %v", err)
			}
			if *word != tt.want || *num != tt.wantN {
				t.Errorf("--word %q --n %d, want %q %d", *word, *num, tt.want, tt.wantN)
			}
		})
	}
}

func newFlags() (*pflag.FlagSet, *string, *int) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	word := fs.String("word", "built-in", "a word (env FINI_TEST_ENVFLAG)")
	num := fs.Int("n", 1, "a number (env FINI_TEST_ENVFLAG_N)")
	envflag.Bind(fs, "word", "FINI_TEST_ENVFLAG")
	envflag.Bind(fs, "n", "FINI_TEST_ENVFLAG_N")
	return fs, word, num
}

func TestBadValueIsNotShown(t *testing.T) {
	t.Setenv("FINI_TEST_ENVFLAG_N", "SENTINEL")
	fs, _, _ := newFlags()
	err := envflag.Resolve(fs)
	if err == nil || err.Error() != "$FINI_TEST_ENVFLAG_N: not a valid value for --n" {
		t.Errorf("error = %v", err)
	}
}

func TestUsageShowsTheDefaultNotTheEnv(t *testing.T) {
	t.Setenv("FINI_TEST_ENVFLAG", "SENTINEL")
	fs, _, _ := newFlags()
	var out bytes.Buffer
	fs.SetOutput(&out)
	fs.PrintDefaults()
	if got := out.String(); strings.Contains(got, "SENTINEL") || !strings.Contains(got, `a word (env FINI_TEST_ENVFLAG) (default "built-in")`) {
		t.Errorf("usage:\n%s", got)
	}
}

func TestVariable(t *testing.T) {
	fs, _, _ := newFlags()
	fs.Bool("unbound", false, "a flag of no variable")
	for name, want := range map[string]string{"word": "FINI_TEST_ENVFLAG", "n": "FINI_TEST_ENVFLAG_N", "unbound": ""} {
		if got := envflag.Variable(fs.Lookup(name)); got != want {
			t.Errorf("--%s: %q, want %q", name, got, want)
		}
	}
}
