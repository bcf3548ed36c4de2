// Command client is the Go client's example as a program: it lists the five newest
// conversations of the key's workspace and, given a conversation id, deletes it.
//
//	FINI_API_KEY=fini_... FINI_BASE_URL=http://127.0.0.1:8080 go run ./examples/client [ID]
//
// Without FINI_BASE_URL it calls Fini's production API.
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/google/uuid"

	"github.com/fini-oss/conversations/client"
)

func main() {
	var opts []client.Option
	if base := os.Getenv("FINI_BASE_URL"); base != "" {
		opts = append(opts, client.WithBaseURL(base))
	}
	c, err := client.New(os.Getenv("FINI_API_KEY"), opts...)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	page, err := c.ListConversations(ctx, client.ListOptions{Limit: 5})
	if err != nil {
		log.Fatal(err)
	}
	for _, conv := range page.Conversations {
		fmt.Println(conv.ID, conv.CreatedAt.Format(time.RFC3339), conv.Source, len(conv.Events), "events")
	}

	if len(os.Args) > 1 {
		id, err := uuid.Parse(os.Args[1])
		if err != nil {
			log.Fatalf("%q is not a conversation id", os.Args[1])
		}
		if err := c.DeleteConversation(ctx, id); err != nil {
			log.Fatal(err)
		}
		fmt.Println("deleted", id)
	}
}
