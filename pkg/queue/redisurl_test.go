package queue_test

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/queue"
)

// TestParseRedisURL: the three forms are told apart by their parameters,
// and what would connect somewhere unmeant is refused, the password never
// repeated.
func TestParseRedisURL(t *testing.T) {
	for _, c := range []struct {
		url, kind, where, err string
	}{
		{url: "redis://:s3cret@r:6379/2", kind: queue.RedisSingle, where: "r:6379/2"},
		{url: "rediss://r", kind: queue.RedisSingle, where: "r:6379/0"},
		{url: "redis://:s3cret@n1:7000?addr=n2:7001&addr=n3:7002", kind: queue.RedisCluster, where: "cluster n1:7000,n2:7001,n3:7002"},
		{url: "redis://n1:7000/?addr=n2:7001", kind: queue.RedisCluster, where: "cluster n1:7000,n2:7001"},
		{url: "redis://s1:26379/1?master_name=mymaster&addr=s2:26379&password=s3cret", kind: queue.RedisSentinel, where: "sentinel master mymaster via s1:26379,s2:26379, db 1"},
		{url: "redis://:s3cret@n1:7000/0?addr=n2:7001", err: "a cluster URL (several addr=) cannot name a database"},
		{url: "redis://n1:7000?addr=n2:7001&db=2", err: "a cluster URL (several addr=) cannot name a database"},
		{url: "redis://n1:7000?addr=n2:7001&master_name=m&read_only=true", err: "the cluster and Sentinel forms at once"},
		{url: "redis://s1?master_name=", err: "master_name is empty"},
		{url: "redis://:s3cret@n1:7000?addr=:7001", err: "cluster form: unable to parse addr param"},
		{url: "redis://:s3cret@r:6379/x", err: "single form: invalid database number"},
		{url: "http://r:6379", err: `scheme "http"`},
		{url: "redis://", err: "no host"},
	} {
		t.Run(c.url, func(t *testing.T) {
			got, err := queue.ParseRedisURL(c.url)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) || strings.Contains(err.Error(), "s3cret") {
					t.Fatalf("err = %v, want one saying %q without the password", err, c.err)
				}
				return
			}
			if err != nil || got.Kind != c.kind || got.Where() != c.where {
				t.Fatalf("got %+v (%v), where %q; want %s at %q", got, err, got.Where(), c.kind, c.where)
			}
		})
	}
}

// TestOpenRedisNoNode: a cluster none of whose seeds answers stops the
// start, naming the variable.
func TestOpenRedisNoNode(t *testing.T) {
	var addrs []string
	for range 3 { // ports just freed: nothing listens there
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, ln.Addr().String())
		_ = ln.Close()
	}
	for _, u := range []string{
		"redis://" + addrs[0] + "?addr=" + addrs[1] + "&addr=" + addrs[2],
		"redis://" + addrs[0] + "/0",
		"redis://" + addrs[0] + "?master_name=mymaster&addr=" + addrs[1],
	} {
		t.Run(u, func(t *testing.T) {
			t.Parallel()
			r, err := queue.OpenRedis(context.Background(), u)
			if err == nil {
				_ = r.Close()
				t.Fatal("opened")
			}
			if !strings.Contains(err.Error(), "WANJIA_REDIS_URL: no node of ") {
				t.Errorf("%v, want it to name WANJIA_REDIS_URL", err)
			}
		})
	}
}
