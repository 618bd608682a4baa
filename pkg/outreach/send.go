package outreach

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/store"
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
	tpl := c.campaign.ProviderTemplate
	if c.msg.ProviderTemplate != "" {
		tpl = c.msg.ProviderTemplate // a notice's own
	}
	return provider.Message{ID: c.msg.ID, Channel: provider.Channel(c.campaign.Channel), Phone: c.msg.Phone, Body: c.msg.Body,
		TemplateCode: tpl, SignName: c.campaign.SignName, Params: c.msg.Params, Keypad: c.msg.Keypad}
}

// alert reports whether the message is an alert to staff (Notify's
// urgent notices): the critical queue, its own bucket, and no cap, quiet
// hours or opt-out.
func (c *Campaign) alert() bool { return c.Kind == KindAlerts }

// SendMessage sends one message of the outbox at most once: it claims the
// row (queued → sending) in one statement, applies the rules, waits for
// the shared rate, sends, and records what the provider said. A task that
// finds nothing to claim (sent already, another worker on it, the campaign
// paused) ends quietly.
//
// Claims and records go through batchers: tasks running side by side
// share their transactions, and each task still returns only once its own
// row is written.
func (s *Service) SendMessage(ctx context.Context, id string) error {
	sc, ok := scope.From(ctx)
	if !ok || sc.TenantID == "" {
		return errors.New("outreach: send without a tenant")
	}
	if err := ctx.Err(); err != nil {
		return err // shutting down: the task goes back to the queue
	}
	// A claim once begun runs to its end even if the worker is stopping
	// (the batcher waits for its answer whatever becomes of ctx). A COMMIT
	// interrupted by the worker's cancellation may still have been
	// committed by the server, leaving the row sending with nothing sent:
	// the reconciler would then find the provider without a record of it
	// and mark it unknown, for staff to chase, although it was never sent.
	res := s.batchers().claims.do(ctx, claimReq{tenantID: sc.TenantID, id: id})
	if res.err != nil {
		var later *queue.LaterError
		if errors.As(res.err, &later) {
			return res.err
		}
		if ctx.Err() != nil {
			return ctx.Err() // shutting down: the task goes back to the queue
		}
		// The database is out of reach: wait rather than fail, so that the
		// task is never archived and its id stays free for the reconciler.
		return queue.Later(s.Rules.backoff(2), "outreach: claim: "+res.err.Error())
	}
	cl := res.cl
	if cl == nil {
		return nil
	}
	// From here the message is ours: the send and its record run to their
	// end even if the worker is stopping, because a send abandoned halfway
	// is the one case that needs the provider to be asked what happened.
	ctx = context.WithoutCancel(ctx)
	if cl.resolve {
		return s.resolve(ctx, cl, true)
	}
	return s.send(ctx, cl)
}

// Batch sizes: a flush of up to batchMax rows, and up to batchFlushers
// flushes at once per kind (claims, records), well inside the pool.
const (
	batchMax      = 128
	batchFlushers = 1
)

type claimReq struct{ tenantID, id string }

type claimResult struct {
	cl  *claimed // nil: nothing to send
	err error
}

type recordReq struct {
	tenantID                          string
	id, status, providerID, code, why string
}

type sendBatchers struct {
	claims  *batcher[claimReq, claimResult]
	records *batcher[recordReq, error]
}

func (s *Service) batchers() *sendBatchers {
	s.batchOnce.Do(func() {
		s.batch = &sendBatchers{
			claims: newBatcher(batchMax, batchFlushers, s.claimBatch,
				func(err error) claimResult { return claimResult{err: err} }),
			records: newBatcher(batchMax, batchFlushers, s.recordBatch, func(err error) error { return err }),
		}
	})
	return s.batch
}

// byTenantIndex groups the positions of items by tenant, in order.
func byTenantIndex[T any](items []T, tenant func(T) string) map[string][]int {
	m := map[string][]int{}
	for i, it := range items {
		m[tenant(it)] = append(m[tenant(it)], i)
	}
	return m
}

