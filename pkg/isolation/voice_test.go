package isolation_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wanjia/wanjia/pkg/isolation"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/scope"
	"github.com/wanjia/wanjia/pkg/web"
)

// The keypad check-in call, end to end through a fake of each provider:
// the reminders step writes the call, outreach places it through the
// provider (whose API is an httptest server), and the fake calls our hook
// back, signed as the provider signs, with the keys.

const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "0123456789abcdef0123456789abcdef"
	publicURL   = "https://wanjia.example"
	gwSecret    = "webhook-secret-0123456789abcdef"
	aliSecret   = "aliyun-callback-secret-0123456789"
)

// fakeAPI is a provider's sending API on a local port: it records each
// request's body and answers with answer.
type fakeAPI struct {
	srv    *httptest.Server
	mu     sync.Mutex
	bodies []string
	answer string
}

func newFakeAPI(t *testing.T, answer string) *fakeAPI {
	f := &fakeAPI{answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.bodies = append(f.bodies, string(b))
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, f.answer)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAPI) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.bodies...)
}

// rewrite sends twilio-go's requests to the fake, whatever host it meant.
type rewrite struct{ target *url.URL }

func (rt rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.target.Scheme, rt.target.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

// twilioSign is Twilio's signature, from its documentation: the URL, then
// the POST parameters sorted by name, name and value run together;
// HMAC-SHA1 under the auth token; base64.
func twilioSign(token, fullURL string, form url.Values) string {
	names := make([]string, 0, len(form))
	for k := range form {
		names = append(names, k)
	}
	sort.Strings(names)
	s := fullURL
	for _, k := range names {
		s += k + form.Get(k)
	}
	m := hmac.New(sha1.New, []byte(token))
	m.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// voiceRig is a world with outreach over it, sending through one
// provider's fake, and the hooks mounted.
type voiceRig struct {
	*world
	name     string
	out      *outreach.Service
	api      *fakeAPI
	hooks    http.Handler
	aliToken string
	// callID is what the fake answers as the provider's call id.
	callID string
}

func newVoiceRig(t *testing.T, name string) *voiceRig {
	t.Helper()
	w := newWorld(t)
	rg := &voiceRig{world: w, name: name}
	var p provider.Provider
	var err error
	switch name {
	case "twilio":
		rg.callID = "CA0123456789abcdef0123456789abcdef"
		rg.api = newFakeAPI(t, `{"sid":"`+rg.callID+`","status":"queued"}`)
		u, _ := url.Parse(rg.api.srv.URL)
		p, err = provider.NewTwilio(provider.Config{TwilioAccountSID: twilioSID, TwilioAuthToken: twilioToken,
			TwilioFrom: "+15005550006", PublicURL: publicURL, HTTPClient: &http.Client{Transport: rewrite{u}}})
	case "aliyun":
		rg.callID = "116012354148^10281378****"
		rg.api = newFakeAPI(t, `{"Code":"OK","Message":"OK","RequestId":"r1","CallId":"`+rg.callID+`"}`)
		var a *provider.Aliyun
		a, err = provider.NewAliyun(provider.Config{AliyunAccessKeyID: "LTAI-test", AliyunAccessKeySecret: "secret-test",
			AliyunShowNumber: "057188773344", AliyunKeypadTTSCode: "TTS_100000001", AliyunVoiceEndpoint: rg.api.srv.URL,
			AliyunCallbackSecret: aliSecret})
		if err == nil {
			rg.aliToken = a.CallbackToken()
		}
		p = a
	case "webhook":
		rg.callID = "gw-call-0001"
		rg.api = newFakeAPI(t, `{"id":"`+rg.callID+`"}`)
		p, err = provider.NewWebhook(provider.Config{WebhookURL: rg.api.srv.URL, WebhookSecret: gwSecret})
	}
	if err != nil {
		t.Fatal(err)
	}
	rg.out = &outreach.Service{DB: w.DB, Frame: w.Isolation.Frame, Now: w.clock.now, Provider: p, Keypad: w.Isolation}
	w.Isolation.Notify = rg.out
	h := web.NewEngine(web.Options{})
	rg.out.VoiceHookRoutes(h)
	rg.hooks = h
	return rg
}

// voiceCase opens a case with the voice channel for a new resident of
// c1-g1 and returns it.
func (rg *voiceRig) voiceCase(t *testing.T) *isolation.CaseView {
	t.Helper()
	res := rg.resident(t, "c1", "c1-g1")
	c, err := rg.Isolation.CreateCase(rg.as(t, "c1.staff", "c1"), isolation.CaseInput{ResidentID: res, Kind: isolation.KindHomeIsolation,
		CheckinChannel: isolation.ChannelVoice})
	if err != nil {
		t.Fatal(err)
	}
	if c.CheckinChannel != isolation.ChannelVoice {
		t.Fatalf("checkin_channel %q", c.CheckinChannel)
	}
	return c
}

type callRow struct {
	ID     string `bun:"id"`
	Key    string `bun:"notice_key"`
	Status string `bun:"status"`
}

// calls are the keypad calls of the outbox, by key.
func (rg *voiceRig) calls(t *testing.T) map[string]callRow {
	t.Helper()
	var rows []callRow
	rg.scan(t, `SELECT id, notice_key, status FROM outreach_messages WHERE keypad ORDER BY notice_key`, &rows)
	out := map[string]callRow{}
	for _, r := range rows {
		out[r.Key] = r
	}
	return out
}

// place sends the call of case c (the day's n-th) through the provider.
func (rg *voiceRig) place(t *testing.T, c *isolation.CaseView, n int) callRow {
	t.Helper()
	key := "checkin-call:" + c.ID + ":2020-02-03:" + strconv.Itoa(n)
	m, ok := rg.calls(t)[key]
	if !ok {
		t.Fatalf("no call %s in the outbox: %v", key, rg.calls(t))
	}
	ctx := scope.With(context.Background(), scope.Tenant{TenantID: rg.District.Org(t, "c1").ID})
	if err := rg.out.SendMessage(ctx, m.ID); err != nil {
		t.Fatalf("send: %v", err)
	}
	return rg.calls(t)[key]
}

// keys is the provider calling back with digits about message mid; bad
// signs it wrongly. It answers the hook's status and body.
func (rg *voiceRig) keys(t *testing.T, mid, digits string, bad bool) (int, string) {
	t.Helper()
	var r *http.Request
	switch rg.name {
	case "twilio":
		target := "/hooks/voice/twilio/gather?mid=" + url.QueryEscape(mid) + "&try=1"
		form := url.Values{"AccountSid": {twilioSID}, "CallSid": {rg.callID}, "Digits": {strings.TrimSuffix(digits, "#")},
			"FinishedOnKey": {"#"}}
		r = httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		token := twilioToken
		if bad {
			token = "ffffffffffffffffffffffffffffffff"
		}
		r.Header.Set(provider.TwilioSignatureHeader, twilioSign(token, publicURL+target, form))
	case "aliyun":
		body, _ := json.Marshal([]map[string]string{{"call_id": rg.callID, "dtmf": digits, "status_code": "200000",
			"status_msg": "执行完成", "end_time": "2020-02-03 09:01:10", "voice_type": "voice", "duration": "30", "out_id": ""}})
		token := rg.aliToken
		if bad {
			token = "0000000000000000000000000000dead"
		}
		r = httptest.NewRequest(http.MethodPost, "/hooks/voice/aliyun/gather?token="+token, strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
	case "webhook":
		body, _ := json.Marshal(map[string]any{"id": mid, "call_id": rg.callID, "digits": digits, "try": 1})
		r = httptest.NewRequest(http.MethodPost, "/hooks/voice/webhook/gather", strings.NewReader(string(body)))
		r.Header.Set("Content-Type", "application/json")
		now := time.Now()
		secret := gwSecret
		if bad {
			secret = "another-secret-0123456789abcdef"
		}
		r.Header.Set(provider.TimestampHeader, strconv.FormatInt(now.Unix(), 10))
		r.Header.Set(provider.SignatureHeader, provider.Sign([]byte(secret), now, body))
	}
	rec := httptest.NewRecorder()
	rg.hooks.ServeHTTP(rec, r)
	return rec.Code, rec.Body.String()
}

func (rg *voiceRig) checkins(t *testing.T, caseID string) []isolation.CheckinView {
	t.Helper()
	v, err := rg.Isolation.GetCase(rg.as(t, "c1.staff", "c1"), caseID)
	if err != nil {
		t.Fatal(err)
	}
	return v.Checkins
}

var voiceProviders = []string{"twilio", "aliyun", "webhook"}

// TestVoiceCheckinEndToEnd: for each provider, the sweep's call goes out
// as a keypad call (Twilio's <Gather>, Aliyun's IvrCall, the webhook's
// keypad flag); a badly signed callback is refused and stores nothing; the
// provider's callback with 1 3 6 5 # stores a check-in of 36.5 with
// source voice, and the same callback again stores nothing more.
func TestVoiceCheckinEndToEnd(t *testing.T) {
	t.Parallel()
	for _, name := range voiceProviders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rg := newVoiceRig(t, name)
			c := rg.voiceCase(t)
			sw, err := rg.Isolation.Sweep(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sw.Calls != 1 || sw.Reminders != 0 {
				t.Fatalf("sweep: %+v; want one call and no SMS reminder", sw)
			}
			m := rg.place(t, c, 1)
			if m.Status != outreach.StatusSent {
				t.Fatalf("call %s, want sent", m.Status)
			}
			sent := rg.api.calls()
			if len(sent) != 1 {
				t.Fatalf("%d requests to the provider, want 1", len(sent))
			}
			form, _ := url.ParseQuery(sent[0])
			switch name {
			case "twilio":
				twiml := form.Get("Twiml")
				if !strings.Contains(twiml, "<Gather") || !strings.Contains(twiml, `finishOnKey="#"`) ||
					!strings.Contains(twiml, publicURL+"/hooks/voice/twilio/gather?mid="+m.ID) ||
					!strings.Contains(form.Get("StatusCallback"), publicURL+"/hooks/voice/twilio/status?mid="+m.ID) {
					t.Fatalf("Twilio call: %v", form)
				}
			case "aliyun":
				if form.Get("Action") != "IvrCall" || form.Get("StartCode") != "TTS_100000001" || form.Get("MenuKeyMap.1.Key") != "1" ||
					form.Get("MenuKeyMap.2.Key") != "2" || form.Get("Signature") == "" {
					t.Fatalf("Aliyun call: %v", form)
				}
			case "webhook":
				var got map[string]any
				if json.Unmarshal([]byte(sent[0]), &got) != nil || got["keypad"] != true || got["channel"] != "voice" || got["id"] != m.ID {
					t.Fatalf("webhook call: %s", sent[0])
				}
			}
			if code, body := rg.keys(t, m.ID, "1365#", true); code != http.StatusUnauthorized {
				t.Fatalf("badly signed keys: %d %s, want 401", code, body)
			}
			if n := rg.count(t, "isolation_checkins"); n != 0 {
				t.Fatalf("a badly signed callback stored %d check-ins", n)
			}
			for i := range 2 {
				code, body := rg.keys(t, m.ID, "1365#", false)
				if code != http.StatusOK {
					t.Fatalf("keys (%d): %d %s", i, code, body)
				}
				if name == "twilio" && (!strings.Contains(body, "<Hangup") || strings.Contains(body, "<Gather")) {
					t.Fatalf("Twilio's answer: %s", body)
				}
				if name == "webhook" && !strings.Contains(body, `"outcome":"`+[]string{"stored", "duplicate"}[i]+`"`) {
					t.Fatalf("gateway's answer (%d): %s", i, body)
				}
			}
			ks := rg.checkins(t, c.ID)
			if len(ks) != 1 || ks[0].Source != isolation.SourceVoice || ks[0].Temperature != 36.5 || len(ks[0].Symptoms) != 0 || !ks[0].Counts {
				t.Fatalf("check-ins %+v; want one voice check-in of 36.5", ks)
			}
			if n := rg.count(t, "isolation_checkins"); n != 1 {
				t.Fatalf("%d check-ins stored after the callback twice, want 1", n)
			}
			if n := rg.count(t, "isolation_alerts"); n != 0 {
				t.Fatalf("%d alerts for a well resident", n)
			}
		})
	}
}

// TestVoiceCheckinFeverAndGarbage: 2 then 3 7 8 # is a check-in with the
// fever alert; keys that are no check-in store nothing, Twilio and the
// gateway are told to ask again, and a call that ends without a
// check-in is placed again later in the day.
func TestVoiceCheckinFeverAndGarbage(t *testing.T) {
	t.Parallel()
	for _, name := range voiceProviders {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			rg := newVoiceRig(t, name)
			c := rg.voiceCase(t)
			if _, err := rg.Isolation.Sweep(context.Background()); err != nil {
				t.Fatal(err)
			}
			m := rg.place(t, c, 1)
			code, body := rg.keys(t, m.ID, "9#", false)
			if code != http.StatusOK {
				t.Fatalf("garbage keys: %d %s", code, body)
			}
			switch name {
			case "twilio":
				if !strings.Contains(body, "<Gather") || !strings.Contains(body, "try=2") {
					t.Fatalf("Twilio is not asked again: %s", body)
				}
			case "webhook":
				if !strings.Contains(body, `"outcome":"invalid"`) || !strings.Contains(body, `"prompt"`) {
					t.Fatalf("the gateway is not asked again: %s", body)
				}
			}
			if n := rg.count(t, "isolation_checkins"); n != 0 {
				t.Fatalf("garbage keys stored %d check-ins", n)
			}
			if name == "aliyun" {
				// Aliyun's record is the call's end: the next call is
				// written, due half an hour later, and not sent yet.
				next, ok := rg.calls(t)["checkin-call:"+c.ID+":2020-02-03:2"]
				if !ok || next.Status != outreach.StatusQueued {
					t.Fatalf("no second call after an Aliyun record without a check-in: %v", rg.calls(t))
				}
				var due time.Time
				rg.scan(t, `SELECT due_at FROM outreach_messages WHERE notice_key = 'checkin-call:`+c.ID+`:2020-02-03:2'`, &due)
				if want := rg.clock.now().Add(isolation.VoiceRetryAfter); !due.Equal(want) {
					t.Fatalf("second call due %v, want %v", due, want)
				}
			}
			// The resident tries again (Twilio's second prompt; a new
			// Aliyun call), with a fever this time.
			if name == "aliyun" {
				rg.callID = "116012354148^10281379****"
				rg.api.answer = `{"Code":"OK","Message":"OK","RequestId":"r2","CallId":"` + rg.callID + `"}`
				rg.clock.mu.Lock()
				rg.clock.t = rg.clock.t.Add(isolation.VoiceRetryAfter)
				rg.clock.mu.Unlock()
				m = rg.place(t, c, 2)
			}
			if code, body := rg.keys(t, m.ID, "2378#", false); code != http.StatusOK {
				t.Fatalf("fever keys: %d %s", code, body)
			}
			ks := rg.checkins(t, c.ID)
			if len(ks) != 1 || ks[0].Source != isolation.SourceVoice || ks[0].Temperature != 37.8 || strings.Join(ks[0].Symptoms, ",") != "fever" {
				t.Fatalf("check-ins %+v; want one voice check-in of 37.8 with fever", ks)
			}
			var alerts []string
			rg.scan(t, `SELECT kind FROM isolation_alerts`, &alerts)
			if strings.Join(alerts, ",") != isolation.AlertFever {
				t.Fatalf("alerts %v, want one fever alert", alerts)
			}
		})
	}
}

