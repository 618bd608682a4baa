// Command wanjia-load is `make load`: a load and fault drill of the real
// stack (deploy/OPERATIONS.md, "Capacity"). It makes a database of its own
// on the PostgreSQL server of WANJIA_DATABASE_URL, starts a redis-server of
// its own on a free port (the shared Redis is never touched), runs
// `wanjia serve`, `worker` and `scheduler` twice each, provisions the
// communities and their households through `tenants apply` and the API's
// imports, and replays a working day's mix with vegeta while it injects
// faults. It then checks that nothing was lost or doubled, prints the
// latencies per kind of request and a verdict, stops all it started and
// drops its database.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

func main() {
	cfg := Config{}
	var faults, pgctl string
	flag.StringVar(&cfg.AdminURL, "database-url", envOr("WANJIA_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"),
		"a superuser's URL of the PostgreSQL server the drill makes its database on (env WANJIA_DATABASE_URL)")
	flag.StringVar(&cfg.Bin, "wanjia", "", "the wanjia binary (default: built into a temporary directory)")
	flag.IntVar(&cfg.Communities, "communities", 20, "communities (10 to a sub-district)")
	flag.IntVar(&cfg.Households, "households", 60000, "households in all, imported through the API")
	flag.IntVar(&cfg.Residents, "residents", 25, "residents under isolation in each community (check-ins by link and SMS)")
	flag.IntVar(&cfg.Messages, "messages", 20000, "the day's notices, sent in waves (one a window)")
	flag.DurationVar(&cfg.Duration, "duration", 2*time.Minute, "how long the mix runs (cut into a baseline window and one per fault)")
	flag.Float64Var(&cfg.Rate, "rate", 1, "multiplies the mix's rates (26 requests a second at 1)")
	flag.StringVar(&faults, "faults", "worker-kill,redis-restart,redis-flush,api-kill,pg-terminate",
		"faults to inject, comma-separated, from "+strings.Join(allFaults, ",")+"; none: \"\". pg-stop stops the whole PostgreSQL server for -pg-stop: never on a shared server")
	flag.DurationVar(&cfg.PGStop, "pg-stop", 100*time.Second, "how long the pg-stop fault keeps PostgreSQL down")
	flag.StringVar(&pgctl, "pg-ctl", "", "pg-stop's command, to which stop and start are appended (e.g. \"pg_ctlcluster 16 main\")")
	flag.BoolVar(&cfg.OwnPG, "own-pg", false, "run on a PostgreSQL cluster of the drill's own (initdb in a temporary directory, a free port; "+
		"removed at the end), which pg-stop stops with pg_ctl -m fast: the way to run pg-stop on a machine whose server others use")
	flag.DurationVar(&cfg.Settle, "settle", 4*time.Minute, "how long the stack may take to finish sending after the mix")
	flag.BoolVar(&cfg.KeepDir, "keep", false, "keep the parts' logs")
	flag.Parse()
	for _, f := range strings.Split(faults, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if !known(f) {
			fmt.Fprintf(os.Stderr, "load: unknown fault %q (want %s)\n", f, strings.Join(allFaults, ", "))
			os.Exit(2)
		}
		cfg.Faults = append(cfg.Faults, f)
	}
	cfg.PGCtl = strings.Fields(pgctl)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		stop()
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg Config) error {
	if err := cfg.check(); err != nil {
		return err
	}
	if cfg.OwnPG {
		// The cluster goes when run returns: at the end, on a failure, and
		// on Ctrl-C (the context ends, the drill unwinds to here).
		pg, err := StartOwnPG(ctx, func(f string, a ...any) { fmt.Printf("load: "+f+"\n", a...) })
		if err != nil {
			return err
		}
		defer pg.Close()
		cfg.AdminURL, cfg.ownPG = pg.AdminURL(), pg
	}
	if cfg.Bin == "" {
		dir, err := os.MkdirTemp("", "wanjia-load-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.Bin = filepath.Join(dir, "wanjia")
		fmt.Println("load: building wanjia")
		if out, err := exec.CommandContext(ctx, "go", "build", "-o", cfg.Bin, "./cmd/wanjia").CombinedOutput(); err != nil {
			return fmt.Errorf("build wanjia: %w\n%s", err, out)
		}
	}
	return Run(ctx, cfg)
}

func (c Config) check() error {
	var errs []error
	if c.Communities < 1 || c.Households < c.Communities || c.Messages < 0 || c.Residents < 1 || c.Residents > 500 {
		errs = append(errs, errors.New("need -communities ≥ 1, -households ≥ communities, -residents 1..500, -messages ≥ 0"))
	}
	if c.Duration < 10*time.Second {
		errs = append(errs, errors.New("-duration must be at least 10s"))
	}
	if c.OwnPG && len(c.PGCtl) > 0 {
		errs = append(errs, errors.New("-own-pg and -pg-ctl: pg-stop stops the drill's own cluster with -own-pg; give one or the other"))
	}
	for _, f := range c.Faults {
		if f == "pg-stop" && len(c.PGCtl) == 0 && !c.OwnPG {
			errs = append(errs, errors.New("the pg-stop fault needs -own-pg, or -pg-ctl on a server of the drill's alone (it stops the whole server: never on one that others use)"))
		}
	}
	return errors.Join(errs...)
}

func known(f string) bool {
	for _, a := range allFaults {
		if a == f {
			return true
		}
	}
	return false
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
