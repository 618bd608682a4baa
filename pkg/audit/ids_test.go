package audit_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestReadIDsPacked: the ids a read returned are stored packed when they
// are all UUIDs, outside details (so PostgreSQL neither parses nor
// compresses them), and a reader of the log sees every entry as it was
// recorded: the same ids in the same order, whichever way it was stored.
func TestReadIDsPacked(t *testing.T) {
	page := make([]string, 50)
	for i := range page {
		page[i] = uuid.Must(uuid.NewV7()).String()
	}
	upper := strings.ToUpper(page[0])
	for _, tc := range []struct {
		name   string
		ids    []string
		packed bool // stored in the ids column, not in details
	}{
		{"a page of UUIDs", page, true},
		{"one UUID", page[:1], true},
		{"ids that are not UUIDs", []string{"g-1", "g-2"}, false},
		{"a UUID not in canonical form", []string{page[0], upper}, false},
		{"no ids", []string{}, false},
	} {
		for _, via := range []string{"reads", "record"} {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				db := storetest.New(t)
				ctx := actor(1)
				details := map[string]any{"ids": tc.ids, "count": len(tc.ids), "masked": true}
				switch via {
				case "reads":
					r := audit.NewReads(db, audit.ReadsOptions{Interval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
					r.Record(ctx, "households", "list", details)
					r.Close(context.Background())
				case "record":
					err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
						return audit.Record(ctx, tx, audit.ActionView, "households", "list", details)
					})
					if err != nil {
						t.Fatal(err)
					}
				}
				if got := details["ids"].([]string); !slices.Equal(got, tc.ids) {
					t.Fatalf("the caller's details changed: %v", got)
				}

				var raw struct {
					Details string `bun:"details"`
					IDs     []byte `bun:"ids"`
				}
				if err := db.NewSelect().TableExpr("audit_log").ColumnExpr("CAST(details AS TEXT) AS details, ids").Scan(context.Background(), &raw); err != nil {
					t.Fatal(err)
				}
				inDetails := strings.Contains(raw.Details, `"ids"`)
				if tc.packed && (inDetails || len(raw.IDs) != 16*len(tc.ids)) {
					t.Fatalf("want the ids packed: details %s, %d bytes in ids", raw.Details, len(raw.IDs))
				}
				if !tc.packed && (!inDetails || raw.IDs != nil) {
					t.Fatalf("want the ids in details: details %s, ids %x", raw.Details, raw.IDs)
				}

				entries, _, err := audit.List(context.Background(), db, audit.Filter{OrgPath: "/qixing/yucai/", Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(entries) != 1 {
					t.Fatalf("%d entries, want 1", len(entries))
				}
				// As the API shows it: JSON.
				b, err := json.Marshal(entries[0].Details)
				if err != nil {
					t.Fatal(err)
				}
				var shown struct {
					IDs   []string `json:"ids"`
					Count int      `json:"count"`
				}
				if err := json.Unmarshal(b, &shown); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(shown.IDs, tc.ids) || shown.Count != len(tc.ids) || (shown.IDs == nil) != (tc.ids == nil) {
					t.Fatalf("the log shows %s, want ids %v", b, tc.ids)
				}
			})
		}
	}
}
