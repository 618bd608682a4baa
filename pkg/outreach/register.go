package outreach

import (
	"time"

	"github.com/wanjia/wanjia/pkg/queue"
)

// Tasks registers outreach's task handlers and periodic tasks, as Routes
// registers its routes. (Kept in a file of its own while the types and
// handlers in tasks.go grow; it may join them there.)
func (s *Service) Tasks(t *queue.Tasks) {
	t.HandleFunc(TypeSend, s.HandleSend)
	t.HandleFunc(TypeDispatch, s.HandleDispatch)
	t.HandleFunc(TypeReconcile, s.HandleReconcile)
	// The outbox: scheduled campaigns start, messages held for the night
	// go at its end, lost send tasks are queued again and abandoned sends
	// are resolved, each within seconds of falling due.
	t.Every(queue.Periodic{Name: "reconcile-outreach", Every: 15 * time.Second, NewTask: NewReconcileTask})
}
