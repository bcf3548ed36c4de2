package sqlstore

import (
	"fmt"
	"os/exec"
	"time"
)

// Options are how an engine opens its store: the defaults, changed by the Option values
// given to its Open (Configure).
type Options struct {
	// Timeout bounds each call's wait for the database (DB.Timeout).
	Timeout time.Duration
	// CheckpointProcess, SQLite's alone, returns the command of a process that runs the
	// WAL's checkpoints beside the store's own, at a lower CPU priority (sqlite.ServeCheckpoints);
	// nil runs them in the store's process. CheckpointProcessLost, if not nil, is told why
	// when that process cannot start or stops answering: the store's process runs them from
	// then on.
	CheckpointProcess     func() *exec.Cmd
	CheckpointProcessLost func(error)
}

// Option changes the Options of an engine's Open.
type Option func(*Options)

// WithTimeout sets Options.Timeout; d must be more than 0.
func WithTimeout(d time.Duration) Option { return func(o *Options) { o.Timeout = d } }

// WithCheckpointProcess sets Options.CheckpointProcess and CheckpointProcessLost.
func WithCheckpointProcess(command func() *exec.Cmd, lost func(error)) Option {
	return func(o *Options) { o.CheckpointProcess, o.CheckpointProcessLost = command, lost }
}

// Configure returns the defaults changed by opts, or an error when they are not valid.
func Configure(opts []Option) (Options, error) {
	o := Options{Timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	if o.Timeout <= 0 {
		return o, fmt.Errorf("database timeout %v: want more than 0", o.Timeout)
	}
	return o, nil
}
