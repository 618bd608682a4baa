package console_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/wanjia/wanjia/pkg/audit"
	"github.com/wanjia/wanjia/pkg/config"
	"github.com/wanjia/wanjia/pkg/outreach"
)

// deadKey is a robot key the fake WeCom refuses, as WeCom refuses a robot
// removed from its group (errcode 93000).
const deadKey = "0b1c2d3e-0000-4000-8000-00000000dead"

// TestOutreachRobotCheckAndTest: the robot's form says which field is
// wrong (the name, a missing address, a mangled key, another address),
// and its test button posts one test message to the community's robot
// through outreach (here a fake WeCom at WANJIA_WECOM_URL), audited; a
// refusal shows WeCom's reason; staff may not press it.
func TestOutreachRobotCheckAndTest(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var posts []string
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			MsgType string                    `json:"msgtype"`
			Text    *struct{ Content string } `json:"text"`
		}
		raw, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(raw, &body)
		key := r.URL.Query().Get("key")
		mu.Lock()
		if body.Text != nil {
			posts = append(posts, key+" "+body.MsgType+" "+body.Text.Content)
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if key == deadKey {
			_, _ = io.WriteString(w, `{"errcode":93000,"errmsg":"invalid webhook url"}`)
			return
		}
		_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}))
	t.Cleanup(fake.Close)
	a := startApp(t, func(c *config.Config) { c.WeComURL = fake.URL })
	admin, staff := client(t), client(t)
	httpSignIn(t, admin, a.Base, "yucai.admin")
	httpSignIn(t, staff, a.Base, "yucai.staff")
	org := a.Base + "/console/orgs/yucai"

	for _, tc := range []struct {
		name, webhook, want string
	}{
		{"", robotURL(robotKey), zh("required")},
		{"居民群", "", zh("wecom_webhook")},
		{"居民群", robotURL("3f2a9c5e 8b1d"), zh("wecom_key")},
		{"居民群", robotURL("3f2a9c5e-8b1d-4e6f-a7c2-5d9e0b4f5aaa%3Bx"), zh("wecom_key")},
		{"居民群", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + robotKey, zh("wecom_webhook")},
	} {
		status, _, body := setRobot(t, admin, a.Base, tc.name, tc.webhook)
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, tc.want) {
			t.Errorf("name %q, address %q: %d %q, want 422 saying %q", tc.name, tc.webhook, status, errorsOn(body), tc.want)
		}
	}

	if status, _, body := setRobot(t, admin, a.Base, "育才社区居民群", robotURL(robotKey)); status != http.StatusSeeOther {
		t.Fatalf("set the robot: %d %q", status, errorsOn(body))
	}
	_, body := get(t, admin, org+"/outreach")
	if !strings.Contains(body, `action="/console/orgs/yucai/outreach/robot/test"`) || !strings.Contains(body, zh("console.robot.test")) {
		t.Fatal("the admin is offered no test message")
	}
	token := csrfField.FindStringSubmatch(body)[1]
	status, loc, _ := postFor(t, admin, org+"/outreach/robot/test", url.Values{"csrf": {token}})
	if status != http.StatusSeeOther || !strings.HasSuffix(loc, "?robot=tested#wecom-robot") {
		t.Fatalf("the test message: %d to %q", status, loc)
	}
	mu.Lock()
	got := append([]string(nil), posts...)
	mu.Unlock()
	if len(got) != 1 || got[0] != robotKey+" text "+outreach.RobotTestText {
		t.Fatalf("the robot got %q, want the one test message", got)
	}
	if _, body := get(t, admin, org+"/outreach?robot=tested"); !strings.Contains(body, zh("console.robot.done.tested")) {
		t.Error("the page does not say the test message went")
	}

	if _, body := get(t, staff, org+"/outreach"); strings.Contains(body, "/outreach/robot/test") {
		t.Error("staff are offered the test message")
	}
	_, body = get(t, staff, org+"/outreach")
	if status, _, _ := postFor(t, staff, org+"/outreach/robot/test", url.Values{"csrf": {csrfField.FindStringSubmatch(body)[1]}}); status != http.StatusForbidden {
		t.Fatalf("staff's test message: %d, want 403", status)
	}

	// A robot WeCom refuses: its reason beside the address.
	if status, _, body := setRobot(t, admin, a.Base, "育才社区居民群", robotURL(deadKey)); status != http.StatusSeeOther {
		t.Fatalf("set the dead robot: %d %q", status, errorsOn(body))
	}
	status, _, body = postFor(t, admin, org+"/outreach/robot/test", url.Values{"csrf": {token}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "企业微信拒绝了测试消息") || !strings.Contains(body, "93000") && !strings.Contains(body, "机器人地址无效") {
		t.Fatalf("a refused test: %d %q, want 422 with WeCom's reason", status, errorsOn(body))
	}
	if strings.Contains(body, deadKey) {
		t.Fatal("the refusal shows the key")
	}

	var outcomes []string
	if err := a.DB.NewSelect().Model((*audit.Entry)(nil)).ColumnExpr("details").Where("resource = ? AND action = ?", "outreach_robot", audit.ActionUpdate).
		Order("at").Scan(context.Background(), &outcomes); err != nil {
		t.Fatal(err)
	}
	tests := 0
	for _, d := range outcomes {
		if strings.Contains(d, `"test"`) {
			tests++
		}
	}
	if tests != 2 {
		t.Fatalf("%d test messages audited, want 2 (sent and refused): %q", tests, outcomes)
	}
}
