package main

import (
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/fini-oss/conversations/cmd/internal/envflag"
)

// composeImage is the repository of the image make image builds; a compose service that runs
// it runs fini-server.
const composeImage = "localhost/fini-conversations"

// composeFile is what checkCompose reads of a compose file. Command, environment and a
// health check's test each have a string and a list form (and environment a map form).
type composeFile struct {
	Services map[string]struct {
		Image       string
		Command     any
		Environment any
		Healthcheck *struct{ Test any }
		DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	}
}

// composeCheck is what checkCompose found: what is wrong, and what it checked and found
// right, so that a test can tell a right file from one the check did not read.
type composeCheck struct {
	problems, checked []string
}

// checkCompose checks a compose file against fini-server: every FINI_ variable of a service
// that runs its image must be one a flag of the commands it runs is bound to (envflag), every
// flag in its command and health check one that --help of that command lists, a health check
// must not need a shell (the image has none), every service must have a health check and wait
// for the health of those it depends on, serve's listener must be set by variables (which
// the health check reads too), and no password may be written in the file.
func checkCompose(t *testing.T, data []byte) composeCheck {
	t.Helper()
	var f composeFile
	if err := yaml.Unmarshal(data, &f); err != nil {
		t.Fatalf("compose file: %v", err)
	}
	var c composeCheck
	problem := func(format string, args ...any) { c.problems = append(c.problems, fmt.Sprintf(format, args...)) }
	for _, name := range slices.Sorted(maps.Keys(f.Services)) {
		s := f.Services[name]
		env := environment(s.Environment)
		for _, k := range slices.Sorted(maps.Keys(env)) {
			checkSecret(name, k, env[k], problem)
		}
		if s.Healthcheck == nil {
			problem("%s: no healthcheck", name)
		}
		for dep, d := range s.DependsOn {
			if d.Condition != "service_healthy" {
				problem("%s: depends_on %s with condition %q, want service_healthy", name, dep, d.Condition)
			}
		}
		if !strings.HasPrefix(s.Image, composeImage+":") {
			continue
		}
		// The commands the container runs: its command (the image's is serve), and the health
		// check's when it is fini-server's.
		runs := [][]string{{"serve"}}
		if s.Command != nil {
			runs[0] = words(s.Command)
		}
		if s.Healthcheck != nil {
			test := words(s.Healthcheck.Test)
			switch {
			case len(test) > 2 && test[0] == "CMD" && strings.HasSuffix(test[1], "/fini-server"):
				runs = append(runs, test[2:])
			case len(test) > 0 && test[0] == "CMD-SHELL", len(test) == 1:
				problem("%s: healthcheck %q needs a shell, which the image has not: use [\"CMD\", ...]", name, test)
			}
		}
		variables := map[string]bool{}
		for _, args := range runs {
			cmd, flags, err := flagsOf(args)
			if err != nil {
				problem("%s: %q: %v", name, strings.Join(args, " "), err)
				continue
			}
			flags.VisitAll(func(fl *pflag.Flag) {
				if v := envflag.Variable(fl); v != "" {
					variables[v] = true
				}
			})
			help := helpOf(t, cmd)
			for _, arg := range args {
				flag, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
				if !strings.HasPrefix(arg, "--") {
					continue
				}
				if !regexp.MustCompile(`(?m)^\s+(-\w, )?--` + regexp.QuoteMeta(flag) + `\b`).MatchString(help) {
					problem("%s: %s --help lists no --%s", name, cmd.CommandPath(), flag)
					continue
				}
				c.checked = append(c.checked, cmd.Name()+" --"+flag)
				// The health check reads the listener's settings from the environment only.
				if cmd.Name() == "serve" && slices.Contains([]string{"addr", "admin-addr", "tls-cert"}, flag) {
					problem("%s: serve --%s is not seen by the health check: set %s instead", name, flag, envflag.Variable(flags.Lookup(flag)))
				}
			}
		}
		for _, k := range slices.Sorted(maps.Keys(env)) {
			switch {
			case !strings.HasPrefix(k, "FINI_"):
			case variables[k]:
				c.checked = append(c.checked, k)
			default:
				problem("%s: fini-server reads no variable %s (no flag of %v is bound to it)", name, k, runs)
			}
		}
	}
	return c
}

// flagsOf finds the fini-server command args name and parses args with its flags, as the
// program would: an unknown flag, or one missing its value, is an error.
func flagsOf(args []string) (*cobra.Command, *pflag.FlagSet, error) {
	root := newRootCmd(io.Discard, io.Discard)
	cmd, rest, err := root.Find(args)
	if err != nil {
		return nil, nil, err
	}
	if cmd == root {
		return nil, nil, fmt.Errorf("names no command of fini-server")
	}
	if err := cmd.ParseFlags(rest); err != nil {
		return nil, nil, err
	}
	return cmd, cmd.Flags(), nil
}

// helpOf returns what `fini-server ... --help` prints for cmd.
func helpOf(t *testing.T, cmd *cobra.Command) string {
	t.Helper()
	path := strings.Fields(strings.TrimPrefix(cmd.CommandPath(), "fini-server"))
	code, out, errOut := execute("", append(path, "--help")...)
	if code != 0 {
		t.Fatalf("%s --help: exit %d, %s", cmd.CommandPath(), code, errOut)
	}
	return out
}

// words returns a command given as a string or a list.
func words(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		w := make([]string, len(v))
		for i, x := range v {
			w[i] = fmt.Sprint(x)
		}
		return w
	}
	return nil
}

// environment returns a service's environment, given as a map or as a list of NAME=value.
func environment(v any) map[string]string {
	env := map[string]string{}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			env[k] = fmt.Sprint(x)
		}
	case []any:
		for _, x := range v {
			k, val, _ := strings.Cut(fmt.Sprint(x), "=")
			env[k] = val
		}
	}
	return env
}

