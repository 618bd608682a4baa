package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/wanjia/wanjia/pkg/queue/queuetest"
)

// freeAddr is a loopback address with a port nobody listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// startCmd runs the command tree in the background until the test's cleanup,
// or until stop is called; stop waits for it to return.
func startCmd(t *testing.T, env map[string]string, args ...string) (stop func() error) {
	t.Helper()
	for _, k := range []string{"WANJIA_DATABASE_URL", "WANJIA_REDIS_URL", "WANJIA_ADDR", "WANJIA_DATA_DIR", "WANJIA_METRICS_ADDR"} {
		t.Setenv(k, "")
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	cmd := newRootCmd()
	cmd.SetOut(io.Discard)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	var err error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("the process did not stop")
			}
		}
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// get answers a GET's status and body, or 0 when nothing listens.
func get(url string) (int, string) {
	resp, err := http.Get(url)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String()
}

// scrapeUntil scrapes addr's /metrics until the text holds every series in
// want, and fails the test after a while.
func scrapeUntil(t *testing.T, addr string, want ...string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		code, body := get("http://" + addr + "/metrics")
		missing := ""
		for _, w := range want {
			if !strings.Contains(body, w) {
				missing = w
				break
			}
		}
		if code == http.StatusOK && missing == "" {
			return body
		}
		if time.Now().After(deadline) {
			t.Fatalf("metrics on %s: %d, lacking %q:\n%s", addr, code, missing, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestEveryPartServesMetrics: serve, worker, scheduler and all each serve
// /metrics on WANJIA_METRICS_ADDR, with their own series (the scheduler's
// slots, the worker's tasks, the api's requests), and the api's public
// port does not.
func TestEveryPartServesMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs each part")
	}
	dir := t.TempDir()
	redisURL := queuetest.URL(t)
	if redisURL == "" {
		redisURL = "redis://" + miniredis.RunT(t).Addr()
	}
	env := func(metrics string) map[string]string {
		return map[string]string{"WANJIA_DATA_DIR": dir, "WANJIA_REDIS_URL": redisURL, "WANJIA_METRICS_ADDR": metrics,
			"WANJIA_ADMIN_PASSWORD": "admin-pass-123", "WANJIA_LOG_LEVEL": "error"}
	}
	if _, err := run(t, map[string]string{"WANJIA_DATA_DIR": dir}, "migrate", "up"); err != nil {
		t.Fatal(err)
	}
	common := []string{"go_goroutines", "wanjia_queue_up 1", "wanjia_pending_work_up 1"}

	t.Run("scheduler", func(t *testing.T) {
		m := freeAddr(t)
		stop := startCmd(t, env(m), "scheduler")
		scrapeUntil(t, m, append(common, `wanjia_scheduler_slots_total{result="enqueued",task="heartbeat"} 1`)...)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if code, _ := get("http://" + m + "/metrics"); code != 0 {
			t.Fatalf("metrics still served after shutdown: %d", code)
		}
	})
	t.Run("worker", func(t *testing.T) {
		// The heartbeat the scheduler queued is run here.
		m := freeAddr(t)
		stop := startCmd(t, env(m), "worker")
		scrapeUntil(t, m, append(common, `wanjia_tasks_processed_total{status="ok",type="system:heartbeat"} 1`)...)
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	})
	for _, part := range []string{"serve", "all"} {
		t.Run(part, func(t *testing.T) {
			m, addr := freeAddr(t), freeAddr(t)
			e := env(m)
			if part == "all" {
				// Its own Redis, in the process: the slots the scheduler
				// above queued are not this one's.
				e["WANJIA_REDIS_URL"] = ""
			}
			stop := startCmd(t, e, part, "--addr", addr)
			scrapeUntil(t, m, common...)
			if code, _ := get("http://" + addr + "/healthz"); code != http.StatusOK {
				t.Fatalf("healthz: %d", code)
			}
			if code, body := get("http://" + addr + "/metrics"); code != http.StatusNotFound || strings.Contains(body, "go_goroutines") {
				t.Fatalf("metrics on the public port: %d %.200s", code, body)
			}
			scrapeUntil(t, m, `wanjia_http_requests_total{method="GET",route="/healthz",status="200"} 1`)
			if part == "all" {
				scrapeUntil(t, m, `wanjia_scheduler_slots_total{result="enqueued"`, `wanjia_tasks_processed_total{status="ok",type="system:heartbeat"}`)
			}
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
