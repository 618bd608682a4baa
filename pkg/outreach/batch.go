package outreach

import (
	"context"
	"fmt"
	"sync"
)

// batcher gathers the calls that arrive while the database is busy into
// one flush (group commit). Each send task claims one message and records
// one result; done one by one, a campaign of 100,000 costs 200,000
// transactions, and the workers spend their time waiting on round trips.
// With a batcher, a task still waits for its own answer, so a task is
// done only when its message's row is, but the calls of tasks running side
// by side share transactions.
//
// It has no goroutine of its own, so there is nothing to start or stop: a
// caller whose call is still waiting takes a free flush slot and flushes
// what is pending (its own call among the first max, or a turn for those
// ahead of it).
type batcher[T, R any] struct {
	max   int
	slots chan struct{} // one token per flush that may run at once
	flush func(ctx context.Context, items []T) []R
	// fail is every call's result when flush panics, so that no caller
	// waits forever for a flush that will never answer.
	fail func(err error) R

	mu      sync.Mutex
	pending []*batchCall[T, R]
}

type batchCall[T, R any] struct {
	item  T
	res   R
	taken bool          // in a flush (guarded by batcher.mu)
	done  chan struct{} // closed once res is set
}

func newBatcher[T, R any](max, flushers int, flush func(ctx context.Context, items []T) []R, fail func(error) R) *batcher[T, R] {
	return &batcher[T, R]{max: max, slots: make(chan struct{}, flushers), flush: flush, fail: fail}
}

// do adds item and returns its result. It does not give up when ctx ends:
// a claim that reached the database must be answered, or a message would
// be left sending with nobody to send it. flush bounds its own time.
func (b *batcher[T, R]) do(ctx context.Context, item T) R {
	c := &batchCall[T, R]{item: item, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, c)
	b.mu.Unlock()
	for {
		select {
		case <-c.done:
			return c.res
		case b.slots <- struct{}{}:
			b.mu.Lock()
			if c.taken { // another flush has it: wait for that one
				b.mu.Unlock()
				<-b.slots
				<-c.done
				return c.res
			}
			n := min(len(b.pending), b.max)
			batch := make([]*batchCall[T, R], n)
			copy(batch, b.pending)
			for _, p := range batch {
				p.taken = true
			}
			b.pending = append(b.pending[:0], b.pending[n:]...)
			b.mu.Unlock()
			b.run(ctx, batch)
			<-b.slots
		}
	}
}

func (b *batcher[T, R]) run(ctx context.Context, batch []*batchCall[T, R]) {
	items := make([]T, len(batch))
	for i, c := range batch {
		items[i] = c.item
	}
	res, err := b.safeFlush(context.WithoutCancel(ctx), items)
	for i, c := range batch {
		if err != nil {
			c.res = b.fail(err)
		} else {
			c.res = res[i]
		}
		close(c.done)
	}
}

func (b *batcher[T, R]) safeFlush(ctx context.Context, items []T) (res []R, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("outreach: batch flush panicked: %v", v)
		}
	}()
	res = b.flush(ctx, items)
	if len(res) != len(items) {
		return nil, fmt.Errorf("outreach: batch flush answered %d of %d", len(res), len(items))
	}
	return res, nil
}
