package app

import (
	"github.com/wanjia/wanjia/pkg/idempotency"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/workers"
)

// tasks lists every owner of tasks, as routes lists every domain's routes:
// each registers its task handlers and periodic tasks by its Tasks method.
// The worker mounts the handlers behind workers' middleware; the scheduler
// runs the periodic table. A domain with tasks adds its line here.
func (a *App) tasks() *queue.Tasks {
	return queue.NewTasks(
		workers.System{Health: a.Health}.Tasks,
		idempotency.Tasks(a.DB),
		a.Roster.Tasks,
		a.Outreach.Tasks,
		a.Isolation.Tasks,
		a.Directives.Tasks,
		a.Reports.Tasks,
	)
}
