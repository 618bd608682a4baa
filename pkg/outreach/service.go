package outreach

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/google/uuid"

	"github.com/wanjia/wanjia/pkg/authz"
	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/seal"
	"github.com/wanjia/wanjia/pkg/store"
)

// Service is outreach's plain-Go door: the HTTP handlers, the console, the
// task handlers and the provider hooks call it.
type Service struct {
	DB    *store.DB
	Frame *scope.Frame
	Reads scope.ReadRecorder // nil: reads are written to the audit log at once (scope.RecordRead)
	Queue queue.Enqueuer
	// Backlog counts the send tasks the queue holds (pending, active,
	// scheduled, retrying), so the reconciler retries stale rows only when
	// tasks are missing; nil retries every stale row's task each run.
	Backlog  func(ctx context.Context) (int, error)
	Provider provider.Provider
	// Limiter is the send rate shared by every worker (a Redis token
	// bucket); nil sends as fast as the workers go (tests of other rules).
	Limiter *redis_rate.Limiter
	Rules   Rules
	// Isolation lists residents under active isolation, for campaigns to
	// them; nil until the isolation domain exists (such campaigns are 422).
	Isolation IsolationAudience
	// Replies gets a resident's reply that is not an opt-out word first
	// (isolation will turn "36.8" into a check-in); nil stores every one.
	Replies ReplyHandler
	// Keypad gets what keypad check-in calls bring back (isolation turns
	// keys into a check-in); nil ignores them.
	Keypad KeypadHandler
	// Robots seals the communities' WeCom robot keys (nil: no robot can be
	// set); WeCom posts to them (nil: WeCom notices fail, with a reason).
	Robots *seal.Box
	WeCom  *provider.WeCom
	// Posts logs WeCom notices in the publicity log (nil: not logged).
	Posts   GroupPostLog
	Metrics *Metrics // nil: not counted
	Logger  *slog.Logger
	Now     func() time.Time
	// SignName is the provider's default sign, counted in an Aliyun SMS's
	// length when a template names none.
	SignName string
	// BaseURL is WANJIA_BASE_URL: check-in links start with it.
	BaseURL string

	communities sync.Map // tenant id → cachedCommunity
	batchOnce   sync.Once
	batch       *sendBatchers
	// campaignCache: tenant/campaign id → *Campaign (see campaignsOf).
	campaignCache   sync.Map
	cachedCampaigns atomic.Int64
	// recordsWaiting counts the records retrying through a database
	// outage (see untilRecorded).
	recordsWaiting atomic.Int64
}

// Rules are the deployment's sending rules (pkg/config); zero fields take
// the defaults.
type Rules struct {
	TenantRate   int // SMS a second per community (default 50)
	ProviderRate int // SMS a second per provider, all communities (default 500)
	DailyCap     int // SMS a day to one phone from one community (default 5)
	// Calls cost more and reach a resident harder than a text: their own
	// rates and cap.
	VoiceTenantRate   int // calls a second per community (default 5)
	VoiceProviderRate int // calls a second per provider, all communities (default 50)
	VoiceDailyCap     int // calls a day to one phone from one community (default 2)
	// AlertRate: alerts to staff (Notify's urgent notices) a second per
	// community, a bucket of their own (default 10).
	AlertRate    int
	MaxAttempts  int           // sends of one message before it fails (default 6)
	StaleQueued  time.Duration // a queued row older than this has its task re-queued (default 1 min)
	StaleSending time.Duration // a row sending longer than this was abandoned (default 2 min)
	SendTimeout  time.Duration // one call to the provider (default 30 s)
	// RecordFor is how long a worker keeps retrying the record of a
	// provider's answer while the database does not take it (default 15
	// min); past it, the row is left sending for the reconciler.
	RecordFor time.Duration
	// Backoff is the wait before attempt n+1 after a transient error;
	// nil: 2^n seconds, at most 5 minutes.
	Backoff func(attempt int) time.Duration
}

// Defaults of Rules.
const (
	DefaultTenantRate   = 50
	DefaultProviderRate = 500
	DefaultDailyCap     = 5

	DefaultVoiceTenantRate   = 5
	DefaultVoiceProviderRate = 50
	DefaultVoiceDailyCap     = 2

	DefaultAlertRate = 10

	// WeComPerMinute is what a WeCom group robot takes: 20 posts a minute.
	WeComPerMinute = 20
)

func (r Rules) tenantRate() int   { return def(r.TenantRate, DefaultTenantRate) }
func (r Rules) providerRate() int { return def(r.ProviderRate, DefaultProviderRate) }
func (r Rules) alertRate() int    { return def(r.AlertRate, DefaultAlertRate) }
func (r Rules) voiceTenantRate() int {
	return def(r.VoiceTenantRate, DefaultVoiceTenantRate)
}
func (r Rules) voiceProviderRate() int {
	return def(r.VoiceProviderRate, DefaultVoiceProviderRate)
}

