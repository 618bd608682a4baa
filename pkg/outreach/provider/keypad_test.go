package provider

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func keypadMessage() Message {
	m := voiceMessage()
	m.Keypad = true
	m.TemplateCode = ""
	m.Body = "张三您好，身体无不适请按1，有发热或其他不适请按2；然后输入体温，按井号键结束。"
	return m
}

// TestTwilioKeypadCall: the call's TwiML is a <Gather> posting to the
// gather hook with our message ID, # ending the keys, called even when
// none came; its status callback is the voice status hook. Without
// WANJIA_BASE_URL there is nowhere to call back: not sent.
func TestTwilioKeypadCall(t *testing.T) {
	t.Parallel()
	f := newFakeTwilio(t, func(*http.Request, url.Values) (int, string) {
		return 201, `{"sid":"CA0123456789abcdef0123456789abcdef","status":"queued"}`
	})
	p, err := NewTwilio(Config{TwilioAccountSID: testAccountSID, TwilioAuthToken: testAuthToken, TwilioFrom: testFrom,
		PublicURL: "https://wanjia.example/base", HTTPClient: &http.Client{Transport: f.rt}})
	if err != nil {
		t.Fatal(err)
	}
	sent, err := p.Send(ctxTimeout(t), keypadMessage())
	if err != nil || sent.ProviderID != "CA0123456789abcdef0123456789abcdef" {
		t.Fatalf("Send = %+v, %v", sent, err)
	}
	form := f.forms[0]
	var doc struct {
		Gather struct {
			Input               string `xml:"input,attr"`
			Action              string `xml:"action,attr"`
			Method              string `xml:"method,attr"`
			FinishOnKey         string `xml:"finishOnKey,attr"`
			ActionOnEmptyResult string `xml:"actionOnEmptyResult,attr"`
			Say                 struct {
				Language string `xml:"language,attr"`
				Text     string `xml:",chardata"`
			}
		}
	}
	if err := xml.Unmarshal([]byte(form.Get("Twiml")), &doc); err != nil {
		t.Fatalf("Twiml: %v: %s", err, form.Get("Twiml"))
	}
	g := doc.Gather
	if g.Input != "dtmf" || g.Method != "POST" || g.FinishOnKey != "#" || g.ActionOnEmptyResult != "true" ||
		g.Action != "https://wanjia.example/base/hooks/voice/twilio/gather?mid="+testID+"&try=1" ||
		g.Say.Language != "zh-CN" || g.Say.Text != keypadMessage().Body {
		t.Fatalf("Gather = %+v", g)
	}
	if cb := form.Get("StatusCallback"); cb != "https://wanjia.example/base/hooks/voice/twilio/status?mid="+testID {
		t.Fatalf("StatusCallback = %q", cb)
	}
	p.callbackBase = nil
	_, err = p.Send(ctxTimeout(t), keypadMessage())
	wantError(t, err, "not_configured", false, false)
	if sms := keypadMessage(); true {
		sms.Channel = ChannelSMS
		_, err = p.Send(ctxTimeout(t), sms)
		wantError(t, err, "unsupported_channel", true, false)
	}
}

// TestTwilioKeys: the <Gather> action's callback, signed for the URL
// Twilio called, gives the call's SID, the keys and our mid and try; a
// changed Digits breaks the signature. The answer to invalid keys asks
// again as the next try; to a check-in, thanks and hangs up.
func TestTwilioKeys(t *testing.T) {
	t.Parallel()
	p := twilioHooks(t, "https://wanjia.example")
	path := "/hooks/voice/twilio/gather?mid=" + testID + "&try=1"
	form := url.Values{"AccountSid": {testAccountSID}, "CallSid": {"CA0123456789abcdef0123456789abcdef"}, "Digits": {"1365"},
		"FinishedOnKey": {"#"}}
	ks, err := p.Keys(twilioRequest("https://wanjia.example"+path, path, form, testAuthToken))
	if err != nil || len(ks) != 1 || ks[0] != (Keys{MessageID: testID, CallID: "CA0123456789abcdef0123456789abcdef", Digits: "1365", Try: 1}) {
		t.Fatalf("Keys = %+v, %v", ks, err)
	}
	r := twilioRequest("https://wanjia.example"+path, path, form, testAuthToken)
	forged := url.Values{}
	for k, v := range form {
		forged[k] = v
	}
	forged.Set("Digits", "2378")
	r.Body = httpBody(forged.Encode())
	if _, err := p.Keys(r); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed digits: %v, want ErrBadSignature", err)
	}
	rec := httptest.NewRecorder()
	p.KeysAck(rec, ks[0], KeysAnswer{Outcome: "invalid", Say: "请再试一次", Prompt: "请按1或2"})
	if b := rec.Body.String(); !strings.Contains(b, "<Gather") || !strings.Contains(b, "try=2") || !strings.Contains(b, "请再试一次") {
		t.Fatalf("ask again: %s", b)
	}
	rec = httptest.NewRecorder()
	p.KeysAck(rec, ks[0], KeysAnswer{Outcome: "stored", Say: "谢谢"})
	if b := rec.Body.String(); strings.Contains(b, "<Gather") || !strings.Contains(b, "<Hangup") || rec.Header().Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Fatalf("thanks: %s", b)
	}
}

