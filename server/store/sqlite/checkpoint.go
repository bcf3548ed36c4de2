package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/fini-oss/conversations/server/store/sqlstore"
)

// Every commit appends the pages it changed to the write-ahead log (the -wal file), and a
// checkpoint copies them into the database. SQLite's automatic checkpoint would run inside
// whichever commit crossed its threshold, and with synchronous=NORMAL a checkpoint syncs the
// files: a request would wait for the disk. So the writer has none (wal_autocheckpoint(0)),
// and the checkpointer, on a connection of its own (and in its checkpoint process, if it has
// one: checkpointprocess.go), is the one place checkpoints run. It looks every checkpointTick:
//
//   - A PASSIVE checkpoint, which waits for no one, copies what the WAL holds: as soon as
//     commits pause for a tick, and at least every passiveEvery while they go on. While an
//     import writes its chunks, only once the WAL file holds forceFrames: copying beside it
//     would take turns on the processor from the import and the writes beside it, and
//     copy again pages the next chunk writes again. The import bounds the WAL itself, between
//     its chunks (boundWAL).
//   - A WAL restarts (the next commit writes it from its start again, instead of appending)
//     only when a commit finds it wholly copied, which under steady writes never happens:
//     commits land while a checkpoint copies. So once the WAL holds restartFrames and the
//     PASSIVE checkpoint left little (the disk keeps up with the writes), a RESTART
//     checkpoint runs in the store's write gate, where writers wait. It enters the gate at a
//     moment when the WAL is wholly copied and no write is under way, trying for up to
//     freeGateWait after each PASSIVE checkpoint until it runs: then it has nothing to copy
//     or sync, only the readers of the WAL to wait for. When writes outpace the disk, or leave no such moment, it runs once the WAL holds
//     forceFrames, in its turn among the writers, and copies and syncs what they committed:
//     the bound, which costs them one wait.
//   - Once nothing was committed for idleAfter, a TRUNCATE checkpoint in the gate, entered
//     the same way, empties the WAL and cuts the file to zero bytes.
//
// The gated checkpoints wait at most gatedBusyWait for the readers of the WAL to finish (and
// for another process's writer): readers that start once it is copied do not read it, and a
// reader that holds an old snapshot longer puts the checkpoint off to a later tick, while the
// writers that wait in the gate meanwhile are not held up for long.
const (
	checkpointTick = 100 * time.Millisecond
	passiveEvery   = 500 * time.Millisecond
	// restartFrames is 16 MiB of WAL with SQLite's default 4 KiB pages, forceFrames 256 MiB.
	restartFrames = 4096
	forceFrames   = 16 * restartFrames
	// frameBytes is the size of a WAL frame: a 24-byte header and a page.
	frameBytes = 24 + 4096
	// catchUpFrames (4 MiB) is as much as a PASSIVE checkpoint may leave for a RESTART one
	// to copy in the gate, short of forceFrames. A forced one first runs up to
	// catchUpPasses more PASSIVE ones while they leave more.
	catchUpFrames = 1024
	catchUpPasses = 3
	idleAfter     = 2 * time.Second
	gatedBusyWait = 10 * time.Millisecond
	freeGateWait  = 100 * time.Millisecond
	// fewFrames are what a checkpoint copies when little was committed since the last.
	fewFrames = 256
	// optimizeEvery is how many ticks pass between refreshes of the planner's statistics
	// (about ten minutes).
	optimizeEvery = int(10 * time.Minute / checkpointTick)
)

