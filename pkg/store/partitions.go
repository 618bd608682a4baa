package store

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"
)

// Partitions on PostgreSQL (migration 20261215000001_partitions): the big
// tables are partitioned by month, and the months are made ahead of time by
// the tables' owner, since the application's role cannot create tables.
// `wanjia migrate up` makes them after migrating; `wanjia migrate
// partitions`, run monthly by a CronJob with the migration secret, makes
// them and drops the months past the platform's maximum.

// Defaults of PartitionPolicy.
const (
	// DefaultMonthsAhead is how many months after the current one exist.
	DefaultMonthsAhead = 3
	// DefaultKeepYears is the platform's maximum: a month's partition is
	// dropped whole once its last instant is this many years old.
	DefaultKeepYears = 10
)

// PartitionPolicy says which months exist.
type PartitionPolicy struct {
	// Ahead is how many months after the current one are made (0: the
	// default, negative: none).
	Ahead int
	// KeepYears is the platform's maximum age of a row, in years (0: the
	// default); Drop removes the months wholly past it.
	KeepYears int
	// Drop asks for the months past KeepYears to be dropped (migrate
	// partitions does; migrate up only makes months).
	Drop bool
	// Now is the current instant (zero: the clock).
	Now time.Time
}

// PartitionReport is what MaintainPartitions did.
type PartitionReport struct {
	Created []string // partitions made
	Dropped []string // partitions dropped
	// Analyzed are the partitioned tables whose statistics were renewed
	// (with Drop: the CronJob's run).
	Analyzed []string
}

// keyTables are the key tables of a partitioned table and the column that
// names the partitioned row: dropping a month drops its keys.
var keyTables = map[string][]struct{ table, column string }{
	"outreach_messages": {{"outreach_phone_keys", "message_id"}, {"outreach_notice_keys", "message_id"}},
	"isolation_checkins": {{"isolation_checkin_day_keys", "checkin_id"}, {"isolation_checkin_reply_keys", "checkin_id"},
		{"isolation_checkin_call_keys", "checkin_id"}},
}

var monthPart = regexp.MustCompile(`_p(\d{6})$`)

// MaintainPartitions makes the current month's partition and p.Ahead
// more of every partitioned table, and the months the default partitions
// hold rows for (rows written while their month was missing move into it);
// with p.Drop it drops the months wholly older than p.KeepYears. Running
// it again changes nothing. It needs the right to create tables (the
// owner's), and does nothing on SQLite.
func (db *DB) MaintainPartitions(ctx context.Context, p PartitionPolicy) (PartitionReport, error) {
	var rep PartitionReport
	if db.dialect != Postgres {
		return rep, nil
	}
	if p.Ahead == 0 {
		p.Ahead = DefaultMonthsAhead
	}
	if p.KeepYears <= 0 {
		p.KeepYears = DefaultKeepYears
	}
	if p.Now.IsZero() {
		p.Now = time.Now()
	}
	now := p.Now.UTC()
	current := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	// Partition maintenance moves and deletes rows of every tenant.
	ctx = context.WithValue(ctx, acrossKey{}, "partition maintenance")
	ctx, _ = withTxSettings(ctx, "statement_timeout", "0", "app.tenant_ids", "*")
	var parents []struct {
		Name   string `bun:"name"`
		Column string `bun:"col"`
	}
	err := db.NewRaw(`SELECT c.relname AS name, a.attname AS col FROM pg_partitioned_table pt
		JOIN pg_class c ON c.oid = pt.partrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = pt.partrelid AND a.attnum = pt.partattrs[0]
		WHERE n.nspname = current_schema() AND a.attname IN ('id', 'at') ORDER BY 1`).Scan(ctx, &parents)
	if err != nil {
		return rep, fmt.Errorf("partitions: list partitioned tables: %w", err)
	}
	for _, parent := range parents {
		months := []time.Time{}
		for i := range max(p.Ahead, 0) + 1 {
			months = append(months, current.AddDate(0, i, 0))
		}
		// Rows the default partition took for want of their month.
		var stray []time.Time
		monthOf := `date_trunc('month', wanjia_uuid7_time(id) AT TIME ZONE 'UTC')`
		if parent.Column == "at" {
			monthOf = `date_trunc('month', at AT TIME ZONE 'UTC')`
		}
		err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			return tx.NewRaw(fmt.Sprintf(`SELECT DISTINCT %s AS m FROM ? WHERE %s IS NOT NULL`, monthOf, monthOf),
				bun.Ident(parent.Name+"_default")).Scan(ctx, &stray)
		})
		if err != nil {
			return rep, fmt.Errorf("partitions: %s: rows in the default partition: %w", parent.Name, err)
		}
		for _, m := range stray {
			months = append(months, m.UTC())
		}
		for _, m := range months {
			var made bool
			err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
				// Replicas starting together on a fresh database (or a
				// CronJob beside a start) make the same month at once: the
				// second would collide in the catalogue (pg_type's unique
				// name). One at a time, the second finds it made.
				if err := lockTx(ctx, tx, "partitions"); err != nil {
					return err
				}
				return tx.NewRaw(`SELECT wanjia_month_partition(?::regclass, ?::date)`, parent.Name, m.Format(time.DateOnly)).Scan(ctx, &made)
			})
			if err != nil {
				return rep, fmt.Errorf("partitions: %s %s: %w", parent.Name, m.Format("2006-01"), err)
			}
			if made {
				rep.Created = append(rep.Created, fmt.Sprintf("%s_p%s", parent.Name, m.Format("200601")))
			}
		}
		if !p.Drop {
			continue
		}
		dropped, err := db.dropMonths(ctx, parent.Name, now.AddDate(-p.KeepYears, 0, 0))
		rep.Dropped = append(rep.Dropped, dropped...)
		if err != nil {
			return rep, err
		}
		// Autovacuum analyzes the partitions but never their parent, whose
		// statistics plan every query that spans months (a rollup grouping
		// a month's attempts was estimated at 129 rows for 50,000 without
		// them, and sorted on disk).
		if _, err := db.NewRaw("ANALYZE ?", bun.Ident(parent.Name)).Exec(ctx); err != nil {
			return rep, fmt.Errorf("partitions: analyze %s: %w", parent.Name, err)
		}
		rep.Analyzed = append(rep.Analyzed, parent.Name)
	}
	slices.Sort(rep.Created)
	return rep, nil
}

