package provider

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

const testCallbackSecret = "callback-secret-0123456789"

func aliyunHooks(t *testing.T) *Aliyun {
	t.Helper()
	p, err := NewAliyun(Config{AliyunAccessKeyID: testKeyID, AliyunAccessKeySecret: testKeySecret,
		AliyunCallbackSecret: testCallbackSecret})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// refSign is our signature scheme written again from its description.
func refSign(secret string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "." + string(body)))
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func pushRequest(target, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

const smsReports = `[
  {"phone_number":"13812345678","send_time":"2024-03-02 10:00:00","report_time":"2024-03-02 10:00:05",
   "success":true,"err_code":"DELIVERED","err_msg":"用户接收成功","sms_size":"1","biz_id":"900619^0","out_id":"` + testID + `"},
  {"phone_number":"13812345678","send_time":"2024-03-02 10:00:00","report_time":"2024-03-02 10:01:00",
   "success":false,"err_code":"MK:0001","err_msg":"号码 13812345678 停机","sms_size":"1","biz_id":"900620^0","out_id":""},
  {"call_id":"116012354148^1","status_code":"200005","status_time":"2024-03-02 10:02:00","out_id":"msg-42"}
]`

func TestAliyunReceipts(t *testing.T) {
	p := aliyunHooks(t)
	got, err := p.Receipts(pushRequest("/hooks/aliyun/report?token="+p.CallbackToken(), smsReports))
	if err != nil {
		t.Fatal(err)
	}
	want := []Receipt{
		{MessageID: testID, ProviderID: "900619^0", Channel: ChannelSMS,
			Status: Status{State: StateDelivered, Code: "DELIVERED", At: time.Date(2024, 3, 2, 10, 0, 5, 0, chinaTime)}},
		{ProviderID: "900620^0", Channel: ChannelSMS,
			Status: Status{State: StateFailed, Code: "MK:0001", Reason: "MK:0001 号码 " + testMasked + " 停机", At: time.Date(2024, 3, 2, 10, 1, 0, 0, chinaTime)}},
		{MessageID: "msg-42", ProviderID: "116012354148^1", Channel: ChannelVoice,
			Status: Status{State: StateFailed, Code: "200005", Reason: "被叫无法接通 (unreachable or rejected)", At: time.Date(2024, 3, 2, 10, 2, 0, 0, chinaTime)}},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d receipts: %+v", len(got), got)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.MessageID != w.MessageID || g.ProviderID != w.ProviderID || g.Channel != w.Channel ||
			g.Status.State != w.Status.State || g.Status.Code != w.Status.Code || g.Status.Reason != w.Status.Reason || !g.Status.At.Equal(w.Status.At) {
			t.Errorf("receipt %d\n got %+v\nwant %+v", i, g, w)
		}
	}

	rec := httptest.NewRecorder()
	p.Ack(rec)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"code":0`) {
		t.Errorf("Ack = %d %s", rec.Code, rec.Body)
	}
}

func TestAliyunInbound(t *testing.T) {
	p := aliyunHooks(t)
	body := `[{"phone_number":"13812345678","content":"已收到，明天去","send_time":"2024-03-02 10:00:00","dest_code":"1234","sequence_id":1234567890,"sign_name":"万家社区"},
	          {"phone_number":"8613912345678","content":"","send_time":"20240302100100","dest_code":"1234","sequence_id":"1234567891"}]`
	got, err := p.Inbound(pushRequest("/hooks/aliyun/up?token="+p.CallbackToken(), body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 ||
		got[0] != (Inbound{From: testMobile, Text: "已收到，明天去", At: time.Date(2024, 3, 2, 10, 0, 0, 0, chinaTime), ProviderID: "1234567890"}) ||
		got[1].From != "13912345678" || got[1].Text != "" || got[1].ProviderID != "1234567891" || !got[1].At.Equal(time.Date(2024, 3, 2, 10, 1, 0, 0, chinaTime)) {
		t.Errorf("Inbound = %+v", got)
	}
}

func TestAliyunCallbackAuthentication(t *testing.T) {
	p := aliyunHooks(t)
	now := time.Now()
	signed := func(ts int64, body string) *http.Request {
		r := pushRequest("/hooks/aliyun/report", body)
		r.Header.Set(TimestampHeader, strconv.FormatInt(ts, 10))
		r.Header.Set(SignatureHeader, refSign(testCallbackSecret, ts, []byte(body)))
		return r
	}
	tests := []struct {
		name string
		req  func() *http.Request
		bad  bool // ErrBadSignature
	}{
		{"token", func() *http.Request { return pushRequest("/h?token="+p.CallbackToken(), smsReports) }, false},
		{"relay signature", func() *http.Request { return signed(now.Unix(), smsReports) }, false},
		{"no token", func() *http.Request { return pushRequest("/h", smsReports) }, true},
		{"wrong token", func() *http.Request { return pushRequest("/h?token=0123456789abcdef0123456789abcdef", smsReports) }, true},
		{"the secret itself is not the token", func() *http.Request { return pushRequest("/h?token="+testCallbackSecret, smsReports) }, true},
		{"stale signature", func() *http.Request { return signed(now.Add(-6*time.Minute).Unix(), smsReports) }, true},
		{"future signature", func() *http.Request { return signed(now.Add(6*time.Minute).Unix(), smsReports) }, true},
		{"tampered body", func() *http.Request {
			r := signed(now.Unix(), smsReports)
			r.Body = httptestBody(strings.Replace(smsReports, `"success":false`, `"success":true`, 1))
			return r
		}, true},
		{"timestamp replaced", func() *http.Request {
			r := signed(now.Add(-10*time.Minute).Unix(), smsReports)
			r.Header.Set(TimestampHeader, strconv.FormatInt(now.Unix(), 10))
			return r
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Receipts(tt.req())
			if tt.bad != errors.Is(err, ErrBadSignature) || !tt.bad && err != nil {
				t.Errorf("err = %v, want bad signature: %v", err, tt.bad)
			}
		})
	}

	t.Run("no secret configured refuses everything", func(t *testing.T) {
		open, _ := NewAliyun(Config{AliyunAccessKeyID: testKeyID, AliyunAccessKeySecret: testKeySecret})
		if open.CallbackToken() != "" {
			t.Error("a token without a secret")
		}
		for _, r := range []*http.Request{pushRequest("/h?token=", smsReports), pushRequest("/h", smsReports)} {
			if _, err := open.Receipts(r); !errors.Is(err, ErrBadSignature) {
				t.Errorf("err = %v", err)
			}
		}
	})
	t.Run("a GET is not a push", func(t *testing.T) {
		r := httptest.NewRequest(http.MethodGet, "/h?token="+p.CallbackToken(), nil)
		if _, err := p.Receipts(r); err == nil || errors.Is(err, ErrBadSignature) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a body too large", func(t *testing.T) {
		big := "[" + strings.Repeat(" ", maxCallbackBody) + "]"
		if _, err := p.Receipts(pushRequest("/h?token="+p.CallbackToken(), big)); err == nil {
			t.Error("accepted")
		}
	})
}

func TestAliyunCallbackMalformed(t *testing.T) {
	p := aliyunHooks(t)
	for _, body := range []string{
		``, `null`, `{}`, `[`, `[1]`, `[{}]`, `[{"biz_id":"x"}]`, `[{"success":true}]`,
		`[{"biz_id":"x","success":"yes"}]`, `[] []`, `null x`,
	} {
		if got, err := p.Receipts(pushRequest("/h?token="+p.CallbackToken(), body)); err == nil {
			t.Errorf("Receipts(%s) = %+v, want an error", body, got)
		} else if errors.Is(err, ErrBadSignature) {
			t.Errorf("Receipts(%s): %v is not a signature problem", body, err)
		}
	}
	for _, body := range []string{``, `[{"content":"x"}]`, `[{"phone_number":"13812345678"}]`, `{"phone_number":"1","content":"x"}`} {
		if got, err := p.Inbound(pushRequest("/h?token="+p.CallbackToken(), body)); err == nil {
			t.Errorf("Inbound(%s) = %+v, want an error", body, got)
		}
	}
	// An empty batch is not an error.
	if got, err := p.Receipts(pushRequest("/h?token="+p.CallbackToken(), `[]`)); err != nil || len(got) != 0 {
		t.Errorf("Receipts([]) = %v, %v", got, err)
	}
}

func httptestBody(s string) *readCloser { return &readCloser{bytes.NewReader([]byte(s))} }

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }

// Fuzz the pushes through the whole hook, authenticated: never a panic, and
// what parses is well formed.
func FuzzAliyunCallbacks(f *testing.F) {
	f.Add([]byte(smsReports))
	f.Add([]byte(`[{"phone_number":"13812345678","content":"好","send_time":"2024-03-02 10:00:00","sequence_id":1}]`))
	f.Add([]byte(`[{"call_id":"1","status_code":"200000"}]`))
	f.Add([]byte(`[{"biz_id":"1","success":false,"report_time":"x"}]`))
	f.Add([]byte(`[{"sequence_id":{"a":1},"phone_number":"x","content":"y"}]`))
	p, err := NewAliyun(Config{AliyunAccessKeyID: testKeyID, AliyunAccessKeySecret: testKeySecret,
		AliyunCallbackSecret: testCallbackSecret})
	if err != nil {
		f.Fatal(err)
	}
	token := p.CallbackToken()
	f.Fuzz(func(t *testing.T, body []byte) {
		receipts, err := p.Receipts(pushRequest("/h?token="+token, string(body)))
		if errors.Is(err, ErrBadSignature) {
			t.Fatalf("authenticated push refused: %v", err)
		}
		if err == nil {
			checkReceipts(t, receipts)
		}
		replies, err := p.Inbound(pushRequest("/h?token="+token, string(body)))
		if err == nil {
			for _, in := range replies {
				if in.From == "" {
					t.Fatalf("reply without From: %+v", in)
				}
			}
		}
	})
}

func checkReceipts(t *testing.T, receipts []Receipt) {
	t.Helper()
	for _, r := range receipts {
		if r.MessageID == "" && r.ProviderID == "" {
			t.Fatalf("receipt names no message: %+v", r)
		}
		switch r.Status.State {
		case StateDelivered, StateFailed, StateSent:
		default:
			t.Fatalf("receipt state %q", r.Status.State)
		}
	}
}
