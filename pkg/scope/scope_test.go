package scope_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// community makes a community with grids g1 and g2.
func community(t *testing.T, db *store.DB, tenant string) {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	err := db.AcrossTenants(ctx, "test fixture", []string{tenant}, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewRaw(`INSERT INTO orgs (id, slug, name, kind, path, timezone, settings, created_at, updated_at)
			VALUES (?, ?, 'x', 'community', ?, 'Asia/Shanghai', '{}', ?, ?)`, tenant, tenant, "/"+tenant+"/", now, now).Exec(ctx); err != nil {
			return err
		}
		for _, g := range []string{"g1", "g2"} {
			if _, err := tx.NewRaw(`INSERT INTO grids (id, tenant_id, slug, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)`,
				tenant+"-"+g, tenant, g, g, now, now).Exec(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestGridsScopeAndCache(t *testing.T) {
	db := storetest.New(t)
	community(t, db, "ta")
	community(t, db, "tb")
	f := scope.New(db)
	staff := scope.With(context.Background(), scope.Tenant{TenantID: "ta"})
	worker := scope.With(context.Background(), scope.Tenant{TenantID: "ta", Grids: []string{"g2"}})
	none := scope.With(context.Background(), scope.Tenant{TenantID: "ta", Grids: []string{}})

	for _, c := range []struct {
		name     string
		ctx      context.Context
		may      map[string]bool
		resolves bool
	}{
		{"staff", staff, map[string]bool{"ta-g1": true, "ta-g2": true}, true},
		{"grid worker of g2", worker, map[string]bool{"ta-g1": false, "ta-g2": true}, false},
		{"grid worker with no grids", none, map[string]bool{"ta-g1": false, "ta-g2": false}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			g, err := scope.Read(c.ctx, f, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*scope.Grids, error) {
				return g, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			for id, want := range c.may {
				if g.May(id) != want {
					t.Errorf("May(%s) = %v, want %v", id, !want, want)
				}
			}
			if _, ok := g.Resolve("g1"); ok != c.resolves {
				t.Errorf("Resolve(g1) = %v, want %v", ok, c.resolves)
			}
			if g.Slug("tb-g1") != "" {
				t.Error("another community's grid is known")
			}
		})
	}

	// A grid added by this process is seen at once once forgotten.
	_, err := scope.Run(staff, f, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (struct{}, error) {
		_, err := tx.Insert(&struct {
			bun.BaseModel `bun:"table:grids"`
			ID            string    `bun:"id"`
			TenantID      string    `bun:"tenant_id"`
			Slug          string    `bun:"slug"`
			Name          string    `bun:"name"`
			CreatedAt     time.Time `bun:"created_at"`
			UpdatedAt     time.Time `bun:"updated_at"`
		}{ID: "ta-g3", TenantID: "ta", Slug: "g3", Name: "g3", CreatedAt: time.Now(), UpdatedAt: time.Now()}).Exec(ctx)
		return struct{}{}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	f.ForgetGrids("ta")
	g, _ := scope.Read(staff, f, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) (*scope.Grids, error) { return g, nil })
	if _, ok := g.Resolve("g3"); !ok {
		t.Fatal("a new grid is not seen after ForgetGrids")
	}
}

func TestViewMasksPerRole(t *testing.T) {
	for _, c := range []struct {
		role              string
		phone, idOne, idL string
	}{
		{authz.RoleCommunityAdmin, "13800001234", "450305195001010011", "4503**********0011"},
		{authz.RoleCommunityStaff, "13800001234", "450305195001010011", "4503**********0011"},
		{authz.RoleGridWorker, "13800001234", "4503**********0011", "4503**********0011"},
		{authz.RoleSubdistrictOfficial, "138****1234", "4503**********0011", "4503**********0011"},
		{"", "138****1234", "4503**********0011", "4503**********0011"},
	} {
		v := scope.ViewOf(authz.WithCaller(context.Background(), authz.Caller{Role: c.role}))
		if got := v.Phone("13800001234"); got != c.phone {
			t.Errorf("%s: phone %s, want %s", c.role, got, c.phone)
		}
		if got := v.IDNumber("450305195001010011", true); got != c.idOne {
			t.Errorf("%s: one record's ID %s, want %s", c.role, got, c.idOne)
		}
		if got := v.IDNumber("450305195001010011", false); got != c.idL {
			t.Errorf("%s: listed ID %s, want %s", c.role, got, c.idL)
		}
	}
}
