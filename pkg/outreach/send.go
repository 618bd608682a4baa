package outreach

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"

	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/tenancy"
)

// claimed is a message a worker now owns (status sending), with what the
// provider needs.
type claimed struct {
	msg      Message
	campaign Campaign
	// resolve: the row was found sending long ago (its worker died) or a
	// transient error said the provider may have it: ask, never resend.
	resolve bool
}

func (c *claimed) providerMessage() provider.Message {
	return provider.Message{ID: c.msg.ID, Channel: provider.Channel(c.campaign.Channel), Phone: c.msg.Phone, Body: c.msg.Body,
		TemplateCode: c.campaign.ProviderTemplate, SignName: c.campaign.SignName, Params: c.msg.Params}
}

// SendMessage sends one message of the outbox at most once: it waits for
// the shared rate, claims the row (queued → sending) in one statement,
// applies the rules, sends, and records what the provider said. A task
// that finds nothing to claim (sent already, another worker on it, the
// campaign paused) ends quietly.
func (s *Service) SendMessage(ctx context.Context, id string) error {
	sc, ok := tenancy.From(ctx)
	if !ok || sc.TenantID == "" {
		return errors.New("outreach: send without a tenant")
	}
	if err := s.allow(ctx, sc.TenantID); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err // shutting down: the task goes back to the queue
	}
	// A claim once begun runs to its end even if the worker is stopping. A
	// COMMIT interrupted by the worker's cancellation may still have been
	// committed by the server (pgx cuts the connection and reports the
	// context's error), leaving the row sending with nothing sent: the
	// reconciler would then find the provider without a record of it and
	// mark it unknown, for staff to chase, although it was never sent.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Rules.sendTimeout())
	var cl *claimed
	err := s.DB.InTenantTx(cctx, func(ctx context.Context, tx *store.TenantTx) error {
		var err error
		cl, err = s.claim(ctx, tx, id)
		return err
	})
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: the task goes back to the queue
		}
		// The database is out of reach: wait rather than fail, so that the
		// task is never archived and its id stays free for the reconciler.
		return queue.Later(s.Rules.backoff(2), "outreach: claim: "+err.Error())
	}
	if cl == nil {
		return nil
	}
	// From here the message is ours: the send and its record run to their
	// end even if the worker is stopping, because a send abandoned halfway
	// is the one case that needs the provider to be asked what happened.
	ctx = context.WithoutCancel(ctx)
	if cl.resolve {
		return s.resolve(ctx, cl)
	}
	return s.send(ctx, cl)
}

// allow takes a token from the community's and the provider's buckets; an
// empty bucket is "later", not a failure.
func (s *Service) allow(ctx context.Context, tenantID string) error {
	if s.Limiter == nil {
		return nil
	}
	for _, b := range []struct {
		key  string
		rate int
	}{
		{"wanjia:outreach:rate:tenant:" + tenantID, s.Rules.tenantRate()},
		{"wanjia:outreach:rate:provider:" + s.providerName(), s.Rules.providerRate()},
	} {
		res, err := s.Limiter.Allow(ctx, b.key, redis_rate.PerSecond(b.rate))
		if err != nil {
			return queue.Later(time.Second, "outreach: rate limiter: "+err.Error())
		}
		if res.Allowed == 0 {
			return queue.Later(max(res.RetryAfter, 10*time.Millisecond), "outreach: send rate")
		}
	}
	return nil
}

