package roster

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hibiken/asynq"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/sheet"
	"github.com/wanjia/wanjia/pkg/store"
)

// Import limits: a community of 10,000 households fits many times over.
const (
	MaxImportBytes = 32 << 20
	MaxImportRows  = 200_000
	// MaxRejectedRows and MaxRejectedBytes (the rejected cells' text)
	// bound what one import keeps of the rows it could not save. A file
	// past them is not a roster with mistakes but the wrong file, or a
	// column that is wrong on every row (an XLSX of 430 KB held 3 million
	// such rows): the import stops there as failed, saying so, and what it
	// saved stays saved.
	MaxRejectedRows  = 10_000
	MaxRejectedBytes = 8 << 20
	// maxShownRows bounds the rejected rows an import's status lists; all
	// of them are in its rejected-rows file.
	maxShownRows = 1000
)

// rejectedLimits are MaxRejectedRows and MaxRejectedBytes, lowered by
// tests.
var rejectedLimits = struct{ rows, bytes int }{MaxRejectedRows, MaxRejectedBytes}

// Import kinds.
const (
	KindHouseholds = "households"
	KindResidents  = "residents"
)

// Import is an uploaded roster file and its outcome.
type Import struct {
	bun.BaseModel `bun:"table:imports,alias:i"`
	ID            string         `bun:"id,pk" json:"id"`
	TenantID      string         `bun:"tenant_id" json:"-"`
	Kind          string         `bun:"kind" json:"kind"`
	Status        string         `bun:"status" json:"status"`
	Filename      string         `bun:"filename" json:"filename"`
	Size          int64          `bun:"size" json:"size"`
	File          []byte         `bun:"file" json:"-"`
	Rows          int            `bun:"rows" json:"rows"`
	Created       int            `bun:"created" json:"created"`
	Updated       int            `bun:"updated" json:"updated"`
	Unchanged     int            `bun:"unchanged" json:"unchanged"`
	ErrorCount    int            `bun:"error_count" json:"error_count"`
	Message       string         `bun:"message" json:"message,omitempty"`
	MessageArgs   map[string]any `bun:"message_args" json:"-"`
	CreatedBy     string         `bun:"created_by" json:"-"`
	CreatedAt     time.Time      `bun:"created_at" json:"created_at"`
	StartedAt     *time.Time     `bun:"started_at" json:"started_at,omitempty"`
	FinishedAt    *time.Time     `bun:"finished_at" json:"finished_at,omitempty"`

	// Errors are the problems of the first rejected rows (see maxShownRows),
	// kept in import_errors; ErrorsTruncated says there are more.
	Errors          []RowError `bun:"-" json:"errors"`
	ErrorsTruncated bool       `bun:"-" json:"errors_truncated"`
}

// RowError explains why one row was not saved. Key and Args are stored;
// Message is rendered in the reader's language when the import is read.
type RowError struct {
	Row     int            `json:"row"`
	Field   string         `json:"field"`
	Message string         `json:"message,omitempty"`
	Key     string         `json:"key,omitempty"`
	Args    map[string]any `json:"args,omitempty"`
}

// The columns offices use, in Chinese and English.
var householdFields = []sheet.Field{
	{Name: "grid", Aliases: []string{"网格", "grid", "所属网格", "网格名称"}},
	{Name: "building", Aliases: []string{"楼栋", "building", "楼号", "楼栋号"}},
	{Name: "unit", Aliases: []string{"单元", "unit"}},
	{Name: "room", Aliases: []string{"房号", "room", "门牌号", "房间号"}},
	{Name: "address", Aliases: []string{"地址", "address", "住址", "家庭住址", "详细地址"}},
	{Name: "phone", Aliases: []string{"电话", "phone", "联系电话", "手机", "手机号"}},
	{Name: "tags", Aliases: []string{"标签", "tags"}},
	{Name: "notes", Aliases: []string{"备注", "notes"}},
}