// claimBatch claims a batch of messages, one transaction per community.
func (s *Service) claimBatch(ctx context.Context, reqs []claimReq) []claimResult {
	out := make([]claimResult, len(reqs))
	for tenantID, idx := range byTenantIndex(reqs, func(r claimReq) string { return r.tenantID }) {
		ids := make([]string, len(idx))
		for i, j := range idx {
			ids[i] = reqs[j].id
		}
		tctx, cancel := context.WithTimeout(scope.With(ctx, scope.Tenant{TenantID: tenantID}), s.Rules.sendTimeout())
		var got map[string]claimResult
		err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
			var err error
			got, err = s.claim(ctx, tx, ids)
			return err
		})
		cancel()
		// A message named twice in one batch (its task delivered twice at
		// once) is claimed once: the first call has it, the others find
		// nothing to do, as they would a moment later.
		first := make(map[string]bool, len(ids))
		for i, j := range idx {
			switch {
			case err != nil:
				out[j] = claimResult{err: err}
			case !first[ids[i]]:
				first[ids[i]] = true
				out[j] = got[ids[i]]
			}
		}
	}
	return out
}

// claim takes the messages in one statement: only a queued message of a
// running campaign moves to sending, so two workers (or a task delivered
// twice) cannot both have it. The rules are then applied in the same
// transaction, so a held or skipped message is never seen sending: a
// resident who said stop, the night, the day's cap, and last the shared
// rate. Messages not named in the answer have nothing to send.
func (s *Service) claim(ctx context.Context, tx *store.TenantTx, ids []string) (map[string]claimResult, error) {
	comm, err := s.community(ctx, tx)
	if err != nil {
		return nil, err
	}
	now := s.now()
	today := comm.day(now)
	var rows []claimedRow
	q := tx.Update(&rows).
		Set("status = ?, attempts = m.attempts + 1, sending_at = ?, sent_date = ?, provider = ?, updated_at = ?",
			StatusSending, now, today, s.providerName(), now).
		// The status test is written so that no index can serve it, nor
		// can the campaign's: the primary key is then the only way in, and
		// a claim reads the rows it names. Given a way in by status, the
		// planner takes it whenever its statistics are stale (a campaign
		// of 100,000 just written, or a table of old sent messages), and
		// each claim walks every queued message of the community (16 ms a
		// batch instead of 3 in BenchmarkSend100k).
		Where("m.id IN (?) AND m.status || '' = ?", bun.List(ids), StatusQueued).
		Where("(SELECT c.status FROM outreach_campaigns AS c WHERE c.tenant_id = m.tenant_id AND c.id = m.campaign_id) = ?", CampaignRunning)
	facts := s.DB.Flavor() == store.Postgres
	if facts {
		// PostgreSQL reads the rules' facts in the claim itself, one round
		// trip fewer: RETURNING's subqueries see the table as it was
		// before the statement, so this batch's own rows (queued until
		// now) do not count against their phones.
		q = q.Returning("m.*, "+optedOutSQL+" AS opted_out, "+sentTodaySQL+" AS sent_today", today, bun.List(capStatuses), bun.List(ids))
	} else {
		q = q.Returning("*")
	}
	if err := q.Scan(ctx); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("claim messages: %w", err)
	}
	if !facts {
		if err := s.ruleFacts(ctx, tx, rows, ids, today); err != nil {
			return nil, err
		}
	}
	out := make(map[string]claimResult, len(ids))
	if len(rows) < len(ids) {
		// Not claimed: one left sending by a worker that died is resolved
		// by asking the provider; anything else is someone else's or done.
		claimed := make(map[string]bool, len(rows))
		for _, r := range rows {
			claimed[r.ID] = true
		}
		var rest []string
		for _, id := range ids {
			if !claimed[id] {
				rest = append(rest, id)
			}
		}
		var stale []Message
		if err := tx.Select(&stale).Where("m.id IN (?) AND m.status = ? AND m.sending_at < ?", bun.List(rest), StatusSending,
			now.Add(-s.Rules.staleSending())).Scan(ctx); err != nil {
			return nil, fmt.Errorf("load abandoned messages: %w", err)
		}
		for _, m := range stale {
			m.MaybeSent = true
			rows = append(rows, claimedRow{Message: m})
		}
	}
	if len(rows) == 0 {
		return out, nil
	}
	msgs := make([]Message, len(rows))
	for i, r := range rows {
		msgs[i] = r.Message
	}
	campaigns, err := s.campaignsOf(ctx, tx, msgs)
	if err != nil {
		return nil, err
	}
	r := rules{s: s, tx: tx, comm: comm, now: now, campaigns: campaigns, out: out}
	if err := r.apply(ctx, rows); err != nil {
		return nil, err
	}
	return out, nil
}

