package roster

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/sheet"
	"github.com/wanjia/wanjia/pkg/store"
)

// rejectedRow is a row an import did not save: why, and what it held.
type rejectedRow struct {
	bun.BaseModel `bun:"table:import_errors,alias:ie"`
	TenantID      string    `bun:"tenant_id"`
	ImportID      string    `bun:"import_id"`
	Line          int       `bun:"line"`
	Problems      []problem `bun:"problems"`
	Cells         []string  `bun:"cells"`
}

// problem is one reason a row was rejected, as a message key.
type problem struct {
	Field string         `json:"field,omitempty"`
	Key   string         `json:"key"`
	Args  map[string]any `json:"args,omitempty"`
}

// fail records a problem with the row at line; the row is saved with the
// batch's transaction (see saveRejected).
func (b *batcher) fail(line int, field, key string, args map[string]any) {
	b.imp.ErrorCount++
	r := b.rejected[line]
	if r == nil {
		r = &rejectedRow{Line: line}
		b.rejected[line] = r
	}
	r.Problems = append(r.Problems, problem{Field: field, Key: key, Args: args})
}

func (b *batcher) failFields(line int, fe []errs.FieldError) {
	for _, f := range fe {
		b.fail(line, f.Field, f.Key, f.Args)
	}
}

// saveRejected writes the rows of this batch that were not saved, with
// their cells, so that nothing an office uploaded is lost unexplained.
func (b *batcher) saveRejected(ctx context.Context, tx *store.TenantTx) error {
	if len(b.rejected) == 0 {
		return nil
	}
	cells := make(map[int][]string, len(b.rows))
	for _, r := range b.rows {
		cells[r.line] = r.values
	}
	rows := make([]*rejectedRow, 0, len(b.rejected))
	for _, r := range b.rejected {
		r.TenantID, r.ImportID, r.Cells = tx.Tenant(), b.imp.ID, cells[r.Line]
		if r.Cells == nil {
			r.Cells = []string{} // a row the reader could not read
		}
		rows = append(rows, r)
	}
	clear(b.rejected)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Line < rows[j].Line })
	rows = b.keep(rows)
	if len(rows) == 0 {
		return nil
	}
	if _, err := tx.Insert(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("import: save rejected rows: %w", err)
	}
	return nil
}

// keep returns the first of rows that fit within rejectedLimits, counting
// them; past the limits it sets b.stop, which ends the import once this
// batch (its good rows and the rejected rows kept) is committed.
func (b *batcher) keep(rows []*rejectedRow) []*rejectedRow {
	for i, r := range rows {
		size := 0
		for _, c := range r.Cells {
			size += len(c)
		}
		switch {
		case b.keptRows >= rejectedLimits.rows:
			b.stop = &importStop{key: keyTooManyRejected, args: map[string]any{"max": rejectedLimits.rows}}
		case b.keptBytes+size > rejectedLimits.bytes:
			b.stop = &importStop{key: keyRejectedTooLarge, args: map[string]any{"max": rejectedLimits.bytes >> 20, "rows": b.keptRows}}
		}
		if b.stop != nil {
			return rows[:i]
		}
		b.keptRows++
		b.keptBytes += size
	}
	return rows
}

// countRejected counts, for a resumed import, the rejected rows that its
// earlier runs kept.
func (b *batcher) countRejected(ctx context.Context) error {
	return b.s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		var rows []rejectedRow // at most the limits: a few megabytes, once
		if err := tx.Select(&rows).Column("cells").Where("ie.import_id = ?", b.imp.ID).Scan(ctx); err != nil {
			return fmt.Errorf("import: count rejected rows: %w", err)
		}
		for _, r := range rows {
			b.keptRows++
			for _, c := range r.Cells {
				b.keptBytes += len(c)
			}
		}
		return nil
	})
}

// Why an import stopped early (see MaxRejectedRows).
const (
	keyTooManyRejected  = "import_too_many_rejected"
	keyRejectedTooLarge = "import_rejected_too_large"
)

