package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
)

// demoCmd loads the Qixing demo district (orgs, users, synthetic roster)
// into the configured database: real mode's way to what `wanjia all
// --demo` does in one process. It is idempotent.
func demoCmd(cfg *config.Config) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Load the Qixing demo district, its users (WANJIA_DEMO_PASSWORD) and roster into the database (idempotent)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := app.Open(cmd.Context(), cfg, app.Parts{}, newLogger(cfg))
			if err != nil {
				return err
			}
			defer a.Close()
			if err := a.ApplyDemo(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "demo district loaded: qixing (yucai, wangcheng)")
			return nil
		},
	}
}
