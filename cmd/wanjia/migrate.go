package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/store"
)

func migrateCmd(cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply, roll back or list database migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fmt.Errorf("migrate needs one of: up, down, status")
		},
	}
	open := func(cmd *cobra.Command) (*store.DB, error) {
		return store.Open(cmd.Context(), store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir})
	}
	// apply runs Migrate or Rollback and reports what it did.
	apply := func(use, short, verb, none string, op func(*store.DB, context.Context) ([]string, error)) *cobra.Command {
		return &cobra.Command{
			Use:   use,
			Short: short,
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				db, err := open(cmd)
				if err != nil {
					return err
				}
				defer db.Close()
				done, err := op(db, cmd.Context())
				if err != nil {
					return err
				}
				if len(done) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), none)
				}
				for _, n := range done {
					fmt.Fprintln(cmd.OutOrStdout(), verb, n)
				}
				return nil
			},
		}
	}
	cmd.AddCommand(
		apply("up", "Apply every pending migration", "applied", "nothing to apply: the schema is up to date", (*store.DB).Migrate),
		apply("down", "Roll back the last group of migrations", "rolled back", "nothing to roll back", (*store.DB).Rollback),
		&cobra.Command{
			Use:   "status",
			Short: "List migrations and whether each is applied",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				db, err := open(cmd)
				if err != nil {
					return err
				}
				defer db.Close()
				st, err := db.Status(cmd.Context())
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "MIGRATION\tSTATUS")
				for _, s := range st {
					state := "pending"
					if s.Applied {
						state = "applied"
					}
					fmt.Fprintf(w, "%s_%s\t%s\n", s.Name, s.Comment, state)
				}
				return w.Flush()
			},
		})
	return cmd
}
