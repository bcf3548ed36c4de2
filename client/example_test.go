package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"

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
