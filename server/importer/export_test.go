package importer

import (
	"github.com/google/uuid"

	"github.com/fini-oss/conversations/server/store"
)

// ParseGeneral is the general path alone, the definition the fast path is checked against.
func (im *Importer) ParseGeneral(workspace uuid.UUID, line []byte) (store.Conversation, error) {
	return im.parseGeneral(workspace, line)
}

// ParseFast is the fast path alone: false where it leaves the line to the general path. It
// fails the test's expectations by returning false when the spec did not compile.
func (im *Importer) ParseFast(workspace uuid.UUID, line []byte) (store.Conversation, bool) {
	if im.fast == nil {
		return store.Conversation{}, false
	}
	c, ok := parseFast(im.fast, line)
	c.WorkspaceID = workspace
	return c, ok
}

// FastPathErr says why the spec's schema did not compile for the fast path, if it did not.
func (im *Importer) FastPathErr() error { return im.fastErr }
