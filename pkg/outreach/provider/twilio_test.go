package provider

import (
	"context"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "0123456789abcdef0123456789abcdef"
	testFrom       = "+15005550006"
)

// rewriteTransport sends every request to the fake server, whatever host
// twilio-go addressed. twilio-go's API services keep their base URL
// (https://api.twilio.com) unexported; what it does let us replace is the
// *http.Client of its client.Client, and a transport there sees every
// request. It records the host twilio-go meant, to check the edge.
type rewriteTransport struct {
	target *url.URL
	mu     sync.Mutex
	hosts  []string
}

func (rt *rewriteTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.hosts = append(rt.hosts, r.URL.Host)
	rt.mu.Unlock()
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rt.target.Scheme, rt.target.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

// fakeTwilio is the 2010-04-01 API on a local port.
type fakeTwilio struct {
	t      *testing.T
	srv    *httptest.Server
	rt     *rewriteTransport
	mu     sync.Mutex
	forms  []url.Values
	handle func(r *http.Request, form url.Values) (int, string)
}

func newFakeTwilio(t *testing.T, handle func(r *http.Request, form url.Values) (int, string)) *fakeTwilio {
	f := &fakeTwilio{t: t, handle: handle}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		if !ok || user != testAccountSID || pass != testAuthToken {
			w.WriteHeader(401)
			io.WriteString(w, `{"code":20003,"message":"Authenticate","status":401}`)
			return
		}
		if !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/"+testAccountSID+"/") {
			t.Errorf("fake twilio: path %s", r.URL.Path)
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		f.mu.Lock()
		f.forms = append(f.forms, form)
		f.mu.Unlock()
		status, answer := f.handle(r, form)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(f.srv.Close)
	u, _ := url.Parse(f.srv.URL)
	f.rt = &rewriteTransport{target: u}
	return f
}

func (f *fakeTwilio) last() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.forms[len(f.forms)-1]
}

