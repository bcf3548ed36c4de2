package client

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
)

// Conversation is a conversation as the API returns it. Times are time.Time in UTC, to the
// millisecond; ids are UUIDs; a nil pointer is a field the API sent as null.
//
// Its JSON is the API's: it unmarshals what the API sends, and marshals to the same fields
// and values (times in epoch milliseconds, null where the API sent null, [] where it sent
// []), the fields in alphabetical order, as the generated api.PublicConversation does. What
// the API stored in that form (demo data, and the output of json.Marshal) comes back byte
// for byte.
type Conversation struct {
	// ID is the conversation's id.
	ID uuid.UUID
	// CreatedAt is when the conversation started.
	CreatedAt time.Time
	// Source is where it came from, e.g. api, widget, ui, zendesk, intercom or slack (an
	// open set).
	Source string
	// Channel is the channel, e.g. chat.
	Channel *string
	// Status is e.g. Resolved, Escalated to Human Agent or Waiting for Customer (an open set).
	Status *string
	// Resolved says whether the conversation was resolved; nil when unknown.
	Resolved *bool
	// HasFeedback is true when any event carries feedback.
	HasFeedback bool
	// SubjectPreview is usually the first user message.
	SubjectPreview *string
	// URL links to the conversation in Fini's dashboard.
	URL *string
	// ExternalID is the conversation's id in an external help desk.
	ExternalID *string
	// Events are the conversation's events, usually messages, oldest first.
	Events []Event
	// UsedArticles are the knowledge-base articles used in the conversation.
	UsedArticles []ArticleRef
	// UsedSubfolders are the knowledge-base folders used in the conversation.
	UsedSubfolders []FolderRef
	// UserAttributes are free-form attributes of the customer: a JSON object, as stored.
	UserAttributes json.RawMessage
}

// Event is one event of a conversation, usually a message. Its JSON is the API's, as for
// Conversation.
type Event struct {
	// ID is the event's id.
	ID uuid.UUID
	// CreatedAt is when the event happened.
	CreatedAt time.Time
	// Role says who produced the event.
	Role EventRole
	// Type is the kind of event, e.g. message.
	Type string
	// Message is the message's text.
	Message *string
	// ExternalID is the event's id in an external help desk.
	ExternalID *string
	// ExternalCreatedAt is when the external help desk recorded the event.
	ExternalCreatedAt *time.Time
	// Approved says whether a reviewer approved the answer.
	Approved *bool
	// Resolved says whether this event resolved the conversation.
	Resolved *bool
	// CsatRating is the customer's satisfaction rating; 0 is a rating, nil is none.
	CsatRating *float64
	// Feedback is free-text feedback.
	Feedback *string
	// Attachments are free-form attachment objects, as stored.
	Attachments []json.RawMessage
	// Tags are free-form tag objects, as stored.
	Tags []json.RawMessage
	// UsedArticles are the knowledge-base articles used for this event.
	UsedArticles []ArticleRef
}

// EventRole says who produced an event.
type EventRole string

// The roles of an event: the spec's EventRole enum.
const (
	// EventRoleUser is the customer.
	EventRoleUser EventRole = "user"
	// EventRoleAgent is a human support agent.
	EventRoleAgent EventRole = "agent"
	// EventRoleFinibot is Fini's AI agent.
	EventRoleFinibot EventRole = "finibot"
	// EventRoleOtherbot is another bot.
	EventRoleOtherbot EventRole = "otherbot"
)

// ArticleRef is a knowledge-base article used in a conversation or an event. Its fields
// are those of the generated api.ArticleRef, in the same order, so that each converts to the
// other.
type ArticleRef struct {
	// DocumentURL is where the article is published.
	DocumentURL *string `json:"documentUrl"`
	// ID is the article's id.
	ID uuid.UUID `json:"id"`
	// Title is the article's title.
	Title string `json:"title"`
}

// FolderRef is a knowledge-base folder used in a conversation. Its fields are those of the
// generated api.FolderRef, in the same order.
type FolderRef struct {
	// ID is the folder's id.
	ID uuid.UUID `json:"id"`
	// Title is the folder's title.
	Title string `json:"title"`
}

// Page is one page of ListConversations. Its JSON is the API's.
type Page struct {
	// HasMore is true when more conversations exist beyond this page in the direction
	// travelled.
	HasMore bool `json:"hasMore"`
	// Conversations is the page, newest first (the API's "interactions").
	Conversations []Conversation `json:"interactions"`
	// NextCursor, as ListOptions.Cursor with Direction Older, gives the older page; nil
	// when there is none.
	NextCursor *uuid.UUID `json:"nextCursor"`
	// PrevCursor, as ListOptions.Cursor with Direction Newer, gives the newer page; nil
	// when there is none.
	PrevCursor *uuid.UUID `json:"prevCursor"`
}

