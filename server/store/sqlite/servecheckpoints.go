package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"strings"

	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// checkpointNice is how much lower than its parent's the checkpoint process's priority is:
// at nice 10 beside a server at 0, under a busy server the kernel gives it about a tenth of
// a CPU the server's threads want (weights 110 to 1024), enough to copy the WAL as fast as
// bulk deletes fill it. At 19 it falls behind, and the WAL grows to its bound; at 0 it takes
// as many turns as the requests. A process may raise its nice value, never lower it, so
// where the server runs above 9 the checkpoint process runs at 19.
const checkpointNice = 10

// ServeCheckpoints is the checkpoint process of a store opened with
// sqlstore.WithCheckpointProcess, whose command runs it: for each line read from in it runs
// a PASSIVE checkpoint of the WAL of the SQLite database at path, and answers on out, until
// in ends. It runs them at a lower CPU priority (checkpointNice) on the calling goroutine,
// which keeps that priority, and its OS thread, for the rest of its life: call it from a
// process's main goroutine. It never creates the database: one it cannot open is answered
// with an error, once.
func ServeCheckpoints(ctx context.Context, path string, in io.Reader, out io.Writer) error {
	answer := func(format string, args ...any) error {
		_, err := fmt.Fprintf(out, format+"\n", args...)
		return err
	}
	fail := func(err error) error {
		_ = answer("error %s", oneLine(err))
		return fmt.Errorf("sqlite: checkpoint process: %w", err)
	}
	if err := lowerPriority(checkpointNice); err != nil {
		return fail(err)
	}
	db, err := sql.Open("sqlite", dsn(path, "&mode=rw", sqlstore.DefaultTimeout))
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", path, err))
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return fail(fmt.Errorf("open %s: %w", path, err))
	}
	defer conn.Close()
	requests := bufio.NewScanner(in)
	for requests.Scan() {
		if requests.Text() != checkpointRequest {
			err = answer("error unknown request %q", requests.Text())
		} else if busy, frames, copied, cerr := walCheckpoint(ctx, conn, "PASSIVE"); cerr != nil {
			err = answer("error %s", oneLine(cerr))
		} else {
			err = answer("ok %d %d %d", busy, frames, copied)
		}
		if err != nil {
			return fmt.Errorf("sqlite: checkpoint process: answer: %w", err)
		}
	}
	return requests.Err()
}

// oneLine is err's message on one line, as the protocol's lines need.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
