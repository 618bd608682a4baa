package outreach_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestCapCountByPhone: the claim's count of a phone's messages of the day
// (the daily cap) reads outreach_messages_cap_idx by tenant, phone and day
// whatever the statistics say, on both databases. The statistics a
// campaign's dispatch takes of its outbox just written say that no message
// has a sent_date; the count written plainly then read the figures' index
// (partial on sent_date IS NOT NULL, so it looked empty) and walked every
// message of the community sent that day, for each message claimed, more
// with each batch: BenchmarkSend100k's first campaign sent at a quarter of
// the second's rate.
func TestCapCountByPhone(t *testing.T) {
	w := newWorld(t)
	w.households(t, "c1", "c1-g1", 500)
	staff := w.as(t, "c1.staff", "c1")
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
		t.Fatal(err)
	}
	// As the dispatch of a large campaign does: statistics of an outbox of
	// queued messages only.
	if err := w.DB.Optimize(context.Background(), "outreach_messages"); err != nil {
		t.Fatal(err)
	}
	counts := storetest.CaptureStatements(w.DB, func(q string) bool { return strings.Contains(q, "AS sent_today") })
	ids := messageIDs(t, w, c.ID)
	for _, id := range ids[:10] {
		if err := w.Outreach.SendMessage(w.tenant(t, "c1"), id); err != nil {
			t.Fatal(err)
		}
	}
	qs := counts.All()
	if len(qs) == 0 {
		t.Fatal("no statement counted a phone's messages of the day")
	}
	pg := w.DB.Flavor() == store.Postgres
	plan := explainIn(t, w, qs[len(qs)-1])
	if pg {
		// The count is a subplan over the outbox's partitions, d_1 … d_n;
		// each partition that holds rows must be read by the phone's index,
		// with the day in its condition.
		scan := regexp.MustCompile(`Index Scan using (\S+) on \S+ d(_\d+)?\s`)
		found := false
		for _, m := range scan.FindAllStringSubmatch(plan, -1) {
			found = true
			if !strings.Contains(m[1], "tenant_id_phone") {
				t.Errorf("the day's count reads %s, not the cap's index (tenant_id, phone, day)", m[1])
			}
		}
		if !found || !regexp.MustCompile(`Index Cond: \(\(tenant_id = m(_\d+)?\.tenant_id\) AND \(phone = m(_\d+)?\.phone\) AND \(CASE WHEN \(sent_date IS NULL\)`).MatchString(plan) {
			t.Errorf("the day's count is not an index scan by tenant, phone and day:\n%s", plan)
		}
		if t.Failed() {
			t.Logf("plan:\n%s", plan)
		}
		return
	}
	if !strings.Contains(plan, "SEARCH d USING INDEX outreach_messages_cap_idx (tenant_id=? AND phone=? AND <expr>=?)") {
		t.Errorf("the day's count does not read the cap's index by tenant, phone and day:\n%s", plan)
	}
}

var errExplained = errors.New("explained")

// explainIn returns the plan of q as c1's tenant runs it (under its row
// security on PostgreSQL), rolled back.
func explainIn(t *testing.T, w *world, q string) string {
	t.Helper()
	var lines []string
	err := w.DB.InTenantTx(w.tenant(t, "c1"), func(ctx context.Context, tx *store.TenantTx) error {
		if w.DB.Flavor() == store.Postgres {
			if err := tx.Unscoped().NewRaw("EXPLAIN "+q).Scan(ctx, &lines); err != nil {
				return err
			}
			return errExplained
		}
		var rows []struct {
			ID      int    `bun:"id"`
			Parent  int    `bun:"parent"`
			NotUsed int    `bun:"notused"`
			Detail  string `bun:"detail"`
		}
		if err := tx.Unscoped().NewRaw("EXPLAIN QUERY PLAN "+q).Scan(ctx, &rows); err != nil {
			return err
		}
		for _, r := range rows {
			lines = append(lines, r.Detail)
		}
		return errExplained
	})
	if !errors.Is(err, errExplained) {
		t.Fatalf("explain: %v\n%s", err, q)
	}
	return strings.Join(lines, "\n")
}