// MarshalJSON writes the conversation as the API does.
func (c Conversation) MarshalJSON() ([]byte, error) {
	return json.Marshal(api.PublicConversation{
		Channel:        c.Channel,
		CreatedAt:      c.CreatedAt.UnixMilli(),
		Events:         convert(c.Events, Event.wire),
		ExternalID:     c.ExternalID,
		HasFeedback:    c.HasFeedback,
		ID:             c.ID,
		Resolved:       c.Resolved,
		Source:         c.Source,
		Status:         c.Status,
		SubjectPreview: c.SubjectPreview,
		URL:            c.URL,
		UsedArticles:   convert(c.UsedArticles, func(a ArticleRef) api.ArticleRef { return api.ArticleRef(a) }),
		UsedSubfolders: convert(c.UsedSubfolders, func(f FolderRef) api.FolderRef { return api.FolderRef(f) }),
		UserAttributes: c.UserAttributes,
	})
}

// UnmarshalJSON reads a conversation as the API writes it.
func (c *Conversation) UnmarshalJSON(data []byte) error {
	var w api.PublicConversation
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*c = Conversation{
		ID:             w.ID,
		CreatedAt:      fromMillis(w.CreatedAt),
		Source:         w.Source,
		Channel:        w.Channel,
		Status:         w.Status,
		Resolved:       w.Resolved,
		HasFeedback:    w.HasFeedback,
		SubjectPreview: w.SubjectPreview,
		URL:            w.URL,
		ExternalID:     w.ExternalID,
		Events:         convert(w.Events, eventFrom),
		UsedArticles:   convert(w.UsedArticles, func(a api.ArticleRef) ArticleRef { return ArticleRef(a) }),
		UsedSubfolders: convert(w.UsedSubfolders, func(f api.FolderRef) FolderRef { return FolderRef(f) }),
		UserAttributes: w.UserAttributes,
	}
	return nil
}

// MarshalJSON writes the event as the API does.
func (e Event) MarshalJSON() ([]byte, error) { return json.Marshal(e.wire()) }

// UnmarshalJSON reads an event as the API writes it.
func (e *Event) UnmarshalJSON(data []byte) error {
	var w api.PublicEvent
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*e = eventFrom(w)
	return nil
}

func (e Event) wire() api.PublicEvent {
	w := api.PublicEvent{
		Approved:     e.Approved,
		Attachments:  e.Attachments,
		CreatedAt:    e.CreatedAt.UnixMilli(),
		CsatRating:   e.CsatRating,
		ExternalID:   e.ExternalID,
		Feedback:     e.Feedback,
		ID:           e.ID,
		Message:      e.Message,
		Resolved:     e.Resolved,
		Role:         api.EventRole(e.Role),
		Tags:         e.Tags,
		Type:         e.Type,
		UsedArticles: convert(e.UsedArticles, func(a ArticleRef) api.ArticleRef { return api.ArticleRef(a) }),
	}
	if e.ExternalCreatedAt != nil {
		w.ExternalCreatedAt = ptr(e.ExternalCreatedAt.UnixMilli())
	}
	return w
}

func eventFrom(w api.PublicEvent) Event {
	e := Event{
		ID:           w.ID,
		CreatedAt:    fromMillis(w.CreatedAt),
		Role:         EventRole(w.Role),
		Type:         w.Type,
		Message:      w.Message,
		ExternalID:   w.ExternalID,
		Approved:     w.Approved,
		Resolved:     w.Resolved,
		CsatRating:   w.CsatRating,
		Feedback:     w.Feedback,
		Attachments:  w.Attachments,
		Tags:         w.Tags,
		UsedArticles: convert(w.UsedArticles, func(a api.ArticleRef) ArticleRef { return ArticleRef(a) }),
	}
	if w.ExternalCreatedAt != nil {
		e.ExternalCreatedAt = ptr(fromMillis(*w.ExternalCreatedAt))
	}
	return e
}

// fromMillis is the UTC time of epoch milliseconds; its UnixMilli gives ms back exactly.
func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// convert maps each element of s with f, and keeps a nil slice nil: the API's null and []
// differ, and must marshal back as they came.
func convert[S, D any](s []S, f func(S) D) []D {
	if s == nil {
		return nil
	}
	d := make([]D, len(s))
	for i, v := range s {
		d[i] = f(v)
	}
	return d
}
