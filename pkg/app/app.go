// Package app is the composition root: it opens the database and Redis,
// builds every service, mounts every HTTP route and task handler, and runs
// the api, worker and scheduler parts of one process. cmd/wanjia only parses
// the command line and calls it; end-to-end tests drive it directly.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/go-redis/redis_rate/v10"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sync/errgroup"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authn"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/care"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/console"
	"github.com/wanjia/wanjia/pkg/directives"
	"github.com/wanjia/wanjia/pkg/health"
	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/logs"
	"github.com/wanjia/wanjia/pkg/observe"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/reports"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/screening"
	"github.com/wanjia/wanjia/pkg/seal"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/tenants"
	"github.com/wanjia/wanjia/workers"
)

// Parts says which parts run in this process.
type Parts struct {
	API, Worker, Scheduler bool
}

// All is the single-process mode (`wanjia all`).
var All = Parts{API: true, Worker: true, Scheduler: true}

func (p Parts) all() bool { return p.API && p.Worker && p.Scheduler }

// App is one wired process.
type App struct {
	Config  *config.Config
	Logger  *slog.Logger
	Metrics *observe.Metrics
	DB      *store.DB
	Redis   *queue.Redis
	Queue   *asynq.Client
	Health  *health.Checker
	Engine  *gin.Engine

	Frame     *scope.Frame // the tenant scope every domain runs in
	Reads     *audit.Reads // reads of personal data, audited in batches
	Authn     *authn.Service
	Authz     *authz.Authorizer
	Watcher   *authz.Watcher
	Orgs      *orgs.Service
	Roster    *roster.Service
	Screening *screening.Service
	Isolation *isolation.Service
	Logs      *logs.Service
	Care      *care.Service
	Outreach  *outreach.Service

	// Directives come down the tree from the offices.
	Directives *directives.Service

	Reports *reports.Service
	// Tasks are every task handler and periodic task (see tasks.go).
	Tasks *queue.Tasks
	// OrgRoutes is the /api/v1/orgs/{org} group, where every route needs a
	// permission.
	OrgRoutes *authz.OrgRoutes
	// Console is the web console, an engine of its own beside Engine;
	// Handler is what the listener serves: the console's paths and the API.
	Console *console.Console
	Handler http.Handler
	// MetricsListener, when set before Run, serves /metrics; when nil and
	// WANJIA_METRICS_ADDR is set, Run listens there itself.
	MetricsListener net.Listener

	parts Parts
}

// Open connects to the database and Redis and wires the services. In the
// single-process mode it applies pending migrations; the separate parts
// refuse to start on a schema that is behind, naming what is pending.
func Open(ctx context.Context, cfg *config.Config, parts Parts, logger *slog.Logger) (*App, error) {
	// A command-line tool (Parts{}) may use a throwaway in-process Redis;
	// a long-running part alone may not, or its tasks would reach no one.
	if cfg.EmbeddedRedis() && parts != (Parts{}) && !parts.all() {
		return nil, errors.New("WANJIA_REDIS_URL is required here: the in-process Redis exists only inside `wanjia all`")
	}
	a := &App{Config: cfg, Logger: logger, Metrics: observe.NewMetrics(), parts: parts}
	ok := false
	defer func() {
		if !ok {
			_ = a.Close()
		}
	}()

	var err error
	a.DB, err = store.Open(ctx, store.Options{URL: cfg.DatabaseURL, DataDir: cfg.DataDir,
		StatementTimeout: cfg.DBStatementTimeout, LockTimeout: cfg.DBLockTimeout, IdleInTransactionTimeout: cfg.DBIdleInTransactionTimeout,
		PartitionMonthsAhead: cfg.PartitionMonthsAhead})
	if err != nil {
		return nil, err
	}
	if parts.all() {
		applied, err := a.DB.Migrate(ctx)
		if err != nil {
			return nil, err
		}
		if len(applied) > 0 {
			logger.Info("migrations applied", "migrations", applied)
		}
	} else if err := a.DB.CheckMigrated(ctx); err != nil {
		return nil, err
	}

	queue.RouteRedisLogs(logger)
	a.Redis, err = queue.OpenRedis(ctx, cfg.RedisURL)
	if err != nil {
		return nil, err
	}
	a.Queue = queue.NewClient(a.Redis)
	a.Metrics.Registry.MustRegister(queue.NewCollector(queue.NewInspector(a.Redis)))
	a.Health = health.New(a.DB, health.Dep{Name: "database", Pinger: a.DB}, health.Dep{Name: "redis", Pinger: a.Redis})
	a.Health.Logger = logger
	if err := a.wire(ctx); err != nil {
		return nil, err
	}
	a.Metrics.Registry.MustRegister(observe.NewPendingCollector(a.Roster.PendingWork, a.Outreach.PendingWork))
	proxies, err := cfg.Proxies()
	if err != nil {
		return nil, err
	}
	a.Engine = a.routes(proxies) // validated with the config
	a.Tasks = a.tasks()
	ok = true
	return a, nil
}

