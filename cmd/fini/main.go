// Command fini finds and deletes conversations through the Conversations API, Fini's or this
// project's, including thousands at a time. Run `fini --help`.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/client"
	"github.com/fini-oss/conversations/cmd/internal/envflag"
	"github.com/fini-oss/conversations/cmd/internal/redact"
	"github.com/fini-oss/conversations/cmd/internal/versionflag"
	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/internal/version"
)

// Exit codes, by class of failure; listed in --help.
const (
	exitOK            = 0
	exitFailure       = 1 // anything else: network, unexpected answers, server errors
	exitUsage         = 2 // bad flags or arguments
	exitAuth          = 3 // the key was refused (401) or lacks a scope (403)
	exitNotFound      = 4 // get: no such conversation (404)
	exitNotAccessible = 5 // bulk-delete or delete: some ids could not be deleted (406)
)

const exitCodesHelp = `
Exit codes:
  0  success
  1  error: network, server or unexpected answer
  2  usage: bad flags or arguments
  3  the API key was refused (401) or lacks the scope (403)
  4  not found (404)
  5  some conversations could not be deleted (missing, already deleted, other workspace)`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// exitError carries an exit code with the error the user sees.
type exitError struct {
	code int
	err  error
}

// Error is the wrapped error's message.
func (e *exitError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *exitError) Unwrap() error { return e.err }

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	// Errors quote what the user typed, which may be the key in the wrong place.
	key := a.apiKey
	// The client's errors name it already ("fini: ..."): the prefix is said once.
	fmt.Fprintln(stderr, "fini:", strings.TrimPrefix(redact.String(explain(err, cmd), key, os.Getenv("FINI_API_KEY")), "fini: "))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ae *client.APIError
	switch {
	case errors.As(err, &ae) && (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden):
		return exitAuth
	case errors.Is(err, client.ErrNotFound):
		return exitNotFound
	case errors.Is(err, client.ErrNotAcceptable):
		return exitNotAccessible
	}
	return exitFailure
}

// explain turns the API errors of cmd into what to do next.
func explain(err error, cmd *cobra.Command) string {
	switch {
	case errors.Is(err, client.ErrUnauthorized):
		return err.Error() + "\n  The API key was refused: it is missing, malformed, unknown or revoked. Set FINI_API_KEY (or --api-key-file) to a valid key."
	case errors.Is(err, client.ErrForbidden):
		return err.Error() + "\n  The API key lacks the scope this command needs" + scopeHint(cmd) + ". Use a key with that scope."
	case errors.Is(err, client.ErrNotFound):
		return err.Error() + "\n  No such conversation in this key's workspace: it never existed, was deleted, or belongs to another workspace."
	case errors.Is(err, client.ErrNotAcceptable):
		return err.Error() + "\n  Those conversations are missing, already deleted or in another workspace; nothing in that request was deleted. Drop them and retry."
	}
	return err.Error()
}

// usage is a mistake in the command line: exit code 2.
func usage(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// usageArgs makes the errors of a check of positional arguments usage errors.
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usage("%w", err)
		}
		return nil
	}
}

type app struct {
	// apiKey is the key, once a command has read it (key); keyFile is --api-key-file.
	apiKey, keyFile, baseURL string
	// keyFromStdin is true when the key was read from standard input, which then holds
	// nothing else.
	keyFromStdin   bool
	stdin          io.Reader
	stdout, stderr io.Writer
}

// noKeyFlag says why the key is not a flag's value.
const noKeyFlag = "a key on the command line is shown to every user of the machine (ps) and kept in shell history: " +
	"set FINI_API_KEY, or give --api-key-file FILE (- for standard input)"

// newRootCmd is the fini command reading stdin and writing to stdout and stderr.
func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	return a.rootCmd()
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "fini",
		Short: "Find and delete conversations through the Fini Conversations API",
		Long: `fini calls the Conversations API of Fini, or of a fini-server.

The key comes from $FINI_API_KEY, or from the first line of --api-key-file (env
FINI_API_KEY_FILE; - reads standard input), never from a flag's value, which ps would show.
The base URL comes from --base-url or $FINI_BASE_URL (default Fini's production API). Times
are RFC 3339 or epoch milliseconds.` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		if strings.Contains(err.Error(), "--api-key") && !strings.Contains(err.Error(), "--api-key-file") {
			return usage("there is no --api-key flag: %s", noKeyFlag)
		}
		return usage("%w", err)
	})
	// The variables are read when a command runs, never as the flags' defaults: --help prints
	// defaults.
	flags := root.PersistentFlags()
	flags.StringVar(&a.keyFile, "api-key-file", "", "file whose first line is the API key; - for standard input (env FINI_API_KEY_FILE)")
	flags.StringVar(&a.baseURL, "base-url", "", "API base URL (env FINI_BASE_URL; default Fini's production API)")
	envflag.Bind(flags, "api-key-file", "FINI_API_KEY_FILE")
	envflag.Bind(flags, "base-url", "FINI_BASE_URL")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return envflag.Resolve(cmd.Flags()) }
	root.AddCommand(a.conversationsCmd())
	versionflag.Install(root)
	return root
}

// key reads the API key: from --api-key-file when given, else from $FINI_API_KEY.
func (a *app) key() (string, error) {
	if a.keyFile == "" {
		a.apiKey = strings.TrimSpace(os.Getenv("FINI_API_KEY"))
		return a.apiKey, nil
	}
	r := a.stdin
	if a.keyFile != "-" {
		f, err := os.Open(a.keyFile)
		if err != nil {
			return "", usage("--api-key-file: %w", err)
		}
		defer f.Close()
		r = f
	} else {
		a.keyFromStdin = true
	}
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("--api-key-file: read %s: %w", a.keyFile, err)
	}
	a.apiKey = strings.TrimSpace(line)
	if a.apiKey == "" {
		return "", usage("--api-key-file %s: no key on its first line", a.keyFile)
	}
	return a.apiKey, nil
}

func (a *app) client() (*client.Client, error) {
	key, err := a.key()
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, usage("no API key: set FINI_API_KEY or give --api-key-file")
	}
	var opts []client.Option
	if a.baseURL != "" {
		opts = append(opts, client.WithBaseURL(a.baseURL))
	}
	c, err := client.New(key, append(opts, client.WithUserAgent(version.Get().Product("fini-cli")))...)
	if err != nil {
		return nil, usage("%w", err)
	}
	return c, nil
}

// operationAnnotation names, in a command's annotations, the operation of the spec it calls.
const operationAnnotation = "operationId"

// calls annotates a command with the operation it calls.
func calls(operationID string) map[string]string {
	return map[string]string{operationAnnotation: operationID}
}

// scopeHint says which scopes cmd needs, as its operation's x-required-scopes state them.
func scopeHint(cmd *cobra.Command) string {
	scopes := api.RequiredScopes[cmd.Annotations[operationAnnotation]]
	if len(scopes) == 0 {
		return ""
	}
	return fmt.Sprintf(": %s needs `%s`", cmd.CommandPath(), strings.Join(scopes, "`, `"))
}
