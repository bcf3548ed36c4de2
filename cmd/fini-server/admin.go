package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/fini-oss/conversations/openapi"
	"github.com/fini-oss/conversations/server/apikey"
	"github.com/fini-oss/conversations/server/importer"
	"github.com/fini-oss/conversations/server/retention"
	"github.com/fini-oss/conversations/server/store"
)

func (a *app) workspaceCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "workspace", Short: "Manage workspaces"}
	cmd.AddCommand(&cobra.Command{
		Use:   "create NAME",
		Short: "Create a workspace and print its id alone on stdout",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := store.Workspace{ID: uuid.New(), Name: args[0], CreatedAt: time.Now().UnixMilli()}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				if err := s.CreateWorkspace(cmd.Context(), w); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, w.ID)
				return nil
			})
		},
	})
	return cmd
}

func parseUUID(what, s string) (uuid.UUID, error) {
	id, err := openapi.ParseUUID(s)
	if err != nil {
		return uuid.Nil, fmt.Errorf("%s %q is not a UUID", what, s)
	}
	return id, nil
}

func (a *app) keyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "key", Short: "Manage API keys"}

	var workspace, scopes, name string
	create := &cobra.Command{
		Use:   "create --workspace ID --scopes read,write [--name NAME]",
		Short: "Create a key and print it alone on stdout, the only time it is shown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := parseUUID("--workspace", workspace)
			if err != nil {
				return err
			}
			valid, err := openapi.Scopes()
			if err != nil {
				return err
			}
			var list []string
			for s := range strings.SplitSeq(scopes, ",") {
				s = strings.TrimSpace(s)
				if !slices.Contains(valid, s) {
					return fmt.Errorf("--scopes: %q is not one of %s", s, strings.Join(valid, ", "))
				}
				if !slices.Contains(list, s) {
					list = append(list, s)
				}
			}
			key, hash, err := apikey.Generate()
			if err != nil {
				return err
			}
			k := store.APIKey{ID: uuid.New(), WorkspaceID: ws, Name: name, Scopes: list, Hash: hash, CreatedAt: time.Now().UnixMilli()}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				if err := s.CreateAPIKey(cmd.Context(), k); errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("workspace %s does not exist", ws)
				} else if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, key)
				return nil
			})
		},
	}
	create.Flags().StringVar(&workspace, "workspace", "", "workspace id (required)")
	create.Flags().StringVar(&scopes, "scopes", "", "comma-separated scopes: read, write (required)")
	create.Flags().StringVar(&name, "name", "", "a name to recognise the key by")
	_ = create.MarkFlagRequired("workspace")
	_ = create.MarkFlagRequired("scopes")

	var listWorkspace string
	list := &cobra.Command{
		Use:   "list --workspace ID",
		Short: "List a workspace's keys (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ws, err := parseUUID("--workspace", listWorkspace)
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				keys, err := s.ListAPIKeys(cmd.Context(), ws)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tREVOKED\tLAST USED")
				for _, k := range keys {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, strings.Join(k.Scopes, ","),
						ms(&k.CreatedAt), ms(k.RevokedAt), ms(k.LastUsedAt))
				}
				return tw.Flush()
			})
		},
	}
	list.Flags().StringVar(&listWorkspace, "workspace", "", "workspace id (required)")
	_ = list.MarkFlagRequired("workspace")

	cmd.AddCommand(create, list, a.revokeCmd())
	return cmd
}

// recordTime is how the deletion record's times are printed: RFC 3339 to the millisecond.
const recordTime = "2006-01-02T15:04:05.000Z07:00"

func ms(v *int64) string {
	if v == nil {
		return "-"
	}
	return time.UnixMilli(*v).UTC().Format(time.RFC3339)
}

// errImportConflict is import's error when a conversation of the input is already stored.
var errImportConflict = errors.New("nothing imported: a conversation of the input already exists in this database " +
	"(each id is imported once); remove those already imported and import again")

func (a *app) importCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "import --workspace ID FILE|-",
		Short: "Import conversations from JSON Lines, all or nothing, and print the count",
		Long: `Each line is a PublicConversation exactly as Get returns it, plus an optional botId.
Every line is validated against the spec; a bad line is reported with its number and
nothing is imported. FILE - reads standard input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := parseUUID("--workspace", workspace)
			if err != nil {
				return err
			}
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			im, err := importer.New()
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				n, err := im.Import(cmd.Context(), s, ws, in)
				switch {
				case errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("workspace %s does not exist", ws)
				case errors.Is(err, store.ErrConflict):
					// The database's own words name a constraint, not the line or the id.
					return errImportConflict
				case err != nil:
					return fmt.Errorf("nothing imported: %w", err)
				}
				fmt.Fprintln(a.stdout, n)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", "workspace id (required)")
	_ = cmd.MarkFlagRequired("workspace")
	return cmd
}

func (a *app) restoreCmd() *cobra.Command {
	var workspace string
	cmd := &cobra.Command{
		Use:   "restore --workspace ID CONVERSATION_ID",
		Short: "Undo the soft delete of a conversation (recorded in the deletion record)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := parseUUID("--workspace", workspace)
			if err != nil {
				return err
			}
			id, err := parseUUID("conversation id", args[0])
			if err != nil {
				return err
			}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				err := s.RestoreConversation(cmd.Context(), ws, id, store.Operator(store.OpRestore))
				var purged *store.PurgedError
				switch {
				case errors.As(err, &purged):
					return fmt.Errorf("conversation %s cannot be restored: it was purged at %s and its content is gone for good; "+
						"its deletion record remains (fini-server audit --workspace %s --conversation %s)",
						id, time.UnixMilli(purged.At).UTC().Format(recordTime), ws, id)
				case errors.Is(err, store.ErrNotFound):
					return fmt.Errorf("workspace %s has no deleted conversation %s (never existed, live, or purged longer ago than deletion records are kept)", ws, id)
				case err != nil:
					return err
				}
				fmt.Fprintf(a.stderr, "conversation %s restored\n", id)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&workspace, "workspace", "", "workspace id (required)")
	_ = cmd.MarkFlagRequired("workspace")
	return cmd
}

func (a *app) purgeCmd() *cobra.Command {
	var olderThan duration
	cmd := &cobra.Command{
		Use:   "purge --older-than 30d",
		Short: "Hard-delete conversations soft-deleted longer ago than --older-than; print the count",
		Long: `Hard-delete the conversations soft-deleted longer ago than --older-than (720h, 30d...),
as the server's --purge-after does: in transactions of a few hundred, each conversation
recorded in the deletion record, one process purging at a time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if olderThan <= 0 {
				return errors.New("--older-than must be positive, e.g. 30d or 720h")
			}
			return a.withStore(cmd.Context(), func(s store.Store) error {
				n, err := s.PurgeDeleted(cmd.Context(), time.Now().Add(-time.Duration(olderThan)).UnixMilli(), retention.Batch)
				if errors.Is(err, store.ErrPurgeLocked) {
					return fmt.Errorf("another process (a server's purge) is purging this database right now; %d purged here, run again later", n)
				}
				if err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, n)
				return nil
			})
		},
	}
	cmd.Flags().Var(&olderThan, "older-than", "retention, e.g. 30d or 720h (required)")
	_ = cmd.MarkFlagRequired("older-than")
	return cmd
}
