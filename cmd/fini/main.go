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
	"github.com/fini-oss/conversations/openapi"
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
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	// Errors quote what the user typed, which may be the key in the wrong place.
	key := root.Flag("api-key").Value.String()
	fmt.Fprintln(stderr, "fini:", redact.String(explain(err), key, os.Getenv("FINI_API_KEY")))
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
	case errors.As(err, &ae):
		return exitFailure
	case isUsage(err):
		return exitUsage
	}
	return exitFailure
}

// explain turns API errors into what to do next.
func explain(err error) string {
	switch {
	case errors.Is(err, client.ErrUnauthorized):
		return err.Error() + "\n  The API key was refused: it is missing, malformed, unknown or revoked. Set FINI_API_KEY (or --api-key) to a valid key."
	case errors.Is(err, client.ErrForbidden):
		return err.Error() + "\n  The API key lacks the scope this command needs" + scopeHint() + ". Use a key with that scope."
	case errors.Is(err, client.ErrNotFound):
		return err.Error() + "\n  No such conversation in this key's workspace: it never existed, was deleted, or belongs to another workspace."
	case errors.Is(err, client.ErrNotAcceptable):
		return err.Error() + "\n  Those conversations are missing, already deleted or in another workspace; nothing in that request was deleted. Drop them and retry."
	}
	return err.Error()
}

// usageError marks a mistake in the command line.
type usageError struct{ error }

func usage(format string, args ...any) error {
	return &exitError{code: exitUsage, err: usageError{fmt.Errorf(format, args...)}}
}

func isUsage(err error) bool {
	var u usageError
	return errors.As(err, &u)
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

// scopeHint says which scope each command needs, as the spec's x-required-scopes state it.
func scopeHint() string {
	doc, err := openapi.Load()
	if err != nil {
		return ""
	}
	commands := []struct{ names, operationID string }{
		{"list", "listConversations"}, {"get", "getConversation"},
		{"delete", "deleteConversation"}, {"bulk-delete", "bulkDeleteConversations"},
	}
	var parts []string
	for _, c := range commands {
		_, _, op, err := openapi.Operation(doc, c.operationID)
		var scopes []string
		if err == nil {
			_, err = openapi.Extension(op, "x-required-scopes", &scopes)
		}
		if err != nil {
			return ""
		}
		parts = append(parts, fmt.Sprintf("%s needs `%s`", c.names, strings.Join(scopes, "`, `")))
	}
	return ": " + strings.Join(parts, "; ")
}