// dropMonths drops parent's month partitions that end at or before cutoff,
// each in a transaction of its own with its keys and the rows that refer to
// its rows by foreign key (a follow-up of a ten-year-old attempt is as old).
func (db *DB) dropMonths(ctx context.Context, parent string, cutoff time.Time) ([]string, error) {
	var parts []string
	err := db.NewRaw(`SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = ?::regclass ORDER BY 1`, parent).Scan(ctx, &parts)
	if err != nil {
		return nil, fmt.Errorf("partitions: list %s: %w", parent, err)
	}
	var dropped []string
	for _, part := range parts {
		sm := monthPart.FindStringSubmatch(part)
		if sm == nil || part != parent+"_p"+sm[1] {
			continue // the default partition, or no month of ours
		}
		month, err := time.Parse("200601", sm[1])
		if err != nil || month.AddDate(0, 1, 0).After(cutoff) {
			continue
		}
		err = db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			var refs []struct {
				Table string `bun:"tbl"`
				From  string `bun:"from_cols"`
				To    string `bun:"to_cols"`
			}
			if err := tx.NewRaw(`SELECT k.conrelid::regclass::text AS tbl,
					(SELECT string_agg(quote_ident(a.attname), ',' ORDER BY x.n) FROM unnest(k.conkey) WITH ORDINALITY AS x(att, n)
						JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = x.att) AS from_cols,
					(SELECT string_agg(quote_ident(a.attname), ',' ORDER BY x.n) FROM unnest(k.confkey) WITH ORDINALITY AS x(att, n)
						JOIN pg_attribute a ON a.attrelid = k.confrelid AND a.attnum = x.att) AS to_cols
				FROM pg_constraint k WHERE k.contype = 'f' AND k.confrelid = ?::regclass AND k.conparentid = 0`, parent).Scan(ctx, &refs); err != nil {
				return err
			}
			for _, r := range refs {
				q := fmt.Sprintf("DELETE FROM %s WHERE (%s) IN (SELECT %s FROM %s)", r.Table, r.From, r.To, pgx.Identifier{part}.Sanitize())
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return fmt.Errorf("rows of %s referring to it: %w", r.Table, err)
				}
			}
			for _, k := range keyTables[parent] {
				if _, err := tx.NewRaw(`DELETE FROM ? WHERE ? >= wanjia_uuid7_floor(?::timestamptz) AND ? < wanjia_uuid7_floor(?::timestamptz)`,
					bun.Ident(k.table), bun.Ident(k.column), month, bun.Ident(k.column), month.AddDate(0, 1, 0)).Exec(ctx); err != nil {
					return fmt.Errorf("keys in %s: %w", k.table, err)
				}
			}
			if _, err := tx.NewRaw(`ALTER TABLE ? DETACH PARTITION ?`, bun.Ident(parent), bun.Ident(part)).Exec(ctx); err != nil {
				return err
			}
			_, err := tx.NewRaw(`DROP TABLE ?`, bun.Ident(part)).Exec(ctx)
			return err
		})
		if err != nil {
			return dropped, fmt.Errorf("partitions: drop %s: %w", part, err)
		}
		dropped = append(dropped, part)
	}
	return dropped, nil
}