// interpolated is a compose variable, such as ${POSTGRES_PASSWORD:?set it}.
var interpolated = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[?-][^}]*)?\}$`)

// urlPassword finds the password of a URL's userinfo.
var urlPassword = regexp.MustCompile(`://[^/:@\s]*:([^@\s]*)@`)

// checkSecret reports a password written in the file: a variable named like a password, or
// a URL's password, whose value is not taken from the environment.
func checkSecret(service, name, value string, problem func(string, ...any)) {
	if regexp.MustCompile(`(?i)password|secret|token`).MatchString(name) && !strings.HasSuffix(name, "_FILE") && !interpolated.MatchString(value) {
		problem("%s: %s is written in the file; take it from the environment: ${%s:?...}", service, name, name)
	}
	if m := urlPassword.FindStringSubmatch(value); m != nil && !interpolated.MatchString(m[1]) {
		problem("%s: %s holds a password written in the file; take it from the environment", service, name)
	}
}

func TestComposeNamesRealFlagsAndVariables(t *testing.T) {
	data, err := os.ReadFile("../../compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := checkCompose(t, data)
	for _, p := range c.problems {
		t.Errorf("compose.yaml: %s", p)
	}
	// What the file sets, found and checked: a check that read nothing would pass too.
	for _, want := range []string{"FINI_DB", "FINI_ADDR", "serve --rate-limit", "healthcheck --ready"} {
		if !slices.Contains(c.checked, want) {
			t.Errorf("compose.yaml: %s was not checked; checked %v", want, c.checked)
		}
	}
}

// TestComposeCheckFindsMistakes: each mistake the check exists for, in a small compose file,
// is found and named.
func TestComposeCheckFindsMistakes(t *testing.T) {
	const ok = `
services:
  db:
    image: postgres:17
    environment: {POSTGRES_PASSWORD: "${POSTGRES_PASSWORD:?set it}"}
    healthcheck: {test: ["CMD", "pg_isready"]}
  server:
    image: localhost/fini-conversations:latest
    command: %s
    environment:
      - FINI_DB=postgres://fini:${POSTGRES_PASSWORD:?set it}@db:5432/fini
      - %s
    healthcheck: {test: %s}
    depends_on: {db: {condition: %s}}
`
	file := func(command, variable, healthcheck, condition string) []byte {
		return fmt.Appendf(nil, ok, command, variable, healthcheck, condition)
	}
	good := []string{`["serve", "--rate-limit=10/s"]`, "FINI_RATE_BURST=5", `["CMD", "/usr/local/bin/fini-server", "healthcheck", "--timeout", "2s"]`, "service_healthy"}
	if c := checkCompose(t, file(good[0], good[1], good[2], good[3])); len(c.problems) != 0 ||
		!slices.Equal(c.checked, []string{"serve --rate-limit", "healthcheck --timeout", "FINI_DB", "FINI_RATE_BURST"}) {
		t.Fatalf("a right file: problems %q, checked %q", c.problems, c.checked)
	}
	tests := []struct {
		name  string
		file  []byte
		wants string
	}{
		{"a made-up variable", file(good[0], "FINI_MADE_UP=1", good[2], good[3]),
			`server: fini-server reads no variable FINI_MADE_UP (no flag of [[serve --rate-limit=10/s] [healthcheck --timeout 2s]] is bound to it)`},
		{"a client's variable", file(good[0], "FINI_API_KEY=x", good[2], good[3]), `fini-server reads no variable FINI_API_KEY`},
		{"a made-up flag", file(`"serve --made-up 1"`, good[1], good[2], good[3]), `server: "serve --made-up 1": unknown flag: --made-up`},
		{"another command's flag", file(`["serve", "--older-than", "1d"]`, good[1], good[2], good[3]), `unknown flag: --older-than`},
		{"a flag missing its value", file(`["serve", "--rate-limit"]`, good[1], good[2], good[3]), `flag needs an argument: --rate-limit`},
		{"no command", file(`["--rate-limit", "1/s"]`, good[1], good[2], good[3]), `names no command of fini-server`},
		{"a listener set by a flag", file(`["serve", "--addr=0.0.0.0:9000"]`, good[1], good[2], good[3]),
			`server: serve --addr is not seen by the health check: set FINI_ADDR instead`},
		{"a made-up healthcheck flag", file(good[0], good[1], `["CMD", "/usr/local/bin/fini-server", "healthcheck", "--url", "x"]`, good[3]), `unknown flag: --url`},
		{"a shell", file(good[0], good[1], `["CMD-SHELL", "curl -f http://127.0.0.1:8080/healthz"]`, good[3]), `needs a shell`},
		{"not waiting for health", file(good[0], good[1], good[2], "service_started"), `depends_on db with condition "service_started", want service_healthy`},
		{"a password in a URL", file(good[0], "FINI_DB=postgres://fini:hunter2@db/fini", good[2], good[3]), `server: FINI_DB holds a password written in the file`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := checkCompose(t, tt.file)
			if !slices.ContainsFunc(c.problems, func(p string) bool { return strings.Contains(p, tt.wants) }) {
				t.Errorf("problems %q, want one containing %q", c.problems, tt.wants)
			}
		})
	}
	literal := strings.Replace(string(file(good[0], good[1], good[2], good[3])), `"${POSTGRES_PASSWORD:?set it}"`, "hunter2", 1)
	if c := checkCompose(t, []byte(literal)); !slices.Contains(c.problems, "db: POSTGRES_PASSWORD is written in the file; take it from the environment: ${POSTGRES_PASSWORD:?...}") {
		t.Errorf("a literal password: %q", c.problems)
	}
}
