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
			return fmt.Errorf("migrate needs one of: up, down, status, partitions")
		},
	}
	open := func(cmd *cobra.Command) (*store.DB, error) {
		return store.Open(cmd.Context(), store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir,
			PartitionMonthsAhead: cfg.PartitionMonthsAhead})
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
			Use:   "partitions",
			Short: "Make the months ahead of the partitioned tables and drop those past the platform's maximum (PostgreSQL; run monthly as the tables' owner)",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				db, err := open(cmd)
				if err != nil {
					return err
				}
				defer db.Close()
				if db.Flavor() != store.Postgres {
					fmt.Fprintln(cmd.OutOrStdout(), "nothing to do: the embedded SQLite database is not partitioned")
					return nil
				}
				// Partitions of a schema that is behind would be of the
				// wrong tables: migrate first.
				if err := db.CheckMigrated(cmd.Context()); err != nil {
					return err
				}
				rep, err := db.MaintainPartitions(cmd.Context(), store.PartitionPolicy{
					Ahead: cfg.PartitionMonthsAhead, KeepYears: cfg.PartitionKeepYears, Drop: true})
				for _, p := range rep.Created {
					fmt.Fprintln(cmd.OutOrStdout(), "created", p)
				}
				for _, p := range rep.Dropped {
					fmt.Fprintln(cmd.OutOrStdout(), "dropped", p)
				}
				for _, p := range rep.Analyzed {
					fmt.Fprintln(cmd.OutOrStdout(), "analyzed", p)
				}
				if err != nil {
					return err
				}
				if len(rep.Created)+len(rep.Dropped) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "nothing to do: every month is there")
				}
				return nil
			},
		},
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