// claimedRow is a message just claimed, with what the rules need to know.
type claimedRow struct {
	Message   `bun:",extend"`
	OptedOut  bool `bun:"opted_out,scanonly"`
	SentToday int  `bun:"sent_today,scanonly"`
}

// The rules' facts about a message m: whether its phone opted out, and
// how many messages went (or may have gone) to it on its channel today,
// outside the batch. Placeholders: the day, the statuses, the batch.
//
// The count is written so that only outreach_messages_cap_idx can serve
// it, whatever the statistics: the day is tested as that index's third
// expression (sent_date, NULL as the empty string), which does not imply
// sent_date IS NOT NULL, so the figures' index (partial on it) is no way in; the
// statuses as an expression no index has, so the due index (status, …) is
// none either. Written plainly, the planner chose by statistics, and those
// of a campaign just written (analyzed by its dispatch) say that no
// message has a sent_date nor one of these statuses: the figures' index
// looked empty and was taken, and each count walked every message of the
// community sent today (the first campaign of 20,000 in BenchmarkSend100k
// sent at 369 messages/s, the second, once the statistics had seen a
// campaign sent, at 1,409/s). A CASE, not coalesce: under row security
// only a CASE of plain columns reaches the index condition.
const (
	optedOutSQL  = "EXISTS (SELECT 1 FROM outreach_opt_outs AS o WHERE o.tenant_id = m.tenant_id AND o.phone = m.phone AND m.phone <> '')"
	sentTodaySQL = "(SELECT COUNT(*) FROM outreach_messages AS d WHERE d.tenant_id = m.tenant_id AND d.phone = m.phone " +
		"AND d.channel = m.channel AND CASE WHEN d.sent_date IS NULL THEN '' ELSE d.sent_date END = ? AND d.status || '' IN (?) AND d.id NOT IN (?))"
)

// ruleFacts reads the rules' facts of the messages just claimed, in one
// statement, where the claim could not (SQLite's RETURNING cannot reach
// the updated row from a subquery).
func (s *Service) ruleFacts(ctx context.Context, tx *store.TenantTx, rows []claimedRow, batch []string, today string) error {
	if len(rows) == 0 {
		return nil
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var facts []struct {
		ID        string `bun:"id"`
		OptedOut  bool   `bun:"opted_out"`
		SentToday int    `bun:"sent_today"`
	}
	err := tx.SelectAs("outreach_messages", "m").Column("m.id").
		ColumnExpr(optedOutSQL+" AS opted_out").
		ColumnExpr(sentTodaySQL+" AS sent_today", today, bun.List(capStatuses), bun.List(batch)).
		Where("m.id IN (?)", bun.List(ids)).Scan(ctx, &facts)
	if err != nil {
		return fmt.Errorf("opt-outs and daily cap: %w", err)
	}
	byID := make(map[string]int, len(facts))
	for i, f := range facts {
		byID[f.ID] = i
	}
	for i := range rows {
		if j, ok := byID[rows[i].ID]; ok {
			rows[i].OptedOut, rows[i].SentToday = facts[j].OptedOut, facts[j].SentToday
		}
	}
	return nil
}

// campaignsOf returns the campaigns of msgs. What a campaign sends (its
// channel, text, template, urgency) never changes once it is created, so
// a worker keeps what it has read: a campaign of 100,000 is read once,
// not once a batch. (Its status is not kept: the claim reads that.)
func (s *Service) campaignsOf(ctx context.Context, tx *store.TenantTx, msgs []Message) (map[string]*Campaign, error) {
	out := map[string]*Campaign{}
	var missing []string
	for _, m := range msgs {
		if _, ok := out[m.CampaignID]; ok {
			continue
		}
		if v, ok := s.campaignCache.Load(tx.Tenant() + "/" + m.CampaignID); ok {
			out[m.CampaignID] = v.(*Campaign)
			continue
		}
		out[m.CampaignID] = nil
		missing = append(missing, m.CampaignID)
	}
	if len(missing) == 0 {
		return out, nil
	}
	var cs []Campaign
	if err := tx.Select(&cs).Where("c.id IN (?)", bun.List(missing)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("load campaigns: %w", err)
	}
	if s.cachedCampaigns.Add(int64(len(cs))) > campaignCacheMax {
		s.campaignCache.Clear()
		s.cachedCampaigns.Store(int64(len(cs)))
	}
	for i := range cs {
		c := &cs[i]
		out[c.ID] = c
		s.campaignCache.Store(tx.Tenant()+"/"+c.ID, c)
	}
	return out, nil
}

// campaignCacheMax bounds the campaigns a worker keeps; past it, it
// starts again.
const campaignCacheMax = 1000

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
	var sent provider.Sent
	var err error
	name := s.providerName()
	if cl.campaign.Channel == ChannelWeCom {
		name = "wecom"
		sent, err = s.postWeCom(sctx, cl)
	} else {
		sent, err = s.Provider.Send(sctx, cl.providerMessage())
	}
	cancel()
	now := s.now()
	if err == nil {
		s.Metrics.observe(name, "ok", time.Since(start).Seconds())
		if cl.campaign.Channel == ChannelWeCom {
			return s.recordPosted(ctx, cl)
		}
		return s.record(ctx, cl.msg.ID, StatusSent, sent.ProviderID, "", "", now)
	}
	if provider.IsCredentials(err) {
		s.Metrics.observe(name, "credentials", time.Since(start).Seconds())
		return s.credentialsRefused(ctx, cl, name, err, now)
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
	uerr := s.untilRecorded(cl.msg.ID, func() error {
		tctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
		defer cancel()
		return s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
			_, err := tx.Update((*Message)(nil)).
				Set("status = ?, maybe_sent = ?, error_code = ?, error = ?, due_at = ?, updated_at = ?",
					StatusQueued, maybe, code, reason, now.Add(wait), now).
				Where("m.id = ? AND m.status = ?", cl.msg.ID, StatusSending).Exec(ctx)
			return err
		})
	})
	if uerr != nil {
		// Left sending: the reconciler asks the provider later.
		return fmt.Errorf("outreach: record transient error: %w", uerr)
	}
	return queue.Later(wait, "outreach: provider: "+reason)
}

