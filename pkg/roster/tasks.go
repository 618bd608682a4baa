package roster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/queue"
)

// The roster's tasks: their types, payloads, constructors and handlers
// live here, beside the service they call, and Tasks registers them as
// Routes registers the routes.

// Tasks registers the roster's task handlers and periodic tasks.
func (s *Service) Tasks(t *queue.Tasks) {
	t.HandleFunc(TypeImport, s.handleImport)
	t.HandleFunc(TypeReconcileImports, s.handleReconcileImports)
	// Imports whose task Redis lost run again within about a minute.
	t.Every(queue.Periodic{Name: "reconcile-imports", Every: 30 * time.Second, NewTask: NewReconcileImportsTask})
}

// TypeImport is the task that processes an upload.
const TypeImport = "roster:import"

// importTimeout bounds one attempt at an import; 200,000 rows take well
// under a minute.
const importTimeout = 30 * time.Minute

// importWait is how long an import waits for the community's running one
// before it looks again.
const importWait = 5 * time.Second

// importOutageWait is how long an import waits for its database to come
// back before it tries again; waiting never uses up the task's retries.
const importOutageWait = 10 * time.Second

// supersededWait is how long a run of an import that another run of it
// overtook waits before it looks again (see RunImport).
const supersededWait = 30 * time.Second

// ImportPayload names the import to process and who uploaded it, so the
// worker's audit entries are filed under that person and community.
type ImportPayload struct {
	TenantID string      `json:"tenant_id"`
	ImportID string      `json:"import_id"`
	Actor    audit.Actor `json:"actor"`
}

// NewImportTask builds the task; its id is the import's, so an upload is
// never processed twice at once.
func NewImportTask(tenantID, importID string, actor audit.Actor) (*asynq.Task, []asynq.Option, error) {
	b, err := json.Marshal(ImportPayload{TenantID: tenantID, ImportID: importID, Actor: actor})
	if err != nil {
		return nil, nil, err
	}
	return asynq.NewTask(TypeImport, b), []asynq.Option{asynq.Queue(queue.QueueDefault), asynq.TaskID("import:" + importID),
		asynq.MaxRetry(3), asynq.Timeout(importTimeout), asynq.Retention(24 * time.Hour)}, nil
}

// TypeReconcileImports re-queues uploads whose task Redis lost and ends
// imports abandoned on their last attempt (a periodic task).
const TypeReconcileImports = "roster:reconcile-imports"

// NewReconcileImportsTask builds the reconciler's task for one period.
func NewReconcileImportsTask(time.Time) (*asynq.Task, error) {
	return asynq.NewTask(TypeReconcileImports, nil, asynq.Queue(queue.QueueDefault), asynq.MaxRetry(1), asynq.Timeout(time.Minute)), nil
}

// handleImport processes an uploaded roster file (TypeImport).
func (s *Service) handleImport(ctx context.Context, t *asynq.Task) error {
	var p ImportPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("import payload: %v: %w", err, asynq.SkipRetry)
	}
	if p.Actor.UserID != "" {
		ctx = audit.WithActor(ctx, p.Actor)
	}
	err := s.RunImport(ctx, p.ImportID)
	if err == nil {
		// Thousands of new rows: plan the community's lists with fresh
		// statistics (SQLite has none until asked).
		if oerr := s.DB.Optimize(ctx); oerr != nil && s.Logger != nil {
			s.Logger.Warn("import: refreshing statistics failed", "import_id", p.ImportID, "err", oerr)
		}
	}
	var later *queue.LaterError
	if err != nil && !errors.As(err, &later) && (lastAttempt(ctx) || errors.Is(err, asynq.SkipRetry)) {
		// Asynq will not run it again: say so on the import itself. A
		// LaterError (the database away, the community's slot busy) is no
		// failure: the task runs again even on its last attempt.
		if gerr := s.GiveUp(ctx, p.ImportID); gerr != nil && s.Logger != nil {
			s.Logger.Error("import: could not mark as failed", "import_id", p.ImportID, "err", gerr)
		}
	}
	return err
}

// lastAttempt tells whether a failure now leaves the task for good.
func lastAttempt(ctx context.Context) bool {
	retried, ok1 := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok1 && ok2 && retried >= maxRetry
}

// staleImportAge is how long an upload may wait before its task is
// presumed lost. Re-queuing one whose task still exists is harmless (the
// task id is the import's, so Asynq refuses the copy), so this can be
// short: with the 30-second period, a lost import runs again within about
// a minute of the loss.
const staleImportAge = 30 * time.Second

// handleReconcileImports re-queues lost uploads and ends abandoned imports
// (TypeReconcileImports).
func (s *Service) handleReconcileImports(ctx context.Context, _ *asynq.Task) error {
	n, err := s.RequeueStale(ctx, staleImportAge)
	if n > 0 && s.Logger != nil {
		s.Logger.Warn("re-queued imports whose task was lost", "count", n)
	}
	if err != nil {
		return err
	}
	n, err = s.FailAbandoned(ctx)
	if n > 0 && s.Logger != nil {
		s.Logger.Warn("ended imports abandoned on their last attempt", "count", n)
	}
	return err
}
