// Package demo seeds a store with a demo workspace, a read+write key and realistic
// conversations spread over the last days, through the same validated import path as
// `fini-server import`. It depends on importer, store and the generated types.
package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/gen/api"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/importer"
	"github.com/fini-oss/conversations/server/store"
)

// Result is what Seed created.
type Result struct {
	WorkspaceID uuid.UUID
	// Key is the read+write key, the only time it exists in clear.
	Key string
	// ConversationIDs are the seeded conversations, in import order.
	ConversationIDs []uuid.UUID
}

var (
	sources  = []string{"widget", "widget", "widget", "api", "ui", "zendesk", "intercom", "slack"}
	statuses = []string{"Resolved", "Resolved", "Escalated to Human Agent", "Waiting for Customer"}
	subjects = []string{
		"How do I reset my password?", "Where is my order?", "Can I change my billing address?",
		"The app crashes when I upload a photo", "How do I cancel my subscription?",
		"Do you ship to Canada?", "I was charged twice this month", "How do I export my data?",
	}
	answers = []string{
		"Open Settings, then Security, then Reset password.",
		"Your order shipped yesterday; the tracking link is in your email.",
		"You can change it under Billing, then Address.",
		"Thanks for the report. I have passed it to our team.",
	}
)

// Seed creates the demo workspace, key and n conversations whose latest messages fall in the
// last three days before now. rnd makes the data reproducible.
func Seed(ctx context.Context, s store.Store, n int, now time.Time, rnd *rand.Rand) (Result, error) {
	var r Result
	r.WorkspaceID = uuid.New()
	if err := s.CreateWorkspace(ctx, store.Workspace{ID: r.WorkspaceID, Name: "Demo", CreatedAt: now.UnixMilli()}); err != nil {
		return r, fmt.Errorf("seed demo: %w", err)
	}
	key, hash, err := apikey.Generate()
	if err != nil {
		return r, err
	}
	if err := s.CreateAPIKey(ctx, store.APIKey{ID: uuid.New(), WorkspaceID: r.WorkspaceID, Name: "demo",
		Scopes: []string{"read", "write"}, Hash: hash, CreatedAt: now.UnixMilli()}); err != nil {
		return r, fmt.Errorf("seed demo: %w", err)
	}
	r.Key = key

	bots := []uuid.UUID{uuid.New(), uuid.New()}
	var lines bytes.Buffer
	enc := json.NewEncoder(&lines)
	for range n {
		c, bot := Conversation(now, rnd), bots[rnd.IntN(len(bots))]
		r.ConversationIDs = append(r.ConversationIDs, c.ID)
		if err := enc.Encode(struct {
			api.PublicConversation
			BotID uuid.UUID `json:"botId"`
		}{c, bot}); err != nil {
			return r, fmt.Errorf("seed demo: %w", err)
		}
	}
	im, err := importer.New()
	if err != nil {
		return r, err
	}
	if _, err := im.Import(ctx, s, r.WorkspaceID, &lines); err != nil {
		return r, fmt.Errorf("seed demo: %w", err)
	}
	return r, nil
}

func ptr[T any](v T) *T { return &v }

// Conversation makes one realistic conversation whose latest message lies in the three days
// before now.
func Conversation(now time.Time, rnd *rand.Rand) api.PublicConversation {
	id := uuid.New()
	start := now.Add(-time.Duration(rnd.Int64N(int64(72 * time.Hour)))).Add(-10 * time.Minute).UnixMilli()
	subject := subjects[rnd.IntN(len(subjects))]
	status := statuses[rnd.IntN(len(statuses))]
	resolved := status == "Resolved"
	article := api.ArticleRef{ID: uuid.New(), Title: "Help centre: " + subject, DocumentURL: ptr("https://help.example.com/articles/" + id.String()[:8])}
	c := api.PublicConversation{
		ID: id, CreatedAt: start, Source: sources[rnd.IntN(len(sources))], Channel: ptr("chat"),
		Status: &status, URL: ptr("https://app.usefini.com/conversations/" + id.String()),
		SubjectPreview: &subject, Resolved: &resolved,
		UserAttributes: json.RawMessage(fmt.Sprintf(`{"plan":%q,"locale":"en-GB","orders":%d}`,
			[]string{"free", "pro", "enterprise"}[rnd.IntN(3)], rnd.IntN(20))),
		UsedArticles:   []api.ArticleRef{article},
		UsedSubfolders: []api.FolderRef{{ID: uuid.New(), Title: "Account"}},
	}
	at := start
	for i := range 1 + rnd.IntN(4) {
		role, msg := api.EventRoleUser, subject
		if i%2 == 1 {
			role, msg = api.EventRoleFinibot, answers[rnd.IntN(len(answers))]
		}
		e := api.PublicEvent{
			ID: uuid.New(), CreatedAt: at, Role: role, Type: "message", Message: &msg,
			Attachments: []json.RawMessage{}, Tags: []json.RawMessage{}, UsedArticles: []api.ArticleRef{},
		}
		if role == api.EventRoleFinibot {
			e.UsedArticles = []api.ArticleRef{article}
			if rnd.IntN(3) == 0 {
				e.CsatRating, e.Feedback = ptr(float64(rnd.IntN(6))), ptr("Thanks!")
				c.HasFeedback = true
			}
		}
		c.Events = append(c.Events, e)
		at += int64(5000 + rnd.IntN(60000))
	}
	return c
}
