package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
		{"unreachable redis", map[string]string{"WANJIA_DATA_DIR": dir, "WANJIA_REDIS_URL": "redis://127.0.0.1:1/0"}, []string{"all", "--addr", "127.0.0.1:0"}, "redis 127.0.0.1:1/0 does not answer"},
		{"serve alone needs a real redis", map[string]string{"WANJIA_DATA_DIR": dir}, []string{"serve", "--addr", "127.0.0.1:0"}, "WANJIA_REDIS_URL is required"},
		{"migrate without a subcommand", nil, []string{"migrate"}, "migrate needs one of: up, down, status"},
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

// TestExitCode checks the real binary: non-zero exit and one line on stderr.
func TestExitCode(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "wanjia")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v %s", err, out)
	}
	cmd := exec.Command(bin, "--database-url", "postgres://%zz")
	cmd.Env = append(os.Environ(), "WANJIA_DATA_DIR="+t.TempDir())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("exit: %v", err)
	}
	got := strings.TrimSpace(stderr.String())
	if strings.Count(got, "\n") != 0 || !strings.HasPrefix(got, "wanjia: ") {
		t.Fatalf("stderr should be one line starting with 'wanjia: ', got %q", got)
	}
}
