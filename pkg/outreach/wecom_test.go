package outreach_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/go-redis/redis_rate/v10"
	"github.com/uptrace/bun"

	"github.com/wanjia/wanjia/pkg/errs"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
	"github.com/wanjia/wanjia/pkg/seal"
	"github.com/wanjia/wanjia/pkg/store"
)

const robotKey = "693a91f6-7d2c-4bc4-97a0-0ec2b1fa5aaa"

// robotServer is a WeCom group robot: it keeps what was posted, by key,
// and answers errcode (0: ok).
type robotServer struct {
	mu      sync.Mutex
	posts   []map[string]any
	keys    []string
	errcode int
}

func (r *robotServer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	var post map[string]any
	_ = json.Unmarshal(body, &post)
	r.mu.Lock()
	code := r.errcode
	if code == 0 {
		r.posts = append(r.posts, post)
		r.keys = append(r.keys, req.URL.Query().Get("key"))
	}
	r.mu.Unlock()
	_, _ = io.WriteString(w, `{"errcode":`+strings.TrimSpace(jsonInt(code))+`,"errmsg":"x"}`)
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }

// postLog counts the group posts outreach logs.
type postLog struct {
	mu    sync.Mutex
	notes []string
}

func (p *postLog) LogGroupPost(_ context.Context, _ *store.TenantTx, _, notes, _ string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.notes = append(p.notes, notes)
	return nil
}

func withRobot(t *testing.T, w *world) (*robotServer, *postLog) {
	t.Helper()
	rs := &robotServer{}
	srv := httptest.NewServer(rs)
	t.Cleanup(srv.Close)
	box, err := seal.New([]byte(strings.Repeat("k", 32)), "test robots")
	if err != nil {
		t.Fatal(err)
	}
	posts := &postLog{}
	w.Outreach.Robots, w.Outreach.WeCom, w.Outreach.Posts = box, provider.NewWeCom(srv.URL, srv.Client()), posts
	return rs, posts
}

