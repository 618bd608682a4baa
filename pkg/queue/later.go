package queue

import (
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// LaterError asks for a task to run again after a while because something
// it needs is busy (another import of the same community, a provider's
// rate limit). It is not a failure: the task's retries are not used up.
type LaterError struct {
	After  time.Duration
	Reason string
}

func (e *LaterError) Error() string { return fmt.Sprintf("retry in %s: %s", e.After, e.Reason) }

// Later returns a LaterError.
func Later(after time.Duration, reason string) error {
	return &LaterError{After: after, Reason: reason}
}

// isFailure is Asynq's Config.IsFailure: a LaterError is not one.
func isFailure(err error) bool {
	var l *LaterError
	return err != nil && !errors.As(err, &l)
}

// retryDelay is Asynq's Config.RetryDelayFunc: a LaterError's own delay,
// else Asynq's exponential backoff.
func retryDelay(n int, err error, t *asynq.Task) time.Duration {
	var l *LaterError
	if errors.As(err, &l) {
		return l.After
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}
