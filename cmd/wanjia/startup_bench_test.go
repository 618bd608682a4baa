package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartup measures `wanjia all` on the embedded mode from exec to
// the first 200 from /readyz, and the idle resident memory of the process
// a few seconds later. "fresh" starts on an empty data directory (creates
// the schema and the platform admin); "warm" restarts on an existing one.
// Goals: under 1 s and under 60 MiB.
func BenchmarkStartup(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "wanjia")
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("build: %v %s", err, out)
	}
	for _, mode := range []string{"fresh", "warm"} {
		b.Run(mode, func(b *testing.B) {
			warmDir := b.TempDir()
			if mode == "warm" {
				p, _ := start(b, bin, warmDir)
				stop(p)
			}
			var total time.Duration
			var rss float64
			for i := 0; i < b.N; i++ {
				dir := warmDir
				if mode == "fresh" {
					dir = b.TempDir()
				}
				p, d := start(b, bin, dir)
				total += d
				if i == b.N-1 {
					time.Sleep(3 * time.Second) // idle: the scheduler ticks, nothing else
					rss = residentMiB(b, p.Pid)
				}
				stop(p)
			}
			b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-ready")
			b.ReportMetric(rss, "MiB-idle-rss")
		})
	}
}

func start(b *testing.B, bin, dir string) (*os.Process, time.Duration) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(bin, "all", "--addr", addr, "--log-level", "warn")
	cmd.Env = append(os.Environ(), "WANJIA_DATA_DIR="+dir, "WANJIA_ADMIN_PASSWORD=bench-admin-pw", "WANJIA_DATABASE_URL=", "WANJIA_REDIS_URL=")
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return cmd.Process, time.Since(t0)
			}
		}
		if time.Since(t0) > 20*time.Second {
			_ = cmd.Process.Kill()
			b.Fatal("not ready after 20 s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func stop(p *os.Process) {
	_ = p.Signal(syscall.SIGTERM)
	_, _ = p.Wait()
}

func residentMiB(b *testing.B, pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmRSS")
	return 0
}
