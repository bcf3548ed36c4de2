package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/server/demo"
)

func genCmd() *cobra.Command {
	var n int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "gen --n N > conversations.jsonl",
		Short: "Write N demo conversations as JSON Lines (ids to stderr with --ids)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			w := bufio.NewWriterSize(os.Stdout, 1<<20)
			enc := json.NewEncoder(w)
			rnd := rand.New(rand.NewPCG(seed, seed+1))
			now := time.Now()
			for range n {
				if err := enc.Encode(demo.Conversation(now, rnd)); err != nil {
					return fmt.Errorf("gen: %w", err)
				}
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&n, "n", 1000, "how many conversations")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	return cmd
}