// checkpointer runs the WAL's checkpoints, and the ones a purge asks for (afterPurge), on
// a connection of its own, and its PASSIVE ones in a checkpoint process if it has one.
type checkpointer struct {
	conn *sql.DB
	path string
	// process, if not nil, runs the PASSIVE checkpoints (checkpointprocess.go); lost is told
	// why when it is stopped for failing to answer.
	process *checkpointProcess
	lost    func(error)
	// gate is the store's write gate, which the RESTART and TRUNCATE checkpoints enter.
	gate chan struct{}
	// busyTimeout is how long its checkpoints wait for the readers of older snapshots,
	// the store's timeout.
	busyTimeout time.Duration
	truncates   chan truncation
	// stopping ends run's context: a checkpoint under way is interrupted, and stop runs one.
	stopping context.CancelFunc
	stopped  chan struct{}

	// The state of run. version is the database's data_version at the last tick, which
	// changes when another connection commits; quiet counts the ticks since it last did.
	// uncopied says commits may have left frames no checkpoint copied; lastPassive is when
	// the last PASSIVE checkpoint ran; restartDue says the WAL is to restart, at a moment
	// without writes (tick tries every tick); shrunk says the WAL was truncated since the
	// last commit.
	version     int64
	quiet       int
	uncopied    bool
	lastPassive time.Time
	restartDue  bool
	shrunk      bool
}

// inTurn tells gated to wait for its turn in the gate.
const inTurn = -1

// errWriting is a checkpoint put off because a write is under way.
var errWriting = errors.New("sqlite: checkpoint put off while a write is under way")

// truncation is a purge's request for a RESTART or TRUNCATE checkpoint.
type truncation struct {
	ctx   context.Context
	last  bool
	reply chan error
}

// startCheckpointer opens the checkpointer's connection, starts the checkpoint process that
// o asks for, if any, and starts its loop.
func startCheckpointer(dsn, path string, gate chan struct{}, o sqlstore.Options) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	conn.SetMaxOpenConns(1)
	conn.SetConnMaxIdleTime(0)
	ctx, stopping := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, path: path, gate: gate, busyTimeout: o.Timeout, truncates: make(chan truncation),
		stopping: stopping, stopped: make(chan struct{}), lost: o.CheckpointProcessLost}
	if o.CheckpointProcess != nil {
		if c.process, err = startCheckpointProcess(o.CheckpointProcess()); err != nil {
			c.report(err)
		}
	}
	go c.run(ctx)
	return c, nil
}

// report tells lost, if set, why the checkpoint process is gone.
func (c *checkpointer) report(err error) {
	if c.lost != nil {
		c.lost(err)
	}
}

// run checkpoints every checkpointTick, and when a purge asks, until ctx ends (stop).
func (c *checkpointer) run(ctx context.Context) {
	defer close(c.stopped)
	t := time.NewTicker(checkpointTick)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-ctx.Done():
			return
		case req := <-c.truncates:
			req.reply <- c.afterPurgeNow(req.ctx, req.last)
		case now := <-t.C:
			// A failed checkpoint is tried again on a later tick; the WAL keeps the data.
			_ = c.tick(ctx, now)
			if n%optimizeEvery == 0 {
				_, _ = c.conn.Exec(`PRAGMA analysis_limit=400; PRAGMA optimize`)
			}
		}
	}
}

// tick runs the checkpoints that are due at now.
func (c *checkpointer) tick(ctx context.Context, now time.Time) error {
	var v int64
	if err := c.conn.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: data_version: %w", err)
	}
	committed := v != c.version
	if committed {
		c.version, c.quiet, c.uncopied, c.shrunk = v, 0, true, false
	} else {
		c.quiet++
	}
	copied := false
	if c.uncopied && (!committed || now.Sub(c.lastPassive) >= passiveEvery) {
		importing, err := c.importing(ctx)
		if err != nil {
			return err
		}
		if !importing || c.walBytes() >= forceFrames*frameBytes {
			c.lastPassive, copied = now, true
			if err := c.checkpoint(ctx); err != nil {
				return err
			}
		}
	}
	// A restart that is due is tried as often as the PASSIVE checkpoints run, whose copying
	// its own checkpoints would only do sooner, and more often, beside the writes.
	if c.restartDue && (copied || !committed) {
		if err := c.gated(ctx, "RESTART", gatedBusyWait, freeGateWait); err != nil {
			return err
		}
		c.restartDue = false
	}
	if !c.shrunk && time.Duration(c.quiet)*checkpointTick >= idleAfter {
		if err := c.gated(ctx, "TRUNCATE", gatedBusyWait, freeGateWait); err != nil {
			return err
		}
		c.shrunk = true
	}
	return nil
}

