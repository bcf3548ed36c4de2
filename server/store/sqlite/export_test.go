package sqlite

// SetImportWALLimit sets how large an import lets the WAL grow before it restarts it, and
// returns a function that sets it back.
func SetImportWALLimit(bytes int64) (restore func()) {
	old := importWALLimit
	importWALLimit = bytes
	return func() { importWALLimit = old }
}
