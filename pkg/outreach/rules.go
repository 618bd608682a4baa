package outreach

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/store"
)

// rules applies the sending rules to a batch of messages just claimed, in
// the claim's transaction: each message is either handed back to its task
// to send (out[id].cl) or given another status (set aside).
type rules struct {
	s         *Service
	tx        *store.TenantTx
	comm      community
	now       time.Time
	campaigns map[string]*Campaign
	out       map[string]claimResult
	aside     map[aside][]string
}

// aside is a status a claimed message goes to instead of being sent, and
// when it is due again.
type aside struct {
	status string
	due    time.Time
}

// capStatuses are the states that count against a phone's daily cap: what
// went, or may have gone, to the phone today.
var capStatuses = []string{StatusSending, StatusSent, StatusDelivered, StatusUnknown}

func (r *rules) apply(ctx context.Context, rows []claimedRow) error {
	r.aside = map[aside][]string{}
	var candidates []*claimed
	optedOut := map[string]bool{}
	sentToday := map[string]int{}
	for _, row := range rows {
		m := row.Message
		c := r.campaigns[m.CampaignID]
		if c == nil {
			return fmt.Errorf("message %s: campaign %s not found", m.ID, m.CampaignID)
		}
		cl := &claimed{msg: m, campaign: *c}
		if m.MaybeSent {
			// The provider may have it: ask, whatever the rules say now.
			cl.resolve = true
			r.out[m.ID] = claimResult{cl: cl}
			continue
		}
		candidates = append(candidates, cl)
		optedOut[m.ID] = row.OptedOut
		sentToday[m.ID] = row.SentToday
	}
	// Stable order: within a batch, the older message takes the cap first.
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].msg.ID < candidates[j].msg.ID })

	until, quiet := r.comm.quietUntil(r.now)
	var keep []*claimed
	for _, cl := range candidates {
		switch {
		case optedOut[cl.msg.ID] && !cl.campaign.alert():
			// An alert is staff's work, not a message a resident can stop.
			r.setAside(cl, StatusSkippedOptOut, r.now)
		case quiet && !cl.campaign.Urgent:
			r.setAside(cl, StatusHeldQuietHours, until)
		default:
			keep = append(keep, cl)
		}
	}
	keep = r.dailyCap(keep, sentToday)
	for _, cl := range r.rate(ctx, keep) {
		r.out[cl.msg.ID] = claimResult{cl: cl}
	}
	return r.writeAside(ctx)
}

func (r *rules) setAside(cl *claimed, status string, due time.Time) {
	k := aside{status: status, due: due}
	r.aside[k] = append(r.aside[k], cl.msg.ID)
}

// dailyCap sets aside what would take a phone past its channel's cap for
// the day, counting what went to it today outside this batch (sentToday,
// by message, read by the claim) and, in order, what this batch sends it.
// (Two batches for one phone at the same moment can each count the other
// out and go one over; campaigns deduplicate phones, so that takes two
// campaigns to the same phone in the same instant.)
func (r *rules) dailyCap(cands []*claimed, sentToday map[string]int) []*claimed {
	type key struct{ phone, channel string }
	inBatch := map[key]int{}
	var keep []*claimed
	for _, cl := range cands {
		if cl.msg.Phone == "" || cl.campaign.alert() {
			keep = append(keep, cl) // a fever alert is never capped
			continue
		}
		k := key{cl.msg.Phone, cl.campaign.Channel}
		if sentToday[cl.msg.ID]+inBatch[k] >= r.s.Rules.dailyCap(cl.campaign.Channel) {
			r.setAside(cl, StatusSkippedDailyCap, r.now)
			continue
		}
		inBatch[k]++
		keep = append(keep, cl)
	}
	return keep
}