// importing reports whether an import is staged (sqlstore.Staging) and writing its chunks.
func (c *checkpointer) importing(ctx context.Context) (bool, error) {
	var n int
	if err := c.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM import_staging`).Scan(&n); err != nil {
		return false, fmt.Errorf("sqlite: look for an import: %w", err)
	}
	return n > 0, nil
}

// walBytes is the size of the WAL file, which is at least what the WAL holds; 0 if it is
// missing or unreadable.
func (c *checkpointer) walBytes() int64 {
	fi, err := os.Stat(c.path + "-wal")
	if err != nil {
		return 0
	}
	return fi.Size()
}

// checkpoint copies the WAL into the database, and finds whether a restart is due: then, or
// at a later tick, tick runs it. At forceFrames it runs it at once, in its turn.
func (c *checkpointer) checkpoint(ctx context.Context) error {
	frames, copied, err := c.passive(ctx)
	if err != nil {
		return err
	}
	c.uncopied = copied < frames
	if frames < forceFrames {
		c.restartDue = frames >= restartFrames && frames-copied <= catchUpFrames
		return nil
	}
	for i := 0; i < catchUpPasses && frames-copied > catchUpFrames; i++ {
		if frames, copied, err = c.passive(ctx); err != nil {
			return err
		}
	}
	if err := c.gated(ctx, "RESTART", gatedBusyWait, inTurn); err != nil {
		return err
	}
	c.restartDue = false
	return nil
}

// passive runs a PASSIVE checkpoint and returns how many frames the WAL holds and how many
// of them are copied into the database.
func (c *checkpointer) passive(ctx context.Context) (frames, copied int, err error) {
	conn, err := c.conn.Conn(ctx)
	if err != nil {
		return 0, 0, fmt.Errorf("sqlite: checkpoint the WAL: %w", err)
	}
	defer conn.Close()
	return c.passiveOn(ctx, conn)
}

// passiveOn runs a PASSIVE checkpoint in the checkpoint process if there is one, else on
// conn. A checkpoint the process fails is run again on conn, where SQLite's error, if any,
// comes with its result code; a process that failed to answer is stopped.
func (c *checkpointer) passiveOn(ctx context.Context, conn *sql.Conn) (frames, copied int, err error) {
	if c.process != nil {
		frames, copied, err := c.process.passive(ctx)
		switch {
		case err == nil:
			return frames, copied, nil
		case ctx.Err() != nil:
			return 0, 0, err
		case errors.Is(err, errProcessLost):
			c.process.kill()
			c.process = nil
			c.report(err)
		}
	}
	_, frames, copied, err = walCheckpoint(ctx, conn, "PASSIVE")
	return frames, copied, err
}

// gated runs a RESTART or TRUNCATE checkpoint inside the store's write gate, waiting at most
// wait for readers of the WAL and for another process's writer. The checkpoint needs the
// write lock: polling for it (the busy handler) against this process's writer, which takes
// it again and again under load, could starve for seconds, while in the gate it is simply
// the next writer in line. Writers wait while it runs, so it enters the gate with as little
// left to copy as it can (enterGate).
func (c *checkpointer) gated(ctx context.Context, mode string, wait, free time.Duration) error {
	conn, err := c.conn.Conn(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: %s checkpoint: %w", mode, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA busy_timeout = %d`, wait.Milliseconds())); err != nil {
		return fmt.Errorf("sqlite: %s checkpoint: %w", mode, err)
	}
	defer func() {
		_, _ = conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf(`PRAGMA busy_timeout = %d`, c.busyTimeout.Milliseconds()))
	}()
	if err := c.enterGate(ctx, conn, free); err != nil {
		return err
	}
	defer func() { <-c.gate }()
	busy, frames, copied, err := walCheckpoint(ctx, conn, mode)
	if err != nil {
		return err
	}
	if busy != 0 {
		return fmt.Errorf("sqlite: %s checkpoint: busy after %v (%d of %d frames checkpointed)", mode, wait, copied, frames)
	}
	c.uncopied = false
	return nil
}