// TestWeComNotice: a community's robot is set by its admin and never shown
// whole; a notice is checked, posted once to the robot with the community's
// name filled in, and logged once in the publicity log; the robot's refusal
// fails it with a reason staff can read.
func TestWeComNotice(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	rs, posts := withRobot(t, w)
	admin, staff, task := w.as(t, "c1.admin", "c1"), w.as(t, "c1.staff", "c1"), w.tenant(t, "c1")
	notice := outreach.CampaignInput{Name: "防疫群通知", Channel: "wecom", Format: "markdown",
		Body: "**{{.Community}}** 提醒：请居民尽量减少外出。"}

	if _, err := w.Outreach.CreateCampaign(staff, notice); fields(err) != "channel=wecom_no_robot" {
		t.Fatalf("notice without a robot: %v", err)
	}
	for _, bad := range []string{"", "https://evil.example/cgi-bin/webhook/send?key=" + robotKey, "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey} {
		if _, err := w.Outreach.SetRobot(admin, outreach.RobotInput{Name: "居民群", WebhookURL: bad}); fields(err) != "webhook_url=wecom_webhook" {
			t.Fatalf("robot %q: %v", bad, err)
		}
	}
	// The right address with a mangled key says it is the key.
	if _, err := w.Outreach.SetRobot(admin, outreach.RobotInput{Name: "居民群", WebhookURL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey + "%20x"}); fields(err) != "webhook_url=wecom_key" {
		t.Fatalf("robot with a mangled key: %v", err)
	}
	v, err := w.Outreach.SetRobot(admin, outreach.RobotInput{Name: "居民群", WebhookURL: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey})
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Outreach.GetRobot(staff)
	if err != nil || !got.Configured || got.Name != "居民群" {
		t.Fatalf("robot: %+v %v", got, err)
	}
	for _, s := range []string{jsonString(t, v), jsonString(t, got)} {
		if strings.Contains(s, robotKey) || strings.Contains(s, robotKey[:12]) {
			t.Fatalf("the robot's key is shown: %s", s)
		}
	}
	var sealed []string
	execScan(t, w, "SELECT key_sealed FROM outreach_robots", &sealed)
	if len(sealed) != 1 || strings.Contains(sealed[0], robotKey) {
		t.Fatalf("the key is stored in the clear: %v", sealed)
	}
	// The other community has no robot: the key does not travel.
	if got, err := w.Outreach.GetRobot(w.as(t, "c2.staff", "c2")); err != nil || got.Configured {
		t.Fatalf("c2 sees a robot: %+v %v", got, err)
	}

	for name, tc := range map[string]struct {
		in   outreach.CampaignInput
		want string
	}{
		"a resident's field": {outreach.CampaignInput{Name: "x", Channel: "wecom", Body: "{{.Name}}您好"}, "body=wecom_fields"},
		"a bad format":       {outreach.CampaignInput{Name: "x", Channel: "wecom", Body: "x", Format: "html"}, "format=one_of"},
		"too long":           {outreach.CampaignInput{Name: "x", Channel: "wecom", Body: strings.Repeat("通", 683)}, "body=wecom_too_long"},
		"format on sms":      {outreach.CampaignInput{Name: "x", Channel: "sms", Body: "x", Format: "text", Audience: outreach.Audience{All: true}}, "format=format_wecom_only"},
	} {
		if _, err := w.Outreach.CreateCampaign(staff, tc.in); fields(err) != tc.want {
			t.Errorf("%s: %v, want %s", name, err, tc.want)
		}
	}

	c, err := w.Outreach.CreateCampaign(staff, notice)
	if err != nil {
		t.Fatal(err)
	}
	if c.AudienceSize != 1 || c.Format != "markdown" {
		t.Fatalf("notice: %+v", c)
	}
	send := func(c *outreach.CampaignView) outreach.Stats {
		t.Helper()
		if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range messageIDs(t, w, c.ID) {
			for range 2 { // a task delivered twice posts once
				if err := w.Outreach.SendMessage(task, id); err != nil {
					t.Fatalf("send: %v", err)
				}
			}
		}
		return w.get(t, "c1", c.ID).Stats
	}
	if st := send(c); st.Sent != 1 {
		t.Fatalf("after sending: %+v", st)
	}
	if len(rs.posts) != 1 || rs.keys[0] != robotKey || rs.posts[0]["msgtype"] != "markdown" {
		t.Fatalf("posts: %v keys %v", rs.posts, rs.keys)
	}
	if md, _ := rs.posts[0]["markdown"].(map[string]any); md == nil || !strings.Contains(md["content"].(string), "**c1") {
		t.Fatalf("the community's name is not filled in: %v", rs.posts[0])
	}
	if len(posts.notes) != 1 || posts.notes[0] != "防疫群通知" {
		t.Fatalf("publicity log: %v", posts.notes)
	}

	// The robot refuses (its address was revoked): failed, with a reason.
	rs.mu.Lock()
	rs.errcode = 93000
	rs.mu.Unlock()
	c2, err := w.Outreach.CreateCampaign(staff, outreach.CampaignInput{Name: "第二条", Channel: "wecom", Body: "请戴口罩。"})
	if err != nil {
		t.Fatal(err)
	}
	if st := send(c2); st.Failed != 1 {
		t.Fatalf("after a refusal: %+v", st)
	}
	failed, _, err := w.Outreach.ListMessages(staff, outreach.Filter{Campaign: c2.ID, Status: "failed", Limit: 5})
	if err != nil || len(failed) != 1 || !strings.HasPrefix(failed[0].Error, "机器人地址无效") {
		t.Fatalf("failed: %+v %v", failed, err)
	}
	if len(posts.notes) != 1 {
		t.Fatalf("a failed post was logged: %v", posts.notes)
	}

	if err := w.Outreach.DeleteRobot(admin); err != nil {
		t.Fatal(err)
	}
	if err := w.Outreach.DeleteRobot(admin); !isNotFound(err) {
		t.Fatalf("delete twice: %v", err)
	}
}