// TestVoiceCallNoAnswerRetries: Twilio's status callback says no-answer:
// the next call is written, due later; once the day's calls are spent,
// none is, and the deadline raises the missed check-in alert as today.
func TestVoiceCallNoAnswerRetries(t *testing.T) {
	t.Parallel()
	rg := newVoiceRig(t, "twilio")
	c := rg.voiceCase(t)
	if _, err := rg.Isolation.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	status := func(mid string) {
		t.Helper()
		target := "/hooks/voice/twilio/status?mid=" + url.QueryEscape(mid)
		form := url.Values{"AccountSid": {twilioSID}, "CallSid": {rg.callID}, "CallStatus": {"no-answer"}}
		r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set(provider.TwilioSignatureHeader, twilioSign(twilioToken, publicURL+target, form))
		rec := httptest.NewRecorder()
		rg.hooks.ServeHTTP(rec, r)
		if rec.Code != http.StatusOK {
			t.Fatalf("status: %d %s", rec.Code, rec.Body)
		}
	}
	m := rg.place(t, c, 1)
	status(m.ID)
	status(m.ID) // twice: still one next call
	calls := rg.calls(t)
	if len(calls) != 2 || calls[callKeyOf(c.ID, 1)].Status != outreach.StatusFailed {
		t.Fatalf("calls after no answer: %v", calls)
	}
	rg.clock.mu.Lock()
	rg.clock.t = rg.clock.t.Add(isolation.VoiceRetryAfter)
	rg.clock.mu.Unlock()
	rg.callID = "CAffffffffffffffffffffffffffffffff"
	rg.api.answer = `{"sid":"` + rg.callID + `","status":"queued"}`
	m = rg.place(t, c, 2)
	status(m.ID)
	if calls := rg.calls(t); len(calls) != 2 {
		t.Fatalf("a third call after the day's retries: %v", calls)
	}
	rg.at(t, shanghai, "2020-02-03 20:00")
	sw, err := rg.Isolation.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sw.Missed != 1 {
		t.Fatalf("sweep at the deadline: %+v, want one missed check-in", sw)
	}
}

