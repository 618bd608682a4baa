package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/tenants"
)

func tenantsCmd(cfg *config.Config) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tenants",
		Short: "Manage tenants from declarative YAML files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fmt.Errorf("tenants needs a subcommand: apply DIR")
		},
	}
	var password string
	apply := &cobra.Command{
		Use:   "apply DIR",
		Short: "Create or update the sub-district and communities declared in DIR (idempotent)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			info, err := os.Stat(args[0])
			if err != nil || !info.IsDir() {
				return fmt.Errorf("%s is not a directory", args[0])
			}
			set, err := tenants.Load(os.DirFS(args[0]))
			if err != nil {
				return err
			}
			log := newLogger(cfg)
			a, err := app.Open(cmd.Context(), cfg, app.Parts{}, log)
			if err != nil {
				return err
			}
			defer a.Close()
			res, err := tenants.Apply(cmd.Context(), a.Orgs, set, tenants.Options{Password: password})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(res.Changes) == 0 {
				fmt.Fprintln(out, "no changes: the database already matches", args[0])
			}
			for _, c := range res.Changes {
				fmt.Fprintln(out, "applied", c)
			}
			for user, pw := range res.Passwords {
				fmt.Fprintf(out, "new user %s: password %s (shown once)\n", user, pw)
			}
			return nil
		},
	}
	apply.Flags().StringVar(&password, "password", "", "password for new users (default: a random one each, printed once)")
	cmd.AddCommand(apply)
	return cmd
}
