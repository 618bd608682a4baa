package app_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestRedisURLRefused: a WANJIA_REDIS_URL that names a database on a
// cluster, mixes the cluster and Sentinel forms, or reaches no node stops
// the process before it serves, naming the variable.
func TestRedisURLRefused(t *testing.T) {
	t.Parallel()
	var free []string
	for range 3 { // ports just freed: nothing listens there
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		free = append(free, ln.Addr().String())
		_ = ln.Close()
	}
	dbURL, dir := storetest.FreshMigrated(t)
	for _, c := range []struct{ name, url, want string }{
		{"cluster with a database number", "redis://" + free[0] + "/1?addr=" + free[1] + "&addr=" + free[2], "WANJIA_REDIS_URL: a cluster URL (several addr=) cannot name a database"},
		{"cluster and sentinel at once", "redis://" + free[0] + "?addr=" + free[1] + "&master_name=m&read_only=true", "WANJIA_REDIS_URL: the cluster and Sentinel forms at once"},
		{"no reachable node", "redis://" + free[0] + "?addr=" + free[1] + "&addr=" + free[2], "WANJIA_REDIS_URL: no node of cluster " + free[0]},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := testConfig(t, dbURL, dir)
			cfg.RedisURL = c.url
			// What cmd/wanjia does: validate, then open.
			err := cfg.Validate()
			if err == nil {
				var a *app.App
				a, err = app.Open(context.Background(), cfg, app.All, slog.New(slog.DiscardHandler))
				if err == nil {
					_ = a.Close()
					t.Fatal("started")
				}
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("%v, want %q", err, c.want)
			}
		})
	}
}
