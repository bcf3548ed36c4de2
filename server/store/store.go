// Package store defines the persistence boundary of the server: the records it keeps, the
// sentinel errors it returns, and its roles, one small interface per consumer (Store is all
// of them). Engines live in subpackages (sqlite, postgres) and share their SQL through sqlstore; this package depends on nothing of ours.
package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"time"

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
	// ErrDiskFull means the database's disk has no room for the write; nothing was written.
	// Reads go on, and writes succeed again once space is freed. It is also ErrUnavailable.
	ErrDiskFull = fmt.Errorf("%w: the disk is full", ErrUnavailable)
	// ErrPurgeLocked means another process holds the purge lock: it is purging right now.
	ErrPurgeLocked = errors.New("another process is purging")
	// ErrKeyRevoked means the API key that made a write was revoked, or no longer exists,
	// when the write's transaction checked it: nothing was changed.
	ErrKeyRevoked = errors.New("api key revoked")
)

// PurgedError is returned by RestoreConversation for a conversation that was purged: its
// content is gone for good. Only the deletion record remains, until the record's retention.
type PurgedError struct {
	ID uuid.UUID
	// At is when the purge removed it, in epoch milliseconds.
	At int64
}

// Error says that the conversation is gone for good, and since when.
func (e *PurgedError) Error() string {
	return fmt.Sprintf("conversation %s was purged at %s: its content is gone for good",
		e.ID, time.UnixMilli(e.At).UTC().Format(time.RFC3339))
}

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

// Operations of the deletion record made outside the API; the API's own are its operationIds
// (deleteConversation, bulkDeleteConversations).
const (
	// OpRestore is `fini-server restore` undoing a soft delete.
	OpRestore = "restore"
	// OpPurge is the purge (the server's loop or `fini-server purge`) removing a
	// conversation for good.
	OpPurge = "purge"
)

// Actor is who made a change that the deletion record keeps: an API request (its key and
// request id) or an operator's command. It holds no secret.
type Actor struct {
	// KeyID and KeyName are the API key that made the request; uuid.Nil and "" for an operator.
	KeyID   uuid.UUID
	KeyName string
	// RequestID is the request's X-Request-Id; empty outside the API.
	RequestID string
	// Operation is the API's operationId, or OpRestore or OpPurge.
	Operation string
}

// Operator is the actor of an operator's command or of the purge, doing operation.
func Operator(operation string) Actor { return Actor{Operation: operation} }

// AuditRecord is one entry of the deletion record: a conversation deleted, restored or
// purged. It holds no conversation content; it outlives the conversation (a purge keeps it)
// until the record's own retention prunes it.
type AuditRecord struct {
	// At is when the change was made, in epoch milliseconds.
	At             int64
	WorkspaceID    uuid.UUID
	ConversationID uuid.UUID
	Actor
}

// AuditQuery selects a workspace's records.
type AuditQuery struct {
	WorkspaceID uuid.UUID
	// ConversationID and KeyID, when set, keep only that conversation's or key's records.
	ConversationID, KeyID *uuid.UUID
	// Since (inclusive) and Until (exclusive) bound At, in epoch milliseconds.
	Since, Until int64
}

// The store's roles. Each consumer depends on the role it uses: the API's handlers on
// Conversations, authentication on Keys, readiness on Pinger, the importer on Imports, the
// retention loop on Retention, the audit command on Audit, the operator's commands on Admin.
// Store is all of them. Every conversation method acts only on the given workspace's data.
// Implementations are safe for concurrent use, also by several processes sharing one database.

// Conversations are the operations of the API.
type Conversations interface {
	// DeleteConversation soft-deletes a live conversation and, in the same transaction,
	// appends its deletion record by actor. It returns nil whether or not the id named a live
	// conversation of the workspace (delete is idempotent); when it did not, nothing is
	// recorded. The same transaction checks actor's key (an operator's, uuid.Nil, is not
	// checked): ErrKeyRevoked when it is revoked or gone, and nothing is deleted or recorded.
	// A concurrent RevokeAPIKey is ordered with it: a delete that succeeds committed before
	// the revocation did.
	DeleteConversation(ctx context.Context, workspaceID, id uuid.UUID, actor Actor) error
	// BulkDeleteConversations soft-deletes all the ids or none, and in the same transaction
	// appends one deletion record by actor per id: if any is not a live conversation of the
	// workspace it returns *NotAccessibleError, and deletes and records nothing. Its key is
	// checked as DeleteConversation's: ErrKeyRevoked (before any *NotAccessibleError) when it
	// is revoked or gone, and nothing is deleted or recorded.
	BulkDeleteConversations(ctx context.Context, workspaceID uuid.UUID, ids []uuid.UUID, actor Actor) error
	// GetConversation returns a live conversation, or ErrNotFound.
	GetConversation(ctx context.Context, workspaceID, id uuid.UUID) (Conversation, error)
	// ListConversations returns one page, or ErrCursorNotFound when the cursor names no
	// conversation of the workspace (a deleted one still works: its position is kept).
	ListConversations(ctx context.Context, q ListQuery) (Page, error)
}