// untilRecorded runs write, the record of what a provider answered, until
// it succeeds, waiting between tries (100 ms, doubling up to 5 s) for as
// long as Rules.RecordFor allows. Until it is written the provider's answer
// exists only here: dropped, the row would stay sending, and a provider
// that cannot be asked (the webhook, WeCom) would make the message
// unknown although it was sent (every send accepted during a database
// outage, in the drill). A send is never repeated to record it. One WARN
// line says that records wait, one INFO line that they all got through,
// however many messages wait at once.
func (s *Service) untilRecorded(id string, write func() error) error {
	deadline := time.Now().Add(s.Rules.recordFor())
	wait := 100 * time.Millisecond
	waiting := false
	defer func() {
		if waiting && s.recordsWaiting.Add(-1) == 0 {
			s.logger().Info("outreach: the sends' records are written again")
		}
	}()
	for {
		err := write()
		if err == nil {
			return nil
		}
		if time.Now().Add(wait).After(deadline) {
			s.logger().Error("outreach: gave up recording a send; the reconciler will ask the provider",
				"message_id", id, "err", err)
			return err
		}
		if !waiting {
			waiting = true
			if s.recordsWaiting.Add(1) == 1 {
				s.logger().Warn("outreach: the database does not take the sends' records; retrying until it does",
					"message_id", id, "err", err)
			}
		}
		time.Sleep(wait)
		wait = min(2*wait, 5*time.Second)
	}
}

