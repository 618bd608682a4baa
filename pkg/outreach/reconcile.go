package outreach

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"github.com/wanjia/wanjia/pkg/observe"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
)

// dispatchPage is how many message ids one read of a dispatch takes.
const dispatchPage = 5000

// dispatchWorkers enqueue in parallel: one Redis round trip per task is
// the dispatch's whole cost.
const dispatchWorkers = 16

// Dispatch queues a send task for every queued message of a running
// campaign. Tasks are named by their message, so dispatching twice (a
// resume, the reconciler) queues nothing twice.
func (s *Service) Dispatch(ctx context.Context, campaignID string) (int, error) {
	sc, _ := scope.From(ctx)
	n, after := 0, ""
	for {
		var ids []string
		err := s.DB.InTenantReadTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
			q := tx.SelectAs("outreach_messages", "m").Column("m.id").
				Join("JOIN outreach_campaigns AS c ON c.tenant_id = m.tenant_id AND c.id = m.campaign_id").
				Where("m.campaign_id = ? AND m.status = ? AND c.status = ?", campaignID, StatusQueued, "running")
			if after != "" {
				q = q.Where("m.id > ?", after)
			}
			return q.OrderExpr("m.id").Limit(dispatchPage).Scan(ctx, &ids)
		})
		if err != nil {
			return n, fmt.Errorf("dispatch: %w", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		if after == "" && len(ids) == dispatchPage {
			// A large outbox was just written: without fresh statistics the
			// planner takes the claims and records of its messages for a
			// handful of rows and walks the whole campaign for each batch.
			if err := s.DB.Optimize(ctx, "outreach_messages"); err != nil {
				s.logger().Warn("outreach: statistics not refreshed before a large campaign", "campaign", campaignID, "err", err)
			}
		}
		if _, err := s.enqueueAll(ctx, sc.TenantID, ids, false); err != nil {
			return n, err
		}
		n += len(ids)
		after = ids[len(ids)-1]
	}
}

// enqueueAll queues the send tasks of ids (alerts': on the critical
// queue) and returns how many were new (a task still in the queue is not
// queued twice).
func (s *Service) enqueueAll(ctx context.Context, tenantID string, ids []string, alert bool) (int, error) {
	var added atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(dispatchWorkers)
	for _, id := range ids {
		g.Go(func() error {
			fresh, err := s.enqueueSend(gctx, tenantID, id, alert)
			if fresh {
				added.Add(1)
			}
			return err
		})
	}
	err := g.Wait()
	return int(added.Load()), err
}

// Reconciled says what one reconciler run did.
type Reconciled struct {
	Started, Released, Requeued, Resolved, Finished int
}

// reconcileBatch bounds one run's look at each kind of work.
const reconcileBatch = 10000

type ref struct {
	TenantID string `bun:"tenant_id"`
	ID       string `bun:"id"`
}

// alertStale is how long an alert may wait queued, once due, before the
// reconciler queues its task again: an alert is urgent, and there are few
// (queuing one whose task is still there costs a Redis call and nothing
// else).
const alertStale = 5 * time.Second

// across reads references over every community (a system job: each row
// carries its tenant, and the work on it runs in that tenant's scope).
func (s *Service) across(ctx context.Context, purpose string, q func(tx bun.Tx) *bun.SelectQuery) ([]ref, error) {
	var out []ref
	err := s.DB.AcrossTenants(ctx, purpose, store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return q(tx).Limit(reconcileBatch).Scan(ctx, &out)
	})
	return out, err
}

func byTenant(refs []ref) map[string][]string {
	out := map[string][]string{}
	for _, r := range refs {
		out[r.TenantID] = append(out[r.TenantID], r.ID)
	}
	return out
}