// enterGate enters the write gate after a PASSIVE checkpoint (passiveOn) copied and synced
// what the WAL holds. If free is inTurn it then waits for its turn, and the gated checkpoint
// has the frames committed meanwhile to copy and sync. Else it tries for at most free, every
// millisecond, to enter at a moment when the WAL is wholly copied and no write holds the gate:
// the gated checkpoint then has nothing to copy, only readers to wait for. errWriting says
// that no such moment came, or that a checkpoint found much to copy (writes keep coming).
func (c *checkpointer) enterGate(ctx context.Context, conn *sql.Conn, free time.Duration) error {
	deadline := time.Now().Add(free)
	last, lastCopied := -1, -1
	for {
		// While a write holds the gate, a checkpoint would copy its frames for nothing.
		for free != inTurn && len(c.gate) > 0 && time.Now().Before(deadline) {
			t := time.NewTimer(time.Millisecond)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
		frames, copied, err := c.passiveOn(ctx, conn)
		if err != nil {
			return err
		}
		if free == inTurn {
			select {
			case c.gate <- struct{}{}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		// A checkpoint reports the frames the WAL held when it began: only when two in a
		// row find the same, all copied, did no commit land since the first began.
		if copied == frames && frames == last {
			select {
			case c.gate <- struct{}{}:
				return nil
			default:
			}
		}
		// A checkpoint that had much to copy says that commits keep coming: more checkpoints
		// back to back would only take the processor and the disk from them.
		busy := lastCopied >= 0 && copied-lastCopied > fewFrames
		last, lastCopied = frames, copied
		if busy || time.Now().After(deadline) {
			return errWriting
		}
		t := time.NewTimer(time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// walCheckpoint runs a checkpoint of mode on conn and returns its result: whether it was
// busy, how many frames the WAL holds and how many of them are copied into the database.
func walCheckpoint(ctx context.Context, conn *sql.Conn, mode string) (busy, frames, copied int, err error) {
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(`+mode+`)`).Scan(&busy, &frames, &copied); err != nil {
		return 0, 0, 0, fmt.Errorf("sqlite: %s checkpoint: %w", mode, err)
	}
	return busy, frames, copied, nil
}

// afterPurge keeps the WAL small during a purge and erases it after: after a batch (last
// false) it copies the WAL into the database and restarts it from its start, so that it does
// not grow for as long as a large purge runs beside other writes; after the purge (last
// true) it also truncates it to zero bytes, so that no old frame (an earlier image of a
// page: a soft-deleted row, or a purged one before its secure deletion) is left in the -wal
// file. Truncating only then matters: the file system takes hundreds of milliseconds to
// truncate a file now and then, and writers wait for it.
func (c *checkpointer) afterPurge(ctx context.Context, last bool) error {
	req := truncation{ctx: ctx, last: last, reply: make(chan error, 1)}
	select {
	case c.truncates <- req:
	case <-c.stopped:
		return errors.New("sqlite: closed")
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-req.reply
}

// afterPurgeNow runs afterPurge's checkpoint. Readers of older snapshots are waited for up
// to the busy timeout; busy means one of them outlasted it, and the next purge retries.
func (c *checkpointer) afterPurgeNow(ctx context.Context, last bool) error {
	mode := "RESTART"
	if last {
		mode = "TRUNCATE"
	}
	return c.gated(ctx, mode, c.busyTimeout, inTurn)
}

// stop stops the checkpointer's loop and its checkpoint process, and truncates the WAL once
// more.
func (c *checkpointer) stop() error {
	c.stopping()
	<-c.stopped
	var err error
	if c.process != nil {
		err = c.process.stop()
	}
	_, cerr := c.conn.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`)
	return errors.Join(err, cerr, c.conn.Close())
}
