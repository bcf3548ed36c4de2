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
	var idsFile string
	cmd := &cobra.Command{
		Use:   "gen --n N > conversations.jsonl",
		Short: "Write N demo conversations as JSON Lines",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			w := bufio.NewWriterSize(os.Stdout, 1<<20)
			enc := json.NewEncoder(w)
			var ids *bufio.Writer
			if idsFile != "" {
				f, err := os.Create(idsFile)
				if err != nil {
					return err
				}
				defer f.Close()
				ids = bufio.NewWriter(f)
				defer ids.Flush()
			}
			rnd := rand.New(rand.NewPCG(seed, seed+1))
			now := time.Now()
			for range n {
				c := demo.Conversation(now, rnd)
				if err := enc.Encode(c); err != nil {
					return fmt.Errorf("gen: %w", err)
				}
				if ids != nil {
					fmt.Fprintln(ids, c.ID)
				}
			}
			return w.Flush()
		},
	}
	cmd.Flags().IntVar(&n, "n", 1000, "how many conversations")
	cmd.Flags().Uint64Var(&seed, "seed", 1, "random seed")
	cmd.Flags().StringVar(&idsFile, "ids", "", "also write the ids to this file, one a line")
	return cmd
}