var residentFields = []sheet.Field{
	{Name: "name", Aliases: []string{"姓名", "name", "名字"}, Required: true},
	{Name: "phone", Aliases: []string{"电话", "phone", "联系电话", "手机", "手机号"}},
	{Name: "id_number", Aliases: []string{"身份证号", "id_number", "身份证号码", "证件号码", "身份证"}},
	{Name: "birth_year", Aliases: []string{"出生年份", "birth_year", "出生年"}},
	{Name: "sex", Aliases: []string{"性别", "sex", "gender"}},
	{Name: "tags", Aliases: []string{"标签", "tags"}},
	{Name: "grid", Aliases: []string{"网格", "grid", "所属网格", "网格名称"}},
	{Name: "building", Aliases: []string{"楼栋", "building", "楼号", "楼栋号"}},
	{Name: "unit", Aliases: []string{"单元", "unit"}},
	{Name: "room", Aliases: []string{"房号", "room", "门牌号", "房间号"}},
	{Name: "address", Aliases: []string{"地址", "address", "住址", "家庭住址", "详细地址"}},
}

func fieldsFor(kind string) []sheet.Field {
	if kind == KindHouseholds {
		return householdFields
	}
	return residentFields
}

var importLimits = sheet.Limits{MaxBytes: MaxImportBytes, MaxRows: MaxImportRows, MaxCellRunes: 500}

// CreateImport checks an upload (size, format, header) at once, so a bad
// file is refused at upload with a clear 4xx, then stores it and queues it.
// The check reads only the head of the file (sheet.Check); whatever is
// wrong further down (a bad row, an XLSX that unpacks to too much) is
// found by the task and reported on the import.
func (s *Service) CreateImport(ctx context.Context, kind, filename string, data []byte) (*Import, error) {
	imp, err := s.storeImport(ctx, kind, filename, data)
	if err != nil {
		return nil, err
	}
	// The upload is saved: it will run whether or not the queue takes it
	// now, because the reconciler re-queues stored uploads within about a
	// minute. So the answer is the truth, 202, even with Redis down; a 503
	// here would make a client upload the same file twice.
	if err := s.enqueueImport(ctx, imp); err != nil && s.Logger != nil {
		s.Logger.Warn("import stored but not queued; the reconciler will queue it", "import_id", imp.ID, "err", err)
	}
	return imp, nil
}

// ImportNow stores and processes an upload in the caller's goroutine (the
// command line and benchmarks), returning the finished import.
func (s *Service) ImportNow(ctx context.Context, kind, filename string, data []byte) (*Import, error) {
	imp, err := s.storeImport(ctx, kind, filename, data)
	if err != nil {
		return nil, err
	}
	if err := s.RunImport(ctx, imp.ID); err != nil {
		return nil, err
	}
	return s.GetImport(ctx, imp.ID)
}

func (s *Service) storeImport(ctx context.Context, kind, filename string, data []byte) (*Import, error) {
	if kind != KindHouseholds && kind != KindResidents {
		return nil, errs.Validation(errs.Field("kind", "import_kind", nil))
	}
	if int64(len(data)) > MaxImportBytes {
		return nil, errs.New(errs.KindTooLarge, "body_too_large", map[string]any{"limit": MaxImportBytes})
	}
	// Only the head of the file is read here (format, header, a first data
	// row): the request answers at once whatever the file holds further
	// down, and reading it all, with its limits, is the task's job.
	if err := sheet.Check(bytes.NewReader(data), filename, fieldsFor(kind), importLimits); err != nil {
		return nil, sheetError("file", err)
	}
	tenant, _ := scope.From(ctx)
	actor := audit.ActorFrom(ctx)
	imp := &Import{ID: newID(), TenantID: tenant.TenantID, Kind: kind, Status: "queued", Filename: filename, Size: int64(len(data)),
		File: data, CreatedBy: actor.UserID, CreatedAt: s.now()}
	err := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		imp.TenantID = tx.Tenant()
		if _, err := tx.Insert(imp).Exec(ctx); err != nil {
			return fmt.Errorf("store import: %w", err)
		}
		return audit.Record(ctx, tx, audit.ActionCreate, "import", imp.ID, map[string]any{"kind": kind, "filename": filename, "size": len(data)})
	})
	if err != nil {
		return nil, err
	}
	return imp, nil
}

