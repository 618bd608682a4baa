package provider

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
)

// refTwilioSignature is Twilio's algorithm written from its documentation:
// the full URL, then each POST parameter's name and value, sorted by name,
// with no separators; HMAC-SHA1 under the auth token; base64.
func refTwilioSignature(token, fullURL string, form url.Values) string {
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

// The worked example of Twilio's security documentation ("Validating
// requests are coming from Twilio"): auth token 12345, that URL and those
// parameters sign as 0/KCTR6DLpKmkAf8muzZqo1nDgQ=.
func TestTwilioSignatureDocumentedExample(t *testing.T) {
	const (
		token   = "12345"
		fullURL = "https://mycompany.com/myapp.php?foo=1&bar=2"
		want    = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
	)
	form := url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
	if got := refTwilioSignature(token, fullURL, form); got != want {
		t.Errorf("reference signature = %s, want Twilio's %s", got, want)
	}
	params := map[string]string{}
	for k := range form {
		params[k] = form.Get(k)
	}
	v := client.NewRequestValidator(token)
	if !v.Validate(fullURL, params, want) {
		t.Error("twilio-go's validator refuses Twilio's own example")
	}
	params["Digits"] = "1235"
	if v.Validate(fullURL, params, want) {
		t.Error("twilio-go's validator accepts a changed parameter")
	}
}

func twilioHooks(t *testing.T, publicURL string) *Twilio {
	t.Helper()
	p, err := NewTwilio(Config{TwilioAccountSID: testAccountSID, TwilioAuthToken: testAuthToken, TwilioFrom: testFrom,
		PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// twilioRequest is a callback as Twilio sends it to externalURL, arriving
// at our server (behind a proxy) as path.
func twilioRequest(externalURL, path string, form url.Values, token string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(TwilioSignatureHeader, refTwilioSignature(token, externalURL, form))
	return r
}

func statusForm() url.Values {
	return url.Values{
		"AccountSid":    {testAccountSID},
		"MessageSid":    {"SM0123456789abcdef0123456789abcdef"},
		"SmsSid":        {"SM0123456789abcdef0123456789abcdef"},
		"MessageStatus": {"undelivered"},
		"ErrorCode":     {"30003"},
		"To":            {"+8613812345678"},
		"From":          {testFrom},
		"ApiVersion":    {"2010-04-01"},
	}
}

func TestTwilioReceipts(t *testing.T) {
	p := twilioHooks(t, "https://wanjia.example.gov.cn")
	path := "/hooks/twilio/status?mid=" + testID
	got, err := p.Receipts(twilioRequest("https://wanjia.example.gov.cn"+path, path, statusForm(), testAuthToken))
	if err != nil {
		t.Fatal(err)
	}
	want := Receipt{MessageID: testID, ProviderID: "SM0123456789abcdef0123456789abcdef", Channel: ChannelSMS,
		Status: Status{State: StateFailed, Code: "30003", Reason: "30003 unreachable destination handset"}}
	if len(got) != 1 || got[0] != want {
		t.Errorf("Receipts = %+v, want %+v", got, want)
	}

	call := url.Values{"AccountSid": {testAccountSID}, "CallSid": {"CA0123456789abcdef0123456789abcdef"},
		"CallStatus": {"completed"}, "Timestamp": {"Sat, 02 Mar 2024 02:01:00 +0000"}, "CallDuration": {"31"}}
	got, err = p.Receipts(twilioRequest("https://wanjia.example.gov.cn"+path, path, call, testAuthToken))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Channel != ChannelVoice || got[0].Status.State != StateDelivered || got[0].MessageID != testID ||
		got[0].Status.At.IsZero() {
		t.Errorf("call receipt = %+v", got)
	}

	rec := httptest.NewRecorder()
	p.Ack(rec)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<Response></Response>") {
		t.Errorf("Ack = %d %s", rec.Code, rec.Body)
	}
}

func TestTwilioInbound(t *testing.T) {
	p := twilioHooks(t, "https://wanjia.example.gov.cn/")
	form := url.Values{"AccountSid": {testAccountSID}, "MessageSid": {"SM1111111111abcdef0123456789abcdef"},
		"From": {"+8613812345678"}, "To": {testFrom}, "Body": {"收到 谢谢"}, "NumMedia": {"0"}}
	got, err := p.Inbound(twilioRequest("https://wanjia.example.gov.cn/hooks/twilio/sms", "/hooks/twilio/sms", form, testAuthToken))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (Inbound{From: testMobile, Text: "收到 谢谢", ProviderID: "SM1111111111abcdef0123456789abcdef"}) {
		t.Errorf("Inbound = %+v", got)
	}
}

func TestTwilioCallbackAuthentication(t *testing.T) {
	const ext = "https://wanjia.example.gov.cn"
	path := "/hooks/twilio/status?mid=" + testID
	tests := []struct {
		name      string
		publicURL string
		req       func() *http.Request
		ok        bool
	}{
		{"signed", ext, func() *http.Request { return twilioRequest(ext+path, path, statusForm(), testAuthToken) }, true},
		{"behind a proxy that strips /wanjia", ext + "/wanjia", func() *http.Request {
			return twilioRequest(ext+"/wanjia"+path, path, statusForm(), testAuthToken)
		}, true},
		{"behind a proxy that keeps /wanjia", ext + "/wanjia", func() *http.Request {
			return twilioRequest(ext+"/wanjia"+path, "/wanjia"+path, statusForm(), testAuthToken)
		}, true},
		{"another token", ext, func() *http.Request {
			return twilioRequest(ext+path, path, statusForm(), "ffffffffffffffffffffffffffffffff")
		}, false},
		{"signed for another host", ext, func() *http.Request {
			return twilioRequest("https://evil.example"+path, path, statusForm(), testAuthToken)
		}, false},
		{"mid changed", ext, func() *http.Request {
			r := twilioRequest(ext+path, path, statusForm(), testAuthToken)
			other := "/hooks/twilio/status?mid=someone-else"
			r2 := httptest.NewRequest(http.MethodPost, other, r.Body)
			r2.Header = r.Header
			return r2
		}, false},
		{"status changed", ext, func() *http.Request {
			r := twilioRequest(ext+path, path, statusForm(), testAuthToken)
			f := statusForm()
			f.Set("MessageStatus", "delivered")
			r.Body = httptestBody(f.Encode())
			return r
		}, false},
		{"unsigned", ext, func() *http.Request {
			r := twilioRequest(ext+path, path, statusForm(), testAuthToken)
			r.Header.Del(TwilioSignatureHeader)
			return r
		}, false},
		{"another account", ext, func() *http.Request {
			f := statusForm()
			f.Set("AccountSid", "ACffffffffffffffffffffffffffffffff")
			return twilioRequest(ext+path, path, f, testAuthToken)
		}, false},
		{"no public URL to rebuild the signed one", "", func() *http.Request {
			return twilioRequest(ext+path, path, statusForm(), testAuthToken)
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := twilioHooks(t, tt.publicURL)
			_, err := p.Receipts(tt.req())
			if tt.ok && err != nil || !tt.ok && !errors.Is(err, ErrBadSignature) {
				t.Errorf("err = %v, want ok: %v", err, tt.ok)
			}
		})
	}
}

func TestTwilioCallbackMalformed(t *testing.T) {
	p := twilioHooks(t, "https://wanjia.example.gov.cn")
	for _, form := range []url.Values{
		{},
		{"MessageSid": {"SM1"}},
		{"MessageStatus": {"delivered"}},
		{"MessageSid": {"SM/../1"}, "MessageStatus": {"delivered"}},
		{"CallSid": {"CA1"}},
	} {
		r := twilioRequest("https://wanjia.example.gov.cn/h", "/h", form, testAuthToken)
		if got, err := p.Receipts(r); err == nil || errors.Is(err, ErrBadSignature) {
			t.Errorf("Receipts(%v) = %+v, %v", form, got, err)
		}
	}
	for _, form := range []url.Values{{}, {"From": {"+8613812345678"}, "Body": {"x"}}, {"MessageSid": {"SM1"}, "From": {"x"}}} {
		r := twilioRequest("https://wanjia.example.gov.cn/h", "/h", form, testAuthToken)
		if got, err := p.Inbound(r); err == nil {
			t.Errorf("Inbound(%v) = %+v", form, got)
		}
	}
}

// Fuzz the form parsers through the whole hook, with a valid signature.
func FuzzTwilioCallbacks(f *testing.F) {
	f.Add(statusForm().Encode(), "/h?mid="+testID)
	f.Add("CallSid=CA1&CallStatus=busy&Timestamp=x", "/h")
	f.Add("MessageSid=SM1&From=%2B8613812345678&Body=%E5%A5%BD", "/h")
	f.Add("a=%zz&&=", "/h?%")
	p, err := NewTwilio(Config{TwilioAccountSID: testAccountSID, TwilioAuthToken: testAuthToken, TwilioFrom: testFrom,
		PublicURL: "https://wanjia.example.gov.cn"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body, path string) {
		u, err := url.ParseRequestURI(path)
		if err != nil || !strings.HasPrefix(path, "/") {
			return
		}
		form, err := url.ParseQuery(body)
		sig := ""
		if err == nil {
			sig = refTwilioSignature(testAuthToken, "https://wanjia.example.gov.cn"+path, form)
		}
		req := func() *http.Request {
			r := &http.Request{Method: http.MethodPost, URL: u, RequestURI: path, Header: http.Header{},
				Body: httptestBody(body)}
			r.Header.Set(TwilioSignatureHeader, sig)
			return r
		}
		if receipts, err := p.Receipts(req()); err == nil {
			checkReceipts(t, receipts)
		}
		if replies, err := p.Inbound(req()); err == nil && (len(replies) != 1 || replies[0].From == "") {
			t.Fatalf("replies %+v", replies)
		}
	})
}