// TestChannelRates: a WeCom robot takes 20 posts a minute and calls have
// a rate of their own, each in its own bucket; a task that finds its
// bucket empty waits (queue.Later) with its message queued, not failed.
func TestChannelRates(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.realNoon()
	rs, _ := withRobot(t, w)
	r := queuetest.New(t)
	w.Outreach.Limiter = redis_rate.NewLimiter(r.Client)
	w.Outreach.Rules.VoiceTenantRate = 2
	admin, staff, task := w.as(t, "c1.admin", "c1"), w.as(t, "c1.staff", "c1"), w.tenant(t, "c1")
	if _, err := w.Outreach.SetRobot(admin, outreach.RobotInput{Name: "居民群", WebhookURL: robotKey}); err != nil {
		t.Fatal(err)
	}
	// The notices are made first: the posts then go in a quick burst,
	// well inside the three seconds the bucket takes to earn a token.
	var ids, campaigns []string
	for i := range outreach.WeComPerMinute + 1 {
		c, err := w.Outreach.CreateCampaign(staff, outreach.CampaignInput{Name: "通知" + jsonInt(i), Channel: "wecom", Body: "请戴口罩。"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, messageIDs(t, w, c.ID)...)
		campaigns = append(campaigns, c.ID)
	}
	later := 0
	for _, id := range ids {
		var l *queue.LaterError
		if err := w.Outreach.SendMessage(task, id); errors.As(err, &l) {
			later++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if later != 1 || len(rs.posts) != outreach.WeComPerMinute {
		t.Fatalf("%d posts, %d told to wait; want %d and 1", len(rs.posts), later, outreach.WeComPerMinute)
	}
	if st := w.get(t, "c1", campaigns[len(campaigns)-1]).Stats; st.Queued != 1 {
		t.Fatalf("the 21st post: %+v, want queued", st)
	}

	// Calls: 2 a second for the community, whatever SMS may do.
	w.households(t, "c1", "c1-g1", 4)
	sms := w.campaign(t, "c1", outreach.CampaignInput{})
	calls := w.campaign(t, "c1", outreach.CampaignInput{Channel: "voice", Body: "{{.Community}}提醒您做好防护。"})
	count := func(c *outreach.CampaignView) (sent, waited int) {
		if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range messageIDs(t, w, c.ID) {
			var l *queue.LaterError
			if err := w.Outreach.SendMessage(task, id); errors.As(err, &l) {
				waited++
			} else if err != nil {
				t.Fatal(err)
			} else {
				sent++
			}
		}
		return sent, waited
	}
	if sent, waited := count(calls); sent != 2 || waited != 2 {
		t.Fatalf("calls: %d placed, %d told to wait; want 2 and 2", sent, waited)
	}
	if sent, waited := count(sms); sent != 4 || waited != 0 {
		t.Fatalf("SMS after the calls: %d sent, %d told to wait; want 4 and 0", sent, waited)
	}
}

// TestVoiceDailyCap: calls have their own cap (default 2 a day), counted
// apart from SMS.
func TestVoiceDailyCap(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.households(t, "c1", "c1-g1", 1)
	staff, task := w.as(t, "c1.staff", "c1"), w.tenant(t, "c1")
	run := func(channel string) outreach.Stats {
		t.Helper()
		c := w.campaign(t, "c1", outreach.CampaignInput{Channel: channel, Body: "{{.Community}}提醒您做好防护。"})
		if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
			t.Fatal(err)
		}
		for _, id := range messageIDs(t, w, c.ID) {
			if err := w.Outreach.SendMessage(task, id); err != nil {
				t.Fatal(err)
			}
		}
		return w.get(t, "c1", c.ID).Stats
	}
	for i := range 2 {
		if st := run("voice"); st.Sent != 1 {
			t.Fatalf("call %d: %+v", i+1, st)
		}
	}
	if st := run("voice"); st.SkippedDailyCap != 1 {
		t.Fatalf("third call: %+v, want skipped by the cap", st)
	}
	if st := run("sms"); st.Sent != 1 {
		t.Fatalf("an SMS after three calls: %+v, want sent", st)
	}
}

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func execScan(t *testing.T, w *world, query string, dest any) {
	t.Helper()
	err := w.DB.AcrossTenants(context.Background(), "test fixture", store.AllTenants, func(ctx context.Context, tx bun.Tx) error {
		return tx.NewRaw(query).Scan(ctx, dest)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func isNotFound(err error) bool {
	var e *errs.Error
	return errors.As(err, &e) && e.Kind == errs.KindNotFound
}
