package orgs

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/wanjia/wanjia/pkg/store"
)

// Community is what a domain needs of the tenant's own org inside its
// transaction: its name, its zone (for "today" and local hours) and its
// working rules.
type Community struct {
	Name     string
	Loc      *time.Location
	Settings Settings
}

// Day is the community's local date of t.
func (c Community) Day(t time.Time) string { return t.In(c.Loc).Format(time.DateOnly) }

// CommunityOf loads the tenant's org in tx. orgs is a platform table (no
// tenant_id), so the read is unscoped and names the tenant's own row by
// id. An unknown zone is UTC and missing settings are the defaults, as
// everywhere else.
func CommunityOf(ctx context.Context, tx *store.TenantTx) (Community, error) {
	var row struct {
		Name     string          `bun:"name"`
		Timezone string          `bun:"timezone"`
		Settings json.RawMessage `bun:"settings"`
	}
	if err := tx.Unscoped().NewSelect().Table("orgs").Column("name", "timezone", "settings").
		Where("id = ?", tx.Tenant()).Scan(ctx, &row); err != nil {
		return Community{}, fmt.Errorf("load community: %w", err)
	}
	c := Community{Name: row.Name, Loc: time.UTC, Settings: DefaultSettings()}
	if loc, err := time.LoadLocation(row.Timezone); err == nil {
		c.Loc = loc
	}
	if len(row.Settings) > 0 {
		if err := json.Unmarshal(row.Settings, &c.Settings); err != nil {
			return Community{}, fmt.Errorf("read community settings: %w", err)
		}
	}
	return c, nil
}
