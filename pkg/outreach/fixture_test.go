package outreach_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/orgs/orgstest"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/roster"
	"github.com/wanjia/wanjia/pkg/store"
	"github.com/wanjia/wanjia/pkg/testworld"
)

// world is testworld's world of two communities, c1 (grids c1-g1, c1-g2)
// and c2 (c2-g1), with outreach over it, a fake provider and outreach's
// own clock (which may run in real time).
type world struct {
	*testworld.World
	Outreach *outreach.Service
	Fake     *fake
	clock    *clock
}

type clock struct {
	mu sync.Mutex
	t  time.Time
	// shift, when set, makes the clock real time moved by shift (worker
	// tests: Asynq's delays are real).
	shift time.Duration
	real  bool
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.real {
		return time.Now().Add(c.shift)
	}
	return c.t
}

// communities are outreach's: fewer grids than testworld's own.
var communities = []orgstest.Spec{{Slug: "c1", Grids: []string{"c1-g1", "c1-g2"}}, {Slug: "c2", Grids: []string{"c2-g1"}}}

// newWorld builds the world at 2020-02-03 10:00 Beijing time, in a copy of
// the package's golden world.
func newWorld(t testing.TB) *world {
	t.Helper()
	return build(t, testworld.Options{Communities: communities})
}

// newWorldOn is newWorld over db, migrated and empty.
func newWorldOn(t testing.TB, db *store.DB) *world {
	t.Helper()
	return build(t, testworld.Options{Communities: communities, DB: db})
}

func build(t testing.TB, o testworld.Options) *world {
	t.Helper()
	c := &clock{t: time.Date(2020, 2, 3, 2, 0, 0, 0, time.UTC)}
	o.Now = c.now
	tw := testworld.With(t, o)
	f := newFake()
	return &world{World: tw, clock: c, Fake: f,
		Outreach: &outreach.Service{DB: tw.DB, Frame: tw.Frame, Now: c.now, Provider: f,
			Rules: outreach.Rules{Backoff: func(int) time.Duration { return 10 * time.Millisecond },
				StaleQueued: 300 * time.Millisecond, StaleSending: 500 * time.Millisecond}}}
}

// realNoon makes the clock real time, moved so that it is noon in Beijing
// (never quiet hours).
func (w *world) realNoon() {
	w.clock.mu.Lock()
	defer w.clock.mu.Unlock()
	loc, _ := time.LoadLocation("Asia/Shanghai")
	now := time.Now().In(loc)
	noon := time.Date(now.Year(), now.Month(), now.Day(), 12, 0, 0, 0, loc)
	w.clock.real, w.clock.shift = true, noon.Sub(now)
}

func (w *world) as(t testing.TB, username, org string) context.Context {
	t.Helper()
	return w.As(t, username, org)
}

// tenant is the context of org's tenant alone, as a task has it.
func (w *world) tenant(t testing.TB, org string) context.Context { return w.Tenant(t, org) }

// seq numbers what the tests name apart; addresses and phones come from
// testworld's sequence, so none repeats testworld's households'.
var seq atomic.Int64

// households adds n households to grid with phones of their own, and
// returns the phones.
func (w *world) households(t testing.TB, org, grid string, n int, tags ...string) []string {
	t.Helper()
	var phones []string
	for _, h := range w.Households(t, org, grid, "139", n, tags...) {
		phones = append(phones, h.Phone)
	}
	return phones
}

// campaign creates a campaign to everyone and returns it.
func (w *world) campaign(t testing.TB, org string, in outreach.CampaignInput) *outreach.CampaignView {
	t.Helper()
	if in.Name == "" {
		in.Name = "通知"
	}
	if in.Channel == "" {
		in.Channel = "sms"
	}
	if in.Body == "" && in.TemplateID == "" {
		in.Body = "{{.Name}}您好，{{.Community}}提醒您做好防护。"
	}
	if !in.Audience.All && len(in.Audience.Grids) == 0 && len(in.Audience.Tags) == 0 {
		in.Audience.All = true
	}
	v, err := w.Outreach.CreateCampaign(w.as(t, org+".staff", org), in)
	if err != nil {
		t.Fatalf("create campaign: %v", err)
	}
	return v
}

func (w *world) get(t testing.TB, org, id string) *outreach.CampaignView {
	t.Helper()
	v, err := w.Outreach.GetCampaign(w.as(t, org+".staff", org), id)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func fields(err error) string {
	var e *errs.Error
	if !errors.As(err, &e) || e.Kind != errs.KindValidation {
		return ""
	}
	var out []string
	for _, f := range e.Fields {
		out = append(out, f.Field+"="+f.Key)
	}
	return strings.Join(out, ",")
}

// fake is a provider that counts sends by our message id, and fails as
// told.
type fake struct {
	mu        sync.Mutex
	sends     map[string]int
	last      map[string]provider.Message // by our id: what it was last handed
	transient int                         // the next n sends fail with a 500
	permanent map[string]string           // phone → reason
	delay     time.Duration
}

func newFake() *fake {
	return &fake{sends: map[string]int{}, last: map[string]provider.Message{}, permanent: map[string]string{}}
}

func (*fake) Name() string { return "fake" }

func (f *fake) Send(ctx context.Context, m provider.Message) (provider.Sent, error) {
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if reason, ok := f.permanent[m.Phone]; ok {
		return provider.Sent{}, &provider.Error{Permanent: true, Code: "isv.MOBILE_NUMBER_ILLEGAL", Reason: reason}
	}
	if f.transient > 0 {
		f.transient--
		return provider.Sent{}, &provider.Error{Code: "http_500", Reason: "server error"}
	}
	f.sends[m.ID]++
	f.last[m.ID] = m
	return provider.Sent{ProviderID: "fake-" + m.ID, At: time.Now()}, nil
}

func (f *fake) Query(ctx context.Context, m provider.Message, sent provider.Sent) (provider.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.sends[m.ID] > 0 {
		return provider.Status{State: provider.StateSent}, nil
	}
	return provider.Status{State: provider.StateUnknown}, nil
}

// twice lists the messages sent more than once.
func (f *fake) twice() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for id, n := range f.sends {
		if n > 1 {
			out = append(out, fmt.Sprintf("%s×%d", id, n))
		}
	}
	return out
}

// handed is what the provider was last handed as message id.
func (f *fake) handed(id string) (provider.Message, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.last[id]
	return m, ok
}

func (f *fake) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sends)
}

func (f *fake) set(fn func(f *fake)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func rosterHousehold(grid, phone string) roster.HouseholdInput {
	return roster.HouseholdInput{Grid: grid, Address: fmt.Sprintf("%s 路 %d 号", grid, testworld.Seq()), Phone: phone}
}

func execAcross(t testing.TB, w *world, query string, args ...any) {
	t.Helper()
	w.Exec(t, query, args...)
}
