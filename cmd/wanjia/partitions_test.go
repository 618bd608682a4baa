package main

import (
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestMigratePartitions: `wanjia migrate partitions`, the CronJob's
// command, makes the months ahead as configured and changes nothing when
// run again; on SQLite it has nothing to do.
func TestMigratePartitions(t *testing.T) {
	url, dir := storetest.FreshMigrated(t)
	env := map[string]string{"WANJIA_DATA_DIR": dir}
	if url == "" {
		if _, err := run(t, env, "migrate", "up"); err != nil {
			t.Fatal(err)
		}
		out, err := run(t, env, "migrate", "partitions")
		if err != nil || !strings.Contains(out, "not partitioned") {
			t.Fatalf("on SQLite: %v %s", err, out)
		}
		return
	}
	env["WANJIA_DATABASE_URL"] = url
	env["WANJIA_PARTITION_MONTHS_AHEAD"] = "5"
	out, err := run(t, env, "migrate", "partitions")
	if err != nil || strings.Count(out, "created ") != 4*2 {
		t.Fatalf("five months ahead, where migrate made three: %v\n%s", err, out)
	}
	// The parents' statistics, which autovacuum never gathers.
	if strings.Count(out, "analyzed ") < 4 {
		t.Fatalf("the partitioned tables were not analyzed: %s", out)
	}
	out, err = run(t, env, "migrate", "partitions")
	if err != nil || !strings.Contains(out, "nothing to do") {
		t.Fatalf("again: %v\n%s", err, out)
	}
}
