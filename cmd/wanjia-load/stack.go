package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
)

// Stack is everything the drill starts: its database on the server of the
// admin URL, its own redis-server, and the wanjia processes. Close stops
// every process it started and drops the database, whatever happened.
type Stack struct {
	AdminURL string // a superuser's URL (the test server's postgres)
	Bin      string // the wanjia binary
	Dir      string // logs and files
	Env      []string

	DB        string // the drill's database
	OwnerRole string
	AppRole   string
	admin     *sql.DB // the admin URL's database, to create and drop
	DBAdmin   *sql.DB // the drill's database as the superuser (checks, faults)

	RedisPort int
	redisCmd  *exec.Cmd
	redisDone chan struct{}

	mu    sync.Mutex
	procs map[string]*Proc
}

// Proc is one wanjia process.
type Proc struct {
	Name string
	Args []string
	Env  []string
	Addr string // serve's listen address
	cmd  *exec.Cmd
	done chan struct{}
}

// urlFor is u pointed at database db, as user (empty: u's own), with
// extra query parameters.
func urlFor(u, db, user string, extra map[string]string) (string, error) {
	p, err := url.Parse(u)
	if err != nil || (p.Scheme != "postgres" && p.Scheme != "postgresql") {
		return "", fmt.Errorf("WANJIA_DATABASE_URL: %q is not a postgres:// URL", redactURL(u))
	}
	p.Path = "/" + db
	if user != "" {
		p.User = url.User(user)
	}
	q := p.Query()
	for k, v := range extra {
		q.Set(k, v)
	}
	p.RawQuery = q.Encode()
	return p.String(), nil
}

func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable)"
	}
	return p.Redacted()
}

// CreateDatabase makes the roles (if missing) and a database of the
// drill's own, laid out as README's real mode: owned by an owner role, the
// application role with row privileges only. It fails with a clear error
// (and leaves nothing) when the server cannot be reached or refuses.
func (s *Stack) CreateDatabase(ctx context.Context) error {
	db, err := sql.Open("pgx", s.AdminURL)
	if err != nil {
		return fmt.Errorf("cannot create the drill's database: %w", err)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.PingContext(cctx); err != nil {
		_ = db.Close()
		return fmt.Errorf("cannot create the drill's database: cannot connect to %s as a superuser: %w", redactURL(s.AdminURL), err)
	}
	s.admin = db
	// Databases a killed drill left (their name carries their start time)
	// go once an hour old, never a running drill's.
	rows, err := db.QueryContext(ctx, `SELECT datname FROM pg_database WHERE datname ~ '^wanjia_load_[0-9]+_'`)
	if err == nil {
		var old []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				var started int64
				if _, err := fmt.Sscanf(strings.TrimPrefix(n, "wanjia_load_"), "%d", &started); err == nil && time.Now().Unix()-started > 3600 {
					old = append(old, n)
				}
			}
		}
		_ = rows.Close()
		for _, n := range old {
			if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+n+` WITH (FORCE)`); err == nil {
				fmt.Printf("load: dropped %s, left by an earlier run\n", n)
			}
		}
	}
	roles := fmt.Sprintf(`DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[1]s') THEN
    CREATE ROLE %[1]s LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%[2]s') THEN
    CREATE ROLE %[2]s LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$`, s.OwnerRole, s.AppRole)
	if _, err := db.ExecContext(ctx, roles); err != nil {
		return fmt.Errorf("cannot create the drill's database: roles %s and %s: %w", s.OwnerRole, s.AppRole, err)
	}
	s.DB = fmt.Sprintf("wanjia_load_%d_%d", time.Now().Unix(), os.Getpid())
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+s.DB+` OWNER `+s.OwnerRole); err != nil {
		s.DB = ""
		return fmt.Errorf("cannot create the drill's database on %s: %w", redactURL(s.AdminURL), err)
	}
	u, err := urlFor(s.AdminURL, s.DB, "", map[string]string{"application_name": "wanjia-load-drill"})
	if err != nil {
		return err
	}
	if s.DBAdmin, err = sql.Open("pgx", u); err != nil {
		return err
	}
	s.DBAdmin.SetMaxOpenConns(4)
	for _, q := range []string{
		`GRANT USAGE ON SCHEMA public TO ` + s.AppRole,
		`ALTER DEFAULT PRIVILEGES FOR ROLE ` + s.OwnerRole + ` IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ` + s.AppRole,
	} {
		if _, err := s.DBAdmin.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("grants on %s: %w", s.DB, err)
		}
	}
	return nil
}