func callKeyOf(caseID string, n int) string {
	return "checkin-call:" + caseID + ":2020-02-03:" + strconv.Itoa(n)
}

// TestVoiceCallQuietHours: a call due in the community's quiet hours is
// held by outreach's rule, as any message to a resident: the provider is
// not called.
func TestVoiceCallQuietHours(t *testing.T) {
	t.Parallel()
	rg := newVoiceRig(t, "webhook")
	rg.exec(t, `UPDATE orgs SET settings = ? WHERE slug = 'c1'`,
		`{"isolation_days":14,"report_cutoff":"18:00","quiet_hours":{"start":"08:30","end":"10:00"}}`)
	c := rg.voiceCase(t)
	if _, err := rg.Isolation.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := rg.place(t, c, 1)
	if m.Status != outreach.StatusHeldQuietHours {
		t.Fatalf("call in quiet hours: %s, want %s", m.Status, outreach.StatusHeldQuietHours)
	}
	if n := len(rg.api.calls()); n != 0 {
		t.Fatalf("the provider was called %d times in quiet hours", n)
	}
}

// TestVoiceCallLandline: a resident with only a landline is called even
// when the case keeps the SMS channel (an SMS cannot reach them); one
// with a mobile gets the link's SMS.
func TestVoiceCallLandline(t *testing.T) {
	t.Parallel()
	rg := newVoiceRig(t, "webhook")
	land := rg.resident(t, "c1", "c1-g1")
	rg.exec(t, `UPDATE residents SET phone = '0773-2825000' WHERE id = ?`, land)
	rg.open(t, "c1", land, "")
	rg.open(t, "c1", rg.resident(t, "c1", "c1-g1"), "")
	sw, err := rg.Isolation.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sw.Calls != 1 || sw.Reminders != 1 {
		t.Fatalf("sweep %+v; want one call (the landline) and one SMS", sw)
	}
}

