package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// run executes the command tree in-process, as main does.
func run(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	for _, k := range []string{"WANJIA_DATABASE_URL", "WANJIA_REDIS_URL", "WANJIA_ADDR", "WANJIA_DATA_DIR"} {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestBadInvocationsSayWhatAndWhere(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown subcommand", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", nil, []string{"all", "--frob"}, "unknown flag: --frob"},
		{"malformed database url", map[string]string{"WANJIA_DATABASE_URL": "mysql://u:secret@h/db"}, []string{"migrate", "status"}, "WANJIA_DATABASE_URL: scheme \"mysql\""},
		{"unreachable database", map[string]string{"WANJIA_DATABASE_URL": "postgres://u:secret@127.0.0.1:1/wanjia?connect_timeout=2"}, []string{"migrate", "status"}, "database postgres 127.0.0.1:1/wanjia does not answer"},
		{"unreachable redis", map[string]string{"WANJIA_DATA_DIR": dir, "WANJIA_REDIS_URL": "redis://127.0.0.1:1/0"}, []string{"all", "--addr", "127.0.0.1:0"}, "WANJIA_REDIS_URL: no node of 127.0.0.1:1/0 answers"},
		{"serve alone needs a real redis", map[string]string{"WANJIA_DATA_DIR": dir}, []string{"serve", "--addr", "127.0.0.1:0"}, "WANJIA_REDIS_URL is required"},
		{"migrate without a subcommand", nil, []string{"migrate"}, "migrate needs one of: up, down, status, partitions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run(t, tt.env, tt.args...)
			if err == nil {
				t.Fatal("want an error")
			}
			line := oneLine(err.Error())
			if !strings.Contains(line, tt.want) {
				t.Fatalf("error %q does not say %q", line, tt.want)
			}
			if strings.Contains(line, "secret") {
				t.Fatalf("error leaks a password: %q", line)
			}
			if strings.Contains(line, "goroutine") || strings.Contains(line, "\n") {
				t.Fatalf("not one clean line: %q", line)
			}
		})
	}
}

func TestServeRefusesPendingMigrations(t *testing.T) {
	dir := t.TempDir()
	// A real (if private) Redis URL is needed to get past the embedded
	// check; an in-process one stands in for it.
	out, err := run(t, map[string]string{"WANJIA_DATA_DIR": dir}, "migrate", "status")
	if err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status on a fresh db: %v %s", err, out)
	}
	if _, err := run(t, map[string]string{"WANJIA_DATA_DIR": dir, "WANJIA_REDIS_URL": "redis://127.0.0.1:1/0"}, "worker"); err == nil || !strings.Contains(err.Error(), "migration(s) pending") {
		t.Fatalf("worker on a fresh db: %v", err)
	}
	if out, err := run(t, map[string]string{"WANJIA_DATA_DIR": dir}, "migrate", "up"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("migrate up: %v %s", err, out)
	}
	if out, err := run(t, map[string]string{"WANJIA_DATA_DIR": dir}, "migrate", "status"); err != nil || strings.Contains(out, "pending") {
		t.Fatalf("status after up: %v %s", err, out)
	}
	if out, err := run(t, map[string]string{"WANJIA_DATA_DIR": dir}, "migrate", "down"); err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("migrate down: %v %s", err, out)
	}
}

// TestMain lets TestExitCode run this test binary as the wanjia command
// itself (main, its exit code and its stderr), without building another.
func TestMain(m *testing.M) {
	if os.Getenv(asMain) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const asMain = "WANJIA_TEST_AS_MAIN"

// TestExitCode checks the real command: non-zero exit and one line on
// stderr.
func TestExitCode(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "--database-url", "postgres://%zz")
	cmd.Env = append(os.Environ(), asMain+"=1", "WANJIA_DATA_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("exit: %v", err)
	}
	got := strings.TrimSpace(stderr.String())
	if strings.Count(got, "\n") != 0 || !strings.HasPrefix(got, "wanjia: ") {
		t.Fatalf("stderr should be one line starting with 'wanjia: ', got %q", got)
	}
}

// demoSecret is the secret key TestDemoCommand's processes share
// (PostgreSQL needs one given; SQLite would make one in the data dir).
const demoSecret = "wanjia-test-secret-key-0123456789abcdef"

// TestDemoCommand: `wanjia demo` loads the demo district with the demo
// password into a migrated database, and running it again changes nothing.
//
// It runs on the suite's database, but not under the race detector: the
// demo's seeding is single-threaded work that the detector makes twenty
// times slower (40 s), and it runs under the detector in every package
// that builds a demo golden (pkg/app, pkg/console); make test runs this.
func TestDemoCommand(t *testing.T) {
	if raceEnabled {
		t.Skip("the seeding runs under -race in pkg/app's and pkg/console's goldens; make test runs this test")
	}
	url, dir := storetest.Fresh(t)
	env := map[string]string{"WANJIA_DATA_DIR": dir, "WANJIA_DATABASE_URL": url, "WANJIA_SECRET_KEY": demoSecret,
		"WANJIA_DEMO_PASSWORD": "demo-pass-123", "WANJIA_ADMIN_PASSWORD": "admin-pass-123"}
	if _, err := run(t, env, "demo"); err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("demo before migrations: %v, want a pending-migrations error", err)
	}
	if _, err := run(t, env, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		out, err := run(t, env, "demo")
		if err != nil || !strings.Contains(out, "demo district loaded") {
			t.Fatalf("demo run %d: %v %s", i+1, err, out)
		}
		if strings.Contains(out, "shown once") {
			t.Fatalf("demo run %d printed a generated password although WANJIA_DEMO_PASSWORD is set: %s", i+1, out)
		}
	}
	cfg := &config.Config{Addr: "127.0.0.1:0", DataDir: dir, DatabaseURL: url, SecretKey: demoSecret, SMSProvider: "log", LogLevel: "error", ShutdownTimeout: time.Second, Out: io.Discard}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), cfg, app.Parts{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, _, err := a.Authn.Login(context.Background(), "yucai.staff", "demo-pass-123", "127.0.0.1"); err != nil {
		t.Fatalf("the demo user cannot sign in with WANJIA_DEMO_PASSWORD: %v", err)
	}
}
