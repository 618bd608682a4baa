package roster

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/xuri/excelize/v2"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/sheet"
	"github.com/wanjia/wanjia/pkg/store"
)

// table writes rows to a CSV or an XLSX stream. The first row written is
// the header.
type table interface {
	// row writes a row of text cells.
	row(cells []string) error
	// typed writes a row whose cells are text (string), whole numbers
	// (int: a number cell in XLSX) or empty (nil).
	typed(cells []any) error
	close() error
}

type csvTable struct {
	w   *csv.Writer
	buf []string
}

// row writes cells with formula-like values neutralised (a leading
// apostrophe, see sheet.EscapeFormula): a name such as "=HYPERLINK(...)"
// must reach the office's spreadsheet program as text, not as code. The
// importer drops the apostrophe again, so the file still imports as it is.
func (t *csvTable) row(cells []string) error {
	t.buf = t.buf[:0]
	for _, c := range cells {
		t.buf = append(t.buf, sheet.EscapeFormula(c))
	}
	return t.w.Write(t.buf)
}

func (t *csvTable) typed(cells []any) error {
	t.buf = t.buf[:0]
	for _, c := range cells {
		switch c := c.(type) {
		case string:
			t.buf = append(t.buf, sheet.EscapeFormula(c))
		case int:
			t.buf = append(t.buf, sheet.EscapeFormula(strconv.Itoa(c)))
		case nil:
			t.buf = append(t.buf, "")
		default:
			return fmt.Errorf("export: cell of type %T", c)
		}
	}
	return t.w.Write(t.buf)
}

func (t *csvTable) close() error { t.w.Flush(); return t.w.Error() }

// layout is how an XLSX table looks: its sheet's name and its columns'
// least widths (in characters; a column is widened to fit its title).
type layout struct {
	sheet  string
	widths []float64
}

// xlsxTable streams one sheet (excelize's StreamWriter keeps a bounded
// buffer in memory and the rest in a temp file). Text is written as
// inline string cells: phones and ID numbers keep every digit and leading
// zero, and a value that looks like a formula ("=1+2") is shown, never
// run, so no escaping is needed here. Whole numbers are number cells.
type xlsxTable struct {
	f      *excelize.File
	sw     *excelize.StreamWriter
	lay    layout
	n      int
	vals   []any
	header int // style of the header row
	out    io.Writer
}

func (t *xlsxTable) row(cells []string) error {
	t.vals = t.vals[:0]
	for _, c := range cells {
		t.vals = append(t.vals, xlsxValue(c))
	}
	return t.write(t.vals)
}

func (t *xlsxTable) typed(cells []any) error {
	t.vals = t.vals[:0]
	for _, c := range cells {
		switch c := c.(type) {
		case string:
			t.vals = append(t.vals, xlsxValue(c))
		case int, nil:
			t.vals = append(t.vals, c)
		default:
			return fmt.Errorf("export: cell of type %T", c)
		}
	}
	return t.write(t.vals)
}

// xlsxValue is a text cell's value: an empty one is left out (a blank
// cell, as a reader expects, rather than a string of nothing).
func xlsxValue(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (t *xlsxTable) write(vals []any) error {
	t.n++
	cell, _ := excelize.CoordinatesToCellName(1, t.n)
	if t.n > 1 {
		return t.sw.SetRow(cell, vals)
	}
	// The header: the columns' widths and the frozen first row must be set
	// before any row is written. Widths are set from the last column to
	// the first: excelize puts each before those set already, and readers
	// want them in order.
	for i := len(vals) - 1; i >= 0; i-- {
		v, w := vals[i], 0.0
		if i < len(t.lay.widths) {
			w = t.lay.widths[i]
		}
		if s, ok := v.(string); ok {
			w = max(w, textWidth(s)+2)
		}
		if w > 0 {
			if err := t.sw.SetColWidth(i+1, i+1, min(w, 80)); err != nil {
				return err
			}
		}
	}
	if err := t.sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return err
	}
	return t.sw.SetRow(cell, vals, excelize.RowOpts{StyleID: t.header})
}

// textWidth is how many character widths s takes in a spreadsheet: two
// for a Chinese character or a full-width sign, one for the rest.
func textWidth(s string) float64 {
	w := 0.0
	for _, r := range s {
		if r >= 0x2E80 {
			w += 2
		} else {
			w++
		}
	}
	return w
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

// newTable is a table with the default sheet and no widths of its own.
func newTable(format string, w io.Writer) (table, error) {
	return newLaidOutTable(format, layout{}, w)
}

// newLaidOutTable is a table whose XLSX sheet has the layout's name and
// column widths.
func newLaidOutTable(format string, lay layout, w io.Writer) (table, error) {
	if format == "csv" {
		// A BOM makes Excel in China open UTF-8 Chinese text correctly.
		if _, err := w.Write([]byte("\xEF\xBB\xBF")); err != nil {
			return nil, err
		}
		return &csvTable{w: csv.NewWriter(w)}, nil
	}
	f := excelize.NewFile()
	name := "Sheet1"
	if lay.sheet != "" {
		if err := f.SetSheetName(name, lay.sheet); err != nil {
			_ = f.Close()
			return nil, err
		}
		name = lay.sheet
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	sw, err := f.NewStreamWriter(name)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	return &xlsxTable{f: f, sw: sw, lay: lay, header: bold, out: w}, nil
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
func exportLayout(kind string) layout {
	fields, name := residentFields, "居民"
	if kind == KindHouseholds {
		fields, name = householdFields, "住户"
	}
	width := map[string]float64{"name": 10, "phone": 15, "id_number": 21, "birth_year": 8, "sex": 6, "tags": 18,
		"grid": 10, "building": 8, "unit": 8, "room": 8, "address": 32, "notes": 30}
	lay := layout{sheet: name, widths: make([]float64, len(fields))}
	for i, f := range fields {
		lay.widths[i] = width[f.Name]
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