func (s *Service) enqueueImport(ctx context.Context, imp *Import) error {
	_, err := s.enqueue(ctx, imp)
	return err
}

// enqueue queues the import's task, and tells whether it did: false when
// the task is in Redis already (the task id is the import's).
func (s *Service) enqueue(ctx context.Context, imp *Import) (bool, error) {
	t, opts, err := NewImportTask(imp.TenantID, imp.ID, audit.ActorFrom(ctx))
	if err != nil {
		return false, err
	}
	_, err = s.Queue.EnqueueContext(ctx, t, opts...)
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict):
		return false, nil
	case err != nil:
		// The upload is saved; the reconciler (or a retry of the upload)
		// queues it again. Tell the caller the queue is down.
		return false, errs.Unavailable("unavailable_redis", err)
	}
	return true, nil
}

// sheetError turns a spreadsheet problem into a 422 on field.
func sheetError(field string, err error) error {
	var se *sheet.Error
	if errors.As(err, &se) {
		if se.Key == "sheet_too_large" {
			return errs.New(errs.KindTooLarge, se.Key, se.Args)
		}
		return errs.Validation(errs.Field(field, se.Key, se.Args))
	}
	return err
}

// GetImport returns an import's status and row errors.
func (s *Service) GetImport(ctx context.Context, id string) (*Import, error) {
	imp := new(Import)
	err := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		err := tx.Select(imp).ExcludeColumn("file").Where("i.id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound()
		}
		if err != nil {
			return err
		}
		imp.Errors, imp.ErrorsTruncated, err = shownErrors(ctx, tx, imp.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return imp, nil
}

// RunImport processes a stored upload: every good row is saved (created or
// updated in place on its natural key), every bad row is explained. Running
// it again, after a crash or on purpose, creates nothing twice.
//
// While the database is out of reach (restarting, failing over, its lock
// held too long), the import waits: it answers queue.Later, which is not a
// failure, so an outage of any length never uses up the task's retries nor
// leaves the import stranded as running with no task to finish it. The
// next attempt resumes after the last batch that committed.
func (s *Service) RunImport(ctx context.Context, id string) error {
	err := s.runImport(ctx, id)
	if err != nil && ctx.Err() == nil && databaseDown(err) {
		return queue.Later(importOutageWait, "import: database unavailable: "+err.Error())
	}
	return err
}

func (s *Service) runImport(ctx context.Context, id string) error {
	imp := new(Import)
	err := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		return tx.Select(imp).Where("i.id = ?", id).Scan(ctx)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("import %s: %w", id, asynq.SkipRetry)
	}
	if err != nil {
		return err
	}
	if imp.Status == "done" || imp.Status == "failed" {
		return nil
	}
	// A retry of this import (it is already running: its worker died, the
	// database went away mid-file, or Redis lost its task and the
	// reconciler queued it again) resumes after the last batch that
	// committed. Each batch commits its rows with the counts and rejected
	// rows that describe them, so those stay true: rows saved before the
	// crash are not counted again as "unchanged".
	resume := imp.Status == "running"
	if !resume {
		// Claim the community's import slot (a unique index allows one
		// running import per community), and the import itself: only
		// while it is still queued.
		started := s.now()
		imp.Status, imp.StartedAt, imp.Rows, imp.Created, imp.Updated, imp.Unchanged, imp.ErrorCount = "running", &started, 0, 0, 0, 0, 0
		err = s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
			res, err := tx.Update(imp).Column("status", "started_at", "rows", "created", "updated", "unchanged", "error_count").WherePK().
				Where("i.status = 'queued'").Exec(ctx)
			if store.IsUniqueViolation(err) {
				return queue.Later(importWait, "another import of this community is running")
			}
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return errSuperseded // another run claimed it meanwhile
			}
			if _, err := tx.Delete((*rejectedRow)(nil)).Where("import_id = ?", imp.ID).Exec(ctx); err != nil {
				return fmt.Errorf("import: clear rejected rows: %w", err)
			}
			return nil
		})
		if errors.Is(err, errSuperseded) {
			return queue.Later(importWait, "import: claimed by another run")
		}
		if err != nil {
			return err
		}
	}

	runErr := s.runRows(ctx, imp)
	if errors.Is(runErr, errSuperseded) {
		// Another run of this import (Redis lost the task of a live worker,
		// and the reconciler queued it again) committed a batch first. It
		// goes on; this one looks again later, and ends once the import
		// has, or takes over if that run dies.
		return queue.Later(supersededWait, "import: another run of it is ahead")
	}
	finished := s.now()
	imp.FinishedAt = &finished
	imp.Status = "done"
	if runErr != nil {
		var se *sheet.Error
		var stop *importStop
		switch {
		case errors.As(runErr, &se):
			imp.Status, imp.Message, imp.MessageArgs = "failed", se.Key, se.Args
		case errors.As(runErr, &stop):
			imp.Status, imp.Message, imp.MessageArgs = "failed", stop.key, stop.args
		default:
			return runErr // a database fault: let the task retry (or wait)
		}
	}
	return s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		res, err := tx.Update(imp).Column("status", "rows", "created", "updated", "unchanged", "error_count", "message", "message_args", "finished_at").
			Set("file = NULL").WherePK().Where("i.status = 'running'").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // another run of it finished it
		}
		return audit.Record(ctx, tx, audit.ActionUpdate, "import", imp.ID, map[string]any{
			"status": imp.Status, "rows": imp.Rows, "created": imp.Created, "updated": imp.Updated, "errors": imp.ErrorCount})
	})
}

