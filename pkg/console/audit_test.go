package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/store"
)

// TestAuditNames: the audit log's page names a community's records (a
// household by its address, linked to its page) for the community's own
// readers; an entry naming another community's record shows its id only,
// and so does every entry on an office's page, whose reader has no
// community to read names in.
func TestAuditNames(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	ctx := context.Background()
	org := func(slug string) (id, path string) {
		var o struct {
			ID   string `bun:"id"`
			Path string `bun:"path"`
		}
		if err := a.DB.NewSelect().Table("orgs").Column("id", "path").Where("slug = ?", slug).Scan(ctx, &o); err != nil {
			t.Fatal(err)
		}
		return o.ID, o.Path
	}
	household := func(tenant string) (id, address string) {
		var h struct {
			ID      string `bun:"id"`
			Address string `bun:"address"`
		}
		err := a.DB.InTenantTx(store.WithTenant(ctx, store.Tenant{TenantID: tenant}), func(ctx context.Context, tx *store.TenantTx) error {
			return tx.SelectTable("households").Column("id", "address").Where("address <> ''").Order("id").Limit(1).Scan(ctx, &h)
		})
		if err != nil {
			t.Fatal(err)
		}
		return h.ID, h.Address
	}
	yucai, yucaiPath := org("yucai")
	wangcheng, _ := org("wangcheng")
	mine, address := household(yucai)
	theirs, _ := household(wangcheng)
	// Two entries in yucai's log: one about its household, one naming
	// wangcheng's (as a forged or mistaken entry might).
	for i, id := range []string{mine, theirs} {
		at := time.Now().UTC().Add(time.Duration(i) * time.Second)
		e := audit.Entry{ID: uuid.Must(uuid.NewV7()).String(), OrgPath: yucaiPath, At: at, ActorID: "u", Actor: "yucai.staff", Role: "community_staff",
			Org: "yucai", Action: audit.ActionUpdate, Resource: "household", ResourceID: id}
		if _, err := a.DB.NewInsert().Model(&e).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		user, path string
		named      bool
	}{
		{"yucai.admin", "/console/orgs/yucai/audit?action=update", true},
		{"qixing.official", "/console/orgs/qixing/audit?action=update", false},
	} {
		c := client(t)
		httpSignIn(t, c, a.Base, tc.user)
		status, body := get(t, c, a.Base+tc.path)
		if status != http.StatusOK {
			t.Fatalf("%s: %d", tc.user, status)
		}
		link := `<a href="/console/orgs/yucai/households/` + mine + `">` + address + `</a>`
		if got := strings.Contains(body, link); got != tc.named {
			t.Errorf("%s: yucai's household named and linked: %v, want %v", tc.user, got, tc.named)
		}
		if !tc.named && !strings.Contains(body, `<code class="sub id">`+mine+`</code>`) {
			t.Errorf("%s: yucai's household not shown by its id", tc.user)
		}
		if strings.Contains(body, "households/"+theirs) || !strings.Contains(body, `<code class="sub id">`+theirs+`</code>`) {
			t.Errorf("%s: wangcheng's household is named or linked, or not shown by its id", tc.user)
		}
	}
}