// Keys are what authentication reads and records of API keys.
type Keys interface {
	// APIKeyByHash returns the key with this secret hash, revoked or not, or ErrNotFound.
	APIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// TouchAPIKey records that the key was used at the given time.
	TouchAPIKey(ctx context.Context, id uuid.UUID, at int64) error
}

// Pinger is what readiness asks.
type Pinger interface {
	// Ping reports whether the database answers, waiting at most the store's deadline for
	// each call, as every other method does.
	Ping(ctx context.Context) error
}

// API is what serving the API uses: its operations, the key check and readiness.
type API interface {
	Conversations
	Keys
	Pinger
}

// Imports are what an import uses.
type Imports interface {
	// GetWorkspace returns a workspace, or ErrNotFound.
	GetWorkspace(ctx context.Context, id uuid.UUID) (Workspace, error)
	// ImportConversations inserts every conversation cs yields, or none: when cs yields an
	// error, nothing is stored and that error is returned; ErrConflict when an id exists.
	// No other call sees any of them before all are stored. cs is consumed as the rows are
	// written, so it may stream. Where the engine has one writer (SQLite), the rows are
	// written in chunks, between which other writes take their turns, and imports take turns
	// with each other, one at a time.
	ImportConversations(ctx context.Context, cs iter.Seq2[Conversation, error]) error
}

// Retention is what the retention loop and `fini-server purge` use.
type Retention interface {
	// PurgeDeleted hard-deletes the conversations soft-deleted before the given epoch
	// millisecond, oldest first, in transactions of at most batch rows, each of which also
	// appends an OpPurge record per conversation it removes; it returns how many. Only one
	// process purges at a time: a batch that finds another holding the purge lock ends the
	// call with ErrPurgeLocked (and the count so far). A batch interrupted by a crash rolls
	// back whole. When rows were removed the engine also erases the freed bytes it still
	// holds (SQLite truncates its write-ahead log).
	PurgeDeleted(ctx context.Context, deletedBefore int64, batch int) (int64, error)
	// OldestDeleted returns when the oldest soft-deleted conversation still stored was
	// deleted, in epoch milliseconds; ok is false when there is none.
	OldestDeleted(ctx context.Context) (at int64, ok bool, err error)
	// PruneAuditRecords removes the records made before the given epoch millisecond, in
	// transactions of at most batch rows, and returns how many.
	PruneAuditRecords(ctx context.Context, before int64, batch int) (int64, error)
}

// Audit is what reading the deletion record uses.
type Audit interface {
	// AuditRecords yields a workspace's deletion records matching q, oldest first. It reads
	// them a page at a time, so any number of records takes bounded memory; an error ends
	// the sequence.
	AuditRecords(ctx context.Context, q AuditQuery) iter.Seq2[AuditRecord, error]
}

// Admin is what the operator's commands use besides import, purge and audit.
type Admin interface {
	// CreateWorkspace adds a workspace.
	CreateWorkspace(ctx context.Context, w Workspace) error
	// HasWorkspaces reports whether any workspace exists, i.e. whether the database is in use.
	HasWorkspaces(ctx context.Context) (bool, error)
	// CreateAPIKey adds a key; ErrNotFound when its workspace does not exist.
	CreateAPIKey(ctx context.Context, k APIKey) error
	// ListAPIKeys returns a workspace's keys, oldest first.
	ListAPIKeys(ctx context.Context, workspaceID uuid.UUID) ([]APIKey, error)
	// RevokeAPIKey revokes a key (again revoking is a no-op); ErrNotFound if there is none.
	// Once it returns, no delete by the key commits (it waits for those under way).
	RevokeAPIKey(ctx context.Context, id uuid.UUID, at int64) error
	// RestoreConversation undoes a soft delete and records it by actor, in one transaction;
	// *PurgedError when the conversation was purged (and its record is still kept),
	// ErrNotFound when no deleted conversation of the workspace has that id.
	RestoreConversation(ctx context.Context, workspaceID, id uuid.UUID, actor Actor) error
	// CountConversations counts a workspace's live conversations.
	CountConversations(ctx context.Context, workspaceID uuid.UUID) (int64, error)
}

// Store is one database in every role, as an engine opens it.
type Store interface {
	API
	Imports
	Retention
	Audit
	Admin
	// Close releases the database.
	Close() error
}
