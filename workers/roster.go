package workers

import (
	"context"
	"encoding/json"
	"fmt"

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
