package main

import (
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
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			applied, err := db.Migrate(cmd.Context())
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to apply: the schema is up to date")
			}
			for _, n := range applied {
				fmt.Fprintln(cmd.OutOrStdout(), "applied", n)
			}
			return nil
		},
	}, &cobra.Command{
		Use:   "down",
		Short: "Roll back the last group of migrations",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := open(cmd)
			if err != nil {
				return err
			}
			defer db.Close()
			rolled, err := db.Rollback(cmd.Context())
			if err != nil {
				return err
			}
			if len(rolled) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing to roll back")
			}
			for _, n := range rolled {
				fmt.Fprintln(cmd.OutOrStdout(), "rolled back", n)
			}
			return nil
		},
	}, &cobra.Command{
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
