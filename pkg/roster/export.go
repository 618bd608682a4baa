package roster

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/sheet"
	"github.com/wanjia/wanjia/pkg/store"
)

// table is the shared sheet writer (sheet.NewWriter) under the names
// roster's exports and rejected-row files were written against.
type table struct{ w sheet.Writer }

func (t table) row(cells []string) error { return t.w.Row(cells) }
func (t table) typed(cells []any) error  { return t.w.Typed(cells) }
func (t table) close() error             { return t.w.Close() }

// newTable is a table with the default sheet and no widths of its own.
func newTable(format string, w io.Writer) (table, error) {
	return newLaidOutTable(format, sheet.Layout{}, w)
}

// newLaidOutTable is a table whose XLSX sheet has the layout's name and
// column widths. Callers have checked the format; anything but "csv" is
// XLSX, as it always was.
func newLaidOutTable(format string, lay sheet.Layout, w io.Writer) (table, error) {
	f := sheet.XLSX
	if format == "csv" {
		f = sheet.CSV
	}
	sw, err := sheet.NewWriter(w, f, lay)
	if err != nil {
		return table{}, err
	}
	return table{w: sw}, nil
}

// ExportOptions are what the caller asked of an export beyond its kind and
// format.
type ExportOptions struct {
	// FullIDNumbers asks for whole ID numbers in a residents export
	// (?id_numbers=full). Only a role granted PermExportIDNumbers gets
	// them; anyone else asking is refused rather than quietly given masks.
	FullIDNumbers bool
}

// PermExportIDNumbers is the permission to export whole ID numbers. A file
// leaves the system for good, so it is a permission of its own (community
// admins' only), asked for explicitly, on top of roster/export.
var PermExportIDNumbers = authz.Perm{Resource: "residents_id_numbers", Action: "export"}

// rolePermits reports whether the permissions table grants role p. The
// route's check (roster/export) has already resolved the caller's role in
// this org and put it in the context; a further permission of that role
// is a line of the same static table, read here rather than through the
// Authorizer, which the roster service does not hold.
func rolePermits(role string, p authz.Perm) bool {
	return policySet()[[3]string{role, p.Resource, p.Action}]
}

var policySet = sync.OnceValue(func() map[[3]string]bool {
	set := map[[3]string]bool{}
	for _, l := range authz.Policy() {
		set[[3]string{l[0], l[1], l[2]}] = true
	}
	return set
})

// Export writes the roster (residents or households) as CSV or XLSX,
// masked per the caller's role, ID numbers masked as in lists; see
// ExportWith.
func (s *Service) Export(ctx context.Context, kind, format string, w io.Writer) error {
	return s.ExportWith(ctx, kind, format, ExportOptions{}, w)
}

// ExportWith writes the roster as Export does. Phones are masked per role
// as in lists. ID numbers are masked as in lists unless opts asks for them
// whole and the caller's role holds PermExportIDNumbers. Headers are
// bilingual so the file can be re-imported as it is; a masked column gets
// a title of its own ("身份证号（已隐藏） id_number_masked") that the
// importer does not know, so re-importing the file keeps the numbers on
// the roster instead of rejecting every row for a masked number. The
// export is audited, saying whether ID numbers were included whole.
func (s *Service) ExportWith(ctx context.Context, kind, format string, opts ExportOptions, w io.Writer) error {
	v := scope.ViewOf(ctx)
	if opts.FullIDNumbers && !rolePermits(v.Role, PermExportIDNumbers) {
		return errs.New(errs.KindForbidden, "export_id_numbers_forbidden", nil)
	}
	fullIDs := opts.FullIDNumbers && v.FullID
	count := 0
	err := scope.Do(ctx, s.frame(), func(ctx context.Context, tx *store.TenantTx, g *scope.Grids) error {
		var buildings []Building
		if err := tx.Select(&buildings).Scan(ctx); err != nil {
			return err
		}
		bname := map[string]string{}
		for _, b := range buildings {
			bname[b.ID] = b.Name
		}
		t, err := newLaidOutTable(format, exportLayout(kind), w)
		if err != nil {
			return err
		}
		details := map[string]any{"masked": !v.FullPhone}
		if kind == KindHouseholds {
			count, err = s.exportHouseholds(ctx, tx, g, v, bname, t)
		} else {
			count, err = s.exportResidents(ctx, tx, g, v, fullIDs, bname, t)
			details["id_numbers"] = map[bool]string{true: "full", false: "masked"}[fullIDs]
		}
		if err != nil {
			return err
		}
		if err := t.close(); err != nil {
			return fmt.Errorf("write export: %w", err)
		}
		details["rows"] = count
		return audit.Record(ctx, tx, audit.ActionExport, kind, format, details)
	})
	return err
}