func (f *fakeTwilio) provider(t *testing.T, edit ...func(*Config)) *Twilio {
	cfg := Config{
		TwilioAccountSID:        testAccountSID,
		TwilioAuthToken:         testAuthToken,
		TwilioFrom:              testFrom,
		TwilioStatusCallbackURL: "https://wanjia.example.gov.cn/hooks/twilio/status",
		Timeout:                 5 * time.Second,
		HTTPClient:              &http.Client{Transport: f.rt},
	}
	for _, e := range edit {
		e(&cfg)
	}
	p, err := NewTwilio(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTwilioSendSMS(t *testing.T) {
	f := newFakeTwilio(t, func(r *http.Request, form url.Values) (int, string) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		return 201, `{"sid":"SM0123456789abcdef0123456789abcdef","status":"queued"}`
	})
	p := f.provider(t)
	sent, err := p.Send(ctxTimeout(t), smsMessage())
	if err != nil {
		t.Fatal(err)
	}
	if sent.ProviderID != "SM0123456789abcdef0123456789abcdef" || sent.At.IsZero() {
		t.Errorf("Sent = %+v", sent)
	}
	form := f.last()
	if form.Get("To") != "+8613812345678" || form.Get("From") != testFrom || form.Get("Body") != smsMessage().Body {
		t.Errorf("form = %v", form)
	}
	cb, err := url.Parse(form.Get("StatusCallback"))
	if err != nil || cb.Host != "wanjia.example.gov.cn" || cb.Path != "/hooks/twilio/status" || cb.Query().Get("mid") != testID {
		t.Errorf("StatusCallback = %q", form.Get("StatusCallback"))
	}
	if f.rt.hosts[0] != "api.twilio.com" {
		t.Errorf("twilio-go addressed %s", f.rt.hosts[0])
	}

	// A messaging service instead of a number, and an edge.
	p = f.provider(t, func(c *Config) {
		c.TwilioMessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
		c.TwilioStatusCallbackURL = ""
		c.TwilioEdge = "singapore"
	})
	if _, err := p.Send(ctxTimeout(t), smsMessage()); err != nil {
		t.Fatal(err)
	}
	form = f.last()
	if form.Get("MessagingServiceSid") != "MG0123456789abcdef0123456789abcdef" || form.Has("From") || form.Has("StatusCallback") {
		t.Errorf("form = %v", form)
	}
	if h := f.rt.hosts[len(f.rt.hosts)-1]; h != "api.singapore.us1.twilio.com" {
		t.Errorf("edge host = %s", h)
	}
}

func TestTwilioSendVoice(t *testing.T) {
	f := newFakeTwilio(t, func(r *http.Request, form url.Values) (int, string) {
		if !strings.HasSuffix(r.URL.Path, "/Calls.json") {
			t.Errorf("path %s", r.URL.Path)
		}
		return 201, `{"sid":"CA0123456789abcdef0123456789abcdef","status":"queued"}`
	})
	p := f.provider(t, func(c *Config) { c.TwilioVoice = "Polly.Zhiyu" })
	m := voiceMessage()
	m.Phone = "0773-2851234"
	m.Body = `核酸检测 <明天> 9点 & "带证件"`
	sent, err := p.Send(ctxTimeout(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if sent.ProviderID != "CA0123456789abcdef0123456789abcdef" {
		t.Errorf("ProviderID = %q", sent.ProviderID)
	}
	form := f.last()
	if form.Get("To") != "+867732851234" || form.Get("From") != testFrom {
		t.Errorf("To/From = %q/%q", form.Get("To"), form.Get("From"))
	}
	var twiml struct {
		XMLName xml.Name `xml:"Response"`
		Say     struct {
			Language string `xml:"language,attr"`
			Voice    string `xml:"voice,attr"`
			Text     string `xml:",chardata"`
		}
	}
	if err := xml.Unmarshal([]byte(form.Get("Twiml")), &twiml); err != nil {
		t.Fatalf("Twiml %q: %v", form.Get("Twiml"), err)
	}
	if twiml.Say.Language != "zh-CN" || twiml.Say.Voice != "Polly.Zhiyu" || twiml.Say.Text != m.Body {
		t.Errorf("Twiml = %q", form.Get("Twiml"))
	}

	t.Run("too long to read", func(t *testing.T) {
		m := voiceMessage()
		m.Body = strings.Repeat("疫", 1400) // 4200 bytes
		_, err := p.Send(ctxTimeout(t), m)
		wantError(t, err, "body_too_long", true, false)
	})
	t.Run("no From number", func(t *testing.T) {
		p := f.provider(t, func(c *Config) { c.TwilioFrom = ""; c.TwilioMessagingServiceSID = "MG1" })
		_, err := p.Send(ctxTimeout(t), voiceMessage())
		wantError(t, err, "not_configured", false, false)
	})
}

func TestTwilioErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		code      string
		permanent bool
		maybeSent bool
	}{
		{"invalid To", 400, `{"code":21211,"message":"The 'To' number +8613812345678 is not a valid phone number.","status":400}`, "21211", true, false},
		{"opted out", 400, `{"code":21610,"message":"Attempt to send to unsubscribed recipient","status":400}`, "21610", true, false},
		{"not a mobile", 400, `{"code":21614,"message":"'To' number is not a valid mobile number","status":400}`, "21614", true, false},
		{"region not enabled", 400, `{"code":21408,"message":"Permission to send an SMS has not been enabled for the region indicated by the 'To' number","status":400}`, "21408", false, false},
		{"bad credentials", 401, `{"code":20003,"message":"Authenticate","status":401}`, "20003", false, false},
		{"throttled", 429, `{"code":20429,"message":"Too Many Requests","status":429}`, "20429", false, false},
		{"server error", 500, `{"code":20500,"message":"Internal Server Error","status":500}`, "20500", false, true},
		{"unavailable", 503, `{"code":20503,"message":"Service unavailable","status":503}`, "20503", false, false},
		{"a gateway's HTML", 502, `<html>Bad Gateway</html>`, "bad_answer", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t, func(*http.Request, url.Values) (int, string) { return tt.status, tt.body })
			_, err := f.provider(t).Send(ctxTimeout(t), smsMessage())
			e := wantError(t, err, tt.code, tt.permanent, tt.maybeSent)
			noLeak(t, "error", e.Error(), testMobile, "8613812345678", testAuthToken)
		})
	}
	t.Run("timeout", func(t *testing.T) {
		srv := slowServer(t)
		u, _ := url.Parse(srv.URL)
		p, err := NewTwilio(Config{TwilioAccountSID: testAccountSID, TwilioAuthToken: testAuthToken, TwilioFrom: testFrom,
			Timeout: 100 * time.Millisecond, HTTPClient: &http.Client{Transport: &rewriteTransport{target: u}}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		_, err = p.Send(context.Background(), smsMessage())
		wantError(t, err, "network", false, true)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
			t.Errorf("err = %v after %v", err, time.Since(start))
		}
		noLeak(t, "error", err.Error(), testAuthToken)
	})
	t.Run("caller cancels", func(t *testing.T) {
		srv := slowServer(t)
		u, _ := url.Parse(srv.URL)
		p, _ := NewTwilio(Config{TwilioAccountSID: testAccountSID, TwilioAuthToken: testAuthToken, TwilioFrom: testFrom,
			HTTPClient: &http.Client{Transport: &rewriteTransport{target: u}}})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		_, err := p.Send(ctx, smsMessage())
		if !errors.Is(err, context.Canceled) || IsPermanent(err) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("empty body", func(t *testing.T) {
		f := newFakeTwilio(t, func(*http.Request, url.Values) (int, string) { t.Error("sent"); return 201, `{}` })
		m := smsMessage()
		m.Body = " "
		_, err := f.provider(t).Send(ctxTimeout(t), m)
		wantError(t, err, "empty_body", true, false)
	})
}

func TestTwilioQuery(t *testing.T) {
	tests := []struct {
		name    string
		channel Channel
		status  int
		answer  string
		want    Status
	}{
		{"delivered", ChannelSMS, 200, `{"sid":"SM1","status":"delivered","date_updated":"Sat, 02 Mar 2024 02:00:05 +0000"}`,
			Status{State: StateDelivered, At: time.Date(2024, 3, 2, 2, 0, 5, 0, time.UTC)}},
		{"undelivered", ChannelSMS, 200, `{"sid":"SM1","status":"undelivered","error_code":30003,"error_message":"Unreachable destination handset"}`,
			Status{State: StateFailed, Code: "30003", Reason: "30003 Unreachable destination handset"}},
		{"sent", ChannelSMS, 200, `{"sid":"SM1","status":"sent"}`, Status{State: StateSent}},
		{"gone", ChannelSMS, 404, `{"code":20404,"message":"The requested resource was not found","status":404}`, Status{State: StateUnknown}},
		{"call answered", ChannelVoice, 200, `{"sid":"CA1","status":"completed","end_time":"Sat, 02 Mar 2024 02:01:00 +0000"}`,
			Status{State: StateDelivered, Code: "completed", At: time.Date(2024, 3, 2, 2, 1, 0, 0, time.UTC)}},
		{"call not answered", ChannelVoice, 200, `{"sid":"CA1","status":"no-answer"}`, Status{State: StateFailed, Code: "no-answer", Reason: "no-answer"}},
		{"call ringing", ChannelVoice, 200, `{"sid":"CA1","status":"ringing"}`, Status{State: StateSent, Code: "ringing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTwilio(t, func(r *http.Request, _ url.Values) (int, string) {
				want := "/Messages/SM1.json"
				if tt.channel == ChannelVoice {
					want = "/Calls/CA1.json"
				}
				if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, want) {
					t.Errorf("%s %s", r.Method, r.URL.Path)
				}
				return tt.status, tt.answer
			})
			m, sid := smsMessage(), "SM1"
			if tt.channel == ChannelVoice {
				m, sid = voiceMessage(), "CA1"
			}
			got, err := f.provider(t).Query(ctxTimeout(t), m, Sent{ProviderID: sid})
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.want.State || got.Code != tt.want.Code || got.Reason != tt.want.Reason || !got.At.Equal(tt.want.At) {
				t.Errorf("Status = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("no SID", func(t *testing.T) {
		f := newFakeTwilio(t, func(*http.Request, url.Values) (int, string) { t.Error("queried"); return 200, `{}` })
		if _, err := f.provider(t).Query(ctxTimeout(t), smsMessage(), Sent{}); !errors.Is(err, ErrCannotQuery) {
			t.Errorf("err = %v", err)
		}
		if _, err := f.provider(t).Query(ctxTimeout(t), smsMessage(), Sent{ProviderID: "../../x"}); !IsPermanent(err) {
			t.Errorf("a SID that would change the path: %v", err)
		}
	})
}

func TestNewTwilioChecksConfig(t *testing.T) {
	_, err := NewTwilio(Config{TwilioAuthToken: "token-with-dashes-s3cr3t"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{EnvTwilioAccountSID, EnvTwilioAuthToken, EnvTwilioFrom} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q does not name %s", err, want)
		}
	}
	noLeak(t, "error", err.Error(), "token-with-dashes-s3cr3t", "s3cr3t")
}
