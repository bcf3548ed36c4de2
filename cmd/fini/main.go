// Command fini finds and deletes conversations through the Conversations API, Fini's or this
// project's, including thousands at a time. Run `fini --help`.
package main

import (
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
	"github.com/fini-oss/conversations/gen/api"
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
	root := newRootCmd(stdin, stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if err == nil {
		return exitOK
	}
	// Errors quote what the user typed, which may be the key in the wrong place.
	key := root.Flag("api-key").Value.String()
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
		return err.Error() + "\n  The API key was refused: it is missing, malformed, unknown or revoked. Set FINI_API_KEY (or --api-key) to a valid key."
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
	apiKey, baseURL string
	stdin           io.Reader
	stdout, stderr  io.Writer
}

func newRootCmd(stdin io.Reader, stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "fini",
		Short: "Find and delete conversations through the Fini Conversations API",
		Long: `fini calls the Conversations API of Fini, or of a fini-server.

The key comes from --api-key or $FINI_API_KEY, the base URL from --base-url or
$FINI_BASE_URL (default Fini's production API). Times are RFC 3339 or epoch milliseconds.` + exitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage("%w", err) })
	// The variables are read when a command runs, never as the flags' defaults: --help prints
	// defaults, and the key is a secret.
	flags := root.PersistentFlags()
	flags.StringVar(&a.apiKey, "api-key", "", "API key (env FINI_API_KEY)")
	flags.StringVar(&a.baseURL, "base-url", "", "API base URL (env FINI_BASE_URL; default Fini's production API)")
	envflag.Bind(flags, "api-key", "FINI_API_KEY")
	envflag.Bind(flags, "base-url", "FINI_BASE_URL")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return envflag.Resolve(cmd.Flags()) }
	root.AddCommand(a.conversationsCmd())
	return root
}

func (a *app) client() (*client.Client, error) {
	if a.apiKey == "" {
		return nil, usage("no API key: set FINI_API_KEY or pass --api-key")
	}
	var opts []client.Option
	if a.baseURL != "" {
		opts = append(opts, client.WithBaseURL(a.baseURL))
	}
	c, err := client.New(a.apiKey, append(opts, client.WithUserAgent("fini-cli"))...)
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
