package roster

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/store"
)

// table writes rows to a CSV or an XLSX stream.
type table interface {
	row(cells []string) error
	close() error
}

type csvTable struct{ w *csv.Writer }

func (t *csvTable) row(cells []string) error { return t.w.Write(cells) }
func (t *csvTable) close() error             { t.w.Flush(); return t.w.Error() }

type xlsxTable struct {
	f   *excelize.File
	sw  *excelize.StreamWriter
	n   int
	out io.Writer
}

func (t *xlsxTable) row(cells []string) error {
	t.n++
	vals := make([]any, len(cells))
	for i, c := range cells {
		vals[i] = c // strings, so phones and ID numbers keep every digit
	}
	cell, _ := excelize.CoordinatesToCellName(1, t.n)
	return t.sw.SetRow(cell, vals)
}

func (t *xlsxTable) close() error {
	if err := t.sw.Flush(); err != nil {
		return err
	}
	_, err := t.f.WriteTo(t.out)
	return errorsJoin(err, t.f.Close())
}

func errorsJoin(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func newTable(format string, w io.Writer) (table, error) {
	if format == "csv" {
		// A BOM makes Excel in China open UTF-8 Chinese text correctly.
		if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
			return nil, err
		}
		return &csvTable{w: csv.NewWriter(w)}, nil
	}
	f := excelize.NewFile()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return nil, err
	}
	return &xlsxTable{f: f, sw: sw, out: w}, nil
}

// Export writes the roster (residents or households) as CSV or XLSX,
// masked per the caller's role; headers are bilingual so the file can be
// re-imported as it is. The export is audited.
func (s *Service) Export(ctx context.Context, kind, format string, w io.Writer) error {
	v := viewOf(ctx)
	count := 0
	err := s.inScope(ctx, func(ctx context.Context, tx *store.TenantTx, g *grids) error {
		var buildings []Building
		if err := tx.Select(&buildings).Scan(ctx); err != nil {
			return err
		}
		bname := map[string]string{}
		for _, b := range buildings {
			bname[b.ID] = b.Name
		}
		t, err := newTable(format, w)
		if err != nil {
			return err
		}
		if kind == KindHouseholds {
			count, err = s.exportHouseholds(ctx, tx, g, v, bname, t)
		} else {
			count, err = s.exportResidents(ctx, tx, g, v, bname, t)
		}
		if err != nil {
			return err
		}
		if err := t.close(); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
		return audit.Record(ctx, tx, audit.ActionExport, kind, format, map[string]any{"rows": count, "masked": !v.fullPhone})
	})
	return err
}

const exportPage = 2000

func (s *Service) exportHouseholds(ctx context.Context, tx *store.TenantTx, g *grids, v view, bname map[string]string, t table) (int, error) {
	if err := t.row(headers(householdFields)); err != nil {
		return 0, err
	}
	n, after := 0, ""
	for {
		var rows []Household
		q := g.limit(tx.Select(&rows).Where("h.deleted_at IS NULL"), "h.grid_id")
		if err := q.Where("h.id > ?", after).Order("h.id").Limit(exportPage).Scan(ctx); err != nil {
			return n, err
		}
		for i := range rows {
			hv := householdView(&rows[i], g, v)
			b := ""
			if rows[i].BuildingID != nil {
				b = bname[*rows[i].BuildingID]
			}
			if err := t.row([]string{hv.Grid, b, hv.Unit, hv.Room, hv.Address, hv.Phone, strings.Join(hv.Tags, ","), hv.Notes}); err != nil {
				return n, err
			}
			n++
		}
		if len(rows) < exportPage {
			return n, nil
		}
		after = rows[len(rows)-1].ID
	}
}

func (s *Service) exportResidents(ctx context.Context, tx *store.TenantTx, g *grids, v view, bname map[string]string, t table) (int, error) {
	if err := t.row(headers(residentFields)); err != nil {
		return 0, err
	}
	n, after := 0, ""
	for {
		var rows []struct {
			Resident  `bun:",extend"`
			HBuilding *string `bun:"h_building_id"`
			HUnit     string  `bun:"h_unit"`
			HRoom     string  `bun:"h_room"`
			HAddress  string  `bun:"h_address"`
		}
		q := tx.Select(&rows).ColumnExpr("r.*").
			ColumnExpr("h.building_id AS h_building_id, h.unit AS h_unit, h.room AS h_room, h.address AS h_address").
			Join("JOIN households AS h ON h.id = r.household_id AND h.tenant_id = r.tenant_id").
			Where("r.deleted_at IS NULL")
		q = g.limit(q, "r.grid_id")
		if err := q.Where("r.id > ?", after).Order("r.id").Limit(exportPage).Scan(ctx); err != nil {
			return n, err
		}
		for i := range rows {
			r := &rows[i]
			rv := residentView(&r.Resident, g, v, true)
			year := ""
			if rv.BirthYear != nil {
				year = strconv.Itoa(*rv.BirthYear)
			}
			b := ""
			if r.HBuilding != nil {
				b = bname[*r.HBuilding]
			}
			sex := map[string]string{"male": "男", "female": "女"}[rv.Sex]
			if err := t.row([]string{rv.Name, rv.Phone, rv.IDNumber, year, sex, strings.Join(rv.Tags, ","), rv.Grid, b, r.HUnit, r.HRoom, r.HAddress}); err != nil {
				return n, err
			}
			n++
		}
		if len(rows) < exportPage {
			return n, nil
		}
		after = rows[len(rows)-1].ID
	}
}
