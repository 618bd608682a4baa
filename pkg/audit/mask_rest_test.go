package audit_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestDetailsAreMaskedAtRest: what Record and Reads write is masked in the
// table itself (a backup, a database reader), not only when List reads it
// back; on PostgreSQL Reads writes with COPY, on SQLite with INSERT.
func TestDetailsAreMaskedAtRest(t *testing.T) {
	db := storetest.New(t)
	const phone, id = "13800138000", "450305194506010020"
	details := map[string]any{"q": "138 0013 8000", "filename": "名单" + id + ".csv", "phones": []string{phone}}
	if err := audit.Record(actor(1), db, audit.ActionCreate, "import", "i1", details); err != nil {
		t.Fatal(err)
	}
	r := audit.NewReads(db, audit.ReadsOptions{Interval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	r.Record(actor(2), "residents", "list", details)
	r.Close(context.Background())
	if details["q"] != "138 0013 8000" {
		t.Fatalf("the caller's details were changed: %v", details)
	}
	var rows []string
	if err := db.NewSelect().TableExpr("audit_log").ColumnExpr("details").Scan(context.Background(), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	for _, raw := range rows {
		for _, leak := range []string{phone, "0013 8000", id, "19450601"} {
			if strings.Contains(raw, leak) {
				t.Errorf("%s stored in clear: %s", leak, raw)
			}
		}
		if !strings.Contains(raw, "138****8000") || !strings.Contains(raw, "4503**********0020") {
			t.Errorf("not masked as the readers see it: %s", raw)
		}
	}
}
