package logs

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/sheet"
	"github.com/wanjia/wanjia/pkg/store"
)

// The logs leave the system as the sheets offices hand upwards: one row
// per entry in the order of the day, titles and kinds in the reader's
// language (these files are read, not imported back), numbers as numbers
// and days as dates, so a spreadsheet sums and filters them.

const exportBatch = 2000

// exportFormat checks ?format= before anything is written, so that a bad
// one is a clean 422 rather than a broken download.
func exportFormat(format string) (sheet.Format, error) {
	switch format {
	case "csv":
		return sheet.CSV, nil
	case "xlsx":
		return sheet.XLSX, nil
	}
	return "", errs.Validation(errs.Field("format", "one_of", map[string]any{"allowed": "csv, xlsx"}))
}

// titles is the column titles named by keys, in lang.
func titles(lang i18n.Lang, keys ...string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = i18n.T(lang, k, nil)
	}
	return out
}

// exportDetails is an export's audit entry: its size and the filter that
// chose its rows.
func exportDetails(f Filter, rows int) map[string]any {
	d := map[string]any{"rows": rows}
	for k, v := range map[string]string{"from": f.From, "to": f.To, "kind": f.Kind, "grid": f.Grid} {
		if v != "" {
			d[k] = v
		}
	}
	return d
}

// ExportPublicity writes the publicity log (filters as ListPublicity's)
// as CSV or XLSX with titles in lang, ordered by day. The export is
// audited.
func (s *Service) ExportPublicity(ctx context.Context, f Filter, format string, lang i18n.Lang, w io.Writer) error {
	sf, err := exportFormat(format)
	if err != nil {
		return err
	}
	return scope.Do(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) error {
		var rows []Publicity
		query := func() (*bun.SelectQuery, error) { return logFilter(tx.Select(&rows), g, f, "p", "date", true) }
		if _, err := query(); err != nil {
			return err
		}
		loc, err := zone(ctx, tx)
		if err != nil {
			return err
		}
		t, err := sheet.NewWriter(w, sf, sheet.Layout{Sheet: i18n.T(lang, "logs_sheet_publicity", nil),
			Widths: []float64{12, 10, 8, 12, 40, 12, 18}})
		if err != nil {
			return err
		}
		if err := t.Row(titles(lang, "logs_col_date", "logs_col_kind", "logs_col_count", "logs_col_grid",
			"logs_col_notes", "logs_col_by", "logs_col_recorded_at")); err != nil {
			return err
		}
		whole := i18n.T(lang, "logs_whole_community", nil)
		n, afterDate, afterID := 0, "", ""
		for {
			rows = rows[:0]
			q, _ := query()
			if afterID != "" {
				q = q.Where("(p.date, p.id) > (?, ?)", afterDate, afterID)
			}
			if err := q.OrderExpr("p.date ASC, p.id ASC").Limit(exportBatch).Scan(ctx); err != nil {
				return fmt.Errorf("export publicity: %w", err)
			}
			for i := range rows {
				p := &rows[i]
				grid := gridSlug(g, p.GridID)
				if grid == "" {
					grid = whole
				}
				if err := t.Typed([]any{sheet.Date(p.Date), i18n.T(lang, "publicity_kind_"+p.Kind, nil), p.Count, grid,
					p.Notes, p.ByName, p.CreatedAt.In(loc)}); err != nil {
					return err
				}
				n++
			}
			if len(rows) < exportBatch {
				break
			}
			afterDate, afterID = rows[len(rows)-1].Date, rows[len(rows)-1].ID
		}
		if err := t.Close(); err != nil {
			return fmt.Errorf("write publicity export: %w", err)
		}
		return audit.Record(ctx, tx, audit.ActionExport, "publicity", format, exportDetails(f, n))
	})
}

// ExportDisinfections writes the disinfection log (filters as
// ListDisinfections') as CSV or XLSX with titles in lang, ordered by
// time, times in the community's zone. The export is audited.
func (s *Service) ExportDisinfections(ctx context.Context, f Filter, format string, lang i18n.Lang, w io.Writer) error {
	sf, err := exportFormat(format)
	if err != nil {
		return err
	}
	f.Kind = ""
	return scope.Do(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) error {
		var rows []Disinfection
		query := func() (*bun.SelectQuery, error) { return logFilter(tx.Select(&rows), g, f, "d", "local_date", false) }
		if _, err := query(); err != nil {
			return err
		}
		loc, err := zone(ctx, tx)
		if err != nil {
			return err
		}
		t, err := sheet.NewWriter(w, sf, sheet.Layout{Sheet: i18n.T(lang, "logs_sheet_disinfections", nil),
			Widths: []float64{12, 18, 30, 12, 12, 40}})
		if err != nil {
			return err
		}
		if err := t.Row(titles(lang, "logs_col_date", "logs_col_time", "logs_col_place", "logs_col_grid",
			"logs_col_done_by", "logs_col_notes")); err != nil {
			return err
		}
		whole := i18n.T(lang, "logs_whole_community", nil)
		n, afterAt, afterID := 0, time.Time{}, ""
		for {
			rows = rows[:0]
			q, _ := query()
			if afterID != "" {
				q = q.Where("(d.at, d.id) > (?, ?)", afterAt, afterID)
			}
			if err := q.OrderExpr("d.at ASC, d.id ASC").Limit(exportBatch).Scan(ctx); err != nil {
				return fmt.Errorf("export disinfections: %w", err)
			}
			for i := range rows {
				d := &rows[i]
				grid := gridSlug(g, d.GridID)
				if grid == "" {
					grid = whole
				}
				if err := t.Typed([]any{sheet.Date(d.LocalDate), d.At.In(loc), d.Place, grid, d.ByName, d.Notes}); err != nil {
					return err
				}
				n++
			}
			if len(rows) < exportBatch {
				break
			}
			afterAt, afterID = rows[len(rows)-1].At, rows[len(rows)-1].ID
		}
		if err := t.Close(); err != nil {
			return fmt.Errorf("write disinfection export: %w", err)
		}
		return audit.Record(ctx, tx, audit.ActionExport, "disinfections", format, exportDetails(f, n))
	})
}
