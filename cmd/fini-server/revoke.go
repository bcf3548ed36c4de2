package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/store"
)

// errNoSuchKey never repeats what was given: it may be a key, mistyped or not.
var errNoSuchKey = errors.New("no such key: give the key's id (from key list), the full key, or - to read it from standard input")

func (a *app) revokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID|KEY|-",
		Short: "Revoke a key, given its id, the full key, or - to read the key from stdin",
		Long: `Revoke a key: it fails from the next request on, on every replica.

Give the key's id (the ID column of key list, in any letter case), the full key, or - to
read the full key from the first line of standard input, which keeps it out of the shell's
history:

  fini-server key revoke - < key.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			given := args[0]
			if given == "-" {
				var err error
				if given, err = firstLine(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				id, err := keyID(cmd.Context(), s, given)
				if err != nil {
					return err
				}
				if err := s.RevokeAPIKey(cmd.Context(), id, time.Now().UnixMilli()); errors.Is(err, store.ErrNotFound) {
					return errNoSuchKey
				} else if err != nil {
					return fmt.Errorf("revoke key %s: %w", id, err)
				}
				fmt.Fprintf(a.stderr, "key %s revoked\n", id)
				return nil
			})
		},
	}
}

// keyID returns the id of the key given by its id or as the full key.
func keyID(ctx context.Context, s store.Store, given string) (uuid.UUID, error) {
	if id, err := openapi.ParseUUID(given); err == nil {
		return id, nil
	}
	k, err := s.APIKeyByHash(ctx, apikey.Hash(given))
	if errors.Is(err, store.ErrNotFound) {
		return uuid.Nil, errNoSuchKey
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("look up the key: %w", err)
	}
	return k.ID, nil
}

// firstLine returns the first line of r with the white space around it trimmed.
func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the key from standard input: %w", err)
	}
	if line = strings.TrimSpace(line); line == "" {
		return "", errors.New("no key on standard input: give the key on its first line")
	}
	return line, nil
}