// rate takes the batch's tokens from the shared buckets, per channel: the
// community's, then the provider's. What finds a bucket empty goes back to
// queued, due when the bucket has refilled, and its task answers
// queue.Later: waiting for the rate is not a failure.
func (r *rules) rate(ctx context.Context, cands []*claimed) []*claimed {
	if r.s.Limiter == nil || len(cands) == 0 {
		return cands
	}
	// Alerts take from their own bucket: a campaign of 100,000 at 50 a
	// second must not hold a fever alert back for half an hour.
	type lane struct {
		channel string
		alert   bool
	}
	byLane := map[lane][]*claimed{}
	var order []lane
	for _, cl := range cands {
		ln := lane{cl.campaign.Channel, cl.campaign.alert()}
		if _, ok := byLane[ln]; !ok {
			order = append(order, ln)
		}
		byLane[ln] = append(byLane[ln], cl)
	}
	var keep []*claimed
	for _, ln := range order {
		group := byLane[ln]
		allowed, wait, err := r.take(ctx, ln.channel, ln.alert, len(group))
		if err != nil {
			wait = time.Second
		}
		keep = append(keep, group[:allowed]...)
		// The ones told to wait come back one token apart, not all at once:
		// each return is a claim written and set aside again, and a herd of
		// them retrying every few milliseconds keeps the database (SQLite's
		// one writer above all) busy for nothing.
		interval := r.s.Rules.tokenInterval(r.tx.Tenant(), r.s.providerName(), ln.channel, ln.alert)
		last := wait + time.Duration(len(group)-allowed)*interval
		for i, cl := range group[allowed:] {
			r.setAside(cl, StatusQueued, r.now.Add(last))
			reason := "outreach: send rate"
			if err != nil {
				reason = "outreach: rate limiter: " + err.Error()
			}
			r.out[cl.msg.ID] = claimResult{err: queue.Later(wait+time.Duration(i)*interval, reason)}
		}
	}
	return keep
}

// take asks the channel's buckets for n tokens and returns how many it got
// and, when fewer, how long until there are more.
func (r *rules) take(ctx context.Context, channel string, alert bool, n int) (int, time.Duration, error) {
	for _, b := range r.s.Rules.buckets(r.tx.Tenant(), r.s.providerName(), channel, alert) {
		res, err := r.s.Limiter.AllowAtMost(ctx, b.key, b.limit, n)
		if err != nil {
			return 0, 0, err
		}
		if res.Allowed < n {
			r.s.Metrics.bucketWait(b.kind)
			n = res.Allowed
			if n == 0 {
				return 0, max(res.RetryAfter, 10*time.Millisecond), nil
			}
		}
	}
	return n, 10 * time.Millisecond, nil
}

// writeAside gives the set-aside messages their statuses, one statement
// per status.
func (r *rules) writeAside(ctx context.Context) error {
	for k, ids := range r.aside {
		_, err := r.tx.Update((*Message)(nil)).
			Set("status = ?, attempts = m.attempts - 1, sending_at = NULL, sent_date = NULL, due_at = ?, updated_at = ?", k.status, k.due, r.now).
			Where("m.id IN (?) AND m.status = ?", bun.List(ids), StatusSending).Exec(ctx)
		if err != nil {
			return fmt.Errorf("set messages %s: %w", k.status, err)
		}
		if k.status != StatusQueued {
			for range ids {
				r.s.Metrics.count(k.status, r.s.providerName())
			}
		}
	}
	return nil
}

// bucket is one shared token bucket a send takes from.
type bucket struct {
	kind  string // for the bucket-wait metric: "community" or "provider"
	key   string
	limit redis_rate.Limit
}

// buckets are the buckets a message on channel takes a token from: the
// community's for the channel, and the provider's (all communities) where
// the channel has one. A WeCom robot allows 20 posts a minute per group.
// Alerts (alert) have a bucket of their own per community and channel,
// and none shared with the provider's: they are few, and must not queue
// behind every community's campaigns (a provider that refuses the excess
// is a transient error, retried).
func (r Rules) buckets(tenantID, providerName, channel string, alert bool) []bucket {
	const prefix = "wanjia:outreach:rate:"
	if alert {
		return []bucket{{"alert", prefix + "tenant:" + tenantID + ":alert:" + channel, redis_rate.PerSecond(r.alertRate())}}
	}
	switch channel {
	case ChannelVoice:
		return []bucket{
			{"community", prefix + "tenant:" + tenantID + ":voice", redis_rate.PerSecond(r.voiceTenantRate())},
			{"provider", prefix + "provider:" + providerName + ":voice", redis_rate.PerSecond(r.voiceProviderRate())},
		}
	case ChannelWeCom:
		return []bucket{{"community", prefix + "tenant:" + tenantID + ":wecom", redis_rate.PerMinute(WeComPerMinute)}}
	}
	return []bucket{
		{"community", prefix + "tenant:" + tenantID, redis_rate.PerSecond(r.tenantRate())},
		{"provider", prefix + "provider:" + providerName, redis_rate.PerSecond(r.providerRate())},
	}
}

// tokenInterval is how long the channel's community bucket takes to earn
// one token.
func (r Rules) tokenInterval(tenantID, providerName, channel string, alert bool) time.Duration {
	l := r.buckets(tenantID, providerName, channel, alert)[0].limit
	if l.Rate <= 0 {
		return 0
	}
	return l.Period / time.Duration(l.Rate)
}