// wire builds the domain services.
func (a *App) wire(ctx context.Context) error {
	secret, err := a.Config.MasterKey()
	if err != nil {
		return err
	}
	keys, err := authn.LoadKeys(ctx, a.DB, authn.KeyOptions{Secret: secret, Rotation: a.Config.KeyRotation})
	if err != nil {
		return err
	}
	a.Authn = authn.NewService(a.DB, keys, authn.NewThrottle(a.Redis.Client), a.Logger)
	a.Metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "wanjia_login_throttled_total",
		Help: "Sign-in attempts refused by the throttle (the first of a window per address and username is also in the audit log).",
	}, func() float64 { return float64(a.Authn.ThrottledLogins()) }))
	if a.Authz, err = authz.New(ctx, orgs.Directory{DB: a.DB}); err != nil {
		return err
	}
	a.Watcher = authz.NewWatcher(a.Authz, a.Redis.Client, a.Logger)
	a.Frame = scope.New(a.DB)
	a.Orgs = &orgs.Service{DB: a.DB, Authz: a.Authz, Notify: a.Watcher, Frame: a.Frame, Argon2: authn.DefaultArgon2, Users: a.Authn}
	a.Reads = audit.NewReads(a.DB, audit.ReadsOptions{Logger: a.Logger})
	a.Metrics.Registry.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "wanjia_audit_reads_dropped_total",
		Help: "Audit entries of reads that could not be recorded (queue full or database down).",
	}, func() float64 { return float64(a.Reads.Dropped()) }))
	a.Screening = &screening.Service{DB: a.DB, Frame: a.Frame, Reads: a.Reads, Logger: a.Logger}
	a.Logs = &logs.Service{DB: a.DB, Frame: a.Frame}
	a.Care = &care.Service{DB: a.DB, Frame: a.Frame, Reads: a.Reads}
	a.Roster = &roster.Service{DB: a.DB, Frame: a.Frame, Queue: a.Queue, Reads: a.Reads, Logger: a.Logger, Households: a.Screening}
	if a.Outreach, err = a.outreach(secret); err != nil {
		return err
	}
	links, err := seal.New(secret, "wanjia isolation links v1")
	if err != nil {
		return err
	}
	a.Isolation = &isolation.Service{DB: a.DB, Frame: a.Frame, Reads: a.Reads, Notify: a.Outreach, Links: links,
		BaseURL: a.Config.BaseURL, Logger: a.Logger}
	// "36.8" in answer to the link's SMS is a check-in (in the reply's
	// own transaction).
	a.Outreach.Replies = a.Isolation
	a.Directives = &directives.Service{DB: a.DB, Frame: a.Frame, Notify: a.Outreach, Logger: a.Logger}
	a.Reports = &reports.Service{DB: a.DB, Frame: a.Frame, Authz: a.Authz, Notify: a.Outreach, Logger: a.Logger}
	a.Outreach.Keypad = a.Isolation
	a.Console = console.New(console.Deps{Logger: a.Logger, BaseURL: a.Config.BaseURL, Secret: secret,
		Authn: a.Authn, Authz: a.Authz, Orgs: a.Orgs, Pages: a.ConsolePages()})
	if a.parts.API {
		created, reset, generated, err := a.Orgs.EnsurePlatformAdmin(ctx, a.Config.AdminPassword)
		if err != nil {
			return fmt.Errorf("create the platform admin: %w", err)
		}
		if created {
			a.Logger.Info("platform admin created", "username", "admin")
		}
		if reset {
			a.Logger.Warn("platform admin's password set from WANJIA_ADMIN_PASSWORD", "username", "admin")
		}
		if generated != "" {
			// Shown once, on the terminal, never in the structured log.
			fmt.Fprintf(a.Config.Stdout(), "\n  platform admin: admin / %s  (shown once; set WANJIA_ADMIN_PASSWORD to choose)\n\n", generated)
		}
	}
	return nil
}

