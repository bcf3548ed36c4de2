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
var errNoSuchKey = errors.New("no such key: give the key's id (from key list), or - and the key on standard input")

// errKeyOnCommandLine refuses a key given as an argument, where ps and the shell's history
// show it.
var errKeyOnCommandLine = errors.New("a key on the command line is shown to every user of the machine (ps) and kept in shell history: " +
	"give the key's id (from key list), or - and the key on standard input (fini-server key revoke - < key.txt); " +
	"if this was a real key, treat it as exposed")

func (a *app) revokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID|-",
		Short: "Revoke a key, given its id, or - to read the key from stdin",
		Long: `Revoke a key: it fails from the next request on, on every replica, and a write in
flight with it changes nothing.

Give the key's id (the ID column of key list, in any letter case), or - to read the full
key from the first line of standard input. The key itself is never an argument, where ps
and the shell's history would show it:

  fini-server key revoke - < key.txt`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			given, fromStdin := args[0], args[0] == "-"
			if fromStdin {
				var err error
				if given, err = firstLine(cmd.InOrStdin()); err != nil {
					return err
				}
			}
			id, err := openapi.ParseUUID(given)
			switch {
			case err == nil:
			case !fromStdin && strings.HasPrefix(given, apikey.Prefix):
				return errKeyOnCommandLine
			case !fromStdin:
				return errNoSuchKey
			}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				if fromStdin && err != nil {
					if id, err = keyID(cmd.Context(), s, given); err != nil {
						return err
					}
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

// keyID returns the id of the key given in full.
func keyID(ctx context.Context, s store.Keys, key string) (uuid.UUID, error) {
	k, err := s.APIKeyByHash(ctx, apikey.Hash(key))
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
