package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// PostgreSQL advisory locks serialise work that processes starting together
// on one database would otherwise do twice at once: making a month's
// partitions (MaintainPartitions) and applying the demo (app.ApplyDemo).
// Each lock is named; the key is hashtext('wanjia:'+name), one namespace for
// wanjia's locks. On SQLite, whose file has one writer at a time and one
// process in practice, both run fn without a lock.

// lockKey is the text whose hashtext is the advisory lock's key.
func lockKey(name string) string { return "wanjia:" + name }

// lockTx takes the advisory lock name for the rest of tx: two transactions
// asking for it run one after the other. Use it for work that fits in one
// transaction; Exclusive for work that spans several.
func lockTx(ctx context.Context, tx bun.Tx, name string) error {
	_, err := tx.NewRaw(`SELECT pg_advisory_xact_lock(hashtext(?))`, lockKey(name)).Exec(ctx)
	return err
}

// exclusivePoll is how often Exclusive asks again for a lock another
// session holds.
const exclusivePoll = 200 * time.Millisecond

// Exclusive runs fn while holding the advisory lock name (the same key as
// lockTx's) on a connection of its own, waiting while another session
// holds it, until ctx ends. fn's work runs on the pool's other connections
// and may take any number of transactions: the lock is the session's, not
// a transaction's, so neither the idle-in-transaction timeout nor the lock
// timeout bounds it. A process that dies releases it with its connection.
//
// The wait polls pg_try_advisory_lock rather than blocking in
// pg_advisory_lock: a blocked statement would end at the lock timeout
// (10 s), and the work waited for (a demo's seeding) takes longer.
func (db *DB) Exclusive(ctx context.Context, name string, fn func(context.Context) error) error {
	if db.dialect != Postgres {
		return fn(ctx)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("lock %s: %w", name, err)
	}
	for {
		var got bool
		if err := conn.NewRaw(`SELECT pg_try_advisory_lock(hashtext(?))`, lockKey(name)).Scan(ctx, &got); err != nil {
			_ = conn.Close()
			return fmt.Errorf("lock %s: %w", name, err)
		}
		if got {
			break
		}
		select {
		case <-ctx.Done():
			_ = conn.Close()
			return fmt.Errorf("lock %s: waiting for another process: %w", name, ctx.Err())
		case <-time.After(exclusivePoll):
		}
	}
	ferr := fn(ctx)
	var released bool
	err = conn.NewRaw(`SELECT pg_advisory_unlock(hashtext(?))`, lockKey(name)).Scan(context.WithoutCancel(ctx), &released)
	if err != nil || !released {
		// The session may still hold the lock: the connection must not go
		// back to the pool with it (its next user would hold it unknowingly).
		// Closed, it releases whatever it held. fn's outcome stands: its
		// work is done either way.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	_ = conn.Close()
	return ferr
}
