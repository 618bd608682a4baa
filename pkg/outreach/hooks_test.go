package outreach_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
)

// TestWebhookReplyReplayStoredOnce: a signed reply without provider_id,
// pushed again within its 5 minutes (the same request, replayed), is
// stored once; a second reply with the same text, signed at another
// moment, is a reply of its own.
func TestWebhookReplyReplayStoredOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.realNoon()
	phones := w.households(t, "c1", "c1-g1", 1)
	staff := w.as(t, "c1.staff", "c1")
	c := w.campaign(t, "c1", outreach.CampaignInput{})
	if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range messageIDs(t, w, c.ID) {
		if err := w.Outreach.SendMessage(w.tenant(t, "c1"), id); err != nil {
			t.Fatal(err)
		}
	}
	const secret = "webhook-secret-0123456789abcdef"
	gw, err := provider.NewWebhook(provider.Config{WebhookURL: "https://gw.example/send", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	w.Outreach.Provider = gw
	gin.SetMode(gin.TestMode)
	h := gin.New()
	w.Outreach.HookRoutes(h)
	post := func(body string, at time.Time) {
		t.Helper()
		r := httptest.NewRequest(http.MethodPost, "/hooks/sms/webhook/inbound", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(provider.TimestampHeader, strconv.FormatInt(at.Unix(), 10))
		r.Header.Set(provider.SignatureHeader, provider.Sign([]byte(secret), at, []byte(body)))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusNoContent {
			t.Fatalf("hook: %d %s", rec.Code, rec.Body)
		}
	}
	body := `[{"from":"` + phones[0] + `","text":"收到，谢谢"}]`
	first := time.Now()
	post(body, first)
	post(body, first) // replayed
	post(body, first.Add(-time.Second))
	withID := `{"from":"` + phones[0] + `","text":"好的","provider_id":"gw-up-1"}`
	post(withID, first)
	post(withID, first.Add(-2*time.Second)) // the gateway's own retry
	replies, _, err := w.Outreach.ListReplies(staff, outreach.Filter{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	texts := map[string]int{}
	for _, r := range replies {
		texts[r.Text]++
	}
	if len(replies) != 3 || texts["收到，谢谢"] != 2 || texts["好的"] != 1 {
		t.Fatalf("replies stored: %d, %v; want the replayed request stored once", len(replies), texts)
	}
}