// shownErrors lists the problems of an import's first rejected rows, and
// whether there are more.
func shownErrors(ctx context.Context, tx *store.TenantTx, importID string) ([]RowError, bool, error) {
	var rows []rejectedRow
	if err := tx.Select(&rows).Column("line", "problems").Where("ie.import_id = ?", importID).
		Order("ie.line").Limit(maxShownRows + 1).Scan(ctx); err != nil {
		return nil, false, fmt.Errorf("import errors: %w", err)
	}
	more := len(rows) > maxShownRows
	if more {
		rows = rows[:maxShownRows]
	}
	out := []RowError{}
	for _, r := range rows {
		for _, p := range r.Problems {
			out = append(out, RowError{Row: r.Line, Field: p.Field, Key: p.Key, Args: p.Args})
		}
	}
	return out, more, nil
}

// headerOf is the bilingual column header of a field ("姓名 name"), which
// the importer reads back.
func headerOf(f sheet.Field) string { return f.Aliases[0] + " " + f.Name }

func headers(fields []sheet.Field) []string {
	out := make([]string, len(fields))
	for i, f := range fields {
		out[i] = headerOf(f)
	}
	return out
}

const rejectedPage = 2000

// rejectedCells is a rejected row as the file shows it, typed as exports
// are: the line is a number cell, and so is a birth year that is a plain
// number (column year of the cells; -1 for none). Whatever else the office
// typed stays text as typed ("六十年代" may be why the row is here).
func rejectedCells(r rejectedRow, problems string, year int) []any {
	out := make([]any, 0, 2+len(r.Cells))
	out = append(out, r.Line, problems)
	for i, c := range r.Cells {
		if i == year {
			if n, err := strconv.Atoi(c); err == nil && strconv.Itoa(n) == c {
				out = append(out, n)
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

// RejectedRows writes an import's rejected rows as CSV or XLSX: the line,
// the problems in lang, then the row's cells under the import's own
// headers, so the office can fix the file and upload it again as it is
// (the first two columns are ignored on import). The download is audited:
// the rows hold personal data as the office typed it.
func (s *Service) RejectedRows(ctx context.Context, id, format string, lang i18n.Lang, w io.Writer) error {
	return s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		imp := new(Import)
		err := tx.Select(imp).Column("id", "kind", "status").Where("i.id = ?", id).Scan(ctx)
		if err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFound()
			}
			return err
		}
		if imp.Status != "done" && imp.Status != "failed" {
			return errs.Conflict("import_not_finished", nil)
		}
		fields := fieldsFor(imp.Kind)
		header := []string{i18n.T(lang, "rejected_line", nil), i18n.T(lang, "rejected_problems", nil)}
		header = append(header, headers(fields)...)
		label, year := map[string]string{}, -1
		for i, f := range fields {
			if f.Name == "birth_year" {
				year = i
			}
			label[f.Name] = f.Name
			if lang == i18n.ZH {
				label[f.Name] = f.Aliases[0]
			}
		}
		t, err := newTable(format, w)
		if err != nil {
			return err
		}
		if err := t.row(header); err != nil {
			return err
		}
		n, after := 0, 0
		for {
			var rows []rejectedRow
			if err := tx.Select(&rows).Where("ie.import_id = ? AND ie.line > ?", id, after).
				Order("ie.line").Limit(rejectedPage).Scan(ctx); err != nil {
				return fmt.Errorf("rejected rows: %w", err)
			}
			for _, r := range rows {
				msgs := make([]string, len(r.Problems))
				for i, p := range r.Problems {
					msgs[i] = i18n.T(lang, p.Key, p.Args)
					if l := label[p.Field]; l != "" {
						msgs[i] = l + ": " + msgs[i]
					}
				}
				if err := t.typed(rejectedCells(r, strings.Join(msgs, "; "), year)); err != nil {
					return err
				}
				n++
			}
			if len(rows) < rejectedPage {
				break
			}
			after = rows[len(rows)-1].Line
		}
		if err := t.close(); err != nil {
			return fmt.Errorf("write rejected rows: %w", err)
		}
		return audit.Record(ctx, tx, audit.ActionExport, "import", id, map[string]any{"rejected_rows": n, "format": format})
	})
}