// errSuperseded says that another run of the same import holds it: it
// claimed it, or committed a batch this run had not seen.
var errSuperseded = errors.New("import: another run of it is ahead")

// importStop ends an import as failed for a reason of its own (not its
// file's format): too many rejected rows.
type importStop struct {
	key  string
	args map[string]any
}

func (e *importStop) Error() string { return "import stopped: " + e.key }

// fileFault is an upload that could not be read for a reason the sheet
// reader did not name. It is the file's, never the database's: an
// "unexpected EOF" in a damaged zip must not pass for an outage to wait
// out.
type fileFault struct{ err error }

func (e fileFault) Error() string { return e.err.Error() }
func (e fileFault) Unwrap() error { return e.err }

// databaseDown tells whether err means the database could not be worked
// with for now (errs.IsUnavailable, the house's one notion of it), as
// opposed to a fault of the import or of the data. A fault of the file is
// never one, whatever it wraps: an "unexpected EOF" in a damaged zip must
// not pass for an outage to wait out.
func databaseDown(err error) bool {
	var ff fileFault
	return !errors.As(err, &ff) && errs.IsUnavailable(err)
}

// importBatch is how many rows share one transaction: large enough to
// amortise round trips and commits (5,000 rows are about a sixth of a
// second on PostgreSQL), small enough to keep memory flat and progress
// moving.
var importBatch = 5000

func (s *Service) runRows(ctx context.Context, imp *Import) error {
	r, err := sheet.Open(bytes.NewReader(imp.File), imp.Filename, fieldsFor(imp.Kind), importLimits)
	if err != nil {
		return readFault(err)
	}
	defer r.Close()
	b := newBatcher(s, imp)
	if imp.Rows > 0 {
		// Resumed: the rejected rows kept so far count towards the limits.
		if err := b.countRejected(ctx); err != nil {
			return err
		}
	}
	// Rows counted are rows whose batch committed: a resumed import does
	// not save or count them again (a residents import re-reads them only
	// to know whom they matched; see batcher.replay).
	done := imp.Rows
	for read := 0; ; read++ {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		var re *sheet.RowError
		if read < done && (err == nil || errors.As(err, &re)) {
			continue
		}
		if err != nil {
			if errors.As(err, &re) {
				imp.Rows++
				b.fail(re.Line, "", re.Key, re.Args)
				continue
			}
			return readFault(err)
		}
		imp.Rows++
		b.add(row.Line, row.Values)
		if len(b.rows) >= importBatch {
			if err := b.flush(ctx); err != nil {
				return err
			}
			if b.stop != nil {
				return b.stop
			}
			if afterBatch != nil {
				if err := afterBatch(); err != nil {
					return err
				}
			}
		}
	}
	if err := b.flush(ctx); err != nil {
		return err
	}
	if b.stop != nil {
		return b.stop
	}
	return nil
}

