package outreach_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/outreach"
)

// reads keeps what the service records as reads of personal data.
type reads struct {
	mu      sync.Mutex
	entries []readEntry
}

type readEntry struct {
	resource, id string
	details      map[string]any
}

func (r *reads) Record(_ context.Context, resource, id string, details map[string]any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, readEntry{resource, id, details})
}

func (r *reads) last(resource string) *readEntry {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := len(r.entries) - 1; i >= 0; i-- {
		if r.entries[i].resource == resource {
			return &r.entries[i]
		}
	}
	return nil
}

// TestReadsOfRepliesAndOptOuts: the lists that name people by phone only
// record which rows they returned and those phones, masked, for staff (who
// see them whole) as for officials.
func TestReadsOfRepliesAndOptOuts(t *testing.T) {
	w := newWorld(t)
	rec := &reads{}
	w.Outreach.Reads = rec
	staff := w.as(t, "c1.staff", "c1")
	official := w.as(t, "sub.official", "c1")
	o, err := w.Outreach.AddOptOut(staff, outreach.OptOutInput{Phone: "13800138000"})
	if err != nil {
		t.Fatal(err)
	}
	reply := &outreach.Reply{TenantID: w.District.Org(t, "c1").ID, ID: "01890a5d-ac96-7745-8123-000000000001", Phone: "13900139000",
		Text: "收到", Kind: "reply", Provider: "log", ProviderID: "p1", ReceivedAt: time.Now().UTC()}
	if err := w.DB.AcrossTenants(context.Background(), "test fixture", []string{reply.TenantID}, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewInsert().Model(reply).Exec(ctx)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		ctx      context.Context
		resource string
		list     func(ctx context.Context) error
		id       string
		phone    string
		masked   bool
	}{
		{"staff, opt-outs", staff, "outreach_opt_outs", func(ctx context.Context) error {
			_, _, err := w.Outreach.ListOptOuts(ctx, outreach.Filter{Limit: 10})
			return err
		}, o.ID, "13800138000", false},
		{"official, opt-outs", official, "outreach_opt_outs", func(ctx context.Context) error {
			_, _, err := w.Outreach.ListOptOuts(ctx, outreach.Filter{Limit: 10})
			return err
		}, o.ID, "13800138000", true},
		{"staff, replies", staff, "outreach_replies", func(ctx context.Context) error {
			_, _, err := w.Outreach.ListReplies(ctx, outreach.Filter{Limit: 10})
			return err
		}, reply.ID, "13900139000", false},
		{"official, replies", official, "outreach_replies", func(ctx context.Context) error {
			_, _, err := w.Outreach.ListReplies(ctx, outreach.Filter{Limit: 10})
			return err
		}, reply.ID, "13900139000", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.list(c.ctx); err != nil {
				t.Fatal(err)
			}
			e := rec.last(c.resource)
			if e == nil {
				t.Fatal("the read is not recorded")
			}
			b, _ := json.Marshal(e.details)
			var got struct {
				Masked bool     `json:"masked"`
				Count  int      `json:"count"`
				IDs    []string `json:"ids"`
				Phones []string `json:"phones"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			masked := c.phone[:3] + "****" + c.phone[7:]
			if e.id != "list" || got.Masked != c.masked || got.Count != 1 || len(got.IDs) != 1 || got.IDs[0] != c.id ||
				len(got.Phones) != 1 || got.Phones[0] != masked {
				t.Fatalf("recorded %s %s", e.id, b)
			}
			if strings.Contains(string(b), c.phone) {
				t.Fatalf("the whole phone is in the entry: %s", b)
			}
		})
	}
}