// embeddedConcurrency is the worker's concurrency on SQLite (embedded
// mode).
const embeddedConcurrency = 10

// outreach builds the outreach service on the configured provider (its
// settings and credentials read, as every setting, by pkg/config).
func (a *App) outreach(secret []byte) (*outreach.Service, error) {
	pcfg := a.Config.SMS()
	p, err := provider.New(a.Config.SMSProvider, pcfg, a.Logger)
	if err != nil {
		return nil, fmt.Errorf("sms provider: %w", err)
	}
	robots, err := seal.New(secret, "wanjia outreach robot keys v1")
	if err != nil {
		return nil, err
	}
	return &outreach.Service{DB: a.DB, Frame: a.Frame, Reads: a.Reads, Queue: a.Queue, Provider: p,
		Backlog: queue.Backlog(queue.NewInspector(a.Redis), queue.QueueMessages),
		Limiter: redis_rate.NewLimiter(a.Redis.Client),
		Rules: outreach.Rules{TenantRate: a.Config.SMSRate, DailyCap: a.Config.SMSDailyCap,
			VoiceTenantRate: a.Config.VoiceRate, VoiceDailyCap: a.Config.VoiceDailyCap},
		// WANJIA_WECOM_URL points at a proxy where offices reach WeCom
		// through one; the robot's key never leaves the store otherwise.
		Robots: robots, WeCom: provider.NewWeCom(a.Config.WeComURL, nil), Posts: a.Logs,
		Metrics: outreach.NewMetrics(a.Metrics.Registry), Logger: a.Logger,
		SignName: pcfg.AliyunSignName, BaseURL: a.Config.BaseURL}, nil
}

// demoRosters are the synthetic rosters of the demo communities, sized
// after the February 2020 report (DOMAIN.md).
var demoRosters = []struct {
	community string
	roster.DemoSpec
}{
	{"yucai", roster.DemoSpec{Seed: 2020_02_10, Grids: []string{"yucai-g1", "yucai-g2", "yucai-g3", "yucai-g4", "yucai-g5"},
		Buildings: 144, Households: 2100, ElderlyShare: 0.18, Street: "育才路"}},
	{"wangcheng", roster.DemoSpec{Seed: 2020_02_11, Grids: []string{"wangcheng-g1", "wangcheng-g2", "wangcheng-g3", "wangcheng-g4", "wangcheng-g5"},
		Buildings: 60, Households: 857, ElderlyShare: 0.30, Street: "王城路"}},
}

// demoHistories are the demo communities' screening and logs up to that
// report.
var demoHistories = []struct {
	community string
	screening.DemoHistory
	logs    logs.DemoLogs
	cases   isolation.DemoCases
	reports reports.DemoReports
}{{"yucai", screening.DemoYucai, logs.DemoYucai, isolation.DemoYucai, reports.DemoYucai},
	{"wangcheng", screening.DemoWangcheng, logs.DemoWangcheng, isolation.DemoCases{}, reports.DemoWangcheng}}

// ApplyDemo provisions the Qixing demo district and its users. It is
// idempotent: on a database that has it, nothing changes. Processes
// applying it at once on one PostgreSQL database (replicas of `wanjia all
// --demo` starting together) take turns under an advisory lock: the first
// seeds, the next find it seeded.
func (a *App) ApplyDemo(ctx context.Context) error {
	return a.DB.Exclusive(ctx, "demo", a.applyDemo)
}