// readFault marks an error of the file's reader as the file's (see
// fileFault); the reader's own errors keep their type.
func readFault(err error) error {
	var se *sheet.Error
	if err == nil || errors.As(err, &se) {
		return err
	}
	return fileFault{err}
}

// afterBatch, when set (by tests only), runs after each committed batch:
// a crash between batches is simulated by returning an error.
var afterBatch func() error

// RequeueStale queues again every import still waiting after olderThan, in
// every community: the database is the source of truth and Redis only
// carries work, so an upload survives Redis losing its task. The task id is
// the import's, so an import whose task is still in the queue is not doubled.
func (s *Service) RequeueStale(ctx context.Context, olderThan time.Duration) (int, error) {
	var stale []struct {
		ID       string `bun:"id"`
		TenantID string `bun:"tenant_id"`
	}
	// A system job over all tenants: each row carries its own tenant_id
	// into the task, and the worker scopes the import to it.
	//
	// Running imports are offered too: one whose task Redis lost (a
	// restart, a flush) would otherwise hold its community's import slot
	// until FailAbandoned, and every later upload waits behind it. Queued
	// again, it resumes after its last committed batch. One whose task
	// still exists (running, waiting, retrying) is refused by Asynq as a
	// duplicate, and if its worker is in fact still at work, the two runs
	// cannot both save a batch (see batcher.flush).
	cutoff := s.now().Add(-olderThan)
	err := s.DB.AcrossTenants(ctx, "roster: requeue stale imports", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("imports").Column("id", "tenant_id").
			Where("(status = 'queued' AND created_at < ?) OR (status = 'running' AND started_at < ?)", cutoff, cutoff).
			Order("created_at").Limit(1000).Scan(ctx, &stale)
	})
	if err != nil {
		return 0, fmt.Errorf("find stale imports: %w", err)
	}
	n := 0
	for _, st := range stale {
		queued, err := s.enqueue(ctx, &Import{ID: st.ID, TenantID: st.TenantID})
		if err != nil {
			return n, err
		}
		if queued {
			n++
		}
	}
	return n, nil
}

// GiveUp ends an import that will not be attempted again (its task ran out
// of retries) as failed, so the office is told to upload it again instead
// of watching "running" for ever. Rows already saved stay saved.
func (s *Service) GiveUp(ctx context.Context, id string) error {
	return s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		return giveUp(ctx, tx, id, s.now())
	})
}

func giveUp(ctx context.Context, tx *store.TenantTx, id string, now time.Time) error {
	res, err := tx.Update((*Import)(nil)).Set("status = 'failed', message = ?, finished_at = ?, file = NULL", keyGaveUp, now).
		Where("i.id = ? AND i.status IN ('queued', 'running')", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("give up import %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // finished meanwhile
	}
	return audit.Record(ctx, tx, audit.ActionUpdate, "import", id, map[string]any{"status": "failed", "message": keyGaveUp})
}

const keyGaveUp = "import_gave_up"

// FailAbandoned ends as failed every import still running long after its
// last attempt must have timed out: its worker died on the final attempt,
// and Asynq will not run it again.
func (s *Service) FailAbandoned(ctx context.Context) (int, error) {
	var stuck []struct {
		ID       string `bun:"id"`
		TenantID string `bun:"tenant_id"`
	}
	// A system job over all tenants, like RequeueStale; each import is then
	// ended in its own tenant's scope.
	err := s.DB.AcrossTenants(ctx, "roster: fail abandoned imports", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("imports").Column("id", "tenant_id").
			Where("status = 'running' AND started_at < ?", s.now().Add(-2*importTimeout)).Limit(1000).Scan(ctx, &stuck)
	})
	if err != nil {
		return 0, fmt.Errorf("find abandoned imports: %w", err)
	}
	for i, st := range stuck {
		tctx := scope.With(ctx, scope.Tenant{TenantID: st.TenantID})
		if err := s.GiveUp(tctx, st.ID); err != nil {
			return i, err
		}
	}
	return len(stuck), nil
}
