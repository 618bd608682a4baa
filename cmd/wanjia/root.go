package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/observe"
)

func newRootCmd() *cobra.Command {
	cfg := &config.Config{}
	var demo bool
	root := &cobra.Command{
		Use:           "wanjia",
		Short:         "万家 wanjia: epidemic-prevention work for community offices",
		Long:          "万家 wanjia: epidemic-prevention work for community offices and the sub-district offices above them.\nWith no subcommand, runs `wanjia all`.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return cfg.Validate()
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runParts(cmd.Context(), cfg, app.All, demo)
		},
	}
	cfg.Bind(root.PersistentFlags())
	root.Flags().BoolVar(&demo, "demo", false, "provision the Qixing demo district and its users")
	all := partCmd("all", "Run the api, worker and scheduler in one process (applies pending migrations)", cfg, app.All)
	all.Flags().BoolVar(&demo, "demo", false, "provision the Qixing demo district and its users")
	root.AddCommand(
		all,
		partCmd("serve", "Run the HTTP API", cfg, app.Parts{API: true}),
		partCmd("worker", "Run the task worker", cfg, app.Parts{Worker: true}),
		partCmd("scheduler", "Run the periodic-task scheduler", cfg, app.Parts{Scheduler: true}),
		migrateCmd(cfg),
		tenantsCmd(cfg),
		demoCmd(cfg),
		versionCmd(),
	)
	return root
}

func partCmd(name, short string, cfg *config.Config, parts app.Parts) *cobra.Command {
	c := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  cobra.NoArgs,
	}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		demo := false
		if f := c.Flags().Lookup("demo"); f != nil {
			demo = f.Value.String() == "true"
		}
		return runParts(cmd.Context(), cfg, parts, demo)
	}
	return c
}

func newLogger(cfg *config.Config) *slog.Logger {
	level, _ := cfg.Level() // validated already
	l := observe.NewLogger(os.Stderr, cfg.JSONLogs(), level)
	slog.SetDefault(l)
	return l
}

func runParts(ctx context.Context, cfg *config.Config, parts app.Parts, demo bool) error {
	log := newLogger(cfg)
	log.Info("wanjia starting", "version", versionString(), "parts", parts, "config", cfg)

	// Listen before anything else so that a port in use fails fast.
	var ln, mln net.Listener
	closeAll := func() {
		for _, l := range []net.Listener{ln, mln} {
			if l != nil {
				_ = l.Close()
			}
		}
	}
	if parts.API {
		var err error
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
		}
	}
	if cfg.MetricsAddr != "" && parts != (app.Parts{}) {
		var err error
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			closeAll()
			return fmt.Errorf("listen on %s (WANJIA_METRICS_ADDR): %w", cfg.MetricsAddr, err)
		}
	}
	a, err := app.Open(ctx, cfg, parts, log)
	if err != nil {
		closeAll()
		return err
	}
	defer func() { _ = a.Close() }()
	a.MetricsListener = mln
	if demo {
		if err := a.ApplyDemo(ctx); err != nil {
			closeAll()
			return err
		}
	}
	return a.Run(ctx, ln)
}

func versionString() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", ""
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					dirty = "-dirty"
				}
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			return "dev-" + rev + dirty
		}
	}
	return "dev"
}

func versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "version",
		Short:             "Print the version",
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return nil },
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "wanjia", versionString())
		},
	}
}
