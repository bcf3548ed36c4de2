// Package store defines the persistence boundary of the server: one Store interface, the
// records it keeps and the sentinel errors it returns. Engines live in subpackages (sqlite,
// postgres) and share their SQL through sqlstore; this package depends on nothing of ours.
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/google/uuid"
)

// Sentinel errors returned by Store methods. Callers test them with errors.Is.
var (
	// ErrNotFound means the record does not exist in the caller's workspace, or is deleted.
	ErrNotFound = errors.New("not found")
	// ErrCursorNotFound means a list cursor names no conversation of the workspace.
	ErrCursorNotFound = errors.New("cursor not found")
	// ErrConflict means a record with the same id already exists.
	ErrConflict = errors.New("already exists")
	// ErrUnavailable means the database could not be reached; the call may succeed later.
	ErrUnavailable = errors.New("database unavailable")
)

// NotAccessibleError is returned by BulkDeleteConversations when some ids are missing,
// already deleted or belong to another workspace. Nothing was deleted.
type NotAccessibleError struct {
	// IDs are the inaccessible ids, in request order.
	IDs []uuid.UUID
}

// Error lists the inaccessible ids.
func (e *NotAccessibleError) Error() string {
	ids := make([]string, len(e.IDs))
	for i, id := range e.IDs {
		ids[i] = id.String()
	}
	return fmt.Sprintf("not accessible: %s", strings.Join(ids, ", "))
}

// All yields the conversations of cs, for ImportConversations.
func All(cs []Conversation) iter.Seq2[Conversation, error] {
	return func(yield func(Conversation, error) bool) {
		for _, c := range cs {
			if !yield(c, nil) {
				return
			}
		}
	}
}

// Conversation is a stored conversation: the public JSON document exactly as imported, and
// the columns that Get, List and the deletes select on.
type Conversation struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	// BotID is the agent that handled the conversation, if known.
	BotID   *uuid.UUID
	Source  string
	Channel *string
	// CreatedAt and LastMessageAt are epoch milliseconds. LastMessageAt is the newest event's
	// createdAt, or CreatedAt when there are no events; List sorts and windows on it.
	CreatedAt     int64
	LastMessageAt int64
	// Body is the conversation as the public API shows it (a PublicConversation), in JSON.
	Body []byte
}

// Direction is the way a List walks from its cursor.
type Direction int

const (
	// Older walks towards older conversations (the API's direction=next).
	Older Direction = iota
	// Newer walks towards newer conversations (the API's direction=previous).
	Newer
)

// ListQuery selects one page of a workspace's live conversations.
type ListQuery struct {
	WorkspaceID uuid.UUID
	// Since (inclusive) and Until (exclusive) bound LastMessageAt, in epoch milliseconds.
	Since, Until int64
	// Limit is the page size, at least 1.
	Limit int
	// Cursor, when set, is the conversation the page starts after, in Direction.
	Cursor    *uuid.UUID
	Direction Direction
	BotID     *uuid.UUID
	// Sources and Channels, when not empty, keep only conversations with one of these values.
	Sources  []string
	Channels []string
}

// Page is one page of List, always sorted newest first.
type Page struct {
	Conversations []Conversation
	// HasMore says more conversations lie beyond the page in the direction travelled.
	HasMore bool
	// HasOlder and HasNewer say whether conversations exist before the page's first item and
	// after its last item; they decide the page's cursors.
	HasOlder, HasNewer bool
}

// Workspace is a tenant: every key and conversation belongs to exactly one.
type Workspace struct {
	ID        uuid.UUID
	Name      string
	CreatedAt int64
}

// APIKey is an issued key. The secret itself is never stored, only its SHA-256 hash.
type APIKey struct {
	ID          uuid.UUID
	WorkspaceID uuid.UUID
	Name        string
	Scopes      []string
	Hash        []byte
	CreatedAt   int64
	RevokedAt   *int64
	LastUsedAt  *int64
}

// Store keeps workspaces, keys and conversations. Every conversation method acts only on the
// given workspace's data. Implementations are safe for concurrent use, also by several
// processes sharing one database.
type Store interface {
	// DeleteConversation soft-deletes a live conversation. It returns nil whether or not the
	// id named a live conversation of the workspace: delete is idempotent.
	DeleteConversation(ctx context.Context, workspaceID, id uuid.UUID) error
	// BulkDeleteConversations soft-deletes all the ids or none: if any is not a live
	// conversation of the workspace it returns *NotAccessibleError and deletes nothing.
	BulkDeleteConversations(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID) error
	// GetConversation returns a live conversation, or ErrNotFound.
	GetConversation(ctx context.Context, workspaceID, id uuid.UUID) (Conversation, error)
	// ListConversations returns one page, or ErrCursorNotFound when the cursor names no
	// conversation of the workspace (a deleted one still works: its position is kept).
	ListConversations(ctx context.Context, q ListQuery) (Page, error)
	// ImportConversations inserts every conversation cs yields, in one transaction, or none:
	// when cs yields an error, nothing is stored and that error is returned; ErrConflict when
	// an id exists. cs is consumed as the rows are written, so it may stream.
	ImportConversations(ctx context.Context, cs iter.Seq2[Conversation, error]) error
	// RestoreConversation undoes a soft delete; ErrNotFound when no deleted conversation of
	// the workspace has that id.
	RestoreConversation(ctx context.Context, workspaceID, id uuid.UUID) error
	// PurgeDeleted hard-deletes conversations soft-deleted before the given epoch millisecond
	// and returns how many.
	PurgeDeleted(ctx context.Context, deletedBefore int64) (int64, error)
	// CountConversations counts a workspace's live conversations.
	CountConversations(ctx context.Context, workspaceID uuid.UUID) (int64, error)

	// CreateWorkspace adds a workspace.
	CreateWorkspace(ctx context.Context, w Workspace) error
	// HasWorkspaces reports whether any workspace exists, i.e. whether the database is in use.
	HasWorkspaces(ctx context.Context) (bool, error)
	// GetWorkspace returns a workspace, or ErrNotFound.
	GetWorkspace(ctx context.Context, id uuid.UUID) (Workspace, error)
	// CreateAPIKey adds a key; ErrNotFound when its workspace does not exist.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// ListAPIKeys returns a workspace's keys, oldest first.
	ListAPIKeys(ctx context.Context, workspaceID uuid.UUID) ([]APIKey, error)
	// APIKeyByHash returns the key with this secret hash, revoked or not, or ErrNotFound.
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// RevokeAPIKey revokes a key (again revoking is a no-op); ErrNotFound if there is none.
	RevokeAPIKey(ctx context.Context, id uuid.UUID, at int64) error
	// TouchAPIKey records that the key was used at the given time.
	TouchAPIKey(ctx context.Context, id uuid.UUID, at int64) error

	// Ping reports whether the database is reachable.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
