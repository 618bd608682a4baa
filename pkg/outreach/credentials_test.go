package outreach_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wanjia/wanjia/pkg/i18n"
	"github.com/wanjia/wanjia/pkg/outreach"
	"github.com/wanjia/wanjia/pkg/outreach/provider"
	"github.com/wanjia/wanjia/pkg/queue"
	"github.com/wanjia/wanjia/pkg/queue/queuetest"
)

// logBuffer is a JSON log for many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// at lists the lines at level.
func (l *logBuffer) at(level string) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, line := range strings.Split(l.b.String(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["level"] == level {
			out = append(out, line)
		}
	}
	return out
}

// rewrite sends every request to target (twilio-go's base URL is fixed).
type rewrite struct{ target *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = rw.target.Scheme, rw.target.Host, ""
	return http.DefaultTransport.RoundTrip(r)
}

// providerDesk is a provider's API on a local port that refuses our
// credentials with its documented answer until fixed, then takes every
// message, counting them by phone.
type providerDesk struct {
	fixed    atomic.Bool
	refused  atomic.Int64
	mu       sync.Mutex
	accepted map[string]int
}

func (d *providerDesk) take(phone string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accepted[phone]++
}

func (d *providerDesk) count() (n int, twice []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for p, k := range d.accepted {
		n++
		if k > 1 {
			twice = append(twice, p)
		}
	}
	return n, twice
}

// Documented answers: Aliyun's POP error bodies (HTTP 400 and 404) and
// Twilio's 401 (error 20003).
const (
	aliyunSignatureDoesNotMatch = `{"RequestId":"8B5F5A3C-1E0B-5C4D-9C3A-2E4F5D6A7B8C","Message":"Specified signature does not match our calculation. The server string to sign is: POST&%2F&AccessKeyId%3DLTAItest","Recommend":"https://api.aliyun.com/troubleshoot?q=SignatureDoesNotMatch&product=Dysmsapi","HostId":"dysmsapi.aliyuncs.com","Code":"SignatureDoesNotMatch"}`
	aliyunInvalidAccessKeyID    = `{"RequestId":"0C5B7E0A-3F1D-5B2E-8A4C-6D7E8F9A0B1C","Message":"Specified access key is not found.","Recommend":"https://api.aliyun.com/troubleshoot?q=InvalidAccessKeyId.NotFound&product=Dysmsapi","HostId":"dysmsapi.aliyuncs.com","Code":"InvalidAccessKeyId.NotFound"}`
	twilioAuthenticate          = `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`
)

