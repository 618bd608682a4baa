package roster_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/store/storetest"
)

// TestImportBoundsRejectedRows: an import keeps at most MaxRejectedRows
// rejected rows (and MaxRejectedBytes of their cells); past that it stops
// as failed, saying why in both languages, and what it saved stays saved:
// good rows, and the rejected rows kept, in the rejected-rows file. A file
// that is the wrong one (a small XLSX of endless rows that all fail) no
// longer stores a rejected row for each. At the limit exactly, the import
// is done as usual.
func TestImportBoundsRejectedRows(t *testing.T) {
	notes := strings.Repeat("备注", 100) // 600 bytes a row
	for _, c := range []struct {
		name          string
		rows, bytes   int // lowered limits; 0 keeps the real ones
		good, bad     int
		badNotes      string
		crashAfter    int // the import's worker dies after this many batches first
		status, key   string
		kept, created int
	}{
		{name: "an XLSX of endless bad rows", good: 3, bad: roster.MaxRejectedRows + 2500,
			status: "failed", key: "import_too_many_rejected", kept: roster.MaxRejectedRows, created: 3},
		{name: "at the limit", rows: 5, bytes: 1 << 20, good: 3, bad: 5, status: "done", kept: 5, created: 3},
		{name: "one past the limit", rows: 5, bytes: 1 << 20, good: 3, bad: 6, status: "failed", key: "import_too_many_rejected", kept: 5, created: 3},
		{name: "resumed past the limit", rows: 5, bytes: 1 << 20, good: 3, bad: 9, crashAfter: 1,
			status: "failed", key: "import_too_many_rejected", kept: 5, created: 3},
		{name: "too many bytes", rows: 100, bytes: 4000, good: 3, bad: 20, badNotes: notes,
			status: "failed", key: "import_rejected_too_large", kept: 6, created: 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.rows > 0 {
				defer roster.SetRejectedLimits(c.rows, c.bytes)()
				defer roster.SetImportBatch(4)()
			}
			db := storetest.New(t)
			ctx := community(t, db)
			s := &roster.Service{DB: db}
			// The good rows first, then the bad ones (an unknown grid).
			rows := [][]any{{"网格", "地址", "备注"}}
			for i := range c.good {
				rows = append(rows, []any{"g1", fmt.Sprintf("育才路%d号", i+1), ""})
			}
			for i := range c.bad {
				rows = append(rows, []any{"nope", fmt.Sprintf("七星路%d号", i+1), c.badNotes})
			}
			data := streamXLSX(t, rows)
			var imp *roster.Import
			var err error
			if c.crashAfter > 0 {
				restore := roster.CrashAfterBatches(c.crashAfter)
				_, err = s.ImportNow(ctx, roster.KindHouseholds, "a.xlsx", data)
				restore()
				if err == nil {
					t.Fatal("the simulated crash did not stop the import")
				}
				var id string
				if err := db.AcrossTenants(ctx, "test", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
					return tx.NewSelect().TableExpr("imports").Column("id").Scan(ctx, &id)
				}); err != nil {
					t.Fatal(err)
				}
				if err := s.RunImport(ctx, id); err != nil {
					t.Fatal(err)
				}
				imp, err = s.GetImport(ctx, id)
			} else {
				imp, err = s.ImportNow(ctx, roster.KindHouseholds, "a.xlsx", data)
			}
			if err != nil {
				t.Fatal(err)
			}
			if imp.Status != c.status || imp.Message != c.key || imp.Created != c.created {
				t.Fatalf("import: status %s message %q created %d rows %d errors %d", imp.Status, imp.Message, imp.Created, imp.Rows, imp.ErrorCount)
			}
			if c.key != "" {
				zh, en := i18n.T(i18n.ZH, imp.Message, imp.MessageArgs), i18n.T(i18n.EN, imp.Message, imp.MessageArgs)
				if strings.Contains(zh, "{") || strings.Contains(en, "{") || !strings.Contains(zh, "导入已停止") || !strings.Contains(en, "stopped") {
					t.Fatalf("messages: %q / %q", zh, en)
				}
			}
			hs, _, err := s.ListHouseholds(ctx, roster.Filter{Limit: 50})
			if err != nil || len(hs) != c.created {
				t.Fatalf("households saved: %d %v", len(hs), err)
			}
			var file bytes.Buffer
			if err := s.RejectedRows(ctx, imp.ID, "csv", i18n.EN, &file); err != nil {
				t.Fatal(err)
			}
			got, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(file.Bytes(), []byte("\xEF\xBB\xBF")))).ReadAll()
			if err != nil || len(got)-1 != c.kept {
				t.Fatalf("rejected rows kept: %d, want %d (%v)", len(got)-1, c.kept, err)
			}
		})
	}
}

// streamXLSX writes rows as an XLSX, streamed, as a large upload is made.
func streamXLSX(t *testing.T, rows [][]any) []byte {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