// Reconcile is the outbox's periodic check, over every community: it
// starts scheduled campaigns that are due, releases messages held for the
// night, re-queues the tasks of messages left queued too long (Redis lost
// them), resolves messages left sending by a worker that died, and marks
// finished the campaigns with nothing left to do.
func (s *Service) Reconcile(ctx context.Context) (Reconciled, error) {
	var r Reconciled
	now := s.now()

	due, err := s.across(ctx, "outreach: start scheduled campaigns", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().TableExpr("outreach_campaigns").Column("tenant_id", "id").
			Where("status = ? AND send_at <= ?", CampaignScheduled, now)
	})
	if err != nil {
		return r, err
	}
	for tenant, ids := range byTenant(due) {
		tctx := scope.With(ctx, scope.Tenant{TenantID: tenant})
		for _, id := range ids {
			var started bool
			err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
				res, err := tx.Update((*Campaign)(nil)).Set("status = ?, started_at = COALESCE(c.started_at, ?), updated_at = ?", CampaignRunning, now, now).
					Where("c.id = ? AND c.status = ?", id, CampaignScheduled).Exec(ctx)
				if err != nil {
					return err
				}
				n, _ := res.RowsAffected()
				started = n > 0
				return nil
			})
			if err != nil {
				return r, fmt.Errorf("start campaign: %w", err)
			}
			if started {
				r.Started++
				if _, err := s.Dispatch(tctx, id); err != nil {
					return r, err
				}
			}
		}
	}

	held, err := s.across(ctx, "outreach: release messages held for quiet hours", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().TableExpr("outreach_messages").Column("tenant_id", "id").
			Where("status = ? AND due_at <= ?", StatusHeldQuietHours, now)
	})
	if err != nil {
		return r, err
	}
	for tenant, ids := range byTenant(held) {
		tctx := scope.With(ctx, scope.Tenant{TenantID: tenant})
		for from := 0; from < len(ids); from += rowBatch {
			part := ids[from:min(from+rowBatch, len(ids))]
			var released []string
			err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
				return tx.Update((*Message)(nil)).Set("status = ?, due_at = ?, updated_at = ?", StatusQueued, now, now).
					Where("m.id IN (?) AND m.status = ?", bun.List(part), StatusHeldQuietHours).Returning("id").Scan(ctx, &released)
			})
			if err != nil {
				return r, fmt.Errorf("release held messages: %w", err)
			}
			r.Released += len(released)
			// Alerts are never held: what is released is a resident's.
			if _, err := s.enqueueAll(tctx, tenant, released, false); err != nil {
				return r, err
			}
		}
	}

	n, err := s.requeueLost(ctx, now)
	r.Requeued += n
	if err != nil {
		return r, err
	}

	abandoned, err := s.across(ctx, "outreach: resolve sends abandoned by a dead worker", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().TableExpr("outreach_messages").Column("tenant_id", "id").
			Where("status = ? AND sending_at < ?", StatusSending, now.Add(-s.Rules.staleSending()))
	})
	if err != nil {
		return r, err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, a := range abandoned {
		g.Go(func() error {
			tctx := scope.With(gctx, scope.Tenant{TenantID: a.TenantID})
			var cl *claimed
			err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
				var err error
				cl, err = s.abandoned(ctx, tx, a.ID, now)
				return err
			})
			if err != nil || cl == nil {
				return err
			}
			if err := s.resolve(tctx, cl, false); err != nil {
				s.logger().Warn("outreach: could not resolve an abandoned send; will try again", "message_id", a.ID, "err", err)
				return nil
			}
			mu.Lock()
			r.Resolved++
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return r, err
	}

	done, err := s.across(ctx, "outreach: finish campaigns with nothing left to send", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().TableExpr("outreach_campaigns AS c").ColumnExpr("c.tenant_id, c.id").
			// A system campaign (notices, alerts) keeps running.
			Where("c.status = ? AND c.kind = ?", CampaignRunning, KindCampaign).
			Where("NOT EXISTS (SELECT 1 FROM outreach_messages AS m WHERE m.tenant_id = c.tenant_id AND m.campaign_id = c.id AND m.status IN (?, ?, ?))",
				StatusQueued, StatusHeldQuietHours, StatusSending)
	})
	if err != nil {
		return r, err
	}
	for _, d := range done {
		err := s.DB.InTenantTx(scope.With(ctx, scope.Tenant{TenantID: d.TenantID}), func(ctx context.Context, tx *store.TenantTx) error {
			res, err := tx.Update((*Campaign)(nil)).Set("status = ?, finished_at = ?, updated_at = ?", CampaignFinished, now, now).
				Where("c.id = ? AND c.status = ?", d.ID, CampaignRunning).
				Where("NOT EXISTS (SELECT 1 FROM outreach_messages AS m WHERE m.tenant_id = c.tenant_id AND m.campaign_id = c.id AND m.status IN (?, ?, ?))",
					StatusQueued, StatusHeldQuietHours, StatusSending).Exec(ctx)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			r.Finished += int(n)
			return nil
		})
		if err != nil {
			return r, fmt.Errorf("finish campaign: %w", err)
		}
	}
	return r, nil
}

