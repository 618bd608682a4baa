// Package health answers whether this process and its dependencies work:
// liveness, readiness (database and Redis), and the record of periodic task
// runs that proves the scheduler → queue → worker path end to end.
package health

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/uptrace/bun"
)

// Pinger is a dependency that can say whether it answers.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Run is the last run of one periodic task.
type Run struct {
	bun.BaseModel `bun:"table:periodic_runs"`
	Name          string    `bun:"name,pk" json:"name"`
	Slot          time.Time `bun:"slot" json:"slot"`
	RanAt         time.Time `bun:"ran_at" json:"ran_at"`
	Runs          int64     `bun:"runs" json:"runs"`
}

// Checker checks dependencies and keeps the periodic-run records.
type Checker struct {
	// Logger receives what a failed check said (addresses, users, database
	// names); nil: slog.Default(). The probe's answer names only the
	// dependency, since /readyz is open to anyone who reaches the port.
	Logger  *slog.Logger
	db      bun.IDB
	deps    map[string]Pinger
	order   []string
	timeout time.Duration
}

// New returns a Checker over db (which holds periodic_runs) and the named
// dependencies, checked in the order given.
func New(db bun.IDB, deps ...Dep) *Checker {
	c := &Checker{db: db, deps: map[string]Pinger{}, timeout: 2 * time.Second}
	for _, d := range deps {
		c.deps[d.Name] = d.Pinger
		c.order = append(c.order, d.Name)
	}
	return c
}

// Dep names a dependency.
type Dep struct {
	Name   string
	Pinger Pinger
}

// Report is the outcome of a readiness check.
type Report struct {
	Ready     bool              `json:"-"`
	Checks    map[string]string `json:"checks"`
	Scheduler *Run              `json:"scheduler,omitempty"`
}

// Failed lists the dependencies that did not answer.
func (r Report) Failed() []string {
	var out []string
	for name, v := range r.Checks {
		if v != "ok" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Check pings every dependency concurrently, each within the timeout, so a
// hung Redis cannot make the probe itself time out.
func (c *Checker) Check(ctx context.Context) Report {
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, len(c.order))
	for _, name := range c.order {
		go func(name string, p Pinger) {
			cctx, cancel := context.WithTimeout(ctx, c.timeout)
			defer cancel()
			ch <- result{name, p.Ping(cctx)}
		}(name, c.deps[name])
	}
	rep := Report{Ready: true, Checks: map[string]string{}}
	for range c.order {
		r := <-ch
		if r.err != nil {
			rep.Ready = false
			rep.Checks[r.name] = CheckFailed
			c.logger().Warn("readiness check failed", "dependency", r.name, "err", r.err)
		} else {
			rep.Checks[r.name] = "ok"
		}
	}
	if rep.Checks["database"] == "ok" {
		if run, err := c.LastRun(ctx, HeartbeatName); err == nil {
			rep.Scheduler = run
		}
	}
	return rep
}

// CheckFailed is a failed dependency's entry in Report.Checks: no more
// than that, whatever the error said.
const CheckFailed = "unavailable"

func (c *Checker) logger() *slog.Logger {
	if c.Logger != nil {
		return c.Logger
	}
	return slog.Default()
}

// HeartbeatName is the periodic task whose last run /readyz shows.
const HeartbeatName = "heartbeat"

// RecordRun notes that the periodic task name ran for slot. Runs for an
// older slot than the one recorded do not move it back.
func (c *Checker) RecordRun(ctx context.Context, name string, slot time.Time) error {
	_, err := c.db.NewRaw(`INSERT INTO periodic_runs (name, slot, ran_at, runs) VALUES (?, ?, ?, 1)
		ON CONFLICT (name) DO UPDATE SET slot = EXCLUDED.slot, ran_at = EXCLUDED.ran_at, runs = periodic_runs.runs + 1
		WHERE periodic_runs.slot <= EXCLUDED.slot`, name, slot.UTC(), time.Now().UTC()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("record periodic run %s: %w", name, err)
	}
	return nil
}

// ErrNoRun means the periodic task has not run yet.
var ErrNoRun = errors.New("no run recorded")

// LastRun returns the last recorded run of name.
func (c *Checker) LastRun(ctx context.Context, name string) (*Run, error) {
	run := new(Run)
	err := c.db.NewSelect().Model(run).Where("name = ?", name).Scan(ctx)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNoRun
		}
		return nil, fmt.Errorf("last run of %s: %w", name, err)
	}
	return run, nil
}