// credentialsRefused handles a send the provider refused for our
// credentials: every other message would be refused the same way, and
// retrying each six times only hid the fault in WARN lines. The message
// goes back to queued (the attempt not counted) and its campaign pauses,
// with the reason staff see on its page, in one transaction; the send ends
// there, and resume, once the operator has fixed the credentials, queues
// every message not yet sent. The operator's alarm is the metric and one
// ERROR line per campaign paused.
func (s *Service) credentialsRefused(ctx context.Context, cl *claimed, name string, err error, now time.Time) error {
	s.Metrics.authFailure(name)
	code, reason := errorText(err)
	if cl.campaign.Kind != KindCampaign {
		return s.credentialsRefusedNotice(ctx, cl, name, code, reason, now)
	}
	paused := false
	werr := s.untilRecorded(cl.msg.ID, func() error {
		tctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
		defer cancel()
		return s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
			if _, err := tx.Update((*Message)(nil)).
				Set("status = ?, attempts = CASE WHEN m.attempts > 0 THEN m.attempts - 1 ELSE 0 END, error_code = ?, error = ?, due_at = ?, updated_at = ?",
					StatusQueued, code, reason, now, now).
				Where("m.id = ? AND m.status = ?", cl.msg.ID, StatusSending).Exec(ctx); err != nil {
				return err
			}
			res, err := tx.Update((*Campaign)(nil)).
				Set("status = ?, pause_reason = ?, updated_at = ?", CampaignPaused, PauseProviderCredentials, now).
				Where("c.id = ? AND c.status = ?", cl.campaign.ID, CampaignRunning).Exec(ctx)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			paused = n > 0
			return nil
		})
	})
	if werr != nil {
		return fmt.Errorf("outreach: pause on refused credentials: %w", werr)
	}
	if paused {
		sc, _ := scope.From(ctx)
		s.logger().Error("outreach: the provider refused our credentials; campaign paused until they are fixed and it is resumed",
			"provider", name, "code", code, "reason", reason, "tenant_id", sc.TenantID, "campaign_id", cl.campaign.ID)
	}
	return nil
}

// credentialsWait is how long a notice waits for the operator to fix the
// provider's credentials before it tries again.
const credentialsWait = time.Minute

// credentialsRefusedNotice: a notice's system campaign is never paused
// (no one would resume it); the notice goes back to queued, the attempt
// not counted, and tries again every credentialsWait until the operator
// has fixed the credentials, alarmed as for a campaign.
func (s *Service) credentialsRefusedNotice(ctx context.Context, cl *claimed, name, code, reason string, now time.Time) error {
	werr := s.untilRecorded(cl.msg.ID, func() error {
		tctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
		defer cancel()
		return s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
			_, err := tx.Update((*Message)(nil)).
				Set("status = ?, attempts = CASE WHEN m.attempts > 0 THEN m.attempts - 1 ELSE 0 END, error_code = ?, error = ?, due_at = ?, updated_at = ?",
					StatusQueued, code, reason, now.Add(credentialsWait), now).
				Where("m.id = ? AND m.status = ?", cl.msg.ID, StatusSending).Exec(ctx)
			return err
		})
	})
	if werr != nil {
		return fmt.Errorf("outreach: requeue on refused credentials: %w", werr)
	}
	sc, _ := scope.From(ctx)
	s.logger().Error("outreach: the provider refused our credentials; the notice waits until they are fixed",
		"provider", name, "code", code, "reason", reason, "tenant_id", sc.TenantID, "message_id", cl.msg.ID)
	return queue.Later(credentialsWait, "outreach: provider credentials refused")
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

// record writes a send's outcome (through the record batcher). A
// delivery receipt may have come first: a final state is never taken back.
func (s *Service) record(ctx context.Context, id, status, providerID, code, reason string, _ time.Time) error {
	sc, _ := scope.From(ctx)
	req := recordReq{tenantID: sc.TenantID, id: id, status: status, providerID: providerID, code: code, why: reason}
	err := s.untilRecorded(id, func() error { return s.batchers().records.do(ctx, req) })
	if err != nil {
		// Given up: the row stays sending and the reconciler asks the
		// provider, so it is not sent again.
		return fmt.Errorf("outreach: record %s: %w", status, err)
	}
	s.Metrics.count(status, s.providerName())
	return nil
}