func (a *App) applyDemo(ctx context.Context) error {
	set, err := tenants.Demo()
	if err != nil {
		return err
	}
	pw := a.Config.DemoPassword
	if pw == "" {
		pw = orgs.RandomPassword()
	}
	res, err := tenants.Apply(ctx, a.Orgs, set, tenants.Options{Password: pw})
	if err != nil {
		return fmt.Errorf("demo district: %w", err)
	}
	a.Logger.Info("demo district applied", "changes", len(res.Changes))
	if len(res.Changes) == 0 {
		// Another process may have made the district after this one loaded
		// its authorizer (Apply reloads it only on a change): the
		// communities are looked up in it below.
		if err := a.Authz.Reload(ctx); err != nil {
			return err
		}
	}
	seeded := false
	for _, spec := range demoRosters {
		o, ok := a.Authz.Org(spec.community)
		if !ok {
			return fmt.Errorf("demo: no community %s", spec.community)
		}
		cctx := scope.With(ctx, scope.Tenant{TenantID: o.ID})
		cctx = audit.InOrg(cctx, o.Slug, o.Path)
		h, r, err := a.Roster.SeedDemo(cctx, spec.DemoSpec)
		if err != nil {
			return fmt.Errorf("demo roster of %s: %w", spec.community, err)
		}
		if h > 0 {
			a.Logger.Info("demo roster added", "community", spec.community, "households", h, "residents", r)
			seeded = true
		}
	}
	// After the rosters: the history works on their households.
	for _, spec := range demoHistories {
		o, ok := a.Authz.Org(spec.community)
		if !ok {
			return fmt.Errorf("demo: no community %s", spec.community)
		}
		cctx := audit.InOrg(scope.With(ctx, scope.Tenant{TenantID: o.ID}), o.Slug, o.Path)
		added, err := a.Screening.SeedDemoHistory(cctx, spec.DemoHistory)
		if err != nil {
			return fmt.Errorf("demo screening history of %s: %w", spec.community, err)
		}
		if added {
			a.Logger.Info("demo screening history added", "community", spec.community)
			seeded = true
		}
		added, err = a.Logs.SeedDemoLogs(cctx, spec.logs)
		if err != nil {
			return fmt.Errorf("demo logs of %s: %w", spec.community, err)
		}
		if added {
			a.Logger.Info("demo logs added", "community", spec.community)
			seeded = true
		}
		// After the history: its returnees' follow-ups become cases.
		added, err = a.Isolation.SeedDemoCases(cctx, spec.cases)
		if err != nil {
			return fmt.Errorf("demo isolation cases of %s: %w", spec.community, err)
		}
		if added {
			a.Logger.Info("demo isolation cases added", "community", spec.community)
			seeded = true
		}
		// Last: the reports are computed from every domain's records.
		added, err = a.Reports.SeedDemoReports(cctx, spec.reports)
		if err != nil {
			return fmt.Errorf("demo reports of %s: %w", spec.community, err)
		}
		if added {
			a.Logger.Info("demo daily reports added", "community", spec.community)
			seeded = true
		}
	}
	if seeded {
		if err := a.DB.Optimize(ctx); err != nil {
			return err
		}
	}
	if a.Config.DemoPassword != "" {
		// Demo users created earlier with another password take the one
		// the environment names now.
		for _, f := range set.Files {
			for _, m := range f.Members {
				reset, err := a.Orgs.ResetPassword(ctx, m.Username, a.Config.DemoPassword)
				if err != nil {
					return fmt.Errorf("demo user %s: %w", m.Username, err)
				}
				if reset {
					a.Logger.Warn("demo user's password set from WANJIA_DEMO_PASSWORD", "username", m.Username)
				}
			}
		}
	}
	if len(res.Changes) > 0 && a.Config.DemoPassword == "" {
		fmt.Fprintf(a.Config.Stdout(), "\n  demo users (qixing.official, yucai.admin, yucai.staff, yucai.grid1, wangcheng.admin, wangcheng.staff)\n  password: %s  (shown once; set WANJIA_DEMO_PASSWORD to choose)\n\n", pw)
	}
	return nil
}

// MetricsHandler serves the process's metrics in Prometheus's text format.
// It is served on WANJIA_METRICS_ADDR only, never on the public port: the
// series name routes, tasks and queue depths an outsider has no business
// reading, and a scrape costs the database queries of the pending-work
// collector.
func (a *App) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.Metrics.Registry, promhttp.HandlerOpts{})
}

// serveMetrics serves /metrics on ln until ctx ends. Every part has one, so
// that a worker's task series and a scheduler's slots reach Prometheus in
// the three-process deployment too.
func (a *App) serveMetrics(ctx context.Context, g *errgroup.Group, ln net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.MetricsHandler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	g.Go(func() error {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return fmt.Errorf("metrics server: %w", err)
		}
		return nil
	})
	g.Go(func() error {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	})
	a.Logger.Info("metrics listening", "addr", ln.Addr().String())
}