// TestParseKeypad: the keypad's answers, in range as on every path.
func TestParseKeypad(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in       string
		t        int
		symptoms string
		ok       bool
	}{
		{"1365#", 365, "", true},
		{"1365", 365, "", true},
		{"2378#", 378, "fever", true},
		{"2365#", 365, "other", true},
		{"1378#", 378, "", true}, // well, says 1, but a fever all the same: the check-in raises it
		{"136*5#", 365, "", true},
		{"1340#", 340, "", true},
		{"1430#", 430, "", true},
		{"1339#", 0, "", false},
		{"1431#", 0, "", false},
		{"3365#", 0, "", false},
		{"136#", 0, "", false},
		{"13655#", 0, "", false},
		{"1#", 0, "", false},
		{"", 0, "", false},
		{"#", 0, "", false},
		{"1*365#", 0, "", false},
		{"1365##", 0, "", false},
		{"13*65#", 0, "", false},
	} {
		temp, sy, ok := isolation.ParseKeypad(tc.in)
		if ok != tc.ok || temp != tc.t || (ok && strings.Join(sy, ",") != tc.symptoms) {
			t.Errorf("ParseKeypad(%q) = %d %v %v, want %d %q %v", tc.in, temp, sy, ok, tc.t, tc.symptoms, tc.ok)
		}
	}
}

// FuzzParseKeypad: whatever the keys, the parser does not panic, and what
// it takes is a temperature in range, from keys of the documented shape,
// that reads back the same.
func FuzzParseKeypad(f *testing.F) {
	for _, s := range []string{"1365#", "2378#", "136*5#", "", "#", "9", "1*", "2430", "1339#", "11111111111"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		temp, sy, ok := isolation.ParseKeypad(s)
		if !ok {
			if temp != 0 || sy != nil {
				t.Fatalf("%q refused with %d %v", s, temp, sy)
			}
			return
		}
		if temp < isolation.MinTemperature || temp > isolation.MaxTemperature {
			t.Fatalf("%q: temperature %d out of range", s, temp)
		}
		if s[0] != '1' && s[0] != '2' || (s[0] == '1') != (len(sy) == 0) {
			t.Fatalf("%q: symptoms %v", s, sy)
		}
		body := strings.TrimSuffix(s, "#")[1:]
		want := strconv.Itoa(temp)
		if body != want && body != want[:2]+"*"+want[2:] {
			t.Fatalf("%q read as %d", s, temp)
		}
	})
}
