package app_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/app"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestAppsStartTogether: N processes of `wanjia all` starting at the same
// moment on one fresh database (two API replicas rolled out at once) all
// come up: one migrates while the others wait for its lock, and the
// platform admin is created once, the others finding it.
func TestAppsStartTogether(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		fresh func(testing.TB) (string, string)
	}{
		{"fresh database", storetest.Fresh},
		{"migrated database", storetest.FreshMigrated},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dbURL, dir := tc.fresh(t)
			const n = 3
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					cfg := testConfig(t, dbURL, dir)
					if err := cfg.Validate(); err != nil {
						errs[i] = err
						return
					}
					<-start
					a, err := app.Open(context.Background(), cfg, app.All, slog.New(slog.DiscardHandler))
					if err != nil {
						errs[i] = err
						return
					}
					t.Cleanup(func() { _ = a.Close() })
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("app %d did not start: %v", i, err)
				}
			}
			if t.Failed() {
				return
			}
			db, err := store.Open(context.Background(), store.Options{URL: dbURL, DataDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var users, admins int
			err = db.AcrossTenants(context.Background(), "test: count admins", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
				if err := tx.NewRaw("SELECT count(*) FROM users WHERE username = 'admin'").Scan(ctx, &users); err != nil {
					return err
				}
				return tx.NewRaw("SELECT count(*) FROM memberships WHERE role = 'platform_admin'").Scan(ctx, &admins)
			})
			if err != nil {
				t.Fatal(err)
			}
			if users != 1 || admins != 1 {
				t.Fatalf("%d users named admin, %d platform admin memberships; want 1 and 1", users, admins)
			}
		})
	}
}
