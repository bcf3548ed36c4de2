package main

import (
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/server/store/sqlite"
	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// checkpointsCmdName names the hidden command that serve starts, from its own executable, as
// the checkpoint process of its SQLite database (sqlstore.WithCheckpointProcess).
const checkpointsCmdName = "sqlite-checkpoints"

func (a *app) checkpointsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    checkpointsCmdName,
		Short:  "Run the WAL checkpoints of serve's SQLite database (serve starts it)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, ok := a.sqlitePath()
			if !ok {
				return errors.New("--db: " + checkpointsCmdName + " needs a SQLite database")
			}
			// It ends when serve closes its standard input, after the requests under way, or
			// dies: signals sent to serve's whole process group (a terminal's ^C or hang-up,
			// systemd's stop) are serve's to act on.
			signal.Ignore(os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
			return sqlite.ServeCheckpoints(cmd.Context(), path, cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
}

// checkpointProcess is the option with which serve runs its SQLite database's PASSIVE
// checkpoints in a process of lower priority, this executable's checkpointsCmdName; it logs
// when that process is lost. Where the executable cannot be found the checkpoints run in
// serve's own process, as the other commands' do.
func (a *app) checkpointProcess(log *slog.Logger) sqlstore.Option {
	lost := func(err error) {
		log.Warn("the SQLite checkpoint process is gone: checkpoints run in the server's process from now on", "err", err)
	}
	exe, err := os.Executable()
	if err != nil {
		lost(err)
		return func(*sqlstore.Options) {}
	}
	return sqlstore.WithCheckpointProcess(func() *exec.Cmd {
		cmd := exec.Command(exe, "--db", a.db, checkpointsCmdName)
		cmd.Stderr = a.stderr
		return cmd
	}, lost)
}