// requeueLost queues again the tasks of queued messages of running
// campaigns that Redis lost. When the queue holds no send task at all,
// every such message that is due has lost its task (a flush, or Redis
// restarted without its data) and is queued again at once: waiting for the
// rows to be StaleQueued old had sending stop for 70 s after Redis was
// lost, with the queue visibly empty. Otherwise only rows queued longer
// than StaleQueued are looked at, and only when the queue holds fewer send
// tasks than there are such rows: in a long campaign most old rows' tasks
// simply wait their turn, and retrying every one each run would be
// thousands of Redis calls every period for nothing; a loss shows as fewer
// tasks than rows, at the latest once the queue has drained.
func (s *Service) requeueLost(ctx context.Context, now time.Time) (int, error) {
	requeued, err := s.requeueAlerts(ctx, now)
	if err != nil {
		return requeued, err
	}
	cutoff, backlog := now.Add(-s.Rules.staleQueued()), -1
	if s.Backlog != nil {
		if n, err := s.Backlog(ctx); err == nil {
			backlog = n
		}
	}
	if backlog == 0 {
		cutoff = now.Add(time.Nanosecond) // due_at <= now
	}
	stale, err := s.across(ctx, "outreach: requeue messages whose task was lost", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().TableExpr("outreach_messages AS m").ColumnExpr("m.tenant_id, m.id").
			Join("JOIN outreach_campaigns AS c ON c.tenant_id = m.tenant_id AND c.id = m.campaign_id").
			Where("m.status = ? AND m.due_at < ? AND c.status = ? AND c.kind <> ?", StatusQueued, cutoff, CampaignRunning, KindAlerts)
	})
	if err != nil || len(stale) == 0 || backlog >= len(stale) {
		return requeued, err
	}
	for tenant, ids := range byTenant(stale) {
		n, err := s.enqueueAll(scope.With(ctx, scope.Tenant{TenantID: tenant}), tenant, ids, false)
		requeued += n
		if err != nil {
			return requeued, err
		}
	}
	return requeued, nil
}

// requeueAlerts queues again the tasks of alerts left queued past
// alertStale once due, whatever the send queue holds: they are on the
// critical queue (not counted in Backlog), and a fever alert must not wait
// a minute because the caller died between its commit and NotifyTasks.
func (s *Service) requeueAlerts(ctx context.Context, now time.Time) (int, error) {
	stale, err := s.across(ctx, "outreach: requeue alerts whose task was lost", func(tx bun.Tx) *bun.SelectQuery {
		return tx.NewSelect().TableExpr("outreach_messages AS m").ColumnExpr("m.tenant_id, m.id").
			Join("JOIN outreach_campaigns AS c ON c.tenant_id = m.tenant_id AND c.id = m.campaign_id").
			Where("m.status = ? AND m.due_at < ? AND c.kind = ?", StatusQueued, now.Add(-alertStale), KindAlerts)
	})
	if err != nil {
		return 0, err
	}
	requeued := 0
	for tenant, ids := range byTenant(stale) {
		n, err := s.enqueueAll(scope.With(ctx, scope.Tenant{TenantID: tenant}), tenant, ids, true)
		requeued += n
		if err != nil {
			return requeued, err
		}
	}
	return requeued, nil
}

// WatchQueue looks at the send queue every period and, when it holds
// nothing, queues again at once the messages of running campaigns whose
// tasks Redis lost (requeueLost), instead of leaving them to the
// reconciler's next run. It runs in each worker process until ctx ends;
// with the queue busy a look is one Redis call, and with the queue empty
// one query of the running campaigns' queued messages.
func (s *Service) WatchQueue(ctx context.Context, period time.Duration) {
	if s.Backlog == nil || s.Queue == nil {
		return
	}
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.Backlog(ctx); err != nil || n > 0 {
			continue
		}
		n, err := s.requeueLost(ctx, s.now())
		switch {
		case err != nil && ctx.Err() == nil:
			s.logger().Warn("outreach: could not re-queue messages whose tasks were lost", "err", err)
		case n > 0:
			s.logger().Info("outreach: the send queue was empty with campaigns running; messages re-queued", "requeued", n)
		}
	}
}

// PendingWork counts messages waiting, held or being sent, over every
// community, for the operator's metrics: after Redis loses its tasks the
// queue looks empty, but these are still to do. A draft's or a paused
// campaign's messages are queued too, but wait for staff, not for the
// workers: counted, a draft left for a week would look like a stuck queue.
func (s *Service) PendingWork(ctx context.Context) ([]observe.Pending, error) {
	var rows []struct {
		Status string    `bun:"status"`
		N      int       `bun:"n"`
		Oldest time.Time `bun:"oldest"`
	}
	err := s.DB.AcrossTenants(ctx, "outreach: pending work metric", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewSelect().TableExpr("outreach_messages AS m").ColumnExpr("m.status, count(*) AS n, min(m.updated_at) AS oldest").
			Join("JOIN outreach_campaigns AS c ON c.tenant_id = m.tenant_id AND c.id = m.campaign_id").
			Where("(m.status IN (?, ?) AND c.status = ?) OR m.status = ?", StatusQueued, StatusHeldQuietHours, CampaignRunning, StatusSending).
			GroupExpr("m.status").Scan(ctx, &rows)
	})
	if err != nil {
		return nil, fmt.Errorf("pending messages: %w", err)
	}
	out := []observe.Pending{{Kind: "message", Status: StatusQueued}, {Kind: "message", Status: StatusHeldQuietHours}, {Kind: "message", Status: StatusSending}}
	for _, r := range rows {
		for i := range out {
			if out[i].Status == r.Status {
				out[i].Count, out[i].Oldest = r.N, s.now().Sub(r.Oldest.UTC())
			}
		}
	}
	return out, nil
}