func aliyunDesk(t *testing.T, status int, refusal string) (*providerDesk, provider.Provider) {
	d := &providerDesk{accepted: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if !d.fixed.Load() {
			d.refused.Add(1)
			w.WriteHeader(status)
			io.WriteString(w, refusal)
			return
		}
		d.take(r.PostForm.Get("PhoneNumbers"))
		io.WriteString(w, `{"Code":"OK","Message":"OK","BizId":"900619746936498440^0","RequestId":"F655A8D5-B967-440B-8683-DAD6FF8DE990"}`)
	}))
	t.Cleanup(srv.Close)
	p, err := provider.NewAliyun(provider.Config{AliyunAccessKeyID: "LTAItest0000000000000000", AliyunAccessKeySecret: "secret000000000000000000000000",
		AliyunSignName: "万家社区", AliyunSMSEndpoint: srv.URL, AliyunVoiceEndpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

func twilioDesk(t *testing.T) (*providerDesk, provider.Provider) {
	d := &providerDesk{accepted: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if !d.fixed.Load() {
			d.refused.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, twilioAuthenticate)
			return
		}
		d.take(r.PostForm.Get("To"))
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"sid":"SM`+strings.Repeat("0", 31)+`1","status":"queued","account_sid":"AC`+strings.Repeat("0", 32)+`"}`)
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	p, err := provider.NewTwilio(provider.Config{TwilioAccountSID: "AC" + strings.Repeat("0", 32), TwilioAuthToken: "wrongtoken0000000000000000000000",
		TwilioFrom: "+15005550006", HTTPClient: &http.Client{Transport: rewrite{u}, Timeout: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	return d, p
}

// TestProviderCredentialsRefused: a provider that refuses our credentials
// (Aliyun's SignatureDoesNotMatch and InvalidAccessKeyId, Twilio's 401)
// is not retried message by message: the campaign pauses with a reason
// staff read on its page, the operator gets one ERROR line and a metric,
// and no message fails or is lost. Resumed after the credentials are
// fixed, it sends every message exactly once.
func TestProviderCredentialsRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		desk func(t *testing.T) (*providerDesk, provider.Provider)
	}{
		{"aliyun SignatureDoesNotMatch", func(t *testing.T) (*providerDesk, provider.Provider) {
			return aliyunDesk(t, http.StatusBadRequest, aliyunSignatureDoesNotMatch)
		}},
		{"aliyun InvalidAccessKeyId", func(t *testing.T) (*providerDesk, provider.Provider) {
			return aliyunDesk(t, http.StatusNotFound, aliyunInvalidAccessKeyID)
		}},
		{"twilio 401", twilioDesk},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const n = 8
			w := newWorld(t)
			r := queuetest.New(t)
			desk, p := tt.desk(t)
			var logs logBuffer
			reg := prometheus.NewRegistry()
			w.Outreach.Provider = p
			w.Outreach.Metrics = outreach.NewMetrics(reg)
			w.Outreach.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			staff := w.as(t, "c1.staff", "c1")
			tp, err := w.Outreach.CreateTemplate(staff, outreach.TemplateInput{Name: "防护提醒", Channel: "sms",
				Body: "{{.Name}}您好，请做好防护。", ProviderTemplate: "SMS_270000001", SignName: "万家社区"})
			if err != nil {
				t.Fatal(err)
			}
			w.realNoon()
			w.Outreach.Queue = queue.NewClient(r)
			w.households(t, "c1", "c1-g1", n)
			c := w.campaign(t, "c1", outreach.CampaignInput{TemplateID: tp.ID})
			startWorkerN(t, w, r, 4)
			if _, err := w.Outreach.SendCampaign(staff, c.ID); err != nil {
				t.Fatal(err)
			}
			var v *outreach.CampaignView
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				v = w.get(t, "c1", c.ID)
				if v.Status == outreach.CampaignPaused && v.Stats.Sending == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("campaign %s %+v after 15 s; the provider refused %d sends; want it paused", v.Status, v.Stats, desk.refused.Load())
				}
			}
			if v.PauseReason != outreach.PauseProviderCredentials || v.Stats.Queued != n || v.Stats.Failed != 0 || v.Stats.Unknown != 0 {
				t.Fatalf("paused: reason %q, %+v; want all %d queued", v.PauseReason, v.Stats, n)
			}
			if msg := i18n.T(i18n.ZH, "campaign_paused_"+v.PauseReason, nil); msg == "campaign_paused_"+v.PauseReason || !strings.Contains(msg, "暂停") {
				t.Errorf("no text for staff: %q", msg)
			}
			time.Sleep(300 * time.Millisecond) // sends still in flight settle
			if got := authFailures(t, reg, p.Name()); got < 1 {
				t.Errorf("wanjia_outreach_provider_auth_failures_total{provider=%q} = %v", p.Name(), got)
			}
			if errs := logs.at("ERROR"); len(errs) != 1 || !strings.Contains(errs[0], c.ID) {
				t.Errorf("ERROR lines: %d %q; want one naming the campaign", len(errs), errs)
			}
			if desk.refused.Load() > 4+1 {
				t.Errorf("the provider was asked %d times after it refused our credentials", desk.refused.Load())
			}

			desk.fixed.Store(true)
			if _, err := w.Outreach.ResumeCampaign(staff, c.ID); err != nil {
				t.Fatal(err)
			}
			until(t, w, c.ID, func(st outreach.Stats) bool { return st.Sent == n }, 15*time.Second)
			if got, twice := desk.count(); got != n || len(twice) > 0 {
				t.Fatalf("after the fix: %d of %d phones sent to, twice: %v", got, n, twice)
			}
			if v := w.get(t, "c1", c.ID); v.PauseReason != "" {
				t.Errorf("after resume: pause reason %q", v.PauseReason)
			}
		})
	}
}

// authFailures reads wanjia_outreach_provider_auth_failures_total{provider}.
func authFailures(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "wanjia_outreach_provider_auth_failures_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "provider" && l.GetValue() == name {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}