// Run runs the parts of this process until ctx ends, then shuts down
// gracefully: the listener stops accepting, in-flight requests and tasks
// finish (within the shutdown timeout), and only then does Run return.
// ln is the API's listener (nil when the API part does not run here).
func (a *App) Run(ctx context.Context, ln net.Listener) error {
	g, gctx := errgroup.WithContext(ctx)
	timeout := a.Config.ShutdownTimeout

	if mln := a.MetricsListener; mln != nil || a.Config.MetricsAddr != "" {
		if mln == nil {
			var err error
			if mln, err = net.Listen("tcp", a.Config.MetricsAddr); err != nil {
				return fmt.Errorf("listen on %s (WANJIA_METRICS_ADDR): %w", a.Config.MetricsAddr, err)
			}
		}
		a.serveMetrics(gctx, g, mln)
	}

	if a.parts.API {
		if ln == nil {
			return errors.New("app: the api part needs a listener")
		}
		srv := &http.Server{
			Handler:           a.Handler,
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
		}
		g.Go(func() error {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("http server: %w", err)
			}
			return nil
		})
		g.Go(func() error {
			<-gctx.Done()
			sctx, cancel := context.WithTimeout(context.Background(), timeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("http shutdown: %w", err)
			}
			return nil
		})
		a.Logger.Info("api listening", "addr", ln.Addr().String())
	}

	if a.parts.Worker {
		// SQLite has one writer: tasks beyond a handful only queue behind it,
		// and starve the requests' writes. PostgreSQL takes the default.
		concurrency := 0
		if a.DB.Flavor() == store.SQLite {
			concurrency = embeddedConcurrency
		}
		srv := queue.NewServer(a.Redis, queue.ServerOptions{Concurrency: concurrency, ShutdownTimeout: timeout, Logger: a.Logger})
		mux := workers.NewMux(workers.Deps{Logger: a.Logger, Metrics: a.Metrics.Registry}, a.Tasks)
		if err := srv.Start(mux); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
		g.Go(func() error {
			<-gctx.Done()
			srv.Shutdown() // waits for in-flight tasks up to the timeout
			return nil
		})
		if a.Outreach != nil {
			// Redis lost the send tasks of running campaigns: queue them
			// again within seconds, not at the reconciler's next look.
			g.Go(func() error { a.Outreach.WatchQueue(gctx, 2*time.Second); return nil })
		}
		a.Logger.Info("worker started", "queues", queue.Weights)
	}

	if a.parts.API {
		g.Go(func() error { a.Watcher.Run(gctx); return nil })
		// Sessions signed out on other replicas: their access tokens are
		// refused here within a poll (about a second).
		g.Go(func() error { a.Authn.Revoked.Run(gctx); return nil })
		// Signing keys rotated or retired on another replica take effect
		// here within a minute, not only when an unknown key id shows up.
		g.Go(func() error {
			t := time.NewTicker(time.Minute)
			defer t.Stop()
			for {
				select {
				case <-gctx.Done():
					return nil
				case <-t.C:
					if err := a.Authn.Keys.Reload(gctx); err != nil && gctx.Err() == nil {
						a.Logger.Warn("reload signing keys", "err", err)
					}
				}
			}
		})
	}

	if a.parts.Scheduler {
		s := &workers.Scheduler{Client: a.Queue, Tasks: a.Tasks.Periodic(), Logger: a.Logger,
			Metrics: workers.NewSchedulerMetrics(a.Metrics.Registry)}
		g.Go(func() error { return s.Run(gctx) })
		a.Logger.Info("scheduler started", "tasks", len(s.Tasks))
	}

	// Start-up work (migrations, hashing the first admin's password, building
	// the policy) leaves garbage behind; hand it back to the OS now rather
	// than idle on it, since small offices run this on small machines.
	debug.FreeOSMemory()

	err := g.Wait()
	a.Logger.Info("stopped")
	return err
}

// Close releases the database and Redis. Call it after Run returns.
func (a *App) Close() error {
	var errs []error
	if a.Reads != nil {
		// Before the database closes: the last reads' entries are written.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		a.Reads.Close(ctx)
		cancel()
	}
	if a.Queue != nil {
		errs = append(errs, a.Queue.Close())
	}
	if a.Redis != nil {
		errs = append(errs, a.Redis.Close())
	}
	if a.DB != nil {
		errs = append(errs, a.DB.Close())
	}
	return errors.Join(errs...)
}
