package outreach_test

import (
	"context"
	"maps"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/store"
)

// TestFigures: messages_sent_today counts SMS and voice messages sent or
// delivered on the community's own day (c1 in Beijing, c2 in New York, one
// message at 23:59 and one at 00:01 Beijing time); failed, queued, held
// and WeCom posts do not count. FiguresAcross over both communities (and
// a sub-district with no messages) equals each one's FiguresIn, with an
// entry for every community named and none for another.
func TestFigures(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.Exec(t, `UPDATE orgs SET timezone = 'America/New_York' WHERE slug = 'c2'`)
	withRobot(t, w)
	if _, err := w.Outreach.SetRobot(w.as(t, "c1.admin", "c1"), outreach.RobotInput{Name: "居民群",
		WebhookURL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey}); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, slug := range []string{"c1", "c2", "sub"} {
		ids[slug] = w.District.Org(t, slug).ID
	}
	at := func(utc time.Time) { w.clock.mu.Lock(); w.clock.t = utc; w.clock.mu.Unlock() }
	notice := func(key, ph string, urgent bool) outreach.Notice {
		return outreach.Notice{Key: key, Phone: ph, Text: "请注意防护", Urgent: urgent, Subject: "figures"}
	}
	// send sends org's messages about "figures" once each (a message
	// already past queued is left alone) and returns them by key.
	send := func(org string) map[string]outreach.NoticeView {
		t.Helper()
		for _, v := range about(t, w, org, "figures") {
			if v.Status == outreach.StatusQueued {
				if err := w.Outreach.SendMessage(w.tenant(t, org), v.ID); err != nil {
					t.Fatalf("send %s: %v", v.Key, err)
				}
			}
		}
		return about(t, w, org, "figures")
	}
	sendCampaign := func(c *outreach.CampaignView) outreach.Stats {
		t.Helper()
		if _, err := w.Outreach.SendCampaign(w.as(t, "c1.staff", "c1"), c.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range messageIDs(t, w, c.ID) {
			if err := w.Outreach.SendMessage(w.tenant(t, "c1"), id); err != nil {
				t.Fatal(err)
			}
		}
		return w.get(t, "c1", c.ID).Stats
	}

	// 23:59 in Beijing on 2 February: an alert goes, a resident's notice
	// is held for the night.
	at(time.Date(2020, 2, 2, 15, 59, 0, 0, time.UTC))
	notify(t, w, "c1", notice("late", phone(1), true), notice("held", phone(2), false))
	send("c1")
	// 00:01 on 3 February.
	at(time.Date(2020, 2, 2, 16, 1, 0, 0, time.UTC))
	notify(t, w, "c1", notice("early", phone(3), true))
	send("c1")
	// 10:00 on 3 February in Beijing, 21:00 on 2 February in New York:
	// one delivered, one refused by the provider, one never sent, a voice
	// campaign and a WeCom group post; c2 sends one and fails one.
	at(time.Date(2020, 2, 3, 2, 0, 0, 0, time.UTC))
	w.Fake.set(func(f *fake) { f.permanent[phone(5)] = "空号" })
	notify(t, w, "c1", notice("delivered", phone(4), true), notice("failed", phone(5), true))
	c1 := send("c1")
	notify(t, w, "c1", notice("queued", phone(6), true))
	if err := w.Outreach.Receipt(context.Background(), provider.Receipt{MessageID: c1["delivered"].ID,
		Status: provider.Status{State: provider.StateDelivered}}); err != nil {
		t.Fatal(err)
	}
	w.households(t, "c1", "c1-g1", 1)
	if st := sendCampaign(w.campaign(t, "c1", outreach.CampaignInput{Channel: "voice"})); st.Sent != 1 {
		t.Fatalf("voice campaign: %+v", st)
	}
	post, err := w.Outreach.CreateCampaign(w.as(t, "c1.staff", "c1"), outreach.CampaignInput{Name: "群通知", Channel: "wecom", Body: "请戴口罩。"})
	if err != nil {
		t.Fatal(err)
	}
	if st := sendCampaign(post); st.Sent != 1 {
		t.Fatalf("WeCom post: %+v", st)
	}
	notify(t, w, "c2", notice("c2-sent", phone(7), true), notice("c2-failed", phone(5), true))
	c2 := send("c2")

	// What the statuses are is what the test is about: check them first.
	c1 = about(t, w, "c1", "figures")
	for _, c := range []struct {
		got, want string
	}{
		{c1["late"].Status, outreach.StatusSent}, {c1["held"].Status, outreach.StatusHeldQuietHours},
		{c1["early"].Status, outreach.StatusSent}, {c1["delivered"].Status, outreach.StatusDelivered},
		{c1["failed"].Status, outreach.StatusFailed}, {c1["queued"].Status, outreach.StatusQueued},
		{c2["c2-sent"].Status, outreach.StatusSent}, {c2["c2-failed"].Status, outreach.StatusFailed},
	} {
		if c.got != c.want {
			t.Fatalf("fixture: a message is %s, want %s (c1 %+v, c2 %+v)", c.got, c.want, c1, c2)
		}
	}

	for _, c := range []struct {
		day  string
		want map[string]outreach.Figures
	}{
		{"2020-02-01", map[string]outreach.Figures{"c1": {}, "c2": {}, "sub": {}}},
		{"2020-02-02", map[string]outreach.Figures{"c1": {MessagesSentToday: 1}, "c2": {MessagesSentToday: 1}, "sub": {}}},
		// early, delivered and the voice call; not failed, queued, held
		// or the WeCom post.
		{"2020-02-03", map[string]outreach.Figures{"c1": {MessagesSentToday: 3}, "c2": {}, "sub": {}}},
	} {
		t.Run(c.day, func(t *testing.T) {
			across := outreachAcross(t, w, []string{ids["c1"], ids["c2"], ids["sub"]}, c.day)
			want := map[string]outreach.Figures{}
			for slug, f := range c.want {
				want[ids[slug]] = f
			}
			if !maps.Equal(across, want) {
				t.Errorf("across: %+v, want %+v", across, want)
			}
			for _, slug := range []string{"c1", "c2"} {
				in, err := w.Outreach.Figures(w.as(t, slug+".staff", slug), c.day)
				if err != nil || in != c.want[slug] || in != across[ids[slug]] {
					t.Errorf("%s: FiguresIn %+v, %v; want %+v, across %+v", slug, in, err, c.want[slug], across[ids[slug]])
				}
				// Named alone, a community's figures are its own and no
				// other community has an entry.
				alone := outreachAcross(t, w, []string{ids[slug]}, c.day)
				if len(alone) != 1 || alone[ids[slug]] != c.want[slug] {
					t.Errorf("%s alone: %+v, want only %+v", slug, alone, c.want[slug])
				}
			}
		})
	}
	if got := outreachAcross(t, w, nil, "2020-02-03"); len(got) != 0 {
		t.Errorf("no communities named: %+v", got)
	}
}

// outreachAcross is FiguresAcross in a transaction that may read every
// community (so that row security does not hide a query that forgot to
// name its communities).
func outreachAcross(t *testing.T, w *world, tenants []string, day string) map[string]outreach.Figures {
	t.Helper()
	var out map[string]outreach.Figures
	err := w.DB.AcrossTenants(context.Background(), "test: rollup", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		var err error
		out, err = outreach.FiguresAcross(ctx, tx, tenants, day)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
