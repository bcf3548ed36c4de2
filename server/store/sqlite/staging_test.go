package sqlite

import (
	"testing"
	"time"
)

// TestImportPausesOutlastTheBusyHandler: after a transaction of the import, a writer of another
// process that has waited all along tries again within the pause, whatever the transaction
// took: SQLite's busy handler sleeps longer between tries the longer it waited.
func TestImportPausesOutlastTheBusyHandler(t *testing.T) {
	for _, tt := range []struct{ held, within time.Duration }{
		{0, time.Millisecond},
		{10 * time.Millisecond, 10 * time.Millisecond},
		{50 * time.Millisecond, 20 * time.Millisecond},
		{100 * time.Millisecond, 25 * time.Millisecond},
		{150 * time.Millisecond, 50 * time.Millisecond},
		{time.Second, 100 * time.Millisecond},
	} {
		if got := retryWithin(tt.held); got != tt.within {
			t.Errorf("retryWithin(%v) = %v, want %v", tt.held, got, tt.within)
		}
	}
}