// claim takes the message in one statement: only a queued message of a
// running campaign moves to sending, so two workers (or a task delivered
// twice) cannot both have it. The rules are then applied in the same
// transaction, so a held or skipped message is never seen sending.
func (s *Service) claim(ctx context.Context, tx *store.TenantTx, id string) (*claimed, error) {
	comm, err := s.community(ctx, tx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	today := comm.day(now)
	cl := &claimed{}
	err = tx.Update(&cl.msg).
		Set("status = ?, attempts = m.attempts + 1, sending_at = ?, sent_date = ?, provider = ?, updated_at = ?",
			StatusSending, now, today, s.providerName(), now).
		Where("m.id = ? AND m.status = ?", id, StatusQueued).
		Where("EXISTS (SELECT 1 FROM outreach_campaigns AS c WHERE c.tenant_id = m.tenant_id AND c.id = m.campaign_id AND c.status = ?)", CampaignRunning).
		Returning("*").Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return s.abandoned(ctx, tx, id, now)
	}
	if err != nil {
		return nil, fmt.Errorf("claim message: %w", err)
	}
	if err := tx.Select(&cl.campaign).Where("c.id = ?", cl.msg.CampaignID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load campaign: %w", err)
	}
	if cl.msg.MaybeSent {
		cl.resolve = true
		return cl, nil
	}
	// The rules, in order: a resident who said stop; the night; the day's
	// cap. Each gives the claim back as another status.
	optedOut, err := tx.SelectAs("outreach_opt_outs", "o").Where("o.phone = ?", cl.msg.Phone).Exists(ctx)
	if err != nil {
		return nil, fmt.Errorf("opt-out: %w", err)
	}
	if optedOut {
		return nil, s.setAside(ctx, tx, id, StatusSkippedOptOut, now)
	}
	if !cl.campaign.Urgent {
		if until, quiet := comm.quietUntil(now); quiet {
			return nil, s.setAside(ctx, tx, id, StatusHeldQuietHours, until)
		}
	}
	n, err := tx.SelectAs("outreach_messages", "d").
		Where("d.phone = ? AND d.sent_date = ? AND d.id <> ?", cl.msg.Phone, today, id).
		Where("d.status IN (?, ?, ?, ?)", StatusSending, StatusSent, StatusDelivered, StatusUnknown).Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("daily cap: %w", err)
	}
	if n >= int64(s.Rules.dailyCap()) {
		return nil, s.setAside(ctx, tx, id, StatusSkippedDailyCap, now)
	}
	return cl, nil
}

// setAside gives a claimed message another status instead of sending it
// (held until due, or skipped).
func (s *Service) setAside(ctx context.Context, tx *store.TenantTx, id, status string, due time.Time) error {
	_, err := tx.Update((*Message)(nil)).
		Set("status = ?, attempts = m.attempts - 1, sending_at = NULL, sent_date = NULL, due_at = ?, updated_at = ?", status, due, s.now()).
		Where("m.id = ? AND m.status = ?", id, StatusSending).Exec(ctx)
	if err == nil {
		s.Metrics.count(status, s.providerName())
	}
	return err
}

// abandoned looks at a message the claim did not take: one left sending
// by a worker that died is resolved by asking the provider; anything else
// is someone else's or done.
func (s *Service) abandoned(ctx context.Context, tx *store.TenantTx, id string, now time.Time) (*claimed, error) {
	cl := &claimed{resolve: true}
	err := tx.Select(&cl.msg).Where("m.id = ? AND m.status = ? AND m.sending_at < ?", id, StatusSending, now.Add(-s.Rules.staleSending())).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load message: %w", err)
	}
	if err := tx.Select(&cl.campaign).Where("c.id = ?", cl.msg.CampaignID).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load campaign: %w", err)
	}
	return cl, nil
}