// dailyCap is the channel's messages a day to one phone.
func (r Rules) dailyCap(channel string) int {
	if channel == ChannelVoice {
		return def(r.VoiceDailyCap, DefaultVoiceDailyCap)
	}
	return def(r.DailyCap, DefaultDailyCap)
}
func (r Rules) maxAttempts() int { return def(r.MaxAttempts, 6) }
func (r Rules) staleQueued() time.Duration {
	return defDur(r.StaleQueued, time.Minute)
}
func (r Rules) staleSending() time.Duration {
	return defDur(r.StaleSending, 2*time.Minute)
}
func (r Rules) sendTimeout() time.Duration { return defDur(r.SendTimeout, 30*time.Second) }
func (r Rules) recordFor() time.Duration   { return defDur(r.RecordFor, 15*time.Minute) }
func (r Rules) backoff(n int) time.Duration {
	if r.Backoff != nil {
		return r.Backoff(n)
	}
	return min(time.Duration(1<<min(n, 9))*time.Second, 5*time.Minute)
}

func def(v, d int) int {
	if v > 0 {
		return v
	}
	return d
}

func defDur(v, d time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return d
}

// Recipient is one person a campaign reaches.
type Recipient struct {
	Phone      string
	Name       string
	EndDate    string // isolation's end date
	CheckinURL string // isolation's self check-in link
}

// IsolationAudience is the seam the isolation domain fills: the residents
// under active isolation in the tenant of tx, with their end dates and
// check-in links.
type IsolationAudience interface {
	ActiveIsolations(ctx context.Context, tx *store.TenantTx) ([]Recipient, error)
}

// ReplyHandler may take a resident's reply before it is left for staff:
// isolation reads "36.8" as a check-in. It runs in the reply's own
// transaction (tx, the reply's community), after the reply is written and
// before it commits: what it stores commits with the reply or not at all,
// so a handler that fails leaves no reply behind and the provider's retry
// is handled again rather than dropped as a duplicate. r.ID is the
// reply's id: what the handler stores can be unique on it. It may call
// Notify in tx; the notices are queued after the commit. It reports
// whether it took the reply (its kind is then "handled").
type ReplyHandler interface {
	HandleReply(ctx context.Context, tx *store.TenantTx, r Reply) (bool, error)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func (s *Service) providerName() string {
	if s.Provider == nil {
		return "log"
	}
	return s.Provider.Name()
}

// DryRun reports that messages go to the log provider: nothing reaches a
// resident, and the pages must say so rather than "sent" (a demo, a test
// deployment, or a provider not configured yet).
func (s *Service) DryRun() bool { return s.providerName() == "log" }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// notFound is the answer for another community's record and a record that
// never was alike.
func notFound() error { return errs.New(errs.KindNotFound, "not_found", nil) }

func conflict(key string, args map[string]any) error { return errs.New(errs.KindConflict, key, args) }

// community is what outreach needs of the tenant's org.
type community struct {
	name  string
	loc   *time.Location
	quiet orgs.QuietHours
}

type cachedCommunity struct {
	c  community
	at time.Time
}

// communityTTL bounds how long a worker sends by settings an office has
// since changed (quiet hours, a rename).
const communityTTL = 30 * time.Second

// community is the tenant's name, zone and quiet hours (orgs.CommunityOf).
// Workers send thousands of messages a minute for
// one community, so the answer is kept a little while.
func (s *Service) community(ctx context.Context, tx *store.TenantTx) (community, error) {
	if v, ok := s.communities.Load(tx.Tenant()); ok {
		if cc := v.(cachedCommunity); s.now().Sub(cc.at) < communityTTL {
			return cc.c, nil
		}
	}
	o, err := orgs.CommunityOf(ctx, tx)
	if err != nil {
		return community{}, err
	}
	c := community{name: o.Name, loc: o.Loc, quiet: o.Settings.QuietHours}
	if c.quiet.Start == "" || c.quiet.End == "" {
		c.quiet = orgs.DefaultSettings().QuietHours
	}
	s.communities.Store(tx.Tenant(), cachedCommunity{c: c, at: s.now()})
	return c, nil
}

// day is the community's date of t.
func (c community) day(t time.Time) string { return t.In(c.loc).Format(time.DateOnly) }

// quietUntil reports whether t falls in the community's quiet hours and,
// if so, when they end.
func (c community) quietUntil(t time.Time) (time.Time, bool) {
	start, ok1 := minutes(c.quiet.Start)
	end, ok2 := minutes(c.quiet.End)
	if !ok1 || !ok2 || start == end {
		return time.Time{}, false
	}
	local := t.In(c.loc)
	now := local.Hour()*60 + local.Minute()
	var in bool
	if start < end {
		in = now >= start && now < end
	} else { // wraps past midnight: 21:00–08:00
		in = now >= start || now < end
	}
	if !in {
		return time.Time{}, false
	}
	y, m, d := local.Date()
	until := time.Date(y, m, d, end/60, end%60, 0, 0, c.loc)
	if !until.After(local) {
		until = time.Date(y, m, d+1, end/60, end%60, 0, 0, c.loc)
	}
	return until.UTC(), true
}

func minutes(hhmm string) (int, bool) {
	t, err := time.Parse("15:04", hhmm)
	if err != nil {
		return 0, false
	}
	return t.Hour()*60 + t.Minute(), true
}

// actor is who acts: the caller's user id, or "system".
func actor(ctx context.Context) string {
	if c, ok := authz.CallerFrom(ctx); ok && c.UserID != "" {
		return c.UserID
	}
	return "system"
}

// Filter narrows a list.
type Filter struct {
	Campaign string
	Status   string
	Limit    int
	Cursor   string
}
