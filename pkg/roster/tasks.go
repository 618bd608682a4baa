package roster

import (
	"encoding/json"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/queue"
)

// The roster's tasks: their types, payloads and constructors live here,
// beside the service they call; workers/ registers the handlers.

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
