package workers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/audit"
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
	return h.Roster.RunImport(ctx, p.ImportID)
}

// staleImportAge is how long an upload may wait before its task is
// presumed lost: far longer than the queue ever takes to start one.
const staleImportAge = 10 * time.Minute

func (h handlers) reconcileImports(ctx context.Context, _ *asynq.Task) error {
	n, err := h.Roster.RequeueStale(ctx, staleImportAge)
	if n > 0 {
		h.Logger.Warn("re-queued imports whose task was lost", "count", n)
	}
	return err
}
