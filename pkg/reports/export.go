package reports

import (
	"context"
	"io"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/sheet"
	"github.com/wanjia/wanjia/pkg/store"
)

// The export is the sheet a community or a sub-district hands upwards:
// Chinese headers whatever the reader's language (the file goes to
// offices, not back into the system), a title row naming the org and the
// day above a frozen header, numbers as number cells.

// exportFormat checks ?format= before anything is written.
func exportFormat(format string) (sheet.Format, error) {
	switch format {
	case "csv":
		return sheet.CSV, nil
	case "xlsx":
		return sheet.XLSX, nil
	}
	return "", errs.Validation(errs.Field("format", "one_of", map[string]any{"allowed": "csv, xlsx"}))
}

// Label is a figure's name in lang (a key of Keys or ManualKeys).
func Label(lang i18n.Lang, key string) string {
	if isManualKey(key) {
		return i18n.T(lang, "reports_manual_"+key, nil)
	}
	return i18n.T(lang, "reports_figure_"+key, nil)
}

// StatusLabel is a status's name in lang.
func StatusLabel(lang i18n.Lang, status string) string {
	return i18n.T(lang, "reports_status_"+status, nil)
}

// Export writes the day's report of the caller's org as format (csv or
// xlsx): on a community a row per figure, above the communities a row per
// community and a totals row. The export is audited.
func (s *Service) Export(ctx context.Context, date, format string, w io.Writer) error {
	sf, err := exportFormat(format)
	if err != nil {
		return err
	}
	if _, err := parseDay("date", date); err != nil {
		return err
	}
	if c, ok := authz.CallerFrom(ctx); ok && c.Org != nil && !c.Org.IsCommunity() {
		return s.exportRollup(ctx, date, sf, w)
	}
	return scope.Do(ctx, s.Frame, func(ctx context.Context, tx *store.TenantTx, _ *scope.Grids) error {
		c, err := orgs.CommunityOf(ctx, tx)
		if err != nil {
			return err
		}
		rep, err := s.view(ctx, tx, c, date)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx, audit.ActionExport, "daily_report", date,
			map[string]any{"format": format, "status": rep.Status, "version": rep.Version}); err != nil {
			return err
		}
		zh := i18n.ZH
		t, err := sheet.NewWriter(w, sf, sheet.Layout{Sheet: i18n.T(zh, "reports_sheet", nil), Widths: []float64{24, 12},
			Title: i18n.T(zh, "reports_title", map[string]any{"org": c.Name, "date": date}) + " " + StatusLabel(zh, rep.Status)})
		if err != nil {
			return err
		}
		if err := t.Row([]string{i18n.T(zh, "reports_col_item", nil), i18n.T(zh, "reports_col_value", nil)}); err != nil {
			return err
		}
		for _, set := range []struct {
			keys []string
			in   Figures
		}{{Keys, rep.Figures}, {ManualKeys, rep.Manual}} {
			for _, k := range set.keys {
				if err := t.Typed([]any{Label(zh, k), set.in[k]}); err != nil {
					return err
				}
			}
		}
		return t.Close()
	})
}

// exportRollup is the rollup as a sheet: a row per community (its status
// and every figure) and a totals row.
func (s *Service) exportRollup(ctx context.Context, date string, sf sheet.Format, w io.Writer) error {
	r, err := s.Rollup(ctx, date)
	if err != nil {
		return err
	}
	err = s.DB.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return audit.Record(ctx, tx, audit.ActionExport, "daily_report", date,
			map[string]any{"format": string(sf), "communities": len(r.Communities), "missing": len(r.Missing)})
	})
	if err != nil {
		return err
	}
	zh := i18n.ZH
	header := []string{i18n.T(zh, "reports_col_community", nil), i18n.T(zh, "reports_col_status", nil)}
	widths := []float64{16, 8}
	for _, k := range append(append([]string{}, Keys...), ManualKeys...) {
		header = append(header, Label(zh, k))
		widths = append(widths, 10)
	}
	t, err := sheet.NewWriter(w, sf, sheet.Layout{Sheet: i18n.T(zh, "reports_sheet", nil), Widths: widths,
		Title: i18n.T(zh, "reports_title", map[string]any{"org": r.Name, "date": date})})
	if err != nil {
		return err
	}
	if err := t.Row(header); err != nil {
		return err
	}
	line := func(name, status string, figures, manual Figures) error {
		cells := []any{name, status}
		for _, k := range Keys {
			cells = append(cells, figures[k])
		}
		for _, k := range ManualKeys {
			cells = append(cells, manual[k])
		}
		return t.Typed(cells)
	}
	for _, c := range r.Communities {
		if err := line(c.Name, StatusLabel(zh, c.Status), c.Figures, c.Manual); err != nil {
			return err
		}
	}
	if err := line(i18n.T(zh, "reports_totals", nil), "", r.Totals, r.ManualTotals); err != nil {
		return err
	}
	return t.Close()
}
