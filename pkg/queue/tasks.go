package queue

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"
)

// Tasks is where the domains register their tasks, as they register their
// routes on authz.OrgRoutes: each domain has a method
//
//	func (s *Service) Tasks(t *queue.Tasks)
//
// that names the handler of each of its task types and its periodic
// tasks, beside the code they call. pkg/app lists the domains once
// (App.tasks); the worker mounts the handlers behind its middleware and
// the scheduler runs the periodic table, both from that one list.
type Tasks struct {
	types    []string
	handlers map[string]asynq.Handler
	periodic []Periodic
}

// Periodic is one entry of the periodic-task table: every Every, the
// scheduler enqueues NewTask(slot) once, whatever the number of schedulers
// (the slot's task id is "<Name>:<slot unix>").
type Periodic struct {
	Name    string
	Every   time.Duration
	NewTask func(slot time.Time) (*asynq.Task, error)
}

// NewTasks collects the tasks of each owner (a domain's Tasks method). It
// panics, as a repeated route does, when two owners claim one task type
// or one periodic name, and when a periodic task makes tasks of a type
// nothing handles (they would only fail until archived): mistakes of the
// code, found when the process starts.
func NewTasks(owners ...func(*Tasks)) *Tasks {
	t := &Tasks{handlers: map[string]asynq.Handler{}}
	for _, own := range owners {
		own(t)
	}
	for _, p := range t.periodic {
		task, err := p.NewTask(time.Unix(0, 0))
		if err != nil {
			panic(fmt.Sprintf("queue: periodic task %q: %v", p.Name, err))
		}
		if t.handlers[task.Type()] == nil {
			panic(fmt.Sprintf("queue: periodic task %q makes tasks of type %q, which nothing handles", p.Name, task.Type()))
		}
	}
	return t
}

// Handle registers the handler of the task type typ.
func (t *Tasks) Handle(typ string, h asynq.Handler) {
	if typ == "" || h == nil {
		panic("queue: a task needs a type and a handler")
	}
	if t.handlers[typ] != nil {
		panic(fmt.Sprintf("queue: task type %q registered twice", typ))
	}
	t.types = append(t.types, typ)
	t.handlers[typ] = h
}

// HandleFunc registers fn as the handler of the task type typ.
func (t *Tasks) HandleFunc(typ string, fn func(context.Context, *asynq.Task) error) {
	t.Handle(typ, asynq.HandlerFunc(fn))
}

// Every adds p to the periodic table.
func (t *Tasks) Every(p Periodic) {
	if p.Name == "" || p.Every <= 0 || p.NewTask == nil {
		panic(fmt.Sprintf("queue: periodic task %q needs a name, a period and a constructor", p.Name))
	}
	for _, q := range t.periodic {
		if q.Name == p.Name {
			// Their slots' task ids would collide: one of the two would
			// never run.
			panic(fmt.Sprintf("queue: periodic task %q registered twice", p.Name))
		}
	}
	t.periodic = append(t.periodic, p)
}

// Types are the registered task types, in the order of registration.
func (t *Tasks) Types() []string { return slices.Clone(t.types) }

// Periodic is the periodic table, in the order of registration.
func (t *Tasks) Periodic() []Periodic { return slices.Clone(t.periodic) }

// PeriodicNamed returns the periodic task called name.
func (t *Tasks) PeriodicNamed(name string) (Periodic, bool) {
	for _, p := range t.periodic {
		if p.Name == name {
			return p, true
		}
	}
	return Periodic{}, false
}

// Mount registers every handler on mux.
func (t *Tasks) Mount(mux *asynq.ServeMux) {
	for _, typ := range t.types {
		mux.Handle(typ, t.handlers[typ])
	}
}