// send hands the message to the provider and records the answer.
func (s *Service) send(ctx context.Context, cl *claimed) error {
	sctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
	start := time.Now()
	sent, err := s.Provider.Send(sctx, cl.providerMessage())
	cancel()
	name := s.providerName()
	now := s.now()
	if err == nil {
		s.Metrics.observe(name, "ok", time.Since(start).Seconds())
		return s.record(ctx, cl.msg.ID, StatusSent, sent.ProviderID, "", "", now)
	}
	if provider.IsPermanent(err) {
		s.Metrics.observe(name, "permanent", time.Since(start).Seconds())
		code, reason := errorText(err)
		return s.record(ctx, cl.msg.ID, StatusFailed, "", code, reason, now)
	}
	s.Metrics.observe(name, "transient", time.Since(start).Seconds())
	code, reason := errorText(err)
	if cl.msg.Attempts >= s.Rules.maxAttempts() {
		return s.record(ctx, cl.msg.ID, StatusFailed, "", code, reason, now)
	}
	wait := max(s.Rules.backoff(cl.msg.Attempts), provider.RetryAfter(err))
	// Back to queued, due after the wait: the task itself comes back then
	// (queue.Later), and the reconciler leaves it alone until it is late.
	maybe := provider.MaybeSent(err)
	uerr := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		_, err := tx.Update((*Message)(nil)).
			Set("status = ?, maybe_sent = ?, error_code = ?, error = ?, due_at = ?, updated_at = ?",
				StatusQueued, maybe, code, reason, now.Add(wait), now).
			Where("m.id = ? AND m.status = ?", cl.msg.ID, StatusSending).Exec(ctx)
		return err
	})
	if uerr != nil {
		// Left sending: the reconciler asks the provider later.
		return fmt.Errorf("outreach: record transient error: %w", uerr)
	}
	return queue.Later(wait, "outreach: provider: "+reason)
}

func errorText(err error) (code, reason string) {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return pe.Code, pe.Reason
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout", "provider did not answer in time"
	}
	return "error", "provider error"
}

// record writes a send's outcome. A delivery receipt may have come first:
// a final state is never taken back.
func (s *Service) record(ctx context.Context, id, status, providerID, code, reason string, at time.Time) error {
	err := s.DB.InTenantTx(ctx, func(ctx context.Context, tx *store.TenantTx) error {
		q := tx.Update((*Message)(nil)).
			Set("status = CASE WHEN m.status IN (?, ?) THEN ? ELSE m.status END", StatusSending, StatusUnknown, status).
			Set("error_code = ?, error = ?, maybe_sent = false, updated_at = ?", code, reason, at).
			Where("m.id = ?", id)
		if providerID != "" {
			q = q.Set("provider_id = ?", providerID)
		}
		if status == StatusSent || status == StatusDelivered {
			q = q.Set("sent_at = COALESCE(m.sent_at, ?)", at)
		}
		if status == StatusDelivered {
			q = q.Set("delivered_at = COALESCE(m.delivered_at, ?)", at)
		}
		_, err := q.Exec(ctx)
		return err
	})
	if err != nil {
		// The provider has it; the row stays sending and the reconciler
		// asks the provider, so it is not sent again.
		return fmt.Errorf("outreach: record %s: %w", status, err)
	}
	s.Metrics.count(status, s.providerName())
	return nil
}

// resolve asks the provider what became of a message it may have (left
// sending by a dead worker, or a transient error that may have gone
// through), and records the answer. What the provider cannot say is
// unknown, for staff to look at: never sent blindly a second time.
func (s *Service) resolve(ctx context.Context, cl *claimed) error {
	at := s.now()
	if cl.msg.SendingAt != nil {
		at = *cl.msg.SendingAt
	}
	qctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
	st, err := s.Provider.Query(qctx, cl.providerMessage(), provider.Sent{ProviderID: cl.msg.ProviderID, At: at})
	cancel()
	now := s.now()
	switch {
	case errors.Is(err, provider.ErrCannotQuery):
		return s.record(ctx, cl.msg.ID, StatusUnknown, "", "cannot_query", "the provider cannot say whether it was sent", now)
	case err != nil:
		return queue.Later(s.Rules.backoff(3), "outreach: query: "+err.Error())
	}
	switch st.State {
	case provider.StateDelivered:
		return s.record(ctx, cl.msg.ID, StatusDelivered, "", "", "", now)
	case provider.StateSent:
		return s.record(ctx, cl.msg.ID, StatusSent, "", "", "", now)
	case provider.StateFailed:
		return s.record(ctx, cl.msg.ID, StatusFailed, "", st.Code, st.Reason, now)
	}
	return s.record(ctx, cl.msg.ID, StatusUnknown, "", "not_found", "the provider has no record of it", now)
}