// TestAliyunKeypadCall: IvrCall, signed as every Aliyun call (the fake
// checks the signature), with the keypad template, keys 1 and 2 as the
// menu, the caller ID it needs, and the CallId answered.
func TestAliyunKeypadCall(t *testing.T) {
	t.Parallel()
	f := newFakeAliyun(t, func(action string, _ url.Values) (int, string) {
		if action != "IvrCall" {
			return http.StatusBadRequest, `{"Code":"InvalidAction"}`
		}
		// The published example answer of IvrCall.
		return ok(`,"CallId":"118720962490^10551812xx"`)
	})
	p := f.provider(t, func(c *Config) {
		c.AliyunShowNumber, c.AliyunKeypadTTSCode, c.AliyunKeypadByeCode = "05715621xx", "TTS_713900000", "TTS_71390001"
	})
	sent, err := p.Send(ctxTimeout(t), keypadMessage())
	if err != nil || sent.ProviderID != "118720962490^10551812xx" {
		t.Fatalf("Send = %+v, %v", sent, err)
	}
	q := f.last()
	for k, want := range map[string]string{"CalledNumber": testMobile, "CalledShowNumber": "05715621xx", "StartCode": "TTS_713900000",
		"MenuKeyMap.1.Key": "1", "MenuKeyMap.2.Key": "2", "MenuKeyMap.1.Code": "TTS_71390001", "ByeCode": "TTS_71390001",
		"PlayTimes": "2", "Timeout": "10000", "StartTtsParams": `{"name":"张三","time":"明日9点"}`} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	noShow := f.provider(t, func(c *Config) { c.AliyunKeypadTTSCode = "TTS_713900000" })
	_, err = noShow.Send(ctxTimeout(t), keypadMessage())
	wantError(t, err, "not_configured", false, false)
}

// TestAliyunKeys reads Aliyun's published VoiceReport example (呼叫记录消息,
// HTTP batch push): the call's id, its keys, and its end.
func TestAliyunKeys(t *testing.T) {
	t.Parallel()
	p, err := NewAliyun(Config{AliyunAccessKeyID: "id", AliyunAccessKeySecret: "secret", AliyunCallbackSecret: "callback-secret-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	body := `[
  {
    "status_code": "200003",
    "callee": "130****0000",
    "ring_time": "2021-04-28 10:02:40",
    "duration": "10",
    "voice_type": "voice",
    "originate_time": "2021-04-28 10:02:34",
    "b_start_time": "2021-04-28 10:03:40",
    "end_time": "2021-04-28 10:03:40",
    "call_id": "122628733198^10942206****",
    "caller": "20200900****",
    "status_msg": "执行完成",
    "out_id": "PROD#2021042810271227129999192500610008S#new#MYBK****",
    "dtmf": "1",
    "toll_type": "LOCAL"
  }
]`
	r := httptest.NewRequest(http.MethodPost, "/hooks/voice/aliyun/gather?token="+p.CallbackToken(), strings.NewReader(body))
	ks, err := p.Keys(r)
	if err != nil || len(ks) != 1 {
		t.Fatalf("Keys = %+v, %v", ks, err)
	}
	k := ks[0]
	if k.CallID != "122628733198^10942206****" || k.Digits != "1" || k.Ended == nil || k.Ended.State != StateFailed ||
		k.Ended.Code != "200003" || !k.Ended.At.Equal(time.Date(2021, 4, 28, 2, 3, 40, 0, time.UTC)) {
		t.Fatalf("Keys = %+v (ended %+v)", k, k.Ended)
	}
	r = httptest.NewRequest(http.MethodPost, "/hooks/voice/aliyun/gather?token=wrong", strings.NewReader(body))
	if _, err := p.Keys(r); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong token: %v", err)
	}
}

// TestWebhookKeypad: the message goes with "keypad":true; the gateway's
// signed keys are read, call_id required; the answer is JSON.
func TestWebhookKeypad(t *testing.T) {
	t.Parallel()
	var got map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&got)
		w.Write([]byte(`{"id":"gw-1"}`))
	}))
	t.Cleanup(srv.Close)
	const secret = "webhook-secret-0123456789abcdef"
	p, err := NewWebhook(Config{WebhookURL: srv.URL, WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Send(ctxTimeout(t), keypadMessage()); err != nil || got["keypad"] != true || got["channel"] != "voice" {
		t.Fatalf("Send: %v, %v", got, err)
	}
	post := func(body string) ([]Keys, error) {
		r := httptest.NewRequest(http.MethodPost, "/hooks/voice/webhook/gather", strings.NewReader(body))
		now := time.Now()
		r.Header.Set(TimestampHeader, strconvI(now.Unix()))
		r.Header.Set(SignatureHeader, Sign([]byte(secret), now, []byte(body)))
		return p.Keys(r)
	}
	ks, err := post(`{"id":"` + testID + `","call_id":"gw-1","digits":"1 3 6 5 #","try":1}`)
	if err != nil || len(ks) != 1 || ks[0] != (Keys{MessageID: testID, CallID: "gw-1", Digits: "1365#", Try: 1}) {
		t.Fatalf("Keys = %+v, %v", ks, err)
	}
	if _, err := post(`{"id":"` + testID + `","digits":"1365#"}`); err == nil {
		t.Fatal("keys without call_id taken")
	}
	rec := httptest.NewRecorder()
	p.KeysAck(rec, ks[0], KeysAnswer{Outcome: "invalid", Say: "再试一次", Prompt: "请按键"})
	if rec.Code != 200 || rec.Body.String() != `{"outcome":"invalid","say":"再试一次","prompt":"请按键"}` {
		t.Fatalf("ack: %d %s", rec.Code, rec.Body)
	}
}

func httpBody(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }

func strconvI(n int64) string { return strconv.FormatInt(n, 10) }