// exportHeaders are the bilingual titles of fields, with masked fields
// retitled so that the importer leaves them alone (see ExportWith).
func exportHeaders(fields []sheet.Field, masked map[string]bool) []string {
	out := headers(fields)
	for i, f := range fields {
		if masked[f.Name] {
			out[i] = f.Aliases[0] + "（已隐藏） " + f.Name + "_masked"
		}
	}
	return out
}

func init() {
	i18n.Register(map[string]i18n.Message{
		"export_id_numbers_forbidden": {
			ZH: "只有社区管理员可以导出完整的身份证号",
			EN: "Only community admins may export whole ID numbers",
		},
		"export_id_numbers": {
			ZH: "id_numbers 应为 full（完整）或 masked（隐藏中间位）",
			EN: "id_numbers must be full or masked",
		},
	})
}

const exportPage = 2000

// exportLayout names an export's sheet and sizes its columns (least
// widths by field, in the order of householdFields and residentFields).
func exportLayout(kind string) sheet.Layout {
	fields, name := residentFields, "居民"
	if kind == KindHouseholds {
		fields, name = householdFields, "住户"
	}
	width := map[string]float64{"name": 10, "phone": 15, "id_number": 21, "birth_year": 8, "sex": 6, "tags": 18,
		"grid": 10, "building": 8, "unit": 8, "room": 8, "address": 32, "notes": 30}
	lay := sheet.Layout{Sheet: name, Widths: make([]float64, len(fields))}
	for i, f := range fields {
		lay.Widths[i] = width[f.Name]
	}
	return lay
}

func (s *Service) exportHouseholds(ctx context.Context, tx *store.TenantTx, g *scope.Grids, v scope.View, bname map[string]string, t table) (int, error) {
	if err := t.row(exportHeaders(householdFields, map[string]bool{"phone": !v.FullPhone})); err != nil {
		return 0, err
	}
	n, after := 0, ""
	for {
		var rows []Household
		q := g.Limit(tx.Select(&rows).Where("h.deleted_at IS NULL"), "h.grid_id")
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

func (s *Service) exportResidents(ctx context.Context, tx *store.TenantTx, g *scope.Grids, v scope.View, fullIDs bool, bname map[string]string, t table) (int, error) {
	if err := t.row(exportHeaders(residentFields, map[string]bool{"phone": !v.FullPhone, "id_number": !fullIDs})); err != nil {
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
		q = g.Limit(q, "r.grid_id")
		if err := q.Where("r.id > ?", after).Order("r.id").Limit(exportPage).Scan(ctx); err != nil {
			return n, err
		}
		for i := range rows {
			r := &rows[i]
			rv := residentView(&r.Resident, g, v, fullIDs)
			var year any // a number cell in XLSX; empty when unknown
			if rv.BirthYear != nil {
				year = *rv.BirthYear
			}
			b := ""
			if r.HBuilding != nil {
				b = bname[*r.HBuilding]
			}
			sex := map[string]string{"male": "男", "female": "女"}[rv.Sex]
			if err := t.typed([]any{rv.Name, rv.Phone, rv.IDNumber, year, sex, strings.Join(rv.Tags, ","), rv.Grid, b, r.HUnit, r.HRoom, r.HAddress}); err != nil {
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
