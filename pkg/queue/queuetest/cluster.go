package queuetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvCluster names the variable that lets tests start a Redis Cluster of
// their own (make test-cluster): three redis-server processes, a few
// seconds each test, so not in every run.
const EnvCluster = "WANJIA_TEST_REDIS_CLUSTER"

// Cluster starts a three-node Redis Cluster of the test's own (masters
// only, on free ports, in temporary directories, without persistence),
// waits until it serves every slot, and returns its URL in the cluster
// form. Everything it started is stopped when the test ends. The test is
// skipped when WANJIA_TEST_REDIS_CLUSTER is not set or redis-server and
// redis-cli are not installed. A cluster has only database 0: the tests
// sharing one Redis by number (URL) cannot use it, so each gets its own.
func Cluster(t testing.TB) string {
	t.Helper()
	if os.Getenv(EnvCluster) == "" {
		t.Skip(EnvCluster + " is not set (make test-cluster sets it)")
	}
	server, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed")
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli is not installed")
	}
	var addrs []string
	for i, port := range freePorts(t, 3) {
		dir := t.TempDir()
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(server,
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-node-timeout", "5000", "--save", "", "--appendonly", "no",
			"--logfile", filepath.Join(dir, "redis.log"))
		if err := cmd.Start(); err != nil {
			t.Fatalf("queuetest: start cluster node %d: %v", i, err)
		}
		t.Cleanup(func() { stop(cmd) })
		addrs = append(addrs, addr)
	}
	ctx := context.Background()
	nodes := make([]*redis.Client, len(addrs))
	for i, addr := range addrs {
		nodes[i] = redis.NewClient(&redis.Options{Addr: addr})
		defer nodes[i].Close()
		waitFor(t, "node "+addr+" answering", func() bool { return nodes[i].Ping(ctx).Err() == nil })
	}
	create := exec.Command(cli, append(append([]string{"--cluster", "create"}, addrs...), "--cluster-replicas", "0", "--cluster-yes")...)
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("queuetest: redis-cli --cluster create: %v\n%s", err, out)
	}
	for i, n := range nodes {
		waitFor(t, "cluster_state:ok on "+addrs[i], func() bool {
			info, err := n.ClusterInfo(ctx).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok") && strings.Contains(info, "cluster_slots_ok:16384")
		})
	}
	return "redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2]
}

// freePorts finds n ports free now whose cluster bus ports (port+10000)
// are free too.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	for tries := 0; len(ports) < n; tries++ {
		if tries > 100 {
			t.Fatal("queuetest: no free ports for a cluster")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		_ = ln.Close()
		if port+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		ports = append(ports, port)
	}
	return ports
}

// stop ends one node it started: SIGTERM, then SIGKILL after 5 s.
func stop(cmd *exec.Cmd) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

func waitFor(t testing.TB, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("queuetest: no %s after 20 s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