// recordBatch writes a batch of outcomes: per community one transaction,
// with one statement per outcome (status, code, reason); the provider's
// ids ride in a CASE.
func (s *Service) recordBatch(ctx context.Context, reqs []recordReq) []error {
	out := make([]error, len(reqs))
	at := s.now()
	for tenantID, idx := range byTenantIndex(reqs, func(r recordReq) string { return r.tenantID }) {
		type outcome struct{ status, code, why string }
		groups := map[outcome][]recordReq{}
		for _, j := range idx {
			r := reqs[j]
			k := outcome{r.status, r.code, r.why}
			groups[k] = append(groups[k], r)
		}
		tctx, cancel := context.WithTimeout(scope.With(ctx, scope.Tenant{TenantID: tenantID}), s.Rules.sendTimeout())
		err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
			for k, rs := range groups {
				ids := make([]string, len(rs))
				var pids []any
				for i, r := range rs {
					ids[i] = r.id
					if r.providerID != "" {
						pids = append(pids, r.id, r.providerID)
					}
				}
				q := tx.Update((*Message)(nil)).
					Set("status = CASE WHEN m.status IN (?, ?) THEN ? ELSE m.status END", StatusSending, StatusUnknown, k.status).
					Set("error_code = ?, error = ?, maybe_sent = false, updated_at = ?", k.code, k.why, at).
					Where("m.id IN (?)", bun.List(ids))
				if len(pids) > 0 {
					q = q.Set("provider_id = CASE m.id"+strings.Repeat(" WHEN ? THEN ?", len(pids)/2)+" ELSE m.provider_id END", pids...)
				}
				if k.status == StatusSent || k.status == StatusDelivered {
					q = q.Set("sent_at = COALESCE(m.sent_at, ?)", at)
				}
				if k.status == StatusDelivered {
					q = q.Set("delivered_at = COALESCE(m.delivered_at, ?)", at)
				}
				if _, err := q.Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		cancel()
		for _, j := range idx {
			out[j] = err
		}
	}
	return out
}

// resolve asks the provider what became of a message it may have (left
// sending by a dead worker, or a transient error that may have gone
// through), and records the answer. What the provider cannot say is
// unknown, for staff to look at: never sent blindly a second time. What
// the provider says for certain it never received (StateNotFound: the
// webhook gateway, asked by our ID) is sent again, once. inTask: resolve
// runs in the message's own send task (else in the reconciler).
func (s *Service) resolve(ctx context.Context, cl *claimed, inTask bool) error {
	at := s.now()
	if cl.msg.SendingAt != nil {
		at = *cl.msg.SendingAt
	}
	qctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
	var st provider.Status
	err := provider.ErrCannotQuery // a WeCom robot keeps no record to ask
	if cl.campaign.Channel != ChannelWeCom {
		st, err = s.Provider.Query(qctx, cl.providerMessage(), provider.Sent{ProviderID: cl.msg.ProviderID, At: at})
	}
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
	case provider.StateNotFound:
		return s.sendAgain(ctx, cl, inTask, now)
	}
	return s.record(ctx, cl.msg.ID, StatusUnknown, "", "not_found", "the provider has no record of it", now)
}

// sendAgain puts back to queued a message the provider says it never
// received, so that a send claims it again through the rules (quiet
// hours, cap, rate) and sends it. The move is guarded by the status and
// the attempts the resolver read: a claim adds an attempt, so of two
// resolvers of one row only the first moves it, and a resolver whose
// answer came before the message was sent again (by the other one) moves
// nothing, whether that send is still going or done. Run in the message's
// own task, the task comes back to send it; run in the reconciler, it
// queues the message's task.
func (s *Service) sendAgain(ctx context.Context, cl *claimed, inTask bool, now time.Time) error {
	tctx, cancel := context.WithTimeout(ctx, s.Rules.sendTimeout())
	moved := false
	err := s.DB.InTenantTx(tctx, func(ctx context.Context, tx *store.TenantTx) error {
		res, err := tx.Update((*Message)(nil)).
			Set("status = ?, maybe_sent = false, error_code = '', error = '', due_at = ?, updated_at = ?", StatusQueued, now, now).
			Where("m.id = ? AND m.status = ? AND m.attempts = ?", cl.msg.ID, StatusSending, cl.msg.Attempts).Exec(ctx)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		moved = n > 0
		return nil
	})
	cancel()
	switch {
	case err != nil && inTask:
		return queue.Later(s.Rules.backoff(3), "outreach: requeue a message never received: "+err.Error())
	case err != nil:
		return fmt.Errorf("outreach: requeue a message never received: %w", err)
	case !moved:
		return nil // another resolver had it
	}
	s.logger().Info("outreach: the provider never received a message left sending; sending it again", "message_id", cl.msg.ID)
	if inTask {
		return queue.Later(0, "outreach: the provider never received it; sending it again")
	}
	sc, _ := scope.From(ctx)
	// A task still in the queue claims it as well; a task lost here is the
	// reconciler's to queue again (requeueLost).
	_, err = s.enqueueSend(ctx, sc.TenantID, cl.msg.ID, cl.campaign.alert())
	return err
}
