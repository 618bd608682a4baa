package workers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/roster"
)

// importRoster processes an uploaded roster file.
func (h handlers) importRoster(ctx context.Context, t *asynq.Task) error {
	var p roster.ImportPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("import payload: %v: %w", err, asynq.SkipRetry)
	}
	if p.Actor.UserID != "" {
		ctx = audit.WithActor(ctx, p.Actor)
	}
	err := h.Roster.RunImport(ctx, p.ImportID)
	if err == nil {
		// Thousands of new rows: plan the community's lists with fresh
		// statistics (SQLite has none until asked).
		if oerr := h.Roster.DB.Optimize(ctx); oerr != nil {
			h.Logger.Warn("import: refreshing statistics failed", "import_id", p.ImportID, "err", oerr)
		}
	}
	var later *queue.LaterError
	if err != nil && !errors.As(err, &later) && (lastAttempt(ctx) || errors.Is(err, asynq.SkipRetry)) {
		// Asynq will not run it again: say so on the import itself. A
		// LaterError (the database away, the community's slot busy) is no
		// failure: the task runs again even on its last attempt.
		if gerr := h.Roster.GiveUp(ctx, p.ImportID); gerr != nil {
			h.Logger.Error("import: could not mark as failed", "import_id", p.ImportID, "err", gerr)
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

func (h handlers) reconcileImports(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Roster.RequeueStale(ctx, staleImportAge)
	if n > 0 {
		h.Logger.Warn("re-queued imports whose task was lost", "count", n)
	}
	if err != nil {
		return err
	}
	n, err = h.Roster.FailAbandoned(ctx)
	if n > 0 {
		h.Logger.Warn("ended imports abandoned on their last attempt", "count", n)
	}
	return err
}
