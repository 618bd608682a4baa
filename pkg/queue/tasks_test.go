package queue_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/wanjia/wanjia/pkg/queue"
)

func every(name, typ string) queue.Periodic {
	return queue.Periodic{Name: name, Every: time.Minute, NewTask: func(time.Time) (*asynq.Task, error) {
		return asynq.NewTask(typ, nil), nil
	}}
}

func handle(typ string) func(*queue.Tasks) {
	return func(t *queue.Tasks) {
		t.HandleFunc(typ, func(context.Context, *asynq.Task) error { return nil })
	}
}

// TestTasksRefuseMistakes: the registrations that would lose work panic
// when the process starts, as a repeated route does.
func TestTasksRefuseMistakes(t *testing.T) {
	tests := []struct {
		name   string
		owners []func(*queue.Tasks)
		panics string // "" for none
	}{
		{"a handler and its period", []func(*queue.Tasks){handle("a:x"), func(t *queue.Tasks) { t.Every(every("x", "a:x")) }}, ""},
		{"one type claimed by two owners", []func(*queue.Tasks){handle("a:x"), handle("a:x")}, `task type "a:x" registered twice`},
		{"one periodic name twice", []func(*queue.Tasks){handle("a:x"), handle("b:y"), func(t *queue.Tasks) {
			t.Every(every("tick", "a:x"))
			t.Every(every("tick", "b:y"))
		}}, `periodic task "tick" registered twice`},
		{"a period nothing handles", []func(*queue.Tasks){handle("a:x"), func(t *queue.Tasks) { t.Every(every("y", "a:y")) }},
			`makes tasks of type "a:y", which nothing handles`},
		{"a period without a constructor", []func(*queue.Tasks){func(t *queue.Tasks) { t.Every(queue.Periodic{Name: "z", Every: time.Minute}) }},
			`needs a name, a period and a constructor`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			func() {
				defer func() {
					if r := recover(); r != nil {
						got = fmt.Sprint(r)
					}
				}()
				queue.NewTasks(tt.owners...)
			}()
			if tt.panics == "" && got != "" || !strings.Contains(got, tt.panics) {
				t.Fatalf("panic = %q, want %q", got, tt.panics)
			}
		})
	}
}

// TestTasksMount: every registered handler answers its type on the mux,
// and the periodic table keeps the order of registration.
func TestTasksMount(t *testing.T) {
	var ran []string
	tasks := queue.NewTasks(func(t *queue.Tasks) {
		for _, typ := range []string{"a:x", "b:y"} {
			t.HandleFunc(typ, func(context.Context, *asynq.Task) error { ran = append(ran, typ); return nil })
		}
		t.Every(every("x", "a:x"))
		t.Every(every("y", "b:y"))
	})
	mux := asynq.NewServeMux()
	tasks.Mount(mux)
	for _, typ := range []string{"b:y", "a:x"} {
		if err := mux.ProcessTask(context.Background(), asynq.NewTask(typ, nil)); err != nil {
			t.Fatal(err)
		}
	}
	if fmt.Sprint(ran) != "[b:y a:x]" {
		t.Errorf("ran %v", ran)
	}
	var names []string
	for _, p := range tasks.Periodic() {
		names = append(names, p.Name)
	}
	if fmt.Sprint(names) != "[x y]" || fmt.Sprint(tasks.Types()) != "[a:x b:y]" {
		t.Errorf("periodic %v, types %v", names, tasks.Types())
	}
	if _, ok := tasks.PeriodicNamed("nope"); ok {
		t.Error("PeriodicNamed found a task never registered")
	}
}
