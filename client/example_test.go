package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/client"
	"github.com/fini-oss/conversations/server/servertest"
)

// exampleServer starts this project's server with 60 demo conversations, standing in for
// Fini's API, and returns its URL, a read+write key and the conversation ids.
func exampleServer() (baseURL, key string, ids []uuid.UUID, stop func()) {
	env, err := servertest.Start(servertest.Options{Conversations: 60})
	if err != nil {
		log.Fatal(err)
	}
	return env.URL, env.Seeded.Key, env.Seeded.ConversationIDs, env.Close
}

func Example() {
	baseURL, key, ids, stop := exampleServer()
	defer stop()

	c, err := client.New(key, client.WithBaseURL(baseURL)) // omit WithBaseURL for Fini's production API
	if err != nil {
		log.Fatal(err)
	}
	if err := c.DeleteConversation(context.Background(), ids[0]); err != nil {
		log.Fatal(err)
	}
	_, err = c.GetConversation(context.Background(), ids[0])
	fmt.Println(errors.Is(err, client.ErrNotFound))
	// Output: true
}

func ExampleClient_Conversations() {
	baseURL, key, _, stop := exampleServer()
	defer stop()
	c, err := client.New(key, client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}

	n := 0
	for conv, err := range c.Conversations(context.Background(), client.ListOptions{Limit: 25}) {
		if err != nil {
			log.Fatal(err)
		}
		_ = conv.SubjectPreview
		n++
	}
	fmt.Println(n, "conversations")
	// Output: 60 conversations
}

func ExampleClient_GetConversation() {
	baseURL, key, ids, stop := exampleServer()
	defer stop()
	c, err := client.New(key, client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}

	conv, err := c.GetConversation(context.Background(), ids[0])
	if err != nil {
		log.Fatal(err)
	}
	// Times are time.Time in UTC; the events come oldest first.
	latest := conv.Events[len(conv.Events)-1].CreatedAt
	fmt.Println(conv.ID == ids[0], conv.Events[0].Role, latest.Location(), !latest.Before(conv.CreatedAt))
	// Output: true user UTC true
}

func ExampleClient_ListConversations() {
	baseURL, key, _, stop := exampleServer()
	defer stop()
	c, err := client.New(key, client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	first, err := c.ListConversations(ctx, client.ListOptions{Limit: 50})
	if err != nil {
		log.Fatal(err)
	}
	// The next page, older: the first page's NextCursor, in Direction Older.
	second, err := c.ListConversations(ctx, client.ListOptions{Limit: 50, Cursor: first.NextCursor, Direction: client.Older})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(first.Conversations), first.HasMore, len(second.Conversations), second.HasMore)
	// Output: 50 true 10 false
}

// A Conversation reads the API's JSON, times in epoch milliseconds, into Go types, and
// writes it back the same.
func ExampleConversation() {
	const fromAPI = `{"channel":"chat","createdAt":1764590004000,"events":[{"approved":null,"attachments":[],` +
		`"createdAt":1764590004000,"csatRating":null,"externalCreatedAt":1764590001000,"externalId":"ZD-7",` +
		`"feedback":null,"id":"6e8c2b4f-3a5d-4f9b-8c7e-2d3f4a5b6c7d","message":"How do I reset my password?",` +
		`"resolved":null,"role":"user","tags":[],"type":"message","usedArticles":[]}],"externalId":null,` +
		`"hasFeedback":false,"id":"7f0c3f52-9d6e-4d43-a7a1-3f5c2b8e9d10","resolved":true,"source":"widget",` +
		`"status":"Resolved","subjectPreview":"How do I reset my password?","url":null,"usedArticles":[],` +
		`"usedSubfolders":[],"userAttributes":{"plan":"pro"}}`
	var conv client.Conversation
	if err := json.Unmarshal([]byte(fromAPI), &conv); err != nil {
		log.Fatal(err)
	}
	e := conv.Events[0]
	fmt.Println(conv.CreatedAt)
	fmt.Println(e.Role == client.EventRoleUser, *e.Message, e.ExternalCreatedAt.Format(time.RFC3339))
	back, err := json.Marshal(conv)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(back) == fromAPI)
	// Output:
	// 2025-12-01 11:53:24 +0000 UTC
	// true How do I reset my password? 2025-12-01T11:53:21Z
	// true
}

func ExampleClient_DeleteConversations() {
	baseURL, key, ids, stop := exampleServer()
	defer stop()
	c, err := client.New(key, client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}

	// Any number of ids; one of them does not exist.
	res, err := c.DeleteConversations(context.Background(), append(ids, uuid.New()), client.BulkOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(len(res.Deleted), "deleted,", len(res.NotAccessible), "not accessible")
	// Output: 60 deleted, 1 not accessible
}

func ExampleAPIError() {
	baseURL, _, ids, stop := exampleServer()
	defer stop()
	c, err := client.New("fini_not-a-real-key", client.WithBaseURL(baseURL))
	if err != nil {
		log.Fatal(err)
	}

	err = c.DeleteConversation(context.Background(), ids[0])
	var apiErr *client.APIError
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Message, errors.Is(err, client.ErrUnauthorized))
	}
	// Output: 401 Invalid or revoked API key true
}
