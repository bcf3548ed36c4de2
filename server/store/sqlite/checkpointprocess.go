package sqlite

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// SQLite runs in the store's process, on its Go scheduler: a checkpoint copying the WAL
// there takes turns on the processor with the requests, as their equal, and where the server
// has one CPU the writes queued behind it wait for its turns too. In a process of its own at
// a lower priority (checkpointNice), the kernel gives it what the requests leave. So with
// sqlstore.WithCheckpointProcess the PASSIVE checkpoints, which copy the bulk of what the WAL
// holds, run there (ServeCheckpoints), as do the ones with which a gated checkpoint looks for
// its moment (enterGate). The gated ones themselves stay in the store's process, as does
// everything else: writers wait for them in the write gate, so they run at the writers'
// priority, not after them.
//
// The protocol is a line each way: checkpointRequest, answered by "ok BUSY FRAMES COPIED"
// (what PRAGMA wal_checkpoint returns) or "error MESSAGE".
const checkpointRequest = "checkpoint"

// processReplyWait is how long a checkpoint process may take to answer before it is taken
// for hung: ten times what a PASSIVE checkpoint of a WAL at its bound (forceFrames) takes at
// its priority beside a busy server, and short, since meanwhile nothing copies the WAL,
// which grows with every commit. processStopWait is how long it may take to end once told to.
const (
	processReplyWait = 10 * time.Second
	processStopWait  = 5 * time.Second
)

// checkpointProcess is a running checkpoint process, and the pipes to it. owed counts the
// answers it owes to requests whose callers gave up waiting: they are read, and dropped,
// before the next request's.
type checkpointProcess struct {
	cmd     *exec.Cmd
	in      *os.File
	out     *os.File
	replies *bufio.Reader
	owed    int
	// lastError is the process's last error answer, which says why when it dies after one
	// (a database it could not open).
	lastError string
}

// errProcessLost is a checkpoint process that failed to answer: it is stopped, and the
// checkpoints run in the store's process from then on.
var errProcessLost = errors.New("sqlite: checkpoint process lost")

// startCheckpointProcess starts cmd with pipes for its standard input and output.
func startCheckpointProcess(cmd *exec.Cmd) (*checkpointProcess, error) {
	if cmd == nil {
		return nil, fmt.Errorf("%w: no command", errProcessLost)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errProcessLost, err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, fmt.Errorf("%w: %w", errProcessLost, err)
	}
	cmd.Stdin, cmd.Stdout = inR, outW
	dieWithParent(cmd)
	err = cmd.Start()
	// The process has its own copies of its ends now (or none, if it did not start).
	inR.Close()
	outW.Close()
	if err != nil {
		inW.Close()
		outR.Close()
		return nil, fmt.Errorf("%w: start %s: %w", errProcessLost, cmd.Path, err)
	}
	return &checkpointProcess{cmd: cmd, in: inW, out: outR, replies: bufio.NewReader(outR)}, nil
}

// passive asks the process for a PASSIVE checkpoint and returns how many frames the WAL
// holds and how many of them are copied into the database. When ctx ends first it returns
// ctx's error, and the checkpoint goes on in the process. An error that wraps
// errProcessLost says that the process failed to answer (it has then to be stopped); any
// other is SQLite's, from the process.
func (p *checkpointProcess) passive(ctx context.Context) (frames, copied int, err error) {
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if err := p.out.SetReadDeadline(time.Now().Add(processReplyWait)); err != nil {
		return 0, 0, p.lost(err)
	}
	// The deadline that ctx's end sets is set before ctx.Err says it ended, and must not
	// outlive this call, where it would cut the next one short.
	fired := make(chan struct{})
	cancelled := context.AfterFunc(ctx, func() {
		_ = p.out.SetReadDeadline(time.Now())
		close(fired)
	})
	defer func() {
		if !cancelled() {
			<-fired
		}
	}()
	for ; p.owed > 0; p.owed-- {
		if _, err := p.reply(ctx); err != nil {
			return 0, 0, err
		}
	}
	if _, err := p.in.WriteString(checkpointRequest + "\n"); err != nil {
		return 0, 0, p.lost(fmt.Errorf("ask: %w", err))
	}
	p.owed++
	line, err := p.reply(ctx)
	if err != nil {
		return 0, 0, err
	}
	p.owed--
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		p.lastError = msg
		return 0, 0, fmt.Errorf("sqlite: PASSIVE checkpoint in the checkpoint process: %s", msg)
	}
	if frames, copied, ok := parseAnswer(line); ok {
		return frames, copied, nil
	}
	return 0, 0, p.lost(fmt.Errorf("answered %q", line))
}

// parseAnswer reads "ok BUSY FRAMES COPIED". A checkpoint that found another one under way
// (in this process or another) answers "ok 1 -1 -1", as SQLite does.
func parseAnswer(line string) (frames, copied int, ok bool) {
	f := strings.Fields(line)
	if len(f) != 4 || f[0] != "ok" || line != strings.Join(f, " ") {
		return 0, 0, false
	}
	var n [3]int
	for i, field := range f[1:] {
		v, err := strconv.Atoi(field)
		if err != nil || v < -1 {
			return 0, 0, false
		}
		n[i] = v
	}
	return n[1], n[2], true
}

// reply reads the process's next answer. Each comes in one write of a line, so a read that
// ctx cut short has read none of it.
func (p *checkpointProcess) reply(ctx context.Context) (string, error) {
	line, err := p.replies.ReadString('\n')
	switch {
	case err == nil:
		return strings.TrimSuffix(line, "\n"), nil
	case line == "" && ctx.Err() != nil:
		return "", ctx.Err()
	}
	return "", p.lost(fmt.Errorf("read its answer: %w", err))
}

// lost is err as errProcessLost, with the process's last error answer.
func (p *checkpointProcess) lost(err error) error {
	if p.lastError != "" {
		return fmt.Errorf("%w: %w (its last error: %s)", errProcessLost, err, p.lastError)
	}
	return fmt.Errorf("%w: %w", errProcessLost, err)
}

// stop tells the process to end (its standard input ends), waits for it at most
// processStopWait and kills it after; it returns how the process ended.
func (p *checkpointProcess) stop() error {
	p.in.Close()
	ended := make(chan error, 1)
	go func() { ended <- p.cmd.Wait() }()
	var err error
	select {
	case err = <-ended:
	case <-time.After(processStopWait):
		_ = p.cmd.Process.Kill()
		err = <-ended
	}
	p.out.Close()
	if err != nil {
		return fmt.Errorf("sqlite: checkpoint process: %w", err)
	}
	return nil
}

// kill ends the process at once and waits for it.
func (p *checkpointProcess) kill() {
	_ = p.cmd.Process.Kill()
	p.in.Close()
	_ = p.cmd.Wait()
	p.out.Close()
}