// URL is the drill's database as role, named app for pg_stat_activity.
func (s *Stack) URL(role, app string) string {
	u, _ := urlFor(s.AdminURL, s.DB, role, map[string]string{"application_name": app})
	return u
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartRedis starts a redis-server of the drill's own on a free port
// (again on the same port after a restart), without persistence: a
// restart loses everything, as a Redis without persistence does.
func (s *Stack) StartRedis(ctx context.Context) error {
	if s.RedisPort == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		s.RedisPort = p
	}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return errors.New("redis-server is not installed (apt-get install redis-server)")
	}
	log, err := os.OpenFile(filepath.Join(s.Dir, "redis.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "--port", fmt.Sprint(s.RedisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", s.Dir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = log.Close(); close(done) }()
	s.mu.Lock()
	s.redisCmd, s.redisDone = cmd, done
	s.mu.Unlock()
	c := s.Redis()
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if c.Ping(ctx).Err() == nil {
			return nil
		}
	}
	return fmt.Errorf("redis-server on port %d did not answer within 10 s (see %s)", s.RedisPort, filepath.Join(s.Dir, "redis.log"))
}

// Redis is a client of the drill's Redis.
func (s *Stack) Redis() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.RedisPort)})
}

// RedisURL is what the processes get.
func (s *Stack) RedisURL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.RedisPort) }

// KillRedis stops the drill's redis-server at once (no save).
func (s *Stack) KillRedis() {
	s.mu.Lock()
	cmd, done := s.redisCmd, s.redisDone
	s.redisCmd = nil
	s.mu.Unlock()
	if cmd != nil && cmd.Process != nil {
		_ = cmd.Process.Kill()
		<-done
	}
}

// Run runs wanjia once to its end (migrate, tenants apply), with env.
func (s *Stack) Run(ctx context.Context, name string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, s.Bin, args...)
	cmd.Env = append(append(os.Environ(), s.Env...), env...)
	out, err := cmd.CombinedOutput()
	_ = os.WriteFile(filepath.Join(s.Dir, name+".log"), out, 0o644)
	if err != nil {
		return string(out), fmt.Errorf("wanjia %s: %w\n%s", strings.Join(args, " "), err, tail(string(out), 20))
	}
	return string(out), nil
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Start starts a long-running part (serve, worker, scheduler) as name.
func (s *Stack) Start(p *Proc) error {
	log, err := os.OpenFile(filepath.Join(s.Dir, p.Name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.Bin, p.Args...)
	cmd.Env = append(append(os.Environ(), s.Env...), p.Env...)
	cmd.Stdout, cmd.Stderr = log, log
	// The drill dying takes its parts with it (Linux).
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return fmt.Errorf("start %s: %w", p.Name, err)
	}
	p.cmd = cmd
	p.done = make(chan struct{})
	go func(done chan struct{}) { _ = cmd.Wait(); _ = log.Close(); close(done) }(p.done)
	s.mu.Lock()
	if s.procs == nil {
		s.procs = map[string]*Proc{}
	}
	s.procs[p.Name] = p
	s.mu.Unlock()
	return nil
}

// Kill sends SIGKILL to the named part and waits for it to die.
func (s *Stack) Kill(name string) {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil || p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Restart starts the named part again with its arguments.
func (s *Stack) Restart(name string) error {
	s.mu.Lock()
	p := s.procs[name]
	s.mu.Unlock()
	if p == nil {
		return fmt.Errorf("no part %s", name)
	}
	return s.Start(&Proc{Name: p.Name, Args: p.Args, Env: p.Env, Addr: p.Addr})
}

// Running counts the processes (parts and Redis) still alive.
func (s *Stack) Running() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.procs {
		select {
		case <-p.done:
		default:
			n++
		}
	}
	if s.redisCmd != nil {
		select {
		case <-s.redisDone:
		default:
			n++
		}
	}
	return n
}

// Close stops the parts (SIGTERM, then SIGKILL after 10 s), Redis, and
// drops the database.
func (s *Stack) Close() error {
	s.mu.Lock()
	procs := make([]*Proc, 0, len(s.procs))
	for _, p := range s.procs {
		procs = append(procs, p)
	}
	s.mu.Unlock()
	for _, p := range procs {
		if p.cmd != nil && p.cmd.Process != nil {
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, p := range procs {
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	s.KillRedis()
	var errs []error
	if s.DBAdmin != nil {
		_ = s.DBAdmin.Close()
	}
	if s.admin != nil {
		if s.DB != "" {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			if _, err := s.admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+s.DB+` WITH (FORCE)`); err != nil {
				errs = append(errs, fmt.Errorf("drop %s: %w", s.DB, err))
			}
			cancel()
		}
		_ = s.admin.Close()
	}
	return errors.Join(errs...)
}
