// Command fini-server serves the Conversations API and administers its database: workspaces,
// keys, imports, restores and purges. Run `fini-server --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/cmd/internal/envflag"
	"github.com/fini-oss/conversations/cmd/internal/redact"
	"github.com/fini-oss/conversations/cmd/internal/versionflag"
	"github.com/fini-oss/conversations/server/store"
	"github.com/fini-oss/conversations/server/store/postgres"
	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// defaultDB is a SQLite file in the working directory: no set-up needed.
const defaultDB = "sqlite:fini.db"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run executes fini-server with args, prints an error on stderr, and returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetIn(stdin)
	root.SetArgs(args)
	if err := root.Execute(); err != nil {
		// Errors quote what the operator typed, which may be a key or a DSN in the wrong place.
		fmt.Fprintln(stderr, "fini-server:", redact.String(err.Error()))
		return 1
	}
	return 0
}

// app holds what every command shares.
type app struct {
	db string
	// dbTimeout bounds each wait for the database (--db-timeout).
	dbTimeout      duration
	stdout, stderr io.Writer
	// creates is true for the commands that may make a new SQLite database (serve, migrate,
	// workspace create); the others refuse a path with no database, where a typing mistake
	// would otherwise create an empty one and answer from it ("no record", "no key").
	creates bool
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	a := &app{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:   "fini-server",
		Short: "Serve and administer the Fini Conversations API",
		Long: `fini-server serves the Conversations API, validating every request and response
against the embedded openapi.yaml, and administers its database.

The database is --db or $FINI_DB: sqlite:PATH (the default, ` + defaultDB + `) or
postgres://user@host:port/dbname. --db refuses a password, which ps would show to every
user of the machine: give it in $FINI_DB, $PGPASSWORD or ~/.pgpass.

--db-timeout (env FINI_DB_TIMEOUT) bounds every wait for the database: a connection, a
statement, a lock, a turn at SQLite's writer; a request's waits share it. Past it the call
fails as unavailable (the API answers 503 with Retry-After: 1) rather than hang on a
database that stopped answering. An import may take as long as its rows take; it fails only
when the database makes it wait that long at one step. A purge is bounded batch by batch.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	// $FINI_DB is read when a command runs, never as the flag's default: --help prints
	// defaults, and a PostgreSQL DSN may hold a password.
	root.PersistentFlags().StringVar(&a.db, "db", defaultDB, "database: sqlite:PATH or postgres://... (env FINI_DB)")
	envflag.Bind(root.PersistentFlags(), "db", "FINI_DB")
	a.dbTimeout = duration(sqlstore.DefaultTimeout)
	root.PersistentFlags().Var(&a.dbTimeout, "db-timeout", "longest wait for the database at each step, e.g. 5s (env FINI_DB_TIMEOUT)")
	envflag.Bind(root.PersistentFlags(), "db-timeout", "FINI_DB_TIMEOUT")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		a.creates = cmd.Name() == "serve" || cmd.Name() == "migrate" ||
			(cmd.Name() == "create" && cmd.Parent() != nil && cmd.Parent().Name() == "workspace")
		if cmd.Flags().Changed("db") && dsnHasPassword(a.db) {
			return errors.New("--db holds a password, which every user of this machine can read with ps: give the DSN in $FINI_DB instead, or the password in $PGPASSWORD or a ~/.pgpass file")
		}
		return envflag.Resolve(cmd.Flags())
	}
	root.AddCommand(a.serveCmd(), a.migrateCmd(), a.workspaceCmd(), a.keyCmd(), a.importCmd(), a.restoreCmd(), a.purgeCmd(),
		a.auditCmd(), a.healthcheckCmd(), a.checkpointsCmd())
	versionflag.Install(root)
	return root
}

// dsnHasPassword reports whether the PostgreSQL URL dsn holds a password: in its user part,
// or as a parameter named like one in any case (password, sslpassword: the TLS key's). A
// keyword/value DSN is refused by openStore whatever it holds.
func dsnHasPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return false
	}
	if _, inUser := u.User.Password(); inUser {
		return true
	}
	for name := range u.Query() {
		if strings.Contains(strings.ToLower(name), "password") {
			return true
		}
	}
	return false
}

// sqlitePath returns the path of the SQLite database named by --db, if it names one.
func (a *app) sqlitePath() (string, bool) {
	return strings.CutPrefix(a.db, "sqlite:")
}

// openStore opens and migrates the database named by --db, with the options opts besides
// --db-timeout.
func (a *app) openStore(ctx context.Context, opts ...sqlstore.Option) (store.Store, error) {
	if a.dbTimeout <= 0 {
		return nil, errors.New("--db-timeout: want more than 0, e.g. 5s")
	}
	opts = append([]sqlstore.Option{sqlstore.WithTimeout(time.Duration(a.dbTimeout))}, opts...)
	switch path, isSQLite := a.sqlitePath(); {
	case isSQLite:
		if path == "" {
			return nil, errors.New("--db sqlite: needs a path, e.g. sqlite:fini.db")
		}
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) && !a.creates {
			return nil, fmt.Errorf("--db: no database at %s (only serve, migrate and workspace create make a new one)", path)
		}
		return sqlite.Open(ctx, path, opts...)
	case strings.HasPrefix(a.db, "postgres://"), strings.HasPrefix(a.db, "postgresql://"):
		return postgres.Open(ctx, a.db, opts...)
	}
	return nil, errors.New("--db: want sqlite:PATH or postgres://USER@HOST:PORT/DB (the value is not shown: it may hold a password)")
}

// withStore runs fn with the opened store and closes it after.
func (a *app) withStore(ctx context.Context, fn func(store.Store) error) error {
	s, err := a.openStore(ctx)
	if err != nil {
		return a.fullDisk(err)
	}
	defer s.Close()
	return a.fullDisk(fn(s))
}

// fullDiskError is a write refused for want of room: it says what the operator can do
// about it, not what the driver said.
type fullDiskError struct {
	where string
	err   error
}

func (e *fullDiskError) Error() string {
	return e.where + " is full, so nothing was written: free some space, then run the command again"
}

func (e *fullDiskError) Unwrap() error { return e.err }

// fullDisk returns err as a *fullDiskError if it is store.ErrDiskFull, else unchanged.
func (a *app) fullDisk(err error) error {
	if !errors.Is(err, store.ErrDiskFull) {
		return err
	}
	where := "the database's disk"
	if path, ok := a.sqlitePath(); ok {
		where = "the disk that holds " + path
	}
	return &fullDiskError{where: where, err: err}
}

func (a *app) migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply the database migrations (serve does too, at start-up)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withStore(cmd.Context(), func(store.Store) error {
				fmt.Fprintln(a.stderr, "migrations applied")
				return nil
			})
		},
	}
}
